//! The message store as the broker sees it: put, pull, look up, query by key, and the
//! life cycle (open with recovery, background threads, clean shutdown).
//!
//! 4.8.0 keeps all of it in one class; here each role has its file: `lifecycle.rs` (open,
//! recover, start, shutdown), `put.rs` (the put checks and counters), `get.rs` (the pull
//! read), `query.rs` (offsets, times, lookups by offset and key) and `queues.rs` (the table of
//! consume queues). The dispatcher, the cleaners and the HA byte calls live in `reput.rs`,
//! `clean.rs` and `ha.rs` at the crate root. This file holds the store's state and the
//! thread helper. Book: Part I, "CommitLog", "ConsumeQueue" and "Crash recovery"; Part II,
//! "What the broker asks of the store". Mirrors `org.apache.rocketmq.store.DefaultMessageStore`.

mod dledger;
mod get;
mod lifecycle;
mod put;
mod query;
mod queues;

use crate::checkpoint::StoreCheckpoint;
use crate::commit_log::CommitLog;
use crate::config::MessageStoreConfig;
use crate::index_service::IndexService;
use crate::running_flags::RunningFlags;
use crate::service::Waker;
use parking_lot::{Mutex, RwLock};
use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Computes a record's SQL92 filter bit map before its consume-queue entry is written
/// (the broker's `CommitLogDispatcherCalcBitMap`); `None` for no bit map.
pub type BitMapCalculator =
    Arc<dyn Fn(&crate::record::DispatchRequest) -> Option<Vec<u8>> + Send + Sync>;

/// Called by the dispatcher after a message became pullable:
/// `(topic, queue id, max logic offset after it, tagsCode)`.
pub type ArrivalListener = Arc<dyn Fn(&str, i32, i64, i64) + Send + Sync>;

/// See the module docs.
pub struct DefaultMessageStore {
    pub(crate) config: MessageStoreConfig,
    pub(crate) commit_log: CommitLog,
    pub(crate) consume_queue_table: RwLock<queues::QueueTable>,
    pub(crate) index_service: IndexService,
    pub(crate) checkpoint: Arc<StoreCheckpoint>,
    pub(crate) running_flags: RunningFlags,
    pub(crate) listener: RwLock<Option<ArrivalListener>>,
    pub(crate) bit_map_calculator: RwLock<Option<BitMapCalculator>>,
    pub(crate) reput_from_offset: AtomicI64,
    pub(crate) reput_waker: Arc<Waker>,
    /// The dispatcher's last pass found nothing to do, so a put should wake it (see reput.rs).
    pub(crate) reput_idle: AtomicBool,
    pub(crate) flush_cq_waker: Arc<Waker>,
    pub(crate) clean_waker: Arc<Waker>,
    /// Last full consume-queue flush (ms), for the thorough interval.
    pub(crate) last_cq_thorough_flush: AtomicI64,
    /// Commit-log min offset the consume-queue cleaner last acted on.
    pub(crate) last_physical_min_offset: AtomicI64,
    /// Where the dispatcher must start so deleted index files get rebuilt (`i64::MAX`: none).
    index_replay_from: AtomicI64,
    pub(crate) manual_delete_times: std::sync::atomic::AtomicU32,
    shutdown: AtomicBool,
    lock_file: Mutex<Option<File>>,
    /// Messages appended by `put_message`/`put_messages` (4.8.0 `putMessageTimesTotal`,
    /// counted after the append, so refused puts and replicated appends do not count).
    pub put_times: AtomicU64,
    /// Messages handed out by `get_message` (4.8.0 `getMessageTransferedMsgCount`): empty
    /// pulls and long-poll re-checks do not count.
    pub get_times: AtomicU64,
    /// Puts that did not return PUT_OK.
    pub put_failed_times: AtomicU64,
    total_physical_memory: u64,
}

pub(super) fn total_physical_memory() -> u64 {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let (pages, page) = unsafe {
            (
                libc::sysconf(libc::_SC_PHYS_PAGES),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        if pages > 0 && page > 0 {
            return pages as u64 * page as u64;
        }
    }
    8 * 1024 * 1024 * 1024
}

impl DefaultMessageStore {
    /// The configuration in use.
    pub fn config(&self) -> &MessageStoreConfig {
        &self.config
    }

    /// The commit log.
    pub fn commit_log(&self) -> &CommitLog {
        &self.commit_log
    }

    /// The checkpoint file.
    pub fn checkpoint(&self) -> &StoreCheckpoint {
        &self.checkpoint
    }

    /// The index files.
    pub fn index_service(&self) -> &IndexService {
        &self.index_service
    }

    /// The running flags (readable, writeable, disk full).
    pub fn running_flags(&self) -> &RunningFlags {
        &self.running_flags
    }

    /// Registers the bit-map computation the dispatcher runs before each consume-queue write.
    pub fn set_bit_map_calculator(&self, calc: BitMapCalculator) {
        *self.bit_map_calculator.write() = Some(calc);
    }

    /// Registers the callback the dispatcher calls for each new message.
    pub fn set_arrival_listener(&self, l: ArrivalListener) {
        *self.listener.write() = Some(l);
    }

    /// Runs `step` every `interval` (or when woken) until the waker stops. The thread holds
    /// only a weak reference between steps, so dropping the store ends it.
    fn spawn_thread(
        self: &Arc<Self>,
        waker: &Arc<Waker>,
        name: &str,
        interval: Duration,
        step: fn(&DefaultMessageStore),
    ) {
        self.spawn_paced_thread(waker, name, interval, step, move |_| interval);
    }

    /// As `spawn_thread`, but the pause after each step is `next_wait(store)` (the first one
    /// is `first_wait`): a thread that paces itself by what it found.
    fn spawn_paced_thread(
        self: &Arc<Self>,
        waker: &Arc<Waker>,
        name: &str,
        first_wait: Duration,
        step: fn(&DefaultMessageStore),
        next_wait: impl Fn(&DefaultMessageStore) -> Duration + Send + 'static,
    ) {
        let weak: Weak<DefaultMessageStore> = Arc::downgrade(self);
        let w = waker.clone();
        waker.spawn(name, move || {
            let mut wait = first_wait;
            while !w.is_stopped() {
                w.wait_for_running(wait);
                if w.is_stopped() {
                    break;
                }
                let Some(s) = weak.upgrade() else { break };
                step(&s);
                wait = next_wait(&s);
            }
        });
    }

    /// Bytes appended but not yet dispatched.
    pub fn dispatch_behind_bytes(&self) -> i64 {
        (self.commit_log.max_offset() - self.reput_from_offset.load(Ordering::Acquire)).max(0)
    }

    /// The commit-log offset the dispatcher has reached.
    pub fn reput_from_offset(&self) -> i64 {
        self.reput_from_offset.load(Ordering::Acquire)
    }

    /// Whether `shutdown` (or `halt`) ran.
    pub fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }
}

impl Drop for DefaultMessageStore {
    fn drop(&mut self) {
        self.shutdown();
    }
}
