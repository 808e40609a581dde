//! Latency recording with HdrHistogram: constructors, a serialisable summary, and the
//! percentile curve the charts draw.
//!
//! Values are recorded in nanoseconds; summaries and charts report microseconds.

use hdrhistogram::Histogram;
use serde::Serialize;

/// A histogram for latencies from 1 ns to 60 s with 3 significant digits.
pub fn new_latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("static histogram bounds are valid")
}

/// Records a duration, clamping it into the histogram's range.
pub fn record(hist: &mut Histogram<u64>, d: std::time::Duration) {
    let ns = (d.as_nanos() as u64).clamp(1, hist.high());
    hist.saturating_record(ns);
}

/// The numbers a table or a JSON file shows for one histogram (microseconds).
#[derive(Debug, Clone, Serialize)]
pub struct LatencySummary {
    /// How many values the histogram holds.
    pub count: u64,
    /// The smallest value, in µs.
    pub min_us: f64,
    /// The mean, in µs.
    pub mean_us: f64,
    /// The median, in µs.
    pub p50_us: f64,
    /// The 90th percentile, in µs.
    pub p90_us: f64,
    /// The 99th percentile, in µs.
    pub p99_us: f64,
    /// The 99.9th percentile, in µs.
    pub p999_us: f64,
    /// The largest value, in µs.
    pub max_us: f64,
}

impl LatencySummary {
    /// The summary of `h`, a histogram of nanoseconds.
    pub fn of(h: &Histogram<u64>) -> Self {
        let us = |ns: u64| ns as f64 / 1000.0;
        LatencySummary {
            count: h.len(),
            min_us: us(h.min()),
            mean_us: h.mean() / 1000.0,
            p50_us: us(h.value_at_quantile(0.50)),
            p90_us: us(h.value_at_quantile(0.90)),
            p99_us: us(h.value_at_quantile(0.99)),
            p999_us: us(h.value_at_quantile(0.999)),
            max_us: us(h.max()),
        }
    }
}

/// The percentile curve of a histogram: `(percentile, latency in µs)` at the classic
/// HdrHistogram points, from 0 % up to the maximum, for charts and CSV files.
pub fn percentile_curve(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    let mut points = Vec::new();
    if h.is_empty() {
        return points;
    }
    // 0, 10, ..., 90, 99, 99.9, ... until the next step would be beyond the sample count.
    let mut ps: Vec<f64> = (0..10).map(|i| i as f64 * 10.0).collect();
    ps.extend([95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999]);
    let n = h.len() as f64;
    for p in ps {
        // Keep only percentiles the sample size can resolve.
        if (1.0 - p / 100.0) * n < 1.0 - 1e-6 && p > 0.0 {
            break;
        }
        points.push((p, h.value_at_percentile(p) as f64 / 1000.0));
    }
    points.push((100.0, h.max() as f64 / 1000.0));
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_and_curve_follow_the_samples() {
        let mut h = new_latency_histogram();
        for i in 1..=1000u64 {
            h.record(i * 1000).unwrap(); // 1 µs .. 1000 µs
        }
        let s = LatencySummary::of(&h);
        assert_eq!(s.count, 1000);
        assert!((s.p50_us - 500.0).abs() < 2.0, "{s:?}");
        assert!((s.max_us - 1000.0).abs() < 2.0, "{s:?}");
        let curve = percentile_curve(&h);
        assert_eq!(curve.first().map(|p| p.0), Some(0.0));
        assert_eq!(curve.last().map(|p| p.0), Some(100.0));
        assert!(curve.windows(2).all(|w| w[0].1 <= w[1].1));
        // 1000 samples resolve 99.9 % but not 99.95 %.
        assert!(curve.iter().any(|p| p.0 == 99.9));
        assert!(!curve.iter().any(|p| p.0 == 99.95));
    }
}
