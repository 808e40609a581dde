//! `/api/consumers` and `/api/consumers/{group}`: every consumer group with its
//! backlog (diff), consume TPS and online clients; and one group's per-queue
//! offsets, connections and subscriptions.
//!
//! A group is known by its retry topic `%RETRY%<group>`, so the list starts from
//! GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206), like `mqadmin consumerProgress`
//! without `-g`, plus the groups that have settings on a master
//! (GET_ALL_SUBSCRIPTIONGROUP_CONFIG, 201) but no client yet. Per group: the retry topic's route (105), GET_CONSUME_STATS (208)
//! on each broker, and GET_CONSUMER_CONNECTION_LIST (203). A group with no
//! offsets or no clients is simply shown as such; only real failures fill `error`.
//! Book: Part III "The web console" (Consumers page).
//! Mirrors rocketmq-console's `ConsumerServiceImpl.queryGroupList`,
//! `queryConsumeStatsList` and `getConsumerConnection`.

use std::collections::BTreeSet;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use rmq_admin::admin_client::RETRY_GROUP_TOPIC_PREFIX;
use rmq_admin::AdminError;
use rmq_remoting::codes::response;
use rmq_remoting::protocol::{ConsumeStats, ConsumerConnection};
use serde::Serialize;

use crate::error::{path_arg, ApiError, ApiResult};
use crate::server::{fan_out, AppState};

/// The reply of `/api/consumers`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupsView {
    /// Every group with a retry topic, by name.
    pub groups: Vec<GroupRow>,
}

/// One group in the list (a `consumerProgress` row without `-g`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRow {
    /// The consumer group.
    pub group: String,
    /// Messages stored but not yet consumed by the group, over all its queues.
    pub diff_total: i64,
    /// Messages the group consumes per second (the brokers' sum).
    pub consume_tps: f64,
    /// How many clients of the group are connected now.
    pub clients: usize,
    /// "CONSUME_PASSIVELY" (push) or "CONSUME_ACTIVELY" (pull), when online.
    pub consume_type: Option<String>,
    /// "CLUSTERING" or "BROADCASTING", when online.
    pub message_model: Option<String>,
    /// Why the group's numbers could not be read, if they could not.
    pub error: Option<String>,
}

/// The reply of `/api/consumers/{group}` (`consumerProgress -g` and `consumerConnection`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDetail {
    /// The consumer group.
    pub group: String,
    /// Messages the group consumes per second.
    pub consume_tps: f64,
    /// Messages stored but not yet consumed, over all queues.
    pub diff_total: i64,
    /// One row per queue the group has an offset on.
    pub queues: Vec<QueueProgress>,
    /// `None` when no client of the group is online.
    pub connection: Option<ConsumerConnection>,
}

/// One queue's progress (`OffsetWrapper`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueProgress {
    /// The topic (or the group's retry topic).
    pub topic: String,
    /// The queue's broker.
    pub broker_name: String,
    /// The queue.
    pub queue_id: i32,
    /// One past the queue's last message.
    pub broker_offset: i64,
    /// The group's stored offset.
    pub consumer_offset: i64,
    /// `broker_offset - consumer_offset`: messages still to consume.
    pub diff: i64,
    /// Store time of the last consumed message, ms since the epoch (0: none).
    pub last_timestamp: i64,
}

/// "Not online" / "no offsets yet" are states, not failures.
pub(crate) fn absent(e: &AdminError) -> bool {
    matches!(
        e.code(),
        Some(response::CONSUMER_NOT_ONLINE)
            | Some(response::TOPIC_NOT_EXIST)
            | Some(response::SUBSCRIPTION_GROUP_NOT_EXIST)
    )
}

/// Groups with settings on some master (GET_ALL_SUBSCRIPTIONGROUP_CONFIG, 201), without
/// the brokers' built-in ones. A master that cannot be asked adds nothing.
async fn configured_groups(st: &AppState) -> BTreeSet<String> {
    let Ok(info) = st.admin.examine_broker_cluster_info().await else {
        return BTreeSet::new();
    };
    let masters: Vec<String> = info
        .broker_addr_table
        .values()
        .filter_map(|bd| bd.master_addr().map(String::from))
        .collect();
    let tables = fan_out(
        masters
            .into_iter()
            .map(|addr| async move { crate::groups::all_group_configs(st, &addr).await }),
    )
    .await;
    tables
        .into_iter()
        .flatten()
        .flat_map(|t| t.into_keys())
        .filter(|g| !crate::groups::BUILTIN_GROUPS.contains(&g.as_str()))
        .collect()
}

/// The group's stats and connections; absent ones become `None`.
async fn fetch(
    st: &AppState,
    group: &str,
) -> Result<(Option<ConsumeStats>, Option<ConsumerConnection>), AdminError> {
    let (stats, conn) = futures::join!(
        st.admin.examine_consume_stats(group),
        st.admin.examine_consumer_connection_info(group)
    );
    Ok((keep(stats)?, keep(conn)?))
}

fn keep<T>(r: Result<T, AdminError>) -> Result<Option<T>, AdminError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if absent(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn diff_total(stats: Option<&ConsumeStats>) -> i64 {
    stats.map_or(0, |s| {
        s.offset_table
            .0
            .iter()
            .map(|(_, o)| o.broker_offset.saturating_sub(o.consumer_offset))
            .fold(0i64, i64::saturating_add)
    })
}

async fn group_row(st: &AppState, group: String) -> GroupRow {
    let mut row = GroupRow {
        group,
        diff_total: 0,
        consume_tps: 0.0,
        clients: 0,
        consume_type: None,
        message_model: None,
        error: None,
    };
    match fetch(st, &row.group).await {
        Ok((stats, conn)) => {
            row.diff_total = diff_total(stats.as_ref());
            row.consume_tps = stats.map_or(0.0, |s| s.consume_tps);
            if let Some(c) = conn {
                row.clients = c.connection_set.len();
                row.consume_type = c.consume_type.map(|t| t.name().to_string());
                row.message_model = c.message_model.map(|m| m.name().to_string());
            }
        }
        Err(e) => row.error = Some(e.to_string()),
    }
    row
}

// ANCHOR: list_groups
/// `GET /api/consumers`: every group found from the topic list, with its progress.
pub async fn list_groups(State(st): State<AppState>) -> ApiResult<GroupsView> {
    st.within(async {
        let list = st.admin.fetch_all_topic_list().await?;
        let mut names: BTreeSet<String> = list
            .topic_list
            .into_iter()
            .filter_map(|t| t.strip_prefix(RETRY_GROUP_TOPIC_PREFIX).map(String::from))
            .collect();
        // Groups created with settings only (no client has run yet) have no retry topic.
        names.extend(configured_groups(&st).await);
        let groups = names.into_iter().map(|g| group_row(&st, g));
        Ok(Json(GroupsView {
            groups: fan_out(groups).await,
        }))
    })
    .await
}
// ANCHOR_END: list_groups

/// `GET /api/consumers/{group}`: one group's queues and connections; 404 when the group
/// has neither.
pub async fn group_detail(
    State(st): State<AppState>,
    group: Result<Path<String>, PathRejection>,
) -> ApiResult<GroupDetail> {
    let group = path_arg(group, "group name")?;
    st.within(async {
        let (stats, connection) = fetch(&st, &group).await?;
        if stats.is_none() && connection.is_none() && !configured_groups(&st).await.contains(&group)
        {
            return Err(ApiError::NotFound(format!(
                "consumer group {group} has neither settings, offsets nor online clients"
            )));
        }
        let mut queues: Vec<QueueProgress> = stats
            .iter()
            .flat_map(|s| &s.offset_table.0)
            .map(|(mq, o)| QueueProgress {
                topic: mq.topic.clone(),
                broker_name: mq.broker_name.clone(),
                queue_id: mq.queue_id,
                broker_offset: o.broker_offset,
                consumer_offset: o.consumer_offset,
                diff: o.broker_offset.saturating_sub(o.consumer_offset),
                last_timestamp: o.last_timestamp,
            })
            .collect();
        queues.sort_by(|a, b| {
            (&a.topic, &a.broker_name, a.queue_id).cmp(&(&b.topic, &b.broker_name, b.queue_id))
        });
        Ok(Json(GroupDetail {
            consume_tps: stats.as_ref().map_or(0.0, |s| s.consume_tps),
            diff_total: diff_total(stats.as_ref()),
            group,
            queues,
            connection,
        }))
    })
    .await
}
