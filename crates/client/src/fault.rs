//! Latency fault avoidance: after a slow or failed send, keep away from that
//! broker for a while.
//!
//! Every send reports its latency for the broker it went to. The latency is
//! mapped through a step table (`latencyMax` → `notAvailableDuration`): a reply
//! under 550 ms costs nothing, one of 550 ms benches the broker for 30 s, 15 s
//! for 10 min; a failure counts as 30 s of latency. Queue selection then prefers
//! queues on brokers whose bench time is over, and only when all are benched does
//! it pick among the least bad half. Off by default, as in 4.8.0
//! (`sendLatencyFaultEnable=false`): then selection is plain round robin that
//! merely skips the broker of the previous failed attempt.
//! Book: Part II "Producing" (queue selection and fault avoidance). Mirrors
//! `MQFaultStrategy` and `LatencyFaultToleranceImpl`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};

use parking_lot::Mutex;
use rand::seq::SliceRandom;
use rmq_remoting::protocol::MessageQueue;

use crate::route::TopicPublishInfo;
use crate::util::now_ms;

/// `MQFaultStrategy.latencyMax` (ms).
pub const LATENCY_MAX: [i64; 7] = [50, 100, 550, 1000, 2000, 3000, 15000];
/// `MQFaultStrategy.notAvailableDuration` (ms), same index as `LATENCY_MAX`.
pub const NOT_AVAILABLE_DURATION: [i64; 7] = [0, 0, 30000, 60000, 120000, 180000, 600000];

#[derive(Debug, Clone)]
struct FaultItem {
    name: String,
    current_latency: i64,
    /// Usable again from this wall-clock ms.
    start_timestamp: i64,
}

impl FaultItem {
    fn is_available(&self, now: i64) -> bool {
        now >= self.start_timestamp
    }
}

/// Per-broker bench times.
#[derive(Debug, Default)]
pub struct LatencyFaultTolerance {
    items: Mutex<HashMap<String, FaultItem>>,
    which_item_worst: AtomicU32,
}

impl LatencyFaultTolerance {
    /// Records a broker's latest latency and benches it for `not_available_ms` from now.
    pub fn update_fault_item(&self, name: &str, current_latency: i64, not_available_ms: i64) {
        let item = FaultItem {
            name: name.to_string(),
            current_latency,
            start_timestamp: now_ms() + not_available_ms,
        };
        self.items.lock().insert(name.to_string(), item);
    }

    /// Whether the broker is not benched (or was never recorded).
    pub fn is_available(&self, name: &str) -> bool {
        match self.items.lock().get(name) {
            Some(item) => item.is_available(now_ms()),
            None => true,
        }
    }

    /// Forgets a broker's record.
    pub fn remove(&self, name: &str) {
        self.items.lock().remove(name);
    }

    /// A broker to try when all are benched: one of the better half, ordered by
    /// availability, then latency, then bench end.
    pub fn pick_one_at_least(&self) -> Option<String> {
        let mut items: Vec<FaultItem> = self.items.lock().values().cloned().collect();
        if items.is_empty() {
            return None;
        }
        let now = now_ms();
        items.shuffle(&mut rand::thread_rng());
        items.sort_by(|a, b| {
            b.is_available(now)
                .cmp(&a.is_available(now))
                .then(a.current_latency.cmp(&b.current_latency))
                .then(a.start_timestamp.cmp(&b.start_timestamp))
        });
        let half = items.len() / 2;
        if half == 0 {
            return Some(items[0].name.clone());
        }
        let i = self.which_item_worst.fetch_add(1, Ordering::Relaxed) as usize % half;
        Some(items[i].name.clone())
    }
}

/// Queue selection with optional latency fault avoidance.
#[derive(Debug, Default)]
pub struct MqFaultStrategy {
    /// `sendLatencyFaultEnable`: without it, selection is plain round robin.
    pub send_latency_fault_enable: bool,
    /// The benched brokers.
    pub tolerance: LatencyFaultTolerance,
}

impl MqFaultStrategy {
    /// A strategy with fault avoidance on or off.
    pub fn new(enabled: bool) -> Self {
        MqFaultStrategy {
            send_latency_fault_enable: enabled,
            tolerance: LatencyFaultTolerance::default(),
        }
    }

    /// Picks the queue for the next attempt.
    pub fn select_one_message_queue(
        &self,
        info: &TopicPublishInfo,
        last_broker: Option<&str>,
    ) -> Option<MessageQueue> {
        if !self.send_latency_fault_enable {
            return info.select_one_message_queue(last_broker);
        }
        let n = info.message_queues.len();
        if n == 0 {
            return None;
        }
        // 1. Round robin, but only over brokers that are not benched.
        let mut index = info.next_index();
        for _ in 0..n {
            let mq = &info.message_queues[index % n];
            index = index.wrapping_add(1);
            if self.tolerance.is_available(&mq.broker_name) {
                return Some(mq.clone());
            }
        }
        // 2. Everything is benched: take the least bad broker, any queue id of it.
        if let Some(broker) = self.tolerance.pick_one_at_least() {
            let write_queues = info.write_queue_nums_of(&broker);
            if write_queues > 0 {
                let mut mq = info.select_one_message_queue(None)?;
                mq.broker_name = broker;
                mq.queue_id = (info.next_index() % write_queues as usize) as i32;
                return Some(mq);
            }
            self.tolerance.remove(&broker);
        }
        // 3. Plain round robin.
        info.select_one_message_queue(None)
    }

    /// Records how a send to `broker` went. `isolation` (a failure) counts as
    /// 30 s of latency.
    pub fn update_fault_item(&self, broker: &str, current_latency_ms: i64, isolation: bool) {
        if !self.send_latency_fault_enable {
            return;
        }
        let latency = if isolation { 30000 } else { current_latency_ms };
        let duration = compute_not_available_duration(latency);
        self.tolerance
            .update_fault_item(broker, current_latency_ms, duration);
    }
}

/// The bench time for a latency: the duration of the largest step it reaches.
pub fn compute_not_available_duration(current_latency_ms: i64) -> i64 {
    for i in (0..LATENCY_MAX.len()).rev() {
        if current_latency_ms >= LATENCY_MAX[i] {
            return NOT_AVAILABLE_DURATION[i];
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_remoting::protocol::{BrokerData, QueueData, TopicRouteData};

    fn info() -> TopicPublishInfo {
        let mut route = TopicRouteData::default();
        for name in ["a", "b"] {
            let mut bd = BrokerData::new("c", name);
            bd.broker_addrs
                .insert(0, format!("127.0.0.1:{}", name.len()));
            route.broker_datas.push(bd);
            route.queue_datas.push(QueueData {
                broker_name: name.into(),
                perm: 6,
                read_queue_nums: 4,
                write_queue_nums: 4,
                topic_syn_flag: 0,
            });
        }
        TopicPublishInfo::from_route("T", &route)
    }

    #[test]
    fn latency_steps() {
        assert_eq!(compute_not_available_duration(10), 0);
        assert_eq!(compute_not_available_duration(549), 0);
        assert_eq!(compute_not_available_duration(550), 30000);
        assert_eq!(compute_not_available_duration(2500), 120000);
        assert_eq!(compute_not_available_duration(30000), 600000);
    }

    #[test]
    fn benched_broker_is_avoided() {
        let s = MqFaultStrategy::new(true);
        let info = info();
        s.update_fault_item("a", 100, true);
        for _ in 0..20 {
            assert_eq!(
                s.select_one_message_queue(&info, None).unwrap().broker_name,
                "b"
            );
        }
        // Fast replies do not bench.
        s.update_fault_item("b", 10, false);
        assert!(s.tolerance.is_available("b"));
    }

    #[test]
    fn all_benched_still_returns_a_queue() {
        let s = MqFaultStrategy::new(true);
        let info = info();
        s.update_fault_item("a", 100, true);
        s.update_fault_item("b", 100, true);
        let mq = s.select_one_message_queue(&info, None).unwrap();
        assert!(mq.queue_id < 4);
    }

    #[test]
    fn disabled_strategy_is_round_robin() {
        let s = MqFaultStrategy::new(false);
        let info = info();
        s.update_fault_item("a", 100, true);
        let brokers: std::collections::BTreeSet<_> = (0..8)
            .map(|_| s.select_one_message_queue(&info, None).unwrap().broker_name)
            .collect();
        assert_eq!(brokers.len(), 2);
    }
}
