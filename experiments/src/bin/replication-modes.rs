//! Experiment `replication-modes`: what does each way of keeping a second copy cost a producer?
//!
//! One run starts four clusters one after another, each fresh in its own temporary directory
//! with its own `mqnamesrv` on free 127.0.0.1 ports, and drives the same workload at each:
//!
//! 1. `single`: one broker, `brokerRole=ASYNC_MASTER`, no slave (one copy);
//! 2. `async-ms`: ASYNC_MASTER (brokerId 0) + SLAVE (brokerId 1) of the same brokerName; the
//!    master acknowledges at once and the HA service ships the commit log afterwards;
//! 3. `sync-ms`: SYNC_MASTER + SLAVE; the master acknowledges only once the slave reports the
//!    bytes (the run waits until sends return SEND_OK instead of SLAVE_NOT_AVAILABLE);
//! 4. `dledger`: a DLedger group of three (`enableDLegerCommitLog=true`); the leader
//!    acknowledges once a majority (2 of 3) has appended the entry.
//!
//! The workload, with rmq-client: 1 KiB synchronous sends one at a time (latency histogram,
//! p50/p99/p99.9) and then 8 producers sending concurrently (throughput). All brokers use the
//! default ASYNC_FLUSH: no mode waits for a disk here, only for copies in other processes.
//!
//! Full mode: 20 s per workload. `--quick` (CI): 3 s per workload, under a minute in all, and
//! writes under `target/experiments/quick/`. Output in `book/src/figures/replication-modes/`:
//! `results.csv`, `results.json`, `ratios.md`, `latency.csv`, `throughput.svg`,
//! `latency.svg`, `latency-bars.svg`, `meta.json`.
//!
//! Book: Part IV, "Replication modes, measured". Measures crates/broker's HA service
//! (4.8.0 `HAService` / `HAConnection`, `CommitLog.handleHA`) and its DLedger mode (4.8.0
//! `DLedgerCommitLog` on DLedger 0.2.2's `DLedgerServer`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use hdrhistogram::Histogram;
use rmq_client::{Message, Producer, ProducerConfig, SendStatus};
use rmq_remoting::RemotingClient;
use serde::Serialize;

use experiments::chart::{grouped_bar_chart, percentile_chart, Curve, Series};
use experiments::latency::{percentile_curve, record};
use experiments::servers::{
    broker_ids, build_servers, create_topic, free_broker_port, free_port, start_broker,
    start_namesrv, Proc,
};
use experiments::{
    figures_dir_for, new_latency_histogram, progress_bar, write_csv, write_json, write_meta,
    LatencySummary, QuickArgs,
};

const EXPERIMENT: &str = "replication-modes";
const CLUSTER: &str = "ReplCluster";
const BROKER_NAME: &str = "repl-broker";
const TOPIC: &str = "ReplTopic";
const RPC: Duration = Duration::from_secs(3);

#[derive(Parser)]
#[command(about = "Send latency and throughput: single master, async/sync master-slave, DLedger")]
struct Cli {
    #[command(flatten)]
    quick: QuickArgs,
}

/// The run's parameters, recorded in meta.json and results.json.
#[derive(Debug, Clone, Serialize)]
struct Params {
    body_bytes: usize,
    queues: i32,
    /// Unmeasured sends before each workload (connections, routes, page cache).
    warmup_s: f64,
    /// One producer, one send at a time.
    latency_s: f64,
    /// `concurrency` producers, each one send at a time.
    throughput_s: f64,
    concurrency: usize,
    flush_disk_type: &'static str,
    send_timeout_ms: u64,
}

impl Params {
    fn new(q: QuickArgs) -> Params {
        Params {
            body_bytes: 1024,
            queues: 8,
            warmup_s: q.pick(0.5, 2.0),
            latency_s: q.pick(3.0, 20.0),
            throughput_s: q.pick(3.0, 20.0),
            concurrency: 8,
            flush_disk_type: "ASYNC_FLUSH",
            send_timeout_ms: 3000,
        }
    }
}

/// The four cluster layouts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Single,
    AsyncMs,
    SyncMs,
    Dledger,
}

impl Mode {
    const ALL: [Mode; 4] = [Mode::Single, Mode::AsyncMs, Mode::SyncMs, Mode::Dledger];

    fn id(self) -> &'static str {
        match self {
            Mode::Single => "single",
            Mode::AsyncMs => "async-ms",
            Mode::SyncMs => "sync-ms",
            Mode::Dledger => "dledger",
        }
    }

    /// What a SEND_OK promises in this mode.
    fn acked_when(self) -> &'static str {
        match self {
            Mode::Single => "in the master's page cache",
            Mode::AsyncMs => "in the master's page cache (slave copies later)",
            Mode::SyncMs => "in the master's and the slave's page cache",
            Mode::Dledger => "appended by 2 of 3 nodes (majority)",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The servers (the approach of failover.rs and crates/broker/tests/ha.rs).

/// Writes one broker's config under `dir/name` and returns (config path, address).
fn broker_conf(dir: &Path, name: &str, ns: &str, extra: &str) -> Result<(PathBuf, String)> {
    let d = dir.join(name);
    std::fs::create_dir_all(&d)?;
    let port = free_broker_port()?;
    let conf = d.join("broker.conf");
    std::fs::write(
        &conf,
        format!(
            "brokerClusterName={CLUSTER}\nbrokerName={BROKER_NAME}\nlistenPort={port}\n\
             namesrvAddr={ns}\nbrokerIP1=127.0.0.1\nstorePathRootDir={}\n\
             flushDiskType=ASYNC_FLUSH\nmappedFileSizeCommitLog=134217728\n\
             autoCreateTopicEnable=true\n{extra}\n",
            d.join("store").display()
        ),
    )?;
    Ok((conf, format!("127.0.0.1:{port}")))
}

/// A running cluster of one mode; dropping it kills every process.
struct Cluster {
    ns: String,
    /// Brokers that accept writes and need the topic (masters, all DLedger members).
    writable: Vec<String>,
    /// brokerIds the name server must list before the cluster counts as up.
    members: usize,
    _procs: Vec<Proc>,
}

fn start_cluster(mode: Mode, bin: &Path, dir: &Path) -> Result<Cluster> {
    let (ns_proc, ns) = start_namesrv(bin, dir)?;
    let mut procs = vec![ns_proc];
    let mut writable = Vec::new();
    let members = match mode {
        Mode::Single => {
            let (c, a) = broker_conf(dir, "master", &ns, "brokerId=0\nbrokerRole=ASYNC_MASTER")?;
            procs.push(start_broker(bin, &c)?);
            writable.push(a);
            1
        }
        Mode::AsyncMs | Mode::SyncMs => {
            let role = if mode == Mode::AsyncMs {
                "ASYNC_MASTER"
            } else {
                "SYNC_MASTER"
            };
            let (mc, ma) = broker_conf(
                dir,
                "master",
                &ns,
                &format!("brokerId=0\nbrokerRole={role}"),
            )?;
            let (sc, _) = broker_conf(dir, "slave", &ns, "brokerId=1\nbrokerRole=SLAVE")?;
            procs.push(start_broker(bin, &mc)?);
            procs.push(start_broker(bin, &sc)?);
            writable.push(ma);
            2
        }
        Mode::Dledger => {
            let peers = (0..3)
                .map(|i| Ok(format!("n{i}-127.0.0.1:{}", free_port()?)))
                .collect::<Result<Vec<_>>>()?
                .join(";");
            let mut confs = Vec::new();
            for i in 0..3 {
                let extra = format!(
                    "enableDLegerCommitLog=true\ndLegerGroup={BROKER_NAME}\n\
                     dLegerPeers={peers}\ndLegerSelfId=n{i}"
                );
                confs.push(broker_conf(dir, &format!("n{i}"), &ns, &extra)?);
            }
            for (c, a) in confs {
                procs.push(start_broker(bin, &c)?);
                writable.push(a);
            }
            3
        }
    };
    Ok(Cluster {
        ns,
        writable,
        members,
        _procs: procs,
    })
}

/// Waits (up to 60 s) until the name server lists `members` brokers, one of them brokerId 0.
async fn wait_registered(c: &RemotingClient, ns: &str, members: usize) -> Result<()> {
    let start = Instant::now();
    loop {
        let ids = broker_ids(c, ns, BROKER_NAME, RPC).await;
        if ids.len() >= members && ids.contains_key(&0) {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(60) {
            bail!("name server lists {ids:?} after 60 s, want {members} with a brokerId 0");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The workload.

/// What one producer saw while it was measured.
struct Tally {
    hist: Histogram<u64>,
    ok: u64,
    /// Replies other than SEND_OK (SLAVE_NOT_AVAILABLE, FLUSH_SLAVE_TIMEOUT, ...).
    not_ok: u64,
    /// Sends that failed outright (after the client's retries).
    errors: u64,
}

/// Sends `body` without pause until `stop`; only sends that start after `measure` counts.
async fn send_loop(
    p: Producer,
    body: Arc<Vec<u8>>,
    measure: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> Tally {
    let mut t = Tally {
        hist: new_latency_histogram(),
        ok: 0,
        not_ok: 0,
        errors: 0,
    };
    while !stop.load(Ordering::Relaxed) {
        let counted = measure.load(Ordering::Relaxed);
        let start = Instant::now();
        let r = p.send(Message::new(TOPIC, body.as_ref().clone())).await;
        let took = start.elapsed();
        if !counted || stop.load(Ordering::Relaxed) {
            continue;
        }
        match r {
            Ok(r) if r.send_status == SendStatus::SendOk => {
                t.ok += 1;
                record(&mut t.hist, took);
            }
            Ok(_) => t.not_ok += 1,
            Err(_) => {
                t.errors += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    t
}

/// The numbers of one workload in one mode.
#[derive(Debug, Clone, Serialize)]
struct Workload {
    producers: usize,
    measured_s: f64,
    ok: u64,
    not_ok: u64,
    errors: u64,
    sends_per_s: f64,
    mib_per_s: f64,
    latency: LatencySummary,
    #[serde(skip)]
    curve: Vec<(f64, f64)>,
}

/// Runs `n` producers for warm-up + `secs` and merges what they saw.
async fn workload(
    producers: &[Producer],
    n: usize,
    params: &Params,
    secs: f64,
) -> Result<Workload> {
    let body = Arc::new(vec![b'r'; params.body_bytes]);
    let measure = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = producers
        .iter()
        .take(n)
        .map(|p| {
            tokio::spawn(send_loop(
                p.clone(),
                body.clone(),
                measure.clone(),
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(params.warmup_s)).await;
    measure.store(true, Ordering::Relaxed);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let measured = t0.elapsed().as_secs_f64();
    let mut hist = new_latency_histogram();
    let (mut ok, mut not_ok, mut errors) = (0, 0, 0);
    for t in tasks {
        let t = t.await?;
        hist.add(&t.hist)
            .map_err(|e| anyhow!("merging histograms: {e:?}"))?;
        ok += t.ok;
        not_ok += t.not_ok;
        errors += t.errors;
    }
    let per_s = ok as f64 / measured;
    Ok(Workload {
        producers: n,
        measured_s: round1(measured),
        ok,
        not_ok,
        errors,
        sends_per_s: per_s.round(),
        mib_per_s: round1(per_s * params.body_bytes as f64 / (1024.0 * 1024.0)),
        latency: LatencySummary::of(&hist),
        curve: percentile_curve(&hist),
    })
}

/// Sends until one reply is SEND_OK (a SYNC_MASTER says SLAVE_NOT_AVAILABLE until its slave
/// has connected to the HA port); returns how long that took.
async fn wait_send_ok(p: &Producer) -> Result<Duration> {
    let start = Instant::now();
    loop {
        let r = p.send(Message::new(TOPIC, b"ready?".to_vec())).await;
        if matches!(&r, Ok(r) if r.send_status == SendStatus::SendOk) {
            return Ok(start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(60) {
            bail!(
                "no SEND_OK after 60 s; last reply {:?}",
                r.map(|r| r.send_status)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Everything measured in one mode.
#[derive(Debug, Clone, Serialize)]
struct ModeResult {
    mode: &'static str,
    acked_when: &'static str,
    /// Cluster start (processes, registration, topic) until the first SEND_OK.
    ready_s: f64,
    sequential: Workload,
    concurrent: Workload,
}

async fn run_mode(mode: Mode, params: &Params, bin: &Path, dir: &Path) -> Result<ModeResult> {
    let start = Instant::now();
    let cluster = {
        let (bin, dir) = (bin.to_path_buf(), dir.to_path_buf());
        tokio::task::spawn_blocking(move || start_cluster(mode, &bin, &dir)).await??
    };
    let c = RemotingClient::new();
    wait_registered(&c, &cluster.ns, cluster.members).await?;
    for a in &cluster.writable {
        create_topic(&c, a, TOPIC, params.queues, RPC).await?;
    }
    let mut producers = Vec::new();
    for i in 0..params.concurrency {
        let mut cfg = ProducerConfig::new(format!("repl_pg_{}", mode.id()), cluster.ns.clone());
        cfg.client.instance_name = Some(format!("repl-{}-{i}", mode.id()));
        cfg.send_timeout = Duration::from_millis(params.send_timeout_ms);
        producers.push(Producer::start(cfg).await?);
    }
    wait_send_ok(&producers[0]).await?;
    let ready_s = round1(start.elapsed().as_secs_f64());
    let sequential = workload(&producers, 1, params, params.latency_s).await?;
    let concurrent = workload(&producers, params.concurrency, params, params.throughput_s).await?;
    for p in &producers {
        p.shutdown().await;
    }
    drop(cluster);
    Ok(ModeResult {
        mode: mode.id(),
        acked_when: mode.acked_when(),
        ready_s,
        sequential,
        concurrent,
    })
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct Results<'a> {
    params: &'a Params,
    modes: &'a [ModeResult],
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let params = Params::new(cli.quick);
    let started = Instant::now();
    let bin = build_servers()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()?;
    let bar = progress_bar(Mode::ALL.len() as u64, "replication modes");
    let mut results = Vec::new();
    for mode in Mode::ALL {
        bar.set_message(mode.id());
        let tmp = tempfile::Builder::new()
            .prefix(&format!("rmq-repl-{}-", mode.id()))
            .tempdir()?;
        let r = rt
            .block_on(run_mode(mode, &params, &bin, tmp.path()))
            .with_context(|| format!("mode {}", mode.id()))?;
        bar.inc(1);
        results.push(r);
    }
    bar.finish_and_clear();
    rt.shutdown_timeout(Duration::from_secs(2));

    let dir = figures_dir_for(EXPERIMENT, cli.quick.quick)?;
    write_outputs(&dir, &params, &results)?;
    write_meta(
        &dir,
        EXPERIMENT,
        cli.quick.mode(),
        started.elapsed(),
        &params,
    )?;
    print!("{}", ratio_table(&results));
    println!("wrote {}", dir.display());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Output.

/// The markdown table of ratios against single master (the chapter includes it).
fn ratio_table(rs: &[ModeResult]) -> String {
    let Some(base) = rs.first() else {
        return String::new();
    };
    let ratio = |v: f64, b: f64| if b > 0.0 { v / b } else { f64::NAN };
    let mut s = String::from(
        "| mode | acknowledged when | p50 µs (1 producer) | p99 µs | p99.9 µs | \
         sends/s (8 producers) | p50 vs single | p99 vs single | throughput vs single |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for r in rs {
        let (l, bl) = (&r.sequential.latency, &base.sequential.latency);
        s.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2}× | {:.2}× | {:.2}× |\n",
            r.mode,
            r.acked_when,
            l.p50_us,
            l.p99_us,
            l.p999_us,
            r.concurrent.sends_per_s,
            ratio(l.p50_us, bl.p50_us),
            ratio(l.p99_us, bl.p99_us),
            ratio(r.concurrent.sends_per_s, base.concurrent.sends_per_s),
        ));
    }
    s
}

fn write_outputs(dir: &Path, params: &Params, rs: &[ModeResult]) -> Result<()> {
    let mut rows = Vec::new();
    for r in rs {
        for w in [&r.sequential, &r.concurrent] {
            let l = &w.latency;
            rows.push(vec![
                r.mode.to_string(),
                w.producers.to_string(),
                format!("{:.1}", w.measured_s),
                w.ok.to_string(),
                w.not_ok.to_string(),
                w.errors.to_string(),
                format!("{:.0}", w.sends_per_s),
                format!("{:.1}", w.mib_per_s),
                format!("{:.0}", l.p50_us),
                format!("{:.0}", l.p90_us),
                format!("{:.0}", l.p99_us),
                format!("{:.0}", l.p999_us),
                format!("{:.0}", l.max_us),
            ]);
        }
    }
    write_csv(
        &dir.join("results.csv"),
        &[
            "mode",
            "producers",
            "measured_s",
            "send_ok",
            "not_ok",
            "errors",
            "sends_per_s",
            "mib_per_s",
            "p50_us",
            "p90_us",
            "p99_us",
            "p999_us",
            "max_us",
        ],
        &rows,
    )?;
    let mut curve_rows = Vec::new();
    for r in rs {
        for w in [&r.sequential, &r.concurrent] {
            for (p, us) in &w.curve {
                curve_rows.push(vec![
                    r.mode.to_string(),
                    w.producers.to_string(),
                    format!("{p}"),
                    format!("{us:.1}"),
                ]);
            }
        }
    }
    write_csv(
        &dir.join("latency.csv"),
        &["mode", "producers", "percentile", "latency_us"],
        &curve_rows,
    )?;
    write_json(&dir.join("results.json"), &Results { params, modes: rs })?;
    std::fs::write(dir.join("ratios.md"), ratio_table(rs))?;

    let groups: Vec<String> = rs.iter().map(|r| r.mode.to_string()).collect();
    grouped_bar_chart(
        &dir.join("throughput.svg"),
        "1 KiB sync sends/s by replication mode",
        "acknowledged sends/s",
        &groups,
        &[
            Series {
                name: "1 producer".into(),
                values: rs.iter().map(|r| r.sequential.sends_per_s).collect(),
            },
            Series {
                name: format!("{} producers", params.concurrency),
                values: rs.iter().map(|r| r.concurrent.sends_per_s).collect(),
            },
        ],
        &|v| format!("{v:.0}"),
    )?;
    grouped_bar_chart(
        &dir.join("latency-bars.svg"),
        "Send latency, one producer, one send at a time",
        "latency (µs)",
        &groups,
        &[
            Series {
                name: "p50".into(),
                values: rs.iter().map(|r| r.sequential.latency.p50_us).collect(),
            },
            Series {
                name: "p99".into(),
                values: rs.iter().map(|r| r.sequential.latency.p99_us).collect(),
            },
            Series {
                name: "p99.9".into(),
                values: rs.iter().map(|r| r.sequential.latency.p999_us).collect(),
            },
        ],
        &|v| format!("{v:.0}"),
    )?;
    let curves: Vec<Curve> = rs
        .iter()
        .map(|r| Curve {
            name: r.mode.to_string(),
            points: r.sequential.curve.clone(),
        })
        .collect();
    percentile_chart(
        &dir.join("latency.svg"),
        "Send latency by percentile (1 producer, 1 KiB)",
        &curves,
    )
}
