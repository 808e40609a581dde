//! `mqadmin producerConnection -g <group> -t <topic>`: the clients of a producer group, as
//! seen by a broker of the topic: client id, address, language and version.
//!
//! GET_PRODUCER_CONNECTION_LIST on a broker from the topic's route.
//! Book: Part III "Operating a cluster with mqadmin".
//! Mirrors `org.apache.rocketmq.tools.command.connection.ProducerConnectionSubCommand`.

use std::io::Write;

use crate::commands::CommonArgs;
use crate::format::version_desc;

/// `producerConnection`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// producer group name
    #[arg(short = 'g', long = "producerGroup", value_name = "arg")]
    pub producer_group: String,
    /// topic name
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
}

/// Runs `producerConnection` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let pc = admin
        .examine_producer_connection_info(args.producer_group.trim(), args.topic.trim())
        .await?;
    for (i, c) in pc.connection_set.iter().enumerate() {
        // Java: "%04d  %-32s %-22s %-8s %s%n"
        writeln!(
            out,
            "{:04}  {:<32} {:<22} {:<8} {}",
            i + 1,
            c.client_id,
            c.client_addr,
            c.language,
            version_desc(c.version)
        )?;
    }
    Ok(())
}
