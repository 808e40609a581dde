//! `mqadmin consumerConnection -g <group>`: the clients of a consumer group (id,
//! address, language, version) and what they subscribe to.
//!
//! GET_ROUTEINFO_BY_TOPIC for `%RETRY%<group>`, then GET_CONSUMER_CONNECTION_LIST.
//! Book: Part II "Consuming" (heartbeats and rebalancing).
//! Mirrors `org.apache.rocketmq.tools.command.connection.ConsumerConnectionSubCommand`.

use std::io::Write;

use crate::commands::CommonArgs;
use crate::format::version_desc;

/// `consumerConnection`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// consumer group name
    #[arg(short = 'g', long = "consumerGroup", value_name = "arg")]
    pub consumer_group: String,
}

/// Runs `consumerConnection` and prints what 4.8.0's `ConsumerConnectionSubCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let cc = admin
        .examine_consumer_connection_info(args.consumer_group.trim())
        .await?;
    for (i, conn) in cc.connection_set.iter().enumerate() {
        // Java: "%03d  %-32s %-22s %-8s %s%n"
        writeln!(
            out,
            "{:03}  {:<32} {:<22} {:<8} {}",
            i + 1,
            conn.client_id,
            conn.client_addr,
            conn.language,
            version_desc(conn.version)
        )?;
    }
    // 4.8.0 prints this without a line break, so the first subscription row
    // continues the same line.
    write!(out, "\nBelow is subscription:")?;
    for (i, sd) in cc.subscription_table.values().enumerate() {
        // Java: "%03d  Topic: %-40s SubExpression: %s%n"
        writeln!(
            out,
            "{:03}  Topic: {:<40} SubExpression: {}",
            i + 1,
            sd.topic,
            sd.sub_string
        )?;
    }
    let name = |v: Option<&'static str>| v.unwrap_or("null");
    writeln!(
        out,
        "ConsumeType: {}",
        name(cc.consume_type.map(|t| t.name()))
    )?;
    writeln!(
        out,
        "MessageModel: {}",
        name(cc.message_model.map(|m| m.name()))
    )?;
    writeln!(
        out,
        "ConsumeFromWhere: {}",
        name(cc.consume_from_where.map(|c| c.name()))
    )?;
    Ok(())
}
