//! The RocketMQ systems the Part V comparisons start side by side: our mqnamesrv + mqbroker
//! and the real Apache RocketMQ 4.8.0 pair (experiments/peers/java-cluster.sh), each with its
//! name server address and the processes to watch; and `mqbench`, the one load tool that
//! drives them all.
//!
//! Included with `#[path = "../../peers/systems.rs"] mod systems;` by `vs-peers` and
//! `vs-kafka`, next to `procs.rs` (which it uses as `super::procs`). Book: Part V, "Side by
//! side with Java RocketMQ and rocketmq-rust" and "RocketMQ vs Kafka: one log or many".
//! Mirrors the idea of 4.8.0's `benchmark/producer.sh` and `consumer.sh`: one load tool,
//! many brokers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::procs::{self, Server, Watched};
use experiments::workspace_root;

/// When a broker tells the producer "stored": after the page cache write (ASYNC_FLUSH) or
/// after an fsync that covers the message (SYNC_FLUSH, group commit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Flush {
    #[serde(rename = "ASYNC_FLUSH")]
    Async,
    #[serde(rename = "SYNC_FLUSH")]
    Sync,
}

impl Flush {
    /// The broker.conf value of `flushDiskType`.
    pub fn conf_value(self) -> &'static str {
        match self {
            Flush::Async => "ASYNC_FLUSH",
            Flush::Sync => "SYNC_FLUSH",
        }
    }
}

/// What mqbench writes with `--json` (the fields used here).
#[derive(Debug, Deserialize)]
pub struct BenchSummary {
    pub messages: u64,
    pub failures: u64,
    pub tps_avg: f64,
    pub latency_us: BenchLatency,
    #[serde(default)]
    pub per_second: Vec<BenchSecond>,
    /// Seconds after mqbench's start at which its first and last messages were recorded.
    #[serde(default)]
    pub first_message_s: Option<f64>,
    #[serde(default)]
    pub last_message_s: Option<f64>,
}

/// Send round trip (producer) or store-to-consume time (consumer), in microseconds.
#[derive(Debug, Deserialize)]
pub struct BenchLatency {
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// One second of an mqbench run.
#[derive(Debug, Deserialize)]
pub struct BenchSecond {
    pub tps: u64,
}

impl BenchSummary {
    /// Messages per second over the seconds in which messages moved (first to last busy
    /// second): a consumer that drains a backlog and then idles is not diluted by the idle
    /// tail, nor by its start-up and rebalance before the first message.
    pub fn busy_rate(&self) -> f64 {
        let busy: Vec<usize> = self
            .per_second
            .iter()
            .enumerate()
            .filter(|(_, s)| s.tps > 0)
            .map(|(i, _)| i)
            .collect();
        match (busy.first(), busy.last()) {
            (Some(a), Some(b)) => {
                let n: u64 = self.per_second[*a..=*b].iter().map(|s| s.tps).sum();
                n as f64 / (b - a + 1) as f64
            }
            _ => 0.0,
        }
    }
}

/// A system under test: where its name server and broker are and which processes belong to
/// it (stopped on drop).
pub struct System {
    pub key: String,
    pub ns: String,
    pub broker_addr: String,
    pub procs: Vec<Watched>,
    pub _servers: Vec<Server>,
    pub _java: Option<JavaCluster>,
}

/// The Java 4.8.0 pair, started and stopped by experiments/peers/java-cluster.sh.
pub struct JavaCluster {
    pub dir: PathBuf,
}

impl Drop for JavaCluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(java_script())
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

pub fn java_script() -> PathBuf {
    workspace_root().join("experiments/peers/java-cluster.sh")
}

/// Downloads the Java 4.8.0 jars if they are not cached; false when that fails.
pub fn fetch_java() -> bool {
    Command::new("bash")
        .arg(java_script())
        .arg("fetch")
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The broker.conf every system gets. rocketmq-rust 1.0 refuses to start (an opaque "service
/// lifecycle operation failed") with `brokerRole`, `storePathCommitLog` or
/// `diskMaxUsedSpaceRatio` in a properties file, so it gets the others only; its defaults for the
/// first two are the same (ASYNC_MASTER, `<storePathRootDir>/commitlog`).
pub fn broker_conf(
    dir: &Path,
    name: &str,
    ns: &str,
    port: u16,
    rocketmq_rust: bool,
    flush: Flush,
) -> String {
    let store = dir.join("store");
    let mut conf = format!(
        "brokerClusterName=PeersCluster\nbrokerName={name}\nbrokerId=0\nlistenPort={port}\n\
         namesrvAddr={ns}\nbrokerIP1=127.0.0.1\nstorePathRootDir={}\nflushDiskType={}\n\
         autoCreateTopicEnable=true\nautoCreateSubscriptionGroup=true\n",
        store.display(),
        flush.conf_value()
    );
    if !rocketmq_rust {
        conf.push_str(&format!(
            "brokerRole=ASYNC_MASTER\nstorePathCommitLog={}/commitlog\ndiskMaxUsedSpaceRatio=95\n",
            store.display()
        ));
    }
    conf
}

/// Our mqnamesrv + mqbroker in `work/<key>`, on free loopback ports.
pub fn start_ours(work: &Path, key: &str, flush: Flush) -> Result<System> {
    let dir = work.join(key);
    std::fs::create_dir_all(&dir)?;
    let bins = procs::bin_dir()?;
    let ns_conf = dir.join("namesrv.conf");
    std::fs::write(
        &ns_conf,
        format!("kvConfigPath={}\n", dir.join("kv.json").display()),
    )?;
    let ns_port = procs::free_broker_port()?;
    let mut cmd = Command::new(bins.join("mqnamesrv"));
    cmd.arg("-c")
        .arg(&ns_conf)
        .args(["-p", &ns_port.to_string()]);
    let (ns_srv, _) = Server::spawn(
        "mqnamesrv",
        cmd,
        Some("boot success"),
        &dir.join("namesrv.log"),
        Duration::from_secs(30),
    )?;
    let ns = format!("127.0.0.1:{ns_port}");
    let port = procs::free_broker_port()?;
    let conf = dir.join("broker.conf");
    std::fs::write(
        &conf,
        broker_conf(&dir, "ours-broker-a", &ns, port, false, flush),
    )?;
    let mut cmd = Command::new(bins.join("mqbroker"));
    cmd.arg("-c").arg(&conf).env("RUST_LOG", "info");
    let (b_srv, _) = Server::spawn(
        "mqbroker",
        cmd,
        Some("boot success"),
        &dir.join("broker.log"),
        Duration::from_secs(60),
    )?;
    Ok(System {
        key: key.into(),
        ns,
        broker_addr: format!("127.0.0.1:{port}"),
        procs: vec![
            (key.into(), "name server".into(), ns_srv.pid()),
            (key.into(), "broker".into(), b_srv.pid()),
        ],
        _servers: vec![ns_srv, b_srv],
        _java: None,
    })
}

/// The Java 4.8.0 name server + broker in `work/<key>` (must run in a private namespace: see
/// java-cluster.sh).
pub fn start_java(work: &Path, key: &str, heap: &str, flush: Flush) -> Result<System> {
    let dir = work.join(key);
    std::fs::create_dir_all(&dir)?;
    let (ns_port, port) = (procs::free_broker_port()?, procs::free_broker_port()?);
    let guard = JavaCluster { dir: dir.clone() };
    let out = Command::new("bash")
        .arg(java_script())
        .arg("start")
        .arg(&dir)
        .arg(ns_port.to_string())
        .arg(port.to_string())
        .env("RMQ_JAVA_HEAP", heap)
        .env("RMQ_JAVA_FLUSH", flush.conf_value())
        .output()
        .context("running java-cluster.sh")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        bail!(
            "java-cluster.sh start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let pid_of = |key: &str| -> Result<u32> {
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow!("java-cluster.sh printed no {key}: {text}"))
    };
    Ok(System {
        key: key.into(),
        ns: format!("127.0.0.1:{ns_port}"),
        broker_addr: format!("127.0.0.1:{port}"),
        procs: vec![
            (key.into(), "name server".into(), pid_of("namesrv_pid=")?),
            (key.into(), "broker".into(), pid_of("broker_pid=")?),
        ],
        _servers: Vec::new(),
        _java: Some(guard),
    })
}

/// One mqbench invocation.
pub struct Bench<'a> {
    /// "producer" or "consumer".
    pub mode: &'a str,
    pub topic: &'a str,
    pub size: usize,
    pub threads: usize,
    pub batch: usize,
    pub secs: u64,
    /// Producer or consumer group.
    pub group: String,
}

/// Runs mqbench once against `sys`; its per-second lines go to a log file in `scratch`.
pub fn mqbench(sys: &System, b: &Bench, scratch: &Path) -> Result<BenchSummary> {
    mqbench_with(sys, b, &[], scratch)
}

/// `mqbench` with extra arguments (`--messages N`, `--rate R`, `--stamp`).
pub fn mqbench_with(
    sys: &System,
    b: &Bench,
    extra: &[String],
    scratch: &Path,
) -> Result<BenchSummary> {
    let stem = format!("{}-{}-{}", sys.key, b.topic, b.mode);
    let json = scratch.join(format!("{stem}.json"));
    let log = std::fs::File::create(scratch.join(format!("{stem}.log")))?;
    let status = Command::new(procs::bin_dir()?.join("mqbench"))
        .args([b.mode, "-n", &sys.ns, "-t", b.topic])
        .args(["-s", &b.size.to_string(), "-w", &b.threads.to_string()])
        .args(["--batch", &b.batch.to_string()])
        .args(["--duration", &b.secs.to_string()])
        .args(["-g", &b.group])
        .args(extra)
        .arg("--json")
        .arg(&json)
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .context("running mqbench")?;
    if !status.success() {
        bail!("mqbench failed ({status}); see {}", scratch.display());
    }
    let text =
        std::fs::read_to_string(&json).with_context(|| format!("reading {}", json.display()))?;
    Ok(serde_json::from_str(&text)?)
}
