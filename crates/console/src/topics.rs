//! `/api/topics` and `/api/topics/{topic}/route`: every topic the name servers know,
//! what kind it is, and the min/max offset of each of its queues; and one topic's
//! route (which brokers hold it, with how many read/write queues and what perm).
//!
//! The list is GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206), then for each topic its
//! route (105) and GET_TOPIC_STATS_INFO (202) on each broker, eight topics at a
//! time (`server::fan_out`). A topic whose stats fail keeps its row with an `error`.
//! Book: Part III "The web console" (Topics page).
//! Mirrors rocketmq-console's `TopicServiceImpl.fetchAllTopicList`, `stats` and `route`.

use std::collections::BTreeSet;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use rmq_admin::admin_client::{
    AUTO_CREATE_TOPIC_KEY, DLQ_GROUP_TOPIC_PREFIX, RETRY_GROUP_TOPIC_PREFIX,
};
use rmq_remoting::protocol::TopicRouteData;
use serde::Serialize;

use crate::error::{path_arg, ApiResult};
use crate::server::{fan_out, AppState};

/// Topics the broker creates for itself (`TopicValidator` / `MixAll` in 4.8.0).
const SYSTEM_TOPICS: &[&str] = &[
    AUTO_CREATE_TOPIC_KEY,
    "SCHEDULE_TOPIC_XXXX",
    "OFFSET_MOVED_EVENT",
    "SELF_TEST_TOPIC",
    "BenchmarkTest",
    "RMQ_SYS_TRANS_HALF_TOPIC",
    "RMQ_SYS_TRANS_OP_HALF_TOPIC",
    "RMQ_SYS_TRACE_TOPIC",
    "TRANS_CHECK_MAX_TIME_TOPIC",
];

/// A broker also creates `<cluster>_REPLY_TOPIC` for request-reply messages.
const REPLY_TOPIC_SUFFIX: &str = "_REPLY_TOPIC";

/// The reply of `/api/topics`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicsView {
    /// Every topic the name servers list, by name.
    pub topics: Vec<TopicRow>,
}

/// One topic with its queues (a `topicStatus` table).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicRow {
    /// The topic's name.
    pub topic: String,
    /// "normal", "retry" (%RETRY%group), "dlq" (%DLQ%group) or "system".
    pub kind: &'static str,
    /// Its queues on every broker.
    pub queues: Vec<QueueRow>,
    /// Messages still stored: the sum over queues of max - min offset.
    pub stored: i64,
    /// The sum of the queues' max offsets: every message ever written.
    pub max_offset_total: i64,
    /// The newest store time over the queues, ms since the epoch.
    pub last_update_timestamp: i64,
    /// Why the stats could not be read, if they could not.
    pub error: Option<String>,
}

/// One queue of a topic (`TopicOffset`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueRow {
    /// The queue's broker.
    pub broker_name: String,
    /// The queue.
    pub queue_id: i32,
    /// The first offset still stored.
    pub min_offset: i64,
    /// One past the last message.
    pub max_offset: i64,
    /// Store time of the last message, ms since the epoch (0: none).
    pub last_update_timestamp: i64,
}

// ANCHOR: topic_kind
/// Sorts a topic into the console's filter buttons. Each broker and each cluster
/// also registers a topic named after itself (and the cluster a `<cluster>_REPLY_TOPIC`),
/// so those names count as system topics.
pub fn topic_kind(topic: &str, own_names: &BTreeSet<String>) -> &'static str {
    if topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) {
        "retry"
    } else if topic.starts_with(DLQ_GROUP_TOPIC_PREFIX) {
        "dlq"
    } else if SYSTEM_TOPICS.contains(&topic)
        || own_names.contains(topic)
        || topic.ends_with(REPLY_TOPIC_SUFFIX)
    {
        "system"
    } else {
        "normal"
    }
}
// ANCHOR_END: topic_kind

/// Cluster and broker names (empty if the name server cannot say).
async fn own_names(st: &AppState) -> BTreeSet<String> {
    match st.admin.examine_broker_cluster_info().await {
        Ok(info) => info
            .cluster_addr_table
            .into_keys()
            .chain(info.broker_addr_table.into_keys())
            .collect(),
        Err(e) => {
            tracing::debug!(error = %e, "cluster info for topic kinds");
            BTreeSet::new()
        }
    }
}

async fn topic_row(st: &AppState, topic: String, kind: &'static str) -> TopicRow {
    let mut row = TopicRow {
        topic,
        kind,
        queues: Vec::new(),
        stored: 0,
        max_offset_total: 0,
        last_update_timestamp: 0,
        error: None,
    };
    match st.admin.examine_topic_stats(&row.topic).await {
        Ok(stats) => {
            let mut queues: Vec<QueueRow> = stats
                .offset_table
                .0
                .into_iter()
                .map(|(mq, off)| QueueRow {
                    broker_name: mq.broker_name,
                    queue_id: mq.queue_id,
                    min_offset: off.min_offset,
                    max_offset: off.max_offset,
                    last_update_timestamp: off.last_update_timestamp,
                })
                .collect();
            queues.sort_by(|a, b| (&a.broker_name, a.queue_id).cmp(&(&b.broker_name, b.queue_id)));
            row.stored = queues.iter().map(|q| q.max_offset - q.min_offset).sum();
            row.max_offset_total = queues.iter().map(|q| q.max_offset).sum();
            row.last_update_timestamp = queues
                .iter()
                .map(|q| q.last_update_timestamp)
                .max()
                .unwrap_or(0);
            row.queues = queues;
        }
        Err(e) => row.error = Some(e.to_string()),
    }
    row
}

// ANCHOR: list_topics
/// `GET /api/topics`: every topic with its kind and queue offsets.
pub async fn list_topics(State(st): State<AppState>) -> ApiResult<TopicsView> {
    st.within(async {
        let list = st.admin.fetch_all_topic_list().await?;
        let names = own_names(&st).await;
        let rows = list.topic_list.into_iter().map(|t| {
            let kind = topic_kind(&t, &names);
            topic_row(&st, t, kind)
        });
        // The name server's list is sorted, and fan_out keeps that order.
        Ok(Json(TopicsView {
            topics: fan_out(rows).await,
        }))
    })
    .await
}
// ANCHOR_END: list_topics

/// `GET /api/topics/{topic}/route`: the name server's route, as `mqadmin topicRoute` prints it.
pub async fn topic_route(
    State(st): State<AppState>,
    topic: Result<Path<String>, PathRejection>,
) -> ApiResult<TopicRouteData> {
    let topic = path_arg(topic, "topic name")?;
    st.within(async { Ok(Json(st.admin.examine_topic_route_info(&topic).await?)) })
        .await
}

/// The reply of `/api/topics/{topic}/consumers`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicConsumers {
    /// Every group that consumes the topic (online, or with a stored offset).
    pub groups: Vec<TopicConsumer>,
}

/// One group's progress on one topic.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicConsumer {
    /// The consumer group.
    pub group: String,
    /// Messages of this topic the group has not consumed yet.
    pub diff: i64,
    /// The group's queues of this topic that have an offset.
    pub queues: usize,
    /// Why the group's numbers could not be read, if they could not.
    pub error: Option<String>,
}

/// `GET /api/topics/{topic}/consumers`: QUERY_TOPIC_CONSUME_BY_WHO (300), then each
/// group's consume stats, keeping this topic's queues.
pub async fn topic_consumers(
    State(st): State<AppState>,
    topic: Result<Path<String>, PathRejection>,
) -> ApiResult<TopicConsumers> {
    let topic = path_arg(topic, "topic name")?;
    st.within(async {
        let groups = st.admin.query_topic_consume_by_who(&topic).await?;
        let rows = groups.into_iter().map(|group| {
            let st = &st;
            let topic = &topic;
            async move {
                let mut row = TopicConsumer {
                    group,
                    diff: 0,
                    queues: 0,
                    error: None,
                };
                match st.admin.examine_consume_stats(&row.group).await {
                    Ok(stats) => {
                        let mine = stats
                            .offset_table
                            .0
                            .iter()
                            .filter(|(mq, _)| &mq.topic == topic);
                        for (_, o) in mine {
                            row.queues += 1;
                            row.diff += o.broker_offset.saturating_sub(o.consumer_offset);
                        }
                    }
                    Err(e) if crate::consumers::absent(&e) => {}
                    Err(e) => row.error = Some(e.to_string()),
                }
                row
            }
        });
        Ok(Json(TopicConsumers {
            groups: fan_out(rows).await,
        }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let own: BTreeSet<String> = ["RaftCluster".to_string(), "RaftNode00".to_string()].into();
        assert_eq!(topic_kind("%RETRY%g1", &own), "retry");
        assert_eq!(topic_kind("%DLQ%g1", &own), "dlq");
        assert_eq!(topic_kind("TBW102", &own), "system");
        assert_eq!(topic_kind("RaftNode00", &own), "system");
        assert_eq!(topic_kind("RaftCluster_REPLY_TOPIC", &own), "system");
        assert_eq!(topic_kind("TopicTest", &own), "normal");
    }
}
