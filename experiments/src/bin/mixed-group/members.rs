//! The members of the mixed group: which implementation each one runs, its broker.conf, and
//! starting, stopping and killing its process.
//!
//! A Java member is Apache RocketMQ 4.8.0's `BrokerStartup`, run by
//! `experiments/peers/java-cluster.sh run-broker`, which replaces its shell with the JVM: the
//! process this module holds *is* the broker, so SIGKILL reaches it directly. Our
//! member is `mqbroker`. Both read the same broker.conf; every port is fixed because the whole
//! run lives in a private network namespace where nothing else listens.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::procs::Server;

pub const CLUSTER: &str = "MixedCluster";
pub const GROUP: &str = "RaftNode00";
/// The name server's address inside the namespace.
pub const NAMESRV: &str = "127.0.0.1:9876";
/// Member i listens on 10911 + 10 i (clients), 10909 + 10 i (VIP) and 40911 + 10 i (DLedger).
const BROKER_PORT: u16 = 10911;
const DLEDGER_PORT: u16 = 40911;

/// Which implementation a member runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Apache RocketMQ 4.8.0 (Java, DLedger 0.2.2).
    Java,
    /// The workbook's mqbroker.
    Ours,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Java => "Java 4.8.0",
            Kind::Ours => "ours",
        }
    }
}

/// Where the programs live and how much heap a JVM gets.
pub struct Tools {
    /// Folder with `mqbroker` and `mqnamesrv`.
    pub bin: PathBuf,
    /// `experiments/peers/java-cluster.sh`.
    pub java_script: PathBuf,
    /// `-Xms`/`-Xmx` of each Java broker.
    pub java_heap: String,
}

/// One member of the DLedger group.
pub struct Member {
    /// `n0`, `n1`, `n2`: the dLegerSelfId.
    pub name: String,
    pub kind: Kind,
    /// The member's folder: broker.conf, store/, logs.
    pub dir: PathBuf,
    /// `127.0.0.1:<listenPort>`, as the name server lists it.
    pub addr: String,
    server: Option<Server>,
    starts: usize,
}

/// The DLedger peers string of a group of `n` members.
fn peers(n: usize) -> String {
    (0..n)
        .map(|i| format!("n{i}-127.0.0.1:{}", DLEDGER_PORT + 10 * i as u16))
        .collect::<Vec<_>>()
        .join(";")
}

impl Member {
    /// Creates member `i` of `n` in `root/n<i>` with its broker.conf.
    pub fn new(
        root: &Path,
        i: usize,
        n: usize,
        kind: Kind,
        data_file_bytes: u64,
        batch_push: bool,
    ) -> Result<Member> {
        let name = format!("n{i}");
        let dir = root.join(&name);
        std::fs::create_dir_all(&dir)?;
        let port = BROKER_PORT + 10 * i as u16;
        let store = dir.join("store");
        // ANCHOR: member_conf
        // The dLeger* timing keys are read by our broker only (4.8.0 has no such keys and
        // ignores them): DLedger 0.2.2 beats every 2000 ms, suspects its leader after 3 missed
        // beats and pauses 300-1000 ms before a vote; our defaults are 100 ms, 5 and 50-200 ms.
        // In a mixed group every member keeps 0.2.2's clock.
        let conf = format!(
            "brokerClusterName={CLUSTER}\nbrokerName={GROUP}\nlistenPort={port}\n\
             namesrvAddr={NAMESRV}\nbrokerIP1=127.0.0.1\nstorePathRootDir={}\n\
             storePathCommitLog={}\nenableDLegerCommitLog=true\ndLegerGroup={GROUP}\n\
             dLegerPeers={}\ndLegerSelfId={name}\nmappedFileSizeCommitLog={data_file_bytes}\n\
             autoCreateTopicEnable=true\nflushDiskType=ASYNC_FLUSH\n\
             dLegerHeartBeatTimeIntervalMs=2000\ndLegerMaxHeartBeatLeak=3\n\
             dLegerMinVoteIntervalMs=300\ndLegerMaxVoteIntervalMs=1000\n\
             enableBatchPush={batch_push}\n",
            store.display(),
            store.join("commitlog").display(),
            peers(n),
        );
        std::fs::write(dir.join("broker.conf"), conf)?;
        // ANCHOR_END: member_conf
        Ok(Member {
            name,
            kind,
            dir,
            addr: format!("127.0.0.1:{port}"),
            server: None,
            starts: 0,
        })
    }

    /// `n2 (ours)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.name, self.kind.label())
    }

    /// Starts the broker and waits for its "boot success" line.
    pub fn start(&mut self, tools: &Tools) -> Result<()> {
        self.starts += 1;
        let log = self
            .dir
            .join(format!("{}-{}.out", self.kind_tag(), self.starts));
        let (cmd, within) = match self.kind {
            Kind::Java => {
                let mut c = Command::new("bash");
                c.arg(&tools.java_script)
                    .arg("run-broker")
                    .arg(&self.dir)
                    .env("RMQ_JAVA_HEAP", &tools.java_heap);
                (c, Duration::from_secs(120))
            }
            Kind::Ours => {
                let mut c = Command::new(tools.bin.join("mqbroker"));
                c.arg("-c")
                    .arg(self.dir.join("broker.conf"))
                    .env("RUST_LOG", "info")
                    .env("NO_COLOR", "1");
                (c, Duration::from_secs(60))
            }
        };
        let (server, _) = Server::spawn(&self.label(), cmd, Some("boot success"), &log, within)
            .with_context(|| format!("starting {}", self.label()))?;
        self.server = Some(server);
        Ok(())
    }

    fn kind_tag(&self) -> &'static str {
        match self.kind {
            Kind::Java => "java",
            Kind::Ours => "ours",
        }
    }

    /// kill -9: no shutdown hook, no flush beyond what the page cache holds.
    pub fn kill(&mut self) {
        // Dropping the Server sends SIGKILL and reaps the process.
        self.server = None;
    }

    /// SIGTERM and wait (SIGKILL after `grace`): a clean shutdown.
    pub fn stop(&mut self, grace: Duration) {
        if let Some(mut s) = self.server.take() {
            s.stop(grace);
        }
    }
}
