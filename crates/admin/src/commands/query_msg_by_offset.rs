//! `mqadmin queryMsgByOffset -t <topic> -b <brokerName> -i <queueId> -o <offset>`: the message
//! at one consume-queue position, printed as `queryMsgById` prints it.
//!
//! One PULL_MESSAGE of a single message as the `TOOLS_CONSUMER` group; nothing is printed when
//! the position holds no message (4.8.0 prints nothing either).
//! Book: Part III "Operating a cluster with mqadmin" (finding messages).
//! Mirrors `org.apache.rocketmq.tools.command.message.QueryMsgByOffsetSubCommand`.

use std::io::Write;

use rmq_client::api::PullStatus;
use rmq_client::consumer::PullConsumer;
use rmq_client::MessageQueue;

use crate::commands::consume_message::TOOLS_CONSUMER_GROUP;
use crate::commands::flags::NsTopic;
use crate::commands::query_msg_by_id::print_msg;

/// `queryMsgByOffset`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` and `-t`.
    #[command(flatten)]
    pub target: NsTopic,
    /// Broker Name
    #[arg(short = 'b', long = "brokerName", value_name = "arg")]
    pub broker_name: String,
    /// Queue Id
    #[arg(short = 'i', long = "queueId", value_name = "arg")]
    pub queue_id: i32,
    /// Queue Offset
    #[arg(short = 'o', long = "offset", value_name = "arg")]
    pub offset: i64,
}

/// Runs `queryMsgByOffset` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let mq = MessageQueue {
        broker_name: args.broker_name.trim().to_string(),
        queue_id: args.queue_id,
        topic: args.target.topic().to_string(),
    };
    let admin = args.target.common.admin().await?;
    let consumer =
        PullConsumer::start(TOOLS_CONSUMER_GROUP, args.target.common.client_config()?).await?;
    let pulled = consumer.pull(&mq, "*", args.offset, 1).await;
    consumer.shutdown().await;
    let r = pulled?;
    if let (PullStatus::Found, Some(msg)) = (r.status, r.msgs.first()) {
        print_msg(&admin, msg, out).await?;
    }
    Ok(())
}
