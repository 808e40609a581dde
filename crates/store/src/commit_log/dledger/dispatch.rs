//! What the dispatcher finds at one position of the DLedger data files: a DLedger entry
//! wrapping a message record, DLedger's blank at a file's end, or something that is neither.
//!
//! ```text
//! [int magic][int second] ...
//!   second is MESSAGE_MAGIC_CODE or BLANK_MAGIC_CODE  -> a plain commit-log record (4.8.0
//!                                                        reads a mixed log this way)
//!   magic == -1                                        -> DLedger blank: next file
//!   otherwise                                          -> 48-byte header, then the record
//! ```
//!
//! An entry's header must be sane and name its own position, and the record inside must
//! pass the same check as a commit-log record, with PHYSICALOFFSET = position + 48.
//! Book: Part IV "Cluster modes and DLedger". Mirrors
//! `DLedgerCommitLog.checkMessageAndReturnSize` of 4.8.0.

use super::DLedgerCommitLog;
use crate::record::{check_record, CheckOptions, DispatchRequest, RecordCheck};
use rmq_common::message::{BLANK_MAGIC_CODE, MESSAGE_MAGIC_CODE};
use rmq_dledger::entry::{EntryHeader, BLANK_MAGIC_CODE as DLEDGER_BLANK, BODY_OFFSET};

/// The verdict on the bytes at one position of the data files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryCheck {
    /// A message: its dispatch request and how many bytes the entry takes (48 + record, or
    /// the record alone for a plain commit-log record).
    Message {
        /// What the consume queue and the index need.
        req: DispatchRequest,
        /// Bytes from this position to the next entry.
        size: usize,
    },
    /// An entry with an empty body (the new-leader entry of an older layout): skip it.
    Empty,
    /// A blank (DLedger's or a commit log's END_OF_FILE): continue at the next file.
    Blank,
    /// An entry whose record disagrees with its own size: skip `size` bytes (4.8.0 logs
    /// `[BUG]read total count not equals msg total size` and moves on).
    SizeMismatch {
        /// Bytes to skip.
        size: usize,
        /// What disagrees.
        reason: String,
    },
    /// Not an entry (damage, or bytes past the data).
    Invalid(String),
}

fn be_i32(b: &[u8]) -> Option<i32> {
    Some(i32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

impl DLedgerCommitLog {
    /// Checks the entry at the start of `bytes`, which begin at position `pos`.
    pub fn check_entry(&self, bytes: &[u8], pos: i64) -> EntryCheck {
        check_entry(bytes, pos, self.delay_levels_ms())
    }
}

/// Checks the entry at the start of `bytes`, which begin at position `pos` (delay levels in
/// ms for the schedule topic's due times).
pub fn check_entry(bytes: &[u8], pos: i64, delay_levels_ms: &[i64]) -> EntryCheck {
    {
        let opts = |at: i64| CheckOptions {
            check_crc: false,
            expected_offset: Some(at),
            delay_levels_ms,
        };
        let (Some(magic), Some(second)) = (be_i32(bytes), bytes.get(4..).and_then(be_i32)) else {
            return EntryCheck::Invalid(format!("{} bytes at {pos}", bytes.len()));
        };
        if second == MESSAGE_MAGIC_CODE || second == BLANK_MAGIC_CODE {
            return match check_record(bytes, &opts(pos)) {
                RecordCheck::Message(req) => {
                    let size = req.msg_size as usize;
                    EntryCheck::Message { req, size }
                }
                RecordCheck::EndOfFile => EntryCheck::Blank,
                RecordCheck::SizeMismatch { size, reason } => EntryCheck::SizeMismatch {
                    size: size.max(0) as usize,
                    reason,
                },
                RecordCheck::Invalid(r) => EntryCheck::Invalid(r),
            };
        }
        if magic == DLEDGER_BLANK {
            return EntryCheck::Blank;
        }
        let header = match EntryHeader::decode(bytes) {
            Ok(h) => h,
            Err(e) => return EntryCheck::Invalid(format!("entry header at {pos}: {e}")),
        };
        if let Err(e) = header.check() {
            return EntryCheck::Invalid(format!("entry header at {pos}: {e}"));
        }
        if header.pos != pos {
            return EntryCheck::Invalid(format!("entry at {pos} says pos {}", header.pos));
        }
        if header.body_size == 0 {
            return EntryCheck::Empty;
        }
        let entry_size = BODY_OFFSET + header.body_size as usize;
        let Some(body) = bytes.get(BODY_OFFSET..entry_size) else {
            return EntryCheck::Invalid(format!(
                "entry at {pos} of {entry_size} bytes is cut at {}",
                bytes.len()
            ));
        };
        match check_record(body, &opts(pos + BODY_OFFSET as i64)) {
            RecordCheck::Message(req) if req.msg_size as usize == body.len() => {
                EntryCheck::Message {
                    req,
                    size: entry_size,
                }
            }
            RecordCheck::Message(req) => EntryCheck::SizeMismatch {
                size: entry_size,
                reason: format!(
                    "record of {} bytes in an entry body of {}",
                    req.msg_size,
                    body.len()
                ),
            },
            RecordCheck::SizeMismatch { reason, .. } => EntryCheck::SizeMismatch {
                size: entry_size,
                reason,
            },
            RecordCheck::EndOfFile => EntryCheck::SizeMismatch {
                size: entry_size,
                reason: "a blank inside an entry".into(),
            },
            RecordCheck::Invalid(r) => EntryCheck::SizeMismatch {
                size: entry_size,
                reason: r,
            },
        }
    }
}
