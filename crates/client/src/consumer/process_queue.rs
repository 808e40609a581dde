//! The client-side buffer of one queue: messages pulled but not yet consumed.
//!
//! Pulled messages wait here keyed by queue offset. The consume offset to commit
//! is always the *smallest offset still in the buffer* (or one past the largest
//! ever seen when it is empty), so a slow message holds the committed offset back
//! and a crash re-delivers rather than loses — at-least-once. The buffer also
//! feeds flow control (count, bytes, offset span) and, for orderly consumption,
//! the broker lock state and the one-consumer-at-a-time lock.
//! Book: Part II "Consuming, long polling and rebalancing" (offsets and flow
//! control). Mirrors `ProcessQueue`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use parking_lot::Mutex;
use rmq_common::message::MessageExt;
use rmq_remoting::protocol::ProcessQueueInfo;

use crate::util::now_ms;

/// A broker lock older than this is not trusted (`REBALANCE_LOCK_MAX_LIVE_TIME`).
pub const REBALANCE_LOCK_MAX_LIVE_TIME_MS: i64 = 30_000;
/// A queue not pulled for this long is considered stuck (`PULL_MAX_IDLE_TIME`).
pub const PULL_MAX_IDLE_TIME_MS: i64 = 120_000;

/// A buffered message: whole, for orderly consumption, which takes it back out of
/// the buffer; or only its body size, when the consume service already owns it.
enum Buffered {
    Whole(MessageExt),
    Size(usize),
}

impl Buffered {
    fn size(&self) -> usize {
        match self {
            Buffered::Whole(m) => m.body.len(),
            Buffered::Size(n) => *n,
        }
    }
}

#[derive(Default)]
struct State {
    msgs: BTreeMap<i64, Buffered>,
    /// Orderly: taken out for consumption, not yet committed.
    consuming: BTreeMap<i64, MessageExt>,
    msg_size: usize,
    queue_offset_max: i64,
    /// A consume task is scheduled or running (orderly dispatch).
    consuming_flag: bool,
}

/// One queue's buffer and state.
pub struct ProcessQueue {
    state: Mutex<State>,
    dropped: AtomicBool,
    locked: AtomicBool,
    last_lock_ms: AtomicI64,
    last_pull_ms: AtomicI64,
    last_consume_ms: AtomicI64,
    /// Orderly: held while a batch of this queue is being consumed.
    pub consume_lock: tokio::sync::Mutex<()>,
}

impl Default for ProcessQueue {
    fn default() -> Self {
        ProcessQueue::new()
    }
}

impl ProcessQueue {
    /// An empty queue buffer, not dropped, not locked, pulled "now".
    pub fn new() -> Self {
        let now = now_ms();
        ProcessQueue {
            state: Mutex::new(State::default()),
            dropped: AtomicBool::new(false),
            locked: AtomicBool::new(false),
            last_lock_ms: AtomicI64::new(now),
            last_pull_ms: AtomicI64::new(now),
            last_consume_ms: AtomicI64::new(now),
            consume_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Adds pulled messages; returns true if a consume task should be started
    /// (orderly dispatch: none is running and there is something to do).
    pub fn put_messages(&self, msgs: &[MessageExt]) -> bool {
        self.put(msgs, |m| Buffered::Whole(m.clone()))
    }

    /// Adds pulled messages by offset and body size only, for consumers that keep
    /// the messages themselves (concurrent push, lite pull): the same bookkeeping
    /// without a copy of each message. Returns what [`Self::put_messages`] returns.
    pub fn put_offsets(&self, msgs: &[MessageExt]) -> bool {
        self.put(msgs, |m| Buffered::Size(m.body.len()))
    }

    fn put(&self, msgs: &[MessageExt], keep: impl Fn(&MessageExt) -> Buffered) -> bool {
        let mut s = self.state.lock();
        for m in msgs {
            let b = keep(m);
            let size = b.size();
            if s.msgs.insert(m.queue_offset, b).is_none() {
                s.msg_size += size;
            }
            s.queue_offset_max = s.queue_offset_max.max(m.queue_offset);
        }
        if !s.msgs.is_empty() && !s.consuming_flag {
            s.consuming_flag = true;
            return true;
        }
        false
    }

    /// Removes consumed messages; returns the offset to commit, or -1 if the
    /// buffer was already empty.
    pub fn remove_messages(&self, msgs: &[MessageExt]) -> i64 {
        let mut s = self.state.lock();
        self.last_consume_ms.store(now_ms(), Ordering::Relaxed);
        if s.msgs.is_empty() {
            return -1;
        }
        let mut result = s.queue_offset_max + 1;
        for m in msgs {
            if let Some(prev) = s.msgs.remove(&m.queue_offset) {
                s.msg_size -= prev.size();
            }
        }
        if let Some((first, _)) = s.msgs.iter().next() {
            result = *first;
        }
        result
    }

    /// Messages buffered (orderly: including those being consumed).
    pub fn msg_count(&self) -> usize {
        let s = self.state.lock();
        s.msgs.len() + s.consuming.len()
    }

    /// Body bytes of the buffered messages (flow control).
    pub fn msg_size(&self) -> usize {
        self.state.lock().msg_size
    }

    /// Largest minus smallest buffered offset (`getMaxSpan`).
    pub fn max_span(&self) -> i64 {
        let s = self.state.lock();
        match (s.msgs.keys().next(), s.msgs.keys().next_back()) {
            (Some(a), Some(b)) => b - a,
            _ => 0,
        }
    }

    // ----- orderly ----------------------------------------------------------------

    /// Takes up to `n` messages in offset order for consumption; clears the
    /// dispatch flag when there is nothing left.
    pub fn take_messages(&self, n: usize) -> Vec<MessageExt> {
        let mut s = self.state.lock();
        let now = now_ms();
        self.last_consume_ms.store(now, Ordering::Relaxed);
        let mut out = Vec::new();
        while out.len() < n {
            let Some((off, b)) = s.msgs.pop_first() else {
                break;
            };
            let m = match b {
                Buffered::Whole(m) => m,
                Buffered::Size(n) => {
                    // Not kept (never so for orderly consumers): nothing to hand out.
                    s.msg_size -= n.min(s.msg_size);
                    continue;
                }
            };
            s.consuming.insert(off, m.clone());
            out.push(m);
        }
        if out.is_empty() {
            s.consuming_flag = false;
        }
        out
    }

    /// Marks the taken messages consumed; returns the offset to commit (-1 if
    /// nothing was taken).
    pub fn commit(&self) -> i64 {
        let mut s = self.state.lock();
        let Some((&last, _)) = s.consuming.iter().next_back() else {
            return -1;
        };
        let consumed: usize = s.consuming.values().map(|m| m.body.len()).sum();
        s.msg_size -= consumed.min(s.msg_size);
        s.consuming.clear();
        last + 1
    }

    /// Puts taken messages back to be consumed again.
    pub fn make_message_to_consume_again(&self, msgs: &[MessageExt]) {
        let mut s = self.state.lock();
        for m in msgs {
            s.consuming.remove(&m.queue_offset);
            s.msgs.insert(m.queue_offset, Buffered::Whole(m.clone()));
        }
    }

    /// Clears the dispatch flag so the next put starts a consume task.
    pub fn clear_consuming_flag(&self) {
        self.state.lock().consuming_flag = false;
    }

    /// Forgets every buffered message (an offset reset, `ProcessQueue.clear`).
    pub fn clear(&self) {
        let mut s = self.state.lock();
        s.msgs.clear();
        s.consuming.clear();
        s.msg_size = 0;
        s.queue_offset_max = 0;
    }

    /// What GET_CONSUMER_RUNNING_INFO reports of this queue (`fillProcessQueueInfo`).
    pub fn info(&self, commit_offset: i64) -> ProcessQueueInfo {
        let s = self.state.lock();
        let count = s.msgs.len() + s.consuming.len();
        let first = s.msgs.keys().next().or(s.consuming.keys().next());
        let last = s
            .msgs
            .keys()
            .next_back()
            .max(s.consuming.keys().next_back());
        ProcessQueueInfo {
            cached_msg_count: count as i32,
            cached_msg_max_offset: last.copied().unwrap_or(0),
            cached_msg_min_offset: first.copied().unwrap_or(0),
            cached_msg_size_in_mib: (s.msg_size / (1024 * 1024)) as i32,
            commit_offset,
            droped: self.is_dropped(),
            last_consume_timestamp: self.last_consume_ms.load(Ordering::Relaxed),
            last_lock_timestamp: self.last_lock_ms.load(Ordering::Relaxed),
            last_pull_timestamp: self.last_pull_ms.load(Ordering::Relaxed),
            locked: self.is_locked(),
            ..Default::default()
        }
    }

    // ----- flags ------------------------------------------------------------------

    /// Whether a rebalance took the queue away (its pulls and consumes stop).
    pub fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::Acquire)
    }

    /// Marks the queue dropped (or not).
    pub fn set_dropped(&self, d: bool) {
        self.dropped.store(d, Ordering::Release);
    }

    /// Whether the broker granted this client the queue's lock (orderly consumers).
    pub fn is_locked(&self) -> bool {
        self.locked.load(Ordering::Acquire)
    }

    /// Records the lock state; a grant also restarts the lock's lifetime.
    pub fn set_locked(&self, l: bool) {
        self.locked.store(l, Ordering::Release);
        if l {
            self.last_lock_ms.store(now_ms(), Ordering::Relaxed);
        }
    }

    /// Whether the last grant is older than the broker keeps a lock (30 s).
    pub fn is_lock_expired(&self) -> bool {
        now_ms() - self.last_lock_ms.load(Ordering::Relaxed) > REBALANCE_LOCK_MAX_LIVE_TIME_MS
    }

    /// Records that a pull for this queue just went out.
    pub fn touch_pull(&self) {
        self.last_pull_ms.store(now_ms(), Ordering::Relaxed);
    }

    /// Whether no pull went out for longer than 120 s (the queue is stuck).
    pub fn is_pull_expired(&self) -> bool {
        now_ms() - self.last_pull_ms.load(Ordering::Relaxed) > PULL_MAX_IDLE_TIME_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn msg(off: i64) -> MessageExt {
        let host = "127.0.0.1:1".parse().unwrap();
        MessageExt {
            store_size: 0,
            body_crc: 0,
            queue_id: 0,
            flag: 0,
            queue_offset: off,
            commit_log_offset: 0,
            sys_flag: 0,
            born_timestamp: 0,
            born_host: host,
            store_timestamp: 0,
            store_host: host,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
            body: Bytes::from_static(b"xy"),
            topic: "T".into(),
            properties: Vec::new(),
        }
    }

    #[test]
    fn commit_offset_is_smallest_unconsumed() {
        let pq = ProcessQueue::new();
        let ms: Vec<_> = (10..15).map(msg).collect();
        assert!(pq.put_messages(&ms));
        assert!(!pq.put_messages(&[msg(15)]), "already dispatched");
        assert_eq!(pq.msg_count(), 6);
        assert_eq!(pq.msg_size(), 12);
        assert_eq!(pq.max_span(), 5);
        // 12 done, 10 still pending: commit stays at 10.
        assert_eq!(pq.remove_messages(&[msg(12)]), 10);
        assert_eq!(pq.remove_messages(&[msg(10), msg(11)]), 13);
        assert_eq!(pq.remove_messages(&[msg(13), msg(14), msg(15)]), 16);
        assert_eq!(pq.remove_messages(&[msg(16)]), -1);
    }

    #[test]
    fn offsets_only_keep_the_same_bookkeeping() {
        let pq = ProcessQueue::new();
        let ms: Vec<_> = (10..15).map(msg).collect();
        pq.put_offsets(&ms);
        pq.put_offsets(&[msg(12)]); // a duplicate counts once
        assert_eq!(pq.msg_count(), 5);
        assert_eq!(pq.msg_size(), 10);
        assert_eq!(pq.max_span(), 4);
        assert_eq!(pq.remove_messages(&[msg(11)]), 10);
        assert_eq!(pq.msg_size(), 8);
        assert_eq!(pq.remove_messages(&[msg(10), msg(12)]), 13);
        assert_eq!(pq.remove_messages(&[msg(13), msg(14)]), 15);
        assert_eq!(pq.msg_size(), 0);
        assert_eq!(pq.info(7).cached_msg_count, 0);
    }

    #[test]
    fn clear_and_info() {
        let pq = ProcessQueue::new();
        pq.put_messages(&(4..7).map(msg).collect::<Vec<_>>());
        let i = pq.info(4);
        assert_eq!(
            (
                i.cached_msg_count,
                i.cached_msg_min_offset,
                i.cached_msg_max_offset
            ),
            (3, 4, 6)
        );
        assert_eq!(i.commit_offset, 4);
        assert!(!i.droped);
        pq.set_dropped(true);
        pq.clear();
        let i = pq.info(4);
        assert_eq!((i.cached_msg_count, i.cached_msg_max_offset), (0, 0));
        assert!(i.droped);
        assert_eq!(pq.msg_size(), 0);
    }

    #[test]
    fn orderly_take_commit_and_retry() {
        let pq = ProcessQueue::new();
        pq.put_messages(&(0..3).map(msg).collect::<Vec<_>>());
        let a = pq.take_messages(2);
        assert_eq!(
            a.iter().map(|m| m.queue_offset).collect::<Vec<_>>(),
            vec![0, 1]
        );
        pq.make_message_to_consume_again(&a);
        let again = pq.take_messages(1);
        assert_eq!(again[0].queue_offset, 0);
        assert_eq!(pq.commit(), 1);
        let rest = pq.take_messages(5);
        assert_eq!(rest.len(), 2);
        assert_eq!(pq.commit(), 3);
        assert!(pq.take_messages(1).is_empty());
        assert!(pq.put_messages(&[msg(3)]), "flag cleared when empty");
    }
}
