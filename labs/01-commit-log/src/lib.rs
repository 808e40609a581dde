//! Lab 1: the commit-log append.
//!
//! Every message a broker accepts becomes one record appended to the commit log, a chain of
//! equally sized files named after their first offset. Under the put lock the store decides
//! three numbers (the queue offset, the physical offset, the store time) and writes the record.
//! When the record plus 8 bytes does not fit into what is left of the current file, it fills
//! the rest with the END_OF_FILE blank and writes the record at the start of the next file, so
//! a record never spans two files. This lab is that append (`CommitLog.putMessage` and
//! `DefaultAppendMessageCallback.doAppend` of 4.8.0), in memory; `save` writes the files.
//!
//! You edit `src/lab.rs`. Everything below is given: the in-memory files, the record encoder
//! (the broker's own, from `rmq_common`), and saving to disk. Book: Part I, "CommitLog"
//! (book/src/part1/commitlog.md, section "Lab"). Grade with `make labs LAB=01`.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::Path;

pub use rmq_common::inner::MessageExtBrokerInner;
/// The magic of the END_OF_FILE blank, `0xCBD43194` (`CommitLog.BLANK_MAGIC_CODE`).
pub use rmq_common::message::BLANK_MAGIC_CODE;

/// Every record leaves at least this much room at the end of its file: the blank's two
/// ints (`END_FILE_MIN_BLANK_LENGTH`).
pub const END_FILE_MIN_BLANK_LENGTH: usize = 4 + 4;

/// 4.8.0's default `maxMessageSize` (4 MiB).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;

/// One commit-log file, in memory (`MappedFile`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    /// The log offset of the file's first byte (`fileFromOffset`); also its name.
    pub file_from_offset: i64,
    /// The whole file, `file_size` bytes, zeros where nothing was written.
    pub bytes: Vec<u8>,
    /// How many bytes from the start are written (`wrotePosition`).
    pub wrote_position: usize,
}

impl LogFile {
    /// A new, empty file of `file_size` bytes starting at log offset `file_from_offset`.
    pub fn new(file_from_offset: i64, file_size: usize) -> LogFile {
        LogFile {
            file_from_offset,
            bytes: vec![0; file_size],
            wrote_position: 0,
        }
    }

    /// The file's size in bytes.
    pub fn file_size(&self) -> usize {
        self.bytes.len()
    }

    /// Bytes left after the write position.
    pub fn remaining(&self) -> usize {
        self.file_size() - self.wrote_position
    }

    /// Nothing more can be written (`isFull`).
    pub fn is_full(&self) -> bool {
        self.wrote_position == self.file_size()
    }

    /// The file's name: its first offset as 20 decimal digits (`UtilAll.offset2FileName`).
    pub fn file_name(&self) -> String {
        format!("{:020}", self.file_from_offset)
    }
}

/// What an append did (`AppendMessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendStatus {
    /// The record is in the log.
    PutOk,
    /// The record is longer than `max_message_size`; nothing was written.
    MessageSizeExceeded,
}

/// Where and how a message was appended (`AppendMessageResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendResult {
    pub status: AppendStatus,
    /// Log offset of the record's first byte (`wroteOffset`); 0 when nothing was written.
    pub wrote_offset: i64,
    /// Length of the record (`wroteBytes`); 0 when nothing was written.
    pub wrote_bytes: usize,
    /// The offset message id of the record ([`offset_msg_id`]); empty when nothing was written.
    pub msg_id: String,
    /// The store time written into the record.
    pub store_timestamp: i64,
    /// The message's position in its consume queue (`logicsOffset`): 0, 1, 2, ... per
    /// topic and queue id.
    pub queue_offset: i64,
}

/// The commit log of one broker, in memory (`CommitLog` with its `MappedFileQueue`).
#[derive(Debug, Clone)]
pub struct CommitLog {
    /// Size of every file (`mappedFileSizeCommitLog`; 1 GiB by default, small in the tests).
    pub file_size: usize,
    /// Longest record accepted (`maxMessageSize`).
    pub max_message_size: usize,
    /// The files, oldest first.
    pub files: Vec<LogFile>,
    /// Next queue offset per `"topic-queueId"` (`topicQueueTable`).
    pub topic_queue_table: HashMap<String, i64>,
}

impl CommitLog {
    /// An empty log (no file yet) with files of `file_size` bytes.
    pub fn new(file_size: usize) -> CommitLog {
        CommitLog {
            file_size,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            files: Vec::new(),
            topic_queue_table: HashMap::new(),
        }
    }

    /// One past the last written byte of the log (`getMaxOffset`), 0 when empty.
    pub fn max_offset(&self) -> i64 {
        self.files
            .last()
            .map_or(0, |f| f.file_from_offset + f.wrote_position as i64)
    }

    /// The `len` bytes at log offset `offset`, if they are written and inside one file.
    pub fn read(&self, offset: i64, len: usize) -> Option<&[u8]> {
        let f = self.files.iter().find(|f| {
            offset >= f.file_from_offset && offset < f.file_from_offset + f.file_size() as i64
        })?;
        let pos = (offset - f.file_from_offset) as usize;
        f.bytes[..f.wrote_position].get(pos..pos.checked_add(len)?)
    }

    /// Writes every file to `dir` under its name, as the broker's `commitlog/` holds them.
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for f in &self.files {
            std::fs::write(dir.join(f.file_name()), &f.bytes)?;
        }
        Ok(())
    }
}

/// The length of `msg`'s record (`CommitLog.calMsgLength`).
pub fn record_size(msg: &MessageExtBrokerInner) -> usize {
    rmq_common::inner::inner_record_size(msg)
}

/// The record of `msg` with the three numbers the append decides, ready to copy into a file;
/// its length is [`record_size`]. Panics on a message no record can hold (a topic over 127
/// bytes, properties over 32767 bytes): the tests never append one.
pub fn encode_record(
    msg: &MessageExtBrokerInner,
    queue_offset: i64,
    physical_offset: i64,
    store_timestamp: i64,
) -> Vec<u8> {
    rmq_common::inner::encode_inner_record(msg, queue_offset, physical_offset, store_timestamp)
        .unwrap_or_else(|e| panic!("this message cannot become a record: {e}"))
}

/// The offset message id of the record at `offset` stored by `store_host`
/// (`MessageDecoder.createMessageId`; lab 7 builds it).
pub fn offset_msg_id(store_host: SocketAddr, offset: i64) -> String {
    rmq_common::msgid::offset_msg_id(store_host, offset)
}

#[cfg(not(feature = "reference"))]
mod lab;
#[cfg(feature = "reference")]
#[path = "../../solutions/01-commit-log.rs"]
mod lab;
