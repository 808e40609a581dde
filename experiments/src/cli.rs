//! The flags every experiment shares.
//!
//! `--quick` shrinks an experiment so that it finishes in well under a minute; CI and
//! `make experiments-quick` run every experiment that way. Full mode is what the book shows.

use clap::Args;

/// Flatten this into an experiment's own `clap::Parser` struct with `#[command(flatten)]`.
#[derive(Debug, Clone, Copy, Args)]
pub struct QuickArgs {
    /// Run a small version (under a minute); full mode is what the book shows.
    #[arg(long)]
    pub quick: bool,
}

impl QuickArgs {
    /// `"quick"` or `"full"`, as recorded in `meta.json`.
    pub fn mode(&self) -> &'static str {
        if self.quick {
            "quick"
        } else {
            "full"
        }
    }

    /// Picks the quick or the full value of a parameter.
    pub fn pick<T>(&self, quick: T, full: T) -> T {
        if self.quick {
            quick
        } else {
            full
        }
    }
}
