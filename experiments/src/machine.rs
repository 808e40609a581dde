//! Facts about the machine and the source tree a measurement came from, recorded in every
//! figure folder's `meta.json` so that a chart never travels without its context.
//!
//! Linux answers from /proc, macOS from `sysctl`; a fact that cannot be read is "unknown"
//! rather than an error, because a missing CPU name must not stop an experiment.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

/// What produced the numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// The CPU model name.
    pub cpu_model: String,
    /// How many cores the process may use (0 when unknown).
    pub cores: usize,
    /// Total memory, in bytes (0 when unknown).
    pub memory_bytes: u64,
    /// The operating system, as Rust names it (`linux`, `macos`).
    pub os: String,
    /// The kernel name and release (`uname -sr`).
    pub kernel: String,
    /// The `rustc --version` line.
    pub rustc: String,
    /// 1-, 5- and 15-minute load averages when the run finished: a busy machine (other builds,
    /// other experiments) depresses every number, so charts say how busy it was.
    pub load_average: String,
    /// The commit the experiment ran from (`git rev-parse HEAD`).
    pub git_commit: String,
    /// True when the work tree had uncommitted changes at measurement time.
    pub git_dirty: bool,
}

fn run(cmd: &str, args: &[&str], dir: Option<&Path>) -> Option<String> {
    let mut c = Command::new(cmd);
    c.args(args);
    if let Some(d) = dir {
        c.current_dir(d);
    }
    let out = c.output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn cpu_model() -> Option<String> {
    if let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") {
        let from = |key: &str| {
            info.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        };
        // x86 says "model name", some ARM kernels only "Hardware" or "CPU part".
        return from("model name")
            .or_else(|| from("Hardware"))
            .or_else(|| from("CPU part"));
    }
    run("sysctl", &["-n", "machdep.cpu.brand_string"], None)
}

/// The 1-, 5- and 15-minute load averages now, e.g. `"3.10 2.75 2.01"`.
pub fn load_average() -> Option<String> {
    if let Ok(text) = std::fs::read_to_string("/proc/loadavg") {
        return Some(
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    // macOS: "{ 1.23 1.10 0.98 }"
    let s = run("sysctl", &["-n", "vm.loadavg"], None)?;
    Some(
        s.trim_matches(|c| c == '{' || c == '}' || c == ' ')
            .to_string(),
    )
}

fn memory_bytes() -> Option<u64> {
    if let Ok(info) = std::fs::read_to_string("/proc/meminfo") {
        let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        return Some(kb * 1024);
    }
    run("sysctl", &["-n", "hw.memsize"], None)?.parse().ok()
}

impl Machine {
    /// Collects the facts; `repo` is the workspace root (for the git commit).
    pub fn collect(repo: &Path) -> Machine {
        let unknown = || "unknown".to_string();
        Machine {
            cpu_model: cpu_model().unwrap_or_else(unknown),
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(0),
            memory_bytes: memory_bytes().unwrap_or(0),
            os: std::env::consts::OS.to_string(),
            kernel: run("uname", &["-sr"], None).unwrap_or_else(unknown),
            load_average: load_average().unwrap_or_else(unknown),
            rustc: run("rustc", &["--version"], None).unwrap_or_else(unknown),
            git_commit: run("git", &["rev-parse", "HEAD"], Some(repo)).unwrap_or_else(unknown),
            git_dirty: run(
                "git",
                &["status", "--porcelain", "--untracked-files=no"],
                Some(repo),
            )
            .map(|s| !s.is_empty())
            .unwrap_or(false),
        }
    }
}
