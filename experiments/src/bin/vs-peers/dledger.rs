//! The DLedger part of vs-peers: a group of three of our brokers and a group of three real
//! RocketMQ 4.8.0 brokers (DLedger 0.2.2 inside), each with its own name server, loaded by
//! the same mqbench workloads as the single brokers, in the same run.
//!
//! Equal durability: both groups run `enableDLegerCommitLog=true` with `flushDiskType=
//! ASYNC_FLUSH`, so a send is acknowledged once two of the three members hold the entry (in
//! their page cache); no member fsyncs before the answer. Equal settings: both run
//! `enableBatchPush=true` (a 4.8.0 key, passed to DLedger 0.2.2), so a leader pushes up to
//! 4 KiB of entries per request to a follower. Book: Part V, "Side by side with
//! Java RocketMQ and rocketmq-rust" (section "DLedger groups side by side"). Mirrors
//! 4.8.0's DLedger deployment (`conf/dledger/broker-n0.conf`).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::procs::{self, Server};
use crate::systems::{java_script, System};
use experiments::chart::{grouped_bar_chart, Series};

/// The keys of the two groups in tables and charts.
pub const OURS_GROUP: &str = "ours-dledger";
pub const JAVA_GROUP: &str = "java-dledger";

/// Which implementation a group runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    Ours,
    Java,
}

// ANCHOR: member-conf
/// broker.conf of member `i` of a three-member group (`peers` = the dLegerPeers string).
fn member_conf(dir: &Path, cluster: &str, port: u16, ns: &str, peers: &str, i: usize) -> String {
    let store = dir.join("store");
    format!(
        "brokerClusterName={cluster}\nbrokerName=RaftNode00\nlistenPort={port}\n\
         namesrvAddr={ns}\nbrokerIP1=127.0.0.1\nstorePathRootDir={}\n\
         storePathCommitLog={}\nenableDLegerCommitLog=true\ndLegerGroup=RaftNode00\n\
         dLegerPeers={peers}\ndLegerSelfId=n{i}\nflushDiskType=ASYNC_FLUSH\n\
         enableBatchPush=true\n\
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
pub fn start_group(work: &Path, which: Impl, heap: &str) -> Result<System> {
    let key = match which {
        Impl::Ours => OURS_GROUP,
        Impl::Java => JAVA_GROUP,
    };
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
            member_conf(&dir, &format!("Peers{key}"), *port, &ns, &peers, i),
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

/// One row of the DLedger comparison: a workload's best sends/s on the single broker and on
/// both groups.
pub struct Row {
    pub workload: String,
    pub single: Option<f64>,
    pub ours: Option<f64>,
    pub java: Option<f64>,
    pub ours_p99_ms: Option<f64>,
    pub java_p99_ms: Option<f64>,
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

/// dledger.md: sends/s of each group, ours / Java, and our group / our single broker.
pub fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| workload | our single broker msg/s | our DLedger group msg/s | 4.8.0 DLedger group msg/s | ours / 4.8.0 (groups) | our group / our single broker | p99 ms: ours / 4.8.0 |\n\
         |---|---:|---:|---:|---:|---:|---|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} / {} |\n",
            r.workload,
            num(r.single, 0),
            num(r.ours, 0),
            num(r.java, 0),
            ratio(r.ours, r.java),
            ratio(r.ours, r.single),
            num(r.ours_p99_ms, 2),
            num(r.java_p99_ms, 2),
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
    grouped_bar_chart(
        &out.join("dledger.svg"),
        "DLedger groups of three vs one broker (msg/s, higher is better)",
        "messages per second",
        &groups,
        &[
            series("ours, single broker", &|r| r.single),
            series("ours, DLedger group of 3", &|r| r.ours),
            series("Java 4.8.0, DLedger group of 3", &|r| r.java),
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
        );
        assert!(c.contains("dLegerSelfId=n2\n"));
        assert!(c.contains("dLegerPeers=n0-a;n1-b;n2-c\n"));
        assert!(c.contains("enableDLegerCommitLog=true\n"));
        assert!(c.contains("flushDiskType=ASYNC_FLUSH\n"));
    }

    #[test]
    fn the_table_divides_our_group_by_java_and_by_our_single_broker() {
        let t = table(&[Row {
            workload: "sync ×8, 128 B".into(),
            single: Some(20000.0),
            ours: Some(10000.0),
            java: Some(2000.0),
            ours_p99_ms: Some(1.5),
            java_p99_ms: None,
        }]);
        assert!(
            t.contains("| 20000 | 10000 | 2000 | 5.00 | 0.50 | 1.50 / – |"),
            "{t}"
        );
    }
}
