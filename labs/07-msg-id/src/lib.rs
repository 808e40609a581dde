//! Lab 7: the offset message id.
//!
//! When a broker stores a message it answers the producer with a message id that *is* the
//! message's address: the store host's IP and port and the record's commit-log offset, written
//! as upper-case hex (32 digits for IPv4, 56 for IPv6). `mqadmin queryMsgById` needs nobody's
//! help to find the record: it decodes the id, connects to that broker and reads that offset.
//! This lab is `MessageDecoder.createMessageId` and `decodeMessageId`, plus the last step of
//! the lookup: which commit-log file holds the offset, and where in it.
//!
//! You edit `src/lab.rs`. The types below are given. Book: Part II, "Producing: the send path
//! and message ids" (book/src/part2/producing.md, section "Lab"). Grade with `make labs LAB=07`.

use std::fmt;
use std::net::SocketAddr;

/// A decoded offset message id (`MessageId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageId {
    /// The broker that stored the record (its store host: `brokerIP1` and `listenPort`).
    pub address: SocketAddr,
    /// The record's commit-log offset.
    pub offset: i64,
}

/// Why a string is not an offset message id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsgIdError {
    /// Neither 32 (IPv4) nor 56 (IPv6) characters long.
    BadLength(String),
    /// A character that is not a hex digit.
    NotHex(String),
}

impl fmt::Display for MsgIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MsgIdError::BadLength(id) => {
                write!(f, "{id:?} is neither 32 (IPv4) nor 56 (IPv6) hex digits")
            }
            MsgIdError::NotHex(id) => write!(f, "{id:?} is not hexadecimal"),
        }
    }
}

impl std::error::Error for MsgIdError {}

/// Where a commit-log offset lives on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitLogPlace {
    /// The file's name: its first offset, as 20 decimal digits (`00000000001073741824`).
    pub file_name: String,
    /// The byte position inside that file.
    pub position: u64,
}

#[cfg(not(feature = "reference"))]
mod lab;
#[cfg(feature = "reference")]
#[path = "../../solutions/07-msg-id.rs"]
mod lab;

pub use lab::{create_message_id, decode_message_id, locate_in_commit_log};
