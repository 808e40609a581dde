//! Typed errors of the message store.
//!
//! Book: Part I, "Crash recovery" (what can go wrong when opening a store). There is no single
//! Java counterpart: 4.8.0 logs and returns `false` from `load()`; we return these instead.

use std::path::PathBuf;

/// Why opening or maintaining the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An I/O call on a store file failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was attempted (open, mmap, ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        #[source]
        /// The OS error.
        source: std::io::Error,
    },
    /// Another process holds `<root>/lock`.
    #[error("Lock failed,MQ already started ({0})")]
    Locked(PathBuf),
    /// A mapped file on disk does not have the configured size.
    #[error("{path}: length {actual} does not match the configured mapped file size {expected}; please check it manually")]
    FileSizeMismatch {
        /// The file.
        path: PathBuf,
        /// The configured size.
        expected: u64,
        /// The size on disk.
        actual: u64,
    },
    /// A configuration value cannot be used.
    #[error("invalid store config: {0}")]
    Config(String),
    /// A record's queue offset or position cannot address a consume-queue entry (negative,
    /// or so large the byte position overflows): the record's fields are damaged.
    #[error(
        "record at {phy_offset} has queue offset {queue_offset}, which no consume queue can hold"
    )]
    BadQueueOffset {
        /// Commit-log offset of the record.
        phy_offset: i64,
        /// The queue offset it claims.
        queue_offset: i64,
    },
}

impl StoreError {
    /// Wraps an I/O error with the operation and the file it concerned.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
