//! `mqadmin queryMsgByUniqueKey -t <topic> -i <uniqueKey> [-g <group> -d <clientId>]`: find a
//! message by the unique id its producer gave it (what `sendMessage` prints as msgId) and print
//! it; with `-g` and `-d`, have that consumer consume it once more instead.
//!
//! A unique-key QUERY_MESSAGE on every broker of the topic (the index finds the key, the
//! earliest stored copy wins); CONSUME_MESSAGE_DIRECTLY for `-g -d`.
//! Book: Part III "Operating a cluster with mqadmin" (finding messages).
//! Mirrors `org.apache.rocketmq.tools.command.message.QueryMsgByUniqueKeySubCommand`.

use std::io::Write;

use crate::commands::query_msg_by_id::{print_msg_fields, push_msg};
use crate::commands::CommonArgs;

/// `queryMsgByUniqueKey`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Message Id
    #[arg(short = 'i', long = "msgId", value_name = "arg")]
    pub msg_id: String,
    /// consumer group name
    #[arg(short = 'g', long = "consumerGroup", value_name = "arg")]
    pub consumer_group: Option<String>,
    /// The consumer's client id
    #[arg(short = 'd', long = "clientId", value_name = "arg")]
    pub client_id: Option<String>,
    /// The topic of msg
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
}

/// Runs `queryMsgByUniqueKey` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let (id, topic) = (args.msg_id.trim(), args.topic.trim());
    if let (Some(group), Some(client)) = (&args.consumer_group, &args.client_id) {
        return push_msg(&admin, group.trim(), client.trim(), id, Some(topic), out).await;
    }
    let msg = admin.query_message_by_uniq_key(topic, id).await?;
    print_msg_fields(&admin, &msg, false, out).await
}
