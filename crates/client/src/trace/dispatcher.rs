//! The trace dispatcher: collects trace events from a producer's or consumer's hooks and
//! sends them, batched, as ordinary messages to the trace topic.
//!
//! Hooks hand events over without waiting ([`TraceDispatcher::append`]); a full buffer drops
//! the event with a log line, so tracing never slows the traced client down. A worker task
//! takes up to 100 events at a time (waiting at most 5 ms for each next one), groups them by
//! (topic, region), joins their lines into bodies of at most 118 000 characters and sends
//! each body with an inner producer of group `_INNER_TRACE_PRODUCER-<group>-<PRODUCE|CONSUME>`
//! (send timeout 5 s), keyed by every message id and key it mentions so QUERY_MESSAGE finds
//! it. The broker needs nothing special: the trace topic is auto-created through `TBW102`,
//! or created at start by `traceTopicEnable=true`.
//! Book: Part II "Consuming" (section "Message trace"). Mirrors `AsyncTraceDispatcher` of
//! 4.8.0's client.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::record::{encode, TraceContext, TraceTransfer};
use crate::config::ClientConfig;
use crate::error::Result;
use crate::message::Message;
use crate::producer::{Producer, ProducerConfig};

/// `TopicValidator.RMQ_SYS_TRACE_TOPIC`: the default trace topic.
pub const RMQ_SYS_TRACE_TOPIC: &str = "RMQ_SYS_TRACE_TOPIC";
/// `TraceConstants.GROUP_NAME_PREFIX`.
pub const GROUP_NAME_PREFIX: &str = "_INNER_TRACE_PRODUCER";
/// `TraceConstants.TRACE_INSTANCE_NAME`.
pub const TRACE_INSTANCE_NAME: &str = "PID_CLIENT_INNER_TRACE_PRODUCER";
/// The trace producer's `maxMessageSize` (4.8.0: 128 000 - 10 000): the longest body.
pub const MAX_TRACE_BODY_LEN: usize = 118_000;
/// Events waiting to be sent (4.8.0's `traceContextQueue` capacity).
const QUEUE_CAPACITY: usize = 1024;
/// Events taken per round (`batchSize`).
const BATCH_SIZE: usize = 100;
/// How long a round waits for each next event (`poll(5, MILLISECONDS)`).
const POLL_WAIT: Duration = Duration::from_millis(5);
/// The trace producer's send timeout.
const SEND_TIMEOUT: Duration = Duration::from_millis(5000);

/// Whose events a dispatcher carries (`TraceDispatcher.Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceRole {
    /// A producer's Pub events.
    Produce,
    /// A consumer's SubBefore/SubAfter events.
    Consume,
}

impl TraceRole {
    fn name(self) -> &'static str {
        match self {
            TraceRole::Produce => "PRODUCE",
            TraceRole::Consume => "CONSUME",
        }
    }
}

/// A running dispatcher (one per traced producer or consumer).
pub struct TraceDispatcher {
    topic: String,
    sender: Mutex<Option<mpsc::Sender<TraceContext>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    producer: Producer,
    dropped: AtomicU64,
}

impl std::fmt::Debug for TraceDispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceDispatcher")
            .field("topic", &self.topic)
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish()
    }
}

impl TraceDispatcher {
    /// Starts the trace producer of `group` and the worker; `topic` `None` (or blank) means
    /// [`RMQ_SYS_TRACE_TOPIC`].
    pub async fn start(
        group: &str,
        role: TraceRole,
        topic: Option<&str>,
        host: &ClientConfig,
    ) -> Result<Arc<TraceDispatcher>> {
        let topic = topic
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or(RMQ_SYS_TRACE_TOPIC)
            .to_string();
        let mut pc = ProducerConfig::new(
            format!("{GROUP_NAME_PREFIX}-{group}-{}", role.name()),
            host.namesrv_addr.clone(),
        );
        pc.client = host.clone();
        pc.client.instance_name = Some(format!("{TRACE_INSTANCE_NAME}_{}", host.namesrv_addr));
        pc.send_timeout = SEND_TIMEOUT;
        pc.max_message_size = MAX_TRACE_BODY_LEN;
        // Boxed: a producer starts its dispatcher, whose producer has tracing off.
        let producer = Box::pin(Producer::start(pc)).await?;
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let worker = tokio::spawn(run_worker(rx, producer.clone(), topic.clone()));
        info!(%group, role = role.name(), %topic, "message trace on");
        Ok(Arc::new(TraceDispatcher {
            topic,
            sender: Mutex::new(Some(tx)),
            worker: Mutex::new(Some(worker)),
            producer,
            dropped: AtomicU64::new(0),
        }))
    }

    /// The trace topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Events dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Queues one event; `false` (and a log line) when the buffer is full or the dispatcher
    /// has shut down.
    pub fn append(&self, ctx: TraceContext) -> bool {
        let sender = self.sender.lock();
        let Some(tx) = sender.as_ref() else {
            return false;
        };
        match tx.try_send(ctx) {
            Ok(()) => true,
            Err(_) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                warn!(topic = %self.topic, dropped = n, "trace buffer full, event dropped");
                false
            }
        }
    }

    /// Sends what is queued (waiting up to 5 s) and stops the trace producer. (Boxed: a
    /// producer's shutdown awaits its dispatcher's, which awaits a producer's.)
    pub fn shutdown(&self) -> futures::future::BoxFuture<'_, ()> {
        Box::pin(async move { self.shutdown_inner().await })
    }

    async fn shutdown_inner(&self) {
        drop(self.sender.lock().take());
        let worker = self.worker.lock().take();
        if let Some(w) = worker {
            if tokio::time::timeout(SEND_TIMEOUT, w).await.is_err() {
                warn!(topic = %self.topic, "trace events still unsent at shutdown");
            }
        }
        self.producer.shutdown().await;
    }
}

async fn run_worker(mut rx: mpsc::Receiver<TraceContext>, producer: Producer, topic: String) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH_SIZE {
            match tokio::time::timeout(POLL_WAIT, rx.recv()).await {
                Ok(Some(ctx)) => batch.push(ctx),
                _ => break,
            }
        }
        for body in bodies(&batch) {
            send_body(&producer, &topic, body).await;
        }
    }
}

// ANCHOR: trace_batch
/// Groups events by (message topic, region) and joins their lines into bodies of at most
/// [`MAX_TRACE_BODY_LEN`] characters (a single longer line is a body of its own).
pub fn bodies(batch: &[TraceContext]) -> Vec<TraceTransfer> {
    let mut groups: BTreeMap<(String, String), Vec<TraceTransfer>> = BTreeMap::new();
    for ctx in batch {
        let Some(first) = ctx.beans.first() else {
            continue;
        };
        let region = ctx.region_id.clone().unwrap_or_default();
        groups
            .entry((first.topic.clone(), region))
            .or_default()
            .push(encode(ctx));
    }
    let mut out = Vec::new();
    for (_, transfers) in groups {
        let mut body = TraceTransfer::default();
        for t in transfers {
            if !body.data.is_empty() && body.data.len() + t.data.len() > MAX_TRACE_BODY_LEN {
                out.push(std::mem::take(&mut body));
            }
            body.data.push_str(&t.data);
            body.keys.extend(t.keys);
        }
        if !body.data.is_empty() {
            out.push(body);
        }
    }
    out
}
// ANCHOR_END: trace_batch

async fn send_body(producer: &Producer, topic: &str, body: TraceTransfer) {
    let keys: Vec<&str> = body.keys.iter().map(String::as_str).collect();
    let msg = Message::new(topic, body.data.into_bytes()).with_keys(keys.join(" "));
    if let Err(e) = producer.send(msg).await {
        warn!(%topic, error = %e, "sending trace data failed");
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::{TraceBean, TraceType};
    use super::*;

    fn ctx(topic: &str, region: &str, id: &str, keys: Option<&str>) -> TraceContext {
        TraceContext {
            trace_type: TraceType::SubBefore,
            time_stamp_ms: 1,
            region_id: Some(region.into()),
            group_name: "g".into(),
            cost_time_ms: 0,
            success: true,
            request_id: "R".into(),
            context_code: 0,
            beans: vec![TraceBean {
                topic: topic.into(),
                msg_id: id.into(),
                keys: keys.map(String::from),
                ..TraceBean::default()
            }],
        }
    }

    #[test]
    fn batches_split_by_topic_and_region_and_by_size() {
        let batch = vec![
            ctx("A", "r1", "1", Some("k")),
            ctx("B", "r1", "2", None),
            ctx("A", "r1", "3", None),
            ctx("A", "r2", "4", None),
        ];
        let out = bodies(&batch);
        assert_eq!(out.len(), 3);
        let a = &out[0];
        assert_eq!(
            a.keys.iter().cloned().collect::<Vec<_>>(),
            vec!["1".to_string(), "3".into(), "k".into()]
        );
        assert_eq!(a.data.matches('\u{2}').count(), 2);
        // Many events of one topic: no body over the limit, no line lost.
        let big: Vec<_> = (0..3000)
            .map(|i| ctx("A", "r", &format!("{i:040}"), Some("some-key")))
            .collect();
        let out = bodies(&big);
        assert!(out.len() > 1);
        assert!(out.iter().all(|b| b.data.len() <= MAX_TRACE_BODY_LEN));
        let lines: usize = out.iter().map(|b| b.data.matches('\u{2}').count()).sum();
        assert_eq!(lines, 3000);
    }
}
