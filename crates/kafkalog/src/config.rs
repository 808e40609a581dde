//! The knobs of a partition log, named after Kafka's topic-level configs.
//!
//! Book: Part V "RocketMQ vs Kafka: one log or many". Mirrors Kafka's `LogConfig`
//! (`segment.bytes`, `index.interval.bytes`, `flush.messages`).

/// How segments roll, how dense the indexes are and when data is forced to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogConfig {
    /// `segment.bytes`: a new segment starts when the next record would make the active
    /// one larger than this (Kafka's default is 1 GiB).
    pub segment_bytes: u64,
    /// `index.interval.bytes`: at least this many log bytes between two index entries
    /// (Kafka's default, 4096).
    pub index_interval_bytes: u32,
    /// `flush.messages`: fsync after this many appends to one partition; `None` leaves it
    /// to the page cache and to [`crate::PartitionLog::flush`] (Kafka's default is
    /// effectively never, relying on replication instead).
    pub flush_interval_messages: Option<u64>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            index_interval_bytes: 4096,
            flush_interval_messages: None,
        }
    }
}
