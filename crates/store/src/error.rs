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
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another process holds `<root>/lock`.
    #[error("Lock failed,MQ already started ({0})")]
    Locked(PathBuf),
    /// A mapped file on disk does not have the configured size.
    #[error("{path}: length {actual} does not match the configured mapped file size {expected}; please check it manually")]
    FileSizeMismatch {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    /// A configuration value cannot be used.
    #[error("invalid store config: {0}")]
    Config(String),
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
