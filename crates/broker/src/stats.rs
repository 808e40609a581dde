//! Put/get rates for `brokerStatus` and the InTPS/OutTPS columns of `clusterList`: the store's
//! running counters are sampled once a second and rates are taken over the last 10, 60 and
//! 600 seconds, the three windows 4.8.0 reports. Book: Part II, "Inside a broker".
//! Mirrors `StoreStatsService.getPutTps` / `getGetTransferedTps`.

use parking_lot::Mutex;
use std::collections::VecDeque;
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

#[cfg(test)]
mod tests {
    use super::*;

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
