//! The nemeses: what the chaos experiment does to the cluster, and how it undoes it.
//!
//! Each fault is applied, held for a while (longer than the election timeout, 100 ms x 5),
//! then healed: links restored, paused servers continued, killed or crashed servers started
//! again, filler files removed. Faults aim at one DLedger group (its leader, as the name
//! servers list it when the fault starts) or at the whole cluster (halves, ring, a name server).
//!
//! Book: Part IV, "Breaking it on purpose". Named after Jepsen's nemeses.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::Serialize;

use super::cluster::{Cluster, Kind};
use super::net::Net;

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// kill -9 of the group's leader (restarted at heal).
    KillLeader,
    /// kill -9 of a random broker of the group.
    KillRandom,
    /// SIGSTOP of the leader, SIGCONT at heal.
    PauseLeader,
    /// SIGTERM of the leader (a graceful stop: it hands leadership over first).
    StopLeader,
    /// The leader cut off from the two other members of its group.
    IsolateLeader,
    /// All eight servers split into two random halves of four.
    Halves,
    /// In the group: the leader and one follower cannot talk; the third member talks to both.
    Bridge,
    /// All eight servers in a random ring: each talks only to its two neighbours.
    Ring,
    /// kill -9 of one name server.
    KillNameServer,
    /// The leader's store (a tmpfs) filled to the last byte.
    DiskFull,
}

impl FaultKind {
    /// Every kind, in the order the tables list them.
    pub const ALL: [FaultKind; 10] = [
        FaultKind::KillLeader,
        FaultKind::KillRandom,
        FaultKind::PauseLeader,
        FaultKind::StopLeader,
        FaultKind::IsolateLeader,
        FaultKind::Halves,
        FaultKind::Bridge,
        FaultKind::Ring,
        FaultKind::KillNameServer,
        FaultKind::DiskFull,
    ];

    /// The kebab-case name used in CSV files and the book.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::KillLeader => "kill-leader",
            FaultKind::KillRandom => "kill-random",
            FaultKind::PauseLeader => "pause-leader",
            FaultKind::StopLeader => "stop-leader",
            FaultKind::IsolateLeader => "isolate-leader",
            FaultKind::Halves => "halves",
            FaultKind::Bridge => "bridge",
            FaultKind::Ring => "ring",
            FaultKind::KillNameServer => "kill-nameserver",
            FaultKind::DiskFull => "disk-full",
        }
    }

    /// Whether the fault aims at one group (the others hit the whole cluster).
    pub fn per_group(self) -> bool {
        !matches!(
            self,
            FaultKind::Halves | FaultKind::Ring | FaultKind::KillNameServer
        )
    }
}

/// A fault in force: what to undo at heal.
pub struct Active {
    /// The kind.
    pub kind: FaultKind,
    /// Nodes killed, stopped or paused by it (restarted or continued at heal).
    pub victims: Vec<usize>,
    /// What was done, for the table ("b0n1 killed", "b1n0 | b1n1 b1n2").
    pub detail: String,
    filler: Option<PathBuf>,
}

/// Applies `kind` to group `g` (whose leader is `leader`, if the name servers list one).
pub fn apply(
    kind: FaultKind,
    g: usize,
    leader: Option<usize>,
    cluster: &mut Cluster,
    net: &mut Net,
    rng: &mut impl Rng,
) -> Result<Active> {
    let members = cluster.members(g);
    // Without a listed leader, aim at a random member.
    let target = leader.unwrap_or_else(|| members[rng.gen_range(0..members.len())]);
    let name = |c: &Cluster, i: usize| c.nodes[i].name.clone();
    let mut active = Active {
        kind,
        victims: Vec::new(),
        detail: String::new(),
        filler: None,
    };
    match kind {
        FaultKind::KillLeader | FaultKind::KillRandom => {
            let v = if kind == FaultKind::KillLeader {
                target
            } else {
                members[rng.gen_range(0..members.len())]
            };
            cluster.nodes[v].kill();
            active.victims.push(v);
            active.detail = format!("{} killed", name(cluster, v));
        }
        FaultKind::PauseLeader => {
            cluster.nodes[target].signal(libc::SIGSTOP)?;
            cluster.nodes[target].paused = true;
            active.victims.push(target);
            active.detail = format!("{} paused", name(cluster, target));
        }
        FaultKind::StopLeader => {
            cluster.nodes[target].signal(libc::SIGTERM)?;
            active.victims.push(target);
            active.detail = format!("{} sent SIGTERM", name(cluster, target));
        }
        FaultKind::IsolateLeader => {
            for &m in members.iter().filter(|m| **m != target) {
                let (a, b) = (
                    cluster.nodes[target].ip.clone(),
                    cluster.nodes[m].ip.clone(),
                );
                net.cut(&a, &b)?;
            }
            active.detail = format!("{} cut from its group", name(cluster, target));
        }
        FaultKind::Bridge => {
            let others: Vec<usize> = members.iter().copied().filter(|m| *m != target).collect();
            let (far, bridge) = (others[0], others[1]);
            let (a, b) = (
                cluster.nodes[target].ip.clone(),
                cluster.nodes[far].ip.clone(),
            );
            net.cut(&a, &b)?;
            active.detail = format!(
                "{} x {}, bridge {}",
                name(cluster, target),
                name(cluster, far),
                name(cluster, bridge)
            );
        }
        FaultKind::Halves => {
            let mut all: Vec<usize> = (0..cluster.nodes.len()).collect();
            all.shuffle(rng);
            let (left, right) = all.split_at(all.len() / 2);
            for &a in left {
                for &b in right {
                    let (x, y) = (cluster.nodes[a].ip.clone(), cluster.nodes[b].ip.clone());
                    net.cut(&x, &y)?;
                }
            }
            let names = |s: &[usize]| {
                let mut v: Vec<String> = s.iter().map(|i| name(cluster, *i)).collect();
                v.sort();
                v.join(" ")
            };
            active.detail = format!("{} | {}", names(left), names(right));
        }
        FaultKind::Ring => {
            let mut ring: Vec<usize> = (0..cluster.nodes.len()).collect();
            ring.shuffle(rng);
            let n = ring.len();
            for i in 0..n {
                for j in i + 1..n {
                    let adjacent = j == i + 1 || (i == 0 && j == n - 1);
                    if !adjacent {
                        let (x, y) = (
                            cluster.nodes[ring[i]].ip.clone(),
                            cluster.nodes[ring[j]].ip.clone(),
                        );
                        net.cut(&x, &y)?;
                    }
                }
            }
            active.detail = ring
                .iter()
                .map(|i| name(cluster, *i))
                .collect::<Vec<_>>()
                .join("-");
        }
        FaultKind::KillNameServer => {
            let v = rng.gen_range(0..2);
            cluster.nodes[v].kill();
            active.victims.push(v);
            active.detail = format!("{} killed", name(cluster, v));
        }
        FaultKind::DiskFull => {
            let path = cluster.nodes[target].store_dir().join("chaos-filler");
            let written = fill(&path)?;
            active.filler = Some(path);
            active.detail = format!(
                "{} store full ({} MiB filler)",
                name(cluster, target),
                written >> 20
            );
        }
    }
    Ok(active)
}

/// Writes zeros to `path` until the file system is full; returns the bytes written.
fn fill(path: &std::path::Path) -> Result<u64> {
    let mut f =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let chunk = vec![0u8; 1 << 20];
    let mut written = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(n) => written += n as u64,
            Err(_) => break,
        }
    }
    // the last partial pages
    let small = vec![0u8; 4096];
    while let Ok(n) = f.write(&small) {
        if n == 0 {
            break;
        }
        written += n as u64;
    }
    Ok(written)
}

/// Undoes `active`: links back, filler gone, paused servers continued, and every server that
/// is not running (killed, stopped, or crashed by the fault) started again.
pub fn heal(active: Active, cluster: &mut Cluster, net: &mut Net) -> Result<Vec<String>> {
    net.heal()?;
    if let Some(p) = &active.filler {
        std::fs::remove_file(p).with_context(|| format!("removing {}", p.display()))?;
    }
    let mut restarted = Vec::new();
    for i in 0..cluster.nodes.len() {
        if cluster.nodes[i].paused {
            cluster.nodes[i].signal(libc::SIGCONT)?;
            cluster.nodes[i].paused = false;
        }
    }
    // Name servers first: a restarted broker registers with them at boot.
    let mut order: Vec<usize> = (0..cluster.nodes.len()).collect();
    order.sort_by_key(|i| !matches!(cluster.nodes[*i].kind, Kind::NameServer));
    for i in order {
        if active.kind == FaultKind::StopLeader && active.victims.contains(&i) {
            // A graceful stop takes a moment: wait for the exit before starting again.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !cluster.nodes[i].exited() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            if !cluster.nodes[i].exited() {
                cluster.nodes[i].kill();
            }
        }
        if cluster.nodes[i].exited() {
            cluster.start(i)?;
            restarted.push(cluster.nodes[i].name.clone());
        }
    }
    Ok(restarted)
}
