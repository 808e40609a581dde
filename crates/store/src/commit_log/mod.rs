//! The commit log: every message of every topic, appended to one sequence of mapped files.
//!
//! Appends happen under one put lock, which also assigns each message its queue offset
//! (`topicQueueTable["topic-queueId"]`) and store time. When a record does not fit in the rest
//! of the current file, an END_OF_FILE blank (`[remaining i32][BLANK_MAGIC_CODE i32]`) closes
//! the file and the record goes to the start of the next one, so a record never spans files.
//! Recovery walks records from a start file, validating each, and cuts the log at the first
//! one that is not valid. Book: Part I, "CommitLog" and "Crash recovery". Mirrors
//! `org.apache.rocketmq.store.CommitLog` (with `DefaultAppendMessageCallback`).

use crate::allocate::AllocateMappedFileService;
use crate::checkpoint::StoreCheckpoint;
use crate::config::{FlushDiskType, MessageStoreConfig};
use crate::error::StoreError;
use crate::flush::{CommitLogFlusher, FlushRealTimeService, GroupCommitService};
use crate::mapped_file::{AppendOutcome, MappedFile};
use crate::mapped_file_queue::MappedFileQueue;
use crate::record::{check_record, CheckOptions, DispatchRequest, RecordCheck};
use crate::result::{AppendMessageResult, AppendMessageStatus, PutMessageResult, PutMessageStatus};
use crate::util::now_ms;
use bytes::Bytes;
use parking_lot::Mutex;
use rmq_common::inner::{encode_inner_record_into, inner_record_size, MessageExtBrokerInner};
use rmq_common::message::{BLANK_MAGIC_CODE, BORNHOST_V6_FLAG, MESSAGE_MAGIC_CODE};
use rmq_common::msgid::offset_msg_id;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A file always keeps room for the 8-byte blank (`END_FILE_MIN_BLANK_LENGTH`).
pub const END_FILE_MIN_BLANK_LENGTH: usize = 8;

const TRANSACTION_PREPARED_TYPE: i32 = 0x4;
const TRANSACTION_ROLLBACK_TYPE: i32 = 0xC;

/// State guarded by the put lock.
struct PutState {
    /// Next queue offset per `"topic-queueId"`.
    topic_queue_table: HashMap<String, i64>,
}

/// Where recovery stopped and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryOutcome {
    /// First byte not recovered (the new write position).
    pub process_offset: i64,
    /// The commit log had no files at all.
    pub no_files: bool,
}

/// See the module docs.
pub struct CommitLog {
    queue: Arc<MappedFileQueue>,
    file_size: usize,
    max_message_size: usize,
    check_crc_on_recover: bool,
    delay_levels_ms: Vec<i64>,
    put: Mutex<PutState>,
    begin_time_in_lock: Mutex<Option<Instant>>,
    flusher: CommitLogFlusher,
    sync_flush_timeout: Duration,
    allocator: Arc<AllocateMappedFileService>,
}

fn queue_key(topic: &str, queue_id: i32) -> String {
    format!("{topic}-{queue_id}")
}

/// Whether the properties string says `WAIT=false` (the producer does not wait for the flush).
fn wait_store_msg_ok(properties: &str) -> bool {
    !properties.split('\u{2}').any(|p| p == "WAIT\u{1}false")
}

impl CommitLog {
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
        let queue = Arc::new(MappedFileQueue::new(
            config.commit_log_dir(),
            file_size,
            Some(allocator.clone()),
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
        Ok(CommitLog {
            queue,
            file_size,
            max_message_size: config.max_message_size,
            check_crc_on_recover: config.check_crc_on_recover,
            delay_levels_ms,
            put: Mutex::new(PutState {
                topic_queue_table: HashMap::new(),
            }),
            begin_time_in_lock: Mutex::new(None),
            flusher,
            sync_flush_timeout: Duration::from_millis(config.sync_flush_timeout_ms),
            allocator,
        })
    }

    pub fn mapped_file_queue(&self) -> &Arc<MappedFileQueue> {
        &self.queue
    }
    pub fn file_size(&self) -> usize {
        self.file_size
    }
    pub fn delay_levels_ms(&self) -> &[i64] {
        &self.delay_levels_ms
    }

    /// Maps the existing files.
    pub fn load(&self) -> Result<(), StoreError> {
        self.queue.load()
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
            .get(&queue_key(topic, queue_id))
            .copied()
            .unwrap_or(0)
    }

    /// Replaces the queue-offset table (after recovery).
    pub fn set_topic_queue_table(&self, table: HashMap<String, i64>) {
        self.put.lock().topic_queue_table = table;
    }

    /// Forgets a queue (topic deleted).
    pub fn remove_queue_from_topic_queue_table(&self, topic: &str, queue_id: i32) {
        self.put
            .lock()
            .topic_queue_table
            .remove(&queue_key(topic, queue_id));
    }

    /// Appends one record and, with SYNC_FLUSH, waits for the fsync covering it.
    pub fn put_message(&self, msg: &MessageExtBrokerInner) -> PutMessageResult {
        self.put_message_then(msg, || {})
    }

    // ANCHOR: append
    /// Appends one record under the put lock (`putMessage` + `doAppend`). If the record does
    /// not fit in the current file, the END_OF_FILE blank fills the rest of it and the record
    /// is written at the start of a new file. `appended` runs once the record is in the file
    /// and the put lock is released, before any wait for the disk: the broker frees its send
    /// worker there, as 4.8.0's `asyncPutMessage` returns before the flush.
    pub fn put_message_then(
        &self,
        msg: &MessageExtBrokerInner,
        appended: impl FnOnce(),
    ) -> PutMessageResult {
        let tran_type = msg.sys_flag & 0xC;
        let msg_len = inner_record_size(msg);
        if msg_len > self.max_message_size || msg_len + END_FILE_MIN_BLANK_LENGTH > self.file_size {
            tracing::warn!(
                len = msg_len,
                max = self.max_message_size,
                "message size exceeded"
            );
            return PutMessageResult::new(
                PutMessageStatus::MessageIllegal,
                Some(failed(AppendMessageStatus::MessageSizeExceeded, now_ms())),
            );
        }
        let mut put = self.put.lock();
        let begin = Instant::now();
        *self.begin_time_in_lock.lock() = Some(begin);
        let store_ts = now_ms();
        let key = queue_key(&msg.topic, msg.queue_id);
        let mut queue_offset = put.topic_queue_table.get(&key).copied().unwrap_or(0);
        if tran_type == TRANSACTION_PREPARED_TYPE || tran_type == TRANSACTION_ROLLBACK_TYPE {
            queue_offset = 0;
        }
        let mut result = None;
        for _attempt in 0..2 {
            let file = match self.queue.last_or_create(0) {
                Ok(f) => f,
                Err(e) => {
                    tracing::error!(error = %e, "create mapped file failed");
                    *self.begin_time_in_lock.lock() = None;
                    return PutMessageResult::new(PutMessageStatus::CreateMappedFileFailed, None);
                }
            };
            let appended = file.append_with(|tail, wrote_offset| {
                if msg_len + END_FILE_MIN_BLANK_LENGTH > tail.len() {
                    write_blank(tail);
                    return AppendOutcome {
                        written: tail.len(),
                        value: Err(AppendMessageStatus::EndOfFile),
                    };
                }
                match encode_inner_record_into(
                    msg,
                    queue_offset,
                    wrote_offset as i64,
                    store_ts,
                    tail,
                ) {
                    Ok(n) => AppendOutcome {
                        written: n,
                        value: Ok(wrote_offset as i64),
                    },
                    Err(_) => AppendOutcome {
                        written: 0,
                        value: Err(AppendMessageStatus::PropertiesSizeExceeded),
                    },
                }
            });
            match appended {
                Some(Ok(wrote_offset)) => {
                    file.set_store_timestamp(store_ts);
                    if tran_type != TRANSACTION_PREPARED_TYPE
                        && tran_type != TRANSACTION_ROLLBACK_TYPE
                    {
                        put.topic_queue_table.insert(key.clone(), queue_offset + 1);
                    }
                    result = Some(AppendMessageResult {
                        status: AppendMessageStatus::PutOk,
                        wrote_offset,
                        wrote_bytes: msg_len,
                        msg_id: offset_msg_id(msg.store_host, wrote_offset),
                        store_timestamp: store_ts,
                        logics_offset: queue_offset,
                        msg_num: 1,
                    });
                    break;
                }
                Some(Err(AppendMessageStatus::EndOfFile)) | None => continue, // roll to a new file
                Some(Err(status)) => {
                    *self.begin_time_in_lock.lock() = None;
                    return PutMessageResult::new(
                        PutMessageStatus::MessageIllegal,
                        Some(failed(status, store_ts)),
                    );
                }
            }
        }
        *self.begin_time_in_lock.lock() = None;
        drop(put);
        appended();
        let elapsed = begin.elapsed();
        if elapsed > Duration::from_millis(500) {
            tracing::warn!(
                elapsed_ms = elapsed.as_millis() as u64,
                len = msg_len,
                "putMessage in lock took long"
            );
        }
        match result {
            Some(r) => self.handle_disk_flush(r, wait_store_msg_ok(&msg.properties)),
            None => PutMessageResult::new(PutMessageStatus::UnknownError, None),
        }
    }
    // ANCHOR_END: append

    /// Appends several messages of one queue back to back, with consecutive queue offsets;
    /// the whole batch goes into one file (`putMessages`).
    pub fn put_messages(&self, msgs: &[MessageExtBrokerInner]) -> PutMessageResult {
        self.put_messages_then(msgs, || {})
    }

    /// [`Self::put_messages`], running `appended` between the append and the disk wait (see
    /// [`Self::put_message_then`]).
    pub fn put_messages_then(
        &self,
        msgs: &[MessageExtBrokerInner],
        appended: impl FnOnce(),
    ) -> PutMessageResult {
        let Some(first) = msgs.first() else {
            return PutMessageResult::new(PutMessageStatus::MessageIllegal, None);
        };
        let lens: Vec<usize> = msgs.iter().map(inner_record_size).collect();
        let total: usize = lens.iter().sum();
        if lens.iter().any(|l| *l > self.max_message_size)
            || total > self.max_message_size
            || total + END_FILE_MIN_BLANK_LENGTH > self.file_size
        {
            tracing::warn!(
                len = total,
                max = self.max_message_size,
                "message batch size exceeded"
            );
            return PutMessageResult::new(
                PutMessageStatus::MessageIllegal,
                Some(failed(AppendMessageStatus::MessageSizeExceeded, now_ms())),
            );
        }
        let mut put = self.put.lock();
        let begin = Instant::now();
        *self.begin_time_in_lock.lock() = Some(begin);
        let store_ts = now_ms();
        let key = queue_key(&first.topic, first.queue_id);
        let queue_offset = put.topic_queue_table.get(&key).copied().unwrap_or(0);
        let mut result = None;
        for _attempt in 0..2 {
            let file = match self.queue.last_or_create(0) {
                Ok(f) => f,
                Err(e) => {
                    tracing::error!(error = %e, "create mapped file failed");
                    *self.begin_time_in_lock.lock() = None;
                    return PutMessageResult::new(PutMessageStatus::CreateMappedFileFailed, None);
                }
            };
            let appended = file.append_with(|tail, wrote_offset| {
                if total + END_FILE_MIN_BLANK_LENGTH > tail.len() {
                    write_blank(tail);
                    return AppendOutcome {
                        written: tail.len(),
                        value: Err(AppendMessageStatus::EndOfFile),
                    };
                }
                let mut pos = 0usize;
                let mut ids = Vec::with_capacity(msgs.len());
                for (i, m) in msgs.iter().enumerate() {
                    let phy = wrote_offset as i64 + pos as i64;
                    match encode_inner_record_into(
                        m,
                        queue_offset + i as i64,
                        phy,
                        store_ts,
                        &mut tail[pos..],
                    ) {
                        Ok(n) => pos += n,
                        Err(_) => {
                            // nothing is published: the wrote position stays where it was
                            return AppendOutcome {
                                written: 0,
                                value: Err(AppendMessageStatus::PropertiesSizeExceeded),
                            };
                        }
                    }
                    ids.push(offset_msg_id(m.store_host, phy));
                }
                AppendOutcome {
                    written: pos,
                    value: Ok((wrote_offset as i64, ids.join(","))),
                }
            });
            match appended {
                Some(Ok((wrote_offset, msg_id))) => {
                    file.set_store_timestamp(store_ts);
                    put.topic_queue_table
                        .insert(key.clone(), queue_offset + msgs.len() as i64);
                    result = Some(AppendMessageResult {
                        status: AppendMessageStatus::PutOk,
                        wrote_offset,
                        wrote_bytes: total,
                        msg_id,
                        store_timestamp: store_ts,
                        logics_offset: queue_offset,
                        msg_num: msgs.len(),
                    });
                    break;
                }
                Some(Err(AppendMessageStatus::EndOfFile)) | None => continue,
                Some(Err(status)) => {
                    *self.begin_time_in_lock.lock() = None;
                    return PutMessageResult::new(
                        PutMessageStatus::MessageIllegal,
                        Some(failed(status, store_ts)),
                    );
                }
            }
        }
        *self.begin_time_in_lock.lock() = None;
        drop(put);
        appended();
        match result {
            Some(r) => {
                let wait = msgs.iter().all(|m| wait_store_msg_ok(&m.properties));
                self.handle_disk_flush(r, wait)
            }
            None => PutMessageResult::new(PutMessageStatus::UnknownError, None),
        }
    }

    /// A slave's append of raw bytes replicated from its master (`appendData`): under the put
    /// lock, into the last file (created at `start_offset`'s file start when the log is empty
    /// or the last file is full). The bytes must fit in that file; the master never sends a
    /// chunk that spans files. Returns whether they were written.
    pub fn append_data(&self, start_offset: i64, data: &[u8]) -> Result<bool, StoreError> {
        let _put = self.put.lock();
        let file = self.queue.last_or_create(start_offset.max(0) as u64)?;
        let written = file.append_with(|tail, wrote_offset| {
            if wrote_offset as i64 != start_offset || tail.len() < data.len() {
                return AppendOutcome {
                    written: 0,
                    value: false,
                };
            }
            tail[..data.len()].copy_from_slice(data);
            AppendOutcome {
                written: data.len(),
                value: true,
            }
        });
        Ok(written.unwrap_or(false))
    }

    /// SYNC_FLUSH: wait for the group commit to cover the record (unless the producer said
    /// WAIT=false); ASYNC_FLUSH: wake the flush thread if enough is dirty (`handleDiskFlush`).
    fn handle_disk_flush(&self, r: AppendMessageResult, wait: bool) -> PutMessageResult {
        match &self.flusher {
            CommitLogFlusher::Sync(gc) => {
                let next = r.wrote_offset + r.wrote_bytes as i64;
                if wait && !gc.wait_for_flush(next, self.sync_flush_timeout) {
                    tracing::error!(next, "do groupcommit, wait for flush failed");
                    return PutMessageResult::new(PutMessageStatus::FlushDiskTimeout, Some(r));
                }
                if !wait {
                    gc.wait_for_flush(next, Duration::ZERO);
                }
            }
            CommitLogFlusher::Async(f) => f.wakeup_if_due(r.wrote_offset + r.wrote_bytes as i64),
        }
        PutMessageResult::new(PutMessageStatus::PutOk, Some(r))
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

    /// Copies `size` bytes at `offset` (`getMessage`).
    pub fn get_message(&self, offset: i64, size: i32) -> Option<Bytes> {
        if size <= 0 || offset < 0 {
            return None;
        }
        let f = self.queue.find_by_offset(offset, offset == 0)?;
        let pos = (offset - f.file_from_offset() as i64) as usize;
        f.read_bytes(pos, size as usize)
    }

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

    // ANCHOR: recover
    /// Finds the end of valid data and cuts the log there. Normal recovery (clean exit) starts
    /// three files from the end; abnormal recovery starts at the newest file whose first
    /// message is no newer than the checkpoint and hands every valid record to `dispatch`, so
    /// the consume queues and the index are rebuilt. Whatever follows the last valid record
    /// is dropped, and each drop is logged with its file, offset and size.
    pub fn recover(
        &self,
        abnormal: bool,
        checkpoint: &StoreCheckpoint,
        index_safe: bool,
        dispatch: &mut dyn FnMut(&DispatchRequest),
    ) -> RecoveryOutcome {
        let files = self.queue.files();
        if files.is_empty() {
            self.queue.set_flushed_where(0);
            return RecoveryOutcome {
                process_offset: 0,
                no_files: true,
            };
        }
        let mut index = if abnormal {
            let min_ts = if index_safe {
                checkpoint.min_timestamp_index()
            } else {
                checkpoint.min_timestamp()
            };
            files
                .iter()
                .rposition(|f| {
                    first_store_timestamp(f)
                        .map(|t| t <= min_ts)
                        .unwrap_or(false)
                })
                .unwrap_or(0)
        } else {
            files.len().saturating_sub(3)
        };
        tracing::info!(abnormal, file = %files[index].path().display(), "commit log recovery starts");
        let opts = CheckOptions {
            check_crc: self.check_crc_on_recover,
            expected_offset: None,
            delay_levels_ms: &self.delay_levels_ms,
        };
        let mut pos = 0usize;
        let stop_reason;
        loop {
            let f = &files[index];
            let data = f.whole_for_recovery();
            let at = f.file_from_offset() as i64 + pos as i64;
            let verdict = check_record(
                &data[pos..],
                &CheckOptions {
                    expected_offset: Some(at),
                    ..opts
                },
            );
            match verdict {
                RecordCheck::Message(req) => {
                    pos += req.msg_size as usize;
                    if abnormal {
                        dispatch(&req);
                    }
                }
                RecordCheck::EndOfFile => {
                    if index + 1 >= files.len() {
                        stop_reason = "END_OF_FILE blank in the last file".to_string();
                        break;
                    }
                    index += 1;
                    pos = 0;
                }
                RecordCheck::SizeMismatch { size, reason } => {
                    stop_reason = format!("record of size {size} is inconsistent: {reason}");
                    break;
                }
                RecordCheck::Invalid(reason) => {
                    stop_reason = reason;
                    break;
                }
            }
        }
        let process_offset = files[index].file_from_offset() as i64 + pos as i64;
        self.queue.set_flushed_where(process_offset);
        for t in self.queue.truncate_dirty_files(process_offset) {
            if t.dropped_bytes > 0 {
                tracing::warn!(file = %t.path.display(), offset = t.from_offset, bytes = t.dropped_bytes,
                    deleted = t.deleted, reason = %stop_reason,
                    "commit log recovery dropped {} bytes at offset {} of {}", t.dropped_bytes, t.from_offset, t.path.display());
            }
        }
        tracing::info!(process_offset, "commit log recovered");
        RecoveryOutcome {
            process_offset,
            no_files: false,
        }
    }
    // ANCHOR_END: recover

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

// ANCHOR: blank
/// `[remaining][BLANK_MAGIC_CODE]` at the start of `tail` (the rest stays as it is).
fn write_blank(tail: &mut [u8]) {
    let n = tail.len();
    if n >= END_FILE_MIN_BLANK_LENGTH {
        tail[..4].copy_from_slice(&(n as i32).to_be_bytes());
        tail[4..8].copy_from_slice(&BLANK_MAGIC_CODE.to_be_bytes());
    }
}
// ANCHOR_END: blank

fn failed(status: AppendMessageStatus, store_ts: i64) -> AppendMessageResult {
    AppendMessageResult {
        status,
        wrote_offset: 0,
        wrote_bytes: 0,
        msg_id: String::new(),
        store_timestamp: store_ts,
        logics_offset: 0,
        msg_num: 0,
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

/// Store time of a file's first message, `None` if it does not start with a message
/// (`isMappedFileMatchedRecover`'s reading part).
fn first_store_timestamp(f: &MappedFile) -> Option<i64> {
    let data = f.whole_for_recovery();
    let magic = i32::from_be_bytes(data.get(4..8)?.try_into().ok()?);
    if magic != MESSAGE_MAGIC_CODE {
        return None;
    }
    store_timestamp_of(data).filter(|t| *t != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    fn message(body: &[u8]) -> MessageExtBrokerInner {
        MessageExtBrokerInner {
            topic: "AppendedTopic".into(),
            queue_id: 0,
            flag: 0,
            body: bytes::Bytes::copy_from_slice(body),
            properties: String::new(),
            tags_code: 0,
            sys_flag: 0,
            born_timestamp: now_ms(),
            born_host: "127.0.0.1:50000".parse().expect("literal address"),
            store_host: "127.0.0.1:10911".parse().expect("literal address"),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
        }
    }

    /// The broker frees its send worker in `appended`; that must happen before the disk wait.
    /// Here the group commit is never started, so the wait can only time out: the callback
    /// still sees its record in the log, and the put then reports FLUSH_DISK_TIMEOUT.
    #[test]
    fn appended_runs_before_the_sync_flush_wait() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = MessageStoreConfig {
            flush_disk_type: FlushDiskType::SyncFlush,
            sync_flush_timeout_ms: 200,
            mapped_file_size_commit_log: 64 * 1024,
            ..MessageStoreConfig::with_root(dir.path())
        };
        let checkpoint =
            Arc::new(StoreCheckpoint::open(&config.checkpoint_path()).expect("checkpoint"));
        let log = CommitLog::new(&config, checkpoint).expect("commit log");
        log.load().expect("load");
        let seen_end = AtomicI64::new(-1);
        let r = log.put_message_then(&message(b"first"), || {
            seen_end.store(log.mapped_file_queue().max_offset(), Ordering::SeqCst);
        });
        assert_eq!(r.status, PutMessageStatus::FlushDiskTimeout);
        let a = r.append.expect("the record was appended");
        assert_eq!(
            seen_end.load(Ordering::SeqCst),
            a.wrote_offset + a.wrote_bytes as i64,
            "the callback ran with the record already in the log"
        );
        let record = log
            .get_message(a.wrote_offset, a.wrote_bytes as i32)
            .expect("readable before any fsync");
        let (m, _) = rmq_common::message::decode_record(&record).expect("decodes");
        assert_eq!(&m.body[..], b"first");

        // a message refused before the append never reaches the callback
        let big = vec![7u8; config.max_message_size + 1];
        let mut called = false;
        let r = log.put_message_then(&message(&big), || called = true);
        assert_eq!(r.status, PutMessageStatus::MessageIllegal);
        assert!(!called);
    }
}
