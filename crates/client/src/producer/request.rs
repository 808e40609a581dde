//! Request-reply (RPC over messages): a producer sends a request message and waits for the
//! one reply message that answers it.
//!
//! The requester stamps three properties on the request: `CORRELATION_ID` (a fresh UUID),
//! `REPLY_TO_CLIENT` (its own client id) and `TTL` (its timeout in ms), registers a waiter
//! under the correlation id in the instance's [`RequestFutureTable`], and sends the request
//! as an ordinary message. A responder consumes it, builds the answer with
//! [`create_reply_message`] (topic `<cluster>_REPLY_TOPIC`, the three properties copied,
//! `MSG_TYPE=reply`) and sends it; a message with `MSG_TYPE=reply` travels as
//! SEND_REPLY_MESSAGE_V2 (325). The broker pushes it down the requester's connection with
//! PUSH_REPLY_MESSAGE_TO_CLIENT (326), and `broker_calls` hands it to the waiter.
//!
//! Every waiter owns its timer and removes itself from the table however it ends (reply,
//! timeout, send failure, or the caller dropping the future), so the table never holds a dead
//! entry; 4.8.0 instead scans its static table once a second for expired entries.
//! Book: Part II "Request-reply". Mirrors `DefaultMQProducerImpl.request*` /
//! `prepareSendRequest` / `waitResponse`, `RequestFutureTable`, `RequestResponseFuture`,
//! `CorrelationIdUtil` and `MessageUtil.createReplyMessage`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use rmq_common::message::{reply_topic, MessageExt, REPLY_MESSAGE_FLAG};
use rmq_remoting::protocol::MessageQueue;
use tokio::sync::oneshot;
use tracing::{debug, warn};

use super::{CommunicationMode, Producer};
use crate::error::{ClientError, Result};
use crate::message::{keys, Message};

// ANCHOR: future_table
/// Requests waiting for their reply, by correlation id (`RequestFutureTable`).
#[derive(Default)]
pub struct RequestFutureTable {
    waiters: Mutex<HashMap<String, oneshot::Sender<MessageExt>>>,
}

/// A registered request; dropping it unregisters the correlation id.
pub struct PendingReply {
    table: Arc<RequestFutureTable>,
    correlation_id: String,
    rx: oneshot::Receiver<MessageExt>,
}

impl RequestFutureTable {
    /// Registers a waiter for `correlation_id`.
    pub fn register(self: &Arc<Self>, correlation_id: &str) -> PendingReply {
        let (tx, rx) = oneshot::channel();
        self.waiters.lock().insert(correlation_id.to_string(), tx);
        PendingReply {
            table: self.clone(),
            correlation_id: correlation_id.to_string(),
            rx,
        }
    }

    /// Hands a reply to its waiter; false when no request waits for this id (unknown,
    /// already answered, or timed out).
    pub fn complete(&self, correlation_id: &str, reply: MessageExt) -> bool {
        match self.waiters.lock().remove(correlation_id) {
            Some(tx) => tx.send(reply).is_ok(),
            None => false,
        }
    }

    /// How many requests are waiting.
    pub fn len(&self) -> usize {
        self.waiters.lock().len()
    }

    /// Whether no request is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PendingReply {
    /// Waits up to `timeout` for the reply; `None` on timeout.
    pub async fn wait(mut self, timeout: Duration) -> Option<MessageExt> {
        tokio::time::timeout(timeout, &mut self.rx).await.ok()?.ok()
    }
}

impl Drop for PendingReply {
    fn drop(&mut self) {
        self.table.waiters.lock().remove(&self.correlation_id);
    }
}
// ANCHOR_END: future_table

/// A fresh random (version 4) UUID in its usual text form (`CorrelationIdUtil`).
pub fn new_correlation_id() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

// ANCHOR: create_reply_message
/// Builds the reply to a request message (`MessageUtil.createReplyMessage`): topic
/// `<CLUSTER>_REPLY_TOPIC` (the broker stamps `CLUSTER` on every stored message), the
/// request's `CORRELATION_ID`, `REPLY_TO_CLIENT` and `TTL`, and `MSG_TYPE=reply`.
pub fn create_reply_message(request: &MessageExt, body: impl Into<Bytes>) -> Result<Message> {
    let Some(cluster) = request.property(keys::CLUSTER) else {
        return Err(ClientError::CreateReplyMessage(format!(
            "requestMessage error, property[{}] is null.",
            keys::CLUSTER
        )));
    };
    let mut reply = Message {
        topic: reply_topic(cluster),
        flag: 0,
        properties: Vec::new(),
        body: body.into(),
    };
    reply.put_property(keys::MSG_TYPE, REPLY_MESSAGE_FLAG);
    for key in [keys::CORRELATION_ID, keys::REPLY_TO_CLIENT, keys::TTL] {
        if let Some(v) = request.property(key) {
            reply.put_property(key, v);
        }
    }
    Ok(reply)
}
// ANCHOR_END: create_reply_message

/// Whether a message is a reply (`MSG_TYPE=reply`), read from its encoded properties; such
/// messages are sent as SEND_REPLY_MESSAGE_V2.
pub fn is_reply_properties(encoded: &str) -> bool {
    let wanted = format!("{}\u{1}{REPLY_MESSAGE_FLAG}", keys::MSG_TYPE);
    encoded.split('\u{2}').any(|kv| kv == wanted)
}

impl Producer {
    /// Sends `msg` as a request and waits up to `timeout` (send included) for its reply.
    pub async fn request(&self, msg: Message, timeout: Duration) -> Result<MessageExt> {
        self.request_with(msg, None, timeout).await
    }

    /// Like [`Producer::request`] but to exactly this queue.
    pub async fn request_to_queue(
        &self,
        msg: Message,
        mq: &MessageQueue,
        timeout: Duration,
    ) -> Result<MessageExt> {
        if msg.topic != mq.topic {
            return Err(ClientError::InvalidArgument(format!(
                "message's topic {} is not the queue's topic {}",
                msg.topic, mq.topic
            )));
        }
        self.request_with(msg, Some(mq.clone()), timeout).await
    }

    /// Sends a request in the background and calls `callback` with the reply or the error
    /// (`request(msg, RequestCallback, timeout)`).
    pub fn request_async<F>(&self, msg: Message, timeout: Duration, callback: F)
    where
        F: FnOnce(Result<MessageExt>) + Send + 'static,
    {
        let me = self.clone();
        tokio::spawn(async move { callback(me.request(msg, timeout).await) });
    }

    // ANCHOR: request
    async fn request_with(
        &self,
        mut msg: Message,
        mq: Option<MessageQueue>,
        timeout: Duration,
    ) -> Result<MessageExt> {
        let begin = Instant::now();
        let correlation_id = self.prepare_send_request(&mut msg, timeout).await;
        let pending = self.instance().request_futures().register(&correlation_id);
        let topic = msg.topic.clone();
        let left = timeout.saturating_sub(begin.elapsed());
        let sent = match mq {
            Some(mq) => self.send_direct(msg, &mq, left).await.map(|_| ()),
            None => {
                let attempts = 1 + self.config().retry_times_when_send_async_failed;
                self.send_default(msg, CommunicationMode::Async, attempts, left)
                    .await
                    .map(|_| ())
            }
        };
        if let Err(e) = sent {
            return Err(ClientError::RequestSendFailed {
                topic,
                source: Box::new(e),
            });
        }
        match pending.wait(timeout.saturating_sub(begin.elapsed())).await {
            Some(reply) => Ok(reply),
            None => Err(ClientError::RequestTimeout {
                topic,
                timeout_ms: timeout.as_millis() as u64,
            }),
        }
    }
    // ANCHOR_END: request

    // ANCHOR: prepare_send_request
    /// Stamps the request properties; the first request of a producer (or one to a topic
    /// without a route yet) also heartbeats every broker, so the broker can find this
    /// client's connection when the reply comes.
    async fn prepare_send_request(&self, msg: &mut Message, timeout: Duration) -> String {
        let correlation_id = new_correlation_id();
        let inst = self.instance();
        msg.put_property(keys::CORRELATION_ID, correlation_id.clone());
        msg.put_property(keys::REPLY_TO_CLIENT, inst.client_id());
        msg.put_property(keys::TTL, timeout.as_millis().to_string());
        let no_route = inst.route(&msg.topic).is_none();
        let first = self.inner.request_heartbeat_sent.set(()).is_ok();
        if no_route || first {
            let begin = Instant::now();
            if let Err(e) = self.publish_info(&msg.topic).await {
                debug!(topic = %msg.topic, error = %e, "no route before a request");
            }
            inst.send_heartbeat_to_all_brokers().await;
            if begin.elapsed() > Duration::from_millis(500) {
                warn!(topic = %msg.topic, cost = ?begin.elapsed(), "prepare send request was slow");
            }
        }
        correlation_id
    }
    // ANCHOR_END: prepare_send_request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_msg(props: &[(&str, &str)]) -> MessageExt {
        let host = "127.0.0.1:1".parse().unwrap();
        MessageExt {
            store_size: 0,
            body_crc: 0,
            queue_id: 0,
            flag: 0,
            queue_offset: 0,
            commit_log_offset: 0,
            sys_flag: 0,
            born_timestamp: 0,
            born_host: host,
            store_timestamp: 0,
            store_host: host,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: Bytes::from_static(b"q"),
            topic: "RequestTopic".into(),
            properties: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn reply_message_copies_the_request_properties() {
        let req = request_msg(&[
            (keys::CLUSTER, "RaftCluster"),
            (keys::CORRELATION_ID, "c-1"),
            (keys::REPLY_TO_CLIENT, "127.0.0.1@9"),
            (keys::TTL, "3000"),
            (keys::TAGS, "not copied"),
        ]);
        let r = create_reply_message(&req, &b"pong"[..]).unwrap();
        assert_eq!(r.topic, "RaftCluster_REPLY_TOPIC");
        assert_eq!(r.property(keys::MSG_TYPE), Some("reply"));
        assert_eq!(r.property(keys::CORRELATION_ID), Some("c-1"));
        assert_eq!(r.property(keys::REPLY_TO_CLIENT), Some("127.0.0.1@9"));
        assert_eq!(r.property(keys::TTL), Some("3000"));
        assert_eq!(r.property(keys::TAGS), None);
        assert!(is_reply_properties(
            &rmq_common::message::encode_properties(&r.properties)
        ));
        assert!(!is_reply_properties("XMSG_TYPE\u{1}reply\u{2}"));
        let err = create_reply_message(&request_msg(&[]), &b""[..]).unwrap_err();
        assert!(
            err.to_string().contains("property[CLUSTER] is null"),
            "{err}"
        );
    }

    #[test]
    fn correlation_ids_look_like_uuids_and_differ() {
        let a = new_correlation_id();
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert_ne!(a, new_correlation_id());
    }

    #[tokio::test]
    async fn table_hands_replies_to_waiters_and_forgets_dropped_ones() {
        let table = Arc::new(RequestFutureTable::default());
        let p = table.register("a");
        assert_eq!(table.len(), 1);
        assert!(table.complete("a", request_msg(&[])));
        assert!(p.wait(Duration::from_secs(1)).await.is_some());
        assert!(table.is_empty());
        assert!(!table.complete("unknown", request_msg(&[])));
        let p = table.register("b");
        assert!(p.wait(Duration::from_millis(10)).await.is_none());
        assert!(table.is_empty(), "a timed-out waiter leaves no entry");
        drop(table.register("c"));
        assert!(table.is_empty(), "a dropped waiter leaves no entry");
    }
}
