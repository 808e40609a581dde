//! The consumer side of the failover experiment: what a consumer group receives twice when
//! the leader it commits its offsets to dies.
//!
//! Two push-consumer groups of rmq-client read the experiment's topic from its first offset:
//!
//! * **running**: one consumer that lives through every kill. It keeps its next offsets in
//!   memory and goes on pulling from the new leader, so it should receive nothing twice.
//! * **restarted**: its consumer crashes together with the leader (its client instance stops
//!   without writing offsets) and a new one starts as soon as the name server lists a new
//!   brokerId 0. The new consumer asks that broker where the group stands. The answer is the
//!   offset table the new leader copied from the old one at its last sync, at most one sync
//!   window (10 s, `slave_sync`) old, so it re-reads what the group consumed since then.
//!
//! For every kill the experiment reports both groups' re-deliveries and, as the bound the
//! sync promises, how many messages the restarted group consumed in the 10 s before the kill.
//! At the end it checks that both groups received every acknowledged message at least once
//! (a failover may re-deliver, it must never skip).
//! Book: Part IV, "Failover, measured" / "What followers copy, and when". Measures
//! crates/broker/src/slave_sync.rs (4.8.0 `SlaveSynchronize`).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use rmq_client::consumer::push::{
    ConsumeConcurrentlyStatus, MessageListener, PushConsumer, PushConsumerConfig,
};
use rmq_client::MessageExt;
use rmq_remoting::protocol::ConsumeFromWhere;
use serde::Serialize;

/// The sync window of `slave_sync` (4.8.0: every 10 s).
pub const SYNC_WINDOW: Duration = Duration::from_secs(10);

/// Every delivery one consumer group saw, bucketed by time.
pub struct Tracker {
    t0: Instant,
    bucket: Duration,
    /// Message keys delivered at least once.
    seen: Mutex<HashSet<u64>>,
    /// First deliveries per bucket.
    firsts: Vec<AtomicU64>,
    /// Repeated deliveries per bucket.
    repeats: Vec<AtomicU64>,
    /// Repeated deliveries per consumer instance (instance 0 is the first one started).
    repeats_by_instance: Mutex<Vec<u64>>,
}

/// A message's identity: the producer id and sequence number in its body (`p<id>-<seq>-...`).
fn key_of(body: &[u8]) -> u64 {
    let body = String::from_utf8_lossy(body);
    let mut parts = body.splitn(3, '-');
    let id = parts
        .next()
        .and_then(|p| p.strip_prefix('p')?.parse::<u64>().ok());
    let seq = parts.next().and_then(|s| s.parse::<u64>().ok());
    match (id, seq) {
        (Some(id), Some(seq)) => (id << 40) | seq,
        // Not one of ours: still counted, by a hash of the whole body.
        _ => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            body.hash(&mut h);
            h.finish() | (1 << 63)
        }
    }
}

impl Tracker {
    pub fn new(t0: Instant, bucket: Duration, buckets: usize) -> Arc<Tracker> {
        Arc::new(Tracker {
            t0,
            bucket,
            seen: Mutex::new(HashSet::new()),
            firsts: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            repeats: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            repeats_by_instance: Mutex::new(Vec::new()),
        })
    }

    fn bucket_now(&self) -> usize {
        ((self.t0.elapsed().as_millis() / self.bucket.as_millis()) as usize)
            .min(self.firsts.len() - 1)
    }

    fn bucket_at(&self, at: Duration) -> usize {
        ((at.as_millis() / self.bucket.as_millis()) as usize).min(self.firsts.len() - 1)
    }

    fn record(&self, instance: usize, msgs: &[MessageExt]) {
        let b = self.bucket_now();
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        for m in msgs {
            if seen.insert(key_of(&m.body)) {
                self.firsts[b].fetch_add(1, Ordering::Relaxed);
            } else {
                self.repeats[b].fetch_add(1, Ordering::Relaxed);
                if let Ok(mut by) = self.repeats_by_instance.lock() {
                    if by.len() <= instance {
                        by.resize(instance + 1, 0);
                    }
                    by[instance] += 1;
                }
            }
        }
    }

    /// How many keys of `want` were never delivered.
    pub fn missing(&self, want: &[u64]) -> usize {
        let Ok(seen) = self.seen.lock() else {
            return want.len();
        };
        want.iter().filter(|k| !seen.contains(k)).count()
    }

    /// Repeated deliveries by instance `i`.
    pub fn repeats_of_instance(&self, i: usize) -> u64 {
        self.repeats_by_instance
            .lock()
            .ok()
            .and_then(|v| v.get(i).copied())
            .unwrap_or(0)
    }

    /// Repeated deliveries in `[from, to)`.
    pub fn repeats_between(&self, from: Duration, to: Duration) -> u64 {
        (self.bucket_at(from)..self.bucket_at(to))
            .map(|b| self.repeats[b].load(Ordering::Relaxed))
            .sum()
    }

    /// First deliveries in `[from, to)`.
    pub fn firsts_between(&self, from: Duration, to: Duration) -> u64 {
        (self.bucket_at(from)..self.bucket_at(to))
            .map(|b| self.firsts[b].load(Ordering::Relaxed))
            .sum()
    }
}

/// The key a producer's body gets (see `key_of`).
pub fn key_of_body(body: &str) -> u64 {
    key_of(body.as_bytes())
}

/// Starts consumer instance `instance` of `group` that records into `tracker`.
pub async fn start_consumer(
    ns: &str,
    group: &str,
    topic: &str,
    instance: usize,
    route_poll_ms: u64,
    tracker: Arc<Tracker>,
) -> Result<PushConsumer> {
    let mut cfg = PushConsumerConfig::new(group, ns);
    cfg.client.instance_name = Some(format!("{group}-{instance}"));
    cfg.client.poll_name_server_interval = Duration::from_millis(route_poll_ms);
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cfg.consume_message_batch_max_size = 32;
    let listener = MessageListener::concurrently(move |msgs, _ctx| {
        tracker.record(instance, msgs);
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    PushConsumer::start(cfg, &[(topic, "*")], listener)
        .await
        .map_err(|e| anyhow!("starting consumer {group}-{instance}: {e}"))
}

/// A crash: the client instance stops at once, nothing is written back to the broker.
pub fn crash(c: &PushConsumer) {
    c.instance().shutdown();
}

/// One failover as the two consumer groups saw it.
#[derive(Debug, Clone, Serialize)]
pub struct Redelivery {
    pub kill: usize,
    /// Kill -> the restarted group's new consumer started (it needs the new brokerId 0).
    pub consumer_restart_ms: f64,
    /// Messages the restarted group's new consumer received a second time.
    pub restarted_redelivered: u64,
    /// Repeated deliveries of the running group between this kill and the next.
    pub running_redelivered: u64,
    /// First deliveries of the restarted group in the sync window before the kill: what a
    /// restarted consumer may have to read again at most.
    pub consumed_in_window_before_kill: u64,
}
