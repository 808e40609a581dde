//! Benchmark `append-bench` (`make bench`): how fast rmq-store appends messages, next to the fastest
//! thing an append could possibly be, a plain `memcpy` of the same record bytes into a warmed
//! memory-mapped file.
//!
//! For 128 B and 1 KiB message bodies, one thread calls `DefaultMessageStore::put_message`
//! (ASYNC_FLUSH, warmed mapped files, 4.8.0's 1 GiB commit-log files) and, in the same process,
//! a loop copies the identical encoded record into a warmed mmap. Rounds alternate between the
//! two so that both see the same page cache and writeback; the median round is reported with
//! the ratio store / memcpy, and the CPU time the appending thread spent per message (on a
//! busy machine the wall clock also measures the neighbours). Output: `book/src/figures/bench/`
//! (append.json, append.csv, append-msgs.svg, append-mbps.svg, append-cpu.svg, meta.json).
//! Book: Part I "CommitLog", section "How far from a memcpy?". 4.8.0 has no such benchmark (its
//! `benchmark/` scripts drive a full broker).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use clap::Parser;
use memmap2::MmapMut;
use rmq_common::inner::{encode_inner_record, inner_record_size};
use rmq_common::MessageExtBrokerInner;
use rmq_store::{DefaultMessageStore, FlushDiskType, MessageStoreConfig, PutMessageStatus};
use serde::Serialize;

use experiments::chart::{grouped_bar_chart, Series};
use experiments::messages::message;
use experiments::{
    figures_dir_for, progress_bar, workspace_root, write_csv, write_json, write_meta, QuickArgs,
};

const EXPERIMENT: &str = "bench";
const PAGE: usize = 4096;

#[derive(Parser)]
#[command(about = "Store append throughput next to a raw memcpy-into-mmap loop")]
struct Cli {
    #[command(flatten)]
    quick: QuickArgs,
}

#[derive(Debug, Clone, Serialize)]
struct Params {
    body_sizes: Vec<usize>,
    messages: Vec<usize>,
    warmup_messages: usize,
    rounds: usize,
    commit_log_file_bytes: u64,
    flush_disk_type: &'static str,
    warm_mapped_file_enable: bool,
    /// Pause after the warm-up, while the allocator pre-creates and warms the next file.
    settle_ms: u64,
}

impl Params {
    fn new(q: QuickArgs) -> Params {
        Params {
            body_sizes: vec![128, 1024],
            messages: q.pick(vec![100_000, 30_000], vec![1_000_000, 250_000]),
            warmup_messages: q.pick(5_000, 20_000),
            rounds: q.pick(1, 3),
            commit_log_file_bytes: q.pick(128 << 20, 1 << 30),
            flush_disk_type: "ASYNC_FLUSH",
            warm_mapped_file_enable: true,
            settle_ms: q.pick(300, 3_000),
        }
    }
}

fn template(body: usize) -> MessageExtBrokerInner {
    message(
        "BenchAppend",
        0,
        Bytes::from(vec![b'm'; body]),
        Some("TagA"),
        None,
        None,
    )
}

/// CPU time consumed so far by the calling thread. On a busy machine wall-clock throughput
/// says as much about the other processes as about the code; this does not.
fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes into the timespec we pass.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return f64::NAN;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// One timed run: messages, wall-clock seconds, and CPU seconds of the appending thread.
#[derive(Debug, Clone, Copy, Serialize)]
struct Run {
    messages: usize,
    seconds: f64,
    thread_cpu_seconds: f64,
}

impl Run {
    fn msgs_per_s(&self) -> f64 {
        self.messages as f64 / self.seconds
    }
    fn cpu_ns_per_msg(&self) -> f64 {
        self.thread_cpu_seconds * 1e9 / self.messages as f64
    }
}

/// `n` puts into a fresh store (after an untimed warm-up); the store is removed afterwards.
fn store_round(dir: &Path, p: &Params, body: usize, n: usize) -> Result<Run> {
    let config = MessageStoreConfig {
        mapped_file_size_commit_log: p.commit_log_file_bytes,
        flush_disk_type: FlushDiskType::AsyncFlush,
        warm_mapped_file_enable: true,
        ..MessageStoreConfig::with_root(dir)
    };
    let store = DefaultMessageStore::open(config).context("opening the bench store")?;
    let msg = template(body);
    let put = |m: MessageExtBrokerInner| -> Result<()> {
        let r = store.put_message(m);
        if r.status != PutMessageStatus::PutOk {
            bail!("put failed: {:?}", r.status);
        }
        Ok(())
    };
    for _ in 0..p.warmup_messages {
        put(msg.clone())?;
    }
    // Give the allocator time to create and warm the next file before timing.
    std::thread::sleep(Duration::from_millis(p.settle_ms));
    let (t0, c0) = (Instant::now(), thread_cpu_seconds());
    for _ in 0..n {
        put(msg.clone())?;
    }
    let (seconds, cpu) = (t0.elapsed().as_secs_f64(), thread_cpu_seconds() - c0);
    store.shutdown();
    drop(store);
    std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    Ok(Run {
        messages: n,
        seconds,
        thread_cpu_seconds: cpu,
    })
}

/// A file of `size` bytes, mapped and with every page touched (what warming does).
fn warmed_map(path: &Path, size: usize) -> Result<MmapMut> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.set_len(size as u64)?;
    // SAFETY: the file was just created by this process and nothing else maps or resizes it.
    let mut map = unsafe { MmapMut::map_mut(&f) }?;
    for i in (0..size).step_by(PAGE) {
        map[i] = 0;
    }
    Ok(map)
}

/// `n` copies of the encoded record into warmed mapped files of the commit log's size,
/// rolling to the next file when a record would not fit (as the commit log does).
fn memcpy_round(dir: &Path, p: &Params, body: usize, n: usize) -> Result<Run> {
    std::fs::create_dir_all(dir)?;
    let record = encode_inner_record(&template(body), 0, 0, 0)?;
    let file = p.commit_log_file_bytes as usize;
    let per_file = file / record.len();
    let files = n.div_ceil(per_file).max(1);
    let mut maps = (0..files)
        .map(|i| warmed_map(&dir.join(format!("{:020}", i * file)), file))
        .collect::<Result<Vec<_>>>()?;
    let (t0, c0) = (Instant::now(), thread_cpu_seconds());
    let (mut f, mut pos) = (0usize, 0usize);
    for _ in 0..n {
        if pos + record.len() > file {
            f += 1;
            pos = 0;
        }
        maps[f][pos..pos + record.len()].copy_from_slice(&record);
        pos += record.len();
    }
    let (seconds, cpu) = (t0.elapsed().as_secs_f64(), thread_cpu_seconds() - c0);
    std::hint::black_box(&maps);
    drop(maps);
    std::fs::remove_dir_all(dir)?;
    Ok(Run {
        messages: n,
        seconds,
        thread_cpu_seconds: cpu,
    })
}

fn median(mut v: Vec<Run>) -> Run {
    v.sort_by(|a, b| a.msgs_per_s().total_cmp(&b.msgs_per_s()));
    v[v.len() / 2]
}

/// The result for one body size.
#[derive(Debug, Serialize)]
struct Row {
    body_bytes: usize,
    record_bytes: usize,
    store_msgs_per_s: f64,
    store_mb_per_s: f64,
    memcpy_msgs_per_s: f64,
    memcpy_mb_per_s: f64,
    /// store msgs/s divided by memcpy msgs/s.
    ratio: f64,
    /// CPU time of the appending thread per message (median round).
    store_cpu_ns_per_msg: f64,
    memcpy_cpu_ns_per_msg: f64,
    store_rounds: Vec<Run>,
    memcpy_rounds: Vec<Run>,
}

fn scratch() -> Result<PathBuf> {
    let d = workspace_root().join("target/experiments/bench");
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let started = Instant::now();
    let p = Params::new(cli.quick);
    let tmp = tempfile::Builder::new()
        .prefix("append-")
        .tempdir_in(scratch()?)?;
    let mut rows = Vec::new();
    let bar = progress_bar((p.body_sizes.len() * p.rounds * 2) as u64, "append rounds");
    for (&body, &n) in p.body_sizes.iter().zip(&p.messages) {
        let record = inner_record_size(&template(body));
        let (mut store_runs, mut raw_runs) = (Vec::new(), Vec::new());
        for round in 0..p.rounds {
            // Alternate which goes first so neither always inherits the other's dirty pages.
            let order = if round % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            };
            for is_store in order {
                let dir = tmp.path().join(format!("{body}-{round}-{is_store}"));
                if is_store {
                    store_runs.push(store_round(&dir, &p, body, n)?);
                } else {
                    raw_runs.push(memcpy_round(&dir, &p, body, n)?);
                }
                bar.inc(1);
            }
        }
        let (s, r) = (median(store_runs.clone()), median(raw_runs.clone()));
        let mb = |run: &Run| run.msgs_per_s() * record as f64 / 1e6;
        rows.push(Row {
            body_bytes: body,
            record_bytes: record,
            store_msgs_per_s: s.msgs_per_s().round(),
            store_mb_per_s: (mb(&s) * 10.0).round() / 10.0,
            memcpy_msgs_per_s: r.msgs_per_s().round(),
            memcpy_mb_per_s: (mb(&r) * 10.0).round() / 10.0,
            ratio: (s.msgs_per_s() / r.msgs_per_s() * 1000.0).round() / 1000.0,
            store_cpu_ns_per_msg: s.cpu_ns_per_msg().round(),
            memcpy_cpu_ns_per_msg: r.cpu_ns_per_msg().round(),
            store_rounds: store_runs,
            memcpy_rounds: raw_runs,
        });
    }
    bar.finish_and_clear();

    println!(
        "{:>6} {:>7} | {:>12} {:>9} {:>7} | {:>12} {:>9} {:>7} | {:>7}",
        "body",
        "record",
        "store msg/s",
        "MB/s",
        "cpu ns",
        "memcpy msg/s",
        "MB/s",
        "cpu ns",
        "ratio"
    );
    for r in &rows {
        println!(
            "{:>6} {:>7} | {:>12.0} {:>9.1} {:>7.0} | {:>12.0} {:>9.1} {:>7.0} | {:>7.3}",
            r.body_bytes,
            r.record_bytes,
            r.store_msgs_per_s,
            r.store_mb_per_s,
            r.store_cpu_ns_per_msg,
            r.memcpy_msgs_per_s,
            r.memcpy_mb_per_s,
            r.memcpy_cpu_ns_per_msg,
            r.ratio
        );
    }
    println!("ratio = store msgs/s / memcpy msgs/s (wall clock); cpu ns = CPU time of the appending thread per message");

    let out = figures_dir_for(EXPERIMENT, cli.quick.quick)?;
    write_json(
        &out.join("append.json"),
        &serde_json::json!({ "params": &p, "results": &rows }),
    )?;
    write_csv(
        &out.join("append.csv"),
        &[
            "body_bytes",
            "record_bytes",
            "store_msgs_per_s",
            "store_mb_per_s",
            "memcpy_msgs_per_s",
            "memcpy_mb_per_s",
            "ratio",
            "store_cpu_ns_per_msg",
            "memcpy_cpu_ns_per_msg",
        ],
        &rows
            .iter()
            .map(|r| {
                vec![
                    r.body_bytes.to_string(),
                    r.record_bytes.to_string(),
                    format!("{:.0}", r.store_msgs_per_s),
                    format!("{:.1}", r.store_mb_per_s),
                    format!("{:.0}", r.memcpy_msgs_per_s),
                    format!("{:.1}", r.memcpy_mb_per_s),
                    format!("{:.3}", r.ratio),
                    format!("{:.0}", r.store_cpu_ns_per_msg),
                    format!("{:.0}", r.memcpy_cpu_ns_per_msg),
                ]
            })
            .collect::<Vec<_>>(),
    )?;
    let groups: Vec<String> = rows
        .iter()
        .map(|r| format!("{} B body ({} B record)", r.body_bytes, r.record_bytes))
        .collect();
    let series = |f: &dyn Fn(&Row) -> (f64, f64)| {
        vec![
            Series {
                name: "rmq-store put_message".into(),
                values: rows.iter().map(|r| f(r).0).collect(),
            },
            Series {
                name: "memcpy into mmap".into(),
                values: rows.iter().map(|r| f(r).1).collect(),
            },
        ]
    };
    grouped_bar_chart(
        &out.join("append-msgs.svg"),
        "Append throughput, one thread (million messages/s)",
        "million msgs/s",
        &groups,
        &series(&|r| (r.store_msgs_per_s / 1e6, r.memcpy_msgs_per_s / 1e6)),
        &|v| format!("{v:.2}"),
    )?;
    grouped_bar_chart(
        &out.join("append-mbps.svg"),
        "Append throughput, one thread (MB/s of records)",
        "MB/s",
        &groups,
        &series(&|r| (r.store_mb_per_s, r.memcpy_mb_per_s)),
        &|v| format!("{v:.0}"),
    )?;
    grouped_bar_chart(
        &out.join("append-cpu.svg"),
        "CPU time of the appending thread per message (ns)",
        "ns per message",
        &groups,
        &series(&|r| (r.store_cpu_ns_per_msg, r.memcpy_cpu_ns_per_msg)),
        &|v| format!("{v:.0}"),
    )?;
    write_meta(&out, EXPERIMENT, cli.quick.mode(), started.elapsed(), &p)?;
    println!("figures written to {}", out.display());
    Ok(())
}
