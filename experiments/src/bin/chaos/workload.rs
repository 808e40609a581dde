//! The chaos experiment's workload: producers of rmq-client (and, in `java.rs`, of the
//! official Java client) sending keyed messages synchronously to a topic with queues on both
//! DLedger groups, push consumers in one group reading it, and a monitor that samples who leads
//! each group. Every send and every delivery is recorded with its time, for the checker.
//!
//! Book: Part IV, "Breaking it on purpose". Mirrors what OpenMessaging-Chaos's RocketMQ driver
//! does with `DefaultMQProducer.send` and a `DefaultMQPushConsumer`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use rmq_client::consumer::push::{
    ConsumeConcurrentlyStatus, MessageListener, PushConsumer, PushConsumerConfig,
};
use rmq_client::{Message, Producer, ProducerConfig, SendStatus};
use rmq_remoting::protocol::ConsumeFromWhere;
use rmq_remoting::RemotingClient;
use serde::Serialize;

use super::cluster::GROUPS;

/// The topic every producer writes (queues on both groups).
pub const TOPIC: &str = "ChaosTopic";
/// The consumer group of the push consumers.
pub const CONSUMER_GROUP: &str = "chaos_cg";

/// How one send ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// SEND_OK: where the broker says it stored the message.
    Acked {
        /// The broker group.
        broker: String,
        /// The queue.
        queue: i32,
        /// The queue offset from the reply.
        offset: i64,
    },
    /// An error or a status other than SEND_OK (the message may still be stored).
    Failed,
}

/// Which client library a producer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    /// rmq-client (this workspace).
    Ours,
    /// The official rocketmq-client 4.8.0 (`java/ChaosProducer.java`).
    Java,
}

impl Client {
    /// "ours" or "java".
    pub fn name(self) -> &'static str {
        match self {
            Client::Ours => "ours",
            Client::Java => "java",
        }
    }
}

/// One send.
#[derive(Debug, Clone)]
pub struct SendRecord {
    /// Which producer: `p0`, `p1`, ... (ours), `j0`, ... (Java); also its keys' prefix.
    pub producer: String,
    /// Which client library it runs.
    pub client: Client,
    /// The body (also the message key).
    pub body: String,
    /// When it returned.
    pub end_ms: f64,
    /// How it ended.
    pub outcome: Outcome,
}

/// One delivery to a consumer.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The body.
    pub body: String,
    /// The broker group it came from.
    pub broker: String,
    /// The queue.
    pub queue: i32,
    /// The queue offset.
    pub offset: i64,
    /// When the listener saw it (ms since t0).
    pub at_ms: f64,
}

/// What the tasks share.
pub struct Shared {
    /// The run's time origin.
    pub t0: Instant,
    /// The same moment as wall-clock time (ms since the Unix epoch), to place the Java
    /// producers' times.
    pub t0_unix_ms: f64,
    /// Set to stop the producers.
    pub stop_producers: AtomicBool,
    /// Set to stop the monitor.
    pub stop_monitor: AtomicBool,
    /// Every delivery so far.
    pub deliveries: Mutex<Vec<Delivery>>,
    /// Leader samples: (ms, leader node name of each group, "-" for none).
    pub leaders: Mutex<Vec<(f64, [String; 2])>>,
}

impl Shared {
    /// A new run starting now.
    pub fn new() -> Arc<Shared> {
        Arc::new(Shared {
            t0: Instant::now(),
            t0_unix_ms: chrono::Utc::now().timestamp_micros() as f64 / 1000.0,
            stop_producers: AtomicBool::new(false),
            stop_monitor: AtomicBool::new(false),
            deliveries: Mutex::new(Vec::new()),
            leaders: Mutex::new(Vec::new()),
        })
    }

    /// Milliseconds since t0.
    pub fn now_ms(&self) -> f64 {
        self.t0.elapsed().as_secs_f64() * 1000.0
    }
}

/// Starts producer `id`: sync sends with a key until told to stop; returns its records.
pub async fn producer(
    ns: String,
    id: usize,
    pause: Duration,
    body_bytes: usize,
    sh: Arc<Shared>,
) -> Result<Vec<SendRecord>> {
    let name = format!("p{id}");
    let mut cfg = ProducerConfig::new("chaos_pg", ns);
    cfg.client.instance_name = Some(format!("chaos-{name}"));
    let p = Producer::start(cfg)
        .await
        .map_err(|e| anyhow!("starting producer {id}: {e}"))?;
    let pad = "x".repeat(body_bytes.saturating_sub(16));
    let mut out = Vec::new();
    let mut seq = 0u64;
    while !sh.stop_producers.load(Ordering::Relaxed) {
        let key = format!("{name}-{seq:08}");
        let body = format!("{key}-{pad}");
        let msg = Message::new(TOPIC, body.clone().into_bytes()).with_keys(key);
        let outcome = match p.send(msg).await {
            Ok(r) if r.send_status == SendStatus::SendOk => Outcome::Acked {
                broker: r.message_queue.broker_name.clone(),
                queue: r.message_queue.queue_id,
                offset: r.queue_offset,
            },
            _ => Outcome::Failed,
        };
        let failed = matches!(outcome, Outcome::Failed);
        out.push(SendRecord {
            producer: name.clone(),
            client: Client::Ours,
            body,
            end_ms: sh.now_ms(),
            outcome,
        });
        seq += 1;
        // A dead leader refuses connections at once: do not spin on failures.
        let wait = if failed {
            Duration::from_millis(20)
        } else {
            pause
        };
        tokio::time::sleep(wait).await;
    }
    p.shutdown().await;
    Ok(out)
}

/// Starts push consumer `id` of [`CONSUMER_GROUP`], recording every delivery.
pub async fn consumer(
    ns: &str,
    id: usize,
    route_poll: Duration,
    sh: Arc<Shared>,
) -> Result<PushConsumer> {
    let mut cfg = PushConsumerConfig::new(CONSUMER_GROUP, ns);
    cfg.client.instance_name = Some(format!("chaos-c{id}"));
    cfg.client.poll_name_server_interval = route_poll;
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cfg.consume_message_batch_max_size = 16;
    let listener = MessageListener::concurrently(move |msgs, ctx| {
        let at_ms = sh.now_ms();
        let mq = &ctx.message_queue;
        if let Ok(mut d) = sh.deliveries.lock() {
            for m in msgs {
                d.push(Delivery {
                    body: String::from_utf8_lossy(&m.body).into_owned(),
                    broker: mq.broker_name.clone(),
                    queue: mq.queue_id,
                    offset: m.queue_offset,
                    at_ms,
                });
            }
        }
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    PushConsumer::start(cfg, &[(TOPIC, "*")], listener)
        .await
        .map_err(|e| anyhow!("starting consumer {id}: {e}"))
}

/// Samples each group's leader every 100 ms until told to stop: brokerId 0 as the first
/// answering name server in `namesrvs` lists it, named through `names` (address -> node).
pub async fn monitor(
    namesrvs: Vec<String>,
    names: std::collections::HashMap<String, String>,
    sh: Arc<Shared>,
) {
    let c = RemotingClient::new();
    let timeout = Duration::from_millis(300);
    while !sh.stop_monitor.load(Ordering::Relaxed) {
        let mut slots = [String::from("-"), String::from("-")];
        for (g, slot) in slots.iter_mut().enumerate().take(GROUPS.len()) {
            for ns in &namesrvs {
                let ids = experiments::servers::broker_ids(&c, ns, GROUPS[g], timeout).await;
                if let Some(a) = ids.get(&0) {
                    *slot = names.get(a).cloned().unwrap_or_else(|| a.clone());
                    break;
                }
            }
        }
        if let Ok(mut l) = sh.leaders.lock() {
            l.push((sh.now_ms(), slots));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
