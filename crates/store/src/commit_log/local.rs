//! The local commit log: every message of every topic, appended to one sequence of mapped
//! files under `commitlog/`.
//!
//! Appends happen under one put lock, which also assigns each message its queue offset
//! (`topicQueueTable["topic-queueId"]`) and store time (`put.rs`). When a record does not fit
//! in the rest of the current file, an END_OF_FILE blank (`[remaining i32][BLANK_MAGIC_CODE
//! i32]`) closes the file and the record goes to the start of the next one, so a record never
//! spans files. Recovery walks records from a start file, validating each, and cuts the log
//! at the first one that is not valid (`recover.rs`). This file holds the log itself and its
//! reads. Book: Part I, "CommitLog" and "Crash recovery". Mirrors
//! `org.apache.rocketmq.store.CommitLog` (with `DefaultAppendMessageCallback`).

use super::lock::QueueTable;
use super::store_timestamp_of;
use crate::allocate::AllocateMappedFileService;
use crate::checkpoint::StoreCheckpoint;
use crate::config::{FlushDiskType, MessageStoreConfig};
use crate::error::StoreError;
use crate::flush::{CommitLogFlusher, FlushRealTimeService, GroupCommitService};
use crate::mapped_file::{MappedFile, RecoveryPhase, WriteRight};
use crate::mapped_file_queue::MappedFileQueue;
use bytes::Bytes;
use parking_lot::Mutex;
use rmq_common::message::MESSAGE_MAGIC_CODE;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A file always keeps room for the 8-byte blank (`END_FILE_MIN_BLANK_LENGTH`).
pub const END_FILE_MIN_BLANK_LENGTH: usize = 8;

/// State guarded by the put lock.
pub(super) struct PutState {
    /// Next queue offset per `"topic-queueId"`.
    pub(super) topic_queue_table: QueueTable,
    /// The right to append to the commit-log files: only the put lock's holder has it.
    pub(super) right: WriteRight,
}

/// See the module docs.
pub struct LocalCommitLog {
    pub(super) queue: Arc<MappedFileQueue>,
    pub(super) file_size: usize,
    pub(super) max_message_size: usize,
    pub(super) check_crc_on_recover: bool,
    pub(super) delay_levels_ms: Vec<i64>,
    pub(super) put: Mutex<PutState>,
    pub(super) begin_time_in_lock: Mutex<Option<Instant>>,
    pub(super) flusher: CommitLogFlusher,
    pub(super) sync_flush_timeout: Duration,
    allocator: Arc<AllocateMappedFileService>,
    /// A put may wait for the disk (SYNC_FLUSH) or for a file to be created and warmed.
    put_may_block: bool,
}

impl LocalCommitLog {
    /// The commit log under `config.commit_log_dir()` (nothing is mapped until `load`), with
    /// the flush service `flushDiskType` asks for.
    pub fn new(
        config: &MessageStoreConfig,
        checkpoint: Arc<StoreCheckpoint>,
    ) -> Result<Self, StoreError> {
        let sync_pages = if config.flush_disk_type == FlushDiskType::SyncFlush {
            config.flush_least_pages_when_warm_mapped_file as usize
        } else {
            0
        };
        let allocator = AllocateMappedFileService::new(config.warm_mapped_file_enable, sync_pages);
        let file_size = config.mapped_file_size_commit_log as usize;
        let right = WriteRight::new();
        let queue = Arc::new(MappedFileQueue::new(
            config.commit_log_dir(),
            file_size,
            Some(allocator.clone()),
            right.id(),
        ));
        let flusher = match config.flush_disk_type {
            FlushDiskType::SyncFlush => {
                CommitLogFlusher::Sync(GroupCommitService::new(queue.clone(), checkpoint))
            }
            FlushDiskType::AsyncFlush => CommitLogFlusher::Async(FlushRealTimeService::new(
                queue.clone(),
                checkpoint,
                config.flush_interval_commit_log_ms,
                config.flush_commit_log_least_pages as usize,
                config.flush_commit_log_thorough_interval_ms,
                config.flush_commit_log_timed,
            )),
        };
        let delay_levels_ms = crate::record::parse_delay_levels(&config.message_delay_level)
            .map_err(StoreError::Config)?;
        Ok(LocalCommitLog {
            queue,
            file_size,
            max_message_size: config.max_message_size,
            check_crc_on_recover: config.check_crc_on_recover,
            delay_levels_ms,
            put: Mutex::new(PutState {
                topic_queue_table: QueueTable::new(),
                right,
            }),
            begin_time_in_lock: Mutex::new(None),
            flusher,
            sync_flush_timeout: Duration::from_millis(config.sync_flush_timeout_ms),
            allocator,
            put_may_block: config.flush_disk_type == FlushDiskType::SyncFlush
                || config.warm_mapped_file_enable,
        })
    }

    /// Whether a put may block its thread (SYNC_FLUSH waits for the group commit; file
    /// warming makes the file roll slow).
    pub fn put_may_block(&self) -> bool {
        self.put_may_block
    }

    /// The files.
    pub fn mapped_file_queue(&self) -> &Arc<MappedFileQueue> {
        &self.queue
    }
    /// The size of every file (`mappedFileSizeCommitLog`).
    pub fn file_size(&self) -> usize {
        self.file_size
    }
    /// The delay levels in ms (`messageDelayLevel`), for the dispatcher's due times.
    pub fn delay_levels_ms(&self) -> &[i64] {
        &self.delay_levels_ms
    }

    /// Maps the existing files.
    pub fn load(&self, phase: &mut RecoveryPhase) -> Result<(), StoreError> {
        self.queue.load(phase)
    }

    /// Starts the file allocator and the flush thread.
    pub fn start(&self) {
        self.allocator.start();
        self.flusher.start();
    }

    /// Stops the flush thread (after a final flush) and the allocator.
    pub fn shutdown(&self) {
        self.flusher.shutdown();
        self.allocator.shutdown();
    }

    /// The group-commit service, when SYNC_FLUSH.
    pub fn group_commit(&self) -> Option<&Arc<GroupCommitService>> {
        match &self.flusher {
            CommitLogFlusher::Sync(g) => Some(g),
            CommitLogFlusher::Async(_) => None,
        }
    }

    /// When the append now holding the put lock began, if one does (`beginTimeInLock`).
    pub fn append_started(&self) -> Option<Instant> {
        *self.begin_time_in_lock.lock()
    }

    /// First stored byte (`getMinOffset`), -1 without files.
    pub fn min_offset(&self) -> i64 {
        match self.queue.first() {
            Some(f) if f.is_available() => f.file_from_offset() as i64,
            Some(f) => self.roll_next_file(f.file_from_offset() as i64),
            None => -1,
        }
    }

    /// One past the last readable byte (`getMaxOffset`).
    pub fn max_offset(&self) -> i64 {
        self.queue.max_offset()
    }

    /// Start of the file after the one holding `offset` (`rollNextFile`).
    pub fn roll_next_file(&self, offset: i64) -> i64 {
        let size = self.file_size as i64;
        offset + size - offset % size
    }

    /// Next queue offset of a queue, as the put lock sees it.
    pub fn queue_offset(&self, topic: &str, queue_id: i32) -> i64 {
        self.put
            .lock()
            .topic_queue_table
            .get(&super::lock::queue_key(topic, queue_id))
            .copied()
            .unwrap_or(0)
    }

    /// Replaces the queue-offset table (after recovery).
    pub fn set_topic_queue_table(&self, table: QueueTable) {
        self.put.lock().topic_queue_table = table;
    }

    /// Forgets a queue (topic deleted).
    pub fn remove_queue_from_topic_queue_table(&self, topic: &str, queue_id: i32) {
        self.put
            .lock()
            .topic_queue_table
            .remove(&super::lock::queue_key(topic, queue_id));
    }

    /// The file holding `offset` and the readable bytes from there to the file's end
    /// (`getData`): `(file, position in file, length)`.
    pub fn get_data(&self, offset: i64) -> Option<(Arc<MappedFile>, usize, usize)> {
        let f = self.queue.find_by_offset(offset, offset == 0)?;
        let pos = (offset - f.file_from_offset() as i64).max(0) as usize;
        let read = f.read_position();
        if pos >= read {
            return None;
        }
        Some((f, pos, read - pos))
    }

    // ANCHOR: cl_get_message
    /// Copies `size` bytes at `offset` (`getMessage`).
    pub fn get_message(&self, offset: i64, size: i32) -> Option<Bytes> {
        if size <= 0 || offset < 0 {
            return None;
        }
        let f = self.queue.find_by_offset(offset, offset == 0)?;
        let pos = (offset - f.file_from_offset() as i64) as usize;
        f.read_bytes(pos, size as usize)
    }
    // ANCHOR_END: cl_get_message

    /// The whole record at `offset`, if a record starts there (`lookMessageByOffset`).
    pub fn look_message(&self, offset: i64) -> Option<Bytes> {
        let f = self.queue.find_by_offset(offset, false)?;
        let pos = (offset - f.file_from_offset() as i64) as usize;
        let head = f.slice(pos, 8)?;
        let size = i32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let magic = i32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        if magic != MESSAGE_MAGIC_CODE || size <= 0 {
            return None;
        }
        f.read_bytes(pos, size as usize)
    }

    /// The store time of the record at `offset` of `size` bytes, -1 if unreadable
    /// (`pickupStoreTimestamp`).
    pub fn pickup_store_timestamp(&self, offset: i64, size: i32) -> i64 {
        let Some(f) = self.queue.find_by_offset(offset, false) else {
            return -1;
        };
        let pos = (offset - f.file_from_offset() as i64) as usize;
        let Some(rec) = f.slice(
            pos,
            (size.max(0) as usize).min(f.file_size() - pos.min(f.file_size())),
        ) else {
            return -1;
        };
        store_timestamp_of(rec).unwrap_or(-1)
    }

    /// Deletes files older than `expired_ms` (all but the last when `clean_immediately`).
    pub fn delete_expired_file(
        &self,
        expired_ms: i64,
        interval_ms: u64,
        clean_immediately: bool,
    ) -> usize {
        self.queue
            .delete_expired_by_time(expired_ms, interval_ms, clean_immediately)
    }
}
