//! Headers of sending: SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320),
//! SEND_REPLY_MESSAGE (324/325), their response, and PUSH_REPLY_MESSAGE_TO_CLIENT (326).
//!
//! The V2 header is the V1 header with one-letter keys (`a` = producerGroup, ... `m` =
//! batch), which 4.8.0 introduced to make the JSON header shorter; a broker converts it to
//! V1 first thing. [`SendMessageRequestHeader::from_request`] does that conversion for
//! whichever code arrived.
//! Book: Part II "Producing: the send path and message ids" and Appendix "Wire protocol". Mirrors
//! `SendMessageRequestHeader`, `SendMessageRequestHeaderV2` (with its
//! `createSendMessageRequestHeaderV1/V2`), `SendMessageResponseHeader`,
//! `ReplyMessageRequestHeader` and `AbstractSendMessageProcessor.parseRequestHeader`.

use crate::codes::request;
use crate::command::RemotingCommand;
use crate::error::HeaderError;

command_header! {
    /// What a producer sends with SEND_MESSAGE (10) and SEND_REPLY_MESSAGE (324). The
    /// message body is the command's body; everything else about the message is here.
    SendMessageRequestHeader {
        /// The producer group of the sender. `@CFNotNull` in 4.8.0; optional here, like
        /// the five fields marked so below, because our broker serves a send without it
        /// (these fields: the empty group).
        producer_group: String = "producerGroup", optional;
        /// The topic the message goes to.
        topic: String = "topic", required;
        /// The topic whose configuration a topic created on first use copies
        /// (`TBW102`). `@CFNotNull` in 4.8.0; optional (see `producer_group`): absent
        /// creates no topic.
        default_topic: String = "defaultTopic", optional;
        /// How many queues a topic created on first use gets. `@CFNotNull` in 4.8.0;
        /// optional (see `producer_group`): absent means 4.
        default_topic_queue_nums: i32 = "defaultTopicQueueNums", optional;
        /// The queue the producer chose; a negative value lets the broker choose.
        queue_id: i32 = "queueId", required;
        /// `MessageSysFlag` bits: compressed body, multi tags, transaction type.
        /// `@CFNotNull` in 4.8.0; optional (see `producer_group`): absent means 0.
        sys_flag: i32 = "sysFlag", optional;
        /// When the producer created the message, in ms since the epoch. `@CFNotNull` in
        /// 4.8.0; optional (see `producer_group`): absent means 0.
        born_timestamp: i64 = "bornTimestamp", optional;
        /// The user's message flag, stored as is. `@CFNotNull` in 4.8.0; optional (see
        /// `producer_group`): absent means 0.
        flag: i32 = "flag", optional;
        /// The message properties as one string (`name\u{1}value\u{2}...`).
        properties: String = "properties", optional;
        /// How many times the message was consumed before (set when a consumer sends a
        /// message back to a `%RETRY%` topic).
        reconsume_times: i32 = "reconsumeTimes", optional;
        /// Unit mode (a topic name carries a unit prefix); unused by the open-source broker.
        unit_mode: bool = "unitMode", default false;
        /// The body is a batch of messages (SEND_BATCH_MESSAGE).
        batch: bool = "batch", default false;
        /// After how many failed consumptions the message goes to the dead-letter queue.
        max_reconsume_times: i32 = "maxReconsumeTimes", optional;
    }

    /// [`SendMessageRequestHeader`] with one-letter keys, sent with SEND_MESSAGE_V2 (310),
    /// SEND_BATCH_MESSAGE (320) and SEND_REPLY_MESSAGE_V2 (325). The Java client sends it
    /// unless the system property `org.apache.rocketmq.client.sendSmartMsg` is false.
    SendMessageRequestHeaderV2 {
        /// `producerGroup` (optional here as in [`SendMessageRequestHeader`]).
        producer_group: String = "a", optional;
        /// `topic`.
        topic: String = "b", required;
        /// `defaultTopic` (optional here as in [`SendMessageRequestHeader`]).
        default_topic: String = "c", optional;
        /// `defaultTopicQueueNums` (optional here as in [`SendMessageRequestHeader`]).
        default_topic_queue_nums: i32 = "d", optional;
        /// `queueId`.
        queue_id: i32 = "e", required;
        /// `sysFlag` (optional here as in [`SendMessageRequestHeader`]).
        sys_flag: i32 = "f", optional;
        /// `bornTimestamp` (ms since the epoch; optional here as in
        /// [`SendMessageRequestHeader`]).
        born_timestamp: i64 = "g", optional;
        /// `flag` (optional here as in [`SendMessageRequestHeader`]).
        flag: i32 = "h", optional;
        /// `properties`.
        properties: String = "i", optional;
        /// `reconsumeTimes`.
        reconsume_times: i32 = "j", optional;
        /// `unitMode`.
        unit_mode: bool = "k", default false;
        /// `maxReconsumeTimes` (Java calls the field `consumeRetryTimes` in a comment).
        max_reconsume_times: i32 = "l", optional;
        /// `batch`.
        batch: bool = "m", default false;
    }

    /// The broker's answer to a send: where the message was stored. Besides these keys a
    /// 4.8.0 broker adds `MSG_REGION` and `TRACE_ON` to the extFields.
    SendMessageResponseHeader {
        /// The offset message id (store host + commit-log offset, 32 hex digits).
        msg_id: String = "msgId", required;
        /// The queue the message went to.
        queue_id: i32 = "queueId", required;
        /// The message's offset in that queue.
        queue_offset: i64 = "queueOffset", required;
        /// The transaction id (the unique key) of a half message.
        transaction_id: String = "transactionId", optional;
    }

    /// PUSH_REPLY_MESSAGE_TO_CLIENT (326): a broker hands a reply message to the requester
    /// that waits for it. The reply's body is the command's body.
    ReplyMessageRequestHeader {
        /// The producer group of the replier.
        producer_group: String = "producerGroup", required;
        /// The reply topic (`<cluster>_REPLY_TOPIC`).
        topic: String = "topic", required;
        /// As in [`SendMessageRequestHeader::default_topic`].
        default_topic: String = "defaultTopic", required;
        /// As in [`SendMessageRequestHeader::default_topic_queue_nums`].
        default_topic_queue_nums: i32 = "defaultTopicQueueNums", required;
        /// The queue the reply was sent to.
        queue_id: i32 = "queueId", required;
        /// `MessageSysFlag` bits of the reply.
        sys_flag: i32 = "sysFlag", required;
        /// When the replier created the reply (ms since the epoch).
        born_timestamp: i64 = "bornTimestamp", required;
        /// The user's message flag.
        flag: i32 = "flag", required;
        /// The reply's properties string.
        properties: String = "properties", optional;
        /// As in [`SendMessageRequestHeader::reconsume_times`].
        reconsume_times: i32 = "reconsumeTimes", optional;
        /// As in [`SendMessageRequestHeader::unit_mode`].
        unit_mode: bool = "unitMode", default false;
        /// The replier's address, `ip:port`.
        born_host: String = "bornHost", required;
        /// The broker's address, `ip:port`.
        store_host: String = "storeHost", required;
        /// When the broker received the reply (ms since the epoch).
        store_timestamp: i64 = "storeTimestamp", default 0;
    }
}

impl From<SendMessageRequestHeaderV2> for SendMessageRequestHeader {
    /// `createSendMessageRequestHeaderV1`.
    fn from(v2: SendMessageRequestHeaderV2) -> Self {
        SendMessageRequestHeader {
            producer_group: v2.producer_group,
            topic: v2.topic,
            default_topic: v2.default_topic,
            default_topic_queue_nums: v2.default_topic_queue_nums,
            queue_id: v2.queue_id,
            sys_flag: v2.sys_flag,
            born_timestamp: v2.born_timestamp,
            flag: v2.flag,
            properties: v2.properties,
            reconsume_times: v2.reconsume_times,
            unit_mode: v2.unit_mode,
            batch: v2.batch,
            max_reconsume_times: v2.max_reconsume_times,
        }
    }
}

impl From<SendMessageRequestHeader> for SendMessageRequestHeaderV2 {
    /// `createSendMessageRequestHeaderV2`.
    fn from(v1: SendMessageRequestHeader) -> Self {
        SendMessageRequestHeaderV2 {
            producer_group: v1.producer_group,
            topic: v1.topic,
            default_topic: v1.default_topic,
            default_topic_queue_nums: v1.default_topic_queue_nums,
            queue_id: v1.queue_id,
            sys_flag: v1.sys_flag,
            born_timestamp: v1.born_timestamp,
            flag: v1.flag,
            properties: v1.properties,
            reconsume_times: v1.reconsume_times,
            unit_mode: v1.unit_mode,
            max_reconsume_times: v1.max_reconsume_times,
            batch: v1.batch,
        }
    }
}

impl SendMessageRequestHeader {
    /// Reads the send header of any send request: the V2 form for SEND_MESSAGE_V2,
    /// SEND_BATCH_MESSAGE and SEND_REPLY_MESSAGE_V2, the V1 form for every other code
    /// (`parseRequestHeader`). A V2 header arrives converted to V1.
    pub fn from_request(cmd: &RemotingCommand) -> Result<Self, HeaderError> {
        match cmd.code {
            request::SEND_MESSAGE_V2
            | request::SEND_BATCH_MESSAGE
            | request::SEND_REPLY_MESSAGE_V2 => cmd
                .decode_header::<SendMessageRequestHeaderV2>()
                .map(SendMessageRequestHeader::from),
            _ => cmd.decode_header(),
        }
    }
}
