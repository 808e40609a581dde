//! The commit log's one put path: a single message is a batch of one.
//!
//! Under the put lock the messages get their queue offsets (consecutive, from
//! `topicQueueTable["topic-queueId"]`; prepared and rolled-back transactional messages take
//! none and store 0) and one store time, and their records are written back to back into the
//! current file. If they do not fit, the END_OF_FILE blank closes the file and they go to the
//! start of a new one, so no record spans two files. The lock's holder is timed by
//! `PutLock` (`lock.rs`): `beginTimeInLock` is set when the lock is taken and cleared when it
//! is released, and a hold longer than 500 ms is logged there. Book: Part I, "CommitLog" (the
//! append). Mirrors `CommitLog.putMessage`/`putMessages` with
//! `DefaultAppendMessageCallback.doAppend` of 4.8.0.

use super::local::{LocalCommitLog, END_FILE_MIN_BLANK_LENGTH};
use super::lock::{assign_queue_offsets, queue_key, PutLock};
use crate::error::StoreError;
use crate::flush::CommitLogFlusher;
use crate::mapped_file::AppendOutcome;
use crate::result::{AppendMessageResult, AppendMessageStatus, PutMessageResult, PutMessageStatus};
use crate::util::now_ms;
use rmq_common::inner::{encode_inner_record_into, inner_record_size, MessageExtBrokerInner};
use rmq_common::message::BLANK_MAGIC_CODE;
use rmq_common::msgid::offset_msg_id;
use std::time::Duration;

/// Whether the properties string says `WAIT=false` (the producer does not wait for the flush).
fn wait_store_msg_ok(properties: &str) -> bool {
    !properties.split('\u{2}').any(|p| p == "WAIT\u{1}false")
}

/// What the records of one put turned into.
struct Appended {
    wrote_offset: i64,
    msg_ids: String,
}

impl LocalCommitLog {
    /// Appends one record and, with SYNC_FLUSH, waits for the fsync covering it.
    pub fn put_message(&self, msg: &MessageExtBrokerInner) -> PutMessageResult {
        self.put_message_then(msg, || {})
    }

    /// [`Self::put_message`], running `appended` once the record is in the file and the put
    /// lock is released, before any wait for the disk: the broker frees its send worker
    /// there, as 4.8.0's `asyncPutMessage` returns before the flush.
    pub fn put_message_then(
        &self,
        msg: &MessageExtBrokerInner,
        appended: impl FnOnce(),
    ) -> PutMessageResult {
        self.put_messages_then(std::slice::from_ref(msg), appended)
    }

    /// Appends several messages of one queue back to back, with consecutive queue offsets;
    /// the whole batch goes into one file (`putMessages`).
    pub fn put_messages(&self, msgs: &[MessageExtBrokerInner]) -> PutMessageResult {
        self.put_messages_then(msgs, || {})
    }

    // ANCHOR: append
    /// The put path of [`Self::put_message_then`] and [`Self::put_messages`]: size checks,
    /// then under the put lock the queue offsets, the store time and the records, then (lock
    /// released) `appended`, then the flush.
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
                count = msgs.len(),
                max = self.max_message_size,
                "message size exceeded"
            );
            return PutMessageResult::new(
                PutMessageStatus::MessageIllegal,
                Some(failed(AppendMessageStatus::MessageSizeExceeded, now_ms())),
            );
        }
        let mut put = PutLock::take(&self.put, &self.begin_time_in_lock, total);
        let store_ts = now_ms();
        let key = queue_key(&first.topic, first.queue_id);
        let next = put.topic_queue_table.get(&key).copied().unwrap_or(0);
        let (offsets, taken) = assign_queue_offsets(msgs, next);
        let mut done = None;
        for _attempt in 0..2 {
            let file = match self.queue.last_or_create(0) {
                Ok(f) => f,
                Err(e) => {
                    tracing::error!(error = %e, "create mapped file failed");
                    return PutMessageResult::new(PutMessageStatus::CreateMappedFileFailed, None);
                }
            };
            let outcome = file.append_with(&mut put.right, |tail, wrote_offset| {
                write_records(msgs, &offsets, store_ts, total, tail, wrote_offset as i64)
            });
            match outcome {
                Some(Ok(a)) => {
                    file.set_store_timestamp(store_ts);
                    done = Some(a);
                    break;
                }
                Some(Err(AppendMessageStatus::EndOfFile)) | None => continue, // a new file
                Some(Err(status)) => {
                    return PutMessageResult::new(
                        PutMessageStatus::MessageIllegal,
                        Some(failed(status, store_ts)),
                    );
                }
            }
        }
        let Some(a) = done else {
            return PutMessageResult::new(PutMessageStatus::UnknownError, None);
        };
        put.topic_queue_table.insert(key, next + taken);
        drop(put);
        appended();
        let result = AppendMessageResult {
            status: AppendMessageStatus::PutOk,
            wrote_offset: a.wrote_offset,
            wrote_bytes: total,
            msg_id: a.msg_ids,
            store_timestamp: store_ts,
            logics_offset: offsets[0],
            msg_num: msgs.len(),
        };
        let wait = msgs.iter().all(|m| wait_store_msg_ok(&m.properties));
        self.handle_disk_flush(result, wait)
    }
    // ANCHOR_END: append

    /// A slave's append of raw bytes replicated from its master (`appendData`): under the put
    /// lock, into the last file (created at `start_offset`'s file start when the log is empty
    /// or the last file is full). The bytes must fit in that file; the master never sends a
    /// chunk that spans files. Returns whether they were written.
    pub fn append_data(&self, start_offset: i64, data: &[u8]) -> Result<bool, StoreError> {
        let mut put = PutLock::take(&self.put, &self.begin_time_in_lock, data.len());
        let file = self.queue.last_or_create(start_offset.max(0) as u64)?;
        let written = file.append_with(&mut put.right, |tail, wrote_offset| {
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
}

// ANCHOR: write_records
/// Writes the records of `msgs` back to back at the start of `tail` (the free part of the
/// current file, which begins at commit-log offset `wrote_offset`), or the END_OF_FILE blank
/// when the `total` bytes do not fit before the file's last 8 bytes.
fn write_records(
    msgs: &[MessageExtBrokerInner],
    queue_offsets: &[i64],
    store_ts: i64,
    total: usize,
    tail: &mut [u8],
    wrote_offset: i64,
) -> AppendOutcome<Result<Appended, AppendMessageStatus>> {
    if total + END_FILE_MIN_BLANK_LENGTH > tail.len() {
        write_blank(tail);
        return AppendOutcome {
            written: tail.len(),
            value: Err(AppendMessageStatus::EndOfFile),
        };
    }
    let mut pos = 0usize;
    let mut ids = Vec::with_capacity(msgs.len());
    for (m, queue_offset) in msgs.iter().zip(queue_offsets) {
        let phy = wrote_offset + pos as i64;
        match encode_inner_record_into(m, *queue_offset, phy, store_ts, &mut tail[pos..]) {
            Ok(n) => pos += n,
            // nothing is published: the wrote position stays where it was
            Err(_) => {
                return AppendOutcome {
                    written: 0,
                    value: Err(AppendMessageStatus::PropertiesSizeExceeded),
                }
            }
        }
        ids.push(offset_msg_id(m.store_host, phy));
    }
    AppendOutcome {
        written: pos,
        value: Ok(Appended {
            wrote_offset,
            msg_ids: ids.join(","),
        }),
    }
}
// ANCHOR_END: write_records

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

/// The append result of a put refused inside the append.
pub(crate) fn failed(status: AppendMessageStatus, store_ts: i64) -> AppendMessageResult {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::StoreCheckpoint;
    use crate::commit_log::LocalCommitLog;
    use crate::config::{FlushDiskType, MessageStoreConfig};
    use crate::mapped_file::RecoveryPhase;
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;

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
        let log = LocalCommitLog::new(&config, checkpoint).expect("commit log");
        // SAFETY: nothing else touches the files of this test.
        log.load(&mut unsafe { RecoveryPhase::begin() })
            .expect("load");
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

    fn open_log(dir: &std::path::Path) -> LocalCommitLog {
        let config = MessageStoreConfig {
            mapped_file_size_commit_log: 64 * 1024,
            ..MessageStoreConfig::with_root(dir)
        };
        let checkpoint =
            Arc::new(StoreCheckpoint::open(&config.checkpoint_path()).expect("checkpoint"));
        let log = LocalCommitLog::new(&config, checkpoint).expect("commit log");
        // SAFETY: nothing else touches the files of this test.
        log.load(&mut unsafe { RecoveryPhase::begin() })
            .expect("load");
        log
    }

    /// `put_message` and `put_messages` of one message share one path: the same record
    /// bytes (but for the store time), offsets and ids.
    #[test]
    fn a_single_message_is_a_batch_of_one() {
        let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (single, batch) = (open_log(d1.path()), open_log(d2.path()));
        let m = message(b"same bytes");
        for _ in 0..3 {
            let a = single.put_message(&m).append.expect("appended");
            let b = single_batch(&batch, &m);
            assert_eq!(
                (
                    a.wrote_offset,
                    a.wrote_bytes,
                    &a.msg_id,
                    a.logics_offset,
                    a.msg_num
                ),
                (
                    b.wrote_offset,
                    b.wrote_bytes,
                    &b.msg_id,
                    b.logics_offset,
                    b.msg_num
                )
            );
            let ra = single
                .get_message(a.wrote_offset, a.wrote_bytes as i32)
                .unwrap();
            let rb = batch
                .get_message(b.wrote_offset, b.wrote_bytes as i32)
                .unwrap();
            let (ma, _) = rmq_common::message::decode_record(&ra).unwrap();
            let (mb, _) = rmq_common::message::decode_record(&rb).unwrap();
            assert_eq!(ma.queue_offset, mb.queue_offset);
            assert_eq!(ma.commit_log_offset, mb.commit_log_offset);
            assert_eq!((ma.body, ma.topic), (mb.body, mb.topic));
        }
        assert_eq!(single.queue_offset("AppendedTopic", 0), 3);
        assert_eq!(batch.queue_offset("AppendedTopic", 0), 3);
    }

    fn single_batch(log: &LocalCommitLog, m: &MessageExtBrokerInner) -> AppendMessageResult {
        log.put_messages(std::slice::from_ref(m))
            .append
            .expect("appended")
    }

    /// Prepared and rolled-back messages store queue offset 0 and take none, in both entry
    /// points.
    #[test]
    fn transaction_halves_take_no_queue_offset() {
        use rmq_common::message::{TRANSACTION_PREPARED_TYPE, TRANSACTION_ROLLBACK_TYPE};
        let dir = tempfile::tempdir().unwrap();
        let log = open_log(dir.path());
        assert_eq!(
            log.put_message(&message(b"a"))
                .append
                .unwrap()
                .logics_offset,
            0
        );
        for flag in [TRANSACTION_PREPARED_TYPE, TRANSACTION_ROLLBACK_TYPE] {
            let mut half = message(b"half");
            half.sys_flag = flag;
            assert_eq!(log.put_message(&half).append.unwrap().logics_offset, 0);
            assert_eq!(single_batch(&log, &half).logics_offset, 0);
        }
        assert_eq!(
            log.put_message(&message(b"b"))
                .append
                .unwrap()
                .logics_offset,
            1
        );
        assert_eq!(log.queue_offset("AppendedTopic", 0), 2);
    }

    /// `beginTimeInLock` is set exactly while the put lock is held, on every way out.
    #[test]
    fn lock_timing_follows_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let log = open_log(dir.path());
        assert!(log.append_started().is_none());
        {
            let _held = PutLock::take(&log.put, &log.begin_time_in_lock, 0);
            assert!(log.append_started().is_some());
        }
        assert!(log.append_started().is_none());
        let seen = std::cell::Cell::new(None);
        log.put_message_then(&message(b"x"), || seen.set(Some(log.append_started())));
        assert_eq!(seen.get(), Some(None), "released before `appended` runs");
        // a refused put (too large for a file) never takes the lock; one that fails inside
        // it (properties the record cannot hold) releases it
        let mut bad = message(b"y");
        bad.properties = "k\u{1}".to_string() + &"v".repeat(40_000);
        let r = log.put_message(&bad);
        assert_eq!(r.status, PutMessageStatus::MessageIllegal);
        assert!(log.append_started().is_none());
    }
}
