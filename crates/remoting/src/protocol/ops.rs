//! Bodies of the broker's operations replies that `mqadmin` reads: a group's consume time
//! span, correction offsets, one statistics item, every group's consume stats on a broker, and
//! raw consume-queue entries.
//!
//! Fields are declared in fastjson's (alphabetical) order; write with `encode_body` so the
//! `MessageQueue`-keyed maps inside `ConsumeStats` and the integer-keyed correction offsets
//! come out as a Java peer writes them.
//! Book: Part III "Operating a cluster with mqadmin" and Appendix "Wire protocol". Mirrors
//! `common.protocol.body.{QueueTimeSpan, QueryConsumeTimeSpanBody, QueryCorrectionOffsetBody,
//! BrokerStatsData, BrokerStatsItem, ConsumeStatsList, QueryConsumeQueueResponseBody,
//! ConsumeQueueData}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::admin::{ConsumeStats, MessageQueue};
use super::heartbeat::SubscriptionData;

/// One queue in a QUERY_CONSUME_TIME_SPAN reply: store times of its oldest and newest
/// message and of the group's last consumed one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueTimeSpan {
    /// Store time of the last consumed message (the oldest one when nothing is consumed), ms.
    #[serde(rename = "consumeTimeStamp")]
    pub consume_time_stamp: i64,
    /// How long the next unconsumed message has waited, ms (0 when the group is caught up).
    #[serde(rename = "delayTime")]
    pub delay_time: i64,
    /// Store time of the newest message, ms.
    #[serde(rename = "maxTimeStamp")]
    pub max_time_stamp: i64,
    /// The queue.
    #[serde(rename = "messageQueue")]
    pub message_queue: MessageQueue,
    /// Store time of the oldest message, ms.
    #[serde(rename = "minTimeStamp")]
    pub min_time_stamp: i64,
}

/// Reply to QUERY_CONSUME_TIME_SPAN (303).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueryConsumeTimeSpanBody {
    /// One entry per write queue of the topic.
    #[serde(rename = "consumeTimeSpanSet")]
    pub consume_time_span_set: Vec<QueueTimeSpan>,
}

/// Reply to QUERY_CORRECTION_OFFSET (308).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueryCorrectionOffsetBody {
    /// Per queue id, the smallest offset among the groups asked about (`Long.MAX_VALUE`
    /// where the compare group is already behind it).
    #[serde(rename = "correctionOffsets")]
    pub correction_offsets: BTreeMap<i32, i64>,
}

/// One window of a statistics item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrokerStatsItem {
    /// Average time per call, ms (0 for counters without times).
    pub avgpt: f64,
    /// Total over the window.
    pub sum: i64,
    /// Per second over the window.
    pub tps: f64,
}

/// Reply to VIEW_BROKER_STATS_DATA (315): one item over the last minute, hour and day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrokerStatsData {
    /// The last day.
    #[serde(rename = "statsDay")]
    pub stats_day: BrokerStatsItem,
    /// The last hour.
    #[serde(rename = "statsHour")]
    pub stats_hour: BrokerStatsItem,
    /// The last minute.
    #[serde(rename = "statsMinute")]
    pub stats_minute: BrokerStatsItem,
}

/// Reply to GET_BROKER_CONSUME_STATS (317): every subscription group's consume stats on one
/// broker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsumeStatsList {
    /// The broker that answered.
    #[serde(rename = "brokerAddr")]
    pub broker_addr: String,
    /// One single-entry map per group: group name -> one `ConsumeStats` per topic.
    #[serde(rename = "consumeStatsList")]
    pub consume_stats_list: Vec<BTreeMap<String, Vec<ConsumeStats>>>,
    /// Sum over every queue of broker offset minus consumer offset.
    #[serde(rename = "totalDiff")]
    pub total_diff: i64,
}

/// One consume-queue entry in a QUERY_CONSUME_QUEUE reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsumeQueueData {
    /// The ConsumeQueueExt filter bit map, when the entry has one.
    #[serde(rename = "bitMap", skip_serializing_if = "Option::is_none")]
    pub bit_map: Option<String>,
    /// Whether the asked group's filter matches the entry.
    pub eval: bool,
    /// The ConsumeQueueExt unit as JSON, when the entry has one.
    #[serde(rename = "extendDataJson", skip_serializing_if = "Option::is_none")]
    pub extend_data_json: Option<String>,
    /// A problem with this entry (a missing extension unit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    /// Commit-log offset of the message.
    #[serde(rename = "physicOffset")]
    pub physic_offset: i64,
    /// Size of the message in the commit log, bytes.
    #[serde(rename = "physicSize")]
    pub physic_size: i32,
    /// The tag hash (or, in a delay queue, the due time; or an extension address).
    #[serde(rename = "tagsCode")]
    pub tags_code: i64,
}

/// Reply to QUERY_CONSUME_QUEUE (321).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueryConsumeQueueResponseBody {
    /// The asked group's filter, as pretty JSON, or why there is none.
    #[serde(rename = "filterData", skip_serializing_if = "Option::is_none")]
    pub filter_data: Option<String>,
    /// The queue's max offset.
    #[serde(rename = "maxQueueIndex")]
    pub max_queue_index: i64,
    /// The queue's min offset.
    #[serde(rename = "minQueueIndex")]
    pub min_queue_index: i64,
    /// The entries read.
    #[serde(rename = "queueData", skip_serializing_if = "Option::is_none")]
    pub queue_data: Option<Vec<ConsumeQueueData>>,
    /// The asked group's subscription of the topic.
    #[serde(rename = "subscriptionData", skip_serializing_if = "Option::is_none")]
    pub subscription_data: Option<SubscriptionData>,
}

/// `ConsumeQueueData.toString()`, as `mqadmin queryCq` prints each entry.
impl std::fmt::Display for ConsumeQueueData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = |v: &Option<String>| v.clone().unwrap_or_else(|| "null".into());
        write!(
            f,
            "ConsumeQueueData{{physicOffset={}, physicSize={}, tagsCode={}, extendDataJson='{}', bitMap='{}', eval={}, msg='{}'}}",
            self.physic_offset,
            self.physic_size,
            self.tags_code,
            s(&self.extend_data_json),
            s(&self.bit_map),
            self.eval,
            s(&self.msg)
        )
    }
}
