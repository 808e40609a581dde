//! `mqadmin printMsg -t <topic> [-s <expr>] [-b <begin>] [-e <end>] [-d <printBody>]`: print
//! every message of a topic (or those between two store times), queue by queue.
//!
//! As the `TOOLS_CONSUMER` group: the queues from the route, each queue's min and max offsets
//! (or SEARCH_OFFSET_BY_TIMESTAMP for `-b`/`-e`), then PULL_MESSAGE 32 at a time. Nothing is
//! committed. The range flags live in [`PrintRange`], shared with `printMsgByQueue`.
//! Book: Part III "Operating a cluster with mqadmin" (finding messages).
//! Mirrors `org.apache.rocketmq.tools.command.message.PrintMessageSubCommand`.
//!
//! Deviations: bodies are decoded as UTF-8 whatever `-c` names (other charsets are read
//! lossily); the long option names have no trailing space (4.8.0 declares `"charsetName "`, so
//! its long forms cannot be typed); lines Java leaves open end with a newline.

use std::io::Write;

use rmq_client::api::PullStatus;
use rmq_client::consumer::pull_api::PullResult;
use rmq_client::consumer::PullConsumer;
use rmq_client::MessageQueue;

use crate::commands::consume_message::TOOLS_CONSUMER_GROUP;
use crate::commands::{java_bool, CommonArgs};
use crate::format::{message_ext_string, message_queue_string, parse_timestamp};
use crate::message::MessageExt;

/// How many messages one pull asks for.
const PULL_BATCH: i32 = 32;

/// The options `printMsg` and `printMsgByQueue` share.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PrintRange {
    /// topic name
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
    /// CharsetName(eg: UTF-8,GBK)
    #[arg(short = 'c', long = "charsetName", value_name = "arg")]
    pub charset_name: Option<String>,
    /// Subscribe Expression(eg: TagA || TagB)
    #[arg(short = 's', long = "subExpression", value_name = "arg")]
    pub sub_expression: Option<String>,
    /// Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]
    #[arg(short = 'b', long = "beginTimestamp", value_name = "arg")]
    pub begin_timestamp: Option<String>,
    /// End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]
    #[arg(short = 'e', long = "endTimestamp", value_name = "arg")]
    pub end_timestamp: Option<String>,
    /// print body
    #[arg(short = 'd', long = "printBody", value_name = "arg")]
    pub print_body: Option<String>,
}

impl PrintRange {
    /// `-s`, else every tag.
    pub fn expression(&self) -> String {
        self.sub_expression
            .as_deref()
            .map(str::trim)
            .unwrap_or("*")
            .to_string()
    }

    /// The queue's offsets to read: `[min, max)`, narrowed by `-b` and `-e`.
    pub async fn offsets(
        &self,
        consumer: &PullConsumer,
        mq: &MessageQueue,
    ) -> anyhow::Result<(i64, i64)> {
        let mut min = consumer.min_offset(mq).await?;
        let mut max = consumer.max_offset(mq).await?;
        if let Some(b) = &self.begin_timestamp {
            min = consumer.search_offset(mq, timestamp(b)?).await?;
        }
        if let Some(e) = &self.end_timestamp {
            max = consumer.search_offset(mq, timestamp(e)?).await?;
        }
        Ok((min, max))
    }
}

/// `timestampFormat`: epoch ms, or `yyyy-MM-dd#HH:mm:ss:SSS`.
fn timestamp(value: &str) -> anyhow::Result<i64> {
    parse_timestamp(value.trim()).ok_or_else(|| anyhow::anyhow!("Unparseable date: \"{value}\""))
}

/// `printMessage`: one `MSGID: ... BODY: ...` line per message.
pub fn print_messages(
    msgs: &[MessageExt],
    print_body: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for m in msgs {
        let body = if print_body {
            String::from_utf8_lossy(&m.body).into_owned()
        } else {
            "NOT PRINT BODY".to_string()
        };
        writeln!(
            out,
            "MSGID: {} {} BODY: {body}",
            m.msg_id(),
            message_ext_string(m)
        )?;
    }
    Ok(())
}

/// Pulls `[min, max)` of one queue in batches, handing each result and the next offset to
/// `each`. NO_NEW_MSG, OFFSET_ILLEGAL, a failed pull or a broker that does not advance ends
/// the walk.
pub async fn walk_queue(
    consumer: &PullConsumer,
    mq: &MessageQueue,
    expression: &str,
    (min, max): (i64, i64),
    mut each: impl FnMut(&PullResult, i64) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut offset = min;
    while offset < max {
        let r = match consumer.pull(mq, expression, offset, PULL_BATCH).await {
            Ok(r) => r,
            // 4.8.0 prints the exception and leaves this queue.
            Err(e) => {
                eprintln!("{e}");
                break;
            }
        };
        let advanced = r.next_begin_offset != offset;
        offset = r.next_begin_offset;
        each(&r, offset)?;
        if matches!(r.status, PullStatus::NoNewMsg | PullStatus::OffsetIllegal) || !advanced {
            break;
        }
    }
    Ok(())
}

/// `printMsg`'s options, with 4.8.0's short names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Topic, range and printing options.
    #[command(flatten)]
    pub range: PrintRange,
}

/// Runs `printMsg` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let range = args.range;
    let print_body = range.print_body.as_deref().is_none_or(java_bool);
    let expression = range.expression();
    let consumer = PullConsumer::start(TOOLS_CONSUMER_GROUP, args.common.client_config()?).await?;
    let result = async {
        let queues = consumer
            .fetch_subscribe_message_queues(range.topic.trim())
            .await?;
        for mq in &queues {
            let (min, max) = range.offsets(&consumer, mq).await?;
            let mq_text = message_queue_string(mq);
            writeln!(out, "minOffset={min}, maxOffset={max}, {mq_text}")?;
            walk_queue(
                &consumer,
                mq,
                &expression,
                (min, max),
                |r, offset| match r.status {
                    PullStatus::Found => print_messages(&r.msgs, print_body, out),
                    PullStatus::NoMatchedMsg => writeln!(
                        out,
                        "{mq_text} no matched msg. status={}, offset={offset}",
                        r.status.name()
                    ),
                    _ => writeln!(
                        out,
                        "{mq_text} print msg finished. status={}, offset={offset}",
                        r.status.name()
                    ),
                },
            )
            .await?;
        }
        anyhow::Ok(())
    }
    .await;
    consumer.shutdown().await;
    result
}
