//! `mqadmin sendMessage -t <topic> -p <body> [-k keys] [-c tags] [-b broker -i qid]`:
//! send one message and print where it went.
//!
//! SEND_MESSAGE_V2 through the one-message producer in `crate::producer`.
//! Book: Part II "Producing" (Try it).
//! Mirrors `org.apache.rocketmq.tools.command.message.SendMessageCommand`.

use std::io::Write;

use crate::commands::CommonArgs;
use crate::producer::{self, OutgoingMessage};

#[derive(Debug, clap::Parser)]
pub struct Args {
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

pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.qid.is_some() && args.broker.is_none() {
        anyhow::bail!("Broker name must be set if the queue is chosen!");
    }
    let admin = args.common.admin()?;
    let msg = OutgoingMessage {
        topic: args.topic.trim().to_string(),
        tags: args.tags.as_deref().map(|s| s.trim().to_string()),
        keys: args.key.as_deref().map(|s| s.trim().to_string()),
        body: args.body.trim().as_bytes().to_vec(),
    };
    let target = match (args.broker, args.qid) {
        (Some(b), Some(q)) if q > -1 => Some((b.trim().to_string(), q)),
        _ => None,
    };
    // 4.8.0 names the producer group after the current time.
    let group = chrono::Utc::now().timestamp_millis().to_string();
    let result = producer::send(&admin, &group, &msg, target).await?;
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
        result.send_status,
        result.msg_id
    )?;
    Ok(())
}
