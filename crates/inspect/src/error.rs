//! Errors that stop the inspector before it can look at the data at all (a missing
//! directory, an unreadable file, an index file whose geometry cannot be known).
//!
//! Problems *in* the data are not errors: they are [`crate::violation::Violation`]s, collected
//! and reported together. Book: Part I "Storage files" (the inspector).

use std::path::PathBuf;

/// Why the inspector could not read a store.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is not a store directory (no commitlog/ and no dledger-*/data inside)")]
    NotAStore(PathBuf),
    #[error(
        "{path}: cannot tell the index geometry from a {size}-byte file; pass --index-slots and --index-num \
         (maxHashSlotNum / maxIndexNum of the broker that wrote it)"
    )]
    IndexGeometry { path: PathBuf, size: u64 },
    #[error("bad option: {0}")]
    BadOption(String),
}

impl InspectError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        InspectError::Io {
            path: path.into(),
            source,
        }
    }
}
