//! Headers a consumer sends to a broker: PULL_MESSAGE (11), QUERY_CONSUMER_OFFSET (14),
//! UPDATE_CONSUMER_OFFSET (15), UNREGISTER_CLIENT (35), CONSUMER_SEND_MSG_BACK (36) and
//! GET_CONSUMER_LIST_BY_GROUP (38), with their response headers.
//!
//! HEART_BEAT (34), LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42) carry everything in the
//! body instead (see `protocol::heartbeat` and `protocol::admin`).
//! Book: Part II "Consuming: pull and long polling" and "Consumer offsets". Mirrors `PullMessageRequestHeader`,
//! `PullMessageResponseHeader`, `QueryConsumerOffsetRequestHeader`,
//! `QueryConsumerOffsetResponseHeader`, `UpdateConsumerOffsetRequestHeader`,
//! `UpdateConsumerOffsetResponseHeader`, `UnregisterClientRequestHeader`,
//! `UnregisterClientResponseHeader`, `ConsumerSendMsgBackRequestHeader`,
//! `GetConsumerListByGroupRequestHeader`, `GetConsumerListByGroupResponseHeader`.

command_header! {
    // ANCHOR: pull_header
    /// PULL_MESSAGE (11): read messages from one queue, starting at an offset, waiting
    /// (long polling) when there are none yet.
    PullMessageRequestHeader {
        /// The consumer group that pulls.
        consumer_group: String = "consumerGroup", required;
        /// The topic to read.
        topic: String = "topic", required;
        /// The queue to read.
        queue_id: i32 = "queueId", required;
        /// The first queue offset wanted.
        queue_offset: i64 = "queueOffset", required;
        /// At most this many messages.
        max_msg_nums: i32 = "maxMsgNums", required;
        /// `PullSysFlag` bits: commit offset, suspend, subscription, class filter.
        sys_flag: i32 = "sysFlag", required;
        /// The consumer's offset to store on the way (used when the commit-offset flag
        /// is set). `@CFNotNull` in 4.8.0; optional here because our broker reads an
        /// absent value as 0 (a pull without the commit-offset flag needs none).
        commit_offset: i64 = "commitOffset", optional;
        /// How long the broker may hold the pull when nothing is there (used when the
        /// suspend flag is set), in ms. `@CFNotNull` in 4.8.0; optional here because our
        /// broker reads an absent value as 15 000 ms, the Java consumer's default.
        suspend_timeout_millis: i64 = "suspendTimeoutMillis", optional;
        /// The subscription expression (a tag expression or SQL92), sent when the
        /// subscription flag is set.
        subscription: String = "subscription", optional;
        /// The version of the consumer's subscription (compared with the broker's copy).
        /// `@CFNotNull` in 4.8.0; optional here because our broker reads an absent value
        /// as 0 (older than any registered subscription).
        sub_version: i64 = "subVersion", optional;
        /// `TAG` or `SQL92`; absent means `TAG`.
        expression_type: String = "expressionType", optional;
    }
    // ANCHOR_END: pull_header

    /// The response header of PULL_MESSAGE (the messages are the body).
    PullMessageResponseHeader {
        /// The broker id the consumer should pull this queue from next (0 = master).
        suggest_which_broker_id: i64 = "suggestWhichBrokerId", required;
        /// The queue offset to pull from next.
        next_begin_offset: i64 = "nextBeginOffset", required;
        /// The smallest offset still in the queue.
        min_offset: i64 = "minOffset", required;
        /// The offset after the last message in the queue.
        max_offset: i64 = "maxOffset", required;
    }

    /// QUERY_CONSUMER_OFFSET (14): the stored offset of a group in one queue.
    QueryConsumerOffsetRequestHeader {
        /// The consumer group.
        consumer_group: String = "consumerGroup", required;
        /// The topic.
        topic: String = "topic", required;
        /// The queue.
        queue_id: i32 = "queueId", required;
    }

    /// The response header of QUERY_CONSUMER_OFFSET (on SUCCESS; QUERY_NOT_FOUND has none).
    QueryConsumerOffsetResponseHeader {
        /// The stored consumer offset.
        offset: i64 = "offset", required;
    }

    /// UPDATE_CONSUMER_OFFSET (15): store a group's offset in one queue (usually oneway).
    UpdateConsumerOffsetRequestHeader {
        /// The consumer group.
        consumer_group: String = "consumerGroup", required;
        /// The topic.
        topic: String = "topic", required;
        /// The queue.
        queue_id: i32 = "queueId", required;
        /// The offset to store: the next message the group will consume.
        commit_offset: i64 = "commitOffset", required;
    }

    /// The response header of UPDATE_CONSUMER_OFFSET; it has no fields.
    UpdateConsumerOffsetResponseHeader {}

    /// UNREGISTER_CLIENT (35): a client leaves a producer group, a consumer group, or both.
    UnregisterClientRequestHeader {
        /// The client id (`ip@instanceName`).
        client_id: String = "clientID", required;
        /// The producer group it leaves.
        producer_group: String = "producerGroup", optional;
        /// The consumer group it leaves.
        consumer_group: String = "consumerGroup", optional;
    }

    /// The response header of UNREGISTER_CLIENT; it has no fields.
    UnregisterClientResponseHeader {}

    /// CONSUMER_SEND_MSG_BACK (36): a consumer could not consume a message; the broker
    /// stores it again in the group's `%RETRY%` topic with a delay, or in its `%DLQ%`
    /// topic after too many attempts.
    ConsumerSendMsgBackRequestHeader {
        /// The message's commit-log offset.
        offset: i64 = "offset", required;
        /// The consumer group.
        group: String = "group", required;
        /// The delay level of the retry (0: the broker picks 3 + reconsume times; below
        /// 0: straight to the dead-letter queue). `@CFNotNull` in 4.8.0; optional here
        /// because our broker reads an absent value as 0.
        delay_level: i32 = "delayLevel", optional;
        /// The original message id.
        origin_msg_id: String = "originMsgId", optional;
        /// The original topic.
        origin_topic: String = "originTopic", optional;
        /// Unit mode; unused by the open-source broker.
        unit_mode: bool = "unitMode", default false;
        /// After how many attempts the message goes to the dead-letter queue (read from
        /// clients of version 3.4.9 and later).
        max_reconsume_times: i32 = "maxReconsumeTimes", optional;
    }

    /// GET_CONSUMER_LIST_BY_GROUP (38): the client ids in a consumer group (for
    /// rebalancing).
    GetConsumerListByGroupRequestHeader {
        /// The consumer group.
        consumer_group: String = "consumerGroup", required;
    }

    /// The response header of GET_CONSUMER_LIST_BY_GROUP; it has no fields (the ids are
    /// the body).
    GetConsumerListByGroupResponseHeader {}
}
