//! The message store as the broker sees it: put, pull, look up, query by key, and the
//! life cycle (open with recovery, background threads, clean shutdown).
//!
//! `open` takes the lock file, loads the commit log, consume queues and index, recovers
//! (abnormally when the `abort` file survived the last run), replays whatever the consume
//! queues miss, then starts the flush, dispatch and retention threads and creates `abort`.
//! `shutdown` stops the threads, flushes everything, writes the checkpoint and removes
//! `abort`. Book: Part I, "CommitLog", "ConsumeQueue" and "Crash recovery"; Part II, "What
//! the broker asks of the store". Mirrors `org.apache.rocketmq.store.DefaultMessageStore`.

use crate::checkpoint::StoreCheckpoint;
use crate::commit_log::CommitLog;
use crate::config::{BrokerRole, MessageStoreConfig};
use crate::consume_queue::{ConsumeQueue, CQ_STORE_UNIT_SIZE};
use crate::error::StoreError;
use crate::index_service::IndexService;
use crate::result::{
    AppendMessageStatus, GetMessageResult, GetMessageStatus, PutMessageResult, PutMessageStatus,
    QueryMessageResult,
};
use crate::running_flags::RunningFlags;
use crate::service::Waker;
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use rmq_common::inner::MessageExtBrokerInner;
use std::collections::HashMap;
use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Computes a record's SQL92 filter bit map before its consume-queue entry is written
/// (the broker's `CommitLogDispatcherCalcBitMap`); `None` for no bit map.
pub type BitMapCalculator =
    Arc<dyn Fn(&crate::record::DispatchRequest) -> Option<Vec<u8>> + Send + Sync>;

/// Called by the dispatcher after a message became pullable:
/// `(topic, queue id, max logic offset after it, tagsCode)`.
pub type ArrivalListener = Arc<dyn Fn(&str, i32, i64, i64) + Send + Sync>;

type QueueTable = HashMap<String, HashMap<i32, Arc<ConsumeQueue>>>;

/// Topics whose consume queues survive `clean_unused_topics`.
const KEEP_TOPICS: [&str; 2] = ["SCHEDULE_TOPIC_XXXX", "RMQ_SYS_TRANS_OP_HALF_TOPIC"];

/// See the module docs.
pub struct DefaultMessageStore {
    pub(crate) config: MessageStoreConfig,
    pub(crate) commit_log: CommitLog,
    pub(crate) consume_queue_table: RwLock<QueueTable>,
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

fn total_physical_memory() -> u64 {
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
    // ANCHOR: open
    /// Opens (or creates) the store under `config.store_path_root_dir`, recovers it and starts
    /// its threads (`load` + `start`).
    pub fn open(config: MessageStoreConfig) -> Result<Arc<Self>, StoreError> {
        config.validate()?;
        let root = config.store_path_root_dir.clone();
        std::fs::create_dir_all(&root).map_err(|e| StoreError::io("create dir", &root, e))?;
        let lock_file = Self::lock(&config)?;
        let last_exit_ok = !config.abort_path().exists();
        let checkpoint = Arc::new(StoreCheckpoint::open(&config.checkpoint_path())?);
        let commit_log = CommitLog::new(&config, checkpoint.clone())?;
        let index_service = IndexService::new(
            config.index_dir(),
            config.max_hash_slot_num,
            config.max_index_num,
            config.max_msgs_num_batch,
            checkpoint.clone(),
        );
        let store = Arc::new(DefaultMessageStore {
            commit_log,
            consume_queue_table: RwLock::new(HashMap::new()),
            index_service,
            checkpoint,
            running_flags: RunningFlags::default(),
            listener: RwLock::new(None),
            bit_map_calculator: RwLock::new(None),
            reput_from_offset: AtomicI64::new(0),
            reput_waker: Arc::new(Waker::new()),
            reput_idle: AtomicBool::new(true),
            flush_cq_waker: Arc::new(Waker::new()),
            clean_waker: Arc::new(Waker::new()),
            last_cq_thorough_flush: AtomicI64::new(0),
            last_physical_min_offset: AtomicI64::new(0),
            index_replay_from: AtomicI64::new(i64::MAX),
            manual_delete_times: std::sync::atomic::AtomicU32::new(0),
            shutdown: AtomicBool::new(false),
            lock_file: Mutex::new(Some(lock_file)),
            put_times: AtomicU64::new(0),
            get_times: AtomicU64::new(0),
            put_failed_times: AtomicU64::new(0),
            total_physical_memory: total_physical_memory(),
            config,
        });
        store.commit_log.load()?;
        store.load_consume_queues()?;
        store.index_service.load(last_exit_ok)?;
        store.recover(last_exit_ok);
        store.start()?;
        Ok(store)
    }
    // ANCHOR_END: open

    fn lock(config: &MessageStoreConfig) -> Result<File, StoreError> {
        use std::io::Write;
        let path = config.lock_path();
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io("open", &path, e))?;
        fs2::FileExt::try_lock_exclusive(&f).map_err(|_| StoreError::Locked(path.clone()))?;
        f.write_all(b"lock")
            .and_then(|_| f.sync_all())
            .map_err(|e| StoreError::io("write", &path, e))?;
        Ok(f)
    }

    /// The configuration in use.
    pub fn config(&self) -> &MessageStoreConfig {
        &self.config
    }
    pub fn commit_log(&self) -> &CommitLog {
        &self.commit_log
    }
    pub fn checkpoint(&self) -> &StoreCheckpoint {
        &self.checkpoint
    }
    pub fn index_service(&self) -> &IndexService {
        &self.index_service
    }
    pub fn running_flags(&self) -> &RunningFlags {
        &self.running_flags
    }

    /// Registers the bit-map computation the dispatcher runs before each consume-queue write.
    pub fn set_bit_map_calculator(&self, calc: BitMapCalculator) {
        *self.bit_map_calculator.write() = Some(calc);
    }

    /// A consume queue of this store, with its ConsumeQueueExt when `enableConsumeQueueExt`.
    fn new_consume_queue(&self, topic: &str, queue_id: i32) -> ConsumeQueue {
        let cq = ConsumeQueue::new(
            &self.config.consume_queue_dir(),
            topic,
            queue_id,
            self.config.consume_queue_file_size() as usize,
        );
        if !self.config.enable_consume_queue_ext {
            return cq;
        }
        cq.with_ext(crate::consume_queue_ext::ConsumeQueueExt::new(
            &self.config.consume_queue_ext_dir(),
            topic,
            queue_id,
            self.config.mapped_file_size_consume_queue_ext as usize,
        ))
    }

    /// Registers the callback the dispatcher calls for each new message.
    pub fn set_arrival_listener(&self, l: ArrivalListener) {
        *self.listener.write() = Some(l);
    }

    fn load_consume_queues(&self) -> Result<(), StoreError> {
        let dir = self.config.consume_queue_dir();
        let topics = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io("read dir", &dir, e)),
        };
        let mut table = self.consume_queue_table.write();
        for t in topics.flatten() {
            if !t.path().is_dir() {
                continue;
            }
            let topic = t.file_name().to_string_lossy().into_owned();
            let Ok(queues) = std::fs::read_dir(t.path()) else {
                continue;
            };
            for q in queues.flatten() {
                let Ok(queue_id) = q.file_name().to_string_lossy().parse::<i32>() else {
                    continue;
                };
                let cq = self.new_consume_queue(&topic, queue_id);
                cq.load()?;
                table
                    .entry(topic.clone())
                    .or_default()
                    .insert(queue_id, Arc::new(cq));
            }
        }
        Ok(())
    }

    fn consume_queues(&self) -> Vec<Arc<ConsumeQueue>> {
        self.consume_queue_table
            .read()
            .values()
            .flat_map(|m| m.values().cloned())
            .collect()
    }

    // ANCHOR: recover_store
    /// Consume queues first, then the commit log (replaying into the queues and the index
    /// after an abnormal exit), then queue entries past the recovered end are dropped and the
    /// next queue offsets rebuilt (`recover`).
    fn recover(&self, last_exit_ok: bool) {
        let mut max_phy_in_cq = 0i64;
        for cq in self.consume_queues() {
            cq.recover();
            max_phy_in_cq = max_phy_in_cq.max(cq.max_physic_offset());
        }
        let out = self.commit_log.recover(
            !last_exit_ok,
            &self.checkpoint,
            self.config.message_index_enable && self.config.message_index_safe,
            &mut |req| self.do_dispatch(req),
        );
        if out.no_files {
            tracing::warn!("the commit log has no files; deleting the consume queues");
            self.destroy_logics();
        } else if max_phy_in_cq >= out.process_offset {
            tracing::warn!(
                max_phy_in_cq,
                process_offset = out.process_offset,
                "consume queues point past the commit log; truncating them"
            );
            for cq in self.consume_queues() {
                cq.truncate_dirty_logic_files(out.process_offset);
            }
        }
        if let Some(from) = self.index_service.truncate_past(out.process_offset) {
            self.index_replay_from.store(from, Ordering::Release);
        }
        self.recover_topic_queue_table();
    }
    // ANCHOR_END: recover_store

    /// Rebuilds the next queue offsets from the consume queues and fixes their min offsets
    /// (`recoverTopicQueueTable`).
    fn recover_topic_queue_table(&self) {
        let min_phy = self.commit_log.min_offset();
        let mut table = HashMap::new();
        for cq in self.consume_queues() {
            table.insert(
                format!("{}-{}", cq.topic(), cq.queue_id()),
                cq.max_offset_in_queue(),
            );
            cq.correct_min_offset(min_phy);
        }
        self.commit_log.set_topic_queue_table(table);
    }

    fn destroy_logics(&self) {
        for cq in self.consume_queues() {
            cq.destroy();
        }
        self.consume_queue_table.write().clear();
    }

    fn start(self: &Arc<Self>) -> Result<(), StoreError> {
        let mut from = self.commit_log.min_offset();
        for cq in self.consume_queues() {
            from = from.max(cq.max_physic_offset());
        }
        // index files cut by recovery are rebuilt by replaying from where they began (the
        // consume queues skip what they already hold)
        from = from.min(self.index_replay_from.load(Ordering::Acquire));
        from = from.max(0).max(self.commit_log.min_offset());
        self.reput_from_offset.store(from, Ordering::Release);
        tracing::info!(
            reput_from = from,
            min = self.commit_log.min_offset(),
            max = self.commit_log.max_offset(),
            "starting the dispatcher"
        );
        // catch up before anything else runs, so queue offsets are right for the first put
        while self.dispatch_behind_bytes() > 0 {
            let before = self.reput_from_offset.load(Ordering::Acquire);
            self.do_reput();
            if self.reput_from_offset.load(Ordering::Acquire) == before {
                break;
            }
        }
        self.recover_topic_queue_table();
        self.spawn_thread(
            &self.reput_waker,
            "ReputMessageService",
            Duration::from_millis(1),
            |s| s.reput_step(),
        );
        let cq_interval = Duration::from_millis(self.config.flush_interval_consume_queue_ms);
        self.spawn_thread(
            &self.flush_cq_waker,
            "FlushConsumeQueueService",
            cq_interval,
            |s| s.flush_consume_queues(false),
        );
        self.commit_log.start();
        let clean_interval = Duration::from_millis(self.config.clean_resource_interval_ms);
        self.spawn_thread(&self.clean_waker, "CleanFileService", clean_interval, |s| {
            s.clean_files()
        });
        let abort = self.config.abort_path();
        File::create(&abort).map_err(|e| StoreError::io("create", &abort, e))?;
        Ok(())
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
        let weak: Weak<DefaultMessageStore> = Arc::downgrade(self);
        let w = waker.clone();
        waker.spawn(name, move || {
            while !w.is_stopped() {
                w.wait_for_running(interval);
                if w.is_stopped() {
                    break;
                }
                let Some(s) = weak.upgrade() else { break };
                step(&s);
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

    fn check_store_status(&self) -> Option<PutMessageStatus> {
        if self.shutdown.load(Ordering::Acquire) {
            tracing::warn!("message store has shutdown, so putMessage is forbidden");
            return Some(PutMessageStatus::ServiceNotAvailable);
        }
        if self.config.broker_role == BrokerRole::Slave {
            return Some(PutMessageStatus::ServiceNotAvailable);
        }
        if !self.running_flags.is_writeable() {
            tracing::warn!(
                flags = self.running_flags.bits(),
                "message store is not writeable"
            );
            return Some(PutMessageStatus::ServiceNotAvailable);
        }
        if self.is_os_page_cache_busy() {
            return Some(PutMessageStatus::OsPageCacheBusy);
        }
        None
    }

    fn check_message(msg: &MessageExtBrokerInner) -> Option<PutMessageStatus> {
        if msg.topic.len() > 127 {
            tracing::warn!(len = msg.topic.len(), "putMessage topic length too long");
            return Some(PutMessageStatus::MessageIllegal);
        }
        if msg.properties.len() > i16::MAX as usize {
            tracing::warn!(
                len = msg.properties.len(),
                "putMessage properties length too long"
            );
            return Some(PutMessageStatus::PropertiesSizeExceeded);
        }
        None
    }

    /// Appends one message; with SYNC_FLUSH returns only after an fsync covers it.
    pub fn put_message(&self, msg: MessageExtBrokerInner) -> PutMessageResult {
        self.put_one(msg, true, || {})
    }

    /// [`Self::put_message`], running `appended` as soon as the record is in the log and
    /// before any wait for the disk (not at all when the message is refused before the
    /// append). The broker releases its send worker there, so the next send appends while
    /// this one waits for the group commit — and joins it.
    pub fn put_message_then(
        &self,
        msg: MessageExtBrokerInner,
        appended: impl FnOnce(),
    ) -> PutMessageResult {
        self.put_one(msg, true, appended)
    }

    /// Appends one message that the DLedger group already committed: the same append, but
    /// not counted in `put_times` — on a follower it is not a put of this broker (4.8.0
    /// followers report a put TPS of 0); the leader counts it with [`Self::count_puts`].
    pub fn put_replicated(&self, msg: MessageExtBrokerInner) -> PutMessageResult {
        self.put_one(msg, false, || {})
    }

    fn put_one(
        &self,
        msg: MessageExtBrokerInner,
        count: bool,
        appended: impl FnOnce(),
    ) -> PutMessageResult {
        if let Some(s) = self
            .check_store_status()
            .or_else(|| Self::check_message(&msg))
        {
            return PutMessageResult::new(s, None);
        }
        let begin = Instant::now();
        let r = self.commit_log.put_message_then(&msg, appended);
        self.after_put(&r, begin, count)
    }

    /// Counts `n` puts that reached the store through [`Self::put_replicated`] on the node
    /// that accepted them (the DLedger leader).
    pub fn count_puts(&self, n: u64) {
        self.put_times.fetch_add(n, Ordering::Relaxed);
    }

    /// Appends a batch of one queue contiguously, with consecutive queue offsets
    /// (`putMessages`). Transactional messages are refused, as in 4.8.0. A DELAY in an entry
    /// is stored as it is and delays nothing (4.8.0 never redirects batch entries); a DELAY
    /// among the batch's own properties, which 4.8.0 refuses, is the broker's to check, since
    /// the entries here already carry the batch's properties.
    pub fn put_messages(&self, batch: Vec<MessageExtBrokerInner>) -> PutMessageResult {
        self.put_messages_then(batch, || {})
    }

    /// [`Self::put_messages`] with an `appended` callback, as in [`Self::put_message_then`].
    pub fn put_messages_then(
        &self,
        batch: Vec<MessageExtBrokerInner>,
        appended: impl FnOnce(),
    ) -> PutMessageResult {
        if let Some(s) = self.check_store_status() {
            return PutMessageResult::new(s, None);
        }
        let Some(first) = batch.first() else {
            return PutMessageResult::new(PutMessageStatus::MessageIllegal, None);
        };
        for m in &batch {
            if let Some(s) = Self::check_message(m) {
                return PutMessageResult::new(s, None);
            }
            if m.topic != first.topic || m.queue_id != first.queue_id || m.sys_flag & 0xC != 0 {
                tracing::warn!("batch put refused: mixed queues or transaction");
                return PutMessageResult::new(PutMessageStatus::MessageIllegal, None);
            }
        }
        let begin = Instant::now();
        let r = self.commit_log.put_messages_then(&batch, appended);
        self.after_put(&r, begin, true)
    }

    fn after_put(&self, r: &PutMessageResult, begin: Instant, count: bool) -> PutMessageResult {
        let elapsed = begin.elapsed();
        if elapsed > Duration::from_millis(500) {
            tracing::warn!(
                elapsed_ms = elapsed.as_millis() as u64,
                "putMessage not in lock took long"
            );
        }
        if !r.is_ok() {
            self.put_failed_times.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(a) = r
            .append
            .as_ref()
            .filter(|a| a.status == AppendMessageStatus::PutOk)
        {
            if count {
                self.put_times
                    .fetch_add(a.msg_num as u64, Ordering::Relaxed);
            }
            self.wake_dispatcher_if_idle();
        }
        r.clone()
    }

    /// When the append now holding the put lock started (flow control's page-cache check).
    pub fn append_started(&self) -> Option<Instant> {
        self.commit_log.append_started()
    }

    /// An append has held the put lock longer than `osPageCacheBusyTimeOutMills`
    /// (`isOSPageCacheBusy`).
    pub fn is_os_page_cache_busy(&self) -> bool {
        self.append_started()
            .map(|t| t.elapsed() > Duration::from_millis(self.config.os_page_cache_busy_timeout_ms))
            .unwrap_or(false)
    }

    /// The consume queue of `(topic, queue_id)`, created (empty) if new (`findConsumeQueue`).
    pub fn find_consume_queue(&self, topic: &str, queue_id: i32) -> Arc<ConsumeQueue> {
        if let Some(cq) = self
            .consume_queue_table
            .read()
            .get(topic)
            .and_then(|m| m.get(&queue_id))
        {
            return cq.clone();
        }
        let mut table = self.consume_queue_table.write();
        table
            .entry(topic.to_string())
            .or_default()
            .entry(queue_id)
            .or_insert_with(|| Arc::new(self.new_consume_queue(topic, queue_id)))
            .clone()
    }

    fn existing_consume_queue(&self, topic: &str, queue_id: i32) -> Option<Arc<ConsumeQueue>> {
        self.consume_queue_table
            .read()
            .get(topic)
            .and_then(|m| m.get(&queue_id))
            .cloned()
    }

    fn next_offset_correction(&self, old: i64, new: i64) -> i64 {
        if self.config.broker_role != BrokerRole::Slave {
            new
        } else {
            old
        }
    }

    fn is_the_batch_full(
        &self,
        size_py: i32,
        max_msg_nums: i32,
        buffer_total: usize,
        count: usize,
        in_disk: bool,
    ) -> bool {
        if buffer_total == 0 || count == 0 {
            return false;
        }
        if max_msg_nums as usize <= count {
            return true;
        }
        let (max_bytes, max_count) = if in_disk {
            (
                self.config.max_transfer_bytes_on_message_in_disk,
                self.config.max_transfer_count_on_message_in_disk,
            )
        } else {
            (
                self.config.max_transfer_bytes_on_message_in_memory,
                self.config.max_transfer_count_on_message_in_memory,
            )
        };
        buffer_total + size_py.max(0) as usize > max_bytes || count > max_count.saturating_sub(1)
    }

    fn memory_window(&self) -> i64 {
        (self.total_physical_memory as f64
            * (self.config.access_message_in_memory_max_ratio as f64 / 100.0)) as i64
    }

    /// Reads up to `max_msg_nums` messages of a queue from logical `offset`, skipping those
    /// whose tagsCode `filter` rejects (`getMessage`). Statuses and next offsets as 4.8.0.
    pub fn get_message(
        &self,
        group: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_msg_nums: i32,
        filter: &dyn Fn(i64) -> bool,
    ) -> GetMessageResult {
        let f = crate::filter::TagsCodeFilter(filter);
        self.get_message_filtered(group, topic, queue_id, offset, max_msg_nums, &f)
    }

    /// [`Self::get_message`] with a [`MessageFilter`](crate::filter::MessageFilter): each
    /// entry is first judged on the consume queue (extension addresses resolved to their
    /// unit), and only the entries that pass are read from the commit log and judged again.
    pub fn get_message_filtered(
        &self,
        _group: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_msg_nums: i32,
        filter: &dyn crate::filter::MessageFilter,
    ) -> GetMessageResult {
        if self.shutdown.load(Ordering::Acquire) || !self.running_flags.is_readable() {
            return GetMessageResult::empty(GetMessageStatus::NoMatchedLogicQueue);
        }
        let max_offset_py = self.commit_log.max_offset();
        let mut res = GetMessageResult::empty(GetMessageStatus::NoMessageInQueue);
        let Some(cq) = self.existing_consume_queue(topic, queue_id) else {
            res.status = GetMessageStatus::NoMatchedLogicQueue;
            res.next_begin_offset = self.next_offset_correction(offset, 0);
            return res;
        };
        let min_offset = cq.min_offset_in_queue();
        let max_offset = cq.max_offset_in_queue();
        res.min_offset = min_offset;
        res.max_offset = max_offset;
        if max_offset == 0 {
            res.status = GetMessageStatus::NoMessageInQueue;
            res.next_begin_offset = self.next_offset_correction(offset, 0);
        } else if offset < min_offset {
            res.status = GetMessageStatus::OffsetTooSmall;
            res.next_begin_offset = self.next_offset_correction(offset, min_offset);
        } else if offset == max_offset {
            res.status = GetMessageStatus::OffsetOverflowOne;
            res.next_begin_offset = self.next_offset_correction(offset, offset);
        } else if offset > max_offset {
            res.status = GetMessageStatus::OffsetOverflowBadly;
            let to = if min_offset == 0 {
                min_offset
            } else {
                max_offset
            };
            res.next_begin_offset = self.next_offset_correction(offset, to);
        } else {
            // ANCHOR: get_message_read
            let max_filter = (16000 / CQ_STORE_UNIT_SIZE).max(max_msg_nums.max(0) as usize);
            let entries = cq.get_entries(offset, max_filter);
            if entries.is_empty() {
                res.status = GetMessageStatus::OffsetFoundNull;
                let per_file =
                    (self.config.consume_queue_file_size() as usize / CQ_STORE_UNIT_SIZE) as i64;
                let rolled = offset + per_file - offset % per_file;
                res.next_begin_offset = self.next_offset_correction(offset, rolled);
                return res;
            }
            res.status = GetMessageStatus::NoMatchedMessage;
            let memory = self.memory_window();
            let mut next_phy_file_start = i64::MIN;
            let mut max_phy_pulling = 0i64;
            let mut i = 0usize;
            while i < entries.len() {
                let e = entries[i];
                max_phy_pulling = e.phy_offset;
                if next_phy_file_start != i64::MIN && e.phy_offset < next_phy_file_start {
                    i += 1;
                    continue;
                }
                let in_disk = max_offset_py - e.phy_offset > memory;
                if self.is_the_batch_full(
                    e.size,
                    max_msg_nums,
                    res.buffer_total_size,
                    res.messages.len(),
                    in_disk,
                ) {
                    break;
                }
                i += 1;
                // ANCHOR: get_message_filter
                let mut tags_code = Some(e.tags_code);
                let ext = if crate::consume_queue_ext::is_ext_addr(e.tags_code) {
                    let unit = cq.get_ext(e.tags_code);
                    match &unit {
                        Some(u) => tags_code = Some(u.tags_code),
                        None => {
                            tracing::error!(
                                topic,
                                queue_id,
                                address = e.tags_code,
                                "[BUG] can't find consume queue extend file content"
                            );
                            tags_code = None;
                        }
                    }
                    unit
                } else {
                    None
                };
                if !filter.is_matched_by_consume_queue(tags_code, ext.as_ref()) {
                    continue;
                }
                match self.commit_log.get_message(e.phy_offset, e.size) {
                    Some(b) if !filter.is_matched_by_commit_log(&b) => continue,
                    // ANCHOR_END: get_message_filter
                    Some(b) => {
                        res.buffer_total_size += b.len();
                        res.messages.push(b);
                        res.message_queue_offsets.push(offset + i as i64 - 1);
                        res.status = GetMessageStatus::Found;
                        // counted per message handed out, as getMessageTransferedMsgCount
                        self.get_times.fetch_add(1, Ordering::Relaxed);
                        next_phy_file_start = i64::MIN;
                    }
                    None => {
                        if res.buffer_total_size == 0 {
                            res.status = GetMessageStatus::MessageWasRemoving;
                        }
                        next_phy_file_start = self.commit_log.roll_next_file(e.phy_offset);
                    }
                }
            }
            res.next_begin_offset = offset + i as i64;
            res.suggest_pulling_from_slave = max_offset_py - max_phy_pulling > memory;
            // ANCHOR_END: get_message_read
        }
        res
    }

    /// One past the last logical offset of a queue, 0 if unknown.
    pub fn get_max_offset_in_queue(&self, topic: &str, queue_id: i32) -> i64 {
        self.existing_consume_queue(topic, queue_id)
            .map(|cq| cq.max_offset_in_queue())
            .unwrap_or(0)
    }

    /// First live logical offset of a queue, -1 if unknown (`getMinOffsetInQueue`).
    pub fn get_min_offset_in_queue(&self, topic: &str, queue_id: i32) -> i64 {
        self.existing_consume_queue(topic, queue_id)
            .map(|cq| cq.min_offset_in_queue())
            .unwrap_or(-1)
    }

    /// Commit-log offset of the message at a logical offset, 0 if none
    /// (`getCommitLogOffsetInQueue`).
    pub fn get_commit_log_offset_in_queue(
        &self,
        topic: &str,
        queue_id: i32,
        cq_offset: i64,
    ) -> i64 {
        self.existing_consume_queue(topic, queue_id)
            .and_then(|cq| cq.get_entry(cq_offset))
            .map(|e| e.phy_offset)
            .unwrap_or(0)
    }

    /// Store time of the message at a logical offset, -1 if none.
    pub fn get_message_store_timestamp(&self, topic: &str, queue_id: i32, cq_offset: i64) -> i64 {
        self.existing_consume_queue(topic, queue_id)
            .and_then(|cq| cq.get_entry(cq_offset))
            .map(|e| self.commit_log.pickup_store_timestamp(e.phy_offset, e.size))
            .unwrap_or(-1)
    }

    /// Store time of the oldest message of a queue, -1 if none.
    pub fn get_earliest_message_time(&self, topic: &str, queue_id: i32) -> i64 {
        match self.existing_consume_queue(topic, queue_id) {
            Some(cq) => self.get_message_store_timestamp(topic, queue_id, cq.min_offset_in_queue()),
            None => -1,
        }
    }

    /// Store time of the oldest message in the commit log, -1 if none.
    pub fn get_earliest_message_time_in_store(&self) -> i64 {
        let min = self.commit_log.min_offset();
        if min < 0 {
            return -1;
        }
        self.look_message_by_offset(min)
            .and_then(|b| crate::commit_log::store_timestamp_of(&b))
            .unwrap_or(-1)
    }

    /// The logical offset whose store time is closest to `timestamp` (`getOffsetInQueueByTime`).
    pub fn get_offset_in_queue_by_time(&self, topic: &str, queue_id: i32, timestamp: i64) -> i64 {
        let Some(cq) = self.existing_consume_queue(topic, queue_id) else {
            return 0;
        };
        let cl = &self.commit_log;
        cq.offset_in_queue_by_time(timestamp, cl.min_offset(), &|p, s| {
            cl.pickup_store_timestamp(p, s)
        })
    }

    /// The raw record starting at `commit_log_offset`.
    pub fn look_message_by_offset(&self, commit_log_offset: i64) -> Option<Bytes> {
        self.commit_log.look_message(commit_log_offset)
    }

    /// Messages of `topic` stored with `key` (a KEYS token or the UNIQ_KEY) within
    /// `[begin_ts, end_ts]` (`queryMessage`). Records are re-checked so hash collisions and
    /// index entries past a recovered end are never returned.
    pub fn query_message(
        &self,
        topic: &str,
        key: &str,
        max_num: usize,
        begin_ts: i64,
        end_ts: i64,
    ) -> QueryMessageResult {
        let r = self
            .index_service
            .query_offset(topic, key, max_num, begin_ts, end_ts);
        let mut out = QueryMessageResult {
            index_last_update_timestamp: r.index_last_update_timestamp,
            index_last_update_phyoffset: r.index_last_update_phyoffset,
            ..Default::default()
        };
        let mut offsets = r.phy_offsets;
        offsets.sort_unstable();
        offsets.dedup();
        let opts = crate::record::CheckOptions {
            check_crc: false,
            expected_offset: None,
            delay_levels_ms: self.commit_log.delay_levels_ms(),
        };
        for off in offsets {
            let Some(rec) = self.look_message_by_offset(off) else {
                continue;
            };
            let opts = crate::record::CheckOptions {
                expected_offset: Some(off),
                ..opts
            };
            if let crate::record::RecordCheck::Message(req) =
                crate::record::check_record(&rec, &opts)
            {
                let matches = req.topic == topic
                    && (req.uniq_key.as_deref() == Some(key)
                        || req.keys.split(' ').any(|k| k == key));
                if matches {
                    out.buffer_total_size += rec.len();
                    out.messages.push(rec);
                }
            }
        }
        out
    }

    /// One past the last byte of the commit log.
    pub fn get_max_phy_offset(&self) -> i64 {
        self.commit_log.max_offset()
    }

    /// First byte of the commit log still stored.
    pub fn get_min_phy_offset(&self) -> i64 {
        self.commit_log.min_offset()
    }

    /// Deletes the consume queues of `topics`.
    pub fn delete_topics(&self, topics: &[String]) -> usize {
        let mut n = 0;
        for t in topics {
            let removed = self.consume_queue_table.write().remove(t);
            if let Some(queues) = removed {
                for (qid, cq) in queues {
                    cq.destroy();
                    self.commit_log.remove_queue_from_topic_queue_table(t, qid);
                }
                let _ = std::fs::remove_dir_all(self.config.consume_queue_dir().join(t));
                n += 1;
            }
        }
        n
    }

    /// Deletes the consume queues of every topic not in `keep` (except the schedule and
    /// transaction-op topics) (`cleanUnusedTopic`).
    pub fn clean_unused_topics(&self, keep: &std::collections::HashSet<String>) -> usize {
        let unused: Vec<String> = self
            .consume_queue_table
            .read()
            .keys()
            .filter(|t| !keep.contains(*t) && !KEEP_TOPICS.contains(&t.as_str()))
            .cloned()
            .collect();
        self.delete_topics(&unused)
    }

    /// Topics that have consume queues.
    pub fn topics(&self) -> Vec<String> {
        self.consume_queue_table.read().keys().cloned().collect()
    }

    /// Asks the retention thread to delete expired files on its next 20 rounds regardless of
    /// the hour (`executeDeleteFilesManually`).
    pub fn execute_delete_files_manually(&self) {
        self.manual_delete_times.store(20, Ordering::Release);
        self.clean_waker.wakeup();
    }

    /// Stops the threads, flushes everything, writes the checkpoint and removes `abort`
    /// (clean exit). Idempotent.
    pub fn shutdown(&self) {
        if self.shutdown.swap(true, Ordering::AcqRel) {
            return;
        }
        self.clean_waker.shutdown();
        self.commit_log.shutdown();
        // let the dispatcher finish what was appended
        for _ in 0..50 {
            if self.dispatch_behind_bytes() == 0 {
                break;
            }
            self.reput_waker.wakeup();
            std::thread::sleep(Duration::from_millis(20));
        }
        self.reput_waker.shutdown();
        self.do_reput();
        self.flush_cq_waker.shutdown();
        self.flush_consume_queues(true);
        self.index_service.flush();
        if let Err(e) = self.checkpoint.flush() {
            tracing::error!(error = %e, "checkpoint flush failed at shutdown");
        }
        if self.running_flags.is_writeable() && self.dispatch_behind_bytes() == 0 {
            let _ = std::fs::remove_file(self.config.abort_path());
        } else {
            tracing::warn!(
                "store not cleanly shut down (unwritable or undispatched); abort file kept"
            );
        }
        self.release_lock();
    }

    /// Stops every thread without writing the checkpoint or removing `abort`: the state a
    /// `kill -9` leaves behind (a killed process loses nothing the page cache holds, so the
    /// commit log's final flush changes nothing a reader could see). For crash tests and
    /// experiments.
    pub fn halt(&self) {
        if self.shutdown.swap(true, Ordering::AcqRel) {
            return;
        }
        self.clean_waker.shutdown();
        self.reput_waker.shutdown();
        self.flush_cq_waker.shutdown();
        self.commit_log.shutdown();
        self.release_lock();
    }

    fn release_lock(&self) {
        if let Some(f) = self.lock_file.lock().take() {
            let _ = fs2::FileExt::unlock(&f);
        }
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
