//! Errors that stop the inspector before it can look at the data at all (a missing
//! directory, an unreadable file, an index file whose geometry cannot be known).
//!
//! Problems *in* the data are not errors: they are [`crate::violation::Violation`]s, collected
//! and reported together. Book: Part I "Storage files" (the inspector).

use std::path::PathBuf;

/// Why the inspector could not read a store.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The directory has neither `commitlog/` nor DLedger data inside (the directory).
    #[error("{0} is not a store directory (no commitlog/ and no dledger-*/data inside)")]
    NotAStore(PathBuf),
    /// An index file's size fits no geometry the inspector can infer.
    #[error(
        "{path}: cannot tell the index geometry from a {size}-byte file; pass --index-slots and --index-num \
         (maxHashSlotNum / maxIndexNum of the broker that wrote it)"
    )]
    IndexGeometry {
        /// The index file.
        path: PathBuf,
        /// Its length in bytes.
        size: u64,
    },
    /// A command-line option has a value the inspector cannot use (what is wrong).
    #[error("bad option: {0}")]
    BadOption(String),
}

impl InspectError {
    /// An [`InspectError::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        InspectError::Io {
            path: path.into(),
            source,
        }
    }
}
