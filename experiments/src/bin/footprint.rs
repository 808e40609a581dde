//! Experiment `footprint`: what the whole local cluster costs while it does nothing — two
//! `mqnamesrv`, six `mqbroker` (two DLedger groups of three, as `conf/` and the original
//! docker-compose setup describe) and the web console — next to the `docker stats` figures published with that
//! setup for RocketMQ 4.8.0 (about 410 MiB and 31–35 % CPU per broker, about 190 MiB per name
//! server).
//!
//! `cargo run --release -p experiments --bin footprint -- [--quick]`: starts the cluster with
//! `scripts/cluster.sh` (its own `RUN_DIR` in a temporary directory, `BIN_DIR` = the release
//! binaries) inside a private network and PID namespace (see `peers/procs.rs`; the ports are the
//! fixed ones of `conf/`, so the run never collides with a `make run` cluster), waits for the
//! DLedger elections to settle, samples VmRSS and utime+stime of every node for 30 s (`--quick`:
//! 5 s, results in `book/src/figures/footprint/quick/`), and writes a chart and a table.
//! Book: Part V, "Footprint". Mirrors no 4.8.0 class; the comparison is with 4.8.0's docker image.

#[path = "../../peers/procs.rs"]
mod procs;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde::Serialize;

use experiments::chart::{grouped_bar_chart, Series};
use experiments::{
    figures_dir, progress_bar, workspace_root, write_csv, write_json, write_meta, QuickArgs,
};
use procs::{Usage, Watched};

const EXPERIMENT: &str = "footprint";

/// `docker stats --no-stream` of the original setup (RocketMQ 4.8.0 image, two name servers,
/// six DLedger brokers, rocketmq-console 2.0.0; containers limited to 256 MiB / 512 MiB), as
/// published with it:
/// (node, CPU % of one core, memory MiB, PIDs).
// ANCHOR: docker
const DOCKER_4_8_0: [(&str, f64, f64, u64); 9] = [
    ("rocketmq-console", 0.20, 247.2, 36),
    ("nameserver-01", 0.42, 183.2, 41),
    ("nameserver-02", 0.22, 193.6, 41),
    ("broker-01", 31.59, 410.0, 162),
    ("broker-02", 31.09, 405.4, 161),
    ("broker-03", 33.67, 421.7, 223),
    ("broker-04", 31.62, 401.7, 159),
    ("broker-05", 31.21, 405.7, 161),
    ("broker-06", 35.09, 419.7, 222),
];
// ANCHOR_END: docker

#[derive(Parser)]
#[command(
    about = "Idle memory and CPU of the full local cluster, next to the original docker setup"
)]
struct Cli {
    #[command(flatten)]
    quick: QuickArgs,
}

#[derive(Serialize)]
struct Params {
    mode: &'static str,
    settle_s: u64,
    window_s: u64,
    layout: &'static str,
    docker_source: &'static str,
}

#[derive(Serialize)]
struct Row {
    node: String,
    ours: Usage,
    docker_cpu_pct: f64,
    docker_mem_mib: f64,
    docker_pids: u64,
}

/// Runs scripts/cluster.sh with our RUN_DIR and BIN_DIR.
fn cluster(run_dir: &Path, args: &[&str]) -> Result<()> {
    let status = Command::new("bash")
        .arg(workspace_root().join("scripts/cluster.sh"))
        .args(args)
        .env("RUN_DIR", run_dir)
        .env("BIN_DIR", procs::bin_dir()?)
        .status()
        .context("running scripts/cluster.sh")?;
    if !status.success() {
        bail!("scripts/cluster.sh {} failed", args.join(" "));
    }
    Ok(())
}

/// Stops the cluster when dropped (also on errors).
struct Running<'a>(&'a Path);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let _ = cluster(self.0, &["stop"]);
    }
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if !procs::inside_private_netns() {
        procs::build_release_bins()?;
        if let Some(reason) = procs::netns_unavailable() {
            // Our servers bind 127.0.0.1 only, so they may run in the shared namespace; only the
            // fixed ports of conf/ may collide with a running `make run`.
            eprintln!("footprint: {reason}; running in the shared network namespace");
            return run(&cli);
        }
        std::process::exit(procs::rerun_in_private_netns()?);
    }
    run(&cli)
}

fn run(cli: &Cli) -> Result<()> {
    let started = Instant::now();
    let q = cli.quick;
    let params = Params {
        mode: q.mode(),
        settle_s: q.pick(3, 15),
        window_s: q.pick(5, 30),
        layout: "conf/cluster.layout, profile full",
        docker_source: "docker stats --no-stream of the original 4.8.0 docker-compose setup (seed notes, 'Broker' chapter)",
    };
    let out = figures_dir(if q.quick {
        "footprint/quick"
    } else {
        EXPERIMENT
    })?;
    let run_dir = tempfile::Builder::new()
        .prefix("rmq-footprint.")
        .tempdir()?;
    eprintln!(
        "starting 2 name servers + 6 brokers + the console (RUN_DIR={})",
        run_dir.path().display()
    );
    let guard = Running(run_dir.path());
    cluster(run_dir.path(), &["start", "full"])?;
    let mut watched: Vec<Watched> = Vec::new();
    for (node, ..) in DOCKER_4_8_0 {
        let pid_file = run_dir.path().join(node).join("pid");
        let pid: u32 = std::fs::read_to_string(&pid_file)
            .with_context(|| format!("reading {}", pid_file.display()))?
            .trim()
            .parse()
            .with_context(|| format!("parsing {}", pid_file.display()))?;
        watched.push(("ours".into(), node.to_string(), pid));
    }
    let bar = progress_bar(params.settle_s, "elections settle");
    for _ in 0..params.settle_s {
        std::thread::sleep(Duration::from_secs(1));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let bar = progress_bar(params.window_s, "idle sampling");
    let usage = procs::observe(&watched, Duration::from_secs(params.window_s), || {
        bar.inc(1)
    });
    bar.finish_and_clear();
    let gone: Vec<&str> = usage
        .iter()
        .filter(|u| u.rss_mib_mean == 0.0)
        .map(|u| u.process.as_str())
        .collect();
    drop(guard);
    if !gone.is_empty() {
        bail!("nodes exited during the measurement: {gone:?}");
    }

    let rows: Vec<Row> = usage
        .into_iter()
        .zip(DOCKER_4_8_0)
        .map(|(u, (node, cpu, mem, pids))| Row {
            node: node.to_string(),
            ours: u,
            docker_cpu_pct: cpu,
            docker_mem_mib: mem,
            docker_pids: pids,
        })
        .collect();
    write_outputs(&out, &params, &rows)?;
    write_meta(&out, EXPERIMENT, q.mode(), started.elapsed(), &params)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

fn write_outputs(out: &Path, params: &Params, rows: &[Row]) -> Result<()> {
    let csv: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.node.clone(),
                format!("{:.1}", r.ours.rss_mib_mean),
                format!("{:.1}", r.ours.rss_anon_mib),
                format!("{:.1}", r.ours.rss_file_mib),
                format!("{:.2}", r.ours.cpu_pct),
                format!("{:.0}", r.ours.wakeups_per_s),
                r.ours.threads.to_string(),
                format!("{:.1}", r.docker_mem_mib),
                format!("{:.2}", r.docker_cpu_pct),
                r.docker_pids.to_string(),
            ]
        })
        .collect();
    write_csv(
        &out.join("footprint.csv"),
        &[
            "node",
            "rss_mib",
            "rss_anon_mib",
            "rss_file_mib",
            "cpu_pct",
            "wakeups_per_s",
            "threads",
            "docker_mem_mib",
            "docker_cpu_pct",
            "docker_pids",
        ],
        &csv,
    )?;
    write_json(&out.join("footprint.json"), &rows)?;

    let groups: Vec<String> = rows
        .iter()
        .map(|r| r.node.replace("nameserver", "ns"))
        .collect();
    grouped_bar_chart(
        &out.join("memory.svg"),
        "Idle memory per node (MiB, lower is better)",
        "MiB",
        &groups,
        &[
            Series {
                name: "ours (RSS)".into(),
                values: rows.iter().map(|r| r.ours.rss_mib_mean).collect(),
            },
            Series {
                name: "4.8.0 in docker (published)".into(),
                values: rows.iter().map(|r| r.docker_mem_mib).collect(),
            },
        ],
        &|v| format!("{v:.0}"),
    )?;
    grouped_bar_chart(
        &out.join("cpu.svg"),
        &format!(
            "Idle CPU per node over {} s (% of one core, lower is better)",
            params.window_s
        ),
        "% of one core",
        &groups,
        &[
            Series {
                name: "ours".into(),
                values: rows.iter().map(|r| r.ours.cpu_pct).collect(),
            },
            Series {
                name: "4.8.0 in docker (published)".into(),
                values: rows.iter().map(|r| r.docker_cpu_pct).collect(),
            },
        ],
        &|v| format!("{v:.1}"),
    )?;

    let sum = |f: &dyn Fn(&Row) -> f64| rows.iter().map(f).sum::<f64>();
    let ratio = |a: f64, b: f64| {
        if b > 0.0 {
            format!("{:.3}", a / b)
        } else {
            "–".into()
        }
    };
    let mut md = String::from(
        "| node | ours RSS MiB (anon + file) | 4.8.0 docker MiB | ratio | ours CPU % | 4.8.0 docker CPU % | ours wake-ups/s | ours threads | docker PIDs |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        md.push_str(&format!(
            "| {} | {:.1} ({:.1} + {:.1}) | {:.1} | {} | {:.2} | {:.2} | {:.0} | {} | {} |\n",
            r.node,
            r.ours.rss_mib_mean,
            r.ours.rss_anon_mib,
            r.ours.rss_file_mib,
            r.docker_mem_mib,
            ratio(r.ours.rss_mib_mean, r.docker_mem_mib),
            r.ours.cpu_pct,
            r.docker_cpu_pct,
            r.ours.wakeups_per_s,
            r.ours.threads,
            r.docker_pids
        ));
    }
    let (ours_mem, docker_mem) = (sum(&|r| r.ours.rss_mib_mean), sum(&|r| r.docker_mem_mib));
    let (ours_cpu, docker_cpu) = (sum(&|r| r.ours.cpu_pct), sum(&|r| r.docker_cpu_pct));
    md.push_str(&format!(
        "| **whole cluster** | **{ours_mem:.0}** | **{docker_mem:.0}** | **{}** | **{ours_cpu:.2}** | **{docker_cpu:.1}** | **{:.0}** | | |\n",
        ratio(ours_mem, docker_mem),
        sum(&|r| r.ours.wakeups_per_s)
    ));
    std::fs::write(out.join("footprint.md"), md)?;
    println!(
        "whole cluster idle: ours {ours_mem:.0} MiB, {ours_cpu:.2} % CPU; 4.8.0 in docker (published) {docker_mem:.0} MiB, {docker_cpu:.1} % CPU"
    );
    Ok(())
}
