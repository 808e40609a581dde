//! `mqadmin consumerProgress [-g <group>]`: per queue, how far the broker is and
//! how far the group has consumed (the "diff" is the backlog); without `-g`, one
//! summary row per consumer group.
//!
//! GET_ROUTEINFO_BY_TOPIC for `%RETRY%<group>`, GET_CONSUME_STATS per broker, and
//! GET_CONSUMER_CONNECTION_LIST; without `-g`, the groups come from the `%RETRY%`
//! topics in GET_ALL_TOPIC_LIST_FROM_NAMESERVER.
//! Book: Part II "Consuming" (offsets and backlog).
//! Mirrors `org.apache.rocketmq.tools.command.consumer.ConsumerProgressSubCommand`.

use std::collections::HashMap;
use std::io::Write;

use rmq_remoting::codes::request;
use rmq_remoting::protocol::fastjson::ObjectKeyMap;
use rmq_remoting::protocol::header::GetConsumerRunningInfoRequestHeader;
use rmq_remoting::protocol::{decode_body, ConsumeType, MessageQueue};
use rmq_remoting::RemotingCommand;
use serde::Deserialize;

use crate::admin_client::{AdminClient, RETRY_GROUP_TOPIC_PREFIX};
use crate::commands::CommonArgs;
use crate::format::{format_date, front_string_at_least, version_desc};

/// `consumerProgress`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// consumer group name
    #[arg(short = 'g', long = "groupName", value_name = "arg")]
    pub group_name: Option<String>,
    /// Show Client IP per Queue
    #[arg(short = 's', long = "showClientIP", value_name = "arg")]
    pub show_client_ip: Option<String>,
}

/// Runs `consumerProgress` and prints what 4.8.0's `ConsumerProgressSubCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    match args.group_name.as_deref().map(str::trim) {
        Some(group) => {
            let show_ip = args
                .show_client_ip
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("true"));
            print_group(&admin, group, show_ip, out).await
        }
        None => print_all_groups(&admin, out).await,
    }
}

async fn print_group(
    admin: &AdminClient,
    group: &str,
    show_ip: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let stats = admin.examine_consume_stats(group).await?;
    let mut rows = stats.offset_table.0.clone();
    // MessageQueue orders as Java's compareTo: topic, broker name, queue id.
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let owners = if show_ip {
        queue_owners(admin, group).await
    } else {
        HashMap::new()
    };
    // Java: "%-32s  %-32s  %-4s  %-20s  %-20s  %-20s %-20s  %s%n"
    writeln!(
        out,
        "{:<32}  {:<32}  {:<4}  {:<20}  {:<20}  {:<20} {:<20}  {}",
        "#Topic",
        "#Broker Name",
        "#QID",
        "#Broker Offset",
        "#Consumer Offset",
        "#Client IP",
        "#Diff",
        "#LastTime"
    )?;
    let mut diff_total = 0i64;
    for (mq, ow) in &rows {
        let diff = ow.broker_offset.saturating_sub(ow.consumer_offset);
        diff_total = diff_total.saturating_add(diff);
        let last = if ow.last_timestamp == 0 {
            "N/A".to_string()
        } else {
            format_date(ow.last_timestamp)
        };
        let ip = owners.get(mq).map(String::as_str).unwrap_or("N/A");
        // Java: "%-32s  %-32s  %-4d  %-20d  %-20d  %-20s %-20d  %s%n"
        writeln!(
            out,
            "{:<32}  {:<32}  {:<4}  {:<20}  {:<20}  {:<20} {:<20}  {}",
            front_string_at_least(&mq.topic, 32),
            front_string_at_least(&mq.broker_name, 32),
            mq.queue_id,
            ow.broker_offset,
            ow.consumer_offset,
            ip,
            diff,
            last
        )?;
    }
    writeln!(out)?;
    writeln!(out, "Consume TPS: {:.2}", stats.consume_tps)?;
    writeln!(out, "Diff Total: {diff_total}")?;
    Ok(())
}

/// The part of `ConsumerRunningInfo` this command reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RunningInfo {
    #[serde(rename = "mqTable")]
    mq_table: ObjectKeyMap<MessageQueue, serde::de::IgnoredAny>,
}

/// Which client IP holds each queue, from GET_CONSUMER_RUNNING_INFO (the broker
/// forwards it to each client). Any failure just leaves the column at "N/A".
async fn queue_owners(admin: &AdminClient, group: &str) -> HashMap<MessageQueue, String> {
    let mut owners = HashMap::new();
    let Ok(route) = admin
        .examine_topic_route_info(&format!("{RETRY_GROUP_TOPIC_PREFIX}{group}"))
        .await
    else {
        return owners;
    };
    let Some(addr) = route
        .broker_datas
        .iter()
        .find_map(|bd| bd.select_broker_addr().map(String::from))
    else {
        return owners;
    };
    let Ok(cc) = admin.consumer_connection(&addr, group).await else {
        return owners;
    };
    for conn in cc.connection_set {
        let cmd = RemotingCommand::new_request(request::GET_CONSUMER_RUNNING_INFO).with_header(
            &GetConsumerRunningInfoRequestHeader {
                consumer_group: group.to_string(),
                client_id: conn.client_id.clone(),
                jstack_enable: false,
            },
        );
        let Ok(resp) = admin.invoke(&addr, cmd, admin.timeout()).await else {
            continue;
        };
        if resp.code != 0 {
            continue;
        }
        if let Ok(info) = decode_body::<RunningInfo>(resp.body_bytes()) {
            let ip = conn
                .client_id
                .split('@')
                .next()
                .unwrap_or_default()
                .to_string();
            for (mq, _) in info.mq_table.0 {
                owners.insert(mq, ip.clone());
            }
        }
    }
    owners
}

async fn print_all_groups(admin: &AdminClient, out: &mut dyn Write) -> anyhow::Result<()> {
    // Java: "%-32s  %-6s  %-24s %-5s  %-14s  %-7s  %s%n"
    writeln!(
        out,
        "{:<32}  {:<6}  {:<24} {:<5}  {:<14}  {:<7}  {}",
        "#Group", "#Count", "#Version", "#Type", "#Model", "#TPS", "#Diff Total"
    )?;
    let topics = admin.fetch_all_topic_list().await?;
    for topic in topics.topic_list {
        let Some(group) = topic.strip_prefix(RETRY_GROUP_TOPIC_PREFIX) else {
            continue;
        };
        let stats = admin
            .examine_consume_stats(group)
            .await
            .map_err(|e| tracing::warn!(group, error = %e, "examineConsumeStats failed"))
            .ok();
        let cc = admin
            .examine_consumer_connection_info(group)
            .await
            .map_err(|e| tracing::warn!(group, error = %e, "examineConsumerConnectionInfo failed"))
            .ok();
        let (tps, diff_total) = stats
            .map(|s| {
                let diff: i64 = s
                    .offset_table
                    .0
                    .iter()
                    .map(|(_, o)| o.broker_offset.saturating_sub(o.consumer_offset))
                    .fold(0i64, i64::saturating_add);
                (s.consume_tps as i32, diff)
            })
            .unwrap_or((0, 0));
        let count = cc.as_ref().map(|c| c.connection_set.len()).unwrap_or(0);
        let (version, ctype, model) = match (&cc, count) {
            (Some(cc), n) if n > 0 => {
                let min_version = cc
                    .connection_set
                    .iter()
                    .map(|c| c.version)
                    .min()
                    .unwrap_or(i32::MAX);
                let ctype = match cc.consume_type {
                    Some(ConsumeType::ConsumeActively) => "PULL",
                    _ => "PUSH",
                };
                let model = if cc.consume_type == Some(ConsumeType::ConsumePassively) {
                    cc.message_model.map(|m| m.name()).unwrap_or("null")
                } else {
                    ""
                };
                (version_desc(min_version), ctype, model)
            }
            _ => ("OFFLINE".to_string(), "", ""),
        };
        // Java: "%-32s  %-6d  %-24s %-5s  %-14s  %-7d  %d%n"
        writeln!(
            out,
            "{:<32}  {:<6}  {:<24} {:<5}  {:<14}  {:<7}  {}",
            front_string_at_least(group, 32),
            count,
            version,
            ctype,
            model,
            tps,
            diff_total
        )?;
    }
    Ok(())
}
