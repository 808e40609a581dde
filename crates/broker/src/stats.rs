//! Put/get rates for `brokerStatus` and the InTPS/OutTPS columns of `clusterList`: the store's
//! running counters are sampled once a second and rates are taken over the last 10, 60 and
//! 600 seconds, the three windows 4.8.0 reports. Also the messages each consumer group was
//! handed per topic, whose one-minute rate is `consumeTps` in `consumerProgress`. And the
//! totals at the last two midnights, from which `brokerStatus` shows yesterday's traffic.
//! Book: Part II, "Inside a broker". Mirrors `StoreStatsService.getPutTps` /
//! `getGetTransferedTps`, `BrokerStatsManager`'s `TOPIC_PUT_NUMS` and `GROUP_GET_NUMS` items (`StatsItemSet`) and
//! `BrokerStats`.

use chrono::{DateTime, Days, TimeZone};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Once-a-second samples of (time, puts so far, gets so far).
#[derive(Default)]
pub struct TpsSampler {
    samples: Mutex<VecDeque<(Instant, u64, u64)>>,
}

impl TpsSampler {
    /// Records the totals now (called once a second); keeps ten minutes.
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

/// One window of a [`StatsItemSet`] key: the count over the window and its rate.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StatsWindow {
    /// Events counted over the window.
    pub sum: u64,
    /// Events per second over the window.
    pub tps: f64,
}

/// Samples of one key: once a second (a minute of them), once a minute (an hour) and once an
/// hour (a day), each `(when, total so far)`.
#[derive(Default)]
struct KeySamples {
    seconds: VecDeque<(Instant, u64)>,
    minutes: VecDeque<(Instant, u64)>,
    hours: VecDeque<(Instant, u64)>,
}

fn window(s: &VecDeque<(Instant, u64)>) -> StatsWindow {
    match (s.front(), s.back()) {
        (Some(first), Some(last)) if last.0 > first.0 => {
            let sum = last.1 - first.1;
            StatsWindow {
                sum,
                tps: sum as f64 / last.0.duration_since(first.0).as_secs_f64(),
            }
        }
        _ => StatsWindow::default(),
    }
}

fn push_bounded(s: &mut VecDeque<(Instant, u64)>, v: (Instant, u64), keep: usize) {
    s.push_back(v);
    while s.len() > keep {
        s.pop_front();
    }
}

/// A keyed event counter with minute, hour and day windows: 4.8.0's `StatsItemSet` as
/// `BrokerStatsManager` keeps it for `TOPIC_PUT_NUMS` (key: topic) and `GROUP_GET_NUMS` (key:
/// `topic@group`). VIEW_BROKER_STATS_DATA reads the three windows (`mqadmin statsAll`); the
/// minute rate of a group's gets is `consumeTps` (`consumerProgress`).
#[derive(Default)]
pub struct StatsItemSet {
    totals: Mutex<HashMap<String, u64>>,
    samples: Mutex<HashMap<String, KeySamples>>,
}

impl StatsItemSet {
    /// Counts `n` events of `key`.
    pub fn add(&self, key: &str, n: u64) {
        let mut totals = self.totals.lock();
        if !totals.contains_key(key) {
            // a zero sample at first sight, so the first events count in every window
            let now = Instant::now();
            let mut samples = self.samples.lock();
            let s = samples.entry(key.to_string()).or_default();
            s.seconds.push_back((now, 0));
            s.minutes.push_back((now, 0));
            s.hours.push_back((now, 0));
        }
        *totals.entry(key.to_string()).or_default() += n;
    }

    // ANCHOR: stats_sample
    /// Takes one sample of every counter (called once a second); every 60th call also feeds
    /// the hour window and every 3600th the day window.
    pub fn sample(&self, tick: u64) {
        let now = Instant::now();
        let totals = self.totals.lock().clone();
        let mut samples = self.samples.lock();
        for (key, total) in totals {
            let s = samples.entry(key).or_default();
            push_bounded(&mut s.seconds, (now, total), 61);
            if tick.is_multiple_of(60) {
                push_bounded(&mut s.minutes, (now, total), 61);
            }
            if tick.is_multiple_of(3600) {
                push_bounded(&mut s.hours, (now, total), 25);
            }
        }
    }
    // ANCHOR_END: stats_sample

    /// Whether `key` was ever counted (4.8.0 answers an unknown item with SYSTEM_ERROR).
    pub fn has(&self, key: &str) -> bool {
        self.totals.lock().contains_key(key)
    }

    /// The last minute, hour and day of `key`. The hour and day windows reach back to the
    /// latest second sample, so they include the current minute.
    pub fn windows(&self, key: &str) -> [StatsWindow; 3] {
        let samples = self.samples.lock();
        let Some(s) = samples.get(key) else {
            return [StatsWindow::default(); 3];
        };
        let with_now = |w: &VecDeque<(Instant, u64)>| {
            let mut w = w.clone();
            if let Some(last) = s.seconds.back() {
                w.push_back(*last);
            }
            window(&w)
        };
        [window(&s.seconds), with_now(&s.minutes), with_now(&s.hours)]
    }

    /// Events per second of `key` over the last minute.
    pub fn tps(&self, key: &str) -> f64 {
        self.windows(key)[0].tps
    }
}

/// Messages handed to a group per topic (4.8.0 `BrokerStatsManager.incGroupGetNums`, key
/// `topic@group`); the rate over the last minute is what 4.8.0 reports as `consumeTps`
/// (`tpsGroupGetNums`, the item's minute statistics).
#[derive(Default)]
pub struct GroupGetNums(pub StatsItemSet);

impl GroupGetNums {
    /// The `GROUP_GET_NUMS` key of a topic and group.
    pub fn key(topic: &str, group: &str) -> String {
        format!("{topic}@{group}")
    }

    /// Counts `n` messages of `topic` handed to `group` by a pull.
    pub fn add(&self, topic: &str, group: &str, n: u64) {
        self.0.add(&Self::key(topic, group), n);
    }

    /// Messages per second handed to `group` from `topic` over the last minute.
    pub fn tps(&self, topic: &str, group: &str) -> f64 {
        self.0.tps(&Self::key(topic, group))
    }
}

/// The put and get totals taken at the last two local midnights (4.8.0 `BrokerStats`). They
/// are 0 until the first midnight after the start — 4.8.0 takes no snapshot at start either —
/// and `TodayMorning - YesterdayMorning` is then yesterday's traffic.
#[derive(Default)]
pub struct DailyTotals {
    put_yesterday_morning: AtomicU64,
    put_today_morning: AtomicU64,
    get_yesterday_morning: AtomicU64,
    get_today_morning: AtomicU64,
}

/// The four `brokerStatus` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailySnapshot {
    /// Puts at the start of yesterday.
    pub put_yesterday_morning: u64,
    /// Puts at the start of today.
    pub put_today_morning: u64,
    /// Gets at the start of yesterday.
    pub get_yesterday_morning: u64,
    /// Gets at the start of today.
    pub get_today_morning: u64,
}

impl DailyTotals {
    /// Midnight: today's morning totals become yesterday's, the running totals today's
    /// (`BrokerStats.record`).
    pub fn record(&self, puts: u64, gets: u64) {
        let put_today = self.put_today_morning.swap(puts, Ordering::AcqRel);
        self.put_yesterday_morning
            .store(put_today, Ordering::Release);
        let get_today = self.get_today_morning.swap(gets, Ordering::AcqRel);
        self.get_yesterday_morning
            .store(get_today, Ordering::Release);
        tracing::info!(
            puts = puts.saturating_sub(put_today),
            gets = gets.saturating_sub(get_today),
            "yesterday's message totals"
        );
    }

    /// The four values now.
    pub fn snapshot(&self) -> DailySnapshot {
        DailySnapshot {
            put_yesterday_morning: self.put_yesterday_morning.load(Ordering::Acquire),
            put_today_morning: self.put_today_morning.load(Ordering::Acquire),
            get_yesterday_morning: self.get_yesterday_morning.load(Ordering::Acquire),
            get_today_morning: self.get_today_morning.load(Ordering::Acquire),
        }
    }
}

/// How long from `now` until the next midnight of its time zone
/// (`UtilAll.computeNextMorningTimeMillis`). A midnight skipped by a daylight-saving change
/// falls back to 24 hours from now.
pub fn until_next_midnight<Tz: TimeZone>(now: &DateTime<Tz>) -> Duration {
    let next = now
        .date_naive()
        .checked_add_days(Days::new(1))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| now.timezone().from_local_datetime(&t).earliest());
    match next {
        Some(next) => next
            .signed_duration_since(now.clone())
            .to_std()
            .unwrap_or(Duration::from_secs(1))
            .max(Duration::from_secs(1)),
        None => Duration::from_secs(24 * 3600),
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
        g.0.sample(1);
        let tps = g.tps("T", "G");
        // 45 messages since T@G was first seen, 0.2 s or a little more ago
        assert!(tps > 45.0 && tps <= 225.0, "{tps}");
        assert_eq!(g.tps("U", "G"), 0.0);
    }

    #[test]
    fn stats_items_keep_minute_hour_and_day_windows() {
        let s = StatsItemSet::default();
        assert!(!s.has("T"));
        s.add("T", 3);
        std::thread::sleep(std::time::Duration::from_millis(50));
        s.add("T", 4);
        s.sample(1);
        assert!(s.has("T"));
        let [minute, hour, day] = s.windows("T");
        assert_eq!((minute.sum, hour.sum, day.sum), (7, 7, 7));
        assert!(minute.tps > 0.0);
        // The hour window takes a minute sample every 60 ticks.
        s.add("T", 10);
        s.sample(60);
        assert_eq!(s.windows("T")[1].sum, 17);
        assert_eq!(s.windows("U"), [StatsWindow::default(); 3]);
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

#[cfg(test)]
mod daily_tests {
    use super::*;
    use chrono::{FixedOffset, Utc};

    #[test]
    fn daily_totals_are_zero_until_the_first_midnight_then_shift() {
        let d = DailyTotals::default();
        assert_eq!(
            d.snapshot(),
            DailySnapshot {
                put_yesterday_morning: 0,
                put_today_morning: 0,
                get_yesterday_morning: 0,
                get_today_morning: 0
            }
        );
        d.record(100, 40);
        d.record(250, 90);
        let s = d.snapshot();
        assert_eq!((s.put_yesterday_morning, s.put_today_morning), (100, 250));
        assert_eq!((s.get_yesterday_morning, s.get_today_morning), (40, 90));
    }

    #[test]
    fn next_midnight_is_in_the_clocks_own_time_zone() {
        let utc = Utc.with_ymd_and_hms(2026, 11, 25, 23, 59, 30).unwrap();
        assert_eq!(until_next_midnight(&utc), Duration::from_secs(30));
        // 23:59:30 UTC is 07:59:30 the next day in UTC+8: 16 h 0 min 30 s to go
        let cst = utc.with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap());
        assert_eq!(
            until_next_midnight(&cst),
            Duration::from_secs(16 * 3600 + 30)
        );
        let at_midnight = Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap();
        assert_eq!(
            until_next_midnight(&at_midnight),
            Duration::from_secs(24 * 3600)
        );
    }
}
