//! Experiment `failover`: how long does a DLedger group refuse writes when its leader dies, and
//! does it lose anything it acknowledged?
//!
//! It starts our `mqnamesrv` and one DLedger group of three `mqbroker`s (built with cargo,
//! ephemeral 127.0.0.1 ports, a temporary directory, so it runs next to `make run`). Producers
//! of rmq-client send synchronously without pause. The controller asks the name server which
//! node is brokerId 0 (the DLedger leader), kills it with SIGKILL, restarts it a few seconds
//! later and repeats. Every 100 ms it records the acknowledged sends and the node the name
//! server lists as brokerId 0. For every kill it reports the write unavailability: the time from
//! the kill to the first acknowledgement of a send that began after it (necessarily stored by
//! the new leader; a send in flight at the kill may still be acknowledged by the old one),
//! split into "a new brokerId 0 is visible in the name server" and the rest (client route
//! refresh, first send). At the end an independent pull consumer reads every queue from offset
//! 0 on the final leader and checks that every acknowledged message is there; the process exits
//! non-zero if one is missing.
//!
//! Two consumer groups read the topic through all of this ([`redelivery`]): one consumer lives
//! through the kills, the other crashes with each leader and restarts once a new brokerId 0 is
//! listed, resuming from the offsets the new leader copied at its last sync. Per kill the
//! experiment reports what each group received twice, next to what the restarted group consumed
//! in the 10 s sync window before the kill; it fails if a group never received an acknowledged
//! message.
//!
//! Full mode: 5 kills over about two minutes. `--quick` (under a minute, CI): one kill, ~20 s.
//! Output in `book/src/figures/failover/`: `timeline.csv`, `kills.csv`, `redelivery.csv`,
//! `summary.json`, `timeline.svg`, `redelivery.svg`, `meta.json`.
//!
//! Book: Part IV, "Failover, measured". Measures crates/broker/src/dledger_mode.rs on top of
//! rmq-dledger, the counterparts of 4.8.0's `DLedgerCommitLog` / `DLedgerRoleChangeHandler` and
//! DLedger 0.2.2's `DLedgerLeaderElector`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use clap::Parser;
use rmq_client::{Message, Producer, ProducerConfig, SendStatus};
use rmq_remoting::RemotingClient;
use serde::Serialize;

use experiments::servers::{
    broker_ids, build_servers, create_topic, free_broker_port, free_port, read_topic, start_broker,
    start_namesrv, Proc,
};
use experiments::timeline::{
    leader_timeline_chart, node_color, EventKind, TimelineEvent, TimelineRow,
};
use experiments::{figures_dir_for, progress_bar, write_csv, write_json, write_meta, QuickArgs};

#[path = "failover/redelivery.rs"]
mod redelivery;

use redelivery::{Redelivery, Tracker, SYNC_WINDOW};

const EXPERIMENT: &str = "failover";
const RUNNING_GROUP: &str = "failover_cg_running";
const RESTARTED_GROUP: &str = "failover_cg_restarted";
const CLUSTER: &str = "FailoverCluster";
const GROUP: &str = "RaftNode00";
const TOPIC: &str = "FailoverTopic";
const NODES: usize = 3;
const SAMPLE: Duration = Duration::from_millis(100);
const RPC: Duration = Duration::from_secs(3);

#[derive(Parser)]
#[command(
    about = "Kill the DLedger leader under load: write unavailability and acked-message loss"
)]
struct Cli {
    #[command(flatten)]
    quick: QuickArgs,
}

/// The run's parameters, recorded in meta.json and summary.json.
#[derive(Debug, Clone, Serialize)]
struct Params {
    nodes: usize,
    kills: usize,
    warmup_s: f64,
    /// How long a killed leader stays down before it is restarted.
    down_s: f64,
    /// Time from a restart to the next kill.
    settle_s: f64,
    /// Load after the last restart.
    tail_s: f64,
    producers: usize,
    body_bytes: usize,
    queues: i32,
    /// The producers' `pollNameServerInterval` (4.8.0 default: 30 s).
    route_poll_ms: u64,
    send_timeout_ms: u64,
    retry_times_when_send_failed: u32,
    sample_ms: u64,
}

impl Params {
    fn new(q: QuickArgs) -> Params {
        Params {
            nodes: NODES,
            kills: q.pick(1, 5),
            warmup_s: q.pick(5.0, 8.0),
            down_s: q.pick(5.0, 8.0),
            settle_s: q.pick(0.0, 14.0),
            tail_s: q.pick(6.0, 10.0),
            producers: 4,
            body_bytes: 128,
            queues: 4,
            route_poll_ms: 1000,
            send_timeout_ms: 3000,
            retry_times_when_send_failed: 2,
            sample_ms: SAMPLE.as_millis() as u64,
        }
    }

    fn planned_s(&self) -> f64 {
        self.warmup_s + self.kills as f64 * (self.down_s + self.settle_s) + self.tail_s
    }
}

// ---------------------------------------------------------------------------------------------
// The servers.

/// One member of the group: its config, address and (while alive) its process.
struct Member {
    name: String,
    conf: PathBuf,
    addr: String,
    proc: Option<Proc>,
}

/// Writes the three brokers' configs: one DLedger group, peers n0..n2 on free ports.
fn group_confs(dir: &Path, ns: &str) -> Result<Vec<Member>> {
    let mut peers = Vec::new();
    for i in 0..NODES {
        peers.push(format!("n{i}-127.0.0.1:{}", free_port()?));
    }
    let peers = peers.join(";");
    let mut members = Vec::new();
    for i in 0..NODES {
        let d = dir.join(format!("n{i}"));
        std::fs::create_dir_all(&d)?;
        let port = free_broker_port()?;
        let conf = d.join("broker.conf");
        std::fs::write(
            &conf,
            format!(
                "brokerClusterName={CLUSTER}\nbrokerName={GROUP}\nlistenPort={port}\n\
                 namesrvAddr={ns}\nbrokerIP1=127.0.0.1\nstorePathRootDir={}\n\
                 enableDLegerCommitLog=true\ndLegerGroup={GROUP}\ndLegerPeers={peers}\n\
                 dLegerSelfId=n{i}\nmappedFileSizeCommitLog=33554432\nautoCreateTopicEnable=true\n",
                d.join("store").display()
            ),
        )?;
        members.push(Member {
            name: format!("n{i}"),
            conf,
            addr: format!("127.0.0.1:{port}"),
            proc: None,
        });
    }
    Ok(members)
}

/// Waits (up to 60 s) until the name server lists a brokerId 0 and `members` brokers in all;
/// returns brokerId 0's address.
async fn wait_group(c: &RemotingClient, ns: &str, members: usize) -> Result<String> {
    let start = Instant::now();
    loop {
        let ids = broker_ids(c, ns, GROUP, RPC).await;
        if ids.len() >= members {
            if let Some(a) = ids.get(&0) {
                return Ok(a.clone());
            }
        }
        if start.elapsed() > Duration::from_secs(60) {
            bail!("no complete group with a brokerId 0 after 60 s: {ids:?}");
        }
        tokio::time::sleep(SAMPLE).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Load and observation.

/// What the producers and the monitor share.
struct Shared {
    t0: Instant,
    stop: AtomicBool,
    /// Acknowledged sends per 100 ms bucket.
    acks: Vec<AtomicU64>,
    /// Failed sends (after the client's own retries) per bucket.
    fails: Vec<AtomicU64>,
    /// brokerId 0's address per bucket, as last seen by the monitor.
    leader: Mutex<Vec<Option<String>>>,
}

impl Shared {
    fn bucket(&self) -> usize {
        ((self.t0.elapsed().as_millis() / SAMPLE.as_millis()) as usize).min(self.acks.len() - 1)
    }
}

/// One acknowledged send: its body, when the send began and when the acknowledgement
/// arrived (ms since t0).
struct Ack {
    body: String,
    sent_ms: f64,
    at_ms: f64,
}

async fn producer_loop(p: Producer, id: usize, body_bytes: usize, sh: Arc<Shared>) -> Vec<Ack> {
    let mut acked = Vec::new();
    let pad = "x".repeat(body_bytes.saturating_sub(24));
    let mut seq = 0u64;
    while !sh.stop.load(Ordering::Relaxed) {
        let body = format!("p{id}-{seq:08}-{pad}");
        seq += 1;
        let msg = Message::new(TOPIC, body.clone().into_bytes());
        let sent_ms = sh.t0.elapsed().as_secs_f64() * 1000.0;
        match p.send(msg).await {
            Ok(r) if r.send_status == SendStatus::SendOk => {
                let at_ms = sh.t0.elapsed().as_secs_f64() * 1000.0;
                sh.acks[sh.bucket()].fetch_add(1, Ordering::Relaxed);
                acked.push(Ack {
                    body,
                    sent_ms,
                    at_ms,
                });
            }
            _ => {
                sh.fails[sh.bucket()].fetch_add(1, Ordering::Relaxed);
                // A dead leader refuses connections at once: do not spin.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    acked
}

async fn monitor_loop(c: RemotingClient, ns: String, sh: Arc<Shared>) {
    while !sh.stop.load(Ordering::Relaxed) {
        let leader = broker_ids(&c, &ns, GROUP, RPC).await.get(&0).cloned();
        let b = sh.bucket();
        if let Ok(mut l) = sh.leader.lock() {
            l[b] = leader;
        }
        let next = SAMPLE.saturating_sub(Duration::from_millis(
            sh.t0.elapsed().as_millis() as u64 % SAMPLE.as_millis() as u64,
        ));
        tokio::time::sleep(next.max(Duration::from_millis(5))).await;
    }
}

/// One kill and what followed it.
#[derive(Debug, Clone, Serialize)]
struct Kill {
    n: usize,
    killed: String,
    kill_at_s: f64,
    restart_at_s: f64,
    new_leader: String,
    /// Kill -> the name server lists another node as brokerId 0.
    new_leader_visible_ms: f64,
    /// Kill -> first acknowledgement of a send begun after the kill (write unavailability).
    unavailable_ms: f64,
    failed_sends: u64,
}

// ---------------------------------------------------------------------------------------------
// Verification.

#[derive(Debug, Serialize)]
struct Summary {
    params: Params,
    duration_s: f64,
    acked: usize,
    failed_sends: u64,
    stored_records: u64,
    stored_distinct: usize,
    /// Acknowledged but not found: must be 0.
    lost: usize,
    /// Stored but never acknowledged (a send that timed out after the leader had it).
    stored_unacked: usize,
    duplicates: u64,
    mean_acked_per_s_steady: f64,
    kills: Vec<Kill>,
    unavailable_ms_min: f64,
    unavailable_ms_max: f64,
    unavailable_ms_mean: f64,
    /// Per kill: what the consumer groups received twice.
    redelivery: Vec<Redelivery>,
    /// Acknowledged messages a consumer group never received (must be 0).
    running_group_missing: usize,
    restarted_group_missing: usize,
}

// ---------------------------------------------------------------------------------------------

fn main() -> Result<()> {
    let cli = Cli::parse();
    let params = Params::new(cli.quick);
    let started = Instant::now();
    let bin = build_servers()?;
    let tmp = tempfile::Builder::new().prefix("rmq-failover-").tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()?;
    let (summary, timeline) = rt.block_on(run(&params, &bin, tmp.path()))?;
    rt.shutdown_timeout(Duration::from_secs(2));

    // Quick runs (CI, make test) stay under target/, so the book keeps the full-mode figures.
    let dir = figures_dir_for(EXPERIMENT, cli.quick.quick)?;
    write_outputs(&dir, &summary, &timeline)?;
    write_meta(
        &dir,
        EXPERIMENT,
        cli.quick.mode(),
        started.elapsed(),
        &params,
    )?;
    println!(
        "acked {} | lost {} | stored-unacked {} | duplicates {} | steady {:.0} sends/s",
        summary.acked,
        summary.lost,
        summary.stored_unacked,
        summary.duplicates,
        summary.mean_acked_per_s_steady
    );
    for k in &summary.kills {
        println!(
            "kill {} of {} at {:.1}s: new leader {} visible after {:.0} ms, writes back after {:.0} ms",
            k.n, k.killed, k.kill_at_s, k.new_leader, k.new_leader_visible_ms, k.unavailable_ms
        );
    }
    for r in &summary.redelivery {
        println!(
            "kill {}: restarted group re-read {} (consumed in the {} s before the kill: {}), running group {}",
            r.kill,
            r.restarted_redelivered,
            SYNC_WINDOW.as_secs(),
            r.consumed_in_window_before_kill,
            r.running_redelivered
        );
    }
    println!("wrote {}", dir.display());
    if summary.lost > 0 {
        bail!("{} acknowledged messages are missing", summary.lost);
    }
    if summary.running_group_missing + summary.restarted_group_missing > 0 {
        bail!(
            "consumer groups skipped acknowledged messages: running {}, restarted {}",
            summary.running_group_missing,
            summary.restarted_group_missing
        );
    }
    Ok(())
}

/// One row per 100 ms: time, acked sends/s, failed sends/s, brokerId 0's node name.
struct Row {
    t_s: f64,
    acked_per_s: f64,
    failed_per_s: f64,
    leader: String,
}

async fn run(params: &Params, bin: &Path, dir: &Path) -> Result<(Summary, Vec<Row>)> {
    let (_ns_proc, ns) = start_namesrv(bin, dir)?;
    let mut members = group_confs(dir, &ns)?;
    for m in members.iter_mut() {
        m.proc = Some(start_broker(bin, &m.conf)?);
    }
    let name_of: HashMap<String, String> = members
        .iter()
        .map(|m| (m.addr.clone(), m.name.clone()))
        .collect();
    let c = RemotingClient::new();
    wait_group(&c, &ns, NODES).await?;
    for m in &members {
        create_topic(&c, &m.addr, TOPIC, params.queues, RPC).await?;
    }

    let buckets = ((params.planned_s() + 120.0) * 1000.0 / SAMPLE.as_millis() as f64) as usize;
    let sh = Arc::new(Shared {
        t0: Instant::now(),
        stop: AtomicBool::new(false),
        acks: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
        fails: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
        leader: Mutex::new(vec![None; buckets]),
    });
    let mon = tokio::spawn(monitor_loop(RemotingClient::new(), ns.clone(), sh.clone()));
    let running = Tracker::new(sh.t0, SAMPLE, buckets);
    let restarted = Tracker::new(sh.t0, SAMPLE, buckets);
    let consume = |group: &'static str, instance: usize, t: &Arc<Tracker>| {
        redelivery::start_consumer(&ns, group, TOPIC, instance, params.route_poll_ms, t.clone())
    };
    let running_consumer = consume(RUNNING_GROUP, 0, &running).await?;
    let mut restarted_consumers = vec![consume(RESTARTED_GROUP, 0, &restarted).await?];
    let mut consumer_restart_ms = Vec::new();
    let mut producers = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..params.producers {
        let mut cfg = ProducerConfig::new("failover_pg", ns.clone());
        cfg.client.instance_name = Some(format!("failover-{i}"));
        cfg.client.poll_name_server_interval = Duration::from_millis(params.route_poll_ms);
        cfg.send_timeout = Duration::from_millis(params.send_timeout_ms);
        cfg.retry_times_when_send_failed = params.retry_times_when_send_failed;
        let p = Producer::start(cfg).await?;
        producers.push(p.clone());
        tasks.push(tokio::spawn(producer_loop(
            p,
            i,
            params.body_bytes,
            sh.clone(),
        )));
    }

    let bar = progress_bar(params.planned_s().ceil() as u64, "failover (s)");
    let tick = |bar: &indicatif::ProgressBar| bar.set_position(sh.t0.elapsed().as_secs());
    let sleep = |secs: f64| tokio::time::sleep(Duration::from_secs_f64(secs));
    sleep(params.warmup_s).await;
    tick(&bar);
    let mut kill_plan = Vec::new();
    for n in 0..params.kills {
        let leader = wait_group(&c, &ns, NODES).await?;
        let m = members
            .iter_mut()
            .find(|m| m.addr == leader)
            .ok_or_else(|| anyhow!("brokerId 0 {leader} is none of ours"))?;
        let kill_at = sh.t0.elapsed();
        // Dropping the Proc sends SIGKILL: kill -9, no shutdown hook runs.
        m.proc = None;
        // The restarted group's consumer dies with the leader and comes back as soon as the
        // name server lists a new brokerId 0; it resumes from that broker's copied offsets.
        if let Some(c) = restarted_consumers.last() {
            redelivery::crash(c);
        }
        let killed_addr = m.addr.clone();
        let wait_from = Instant::now();
        while broker_ids(&c, &ns, GROUP, RPC)
            .await
            .get(&0)
            .is_none_or(|a| *a == killed_addr)
        {
            if wait_from.elapsed() > Duration::from_secs(60) {
                bail!("no new brokerId 0 within 60 s of kill {}", n + 1);
            }
            tokio::time::sleep(SAMPLE).await;
        }
        let instance = restarted_consumers.len();
        restarted_consumers.push(consume(RESTARTED_GROUP, instance, &restarted).await?);
        consumer_restart_ms.push((sh.t0.elapsed() - kill_at).as_secs_f64() * 1000.0);
        sleep((params.down_s - (sh.t0.elapsed() - kill_at).as_secs_f64()).max(0.0)).await;
        tick(&bar);
        let conf = m.conf.clone();
        let b = bin.to_path_buf();
        m.proc = Some(tokio::task::spawn_blocking(move || start_broker(&b, &conf)).await??);
        let restart_at = sh.t0.elapsed();
        kill_plan.push((n + 1, m.name.clone(), m.addr.clone(), kill_at, restart_at));
        sleep(params.settle_s).await;
        tick(&bar);
    }
    sleep(params.tail_s).await;
    bar.finish_and_clear();
    sh.stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await?);
    }
    let _ = mon.await;
    let end_bucket = sh.bucket();
    for p in &producers {
        p.shutdown().await;
    }
    // Both groups catch up with everything acknowledged (or 60 s pass), then stop.
    let acked_keys: Vec<u64> = acked
        .iter()
        .map(|a| redelivery::key_of_body(&a.body))
        .collect();
    let drain_from = Instant::now();
    while (running.missing(&acked_keys) > 0 || restarted.missing(&acked_keys) > 0)
        && drain_from.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let running_group_missing = running.missing(&acked_keys);
    let restarted_group_missing = restarted.missing(&acked_keys);
    running_consumer.shutdown().await;
    if let Some(c) = restarted_consumers.last() {
        c.shutdown().await;
    }

    // The verdict: a fresh consumer reads everything from the final leader.
    wait_group(&c, &ns, NODES).await?;
    let (stored, records) = read_topic(&ns, TOPIC, "failover_verify_cg").await?;
    let acked_set: HashSet<&str> = acked.iter().map(|a| a.body.as_str()).collect();
    let lost = acked_set.iter().filter(|b| !stored.contains(**b)).count();
    let stored_unacked = stored
        .iter()
        .filter(|b| !acked_set.contains(b.as_str()))
        .count();

    // Timeline and per-kill numbers.
    let leaders = sh.leader.lock().map_err(|_| anyhow!("poisoned"))?.clone();
    let mut last = String::from("-");
    let rate = 1000.0 / SAMPLE.as_millis() as f64;
    let timeline: Vec<Row> = (0..=end_bucket.min(buckets - 1))
        .map(|b| {
            if let Some(a) = &leaders[b] {
                last = name_of.get(a).cloned().unwrap_or_else(|| a.clone());
            } else if b > 0 && leaders[b - 1].is_none() {
                last = "-".into();
            }
            Row {
                t_s: b as f64 * SAMPLE.as_secs_f64(),
                acked_per_s: sh.acks[b].load(Ordering::Relaxed) as f64 * rate,
                failed_per_s: sh.fails[b].load(Ordering::Relaxed) as f64 * rate,
                leader: last.clone(),
            }
        })
        .collect();
    let mut kills = Vec::new();
    for (n, name, addr, kill_at, restart_at) in kill_plan {
        let k_ms = kill_at.as_secs_f64() * 1000.0;
        let first_ack = acked
            .iter()
            .filter(|a| a.sent_ms > k_ms)
            .map(|a| a.at_ms)
            .fold(f64::NAN, f64::min);
        let kb = (k_ms / SAMPLE.as_millis() as f64) as usize;
        let visible = (kb + 1..=end_bucket.min(buckets - 1))
            .find(|b| matches!(&leaders[*b], Some(a) if *a != addr));
        let (new_leader, visible_ms) = match visible {
            Some(b) => (
                leaders[b]
                    .as_ref()
                    .and_then(|a| name_of.get(a).cloned())
                    .unwrap_or_default(),
                (b as f64 * SAMPLE.as_millis() as f64 - k_ms).max(0.0),
            ),
            None => (String::new(), f64::NAN),
        };
        let fail_until = ((first_ack / SAMPLE.as_millis() as f64) as usize + 1).min(buckets);
        let failed_sends = (kb..fail_until.max(kb))
            .map(|b| sh.fails[b].load(Ordering::Relaxed))
            .sum();
        kills.push(Kill {
            n,
            killed: name,
            kill_at_s: round1(kill_at.as_secs_f64()),
            restart_at_s: round1(restart_at.as_secs_f64()),
            new_leader,
            new_leader_visible_ms: visible_ms.round(),
            unavailable_ms: (first_ack - k_ms).round(),
            failed_sends,
        });
    }
    let kill_times: Vec<Duration> = kills
        .iter()
        .map(|k| Duration::from_secs_f64(k.kill_at_s))
        .collect();
    let end = Duration::from_millis(end_bucket as u64 * SAMPLE.as_millis() as u64);
    let redelivery: Vec<Redelivery> = kill_times
        .iter()
        .enumerate()
        .map(|(i, at)| Redelivery {
            kill: i + 1,
            consumer_restart_ms: consumer_restart_ms
                .get(i)
                .copied()
                .unwrap_or(f64::NAN)
                .round(),
            restarted_redelivered: restarted.repeats_of_instance(i + 1),
            running_redelivered: running.repeats_between(
                *at,
                kill_times
                    .get(i + 1)
                    .copied()
                    .unwrap_or(end + Duration::from_secs(120)),
            ),
            consumed_in_window_before_kill: restarted
                .firsts_between(at.saturating_sub(SYNC_WINDOW), *at),
        })
        .collect();
    let un: Vec<f64> = kills.iter().map(|k| k.unavailable_ms).collect();
    let warm = (params.warmup_s * rate) as usize;
    let steady = timeline
        .iter()
        .skip(10)
        .take(warm.saturating_sub(10).max(1))
        .map(|r| r.acked_per_s)
        .sum::<f64>()
        / warm.saturating_sub(10).max(1) as f64;
    let summary = Summary {
        params: params.clone(),
        duration_s: round1(sh.t0.elapsed().as_secs_f64()),
        acked: acked.len(),
        failed_sends: sh.fails.iter().map(|f| f.load(Ordering::Relaxed)).sum(),
        stored_records: records,
        stored_distinct: stored.len(),
        lost,
        stored_unacked,
        duplicates: records.saturating_sub(stored.len() as u64),
        mean_acked_per_s_steady: steady.round(),
        unavailable_ms_min: un.iter().copied().fold(f64::INFINITY, f64::min),
        unavailable_ms_max: un.iter().copied().fold(0.0, f64::max),
        unavailable_ms_mean: (un.iter().sum::<f64>() / un.len().max(1) as f64).round(),
        kills,
        redelivery,
        running_group_missing,
        restarted_group_missing,
    };
    drop(members);
    Ok((summary, timeline))
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

// ---------------------------------------------------------------------------------------------
// Output.

fn write_outputs(dir: &Path, s: &Summary, timeline: &[Row]) -> Result<()> {
    write_csv(
        &dir.join("timeline.csv"),
        &["t_s", "acked_per_s", "failed_per_s", "broker_id_0"],
        &timeline
            .iter()
            .map(|r| {
                vec![
                    format!("{:.1}", r.t_s),
                    format!("{:.0}", r.acked_per_s),
                    format!("{:.0}", r.failed_per_s),
                    r.leader.clone(),
                ]
            })
            .collect::<Vec<_>>(),
    )?;
    write_csv(
        &dir.join("kills.csv"),
        &[
            "kill",
            "killed",
            "kill_at_s",
            "restart_at_s",
            "new_leader",
            "new_leader_visible_ms",
            "unavailable_ms",
            "failed_sends",
        ],
        &s.kills
            .iter()
            .map(|k| {
                vec![
                    k.n.to_string(),
                    k.killed.clone(),
                    format!("{:.1}", k.kill_at_s),
                    format!("{:.1}", k.restart_at_s),
                    k.new_leader.clone(),
                    format!("{:.0}", k.new_leader_visible_ms),
                    format!("{:.0}", k.unavailable_ms),
                    k.failed_sends.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    )?;
    write_csv(
        &dir.join("redelivery.csv"),
        &[
            "kill",
            "consumer_restart_ms",
            "restarted_redelivered",
            "running_redelivered",
            "consumed_in_window_before_kill",
        ],
        &s.redelivery
            .iter()
            .map(|r| {
                vec![
                    r.kill.to_string(),
                    format!("{:.0}", r.consumer_restart_ms),
                    r.restarted_redelivered.to_string(),
                    r.running_redelivered.to_string(),
                    r.consumed_in_window_before_kill.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    )?;
    write_json(&dir.join("summary.json"), s)?;
    redelivery_chart(&dir.join("redelivery.svg"), s)?;
    timeline_chart(&dir.join("timeline.svg"), s, timeline)
}

/// Per kill: the restarted group's re-deliveries, the running group's, and the bound (what the
/// restarted group consumed in the sync window before the kill).
fn redelivery_chart(path: &Path, s: &Summary) -> Result<()> {
    let groups: Vec<String> = s
        .kills
        .iter()
        .map(|k| format!("kill {} ({})", k.n, k.killed))
        .collect();
    let pick = |f: fn(&Redelivery) -> u64| s.redelivery.iter().map(|r| f(r) as f64).collect();
    experiments::chart::grouped_bar_chart(
        path,
        "Messages delivered twice per leader kill (DLedger group of 3)",
        "messages",
        &groups,
        &[
            experiments::chart::Series {
                name: "restarted consumer: re-read".into(),
                values: pick(|r| r.restarted_redelivered),
            },
            experiments::chart::Series {
                name: format!(
                    "consumed in the {} s before the kill",
                    SYNC_WINDOW.as_secs()
                ),
                values: pick(|r| r.consumed_in_window_before_kill),
            },
            experiments::chart::Series {
                name: "running consumer: re-read".into(),
                values: pick(|r| r.running_redelivered),
            },
        ],
        &|v| format!("{v:.0}"),
    )
}

/// Acked sends/s over time; the background is coloured by the node the name server lists as
/// brokerId 0 (grey: none), red lines mark kills, grey lines restarts.
fn timeline_chart(path: &Path, s: &Summary, rows: &[Row]) -> Result<()> {
    let rows: Vec<TimelineRow> = rows
        .iter()
        .map(|r| TimelineRow {
            t_s: r.t_s,
            acked_per_s: r.acked_per_s,
            leader: r.leader.clone(),
        })
        .collect();
    let mut events = Vec::new();
    for k in &s.kills {
        events.push(TimelineEvent {
            at_s: k.kill_at_s,
            kind: EventKind::Kill,
            label: format!("kill -9 {} ({:.0} ms)", k.killed, k.unavailable_ms),
        });
        events.push(TimelineEvent {
            at_s: k.restart_at_s,
            kind: EventKind::Restart,
            label: format!("restart {}", k.killed),
        });
    }
    leader_timeline_chart(
        path,
        "DLedger group of 3: acked sends/s while the leader is killed",
        &rows,
        &events,
        &|n| (node_color(n), format!("brokerId 0 = {n}")),
    )
}
