//! `mqadmin consumerStatus -g <group> [-i <clientId>] [-s]`: the internal state of a group's
//! consumers, asked of each consumer through its broker: properties, subscriptions, the queues
//! it holds with their offsets and caches, and its pull and consume rates.
//!
//! The group's connections (GET_CONSUMER_CONNECTION_LIST), then GET_CONSUMER_RUNNING_INFO per
//! client, relayed by the broker. Without `-i`, each client's report is written to a file
//! `<now>/<clientId>` and listed, then the reports are compared: same subscription everywhere,
//! and every queue held by exactly one client (rebalance OK). With `-i`, one client's report is
//! printed.
//! Book: Part III "Operating a cluster with mqadmin" and Part II "Consuming".
//! Mirrors `org.apache.rocketmq.tools.command.consumer.ConsumerStatusSubCommand` and
//! `ConsumerRunningInfo` (`formatString`, `analyzeSubscription`, `analyzeRebalance`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write;

use rmq_remoting::protocol::ConsumerRunningInfo;

use crate::commands::CommonArgs;
use crate::format::version_desc;

/// `consumerStatus`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// consumer group name
    #[arg(short = 'g', long = "consumerGroup", value_name = "arg")]
    pub consumer_group: String,
    /// The consumer's client id
    #[arg(short = 'i', long = "clientId", value_name = "arg")]
    pub client_id: Option<String>,
    /// Run jstack command in the consumer progress
    #[arg(short = 's', long = "jstack")]
    pub jstack: bool,
}

/// `UtilAll.timeMillisToHumanString`: `yyyyMMddHHmmssSSS`, local time.
fn human_ms(ms: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y%m%d%H%M%S%3f").to_string())
        .unwrap_or_default()
}

/// `ConsumerRunningInfo.formatString()`.
pub fn format_running_info(info: &ConsumerRunningInfo) -> String {
    let mut s = String::from("#Consumer Properties#\n");
    for (k, v) in &info.properties {
        let _ = writeln!(s, "{k:<40}: {v}");
    }
    s.push_str("\n\n#Consumer Subscription#\n");
    for (i, sd) in info.subscription_set.iter().enumerate() {
        let _ = writeln!(
            s,
            "{:03} Topic: {:<40} ClassFilter: {:<8} SubExpression: {}",
            i + 1,
            sd.topic,
            sd.class_filter_mode,
            sd.sub_string
        );
    }
    let mut mqs = info.mq_table.0.clone();
    mqs.sort_by(|a, b| a.0.cmp(&b.0));
    s.push_str("\n\n#Consumer Offset#\n");
    let _ = writeln!(
        s,
        "{:<32}  {:<32}  {:<4}  {:<20}",
        "#Topic", "#Broker Name", "#QID", "#Consumer Offset"
    );
    for (mq, pq) in &mqs {
        let _ = writeln!(
            s,
            "{:<32}  {:<32}  {:<4}  {:<20}",
            mq.topic, mq.broker_name, mq.queue_id, pq.commit_offset
        );
    }
    s.push_str("\n\n#Consumer MQ Detail#\n");
    let _ = writeln!(
        s,
        "{:<32}  {:<32}  {:<4}  {:<20}",
        "#Topic", "#Broker Name", "#QID", "#ProcessQueueInfo"
    );
    for (mq, pq) in &mqs {
        let _ = writeln!(
            s,
            "{:<32}  {:<32}  {:<4}  ProcessQueueInfo [commitOffset={}, cachedMsgMinOffset={}, cachedMsgMaxOffset={}, cachedMsgCount={}, cachedMsgSizeInMiB={}, transactionMsgMinOffset={}, transactionMsgMaxOffset={}, transactionMsgCount={}, locked={}, tryUnlockTimes={}, lastLockTimestamp={}, droped={}, lastPullTimestamp={}, lastConsumeTimestamp={}]",
            mq.topic, mq.broker_name, mq.queue_id,
            pq.commit_offset, pq.cached_msg_min_offset, pq.cached_msg_max_offset, pq.cached_msg_count,
            pq.cached_msg_size_in_mib, pq.transaction_msg_min_offset, pq.transaction_msg_max_offset,
            pq.transaction_msg_count, pq.locked, pq.try_unlock_times, human_ms(pq.last_lock_timestamp),
            pq.droped, human_ms(pq.last_pull_timestamp), human_ms(pq.last_consume_timestamp)
        );
    }
    s.push_str("\n\n#Consumer RT&TPS#\n");
    let _ = writeln!(
        s,
        "{:<32}  {:>14} {:>14} {:>14} {:>14} {:>18} {:>25}",
        "#Topic",
        "#Pull RT",
        "#Pull TPS",
        "#Consume RT",
        "#ConsumeOK TPS",
        "#ConsumeFailed TPS",
        "#ConsumeFailedMsgsInHour"
    );
    for (topic, st) in &info.status_table {
        let _ = writeln!(
            s,
            "{topic:<32}  {:>14.2} {:>14.2} {:>14.2} {:>14.2} {:>18.2} {:>25}",
            st.pull_rt,
            st.pull_tps,
            st.consume_rt,
            st.consume_ok_tps,
            st.consume_failed_tps,
            st.consume_failed_msgs
        );
    }
    if let Some(j) = &info.jstack {
        s.push_str("\n\n#Consumer jstack#\n");
        s.push_str(j);
    }
    s
}

/// `analyzeSubscription`: every client subscribes to the same topics and expressions.
pub fn same_subscription(table: &BTreeMap<String, ConsumerRunningInfo>) -> bool {
    let subs = |i: &ConsumerRunningInfo| -> BTreeSet<(String, String)> {
        i.subscription_set
            .iter()
            .map(|s| (s.topic.clone(), s.sub_string.clone()))
            .collect()
    };
    let mut it = table.values().map(subs);
    match it.next() {
        Some(first) => it.all(|s| s == first),
        None => true,
    }
}

/// `analyzeRebalance`: no queue is held by two clients.
pub fn rebalance_ok(table: &BTreeMap<String, ConsumerRunningInfo>) -> bool {
    let mut seen = BTreeSet::new();
    table
        .values()
        .flat_map(|i| i.mq_table.0.iter().map(|(mq, _)| mq.clone()))
        .all(|mq| seen.insert(mq))
}

/// Runs `consumerStatus` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let group = args.consumer_group.trim();
    let cc = admin.examine_consumer_connection_info(group).await?;
    if let Some(client) = args.client_id.as_deref().map(str::trim) {
        let info = admin
            .consumer_running_info(group, client, args.jstack)
            .await?;
        write!(out, "{}", format_running_info(&info))?;
        return Ok(());
    }
    let now = rmq_client::util::now_ms();
    let mut table = BTreeMap::new();
    let mut i = 1;
    for conn in &cc.connection_set {
        match admin
            .consumer_running_info(group, &conn.client_id, args.jstack)
            .await
        {
            Ok(info) => {
                let path = std::path::PathBuf::from(now.to_string()).join(&conn.client_id);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&path, format_running_info(&info))?;
                writeln!(
                    out,
                    "{i:03}  {:<40} {:<20} {}",
                    conn.client_id,
                    version_desc(conn.version),
                    path.display()
                )?;
                i += 1;
                table.insert(conn.client_id.clone(), info);
            }
            Err(e) => eprintln!("{e}"),
        }
    }
    if !table.is_empty() {
        if same_subscription(&table) {
            write!(out, "\n\nSame subscription in the same group of consumer")?;
            writeln!(
                out,
                "\n\nRebalance {}",
                if rebalance_ok(&table) { "OK" } else { "Failed" }
            )?;
        } else {
            writeln!(
                out,
                "\n\nWARN: Different subscription in the same group of consumer!!!"
            )?;
        }
    }
    Ok(())
}
