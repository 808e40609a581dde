//! Experiment `vs-kafka`: one commit log for every queue (rmq-store, RocketMQ's design) next
//! to one log per partition (rmq-kafkalog, Kafka's design), as the number of queues grows.
//!
//! For P in {1, 4, 16, 64, 256, 1024} ({1, 16, 256} with `--quick`), one thread appends N
//! messages with 1 KiB bodies round-robin over P queues of one topic: into a
//! `DefaultMessageStore` (ASYNC_FLUSH; its reput thread builds the P consume queues behind the
//! appends) and, in the same process, into a kafkalog `Log` with P partitions. Rounds
//! alternate which side goes first. Two durability modes: `page-cache` (nobody calls fsync
//! while timing) and `fsync-1000` (after every 1000 messages, each side forces what it has
//! appended to disk: the store its commit log, kafkalog every partition's active segment).
//! Reported: throughput (msg/s, median round), per-append latency percentiles (hdrhistogram),
//! and the files and bytes each side leaves on disk.
//!
//! Output: `book/src/figures/vs-kafka/` (vs-kafka.csv, vs-kafka.json, throughput.svg,
//! p99.svg, files.svg, meta.json). Book: Part V "RocketMQ vs Kafka: one log or many".
//! Kafka ships no such benchmark; its `kafka-producer-perf-test` drives a whole broker.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use plotters::prelude::*;
use rmq_common::MessageExtBrokerInner;
use rmq_kafkalog::{Log, LogConfig};
use rmq_store::{DefaultMessageStore, FlushDiskType, MessageStoreConfig, PutMessageStatus};
use serde::Serialize;

use experiments::chart::{grouped_bar_chart, Series};
use experiments::latency::record;
use experiments::messages::message;
use experiments::{
    figures_dir_for, new_latency_histogram, progress_bar, store_files, workspace_root, write_csv,
    write_json, write_meta, LatencySummary, QuickArgs,
};

const EXPERIMENT: &str = "vs-kafka";
const TOPIC: &str = "VsKafka";

#[derive(Parser)]
#[command(about = "One commit log (rmq-store) vs one log per partition (rmq-kafkalog)")]
struct Cli {
    #[command(flatten)]
    quick: QuickArgs,
}

#[derive(Debug, Clone, Serialize)]
struct Params {
    partitions: Vec<u32>,
    body_bytes: usize,
    /// Messages per run in the page-cache mode and in the fsync-1000 mode.
    messages_page_cache: usize,
    messages_fsync: usize,
    fsync_every: usize,
    rounds: usize,
    commit_log_file_bytes: u64,
    kafka_segment_bytes: u64,
    kafka_index_interval_bytes: u32,
}

impl Params {
    fn new(q: QuickArgs) -> Params {
        Params {
            partitions: q.pick(vec![1, 16, 256], vec![1, 4, 16, 64, 256, 1024]),
            body_bytes: 1024,
            messages_page_cache: q.pick(20_000, 200_000),
            messages_fsync: q.pick(5_000, 50_000),
            fsync_every: 1000,
            rounds: q.pick(1, 3),
            commit_log_file_bytes: q.pick(64 << 20, 256 << 20),
            kafka_segment_bytes: q.pick(64 << 20, 256 << 20),
            kafka_index_interval_bytes: 4096,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Side {
    #[serde(rename = "rmq-store")]
    Store,
    #[serde(rename = "kafkalog")]
    Kafka,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Store => "rmq-store (one commit log)",
            Side::Kafka => "kafkalog (log per partition)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Mode {
    #[serde(rename = "page-cache")]
    PageCache,
    #[serde(rename = "fsync-1000")]
    Fsync,
}

/// The result of one timed run.
#[derive(Debug, Clone, Serialize)]
struct Run {
    side: Side,
    mode: Mode,
    partitions: u32,
    messages: usize,
    seconds: f64,
    msgs_per_s: f64,
    latency: LatencySummary,
    files: usize,
    bytes: u64,
    allocated_bytes: u64,
}

/// What one side needs to take part: an append and a "force to disk".
trait Appender {
    fn append(&mut self, queue: u32) -> Result<()>;
    fn force(&mut self) -> Result<()>;
    /// Waits for background work that belongs to the appends (the store's reput) and stops.
    fn finish(self: Box<Self>) -> Result<()>;
}

struct StoreSide {
    store: std::sync::Arc<DefaultMessageStore>,
    templates: Vec<MessageExtBrokerInner>,
}

impl Appender for StoreSide {
    fn append(&mut self, queue: u32) -> Result<()> {
        let r = self
            .store
            .put_message(self.templates[queue as usize].clone());
        if r.status != PutMessageStatus::PutOk {
            bail!("put failed: {:?}", r.status);
        }
        Ok(())
    }
    fn force(&mut self) -> Result<()> {
        self.store.commit_log().flush();
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<()> {
        let t0 = Instant::now();
        while self.store.dispatch_behind_bytes() > 0 {
            if t0.elapsed().as_secs() > 60 {
                bail!("reput still behind after 60 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.store.shutdown();
        Ok(())
    }
}

struct KafkaSide {
    log: Log,
    value: Vec<u8>,
}

impl Appender for KafkaSide {
    fn append(&mut self, queue: u32) -> Result<()> {
        self.log
            .append(TOPIC, queue, b"", &self.value, rmq_store::now_ms())?;
        Ok(())
    }
    fn force(&mut self) -> Result<()> {
        Ok(self.log.flush_all()?)
    }
    fn finish(mut self: Box<Self>) -> Result<()> {
        Ok(self.log.flush_all()?)
    }
}

fn open(side: Side, dir: &Path, p: &Params, partitions: u32) -> Result<Box<dyn Appender>> {
    Ok(match side {
        Side::Store => {
            let config = MessageStoreConfig {
                mapped_file_size_commit_log: p.commit_log_file_bytes,
                flush_disk_type: FlushDiskType::AsyncFlush,
                ..MessageStoreConfig::with_root(dir)
            };
            let body = Bytes::from(vec![b'm'; p.body_bytes]);
            Box::new(StoreSide {
                store: DefaultMessageStore::open(config).context("opening the store")?,
                templates: (0..partitions)
                    .map(|q| message(TOPIC, q as i32, body.clone(), Some("TagA"), None, None))
                    .collect(),
            })
        }
        Side::Kafka => Box::new(KafkaSide {
            log: Log::open(
                dir,
                LogConfig {
                    segment_bytes: p.kafka_segment_bytes,
                    index_interval_bytes: p.kafka_index_interval_bytes,
                    flush_interval_messages: None,
                },
            )?,
            value: vec![b'm'; p.body_bytes],
        }),
    })
}

// ANCHOR: run
/// One timed run: `n` appends round-robin over `partitions` queues, each append timed.
fn run(side: Side, mode: Mode, dir: &Path, p: &Params, partitions: u32, n: usize) -> Result<Run> {
    let mut app = open(side, dir, p, partitions)?;
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

/// The median round (by throughput) of each (side, mode, partitions).
fn medians(runs: &[Run]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for r in runs {
        let key = |x: &Run| (x.side, x.mode, x.partitions);
        if out.iter().any(|o| key(o) == key(r)) {
            continue;
        }
        let mut same: Vec<&Run> = runs.iter().filter(|x| key(x) == key(r)).collect();
        same.sort_by(|a, b| a.msgs_per_s.total_cmp(&b.msgs_per_s));
        out.push(same[same.len() / 2].clone());
    }
    out
}

fn find(rows: &[Run], side: Side, mode: Mode, partitions: u32) -> Option<&Run> {
    rows.iter()
        .find(|r| r.side == side && r.mode == mode && r.partitions == partitions)
}

/// Throughput against the number of partitions, both axes logarithmic.
fn throughput_chart(path: &Path, p: &Params, rows: &[Run]) -> Result<()> {
    let err = |e: &dyn std::fmt::Debug| anyhow::anyhow!("chart: {e:?}");
    let max_p = f64::from(p.partitions.iter().copied().max().unwrap_or(1));
    let (lo, hi) = rows.iter().fold((f64::MAX, 0f64), |(lo, hi), r| {
        (lo.min(r.msgs_per_s), hi.max(r.msgs_per_s))
    });
    let root = SVGBackend::new(path, (820, 460)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Append throughput vs number of queues/partitions",
            ("sans-serif", 20),
        )
        .margin(14)
        .margin_right(30)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(
            (0.7f64..max_p * 1.4).log_scale(),
            ((lo / 1.5).max(1.0)..hi * 1.5).log_scale(),
        )
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("queues (rmq-store) = partitions (kafkalog), log scale")
        .y_desc("messages/s, log scale")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(|e| err(&e))?;
    let colours = [RGBColor(31, 119, 180), RGBColor(255, 127, 14)];
    for (si, side) in [Side::Store, Side::Kafka].into_iter().enumerate() {
        for mode in [Mode::PageCache, Mode::Fsync] {
            let pts: Vec<(f64, f64)> = p
                .partitions
                .iter()
                .filter_map(|&n| find(rows, side, mode, n).map(|r| (f64::from(n), r.msgs_per_s)))
                .collect();
            let col = colours[si];
            let style = if mode == Mode::PageCache {
                col.stroke_width(3)
            } else {
                col.mix(0.6).stroke_width(1)
            };
            let label = format!(
                "{}, {}",
                side.name(),
                if mode == Mode::PageCache {
                    "page cache"
                } else {
                    "fsync every 1000"
                }
            );
            chart
                .draw_series(LineSeries::new(pts.clone(), style))
                .map_err(|e| err(&e))?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
            chart
                .draw_series(pts.into_iter().map(|pt| Circle::new(pt, 3, col.filled())))
                .map_err(|e| err(&e))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let started = Instant::now();
    let p = Params::new(cli.quick);
    let scratch = workspace_root().join("target/experiments").join(EXPERIMENT);
    std::fs::create_dir_all(&scratch)?;
    let tmp = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&scratch)?;
    let modes = [
        (Mode::PageCache, p.messages_page_cache),
        (Mode::Fsync, p.messages_fsync),
    ];
    let bar = progress_bar(
        (p.partitions.len() * p.rounds * modes.len() * 2) as u64,
        "appends",
    );
    let mut runs = Vec::new();
    for &(mode, n) in &modes {
        for &parts in &p.partitions {
            for round in 0..p.rounds {
                let order = if round % 2 == 0 {
                    [Side::Store, Side::Kafka]
                } else {
                    [Side::Kafka, Side::Store]
                };
                for side in order {
                    let dir = tmp
                        .path()
                        .join(format!("{side:?}-{mode:?}-{parts}-{round}"));
                    runs.push(run(side, mode, &dir, &p, parts, n)?);
                    bar.inc(1);
                }
            }
        }
    }
    bar.finish_and_clear();
    let rows = medians(&runs);

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
    for &(mode, _) in &modes {
        for &parts in &p.partitions {
            let (Some(s), Some(k)) = (
                find(&rows, Side::Store, mode, parts),
                find(&rows, Side::Kafka, mode, parts),
            ) else {
                continue;
            };
            let ratio = k.msgs_per_s / s.msgs_per_s;
            let mode_name = if mode == Mode::PageCache {
                "page-cache"
            } else {
                "fsync-1000"
            };
            println!(
                "{:>10} {:>6} | {:>11.0} {:>8.1} {:>8.1} {:>6} | {:>11.0} {:>8.1} {:>8.1} {:>6} | {:>6.2}",
                mode_name, parts, s.msgs_per_s, s.latency.p99_us, s.latency.p999_us, s.files,
                k.msgs_per_s, k.latency.p99_us, k.latency.p999_us, k.files, ratio
            );
            csv.push(vec![
                mode_name.to_string(),
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
    println!(
        "k/s = kafkalog msg/s / rmq-store msg/s (median of {} rounds)",
        p.rounds
    );

    let out = figures_dir_for(EXPERIMENT, cli.quick.quick)?;
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
        &serde_json::json!({ "params": &p, "medians": &rows, "runs": &runs }),
    )?;
    throughput_chart(&out.join("throughput.svg"), &p, &rows)?;
    let groups: Vec<String> = p.partitions.iter().map(|n| format!("{n}")).collect();
    let per_side = |mode: Mode, f: &dyn Fn(&Run) -> f64| -> Vec<Series> {
        [Side::Store, Side::Kafka]
            .into_iter()
            .map(|side| Series {
                name: side.name().into(),
                values: p
                    .partitions
                    .iter()
                    .map(|&n| find(&rows, side, mode, n).map_or(0.0, f))
                    .collect(),
            })
            .collect()
    };
    grouped_bar_chart(
        &out.join("p99.svg"),
        "p99 append latency, page-cache mode (µs), by queues/partitions",
        "µs",
        &groups,
        &per_side(Mode::PageCache, &|r| r.latency.p99_us),
        &|v| format!("{v:.1}"),
    )?;
    grouped_bar_chart(
        &out.join("files.svg"),
        "Files on disk after the run, by queues/partitions",
        "files",
        &groups,
        &per_side(Mode::PageCache, &|r| r.files as f64),
        &|v| format!("{v:.0}"),
    )?;
    write_meta(&out, EXPERIMENT, cli.quick.mode(), started.elapsed(), &p)?;
    println!("figures written to {}", out.display());
    Ok(())
}
