//! `mqadmin consumeMessage -t <topic> [-b broker -i queue [-o offset]] [-g group]
//! [-s begin] [-e end] [-c count]`: pull messages and print them with their bodies.
//!
//! An rmq-client `PullConsumer` of group `TOOLS_CONSUMER` (or `-g`) reads each queue's
//! range with GET_MIN_OFFSET / GET_MAX_OFFSET (or SEARCH_OFFSET_BY_TIMESTAMP for -s/-e),
//! then pulls with PULL_MESSAGE until the range is printed. No offset is committed, so
//! the group's progress does not move.
//! Book: Part II "Consuming" (Try it).
//! Mirrors `org.apache.rocketmq.tools.command.message.ConsumeMessageCommand` and
//! `PrintMessageByQueueCommand.printMessage`.

use std::io::Write;

use rmq_client::api::PullStatus;
use rmq_client::consumer::PullConsumer;
use rmq_client::MessageQueue;

use crate::commands::CommonArgs;
use crate::format::{message_ext_string, message_queue_string, parse_timestamp};

/// `MixAll.TOOLS_CONSUMER_GROUP`: the group consumeMessage pulls as unless `-g` names one.
pub const TOOLS_CONSUMER_GROUP: &str = "TOOLS_CONSUMER";

/// `consumeMessage`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Topic name
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
    /// Broker name
    #[arg(short = 'b', long = "brokerName", value_name = "arg")]
    pub broker_name: Option<String>,
    /// Queue Id
    #[arg(short = 'i', long = "queueId", value_name = "arg")]
    pub queue_id: Option<i32>,
    /// Queue offset
    #[arg(short = 'o', long = "offset", value_name = "arg")]
    pub offset: Option<i64>,
    /// Consumer group name
    #[arg(short = 'g', long = "consumerGroup", value_name = "arg")]
    pub consumer_group: Option<String>,
    /// Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]
    #[arg(short = 's', long = "beginTimestamp", value_name = "arg")]
    pub begin_timestamp: Option<String>,
    /// End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]
    #[arg(short = 'e', long = "endTimestamp", value_name = "arg")]
    pub end_timestamp: Option<String>,
    /// Number of message to be consumed
    #[arg(short = 'c', long = "MessageNumber", value_name = "arg")]
    pub message_number: Option<i64>,
}

/// Shared state of one run.
struct Consume<'a> {
    consumer: &'a PullConsumer,
    out: &'a mut dyn Write,
}

/// Pulls the chosen range and prints every message with its body.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let topic = args.topic.trim().to_string();
    let count = args.message_number.unwrap_or(128);
    if count <= 0 {
        anyhow::bail!("Please input a positive messageNumber!");
    }
    if args.queue_id.is_some() && args.broker_name.is_none() {
        anyhow::bail!("Please set the brokerName before queueId!");
    }
    if args.offset.is_some() && args.queue_id.is_none() {
        anyhow::bail!("Please set queueId before offset!");
    }
    let now = chrono::Utc::now().timestamp_millis();
    let parse = |v: &Option<String>, what: &str| -> anyhow::Result<i64> {
        match v {
            None => Ok(0),
            Some(s) => parse_timestamp(s.trim())
                .ok_or_else(|| anyhow::anyhow!("bad {what} timestamp {s:?}")),
        }
    };
    let begin = parse(&args.begin_timestamp, "begin")?;
    let end = parse(&args.end_timestamp, "end")?;
    if begin > now {
        anyhow::bail!("Please set the beginTimestamp before now!");
    }
    if end > now {
        anyhow::bail!("Please set the endTimestamp before now!");
    }
    if args.end_timestamp.is_some() && begin > end {
        anyhow::bail!(
            "Please make sure that the beginTimestamp is less than or equal to the endTimestamp"
        );
    }
    let group = args
        .consumer_group
        .map(|g| g.trim().to_string())
        .unwrap_or_else(|| TOOLS_CONSUMER_GROUP.to_string());
    let consumer = PullConsumer::start(group, args.common.client_config()?).await?;
    let mut c = Consume {
        consumer: &consumer,
        out,
    };
    let result = match (args.broker_name, args.queue_id) {
        (Some(broker), Some(qid)) => {
            let mq = MessageQueue {
                broker_name: broker.trim().to_string(),
                queue_id: qid,
                topic: topic.clone(),
            };
            c.by_queue(&mq, args.offset.unwrap_or(0), begin, end, count)
                .await
        }
        _ => c.default_mode(&topic, begin, end, count).await,
    };
    consumer.shutdown().await;
    result
}

impl Consume<'_> {
    async fn range(&self, mq: &MessageQueue, begin: i64, end: i64) -> anyhow::Result<(i64, i64)> {
        let c = self.consumer;
        let mut min = c.min_offset(mq).await?;
        let mut max = c.max_offset(mq).await?;
        if begin > 0 {
            min = c.search_offset(mq, begin).await?;
        }
        if end > 0 {
            max = c.search_offset(mq, end).await?;
        }
        Ok((min, max))
    }

    /// `executeDefault`: every queue, oldest first, until `count` is used up.
    async fn default_mode(
        &mut self,
        topic: &str,
        begin: i64,
        end: i64,
        count: i64,
    ) -> anyhow::Result<()> {
        let queues = self.consumer.fetch_subscribe_message_queues(topic).await?;
        let mut left = count;
        for mq in &queues {
            if left == 0 {
                return Ok(());
            }
            let (min, mut max) = self.range(mq, begin, end).await?;
            if max - min > left {
                writeln!(
                    self.out,
                    "The older {left} message of the {} queue will be provided",
                    mq.queue_id
                )?;
                max = min + left - 1;
                left = 0;
            } else {
                left = left - (max - min) - 1;
            }
            self.pull_queue(mq, min, max).await?;
        }
        Ok(())
    }

    /// `executeByCondition`: one queue from `offset`.
    async fn by_queue(
        &mut self,
        mq: &MessageQueue,
        offset: i64,
        begin: i64,
        end: i64,
        count: i64,
    ) -> anyhow::Result<()> {
        let (min, mut max) = self.range(mq, begin, end).await?;
        if offset > max {
            writeln!(
                self.out,
                "{} no matched msg, offset={offset}",
                message_queue_string(mq)
            )?;
            return Ok(());
        }
        let min = min.max(offset);
        if max - min > count {
            writeln!(self.out, "The oldler {count} message will be provided")?;
            max = min + count - 1;
        }
        self.pull_queue(mq, min, max).await
    }

    /// `pullMessageByQueue`: pull [min, max] and print every message with its body.
    async fn pull_queue(&mut self, mq: &MessageQueue, min: i64, max: i64) -> anyhow::Result<()> {
        let mut offset = min;
        while offset <= max {
            let n = i32::try_from(max.saturating_sub(offset).saturating_add(1)).unwrap_or(i32::MAX);
            let r = self.consumer.pull(mq, "*", offset, n).await?;
            // A broker that does not advance would loop forever; stop instead.
            let advanced = r.next_begin_offset != offset;
            offset = r.next_begin_offset;
            match r.status {
                PullStatus::Found => {
                    writeln!(self.out, "Consume ok")?;
                    for m in &r.msgs {
                        // Java: "MSGID: %s %s BODY: %s%n"
                        writeln!(
                            self.out,
                            "MSGID: {} {} BODY: {}",
                            m.msg_id(),
                            message_ext_string(m),
                            String::from_utf8_lossy(&m.body)
                        )?;
                    }
                }
                PullStatus::NoMatchedMsg => writeln!(
                    self.out,
                    "{} no matched msg. status={}, offset={offset}",
                    message_queue_string(mq),
                    r.status.name()
                )?,
                PullStatus::NoNewMsg | PullStatus::OffsetIllegal => {
                    writeln!(
                        self.out,
                        "{} print msg finished. status={}, offset={offset}",
                        message_queue_string(mq),
                        r.status.name()
                    )?;
                    break;
                }
            }
            if !advanced {
                break;
            }
        }
        Ok(())
    }
}
