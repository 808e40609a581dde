//! Experiment `vs-kafka`: one commit log for every queue (RocketMQ's design) next to one log
//! per partition (Kafka's design), as the number of queues grows. Two levels:
//!
//! * whole brokers (`brokers`, module `brokers` beside this file): a real Apache Kafka 4.1.1
//!   (KRaft, one node, its own ProducerPerformance / ConsumerPerformance), our mqbroker and the
//!   real RocketMQ 4.8.0 broker (mqbench), produce and consume, page cache and fsync per ack;
//! * the two log layouts in one process (`appends`, `reads`, `zero-copy`: rmq-store next to
//!   rmq-kafkalog, a Kafka-style log of our own, in `experiments::vs_kafka`): appends, reads
//!   (tail and backlog, page cache and cold) and delivery to a socket (copy vs `sendfile`).
//!
//! The brokers workload runs in a private network namespace (RocketMQ 4.8.0 binds the wildcard
//! address; see `peers/procs.rs`) and writes its own metadata, `meta-brokers.json`. `--quick`
//! measures one point (8 partitions, page cache) with our broker and Kafka only.
//!
//! Output: `book/src/figures/vs-kafka/` (CSV, JSON and SVG per workload, and `meta.json`).
//! A full run of some workloads (`--only reads,zero-copy`) replaces only their files and
//! writes its metadata to `meta-<workloads>.json` (here `meta-reads-zero-copy.json`), so each
//! figure names the run it came from. `--quick` (CI) writes under
//! `target/experiments/quick/vs-kafka/` and leaves the book alone. Book: Part V "RocketMQ vs
//! Kafka: one log or many".

#[path = "vs-kafka/brokers.rs"]
mod brokers;
#[path = "vs-kafka/kafka.rs"]
mod kafka;
#[path = "../../peers/procs.rs"]
mod procs;
#[path = "../../peers/systems.rs"]
mod systems;

use std::ffi::OsString;
use std::time::Instant;

use anyhow::Result;
use clap::{Parser, ValueEnum};
use serde::Serialize;

use experiments::machine::load_average;
use experiments::vs_kafka::appends::{self, AppendParams};
use experiments::vs_kafka::reads::{self, ReadParams};
use experiments::vs_kafka::zero_copy::{self, ZeroCopyParams};
use experiments::vs_kafka::SideConfig;
use experiments::{figures_dir_for, progress_bar, workspace_root, write_meta_as, QuickArgs};

const EXPERIMENT: &str = "vs-kafka";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Workload {
    Brokers,
    Appends,
    Reads,
    ZeroCopy,
}

#[derive(Parser)]
#[command(
    about = "RocketMQ vs Kafka: real brokers (Kafka 4.1.1, ours, RocketMQ 4.8.0), and one commit log (rmq-store) vs one log per partition (rmq-kafkalog)"
)]
struct Cli {
    #[command(flatten)]
    quick: QuickArgs,
    /// Run only these workloads (comma-separated). In full mode their files in the book are
    /// replaced and the metadata goes to meta-<workloads>.json; the other workloads' files stay.
    #[arg(long, value_delimiter = ',')]
    only: Vec<Workload>,
}

/// The machine's load average before and after one workload (meta.json keeps them: a busy
/// machine depresses every number).
#[derive(Serialize)]
struct Load {
    workload: Workload,
    before: String,
    after: String,
}

#[derive(Serialize)]
struct Params {
    workloads: Vec<Workload>,
    load_average: Vec<Load>,
    sides: SideConfig,
    appends: AppendParams,
    reads: ReadParams,
    zero_copy: ZeroCopyParams,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let started = Instant::now();
    let q = cli.quick;
    let workloads = if cli.only.is_empty() {
        vec![
            Workload::Brokers,
            Workload::Appends,
            Workload::Reads,
            Workload::ZeroCopy,
        ]
    } else {
        cli.only.clone()
    };
    if workloads.contains(&Workload::Brokers) {
        brokers_workload(q)?;
    }
    let workloads: Vec<Workload> = workloads
        .into_iter()
        .filter(|w| *w != Workload::Brokers)
        .collect();
    if workloads.is_empty() {
        return Ok(());
    }
    let mut p = Params {
        workloads: workloads.clone(),
        load_average: Vec::new(),
        sides: SideConfig {
            body_bytes: 1024,
            commit_log_file_bytes: q.pick(64 << 20, 256 << 20),
            kafka_segment_bytes: q.pick(64 << 20, 256 << 20),
            kafka_index_interval_bytes: 4096,
        },
        appends: AppendParams::new(q),
        reads: ReadParams::new(q),
        zero_copy: ZeroCopyParams::new(q),
    };
    let out = figures_dir_for(EXPERIMENT, q.quick)?;
    let meta_file = if cli.only.is_empty() {
        "meta.json".to_string()
    } else {
        meta_file_name(&workloads)
    };
    let scratch = workspace_root().join("target/experiments").join(EXPERIMENT);
    std::fs::create_dir_all(&scratch)?;
    let tmp = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&scratch)?;

    let load = || load_average().unwrap_or_else(|| "unknown".into());
    for w in workloads.iter().copied() {
        let before = load();
        match w {
            Workload::Brokers => {}
            Workload::Appends => {
                let bar = progress_bar(appends::run_count(&p.appends) as u64, "appends");
                let runs = appends::measure(tmp.path(), &p.sides, &p.appends, &|| bar.inc(1))?;
                bar.finish_and_clear();
                appends::report(&out, &p.appends, &runs)?;
            }
            Workload::Reads => {
                let bar = progress_bar(reads::run_count(&p.reads) as u64, "reads");
                let runs = reads::measure(tmp.path(), &p.sides, &p.reads, &|| bar.inc(1))?;
                bar.finish_and_clear();
                reads::report(&out, &p.reads, &runs)?;
            }
            Workload::ZeroCopy => {
                let bar = progress_bar(zero_copy::run_count(&p.zero_copy) as u64, "zero copy");
                let runs = zero_copy::measure(tmp.path(), &p.sides, &p.zero_copy, &|| bar.inc(1))?;
                bar.finish_and_clear();
                zero_copy::report(&out, &p.zero_copy, &runs)?;
            }
        }
        p.load_average.push(Load {
            workload: w,
            before,
            after: load(),
        });
    }
    write_meta_as(
        &out,
        &meta_file,
        EXPERIMENT,
        q.mode(),
        started.elapsed(),
        &p,
    )?;
    println!("figures written to {}", out.display());
    Ok(())
}

/// The `brokers` workload. Outside the private namespace: builds the servers, fetches the Kafka
/// (and, in full mode, the Java 4.8.0) jars, then runs `--only brokers` again inside a namespace
/// so that 4.8.0 can take part; `--quick` (ours and Kafka only, both bind 127.0.0.1) runs here.
fn brokers_workload(q: QuickArgs) -> Result<()> {
    let inside = procs::inside_private_netns();
    if !inside {
        procs::build_release_bins()?;
        if !kafka::fetch() {
            anyhow::bail!(
                "the Kafka 4.1.1 jars could not be fetched (`make kafka-jars`; needs mvn)"
            );
        }
        if !q.quick {
            if let Some(reason) = procs::netns_unavailable() {
                eprintln!(
                    "vs-kafka: {reason}; RocketMQ 4.8.0 binds all interfaces, so it is left out"
                );
            } else if systems::fetch_java() {
                let args: Vec<OsString> = vec!["--only".into(), "brokers".into()];
                let code = procs::run_in_private_netns(&args)?;
                anyhow::ensure!(code == 0, "the brokers workload failed (exit {code})");
                return Ok(());
            } else {
                eprintln!("vs-kafka: the Java 4.8.0 jars could not be fetched; RocketMQ 4.8.0 is left out");
            }
        }
    }
    let started = Instant::now();
    let out = figures_dir_for(EXPERIMENT, q.quick)?;
    let scratch = workspace_root().join("target/experiments").join(EXPERIMENT);
    std::fs::create_dir_all(&scratch)?;
    let tmp = tempfile::Builder::new()
        .prefix("brokers-")
        .tempdir_in(&scratch)?;
    let java = inside && !q.quick;
    let mut p = brokers::BrokersParams::new(q);
    let bar = progress_bar(
        brokers::run_count(&p, if java { 2 } else { 1 }) as u64,
        "brokers",
    );
    let points = brokers::measure(tmp.path(), &mut p, java, &|| bar.inc(1));
    bar.finish_and_clear();
    for s in &p.skipped {
        eprintln!("skipped {s}");
    }
    for pt in &points {
        if let Some(e) = &pt.error {
            eprintln!(
                "{} {} {}: {e}",
                pt.system,
                pt.durability.conf_value(),
                pt.partitions
            );
        }
    }
    anyhow::ensure!(
        points.iter().any(|pt| pt.error.is_none()),
        "no broker point succeeded: {:?}",
        p.skipped
    );
    brokers::report(&out, &p, &points)?;
    print!("{}", brokers::ratio_table(&p, &points));
    write_meta_as(
        &out,
        "meta-brokers.json",
        EXPERIMENT,
        q.mode(),
        started.elapsed(),
        &p,
    )?;
    Ok(())
}

/// `meta-<workloads>.json` for a run of some workloads, named as `--only` spells them.
fn meta_file_name(workloads: &[Workload]) -> String {
    let names: Vec<String> = workloads
        .iter()
        .filter_map(|w| w.to_possible_value().map(|v| v.get_name().to_string()))
        .collect();
    format!("meta-{}.json", names.join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_run_names_its_metadata_after_its_workloads() {
        assert_eq!(
            meta_file_name(&[Workload::Reads, Workload::ZeroCopy]),
            "meta-reads-zero-copy.json"
        );
        assert_eq!(meta_file_name(&[Workload::Appends]), "meta-appends.json");
    }
}
