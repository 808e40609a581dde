//! Admin and consumer-management bodies shared by the broker (writer) and tools
//! (reader): `MessageQueue`, `ConsumeStats`, `TopicStatsTable`, `ConsumerConnection`,
//! `ProducerConnection`, lock/unlock batch bodies, the consumer id list and
//! `SubscriptionGroupConfig`.
//!
//! `ConsumeStats.offsetTable` and `TopicStatsTable.offsetTable` are keyed by
//! `MessageQueue` *objects*, which fastjson writes as bare JSON objects; they use
//! `fastjson::ObjectKeyMap` and must be written with `encode_body`.
//! Book: Part II "Topics and queues" / "Consuming". Mirrors `common.message.MessageQueue`,
//! `common.admin.{ConsumeStats,OffsetWrapper,TopicStatsTable,TopicOffset}`,
//! `common.protocol.body.{Connection,ConsumerConnection,ProducerConnection,LockBatchRequestBody,
//! UnlockBatchRequestBody,LockBatchResponseBody,GetConsumerListByGroupResponseBody}`,
//! `common.subscription.SubscriptionGroupConfig`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fastjson::ObjectKeyMap;
use super::heartbeat::{ConsumeFromWhere, ConsumeType, MessageModel, SubscriptionData};

/// One queue of a topic on one broker. The fields are in fastjson's (alphabetical) order,
/// which is how they are written; the ordering is Java's, see the `Ord` impl.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageQueue {
    /// The broker group that holds the queue (`brokerName`).
    #[serde(rename = "brokerName")]
    pub broker_name: String,
    /// The queue's number within the topic on that broker (`queueId`).
    #[serde(rename = "queueId")]
    pub queue_id: i32,
    /// The topic the queue belongs to.
    pub topic: String,
}

/// `MessageQueue.compareTo`: topic, then broker name, then queue id. Sorted lists of queues
/// (rebalancing, `consumerProgress`, `topicStatus`) come out in this order. (Java compares
/// strings by UTF-16 unit; for the ASCII names topics are limited to that is the same order.)
impl Ord for MessageQueue {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.topic, &self.broker_name, self.queue_id).cmp(&(
            &other.topic,
            &other.broker_name,
            other.queue_id,
        ))
    }
}

impl PartialOrd for MessageQueue {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Reply to GET_CONSUME_STATS.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsumeStats {
    /// Messages consumed per second by the group (from the consumers' reports).
    #[serde(rename = "consumeTps")]
    pub consume_tps: f64,
    /// Offsets per queue.
    #[serde(rename = "offsetTable")]
    pub offset_table: ObjectKeyMap<MessageQueue, OffsetWrapper>,
}

/// One queue's offsets in a [`ConsumeStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OffsetWrapper {
    /// The queue's max offset on the broker.
    #[serde(rename = "brokerOffset")]
    pub broker_offset: i64,
    /// The group's committed offset.
    #[serde(rename = "consumerOffset")]
    pub consumer_offset: i64,
    /// Store time of the last consumed message (ms since the epoch; 0 if none).
    #[serde(rename = "lastTimestamp")]
    pub last_timestamp: i64,
}

/// Reply to GET_TOPIC_STATS_INFO.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TopicStatsTable {
    /// Offsets per queue.
    #[serde(rename = "offsetTable")]
    pub offset_table: ObjectKeyMap<MessageQueue, TopicOffset>,
}

/// One queue's offsets in a [`TopicStatsTable`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TopicOffset {
    /// Store time of the queue's last message (ms since the epoch; 0 if empty).
    #[serde(rename = "lastUpdateTimestamp")]
    pub last_update_timestamp: i64,
    /// The offset after the last message.
    #[serde(rename = "maxOffset")]
    pub max_offset: i64,
    /// The smallest offset still stored.
    #[serde(rename = "minOffset")]
    pub min_offset: i64,
}

/// One client connection as the broker reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientConnection {
    /// The client's address, `ip:port`.
    #[serde(rename = "clientAddr")]
    pub client_addr: String,
    /// The client id (`ip@instanceName`).
    #[serde(rename = "clientId")]
    pub client_id: String,
    /// `LanguageCode` name, e.g. "JAVA".
    pub language: String,
    /// The client's version ordinal (373 = V4_8_0).
    pub version: i32,
}

/// Reply to GET_CONSUMER_CONNECTION_LIST.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerConnection {
    /// The group's client connections.
    #[serde(rename = "connectionSet", default)]
    pub connection_set: Vec<ClientConnection>,
    /// Where the group starts (from any client's heartbeat).
    #[serde(
        rename = "consumeFromWhere",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub consume_from_where: Option<ConsumeFromWhere>,
    /// Pull or push.
    #[serde(
        rename = "consumeType",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub consume_type: Option<ConsumeType>,
    /// Clustering or broadcasting.
    #[serde(
        rename = "messageModel",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub message_model: Option<MessageModel>,
    /// The group's subscriptions by topic.
    #[serde(rename = "subscriptionTable", default)]
    pub subscription_table: BTreeMap<String, SubscriptionData>,
}

/// Reply to GET_PRODUCER_CONNECTION_LIST.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProducerConnection {
    /// The group's client connections.
    #[serde(rename = "connectionSet")]
    pub connection_set: Vec<ClientConnection>,
}

/// Body of LOCK_BATCH_MQ and UNLOCK_BATCH_MQ.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LockBatchRequestBody {
    /// The client that locks or unlocks.
    #[serde(rename = "clientId")]
    pub client_id: String,
    /// Its consumer group.
    #[serde(rename = "consumerGroup")]
    pub consumer_group: String,
    /// The queues.
    #[serde(rename = "mqSet")]
    pub mq_set: Vec<MessageQueue>,
}

/// Same shape as the lock request (`UnlockBatchRequestBody`).
pub type UnlockBatchRequestBody = LockBatchRequestBody;

/// Reply to LOCK_BATCH_MQ.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LockBatchResponseBody {
    /// The queues now locked by the client.
    #[serde(rename = "lockOKMQSet")]
    pub lock_ok_mq_set: Vec<MessageQueue>,
}

/// Reply to GET_CONSUMER_LIST_BY_GROUP.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetConsumerListByGroupResponseBody {
    /// The client ids of the group.
    #[serde(rename = "consumerIdList")]
    pub consumer_id_list: Vec<String>,
}

/// A consumer group's settings (subscriptionGroup.json, UPDATE_AND_CREATE_SUBSCRIPTIONGROUP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SubscriptionGroupConfig {
    /// Preferred broker id to consume from (0 = master).
    #[serde(rename = "brokerId")]
    pub broker_id: i64,
    /// Broadcast consumption allowed.
    #[serde(rename = "consumeBroadcastEnable")]
    pub consume_broadcast_enable: bool,
    /// Consumption allowed at all.
    #[serde(rename = "consumeEnable")]
    pub consume_enable: bool,
    /// A new group starts from the min offset.
    #[serde(rename = "consumeFromMinEnable")]
    pub consume_from_min_enable: bool,
    /// The group's name.
    #[serde(rename = "groupName")]
    pub group_name: String,
    /// Tell the consumers when the group's members change.
    #[serde(rename = "notifyConsumerIdsChangedEnable")]
    pub notify_consumer_ids_changed_enable: bool,
    /// Failed consumptions before a message goes to the DLQ (default 16).
    #[serde(rename = "retryMaxTimes")]
    pub retry_max_times: i32,
    /// Queues of the group's `%RETRY%` topic (default 1).
    #[serde(rename = "retryQueueNums")]
    pub retry_queue_nums: i32,
    /// The broker id to suggest to a slow consumer (default 1, a slave).
    #[serde(rename = "whichBrokerWhenConsumeSlowly")]
    pub which_broker_when_consume_slowly: i64,
}

impl Default for SubscriptionGroupConfig {
    fn default() -> Self {
        SubscriptionGroupConfig {
            broker_id: 0,
            consume_broadcast_enable: true,
            consume_enable: true,
            consume_from_min_enable: true,
            group_name: String::new(),
            notify_consumer_ids_changed_enable: true,
            retry_max_times: 16,
            retry_queue_nums: 1,
            which_broker_when_consume_slowly: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{decode_body, encode_body};

    fn mq(q: i32) -> MessageQueue {
        MessageQueue {
            broker_name: "broker-a".into(),
            queue_id: q,
            topic: "TopicTest".into(),
        }
    }

    /// `MessageQueue.compareTo` orders by topic first, then broker name, then queue id.
    #[test]
    fn message_queues_sort_like_java() {
        let q = |topic: &str, broker: &str, queue_id| MessageQueue {
            broker_name: broker.into(),
            queue_id,
            topic: topic.into(),
        };
        let mut v = vec![
            q("B", "broker-a", 0),
            q("A", "broker-b", 0),
            q("A", "broker-a", 10),
            q("A", "broker-a", 2),
            q("%RETRY%G", "broker-b", 0),
        ];
        v.sort();
        assert_eq!(
            v,
            vec![
                q("%RETRY%G", "broker-b", 0),
                q("A", "broker-a", 2),
                q("A", "broker-a", 10),
                q("A", "broker-b", 0),
                q("B", "broker-a", 0),
            ]
        );
        assert!(q("A", "broker-z", 9) < q("B", "broker-a", 0));
    }

    #[test]
    fn consume_stats_uses_object_keys() {
        let stats = ConsumeStats {
            consume_tps: 0.0,
            offset_table: ObjectKeyMap(vec![(
                mq(0),
                OffsetWrapper {
                    broker_offset: 120,
                    consumer_offset: 118,
                    last_timestamp: 1_600_000_000_123,
                },
            )]),
        };
        let text = String::from_utf8(encode_body(&stats).unwrap().to_vec()).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"consumeTps":0.0,"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:"#,
                r#"{"brokerOffset":120,"consumerOffset":118,"lastTimestamp":1600000000123}}}"#
            )
        );
        assert_eq!(decode_body::<ConsumeStats>(text.as_bytes()).unwrap(), stats);
    }

    #[test]
    fn topic_stats_and_lock_bodies() {
        let table = TopicStatsTable {
            offset_table: ObjectKeyMap(vec![(
                mq(1),
                TopicOffset {
                    last_update_timestamp: 5,
                    max_offset: 9,
                    min_offset: 0,
                },
            )]),
        };
        let text = encode_body(&table).unwrap();
        assert_eq!(
            &text[..],
            br#"{"offsetTable":{{"brokerName":"broker-a","queueId":1,"topic":"TopicTest"}:{"lastUpdateTimestamp":5,"maxOffset":9,"minOffset":0}}}"#
        );
        assert_eq!(decode_body::<TopicStatsTable>(&text).unwrap(), table);
        let lock: LockBatchRequestBody = decode_body(
            br#"{"clientId":"c","consumerGroup":"g","mqSet":[{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}]}"#,
        )
        .unwrap();
        assert_eq!(lock.mq_set, vec![mq(0)]);
        let sg: SubscriptionGroupConfig = decode_body(br#"{"groupName":"g"}"#).unwrap();
        assert_eq!(sg.retry_max_times, 16);
    }
}
