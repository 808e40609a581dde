//! The send path: route lookup, the retry loop with queue selection and fault
//! bookkeeping, and the kernel that turns one message into one request.
//!
//! Book: Part II "Producing" (the send path, retries and timeouts). Mirrors
//! `DefaultMQProducerImpl.sendDefaultImpl`, `sendKernelImpl`,
//! `tryToFindTopicPublishInfo` and `tryToCompressMessage`.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use rmq_common::message::{encode_properties, COMPRESSED_FLAG, TRANSACTION_PREPARED_TYPE};
use rmq_remoting::codes::response as rs;
use rmq_remoting::protocol::MessageQueue;
use tracing::{debug, warn};

use super::{batch, validate, Producer};
use crate::api::{SendResult, SendStatus};
use crate::error::{ClientError, Result};
use crate::message::{keys, Message};
use crate::route::TopicPublishInfo;
use crate::trace::{self, MessageType};
use crate::util::{now_ms, RETRY_GROUP_TOPIC_PREFIX};
use rmq_remoting::protocol::header::SendMessageRequestHeader;

/// How the caller waits for the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommunicationMode {
    /// The caller waits for the result; failures are retried on another queue.
    Sync,
    /// A task waits and hands the result to a callback.
    Async,
    /// Nobody waits: no reply, no result, one attempt.
    Oneway,
}

/// A message ready for the wire: properties encoded, body compressed if worth it.
struct Prepared {
    topic: String,
    flag: i32,
    properties: String,
    body: Bytes,
    sys_flag: i32,
    reconsume_times: Option<i32>,
    max_reconsume_times: Option<i32>,
    /// `UNIQ_KEY`, or the comma-joined keys of a batch.
    msg_id: String,
    batch: bool,
    /// Tags, keys and type, for a Pub trace event.
    tags: Option<String>,
    keys: Option<String>,
    msg_type: MessageType,
}

/// Response codes after which a sync send tries another queue.
fn retryable(code: i32) -> bool {
    matches!(
        code,
        rs::TOPIC_NOT_EXIST
            | rs::SERVICE_NOT_AVAILABLE
            | rs::SYSTEM_ERROR
            | rs::NO_PERMISSION
            | rs::NO_BUYER_ID
            | rs::NOT_IN_CURRENT_UNIT
    )
}

impl Producer {
    /// The topic's writable queues, fetching the route (or `TBW102`'s) if needed.
    pub(super) async fn publish_info(&self, topic: &str) -> Result<Arc<TopicPublishInfo>> {
        let inst = &self.inner.instance;
        if inst.route(topic).is_none() {
            let found = inst.update_topic_route(topic).await?;
            if !found {
                let cfg = &self.inner.config;
                inst.update_topic_route_from_default(
                    topic,
                    &cfg.create_topic_key,
                    cfg.default_topic_queue_nums,
                )
                .await?;
            }
        }
        let route = inst
            .route(topic)
            .ok_or_else(|| ClientError::NoRoute(topic.to_string()))?;
        let mut table = self.inner.publish.lock();
        if let Some(info) = table.get(topic) {
            if info.route == route {
                return Ok(info.clone());
            }
        }
        let info = Arc::new(TopicPublishInfo::from_route(topic, &route));
        if !info.ok() {
            return Err(ClientError::NoRoute(topic.to_string()));
        }
        table.insert(topic.to_string(), info.clone());
        Ok(info)
    }

    fn prepare(&self, mut msg: Message, batch_ids: Option<Vec<String>>) -> Result<Prepared> {
        let cfg = &self.inner.config;
        let mut sys_flag = 0;
        let (msg_id, batch) = match batch_ids {
            Some(ids) => (ids.join(","), true),
            None => {
                let id = self.stamp_uniq_key(&mut msg);
                if msg.body.len() > cfg.compress_msg_body_over {
                    if let Some(z) = compress(&msg.body, cfg.compress_level) {
                        msg.body = z;
                        sys_flag |= COMPRESSED_FLAG;
                    }
                }
                (id, false)
            }
        };
        // A transaction's half message (`sendKernelImpl`): TRAN_MSG=true marks it prepared.
        if msg.property(keys::TRAN_MSG) == Some("true") {
            sys_flag |= TRANSACTION_PREPARED_TYPE;
        }
        let msg_type = trace::hooks::message_type(|k| msg.property(k).map(String::from));
        let (tags, keys) = (msg.tags().map(String::from), msg.keys().map(String::from));
        let (mut reconsume_times, mut max_reconsume_times) = (Some(0), None);
        if msg.topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) {
            if let Some(v) = msg.remove_property(keys::RECONSUME_TIME) {
                reconsume_times = v.parse().ok();
            }
            if let Some(v) = msg.remove_property(keys::MAX_RECONSUME_TIMES) {
                max_reconsume_times = v.parse().ok();
            }
        }
        Ok(Prepared {
            properties: encode_properties(&msg.properties),
            topic: msg.topic,
            flag: msg.flag,
            body: msg.body,
            sys_flag,
            reconsume_times,
            max_reconsume_times,
            msg_id,
            batch,
            tags,
            keys,
            msg_type,
        })
    }

    /// Stamps a `UNIQ_KEY` on each message and builds the batch message.
    pub(super) fn prepare_batch(&self, mut msgs: Vec<Message>) -> Result<(Message, Vec<String>)> {
        let mut ids = Vec::with_capacity(msgs.len());
        for m in &mut msgs {
            validate::check_topic(&m.topic)?;
            ids.push(self.stamp_uniq_key(m));
        }
        Ok((batch::batch_message(&msgs)?, ids))
    }

    pub(super) async fn send_default(
        &self,
        msg: Message,
        mode: CommunicationMode,
        attempts: u32,
        timeout: Duration,
    ) -> Result<Option<SendResult>> {
        validate::check_message(&msg, self.inner.config.max_message_size)?;
        let prepared = self.prepare(self.msg_with_namespace(msg), None)?;
        let r = self.send_loop(prepared, mode, attempts, timeout).await?;
        Ok(r.map(|r| self.result_without_namespace(r)))
    }

    pub(super) async fn send_batch_default(
        &self,
        batch: Message,
        ids: Vec<String>,
        attempts: u32,
    ) -> Result<SendResult> {
        validate::check_message(&batch, self.inner.config.max_message_size)?;
        let prepared = self.prepare(self.msg_with_namespace(batch), Some(ids))?;
        let timeout = self.inner.config.send_timeout;
        self.send_loop(prepared, CommunicationMode::Sync, attempts, timeout)
            .await?
            .map(|r| self.result_without_namespace(r))
            .ok_or(ClientError::NotRunning("no result"))
    }

    /// One attempt to one given queue (no retry, no fault bookkeeping).
    pub(super) async fn send_direct(
        &self,
        msg: Message,
        mq: &MessageQueue,
        timeout: Duration,
    ) -> Result<SendResult> {
        validate::check_message(&msg, self.inner.config.max_message_size)?;
        let msg = self.msg_with_namespace(msg);
        let mq = &crate::namespace::queue_with_namespace(self.inner.config.client.namespace(), mq);
        if self
            .inner
            .instance
            .find_broker_addr_in_publish(&mq.broker_name)
            .is_none()
        {
            // As `sendKernelImpl`: learn the topic's route, or TBW102's for a topic the
            // broker will auto-create, before the kernel gives up on an unknown broker.
            let _ = self.publish_info(&mq.topic).await;
        }
        let prepared = self.prepare(msg, None)?;
        self.send_kernel(&prepared, mq, CommunicationMode::Sync, timeout)
            .await?
            .map(|r| self.result_without_namespace(r))
            .ok_or(ClientError::NotRunning("no result"))
    }

    /// The message with its topic inside the client's namespace (`withNamespace`).
    fn msg_with_namespace(&self, mut msg: Message) -> Message {
        msg.topic = self.inner.config.client.with_namespace(&msg.topic);
        msg
    }

    /// The result with its queue's topic back outside the namespace.
    fn result_without_namespace(&self, mut r: SendResult) -> SendResult {
        let ns = self.inner.config.client.namespace();
        r.message_queue = crate::namespace::queue_without_namespace(ns, &r.message_queue);
        r
    }

    /// Up to `attempts` tries, each on a queue chosen by the fault strategy,
    /// all within `timeout`.
    async fn send_loop(
        &self,
        p: Prepared,
        mode: CommunicationMode,
        attempts: u32,
        timeout: Duration,
    ) -> Result<Option<SendResult>> {
        let begin_first = Instant::now();
        let mut info = self.publish_info(&p.topic).await?;
        if info.lacks_a_master() && self.inner.config.refresh_route_on_failure {
            // The group is left out until the route lists its new master: ask again soon,
            // without holding up this send.
            let me = self.clone();
            let topic = p.topic.clone();
            tokio::spawn(async move {
                me.refresh_route_after_failure(&topic).await;
            });
        }
        let fault = &self.inner.fault;
        let mut last_broker: Option<String> = None;
        let mut last_err: Option<ClientError> = None;
        for attempt in 0..attempts {
            let Some(mq) = fault.select_one_message_queue(&info, last_broker.as_deref()) else {
                break;
            };
            last_broker = Some(mq.broker_name.clone());
            let spent = begin_first.elapsed();
            if spent >= timeout {
                return Err(ClientError::SendTimeout {
                    topic: p.topic.clone(),
                    millis: timeout.as_millis() as u64,
                });
            }
            let begin = Instant::now();
            let result = self.send_kernel(&p, &mq, mode, timeout - spent).await;
            let latency = begin.elapsed().as_millis() as i64;
            match result {
                Ok(r) => {
                    fault.update_fault_item(&mq.broker_name, latency, false);
                    if let Some(sr) = &r {
                        let not_stored = sr.send_status != SendStatus::SendOk;
                        if mode == CommunicationMode::Sync
                            && not_stored
                            && self.inner.config.retry_another_broker_when_not_store_ok
                        {
                            continue;
                        }
                    }
                    return Ok(r);
                }
                Err(e) => {
                    fault.update_fault_item(&mq.broker_name, latency, true);
                    let retry = match &e {
                        ClientError::Broker { code, .. } => retryable(*code),
                        ClientError::Remoting(_) | ClientError::BrokerNotFound(_) => true,
                        _ => false,
                    };
                    debug!(attempt, broker = %mq.broker_name, error = %e, retry, "send attempt failed");
                    if !retry {
                        return Err(e);
                    }
                    last_err = Some(e);
                    if self.refresh_route_after_failure(&p.topic).await {
                        info = self.publish_info(&p.topic).await.unwrap_or(info);
                    }
                }
            }
        }
        let e = last_err.unwrap_or_else(|| ClientError::NoRoute(p.topic.clone()));
        warn!(topic = %p.topic, attempts, error = %e, "send failed");
        Err(e)
    }

    // ANCHOR: refresh_after_failure
    /// After a failed attempt, or while a group of the route has no master: fetch the topic's
    /// route now (unless another send did so in the last [`super::ROUTE_REFRESH_MIN_GAP`]), so a
    /// DLedger group's new leader is used as soon as the name servers list it. Returns whether
    /// the route was fetched.
    async fn refresh_route_after_failure(&self, topic: &str) -> bool {
        if !self.inner.config.refresh_route_on_failure {
            return false;
        }
        {
            let mut last = self.inner.refreshed_after_failure.lock();
            let now = Instant::now();
            match last.get(topic) {
                Some(t) if now.duration_since(*t) < super::ROUTE_REFRESH_MIN_GAP => return false,
                _ => {
                    last.insert(topic.to_string(), now);
                }
            }
        }
        match self.inner.instance.update_topic_route(topic).await {
            Ok(found) => found,
            Err(e) => {
                debug!(topic, error = %e, "route refresh after a failed send failed");
                false
            }
        }
    }
    // ANCHOR_END: refresh_after_failure

    async fn send_kernel(
        &self,
        p: &Prepared,
        mq: &MessageQueue,
        mode: CommunicationMode,
        timeout: Duration,
    ) -> Result<Option<SendResult>> {
        let inst = &self.inner.instance;
        let addr = inst
            .master_addr_or_refresh(&mq.broker_name, &p.topic)
            .await?;
        let cfg = &self.inner.config;
        let header = SendMessageRequestHeader {
            producer_group: Some(cfg.group.clone()),
            topic: p.topic.clone(),
            default_topic: Some(cfg.create_topic_key.clone()),
            default_topic_queue_nums: Some(cfg.default_topic_queue_nums),
            queue_id: mq.queue_id,
            sys_flag: Some(p.sys_flag),
            born_timestamp: Some(now_ms()),
            flag: Some(p.flag),
            properties: Some(p.properties.clone()),
            reconsume_times: p.reconsume_times,
            unit_mode: false,
            batch: p.batch,
            max_reconsume_times: p.max_reconsume_times,
        };
        let api = inst.api();
        match mode {
            CommunicationMode::Oneway => {
                api.send_message_oneway(&addr, &header, p.body.clone())
                    .await?;
                Ok(None)
            }
            CommunicationMode::Sync | CommunicationMode::Async => {
                let began_ms = now_ms();
                let r = api
                    .send_message(
                        &addr,
                        &mq.broker_name,
                        &header,
                        p.body.clone(),
                        p.msg_id.clone(),
                        timeout,
                    )
                    .await?;
                self.trace_send(p, &r, &addr, began_ms);
                Ok(Some(r))
            }
        }
    }
}

impl Producer {
    /// Hands the Pub event of an answered send to the trace dispatcher, if tracing is on
    /// (`SendMessageTraceHookImpl`); sends to the trace topic are not traced.
    fn trace_send(&self, p: &Prepared, r: &SendResult, broker_addr: &str, began_ms: i64) {
        let Some(dispatcher) = &self.inner.trace else {
            return;
        };
        if p.topic.starts_with(dispatcher.topic()) {
            return;
        }
        let start = trace::hooks::PubStart {
            time_stamp_ms: began_ms,
            group: crate::namespace::without_namespace(&self.inner.config.group),
            topic: crate::namespace::without_namespace(&p.topic),
            tags: p.tags.clone(),
            keys: p.keys.clone(),
            body_length: p.body.len() as i32,
            msg_type: p.msg_type,
        };
        if let Some(ctx) = trace::hooks::pub_event(start, r, broker_addr, self.client_id()) {
            dispatcher.append(ctx);
        }
    }
}

/// zlib-compresses a body; `None` if compression fails.
fn compress(body: &[u8], level: u32) -> Option<Bytes> {
    let mut z = ZlibEncoder::new(
        Vec::with_capacity(body.len() / 2),
        Compression::new(level.min(9)),
    );
    z.write_all(body).ok()?;
    z.finish().ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_round_trips() {
        let body = vec![b'a'; 10_000];
        let z = compress(&body, 5).unwrap();
        assert!(z.len() < body.len());
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&z[..]), &mut out).unwrap();
        assert_eq!(out, body);
    }

    #[test]
    fn retryable_codes() {
        assert!(retryable(rs::SYSTEM_ERROR));
        assert!(retryable(rs::TOPIC_NOT_EXIST));
        assert!(!retryable(rs::MESSAGE_ILLEGAL));
    }
}
