//! Experiment `vs-peers`: our mqnamesrv + mqbroker side by side with Apache RocketMQ 4.8.0 (the
//! Java original, from Maven Central) and mxsm/rocketmq-rust 1.0 (from crates.io), driven by the
//! same `mqbench` workloads; idle memory and CPU per process; and the ceiling this machine puts
//! on any broker: bytes over one loopback TCP connection copied into a memory-mapped file.
//!
//! `cargo run --release -p experiments --bin vs-peers -- [--quick]`. Full mode: the three
//! systems, 128 B and 1 KiB messages, sync sends from 1 thread, batches of 32 from 4 threads, sync
//! sends from 8 threads, best of two rounds; 30 s of idle sampling; then the read path (see
//! `vs-peers/consume.rs`): a push consumer drains a backlog of 1 M messages of 1 KiB from 8 queues,
//! and reads a topic fed at 1 000 msg/s (send-to-receive latency). `--quick` (CI): ours and Java
//! only, 1 KiB, short runs, a backlog of 50 000, results in `book/src/figures/vs-peers/quick/`. rocketmq-rust is used
//! when its binaries are in `$HOME/.cache/rmq-workbook/rocketmq-rust/bin` (`--install-rocketmq-rust`
//! builds them there with `cargo install`; that takes a long time on two cores).
//!
//! Every server runs inside a private network and PID namespace (see `peers/procs.rs`): 4.8.0
//! binds the wildcard address, and the namespace makes "loopback only" true and guarantees that
//! nothing outlives the run. Book: Part V, "Side by side with Java RocketMQ and rocketmq-rust".
//! Mirrors 4.8.0's `benchmark/producer.sh` idea (one load tool, many brokers).

#[path = "vs-peers/consume.rs"]
mod consume;
#[path = "vs-peers/dledger.rs"]
mod dledger;
#[path = "../../peers/procs.rs"]
mod procs;
#[path = "../../peers/systems.rs"]
mod systems;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use serde::Serialize;

use experiments::chart::{grouped_bar_chart, Series};
use experiments::{
    figures_dir, progress_bar, write_csv, write_json, write_meta, write_meta_as, QuickArgs,
};
use procs::{Server, Usage, Watched};
use systems::{broker_conf, mqbench, start_java, start_ours, Bench, BenchSummary, Flush, System};

const EXPERIMENT: &str = "vs-peers";

#[derive(Parser)]
#[command(
    about = "Our broker next to Java RocketMQ 4.8.0 and rocketmq-rust, same mqbench workloads"
)]
struct Cli {
    #[command(flatten)]
    quick: QuickArgs,
    /// Build mxsm/rocketmq-rust 1.0 (crates rocketmq-namesrv, rocketmq-broker) into
    /// $HOME/.cache/rmq-workbook/rocketmq-rust first if it is not there.
    #[arg(long)]
    install_rocketmq_rust: bool,
    /// Seconds per measured run (default: quick 2, full 15).
    #[arg(long)]
    duration: Option<u64>,
    /// Run only the DLedger comparison (our single broker, our group of three, 4.8.0's group
    /// of three); its files are replaced and its metadata goes to meta-dledger.json.
    #[arg(long)]
    dledger_only: bool,
    /// Run only the read workloads (drain, tail) on our broker and 4.8.0's; the consume
    /// files are replaced and the metadata goes to meta-read.json.
    #[arg(long, conflicts_with = "dledger_only")]
    read_only: bool,
}

/// One load shape, run against every system.
#[derive(Debug, Clone, Serialize)]
struct Workload {
    name: String,
    size: usize,
    threads: usize,
    batch: usize,
}

// ANCHOR: workloads
impl Workload {
    fn new(kind: &str, size: usize) -> Workload {
        let (threads, batch) = match kind {
            "sync" => (1, 1),
            "batch" => (4, 32),
            _ => (8, 1),
        };
        let label = match kind {
            "sync" => "sync ×1".to_string(),
            "batch" => "batch32 ×4".to_string(),
            _ => "sync ×8".to_string(),
        };
        let size_label = if size >= 1024 {
            format!("{} KiB", size / 1024)
        } else {
            format!("{size} B")
        };
        Workload {
            name: format!("{label}, {size_label}"),
            size,
            threads,
            batch,
        }
    }
}
// ANCHOR_END: workloads

#[derive(Debug, Clone, Serialize)]
struct Params {
    mode: &'static str,
    duration_s: u64,
    rounds: usize,
    idle_s: u64,
    warmup_s: u64,
    workloads: Vec<Workload>,
    systems: Vec<String>,
    skipped: Vec<String>,
    java_heap: String,
    flush_disk_type: &'static str,
    /// The DLedger comparison: its workloads, the systems that ran it, what was skipped.
    dledger_workloads: Vec<Workload>,
    dledger_systems: Vec<String>,
    /// The read workloads (drain a backlog, tail latency), run on every system.
    read: consume::Params,
}

/// One measured run.
#[derive(Debug, Clone, Serialize)]
struct Run {
    system: String,
    workload: String,
    size: usize,
    threads: usize,
    batch: usize,
    round: usize,
    messages: u64,
    failures: u64,
    tps: f64,
    mib_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
    /// CPU seconds the system's name server + broker used per million messages.
    server_cpu_s_per_million: f64,
    /// Context switches of the name server + broker per message.
    server_wakeups_per_msg: f64,
    error: Option<String>,
}

fn rust_peer_bin(name: &str) -> PathBuf {
    procs::cache_dir().join("rocketmq-rust/bin").join(name)
}

fn rocketmq_rust_installed() -> bool {
    rust_peer_bin("rocketmq-namesrv-rust").is_file()
        && rust_peer_bin("rocketmq-broker-rust").is_file()
}

fn install_rocketmq_rust() -> Result<()> {
    eprintln!("building rocketmq-namesrv 1.0.0 and rocketmq-broker 1.0.0 from crates.io (slow)");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["install", "--locked", "--root"])
        .arg(procs::cache_dir().join("rocketmq-rust"))
        .args(["rocketmq-namesrv@1.0.0", "rocketmq-broker@1.0.0"])
        .status()
        .context("running cargo install")?;
    if !status.success() {
        bail!("cargo install of rocketmq-rust failed");
    }
    Ok(())
}

fn start_rocketmq_rust(work: &Path) -> Result<System> {
    let dir = work.join("rocketmq-rust");
    std::fs::create_dir_all(dir.join("home/conf"))?;
    let ns_port = procs::free_broker_port()?;
    let mut cmd = Command::new(rust_peer_bin("rocketmq-namesrv-rust"));
    cmd.args([
        "--listenPort",
        &ns_port.to_string(),
        "--bindAddress",
        "127.0.0.1",
    ])
    .arg("--kvConfigPath")
    .arg(dir.join("kvConfig.json"))
    .env("ROCKETMQ_HOME", dir.join("home"))
    .env("HOME", &dir)
    .current_dir(&dir);
    let (mut ns_srv, _) = Server::spawn(
        "rocketmq-namesrv-rust",
        cmd,
        None,
        &dir.join("namesrv.log"),
        Duration::from_secs(30),
    )?;
    procs::wait_port(&mut ns_srv, ns_port, Duration::from_secs(30))?;
    let ns = format!("127.0.0.1:{ns_port}");
    let port = procs::free_broker_port()?;
    let conf = dir.join("broker.properties");
    std::fs::write(
        &conf,
        broker_conf(&dir, "rust-broker-a", &ns, port, true, Flush::Async),
    )?;
    let mut cmd = Command::new(rust_peer_bin("rocketmq-broker-rust"));
    cmd.arg("-c")
        .arg(&conf)
        .args(["-n", &ns])
        .env("ROCKETMQ_HOME", dir.join("home"))
        .env("HOME", &dir)
        .current_dir(&dir);
    let (mut b_srv, _) = Server::spawn(
        "rocketmq-broker-rust",
        cmd,
        None,
        &dir.join("broker.log"),
        Duration::from_secs(30),
    )?;
    procs::wait_port(&mut b_srv, port, Duration::from_secs(60))?;
    Ok(System {
        key: "rocketmq-rust".into(),
        ns,
        broker_addr: format!("127.0.0.1:{port}"),
        procs: vec![
            ("rocketmq-rust".into(), "name server".into(), ns_srv.pid()),
            ("rocketmq-rust".into(), "broker".into(), b_srv.pid()),
        ],
        _servers: vec![ns_srv, b_srv],
        _java: None,
    })
}

/// Runs one mqbench producer workload against `sys`.
fn produce(
    sys: &System,
    w: &Workload,
    topic: &str,
    secs: u64,
    scratch: &Path,
) -> Result<BenchSummary> {
    let b = Bench {
        mode: "producer",
        topic,
        size: w.size,
        threads: w.threads,
        batch: w.batch,
        secs,
        group: format!("bench_{}", sys.key.replace('-', "_")),
    };
    mqbench(sys, &b, scratch)
}

/// Waits until a system accepts sends: probe runs of mqbench until one succeeds.
fn warm_up(sys: &System, secs: u64, scratch: &Path) -> Result<()> {
    let w = Workload::new("many", 1024);
    let mut last = None;
    for _ in 0..10 {
        match produce(sys, &w, "PeersWarmup", secs, scratch) {
            Ok(s) if s.messages > 0 => return Ok(()),
            Ok(_) => last = Some(anyhow!("no message went through")),
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    Err(last.unwrap_or_else(|| anyhow!("warm-up failed")))
}

// ANCHOR: measure
fn measure(sys: &System, w: &Workload, round: usize, secs: u64, scratch: &Path) -> Run {
    let topic = format!("Peers_{}_{}_{}_{}", w.size, w.threads, w.batch, round);
    let before: Vec<_> = sys.procs.iter().map(|p| procs::sample(p.2)).collect();
    let result = produce(sys, w, &topic, secs, scratch);
    let after: Vec<_> = sys.procs.iter().map(|p| procs::sample(p.2)).collect();
    let cpu = procs::cpu_seconds(&before, &after);
    let switches: u64 = before
        .iter()
        .zip(&after)
        .map(|(a, b)| match (a, b) {
            (Some(a), Some(b)) => b.ctxt_switches.saturating_sub(a.ctxt_switches),
            _ => 0,
        })
        .sum();
    // ANCHOR_END: measure
    let mut run = Run {
        system: sys.key.clone(),
        workload: w.name.clone(),
        size: w.size,
        threads: w.threads,
        batch: w.batch,
        round,
        messages: 0,
        failures: 0,
        tps: 0.0,
        mib_per_s: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        p999_ms: 0.0,
        max_ms: 0.0,
        server_cpu_s_per_million: 0.0,
        server_wakeups_per_msg: 0.0,
        error: None,
    };
    match result {
        Ok(s) => {
            let ms = |us: u64| us as f64 / 1000.0;
            run.messages = s.messages;
            run.failures = s.failures;
            run.tps = s.tps_avg;
            run.mib_per_s = s.tps_avg * w.size as f64 / (1024.0 * 1024.0);
            run.p50_ms = ms(s.latency_us.p50);
            run.p99_ms = ms(s.latency_us.p99);
            run.p999_ms = ms(s.latency_us.p999);
            run.max_ms = ms(s.latency_us.max);
            if s.messages > 0 {
                run.server_cpu_s_per_million = cpu / s.messages as f64 * 1e6;
                run.server_wakeups_per_msg = switches as f64 / s.messages as f64;
            }
        }
        Err(e) => run.error = Some(format!("{e:#}")),
    }
    run
}

// ANCHOR: ceiling
/// The machine's ceiling: one loopback TCP connection whose bytes are copied into a
/// memory-mapped file (256 MiB files, a new one when full, as a commit log rolls), in `chunk`
/// writes. No framing, no encoding, no index: what is left when a broker does nothing else.
fn loopback_mmap_limit(secs: f64, chunk: usize, scratch: &Path) -> Result<f64> {
    const FILE: u64 = 256 << 20;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let dir = scratch.join("mmap-limit");
    std::fs::create_dir_all(&dir)?;
    let receiver = std::thread::spawn(move || -> Result<u64> {
        let (mut sock, _) = listener.accept()?;
        let mut buf = vec![0u8; chunk];
        let mut total = 0u64;
        let mut n_file = 0u32;
        let open = |n: u32| -> Result<memmap2::MmapMut> {
            let path = dir.join(format!("{n:020}"));
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)?;
            f.set_len(FILE)?;
            // SAFETY: the file was just created by this thread and nothing else maps or changes it.
            let m = unsafe { memmap2::MmapMut::map_mut(&f)? };
            if n > 0 {
                let _ = std::fs::remove_file(dir.join(format!("{:020}", n - 1)));
            }
            Ok(m)
        };
        let mut map = open(0)?;
        let mut pos = 0usize;
        loop {
            let n = sock.read(&mut buf)?;
            if n == 0 {
                break;
            }
            if pos + n > map.len() {
                n_file += 1;
                map = open(n_file)?;
                pos = 0;
            }
            map[pos..pos + n].copy_from_slice(&buf[..n]);
            pos += n;
            total += n as u64;
        }
        Ok(total)
    });
    let mut sock = std::net::TcpStream::connect(addr)?;
    let data = vec![b'x'; chunk];
    let begin = Instant::now();
    while begin.elapsed().as_secs_f64() < secs {
        sock.write_all(&data)?;
    }
    drop(sock);
    let total = receiver
        .join()
        .map_err(|_| anyhow!("receiver thread panicked"))??;
    Ok(total as f64 / begin.elapsed().as_secs_f64())
}
// ANCHOR_END: ceiling

fn main() -> Result<()> {
    let cli = Cli::parse();
    if !procs::inside_private_netns() {
        procs::build_release_bins()?;
        if !cli.quick.quick && !rocketmq_rust_installed() && cli.install_rocketmq_rust {
            if let Err(e) = install_rocketmq_rust() {
                eprintln!("rocketmq-rust could not be built: {e:#}");
            }
        }
        if let Some(reason) = procs::netns_unavailable() {
            eprintln!("vs-peers: {reason}; Java 4.8.0 binds all interfaces, so only our broker is measured");
            return run(&cli, false);
        }
        if !systems::fetch_java() {
            eprintln!(
                "vs-peers: the Java 4.8.0 jars could not be fetched; only our broker is measured"
            );
            return run(&cli, false);
        }
        std::process::exit(procs::rerun_in_private_netns()?);
    }
    run(&cli, true)
}

fn run(cli: &Cli, java_possible: bool) -> Result<()> {
    let started = Instant::now();
    let q = cli.quick;
    let out = figures_dir(if q.quick {
        "vs-peers/quick"
    } else {
        EXPERIMENT
    })?;
    let scratch_dir = tempfile::Builder::new().prefix("rmq-vs-peers.").tempdir()?;
    let scratch = scratch_dir.path();
    let heap = "1g".to_string();
    let sizes: Vec<usize> = if q.quick { vec![1024] } else { vec![128, 1024] };
    let mut workloads = Vec::new();
    for size in &sizes {
        for kind in ["sync", "batch", "many"] {
            workloads.push(Workload::new(kind, *size));
        }
    }
    let mut params = Params {
        mode: q.mode(),
        duration_s: cli.duration.unwrap_or(q.pick(2, 15)),
        rounds: q.pick(1, 2),
        idle_s: q.pick(3, 30),
        warmup_s: q.pick(1, 10),
        workloads: workloads.clone(),
        systems: Vec::new(),
        skipped: Vec::new(),
        java_heap: heap.clone(),
        flush_disk_type: "ASYNC_FLUSH",
        dledger_workloads: sizes
            .iter()
            .flat_map(|size| [Workload::new("many", *size), Workload::new("batch", *size)])
            .collect(),
        dledger_systems: Vec::new(),
        read: consume::Params::new(q.quick),
    };

    // ---- start everything, side by side
    eprintln!("starting the servers (work dir {})", scratch.display());
    let mut systems = Vec::new();
    systems.push(
        start_ours(scratch, "ours", Flush::Async).context("starting our mqnamesrv + mqbroker")?,
    );
    if java_possible && !cli.dledger_only {
        eprintln!("starting Java RocketMQ 4.8.0 (-Xms{heap} -Xmx{heap}, G1)");
        match start_java(scratch, "java", &heap, Flush::Async) {
            Ok(s) => systems.push(s),
            Err(e) => params.skipped.push(format!("java: {e:#}")),
        }
    } else if !java_possible {
        params
            .skipped
            .push("java: no private network namespace here".into());
    }
    if !q.quick && !cli.dledger_only && !cli.read_only {
        if rocketmq_rust_installed() {
            eprintln!("starting rocketmq-rust 1.0");
            match start_rocketmq_rust(scratch) {
                Ok(s) => systems.push(s),
                Err(e) => params.skipped.push(format!("rocketmq-rust: {e:#}")),
            }
        } else {
            params.skipped.push(format!(
                "rocketmq-rust: not installed in {} (run with --install-rocketmq-rust)",
                procs::cache_dir().join("rocketmq-rust").display()
            ));
        }
    }
    for s in &params.skipped {
        eprintln!("skipped {s}");
    }

    // ---- the idle window (fresh servers, routes registered), then warm-up (JIT, page cache)
    std::thread::sleep(Duration::from_secs(q.pick(1, 5)));
    let watched: Vec<Watched> = systems.iter().flat_map(|s| s.procs.clone()).collect();
    if cli.dledger_only || cli.read_only {
        params.idle_s = 0;
        params.workloads.clear();
    }
    let bar = progress_bar(params.idle_s, "idle sampling");
    let idle = procs::observe(&watched, Duration::from_secs(params.idle_s), || bar.inc(1));
    bar.finish_and_clear();
    let mut ready = Vec::new();
    for sys in systems {
        eprintln!("warming up {} for {} s", sys.key, params.warmup_s);
        match warm_up(&sys, params.warmup_s, scratch) {
            Ok(()) => ready.push(sys),
            Err(e) => params
                .skipped
                .push(format!("{}: warm-up failed: {e:#}", sys.key)),
        }
    }
    let systems = ready;
    if systems.is_empty() {
        bail!("no system accepted messages: {:?}", params.skipped);
    }
    params.systems = systems.iter().map(|s| s.key.clone()).collect();

    // ---- the load matrix: every round, every workload, every system in turn
    let all: Vec<&System> = systems.iter().collect();
    let runs = load_matrix(&all, &params.workloads, &params, "mqbench runs", scratch);
    let read_runs = if cli.dledger_only {
        Vec::new()
    } else {
        read_matrix(&all, &params, scratch)
    };
    if cli.read_only {
        drop(systems);
        consume::write(&out, &params.read, &read_runs, &params.systems, label)?;
        for r in consume::best(&read_runs, &params.systems) {
            println!(
                "read {:<6} {:<14} {:>10.0} msg/s  p50 {:.2} ms  p99 {:.2} ms  server {:.2} µs/msg",
                r.workload, r.system, r.msgs_per_s, r.p50_ms, r.p99_ms, r.server_cpu_us_per_msg
            );
        }
        write_meta_as(
            &out,
            "meta-read.json",
            EXPERIMENT,
            q.mode(),
            started.elapsed(),
            &params,
        )?;
        eprintln!("wrote {}", out.display());
        return Ok(());
    }
    std::thread::sleep(Duration::from_secs(q.pick(1, 5)));
    let after_load: Vec<(Watched, Option<procs::ProcSample>)> = watched
        .iter()
        .map(|p| (p.clone(), procs::sample(p.2)))
        .collect();

    // ---- DLedger groups of three next to our single broker, same workloads, same run
    let dledger_runs = run_dledger(
        &mut params,
        &systems,
        java_possible && !q.quick,
        &heap,
        scratch,
    );
    if cli.dledger_only {
        drop(systems);
        write_dledger(&out, &params, &dledger_runs)?;
        write_meta_as(
            &out,
            "meta-dledger.json",
            EXPERIMENT,
            q.mode(),
            started.elapsed(),
            &params,
        )?;
        eprintln!("wrote {}", out.display());
        return Ok(());
    }

    eprintln!("measuring the loopback + mmap ceiling");
    let limit_bytes_s = loopback_mmap_limit(q.pick(1.0, 5.0), 32 * 1024, scratch)?;
    drop(systems); // stop every server before writing

    let best = best_runs(&runs, &workloads, &params.systems);
    let outputs = Outputs {
        params: &params,
        runs: &runs,
        best: &best,
        idle: &idle,
        after_load: &after_load,
        limit_bytes_s,
    };
    write_outputs(&out, &outputs)?;
    write_dledger(&out, &params, &dledger_runs)?;
    consume::write(&out, &params.read, &read_runs, &params.systems, label)?;
    print_summary(&best, &params.systems, limit_bytes_s);
    for r in consume::best(&read_runs, &params.systems) {
        println!(
            "read {:<6} {:<14} {:>10.0} msg/s  p50 {:.2} ms  p99 {:.2} ms",
            r.workload, r.system, r.msgs_per_s, r.p50_ms, r.p99_ms
        );
    }
    write_meta(&out, EXPERIMENT, q.mode(), started.elapsed(), &params)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// Starts our DLedger group of three (and 4.8.0's, when Java can run), warms them up, and
/// runs the DLedger workloads on our single broker and on each group, every round.
fn run_dledger(
    params: &mut Params,
    singles: &[System],
    java_possible: bool,
    heap: &str,
    scratch: &Path,
) -> Vec<Run> {
    let mut groups = Vec::new();
    let kinds = dledger::Group::ALL
        .into_iter()
        .filter(|g| java_possible || g.which == dledger::Impl::Ours);
    for group in kinds {
        eprintln!("starting a DLedger group of three ({})", group.key());
        match dledger::start_group(scratch, group, heap) {
            Ok(g) => match warm_up(&g, params.warmup_s, scratch) {
                Ok(()) => groups.push(g),
                Err(e) => params
                    .skipped
                    .push(format!("{}: warm-up failed: {e:#}", g.key)),
            },
            Err(e) => params
                .skipped
                .push(format!("{} DLedger group: {e:#}", group.key())),
        }
    }
    let mut systems: Vec<&System> = singles.iter().filter(|s| s.key == "ours").collect();
    systems.extend(groups.iter());
    params.dledger_systems = systems.iter().map(|s| s.key.clone()).collect();
    let workloads = params.dledger_workloads.clone();
    load_matrix(&systems, &workloads, params, "DLedger runs", scratch)
}

/// Every round, every workload, every system in turn, under a progress bar.
fn load_matrix(
    systems: &[&System],
    workloads: &[Workload],
    params: &Params,
    what: &str,
    scratch: &Path,
) -> Vec<Run> {
    let total = (params.rounds * workloads.len() * systems.len()) as u64;
    let bar = progress_bar(total, what);
    let mut runs = Vec::new();
    for round in 0..params.rounds {
        for w in workloads {
            for sys in systems {
                bar.set_message(format!("{} {}", sys.key, w.name));
                let r = measure(sys, w, round, params.duration_s, scratch);
                if let Some(e) = &r.error {
                    bar.println(format!("{} / {}: {e}", sys.key, w.name));
                }
                runs.push(r);
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    runs
}

/// The read workloads, every round, every system in turn: drain a backlog, then the tail.
fn read_matrix(systems: &[&System], params: &Params, scratch: &Path) -> Vec<consume::Run> {
    let total = (params.rounds * 2 * systems.len()) as u64;
    let bar = progress_bar(total, "read runs");
    let mut runs = Vec::new();
    for round in 0..params.rounds {
        for sys in systems {
            bar.set_message(format!("{} drain", sys.key));
            runs.push(consume::drain(sys, &params.read, round, scratch));
            bar.inc(1);
            bar.set_message(format!("{} tail", sys.key));
            runs.push(consume::tail(sys, &params.read, round, scratch));
            bar.inc(1);
        }
    }
    for r in &runs {
        if let Some(e) = &r.error {
            bar.println(format!("{} / {}: {e}", r.system, r.workload));
        }
    }
    bar.finish_and_clear();
    runs
}

/// dledger.md, dledger.svg and dledger.csv from the DLedger runs (best round of each).
fn write_dledger(out: &Path, params: &Params, runs: &[Run]) -> Result<()> {
    if runs.is_empty() {
        return Ok(());
    }
    let best = best_runs(runs, &params.dledger_workloads, &params.dledger_systems);
    write_csv(
        &out.join("dledger.csv"),
        &RUN_COLUMNS,
        &runs.iter().map(run_row).collect::<Vec<_>>(),
    )?;
    let rows: Vec<dledger::Row> = params
        .dledger_workloads
        .iter()
        .map(|w| {
            let get = |s: &str| find(&best, &w.name, s);
            let group = |s: &str| {
                get(s).map(|r| dledger::Result1 {
                    tps: r.tps,
                    p99_ms: r.p99_ms,
                })
            };
            dledger::Row {
                workload: w.name.clone(),
                single: get("ours").map(|r| r.tps),
                ours: group(dledger::OURS_GROUP),
                ours_batch: group(dledger::OURS_BATCH_GROUP),
                java: group(dledger::JAVA_GROUP),
                java_batch: group(dledger::JAVA_BATCH_GROUP),
            }
        })
        .collect();
    let mut md = dledger::table(&rows);
    let skipped: Vec<&String> = params
        .skipped
        .iter()
        .filter(|s| s.contains("DLedger") || s.contains("dledger"))
        .collect();
    if !skipped.is_empty() {
        md.push_str(&format!(
            "\nNot measured in this run: {}\n",
            skipped
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    std::fs::write(out.join("dledger.md"), md)?;
    dledger::chart(out, &rows)
}

/// The best round per (workload, system): other programs on a shared machine only ever slow a
/// run down, so the fastest round is the least disturbed one.
fn best_runs(runs: &[Run], workloads: &[Workload], systems: &[String]) -> Vec<Run> {
    let mut best = Vec::new();
    for w in workloads {
        for s in systems {
            let pick = runs
                .iter()
                .filter(|r| r.workload == w.name && &r.system == s)
                .max_by(|a, b| a.tps.total_cmp(&b.tps));
            if let Some(r) = pick {
                best.push(r.clone());
            }
        }
    }
    best
}

fn find<'a>(best: &'a [Run], w: &str, s: &str) -> Option<&'a Run> {
    best.iter()
        .find(|r| r.workload == w && r.system == s && r.error.is_none())
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "–".into(),
    }
}

/// How a system is named in charts and tables.
fn label(key: &str) -> &str {
    match key {
        "ours" => "ours (rmq)",
        "java" => "Java 4.8.0",
        "rocketmq-rust" => "rocketmq-rust 1.0",
        other => other,
    }
}

fn f0(v: f64) -> String {
    format!("{v:.0}")
}

#[allow(clippy::too_many_arguments)]
/// Everything one run of the experiment measured: what the output files are written from.
struct Outputs<'a> {
    params: &'a Params,
    /// Every round.
    runs: &'a [Run],
    /// The best round per (workload, system).
    best: &'a [Run],
    /// Each process at rest.
    idle: &'a [Usage],
    /// The last sample of each process, taken a few seconds after the load runs.
    after_load: &'a [(Watched, Option<procs::ProcSample>)],
    /// The loopback + mmap ceiling of this machine (bytes/s).
    limit_bytes_s: f64,
}

/// The columns of runs.csv and results.csv.
const RUN_COLUMNS: [&str; 17] = [
    "system",
    "workload",
    "size",
    "threads",
    "batch",
    "round",
    "messages",
    "failures",
    "tps",
    "mib_per_s",
    "p50_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "server_cpu_s_per_million",
    "server_wakeups_per_msg",
    "error",
];

/// The columns of idle.csv.
const IDLE_COLUMNS: [&str; 11] = [
    "system",
    "process",
    "idle_rss_mib",
    "rss_anon_mib",
    "rss_file_mib",
    "idle_cpu_pct",
    "idle_wakeups_per_s",
    "threads",
    "after_load_anon_mib",
    "after_load_file_mib",
    "peak_rss_mib",
];

/// A number taken from a run (its throughput, a percentile, ...).
type RunValue = fn(&Run) -> f64;

/// One row of runs.csv / results.csv.
fn run_row(r: &Run) -> Vec<String> {
    vec![
        r.system.clone(),
        format!("\"{}\"", r.workload),
        r.size.to_string(),
        r.threads.to_string(),
        r.batch.to_string(),
        r.round.to_string(),
        r.messages.to_string(),
        r.failures.to_string(),
        format!("{:.1}", r.tps),
        format!("{:.2}", r.mib_per_s),
        format!("{:.3}", r.p50_ms),
        format!("{:.3}", r.p99_ms),
        format!("{:.3}", r.p999_ms),
        format!("{:.3}", r.max_ms),
        format!("{:.2}", r.server_cpu_s_per_million),
        format!("{:.2}", r.server_wakeups_per_msg),
        r.error
            .clone()
            .map(|e| format!("\"{}\"", e.replace('"', "'")))
            .unwrap_or_default(),
    ]
}

/// MiB from KiB.
fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

impl Outputs<'_> {
    /// The sample of process `pid` after the load (zeros if it was not taken).
    fn loaded(&self, pid: u32) -> procs::ProcSample {
        self.after_load
            .iter()
            .find(|(w, _)| w.2 == pid)
            .and_then(|(_, s)| *s)
            .unwrap_or_default()
    }

    /// The sample of `system`'s broker after the load.
    fn broker_loaded(&self, system: &str) -> procs::ProcSample {
        self.after_load
            .iter()
            .find(|(w, _)| w.0 == system && w.1 == "broker")
            .and_then(|(_, x)| *x)
            .unwrap_or_default()
    }

    /// `process` of `system` at rest.
    fn idle_of(&self, system: &str, process: &str) -> Option<&Usage> {
        self.idle
            .iter()
            .find(|u| u.system == system && u.process == process)
    }

    /// `f` of `process` of `system` at rest (0 when it was not observed).
    fn usage(&self, system: &str, process: &str, f: &dyn Fn(&Usage) -> f64) -> f64 {
        self.idle_of(system, process).map(f).unwrap_or(0.0)
    }

    /// The best round of workload `w` on `system`.
    fn best_of(&self, w: &str, system: &str) -> Option<&Run> {
        find(self.best, w, system)
    }

    /// Every workload's name, in order.
    fn workload_names(&self) -> Vec<String> {
        self.params
            .workloads
            .iter()
            .map(|w| w.name.clone())
            .collect()
    }

    /// The systems other than ours.
    fn peers(&self) -> Vec<&String> {
        self.params
            .systems
            .iter()
            .filter(|s| s.as_str() != "ours")
            .collect()
    }

    /// One bar series per system: `f` of its best round of each workload in `groups`.
    fn series_of(&self, groups: &[String], f: &dyn Fn(&Run) -> f64) -> Vec<Series> {
        self.params
            .systems
            .iter()
            .map(|s| Series {
                name: label(s).to_string(),
                values: groups
                    .iter()
                    .map(|g| self.best_of(g, s).map(f).unwrap_or(0.0))
                    .collect(),
            })
            .collect()
    }
}

/// Writes the raw data, the charts and the ratio tables the chapter includes into `out`.
fn write_outputs(out: &Path, o: &Outputs) -> Result<()> {
    write_data(out, o)?;
    write_throughput_charts(out, o)?;
    write_latency_and_cpu_charts(out, o)?;
    write_resource_charts(out, o)?;
    std::fs::write(out.join("ratios.md"), ratios_markdown(o))?;
    Ok(())
}

/// runs.csv, results.csv, idle.csv and results.json.
fn write_data(out: &Path, o: &Outputs) -> Result<()> {
    let rows = |runs: &[Run]| runs.iter().map(run_row).collect::<Vec<_>>();
    write_csv(&out.join("runs.csv"), &RUN_COLUMNS, &rows(o.runs))?;
    write_csv(&out.join("results.csv"), &RUN_COLUMNS, &rows(o.best))?;
    let idle_rows: Vec<Vec<String>> = o
        .idle
        .iter()
        .map(|u| {
            let a = o.loaded(u.pid);
            vec![
                u.system.clone(),
                format!("\"{}\"", u.process),
                format!("{:.1}", u.rss_mib_mean),
                format!("{:.1}", u.rss_anon_mib),
                format!("{:.1}", u.rss_file_mib),
                format!("{:.2}", u.cpu_pct),
                format!("{:.0}", u.wakeups_per_s),
                u.threads.to_string(),
                format!("{:.1}", mib(a.rss_anon_kib)),
                format!("{:.1}", mib(a.rss_file_kib)),
                format!("{:.1}", mib(a.hwm_kib)),
            ]
        })
        .collect();
    write_csv(&out.join("idle.csv"), &IDLE_COLUMNS, &idle_rows)?;
    write_json(
        &out.join("results.json"),
        &serde_json::json!({
            "best": o.best, "runs": o.runs, "idle": o.idle,
            "loopback_mmap_limit_bytes_per_s": o.limit_bytes_s,
        }),
    )
}

/// One throughput chart per body size (throughput-1k.svg, ...).
fn write_throughput_charts(out: &Path, o: &Outputs) -> Result<()> {
    let mut sizes: Vec<usize> = o.params.workloads.iter().map(|w| w.size).collect();
    sizes.dedup();
    for size in sizes {
        let groups: Vec<String> = o
            .params
            .workloads
            .iter()
            .filter(|w| w.size == size)
            .map(|w| w.name.clone())
            .collect();
        let (tag, shown) = if size >= 1024 {
            (format!("{}k", size / 1024), format!("{} KiB", size / 1024))
        } else {
            (format!("{size}b"), format!("{size} B"))
        };
        grouped_bar_chart(
            &out.join(format!("throughput-{tag}.svg")),
            &format!("Send throughput, {shown} bodies (msg/s, higher is better)"),
            "messages per second",
            &groups,
            &o.series_of(&groups, &|r| r.tps),
            &f0,
        )?;
    }
    Ok(())
}

/// latency-p50/p99/p999.svg and server-cpu.svg, over every workload.
fn write_latency_and_cpu_charts(out: &Path, o: &Outputs) -> Result<()> {
    let all = o.workload_names();
    let percentiles: [(&str, &str, RunValue); 3] = [
        ("p50", "median", |r| r.p50_ms),
        ("p99", "p99", |r| r.p99_ms),
        ("p999", "p99.9", |r| r.p999_ms),
    ];
    for (tag, title, f) in percentiles {
        grouped_bar_chart(
            &out.join(format!("latency-{tag}.svg")),
            &format!("Send latency, {title} (ms per send call, lower is better)"),
            "milliseconds",
            &all,
            &o.series_of(&all, &f),
            &|v| format!("{v:.2}"),
        )?;
    }
    grouped_bar_chart(
        &out.join("server-cpu.svg"),
        "Server CPU per million messages (name server + broker, s)",
        "CPU seconds",
        &all,
        &o.series_of(&all, &|r| r.server_cpu_s_per_million),
        &|v| format!("{v:.1}"),
    )
}

/// memory.svg (at rest, and the broker's anonymous and file-backed memory after the load)
/// and idle-cpu.svg.
fn write_resource_charts(out: &Path, o: &Outputs) -> Result<()> {
    let systems = &o.params.systems;
    // Broker memory a few seconds after the load: anonymous (heap, buffers) and file-backed
    // (mapped commit-log and queue pages, which grow with the data written).
    let mem_groups = vec![
        "name server, idle".to_string(),
        "broker, idle".to_string(),
        "broker after load: anon".to_string(),
        "broker after load: mapped files".to_string(),
    ];
    let mem_series: Vec<Series> = systems
        .iter()
        .map(|s| Series {
            name: label(s).to_string(),
            values: vec![
                o.usage(s, "name server", &|u| u.rss_mib_mean),
                o.usage(s, "broker", &|u| u.rss_mib_mean),
                mib(o.broker_loaded(s).rss_anon_kib),
                mib(o.broker_loaded(s).rss_file_kib),
            ],
        })
        .collect();
    grouped_bar_chart(
        &out.join("memory.svg"),
        "Resident memory (MiB, lower is better)",
        "MiB",
        &mem_groups,
        &mem_series,
        &f0,
    )?;
    let cpu_groups = vec!["name server".to_string(), "broker".to_string()];
    let cpu_series: Vec<Series> = systems
        .iter()
        .map(|s| Series {
            name: label(s).to_string(),
            values: cpu_groups
                .iter()
                .map(|p| o.usage(s, p, &|u| u.cpu_pct))
                .collect(),
        })
        .collect();
    grouped_bar_chart(
        &out.join("idle-cpu.svg"),
        &format!("Idle CPU over {} s (% of one core)", o.params.idle_s),
        "% of one core",
        &cpu_groups,
        &cpu_series,
        &|v| format!("{v:.2}"),
    )
}

/// ratios.md: the tables and sentences the chapter includes.
fn ratios_markdown(o: &Outputs) -> String {
    let mut md = ratio_table(o, "workload", " msg/s", |r| r.tps, f0, true);
    md.push_str("\n\n");
    md.push_str(&ratio_table(
        o,
        "workload (p99 ms)",
        "",
        |r| r.p99_ms,
        |v| format!("{v:.2}"),
        false,
    ));
    md.push_str("\n\n");
    md.push_str(&server_cost_table(o));
    md.push_str("\n\n");
    md.push_str(&idle_table(o));
    md.push_str(&idle_ratios(o));
    md.push_str(&ceiling_note(o));
    if !o.params.skipped.is_empty() {
        md.push_str("\nNot measured in this run: ");
        md.push_str(&o.params.skipped.join("; "));
        md.push('\n');
    }
    md
}

/// A table with one row per workload: `value` of each system's best round, then ours over
/// each peer's (in bold when `bold`).
fn ratio_table(
    o: &Outputs,
    first_column: &str,
    column_suffix: &str,
    value: RunValue,
    shown: fn(f64) -> String,
    bold: bool,
) -> String {
    let (systems, peers) = (&o.params.systems, o.peers());
    let mut md = format!("| {first_column} |");
    for s in systems {
        md.push_str(&format!(" {}{column_suffix} |", label(s)));
    }
    for p in &peers {
        md.push_str(&format!(" ours / {} |", label(p)));
    }
    md.push_str("\n|---|");
    md.push_str(&"---:|".repeat(systems.len() + peers.len()));
    md.push('\n');
    for w in &o.workload_names() {
        md.push_str(&format!("| {w} |"));
        for s in systems {
            let v = o.best_of(w, s).map(|r| shown(value(r)));
            md.push_str(&format!(" {} |", v.unwrap_or_else(|| "–".into())));
        }
        for p in &peers {
            let r = ratio(o.best_of(w, "ours").map(value), o.best_of(w, p).map(value));
            if bold {
                md.push_str(&format!(" **{r}** |"));
            } else {
                md.push_str(&format!(" {r} |"));
            }
        }
        md.push('\n');
    }
    md
}

/// Server CPU (µs) and wake-ups per message, per workload and system.
fn server_cost_table(o: &Outputs) -> String {
    let systems = &o.params.systems;
    let mut md = String::from("| workload (server cost per message) |");
    for s in systems {
        md.push_str(&format!(" {} CPU µs | {} wake-ups |", label(s), label(s)));
    }
    md.push_str("\n|---|");
    md.push_str(&"---:|".repeat(systems.len() * 2));
    md.push('\n');
    for w in &o.workload_names() {
        md.push_str(&format!("| {w} |"));
        for s in systems {
            match o.best_of(w, s) {
                Some(r) => md.push_str(&format!(
                    " {:.0} | {:.2} |",
                    r.server_cpu_s_per_million, r.server_wakeups_per_msg
                )),
                None => md.push_str(" – | – |"),
            }
        }
        md.push('\n');
    }
    md
}

/// Each server process at rest and after the load.
fn idle_table(o: &Outputs) -> String {
    let mut md = String::from(
        "| system | process | idle RSS MiB | anon | file | idle CPU % | wake-ups/s | threads | after load: anon | after load: file |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in &o.params.systems {
        for p in ["name server", "broker"] {
            if let Some(u) = o.idle_of(s, p) {
                let a = o.loaded(u.pid);
                md.push_str(&format!(
                    "| {} | {p} | {:.1} | {:.1} | {:.1} | {:.2} | {:.0} | {} | {:.0} | {:.0} |\n",
                    label(s),
                    u.rss_mib_mean,
                    u.rss_anon_mib,
                    u.rss_file_mib,
                    u.cpu_pct,
                    u.wakeups_per_s,
                    u.threads,
                    mib(a.rss_anon_kib),
                    mib(a.rss_file_kib)
                ));
            }
        }
    }
    md
}

/// One sentence per peer: our memory over theirs.
fn idle_ratios(o: &Outputs) -> String {
    let rss = |s: &str, proc: &str| o.idle_of(s, proc).map(|u| u.rss_mib_mean);
    let anon = |s: &str| Some(o.broker_loaded(s).rss_anon_kib as f64);
    o.peers()
        .iter()
        .map(|p| {
            format!(
                "\nIdle RSS, ours / {}: name server **{}**, broker **{}**; broker anonymous memory after load **{}**.\n",
                label(p),
                ratio(rss("ours", "name server"), rss(p, "name server")),
                ratio(rss("ours", "broker"), rss(p, "broker")),
                ratio(anon("ours"), anon(p))
            )
        })
        .collect()
}

/// Our best batched 1 KiB ingest next to the machine's loopback + mmap ceiling.
fn ceiling_note(o: &Outputs) -> String {
    let best_batch_1k = o
        .params
        .workloads
        .iter()
        .filter(|w| w.size == 1024 && w.batch > 1)
        .filter_map(|w| o.best_of(&w.name, "ours"))
        .map(|r| r.mib_per_s)
        .fold(0.0, f64::max);
    let limit_mib = o.limit_bytes_s / (1024.0 * 1024.0);
    format!(
        "\n\nLoopback + mmap ceiling on this machine: **{limit_mib:.0} MiB/s** (one TCP connection, \
         32 KiB writes, copied into a mapped file). Our batched 1 KiB ingest: {best_batch_1k:.0} MiB/s \
         of message bodies = **{:.1} %** of it.\n",
        if limit_mib > 0.0 { best_batch_1k / limit_mib * 100.0 } else { 0.0 }
    )
}

fn print_summary(best: &[Run], systems: &[String], limit: f64) {
    println!(
        "{:<22} {}",
        "workload",
        systems
            .iter()
            .map(|s| format!("{s:>16}"))
            .collect::<String>()
    );
    let mut names: Vec<&str> = best.iter().map(|r| r.workload.as_str()).collect();
    names.dedup();
    for w in names {
        let cells: String = systems
            .iter()
            .map(|s| match find(best, w, s) {
                Some(r) => format!("{:>10.0} msg/s", r.tps),
                None => format!("{:>16}", "failed"),
            })
            .collect();
        println!("{w:<22} {cells}");
    }
    println!(
        "loopback + mmap ceiling: {:.0} MiB/s",
        limit / (1024.0 * 1024.0)
    );
}
