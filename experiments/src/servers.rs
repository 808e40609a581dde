//! Starting our own servers for an experiment: build `mqnamesrv`/`mqbroker` in the
//! experiment's profile, spawn them on free 127.0.0.1 ports, wait for their boot lines, kill
//! them when dropped, and the two name-server/broker requests every cluster experiment needs
//! (who is brokerId 0, create a topic). Shared by `failover`, `replication-modes` and
//! `delay-accuracy` so each keeps only the cluster shape it measures.
//! The process plumbing (guard, boot-line wait, free ports) is `rmq-testkit`'s, shared with the
//! integration tests; this module adds building the servers and the cluster requests.
//! Book: every chapter's "The experiment" section. There is no RocketMQ counterpart (4.8.0's
//! benchmark scripts expect a running cluster).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use rmq_client::api::{MqClientApi, PullStatus};
use rmq_client::consumer::PullConsumer;
use rmq_client::ClientConfig;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::{decode_body, ClusterInfo, TopicConfig};
use rmq_remoting::{RemotingClient, RemotingCommand};

pub use rmq_testkit::{free_broker_port, free_port, Proc};

/// Builds mqnamesrv and mqbroker in the running binary's profile and returns the folder
/// holding them (the running binary's own folder).
pub fn build_servers() -> Result<PathBuf> {
    build_bins(&["rmq-namesrv", "rmq-broker"])
}

/// Builds the binaries of `packages` into the running experiment's own target directory and
/// profile (`cargo build -p … --bins`), so the servers it starts are built from the same
/// sources and with the same optimisations as the experiment itself, whatever
/// `CARGO_TARGET_DIR` says. Returns that folder.
pub fn build_bins(packages: &[&str]) -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the experiment binary")?;
    let dir = exe
        .parent()
        .ok_or_else(|| anyhow!("{} has no parent", exe.display()))?
        .to_path_buf();
    let target = dir
        .parent()
        .ok_or_else(|| anyhow!("{} has no target directory", dir.display()))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(crate::workspace_root())
        .args(["build", "-q"])
        .args(packages.iter().flat_map(|p| ["-p", p]))
        .arg("--bins")
        .arg("--target-dir")
        .arg(target);
    if !cfg!(debug_assertions) {
        cmd.arg("--release");
    }
    if !cmd.status().context("running cargo build")?.success() {
        bail!("cargo build of {} failed", packages.join(", "));
    }
    Ok(dir)
}

/// Spawns `cmd` and waits (30 s) for a stdout line containing `needle`; returns that line.
pub fn spawn_wait(cmd: Command, needle: &str) -> Result<(Proc, String)> {
    Ok(rmq_testkit::spawn_wait(
        cmd,
        needle,
        rmq_testkit::BOOT_TIMEOUT,
    )?)
}

/// Starts `mqnamesrv -p 0` from the folder `bin` with its KV file under `dir`; returns it
/// and its address.
pub fn start_namesrv(bin: &Path, dir: &Path) -> Result<(Proc, String)> {
    Ok(rmq_testkit::start_namesrv(&bin.join("mqnamesrv"), dir, "")?)
}

/// Starts `mqbroker -c conf` from the folder `bin` and waits for its boot line.
pub fn start_broker(bin: &Path, conf: &Path) -> Result<Proc> {
    Ok(rmq_testkit::start_broker(&bin.join("mqbroker"), conf)?)
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
    let tc = TopicConfig {
        read_queue_nums: queues,
        write_queue_nums: queues,
        ..TopicConfig::new(topic)
    };
    MqClientApi::new(c.clone())
        .create_topic(addr, &tc, timeout)
        .await
        .with_context(|| format!("updateTopic on {addr}"))
}

/// Every body stored in `topic`, read by a fresh pull consumer (group `group`) from offset 0 of
/// every queue on the current brokerId 0, with the number of records read (duplicates
/// included). The verdict of the failover experiments: every acknowledged body must be here.
pub async fn read_topic(ns: &str, topic: &str, group: &str) -> Result<(HashSet<String>, u64)> {
    let mut cfg = ClientConfig::new(ns);
    cfg.instance_name = Some(format!("{group}-reader"));
    let consumer = PullConsumer::start(group, cfg).await?;
    let queues = consumer.fetch_subscribe_message_queues(topic).await?;
    let mut bodies = HashSet::new();
    let mut records = 0u64;
    for mq in &queues {
        let mut offset = 0;
        loop {
            let r = consumer.pull(mq, "*", offset, 32).await?;
            match r.status {
                PullStatus::Found => {
                    records += r.msgs.len() as u64;
                    bodies.extend(
                        r.msgs
                            .iter()
                            .map(|m| String::from_utf8_lossy(&m.body).into_owned()),
                    );
                    offset = r.next_begin_offset;
                }
                PullStatus::OffsetIllegal if offset < r.max_offset => {
                    bail!(
                        "queue {mq:?}: offset {offset} illegal below max {}",
                        r.max_offset
                    )
                }
                _ => break,
            }
        }
    }
    consumer.shutdown().await;
    if queues.is_empty() {
        bail!("no queues of {topic} in the route");
    }
    Ok((bodies, records))
}
