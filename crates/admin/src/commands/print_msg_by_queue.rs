//! `mqadmin printMsgByQueue -t <topic> -a <brokerName> -i <queueId> [-p true] [-d true]
//! [-f true]`: read one queue (optionally between two store times), print its messages with
//! `-p`, and with `-f` count them by tag, most frequent first.
//!
//! The same pulls as `printMsg` on one queue; the walk stops at the first status that is not
//! FOUND. Shares [`PrintRange`] and the pull loop with `printMsg`.
//! Book: Part III "Operating a cluster with mqadmin" (finding messages).
//! Mirrors `org.apache.rocketmq.tools.command.message.PrintMessageByQueueCommand`.

use std::collections::BTreeMap;
use std::io::Write;

use rmq_client::api::PullStatus;
use rmq_client::consumer::PullConsumer;
use rmq_client::MessageQueue;

use crate::commands::consume_message::TOOLS_CONSUMER_GROUP;
use crate::commands::print_msg::{print_messages, walk_queue, PrintRange};
use crate::commands::{java_bool, CommonArgs};

/// `printMsgByQueue`'s options, with 4.8.0's short names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Topic, range and printing options.
    #[command(flatten)]
    pub range: PrintRange,
    /// broker name
    #[arg(short = 'a', long = "brokerName", value_name = "arg")]
    pub broker_name: String,
    /// queue id
    #[arg(short = 'i', long = "queueId", value_name = "arg")]
    pub queue_id: i32,
    /// print msg. eg: true | false(default)
    #[arg(short = 'p', long = "printMsg", value_name = "arg")]
    pub print_msg: Option<String>,
    /// calculate by tag. eg: true | false(default)
    #[arg(short = 'f', long = "calculate", value_name = "arg")]
    pub calculate: Option<String>,
}

/// `printCalculateByTag`: tags by descending count (ties by name, where 4.8.0 leaves the
/// hash order).
pub fn tag_counts_sorted(counts: &BTreeMap<String, u64>) -> Vec<(&str, u64)> {
    let mut v: Vec<(&str, u64)> = counts.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v
}

/// Runs `printMsgByQueue` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let on = |v: &Option<String>| v.as_deref().is_some_and(java_bool);
    let (print_msg, print_body, by_tag) = (
        on(&args.print_msg),
        on(&args.range.print_body),
        on(&args.calculate),
    );
    let mq = MessageQueue {
        broker_name: args.broker_name.trim().to_string(),
        queue_id: args.queue_id,
        topic: args.range.topic.trim().to_string(),
    };
    let expression = args.range.expression();
    let consumer = PullConsumer::start(TOOLS_CONSUMER_GROUP, args.common.client_config()?).await?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let result = async {
        let range = args.range.offsets(&consumer, &mq).await?;
        walk_queue(&consumer, &mq, &expression, range, |r, _| {
            if !matches!(r.status, PullStatus::Found) {
                return Ok(());
            }
            if by_tag {
                for m in &r.msgs {
                    if let Some(tag) = m.tags().filter(|t| !t.trim().is_empty()) {
                        *counts.entry(tag.to_string()).or_default() += 1;
                    }
                }
            }
            if print_msg {
                print_messages(&r.msgs, print_body, out)?;
            }
            Ok(())
        })
        .await
    }
    .await;
    consumer.shutdown().await;
    result?;
    if by_tag {
        for (tag, n) in tag_counts_sorted(&counts) {
            writeln!(out, "Tag: {tag:<30} Count: {n}")?;
        }
    }
    Ok(())
}
