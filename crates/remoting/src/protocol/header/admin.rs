//! Headers of the broker's administration requests, the ones `mqadmin` and the console
//! send: topics, subscription groups, statistics, connections, offsets between groups.
//!
//! Codes without a header here (GET_ALL_TOPIC_CONFIG, UPDATE_BROKER_CONFIG,
//! UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, ...) carry no parameters or a JSON body; see
//! [`super::table`].
//! Book: Part II "Topics and queues" and Appendix "Wire protocol". Mirrors
//! `CreateTopicRequestHeader`, `DeleteTopicRequestHeader`, `GetAllTopicConfigResponseHeader`,
//! `GetBrokerConfigResponseHeader`, `DeleteSubscriptionGroupRequestHeader`,
//! `GetTopicStatsInfoRequestHeader`, `GetConsumerConnectionListRequestHeader`,
//! `GetProducerConnectionListRequestHeader`, `GetConsumeStatsRequestHeader`,
//! `GetConsumeStatsInBrokerHeader`, `QueryTopicConsumeByWhoRequestHeader`,
//! `QueryConsumeTimeSpanRequestHeader`, `QueryCorrectionOffsetHeader`,
//! `CloneGroupOffsetRequestHeader`, `ViewBrokerStatsDataRequestHeader`.

use crate::error::HeaderError;

/// The values `TopicFilterType` has (`topicFilterType` must name one).
pub const TOPIC_FILTER_TYPES: [&str; 2] = ["SINGLE_TAG", "MULTI_TAG"];

command_header! {
    /// UPDATE_AND_CREATE_TOPIC (17): create a topic on a broker, or change it.
    CreateTopicRequestHeader check create_topic_check {
        /// The topic name.
        topic: String = "topic", required;
        /// The template topic (`TBW102`); the broker does not read it. `@CFNotNull` in
        /// 4.8.0; optional here because our broker never needs it.
        default_topic: String = "defaultTopic", optional;
        /// Number of read queues. `@CFNotNull` in 4.8.0; optional here because our
        /// broker reads an absent value as 16.
        read_queue_nums: i32 = "readQueueNums", optional;
        /// Number of write queues. `@CFNotNull` in 4.8.0; optional here because our
        /// broker reads an absent value as 16.
        write_queue_nums: i32 = "writeQueueNums", optional;
        /// Permission bits (`PermName`: 4 read, 2 write, 1 inherit). `@CFNotNull` in
        /// 4.8.0; optional here because our broker reads an absent value as 6 (read and
        /// write).
        perm: i32 = "perm", optional;
        /// `SINGLE_TAG` or `MULTI_TAG` (a value is checked). `@CFNotNull` in 4.8.0, which
        /// refuses an absent value as invalid; optional here because our broker reads an
        /// absent or empty value as `SINGLE_TAG`.
        topic_filter_type: String = "topicFilterType", optional;
        /// `TopicSysFlag` bits (unit topics).
        topic_sys_flag: i32 = "topicSysFlag", optional;
        /// The topic is ordered.
        order: bool = "order", default false;
    }

    /// DELETE_TOPIC_IN_BROKER (215): delete a topic and its queues on a broker.
    DeleteTopicRequestHeader {
        /// The topic name.
        topic: String = "topic", required;
    }

    /// The response header of GET_ALL_TOPIC_CONFIG (21); it has no fields (the topics
    /// are the body).
    GetAllTopicConfigResponseHeader {}

    /// The response header of GET_BROKER_CONFIG (26): the properties are the body.
    GetBrokerConfigResponseHeader {
        /// The broker's configuration `DataVersion`, as JSON.
        version: String = "version", required;
    }

    /// DELETE_SUBSCRIPTIONGROUP (207): delete a subscription group's configuration.
    DeleteSubscriptionGroupRequestHeader {
        /// The group name.
        group_name: String = "groupName", required;
    }

    /// GET_TOPIC_STATS_INFO (202): min/max offsets of every queue of a topic.
    GetTopicStatsInfoRequestHeader {
        /// The topic.
        topic: String = "topic", required;
    }

    /// GET_CONSUMER_CONNECTION_LIST (203): the clients of a consumer group and their
    /// subscriptions.
    GetConsumerConnectionListRequestHeader {
        /// The consumer group.
        consumer_group: String = "consumerGroup", required;
    }

    /// GET_PRODUCER_CONNECTION_LIST (204): the clients of a producer group.
    GetProducerConnectionListRequestHeader {
        /// The producer group.
        producer_group: String = "producerGroup", required;
    }

    /// GET_CONSUME_STATS (208): a group's broker and consumer offsets per queue, and its
    /// consume rate.
    GetConsumeStatsRequestHeader {
        /// The consumer group.
        consumer_group: String = "consumerGroup", required;
        /// Only this topic; absent or empty means every topic the group consumes.
        topic: String = "topic", optional;
    }

    /// GET_BROKER_CONSUME_STATS (317): consume statistics of every group on a broker
    /// (`mqadmin brokerConsumeStats`).
    GetConsumeStatsInBrokerHeader {
        /// Only ordered topics.
        is_order: bool = "isOrder", default false;
    }

    /// QUERY_TOPIC_CONSUME_BY_WHO (300): the groups that consume a topic.
    QueryTopicConsumeByWhoRequestHeader {
        /// The topic. `@CFNotNull` in 4.8.0; optional here because our broker answers an
        /// absent topic with the groups of the empty topic name (none).
        topic: String = "topic", optional;
    }

    /// QUERY_CONSUME_TIME_SPAN (303): per queue, the store times of the oldest, newest
    /// and last consumed message of a group.
    QueryConsumeTimeSpanRequestHeader {
        /// The topic.
        topic: String = "topic", required;
        /// The consumer group.
        group: String = "group", required;
    }

    /// QUERY_CORRECTION_OFFSET (308): per queue, the smallest offset among some groups,
    /// to correct a group that fell behind (`mqadmin cloneGroupOffset` tooling).
    QueryCorrectionOffsetHeader {
        /// Groups to leave out, separated by commas.
        filter_groups: String = "filterGroups", optional;
        /// The group to compare with.
        compare_group: String = "compareGroup", required;
        /// The topic.
        topic: String = "topic", required;
    }

    /// CLONE_GROUP_OFFSET (314): copy one group's offsets to another group.
    CloneGroupOffsetRequestHeader {
        /// The group to copy from.
        src_group: String = "srcGroup", required;
        /// The group to copy to.
        dest_group: String = "destGroup", required;
        /// Only this topic; absent means every topic of the source group.
        topic: String = "topic", optional;
        /// The source group is offline (read offsets from the store, not from consumers).
        offline: bool = "offline", default false;
    }

    /// VIEW_BROKER_STATS_DATA (315): one statistic of a broker (`mqadmin statsAll`).
    ViewBrokerStatsDataRequestHeader {
        /// The statistic, e.g. `TOPIC_PUT_NUMS` or `GROUP_GET_NUMS`.
        stats_name: String = "statsName", required;
        /// Its key: a topic, or `topic@group`.
        stats_key: String = "statsKey", required;
    }
}

/// `CreateTopicRequestHeader.checkFields`: a filter type must name a `TopicFilterType`,
/// with 4.8.0's message. Absent or empty passes (4.8.0 refuses it as `[null]`; see the
/// field).
fn create_topic_check(h: &CreateTopicRequestHeader) -> Result<(), HeaderError> {
    match h.topic_filter_type.as_deref() {
        None | Some("") => Ok(()),
        Some(t) if TOPIC_FILTER_TYPES.contains(&t) => Ok(()),
        Some(t) => Err(HeaderError::Check(format!(
            "topicFilterType = [{t}] value invalid"
        ))),
    }
}
