//! The two ways commit-log bytes reach the disk.
//!
//! ASYNC_FLUSH: a thread msyncs every `flushIntervalCommitLog` ms once at least
//! `flushCommitLogLeastPages` pages are dirty (everything every
//! `flushCommitLogThoroughInterval`); a put wakes it early only once that many pages are dirty,
//! since an earlier flush would do nothing. SYNC_FLUSH: group commit — a put registers the offset
//! its bytes end at and waits; one flusher thread msyncs everything written so far, which
//! covers every put that registered meanwhile, then wakes them all. Many concurrent puts
//! share one fsync. Book: Part I, "CommitLog" (flushing and group commit). Mirrors
//! `CommitLog.FlushRealTimeService` and `CommitLog.GroupCommitService`.

use crate::checkpoint::StoreCheckpoint;
use crate::mapped_file::OS_PAGE_SIZE;
use crate::mapped_file_queue::MappedFileQueue;
use crate::service::Waker;
use crate::util::now_ms;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Flushes until the queue's flush point reaches `target` or stops moving.
fn flush_until(queue: &MappedFileQueue, target: i64) {
    while queue.flushed_where() < target {
        if !queue.flush(0) {
            break;
        }
    }
}

/// Tells the checkpoint the store time of the last flushed message.
fn record_physic_time(queue: &MappedFileQueue, checkpoint: &StoreCheckpoint) {
    let ts = queue.store_timestamp();
    if ts > 0 {
        checkpoint.set_physic_msg_timestamp(ts);
    }
}

/// The ASYNC_FLUSH thread (`FlushRealTimeService`).
pub struct FlushRealTimeService {
    queue: Arc<MappedFileQueue>,
    checkpoint: Arc<StoreCheckpoint>,
    interval_ms: u64,
    least_pages: usize,
    thorough_interval_ms: u64,
    timed: bool,
    waker: Waker,
}

impl FlushRealTimeService {
    /// A flush service over `queue` with 4.8.0's ASYNC_FLUSH settings (interval, least pages, thorough interval, timed wait).
    pub fn new(
        queue: Arc<MappedFileQueue>,
        checkpoint: Arc<StoreCheckpoint>,
        interval_ms: u64,
        least_pages: usize,
        thorough_interval_ms: u64,
        timed: bool,
    ) -> Arc<Self> {
        Arc::new(FlushRealTimeService {
            queue,
            checkpoint,
            interval_ms,
            least_pages,
            thorough_interval_ms,
            timed,
            waker: Waker::new(),
        })
    }

    /// Starts the flush thread.
    pub fn start(self: &Arc<Self>) {
        let me = self.clone();
        self.waker.spawn("FlushRealTimeService", move || me.run());
    }

    /// Wakes the thread at once.
    pub fn wakeup(&self) {
        self.waker.wakeup();
    }

    // ANCHOR: async_wakeup
    /// Called after each append ending at commit-log offset `end`: wakes the thread only when
    /// at least `least_pages` pages are dirty, the condition under which its flush writes
    /// anything (`MappedFile::is_able_to_flush`). Fewer dirty pages wait for the next
    /// interval, as they would after a wake-up; a timed thread is never woken.
    pub fn wakeup_if_due(&self, end: i64) {
        let page = OS_PAGE_SIZE as i64;
        if !self.timed && end / page >= self.queue.flushed_where() / page + self.least_pages as i64
        {
            self.waker.wakeup();
        }
    }
    // ANCHOR_END: async_wakeup

    fn run(&self) {
        let mut last_thorough = 0i64;
        while !self.waker.is_stopped() {
            let mut least = self.least_pages;
            let now = now_ms();
            if now >= last_thorough + self.thorough_interval_ms as i64 {
                last_thorough = now;
                least = 0;
            }
            if self.timed {
                std::thread::sleep(Duration::from_millis(self.interval_ms));
            } else {
                self.waker
                    .wait_for_running(Duration::from_millis(self.interval_ms));
            }
            let begin = Instant::now();
            self.queue.flush(least);
            record_physic_time(&self.queue, &self.checkpoint);
            let past = begin.elapsed();
            if past > Duration::from_millis(500) {
                tracing::info!(cost_ms = past.as_millis() as u64, "flush data to disk");
            }
        }
        flush_until(&self.queue, i64::MAX);
        record_physic_time(&self.queue, &self.checkpoint);
    }

    /// Stops the thread after a final full flush.
    pub fn shutdown(&self) {
        self.waker.shutdown();
    }
}

struct GroupState {
    /// Highest end offset any waiting put asked for.
    requested: i64,
    /// Flush point published after the last round.
    flushed: i64,
    stopped: bool,
}

/// The SYNC_FLUSH group-commit thread (`GroupCommitService`).
pub struct GroupCommitService {
    queue: Arc<MappedFileQueue>,
    checkpoint: Arc<StoreCheckpoint>,
    state: Mutex<GroupState>,
    request_cv: Condvar,
    done_cv: Condvar,
    waker: Waker,
    /// Flush rounds run (each is one or more msyncs); for tests and the book's experiment.
    rounds: AtomicU64,
}

impl GroupCommitService {
    /// A group-commit service over `queue` that records flushed store times in `checkpoint`.
    pub fn new(queue: Arc<MappedFileQueue>, checkpoint: Arc<StoreCheckpoint>) -> Arc<Self> {
        let flushed = queue.flushed_where();
        Arc::new(GroupCommitService {
            queue,
            checkpoint,
            state: Mutex::new(GroupState {
                requested: flushed,
                flushed,
                stopped: false,
            }),
            request_cv: Condvar::new(),
            done_cv: Condvar::new(),
            waker: Waker::new(),
            rounds: AtomicU64::new(0),
        })
    }

    /// Starts the group-commit thread.
    pub fn start(self: &Arc<Self>) {
        {
            let mut st = self.state.lock();
            st.flushed = self.queue.flushed_where();
        }
        let me = self.clone();
        self.waker.spawn("GroupCommitService", move || me.run());
    }

    /// Flush rounds so far.
    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }

    // ANCHOR: group_commit
    /// Blocks until everything below `next_offset` is on disk or `timeout` passes; returns
    /// whether it is on disk (`GroupCommitRequest.waitForFlush`).
    pub fn wait_for_flush(&self, next_offset: i64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.state.lock();
        if st.flushed >= next_offset {
            return true;
        }
        if next_offset > st.requested {
            st.requested = next_offset;
            self.request_cv.notify_one();
        }
        while st.flushed < next_offset {
            if st.stopped || self.done_cv.wait_until(&mut st, deadline).timed_out() {
                return st.flushed >= next_offset;
            }
        }
        true
    }

    fn run(&self) {
        loop {
            let target = {
                let mut st = self.state.lock();
                while st.requested <= st.flushed && !st.stopped {
                    self.request_cv.wait_for(&mut st, Duration::from_millis(10));
                }
                if st.stopped {
                    break;
                }
                st.requested
            };
            // One round: msync everything written so far. It covers `target` and every put
            // that appended while the previous round was running.
            flush_until(&self.queue, target);
            self.rounds.fetch_add(1, Ordering::Relaxed);
            record_physic_time(&self.queue, &self.checkpoint);
            let mut st = self.state.lock();
            st.flushed = self.queue.flushed_where();
            if st.flushed < target {
                tracing::error!(
                    target,
                    flushed = st.flushed,
                    "group commit could not reach the requested offset"
                );
                // let the waiters time out rather than spin
                st.requested = st.flushed;
            }
            self.done_cv.notify_all();
        }
        flush_until(&self.queue, i64::MAX);
        record_physic_time(&self.queue, &self.checkpoint);
        let mut st = self.state.lock();
        st.flushed = self.queue.flushed_where();
        self.done_cv.notify_all();
    }
    // ANCHOR_END: group_commit

    /// Stops the thread after a final flush; waiting puts are released.
    pub fn shutdown(&self) {
        {
            let mut st = self.state.lock();
            st.stopped = true;
            self.request_cv.notify_all();
        }
        self.waker.shutdown();
    }
}

/// Which flush service the commit log runs.
pub enum CommitLogFlusher {
    /// ASYNC_FLUSH: flush every `flushIntervalCommitLog`.
    Async(Arc<FlushRealTimeService>),
    /// SYNC_FLUSH: a put waits for the group commit covering it.
    Sync(Arc<GroupCommitService>),
}

impl CommitLogFlusher {
    /// Starts the flush thread.
    pub fn start(&self) {
        match self {
            CommitLogFlusher::Async(s) => s.start(),
            CommitLogFlusher::Sync(s) => s.start(),
        }
    }
    /// Stops the flush thread after a final flush.
    pub fn shutdown(&self) {
        match self {
            CommitLogFlusher::Async(s) => s.shutdown(),
            CommitLogFlusher::Sync(s) => s.shutdown(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapped_file::WriteRight;

    #[test]
    fn group_commit_covers_concurrent_waiters() {
        let dir = tempfile::tempdir().unwrap();
        let right = WriteRight::new();
        let q = Arc::new(MappedFileQueue::new(
            dir.path().join("cl"),
            1 << 20,
            None,
            right.id(),
        ));
        let cp = Arc::new(StoreCheckpoint::open(&dir.path().join("checkpoint")).unwrap());
        let gc = GroupCommitService::new(q.clone(), cp);
        gc.start();
        let lock = Arc::new(Mutex::new(right));
        let mut handles = Vec::new();
        for _ in 0..8 {
            let (q, gc, lock) = (q.clone(), gc.clone(), lock.clone());
            handles.push(std::thread::spawn(move || {
                for _ in 0..50 {
                    let end = {
                        let mut right = lock.lock();
                        let f = q.last_or_create(0).unwrap();
                        assert!(f.append_bytes(&mut right, &[1u8; 100]));
                        q.max_offset()
                    };
                    assert!(gc.wait_for_flush(end, Duration::from_secs(5)));
                    assert!(q.flushed_where() >= end);
                }
            }));
        }
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(q.flushed_where(), 8 * 50 * 100);
        assert!(gc.rounds() <= 400, "never more rounds than puts");
        gc.shutdown();
    }

    #[test]
    fn async_flush_reaches_the_end_on_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        let mut right = WriteRight::new();
        let q = Arc::new(MappedFileQueue::new(
            dir.path().join("cl"),
            1 << 16,
            None,
            right.id(),
        ));
        let cp = Arc::new(StoreCheckpoint::open(&dir.path().join("checkpoint")).unwrap());
        let f = FlushRealTimeService::new(q.clone(), cp, 10, 4, 10_000, false);
        f.start();
        let mf = q.last_or_create(0).unwrap();
        mf.append_bytes(&mut right, &[1u8; 100]);
        mf.set_store_timestamp(42);
        f.shutdown();
        assert_eq!(q.flushed_where(), 100);
    }
}
