//! `mqadmin topicRoute -t <topic>`: the name server's route for a topic, printed
//! as pretty fastjson (brokerAddrs with bare integer keys, as 4.8.0 prints it).
//!
//! Book: Part III "Name server" (what a route is).
//! Mirrors `org.apache.rocketmq.tools.command.topic.TopicRouteSubCommand`.

use std::io::Write;

use rmq_remoting::protocol::fastjson;

use crate::commands::CommonArgs;

/// `topicRoute`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// topic name
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
}

/// Runs `topicRoute` and prints what 4.8.0's `TopicRouteSubCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let route = admin.examine_topic_route_info(args.topic.trim()).await?;
    writeln!(out, "{}", fastjson::to_string_pretty(&route)?)?;
    Ok(())
}
