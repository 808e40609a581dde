//! The chaos experiment's network: one network namespace per server, joined by a bridge, all
//! inside the private user + network + mount namespace the experiment re-runs itself in (see
//! `peers/procs.rs`). Nothing here is visible from, or reachable by, the rest of the machine.
//!
//! ```text
//!   experiment (clients)  127.0.1.254 on br0
//!        |  br0 (bridge)
//!        +-- veth -- [ns-1: 127.0.1.1 name server 1]   [ns-11: 127.0.1.11 broker n0 of RaftNode00]
//!        +-- veth -- [ns-2: 127.0.1.2 name server 2]   ...  [ns-23: 127.0.1.23 broker n2 of RaftNode01]
//! ```
//!
//! Addresses are loopback addresses (127.0.1.0/24, with `route_localnet` so the kernel routes
//! them over the veths), so the rule "bind nothing but 127.0.0.0/8" holds even inside the
//! private namespaces. A link between two servers is cut with a `blackhole` route to the
//! other's address in each of the two namespaces: packets are dropped where they are sent,
//! so established connections stall and new ones fail, while every other link stays up.
//! (`tc` filters would do it at the bridge, but their drop action is a kernel module an
//! unprivileged user namespace cannot load; `iptables` is not installed.)
//!
//! Book: Part IV, "Breaking it on purpose". No RocketMQ counterpart (OpenMessaging-Chaos and
//! Jepsen do this with iptables on real machines).

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// The bridge's address: where the experiment's clients live.
pub const CLIENT_ADDR: &str = "127.0.1.254";

/// Runs `ip` with `args` (in the namespace `ns` when given) and fails with its stderr.
pub fn ip(ns: Option<&str>, args: &[&str]) -> Result<()> {
    let mut cmd = Command::new("ip");
    if let Some(ns) = ns {
        cmd.args(["netns", "exec", ns, "ip"]);
    }
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running ip")?;
    if !out.status.success() {
        bail!(
            "ip {}{}: {}",
            ns.map(|n| format!("(in {n}) ")).unwrap_or_default(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn sysctl(ns: Option<&str>, key: &str) -> Result<()> {
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    match ns {
        None => std::fs::write(&path, "1").with_context(|| format!("writing {path}")),
        Some(ns) => {
            let ok = Command::new("ip")
                .args(["netns", "exec", ns, "sh", "-c", &format!("echo 1 > {path}")])
                .status()
                .context("running ip netns exec")?
                .success();
            if !ok {
                bail!("setting {key} in {ns}");
            }
            Ok(())
        }
    }
}

/// The private network: a bridge and one namespace per server.
pub struct Net {
    /// Namespace names, in creation order.
    nodes: Vec<(String, String)>,
    /// Links cut now, as (lower address, higher address).
    cut: BTreeSet<(String, String)>,
}

impl Net {
    /// Creates the bridge in the experiment's own (private) namespace. Must run inside the
    /// private user + network + mount namespace.
    pub fn create() -> Result<Net> {
        // `ip netns add` keeps its handles under /run/netns: a tmpfs of our own there.
        std::fs::create_dir_all("/run/netns").ok();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "tmpfs", "/run/netns"])
            .status()
            .context("mounting /run/netns")?
            .success();
        if !ok {
            bail!("cannot mount a tmpfs on /run/netns (no private mount namespace?)");
        }
        sysctl(None, "net.ipv4.conf.all.route_localnet")?;
        // 127.0.0.0/8 is local to `lo` by default; keep only 127.0.0.1 there, so 127.0.1.x
        // goes out over the bridge.
        ip(
            None,
            &[
                "route",
                "del",
                "local",
                "127.0.0.0/8",
                "dev",
                "lo",
                "table",
                "local",
            ],
        )?;
        ip(
            None,
            &[
                "route",
                "replace",
                "local",
                "127.0.0.1",
                "dev",
                "lo",
                "table",
                "local",
            ],
        )?;
        ip(None, &["link", "add", "br0", "type", "bridge"])?;
        ip(
            None,
            &["addr", "add", &format!("{CLIENT_ADDR}/24"), "dev", "br0"],
        )?;
        ip(None, &["link", "set", "br0", "up"])?;
        sysctl(None, "net.ipv4.conf.br0.route_localnet")?;
        Ok(Net {
            nodes: Vec::new(),
            cut: BTreeSet::new(),
        })
    }

    /// Adds namespace `ns` holding `addr` on a veth plugged into the bridge.
    pub fn add_node(&mut self, ns: &str, addr: &str) -> Result<()> {
        let veth = format!("v{}", self.nodes.len());
        ip(None, &["netns", "add", ns])?;
        ip(
            None,
            &[
                "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", ns,
            ],
        )?;
        ip(None, &["link", "set", &veth, "master", "br0", "up"])?;
        ip(Some(ns), &["link", "set", "lo", "up"])?;
        sysctl(Some(ns), "net.ipv4.conf.all.route_localnet")?;
        sysctl(Some(ns), "net.ipv4.conf.eth0.route_localnet")?;
        ip(
            Some(ns),
            &["addr", "add", &format!("{addr}/24"), "dev", "eth0"],
        )?;
        ip(Some(ns), &["link", "set", "eth0", "up"])?;
        self.nodes.push((ns.to_string(), addr.to_string()));
        Ok(())
    }

    fn ns_of(&self, addr: &str) -> Result<&str> {
        self.nodes
            .iter()
            .find(|(_, a)| a == addr)
            .map(|(n, _)| n.as_str())
            .with_context(|| format!("no namespace holds {addr}"))
    }

    fn key(a: &str, b: &str) -> (String, String) {
        if a <= b {
            (a.to_string(), b.to_string())
        } else {
            (b.to_string(), a.to_string())
        }
    }

    // ANCHOR: cut
    /// Cuts the link between the servers at `a` and `b` (both directions).
    pub fn cut(&mut self, a: &str, b: &str) -> Result<()> {
        if a == b || !self.cut.insert(Self::key(a, b)) {
            return Ok(());
        }
        ip(
            Some(self.ns_of(a)?),
            &["route", "add", "blackhole", &format!("{b}/32")],
        )?;
        ip(
            Some(self.ns_of(b)?),
            &["route", "add", "blackhole", &format!("{a}/32")],
        )?;
        Ok(())
    }
    // ANCHOR_END: cut

    /// Restores every cut link.
    pub fn heal(&mut self) -> Result<()> {
        for (a, b) in std::mem::take(&mut self.cut) {
            ip(
                Some(self.ns_of(&a)?),
                &["route", "del", "blackhole", &format!("{b}/32")],
            )?;
            ip(
                Some(self.ns_of(&b)?),
                &["route", "del", "blackhole", &format!("{a}/32")],
            )?;
        }
        Ok(())
    }
}
