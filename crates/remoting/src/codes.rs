//! Request and response code constants of RocketMQ 4.8.0.
//!
//! Every frame carries an `i32` code: on a request it names the operation, on a
//! response it says how the operation went. The names are the Java constant names
//! so that a reader can grep the Java source for them (book: Appendix "Wire protocol").
//!
//! Mirrors `org.apache.rocketmq.common.protocol.RequestCode`, `ResponseCode` and
//! `org.apache.rocketmq.remoting.protocol.RemotingSysResponseCode`.

/// The protocol version every 4.8.0 command carries (`MQVersion.Version.V4_8_0.ordinal()`).
pub const VERSION: i32 = 373;

/// `MQVersion.getVersionDesc`: the name of the `Version` enum constant with this
/// ordinal (values past the end map to the last constant, `HIGHER_VERSION`).
///
/// The enum is regular enough to rebuild instead of listing its 613 names:
/// eight 3.0.0 pre-releases, then `_SNAPSHOT`/release pairs for 3.0.1–3.0.15,
/// 3.1.0–3.2.9, 3.3.1–3.9.9 (no x.y.0), and every 4.x.y and 5.x.y.
pub fn version_desc(ordinal: i32) -> String {
    let names = version_names();
    let i = usize::try_from(ordinal).unwrap_or(0).min(names.len() - 1);
    names[i].clone()
}

fn version_names() -> Vec<String> {
    let mut v: Vec<String> = vec!["V3_0_0_SNAPSHOT".into(), "V3_0_0_ALPHA1".into()];
    for b in 1..=5 {
        v.push(format!("V3_0_0_BETA{b}"));
    }
    for b in 6..=9 {
        v.push(format!("V3_0_0_BETA{b}_SNAPSHOT"));
        v.push(format!("V3_0_0_BETA{b}"));
    }
    v.push("V3_0_0_FINAL".into());
    let mut pair = |name: String| {
        v.push(format!("{name}_SNAPSHOT"));
        v.push(name);
    };
    for p in 1..=15 {
        pair(format!("V3_0_{p}"));
    }
    for m in 1..=9 {
        let first = if m <= 2 { 0 } else { 1 };
        for p in first..=9 {
            pair(format!("V3_{m}_{p}"));
        }
    }
    for major in 4..=5 {
        for m in 0..=9 {
            for p in 0..=9 {
                pair(format!("V{major}_{m}_{p}"));
            }
        }
    }
    v.push("HIGHER_VERSION".into());
    v
}

/// Request codes (`RequestCode`), the operation a request asks for.
pub mod request {
    /// Store one message (header `SendMessageRequestHeader`); broker.
    pub const SEND_MESSAGE: i32 = 10;
    /// Read messages from a queue, with long polling; broker.
    pub const PULL_MESSAGE: i32 = 11;
    /// Find messages by key through the index files; broker.
    pub const QUERY_MESSAGE: i32 = 12;
    /// Defined but never sent by 4.8.0.
    pub const QUERY_BROKER_OFFSET: i32 = 13;
    /// Read a group's stored offset in one queue; broker.
    pub const QUERY_CONSUMER_OFFSET: i32 = 14;
    /// Store a group's offset in one queue (usually oneway); broker.
    pub const UPDATE_CONSUMER_OFFSET: i32 = 15;
    /// Create or change a topic on a broker (`mqadmin updateTopic`).
    pub const UPDATE_AND_CREATE_TOPIC: i32 = 17;
    /// All topic configurations of a broker (slaves sync them).
    pub const GET_ALL_TOPIC_CONFIG: i32 = 21;
    /// Defined but never sent or served by 4.8.0.
    pub const GET_TOPIC_CONFIG_LIST: i32 = 22;
    /// Defined but never sent or served by 4.8.0.
    pub const GET_TOPIC_NAME_LIST: i32 = 23;
    /// Change broker settings at runtime (body: properties text).
    pub const UPDATE_BROKER_CONFIG: i32 = 25;
    /// A broker's settings as properties text.
    pub const GET_BROKER_CONFIG: i32 = 26;
    /// Defined but never sent by 4.8.0.
    pub const TRIGGER_DELETE_FILES: i32 = 27;
    /// A broker's runtime figures as a `KVTable` (`mqadmin brokerStatus`).
    pub const GET_BROKER_RUNTIME_INFO: i32 = 28;
    /// The queue offset of the first message stored at or after a time.
    pub const SEARCH_OFFSET_BY_TIMESTAMP: i32 = 29;
    /// The offset after the last message of a queue.
    pub const GET_MAX_OFFSET: i32 = 30;
    /// The smallest offset still in a queue.
    pub const GET_MIN_OFFSET: i32 = 31;
    /// When the oldest message of a queue was stored.
    pub const GET_EARLIEST_MSG_STORETIME: i32 = 32;
    /// The message stored at a commit-log offset.
    pub const VIEW_MESSAGE_BY_ID: i32 = 33;
    /// A client's producer and consumer groups and subscriptions (body: `HeartbeatData`).
    pub const HEART_BEAT: i32 = 34;
    /// A client leaves its groups.
    pub const UNREGISTER_CLIENT: i32 = 35;
    /// A message the consumer failed to consume goes to the retry topic.
    pub const CONSUMER_SEND_MSG_BACK: i32 = 36;
    /// Commit or roll back a half message (oneway, producer to broker).
    pub const END_TRANSACTION: i32 = 37;
    /// The client ids of a consumer group.
    pub const GET_CONSUMER_LIST_BY_GROUP: i32 = 38;
    /// Broker to producer: how did this transaction end?
    pub const CHECK_TRANSACTION_STATE: i32 = 39;
    /// Broker to consumer (oneway): the group changed, rebalance.
    pub const NOTIFY_CONSUMER_IDS_CHANGED: i32 = 40;
    /// Lock queues for an orderly consumer.
    pub const LOCK_BATCH_MQ: i32 = 41;
    /// Release queue locks of an orderly consumer.
    pub const UNLOCK_BATCH_MQ: i32 = 42;
    /// All consumer offsets of a broker (slaves sync them).
    pub const GET_ALL_CONSUMER_OFFSET: i32 = 43;
    /// The delay-queue offsets of a broker (slaves sync them).
    pub const GET_ALL_DELAY_OFFSET: i32 = 45;
    /// Check a consumer's filter expression before it subscribes.
    pub const CHECK_CLIENT_CONFIG: i32 = 46;
    /// Add or change an ACL account.
    pub const UPDATE_AND_CREATE_ACL_CONFIG: i32 = 50;
    /// Delete an ACL account.
    pub const DELETE_ACL_CONFIG: i32 = 51;
    /// Which ACL configuration version a broker runs.
    pub const GET_BROKER_CLUSTER_ACL_INFO: i32 = 52;
    /// Replace the ACL global white list.
    pub const UPDATE_GLOBAL_WHITE_ADDRS_CONFIG: i32 = 53;
    /// A broker's whole ACL configuration.
    pub const GET_BROKER_CLUSTER_ACL_CONFIG: i32 = 54;
    /// Store a value in the name server's KV configuration.
    pub const PUT_KV_CONFIG: i32 = 100;
    /// Read a value of the name server's KV configuration.
    pub const GET_KV_CONFIG: i32 = 101;
    /// Delete a value of the name server's KV configuration.
    pub const DELETE_KV_CONFIG: i32 = 102;
    /// A broker announces itself and its topics to a name server.
    pub const REGISTER_BROKER: i32 = 103;
    /// A broker leaves a name server's route table.
    pub const UNREGISTER_BROKER: i32 = 104;
    /// The route (queues and brokers) of a topic; name server.
    pub const GET_ROUTEINFO_BY_TOPIC: i32 = 105;
    /// Every cluster and broker a name server knows.
    pub const GET_BROKER_CLUSTER_INFO: i32 = 106;
    /// Create or change a subscription group (body: `SubscriptionGroupConfig`).
    pub const UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: i32 = 200;
    /// All subscription groups of a broker (slaves sync them).
    pub const GET_ALL_SUBSCRIPTIONGROUP_CONFIG: i32 = 201;
    /// Min and max offsets of every queue of a topic.
    pub const GET_TOPIC_STATS_INFO: i32 = 202;
    /// The clients of a consumer group and their subscriptions.
    pub const GET_CONSUMER_CONNECTION_LIST: i32 = 203;
    /// The clients of a producer group.
    pub const GET_PRODUCER_CONNECTION_LIST: i32 = 204;
    /// Take write permission away from a broker in every route; name server.
    pub const WIPE_WRITE_PERM_OF_BROKER: i32 = 205;
    /// Every topic a name server knows.
    pub const GET_ALL_TOPIC_LIST_FROM_NAMESERVER: i32 = 206;
    /// Delete a subscription group.
    pub const DELETE_SUBSCRIPTIONGROUP: i32 = 207;
    /// A consumer group's offsets per queue and its consume rate.
    pub const GET_CONSUME_STATS: i32 = 208;
    /// Defined but never sent by 4.8.0.
    pub const SUSPEND_CONSUMER: i32 = 209;
    /// Defined but never sent by 4.8.0.
    pub const RESUME_CONSUMER: i32 = 210;
    /// Defined but never sent by 4.8.0.
    pub const RESET_CONSUMER_OFFSET_IN_CONSUMER: i32 = 211;
    /// Defined but never sent by 4.8.0.
    pub const RESET_CONSUMER_OFFSET_IN_BROKER: i32 = 212;
    /// Defined but never sent by 4.8.0.
    pub const ADJUST_CONSUMER_THREAD_POOL: i32 = 213;
    /// Defined but never sent by 4.8.0.
    pub const WHO_CONSUME_THE_MESSAGE: i32 = 214;
    /// Delete a topic on a broker.
    pub const DELETE_TOPIC_IN_BROKER: i32 = 215;
    /// Delete a topic's routes on a name server.
    pub const DELETE_TOPIC_IN_NAMESRV: i32 = 216;
    /// Every value of a KV-configuration namespace; name server.
    pub const GET_KVLIST_BY_NAMESPACE: i32 = 219;
    /// Broker to consumer: move your offsets (body: `ResetOffsetBody`).
    pub const RESET_CONSUMER_CLIENT_OFFSET: i32 = 220;
    /// Broker to consumer: report your offsets.
    pub const GET_CONSUMER_STATUS_FROM_CLIENT: i32 = 221;
    /// Admin to broker: reset a group's offsets to a time.
    pub const INVOKE_BROKER_TO_RESET_OFFSET: i32 = 222;
    /// Admin to broker: collect a group's offsets from its clients.
    pub const INVOKE_BROKER_TO_GET_CONSUMER_STATUS: i32 = 223;
    /// The groups that consume a topic.
    pub const QUERY_TOPIC_CONSUME_BY_WHO: i32 = 300;
    /// The topics of a cluster; name server.
    pub const GET_TOPICS_BY_CLUSTER: i32 = 224;
    /// A filter server announces itself to its broker.
    pub const REGISTER_FILTER_SERVER: i32 = 301;
    /// A consumer uploads a filter class to a filter server.
    pub const REGISTER_MESSAGE_FILTER_CLASS: i32 = 302;
    /// Per queue, the store times of a group's oldest, newest and consumed messages.
    pub const QUERY_CONSUME_TIME_SPAN: i32 = 303;
    /// The system topics a name server knows (cluster and broker names).
    pub const GET_SYSTEM_TOPIC_LIST_FROM_NS: i32 = 304;
    /// The system topics of a broker.
    pub const GET_SYSTEM_TOPIC_LIST_FROM_BROKER: i32 = 305;
    /// Delete consume queues whose entries all point below the commit log's first file.
    pub const CLEAN_EXPIRED_CONSUMEQUEUE: i32 = 306;
    /// The running state of one consumer, asked through its broker.
    pub const GET_CONSUMER_RUNNING_INFO: i32 = 307;
    /// Per queue, the smallest offset among some groups.
    pub const QUERY_CORRECTION_OFFSET: i32 = 308;
    /// Have one consumer consume one stored message now.
    pub const CONSUME_MESSAGE_DIRECTLY: i32 = 309;
    /// Store one message (header `SendMessageRequestHeaderV2`, one-letter keys); broker.
    pub const SEND_MESSAGE_V2: i32 = 310;
    /// Topics flagged as unit topics; name server.
    pub const GET_UNIT_TOPIC_LIST: i32 = 311;
    /// Topics with unit subscriptions; name server.
    pub const GET_HAS_UNIT_SUB_TOPIC_LIST: i32 = 312;
    /// Non-unit topics with unit subscriptions; name server.
    pub const GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST: i32 = 313;
    /// Copy one group's offsets to another group.
    pub const CLONE_GROUP_OFFSET: i32 = 314;
    /// One statistic of a broker (`mqadmin statsAll`).
    pub const VIEW_BROKER_STATS_DATA: i32 = 315;
    /// Delete consume queues of topics that no longer exist.
    pub const CLEAN_UNUSED_TOPIC: i32 = 316;
    /// Consume statistics of every group on a broker.
    pub const GET_BROKER_CONSUME_STATS: i32 = 317;
    /// Change name-server settings at runtime (body: properties text).
    pub const UPDATE_NAMESRV_CONFIG: i32 = 318;
    /// A name server's settings as properties text.
    pub const GET_NAMESRV_CONFIG: i32 = 319;
    /// Store a batch of messages (header `SendMessageRequestHeaderV2`); broker.
    pub const SEND_BATCH_MESSAGE: i32 = 320;
    /// Raw consume-queue entries of a queue (`mqadmin queryCq`).
    pub const QUERY_CONSUME_QUEUE: i32 = 321;
    /// Does the name server hold the broker's current topic configuration?
    pub const QUERY_DATA_VERSION: i32 = 322;
    /// Check a half message again although its check count ran out.
    pub const RESUME_CHECK_HALF_MESSAGE: i32 = 323;
    /// Send a reply to a request-reply call (header `SendMessageRequestHeader`).
    pub const SEND_REPLY_MESSAGE: i32 = 324;
    /// Send a reply (header `SendMessageRequestHeaderV2`).
    pub const SEND_REPLY_MESSAGE_V2: i32 = 325;
    /// Broker to requester: here is your reply.
    pub const PUSH_REPLY_MESSAGE_TO_CLIENT: i32 = 326;
}

// ANCHOR: workbook_codes
/// Request codes of the Workbook's own extensions: none of them is a 4.8.0 code (4.8.0's
/// request codes end at 326), so a 4.8.0 broker answers each with
/// REQUEST_CODE_NOT_SUPPORTED. Book: Appendix "Wire protocol" (Workbook extensions).
pub mod workbook {
    /// The store positions no 4.8.0 request returns (index files, flush position,
    /// checkpoint, a DLedger member's committed and applied index); no header, reply
    /// body JSON. Served by the broker (`processor::store_stats`), asked by the console's
    /// storage and DLedger views.
    pub const GET_STORE_STATS: i32 = 30001;
}
// ANCHOR_END: workbook_codes

// ANCHOR: response_codes
/// Response codes (`RemotingSysResponseCode` + `ResponseCode`).
pub mod response {
    /// The request succeeded.
    pub const SUCCESS: i32 = 0;
    /// The server failed; the remark says why (also a bad custom header).
    pub const SYSTEM_ERROR: i32 = 1;
    /// The server sheds load (a full queue, a busy page cache); try again.
    pub const SYSTEM_BUSY: i32 = 2;
    /// No processor serves this code.
    pub const REQUEST_CODE_NOT_SUPPORTED: i32 = 3;
    /// Defined by the remoting layer; no 4.8.0 server sends it.
    pub const TRANSACTION_FAILED: i32 = 4;
    /// Stored, but the synchronous flush did not finish in time.
    pub const FLUSH_DISK_TIMEOUT: i32 = 10;
    /// Stored, but no slave is there to replicate to (SYNC_MASTER).
    pub const SLAVE_NOT_AVAILABLE: i32 = 11;
    /// Stored, but the slave did not confirm in time (SYNC_MASTER).
    pub const FLUSH_SLAVE_TIMEOUT: i32 = 12;
    /// The message is too large, or its topic or properties are invalid.
    pub const MESSAGE_ILLEGAL: i32 = 13;
    /// The broker cannot take the request (a slave, shutting down, disk full).
    pub const SERVICE_NOT_AVAILABLE: i32 = 14;
    /// The client's version is too old for this request.
    pub const VERSION_NOT_SUPPORTED: i32 = 15;
    /// The broker or topic does not allow this (read or write permission).
    pub const NO_PERMISSION: i32 = 16;
    /// No such topic (no route, or not on this broker).
    pub const TOPIC_NOT_EXIST: i32 = 17;
    /// The topic exists already.
    pub const TOPIC_EXIST_ALREADY: i32 = 18;
    /// No new message at this offset yet.
    pub const PULL_NOT_FOUND: i32 = 19;
    /// Nothing matched the filter; pull again right away.
    pub const PULL_RETRY_IMMEDIATELY: i32 = 20;
    /// The requested offset is out of the queue's range; move to the suggested one.
    pub const PULL_OFFSET_MOVED: i32 = 21;
    /// Nothing found (no offset stored, no such KV item, no message).
    pub const QUERY_NOT_FOUND: i32 = 22;
    /// The subscription expression does not parse.
    pub const SUBSCRIPTION_PARSE_FAILED: i32 = 23;
    /// The broker has no subscription of this group to this topic.
    pub const SUBSCRIPTION_NOT_EXIST: i32 = 24;
    /// The broker's copy of the subscription is older than the client's.
    pub const SUBSCRIPTION_NOT_LATEST: i32 = 25;
    /// No such subscription group.
    pub const SUBSCRIPTION_GROUP_NOT_EXIST: i32 = 26;
    // ANCHOR_END: response_codes
    /// No filter data for this subscription (class filter).
    pub const FILTER_DATA_NOT_EXIST: i32 = 27;
    /// The filter data is older than the client's (class filter).
    pub const FILTER_DATA_NOT_LATEST: i32 = 28;
    /// Transaction check answer: commit.
    pub const TRANSACTION_SHOULD_COMMIT: i32 = 200;
    /// Transaction check answer: roll back.
    pub const TRANSACTION_SHOULD_ROLLBACK: i32 = 201;
    /// Transaction check answer: not known yet (spelled as in 4.8.0).
    pub const TRANSACTION_STATE_UNKNOW: i32 = 202;
    /// Transaction check: wrong producer group.
    pub const TRANSACTION_STATE_GROUP_WRONG: i32 = 203;
    /// Defined by 4.8.0; no 4.8.0 server sends it.
    pub const NO_BUYER_ID: i32 = 204;
    /// Defined by 4.8.0 (unit mode); no 4.8.0 server sends it.
    pub const NOT_IN_CURRENT_UNIT: i32 = 205;
    /// The consumer asked about is not connected.
    pub const CONSUMER_NOT_ONLINE: i32 = 206;
    /// The consumer did not answer in time.
    pub const CONSUME_MSG_TIMEOUT: i32 = 207;
    /// Defined by 4.8.0; no 4.8.0 server sends it.
    pub const NO_MESSAGE: i32 = 208;
    /// The ACL account could not be stored.
    pub const UPDATE_AND_CREATE_ACL_CONFIG_FAILED: i32 = 209;
    /// The ACL account could not be deleted.
    pub const DELETE_ACL_CONFIG_FAILED: i32 = 210;
    /// The white list could not be stored.
    pub const UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED: i32 = 211;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_match_known_ordinals() {
        assert_eq!(version_names().len(), 613);
        assert_eq!(version_desc(0), "V3_0_0_SNAPSHOT");
        assert_eq!(version_desc(15), "V3_0_0_FINAL");
        assert_eq!(version_desc(28), "V3_0_7_SNAPSHOT");
        assert_eq!(version_desc(37), "V3_0_11");
        assert_eq!(version_desc(62), "V3_1_8_SNAPSHOT");
        assert_eq!(version_desc(121), "V3_4_9");
        assert_eq!(version_desc(213), "V4_0_0");
        assert_eq!(version_desc(317), "V4_5_2");
        assert_eq!(version_desc(333), "V4_6_0");
        assert_eq!(version_desc(373), "V4_8_0");
        assert_eq!(version_desc(9999), "HIGHER_VERSION");
        assert_eq!(version_desc(-1), "V3_0_0_SNAPSHOT");
    }

    #[test]
    fn a_few_well_known_values() {
        assert_eq!(request::SEND_MESSAGE, 10);
        assert_eq!(request::GET_ROUTEINFO_BY_TOPIC, 105);
        assert_eq!(request::SEND_MESSAGE_V2, 310);
        assert_eq!(response::TOPIC_NOT_EXIST, 17);
        assert_eq!(response::PULL_NOT_FOUND, 19);
        assert_eq!(VERSION, 373);
    }
}
