//! Opening and closing the store: take the lock file, load the files, recover (abnormally
//! when the `abort` file survived the last run), let the dispatcher catch up, start the flush,
//! dispatch and retention threads and create `abort`; at shutdown stop them, flush
//! everything, write the checkpoint and remove `abort`. Book: Part I, "Crash recovery".
//! Mirrors `DefaultMessageStore.load`, `recover`, `start` and `shutdown` of 4.8.0.

use super::{total_physical_memory, DefaultMessageStore};
use crate::checkpoint::StoreCheckpoint;
use crate::commit_log::{CommitLog, DLedgerCommitLog, LocalCommitLog};
use crate::config::MessageStoreConfig;
use crate::error::StoreError;
use crate::index_service::IndexService;
use crate::mapped_file::RecoveryPhase;
use crate::running_flags::RunningFlags;
use crate::service::Waker;
use parking_lot::{Mutex, RwLock};
use rmq_dledger::store::{DLedgerStore, DataView};
use std::collections::HashMap;
use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Which commit log a store opens on.
enum LogSpec {
    /// `commitlog/`, written by this store.
    Local,
    /// A DLedger member's data files, seen through its [`DataView`].
    DLedger(DataView),
}

impl DefaultMessageStore {
    /// Opens (or creates) the store under `config.store_path_root_dir` with its own commit
    /// log under `commitlog/`, recovers it and starts its threads (`load` + `start`).
    pub fn open(config: MessageStoreConfig) -> Result<Arc<Self>, StoreError> {
        Self::open_with(config, LogSpec::Local)
    }

    /// Opens the store in DLedger mode: the data files of `ledger` (a DLedger member's
    /// store, opened and recovered, not yet running) are the commit log. The records in its
    /// last files are checked (a torn one cuts the log there), then consume queues and index
    /// are recovered against the files. Puts need the running member:
    /// [`Self::attach_dledger`].
    pub fn open_on_dledger(
        config: MessageStoreConfig,
        ledger: &mut DLedgerStore,
    ) -> Result<Arc<Self>, StoreError> {
        let view = ledger.data_view();
        super::dledger::check_layout(&config, &view)?;
        let levels = crate::record::parse_delay_levels(&config.message_delay_level)
            .map_err(StoreError::Config)?;
        crate::commit_log::dledger::cut_damaged_tail(ledger, &levels)?;
        Self::open_with(config, LogSpec::DLedger(view))
    }

    // ANCHOR: open
    /// `load` + `start`: the lock file, the files, recovery (abnormal when `abort` survived
    /// the last run), then the threads.
    fn open_with(config: MessageStoreConfig, spec: LogSpec) -> Result<Arc<Self>, StoreError> {
        config.validate()?;
        let root = config.store_path_root_dir.clone();
        std::fs::create_dir_all(&root).map_err(|e| StoreError::io("create dir", &root, e))?;
        let lock_file = Self::lock(&config)?;
        let last_exit_ok = !config.abort_path().exists();
        let checkpoint = Arc::new(StoreCheckpoint::open(&config.checkpoint_path())?);
        let commit_log = match spec {
            LogSpec::Local => CommitLog::Local(LocalCommitLog::new(&config, checkpoint.clone())?),
            LogSpec::DLedger(view) => CommitLog::DLedger(DLedgerCommitLog::new(
                view,
                config.max_message_size,
                crate::record::parse_delay_levels(&config.message_delay_level)
                    .map_err(StoreError::Config)?,
            )),
        };
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
        {
            // SAFETY: the store was just built and is not shared; no thread runs until
            // `start`, after this block ends the phase.
            let mut phase = unsafe { RecoveryPhase::begin() };
            if let CommitLog::Local(log) = &store.commit_log {
                log.load(&mut phase)?;
            }
            store.load_consume_queues(&mut phase)?;
            store.index_service.load(last_exit_ok)?;
            store.recover(last_exit_ok, &mut phase);
        }
        store.start()?;
        Ok(store)
    }
    // ANCHOR_END: open

    pub(super) fn lock(config: &MessageStoreConfig) -> Result<File, StoreError> {
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

    pub(super) fn load_consume_queues(&self, phase: &mut RecoveryPhase) -> Result<(), StoreError> {
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
                cq.load(phase)?;
                table
                    .entry(topic.clone())
                    .or_default()
                    .insert(queue_id, Arc::new(cq));
            }
        }
        Ok(())
    }

    // ANCHOR: recover_store
    /// Consume queues first, then the commit log (replaying into the queues and the index
    /// after an abnormal exit), then queue entries past the recovered end are dropped and the
    /// next queue offsets rebuilt (`recover`). In DLedger mode the member recovered its files
    /// when it opened them; the end is its written data (`DLedgerCommitLog.recover`).
    pub(super) fn recover(&self, last_exit_ok: bool, phase: &mut RecoveryPhase) {
        let mut max_phy_in_cq = 0i64;
        for cq in self.consume_queues() {
            cq.recover(phase);
            max_phy_in_cq = max_phy_in_cq.max(cq.max_physic_offset());
        }
        let out = match &self.commit_log {
            CommitLog::Local(log) => log.recover(
                !last_exit_ok,
                &self.checkpoint,
                self.config.message_index_enable && self.config.message_index_safe,
                phase,
                &mut |req| self.do_dispatch(req),
            ),
            CommitLog::DLedger(log) => crate::commit_log::RecoveryOutcome {
                process_offset: log.max_wrote_offset(),
                no_files: !log.has_files(),
            },
        };
        if out.no_files {
            tracing::warn!("the commit log has no files; deleting the consume queues");
            self.destroy_logics();
        } else if max_phy_in_cq > out.process_offset {
            tracing::warn!(
                max_phy_in_cq,
                process_offset = out.process_offset,
                "consume queues point past the commit log; truncating them"
            );
            for cq in self.consume_queues() {
                cq.truncate_dirty_logic_files(phase, out.process_offset);
            }
        }
        if let Some(from) = self.index_service.truncate_past(out.process_offset) {
            self.index_replay_from.store(from, Ordering::Release);
        }
        self.recover_topic_queue_table();
    }
    // ANCHOR_END: recover_store

    /// Rebuilds the next queue offsets from the consume queues and fixes their min offsets
    /// (`recoverTopicQueueTable`). A DLedger member calls it when it becomes leader, once
    /// everything committed is dispatched: its queue offsets are then the group's.
    pub fn recover_topic_queue_table(&self) {
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

    pub(super) fn destroy_logics(&self) {
        for cq in self.consume_queues() {
            cq.destroy();
        }
        self.consume_queue_table.write().clear();
    }

    pub(super) fn start(self: &Arc<Self>) -> Result<(), StoreError> {
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
        self.spawn_paced_thread(
            &self.reput_waker,
            "ReputMessageService",
            Duration::from_millis(1),
            |s| s.reput_step(),
            |s| s.reput_wait(),
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

    pub(super) fn release_lock(&self) {
        if let Some(f) = self.lock_file.lock().take() {
            let _ = fs2::FileExt::unlock(&f);
        }
    }
}
