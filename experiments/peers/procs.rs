//! Processes for the Part V experiments (`vs-peers`, `footprint`): start servers and kill them
//! on drop, find the release binaries, run inside a private network namespace, and read a
//! process's memory and CPU time from `/proc`.
//!
//! Included by both binaries with `#[path = "../../peers/procs.rs"] mod procs;` (the shared
//! experiments library belongs to another part of the course). Book: Part V, "Side by side with
//! Java RocketMQ and rocketmq-rust" and "Footprint". No RocketMQ counterpart: 4.8.0 measures
//! nothing about itself beyond the `benchmark/` producer and consumer.
//!
//! Why a namespace: RocketMQ 4.8.0 (and the rocketmq-rust broker) bind the wildcard address,
//! and the workbook never listens on anything but loopback. `unshare -r -n -p -f -m --mount-proc`
//! gives the run its own network (only `lo`) and its own PID space: when the experiment exits,
//! even by Ctrl-C, the kernel ends every process it started.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

/// Set in the copy of the experiment that runs inside the namespace.
pub const NETNS_ENV: &str = "RMQ_WORKBOOK_PRIVATE_NETNS";

/// True when this process already runs in the private namespace.
pub fn inside_private_netns() -> bool {
    std::env::var_os(NETNS_ENV).is_some()
}

/// Why a private namespace cannot be made here, if it cannot.
pub fn netns_unavailable() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return Some("private network namespaces need Linux".into());
    }
    let ok = Command::new("unshare")
        .args([
            "-r",
            "-n",
            "-p",
            "-f",
            "-m",
            "--mount-proc",
            "ip",
            "link",
            "set",
            "lo",
            "up",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    (!ok).then(|| "`unshare -r -n -p -f -m --mount-proc` or `ip` is not available".into())
}

// ANCHOR: netns
/// Runs this same binary with the same arguments inside a private network + PID namespace and
/// returns its exit code. The shell stays PID 1 of the namespace, so Ctrl-C reaches the
/// experiment and, once it is gone, the kernel ends everything it started.
pub fn rerun_in_private_netns() -> Result<i32> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    run_in_private_netns(&args)
}

/// Runs this binary with `args` inside a private network + PID namespace (as
/// [`rerun_in_private_netns`]) and returns its exit code.
pub fn run_in_private_netns(args: &[std::ffi::OsString]) -> Result<i32> {
    let exe = std::env::current_exe().context("locating the experiment binary")?;
    let status = Command::new("unshare")
        .args(["-r", "-n", "-p", "-f", "-m", "--mount-proc", "--kill-child"])
        .args(["sh", "-c", "ip link set lo up && \"$0\" \"$@\""])
        .arg(exe)
        .args(args)
        .env(NETNS_ENV, "1")
        .status()
        .context("running unshare")?;
    Ok(status.code().unwrap_or(1))
}
// ANCHOR_END: netns

/// The directory holding this binary (`<target>/release`), where cargo also puts `mqbroker`.
pub fn bin_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("locating the experiment binary")?;
    exe.parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("{} has no parent directory", exe.display()))
}

/// Builds the servers, mqbench and the console (scripts/cluster.sh, used by footprint,
/// starts it with the cluster) into this binary's target directory and profile.
pub fn build_release_bins() -> Result<()> {
    eprintln!("building mqnamesrv, mqbroker, mqbench and rmq-console");
    experiments::servers::build_bins(&["rmq-namesrv", "rmq-broker", "rmq-bench", "rmq-console"])?;
    Ok(())
}

/// A started server, killed (SIGKILL) on drop unless stopped before.
pub struct Server {
    pub name: String,
    pub child: Child,
}

impl Server {
    /// Spawns `cmd` with stdout piped and waits up to `within` for a line containing `needle`
    /// (no waiting when None); returns the server and that line. Stdout goes on into `log`,
    /// stderr into `log` with the extension `.err`.
    pub fn spawn(
        name: &str,
        mut cmd: Command,
        needle: Option<&str>,
        log: &Path,
        within: Duration,
    ) -> Result<(Server, String)> {
        let err_log = std::fs::File::create(log.with_extension("err"))
            .with_context(|| format!("creating {}", log.display()))?;
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::from(err_log))
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("{name}: no stdout"))?;
        let mut out =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let (tx, rx) = mpsc::channel();
        let wanted = needle.map(str::to_string);
        std::thread::spawn(move || {
            use std::io::Write;
            for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
                let _ = writeln!(out, "{line}");
                if wanted.as_ref().is_some_and(|w| line.contains(w.as_str())) {
                    let _ = tx.send(line);
                }
            }
        });
        let mut server = Server {
            name: name.to_string(),
            child,
        };
        let Some(needle) = needle else {
            return Ok((server, String::new()));
        };
        let deadline = Instant::now() + within;
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => return Ok((server, line)),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    bail!(
                        "{name} closed its output before {needle:?}; see {}",
                        log.display()
                    )
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                bail!(
                    "{name} exited ({status}) during start-up; see {}",
                    log.display()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{name} did not print {needle:?} within {within:?}; see {}",
                    log.display()
                );
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then SIGKILL after `grace`.
    pub fn stop(&mut self, grace: Duration) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until something accepts connections on 127.0.0.1:port.
pub fn wait_port(server: &mut Server, port: u16, within: Duration) -> Result<()> {
    let deadline = Instant::now() + within;
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(s)) = server.child.try_wait() {
            bail!("{} exited ({s}) during start-up", server.name);
        }
        if Instant::now() > deadline {
            bail!("{} did not listen on {port} within {within:?}", server.name);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A 127.0.0.1 port `p` with `p - 2` (the broker's VIP channel) and `p + 1` (HA) free too.
pub fn free_broker_port() -> Result<u16> {
    for _ in 0..1000 {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        let p = l.local_addr()?.port();
        if p > 1100
            && p < 65000
            && std::net::TcpListener::bind(("127.0.0.1", p - 2)).is_ok()
            && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok()
        {
            return Ok(p);
        }
    }
    bail!("no free port triple on 127.0.0.1")
}

/// One reading of a process from /proc.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    pub rss_kib: u64,
    pub rss_anon_kib: u64,
    pub rss_file_kib: u64,
    /// Peak resident set size so far.
    pub hwm_kib: u64,
    pub threads: u64,
    /// utime + stime in clock ticks.
    pub cpu_ticks: u64,
    /// Context switches of all live threads (voluntary + involuntary): how often it woke up.
    pub ctxt_switches: u64,
}

fn status_kib(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

// ANCHOR: sample
/// Reads /proc/<pid>/status and /proc/<pid>/stat; None once the process is gone.
pub fn sample(pid: u32) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Some(ProcSample {
        rss_kib: status_kib(&status, "VmRSS:"),
        rss_anon_kib: status_kib(&status, "RssAnon:"),
        rss_file_kib: status_kib(&status, "RssFile:") + status_kib(&status, "RssShmem:"),
        hwm_kib: status_kib(&status, "VmHWM:"),
        threads: status_kib(&status, "Threads:"),
        cpu_ticks: tick(11) + tick(12),
        ctxt_switches: ctxt_switches(pid),
    })
}

/// Sums `voluntary_ctxt_switches` + `nonvoluntary_ctxt_switches` over /proc/<pid>/task/*.
fn ctxt_switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .map(|st| {
            status_kib(&st, "voluntary_ctxt_switches:")
                + status_kib(&st, "nonvoluntary_ctxt_switches:")
        })
        .sum()
}
// ANCHOR_END: sample

/// Clock ticks per second (`getconf CLK_TCK`, 100 on every common Linux).
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// What one process used over an observation window.
#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    pub system: String,
    pub process: String,
    pub pid: u32,
    pub seconds: f64,
    pub rss_mib_mean: f64,
    pub rss_mib_max: f64,
    pub rss_anon_mib: f64,
    pub rss_file_mib: f64,
    pub peak_rss_mib: f64,
    pub threads: u64,
    /// CPU time over wall time, in percent of one core.
    pub cpu_pct: f64,
    /// Context switches per second (threads that ended during the window are not counted).
    pub wakeups_per_s: f64,
}

/// A process to watch: (system, process name, pid).
pub type Watched = (String, String, u32);

/// Samples every process once a second for `window` and returns its memory and CPU use.
/// `tick` is called once a second (progress bars).
pub fn observe(procs: &[Watched], window: Duration, mut tick: impl FnMut()) -> Vec<Usage> {
    let hz = clock_ticks();
    let mib = |kib: u64| kib as f64 / 1024.0;
    let first: Vec<Option<ProcSample>> = procs.iter().map(|p| sample(p.2)).collect();
    let start = Instant::now();
    let mut rss: Vec<Vec<u64>> = vec![Vec::new(); procs.len()];
    let mut last: Vec<Option<ProcSample>> = first.clone();
    while start.elapsed() < window {
        std::thread::sleep(Duration::from_secs(1).min(window.saturating_sub(start.elapsed())));
        for (i, p) in procs.iter().enumerate() {
            if let Some(s) = sample(p.2) {
                rss[i].push(s.rss_kib);
                last[i] = Some(s);
            }
        }
        tick();
    }
    let secs = start.elapsed().as_secs_f64();
    procs
        .iter()
        .enumerate()
        .map(|(i, (system, process, pid))| {
            let (a, b) = (first[i].unwrap_or_default(), last[i].unwrap_or_default());
            let n = rss[i].len().max(1) as f64;
            Usage {
                system: system.clone(),
                process: process.clone(),
                pid: *pid,
                seconds: secs,
                rss_mib_mean: rss[i].iter().map(|k| mib(*k)).sum::<f64>() / n,
                rss_mib_max: mib(rss[i].iter().copied().max().unwrap_or(0)),
                rss_anon_mib: mib(b.rss_anon_kib),
                rss_file_mib: mib(b.rss_file_kib),
                peak_rss_mib: mib(b.hwm_kib),
                threads: b.threads,
                cpu_pct: (b.cpu_ticks.saturating_sub(a.cpu_ticks)) as f64 / hz / secs * 100.0,
                wakeups_per_s: b.ctxt_switches.saturating_sub(a.ctxt_switches) as f64 / secs,
            }
        })
        .collect()
}

/// CPU seconds a set of processes used between two samples.
pub fn cpu_seconds(before: &[Option<ProcSample>], after: &[Option<ProcSample>]) -> f64 {
    let hz = clock_ticks();
    before
        .iter()
        .zip(after)
        .map(|(a, b)| match (a, b) {
            (Some(a), Some(b)) => b.cpu_ticks.saturating_sub(a.cpu_ticks) as f64 / hz,
            _ => 0.0,
        })
        .sum()
}

/// `$HOME/.cache/rmq-workbook`, where the Java jars and the rocketmq-rust build live.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(".cache/rmq-workbook")
}
