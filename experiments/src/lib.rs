//! The experiments' shared harness: where figures go, what machine produced them, latency
//! histograms, SVG charts, progress bars and the `--quick` switch.
//!
//! Every experiment is one binary in `src/bin/` (the append benchmark, `append-bench`, too).
//! Each writes its raw data (CSV/JSON), its charts (SVG) and a `meta.json` describing the
//! machine, the git commit and the parameters into `book/src/figures/<experiment>/`, where the
//! book's chapters pick the charts up ([`figures_dir_for`] keeps `--quick` runs under
//! `target/`). Book: Part I ("CommitLog" shows the first charts) and every chapter's "The
//! experiment" section. There is no RocketMQ counterpart: 4.8.0 ships only the
//! `benchmark/` shell scripts around its example producers.

#![warn(missing_docs)]

pub mod chart;
pub mod cli;
pub mod latency;
pub mod machine;
pub mod messages;
pub mod output;
pub mod page_cache;
pub mod progress;
pub mod servers;
pub mod store_files;
pub mod thread_usage;
pub mod timeline;
pub mod vs_kafka;

pub use cli::QuickArgs;
pub use latency::{new_latency_histogram, LatencySummary};
pub use machine::Machine;
pub use output::{
    figures_dir, figures_dir_for, workspace_root, write_csv, write_json, write_meta, write_meta_as,
};
pub use progress::progress_bar;
