//! `mqadmin queryCq -t <topic> -q <queueId> -i <index> [-c <count>] [-b <brokerAddr>] [-g
//! <group>]`: print raw consume-queue entries (commit-log offset, size, tag hash) from one
//! queue, the index the broker keeps per queue.
//!
//! One QUERY_CONSUME_QUEUE, to `-b` or else to the master of the first broker in the topic's
//! route. With `-g`, the group's subscription and filter come first.
//! Book: Part III "Operating a cluster with mqadmin" and Part I "ConsumeQueue".
//! Mirrors `org.apache.rocketmq.tools.command.queue.QueryConsumeQueueCommand`.

use std::io::Write;

use rmq_client::MessageQueue;

use crate::commands::flags::NsTopic;

/// The line between sections.
const RULE: &str = "======================================";

/// `queryCq`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` and `-t`.
    #[command(flatten)]
    pub target: NsTopic,
    /// queue num, ie. 1
    #[arg(short = 'q', long = "queue", value_name = "arg")]
    pub queue: i32,
    /// start queue index.
    #[arg(short = 'i', long = "index", value_name = "arg")]
    pub index: i64,
    /// how many.
    #[arg(short = 'c', long = "count", value_name = "arg")]
    pub count: Option<i32>,
    /// broker addr.
    #[arg(short = 'b', long = "broker", value_name = "arg")]
    pub broker: Option<String>,
    /// consumer group.
    #[arg(short = 'g', long = "consumer", value_name = "arg")]
    pub consumer: Option<String>,
}

/// Runs `queryCq` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.target.common.admin().await?;
    let topic = args.target.topic().to_string();
    let broker = match args
        .broker
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        Some(b) => b.to_string(),
        None => {
            let route = admin.examine_topic_route_info(&topic).await?;
            route
                .broker_datas
                .first()
                .and_then(|bd| bd.master_addr().map(String::from))
                .ok_or_else(|| anyhow::anyhow!("No topic route data!"))?
        }
    };
    let mq = MessageQueue {
        broker_name: String::new(),
        queue_id: args.queue,
        topic,
    };
    let group = args.consumer.as_deref().map(str::trim);
    let body = admin
        .query_consume_queue(&broker, &mq, args.index, args.count.unwrap_or(10), group)
        .await?;
    if let Some(sub) = &body.subscription_data {
        writeln!(
            out,
            "Subscription data: \n{}",
            serde_json::to_string_pretty(sub)?
        )?;
        writeln!(out, "{RULE}")?;
    }
    if let Some(filter) = &body.filter_data {
        writeln!(out, "Filter data: \n{filter}")?;
        writeln!(out, "{RULE}")?;
    }
    writeln!(
        out,
        "Queue data: \nmax: {}, min: {}",
        body.max_queue_index, body.min_queue_index
    )?;
    writeln!(out, "{RULE}")?;
    for (i, entry) in body.queue_data.iter().flatten().enumerate() {
        writeln!(out, "idx: {}\n{entry}\n{RULE}", args.index + i as i64)?;
    }
    Ok(())
}
