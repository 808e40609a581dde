//! JSON bodies exchanged between brokers, name servers, clients and tools.
//!
//! Field names are the Java bean property names, and struct fields are declared in
//! alphabetical order because fastjson sorts bean properties that way; serialize
//! with `fastjson::to_vec` (via `encode_body`) so integer-keyed maps come out with
//! bare keys, and read with `decode_body`, which accepts fastjson's bare keys and
//! ignores unknown properties. Book: Appendix "Wire protocol".
//! Mirrors `org.apache.rocketmq.common.protocol.body.*` and `protocol.route.*`.

pub mod admin;
pub mod cluster;
pub mod consumer_call;
pub mod fastjson;
pub mod header;
pub mod heartbeat;
pub mod kv;
pub mod ops;
pub mod register;
pub mod route;

pub use admin::{
    ClientConnection, ConsumeStats, ConsumerConnection, GetConsumerListByGroupResponseBody,
    LockBatchRequestBody, LockBatchResponseBody, MessageQueue, OffsetWrapper, ProducerConnection,
    SubscriptionGroupConfig, TopicOffset, TopicStatsTable, UnlockBatchRequestBody,
};
pub use cluster::ClusterInfo;
pub use consumer_call::{
    CmResult, ConsumeMessageDirectlyResult, ConsumeStatus, ConsumerRunningInfo,
    GetConsumerStatusBody, MessageQueueForC, ProcessQueueInfo, ResetOffsetBody,
    ResetOffsetBodyForC,
};
pub use heartbeat::{
    ConsumeFromWhere, ConsumeType, ConsumerData, HeartbeatData, MessageModel, ProducerData,
    SubscriptionData,
};
pub use kv::{KVTable, TopicList};
pub use ops::{
    BrokerStatsData, BrokerStatsItem, ConsumeQueueData, ConsumeStatsList,
    QueryConsumeQueueResponseBody, QueryConsumeTimeSpanBody, QueryCorrectionOffsetBody,
    QueueTimeSpan,
};
pub use register::{DataVersion, RegisterBrokerBody, TopicConfig, TopicConfigSerializeWrapper};
pub use route::{BrokerData, QueueData, TopicRouteData};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::RemotingError;

/// Serializes a body the way a 4.8.0 Java peer would (compact fastjson).
pub fn encode_body<T: Serialize + ?Sized>(body: &T) -> Result<Bytes, RemotingError> {
    Ok(Bytes::from(fastjson::to_vec(body)?))
}

/// Parses a body sent by any client (fastjson quirks tolerated).
pub fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, RemotingError> {
    Ok(fastjson::from_slice(body)?)
}
