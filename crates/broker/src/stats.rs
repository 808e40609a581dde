//! Put/get rates for `brokerStatus` and the InTPS/OutTPS columns of `clusterList`: the store's
//! running counters are sampled once a second and rates are taken over the last 10, 60 and
//! 600 seconds, the three windows 4.8.0 reports. Also the messages each consumer group was
//! handed per topic, whose one-minute rate is `consumeTps` in `consumerProgress`.
//! Book: Part II, "Inside a broker". Mirrors `StoreStatsService.getPutTps` /
//! `getGetTransferedTps` and `BrokerStatsManager`'s `GROUP_GET_NUMS` item.

use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// Once-a-second samples of (time, puts so far, gets so far).
#[derive(Default)]
pub struct TpsSampler {
    samples: Mutex<VecDeque<(Instant, u64, u64)>>,
}

impl TpsSampler {
    pub fn sample(&self, puts: u64, gets: u64) {
        let mut s = self.samples.lock();
        s.push_back((Instant::now(), puts, gets));
        while s.len() > 601 {
            s.pop_front();
        }
    }

    /// `"r10 r60 r600"` for puts (`gets = false`) or gets, each with two decimals.
    pub fn rates(&self, gets: bool) -> String {
        let s = self.samples.lock();
        let rate = |window: usize| -> f64 {
            let (Some(last), true) = (s.back(), s.len() >= 2) else {
                return 0.0;
            };
            let first = &s[s.len().saturating_sub(window + 1)];
            let secs = last.0.duration_since(first.0).as_secs_f64();
            let n = if gets {
                last.2 - first.2
            } else {
                last.1 - first.1
            };
            if secs > 0.0 {
                n as f64 / secs
            } else {
                0.0
            }
        };
        format!("{:.2} {:.2} {:.2}", rate(10), rate(60), rate(600))
    }
}

/// Messages handed to a group per topic (4.8.0 `BrokerStatsManager.incGroupGetNums`, key
/// `topic@group`), sampled once a second; the rate over the last minute is what 4.8.0 reports
/// as `consumeTps` (`tpsGroupGetNums`, the item's minute statistics).
#[derive(Default)]
pub struct GroupGetNums {
    totals: Mutex<HashMap<String, u64>>,
    samples: Mutex<HashMap<String, VecDeque<(Instant, u64)>>>,
}

impl GroupGetNums {
    /// Counts `n` messages of `topic` handed to `group` by a pull.
    pub fn add(&self, topic: &str, group: &str, n: u64) {
        let key = format!("{topic}@{group}");
        let mut totals = self.totals.lock();
        if !totals.contains_key(&key) {
            // a zero sample at first sight, so the first pull's messages count in the rate
            self.samples
                .lock()
                .entry(key.clone())
                .or_default()
                .push_back((Instant::now(), 0));
        }
        *totals.entry(key).or_default() += n;
    }

    /// Takes one sample of every counter; keeps a minute of them.
    pub fn sample(&self) {
        let now = Instant::now();
        let totals = self.totals.lock().clone();
        let mut samples = self.samples.lock();
        for (key, total) in totals {
            let s = samples.entry(key).or_default();
            s.push_back((now, total));
            while s.len() > 61 {
                s.pop_front();
            }
        }
    }

    /// Messages per second handed to `group` from `topic` over the last minute.
    pub fn tps(&self, topic: &str, group: &str) -> f64 {
        let samples = self.samples.lock();
        let Some(s) = samples.get(&format!("{topic}@{group}")) else {
            return 0.0;
        };
        match (s.front(), s.back()) {
            (Some(first), Some(last)) if last.0 > first.0 => {
                (last.1 - first.1) as f64 / last.0.duration_since(first.0).as_secs_f64()
            }
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_tps_is_per_topic_and_group() {
        let g = GroupGetNums::default();
        assert_eq!(g.tps("T", "G"), 0.0);
        g.add("T", "G", 5);
        std::thread::sleep(std::time::Duration::from_millis(200));
        g.add("T", "G", 40);
        g.add("T", "Other", 1000);
        g.sample();
        let tps = g.tps("T", "G");
        // 45 messages since T@G was first seen, 0.2 s or a little more ago
        assert!(tps > 45.0 && tps <= 225.0, "{tps}");
        assert_eq!(g.tps("U", "G"), 0.0);
    }

    #[test]
    fn rates_follow_the_counters() {
        let t = TpsSampler::default();
        assert_eq!(t.rates(false), "0.00 0.00 0.00");
        t.sample(0, 0);
        std::thread::sleep(std::time::Duration::from_millis(200));
        t.sample(100, 10);
        let put: Vec<f64> = t
            .rates(false)
            .split(' ')
            .map(|x| x.parse().unwrap())
            .collect();
        let get: Vec<f64> = t
            .rates(true)
            .split(' ')
            .map(|x| x.parse().unwrap())
            .collect();
        assert!(put[0] > 100.0 && put[0] <= 500.0, "{put:?}");
        assert!(get[0] > 10.0 && get[0] <= 50.0, "{get:?}");
        assert_eq!(put[0], put[2]);
    }
}
