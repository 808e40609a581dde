//! Starting our own servers for an experiment: build `mqnamesrv`/`mqbroker` in the
//! experiment's profile, spawn them on free 127.0.0.1 ports, wait for their boot lines, kill
//! them when dropped, and the two name-server/broker requests every cluster experiment needs
//! (who is brokerId 0, create a topic). Shared by `failover`, `replication-modes` and
//! `delay-accuracy` so each keeps only the cluster shape it measures.
//! Book: every chapter's "The experiment" section. There is no RocketMQ counterpart (4.8.0's
//! benchmark scripts expect a running cluster).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::{decode_body, ClusterInfo};
use rmq_remoting::{RemotingClient, RemotingCommand};

/// A child process killed (SIGKILL) on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Builds mqnamesrv and mqbroker in the running binary's profile and returns the folder
/// holding them (the running binary's own folder).
pub fn build_servers() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .ok_or_else(|| anyhow!("{} has no parent", exe.display()))?
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "-q",
        "-p",
        "rmq-namesrv",
        "-p",
        "rmq-broker",
        "--bins",
    ]);
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    if !cmd.status().context("running cargo build")?.success() {
        bail!("cargo build of mqnamesrv/mqbroker failed");
    }
    Ok(dir)
}

/// Spawns `cmd` and waits (30 s) for a stdout line containing `needle`; returns that line.
pub fn spawn_wait(mut cmd: Command, needle: &str) -> Result<(Proc, String)> {
    let mut child = cmd
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {cmd:?}"))?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let proc = Proc(child);
    let (tx, rx) = mpsc::channel();
    let wanted = needle.to_string();
    std::thread::spawn(move || {
        // Keep draining after the match so the child never blocks on a full pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(&wanted) {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| anyhow!("no line containing {needle:?} from {cmd:?}"))?;
    Ok((proc, line))
}

fn port_free(p: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()
}

/// A port the kernel just handed out on 127.0.0.1 (free at this moment).
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A broker listen port p with p-2 (the VIP channel) and p+1 (the HA service) free as well.
pub fn free_broker_port() -> Result<u16> {
    for _ in 0..200 {
        let p = free_port()?;
        if p > 1100 && p < u16::MAX && port_free(p - 2) && port_free(p + 1) {
            return Ok(p);
        }
    }
    bail!("no free broker port (p-2, p, p+1) on 127.0.0.1")
}

/// Starts `mqnamesrv -p 0` with its KV file under `dir`; returns it and its address.
pub fn start_namesrv(bin: &Path, dir: &Path) -> Result<(Proc, String)> {
    let conf = dir.join("namesrv.conf");
    std::fs::write(
        &conf,
        format!("kvConfigPath={}\n", dir.join("kv.json").display()),
    )?;
    let mut cmd = Command::new(bin.join("mqnamesrv"));
    cmd.arg("-c").arg(&conf).args(["-p", "0"]);
    let (p, line) = spawn_wait(cmd, "listen=")?;
    let addr = line
        .split("listen=")
        .nth(1)
        .ok_or_else(|| anyhow!("odd name server line {line}"))?
        .trim()
        .to_string();
    Ok((p, addr))
}

/// Starts `mqbroker -c conf` and waits for its boot line.
pub fn start_broker(bin: &Path, conf: &Path) -> Result<Proc> {
    let mut cmd = Command::new(bin.join("mqbroker"));
    cmd.arg("-c").arg(conf);
    Ok(spawn_wait(cmd, "boot success")?.0)
}

/// brokerId -> address of `broker_name` as the name server lists it (empty when unreachable).
pub async fn broker_ids(
    c: &RemotingClient,
    ns: &str,
    broker_name: &str,
    timeout: Duration,
) -> BTreeMap<i64, String> {
    let cmd = RemotingCommand::new_request(rq::GET_BROKER_CLUSTER_INFO);
    match c.invoke(ns, cmd, timeout).await {
        Ok(r) if r.code == rs::SUCCESS => decode_body::<ClusterInfo>(r.body_bytes())
            .ok()
            .and_then(|ci| ci.broker_addr_table.get(broker_name).cloned())
            .map(|bd| bd.broker_addrs)
            .unwrap_or_default(),
        _ => BTreeMap::new(),
    }
}

/// UPDATE_AND_CREATE_TOPIC on one broker (what `mqadmin updateTopic -b` sends).
pub async fn create_topic(
    c: &RemotingClient,
    addr: &str,
    topic: &str,
    queues: i32,
    timeout: Duration,
) -> Result<()> {
    let cmd = RemotingCommand::new_request(rq::UPDATE_AND_CREATE_TOPIC)
        .with_ext("topic", topic)
        .with_ext("defaultTopic", "TBW102")
        .with_ext("readQueueNums", queues)
        .with_ext("writeQueueNums", queues)
        .with_ext("perm", 6)
        .with_ext("topicFilterType", "SINGLE_TAG")
        .with_ext("topicSysFlag", 0)
        .with_ext("order", false);
    let r = c.invoke(addr, cmd, timeout).await?;
    if r.code != rs::SUCCESS {
        bail!("updateTopic on {addr}: code {} {:?}", r.code, r.remark);
    }
    Ok(())
}
