//! A Kafka-style log layer: every partition is its own directory of segments, each segment a
//! `.log` of records with a sparse `.index` (offset -> position) and `.timeindex`
//! (timestamp -> offset), all named by the segment's 20-digit base offset.
//!
//! Why it exists: RocketMQ 4.8.0 writes every topic and queue into one commit log and keeps a
//! small consume queue per queue; Kafka gives each partition its own log. The workbook
//! builds both so that Part V, "RocketMQ vs Kafka: one log or many", can put them side by
//! side on the same machine (the `vs-kafka` experiment) instead of repeating folklore. It
//! is a model of Kafka's storage, not a Kafka broker: no replication, no wire protocol, no
//! compaction or retention, and a simplified record format (see [`record`]).
//!
//! I/O choices, as Kafka makes them: plain `File` writes for the log (one positional write
//! per record, not a memory map like RocketMQ's `MappedFile`), byte ranges of segment files
//! for reads ([`PartitionLog::fetch_range`], which a caller can hand to `sendfile`;
//! [`PartitionLog::send_to`] copies them to any writer), and small indexes (Kafka maps them; we keep them in memory
//! and append to the file, see [`index`]).
//!
//! Mirrors Kafka's `kafka.log.Log`, `LogSegment`, `OffsetIndex`, `TimeIndex` and
//! `LogManager` (Kafka 2.x, the version the original study notes read).

#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod index;
pub mod log;
pub mod partition;
pub mod record;
pub mod segment;

pub use config::LogConfig;
pub use error::{LogError, Result};
pub use log::{Log, TopicPartition};
pub use partition::PartitionLog;
pub use record::Record;
pub use segment::Segment;
