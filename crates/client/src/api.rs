//! Every request the client sends, one function per request code: build the
//! command from typed arguments, send it, turn the reply into a typed result or
//! a `ClientError::Broker` carrying the code and remark.
//!
//! Keeping the wire details here lets the producer and consumers read as
//! algorithms. Every header is rmq-remoting's typed 4.8.0 header
//! (`protocol::header`); sends use the V2 form with the one-letter keys `a`..`m`.
//! Book: Part II "Producing" and "Consuming, long polling and rebalancing"; the
//! Appendix "Wire protocol" lists the headers. Mirrors `MQClientAPIImpl`.

use std::time::Duration;

use bytes::Bytes;
use rmq_common::message::keys;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::header::{
    ConsumerSendMsgBackRequestHeader, CreateTopicRequestHeader, EndTransactionRequestHeader,
    GetConsumerListByGroupRequestHeader, GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader,
    GetMinOffsetRequestHeader, GetMinOffsetResponseHeader, GetRouteInfoRequestHeader,
    PullMessageRequestHeader, PullMessageResponseHeader, QueryConsumerOffsetRequestHeader,
    QueryConsumerOffsetResponseHeader, SearchOffsetRequestHeader, SearchOffsetResponseHeader,
    SendMessageRequestHeader, SendMessageRequestHeaderV2, SendMessageResponseHeader,
    UnregisterClientRequestHeader, UpdateConsumerOffsetRequestHeader,
};
use rmq_remoting::protocol::{
    decode_body, encode_body, GetConsumerListByGroupResponseBody, HeartbeatData,
    LockBatchRequestBody, LockBatchResponseBody, MessageQueue, TopicConfig, TopicRouteData,
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

/// The command that sends `header` and `body` (`MQClientAPIImpl.sendMessage`): SEND_BATCH_MESSAGE
/// for a batch, SEND_REPLY_MESSAGE_V2 for a reply (`MSG_TYPE=reply`), SEND_MESSAGE_V2 otherwise,
/// always with the V2 header's one-letter keys (the Java client's default, `sendSmartMsg`).
pub fn send_command(header: &SendMessageRequestHeader, body: Bytes) -> RemotingCommand {
    let is_reply = header
        .properties
        .as_deref()
        .is_some_and(crate::producer::request::is_reply_properties);
    let code = if header.batch {
        rq::SEND_BATCH_MESSAGE
    } else if is_reply {
        // A reply goes to the broker's reply processor.
        rq::SEND_REPLY_MESSAGE_V2
    } else {
        rq::SEND_MESSAGE_V2
    };
    RemotingCommand::new_request(code)
        .with_header(&SendMessageRequestHeaderV2::from(header.clone()))
        .with_body(body)
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

/// END_TRANSACTION with `header` (`endTransactionOneway`); `remark` carries a local
/// exception, if any.
pub fn end_transaction_command(
    header: &EndTransactionRequestHeader,
    remark: Option<String>,
) -> RemotingCommand {
    let mut cmd = RemotingCommand::new_request(rq::END_TRANSACTION).with_header(header);
    cmd.remark = remark;
    cmd
}

/// GET_ROUTEINFO_BY_TOPIC for `topic` (a client's route lookup and `mqadmin topicRoute`).
pub fn topic_route_command(topic: &str) -> RemotingCommand {
    RemotingCommand::new_request(rq::GET_ROUTEINFO_BY_TOPIC).with_header(
        &GetRouteInfoRequestHeader {
            topic: topic.to_string(),
        },
    )
}

/// The request functions over one `RemotingClient`.
#[derive(Clone)]
pub struct MqClientApi {
    /// The connection pool every request goes through.
    pub remoting: RemotingClient,
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
        let reply = self
            .call(namesrv, topic_route_command(topic), timeout)
            .await?;
        match reply.code {
            rs::SUCCESS => Ok(Some(decode_body(reply.body_bytes())?)),
            rs::TOPIC_NOT_EXIST => Ok(None),
            _ => Err(ClientError::from_reply(namesrv, &reply)),
        }
    }

    /// Sends one message (or a batch) and waits for the broker's answer.
    pub async fn send_message(
        &self,
        addr: &str,
        broker_name: &str,
        header: &SendMessageRequestHeader,
        body: Bytes,
        uniq_msg_id: String,
        timeout: Duration,
    ) -> Result<SendResult> {
        let reply = self.call(addr, send_command(header, body), timeout).await?;
        let send_status = match reply.code {
            rs::SUCCESS => SendStatus::SendOk,
            rs::FLUSH_DISK_TIMEOUT => SendStatus::FlushDiskTimeout,
            rs::FLUSH_SLAVE_TIMEOUT => SendStatus::FlushSlaveTimeout,
            rs::SLAVE_NOT_AVAILABLE => SendStatus::SlaveNotAvailable,
            _ => return Err(ClientError::from_reply(addr, &reply)),
        };
        let stored: SendMessageResponseHeader = reply.decode_header()?;
        Ok(SendResult {
            send_status,
            msg_id: uniq_msg_id,
            offset_msg_id: stored.msg_id,
            message_queue: MessageQueue {
                broker_name: broker_name.to_string(),
                queue_id: stored.queue_id,
                topic: header.topic.clone(),
            },
            queue_offset: stored.queue_offset,
            transaction_id: stored.transaction_id,
            // Two keys 4.8.0's broker adds beside the header's.
            region_id: reply
                .ext(keys::MSG_REGION)
                .filter(|r| !r.is_empty())
                .unwrap_or("DefaultRegion")
                .to_string(),
            trace_on: reply.ext(keys::TRACE_ON) != Some("false"),
        })
    }

    /// Sends one message oneway: no reply, no result.
    pub async fn send_message_oneway(
        &self,
        addr: &str,
        header: &SendMessageRequestHeader,
        body: Bytes,
    ) -> Result<()> {
        Ok(self
            .remoting
            .invoke_oneway(addr, send_command(header, body))
            .await?)
    }

    /// END_TRANSACTION, oneway (as 4.8.0's `endTransactionOneway`).
    pub async fn end_transaction_oneway(
        &self,
        addr: &str,
        header: &EndTransactionRequestHeader,
        remark: Option<String>,
    ) -> Result<()> {
        Ok(self
            .remoting
            .invoke_oneway(addr, end_transaction_command(header, remark))
            .await?)
    }

    /// PULL_MESSAGE; the broker may hold the request up to `suspendTimeoutMillis`.
    pub async fn pull_message(
        &self,
        addr: &str,
        header: &PullMessageRequestHeader,
        timeout: Duration,
    ) -> Result<RawPullResult> {
        let cmd = RemotingCommand::new_request(rq::PULL_MESSAGE).with_header(header);
        let reply = self.call(addr, cmd, timeout).await?;
        let status = match reply.code {
            rs::SUCCESS => PullStatus::Found,
            rs::PULL_NOT_FOUND => PullStatus::NoNewMsg,
            rs::PULL_RETRY_IMMEDIATELY => PullStatus::NoMatchedMsg,
            rs::PULL_OFFSET_MOVED => PullStatus::OffsetIllegal,
            _ => return Err(ClientError::from_reply(addr, &reply)),
        };
        let h: PullMessageResponseHeader = reply.decode_header()?;
        Ok(RawPullResult {
            status,
            next_begin_offset: h.next_begin_offset,
            min_offset: h.min_offset,
            max_offset: h.max_offset,
            suggest_which_broker_id: h.suggest_which_broker_id,
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
        let cmd = RemotingCommand::new_request(rq::QUERY_CONSUMER_OFFSET).with_header(
            &QueryConsumerOffsetRequestHeader {
                consumer_group: group.to_string(),
                topic: mq.topic.clone(),
                queue_id: mq.queue_id,
            },
        );
        let reply = self.call(addr, cmd, timeout).await?;
        match reply.code {
            rs::SUCCESS => Ok(Some(
                reply
                    .decode_header::<QueryConsumerOffsetResponseHeader>()?
                    .offset,
            )),
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
        let cmd = RemotingCommand::new_request(rq::UPDATE_CONSUMER_OFFSET).with_header(
            &UpdateConsumerOffsetRequestHeader {
                consumer_group: group.to_string(),
                topic: mq.topic.clone(),
                queue_id: mq.queue_id,
                commit_offset: offset,
            },
        );
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
        let cmd = RemotingCommand::new_request(rq::GET_CONSUMER_LIST_BY_GROUP).with_header(
            &GetConsumerListByGroupRequestHeader {
                consumer_group: group.to_string(),
            },
        );
        let reply = self.call_ok(addr, cmd, timeout).await?;
        let body: GetConsumerListByGroupResponseBody = decode_body(reply.body_bytes())?;
        Ok(body.consumer_id_list)
    }

    /// CONSUMER_SEND_MSG_BACK: hand a failed message back for a later retry.
    pub async fn consumer_send_msg_back(
        &self,
        addr: &str,
        header: &ConsumerSendMsgBackRequestHeader,
        timeout: Duration,
    ) -> Result<()> {
        let cmd = RemotingCommand::new_request(rq::CONSUMER_SEND_MSG_BACK).with_header(header);
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
        let cmd = RemotingCommand::new_request(rq::UNREGISTER_CLIENT).with_header(
            &UnregisterClientRequestHeader {
                client_id: client_id.to_string(),
                producer_group: producer_group.map(String::from),
                consumer_group: consumer_group.map(String::from),
            },
        );
        self.call_ok(addr, cmd, timeout).await.map(|_| ())
    }

    /// GET_MAX_OFFSET: one past the last message of a queue.
    pub async fn get_max_offset(
        &self,
        addr: &str,
        mq: &MessageQueue,
        timeout: Duration,
    ) -> Result<i64> {
        let cmd = RemotingCommand::new_request(rq::GET_MAX_OFFSET).with_header(
            &GetMaxOffsetRequestHeader {
                topic: mq.topic.clone(),
                queue_id: mq.queue_id,
            },
        );
        let reply = self.call_ok(addr, cmd, timeout).await?;
        Ok(reply.decode_header::<GetMaxOffsetResponseHeader>()?.offset)
    }

    /// GET_MIN_OFFSET: the first offset still in a queue.
    pub async fn get_min_offset(
        &self,
        addr: &str,
        mq: &MessageQueue,
        timeout: Duration,
    ) -> Result<i64> {
        let cmd = RemotingCommand::new_request(rq::GET_MIN_OFFSET).with_header(
            &GetMinOffsetRequestHeader {
                topic: mq.topic.clone(),
                queue_id: mq.queue_id,
            },
        );
        let reply = self.call_ok(addr, cmd, timeout).await?;
        Ok(reply.decode_header::<GetMinOffsetResponseHeader>()?.offset)
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP: the first offset stored at or after `timestamp` (ms).
    pub async fn search_offset(
        &self,
        addr: &str,
        mq: &MessageQueue,
        timestamp: i64,
        timeout: Duration,
    ) -> Result<i64> {
        let cmd = RemotingCommand::new_request(rq::SEARCH_OFFSET_BY_TIMESTAMP).with_header(
            &SearchOffsetRequestHeader {
                topic: mq.topic.clone(),
                queue_id: mq.queue_id,
                timestamp,
            },
        );
        let reply = self.call_ok(addr, cmd, timeout).await?;
        Ok(reply.decode_header::<SearchOffsetResponseHeader>()?.offset)
    }

    /// UPDATE_AND_CREATE_TOPIC on one broker (`createTopic`, what `mqadmin updateTopic`
    /// sends): `tc` becomes the topic's configuration there, with `TBW102` as the template.
    pub async fn create_topic(
        &self,
        addr: &str,
        tc: &TopicConfig,
        timeout: Duration,
    ) -> Result<()> {
        let cmd = RemotingCommand::new_request(rq::UPDATE_AND_CREATE_TOPIC).with_header(
            &CreateTopicRequestHeader {
                topic: tc.topic_name.clone(),
                default_topic: Some(crate::util::AUTO_CREATE_TOPIC_KEY.to_string()),
                read_queue_nums: Some(tc.read_queue_nums),
                write_queue_nums: Some(tc.write_queue_nums),
                perm: Some(tc.perm),
                topic_filter_type: Some(tc.topic_filter_type.clone()),
                topic_sys_flag: Some(tc.topic_sys_flag),
                order: tc.order,
            },
        );
        self.call_ok(addr, cmd, timeout).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_remoting::protocol::header::CommandHeader;

    fn header() -> SendMessageRequestHeader {
        SendMessageRequestHeader {
            producer_group: Some("PG".into()),
            topic: "T".into(),
            default_topic: Some("TBW102".into()),
            default_topic_queue_nums: Some(4),
            queue_id: 2,
            sys_flag: Some(0),
            born_timestamp: Some(123),
            flag: Some(0),
            properties: Some("WAIT\u{1}true\u{2}".into()),
            reconsume_times: Some(0),
            unit_mode: false,
            batch: false,
            max_reconsume_times: None,
        }
    }

    #[test]
    fn sends_go_out_as_v2_and_omit_unset_fields() {
        let h = header();
        let cmd = send_command(&h, Bytes::from_static(b"x"));
        assert_eq!(cmd.code, rq::SEND_MESSAGE_V2);
        // What a broker reads back is what was meant ...
        assert_eq!(SendMessageRequestHeader::from_request(&cmd).unwrap(), h);
        // ... and it came as the V2 header: 13 fields, `max_reconsume_times` left out.
        let v2 = SendMessageRequestHeaderV2::from(h.clone()).to_ext_fields();
        assert_eq!(cmd.ext_fields, v2);
        assert_eq!(v2.len(), 12);
        let batch = SendMessageRequestHeader { batch: true, ..h };
        assert_eq!(
            send_command(&batch, Bytes::new()).code,
            rq::SEND_BATCH_MESSAGE
        );
    }

    #[test]
    fn a_reply_goes_to_the_reply_code() {
        let mut props = vec![(
            keys::MSG_TYPE.to_string(),
            rmq_common::message::REPLY_MESSAGE_FLAG.to_string(),
        )];
        props.push((keys::CORRELATION_ID.into(), "c".into()));
        let reply = SendMessageRequestHeader {
            properties: Some(rmq_common::message::encode_properties(&props)),
            ..header()
        };
        assert_eq!(
            send_command(&reply, Bytes::new()).code,
            rq::SEND_REPLY_MESSAGE_V2
        );
    }

    #[test]
    fn pull_flags() {
        assert_eq!(pull_flag::build(true, true, false, false), 0x3);
        assert_eq!(pull_flag::build(false, true, true, false), 0x6);
    }
}
