//! Throughput and latency bookkeeping for mqbench: one hdrhistogram per
//! second plus one for the whole run, printed as a line a second and written
//! as a JSON summary at the end.
//!
//! Book: Part II "Producing" / "Consuming" (measuring). Mirrors the
//! `StatsBenchmarkProducer` / `StatsBenchmarkConsumer` counters of 4.8.0's
//! `example` benchmark module.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use serde::Serialize;

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

fn percentiles(h: &Histogram<u64>) -> Percentiles {
    Percentiles {
        p50: h.value_at_quantile(0.50),
        p99: h.value_at_quantile(0.99),
        p999: h.value_at_quantile(0.999),
        max: h.max(),
        mean: h.mean(),
    }
}

/// One second of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Second {
    pub second: u64,
    pub tps: u64,
    pub failures: u64,
    pub latency_us: Percentiles,
}

struct Inner {
    /// When the first and the last messages were recorded.
    first: Option<Instant>,
    last: Option<Instant>,
    interval: Histogram<u64>,
    total: Histogram<u64>,
    count: u64,
    failures: u64,
    interval_count: u64,
    interval_failures: u64,
}

/// Shared counters (cheap to clone).
#[derive(Clone)]
pub struct Stats {
    inner: Arc<Mutex<Inner>>,
}

/// 1 µs .. 1 h, 3 significant digits.
fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 3_600_000_000, 3)?)
}

impl Stats {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Stats {
            inner: Arc::new(Mutex::new(Inner {
                first: None,
                last: None,
                interval: histogram()?,
                total: histogram()?,
                count: 0,
                failures: 0,
                interval_count: 0,
                interval_failures: 0,
            })),
        })
    }

    /// `n` messages done, with one latency sample.
    pub fn record(&self, n: u64, latency: Duration) {
        let us = (latency.as_micros() as u64).clamp(1, 3_600_000_000);
        let now = Instant::now();
        let mut s = self.inner.lock();
        s.first.get_or_insert(now);
        s.last = Some(now);
        let _ = s.interval.record(us);
        let _ = s.total.record(us);
        s.count += n;
        s.interval_count += n;
    }

    pub fn failure(&self) {
        let mut s = self.inner.lock();
        s.failures += 1;
        s.interval_failures += 1;
    }

    /// Closes the current second.
    pub fn tick(&self, second: u64, elapsed: Duration) -> Second {
        let mut s = self.inner.lock();
        let secs = elapsed.as_secs_f64().max(1e-3);
        let out = Second {
            second,
            tps: (s.interval_count as f64 / secs).round() as u64,
            failures: s.interval_failures,
            latency_us: percentiles(&s.interval),
        };
        s.interval.reset();
        s.interval_count = 0;
        s.interval_failures = 0;
        out
    }

    /// Messages recorded so far.
    pub fn count(&self) -> u64 {
        self.inner.lock().count
    }

    /// When the first and the last messages were recorded, in seconds after `start`.
    pub fn span(&self, start: Instant) -> (Option<f64>, Option<f64>) {
        let s = self.inner.lock();
        let rel = |t: Option<Instant>| t.map(|t| t.saturating_duration_since(start).as_secs_f64());
        (rel(s.first), rel(s.last))
    }

    pub fn totals(&self) -> (u64, u64, Percentiles) {
        let s = self.inner.lock();
        (s.count, s.failures, percentiles(&s.total))
    }
}

/// The JSON summary.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub mode: String,
    pub namesrv: String,
    pub topic: String,
    pub size: usize,
    pub threads: usize,
    pub batch: usize,
    pub duration_s: f64,
    pub messages: u64,
    pub failures: u64,
    pub tps_avg: f64,
    pub latency_us: Percentiles,
    pub per_second: Vec<Second>,
    /// Seconds after the start at which the first and the last message were recorded.
    pub first_message_s: Option<f64>,
    pub last_message_s: Option<f64>,
}

impl Summary {
    /// Messages per second between the first and the last message (the drain rate of a
    /// consumer, without its start-up and its idle tail).
    pub fn busy_rate(&self) -> f64 {
        match (self.first_message_s, self.last_message_s) {
            (Some(a), Some(b)) if b > a && self.messages > 1 => {
                (self.messages - 1) as f64 / (b - a)
            }
            _ => self.tps_avg,
        }
    }
}

/// Formats one report line.
pub fn line(s: &Second) -> String {
    format!(
        "[{:>4}s] TPS {:>8} | fail {:>4} | p50 {:>8.3} ms | p99 {:>8.3} ms | p999 {:>8.3} ms | max {:>8.3} ms",
        s.second,
        s.tps,
        s.failures,
        s.latency_us.p50 as f64 / 1000.0,
        s.latency_us.p99 as f64 / 1000.0,
        s.latency_us.p999 as f64 / 1000.0,
        s.latency_us.max as f64 / 1000.0,
    )
}

/// Drives the once-a-second report until `stop` resolves or `duration` passes.
pub async fn report_loop(
    stats: &Stats,
    duration: Option<Duration>,
    stop: tokio_util::sync::CancellationToken,
) -> (Vec<Second>, Duration) {
    let pb = match duration {
        Some(d) => indicatif::ProgressBar::new(d.as_secs()),
        None => indicatif::ProgressBar::new_spinner(),
    };
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len}s {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    let mut last = start;
    let mut seconds = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let now = Instant::now();
        let s = stats.tick(seconds.len() as u64 + 1, now - last);
        last = now;
        if pb.is_hidden() {
            println!("{}", line(&s));
        } else {
            pb.println(line(&s));
        }
        pb.set_message(format!("TPS {}", s.tps));
        pb.inc(1);
        seconds.push(s);
        if duration.is_some_and(|d| start.elapsed() >= d) {
            break;
        }
    }
    pb.finish_and_clear();
    (seconds, start.elapsed())
}
