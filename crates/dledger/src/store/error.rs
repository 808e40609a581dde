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
    /// A file or directory operation failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A file's length is not the configured file size.
    #[error("{path} is {len} bytes, expected {expected} (delete old files before changing the mapped file size)")]
    FileSize {
        /// The file.
        path: PathBuf,
        /// Its length, in bytes.
        len: u64,
        /// The configured file size, in bytes.
        expected: u64,
    },
    /// A file's name is not its start offset as 20 digits.
    #[error("{path}: file name is not a 20-digit offset")]
    FileName {
        /// The file.
        path: PathBuf,
    },
    /// Two neighbouring files do not follow each other.
    #[error("files in {dir} are not contiguous: {prev} then {next}")]
    Gap {
        /// The directory.
        dir: PathBuf,
        /// Start offset of the first file.
        prev: i64,
        /// Start offset of the file after it.
        next: i64,
    },
    /// A setting is invalid (what is wrong).
    #[error("bad configuration: {0}")]
    Config(String),
    /// A record is larger than one file (its size in bytes).
    #[error("{0} bytes do not fit in one mapped file")]
    TooLarge(i64),
    /// A read asks for bytes that were never written.
    #[error("position {pos} (+{len}) is not in the written part of {dir}")]
    OutOfRange {
        /// The directory of the file list.
        dir: PathBuf,
        /// The first byte asked for.
        pos: i64,
        /// How many bytes.
        len: i64,
    },
    /// The files contradict themselves (what was found).
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
