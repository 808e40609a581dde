//! `mqadmin sendMessage -t <topic> -p <body> [-k keys] [-c tags] [-b broker -i qid]`:
//! send one message and print where it went.
//!
//! SEND_MESSAGE_V2 through rmq-client's `Producer` (route lookup, TBW102 for a topic the
//! broker auto-creates, queue choice, retries), started for this one message.
//! Book: Part II "Producing" (Try it).
//! Mirrors `org.apache.rocketmq.tools.command.message.SendMessageCommand`.

use std::io::Write;

use rmq_client::{Message, MessageQueue, Producer, ProducerConfig};

use crate::commands::CommonArgs;

/// `sendMessage`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Topic name
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
    /// UTF-8 string format of the message body
    #[arg(short = 'p', long = "body", value_name = "arg")]
    pub body: String,
    /// Message keys
    #[arg(short = 'k', long = "key", value_name = "arg")]
    pub key: Option<String>,
    /// Message tags
    #[arg(short = 'c', long = "tags", value_name = "arg")]
    pub tags: Option<String>,
    /// Send message to target broker
    #[arg(short = 'b', long = "broker", value_name = "arg")]
    pub broker: Option<String>,
    /// Send message to target queue
    #[arg(short = 'i', long = "qid", value_name = "arg")]
    pub qid: Option<i32>,
}

/// Sends the message and prints the broker, queue, status and unique id.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.qid.is_some() && args.broker.is_none() {
        anyhow::bail!("Broker name must be set if the queue is chosen!");
    }
    let topic = args.topic.trim().to_string();
    // `new Message(topic, tags, keys, body)`: empty tags or keys are left out.
    let mut msg = Message::new(topic.clone(), args.body.trim().as_bytes().to_vec());
    if let Some(tags) = &args.tags {
        msg = msg.with_tags(tags.trim());
    }
    if let Some(keys) = &args.key {
        msg = msg.with_keys(keys.trim());
    }
    let target = match (args.broker, args.qid) {
        (Some(b), Some(q)) if q > -1 => Some(MessageQueue {
            broker_name: b.trim().to_string(),
            queue_id: q,
            topic,
        }),
        _ => None,
    };
    // 4.8.0 names the producer group after the current time.
    let group = rmq_client::util::now_ms().to_string();
    let mut config = ProducerConfig::new(group, String::new());
    config.client = args.common.client_config()?;
    let producer = Producer::start(config).await?;
    let sent = match &target {
        Some(mq) => producer.send_to_queue(msg, mq).await,
        None => producer.send(msg).await,
    };
    producer.shutdown().await;
    let result = sent?;
    // Java: "%-32s  %-4s  %-20s    %s%n"
    writeln!(
        out,
        "{:<32}  {:<4}  {:<20}    {}",
        "#Broker Name", "#QID", "#Send Result", "#MsgId"
    )?;
    writeln!(
        out,
        "{:<32}  {:<4}  {:<20}    {}",
        result.message_queue.broker_name,
        result.message_queue.queue_id,
        result.send_status.name(),
        result.msg_id
    )?;
    Ok(())
}
