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
//!    the election: it kills the follower that should lose a second earlier and restarts it
//!    right after the leader's kill, so the other follower holds a longer log, and DLedger's
//!    vote rule (a candidate whose log ends lower is refused) makes that one the next leader.
//!    (Pausing the loser with SIGSTOP does not work: the leader's pushes wait in its socket
//!    buffer and are applied the moment it resumes.) The wanted winner is the member that has
//!    led least, so Java and our nodes take turns. `--no-steer` leaves it to chance. After each
//!    new leader appears, a fresh pull consumer reads the topic from it: every message
//!    acknowledged before the kill must be there. Then the killed leader restarts;
//! 5. stops the producers, and the official Java pull consumer (`Verify.java`) reads every
//!    queue from offset 0 on the final leader: every acknowledged message must be there.
//!
//! The process exits non-zero if an acknowledged message is missing anywhere, or if not both
//! a Java member and ours led at some point. Full mode: 5 kills, about 3 minutes; `--quick`
//! (CI, `make interop-mixed-group`): 2 kills, about a minute and a half on two busy cores.
//! `--all-java` is the control run: the same harness with three 4.8.0 brokers (its output goes
//! under `target/`). Output in `book/src/figures/mixed-group/` (quick runs:
//! `target/experiments/quick/mixed-group/`): `timeline.csv`, `kills.csv`, `leaders.csv`,
//! `summary.json`, `timeline.svg`, `meta.json`.
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
#[path = "mixed-group/report.rs"]
mod report;

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
use experiments::timeline::{EventKind, TimelineEvent};
use experiments::{figures_dir_for, progress_bar, workspace_root, write_meta, QuickArgs};
use members::{Kind, Member, Tools, GROUP, NAMESRV};
use procs::Server;
use report::{KillRecord, Replacement, Summary};

const EXPERIMENT: &str = "mixed-group";
const TOPIC: &str = "MixedGroupTopic";
const NODES: usize = 3;
const SAMPLE: Duration = Duration::from_millis(100);
const RPC: Duration = Duration::from_secs(3);
/// A follower within this many messages of the leader counts as caught up.
const CAUGHT_UP: i64 = 50;

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
    /// Every member runs `enableBatchPush=true` (4.8.0 key): the leader pushes several
    /// entries per request, and our member reads and writes 0.2.2's batch form.
    #[arg(long)]
    batch_push: bool,
}

/// The run's parameters, recorded in meta.json and summary.json.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    nodes: usize,
    kills: usize,
    /// Load before the replacement (or the first kill).
    warmup_s: f64,
    /// Time after a restart (and after the replacement) before the next kill.
    settle_s: f64,
    /// Load after the last kill.
    tail_s: f64,
    steer: bool,
    /// How long the losing follower is down before the leader's kill (at least; the harness
    /// also waits for 20 more acknowledgements).
    steer_down_s: f64,
    replace: bool,
    /// The control run: no broker of ours at all.
    all_java: bool,
    /// `enableBatchPush` of every member.
    batch_push: bool,
    /// Java producers (rocketmq-client 4.8.0, synchronous sends, 3000 ms timeout, route poll
    /// every 1 s).
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
            steer_down_s: 1.0,
            replace: !cli.no_replace && !cli.all_java,
            all_java: cli.all_java,
            batch_push: cli.batch_push,
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

/// A progress line on stderr with the seconds since this process started.
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
    let keep = std::env::var_os("MIXED_GROUP_KEEP").is_some();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let outcome = Harness::start(&params, scratch.path(), &rt).and_then(|mut h| h.run());
    rt.shutdown_timeout(Duration::from_secs(2));
    if keep {
        say(format!("kept {}", scratch.keep().display()));
    }
    let (summary, rows, events) = outcome?;
    // The control run never replaces the book's figures.
    let dir = if cli.all_java {
        figures_dir_for(&format!("{EXPERIMENT}/all-java"), true)?
    } else if cli.batch_push {
        figures_dir_for(&format!("{EXPERIMENT}/batch-push"), true)?
    } else {
        figures_dir_for(EXPERIMENT, cli.quick.quick)?
    };
    report::write_outputs(&dir, &summary, &rows, &events)?;
    write_meta(
        &dir,
        EXPERIMENT,
        cli.quick.mode(),
        started.elapsed(),
        &params,
    )?;
    summary.print();
    println!("wrote {}", dir.display());
    summary.verdict()
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}

/// brokerId 0's address per 100 ms bucket, as the name server lists it, until `stop`.
async fn monitor_loop(t0: Instant, stop: Arc<AtomicBool>, seen: Arc<Mutex<Vec<Option<String>>>>) {
    let c = RemotingClient::new();
    let mut last: Option<String> = None;
    while !stop.load(Ordering::Relaxed) {
        let ids = broker_ids(&c, NAMESRV, GROUP, RPC).await;
        // An empty answer is a failed poll (at least one member always lives): keep the last
        // known leader for this sample instead of drawing "no brokerId 0".
        if !ids.is_empty() {
            last = ids.get(&0).cloned();
        }
        let b = (t0.elapsed().as_millis() / SAMPLE.as_millis()) as usize;
        if let Ok(mut l) = seen.lock() {
            // A slow poll can skip a bucket: it holds what the previous one saw.
            let previous = l.last().cloned().flatten();
            if l.len() <= b {
                l.resize(b + 1, previous);
            }
            l[b] = last.clone();
        }
        // Sleep to the next bucket boundary, so that the polls do not drift.
        let into = t0.elapsed().as_millis() as u64 % SAMPLE.as_millis() as u64;
        tokio::time::sleep(Duration::from_millis(SAMPLE.as_millis() as u64 - into)).await;
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

/// Everything one run holds: the members, the producers, what was observed.
struct Harness<'a> {
    params: &'a Params,
    rt: &'a tokio::runtime::Runtime,
    scratch: PathBuf,
    tools: Tools,
    members: Vec<Member>,
    /// The name server; dropped (killed) with the harness.
    _namesrv: Server,
    producers: Vec<Server>,
    ack_files: Vec<PathBuf>,
    producer_logs: Vec<PathBuf>,
    t0: Instant,
    t0_ms: u64,
    stop_monitor: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Option<String>>>>,
    events: Vec<TimelineEvent>,
    /// How often each member has led (by name).
    led: HashMap<String, usize>,
    replacement: Option<Replacement>,
    kills: Vec<KillRecord>,
}

impl<'a> Harness<'a> {
    /// Name server, the three members, the topic, the producers and the monitor.
    fn start(
        params: &'a Params,
        scratch: &Path,
        rt: &'a tokio::runtime::Runtime,
    ) -> Result<Harness<'a>> {
        let tools = Tools {
            bin: procs::bin_dir()?,
            java_script: java_script(),
            java_heap: params.java_heap.clone(),
        };
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
        let (namesrv, _) = Server::spawn(
            "mqnamesrv",
            ns_cmd,
            Some("boot success"),
            &ns_dir.join("namesrv.out"),
            Duration::from_secs(30),
        )?;
        let mut members = Vec::new();
        for i in 0..NODES {
            let ours = !params.replace && !params.all_java && i == NODES - 1;
            let kind = if ours { Kind::Ours } else { Kind::Java };
            members.push(Member::new(
                scratch,
                i,
                NODES,
                kind,
                params.data_file_bytes,
                params.batch_push,
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
            let started: Vec<_> = members
                .iter_mut()
                .map(|m| s.spawn(|| m.start(&tools)))
                .collect();
            for h in started {
                h.join().map_err(|_| anyhow!("a start thread panicked"))??;
            }
            Ok(())
        })?;
        say("every member printed boot success");
        let mut h = Harness {
            params,
            rt,
            scratch: scratch.to_path_buf(),
            tools,
            members,
            _namesrv: namesrv,
            producers: Vec::new(),
            ack_files: Vec::new(),
            producer_logs: Vec::new(),
            t0: Instant::now(),
            t0_ms: epoch_ms(),
            stop_monitor: Arc::new(AtomicBool::new(false)),
            seen: Arc::new(Mutex::new(Vec::new())),
            events: Vec::new(),
            led: HashMap::new(),
            replacement: None,
            kills: Vec::new(),
        };
        let first = h.wait_leader(NODES, None, Duration::from_secs(90))?;
        say(format!(
            "group formed, brokerId 0 = {}",
            h.members[h.member_of(&first)?].label()
        ));
        let c = RemotingClient::new();
        for m in &h.members {
            let mut tries = 0;
            while let Err(e) = rt.block_on(create_topic(&c, &m.addr, TOPIC, params.queues, RPC)) {
                tries += 1;
                if tries > 20 {
                    return Err(e.context(format!("creating {TOPIC} on {}", m.label())));
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        h.start_producers()?;
        Ok(h)
    }

    fn start_producers(&mut self) -> Result<()> {
        let classes = classes_dir()?;
        for k in 0..self.params.producers {
            let dir = self.scratch.join(format!("producer-{k}"));
            std::fs::create_dir_all(&dir)?;
            let ack = dir.join("acked.txt");
            let mut cmd = Command::new("bash");
            cmd.arg(&self.tools.java_script)
                .arg("run-class")
                .arg(&dir)
                .arg("Failover")
                .arg(NAMESRV)
                .arg(TOPIC)
                .arg(&ack)
                .arg(self.scratch.join("stop"))
                .env("RMQ_JAVA_CP", &classes)
                .env("RMQ_JAVA_TOOL_HEAP", "128m");
            let log = dir.join("producer.out");
            let name = format!("producer-{k}");
            let (p, _) = Server::spawn(&name, cmd, None, &log, Duration::ZERO)?;
            self.producers.push(p);
            self.ack_files.push(ack);
            self.producer_logs.push(log);
        }
        self.t0 = Instant::now();
        self.t0_ms = epoch_ms();
        self.rt.spawn(monitor_loop(
            self.t0,
            self.stop_monitor.clone(),
            self.seen.clone(),
        ));
        Ok(())
    }

    fn acked_count(&self) -> usize {
        read_acks(&self.ack_files).len()
    }

    fn member_of(&self, addr: &str) -> Result<usize> {
        self.members
            .iter()
            .position(|m| m.addr == addr)
            .ok_or_else(|| anyhow!("brokerId 0 {addr} is none of the members"))
    }

    /// Waits until the name server lists at least `members` brokers of the group and a
    /// brokerId 0 other than `not` (when given); returns brokerId 0's address.
    fn wait_leader(&self, members: usize, not: Option<&str>, within: Duration) -> Result<String> {
        let c = RemotingClient::new();
        let start = Instant::now();
        loop {
            let ids: BTreeMap<i64, String> = self.rt.block_on(broker_ids(&c, NAMESRV, GROUP, RPC));
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

    /// Waits until the name server lists `addr` as a member of the group; returns when (time
    /// since the load started).
    fn wait_listed(&self, addr: &str, within: Duration) -> Result<Duration> {
        let c = RemotingClient::new();
        let start = Instant::now();
        loop {
            let ids = self.rt.block_on(broker_ids(&c, NAMESRV, GROUP, RPC));
            if ids.values().any(|a| a == addr) {
                return Ok(self.t0.elapsed());
            }
            if start.elapsed() > within {
                bail!("{addr} not listed by the name server within {within:?}: {ids:?}");
            }
            std::thread::sleep(SAMPLE);
        }
    }

    /// Waits (at most `within`) until the follower `addr` has dispatched about as many
    /// messages of the topic as the leader: a member that just restarted needs a few seconds
    /// to catch up, and steering only works when the wanted winner holds the longest log.
    /// Returns the follower's lag at the end (None if a broker did not answer).
    fn wait_caught_up(&self, leader: &str, addr: &str, within: Duration) -> Option<i64> {
        let api = MqClientApi::new(RemotingClient::new());
        let start = Instant::now();
        loop {
            let lag = self.rt.block_on(async {
                let l = stored_messages(&api, leader, self.params.queues).await?;
                let f = stored_messages(&api, addr, self.params.queues).await?;
                Some(l - f)
            });
            if matches!(lag, Some(d) if d <= CAUGHT_UP) || start.elapsed() > within {
                return lag;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn run(&mut self) -> Result<(Summary, Vec<report::Row>, Vec<TimelineEvent>)> {
        let p = self.params;
        let start = Instant::now();
        while self.acked_count() < 50 {
            if start.elapsed() > Duration::from_secs(60) {
                bail!("the Java producers got fewer than 50 acknowledgements in 60 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        say("the Java producers have 50 acknowledgements");
        let planned = p.warmup_s
            + p.kills as f64 * (p.settle_s + 20.0)
            + p.tail_s
            + if p.replace { 10.0 } else { 0.0 };
        let bar = progress_bar(planned.ceil() as u64, "mixed-group (s)");
        std::thread::sleep(Duration::from_secs_f64(p.warmup_s));
        if p.replace {
            self.replace_a_java_follower()?;
        }
        bar.set_position(self.t0.elapsed().as_secs());
        let leader = self.wait_leader(NODES, None, Duration::from_secs(90))?;
        let li = self.member_of(&leader)?;
        *self.led.entry(self.members[li].name.clone()).or_default() += 1;
        for n in 1..=p.kills {
            self.kill_round(n)?;
            bar.set_position(self.t0.elapsed().as_secs());
        }
        std::thread::sleep(Duration::from_secs_f64(p.tail_s));
        bar.finish_and_clear();
        self.finish()
    }

    /// Stops a Java follower (SIGTERM) and starts our broker on its store and broker.conf.
    fn replace_a_java_follower(&mut self) -> Result<()> {
        let leader = self.wait_leader(NODES, None, Duration::from_secs(60))?;
        let li = self.member_of(&leader)?;
        let ri = (0..NODES)
            .rev()
            .find(|i| *i != li)
            .ok_or_else(|| anyhow!("no follower to replace"))?;
        let at = self.t0.elapsed();
        self.events.push(TimelineEvent {
            at_s: secs(at),
            kind: EventKind::Note,
            label: format!("{}: Java stopped, ours starts", self.members[ri].name),
        });
        // ANCHOR: replace
        let m = &mut self.members[ri];
        // SIGTERM: 4.8.0 flushes its files and shuts down cleanly.
        m.stop(Duration::from_secs(30));
        // Our mqbroker, with the same broker.conf, on the same store/.
        m.kind = Kind::Ours;
        m.start(&self.tools)?;
        // ANCHOR_END: replace
        let joined = self.wait_listed(&self.members[ri].addr, Duration::from_secs(60))?;
        say(format!(
            "{} replaced by ours, listed again after {:.1} s",
            self.members[ri].name,
            (joined - at).as_secs_f64()
        ));
        self.replacement = Some(Replacement {
            node: self.members[ri].name.clone(),
            at_s: secs(at),
            rejoined_after_ms: (joined - at).as_millis() as f64,
        });
        std::thread::sleep(Duration::from_secs_f64(self.params.settle_s));
        Ok(())
    }

    /// The follower that should win the next election (led least; ties: ours, then the lower
    /// name) and the one that should lose.
    fn pick_winner(&self, leader: usize) -> (usize, usize) {
        let mut order: Vec<usize> = (0..NODES).filter(|i| *i != leader).collect();
        order.sort_by_key(|i| {
            let m = &self.members[*i];
            (
                self.led.get(&m.name).copied().unwrap_or(0),
                m.kind != Kind::Ours,
                *i,
            )
        });
        (order[0], order[1])
    }

    /// One round: steer, kill -9 the leader, wait for the next one, check that it serves
    /// everything acknowledged before the kill, restart the killed member.
    fn kill_round(&mut self, n: usize) -> Result<()> {
        let p = self.params;
        let leader = self.wait_leader(NODES, None, Duration::from_secs(90))?;
        let li = self.member_of(&leader)?;
        let (want, lose) = self.pick_winner(li);
        if p.steer {
            let lag =
                self.wait_caught_up(&leader, &self.members[want].addr, Duration::from_secs(30));
            if !matches!(lag, Some(d) if d <= CAUGHT_UP) {
                say(format!(
                    "{} is {lag:?} messages behind the leader after 30 s",
                    self.members[want].label()
                ));
            }
        }
        let acks_at_steer = self.acked_count();
        let steer_at = self.t0.elapsed();
        let killed = self.members[li].label();
        let killed_kind = self.members[li].kind;
        // ANCHOR: steer_and_kill
        if p.steer {
            // The loser misses the entries appended while it is down (the leader and the
            // winner are a majority), so its log ends lower than the winner's, and DLedger
            // refuses it a vote at the next election.
            self.members[lose].kill();
            let down = Instant::now();
            while down.elapsed() < Duration::from_secs_f64(p.steer_down_s)
                || (self.acked_count() < acks_at_steer + 20
                    && down.elapsed() < Duration::from_secs(5))
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let kill_at = self.t0.elapsed();
        let kill_ms = epoch_ms();
        self.members[li].kill(); // SIGKILL: no shutdown hook, no goodbye to the peers
        if p.steer {
            self.members[lose].start(&self.tools)?; // back, one second behind the winner
        }
        // ANCHOR_END: steer_and_kill
        let new_addr = self
            .wait_leader(NODES - 1, Some(&leader), Duration::from_secs(90))
            .with_context(|| format!("kill {n}: no new leader after {killed}"))?;
        let visible = self.t0.elapsed() - kill_at;
        let ni = self.member_of(&new_addr)?;
        *self.led.entry(self.members[ni].name.clone()).or_default() += 1;
        say(format!(
            "kill {n}: {killed} -> {} after {:.1} s",
            self.members[ni].label(),
            visible.as_secs_f64()
        ));
        let (acked_before, missing, complete_ms) = self.check_new_leader(n, kill_ms);
        self.members[li].start(&self.tools)?;
        let restart_at = self.t0.elapsed();
        if p.steer {
            self.events.push(TimelineEvent {
                at_s: secs(steer_at),
                kind: EventKind::Note,
                label: format!("{} down", self.members[lose].name),
            });
        }
        self.events.push(TimelineEvent {
            at_s: secs(kill_at),
            kind: EventKind::Kill,
            label: format!("kill -9 {killed}"),
        });
        self.events.push(TimelineEvent {
            at_s: secs(restart_at),
            kind: EventKind::Restart,
            label: format!("restart {}", self.members[li].name),
        });
        self.kills.push(KillRecord {
            n,
            killed,
            killed_kind,
            steered_down: p.steer.then(|| self.members[lose].name.clone()),
            wanted: p.steer.then(|| self.members[want].name.clone()),
            new_leader: self.members[ni].label(),
            new_leader_kind: self.members[ni].kind,
            kill_at_s: secs(kill_at),
            restart_at_s: secs(restart_at),
            new_leader_visible_ms: visible.as_millis() as f64,
            kill_ms,
            killed_addr: leader.clone(),
            writes_back_ms: f64::NAN,
            failed_sends: 0,
            acked_before,
            missing_on_new_leader: missing,
            new_leader_complete_ms: complete_ms,
        });
        if n < p.kills {
            self.wait_listed(&self.members[li].addr, Duration::from_secs(60))?;
            std::thread::sleep(Duration::from_secs_f64(p.settle_s));
        }
        Ok(())
    }

    // ANCHOR: check_new_leader
    /// A fresh pull consumer reads the whole topic from the new brokerId 0 until every message
    /// acknowledged before the kill is there (at most 20 s). Returns (acknowledged before the
    /// kill, of those missing, milliseconds until complete).
    fn check_new_leader(&self, n: usize, kill_ms: u64) -> (usize, usize, f64) {
        let wanted: HashSet<String> = read_acks(&self.ack_files)
            .into_iter()
            .filter(|a| a.at_ms <= kill_ms)
            .map(|a| a.body)
            .collect();
        let from = Instant::now();
        let mut missing = wanted.len();
        while from.elapsed() < Duration::from_secs(20) {
            let group = format!("mixed_check_{n}");
            match self.rt.block_on(read_topic(NAMESRV, TOPIC, &group)) {
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
        (wanted.len(), missing, from.elapsed().as_millis() as f64)
    }
    // ANCHOR_END: check_new_leader

    /// Stops the load, lets the official Java pull consumer read the final leader, and turns
    /// what was observed into the summary, the rows and the events to draw.
    fn finish(&mut self) -> Result<(Summary, Vec<report::Row>, Vec<TimelineEvent>)> {
        std::fs::write(self.scratch.join("stop"), b"stop")?;
        for p in self.producers.iter_mut() {
            wait_exit(p, Duration::from_secs(20));
        }
        let end = self.t0.elapsed();
        self.stop_monitor.store(true, Ordering::Relaxed);
        say("producers stopped; the official Java pull consumer reads the final leader");
        let final_leader = self.wait_leader(NODES - 1, None, Duration::from_secs(60))?;
        let final_label = self.members[self.member_of(&final_leader)?].label();
        let verify = self.java_verify()?;
        let field = |k: &str| -> u64 {
            verify
                .split_whitespace()
                .find_map(|w| w.strip_prefix(k))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let acked = read_acks(&self.ack_files);
        let errors = read_errors(&self.producer_logs);
        let seen = self.seen.lock().map_err(|_| anyhow!("poisoned"))?.clone();
        for k in self.kills.iter_mut() {
            k.account(&acked, &errors);
            k.visible_from(&seen, self.params.sample_ms);
            if let Some(e) = self
                .events
                .iter_mut()
                .find(|e| e.kind == EventKind::Kill && e.at_s == k.kill_at_s)
            {
                e.label = format!("kill -9 {}: {:.1} s", k.killed, k.writes_back_ms / 1000.0);
            }
        }
        let name_of: HashMap<String, String> = self
            .members
            .iter()
            .map(|m| (m.addr.clone(), m.name.clone()))
            .collect();
        let kinds: HashMap<String, (String, Kind)> = self
            .members
            .iter()
            .map(|m| (m.addr.clone(), (m.name.clone(), m.kind)))
            .collect();
        let replacement = self.replacement.clone();
        // The replaced member ran Java before the replacement.
        let kind_at = |addr: &str, t: f64| -> Kind {
            match (&replacement, kinds.get(addr)) {
                (Some(r), Some((name, _))) if *name == r.node && t < r.at_s => Kind::Java,
                (_, Some((_, k))) => *k,
                _ => Kind::Java,
            }
        };
        let buckets = (end.as_millis() / SAMPLE.as_millis()) as usize + 1;
        let observed = report::Observed {
            leaders: &seen,
            buckets,
            sample_ms: self.params.sample_ms,
            t0_ms: self.t0_ms,
            acked: &acked,
            errors: &errors,
        };
        let rows = report::timeline(&observed, &name_of, &kind_at);
        let leaderships = report::leaderships(&rows, self.params.sample_ms);
        // Before the first thing the harness did: the group of three at work.
        let first_event = self.events.iter().map(|e| e.at_s).fold(secs(end), f64::min);
        let steady: Vec<f64> = rows
            .iter()
            .filter(|r| r.t_s >= 1.0 && r.t_s < first_event)
            .map(|r| r.acked_per_s)
            .collect();
        let led_by = |k: Kind| leaderships.iter().filter(|l| l.kind == k).count();
        let summary = Summary {
            params: self.params.clone(),
            duration_s: secs(end),
            acked: acked.len(),
            failed_sends: errors.len(),
            final_leader: final_label,
            verify_line: verify.clone(),
            stored_read: field("read="),
            stored_distinct: field("distinct="),
            lost: if verify.is_empty() {
                acked.len() as u64
            } else {
                field("missing=")
            },
            replacement,
            kills: self.kills.clone(),
            led_by_java: led_by(Kind::Java),
            led_by_ours: led_by(Kind::Ours),
            leaderships,
            mean_acked_per_s: (steady.iter().sum::<f64>() / steady.len().max(1) as f64).round(),
        };
        Ok((summary, rows, std::mem::take(&mut self.events)))
    }

    /// Runs Verify.java (rocketmq-client 4.8.0 pull consumer) on the final leader; returns its
    /// summary line, or "" if it printed none.
    fn java_verify(&self) -> Result<String> {
        let dir = self.scratch.join("verify");
        std::fs::create_dir_all(&dir)?;
        let out = Command::new("bash")
            .arg(&self.tools.java_script)
            .arg("run-class")
            .arg(&dir)
            .arg("Verify")
            .arg(NAMESRV)
            .arg(TOPIC)
            .args(&self.ack_files)
            .env("RMQ_JAVA_CP", classes_dir()?)
            .output()
            .context("running Verify.java")?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        std::fs::write(dir.join("verify.out"), &text)?;
        let line = text
            .lines()
            .find(|l| l.starts_with("verify: read="))
            .unwrap_or("")
            .to_string();
        if !out.status.success() || line.is_empty() {
            say(format!("Verify.java said:\n{text}"));
        }
        Ok(line)
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
