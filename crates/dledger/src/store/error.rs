//! Typed errors of the DLedger file store.
//!
//! Book: Part IV "Cluster modes and DLedger" (the DLedger files). Stands in for the
//! `DLedgerException(DISK_ERROR, ...)` checks of `DLedgerMmapFileStore` and
//! `MmapFileList` in DLedger 0.2.2.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong opening, recovering or writing the store.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is {len} bytes, expected {expected} (delete old files before changing the mapped file size)")]
    FileSize {
        path: PathBuf,
        len: u64,
        expected: u64,
    },
    #[error("{path}: file name is not a 20-digit offset")]
    FileName { path: PathBuf },
    #[error("files in {dir} are not contiguous: {prev} then {next}")]
    Gap { dir: PathBuf, prev: i64, next: i64 },
    #[error("bad configuration: {0}")]
    Config(String),
    #[error("{0} bytes do not fit in one mapped file")]
    TooLarge(i64),
    #[error("position {pos} (+{len}) is not in the written part of {dir}")]
    OutOfRange { dir: PathBuf, pos: i64, len: i64 },
    #[error("corrupt store: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}
