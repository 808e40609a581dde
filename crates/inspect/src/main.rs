//! `rmq-inspect`: print or verify a RocketMQ 4.8.0 store directory.
//!
//! `rmq-inspect store DIR [--topic T] [--limit N] [--key topic#key]` prints the tables;
//! `rmq-inspect verify DIR` checks every invariant and exits 1 when any is broken, after
//! listing each violation and the closing `verified: ...` line.
//! Book: Part I "Storage files". It has no Java counterpart: 4.8.0's `mqadmin` cannot look
//! at store files.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use rmq_inspect::show::{render, ShowOptions};
use rmq_inspect::violation::Violations;
use rmq_inspect::{verify_store, Options, StoreImage};

#[derive(Parser)]
#[command(
    name = "rmq-inspect",
    about = "Read and verify a RocketMQ 4.8.0 store directory"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the store's files, messages, consume queues, index files and checkpoint.
    Store {
        #[command(flatten)]
        store: StoreArgs,
        /// Only this topic's messages and consume queues.
        #[arg(long)]
        topic: Option<String>,
        /// At most N messages, and N entries per consume queue.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Walk the index chain of this key, written topic#key.
        #[arg(long)]
        key: Option<String>,
    },
    /// Check every invariant; exit 1 listing the violations.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args)]
struct StoreArgs {
    /// The store root (storePathRootDir).
    dir: PathBuf,
    /// storePathCommitLog, when it is not DIR/commitlog.
    #[arg(long)]
    commitlog: Option<PathBuf>,
    /// maxHashSlotNum of the index files (inferred from the file size when omitted).
    #[arg(long)]
    index_slots: Option<usize>,
    /// maxIndexNum of the index files (inferred from the file size when omitted).
    #[arg(long)]
    index_num: Option<usize>,
    /// messageDelayLevel (default: config/broker.properties', else 4.8.0's).
    #[arg(long)]
    delay_levels: Option<String>,
}

impl StoreArgs {
    fn options(&self) -> Options {
        Options {
            commit_log_dir: self.commitlog.clone(),
            index_slots: self.index_slots,
            index_num: self.index_num,
            delay_levels: self.delay_levels.clone(),
        }
    }
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Store {
            store,
            topic,
            limit,
            key,
        } => {
            let mut v = Violations::default();
            let image = StoreImage::load(&store.dir, &store.options(), &mut v)
                .with_context(|| format!("reading {}", store.dir.display()))?;
            print!(
                "{}",
                render(
                    &image,
                    &ShowOptions {
                        topic,
                        limit: Some(limit),
                        key,
                    }
                )
            );
            if !v.0.is_empty() {
                println!(
                    "\n{} problems seen while reading (run `rmq-inspect verify` for all checks):",
                    v.0.len()
                );
                for x in &v.0 {
                    println!("  {x}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Verify { store } => {
            let report = verify_store(&store.dir, &store.options())
                .with_context(|| format!("verifying {}", store.dir.display()))?;
            for n in &report.notes {
                println!("note: {n}");
            }
            for x in &report.violations {
                println!("VIOLATION {x}");
            }
            println!("{}", report.summary());
            Ok(if report.violations.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
