//! The errors of the Kafka-style log: I/O on segment and index files, and the
//! inconsistencies that opening a log directory can find.
//!
//! Book: Part V "RocketMQ vs Kafka: one log or many". Mirrors the exceptions Kafka's log
//! layer raises (`KafkaStorageException`, `CorruptRecordException`,
//! `OffsetOutOfRangeException`) in one enum.

use std::path::PathBuf;

/// Everything the log can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("opening", "appending to", ...).
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The error from the operating system.
        #[source]
        source: std::io::Error,
    },
    /// A record does not fit the format (too large a key or value, for example).
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    /// A segment file's name is not a 20-digit base offset.
    #[error("unexpected file name {0}")]
    BadFileName(PathBuf),
    /// A partition directory is not named `<topic>-<partition>`.
    #[error("unexpected partition directory {0}")]
    BadPartitionDir(PathBuf),
    /// A record read from a sealed segment fails its checks (recovery only repairs the
    /// active segment's tail).
    #[error("corrupt record at position {position} of {path}: {reason}")]
    Corrupt {
        /// The segment's `.log` file.
        path: PathBuf,
        /// Byte position of the record in that file.
        position: u64,
        /// Which check failed (size, CRC, ...).
        reason: String,
    },
}

impl LogError {
    /// Wraps an `io::Error` with the operation and the file it concerned.
    pub fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| LogError::Io { op, path, source }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, LogError>;
