//! Lab 8: is this a record?
//!
//! After a crash, the store cannot trust the end of its commit log: the last records may be
//! torn, and the rest of the file is zeros or stale bytes. Recovery reads the log from a known
//! good point, asks of every position "is this a record?", and cuts the log at the first "no".
//! The dispatcher asks the same question of every new record. This lab is that check
//! (`CommitLog.checkMessageAndReturnSize` of 4.8.0, with the consistency rules of the store in
//! this repository) and the walk over one file.
//!
//! You edit `src/lab.rs`. The types and the record layout below are given. Book: Part I,
//! "Crash recovery" (book/src/part1/crash-recovery.md, section "Lab"). Grade with
//! `make labs LAB=08`.

/// `0xCBD43194`: the magic of the END_OF_FILE blank (`CommitLog.BLANK_MAGIC_CODE`).
pub use rmq_common::message::BLANK_MAGIC_CODE;
/// SYSFLAG bit: the born host is IPv6 (16-byte address + 4-byte port instead of 4 + 4).
pub use rmq_common::message::BORNHOST_V6_FLAG;
/// `0xDAA320A7`: the magic of a message record (`CommitLog.MESSAGE_MAGIC_CODE`).
pub use rmq_common::message::MESSAGE_MAGIC_CODE;
/// SYSFLAG bit: the store host is IPv6.
pub use rmq_common::message::STOREHOST_V6_FLAG;

/// The plain CRC-32 (IEEE) of `bytes`, as `java.util.zip.CRC32` computes it.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// What a valid record holds that recovery and the dispatcher use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordInfo {
    /// TOTALSIZE: the record's length.
    pub size: i32,
    /// TOPIC.
    pub topic: String,
    /// QUEUEID.
    pub queue_id: i32,
    /// QUEUEOFFSET.
    pub queue_offset: i64,
    /// PHYSICALOFFSET.
    pub physical_offset: i64,
    /// STORETIMESTAMP.
    pub store_timestamp: i64,
}

/// The verdict on the bytes at one position of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordCheck {
    /// A valid record.
    Message(RecordInfo),
    /// The END_OF_FILE blank: the data goes on at the start of the next file.
    EndOfFile,
    /// A record whose fields do not add up to its TOTALSIZE (`size`). 4.8.0 logs "[BUG]read
    /// total count not equals msg total size"; recovery stops here, the dispatcher skips `size`.
    SizeMismatch { size: i32 },
    /// Not a record: zeros past the end of the data, a torn write, a bad magic or CRC. The
    /// string says why, for the log.
    Invalid(String),
}

/// Where the valid data of one file ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileScan {
    /// Valid records from the start of the file.
    pub records: usize,
    /// The byte where the valid data ends: where the blank starts, or the first position that
    /// is not a valid record.
    pub end: usize,
    /// The file ends with the blank, so the log goes on in the next file.
    pub end_of_file: bool,
}

#[cfg(not(feature = "reference"))]
mod lab;
#[cfg(feature = "reference")]
#[path = "../../solutions/08-record-check.rs"]
mod lab;

pub use lab::{body_crc, cal_msg_length, check_record, scan_file};
