//! Which custom header each request code carries, and which its response carries: one
//! row per code of `codes::request`, in code order. A code without a request header
//! says what it carries instead (a JSON body, nothing, or nothing because 4.8.0 defines
//! the code but never sends it).
//!
//! The table is the reference the book's wire-protocol appendix prints (a test checks
//! that the book's copy matches), and tests use it to prove that every code has a row.
//! Book: Appendix "Wire protocol" (Custom headers, code by code). Mirrors the
//! `decodeCommandCustomHeader` and `createRequestCommand` calls of 4.8.0's processors and
//! `MQClientAPIImpl`.

use super::*;
use crate::codes::request;

/// What one request code carries.
#[derive(Debug, Clone, Copy)]
pub struct RequestCodeHeaders {
    /// The request code.
    pub code: i32,
    /// Its `RequestCode` constant name.
    pub name: &'static str,
    /// The request's custom header, if it has one.
    pub request: Option<HeaderInfo>,
    /// The custom header of a successful response, if it has one.
    pub response: Option<HeaderInfo>,
    /// The body, or why there is no header.
    pub note: &'static str,
}

macro_rules! info {
    (-) => {
        None
    };
    ($header:ident) => {
        Some(<$header as CommandHeader>::INFO)
    };
}

macro_rules! rows {
    ($($code:ident: $req:tt, $resp:tt, $note:literal;)*) => {
        &[$(RequestCodeHeaders {
            code: request::$code,
            name: stringify!($code),
            request: info!($req),
            response: info!($resp),
            note: $note,
        }),*]
    };
}

/// Every request code of 4.8.0, in code order.
pub static REQUEST_CODES: &[RequestCodeHeaders] = rows! {
    SEND_MESSAGE: SendMessageRequestHeader, SendMessageResponseHeader, "body: the message";
    PULL_MESSAGE: PullMessageRequestHeader, PullMessageResponseHeader, "reply body: the messages";
    QUERY_MESSAGE: QueryMessageRequestHeader, QueryMessageResponseHeader, "reply body: the messages";
    QUERY_BROKER_OFFSET: -, -, "defined, never sent by 4.8.0";
    QUERY_CONSUMER_OFFSET: QueryConsumerOffsetRequestHeader, QueryConsumerOffsetResponseHeader, "";
    UPDATE_CONSUMER_OFFSET: UpdateConsumerOffsetRequestHeader, UpdateConsumerOffsetResponseHeader, "";
    UPDATE_AND_CREATE_TOPIC: CreateTopicRequestHeader, -, "";
    GET_ALL_TOPIC_CONFIG: -, GetAllTopicConfigResponseHeader, "no parameters; reply body: `TopicConfigSerializeWrapper`";
    GET_TOPIC_CONFIG_LIST: -, -, "defined, never sent by 4.8.0";
    GET_TOPIC_NAME_LIST: -, -, "defined, never sent by 4.8.0";
    UPDATE_BROKER_CONFIG: -, -, "body: properties text";
    GET_BROKER_CONFIG: -, GetBrokerConfigResponseHeader, "no parameters; reply body: properties text";
    TRIGGER_DELETE_FILES: -, -, "defined, never sent by 4.8.0";
    GET_BROKER_RUNTIME_INFO: -, -, "no parameters; reply body: `KVTable`";
    SEARCH_OFFSET_BY_TIMESTAMP: SearchOffsetRequestHeader, SearchOffsetResponseHeader, "";
    GET_MAX_OFFSET: GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader, "";
    GET_MIN_OFFSET: GetMinOffsetRequestHeader, GetMinOffsetResponseHeader, "";
    GET_EARLIEST_MSG_STORETIME: GetEarliestMsgStoretimeRequestHeader, GetEarliestMsgStoretimeResponseHeader, "";
    VIEW_MESSAGE_BY_ID: ViewMessageRequestHeader, ViewMessageResponseHeader, "reply body: the message";
    HEART_BEAT: -, -, "body: `HeartbeatData`";
    UNREGISTER_CLIENT: UnregisterClientRequestHeader, UnregisterClientResponseHeader, "";
    CONSUMER_SEND_MSG_BACK: ConsumerSendMsgBackRequestHeader, -, "";
    END_TRANSACTION: EndTransactionRequestHeader, -, "oneway";
    GET_CONSUMER_LIST_BY_GROUP: GetConsumerListByGroupRequestHeader, GetConsumerListByGroupResponseHeader, "reply body: `GetConsumerListByGroupResponseBody`";
    CHECK_TRANSACTION_STATE: CheckTransactionStateRequestHeader, -, "broker to producer, oneway; body: the half message";
    NOTIFY_CONSUMER_IDS_CHANGED: NotifyConsumerIdsChangedRequestHeader, -, "broker to consumer, oneway";
    LOCK_BATCH_MQ: -, -, "body: `LockBatchRequestBody`";
    UNLOCK_BATCH_MQ: -, -, "body: `UnlockBatchRequestBody`";
    GET_ALL_CONSUMER_OFFSET: -, -, "no parameters; reply body: the broker's consumer offsets (slave sync)";
    GET_ALL_DELAY_OFFSET: -, -, "no parameters; reply body: the delay offsets (slave sync)";
    CHECK_CLIENT_CONFIG: -, -, "body: `CheckClientRequestBody`";
    UPDATE_AND_CREATE_ACL_CONFIG: CreateAccessConfigRequestHeader, -, "";
    DELETE_ACL_CONFIG: DeleteAccessConfigRequestHeader, -, "";
    GET_BROKER_CLUSTER_ACL_INFO: -, GetBrokerAclConfigResponseHeader, "no parameters";
    UPDATE_GLOBAL_WHITE_ADDRS_CONFIG: UpdateGlobalWhiteAddrsConfigRequestHeader, -, "";
    GET_BROKER_CLUSTER_ACL_CONFIG: -, GetBrokerClusterAclConfigResponseHeader, "no parameters; reply body: `GetBrokerClusterAclConfigResponseBody`";
    PUT_KV_CONFIG: PutKVConfigRequestHeader, -, "";
    GET_KV_CONFIG: GetKVConfigRequestHeader, GetKVConfigResponseHeader, "";
    DELETE_KV_CONFIG: DeleteKVConfigRequestHeader, -, "";
    REGISTER_BROKER: RegisterBrokerRequestHeader, RegisterBrokerResponseHeader, "body: `RegisterBrokerBody`";
    UNREGISTER_BROKER: UnRegisterBrokerRequestHeader, -, "";
    GET_ROUTEINFO_BY_TOPIC: GetRouteInfoRequestHeader, -, "reply body: `TopicRouteData`";
    GET_BROKER_CLUSTER_INFO: -, -, "no parameters; reply body: `ClusterInfo`";
    UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: -, -, "body: `SubscriptionGroupConfig`";
    GET_ALL_SUBSCRIPTIONGROUP_CONFIG: -, -, "no parameters; reply body: `SubscriptionGroupWrapper`";
    GET_TOPIC_STATS_INFO: GetTopicStatsInfoRequestHeader, -, "reply body: `TopicStatsTable`";
    GET_CONSUMER_CONNECTION_LIST: GetConsumerConnectionListRequestHeader, -, "reply body: `ConsumerConnection`";
    GET_PRODUCER_CONNECTION_LIST: GetProducerConnectionListRequestHeader, -, "reply body: `ProducerConnection`";
    WIPE_WRITE_PERM_OF_BROKER: WipeWritePermOfBrokerRequestHeader, WipeWritePermOfBrokerResponseHeader, "";
    GET_ALL_TOPIC_LIST_FROM_NAMESERVER: -, -, "no parameters; reply body: `TopicList`";
    DELETE_SUBSCRIPTIONGROUP: DeleteSubscriptionGroupRequestHeader, -, "";
    GET_CONSUME_STATS: GetConsumeStatsRequestHeader, -, "reply body: `ConsumeStats`";
    SUSPEND_CONSUMER: -, -, "defined, never sent by 4.8.0";
    RESUME_CONSUMER: -, -, "defined, never sent by 4.8.0";
    RESET_CONSUMER_OFFSET_IN_CONSUMER: -, -, "defined, never sent by 4.8.0";
    RESET_CONSUMER_OFFSET_IN_BROKER: -, -, "defined, never sent by 4.8.0";
    ADJUST_CONSUMER_THREAD_POOL: -, -, "defined, never sent by 4.8.0";
    WHO_CONSUME_THE_MESSAGE: -, -, "defined, never sent by 4.8.0";
    DELETE_TOPIC_IN_BROKER: DeleteTopicRequestHeader, -, "";
    DELETE_TOPIC_IN_NAMESRV: DeleteTopicInNamesrvRequestHeader, -, "";
    GET_KVLIST_BY_NAMESPACE: GetKVListByNamespaceRequestHeader, -, "reply body: `KVTable`";
    RESET_CONSUMER_CLIENT_OFFSET: ResetOffsetRequestHeader, -, "broker to consumer; body: `ResetOffsetBody`";
    GET_CONSUMER_STATUS_FROM_CLIENT: GetConsumerStatusRequestHeader, -, "broker to consumer; reply body: `GetConsumerStatusBody`";
    INVOKE_BROKER_TO_RESET_OFFSET: ResetOffsetRequestHeader, -, "reply body: `ResetOffsetBody`";
    INVOKE_BROKER_TO_GET_CONSUMER_STATUS: GetConsumerStatusRequestHeader, -, "reply body: `GetConsumerStatusBody`";
    GET_TOPICS_BY_CLUSTER: GetTopicsByClusterRequestHeader, -, "reply body: `TopicList`";
    QUERY_TOPIC_CONSUME_BY_WHO: QueryTopicConsumeByWhoRequestHeader, -, "reply body: `GroupList`";
    REGISTER_FILTER_SERVER: RegisterFilterServerRequestHeader, RegisterFilterServerResponseHeader, "";
    REGISTER_MESSAGE_FILTER_CLASS: RegisterMessageFilterClassRequestHeader, -, "to a filter server; body: the class source";
    QUERY_CONSUME_TIME_SPAN: QueryConsumeTimeSpanRequestHeader, -, "reply body: `QueryConsumeTimeSpanBody`";
    GET_SYSTEM_TOPIC_LIST_FROM_NS: -, -, "no parameters; reply body: `TopicList`";
    GET_SYSTEM_TOPIC_LIST_FROM_BROKER: -, -, "no parameters; reply body: `TopicList`";
    CLEAN_EXPIRED_CONSUMEQUEUE: -, -, "no parameters";
    GET_CONSUMER_RUNNING_INFO: GetConsumerRunningInfoRequestHeader, -, "reply body: `ConsumerRunningInfo`";
    QUERY_CORRECTION_OFFSET: QueryCorrectionOffsetHeader, -, "reply body: `QueryCorrectionOffsetBody`";
    CONSUME_MESSAGE_DIRECTLY: ConsumeMessageDirectlyResultRequestHeader, -, "reply body: `ConsumeMessageDirectlyResult`";
    SEND_MESSAGE_V2: SendMessageRequestHeaderV2, SendMessageResponseHeader, "body: the message";
    GET_UNIT_TOPIC_LIST: -, -, "no parameters; reply body: `TopicList`";
    GET_HAS_UNIT_SUB_TOPIC_LIST: -, -, "no parameters; reply body: `TopicList`";
    GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST: -, -, "no parameters; reply body: `TopicList`";
    CLONE_GROUP_OFFSET: CloneGroupOffsetRequestHeader, -, "";
    VIEW_BROKER_STATS_DATA: ViewBrokerStatsDataRequestHeader, -, "reply body: `BrokerStatsData`";
    CLEAN_UNUSED_TOPIC: -, -, "no parameters";
    GET_BROKER_CONSUME_STATS: GetConsumeStatsInBrokerHeader, -, "reply body: `ConsumeStatsList`";
    UPDATE_NAMESRV_CONFIG: -, -, "body: properties text";
    GET_NAMESRV_CONFIG: -, -, "no parameters; reply body: properties text";
    SEND_BATCH_MESSAGE: SendMessageRequestHeaderV2, SendMessageResponseHeader, "body: the encoded batch";
    QUERY_CONSUME_QUEUE: QueryConsumeQueueRequestHeader, -, "reply body: `QueryConsumeQueueResponseBody`";
    QUERY_DATA_VERSION: QueryDataVersionRequestHeader, QueryDataVersionResponseHeader, "body: `DataVersion`";
    RESUME_CHECK_HALF_MESSAGE: ResumeCheckHalfMessageRequestHeader, -, "";
    SEND_REPLY_MESSAGE: SendMessageRequestHeader, SendMessageResponseHeader, "body: the reply";
    SEND_REPLY_MESSAGE_V2: SendMessageRequestHeaderV2, SendMessageResponseHeader, "body: the reply";
    PUSH_REPLY_MESSAGE_TO_CLIENT: ReplyMessageRequestHeader, -, "broker to requester; body: the reply";
};

/// Every header type, in the order the book's appendix lists them (by first use in
/// [`REQUEST_CODES`], then the ones no code uses).
pub static ALL_HEADERS: &[HeaderInfo] = &[
    SendMessageRequestHeader::INFO,
    SendMessageRequestHeaderV2::INFO,
    SendMessageResponseHeader::INFO,
    PullMessageRequestHeader::INFO,
    PullMessageResponseHeader::INFO,
    QueryMessageRequestHeader::INFO,
    QueryMessageResponseHeader::INFO,
    QueryConsumerOffsetRequestHeader::INFO,
    QueryConsumerOffsetResponseHeader::INFO,
    UpdateConsumerOffsetRequestHeader::INFO,
    UpdateConsumerOffsetResponseHeader::INFO,
    CreateTopicRequestHeader::INFO,
    GetAllTopicConfigResponseHeader::INFO,
    GetBrokerConfigResponseHeader::INFO,
    SearchOffsetRequestHeader::INFO,
    SearchOffsetResponseHeader::INFO,
    GetMaxOffsetRequestHeader::INFO,
    GetMaxOffsetResponseHeader::INFO,
    GetMinOffsetRequestHeader::INFO,
    GetMinOffsetResponseHeader::INFO,
    GetEarliestMsgStoretimeRequestHeader::INFO,
    GetEarliestMsgStoretimeResponseHeader::INFO,
    ViewMessageRequestHeader::INFO,
    ViewMessageResponseHeader::INFO,
    UnregisterClientRequestHeader::INFO,
    UnregisterClientResponseHeader::INFO,
    ConsumerSendMsgBackRequestHeader::INFO,
    EndTransactionRequestHeader::INFO,
    GetConsumerListByGroupRequestHeader::INFO,
    GetConsumerListByGroupResponseHeader::INFO,
    CheckTransactionStateRequestHeader::INFO,
    NotifyConsumerIdsChangedRequestHeader::INFO,
    CreateAccessConfigRequestHeader::INFO,
    DeleteAccessConfigRequestHeader::INFO,
    GetBrokerAclConfigResponseHeader::INFO,
    UpdateGlobalWhiteAddrsConfigRequestHeader::INFO,
    GetBrokerClusterAclConfigResponseHeader::INFO,
    PutKVConfigRequestHeader::INFO,
    GetKVConfigRequestHeader::INFO,
    GetKVConfigResponseHeader::INFO,
    DeleteKVConfigRequestHeader::INFO,
    RegisterBrokerRequestHeader::INFO,
    RegisterBrokerResponseHeader::INFO,
    UnRegisterBrokerRequestHeader::INFO,
    GetRouteInfoRequestHeader::INFO,
    GetTopicStatsInfoRequestHeader::INFO,
    GetConsumerConnectionListRequestHeader::INFO,
    GetProducerConnectionListRequestHeader::INFO,
    WipeWritePermOfBrokerRequestHeader::INFO,
    WipeWritePermOfBrokerResponseHeader::INFO,
    DeleteSubscriptionGroupRequestHeader::INFO,
    GetConsumeStatsRequestHeader::INFO,
    DeleteTopicRequestHeader::INFO,
    DeleteTopicInNamesrvRequestHeader::INFO,
    GetKVListByNamespaceRequestHeader::INFO,
    ResetOffsetRequestHeader::INFO,
    GetConsumerStatusRequestHeader::INFO,
    QueryTopicConsumeByWhoRequestHeader::INFO,
    GetTopicsByClusterRequestHeader::INFO,
    RegisterFilterServerRequestHeader::INFO,
    RegisterFilterServerResponseHeader::INFO,
    RegisterMessageFilterClassRequestHeader::INFO,
    QueryConsumeTimeSpanRequestHeader::INFO,
    GetConsumerRunningInfoRequestHeader::INFO,
    QueryCorrectionOffsetHeader::INFO,
    ConsumeMessageDirectlyResultRequestHeader::INFO,
    CloneGroupOffsetRequestHeader::INFO,
    ViewBrokerStatsDataRequestHeader::INFO,
    GetConsumeStatsInBrokerHeader::INFO,
    QueryConsumeQueueRequestHeader::INFO,
    QueryDataVersionRequestHeader::INFO,
    QueryDataVersionResponseHeader::INFO,
    ResumeCheckHalfMessageRequestHeader::INFO,
    ReplyMessageRequestHeader::INFO,
    // Defined by 4.8.0, used by no request code:
    EndTransactionResponseHeader::INFO,
    CheckTransactionStateResponseHeader::INFO,
    RegisterOrderTopicRequestHeader::INFO,
];

/// The row of `code`, if 4.8.0 defines it.
pub fn headers_of(code: i32) -> Option<&'static RequestCodeHeaders> {
    REQUEST_CODES.iter().find(|row| row.code == code)
}
