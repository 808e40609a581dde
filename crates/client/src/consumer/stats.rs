//! Pull and consume counters per topic, reported in GET_CONSUMER_RUNNING_INFO's
//! `statusTable` (what `mqadmin consumerStatus` prints as "Consumer RT&TPS").
//!
//! 4.8.0 samples these into one-minute windows (`StatsItemSet`); here they are totals since
//! the consumer started, so the rates are averages over its whole life and
//! `consumeFailedMsgs` counts every failure, not the last hour's. Cheap enough to update on
//! every pull and every listener call (one short lock).
//! Book: Part II "Consumer offsets" (Resetting offsets, running info). Mirrors
//! `ConsumerStatsManager` (`incPullRT`, `incPullTPS`, `incConsumeRT`, `incConsumeOKTPS`,
//! `incConsumeFailedTPS`, `consumeStatus`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_remoting::protocol::ConsumeStatus;

#[derive(Debug, Default, Clone, Copy)]
struct Counters {
    pulls: u64,
    pull_rt_ms: u64,
    pulled_msgs: u64,
    consume_calls: u64,
    consume_rt_ms: u64,
    consumed_ok: u64,
    consumed_failed: u64,
}

/// Per-topic counters of one consumer.
pub struct ConsumerStats {
    started: Instant,
    topics: Mutex<HashMap<String, Counters>>,
}

impl Default for ConsumerStats {
    fn default() -> Self {
        ConsumerStats {
            started: Instant::now(),
            topics: Mutex::new(HashMap::new()),
        }
    }
}

impl ConsumerStats {
    /// One pull that found `msgs` messages after `rt`.
    pub fn pulled(&self, topic: &str, rt: Duration, msgs: usize) {
        let mut t = self.topics.lock();
        let c = t.entry(topic.to_string()).or_default();
        c.pulls += 1;
        c.pull_rt_ms += rt.as_millis() as u64;
        c.pulled_msgs += msgs as u64;
    }

    /// One listener call over `ok + failed` messages that took `rt`.
    pub fn consumed(&self, topic: &str, rt: Duration, ok: usize, failed: usize) {
        let mut t = self.topics.lock();
        let c = t.entry(topic.to_string()).or_default();
        c.consume_calls += 1;
        c.consume_rt_ms += rt.as_millis() as u64;
        c.consumed_ok += ok as u64;
        c.consumed_failed += failed as u64;
    }

    /// The `ConsumeStatus` of one topic.
    pub fn status(&self, topic: &str) -> ConsumeStatus {
        let c = self.topics.lock().get(topic).copied().unwrap_or_default();
        let secs = self.started.elapsed().as_secs_f64().max(1.0);
        let mean = |sum: u64, n: u64| if n == 0 { 0.0 } else { sum as f64 / n as f64 };
        ConsumeStatus {
            consume_failed_msgs: c.consumed_failed as i64,
            consume_failed_tps: c.consumed_failed as f64 / secs,
            consume_ok_tps: c.consumed_ok as f64 / secs,
            consume_rt: mean(c.consume_rt_ms, c.consume_calls),
            pull_rt: mean(c.pull_rt_ms, c.pulls),
            pull_tps: c.pulled_msgs as f64 / secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn means_and_totals() {
        let s = ConsumerStats::default();
        s.pulled("T", Duration::from_millis(10), 4);
        s.pulled("T", Duration::from_millis(30), 0);
        s.consumed("T", Duration::from_millis(6), 3, 1);
        let st = s.status("T");
        assert_eq!(st.pull_rt, 20.0);
        assert_eq!(st.consume_rt, 6.0);
        assert_eq!(st.consume_failed_msgs, 1);
        assert!(st.pull_tps > 0.0 && st.pull_tps <= 4.0);
        assert_eq!(s.status("other"), ConsumeStatus::default());
    }
}
