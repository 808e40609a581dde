//! The read workloads of `vs-kafka`: consumers of P queues (partitions) reading through each
//! side's real read API, one thread, batches of at most 32 messages (RocketMQ's default pull
//! size; kafkalog is asked for the bytes of 32 records).
//!
//! * **tail**: the consumers keep up with the producer. A cycle appends 1024 messages
//!   round-robin over the P queues, waits until they are readable (the store's reput thread
//!   has built the consume-queue entries; the wait is recorded separately), then reads every
//!   queue up to its end. Only the reads are timed. With P = 1 a cycle is 32 reads of 32
//!   messages; with P = 1024 it is 1024 reads of one message each: many queues at the same
//!   total rate mean small reads.
//! * **backlog, page cache**: N messages are appended round-robin over the P queues first,
//!   then drained from offset 0, one batch per queue in turn (the way a consumer with P
//!   queues pulls), right after they were written: every byte is in the page cache.
//! * **backlog, cold**: the same backlog drained again after the side's files were dropped
//!   from the page cache ([`crate::page_cache`]: `madvise(MADV_DONTNEED)` on the store's maps,
//!   `fdatasync`, `posix_fadvise(POSIX_FADV_DONTNEED)`), checked with `mincore`. Every read
//!   now waits for the disk: the store's reads jump around one commit log (queue q's messages
//!   are every P-th record), kafkalog's reads scan each partition's file in order.
//!
//! Per run: messages/s and MB/s over the timed reads, the latency of every read call
//! (hdrhistogram), CPU time of the reading thread, and for the cold drain the bytes read
//! from storage and the major page faults.
//!
//! * **backlog, cold log**: before that, the same backlog drained after only the message
//!   logs were dropped (the store's commit log, kafkalog's `.log` files); the store's consume
//!   queues stay cached. This separates the commit log's scattered reads from the cost of
//!   reading P consume-queue files from disk.
//!
//! Output: `reads.csv`, `reads.json`, `tail-reads.svg`, `backlog.svg`, `backlog-cold.svg`,
//! `read-p99.svg`.
//! Book: Part V "RocketMQ vs Kafka", "The read path, measured".

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use serde::Serialize;

use super::{open, Contender, FileKind, Side, SideConfig};
use crate::chart::{grouped_bar_chart, log_log_chart, Line, Series};
use crate::latency::record;
use crate::page_cache::{resident_bytes, CAN_EVICT};
use crate::thread_usage::ThreadUsage;
use crate::{new_latency_histogram, write_csv, write_json, LatencySummary, QuickArgs};

/// The sizes and counts of the read workloads.
#[derive(Debug, Clone, Serialize)]
pub struct ReadParams {
    /// The partition (queue) counts to run, one run each.
    pub partitions: Vec<u32>,
    /// Messages appended and read in the tail workload.
    pub tail_messages: usize,
    /// Messages appended per tail cycle, before the consumers catch up.
    pub tail_cycle_messages: usize,
    /// Messages in the backlog (drained twice: page cache, then cold).
    pub backlog_messages: usize,
    /// The most messages one read call returns.
    pub batch_messages: usize,
    /// How many times each run is repeated; the median round is kept.
    pub rounds: usize,
    /// Whether the cold drains run (they need Linux).
    pub cold: bool,
    /// The readahead window of the disk under the scratch directory, in KiB (cold reads
    /// depend on it; see [`crate::page_cache::read_ahead_kb`]).
    pub read_ahead_kb: Option<u64>,
}

impl ReadParams {
    /// The parameters for a quick or a full run.
    pub fn new(q: QuickArgs) -> ReadParams {
        ReadParams {
            partitions: q.pick(vec![1, 256], vec![1, 4, 16, 64, 256, 1024]),
            tail_messages: q.pick(8 * 1024, 200 * 1024),
            tail_cycle_messages: 1024,
            backlog_messages: q.pick(10_000, 200_000),
            batch_messages: 32,
            rounds: q.pick(1, 5),
            cold: CAN_EVICT,
            read_ahead_kb: crate::page_cache::read_ahead_kb(
                &crate::workspace_root().join("target"),
            ),
        }
    }

    fn modes(&self) -> Vec<ReadMode> {
        let mut m = vec![ReadMode::Tail, ReadMode::BacklogHot];
        if self.cold {
            m.extend([ReadMode::BacklogColdLog, ReadMode::BacklogCold]);
        }
        m
    }
}

/// What the consumers read, and from where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ReadMode {
    /// Consumers follow the producer and read what was just appended.
    #[serde(rename = "tail")]
    Tail,
    /// Consumers drain a backlog whose files are in the page cache.
    #[serde(rename = "backlog-page-cache")]
    BacklogHot,
    /// Only the message logs dropped from the page cache; the store's consume queues stay.
    #[serde(rename = "backlog-cold-log")]
    BacklogColdLog,
    /// Every file a read consults dropped from the page cache.
    #[serde(rename = "backlog-cold")]
    BacklogCold,
}

impl ReadMode {
    fn name(self) -> &'static str {
        match self {
            ReadMode::Tail => "tail",
            ReadMode::BacklogHot => "backlog-page-cache",
            ReadMode::BacklogColdLog => "backlog-cold-log",
            ReadMode::BacklogCold => "backlog-cold",
        }
    }
}

/// One timed read run.
#[derive(Debug, Clone, Serialize)]
pub struct ReadRun {
    /// The system measured.
    pub side: Side,
    /// What was read, and from where.
    pub mode: ReadMode,
    /// The number of partitions (queues) read.
    pub partitions: u32,
    /// Messages read.
    pub messages: usize,
    /// Bytes of the records read, as stored.
    pub bytes: u64,
    /// Read calls made.
    pub calls: u64,
    /// Seconds of timed reading (tail: the sum of the read phases).
    pub seconds: f64,
    /// Messages read per second.
    pub msgs_per_s: f64,
    /// Record bytes read per second, in MB (10^6 bytes).
    pub mb_per_s: f64,
    /// Messages per read call, on average.
    pub msgs_per_call: f64,
    /// Latency of one read call.
    pub latency: LatencySummary,
    /// What the reading thread used while timed.
    pub usage: ThreadUsage,
    /// CPU time (user + system) of the reading thread per message, in µs.
    pub cpu_us_per_msg: f64,
    /// Share of the dropped files' bytes in use that are in the page cache just before the
    /// drain (backlog; for the page-cache drain, of every file).
    pub resident_before: Option<f64>,
    /// Bytes of the files (their whole preallocated length) in the page cache after the drain.
    pub cached_after_bytes: Option<u64>,
    /// Tail only: how long after a cycle's last append every message was readable.
    pub readable_after: Option<LatencySummary>,
}

/// Counters of one drain.
#[derive(Default)]
struct Totals {
    messages: usize,
    bytes: u64,
    calls: u64,
}

// ANCHOR: drain
/// Reads every queue q from `next[q]` up to `end[q]`, one batch per queue in turn, timing
/// every read call into `hist`.
fn drain(
    c: &mut dyn Contender,
    next: &mut [i64],
    end: &[i64],
    max: usize,
    hist: &mut Histogram<u64>,
    totals: &mut Totals,
) -> Result<()> {
    loop {
        let mut pending = false;
        for q in 0..next.len() {
            if next[q] >= end[q] {
                continue;
            }
            let t = Instant::now();
            let b = c.read(q as u32, next[q], max)?;
            record(hist, t.elapsed());
            if b.messages == 0 {
                bail!("queue {q}: nothing at offset {} (end {})", next[q], end[q]);
            }
            next[q] = b.next_offset;
            totals.messages += b.messages;
            totals.bytes += b.bytes;
            totals.calls += 1;
            pending |= next[q] < end[q];
        }
        if !pending {
            return Ok(());
        }
    }
}
// ANCHOR_END: drain

/// How many messages queue q gets when `n` go round-robin over `p` queues.
fn per_queue(n: usize, p: u32) -> Vec<i64> {
    let p = p as usize;
    (0..p)
        .map(|q| (n / p + usize::from(q < n % p)) as i64)
        .collect()
}

/// The share of the bytes in use of the files of `kinds` that is in the page cache.
fn resident_share(c: &dyn Contender, kinds: &[FileKind]) -> Result<f64> {
    let (mut used, mut resident) = (0u64, 0u64);
    for f in c.data_files()?.iter().filter(|f| kinds.contains(&f.kind)) {
        used += f.used;
        resident += resident_bytes(&f.path, f.used)?;
    }
    Ok(if used == 0 {
        0.0
    } else {
        resident as f64 / used as f64
    })
}

/// Bytes of every file, over its whole length, in the page cache.
fn cached_bytes(c: &dyn Contender) -> Result<u64> {
    let mut n = 0;
    for f in c.data_files()? {
        n += resident_bytes(&f.path, f.len)?;
    }
    Ok(n)
}

struct Timed {
    totals: Totals,
    seconds: f64,
    hist: Histogram<u64>,
    usage: ThreadUsage,
}

impl Timed {
    fn new() -> Timed {
        Timed {
            totals: Totals::default(),
            seconds: 0.0,
            hist: new_latency_histogram(),
            usage: ThreadUsage::default(),
        }
    }

    /// One timed drain from `next` to `end`.
    fn drain(
        &mut self,
        c: &mut dyn Contender,
        next: &mut [i64],
        end: &[i64],
        max: usize,
    ) -> Result<()> {
        let before = ThreadUsage::now();
        let t = Instant::now();
        drain(c, next, end, max, &mut self.hist, &mut self.totals)?;
        self.seconds += t.elapsed().as_secs_f64();
        self.usage += ThreadUsage::since(before);
        Ok(())
    }

    fn into_run(
        self,
        side: Side,
        mode: ReadMode,
        partitions: u32,
        expected: usize,
    ) -> Result<ReadRun> {
        let t = &self.totals;
        if t.messages != expected {
            bail!(
                "{side:?} {mode:?} P={partitions}: read {} messages, expected {expected}",
                t.messages
            );
        }
        let secs = self.seconds.max(1e-9);
        Ok(ReadRun {
            side,
            mode,
            partitions,
            messages: t.messages,
            bytes: t.bytes,
            calls: t.calls,
            seconds: self.seconds,
            msgs_per_s: (t.messages as f64 / secs).round(),
            mb_per_s: t.bytes as f64 / secs / 1e6,
            msgs_per_call: t.messages as f64 / t.calls.max(1) as f64,
            latency: LatencySummary::of(&self.hist),
            usage: self.usage,
            cpu_us_per_msg: self.usage.cpu_s() * 1e6 / t.messages.max(1) as f64,
            resident_before: None,
            cached_after_bytes: None,
            readable_after: None,
        })
    }
}

/// The tail workload: append a cycle, wait until it is readable, read it back.
fn tail(c: &mut dyn Contender, p: &ReadParams, partitions: u32) -> Result<ReadRun> {
    let mut timed = Timed::new();
    let mut readable = new_latency_histogram();
    let (mut next, mut end) = (
        vec![0i64; partitions as usize],
        vec![0i64; partitions as usize],
    );
    let mut appended = 0usize;
    while appended < p.tail_messages {
        let cycle = p.tail_cycle_messages.min(p.tail_messages - appended);
        for i in appended..appended + cycle {
            let q = i % partitions as usize;
            c.append(q as u32)?;
            end[q] += 1;
        }
        appended += cycle;
        let t = Instant::now();
        c.wait_readable()?;
        record(&mut readable, t.elapsed());
        timed.drain(c, &mut next, &end, p.batch_messages)?;
    }
    let mut run = timed.into_run(c.side(), ReadMode::Tail, partitions, p.tail_messages)?;
    run.readable_after = Some(LatencySummary::of(&readable));
    Ok(run)
}

// ANCHOR: backlog
/// The backlog workload: append everything, drain it from the page cache, then drop the
/// message logs from the page cache and drain again, then drop every file and drain again
/// (in odd rounds the two cold drains swap places).
fn backlog(
    c: &mut dyn Contender,
    p: &ReadParams,
    partitions: u32,
    round: usize,
) -> Result<Vec<ReadRun>> {
    for i in 0..p.backlog_messages {
        c.append((i % partitions as usize) as u32)?;
    }
    c.wait_readable()?;
    let end = per_queue(p.backlog_messages, partitions);
    let all = [FileKind::Log, FileKind::Index];
    let mut modes = p.modes();
    if round % 2 == 1 {
        // The two cold drains take turns going first: on a virtual machine the host may cache
        // the disk image, so a second cold read of the same files can be faster.
        modes.retain(|m| *m != ReadMode::BacklogColdLog);
        if p.cold {
            modes.push(ReadMode::BacklogColdLog);
        }
    }
    let mut runs = Vec::new();
    for mode in modes {
        let resident_before = match mode {
            ReadMode::Tail => continue,
            ReadMode::BacklogHot => resident_share(c, &all)?,
            ReadMode::BacklogColdLog => {
                c.evict_page_cache(&[FileKind::Log])?;
                resident_share(c, &[FileKind::Log])?
            }
            ReadMode::BacklogCold => {
                c.evict_page_cache(&all)?;
                resident_share(c, &all)?
            }
        };
        let mut timed = Timed::new();
        let mut next = vec![0i64; partitions as usize];
        timed.drain(c, &mut next, &end, p.batch_messages)?;
        let mut run = timed.into_run(c.side(), mode, partitions, p.backlog_messages)?;
        run.resident_before = Some(resident_before);
        run.cached_after_bytes = Some(cached_bytes(c)?);
        runs.push(run);
    }
    Ok(runs)
}
// ANCHOR_END: backlog

/// Every run of the read workloads, in `scratch`; `tick` is called after each side's pair of
/// runs (tail, backlog).
pub fn measure(
    scratch: &Path,
    c: &SideConfig,
    p: &ReadParams,
    tick: &dyn Fn(),
) -> Result<Vec<ReadRun>> {
    let mut runs = Vec::new();
    for &parts in &p.partitions {
        for round in 0..p.rounds {
            for side in Side::order(round) {
                let dir = scratch.join(format!("tail-{side:?}-{parts}-{round}"));
                let mut con = open(side, &dir, c, parts)?;
                runs.push(tail(con.as_mut(), p, parts)?);
                con.finish()?;
                remove(&dir)?;

                let dir = scratch.join(format!("backlog-{side:?}-{parts}-{round}"));
                let mut con = open(side, &dir, c, parts)?;
                runs.extend(backlog(con.as_mut(), p, parts, round)?);
                con.finish()?;
                remove(&dir)?;
                tick();
            }
        }
    }
    Ok(runs)
}

fn remove(dir: &Path) -> Result<()> {
    std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))
}

/// How many times [`measure`] calls `tick`.
pub fn run_count(p: &ReadParams) -> usize {
    p.partitions.len() * p.rounds * Side::ALL.len()
}

/// The median round (by messages/s) of each (side, mode, partitions).
pub fn medians(runs: &[ReadRun]) -> Vec<ReadRun> {
    super::medians(runs, |x| (x.side, x.mode, x.partitions), |x| x.msgs_per_s)
}

/// How often the scheduler interrupted the reader, per 1000 read calls: on a busy machine,
/// long calls are interrupted more often, and an interrupted call waits for a time slice.
fn preempted(r: &ReadRun) -> f64 {
    r.usage.involuntary_switches as f64 * 1000.0 / r.calls.max(1) as f64
}

fn find(rows: &[ReadRun], side: Side, mode: ReadMode, partitions: u32) -> Option<&ReadRun> {
    rows.iter()
        .find(|r| r.side == side && r.mode == mode && r.partitions == partitions)
}

/// Prints the table and writes the CSV, the JSON and the charts into `out`.
pub fn report(out: &Path, p: &ReadParams, runs: &[ReadRun]) -> Result<()> {
    let rows = medians(runs);
    println!("reads (median of {} rounds)", p.rounds);
    println!(
        "{:>18} {:>5} | {:>10} {:>8} {:>7} {:>8} | {:>10} {:>8} {:>7} {:>8} | {:>5}",
        "mode",
        "parts",
        "store m/s",
        "p99 µs",
        "cpu µs",
        "disk MB",
        "kafka m/s",
        "p99 µs",
        "cpu µs",
        "disk MB",
        "k/s"
    );
    let mut csv = Vec::new();
    for mode in p.modes() {
        for &parts in &p.partitions {
            let (Some(s), Some(k)) = (
                find(&rows, Side::Store, mode, parts),
                find(&rows, Side::Kafka, mode, parts),
            ) else {
                continue;
            };
            let ratio = k.msgs_per_s / s.msgs_per_s;
            let mb = |r: &ReadRun| r.usage.storage_read_bytes as f64 / 1e6;
            println!(
                "{:>18} {:>5} | {:>10.0} {:>8.1} {:>7.2} {:>8.1} | {:>10.0} {:>8.1} {:>7.2} {:>8.1} | {:>5.2}",
                mode.name(), parts, s.msgs_per_s, s.latency.p99_us, s.cpu_us_per_msg, mb(s),
                k.msgs_per_s, k.latency.p99_us, k.cpu_us_per_msg, mb(k), ratio
            );
            let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
            csv.push(vec![
                mode.name().to_string(),
                parts.to_string(),
                format!("{:.0}", s.msgs_per_s),
                format!("{:.0}", k.msgs_per_s),
                format!("{ratio:.3}"),
                format!("{:.1}", s.mb_per_s),
                format!("{:.1}", k.mb_per_s),
                format!("{:.2}", s.msgs_per_call),
                format!("{:.2}", k.msgs_per_call),
                format!("{:.1}", s.latency.p50_us),
                format!("{:.1}", k.latency.p50_us),
                format!("{:.1}", s.latency.p99_us),
                format!("{:.1}", k.latency.p99_us),
                format!("{:.3}", s.cpu_us_per_msg),
                format!("{:.3}", k.cpu_us_per_msg),
                s.usage.storage_read_bytes.to_string(),
                k.usage.storage_read_bytes.to_string(),
                s.usage.major_faults.to_string(),
                k.usage.major_faults.to_string(),
                opt(s.resident_before),
                opt(k.resident_before),
                opt(s.readable_after.as_ref().map(|l| l.p50_us)),
                opt(k.readable_after.as_ref().map(|l| l.p50_us)),
                format!("{:.2}", preempted(s)),
                format!("{:.2}", preempted(k)),
                s.cached_after_bytes
                    .map_or(String::new(), |b| b.to_string()),
                k.cached_after_bytes
                    .map_or(String::new(), |b| b.to_string()),
            ]);
        }
    }
    println!("m/s = messages/s, cpu µs = reader CPU per message, disk MB = read from storage, k/s = kafkalog / rmq-store");
    write_csv(
        &out.join("reads.csv"),
        &[
            "mode",
            "partitions",
            "store_msgs_per_s",
            "kafka_msgs_per_s",
            "kafka_over_store",
            "store_mb_per_s",
            "kafka_mb_per_s",
            "store_msgs_per_call",
            "kafka_msgs_per_call",
            "store_p50_us",
            "kafka_p50_us",
            "store_p99_us",
            "kafka_p99_us",
            "store_cpu_us_per_msg",
            "kafka_cpu_us_per_msg",
            "store_storage_read_bytes",
            "kafka_storage_read_bytes",
            "store_major_faults",
            "kafka_major_faults",
            "store_resident_before",
            "kafka_resident_before",
            "store_readable_after_p50_us",
            "kafka_readable_after_p50_us",
            "store_preempted_per_1000_calls",
            "kafka_preempted_per_1000_calls",
            "store_cached_after_bytes",
            "kafka_cached_after_bytes",
        ],
        &csv,
    )?;
    write_json(
        &out.join("reads.json"),
        &serde_json::json!({ "params": p, "medians": &rows, "runs": runs }),
    )?;

    let line = |side: Side, mode: ReadMode, label: &str, bold: bool| Line {
        name: format!("{}, {label}", side.name()),
        points: p
            .partitions
            .iter()
            .filter_map(|&n| find(&rows, side, mode, n).map(|r| (f64::from(n), r.msgs_per_s)))
            .collect(),
        color: side.color(),
        bold,
    };
    log_log_chart(
        &out.join("tail-reads.svg"),
        "Tail reads: messages/s read vs queues/partitions",
        "queues (rmq-store) = partitions (kafkalog), log scale",
        "messages/s, log scale",
        &Side::ALL.map(|s| line(s, ReadMode::Tail, "tail", true)),
    )?;
    let mut lines = Vec::new();
    let mut cold_lines = Vec::new();
    for side in Side::ALL {
        lines.push(line(side, ReadMode::BacklogHot, "in page cache", true));
        if p.cold {
            lines.push(line(side, ReadMode::BacklogCold, "cold", false));
            cold_lines.push(line(side, ReadMode::BacklogColdLog, "log cold", true));
            cold_lines.push(line(side, ReadMode::BacklogCold, "all cold", false));
        }
    }
    log_log_chart(
        &out.join("backlog.svg"),
        "Backlog reads: messages/s drained vs queues/partitions",
        "queues (rmq-store) = partitions (kafkalog), log scale",
        "messages/s, log scale",
        &lines,
    )?;
    if p.cold {
        log_log_chart(
            &out.join("backlog-cold.svg"),
            "Cold backlog: only the message log dropped, or every file",
            "queues (rmq-store) = partitions (kafkalog), log scale",
            "messages/s, log scale",
            &cold_lines,
        )?;
    }
    let groups: Vec<String> = p.partitions.iter().map(|n| format!("{n}")).collect();
    let series: Vec<Series> = Side::ALL
        .into_iter()
        .map(|side| Series {
            name: side.name().into(),
            values: p
                .partitions
                .iter()
                .map(|&n| find(&rows, side, ReadMode::Tail, n).map_or(0.0, |r| r.latency.p99_us))
                .collect(),
        })
        .collect();
    grouped_bar_chart(
        &out.join("read-p99.svg"),
        "p99 of one tail read call (µs), by queues/partitions",
        "µs",
        &groups,
        &series,
        &|v| format!("{v:.1}"),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_fills_the_first_queues_first() {
        assert_eq!(per_queue(10, 4), vec![3, 3, 2, 2]);
        assert_eq!(per_queue(8, 1), vec![8]);
    }

    #[test]
    fn every_workload_reads_every_message_on_both_sides() {
        let root = crate::workspace_root().join("target/experiments");
        std::fs::create_dir_all(&root).unwrap();
        let tmp = tempfile::tempdir_in(root).unwrap();
        let c = SideConfig {
            body_bytes: 512,
            commit_log_file_bytes: 8 << 20,
            kafka_segment_bytes: 1 << 20,
            kafka_index_interval_bytes: 4096,
        };
        let p = ReadParams {
            partitions: vec![1, 8],
            tail_messages: 2500,
            tail_cycle_messages: 1024,
            backlog_messages: 3000,
            batch_messages: 32,
            rounds: 2,
            cold: CAN_EVICT,
            read_ahead_kb: None,
        };
        let runs = measure(tmp.path(), &c, &p, &|| {}).unwrap();
        // Per side and P: a tail run plus one backlog run per backlog mode.
        assert_eq!(runs.len(), 2 * 2 * p.modes().len() * 2);
        for r in &runs {
            let expected = if r.mode == ReadMode::Tail { 2500 } else { 3000 };
            assert_eq!(r.messages, expected, "{r:?}");
            assert!(r.msgs_per_call <= 32.0 && r.msgs_per_call >= 1.0, "{r:?}");
            if matches!(r.mode, ReadMode::BacklogCold | ReadMode::BacklogColdLog) {
                assert!(r.resident_before.unwrap() < 0.25, "{r:?}");
            }
            if r.mode != ReadMode::Tail {
                assert!(r.cached_after_bytes.unwrap() > 0, "{r:?}");
            }
            if r.mode == ReadMode::BacklogHot {
                assert!(r.resident_before.unwrap() > 0.75, "{r:?}");
            }
        }
        // With one queue, a read returns a full batch of 32 until the last.
        let one = runs
            .iter()
            .find(|r| r.partitions == 1 && r.mode == ReadMode::BacklogHot)
            .unwrap();
        assert_eq!(one.calls, 3000u64.div_ceil(32));
        assert_eq!(medians(&runs).len(), runs.len() / 2);
        let out = tmp.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        report(&out, &p, &runs).unwrap();
        let csv = std::fs::read_to_string(out.join("reads.csv")).unwrap();
        assert_eq!(csv.lines().count(), 1 + 2 * p.modes().len());
        assert!(out.join("backlog.svg").is_file());
        assert_eq!(
            out.join("backlog-cold.svg").is_file(),
            CAN_EVICT,
            "the cold chart exists when the cold drains ran"
        );
    }
}
