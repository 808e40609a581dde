//! `mqadmin allocateMQ -t <topic> -i <ip,ip,...>`: show how the averaging strategy would share
//! a topic's queues among the given consumer ids, as JSON.
//!
//! The topic's route gives its readable queues; rmq-client's `allocate_averagely` (the same
//! code consumers rebalance with) gives each id its share.
//! Book: Part III "Operating a cluster with mqadmin" and Part II "Consuming" (rebalancing).
//! Mirrors `org.apache.rocketmq.tools.command.topic.AllocateMQSubCommand` and `RebalanceResult`.
//!
//! Deviation: the queues are sorted before sharing (as a consumer's rebalance sorts them);
//! 4.8.0's command shares them in hash-set order.

use std::collections::BTreeMap;
use std::io::Write;

use rmq_client::consumer::allocate::allocate_averagely;
use rmq_client::MessageQueue;

use crate::commands::flags::NsTopic;

/// `allocateMQ`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` and `-t`.
    #[command(flatten)]
    pub target: NsTopic,
    /// ipList
    #[arg(short = 'i', long = "ipList", value_name = "arg")]
    pub ip_list: String,
}

/// `RebalanceResult`: consumer id -> its queues.
#[derive(Debug, serde::Serialize)]
struct RebalanceResult<'a> {
    result: BTreeMap<&'a str, Vec<MessageQueue>>,
}

/// Runs `allocateMQ` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.target.common.admin().await?;
    let topic = args.target.topic();
    let ips: Vec<String> = args.ip_list.trim().split(',').map(String::from).collect();
    let route = admin.examine_topic_route_info(topic).await?;
    let mut mqs = rmq_client::route::subscribe_queues(topic, &route);
    mqs.sort();
    let result = ips
        .iter()
        .map(|ip| (ip.as_str(), allocate_averagely(ip, &mqs, &ips)))
        .collect();
    let json = rmq_remoting::protocol::fastjson::to_string(&RebalanceResult { result })?;
    writeln!(out, "{json}")?;
    Ok(())
}
