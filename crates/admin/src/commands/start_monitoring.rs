//! `mqadmin startMonitoring`: watch every consumer group until stopped. Once a minute, for each
//! group (found through its `%RETRY%` topic), report per topic its backlog, the largest backlog
//! of one queue and how far the slowest queue's consumption lags behind its newest message.
//!
//! Per round: the topic list, then per group GET_CONSUME_STATS and the connection list; per
//! queue with consumption, a one-message pull at the queue's end for the newest store time.
//! Book: Part III "Operating a cluster with mqadmin" (stats).
//! Mirrors `org.apache.rocketmq.tools.monitor.MonitorService` (`doMonitorWork`,
//! `reportUndoneMsgs`, `computeUndoneMsgs`) with `DefaultMonitorListener`.
//!
//! Deviations: the report lines go to standard output (4.8.0 writes them to its client log
//! file), the first round starts at once (4.8.0 waits 20 s), and the OFFSET_MOVED_EVENT
//! subscription and the failed-message report (empty in 4.8.0) are left out.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use rmq_client::api::PullStatus;
use rmq_client::consumer::PullConsumer;
use rmq_remoting::protocol::{ConsumeStats, MessageQueue, OffsetWrapper};

use crate::admin_client::{AdminClient, RETRY_GROUP_TOPIC_PREFIX};
use crate::commands::CommonArgs;

/// `MonitorConfig.roundInterval`.
pub const ROUND_INTERVAL: Duration = Duration::from_secs(60);
/// `DefaultMonitorListener.LOG_PREFIX`.
const PREFIX: &str = "[MONITOR] ";

/// `startMonitoring` takes only `-n`.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `UndoneMsgs` of one group and topic.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UndoneMsgs {
    /// Messages stored but not consumed, over all queues.
    pub total: i64,
    /// The largest backlog of one queue.
    pub single_mq: i64,
    /// Newest store time minus last consumed store time, the largest over the queues (ms).
    pub delay_ms: i64,
}

async fn newest_store_time(consumer: &PullConsumer, mq: &MessageQueue) -> Option<i64> {
    let max = consumer.max_offset(mq).await.ok()?;
    if max <= 0 {
        return None;
    }
    let r = consumer.pull(mq, "*", max - 1, 1).await.ok()?;
    match r.status {
        PullStatus::Found => r.msgs.first().map(|m| m.store_timestamp),
        _ => None,
    }
}

/// `computeUndoneMsgs` over one topic's queues.
async fn undone(consumer: &PullConsumer, rows: &[(MessageQueue, OffsetWrapper)]) -> UndoneMsgs {
    let mut u = UndoneMsgs::default();
    for (mq, ow) in rows {
        let diff = ow.broker_offset - ow.consumer_offset;
        u.single_mq = u.single_mq.max(diff);
        u.total += diff.max(0);
        if ow.last_timestamp > 0 {
            if let Some(newest) = newest_store_time(consumer, mq).await {
                u.delay_ms = u.delay_ms.max(newest - ow.last_timestamp);
            }
        }
    }
    u
}

async fn round(
    admin: &AdminClient,
    consumer: &PullConsumer,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "{PREFIX}=========================================beginRound"
    )?;
    let topics = admin.fetch_all_topic_list().await?;
    for topic in &topics.topic_list {
        let Some(group) = topic.strip_prefix(RETRY_GROUP_TOPIC_PREFIX) else {
            continue;
        };
        let Ok(cs): Result<ConsumeStats, _> = admin.examine_consume_stats(group).await else {
            continue;
        };
        if admin.examine_consumer_connection_info(group).await.is_err() {
            continue;
        }
        let mut by_topic: BTreeMap<String, Vec<(MessageQueue, OffsetWrapper)>> = BTreeMap::new();
        for (mq, ow) in cs.offset_table.0 {
            by_topic.entry(mq.topic.clone()).or_default().push((mq, ow));
        }
        for (t, rows) in by_topic {
            let u = undone(consumer, &rows).await;
            writeln!(
                out,
                "{PREFIX}reportUndoneMsgs: UndoneMsgs [consumerGroup={group}, topic={t}, undoneMsgsTotal={}, undoneMsgsSingleMQ={}, undoneMsgsDelayTimeMills={}]",
                u.total, u.single_mq, u.delay_ms
            )?;
        }
    }
    writeln!(
        out,
        "{PREFIX}=========================================endRound"
    )?;
    out.flush()?;
    Ok(())
}

/// Runs `startMonitoring` until the process is stopped.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let consumer = PullConsumer::start(
        crate::commands::consume_message::TOOLS_CONSUMER_GROUP,
        args.common.client_config()?,
    )
    .await?;
    loop {
        if let Err(e) = round(&admin, &consumer, out).await {
            tracing::error!("doMonitorWork Exception: {e:#}");
        }
        tokio::time::sleep(ROUND_INTERVAL).await;
    }
}
