//! What both commit logs share about a put: the put lock with its timing, the table of next
//! queue offsets it guards, and which messages take a queue offset.
//!
//! [`PutLock`] is the lock held: taking it sets the log's `beginTimeInLock` (which flow
//! control reads to detect a busy page cache), dropping it clears that and logs a hold
//! longer than 500 ms, on every way out of a put. Book: Part I, "CommitLog" (the append).
//! Mirrors `CommitLog.putMessageLock`, `beginTimeInLock` and `topicQueueTable` of 4.8.0.

use parking_lot::{Mutex, MutexGuard};
use rmq_common::inner::MessageExtBrokerInner;
use rmq_common::message::{transaction_type, TRANSACTION_PREPARED_TYPE, TRANSACTION_ROLLBACK_TYPE};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A hold of the put lock longer than this is logged (4.8.0's `[NOTIFYME]` threshold).
const SLOW_LOCK_WARN: Duration = Duration::from_millis(500);

/// Next queue offset per `"topic-queueId"` (`topicQueueTable`).
pub(crate) type QueueTable = HashMap<String, i64>;

/// The table's key of a queue.
pub(crate) fn queue_key(topic: &str, queue_id: i32) -> String {
    format!("{topic}-{queue_id}")
}

/// Whether a message takes the next queue offset: prepared and rolled-back transactional
/// messages never reach a consume queue, so they store offset 0 and take none.
pub(crate) fn takes_queue_offset(m: &MessageExtBrokerInner) -> bool {
    !matches!(
        transaction_type(m.sys_flag),
        TRANSACTION_PREPARED_TYPE | TRANSACTION_ROLLBACK_TYPE
    )
}

/// The queue offsets of `msgs`, all of one queue whose next offset is `next`, and how many
/// offsets they take.
pub(crate) fn assign_queue_offsets(msgs: &[MessageExtBrokerInner], next: i64) -> (Vec<i64>, i64) {
    let mut taken = 0i64;
    let offsets = msgs
        .iter()
        .map(|m| {
            if takes_queue_offset(m) {
                taken += 1;
                next + taken - 1
            } else {
                0
            }
        })
        .collect();
    (offsets, taken)
}

/// The put lock, held, with its timing (see the module docs).
pub(crate) struct PutLock<'a, T> {
    state: MutexGuard<'a, T>,
    began: Instant,
    timing: &'a Mutex<Option<Instant>>,
    /// Bytes being put, for the slow-lock log line.
    bytes: usize,
}

impl<'a, T> PutLock<'a, T> {
    /// Takes `lock` and marks the time in `timing`.
    pub(crate) fn take(
        lock: &'a Mutex<T>,
        timing: &'a Mutex<Option<Instant>>,
        bytes: usize,
    ) -> PutLock<'a, T> {
        let state = lock.lock();
        let began = Instant::now();
        *timing.lock() = Some(began);
        PutLock {
            state,
            began,
            timing,
            bytes,
        }
    }
}

impl<T> std::ops::Deref for PutLock<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.state
    }
}

impl<T> std::ops::DerefMut for PutLock<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.state
    }
}

impl<T> Drop for PutLock<'_, T> {
    // Runs before the fields drop, so the timing is cleared just before the lock is released.
    fn drop(&mut self) {
        *self.timing.lock() = None;
        let held = self.began.elapsed();
        if held > SLOW_LOCK_WARN {
            tracing::warn!(
                elapsed_ms = held.as_millis() as u64,
                len = self.bytes,
                "putMessage in lock took long"
            );
        }
    }
}
