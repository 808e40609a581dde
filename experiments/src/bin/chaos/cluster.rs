//! The chaos experiment's cluster: two name servers and two DLedger groups of three brokers,
//! each server a process in its own network namespace (see `net.rs`), each broker's store on
//! a tmpfs of its own so one of them can run out of space.
//!
//! Every server keeps its fixed RocketMQ ports (9876, 10911, DLedger 40911): each namespace
//! has its own port space, so they collide with nothing, not even `make run` next to it.
//! Signals go straight to the server's pid (`ip netns exec` execs the server).
//!
//! Book: Part IV, "Breaking it on purpose". No RocketMQ counterpart.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use rmq_remoting::RemotingClient;

use super::net::Net;
use experiments::servers::broker_ids;

/// The cluster name the brokers register under.
pub const CLUSTER: &str = "ChaosCluster";
/// The two DLedger groups (broker names).
pub const GROUPS: [&str; 2] = ["RaftNode00", "RaftNode01"];
const NAMESRV_PORT: u16 = 9876;
const BROKER_PORT: u16 = 10911;
const DLEDGER_PORT: u16 = 40911;
const BOOT: Duration = Duration::from_secs(60);

/// What a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `mqnamesrv`.
    NameServer,
    /// `mqbroker` of group `g`, DLedger member `n<k>`.
    Broker { g: usize, k: usize },
}

/// One server: where it lives and, while it runs, its process.
pub struct Node {
    /// A short name for tables and charts: `ns1`, `b0n2` (group 0, member n2).
    pub name: String,
    /// Its network namespace.
    pub netns: String,
    /// Its IP address inside the private network.
    pub ip: String,
    /// What it runs.
    pub kind: Kind,
    dir: PathBuf,
    /// The running process, if any.
    pub child: Option<Child>,
    /// Stopped with SIGSTOP and not yet continued.
    pub paused: bool,
    /// How many times it was started.
    pub starts: usize,
}

impl Node {
    /// `ip:port` clients use.
    pub fn addr(&self) -> String {
        match self.kind {
            Kind::NameServer => format!("{}:{NAMESRV_PORT}", self.ip),
            Kind::Broker { .. } => format!("{}:{BROKER_PORT}", self.ip),
        }
    }

    /// The broker's store (a tmpfs of its own).
    pub fn store_dir(&self) -> PathBuf {
        self.dir.join("store")
    }

    fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32)
    }

    /// Sends `sig` to the server process.
    pub fn signal(&self, sig: i32) -> Result<()> {
        let pid = self
            .pid()
            .with_context(|| format!("{} is not running", self.name))?;
        // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
        if unsafe { libc::kill(pid, sig) } != 0 {
            bail!(
                "kill({pid}, {sig}) of {}: {}",
                self.name,
                std::io::Error::last_os_error()
            );
        }
        Ok(())
    }

    /// kill -9 and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            if self.paused {
                // SAFETY: as above; a stopped process must be continued to die promptly.
                unsafe { libc::kill(c.id() as i32, libc::SIGCONT) };
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        self.paused = false;
    }

    /// Whether the process has exited (reaping it then).
    pub fn exited(&mut self) -> bool {
        match self.child.as_mut().map(|c| c.try_wait()) {
            Some(Ok(Some(_))) => {
                self.child = None;
                true
            }
            Some(_) => false,
            None => true,
        }
    }
}

/// The whole cluster.
pub struct Cluster {
    /// Name servers first (ns1, ns2), then the brokers of group 0 and group 1.
    pub nodes: Vec<Node>,
    bin: PathBuf,
}

impl Cluster {
    /// Lays out the nodes under `dir` (namespaces, configs, tmpfs stores); starts nothing.
    pub fn create(net: &mut Net, bin: &Path, dir: &Path, store_mb: u64) -> Result<Cluster> {
        let mut nodes = Vec::new();
        for i in 1..=2 {
            nodes.push(Node {
                name: format!("ns{i}"),
                netns: format!("chaos-ns{i}"),
                ip: format!("127.0.1.{i}"),
                kind: Kind::NameServer,
                dir: dir.join(format!("ns{i}")),
                child: None,
                paused: false,
                starts: 0,
            });
        }
        for g in 0..GROUPS.len() {
            for k in 0..3 {
                nodes.push(Node {
                    name: format!("b{g}n{k}"),
                    netns: format!("chaos-b{g}n{k}"),
                    ip: format!("127.0.1.{}", 10 * (g + 1) + k + 1),
                    kind: Kind::Broker { g, k },
                    dir: dir.join(format!("b{g}n{k}")),
                    child: None,
                    paused: false,
                    starts: 0,
                });
            }
        }
        let namesrv = nodes[..2]
            .iter()
            .map(|n| n.addr())
            .collect::<Vec<_>>()
            .join(";");
        for n in &nodes {
            net.add_node(&n.netns, &n.ip)?;
            std::fs::create_dir_all(&n.dir)?;
            match n.kind {
                Kind::NameServer => std::fs::write(
                    n.dir.join("namesrv.conf"),
                    format!(
                        "bindAddress={}\nlistenPort={NAMESRV_PORT}\nkvConfigPath={}\n",
                        n.ip,
                        n.dir.join("kvConfig.json").display()
                    ),
                )?,
                Kind::Broker { g, k } => {
                    let peers = (0..3)
                        .map(|j| format!("n{j}-127.0.1.{}:{DLEDGER_PORT}", 10 * (g + 1) + j + 1))
                        .collect::<Vec<_>>()
                        .join(";");
                    let store = n.store_dir();
                    std::fs::create_dir_all(&store)?;
                    let ok = Command::new("mount")
                        .args(["-t", "tmpfs", "-o", &format!("size={store_mb}m"), "tmpfs"])
                        .arg(&store)
                        .status()
                        .context("mounting a tmpfs store")?
                        .success();
                    if !ok {
                        bail!("cannot mount a tmpfs on {}", store.display());
                    }
                    std::fs::write(
                        n.dir.join("broker.conf"),
                        format!(
                            "brokerClusterName={CLUSTER}\nbrokerName={group}\nbrokerIP1={ip}\n\
                             listenPort={BROKER_PORT}\nnamesrvAddr={namesrv}\n\
                             storePathRootDir={store}\nstorePathCommitLog={store}/commitlog\n\
                             enableDLegerCommitLog=true\ndLegerGroup={group}\n\
                             dLegerPeers={peers}\ndLegerSelfId=n{k}\n\
                             mappedFileSizeCommitLog=8388608\nmappedFileSizeConsumeQueue=600000\n\
                             autoCreateTopicEnable=false\n",
                            group = GROUPS[g],
                            ip = n.ip,
                            store = store.display(),
                        ),
                    )?;
                }
            }
        }
        Ok(Cluster {
            nodes,
            bin: bin.to_path_buf(),
        })
    }

    /// `ns1;ns2` for clients.
    pub fn namesrv(&self) -> String {
        self.nodes[..2]
            .iter()
            .map(|n| n.addr())
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Starts node `i` in its namespace and waits for its boot line; its output goes to
    /// `<dir>/out.<n>.log`.
    pub fn start(&mut self, i: usize) -> Result<()> {
        let n = &mut self.nodes[i];
        if n.child.is_some() {
            return Ok(());
        }
        n.starts += 1;
        let (exe, args, needle) = match n.kind {
            Kind::NameServer => (
                self.bin.join("mqnamesrv"),
                vec![
                    "-c".to_string(),
                    n.dir.join("namesrv.conf").display().to_string(),
                ],
                "boot success",
            ),
            Kind::Broker { .. } => (
                self.bin.join("mqbroker"),
                vec![
                    "-c".to_string(),
                    n.dir.join("broker.conf").display().to_string(),
                ],
                "boot success",
            ),
        };
        let log_path = n.dir.join(format!("out.{}.log", n.starts));
        let mut log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let mut child = Command::new("ip")
            .args(["netns", "exec", &n.netns])
            .arg(&exe)
            .args(&args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {} in {}", exe.display(), n.netns))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut told = false;
            for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                let _ = writeln!(log, "{line}");
                if !told && line.contains(needle) {
                    told = true;
                    let _ = tx.send(());
                }
            }
        });
        n.child = Some(child);
        n.paused = false;
        match rx.recv_timeout(BOOT) {
            Ok(()) => Ok(()),
            Err(_) => {
                n.kill();
                Err(anyhow!(
                    "{} printed no boot line within {BOOT:?} (see {})",
                    n.name,
                    log_path.display()
                ))
            }
        }
    }

    /// Indices of the brokers of group `g`.
    pub fn members(&self, g: usize) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| matches!(self.nodes[*i].kind, Kind::Broker { g: x, .. } if x == g))
            .collect()
    }

    /// The node at address `addr`.
    pub fn by_addr(&self, addr: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.addr() == addr)
    }

    /// Group `g`'s brokerId 0 as the first answering name server lists it.
    pub async fn leader(&self, c: &RemotingClient, g: usize) -> Option<usize> {
        for ns in &self.nodes[..2] {
            if ns.child.is_none() || ns.paused {
                continue;
            }
            let ids = broker_ids(c, &ns.addr(), GROUPS[g], Duration::from_millis(500)).await;
            if let Some(a) = ids.get(&0) {
                return self.by_addr(a);
            }
        }
        None
    }

    /// Kills every process (also run on drop).
    pub fn kill_all(&mut self) {
        for n in &mut self.nodes {
            n.kill();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.kill_all();
        // Unmount the stores so the temporary directory can be removed.
        for n in &self.nodes {
            if matches!(n.kind, Kind::Broker { .. }) {
                let _ = Command::new("umount").arg(n.store_dir()).status();
            }
        }
    }
}
