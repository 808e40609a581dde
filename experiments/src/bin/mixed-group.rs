//! Experiment `mixed-group`: two real Apache RocketMQ 4.8.0 DLedger brokers and one of ours in
//! ONE DLedger group, serving the official Java clients while the leader is killed again and
//! again, whichever implementation it runs. The migration story: replace a Java node with ours,
//! live, and lose nothing that was acknowledged.
//!
//! What it does, inside a private network + PID namespace (4.8.0 binds the wildcard address;
//! see `peers/procs.rs`), with fixed ports because nothing else lives there:
//! 1. starts our `mqnamesrv` and three 4.8.0 brokers n0..n2 of group `RaftNode00` (jars from
//!    Maven Central via `experiments/peers/java-cluster.sh run-broker`, 256 MiB heaps);
//! 2. two official Java producers (`interop/dledger/java/Failover.java`, rocketmq-client 4.8.0)
//!    send synchronously without pause and log every acknowledged body;
//! 3. **replaces** a Java follower with our `mqbroker`: SIGTERM to the JVM, then our broker
//!    starts on the same store with the same broker.conf and rejoins the group;
//! 4. kills the leader with SIGKILL several times, whichever it is. Before each kill it *steers*
//!    the election: it pauses (SIGSTOP) the follower that should lose for about a second, so the
//!    other follower holds a longer log, and DLedger's vote rule (a candidate with a smaller
//!    ledger end index is rejected) makes that one the next leader. The target is the member
//!    that has led least, so Java and our nodes take turns. `--no-steer` leaves it to chance.
//!    After each new leader appears, a fresh pull consumer reads the topic from it and every
//!    message acknowledged before the kill must be there; then the killed member restarts;
//! 5. stops the producers, and the official Java pull consumer (`Verify.java`) reads every
//!    queue from offset 0 on the final leader: every acknowledged message must be there.
//!
//! The process exits non-zero if an acknowledged message is missing anywhere, or if not both
//! a Java member and ours led at some point. Full mode: 5 kills; `--quick` (CI): 2 kills, about
//! a minute. Output in `book/src/figures/mixed-group/` (quick: `target/experiments/quick/`):
//! `timeline.csv`, `kills.csv`, `leaders.csv`, `summary.json`, `timeline.svg`, `meta.json`.
//!
//! Book: Part IV, "Replacing a Java node, live". Exercises the DLedger RPC of
//! crates/dledger/src/rpc against DLedger 0.2.2 (`DLedgerRpcNettyService`) and the stores of
//! both implementations against each other (4.8.0 `DLedgerCommitLog`).

#[path = "../../peers/procs.rs"]
mod procs;

#[path = "mixed-group/acks.rs"]
mod acks;
#[path = "mixed-group/members.rs"]
mod members;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use rmq_client::api::MqClientApi;
use rmq_remoting::protocol::MessageQueue;
use rmq_remoting::RemotingClient;
use serde::Serialize;

use acks::{read_acks, read_errors};
use experiments::servers::{broker_ids, create_topic, read_topic};
use experiments::timeline::{leader_timeline_chart, EventKind, TimelineEvent, TimelineRow};
use experiments::{
    figures_dir_for, progress_bar, workspace_root, write_csv, write_json, write_meta, QuickArgs,
};
use members::{Kind, Member, Tools, GROUP, NAMESRV};
use procs::Server;

const EXPERIMENT: &str = "mixed-group";
const TOPIC: &str = "MixedGroupTopic";
const NODES: usize = 3;
const SAMPLE: Duration = Duration::from_millis(100);
const RPC: Duration = Duration::from_secs(3);

#[derive(Parser)]
#[command(
    about = "Two Java 4.8.0 DLedger brokers and one of ours in one group: kill the leader, lose nothing"
)]
struct Cli {
    #[command(flatten)]
    quick: QuickArgs,
    /// Kill the leader without choosing who wins the next election.
    #[arg(long)]
    no_steer: bool,
    /// Start our broker as the third member instead of replacing a Java one live.
    #[arg(long)]
    no_replace: bool,
    /// The control run: three 4.8.0 brokers and none of ours, same harness (it must pass too).
    #[arg(long)]
    all_java: bool,
}

/// The run's parameters, recorded in meta.json and summary.json.
#[derive(Debug, Clone, Serialize)]
struct Params {
    nodes: usize,
    kills: usize,
    /// Load before the replacement (or the first kill).
    warmup_s: f64,
    /// Time after a restart (and after the replacement) before the next kill.
    settle_s: f64,
    /// Load after the last kill.
    tail_s: f64,
    steer: bool,
    /// Shortest time the losing follower stays paused before a kill.
    steer_pause_s: f64,
    replace: bool,
    /// The control run: no broker of ours at all.
    all_java: bool,
    /// Java producers (rocketmq-client 4.8.0, synchronous sends, 3000 ms timeout).
    producers: usize,
    java_heap: String,
    /// `mappedFileSizeCommitLog` = DLedger data file size.
    data_file_bytes: u64,
    queues: i32,
    /// DLedger heartbeat interval of every member (0.2.2's fixed value; ours set to match).
    heartbeat_ms: u64,
    sample_ms: u64,
}

impl Params {
    fn new(cli: &Cli) -> Params {
        let q = cli.quick;
        Params {
            nodes: NODES,
            kills: q.pick(2, 5),
            warmup_s: q.pick(2.0, 8.0),
            settle_s: q.pick(2.0, 8.0),
            tail_s: q.pick(2.0, 8.0),
            steer: !cli.no_steer,
            steer_pause_s: 1.0,
            replace: !cli.no_replace && !cli.all_java,
            all_java: cli.all_java,
            producers: 2,
            java_heap: "256m".into(),
            data_file_bytes: 64 * 1024 * 1024,
            queues: 4,
            heartbeat_ms: 2000,
            sample_ms: SAMPLE.as_millis() as u64,
        }
    }
}

static STARTED: OnceLock<Instant> = OnceLock::new();

/// A progress line on stderr with the seconds since the experiment started.
fn say(msg: impl std::fmt::Display) {
    let t = STARTED.get_or_init(Instant::now).elapsed();
    eprintln!("[mixed-group {:5.1}s] {msg}", t.as_secs_f64());
}

fn java_script() -> PathBuf {
    workspace_root().join("experiments/peers/java-cluster.sh")
}

/// Compiled Failover.java and Verify.java, beside this binary.
fn classes_dir() -> Result<PathBuf> {
    Ok(procs::bin_dir()?.join("mixed-group-java"))
}

/// Downloads the 4.8.0 jars (once; needs the network, so it runs before the namespace) and
/// compiles the Java producer and reader of interop/dledger against them.
fn prepare_java() -> Result<()> {
    let out = Command::new("bash")
        .arg(java_script())
        .arg("fetch")
        .output()
        .context("running java-cluster.sh fetch")?;
    if !out.status.success() {
        bail!(
            "java-cluster.sh fetch failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let cache = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let classes = classes_dir()?;
    std::fs::create_dir_all(&classes)?;
    let src = workspace_root().join("interop/dledger/java");
    let ok = Command::new("javac")
        .args(["-nowarn", "-Xlint:-deprecation", "-encoding", "UTF-8", "-d"])
        .arg(&classes)
        .arg("-cp")
        .arg(format!("{cache}/*"))
        .arg(src.join("Failover.java"))
        .arg(src.join("Verify.java"))
        .status()
        .context("running javac")?
        .success();
    if !ok {
        bail!("javac of interop/dledger/java failed");
    }
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    STARTED.get_or_init(Instant::now);
    if !procs::inside_private_netns() {
        experiments::servers::build_servers()?;
        if let Some(reason) = procs::netns_unavailable() {
            bail!("mixed-group runs Java 4.8.0, which binds all interfaces, so it needs a private network namespace: {reason}");
        }
        prepare_java()?;
        std::process::exit(procs::rerun_in_private_netns()?);
    }
    let params = Params::new(&cli);
    let started = Instant::now();
    let scratch = tempfile::Builder::new()
        .prefix("rmq-mixed-group.")
        .tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let outcome = run(&params, scratch.path(), &rt);
    rt.shutdown_timeout(Duration::from_secs(2));
    let outcome = match outcome {
        Ok(r) => r,
        Err(e) => {
            if std::env::var_os("MIXED_GROUP_KEEP").is_some() {
                let kept = scratch.keep();
                eprintln!("kept {}", kept.display());
            }
            return Err(e);
        }
    };
    // The control run never replaces the book's figures.
    let dir = if cli.all_java {
        figures_dir_for(&format!("{EXPERIMENT}/all-java"), true)?
    } else {
        figures_dir_for(EXPERIMENT, cli.quick.quick)?
    };
    write_outputs(&dir, &outcome)?;
    write_meta(
        &dir,
        EXPERIMENT,
        cli.quick.mode(),
        started.elapsed(),
        &params,
    )?;
    print_summary(&outcome.summary);
    println!("wrote {}", dir.display());
    if std::env::var_os("MIXED_GROUP_KEEP").is_some() {
        let kept = scratch.keep();
        println!("kept {}", kept.display());
    }
    outcome.summary.verdict()
}

// ---------------------------------------------------------------------------------------------
// Observation.

/// What the monitor records and the controller reads.
struct Shared {
    t0: Instant,
    stop: AtomicBool,
    /// brokerId 0's address per 100 ms bucket, as the name server lists it.
    leader: Mutex<Vec<Option<String>>>,
}

impl Shared {
    fn bucket(&self) -> usize {
        (self.t0.elapsed().as_millis() / SAMPLE.as_millis()) as usize
    }
}

async fn monitor_loop(sh: Arc<Shared>) {
    let c = RemotingClient::new();
    while !sh.stop.load(Ordering::Relaxed) {
        let leader = broker_ids(&c, NAMESRV, GROUP, RPC).await.get(&0).cloned();
        let b = sh.bucket();
        if let Ok(mut l) = sh.leader.lock() {
            if l.len() <= b {
                l.resize(b + 1, None);
            }
            l[b] = leader;
        }
        tokio::time::sleep(SAMPLE).await;
    }
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Waits until the name server lists at least `members` brokers of the group and a brokerId
/// 0 other than `not` (when given); returns brokerId 0's address.
fn wait_leader(
    rt: &tokio::runtime::Runtime,
    members: usize,
    not: Option<&str>,
    within: Duration,
) -> Result<String> {
    let c = RemotingClient::new();
    let start = Instant::now();
    loop {
        let ids: BTreeMap<i64, String> = rt.block_on(broker_ids(&c, NAMESRV, GROUP, RPC));
        if ids.len() >= members {
            if let Some(a) = ids.get(&0).filter(|a| Some(a.as_str()) != not) {
                return Ok(a.clone());
            }
        }
        if start.elapsed() > within {
            bail!(
                "no brokerId 0{} with {members} members listed within {within:?}: {ids:?}",
                not.map(|n| format!(" other than {n}")).unwrap_or_default()
            );
        }
        std::thread::sleep(SAMPLE);
    }
}

// ---------------------------------------------------------------------------------------------
// The run.

/// One kill and what followed.
#[derive(Debug, Clone, Serialize)]
struct KillRecord {
    n: usize,
    killed: String,
    killed_kind: Kind,
    /// The follower paused before the kill (steering), if any.
    paused: Option<String>,
    /// The member the harness wanted to win (steering), if any.
    wanted: Option<String>,
    new_leader: String,
    new_leader_kind: Kind,
    kill_at_s: f64,
    restart_at_s: f64,
    /// Kill -> the name server lists the new brokerId 0.
    new_leader_visible_ms: f64,
    /// When the kill happened (epoch ms).
    #[serde(skip)]
    kill_ms: u64,
    /// Kill -> first acknowledgement of a send begun after the kill.
    writes_back_ms: f64,
    failed_sends: usize,
    /// Messages acknowledged before the kill that the new leader served.
    acked_before: usize,
    /// ... of which the new leader did not serve (must be 0).
    missing_on_new_leader: usize,
    /// Time from "new leader listed" until its read had them all.
    new_leader_complete_ms: f64,
}

/// One leadership as the name server showed it.
#[derive(Debug, Clone, Serialize)]
struct Leadership {
    node: String,
    kind: Kind,
    from_s: f64,
    to_s: f64,
    acked: usize,
}

#[derive(Debug, Clone, Serialize)]
struct Replacement {
    node: String,
    at_s: f64,
    /// SIGTERM to the Java broker -> our broker listed by the name server again.
    rejoined_after_ms: f64,
}

#[derive(Debug, Serialize)]
struct Summary {
    params: Params,
    duration_s: f64,
    acked: usize,
    failed_sends: usize,
    /// What the official Java pull consumer read on the final leader.
    final_leader: String,
    verify_line: String,
    stored_read: u64,
    stored_distinct: u64,
    /// Acknowledged but not read on the final leader: must be 0.
    lost: u64,
    replacement: Option<Replacement>,
    kills: Vec<KillRecord>,
    leaderships: Vec<Leadership>,
    led_by_java: usize,
    led_by_ours: usize,
    mean_acked_per_s: f64,
}

impl Summary {
    /// Fails the run if an acknowledged message is missing, or if not both kinds led.
    fn verdict(&self) -> Result<()> {
        if self.lost > 0 || self.verify_line.is_empty() {
            bail!(
                "{} acknowledged messages missing on the final leader ({})",
                self.lost,
                self.verify_line
            );
        }
        if let Some(k) = self.kills.iter().find(|k| k.missing_on_new_leader > 0) {
            bail!(
                "kill {}: new leader {} did not serve {} messages acknowledged before the kill",
                k.n,
                k.new_leader,
                k.missing_on_new_leader
            );
        }
        if self.led_by_java == 0 || (self.led_by_ours == 0 && !self.params.all_java) {
            bail!(
                "leaders: {} Java, {} ours; both kinds must lead at some point",
                self.led_by_java,
                self.led_by_ours
            );
        }
        Ok(())
    }
}

/// One row per 100 ms.
struct Row {
    t_s: f64,
    acked_per_s: f64,
    failed_per_s: f64,
    leader: String,
    leader_kind: String,
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}

fn member_of(members: &[Member], addr: &str) -> Result<usize> {
    members
        .iter()
        .position(|m| m.addr == addr)
        .ok_or_else(|| anyhow!("brokerId 0 {addr} is none of the members"))
}

/// Waits until the name server lists `addr` as a member of the group; returns when (time
/// since the run's start).
fn wait_member_listed(
    rt: &tokio::runtime::Runtime,
    sh: &Shared,
    addr: &str,
    within: Duration,
) -> Result<Duration> {
    let c = RemotingClient::new();
    let start = Instant::now();
    loop {
        let ids = rt.block_on(broker_ids(&c, NAMESRV, GROUP, RPC));
        if ids.values().any(|a| a == addr) {
            return Ok(sh.t0.elapsed());
        }
        if start.elapsed() > within {
            bail!("{addr} not listed by the name server within {within:?}: {ids:?}");
        }
        std::thread::sleep(SAMPLE);
    }
}

/// The sum of the topic's queue max offsets on one broker (None if it does not answer).
async fn stored_messages(api: &MqClientApi, addr: &str, queues: i32) -> Option<i64> {
    let mut sum = 0;
    for q in 0..queues {
        let mq = MessageQueue {
            broker_name: GROUP.to_string(),
            queue_id: q,
            topic: TOPIC.to_string(),
        };
        sum += api.get_max_offset(addr, &mq, RPC).await.ok()?;
    }
    Some(sum)
}

/// Waits (at most `within`) until the follower at `addr` has dispatched about as many messages
/// of the topic as the leader at `leader` (within `slack`): a member that just restarted needs
/// a few seconds to catch up, and steering only works when the wanted winner holds the
/// longest log. Returns the follower's lag at the end (None if a broker did not answer).
fn wait_caught_up(
    rt: &tokio::runtime::Runtime,
    leader: &str,
    addr: &str,
    queues: i32,
    within: Duration,
) -> Option<i64> {
    let api = MqClientApi::new(RemotingClient::new());
    let start = Instant::now();
    loop {
        let lag = rt.block_on(async {
            let l = stored_messages(&api, leader, queues).await?;
            let f = stored_messages(&api, addr, queues).await?;
            Some(l - f)
        });
        if matches!(lag, Some(d) if d <= 50) || start.elapsed() > within {
            return lag;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Waits for a producer to exit after the stop file appeared (SIGKILL after `within`).
fn wait_exit(p: &mut Server, within: Duration) {
    let start = Instant::now();
    while start.elapsed() < within {
        if let Ok(Some(_)) = p.child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = p.child.kill();
    let _ = p.child.wait();
}

/// What a run produced.
struct Outcome {
    summary: Summary,
    rows: Vec<Row>,
    events: Vec<TimelineEvent>,
}

fn run(params: &Params, scratch: &Path, rt: &tokio::runtime::Runtime) -> Result<Outcome> {
    let tools = Tools {
        bin: procs::bin_dir()?,
        java_script: java_script(),
        java_heap: params.java_heap.clone(),
    };
    // ---- name server and the three members
    let ns_dir = scratch.join("namesrv");
    std::fs::create_dir_all(&ns_dir)?;
    std::fs::write(
        ns_dir.join("namesrv.conf"),
        format!("kvConfigPath={}\n", ns_dir.join("kv.json").display()),
    )?;
    let mut ns_cmd = Command::new(tools.bin.join("mqnamesrv"));
    ns_cmd
        .arg("-c")
        .arg(ns_dir.join("namesrv.conf"))
        .args(["-p", "9876"]);
    let (_ns, _) = Server::spawn(
        "mqnamesrv",
        ns_cmd,
        Some("boot success"),
        &ns_dir.join("namesrv.out"),
        Duration::from_secs(30),
    )?;
    let mut members = Vec::new();
    for i in 0..NODES {
        let kind = if !params.replace && !params.all_java && i == NODES - 1 {
            Kind::Ours
        } else {
            Kind::Java
        };
        members.push(Member::new(
            scratch,
            i,
            NODES,
            kind,
            params.data_file_bytes,
        )?);
    }
    say(format!(
        "starting {}",
        members
            .iter()
            .map(|m| m.label())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = members
            .iter_mut()
            .map(|m| s.spawn(|| m.start(&tools)))
            .collect();
        for h in handles {
            h.join().map_err(|_| anyhow!("a start thread panicked"))??;
        }
        Ok(())
    })?;
    say("every member printed boot success");
    let first = wait_leader(rt, NODES, None, Duration::from_secs(90))?;
    let c = RemotingClient::new();
    for m in &members {
        let mut tries = 0;
        while let Err(e) = rt.block_on(create_topic(&c, &m.addr, TOPIC, params.queues, RPC)) {
            tries += 1;
            if tries > 20 {
                return Err(e.context(format!("creating {TOPIC} on {}", m.label())));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    say(format!(
        "group formed, brokerId 0 = {}",
        members[member_of(&members, &first)?].label()
    ));

    // ---- load and observation
    let classes = classes_dir()?;
    let stop_file = scratch.join("stop");
    let mut producers = Vec::new();
    let mut ack_files = Vec::new();
    let mut producer_logs = Vec::new();
    for k in 0..params.producers {
        let dir = scratch.join(format!("producer-{k}"));
        std::fs::create_dir_all(&dir)?;
        let ack = dir.join("acked.txt");
        let mut cmd = Command::new("bash");
        cmd.arg(&tools.java_script)
            .arg("run-class")
            .arg(&dir)
            .arg("Failover")
            .arg(NAMESRV)
            .arg(TOPIC)
            .arg(&ack)
            .arg(&stop_file)
            .env("RMQ_JAVA_CP", &classes)
            .env("RMQ_JAVA_TOOL_HEAP", "128m");
        let log = dir.join("producer.out");
        let (p, _) = Server::spawn(&format!("producer-{k}"), cmd, None, &log, Duration::ZERO)?;
        producers.push(p);
        ack_files.push(ack);
        producer_logs.push(log);
    }
    let t0_ms = epoch_ms();
    let sh = Arc::new(Shared {
        t0: Instant::now(),
        stop: AtomicBool::new(false),
        leader: Mutex::new(Vec::new()),
    });
    let monitor = rt.spawn(monitor_loop(sh.clone()));
    let t_s = |ms: u64| ms.saturating_sub(t0_ms) as f64 / 1000.0;
    let acked_count = || read_acks(&ack_files).len();
    let wait_acks = |n: usize, within: Duration| {
        let start = Instant::now();
        while acked_count() < n && start.elapsed() < within {
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_acks(50, Duration::from_secs(60));
    if acked_count() < 50 {
        bail!("the Java producers got fewer than 50 acknowledgements in 60 s");
    }
    say("the Java producers have 50 acknowledgements");
    let planned = params.warmup_s
        + params.kills as f64 * (params.settle_s + 20.0)
        + params.tail_s
        + if params.replace { 10.0 } else { 0.0 };
    let bar = progress_bar(planned.ceil() as u64, "mixed-group (s)");
    let tick = || bar.set_position(sh.t0.elapsed().as_secs());
    std::thread::sleep(Duration::from_secs_f64(params.warmup_s));
    tick();
    let mut events = Vec::new();

    // ---- replace a Java follower with ours, on its store
    let mut replacement = None;
    if params.replace {
        let leader = wait_leader(rt, NODES, None, Duration::from_secs(60))?;
        let li = member_of(&members, &leader)?;
        let ri = (0..NODES)
            .rev()
            .find(|i| *i != li)
            .ok_or_else(|| anyhow!("no follower to replace"))?;
        let at = sh.t0.elapsed();
        let m = &mut members[ri];
        events.push(TimelineEvent {
            at_s: secs(at),
            kind: EventKind::Note,
            label: format!("{}: Java stopped, ours starts", m.name),
        });
        m.stop(Duration::from_secs(30));
        m.kind = Kind::Ours;
        m.start(&tools)?;
        let joined = wait_member_listed(rt, &sh, &members[ri].addr, Duration::from_secs(60))?;
        replacement = Some(Replacement {
            node: members[ri].name.clone(),
            at_s: secs(at),
            rejoined_after_ms: (joined - at).as_millis() as f64,
        });
        say(format!(
            "{} replaced by ours, listed again after {:.1} s",
            members[ri].name,
            (joined - at).as_secs_f64()
        ));
        std::thread::sleep(Duration::from_secs_f64(params.settle_s));
        tick();
    }

    // ---- kill the leader, again and again
    let mut led: HashMap<String, usize> = HashMap::new();
    let mut kills: Vec<KillRecord> = Vec::new();
    for n in 1..=params.kills {
        let leader = wait_leader(rt, NODES, None, Duration::from_secs(90))?;
        let li = member_of(&members, &leader)?;
        *led.entry(members[li].name.clone()).or_default() += 0;
        let followers: Vec<usize> = (0..NODES).filter(|i| *i != li).collect();
        // The follower that has led least wins (ties: ours, then the lower name).
        let mut order = followers.clone();
        order.sort_by_key(|i| {
            (
                led.get(&members[*i].name).copied().unwrap_or(0),
                members[*i].kind != Kind::Ours,
                *i,
            )
        });
        let (want, lose) = (order[0], order[1]);
        if params.steer {
            let lag = wait_caught_up(
                rt,
                &leader,
                &members[want].addr,
                params.queues,
                Duration::from_secs(30),
            );
            if !matches!(lag, Some(d) if d <= 50) {
                say(format!(
                    "{} is {lag:?} messages behind the leader after 30 s",
                    members[want].label()
                ));
            }
        }
        let before_kill_acks = acked_count();
        if params.steer {
            members[lose].pause(true)?;
            let paused_at = Instant::now();
            std::thread::sleep(Duration::from_secs_f64(params.steer_pause_s));
            // Make sure entries were appended while it slept (the sends go on meanwhile).
            while acked_count() < before_kill_acks + 20
                && paused_at.elapsed() < Duration::from_secs(5)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            events.push(TimelineEvent {
                at_s: secs(sh.t0.elapsed()),
                kind: EventKind::Note,
                label: format!("pause {}", members[lose].name),
            });
        }
        let kill_at = sh.t0.elapsed();
        let kill_ms = epoch_ms();
        let killed = members[li].label();
        let killed_kind = members[li].kind;
        members[li].kill();
        if params.steer {
            members[lose].pause(false)?;
        }
        events.push(TimelineEvent {
            at_s: secs(kill_at),
            kind: EventKind::Kill,
            label: format!("kill -9 {killed}"),
        });
        let new_addr = wait_leader(rt, NODES - 1, Some(&leader), Duration::from_secs(90))
            .with_context(|| format!("kill {n}: no new leader after {killed}"))?;
        let visible = sh.t0.elapsed() - kill_at;
        let ni = member_of(&members, &new_addr)?;
        *led.entry(members[ni].name.clone()).or_default() += 1;
        say(format!(
            "kill {n}: {killed} -> {} after {:.1} s",
            members[ni].label(),
            visible.as_secs_f64()
        ));
        // The new leader must serve everything acknowledged before the kill.
        let wanted: HashSet<String> = read_acks(&ack_files)
            .into_iter()
            .filter(|a| a.at_ms <= kill_ms)
            .map(|a| a.body)
            .collect();
        let check_from = Instant::now();
        let mut missing = wanted.len();
        while check_from.elapsed() < Duration::from_secs(20) {
            match rt.block_on(read_topic(NAMESRV, TOPIC, &format!("mixed_check_{n}"))) {
                Ok((stored, _)) => {
                    missing = wanted.iter().filter(|b| !stored.contains(*b)).count();
                    if missing == 0 {
                        break;
                    }
                }
                Err(e) => say(format!("reading the new leader: {e:#}")),
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let complete_ms = check_from.elapsed().as_millis() as f64;
        tick();
        members[li].start(&tools)?;
        let restart_at = sh.t0.elapsed();
        events.push(TimelineEvent {
            at_s: secs(restart_at),
            kind: EventKind::Restart,
            label: format!("restart {}", members[li].name),
        });
        kills.push(KillRecord {
            n,
            killed,
            killed_kind,
            paused: params.steer.then(|| members[lose].name.clone()),
            wanted: params.steer.then(|| members[want].name.clone()),
            new_leader: members[ni].label(),
            new_leader_kind: members[ni].kind,
            kill_at_s: secs(kill_at),
            restart_at_s: secs(restart_at),
            new_leader_visible_ms: visible.as_millis() as f64,
            kill_ms,
            writes_back_ms: f64::NAN,
            failed_sends: 0,
            acked_before: wanted.len(),
            missing_on_new_leader: missing,
            new_leader_complete_ms: complete_ms,
        });
        if n < params.kills {
            wait_member_listed(rt, &sh, &members[li].addr, Duration::from_secs(60))?;
            std::thread::sleep(Duration::from_secs_f64(params.settle_s));
        }
        tick();
    }
    std::thread::sleep(Duration::from_secs_f64(params.tail_s));
    bar.finish_and_clear();

    // ---- stop the load, then the verdict of the official Java consumer
    std::fs::write(&stop_file, b"stop")?;
    for p in producers.iter_mut() {
        wait_exit(p, Duration::from_secs(20));
    }
    let end = sh.t0.elapsed();
    sh.stop.store(true, Ordering::Relaxed);
    let _ = rt.block_on(monitor);
    say("producers stopped; the official Java pull consumer reads the final leader");
    let final_leader = wait_leader(rt, NODES - 1, None, Duration::from_secs(60))?;
    let final_label = members[member_of(&members, &final_leader)?].label();
    let verify_dir = scratch.join("verify");
    std::fs::create_dir_all(&verify_dir)?;
    let out = Command::new("bash")
        .arg(&tools.java_script)
        .arg("run-class")
        .arg(&verify_dir)
        .arg("Verify")
        .arg(NAMESRV)
        .arg(TOPIC)
        .args(&ack_files)
        .env("RMQ_JAVA_CP", &classes)
        .output()
        .context("running Verify.java")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    std::fs::write(verify_dir.join("verify.out"), &text)?;
    let verify_line = text
        .lines()
        .find(|l| l.starts_with("verify: read="))
        .unwrap_or("")
        .to_string();
    let field = |k: &str| -> u64 {
        verify_line
            .split_whitespace()
            .find_map(|w| w.strip_prefix(k))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let acked = read_acks(&ack_files);
    let errors = read_errors(&producer_logs);
    let lost = if verify_line.is_empty() {
        acked.len() as u64
    } else {
        field("missing=")
    };

    // ---- timeline, leaderships, per-kill numbers
    let leaders = sh.leader.lock().map_err(|_| anyhow!("poisoned"))?.clone();
    let name_of: HashMap<&str, (&str, Kind)> = members
        .iter()
        .map(|m| (m.addr.as_str(), (m.name.as_str(), m.kind)))
        .collect();
    let buckets = (end.as_millis() / SAMPLE.as_millis()) as usize + 1;
    let mut acks_per = vec![0usize; buckets];
    for a in &acked {
        let b = (a.at_ms.saturating_sub(t0_ms) / SAMPLE.as_millis() as u64) as usize;
        if b < buckets {
            acks_per[b] += 1;
        }
    }
    let mut errs_per = vec![0usize; buckets];
    for e in &errors {
        let b = (e.saturating_sub(t0_ms) / SAMPLE.as_millis() as u64) as usize;
        if b < buckets {
            errs_per[b] += 1;
        }
    }
    // A kind is the one a node had at that time: the replaced node was Java before.
    let kind_at = |addr: &str, t: f64| -> Kind {
        match (&replacement, name_of.get(addr)) {
            (Some(r), Some((name, _))) if *name == r.node && t < r.at_s => Kind::Java,
            (_, Some((_, k))) => *k,
            _ => Kind::Java,
        }
    };
    let rate = 1000.0 / SAMPLE.as_millis() as f64;
    let mut last: Option<String> = None;
    let rows: Vec<Row> = (0..buckets)
        .map(|b| {
            let t = b as f64 * SAMPLE.as_secs_f64();
            if let Some(Some(a)) = leaders.get(b) {
                last = Some(a.clone());
            } else if leaders.get(b).is_some() {
                last = None;
            }
            let (leader, kind) = match &last {
                Some(a) => (
                    name_of
                        .get(a.as_str())
                        .map(|(n, _)| n.to_string())
                        .unwrap_or_else(|| a.clone()),
                    format!("{:?}", kind_at(a, t)).to_lowercase(),
                ),
                None => ("-".to_string(), "-".to_string()),
            };
            Row {
                t_s: t,
                acked_per_s: acks_per[b] as f64 * rate,
                failed_per_s: errs_per[b] as f64 * rate,
                leader,
                leader_kind: kind,
            }
        })
        .collect();
    let mut leaderships: Vec<Leadership> = Vec::new();
    for r in &rows {
        if r.leader == "-" {
            continue;
        }
        match leaderships.last_mut() {
            Some(l) if l.node == r.leader && (r.t_s - l.to_s) < 0.25 => {
                l.to_s = r.t_s + 0.1;
                l.acked += (r.acked_per_s / rate) as usize;
            }
            _ => leaderships.push(Leadership {
                node: r.leader.clone(),
                kind: if r.leader_kind == "ours" {
                    Kind::Ours
                } else {
                    Kind::Java
                },
                from_s: r.t_s,
                to_s: r.t_s + 0.1,
                acked: (r.acked_per_s / rate) as usize,
            }),
        }
    }
    for k in kills.iter_mut() {
        // Sends begun after the kill can only be stored by the new leader.
        let first_after = acked
            .iter()
            .filter(|a| a.sent_ms > k.kill_ms)
            .map(|a| a.at_ms)
            .min();
        k.writes_back_ms = first_after
            .map(|t| t.saturating_sub(k.kill_ms) as f64)
            .unwrap_or(f64::NAN);
        let until = first_after.unwrap_or(u64::MAX);
        k.failed_sends = errors
            .iter()
            .filter(|e| **e >= k.kill_ms && **e <= until)
            .count();
    }
    for (i, k) in kills.iter().enumerate() {
        let label = format!("kill -9 {} ({:.1} s)", k.killed, k.writes_back_ms / 1000.0);
        if let Some(e) = events
            .iter_mut()
            .filter(|e| e.kind == EventKind::Kill)
            .nth(i)
        {
            e.label = label;
        }
    }
    let led_by = |k: Kind| leaderships.iter().filter(|l| l.kind == k).count();
    // Before the first thing the harness did: the group of three at work.
    let first_event = events
        .iter()
        .map(|e| e.at_s)
        .fold(t_s(epoch_ms()), f64::min);
    let steady: Vec<f64> = rows
        .iter()
        .filter(|r| r.t_s >= 1.0 && r.t_s < first_event)
        .map(|r| r.acked_per_s)
        .collect();
    let summary = Summary {
        params: params.clone(),
        duration_s: secs(end),
        acked: acked.len(),
        failed_sends: errors.len(),
        final_leader: final_label,
        verify_line: verify_line.clone(),
        stored_read: field("read="),
        stored_distinct: field("distinct="),
        lost,
        replacement,
        led_by_java: led_by(Kind::Java),
        led_by_ours: led_by(Kind::Ours),
        kills,
        leaderships,
        mean_acked_per_s: (steady.iter().sum::<f64>() / steady.len().max(1) as f64).round(),
    };
    if !out.status.success() || verify_line.is_empty() {
        say(format!("Verify.java said:\n{text}"));
    }
    Ok(Outcome {
        summary,
        rows,
        events,
    })
}

// ---------------------------------------------------------------------------------------------
// Output.

fn print_summary(s: &Summary) {
    println!(
        "acked {} | lost {} | failed sends {} | final leader {} | {}",
        s.acked, s.lost, s.failed_sends, s.final_leader, s.verify_line
    );
    if let Some(r) = &s.replacement {
        println!(
            "replaced {} at {:.1}s: ours listed {:.1} s after the Java broker's SIGTERM",
            r.node,
            r.at_s,
            r.rejoined_after_ms / 1000.0
        );
    }
    for k in &s.kills {
        println!(
            "kill {} at {:.1}s: {} -> {} (listed after {:.1} s, writes back after {:.1} s); \
             it served {}/{} messages acknowledged before the kill",
            k.n,
            k.kill_at_s,
            k.killed,
            k.new_leader,
            k.new_leader_visible_ms / 1000.0,
            k.writes_back_ms / 1000.0,
            k.acked_before - k.missing_on_new_leader,
            k.acked_before
        );
    }
    println!(
        "leaderships: {} by Java 4.8.0, {} by ours",
        s.led_by_java, s.led_by_ours
    );
}

/// Colour and legend of a timeline band ("n0 java", "n2 ours"): Java members in blues and
/// purple, ours in green whatever its node.
fn band_style(key: &str) -> (plotters::style::RGBColor, String) {
    use plotters::style::RGBColor;
    let (node, kind) = key.split_once(' ').unwrap_or((key, ""));
    let color = match (node, kind) {
        (_, "ours") => RGBColor(44, 160, 44),
        ("n0", _) => RGBColor(31, 119, 180),
        ("n1", _) => RGBColor(23, 190, 207),
        _ => RGBColor(148, 103, 189),
    };
    let who = if kind == "ours" { "ours" } else { "Java 4.8.0" };
    (color, format!("brokerId 0 = {node} ({who})"))
}

fn write_outputs(dir: &Path, o: &Outcome) -> Result<()> {
    let s = &o.summary;
    write_csv(
        &dir.join("timeline.csv"),
        &[
            "t_s",
            "acked_per_s",
            "failed_per_s",
            "broker_id_0",
            "broker_id_0_kind",
        ],
        &o.rows
            .iter()
            .map(|r| {
                vec![
                    format!("{:.1}", r.t_s),
                    format!("{:.0}", r.acked_per_s),
                    format!("{:.0}", r.failed_per_s),
                    r.leader.clone(),
                    r.leader_kind.clone(),
                ]
            })
            .collect::<Vec<_>>(),
    )?;
    write_csv(
        &dir.join("kills.csv"),
        &[
            "kill",
            "killed",
            "paused",
            "new_leader",
            "kill_at_s",
            "new_leader_visible_ms",
            "writes_back_ms",
            "failed_sends",
            "acked_before",
            "missing_on_new_leader",
            "restart_at_s",
        ],
        &s.kills
            .iter()
            .map(|k| {
                vec![
                    k.n.to_string(),
                    k.killed.clone(),
                    k.paused.clone().unwrap_or_default(),
                    k.new_leader.clone(),
                    format!("{:.1}", k.kill_at_s),
                    format!("{:.0}", k.new_leader_visible_ms),
                    format!("{:.0}", k.writes_back_ms),
                    k.failed_sends.to_string(),
                    k.acked_before.to_string(),
                    k.missing_on_new_leader.to_string(),
                    format!("{:.1}", k.restart_at_s),
                ]
            })
            .collect::<Vec<_>>(),
    )?;
    write_csv(
        &dir.join("leaders.csv"),
        &["node", "kind", "from_s", "to_s", "acked"],
        &s.leaderships
            .iter()
            .map(|l| {
                vec![
                    l.node.clone(),
                    format!("{:?}", l.kind).to_lowercase(),
                    format!("{:.1}", l.from_s),
                    format!("{:.1}", l.to_s),
                    l.acked.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    )?;
    write_json(&dir.join("summary.json"), s)?;
    let rows: Vec<TimelineRow> = o
        .rows
        .iter()
        .map(|r| TimelineRow {
            t_s: r.t_s,
            acked_per_s: r.acked_per_s,
            leader: if r.leader == "-" {
                "-".to_string()
            } else {
                format!("{} {}", r.leader, r.leader_kind)
            },
        })
        .collect();
    leader_timeline_chart(
        &dir.join("timeline.svg"),
        &format!(
            "Java 4.8.0 and ours in one DLedger group: {} acked, {} lost",
            s.acked, s.lost
        ),
        &rows,
        &o.events,
        &band_style,
    )
}
