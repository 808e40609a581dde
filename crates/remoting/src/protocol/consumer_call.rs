//! Bodies of the calls that reach a consumer *through* a broker: the offset reset
//! (`ResetOffsetBody`, and `ResetOffsetBodyForC` for C++ clients), the consumer status
//! (`GetConsumerStatusBody`), the running info (`ConsumerRunningInfo` with
//! `ProcessQueueInfo` and `ConsumeStatus`) and the result of consuming one message
//! directly (`ConsumeMessageDirectlyResult`).
//!
//! An admin tool cannot reach a consumer: consumers dial brokers, nobody dials them. So the
//! tool asks a broker (INVOKE_BROKER_TO_RESET_OFFSET 222, INVOKE_BROKER_TO_GET_CONSUMER_STATUS
//! 223, GET_CONSUMER_RUNNING_INFO 307, CONSUME_MESSAGE_DIRECTLY 309), and the broker sends a
//! request back down the consumer's own connection (RESET_CONSUMER_CLIENT_OFFSET 220,
//! GET_CONSUMER_STATUS_FROM_CLIENT 221, or the same 307/309). Maps keyed by `MessageQueue`
//! are written the fastjson way (object keys, see `fastjson::ObjectKeyMap`); fields are in
//! alphabetical order because fastjson sorts bean properties.
//! Book: Part II "Consumer offsets" (Resetting offsets). Mirrors
//! `common.protocol.body.{ResetOffsetBody,ResetOffsetBodyForC,GetConsumerStatusBody,
//! ConsumerRunningInfo,ProcessQueueInfo,ConsumeStatus,ConsumeMessageDirectlyResult,CMResult}`
//! and `common.message.MessageQueueForC`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::admin::MessageQueue;
use super::fastjson::ObjectKeyMap;
use super::heartbeat::SubscriptionData;

/// Body of RESET_CONSUMER_CLIENT_OFFSET (220) and of the broker's reply to 222: the new
/// offset of each queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResetOffsetBody {
    /// The new offset of each queue.
    #[serde(rename = "offsetTable")]
    pub offset_table: ObjectKeyMap<MessageQueue, i64>,
}

/// One entry of [`ResetOffsetBodyForC`] (`MessageQueueForC`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageQueueForC {
    /// The queue's broker group.
    #[serde(rename = "brokerName")]
    pub broker_name: String,
    /// The new offset.
    pub offset: i64,
    /// The queue id.
    #[serde(rename = "queueId")]
    pub queue_id: i32,
    /// The topic.
    pub topic: String,
}

/// The list form of [`ResetOffsetBody`] that the broker sends when the admin request came
/// with language CPP (the C++ client cannot parse object keys).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResetOffsetBodyForC {
    /// The new offset of each queue, as a list.
    #[serde(rename = "offsetTable")]
    pub offset_table: Vec<MessageQueueForC>,
}

/// Reply to GET_CONSUMER_STATUS_FROM_CLIENT (the client fills `message_queue_table`) and to
/// INVOKE_BROKER_TO_GET_CONSUMER_STATUS (the broker fills `consumer_table`, client id ->
/// that client's table).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GetConsumerStatusBody {
    /// Per client id, that client's offsets (filled by the broker).
    #[serde(rename = "consumerTable")]
    pub consumer_table: BTreeMap<String, ObjectKeyMap<MessageQueue, i64>>,
    /// One client's offsets per queue (filled by the client).
    #[serde(rename = "messageQueueTable")]
    pub message_queue_table: ObjectKeyMap<MessageQueue, i64>,
}

/// The state of one queue inside a consumer (`ProcessQueueInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcessQueueInfo {
    /// Messages pulled and not consumed yet.
    #[serde(rename = "cachedMsgCount")]
    pub cached_msg_count: i32,
    /// The highest offset among them.
    #[serde(rename = "cachedMsgMaxOffset")]
    pub cached_msg_max_offset: i64,
    /// The lowest offset among them.
    #[serde(rename = "cachedMsgMinOffset")]
    pub cached_msg_min_offset: i64,
    /// Their size in MiB.
    #[serde(rename = "cachedMsgSizeInMiB")]
    pub cached_msg_size_in_mib: i32,
    /// The offset the consumer will commit next.
    #[serde(rename = "commitOffset")]
    pub commit_offset: i64,
    /// Spelled as 4.8.0 spells it.
    pub droped: bool,
    /// When a message of the queue was last consumed (ms since the epoch).
    #[serde(rename = "lastConsumeTimestamp")]
    pub last_consume_timestamp: i64,
    /// When the queue was last locked (orderly consumers; ms since the epoch).
    #[serde(rename = "lastLockTimestamp")]
    pub last_lock_timestamp: i64,
    /// When the queue was last pulled (ms since the epoch).
    #[serde(rename = "lastPullTimestamp")]
    pub last_pull_timestamp: i64,
    /// The consumer holds the queue's lock (orderly consumers).
    pub locked: bool,
    /// Messages taken for an orderly consumption not yet committed.
    #[serde(rename = "transactionMsgCount")]
    pub transaction_msg_count: i32,
    /// The highest offset among them.
    #[serde(rename = "transactionMsgMaxOffset")]
    pub transaction_msg_max_offset: i64,
    /// The lowest offset among them.
    #[serde(rename = "transactionMsgMinOffset")]
    pub transaction_msg_min_offset: i64,
    /// How often unlocking the queue was tried.
    #[serde(rename = "tryUnlockTimes")]
    pub try_unlock_times: i64,
}

/// Pull and consume rates of one topic inside a consumer (`ConsumeStatus`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsumeStatus {
    /// Messages whose consumption failed in the last hour.
    #[serde(rename = "consumeFailedMsgs")]
    pub consume_failed_msgs: i64,
    /// Failed consumptions per second.
    #[serde(rename = "consumeFailedTPS")]
    pub consume_failed_tps: f64,
    /// Successful consumptions per second.
    #[serde(rename = "consumeOKTPS")]
    pub consume_ok_tps: f64,
    /// Mean listener time per message, ms.
    #[serde(rename = "consumeRT")]
    pub consume_rt: f64,
    /// Mean pull round trip, ms.
    #[serde(rename = "pullRT")]
    pub pull_rt: f64,
    /// Messages pulled per second.
    #[serde(rename = "pullTPS")]
    pub pull_tps: f64,
}

/// Reply body of GET_CONSUMER_RUNNING_INFO (307).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsumerRunningInfo {
    /// A thread dump; only when `jstackEnable` was asked and the client can make one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jstack: Option<String>,
    /// The state of each queue the consumer holds.
    #[serde(rename = "mqTable")]
    pub mq_table: ObjectKeyMap<MessageQueue, ProcessQueueInfo>,
    /// The consumer's settings as text, plus the `PROP_*` keys below (a value that is not a
    /// string, as some clients write numbers and booleans, is read as its JSON text).
    #[serde(deserialize_with = "string_values")]
    pub properties: BTreeMap<String, String>,
    /// Rates per topic.
    #[serde(rename = "statusTable")]
    pub status_table: BTreeMap<String, ConsumeStatus>,
    /// The consumer's subscriptions.
    #[serde(rename = "subscriptionSet")]
    pub subscription_set: Vec<SubscriptionData>,
}

impl ConsumerRunningInfo {
    /// `PROP_NAMESERVER_ADDR`: the name servers, each followed by `;`.
    pub const PROP_NAMESERVER_ADDR: &'static str = "PROP_NAMESERVER_ADDR";
    /// `PROP_THREADPOOL_CORE_SIZE`.
    pub const PROP_THREADPOOL_CORE_SIZE: &'static str = "PROP_THREADPOOL_CORE_SIZE";
    /// `PROP_CONSUMEORDERLY`: "true" or "false".
    pub const PROP_CONSUME_ORDERLY: &'static str = "PROP_CONSUMEORDERLY";
    /// `PROP_CONSUME_TYPE`: `CONSUME_PASSIVELY` (push) or `CONSUME_ACTIVELY` (pull).
    pub const PROP_CONSUME_TYPE: &'static str = "PROP_CONSUME_TYPE";
    /// `PROP_CLIENT_VERSION`, e.g. `V4_8_0`.
    pub const PROP_CLIENT_VERSION: &'static str = "PROP_CLIENT_VERSION";
    /// `PROP_CONSUMER_START_TIMESTAMP`: epoch ms.
    pub const PROP_CONSUMER_START_TIMESTAMP: &'static str = "PROP_CONSUMER_START_TIMESTAMP";
}

fn string_values<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let raw = Option::<BTreeMap<String, serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}

/// How a directly consumed message went (`CMResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmResult {
    /// `CR_SUCCESS`: consumed.
    #[serde(rename = "CR_SUCCESS")]
    Success,
    /// `CR_LATER`: to be consumed again later.
    #[serde(rename = "CR_LATER")]
    Later,
    /// `CR_ROLLBACK`: an orderly consumer rolled back.
    #[serde(rename = "CR_ROLLBACK")]
    Rollback,
    /// `CR_COMMIT`: an orderly consumer committed.
    #[serde(rename = "CR_COMMIT")]
    Commit,
    /// `CR_THROW_EXCEPTION`: the listener threw.
    #[serde(rename = "CR_THROW_EXCEPTION")]
    ThrowException,
    /// `CR_RETURN_NULL`: the listener returned null.
    #[serde(rename = "CR_RETURN_NULL")]
    ReturnNull,
}

/// Reply body of CONSUME_MESSAGE_DIRECTLY (309).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumeMessageDirectlyResult {
    /// An orderly consumer commits on its own (default true).
    #[serde(rename = "autoCommit", default = "yes")]
    pub auto_commit: bool,
    /// How it went.
    #[serde(
        rename = "consumeResult",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub consume_result: Option<CmResult>,
    /// The consumer is orderly.
    #[serde(default)]
    pub order: bool,
    /// Details, e.g. the exception.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub remark: Option<String>,
    /// Time the listener took, ms (spelled as in 4.8.0).
    #[serde(rename = "spentTimeMills", default)]
    pub spent_time_mills: i64,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{decode_body, encode_body};

    fn mq(q: i32) -> MessageQueue {
        MessageQueue {
            broker_name: "broker-a".into(),
            queue_id: q,
            topic: "T".into(),
        }
    }

    #[test]
    fn reset_body_uses_object_keys_and_reads_java_text() {
        let body = ResetOffsetBody {
            offset_table: ObjectKeyMap(vec![(mq(0), 5), (mq(1), 0)]),
        };
        let text = String::from_utf8(encode_body(&body).unwrap().to_vec()).unwrap();
        assert_eq!(
            text,
            r#"{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:5,{"brokerName":"broker-a","queueId":1,"topic":"T"}:0}}"#
        );
        let back: ResetOffsetBody = decode_body(text.as_bytes()).unwrap();
        assert_eq!(back, body);
        let c = ResetOffsetBodyForC {
            offset_table: vec![MessageQueueForC {
                broker_name: "b".into(),
                offset: 7,
                queue_id: 2,
                topic: "T".into(),
            }],
        };
        assert_eq!(
            String::from_utf8(encode_body(&c).unwrap().to_vec()).unwrap(),
            r#"{"offsetTable":[{"brokerName":"b","offset":7,"queueId":2,"topic":"T"}]}"#
        );
    }

    #[test]
    fn consumer_status_and_running_info_shapes() {
        let mut s = GetConsumerStatusBody::default();
        s.message_queue_table.0.push((mq(3), 9));
        let text = String::from_utf8(encode_body(&s).unwrap().to_vec()).unwrap();
        assert_eq!(
            text,
            r#"{"consumerTable":{},"messageQueueTable":{{"brokerName":"broker-a","queueId":3,"topic":"T"}:9}}"#
        );
        let mut info = ConsumerRunningInfo::default();
        info.properties.insert(
            ConsumerRunningInfo::PROP_CONSUME_TYPE.into(),
            "CONSUME_PASSIVELY".into(),
        );
        info.mq_table.0.push((mq(0), ProcessQueueInfo::default()));
        info.status_table
            .insert("T".into(), ConsumeStatus::default());
        let text = String::from_utf8(encode_body(&info).unwrap().to_vec()).unwrap();
        assert!(text.starts_with(r#"{"mqTable":{{"brokerName""#), "{text}");
        assert!(text.contains(r#""droped":false"#), "{text}");
        assert!(text.contains(r#""consumeOKTPS":0.0"#), "{text}");
        assert!(!text.contains("jstack"), "{text}");
        let back: ConsumerRunningInfo = decode_body(text.as_bytes()).unwrap();
        assert_eq!(back, info);
    }

    #[test]
    fn running_info_properties_accept_any_scalar() {
        let info: ConsumerRunningInfo = decode_body(
            br#"{"properties":{"a":"x","consumeThreadMax":20,"unitMode":false},"mqTable":{}}"#,
        )
        .unwrap();
        assert_eq!(info.properties["a"], "x");
        assert_eq!(info.properties["consumeThreadMax"], "20");
        assert_eq!(info.properties["unitMode"], "false");
    }

    #[test]
    fn direct_result_names_follow_cm_result() {
        let r = ConsumeMessageDirectlyResult {
            auto_commit: true,
            consume_result: Some(CmResult::Success),
            order: false,
            remark: None,
            spent_time_mills: 3,
        };
        let text = String::from_utf8(encode_body(&r).unwrap().to_vec()).unwrap();
        assert_eq!(
            text,
            r#"{"autoCommit":true,"consumeResult":"CR_SUCCESS","order":false,"spentTimeMills":3}"#
        );
        let java: ConsumeMessageDirectlyResult = decode_body(
            br#"{"consumeResult":"CR_THROW_EXCEPTION","remark":"x","spentTimeMills":1}"#,
        )
        .unwrap();
        assert!(java.auto_commit);
        assert_eq!(java.consume_result, Some(CmResult::ThrowException));
    }
}
