//! `mqadmin brokerConsumeStats -b <addr> [-t <timeoutMillis>] [-l <diffLevel>] [-o <order>]`:
//! every consumer group's lag on one broker, queue by queue, and the broker's total lag.
//!
//! One GET_BROKER_CONSUME_STATS; rows whose lag is below `-l` are left out, and so are queues
//! the group never consumed from (no last-consume time), as in 4.8.0.
//! Book: Part III "Operating a cluster with mqadmin" (stats).
//! Mirrors `org.apache.rocketmq.tools.command.broker.BrokerConsumeStatsSubCommad`.

use std::io::Write;
use std::time::Duration;

use crate::commands::{java_bool, CommonArgs};
use crate::format::{format_date, front_string_at_least};

/// `brokerConsumeStats`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Broker address
    #[arg(short = 'b', long = "brokerAddr", value_name = "arg")]
    pub broker_addr: String,
    /// request timeout Millis
    #[arg(short = 't', long = "timeoutMillis", value_name = "arg")]
    pub timeout_millis: Option<u64>,
    /// threshold of print diff
    #[arg(short = 'l', long = "level", value_name = "arg")]
    pub level: Option<i64>,
    /// order topic
    #[arg(short = 'o', long = "order", value_name = "arg")]
    pub order: Option<String>,
}

/// Runs `brokerConsumeStats` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let is_order = args.order.as_deref().is_some_and(java_bool);
    let timeout = Duration::from_millis(args.timeout_millis.unwrap_or(50_000));
    let diff_level = args.level.unwrap_or(0);
    let list = admin
        .fetch_consume_stats_in_broker(args.broker_addr.trim(), is_order, timeout)
        .await?;
    writeln!(
        out,
        "{:<32}  {:<32}  {:<32}  {:<4}  {:<20}  {:<20}  {:<20}  {}",
        "#Topic",
        "#Group",
        "#Broker Name",
        "#QID",
        "#Broker Offset",
        "#Consumer Offset",
        "#Diff",
        "#LastTime"
    )?;
    for per_group in &list.consume_stats_list {
        for (group, stats) in per_group {
            for cs in stats {
                let mut rows = cs.offset_table.0.clone();
                rows.sort_by(|a, b| a.0.cmp(&b.0));
                for (mq, ow) in rows {
                    let diff = ow.broker_offset - ow.consumer_offset;
                    if diff < diff_level || ow.last_timestamp <= 0 {
                        continue;
                    }
                    writeln!(
                        out,
                        "{:<32}  {:<32}  {:<32}  {:<4}  {:<20}  {:<20}  {:<20}  {}",
                        front_string_at_least(&mq.topic, 32),
                        group,
                        front_string_at_least(&mq.broker_name, 32),
                        mq.queue_id,
                        ow.broker_offset,
                        ow.consumer_offset,
                        diff,
                        format_date(ow.last_timestamp)
                    )?;
                }
            }
        }
    }
    writeln!(out, "\nDiff Total: {}", list.total_diff)?;
    Ok(())
}
