//! `mqadmin resetOffsetByTime -g <group> -t <topic> -s <timestamp> [-f <force>] [-c]`: moves
//! a consumer group's offsets of one topic to the messages stored at a point in time, while
//! its consumers run.
//!
//! The new way (INVOKE_BROKER_TO_RESET_OFFSET 222 to every broker of the topic): each broker
//! finds, per queue, the offset of the message stored at the timestamp and tells every online
//! consumer of the group (RESET_CONSUMER_CLIENT_OFFSET); the consumers pause, drop what they
//! buffered and pull again from there. If a broker answers 206 (no consumer of the group
//! online), the old way runs instead ("resetOffsetByTimeOld"): the tool itself writes each
//! queue's stored offset with UPDATE_CONSUMER_OFFSET, which the consumers read when they start.
//! Without `-f false` an offset may move forward as well as back; with it, only back.
//! `-s` takes `now`, epoch ms, or `yyyy-MM-dd#HH:mm:ss:SSS` (local time); `-s -1` means "the
//! end of each queue". `-c` sends the request as a C++ client, which makes the broker send the
//! offsets in the list form C++ consumers parse.
//! Rows come sorted by broker name and queue id (4.8.0 prints them in `HashMap` order).
//! Book: Part II "Consumer offsets" (Resetting offsets).
//! Mirrors `org.apache.rocketmq.tools.command.offset.ResetOffsetByTimeCommand`,
//! `ResetOffsetByTimeOldCommand` and `DefaultMQAdminExtImpl.resetOffsetByTimestamp` /
//! `resetOffsetByTimestampOld` / `resetOffsetConsumeOffset`.

use std::io::Write;

use anyhow::Context;
use rmq_remoting::codes::{request, response};
use rmq_remoting::language::LanguageCode;
use rmq_remoting::protocol::header::ResetOffsetRequestHeader;
use rmq_remoting::protocol::{decode_body, MessageQueue, ResetOffsetBody};
use rmq_remoting::RemotingCommand;

use crate::admin_client::{AdminClient, AdminError};
use crate::commands::{java_bool, CommonArgs};
use crate::format::{front_string_at_least, parse_timestamp};

/// `resetOffsetByTime`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// set the consumer group
    #[arg(short = 'g', long = "group", value_name = "arg")]
    pub group: String,
    /// set the topic
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
    /// set the timestamp[now|currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]
    #[arg(
        short = 's',
        long = "timestamp",
        value_name = "arg",
        allow_hyphen_values = true
    )]
    pub timestamp: String,
    /// set the force rollback by timestamp switch[true|false]
    #[arg(short = 'f', long = "force", value_name = "arg")]
    pub force: Option<String>,
    /// reset c++ client offset
    #[arg(short = 'c', long = "cplus")]
    pub cplus: bool,
}

/// One row of the old method's table (`RollbackStats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollbackStats {
    /// The queue's broker.
    pub broker_name: String,
    /// The queue.
    pub queue_id: i32,
    /// The broker's max offset of the queue.
    pub broker_offset: i64,
    /// The group's offset before the reset (for a group without consume stats, the queue's
    /// min offset, as 4.8.0 fills it).
    pub consumer_offset: i64,
    /// The offset of the first message at or after the timestamp (the max offset for -1).
    pub timestamp_offset: i64,
    /// The offset the group ends at (unchanged unless forced or moving back).
    pub rollback_offset: i64,
}

/// Runs `resetOffsetByTime` and prints what 4.8.0's `ResetOffsetByTimeCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let group = args.group.trim();
    let topic = args.topic.trim();
    let text = args.timestamp.trim();
    let timestamp = if text == "now" {
        chrono::Local::now().timestamp_millis()
    } else {
        parse_timestamp(text).with_context(|| format!("specified timestamp invalid: {text}"))?
    };
    let force = args.force.as_deref().map(java_bool).unwrap_or(true);
    let admin = args.common.admin().await?;
    let table = match reset_by_timestamp(&admin, topic, group, timestamp, force, args.cplus).await {
        Ok(t) => t,
        Err(e) if e.code() == Some(response::CONSUMER_NOT_ONLINE) => {
            let rows = reset_by_timestamp_old(&admin, group, topic, timestamp, force).await?;
            return print_old(out, group, topic, force, text, timestamp, &rows);
        }
        Err(e) => return Err(e.into()),
    };
    writeln!(
        out,
        "rollback consumer offset by specified group[{group}], topic[{topic}], force[{force}], timestamp(string)[{text}], timestamp(long)[{timestamp}]"
    )?;
    // Java: "%-40s  %-40s  %-40s%n"
    writeln!(
        out,
        "{:<40}  {:<40}  {:<40}",
        "#brokerName", "#queueId", "#offset"
    )?;
    for (mq, offset) in table {
        // Java: "%-40s  %-40d  %-40d%n"
        writeln!(
            out,
            "{:<40}  {:<40}  {:<40}",
            front_string_at_least(&mq.broker_name, 32),
            mq.queue_id,
            offset
        )?;
    }
    Ok(())
}

/// INVOKE_BROKER_TO_RESET_OFFSET to every broker of the topic; the new offset per queue.
pub async fn reset_by_timestamp(
    admin: &AdminClient,
    topic: &str,
    group: &str,
    timestamp: i64,
    force: bool,
    as_cpp: bool,
) -> Result<Vec<(MessageQueue, i64)>, AdminError> {
    let route = admin.examine_topic_route_info(topic).await?;
    let mut all = Vec::new();
    for bd in &route.broker_datas {
        let Some(addr) = bd.select_broker_addr() else {
            continue;
        };
        let mut cmd = RemotingCommand::new_request(request::INVOKE_BROKER_TO_RESET_OFFSET)
            .with_header(&ResetOffsetRequestHeader {
                topic: topic.to_string(),
                group: group.to_string(),
                timestamp,
                is_force: force,
            });
        if as_cpp {
            cmd.language = LanguageCode::Cpp;
        }
        let resp = admin.invoke(addr, cmd, admin.timeout()).await?;
        if resp.code != response::SUCCESS || resp.body.is_none() {
            return Err(AdminError::Client {
                code: resp.code,
                desc: resp.remark.clone().unwrap_or_default(),
            });
        }
        let body: ResetOffsetBody =
            decode_body(resp.body_bytes()).map_err(|source| AdminError::Body {
                addr: addr.to_string(),
                source,
            })?;
        all.extend(body.offset_table.0);
    }
    all.sort_by(|a, b| (&a.0.broker_name, a.0.queue_id).cmp(&(&b.0.broker_name, b.0.queue_id)));
    Ok(all)
}

/// The old way, for a group with no consumer online: read the group's offsets
/// (GET_CONSUME_STATS; the topic's min offsets if it never consumed the topic), find the
/// offset at the timestamp (SEARCH_OFFSET_BY_TIMESTAMP, or GET_MAX_OFFSET for -1) and write it
/// (UPDATE_CONSUMER_OFFSET) where `force` allows.
pub async fn reset_by_timestamp_old(
    admin: &AdminClient,
    group: &str,
    topic: &str,
    timestamp: i64,
    force: bool,
) -> Result<Vec<RollbackStats>, AdminError> {
    let route = admin.examine_topic_route_info(topic).await?;
    let mut rows = Vec::new();
    for bd in &route.broker_datas {
        let Some(addr) = bd.select_broker_addr() else {
            continue;
        };
        let stats = admin.consume_stats(addr, group, None).await?;
        let mut queues: Vec<(MessageQueue, i64, i64)> = stats
            .offset_table
            .0
            .iter()
            .filter(|(mq, _)| mq.topic == topic)
            .map(|(mq, w)| (mq.clone(), w.broker_offset, w.consumer_offset))
            .collect();
        if queues.is_empty() {
            // Never consumed this topic: start from each queue's min offset.
            let read_queues = route
                .queue_datas
                .iter()
                .find(|q| q.broker_name == bd.broker_name)
                .map(|q| q.read_queue_nums)
                .unwrap_or(0);
            let topic_stats = admin.topic_stats(addr, topic).await?;
            for q in 0..read_queues {
                let mq = MessageQueue {
                    broker_name: bd.broker_name.clone(),
                    queue_id: q,
                    topic: topic.to_string(),
                };
                let (max, min) = topic_stats
                    .offset_table
                    .0
                    .iter()
                    .find(|(m, _)| *m == mq)
                    .map(|(_, o)| (o.max_offset, o.min_offset))
                    .unwrap_or((0, 0));
                queues.push((mq, max, min));
            }
        }
        queues.sort_by_key(|(mq, _, _)| mq.queue_id);
        for (mq, broker_offset, consumer_offset) in queues {
            let target = if timestamp == -1 {
                admin.max_offset(addr, topic, mq.queue_id).await?
            } else {
                admin
                    .search_offset(addr, topic, mq.queue_id, timestamp)
                    .await?
            };
            let mut rollback = consumer_offset;
            if force || target <= consumer_offset {
                rollback = target;
                update_consumer_offset(admin, addr, group, &mq, target).await?;
            }
            rows.push(RollbackStats {
                broker_name: mq.broker_name,
                queue_id: mq.queue_id,
                broker_offset,
                consumer_offset,
                timestamp_offset: target,
                rollback_offset: rollback,
            });
        }
    }
    Ok(rows)
}

/// UPDATE_CONSUMER_OFFSET (15), acknowledged (rmq-client's request).
async fn update_consumer_offset(
    admin: &AdminClient,
    addr: &str,
    group: &str,
    mq: &MessageQueue,
    offset: i64,
) -> Result<(), AdminError> {
    let api = admin.instance().api();
    Ok(api
        .update_consumer_offset(addr, group, mq, offset, false, admin.timeout())
        .await?)
}

fn print_old(
    out: &mut dyn Write,
    group: &str,
    topic: &str,
    force: bool,
    text: &str,
    timestamp: i64,
    rows: &[RollbackStats],
) -> anyhow::Result<()> {
    writeln!(
        out,
        "rollback consumer offset by specified consumerGroup[{group}], topic[{topic}], force[{force}], timestamp(string)[{text}], timestamp(long)[{timestamp}]"
    )?;
    // Java: "%-20s  %-20s  %-20s  %-20s  %-20s  %-20s%n"
    writeln!(
        out,
        "{:<20}  {:<20}  {:<20}  {:<20}  {:<20}  {:<20}",
        "#brokerName",
        "#queueId",
        "#brokerOffset",
        "#consumerOffset",
        "#timestampOffset",
        "#rollbackOffset"
    )?;
    for r in rows {
        // Java: "%-20s  %-20d  %-20d  %-20d  %-20d  %-20d%n"
        writeln!(
            out,
            "{:<20}  {:<20}  {:<20}  {:<20}  {:<20}  {:<20}",
            front_string_at_least(&r.broker_name, 32),
            r.queue_id,
            r.broker_offset,
            r.consumer_offset,
            r.timestamp_offset,
            r.rollback_offset
        )?;
    }
    Ok(())
}
