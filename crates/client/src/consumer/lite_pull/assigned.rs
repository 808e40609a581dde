//! The lite pull consumer's view of its queues: for each assigned queue, where the next pull
//! starts, how far the application has consumed, a pending seek, the paused flag, and the
//! buffer of pulled messages not yet handed out.
//!
//! Two offsets per queue: the *pull* offset (the pull task's position, ahead of the
//! application) and the *consume* offset (one past the last message `poll` handed out, which
//! is what a commit stores). A seek replaces both and throws away what was buffered.
//! Book: Part II "Consuming" (section "The lite pull consumer"). Mirrors 4.8.0's
//! `AssignedMessageQueue` and `MessageQueueState`.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use parking_lot::Mutex;
use rmq_remoting::protocol::MessageQueue;

use crate::consumer::process_queue::ProcessQueue;

/// One assigned queue.
pub struct QueueState {
    /// The queue.
    pub mq: MessageQueue,
    /// Pulled messages not yet polled (for flow control and the consume offset).
    pub pq: ProcessQueue,
    /// No pulls while set (`pause`).
    paused: AtomicBool,
    /// Next pull offset; -1 until the start offset is known.
    pull_offset: AtomicI64,
    /// One past the last polled message; -1 before the first poll.
    consume_offset: AtomicI64,
    /// A seek waiting for the pull task; held while a pull result is applied, so a seek and a
    /// result never interleave (4.8.0 locks on the queue for the same reason).
    seek: Mutex<Option<i64>>,
    /// Bumped by every seek: buffered batches of an older generation are stale.
    generation: AtomicU64,
    /// Wakes the pull task out of a long poll the broker is holding (a seek, a drop).
    pub(super) interrupt: tokio::sync::Notify,
}

impl std::fmt::Debug for QueueState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueState")
            .field("mq", &self.mq)
            .field("paused", &self.is_paused())
            .field("pull_offset", &self.pull_offset())
            .field("consume_offset", &self.consume_offset())
            .finish()
    }
}

impl QueueState {
    /// A newly assigned queue.
    pub fn new(mq: MessageQueue) -> QueueState {
        QueueState {
            mq,
            pq: ProcessQueue::new(),
            paused: AtomicBool::new(false),
            pull_offset: AtomicI64::new(-1),
            consume_offset: AtomicI64::new(-1),
            seek: Mutex::new(None),
            generation: AtomicU64::new(0),
            interrupt: tokio::sync::Notify::new(),
        }
    }

    /// Pulling is paused.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Pauses or resumes pulling.
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
    }

    /// The consume offset (-1: nothing polled yet).
    pub fn consume_offset(&self) -> i64 {
        self.consume_offset.load(Ordering::SeqCst)
    }

    /// Records how far `poll` has handed out.
    pub fn set_consume_offset(&self, offset: i64) {
        self.consume_offset.store(offset, Ordering::SeqCst);
    }

    /// The pull offset (-1: unknown).
    pub fn pull_offset(&self) -> i64 {
        self.pull_offset.load(Ordering::SeqCst)
    }

    /// Sets the pull offset (the start offset once known).
    pub fn set_pull_offset(&self, offset: i64) {
        self.pull_offset.store(offset, Ordering::SeqCst);
    }

    /// Asks the pull task to continue from `offset`; buffered messages are discarded and the
    /// consume offset moves there too.
    pub fn seek(&self, offset: i64) {
        let mut seek = self.seek.lock();
        self.pq.clear();
        self.consume_offset.store(offset, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
        *seek = Some(offset);
        // A long poll held by the broker would delay the seek by up to 20 s.
        self.interrupt.notify_one();
    }

    /// The seek generation a buffered batch belongs to.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The offset the next pull starts from: a pending seek (taken), else the pull offset.
    pub fn next_pull_offset(&self) -> i64 {
        match self.seek.lock().take() {
            Some(o) => {
                self.pull_offset.store(o, Ordering::SeqCst);
                o
            }
            None => self.pull_offset(),
        }
    }

    /// Applies a pull's outcome unless a seek arrived meanwhile: `apply` runs under the seek
    /// lock (given the current generation) and the pull offset moves to `next`. Returns false
    /// when the result was dropped.
    pub fn apply_pull(&self, next: i64, apply: impl FnOnce(u64)) -> bool {
        let seek = self.seek.lock();
        if seek.is_some() {
            return false;
        }
        apply(self.generation());
        self.pull_offset.store(next, Ordering::SeqCst);
        true
    }
}
