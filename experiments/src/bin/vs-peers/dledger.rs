//! The DLedger part of vs-peers: a group of three of our brokers and a group of three real
//! RocketMQ 4.8.0 brokers (DLedger 0.2.2 inside), each with its own name server, loaded by
//! the same mqbench workloads as the single brokers, in the same run.
//!
//! Equal durability: both groups run `enableDLegerCommitLog=true` with `flushDiskType=
//! ASYNC_FLUSH`, so a send is acknowledged once two of the three members hold the entry (in
//! their page cache); no member fsyncs before the answer. Each implementation runs twice,
//! with `enableBatchPush=false` (the default) and `=true` (a 4.8.0 key, passed to DLedger
//! 0.2.2: a leader pushes up to 4 KiB of entries per request), and the ratio compares the
//! better setting of each. Book: Part V, "Side by side with
//! Java RocketMQ and rocketmq-rust" (section "DLedger groups side by side"). Mirrors
//! 4.8.0's DLedger deployment (`conf/dledger/broker-n0.conf`).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::procs::{self, Server};
use crate::systems::{java_script, System};
use experiments::chart::{grouped_bar_chart, Series};

/// The keys of the four groups in tables and charts.
pub const OURS_GROUP: &str = "ours-dledger";
pub const OURS_BATCH_GROUP: &str = "ours-dledger-batch";
pub const JAVA_GROUP: &str = "java-dledger";
pub const JAVA_BATCH_GROUP: &str = "java-dledger-batch";

/// Which implementation a group runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    Ours,
    Java,
}

/// A group to start: the implementation and its `enableBatchPush`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pub which: Impl,
    pub batch_push: bool,
}

impl Group {
    /// The four groups of the comparison.
    pub const ALL: [Group; 4] = [
        Group {
            which: Impl::Ours,
            batch_push: false,
        },
        Group {
            which: Impl::Ours,
            batch_push: true,
        },
        Group {
            which: Impl::Java,
            batch_push: false,
        },
        Group {
            which: Impl::Java,
            batch_push: true,
        },
    ];

    /// The group's key in tables, charts and file names.
    pub fn key(self) -> &'static str {
        match (self.which, self.batch_push) {
            (Impl::Ours, false) => OURS_GROUP,
            (Impl::Ours, true) => OURS_BATCH_GROUP,
            (Impl::Java, false) => JAVA_GROUP,
            (Impl::Java, true) => JAVA_BATCH_GROUP,
        }
    }
}

// ANCHOR: member-conf
/// broker.conf of member `i` of a three-member group (`peers` = the dLegerPeers string).
fn member_conf(
    dir: &Path,
    cluster: &str,
    port: u16,
    ns: &str,
    peers: &str,
    i: usize,
    batch_push: bool,
) -> String {
    let store = dir.join("store");
    format!(
        "brokerClusterName={cluster}\nbrokerName=RaftNode00\nlistenPort={port}\n\
         namesrvAddr={ns}\nbrokerIP1=127.0.0.1\nstorePathRootDir={}\n\
         storePathCommitLog={}\nenableDLegerCommitLog=true\ndLegerGroup=RaftNode00\n\
         dLegerPeers={peers}\ndLegerSelfId=n{i}\nflushDiskType=ASYNC_FLUSH\n\
         enableBatchPush={batch_push}\n\
         autoCreateTopicEnable=true\nautoCreateSubscriptionGroup=true\n\
         diskMaxUsedSpaceRatio=95\n",
        store.display(),
        store.join("commitlog").display(),
    )
}
// ANCHOR_END: member-conf

/// Starts a name server and three DLedger members of `which` under `work/<key>`; returns once
/// every member printed "boot success" (the leader is elected shortly after: the caller's
/// warm-up waits for a send to succeed).
pub fn start_group(work: &Path, group: Group, heap: &str) -> Result<System> {
    let (key, which) = (group.key(), group.which);
    let root = work.join(key);
    std::fs::create_dir_all(&root)?;
    let bins = procs::bin_dir()?;
    let ns_port = procs::free_broker_port()?;
    let ns = format!("127.0.0.1:{ns_port}");
    let ns_dir = root.join("namesrv");
    std::fs::create_dir_all(&ns_dir)?;
    let ns_cmd = match which {
        Impl::Ours => {
            let conf = ns_dir.join("namesrv.conf");
            std::fs::write(
                &conf,
                format!("kvConfigPath={}\n", ns_dir.join("kv.json").display()),
            )?;
            let mut c = Command::new(bins.join("mqnamesrv"));
            c.arg("-c").arg(&conf).args(["-p", &ns_port.to_string()]);
            c
        }
        Impl::Java => {
            let mut c = Command::new("bash");
            c.arg(java_script())
                .arg("run-namesrv")
                .arg(&ns_dir)
                .arg(ns_port.to_string())
                .env("RMQ_JAVA_HEAP", heap);
            c
        }
    };
    let (ns_srv, _) = Server::spawn(
        &format!("{key} name server"),
        ns_cmd,
        Some("boot success"),
        &root.join("namesrv.log"),
        Duration::from_secs(90),
    )?;
    let ports: Vec<(u16, u16)> = (0..3)
        .map(|_| Ok((procs::free_broker_port()?, procs::free_broker_port()?)))
        .collect::<Result<_>>()?;
    let peers = ports
        .iter()
        .enumerate()
        .map(|(i, (_, d))| format!("n{i}-127.0.0.1:{d}"))
        .collect::<Vec<_>>()
        .join(";");
    let mut servers = vec![ns_srv];
    let mut watched = vec![(key.to_string(), "name server".to_string(), servers[0].pid())];
    for (i, (port, _)) in ports.iter().enumerate() {
        let dir = root.join(format!("n{i}"));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join("broker.conf"),
            member_conf(
                &dir,
                &format!("Peers{key}"),
                *port,
                &ns,
                &peers,
                i,
                group.batch_push,
            ),
        )?;
        let cmd = match which {
            Impl::Ours => {
                let mut c = Command::new(bins.join("mqbroker"));
                c.arg("-c")
                    .arg(dir.join("broker.conf"))
                    .env("RUST_LOG", "info")
                    .env("NO_COLOR", "1");
                c
            }
            Impl::Java => {
                let mut c = Command::new("bash");
                c.arg(java_script())
                    .arg("run-broker")
                    .arg(&dir)
                    .env("RMQ_JAVA_HEAP", heap);
                c
            }
        };
        let (srv, _) = Server::spawn(
            &format!("{key} n{i}"),
            cmd,
            Some("boot success"),
            &dir.join("broker.log"),
            Duration::from_secs(120),
        )
        .with_context(|| format!("starting {key} member n{i}"))?;
        watched.push((key.to_string(), format!("member n{i}"), srv.pid()));
        servers.push(srv);
    }
    Ok(System {
        key: key.into(),
        ns,
        broker_addr: format!("127.0.0.1:{}", ports[0].0),
        procs: watched,
        _servers: servers,
        _java: None,
    })
}

/// A group's best round of one workload: sends/s and p99.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Result1 {
    pub tps: f64,
    pub p99_ms: f64,
}

/// One row of the DLedger comparison: a workload's best sends/s on the single broker and on
/// each group, batch push off and on.
pub struct Row {
    pub workload: String,
    pub single: Option<f64>,
    pub ours: Option<Result1>,
    pub ours_batch: Option<Result1>,
    pub java: Option<Result1>,
    pub java_batch: Option<Result1>,
}

/// The faster of a group's two settings.
fn better(a: Option<Result1>, b: Option<Result1>) -> Option<Result1> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.tps > a.tps { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "–".into(),
    }
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}"))
        .unwrap_or_else(|| "–".into())
}

/// dledger.md: sends/s of each group with batch push off and on, then ours / Java (the better
/// setting of each) and our better group / our single broker.
pub fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| workload | our single broker msg/s | our group msg/s: batch push off / on | 4.8.0 group msg/s: batch push off / on | ours / 4.8.0 (better setting of each) | our group / our single broker | p99 ms: ours / 4.8.0 |\n\
         |---|---:|---:|---:|---:|---:|---|\n",
    );
    let tps = |r: Option<Result1>| num(r.map(|r| r.tps), 0);
    for r in rows {
        let (ours, java) = (better(r.ours, r.ours_batch), better(r.java, r.java_batch));
        s.push_str(&format!(
            "| {} | {} | {} / {} | {} / {} | {} | {} | {} / {} |\n",
            r.workload,
            num(r.single, 0),
            tps(r.ours),
            tps(r.ours_batch),
            tps(r.java),
            tps(r.java_batch),
            ratio(ours.map(|r| r.tps), java.map(|r| r.tps)),
            ratio(ours.map(|r| r.tps), r.single),
            num(ours.map(|r| r.p99_ms), 2),
            num(java.map(|r| r.p99_ms), 2),
        ));
    }
    s
}

/// dledger.svg: one group of bars per workload.
pub fn chart(out: &Path, rows: &[Row]) -> Result<()> {
    let groups: Vec<String> = rows.iter().map(|r| r.workload.clone()).collect();
    let series = |name: &str, f: &dyn Fn(&Row) -> Option<f64>| Series {
        name: name.into(),
        values: rows.iter().map(|r| f(r).unwrap_or(0.0)).collect(),
    };
    let t = |r: Option<Result1>| r.map(|r| r.tps);
    grouped_bar_chart(
        &out.join("dledger.svg"),
        "DLedger groups of three vs one broker (msg/s, higher is better)",
        "messages per second",
        &groups,
        &[
            series("ours, single broker", &|r| r.single),
            series("ours, group of 3", &|r| t(r.ours)),
            series("ours, group of 3, batch push", &|r| t(r.ours_batch)),
            series("Java 4.8.0, group of 3", &|r| t(r.java)),
            series("Java 4.8.0, group of 3, batch push", &|r| t(r.java_batch)),
        ],
        &|v| format!("{v:.0}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_conf_names_itself_and_every_peer() {
        let c = member_conf(
            Path::new("/x"),
            "C",
            100,
            "127.0.0.1:9",
            "n0-a;n1-b;n2-c",
            2,
            true,
        );
        assert!(c.contains("dLegerSelfId=n2\n"));
        assert!(c.contains("dLegerPeers=n0-a;n1-b;n2-c\n"));
        assert!(c.contains("enableDLegerCommitLog=true\n"));
        assert!(c.contains("flushDiskType=ASYNC_FLUSH\n"));
        assert!(c.contains("enableBatchPush=true\n"));
    }

    #[test]
    fn the_table_divides_the_better_setting_of_each() {
        let r = |tps: f64, p99_ms: f64| Some(Result1 { tps, p99_ms });
        let t = table(&[Row {
            workload: "sync ×8, 128 B".into(),
            single: Some(20000.0),
            ours: r(8000.0, 2.0),
            ours_batch: r(10000.0, 1.5),
            java: r(2000.0, 9.0),
            java_batch: None,
        }]);
        assert!(
            t.contains("| 20000 | 8000 / 10000 | 2000 / – | 5.00 | 0.50 | 1.50 / 9.00 |"),
            "{t}"
        );
    }
}
