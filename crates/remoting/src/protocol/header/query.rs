//! Headers of reading a broker's store without consuming: QUERY_MESSAGE (12, by key),
//! VIEW_MESSAGE_BY_ID (33, by commit-log offset), SEARCH_OFFSET_BY_TIMESTAMP (29),
//! GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), GET_EARLIEST_MSG_STORETIME (32) and
//! QUERY_CONSUME_QUEUE (321), with their response headers.
//! Book: Part I "IndexFile" and Part II "Consumer offsets". Mirrors
//! `QueryMessageRequestHeader`, `QueryMessageResponseHeader`, `ViewMessageRequestHeader`,
//! `ViewMessageResponseHeader`, `SearchOffsetRequestHeader`, `SearchOffsetResponseHeader`,
//! `GetMaxOffsetRequestHeader`, `GetMaxOffsetResponseHeader`, `GetMinOffsetRequestHeader`,
//! `GetMinOffsetResponseHeader`, `GetEarliestMsgStoretimeRequestHeader`,
//! `GetEarliestMsgStoretimeResponseHeader`, `QueryConsumeQueueRequestHeader`.

/// The extra QUERY_MESSAGE key (`MixAll.UNIQUE_MSG_QUERY_FLAG`) that asks for a
/// unique-key lookup: `"true"` there means `key` is a message's `UNIQ_KEY`.
pub const UNIQUE_KEY_QUERY: &str = "_UNIQUE_KEY_QUERY";

command_header! {
    /// QUERY_MESSAGE (12): messages of a topic whose key (or unique key) matches, from
    /// the index files. An extra key [`UNIQUE_KEY_QUERY`] = `true` asks for a unique-key
    /// lookup (one message).
    QueryMessageRequestHeader {
        /// The topic.
        topic: String = "topic", required;
        /// The key to look up.
        key: String = "key", required;
        /// At most this many messages. `@CFNotNull` in 4.8.0; optional here because our
        /// broker reads an absent value as 32.
        max_num: i32 = "maxNum", optional;
        /// Only messages stored at or after this time (ms since the epoch).
        /// `@CFNotNull` in 4.8.0; optional here because our broker reads an absent value
        /// as 0 (no lower bound).
        begin_timestamp: i64 = "beginTimestamp", optional;
        /// Only messages stored at or before this time (ms since the epoch).
        /// `@CFNotNull` in 4.8.0; optional here because our broker reads an absent value
        /// as no upper bound.
        end_timestamp: i64 = "endTimestamp", optional;
    }

    /// The response header of QUERY_MESSAGE (the messages are the body).
    QueryMessageResponseHeader {
        /// When the index was last updated (ms since the epoch).
        index_last_update_timestamp: i64 = "indexLastUpdateTimestamp", required;
        /// The commit-log offset the index covers.
        index_last_update_phyoffset: i64 = "indexLastUpdatePhyoffset", required;
    }

    /// VIEW_MESSAGE_BY_ID (33): the message stored at a commit-log offset (the offset is
    /// half of an offset message id).
    ViewMessageRequestHeader {
        /// The commit-log offset.
        offset: i64 = "offset", required;
    }

    /// The response header of VIEW_MESSAGE_BY_ID; it has no fields.
    ViewMessageResponseHeader {}

    /// SEARCH_OFFSET_BY_TIMESTAMP (29): the queue offset of the first message stored at or
    /// after a time.
    SearchOffsetRequestHeader {
        /// The topic.
        topic: String = "topic", required;
        /// The queue.
        queue_id: i32 = "queueId", required;
        /// The time, in ms since the epoch.
        timestamp: i64 = "timestamp", required;
    }

    /// The response header of SEARCH_OFFSET_BY_TIMESTAMP.
    SearchOffsetResponseHeader {
        /// The queue offset found.
        offset: i64 = "offset", required;
    }

    /// GET_MAX_OFFSET (30): the offset after the last message of a queue.
    GetMaxOffsetRequestHeader {
        /// The topic.
        topic: String = "topic", required;
        /// The queue.
        queue_id: i32 = "queueId", required;
    }

    /// The response header of GET_MAX_OFFSET.
    GetMaxOffsetResponseHeader {
        /// The queue's max offset.
        offset: i64 = "offset", required;
    }

    /// GET_MIN_OFFSET (31): the smallest offset still in a queue.
    GetMinOffsetRequestHeader {
        /// The topic.
        topic: String = "topic", required;
        /// The queue.
        queue_id: i32 = "queueId", required;
    }

    /// The response header of GET_MIN_OFFSET.
    GetMinOffsetResponseHeader {
        /// The queue's min offset.
        offset: i64 = "offset", required;
    }

    /// GET_EARLIEST_MSG_STORETIME (32): when the oldest message of a queue was stored.
    GetEarliestMsgStoretimeRequestHeader {
        /// The topic.
        topic: String = "topic", required;
        /// The queue.
        queue_id: i32 = "queueId", required;
    }

    /// The response header of GET_EARLIEST_MSG_STORETIME.
    GetEarliestMsgStoretimeResponseHeader {
        /// The store time of the oldest message (ms since the epoch).
        timestamp: i64 = "timestamp", required;
    }

    /// QUERY_CONSUME_QUEUE (321): raw consume-queue entries of a queue, for
    /// `mqadmin queryCq`. No field is annotated in 4.8.0.
    QueryConsumeQueueRequestHeader {
        /// The topic.
        topic: String = "topic", optional;
        /// The queue.
        queue_id: i32 = "queueId", default 0;
        /// The first consume-queue index (queue offset) to return.
        index: i64 = "index", default 0;
        /// How many entries.
        count: i32 = "count", default 0;
        /// A consumer group whose subscription filters the entries (optional).
        consumer_group: String = "consumerGroup", optional;
    }
}
