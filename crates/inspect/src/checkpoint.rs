//! The `checkpoint` file: three store timestamps recovery starts from.
//!
//! Bytes 0..8 hold physicMsgTimestamp (store time of the last commit-log data known flushed),
//! 8..16 logicsMsgTimestamp (store time of the last record written to a consume queue) and
//! 16..24 indexMsgTimestamp (end time of the last flushed index file). Each is the store time
//! of some record, so none can lie beyond the newest record. Book: Part I "Recovery".
//! Mirrors `StoreCheckpoint`.

use std::path::Path;

use crate::commitlog::CommitLog;
use crate::error::InspectError;
use crate::files::map_file;
use crate::record::be_i64;
use crate::violation::{ViolationKind as K, Violations};

/// The three timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Store time of the last commit-log record flushed, in ms since the epoch (`physicMsgTimestamp`).
    pub physic_msg_timestamp: i64,
    /// Store time of the last message whose consume-queue entry was flushed, in ms since the epoch
    /// (`logicsMsgTimestamp`).
    pub logics_msg_timestamp: i64,
    /// End time of the last full index file flushed, in ms since the epoch (`indexMsgTimestamp`).
    pub index_msg_timestamp: i64,
    /// The checkpoint file's length in bytes (4.8.0 writes 4 KiB; the three timestamps need 24).
    pub file_size: u64,
}

impl Checkpoint {
    /// `getMinTimestamp`: min(physic, logics) − 3 s, floored at 0.
    pub fn min_timestamp(&self) -> i64 {
        (self.physic_msg_timestamp.min(self.logics_msg_timestamp) - 3000).max(0)
    }
}

/// Reads `path`; None when the file does not exist.
pub fn read_checkpoint(path: &Path) -> Result<Option<Checkpoint>, InspectError> {
    if !path.exists() {
        return Ok(None);
    }
    let bytes = map_file(path)?;
    Ok(Some(Checkpoint {
        physic_msg_timestamp: be_i64(&bytes, 0).unwrap_or_default(),
        logics_msg_timestamp: be_i64(&bytes, 8).unwrap_or_default(),
        index_msg_timestamp: be_i64(&bytes, 16).unwrap_or_default(),
        file_size: bytes.len() as u64,
    }))
}

/// No checkpoint timestamp may be newer than the newest record.
pub fn check_checkpoint(cp: &Checkpoint, log: &CommitLog, v: &mut Violations) {
    if cp.file_size < 24 {
        v.push(
            K::Checkpoint,
            "checkpoint",
            format!("only {} bytes; 24 are needed", cp.file_size),
        );
    }
    let Some(newest) = log.max_store_timestamp() else {
        return;
    };
    for (name, ts) in [
        ("physicMsgTimestamp", cp.physic_msg_timestamp),
        ("logicsMsgTimestamp", cp.logics_msg_timestamp),
        ("indexMsgTimestamp", cp.index_msg_timestamp),
    ] {
        if ts > newest {
            v.push(
                K::Checkpoint,
                "checkpoint",
                format!("{name} {ts} is later than the newest record's store time {newest}"),
            );
        }
    }
}
