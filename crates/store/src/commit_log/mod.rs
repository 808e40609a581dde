//! The commit log the store appends to and dispatches from, in one of two forms:
//!
//! * [`LocalCommitLog`]: 4.8.0's `CommitLog`, mapped files under `commitlog/` that this
//!   store writes itself (a master, a slave fed by the HA service, a single broker);
//! * [`DLedgerCommitLog`]: 4.8.0's `DLedgerCommitLog`, where the DLedger member's data files
//!   under `dledger-<selfId>/data` are the commit log and a put is a replicated DLedger
//!   append.
//!
//! [`CommitLog`] gives both one shape: a put is *submitted* (queue offsets assigned, bytes
//! appended or handed to DLedger) and then *finished* ([`PendingPut`]: at once for the local
//! log, at the quorum commit for DLedger); reads take a physical offset, which is a record's
//! position in whichever files hold the log. Book: Part I, "CommitLog"; Part IV "Cluster
//! modes and DLedger". Mirrors `org.apache.rocketmq.store.CommitLog` and
//! `org.apache.rocketmq.store.dledger.DLedgerCommitLog` of 4.8.0.

pub mod dledger;
mod local;
pub(crate) mod lock;
mod put;
mod recover;

pub use dledger::DLedgerCommitLog;
pub use local::{LocalCommitLog, END_FILE_MIN_BLANK_LENGTH};

use crate::result::PutMessageResult;
use bytes::Bytes;
use rmq_common::inner::MessageExtBrokerInner;
use rmq_common::message::BORNHOST_V6_FLAG;
use std::collections::HashMap;
use std::time::Instant;

/// Where recovery stopped and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryOutcome {
    /// First byte not recovered (the new write position).
    pub process_offset: i64,
    /// The commit log had no files at all.
    pub no_files: bool,
}

/// See the module docs.
pub enum CommitLog {
    /// Mapped files under `commitlog/`.
    Local(LocalCommitLog),
    /// The DLedger member's data files.
    DLedger(DLedgerCommitLog),
}

/// A submitted put: done, or waiting for DLedger's commit.
pub enum PendingPut {
    /// The put is over (the local log, or a put refused before it reached DLedger).
    Done(PutMessageResult),
    /// Entries handed to DLedger, to be awaited with [`PendingPut::finish`].
    Replicating(dledger::Replicating),
}

impl PendingPut {
    /// The put's result, once DLedger answered (at once when done).
    pub async fn finish(self) -> PutMessageResult {
        match self {
            PendingPut::Done(r) => r,
            PendingPut::Replicating(r) => r.finish().await,
        }
    }

    /// [`Self::finish`] for a caller outside any async runtime (blocks the thread).
    pub fn finish_blocking(self) -> PutMessageResult {
        match self {
            PendingPut::Done(r) => r,
            PendingPut::Replicating(r) => r.finish_blocking(),
        }
    }
}

impl CommitLog {
    /// The local commit log, if that is this one.
    pub fn local(&self) -> Option<&LocalCommitLog> {
        match self {
            CommitLog::Local(l) => Some(l),
            CommitLog::DLedger(_) => None,
        }
    }

    /// The DLedger commit log, if that is this one.
    pub fn dledger(&self) -> Option<&DLedgerCommitLog> {
        match self {
            CommitLog::Local(_) => None,
            CommitLog::DLedger(d) => Some(d),
        }
    }

    /// Whether a submit may block its thread (a SYNC_FLUSH group-commit wait, or creating
    /// and warming a file): callers on an async runtime then run it on a blocking thread.
    pub fn submit_may_block(&self) -> bool {
        match self {
            CommitLog::Local(l) => l.put_may_block(),
            CommitLog::DLedger(_) => false,
        }
    }

    /// Appends (local) or queues for replication (DLedger) `msgs`, all of one queue, with
    /// consecutive queue offsets. `appended` runs once the bytes are in the log (local) or
    /// queued (DLedger), after the put lock is released and before any wait.
    pub fn submit(&self, msgs: &[MessageExtBrokerInner], appended: impl FnOnce()) -> PendingPut {
        match self {
            CommitLog::Local(l) => PendingPut::Done(l.put_messages_then(msgs, appended)),
            CommitLog::DLedger(d) => d.submit_messages(msgs, appended),
        }
    }

    /// The delay levels in ms (`messageDelayLevel`), for the dispatcher's due times.
    pub fn delay_levels_ms(&self) -> &[i64] {
        match self {
            CommitLog::Local(l) => l.delay_levels_ms(),
            CommitLog::DLedger(d) => d.delay_levels_ms(),
        }
    }

    /// When the put now holding the put lock took it, if one does (`beginTimeInLock`).
    pub fn append_started(&self) -> Option<Instant> {
        match self {
            CommitLog::Local(l) => l.append_started(),
            CommitLog::DLedger(d) => d.append_started(),
        }
    }

    /// First stored byte (`getMinOffset`), -1 without files.
    pub fn min_offset(&self) -> i64 {
        match self {
            CommitLog::Local(l) => l.min_offset(),
            CommitLog::DLedger(d) => d.min_offset(),
        }
    }

    /// Where the first stored record starts (the min offset, or past the first DLedger
    /// entry's header), -1 without records.
    pub fn first_record_offset(&self) -> i64 {
        match self {
            CommitLog::Local(l) => l.min_offset(),
            CommitLog::DLedger(d) => d.first_record_offset(),
        }
    }

    /// One past the last readable byte (`getMaxOffset`; DLedger: the committed position).
    pub fn max_offset(&self) -> i64 {
        match self {
            CommitLog::Local(l) => l.max_offset(),
            CommitLog::DLedger(d) => d.max_offset(),
        }
    }

    /// Start of the file after the one holding `offset` (`rollNextFile`).
    pub fn roll_next_file(&self, offset: i64) -> i64 {
        match self {
            CommitLog::Local(l) => l.roll_next_file(offset),
            CommitLog::DLedger(d) => d.roll_next_file(offset),
        }
    }

    /// Copies `size` bytes at `offset` (`getMessage`).
    pub fn get_message(&self, offset: i64, size: i32) -> Option<Bytes> {
        match self {
            CommitLog::Local(l) => l.get_message(offset, size),
            CommitLog::DLedger(d) => d.get_message(offset, size),
        }
    }

    /// The whole record at `offset`, if a record starts there (`lookMessageByOffset`).
    pub fn look_message(&self, offset: i64) -> Option<Bytes> {
        match self {
            CommitLog::Local(l) => l.look_message(offset),
            CommitLog::DLedger(d) => d.look_message(offset),
        }
    }

    /// The store time of the record at `offset` of `size` bytes, -1 if unreadable.
    pub fn pickup_store_timestamp(&self, offset: i64, size: i32) -> i64 {
        match self {
            CommitLog::Local(l) => l.pickup_store_timestamp(offset, size),
            CommitLog::DLedger(d) => d.pickup_store_timestamp(offset, size),
        }
    }

    /// Next queue offset of a queue, as the put lock sees it.
    pub fn queue_offset(&self, topic: &str, queue_id: i32) -> i64 {
        let key = lock::queue_key(topic, queue_id);
        match self {
            CommitLog::Local(l) => l.queue_offset(topic, queue_id),
            CommitLog::DLedger(d) => d.queue_table().lock().get(&key).copied().unwrap_or(0),
        }
    }

    /// Replaces the queue-offset table (after recovery, or when a DLedger member becomes
    /// leader: `recoverTopicQueueTable`).
    pub fn set_topic_queue_table(&self, table: HashMap<String, i64>) {
        match self {
            CommitLog::Local(l) => l.set_topic_queue_table(table),
            CommitLog::DLedger(d) => *d.queue_table().lock() = table,
        }
    }

    /// Forgets a queue (topic deleted).
    pub fn remove_queue_from_topic_queue_table(&self, topic: &str, queue_id: i32) {
        match self {
            CommitLog::Local(l) => l.remove_queue_from_topic_queue_table(topic, queue_id),
            CommitLog::DLedger(d) => {
                d.queue_table()
                    .lock()
                    .remove(&lock::queue_key(topic, queue_id));
            }
        }
    }

    /// Flushes the local log's file at the flush point (`flush(0)`); returns whether the
    /// flush point moved. The DLedger member flushes its own files (every 10 ms).
    pub fn flush(&self) -> bool {
        match self {
            CommitLog::Local(l) => l.mapped_file_queue().flush(0),
            CommitLog::DLedger(_) => false,
        }
    }

    /// Starts the local log's file allocator and flush thread (the DLedger member flushes
    /// its own files).
    pub fn start(&self) {
        if let CommitLog::Local(l) = self {
            l.start();
        }
    }

    /// Stops the local log's flush thread after a final flush (the DLedger member is shut
    /// down by its owner, the broker).
    pub fn shutdown(&self) {
        if let CommitLog::Local(l) = self {
            l.shutdown();
        }
    }
}

/// STORETIMESTAMP of a record (its position depends on the born host's length).
pub fn store_timestamp_of(rec: &[u8]) -> Option<i64> {
    let sys_flag = i32::from_be_bytes(rec.get(36..40)?.try_into().ok()?);
    let born = if sys_flag & BORNHOST_V6_FLAG != 0 {
        20
    } else {
        8
    };
    let at = 48 + born;
    Some(i64::from_be_bytes(rec.get(at..at + 8)?.try_into().ok()?))
}
