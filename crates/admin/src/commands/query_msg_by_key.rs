//! `mqadmin queryMsgByKey -t <topic> -k <key>`: the messages whose KEYS contain
//! `key`, found through each broker's index file.
//!
//! QUERY_MESSAGE (max 64, whole time range) to every broker of the topic; the
//! index is a hash table, so results are filtered by the exact key here.
//! Book: Part II "Producing" (keys and the index).
//! Mirrors `org.apache.rocketmq.tools.command.message.QueryMsgByKeySubCommand`.

use std::io::Write;

use crate::commands::CommonArgs;

/// `queryMsgByKey`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// topic name
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
    /// Message Key
    #[arg(short = 'k', long = "msgKey", value_name = "arg")]
    pub msg_key: String,
}

/// Runs `queryMsgByKey` and prints what 4.8.0's `QueryMsgByKeySubCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let msgs = admin
        .query_message(
            args.topic.trim(),
            args.msg_key.trim(),
            64,
            0,
            i64::MAX,
            false,
        )
        .await?;
    // Java: "%-50s %4s %40s%n"
    writeln!(out, "{:<50} {:>4} {:>40}", "#Message ID", "#QID", "#Offset")?;
    for m in msgs {
        // Java: "%-50s %4d %40d%n"
        writeln!(
            out,
            "{:<50} {:>4} {:>40}",
            m.msg_id(),
            m.queue_id,
            m.queue_offset
        )?;
    }
    Ok(())
}
