//! Lab 2: the consume queue.
//!
//! A consumer asks for "message k of queue 3 of topic Orders"; the commit log only answers
//! "what is at offset X". The consume queue turns one question into the other: for every topic
//! and queue id, a chain of files of 20-byte entries `(commit-log offset i64, size i32,
//! tagsCode i64)`, entry k at byte k x 20 of the chain, each file named after the byte offset
//! of its first entry. This lab encodes an entry, finds entry k by arithmetic alone, reads it
//! from the files a broker wrote, and follows it to the message in the commit log: the read
//! path of a pull (`ConsumeQueue.getIndexBuffer` and `CommitLog.getMessage` of 4.8.0).
//!
//! You edit `src/lab.rs`. The types and paths below are given. Book: Part I, "ConsumeQueue"
//! (book/src/part1/consumequeue.md, section "Lab"). Grade with `make labs LAB=02`.

use std::path::{Path, PathBuf};

/// Bytes per entry (`ConsumeQueue.CQ_STORE_UNIT_SIZE`).
pub const CQ_STORE_UNIT_SIZE: usize = 20;

/// 4.8.0's default `mappedFileSizeConsumeQueue`: 300 000 entries.
pub const DEFAULT_MAPPED_FILE_SIZE_CONSUME_QUEUE: u64 = 300_000 * CQ_STORE_UNIT_SIZE as u64;

/// One consume-queue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CqEntry {
    /// Where the record starts in the commit log.
    pub phy_offset: i64,
    /// The record's length (its TOTALSIZE).
    pub size: i32,
    /// The hash of the message's tag (for SCHEDULE_TOPIC_XXXX: its deliver time).
    pub tags_code: i64,
}

/// Where an entry lives: which file of the chain, and where in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// The byte offset of the file's first entry in the chain; also the file's name.
    pub file_from_offset: i64,
    /// The entry's byte position inside that file.
    pub position: usize,
}

/// A file's name: its first offset as 20 decimal digits (`UtilAll.offset2FileName`).
pub fn file_name(file_from_offset: i64) -> String {
    format!("{file_from_offset:020}")
}

/// `<store_root>/consumequeue/<topic>/<queue_id>`: the chain of one queue.
pub fn queue_dir(store_root: &Path, topic: &str, queue_id: i32) -> PathBuf {
    store_root
        .join("consumequeue")
        .join(topic)
        .join(queue_id.to_string())
}

/// `<store_root>/commitlog`.
pub fn commit_log_dir(store_root: &Path) -> PathBuf {
    store_root.join("commitlog")
}

#[cfg(not(feature = "reference"))]
mod lab;
#[cfg(feature = "reference")]
#[path = "../../solutions/02-consume-queue.rs"]
mod lab;

pub use lab::{
    consume_queue_file_size, decode_entry, encode_entry, locate, read_entry, read_message,
};
