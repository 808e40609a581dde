//! The append workload of `vs-kafka`: one thread appends N messages round-robin over P queues
//! (partitions), timing every append.
//!
//! For P in {1, 4, 16, 64, 256, 1024} ({1, 16, 256} with `--quick`), into a
//! `DefaultMessageStore` (ASYNC_FLUSH; its reput thread builds the P consume queues behind the
//! appends) and into a kafkalog `Log` with P partitions. Rounds alternate which side goes
//! first. Two durability modes: `page-cache` (nobody calls fsync while timing) and
//! `fsync-1000` (after every 1000 messages each side forces what it has appended: the store
//! its commit log, kafkalog every partition's active segment). Reported: throughput (msg/s,
//! median round), per-append latency percentiles, and the files and bytes left on disk.
//!
//! Output: `vs-kafka.csv`, `vs-kafka.json`, `throughput.svg`, `p99.svg`, `files.svg`.
//! Book: Part V "RocketMQ vs Kafka: one log or many", "The experiment".

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use serde::Serialize;

use super::{open, Side, SideConfig};
use crate::chart::{grouped_bar_chart, log_log_chart, Line, Series};
use crate::latency::record;
use crate::{new_latency_histogram, store_files, write_csv, write_json, LatencySummary, QuickArgs};

/// The sizes and counts of the append workload.
#[derive(Debug, Clone, Serialize)]
pub struct AppendParams {
    /// The partition (queue) counts to run, one run each.
    pub partitions: Vec<u32>,
    /// Messages per run in the page-cache mode.
    pub messages_page_cache: usize,
    /// Messages per run in the fsync-1000 mode.
    pub messages_fsync: usize,
    /// In the fsync mode, how many appends between two forced flushes.
    pub fsync_every: usize,
    /// How many times each run is repeated; the median round is kept.
    pub rounds: usize,
}

impl AppendParams {
    /// The parameters for a quick or a full run.
    pub fn new(q: QuickArgs) -> AppendParams {
        AppendParams {
            partitions: q.pick(vec![1, 16, 256], vec![1, 4, 16, 64, 256, 1024]),
            messages_page_cache: q.pick(20_000, 200_000),
            messages_fsync: q.pick(5_000, 50_000),
            fsync_every: 1000,
            rounds: q.pick(1, 3),
        }
    }
}

/// How appends reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Mode {
    /// Appends stay in the page cache; the OS writes them back when it likes.
    #[serde(rename = "page-cache")]
    PageCache,
    /// Everything is forced to disk every `fsync_every` appends.
    #[serde(rename = "fsync-1000")]
    Fsync,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::PageCache => "page-cache",
            Mode::Fsync => "fsync-1000",
        }
    }
}

/// The result of one timed run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// The system measured.
    pub side: Side,
    /// How appends reach the disk.
    pub mode: Mode,
    /// The number of partitions (queues) the messages are spread over.
    pub partitions: u32,
    /// Messages appended.
    pub messages: usize,
    /// Wall-clock time of the run, in seconds.
    pub seconds: f64,
    /// Messages appended per second.
    pub msgs_per_s: f64,
    /// Latency of one append.
    pub latency: LatencySummary,
    /// Files left on disk after the run.
    pub files: usize,
    /// Their total length, in bytes.
    pub bytes: u64,
    /// What the file system allocated for them, in bytes.
    pub allocated_bytes: u64,
}

// ANCHOR: run
/// One timed run: `n` appends round-robin over `partitions` queues, each append timed.
#[allow(clippy::too_many_arguments)]
fn run(
    side: Side,
    mode: Mode,
    dir: &Path,
    c: &SideConfig,
    p: &AppendParams,
    partitions: u32,
    n: usize,
) -> Result<Run> {
    let mut app = open(side, dir, c, partitions)?;
    let mut hist: Histogram<u64> = new_latency_histogram();
    let started = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        app.append(i as u32 % partitions)?;
        if mode == Mode::Fsync && (i + 1) % p.fsync_every == 0 {
            app.force()?;
        }
        record(&mut hist, t.elapsed());
    }
    let seconds = started.elapsed().as_secs_f64();
    app.finish()?;
    // ANCHOR_END: run
    let files = store_files::list(dir)?;
    let run = Run {
        side,
        mode,
        partitions,
        messages: n,
        seconds,
        msgs_per_s: (n as f64 / seconds).round(),
        latency: LatencySummary::of(&hist),
        files: files.len(),
        bytes: files.iter().map(|f| f.bytes).sum(),
        allocated_bytes: files.iter().map(|f| f.allocated_bytes).sum(),
    };
    std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    Ok(run)
}

fn modes(p: &AppendParams) -> [(Mode, usize); 2] {
    [
        (Mode::PageCache, p.messages_page_cache),
        (Mode::Fsync, p.messages_fsync),
    ]
}

/// Every run of the workload, in `scratch`; `tick` is called after each run.
pub fn measure(
    scratch: &Path,
    c: &SideConfig,
    p: &AppendParams,
    tick: &dyn Fn(),
) -> Result<Vec<Run>> {
    let mut runs = Vec::new();
    for (mode, n) in modes(p) {
        for &parts in &p.partitions {
            for round in 0..p.rounds {
                for side in Side::order(round) {
                    let dir = scratch.join(format!("{side:?}-{mode:?}-{parts}-{round}"));
                    runs.push(run(side, mode, &dir, c, p, parts, n)?);
                    tick();
                }
            }
        }
    }
    Ok(runs)
}

/// How many runs [`measure`] makes (for the progress bar).
pub fn run_count(p: &AppendParams) -> usize {
    p.partitions.len() * p.rounds * 2 * Side::ALL.len()
}

/// The median round (by throughput) of each (side, mode, partitions).
pub fn medians(runs: &[Run]) -> Vec<Run> {
    super::medians(runs, |x| (x.side, x.mode, x.partitions), |x| x.msgs_per_s)
}

fn find(rows: &[Run], side: Side, mode: Mode, partitions: u32) -> Option<&Run> {
    rows.iter()
        .find(|r| r.side == side && r.mode == mode && r.partitions == partitions)
}

/// Prints the table and writes the CSV, the JSON and the three charts into `out`.
pub fn report(out: &Path, p: &AppendParams, runs: &[Run]) -> Result<()> {
    let rows = medians(runs);
    println!("appends (median of {} rounds)", p.rounds);
    println!(
        "{:>10} {:>6} | {:>11} {:>8} {:>8} {:>6} | {:>11} {:>8} {:>8} {:>6} | {:>6}",
        "mode",
        "parts",
        "store msg/s",
        "p99 µs",
        "p99.9 µs",
        "files",
        "kafka msg/s",
        "p99 µs",
        "p99.9 µs",
        "files",
        "k/s"
    );
    let mut csv = Vec::new();
    for (mode, _) in modes(p) {
        for &parts in &p.partitions {
            let (Some(s), Some(k)) = (
                find(&rows, Side::Store, mode, parts),
                find(&rows, Side::Kafka, mode, parts),
            ) else {
                continue;
            };
            let ratio = k.msgs_per_s / s.msgs_per_s;
            println!(
                "{:>10} {:>6} | {:>11.0} {:>8.1} {:>8.1} {:>6} | {:>11.0} {:>8.1} {:>8.1} {:>6} | {:>6.2}",
                mode.name(), parts, s.msgs_per_s, s.latency.p99_us, s.latency.p999_us, s.files,
                k.msgs_per_s, k.latency.p99_us, k.latency.p999_us, k.files, ratio
            );
            csv.push(vec![
                mode.name().to_string(),
                parts.to_string(),
                format!("{:.0}", s.msgs_per_s),
                format!("{:.0}", k.msgs_per_s),
                format!("{ratio:.3}"),
                format!("{:.1}", s.latency.p50_us),
                format!("{:.1}", k.latency.p50_us),
                format!("{:.1}", s.latency.p99_us),
                format!("{:.1}", k.latency.p99_us),
                format!("{:.1}", s.latency.p999_us),
                format!("{:.1}", k.latency.p999_us),
                s.files.to_string(),
                k.files.to_string(),
                s.bytes.to_string(),
                k.bytes.to_string(),
                s.allocated_bytes.to_string(),
                k.allocated_bytes.to_string(),
            ]);
        }
    }
    println!("k/s = kafkalog msg/s / rmq-store msg/s");

    write_csv(
        &out.join("vs-kafka.csv"),
        &[
            "mode",
            "partitions",
            "store_msgs_per_s",
            "kafka_msgs_per_s",
            "kafka_over_store",
            "store_p50_us",
            "kafka_p50_us",
            "store_p99_us",
            "kafka_p99_us",
            "store_p999_us",
            "kafka_p999_us",
            "store_files",
            "kafka_files",
            "store_bytes",
            "kafka_bytes",
            "store_allocated_bytes",
            "kafka_allocated_bytes",
        ],
        &csv,
    )?;
    write_json(
        &out.join("vs-kafka.json"),
        &serde_json::json!({ "params": p, "medians": &rows, "runs": runs }),
    )?;
    let lines: Vec<Line> = Side::ALL
        .into_iter()
        .flat_map(|side| {
            let rows = &rows;
            modes(p).into_iter().map(move |(mode, _)| Line {
                name: format!(
                    "{}, {}",
                    side.name(),
                    if mode == Mode::PageCache {
                        "page cache"
                    } else {
                        "fsync every 1000"
                    }
                ),
                points: p
                    .partitions
                    .iter()
                    .filter_map(|&n| {
                        find(rows, side, mode, n).map(|r| (f64::from(n), r.msgs_per_s))
                    })
                    .collect(),
                color: side.color(),
                bold: mode == Mode::PageCache,
            })
        })
        .collect();
    log_log_chart(
        &out.join("throughput.svg"),
        "Append throughput vs number of queues/partitions",
        "queues (rmq-store) = partitions (kafkalog), log scale",
        "messages/s, log scale",
        &lines,
    )?;
    let groups: Vec<String> = p.partitions.iter().map(|n| format!("{n}")).collect();
    let per_side = |f: &dyn Fn(&Run) -> f64| -> Vec<Series> {
        Side::ALL
            .into_iter()
            .map(|side| Series {
                name: side.name().into(),
                values: p
                    .partitions
                    .iter()
                    .map(|&n| find(&rows, side, Mode::PageCache, n).map_or(0.0, f))
                    .collect(),
            })
            .collect()
    };
    grouped_bar_chart(
        &out.join("p99.svg"),
        "p99 append latency, page-cache mode (µs), by queues/partitions",
        "µs",
        &groups,
        &per_side(&|r| r.latency.p99_us),
        &|v| format!("{v:.1}"),
    )?;
    grouped_bar_chart(
        &out.join("files.svg"),
        "Files on disk after the run, by queues/partitions",
        "files",
        &groups,
        &per_side(&|r| r.files as f64),
        &|v| format!("{v:.0}"),
    )?;
    Ok(())
}
