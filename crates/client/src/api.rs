//! Every request the client sends, one function per request code: build the
//! command from typed arguments, send it, turn the reply into a typed result or
//! a `ClientError::Broker` carrying the code and remark.
//!
//! Keeping the wire details here lets the producer and consumers read as
//! algorithms. Header field names are 4.8.0's (`SEND_MESSAGE_V2` uses the
//! one-letter keys `a`..`m`).
//! Book: Part II "Producing" and "Consuming, long polling and rebalancing"; the
//! Appendix "Wire protocol" lists the headers. Mirrors `MQClientAPIImpl`.

use std::time::Duration;

use bytes::Bytes;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::{
    decode_body, encode_body, GetConsumerListByGroupResponseBody, HeartbeatData,
    LockBatchRequestBody, LockBatchResponseBody, MessageQueue, TopicRouteData,
};
use rmq_remoting::{RemotingClient, RemotingCommand};

use crate::error::{ClientError, Result};

/// How a sent message was stored (`SendStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStatus {
    /// Stored (and flushed / replicated as the broker's mode requires).
    SendOk,
    /// Stored, but a synchronous flush did not finish in time (FLUSH_DISK_TIMEOUT).
    FlushDiskTimeout,
    /// Stored, but the slave did not confirm in time (FLUSH_SLAVE_TIMEOUT).
    FlushSlaveTimeout,
    /// Stored, but a SYNC_MASTER has no slave to replicate to (SLAVE_NOT_AVAILABLE).
    SlaveNotAvailable,
}

impl SendStatus {
    /// The Java enum constant's name (`SEND_OK`, ...), as tools print it.
    pub fn name(self) -> &'static str {
        match self {
            SendStatus::SendOk => "SEND_OK",
            SendStatus::FlushDiskTimeout => "FLUSH_DISK_TIMEOUT",
            SendStatus::FlushSlaveTimeout => "FLUSH_SLAVE_TIMEOUT",
            SendStatus::SlaveNotAvailable => "SLAVE_NOT_AVAILABLE",
        }
    }
}

/// The outcome of a send (`SendResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResult {
    /// How the broker stored it.
    pub send_status: SendStatus,
    /// The producer's unique id (`UNIQ_KEY`); comma-joined for a batch.
    pub msg_id: String,
    /// The broker's offset id(s), as the broker returned them.
    pub offset_msg_id: String,
    /// The queue it went to (the broker's `queueId` from the reply).
    pub message_queue: MessageQueue,
    /// Consume-queue offset of the (first) stored message.
    pub queue_offset: i64,
    /// The reply's `transactionId` (transactional sends).
    pub transaction_id: Option<String>,
    /// The broker's `MSG_REGION`, `DefaultRegion` when it sends none.
    pub region_id: String,
    /// Whether the broker allows message traces (`TRACE_ON` is not `false`).
    pub trace_on: bool,
}

/// `SendMessageRequestHeader`; written with the V2 one-letter keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendHeader {
    /// `a`: the producer group.
    pub producer_group: String,
    /// `b`: the topic.
    pub topic: String,
    /// `c`: the topic whose config an auto-created topic copies (`TBW102`).
    pub default_topic: String,
    /// `d`: queue count of an auto-created topic.
    pub default_topic_queue_nums: i32,
    /// `e`: the queue to store into.
    pub queue_id: i32,
    /// `f`: `MessageSysFlag` bits (compressed, transaction type).
    pub sys_flag: i32,
    /// `g`: when the producer made the request, ms since the epoch.
    pub born_timestamp: i64,
    /// `h`: the message's user flag.
    pub flag: i32,
    /// `i`: the properties in their wire form (`k\u{1}v\u{2}...`).
    pub properties: String,
    /// `j`: how often a retried message was consumed before (retry topics only).
    pub reconsume_times: Option<i32>,
    /// `k`: unit mode (always false here).
    pub unit_mode: bool,
    /// `l`: the group's max reconsume times (retry topics only).
    pub max_reconsume_times: Option<i32>,
    /// `m`: the body is a batch of encoded messages (SEND_BATCH_MESSAGE).
    pub batch: bool,
}

impl SendHeader {
    /// SEND_MESSAGE_V2 (or SEND_BATCH_MESSAGE) with this header and `body`.
    pub fn to_command(&self, body: Bytes) -> RemotingCommand {
        let code = if self.batch {
            rq::SEND_BATCH_MESSAGE
        } else if crate::producer::request::is_reply_properties(&self.properties) {
            // A reply (MSG_TYPE=reply) goes to the broker's reply processor.
            rq::SEND_REPLY_MESSAGE_V2
        } else {
            rq::SEND_MESSAGE_V2
        };
        let mut cmd = RemotingCommand::new_request(code)
            .with_ext("a", &self.producer_group)
            .with_ext("b", &self.topic)
            .with_ext("c", &self.default_topic)
            .with_ext("d", self.default_topic_queue_nums)
            .with_ext("e", self.queue_id)
            .with_ext("f", self.sys_flag)
            .with_ext("g", self.born_timestamp)
            .with_ext("h", self.flag)
            .with_ext("i", &self.properties)
            .with_ext("k", self.unit_mode)
            .with_ext("m", self.batch)
            .with_body(body);
        if let Some(n) = self.reconsume_times {
            cmd.put_ext("j", n);
        }
        if let Some(n) = self.max_reconsume_times {
            cmd.put_ext("l", n);
        }
        cmd
    }
}

/// How a pull went (`PullStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStatus {
    /// Messages came back (SUCCESS).
    Found,
    /// Nothing at or after the offset yet (PULL_NOT_FOUND).
    NoNewMsg,
    /// Messages were there but the broker's filter dropped them all (PULL_RETRY_IMMEDIATELY).
    NoMatchedMsg,
    /// The offset is outside the queue's range (PULL_OFFSET_MOVED).
    OffsetIllegal,
}

impl PullStatus {
    /// The Java enum constant's name (`FOUND`, `NO_NEW_MSG`, ...), as tools print it.
    pub fn name(self) -> &'static str {
        match self {
            PullStatus::Found => "FOUND",
            PullStatus::NoNewMsg => "NO_NEW_MSG",
            PullStatus::NoMatchedMsg => "NO_MATCHED_MSG",
            PullStatus::OffsetIllegal => "OFFSET_ILLEGAL",
        }
    }
}

/// A pull reply before decoding (`PullResultExt`).
#[derive(Debug, Clone)]
pub struct RawPullResult {
    /// What the broker found.
    pub status: PullStatus,
    /// The offset to pull from next.
    pub next_begin_offset: i64,
    /// The queue's smallest offset.
    pub min_offset: i64,
    /// One past the queue's last offset.
    pub max_offset: i64,
    /// The broker id to pull this queue from next time (0 = master).
    pub suggest_which_broker_id: i64,
    /// The stored records, back to back (empty unless `Found`).
    pub body: Bytes,
}

/// `PullMessageRequestHeader`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullHeader {
    /// The pulling group.
    pub consumer_group: String,
    /// The topic.
    pub topic: String,
    /// The queue.
    pub queue_id: i32,
    /// The first offset wanted.
    pub queue_offset: i64,
    /// At most this many messages.
    pub max_msg_nums: i32,
    /// [`pull_flag`] bits.
    pub sys_flag: i32,
    /// The group's offset to store on the way (with `pull_flag::COMMIT_OFFSET`).
    pub commit_offset: i64,
    /// How long the broker may hold the request (with `pull_flag::SUSPEND`), ms.
    pub suspend_timeout_millis: i64,
    /// The subscription expression (tags or SQL92).
    pub subscription: String,
    /// The subscription's version (its creation time).
    pub sub_version: i64,
    /// `TAG` or `SQL92`.
    pub expression_type: String,
}

/// `PullSysFlag` bits.
pub mod pull_flag {
    /// Store the header's `commitOffset` as the group's offset.
    pub const COMMIT_OFFSET: i32 = 0x1;
    /// The broker may hold the request until a message arrives (long polling).
    pub const SUSPEND: i32 = 0x2;
    /// The header carries the subscription (no heartbeat needed for it).
    pub const SUBSCRIPTION: i32 = 0x4;
    /// Class filter mode (filter servers; not used by 4.8.0's default clients).
    pub const CLASS_FILTER: i32 = 0x8;

    /// The flag word for these four switches (`PullSysFlag.buildSysFlag`).
    pub fn build(
        commit_offset: bool,
        suspend: bool,
        subscription: bool,
        class_filter: bool,
    ) -> i32 {
        let mut f = 0;
        if commit_offset {
            f |= COMMIT_OFFSET;
        }
        if suspend {
            f |= SUSPEND;
        }
        if subscription {
            f |= SUBSCRIPTION;
        }
        if class_filter {
            f |= CLASS_FILTER;
        }
        f
    }
}

/// `ConsumerSendMsgBackRequestHeader`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendBackHeader {
    /// The message's commit-log offset.
    pub offset: i64,
    /// The consumer group that failed it.
    pub group: String,
    /// The delay level of the retry (0: the broker picks 3 + reconsume times).
    pub delay_level: i32,
    /// The message's id.
    pub origin_msg_id: String,
    /// The message's topic.
    pub origin_topic: String,
    /// After this many retries the message goes to the group's `%DLQ%` topic.
    pub max_reconsume_times: i32,
}

// ANCHOR: end_transaction_header
/// `EndTransactionRequestHeader`: a producer's verdict on one half message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndTransactionHeader {
    /// The producer's group.
    pub producer_group: String,
    /// Queue offset of the half in the broker's half queue.
    pub tran_state_table_offset: i64,
    /// Commit-log offset of the half.
    pub commit_log_offset: i64,
    /// 0 unknown, 8 commit, 12 rollback (`MessageSysFlag` transaction types).
    pub commit_or_rollback: i32,
    /// True when answering a CHECK_TRANSACTION_STATE.
    pub from_transaction_check: bool,
    /// The message's `UNIQ_KEY`.
    pub msg_id: String,
    /// The `transactionId` the broker returned for the half message, if any (sent back as is).
    pub transaction_id: Option<String>,
}
// ANCHOR_END: end_transaction_header

impl EndTransactionHeader {
    /// END_TRANSACTION with this header; `remark` carries a local exception, if any.
    pub fn to_command(&self, remark: Option<String>) -> RemotingCommand {
        let mut cmd = RemotingCommand::new_request(rq::END_TRANSACTION)
            .with_ext("producerGroup", &self.producer_group)
            .with_ext("tranStateTableOffset", self.tran_state_table_offset)
            .with_ext("commitLogOffset", self.commit_log_offset)
            .with_ext("commitOrRollback", self.commit_or_rollback)
            .with_ext("fromTransactionCheck", self.from_transaction_check)
            .with_ext("msgId", &self.msg_id);
        if let Some(id) = &self.transaction_id {
            cmd.put_ext("transactionId", id);
        }
        cmd.remark = remark;
        cmd
    }
}

/// The request functions over one `RemotingClient`.
#[derive(Clone)]
pub struct MqClientApi {
    /// The connection pool every request goes through.
    pub remoting: RemotingClient,
}

fn ext_i64(reply: &RemotingCommand, key: &str) -> Result<i64> {
    Ok(reply.required_i64(key)?)
}

impl MqClientApi {
    /// The request functions over `remoting`.
    pub fn new(remoting: RemotingClient) -> Self {
        MqClientApi { remoting }
    }

    async fn call(
        &self,
        addr: &str,
        cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        Ok(self.remoting.invoke(addr, cmd, timeout).await?)
    }

    async fn call_ok(
        &self,
        addr: &str,
        cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        let reply = self.call(addr, cmd, timeout).await?;
        if reply.code != rs::SUCCESS {
            return Err(ClientError::from_reply(addr, &reply));
        }
        Ok(reply)
    }

    /// GET_ROUTEINFO_BY_TOPIC; `Ok(None)` when the name server knows no such topic.
    pub async fn get_topic_route(
        &self,
        namesrv: &str,
        topic: &str,
        timeout: Duration,
    ) -> Result<Option<TopicRouteData>> {
        let cmd = RemotingCommand::new_request(rq::GET_ROUTEINFO_BY_TOPIC).with_ext("topic", topic);
        let reply = self.call(namesrv, cmd, timeout).await?;
        match reply.code {
            rs::SUCCESS => Ok(Some(decode_body(reply.body_bytes())?)),
            rs::TOPIC_NOT_EXIST => Ok(None),
            _ => Err(ClientError::from_reply(namesrv, &reply)),
        }
    }

    // ANCHOR: send_message
    /// Sends one message (or a batch) and waits for the broker's answer.
    pub async fn send_message(
        &self,
        addr: &str,
        broker_name: &str,
        header: &SendHeader,
        body: Bytes,
        uniq_msg_id: String,
        timeout: Duration,
    ) -> Result<SendResult> {
        let reply = self.call(addr, header.to_command(body), timeout).await?;
        let send_status = match reply.code {
            rs::SUCCESS => SendStatus::SendOk,
            rs::FLUSH_DISK_TIMEOUT => SendStatus::FlushDiskTimeout,
            rs::FLUSH_SLAVE_TIMEOUT => SendStatus::FlushSlaveTimeout,
            rs::SLAVE_NOT_AVAILABLE => SendStatus::SlaveNotAvailable,
            _ => return Err(ClientError::from_reply(addr, &reply)),
        };
        Ok(SendResult {
            send_status,
            msg_id: uniq_msg_id,
            offset_msg_id: reply.ext("msgId").unwrap_or_default().to_string(),
            message_queue: MessageQueue {
                broker_name: broker_name.to_string(),
                queue_id: reply.required_i32("queueId")?,
                topic: header.topic.clone(),
            },
            queue_offset: ext_i64(&reply, "queueOffset")?,
            transaction_id: reply.ext("transactionId").map(str::to_string),
            region_id: reply
                .ext("MSG_REGION")
                .filter(|r| !r.is_empty())
                .unwrap_or("DefaultRegion")
                .to_string(),
            trace_on: reply.ext("TRACE_ON") != Some("false"),
        })
    }
    // ANCHOR_END: send_message

    /// Sends one message oneway: no reply, no result.
    pub async fn send_message_oneway(
        &self,
        addr: &str,
        header: &SendHeader,
        body: Bytes,
    ) -> Result<()> {
        Ok(self
            .remoting
            .invoke_oneway(addr, header.to_command(body))
            .await?)
    }

    /// END_TRANSACTION, oneway (as 4.8.0's `endTransactionOneway`).
    pub async fn end_transaction_oneway(
        &self,
        addr: &str,
        header: &EndTransactionHeader,
        remark: Option<String>,
    ) -> Result<()> {
        Ok(self
            .remoting
            .invoke_oneway(addr, header.to_command(remark))
            .await?)
    }

    /// PULL_MESSAGE; the broker may hold the request up to `suspendTimeoutMillis`.
    pub async fn pull_message(
        &self,
        addr: &str,
        h: &PullHeader,
        timeout: Duration,
    ) -> Result<RawPullResult> {
        let cmd = RemotingCommand::new_request(rq::PULL_MESSAGE)
            .with_ext("consumerGroup", &h.consumer_group)
            .with_ext("topic", &h.topic)
            .with_ext("queueId", h.queue_id)
            .with_ext("queueOffset", h.queue_offset)
            .with_ext("maxMsgNums", h.max_msg_nums)
            .with_ext("sysFlag", h.sys_flag)
            .with_ext("commitOffset", h.commit_offset)
            .with_ext("suspendTimeoutMillis", h.suspend_timeout_millis)
            .with_ext("subscription", &h.subscription)
            .with_ext("subVersion", h.sub_version)
            .with_ext("expressionType", &h.expression_type);
        let reply = self.call(addr, cmd, timeout).await?;
        let status = match reply.code {
            rs::SUCCESS => PullStatus::Found,
            rs::PULL_NOT_FOUND => PullStatus::NoNewMsg,
            rs::PULL_RETRY_IMMEDIATELY => PullStatus::NoMatchedMsg,
            rs::PULL_OFFSET_MOVED => PullStatus::OffsetIllegal,
            _ => return Err(ClientError::from_reply(addr, &reply)),
        };
        Ok(RawPullResult {
            status,
            next_begin_offset: ext_i64(&reply, "nextBeginOffset")?,
            min_offset: ext_i64(&reply, "minOffset")?,
            max_offset: ext_i64(&reply, "maxOffset")?,
            suggest_which_broker_id: reply.ext_i64("suggestWhichBrokerId")?.unwrap_or(0),
            body: reply.body.clone().unwrap_or_default(),
        })
    }

    /// QUERY_CONSUMER_OFFSET; `Ok(None)` when the broker has no offset (code 22).
    pub async fn query_consumer_offset(
        &self,
        addr: &str,
        group: &str,
        mq: &MessageQueue,
        timeout: Duration,
    ) -> Result<Option<i64>> {
        let cmd = RemotingCommand::new_request(rq::QUERY_CONSUMER_OFFSET)
            .with_ext("consumerGroup", group)
            .with_ext("topic", &mq.topic)
            .with_ext("queueId", mq.queue_id);
        let reply = self.call(addr, cmd, timeout).await?;
        match reply.code {
            rs::SUCCESS => Ok(Some(ext_i64(&reply, "offset")?)),
            rs::QUERY_NOT_FOUND => Ok(None),
            _ => Err(ClientError::from_reply(addr, &reply)),
        }
    }

    /// UPDATE_CONSUMER_OFFSET, oneway (the periodic path) or acknowledged.
    pub async fn update_consumer_offset(
        &self,
        addr: &str,
        group: &str,
        mq: &MessageQueue,
        offset: i64,
        oneway: bool,
        timeout: Duration,
    ) -> Result<()> {
        let cmd = RemotingCommand::new_request(rq::UPDATE_CONSUMER_OFFSET)
            .with_ext("consumerGroup", group)
            .with_ext("topic", &mq.topic)
            .with_ext("queueId", mq.queue_id)
            .with_ext("commitOffset", offset);
        if oneway {
            Ok(self.remoting.invoke_oneway(addr, cmd).await?)
        } else {
            self.call_ok(addr, cmd, timeout).await.map(|_| ())
        }
    }

    /// GET_CONSUMER_LIST_BY_GROUP: the client ids of the group's live consumers.
    pub async fn get_consumer_id_list(
        &self,
        addr: &str,
        group: &str,
        timeout: Duration,
    ) -> Result<Vec<String>> {
        let cmd = RemotingCommand::new_request(rq::GET_CONSUMER_LIST_BY_GROUP)
            .with_ext("consumerGroup", group);
        let reply = self.call_ok(addr, cmd, timeout).await?;
        let body: GetConsumerListByGroupResponseBody = decode_body(reply.body_bytes())?;
        Ok(body.consumer_id_list)
    }

    /// CONSUMER_SEND_MSG_BACK: hand a failed message back for a later retry.
    pub async fn consumer_send_msg_back(
        &self,
        addr: &str,
        h: &SendBackHeader,
        timeout: Duration,
    ) -> Result<()> {
        let cmd = RemotingCommand::new_request(rq::CONSUMER_SEND_MSG_BACK)
            .with_ext("offset", h.offset)
            .with_ext("group", &h.group)
            .with_ext("delayLevel", h.delay_level)
            .with_ext("originMsgId", &h.origin_msg_id)
            .with_ext("originTopic", &h.origin_topic)
            .with_ext("unitMode", false)
            .with_ext("maxReconsumeTimes", h.max_reconsume_times);
        self.call_ok(addr, cmd, timeout).await.map(|_| ())
    }

    /// LOCK_BATCH_MQ: returns the queues this client now holds.
    pub async fn lock_batch_mq(
        &self,
        addr: &str,
        body: &LockBatchRequestBody,
        timeout: Duration,
    ) -> Result<Vec<MessageQueue>> {
        let cmd = RemotingCommand::new_request(rq::LOCK_BATCH_MQ).with_body(encode_body(body)?);
        let reply = self.call_ok(addr, cmd, timeout).await?;
        let body: LockBatchResponseBody = decode_body(reply.body_bytes())?;
        Ok(body.lock_ok_mq_set)
    }

    /// UNLOCK_BATCH_MQ.
    pub async fn unlock_batch_mq(
        &self,
        addr: &str,
        body: &LockBatchRequestBody,
        timeout: Duration,
    ) -> Result<()> {
        let cmd = RemotingCommand::new_request(rq::UNLOCK_BATCH_MQ).with_body(encode_body(body)?);
        self.call_ok(addr, cmd, timeout).await.map(|_| ())
    }

    /// HEART_BEAT; returns the broker's version from the reply.
    pub async fn send_heartbeat(
        &self,
        addr: &str,
        data: &HeartbeatData,
        timeout: Duration,
    ) -> Result<i32> {
        let cmd = RemotingCommand::new_request(rq::HEART_BEAT).with_body(encode_body(data)?);
        let reply = self.call_ok(addr, cmd, timeout).await?;
        Ok(reply.version)
    }

    /// CHECK_CLIENT_CONFIG (46): asks a broker whether it accepts a (SQL92) subscription;
    /// a refusal comes back as [`ClientError::Broker`] with 4.8.0's code and remark.
    pub async fn check_client_config(
        &self,
        addr: &str,
        group: &str,
        client_id: &str,
        sub: &rmq_remoting::protocol::SubscriptionData,
        timeout: Duration,
    ) -> Result<()> {
        let body = serde_json::json!({
            "clientId": client_id,
            "group": group,
            "subscriptionData": sub,
        });
        let cmd = RemotingCommand::new_request(rq::CHECK_CLIENT_CONFIG)
            .with_body(Bytes::from(serde_json::to_vec(&body)?));
        self.call_ok(addr, cmd, timeout).await.map(|_| ())
    }

    /// UNREGISTER_CLIENT for one producer or consumer group.
    pub async fn unregister_client(
        &self,
        addr: &str,
        client_id: &str,
        producer_group: Option<&str>,
        consumer_group: Option<&str>,
        timeout: Duration,
    ) -> Result<()> {
        let mut cmd =
            RemotingCommand::new_request(rq::UNREGISTER_CLIENT).with_ext("clientID", client_id);
        if let Some(g) = producer_group {
            cmd.put_ext("producerGroup", g);
        }
        if let Some(g) = consumer_group {
            cmd.put_ext("consumerGroup", g);
        }
        self.call_ok(addr, cmd, timeout).await.map(|_| ())
    }

    /// GET_MAX_OFFSET: one past the last message of a queue.
    pub async fn get_max_offset(
        &self,
        addr: &str,
        mq: &MessageQueue,
        timeout: Duration,
    ) -> Result<i64> {
        self.queue_offset_request(rq::GET_MAX_OFFSET, addr, mq, timeout)
            .await
    }

    /// GET_MIN_OFFSET.
    pub async fn get_min_offset(
        &self,
        addr: &str,
        mq: &MessageQueue,
        timeout: Duration,
    ) -> Result<i64> {
        self.queue_offset_request(rq::GET_MIN_OFFSET, addr, mq, timeout)
            .await
    }

    async fn queue_offset_request(
        &self,
        code: i32,
        addr: &str,
        mq: &MessageQueue,
        timeout: Duration,
    ) -> Result<i64> {
        let cmd = RemotingCommand::new_request(code)
            .with_ext("topic", &mq.topic)
            .with_ext("queueId", mq.queue_id);
        let reply = self.call_ok(addr, cmd, timeout).await?;
        ext_i64(&reply, "offset")
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP.
    pub async fn search_offset(
        &self,
        addr: &str,
        mq: &MessageQueue,
        timestamp: i64,
        timeout: Duration,
    ) -> Result<i64> {
        let cmd = RemotingCommand::new_request(rq::SEARCH_OFFSET_BY_TIMESTAMP)
            .with_ext("topic", &mq.topic)
            .with_ext("queueId", mq.queue_id)
            .with_ext("timestamp", timestamp);
        let reply = self.call_ok(addr, cmd, timeout).await?;
        ext_i64(&reply, "offset")
    }

    /// UPDATE_AND_CREATE_TOPIC on one broker (what `mqadmin updateTopic` sends).
    pub async fn create_topic(
        &self,
        addr: &str,
        topic: &str,
        queue_nums: i32,
        perm: i32,
        order: bool,
        timeout: Duration,
    ) -> Result<()> {
        let cmd = RemotingCommand::new_request(rq::UPDATE_AND_CREATE_TOPIC)
            .with_ext("topic", topic)
            .with_ext("defaultTopic", crate::util::AUTO_CREATE_TOPIC_KEY)
            .with_ext("readQueueNums", queue_nums)
            .with_ext("writeQueueNums", queue_nums)
            .with_ext("perm", perm)
            .with_ext("topicFilterType", "SINGLE_TAG")
            .with_ext("topicSysFlag", 0)
            .with_ext("order", order);
        self.call_ok(addr, cmd, timeout).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_header_uses_one_letter_keys_and_omits_unset_fields() {
        let h = SendHeader {
            producer_group: "PG".into(),
            topic: "T".into(),
            default_topic: "TBW102".into(),
            default_topic_queue_nums: 4,
            queue_id: 2,
            sys_flag: 0,
            born_timestamp: 123,
            flag: 0,
            properties: "WAIT\u{1}true\u{2}".into(),
            reconsume_times: Some(0),
            unit_mode: false,
            max_reconsume_times: None,
            batch: false,
        };
        let cmd = h.to_command(Bytes::from_static(b"x"));
        assert_eq!(cmd.code, rq::SEND_MESSAGE_V2);
        assert_eq!(cmd.ext("a"), Some("PG"));
        assert_eq!(cmd.ext("e"), Some("2"));
        assert_eq!(cmd.ext("g"), Some("123"));
        assert_eq!(cmd.ext("j"), Some("0"));
        assert_eq!(cmd.ext("l"), None);
        assert_eq!(cmd.ext("m"), Some("false"));
        assert_eq!(cmd.ext("n"), None, "4.8.0 has no brokerName key");
        let batch = SendHeader { batch: true, ..h };
        assert_eq!(batch.to_command(Bytes::new()).code, rq::SEND_BATCH_MESSAGE);
    }

    #[test]
    fn pull_flags() {
        assert_eq!(pull_flag::build(true, true, false, false), 0x3);
        assert_eq!(pull_flag::build(false, true, true, false), 0x6);
    }
}
