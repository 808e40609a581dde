//! `mqadmin statsAll [-a] [-t <topic>]`: for every topic (or one), the rate and the day's count
//! of messages put, and per consuming group its rate, day's count and backlog.
//!
//! The topic list, then per topic its route and consuming groups (QUERY_TOPIC_CONSUME_BY_WHO),
//! VIEW_BROKER_STATS_DATA on each master (`TOPIC_PUT_NUMS` with the topic, `GROUP_GET_NUMS` with
//! `topic@group`), and GET_CONSUME_STATS for the backlog. An item a broker does not have counts
//! as zero. Retry and dead-letter topics are skipped; `-a` keeps only topics with traffic today.
//! Book: Part III "Operating a cluster with mqadmin" (stats).
//! Mirrors `org.apache.rocketmq.tools.command.stats.StatsAllSubCommand`.

use std::io::Write;

use rmq_remoting::protocol::BrokerStatsData;

use crate::admin_client::{AdminClient, DLQ_GROUP_TOPIC_PREFIX, RETRY_GROUP_TOPIC_PREFIX};
use crate::commands::CommonArgs;
use crate::format::front_string_at_least;

/// `BrokerStatsManager.TOPIC_PUT_NUMS`.
pub const TOPIC_PUT_NUMS: &str = "TOPIC_PUT_NUMS";
/// `BrokerStatsManager.GROUP_GET_NUMS`.
pub const GROUP_GET_NUMS: &str = "GROUP_GET_NUMS";

/// `statsAll`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// print active topic only
    #[arg(short = 'a', long = "activeTopic")]
    pub active_topic: bool,
    /// print select topic only
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: Option<String>,
}

/// `compute24HourSum`: the day's sum, else the hour's, else the minute's.
pub fn sum_24h(d: &BrokerStatsData) -> i64 {
    [d.stats_day.sum, d.stats_hour.sum, d.stats_minute.sum]
        .into_iter()
        .find(|s| *s != 0)
        .unwrap_or(0)
}

/// The minute rate and 24-hour count of one item, summed over the topic's masters.
async fn item(admin: &AdminClient, masters: &[String], name: &str, key: &str) -> (f64, i64) {
    let (mut tps, mut sum) = (0.0, 0);
    for addr in masters {
        if let Ok(d) = admin.view_broker_stats_data(addr, name, key).await {
            tps += d.stats_minute.tps;
            sum += sum_24h(&d);
        }
    }
    (tps, sum)
}

async fn print_topic(
    admin: &AdminClient,
    topic: &str,
    active_only: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let route = admin.examine_topic_route_info(topic).await?;
    let groups = admin.query_topic_consume_by_who(topic).await?;
    let masters: Vec<String> = route
        .broker_datas
        .iter()
        .filter_map(|bd| bd.master_addr().map(String::from))
        .collect();
    let (in_tps, in_today) = item(admin, &masters, TOPIC_PUT_NUMS, topic).await;
    let t = front_string_at_least(topic, 32);
    if groups.is_empty() {
        if !active_only || in_today > 0 {
            writeln!(
                out,
                "{t:<32}  {:<32} {:>12} {in_tps:>11.2} {:>11} {in_today:>14} {:>14}",
                "", 0, "", "NO_CONSUMER"
            )?;
        }
        return Ok(());
    }
    for group in &groups {
        let key = format!("{topic}@{group}");
        let (out_tps, out_today) = item(admin, &masters, GROUP_GET_NUMS, &key).await;
        let backlog = match admin.examine_consume_stats(group).await {
            Ok(cs) => cs
                .offset_table
                .0
                .iter()
                .filter(|(mq, _)| mq.topic == topic)
                .map(|(_, ow)| ow.broker_offset - ow.consumer_offset)
                .sum::<i64>()
                .max(0),
            Err(_) => 0,
        };
        if !active_only || in_today > 0 || out_today > 0 {
            writeln!(
                out,
                "{t:<32}  {:<32} {backlog:>12} {in_tps:>11.2} {out_tps:>11.2} {in_today:>14} {out_today:>14}",
                front_string_at_least(group, 32)
            )?;
        }
    }
    Ok(())
}

/// Runs `statsAll` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let topics = admin.fetch_all_topic_list().await?;
    writeln!(
        out,
        "{:<32}  {:<32} {:>12} {:>11} {:>11} {:>14} {:>14}",
        "#Topic",
        "#Consumer Group",
        "#Accumulation",
        "#InTPS",
        "#OutTPS",
        "#InMsg24Hour",
        "#OutMsg24Hour"
    )?;
    let select = args.topic.as_deref().filter(|t| !t.is_empty());
    for topic in &topics.topic_list {
        if topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) || topic.starts_with(DLQ_GROUP_TOPIC_PREFIX)
        {
            continue;
        }
        if select.is_some_and(|s| s != topic) {
            continue;
        }
        // 4.8.0 skips a topic whose details fail.
        if let Err(e) = print_topic(&admin, topic, args.active_topic, out).await {
            tracing::debug!(topic, error = %e, "statsAll: topic skipped");
        }
    }
    Ok(())
}
