//! Experiment `storage-tour`: fill a real rmq-store with small files, leave it on disk for
//! the reader to explore, and measure append latency with asynchronous and synchronous flush.
//!
//! Part I of the book ("Storage files") is built around the store this leaves behind:
//! the chapters tell the reader to run it and then look at the files with `rmq-inspect` and
//! `hexdump`. Small file sizes (1 MiB commit-log files, small consume-queue and index files)
//! make every kind of file roll over at least once. The same run appends the same messages
//! to two fresh stores, one ASYNC_FLUSH and one SYNC_FLUSH, alternating one message each, so the
//! two latency curves come from the same disk at the same time.
//!
//! Two extra modes serve the "Crash recovery" chapter: `--crash` ends the fill phase like a
//! `kill -9` (no checkpoint, `abort` left behind), and `--recover` only reopens an existing
//! store, printing what recovery did.
//!
//! Output: `book/src/figures/storage-tour/` (files.csv, kinds.csv, latency.csv,
//! summary.json, bytes-per-kind.svg, append-latency.svg, meta.json).
//! Mirrors nothing in 4.8.0 itself; the closest is running its `DefaultMessageStoreTest`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use rand::{rngs::StdRng, Rng, SeedableRng};
use rmq_broker::config::BrokerConfig;
use rmq_broker::offset::ConsumerOffsetManager;
use rmq_broker::topic::TopicConfigManager;
use rmq_common::msgid::UniqIdGenerator;
use rmq_remoting::protocol::TopicConfig;
use rmq_store::{
    DefaultMessageStore, FlushDiskType, GetMessageStatus, MessageStoreConfig, PutMessageStatus,
};
use serde::Serialize;

use experiments::chart::{grouped_bar_chart, percentile_chart, Curve, Series};
use experiments::latency::{percentile_curve, record};
use experiments::messages::message;
use experiments::store_files::{self, KindTotal};
use experiments::{
    figures_dir_for, new_latency_histogram, progress_bar, workspace_root, write_csv, write_json,
    write_meta, LatencySummary, QuickArgs,
};

const EXPERIMENT: &str = "storage-tour";
/// The topics written, with their queue counts: three topics, ten queues.
const TOPICS: [(&str, i32); 3] = [("TourOrders", 4), ("TourPayments", 4), ("TourAudit", 2)];
const TAGS: [&str; 3] = ["TagA", "TagB", "TagC"];
const GROUP: &str = "tour-consumer";

#[derive(Parser)]
#[command(
    about = "Fill a small-file rmq-store, leave it at --store, chart its files and append latency"
)]
struct Cli {
    #[command(flatten)]
    quick: QuickArgs,
    /// Where to leave the store (must be missing or empty). Default: target/experiments/storage-tour/store,
    /// emptied first.
    #[arg(long)]
    store: Option<PathBuf>,
    /// End the fill phase as a crash would: threads stopped, no checkpoint written, `abort` kept.
    #[arg(long, conflicts_with = "recover")]
    crash: bool,
    /// Do not write anything: reopen the existing store at --store (running recovery), print
    /// what it holds afterwards, and shut it down cleanly.
    #[arg(long, requires = "store")]
    recover: bool,
}

/// The run's parameters, recorded in meta.json and summary.json.
#[derive(Debug, Clone, Serialize)]
struct Params {
    messages: usize,
    body_min: usize,
    body_max: usize,
    commit_log_file_bytes: u64,
    consume_queue_file_entries: u64,
    index_hash_slots: u32,
    index_entries: u32,
    latency_samples_per_mode: usize,
    latency_body_bytes: usize,
}

impl Params {
    fn new(q: QuickArgs) -> Params {
        Params {
            messages: q.pick(4_000, 60_000),
            body_min: 100,
            body_max: 1_000,
            commit_log_file_bytes: 1024 * 1024,
            consume_queue_file_entries: q.pick(200, 2_000),
            index_hash_slots: q.pick(500, 5_000),
            index_entries: q.pick(2_000, 20_000),
            latency_samples_per_mode: q.pick(300, 5_000),
            latency_body_bytes: 512,
        }
    }

    fn store_config(&self, root: &Path, flush: FlushDiskType) -> MessageStoreConfig {
        MessageStoreConfig {
            mapped_file_size_commit_log: self.commit_log_file_bytes,
            mapped_file_size_consume_queue: self.consume_queue_file_entries * 20,
            max_hash_slot_num: self.index_hash_slots,
            max_index_num: self.index_entries,
            flush_disk_type: flush,
            ..MessageStoreConfig::with_root(root)
        }
    }
}

/// Guesses which mode (quick or full) made the store at `dir` from its consume-queue file size,
/// so that `--recover` opens it with the same file sizes.
fn params_of_existing(dir: &Path) -> Result<Params> {
    let files = store_files::list(dir)?;
    let cq = files
        .iter()
        .find(|f| f.kind == "consumequeue")
        .with_context(|| {
            format!(
                "{} has no consume-queue files: not a storage-tour store",
                dir.display()
            )
        })?;
    for quick in [true, false] {
        let p = Params::new(QuickArgs { quick });
        if cq.bytes == p.consume_queue_file_entries * 20 {
            return Ok(p);
        }
    }
    bail!(
        "{} has {}-byte consume-queue files; storage-tour did not write it",
        cq.path,
        cq.bytes
    )
}

/// `--recover`: open (and so recover) an existing store, report, shut down.
fn recover_only(dir: &Path) -> Result<()> {
    let p = params_of_existing(dir)?;
    let abnormal = dir.join("abort").exists();
    println!(
        "{}: abort file {} -> {} recovery",
        dir.display(),
        if abnormal { "present" } else { "absent" },
        if abnormal { "abnormal" } else { "normal" }
    );
    let t0 = Instant::now();
    let store = DefaultMessageStore::open(p.store_config(dir, FlushDiskType::AsyncFlush))
        .with_context(|| format!("opening the store at {}", dir.display()))?;
    let opened = t0.elapsed();
    while store.dispatch_behind_bytes() > 0 && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("recovered in {:.1} ms", opened.as_secs_f64() * 1000.0);
    println!(
        "commit log: offsets {}..{}",
        store.get_min_phy_offset(),
        store.get_max_phy_offset()
    );
    let mut total = 0i64;
    for (topic, queues) in TOPICS {
        let maxes: Vec<i64> = (0..queues)
            .map(|q| store.get_max_offset_in_queue(topic, q))
            .collect();
        total += maxes.iter().sum::<i64>();
        println!("{topic:<13} next queue offsets {maxes:?}");
    }
    println!("messages reachable through the consume queues: {total}");
    store.shutdown();
    Ok(())
}

/// The store directory: the one given (must be missing or empty) or the default, emptied.
fn prepare_store_dir(given: Option<PathBuf>) -> Result<PathBuf> {
    match given {
        Some(dir) => {
            if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
                bail!(
                    "{} is not empty; give a missing or empty directory (the tour writes a fresh store)",
                    dir.display()
                );
            }
            std::fs::create_dir_all(&dir)?;
            Ok(dir)
        }
        None => {
            let dir = workspace_root().join("target/experiments/storage-tour/store");
            if dir.exists() {
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("emptying {}", dir.display()))?;
            }
            std::fs::create_dir_all(&dir)?;
            Ok(dir)
        }
    }
}

/// Which topic/queue message `i` goes to, and its tag and key.
fn route(i: usize) -> (&'static str, i32, &'static str, String) {
    let (topic, queues) = TOPICS[i % TOPICS.len()];
    let queue = ((i / TOPICS.len()) % queues as usize) as i32;
    (
        topic,
        queue,
        TAGS[(i / 5) % TAGS.len()],
        format!("order-{i}"),
    )
}

/// What the write/read-back phase found, for summary.json.
#[derive(Debug, Serialize)]
struct TourResult {
    messages_written: usize,
    bytes_appended: i64,
    messages_read_back: usize,
    commit_log_max_offset: i64,
    key_lookup: String,
    key_lookup_hits: usize,
}

/// Phase 1: write, wait for dispatch, read everything back, look a key up, commit offsets.
fn fill_store(dir: &Path, p: &Params, crash: bool) -> Result<TourResult> {
    let broker = BrokerConfig {
        store: rmq_store::MessageStoreConfig::with_root(dir.to_path_buf()),
        ..BrokerConfig::default()
    };
    let topics = TopicConfigManager::new(&broker)?;
    for (name, queues) in TOPICS {
        let mut t = TopicConfig::new(name);
        t.read_queue_nums = queues;
        t.write_queue_nums = queues;
        topics.update(t);
    }
    let store = DefaultMessageStore::open(p.store_config(dir, FlushDiskType::AsyncFlush))
        .with_context(|| format!("opening the store at {}", dir.display()))?;
    let ids = UniqIdGenerator::new("127.0.0.1".parse()?, 0x5eed);
    let mut rng = StdRng::seed_from_u64(42);
    let bar = progress_bar(p.messages as u64, "append");
    let mut bytes = 0i64;
    for i in 0..p.messages {
        let (topic, queue, tag, key) = route(i);
        let len = rng.gen_range(p.body_min..=p.body_max);
        let body: Vec<u8> = (0..len).map(|j| b'a' + ((i + j) % 26) as u8).collect();
        let uniq = ids.next_id();
        let m = message(
            topic,
            queue,
            Bytes::from(body),
            Some(tag),
            Some(&key),
            Some(&uniq),
        );
        let r = store.put_message(m);
        if r.status != PutMessageStatus::PutOk {
            bail!("put {i} failed: {:?}", r.status);
        }
        bytes += r.append.map(|a| a.wrote_bytes as i64).unwrap_or(0);
        bar.inc(1);
    }
    bar.finish_and_clear();

    let deadline = Instant::now() + Duration::from_secs(30);
    while store.dispatch_behind_bytes() > 0 {
        if Instant::now() > deadline {
            bail!(
                "dispatch still {} bytes behind after 30 s",
                store.dispatch_behind_bytes()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }

    // Read every queue back through its consume queue, as a consumer group would.
    let offsets = ConsumerOffsetManager::load(&broker.config_dir())?;
    let mut read = 0usize;
    for (topic, queues) in TOPICS {
        for q in 0..queues {
            let mut offset = 0i64;
            loop {
                let r = store.get_message(GROUP, topic, q, offset, 32, &|_| true);
                match r.status {
                    GetMessageStatus::Found => {
                        read += r.messages.len();
                        offset = r.next_begin_offset;
                    }
                    GetMessageStatus::OffsetOverflowOne | GetMessageStatus::NoMessageInQueue => {
                        break
                    }
                    other => bail!("reading {topic}/{q} at {offset}: {other:?}"),
                }
            }
            offsets.commit(GROUP, topic, q, offset);
        }
    }
    offsets.persist();
    if read != p.messages {
        bail!("wrote {} messages but read {read} back", p.messages);
    }

    // One key lookup through the index files.
    let probe = p.messages / 2;
    let (topic, _, _, key) = route(probe);
    let hits = store
        .query_message(topic, &key, 32, 0, i64::MAX)
        .messages
        .len();
    if hits != 1 {
        bail!("index lookup of {topic}#{key} found {hits} messages, expected 1");
    }
    let max_offset = store.get_max_phy_offset();
    if crash {
        // What `kill -9` leaves: no final flush of queues and index, no checkpoint, and the
        // abort file still there. (The page cache keeps every byte already written.)
        store.halt();
    } else {
        store.shutdown();
    }
    topics.persist();
    Ok(TourResult {
        messages_written: p.messages,
        bytes_appended: bytes,
        messages_read_back: read,
        commit_log_max_offset: max_offset,
        key_lookup: format!("{topic}#{key}"),
        key_lookup_hits: hits,
    })
}

/// Phase 2: the same messages to an ASYNC_FLUSH and a SYNC_FLUSH store, alternating.
fn measure_latency(p: &Params) -> Result<(Histogram<u64>, Histogram<u64>)> {
    let scratch = workspace_root().join("target/experiments/storage-tour");
    std::fs::create_dir_all(&scratch)?;
    let tmp = tempfile::Builder::new()
        .prefix("latency-")
        .tempdir_in(&scratch)?;
    let open = |name: &str, flush| {
        DefaultMessageStore::open(p.store_config(&tmp.path().join(name), flush))
            .with_context(|| format!("opening the {name} store"))
    };
    let stores: [(Arc<DefaultMessageStore>, Histogram<u64>); 2] = [
        (
            open("async", FlushDiskType::AsyncFlush)?,
            new_latency_histogram(),
        ),
        (
            open("sync", FlushDiskType::SyncFlush)?,
            new_latency_histogram(),
        ),
    ];
    let mut stores = stores;
    let body = Bytes::from(vec![b'x'; p.latency_body_bytes]);
    let bar = progress_bar(p.latency_samples_per_mode as u64, "async vs sync flush");
    for i in 0..p.latency_samples_per_mode {
        for (store, hist) in stores.iter_mut() {
            let (topic, queue, tag, key) = route(i);
            let m = message(topic, queue, body.clone(), Some(tag), Some(&key), None);
            let t0 = Instant::now();
            let r = store.put_message(m);
            record(hist, t0.elapsed());
            if r.status != PutMessageStatus::PutOk {
                bail!("latency put {i} failed: {:?}", r.status);
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let [(a, ha), (s, hs)] = stores;
    a.shutdown();
    s.shutdown();
    Ok((ha, hs))
}

/// Runs `rmq-inspect verify DIR` when the inspector is part of the workspace. It uses the debug
/// build, which `make test` and CI have already made, so a `--quick` run compiles nothing.
fn verify_with_inspector(dir: &Path, p: &Params) -> Result<Option<String>> {
    let root = workspace_root();
    if !root.join("crates/inspect/Cargo.toml").is_file() {
        return Ok(None);
    }
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&root)
        .args(["run", "-q", "-p", "rmq-inspect", "--", "verify"])
        .arg(dir)
        .args(["--index-slots", &p.index_hash_slots.to_string()])
        .args(["--index-num", &p.index_entries.to_string()])
        .output()
        .context("running rmq-inspect verify")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        bail!(
            "rmq-inspect verify {} failed:\n{text}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(text.lines().last().map(str::to_string))
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

fn print_tour(dir: &Path, files: &[store_files::StoreFile], totals: &[KindTotal]) {
    println!("store left at {}", dir.display());
    println!(
        "{:<14} {:>6} {:>12} {:>12}  examples",
        "kind", "files", "size", "on disk"
    );
    for t in totals {
        let examples: Vec<&str> = files
            .iter()
            .filter(|f| f.kind == t.kind)
            .take(2)
            .map(|f| f.path.as_str())
            .collect();
        println!(
            "{:<14} {:>6} {:>12} {:>12}  {}",
            t.kind,
            t.files,
            human(t.bytes),
            human(t.allocated_bytes),
            examples.join(", ")
        );
    }
}

fn print_latency(name: &str, s: &LatencySummary) {
    println!(
        "{name:<12} n={:<6} p50={:>9.1}µs p99={:>9.1}µs p99.9={:>9.1}µs max={:>9.1}µs",
        s.count, s.p50_us, s.p99_us, s.p999_us, s.max_us
    );
}

#[derive(Serialize)]
struct Summary<'a> {
    params: &'a Params,
    tour: TourResult,
    kinds: Vec<KindTotal>,
    latency_async: LatencySummary,
    latency_sync: LatencySummary,
    /// p50 of SYNC_FLUSH divided by p50 of ASYNC_FLUSH.
    sync_over_async_p50: f64,
    inspector: Option<String>,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(if cli.recover {
                    "rmq_store=info"
                } else {
                    "warn"
                })
            }),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .with_target(false)
        .init();
    if cli.recover {
        let dir = cli.store.context("--recover needs --store DIR")?;
        return recover_only(&dir);
    }
    let started = Instant::now();
    let p = Params::new(cli.quick);
    let dir = prepare_store_dir(cli.store)?;
    // A crash run is a demonstration for the reader, not the book's measurement.
    let out = figures_dir_for(EXPERIMENT, cli.quick.quick || cli.crash)?;

    let tour = fill_store(&dir, &p, cli.crash)?;
    let (h_async, h_sync) = measure_latency(&p)?;

    let files = store_files::list(&dir)?;
    let totals = store_files::totals(&files);
    print_tour(&dir, &files, &totals);
    let (la, ls) = (LatencySummary::of(&h_async), LatencySummary::of(&h_sync));
    print_latency("ASYNC_FLUSH", &la);
    print_latency("SYNC_FLUSH", &ls);
    let ratio = ls.p50_us / la.p50_us.max(1e-3);
    println!("SYNC_FLUSH p50 / ASYNC_FLUSH p50 = {ratio:.1}x");

    let inspector = match verify_with_inspector(&dir, &p) {
        // After a simulated crash the files may legitimately disagree until recovery runs.
        Err(e) if cli.crash => Some(format!("{e:#}")),
        other => other?,
    };
    match &inspector {
        Some(line) => println!("rmq-inspect verify: {line}"),
        None => println!("rmq-inspect not in the workspace; verification skipped"),
    }

    write_csv(
        &out.join("files.csv"),
        &["kind", "path", "bytes", "allocated_bytes"],
        &files
            .iter()
            .map(|f| {
                vec![
                    f.kind.into(),
                    f.path.clone(),
                    f.bytes.to_string(),
                    f.allocated_bytes.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    )?;
    write_csv(
        &out.join("kinds.csv"),
        &["kind", "files", "bytes", "allocated_bytes"],
        &totals
            .iter()
            .map(|t| {
                vec![
                    t.kind.into(),
                    t.files.to_string(),
                    t.bytes.to_string(),
                    t.allocated_bytes.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    )?;
    let (ca, cs) = (percentile_curve(&h_async), percentile_curve(&h_sync));
    let mut rows = Vec::new();
    for (mode, curve) in [("ASYNC_FLUSH", &ca), ("SYNC_FLUSH", &cs)] {
        for (pct, us) in curve {
            rows.push(vec![mode.to_string(), format!("{pct}"), format!("{us:.3}")]);
        }
    }
    write_csv(
        &out.join("latency.csv"),
        &["flush", "percentile", "latency_us"],
        &rows,
    )?;

    let shown: Vec<&KindTotal> = totals.iter().filter(|t| t.files > 0).collect();
    grouped_bar_chart(
        &out.join("bytes-per-kind.svg"),
        &format!("Store files after {} messages (KiB per kind)", p.messages),
        "KiB",
        &shown
            .iter()
            .map(|t| format!("{} ({} files)", t.kind, t.files))
            .collect::<Vec<_>>(),
        &[
            Series {
                name: "file size".into(),
                values: shown.iter().map(|t| t.bytes as f64 / 1024.0).collect(),
            },
            Series {
                name: "allocated on disk".into(),
                values: shown
                    .iter()
                    .map(|t| t.allocated_bytes as f64 / 1024.0)
                    .collect(),
            },
        ],
        &|v| {
            if v >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        },
    )?;
    percentile_chart(
        &out.join("append-latency.svg"),
        &format!(
            "put_message latency, {} B bodies, {} each",
            p.latency_body_bytes, p.latency_samples_per_mode
        ),
        &[
            Curve {
                name: "ASYNC_FLUSH".into(),
                points: ca,
            },
            Curve {
                name: "SYNC_FLUSH".into(),
                points: cs,
            },
        ],
    )?;
    write_json(
        &out.join("summary.json"),
        &Summary {
            params: &p,
            tour,
            kinds: totals,
            latency_async: la,
            latency_sync: ls,
            sync_over_async_p50: (ratio * 10.0).round() / 10.0,
            inspector,
        },
    )?;
    write_meta(&out, EXPERIMENT, cli.quick.mode(), started.elapsed(), &p)?;
    println!("figures written to {}", out.display());
    Ok(())
}
