//! The dispatcher: follows the commit log and turns each new record into its consume-queue
//! entry and index keys, then tells the arrival listener (long polling) about it.
//!
//! It reads only bytes below the commit log's published write position, so it never sees a
//! half-written record; `reput_from_offset` is the first byte not yet dispatched. Recovery
//! uses the same `do_dispatch` to rebuild queues and index.
//!
//! In DLedger mode the same dispatcher walks the DLedger entries of the data files, and only
//! up to DLedger's committed position (`DLedgerCommitLog`).
//!
//! When it runs: every 1 ms while records keep coming, as 4.8.0's `ReputMessageService`, and
//! at once when a put arrives while the dispatcher is idle (its last pass found nothing). Under
//! load it is not woken per put: it keeps its 1 ms rhythm and dispatches everything appended
//! meanwhile in one pass, so a message is dispatched at most ~1 ms after its append either
//! way. Idle, it sleeps until an append wakes it (4.8.0 keeps polling every 1 ms). Book: Part I, "ConsumeQueue"
//! (dispatch) and "IndexFile". Mirrors `DefaultMessageStore.ReputMessageService`,
//! `CommitLogDispatcherBuildConsumeQueue` and `CommitLogDispatcherBuildIndex`.

use crate::commit_log::dledger::EntryCheck;
use crate::commit_log::{CommitLog, DLedgerCommitLog, LocalCommitLog};
use crate::config::BrokerRole;
use crate::error::StoreError;
use crate::record::{check_record, CheckOptions, DispatchRequest, RecordCheck};
use crate::running_flags::{WRITE_INDEX_FILE_ERROR_BIT, WRITE_LOGICS_QUEUE_ERROR_BIT};
use crate::store::{ArrivalListener, DefaultMessageStore};
use rmq_common::message::{TRANSACTION_COMMIT_TYPE, TRANSACTION_NOT_TYPE};
use rmq_dledger::entry::BODY_OFFSET;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The dispatcher's pause between passes while records keep coming.
pub(crate) const REPUT_BUSY_WAIT: Duration = Duration::from_millis(1);
/// The longest pause of an idle dispatcher: every append wakes it, this is only a safety net.
pub(crate) const REPUT_IDLE_WAIT: Duration = Duration::from_millis(500);

/// How often a consume-queue write is retried before the queue is marked broken.
const CQ_WRITE_RETRIES: usize = 3;

fn goes_to_consume_queue(req: &DispatchRequest) -> bool {
    matches!(
        req.transaction_type(),
        TRANSACTION_NOT_TYPE | TRANSACTION_COMMIT_TYPE
    )
}

impl DefaultMessageStore {
    // ANCHOR: dispatch
    /// Writes one record's consume-queue entry (normal and committed messages only) and its
    /// index keys (`doDispatch`).
    pub(crate) fn do_dispatch(&self, req: &DispatchRequest) {
        // CommitLogDispatcherCalcBitMap runs first: the SQL92 groups' bloom bit map
        let bit_map = self
            .bit_map_calculator
            .read()
            .as_ref()
            .and_then(|calc| calc(req));
        if goes_to_consume_queue(req) {
            self.put_message_position_info(req, bit_map.as_deref());
        }
        if self.config.message_index_enable {
            if let Err(e) = self.index_service.build_index(req) {
                tracing::error!(error = %e, offset = req.commit_log_offset, "index build failed");
                self.running_flags.set(WRITE_INDEX_FILE_ERROR_BIT);
            }
        }
    }
    // ANCHOR_END: dispatch

    fn put_message_position_info(&self, req: &DispatchRequest, bit_map: Option<&[u8]>) {
        let cq = self.find_consume_queue(&req.topic, req.queue_id);
        for attempt in 0..CQ_WRITE_RETRIES {
            if !self.running_flags.is_cq_writeable() {
                return;
            }
            match cq.put_position_ext(
                req.commit_log_offset,
                req.msg_size,
                req.tags_code,
                req.consume_queue_offset,
                req.store_timestamp,
                bit_map,
            ) {
                Ok(()) => {
                    if self.config.broker_role == BrokerRole::Slave {
                        self.checkpoint
                            .set_physic_msg_timestamp(req.store_timestamp);
                    }
                    self.checkpoint
                        .set_logics_msg_timestamp(req.store_timestamp);
                    return;
                }
                Err(e @ StoreError::BadQueueOffset { .. }) => {
                    // the record itself is damaged: retrying cannot help, and one bad record
                    // must not stop every other queue from being built
                    tracing::error!(topic = %req.topic, queue = req.queue_id, error = %e,
                        "consume queue entry skipped");
                    return;
                }
                Err(e) => {
                    tracing::warn!(topic = %req.topic, queue = req.queue_id, offset = req.commit_log_offset,
                        attempt, error = %e, "[BUG]put commit log position info failed");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        tracing::error!(topic = %req.topic, queue = req.queue_id, "[BUG]consume queue can not write");
        self.running_flags.set(WRITE_LOGICS_QUEUE_ERROR_BIT);
    }

    /// One pass of the dispatcher thread: dispatch what is new and remember whether there was
    /// anything, which decides whether puts wake the thread.
    pub(crate) fn reput_step(&self) {
        let before = self.reput_from_offset.load(Ordering::Acquire);
        self.do_reput();
        let idle = self.reput_from_offset.load(Ordering::Acquire) == before;
        self.reput_idle.store(idle, Ordering::SeqCst);
        if idle {
            // A put that appended after this pass read the log's end, but looked at the flag
            // before it was set, did not wake the dispatcher. The fences pair with the one in
            // `wake_dispatcher_if_idle`: either that put sees the flag, or this check sees its
            // bytes and the next pass comes after the busy wait.
            std::sync::atomic::fence(Ordering::SeqCst);
            if self.dispatch_behind_bytes() > 0 {
                self.reput_idle.store(false, Ordering::SeqCst);
            }
        }
    }

    /// How long the dispatcher sleeps before its next pass (unless woken): 1 ms while records
    /// keep coming, as 4.8.0's `ReputMessageService`, so that under load one pass serves every
    /// record appended meanwhile; once a pass found nothing, until the next append wakes it
    /// (puts through `wake_dispatcher_if_idle`, replication and DLedger through the waker),
    /// with `REPUT_IDLE_WAIT` as a safety net. An idle broker then wakes this thread twice a
    /// second instead of a thousand times.
    pub(crate) fn reput_wait(&self) -> Duration {
        if self.reput_idle.load(Ordering::Acquire) {
            REPUT_IDLE_WAIT
        } else {
            REPUT_BUSY_WAIT
        }
    }

    /// After a successful put: wake the dispatcher only if it is idle. A busy dispatcher runs
    /// its next pass within 1 ms anyway and picks this record up with the others; a skipped
    /// wake-up delays dispatch by at most that, and never loses it (every pass reads up to the
    /// commit log's current end).
    pub(crate) fn wake_dispatcher_if_idle(&self) {
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.reput_idle.load(Ordering::SeqCst) {
            self.reput_waker.wakeup();
        }
    }

    /// Where a dispatcher pass starts (never below the log's first byte, `min`), and whom it
    /// tells about arrivals (nobody on a slave, as in 4.8.0).
    fn reput_start(&self, min: i64) -> (i64, Option<ArrivalListener>) {
        let mut from = self.reput_from_offset.load(Ordering::Acquire);
        if from < min {
            tracing::warn!(
                from,
                min,
                "reput offset below the commit log's min offset; jumping ahead"
            );
            from = min;
            self.reput_from_offset.store(from, Ordering::Release);
        }
        let listener = if self.config.broker_role != BrokerRole::Slave {
            self.listener.read().clone()
        } else {
            None
        };
        (from, listener)
    }

    /// Dispatches one record, then tells the arrival listener (long polling) about it.
    fn dispatch_and_notify(&self, req: &DispatchRequest, listener: Option<&ArrivalListener>) {
        self.do_dispatch(req);
        if let Some(l) = listener.filter(|_| goes_to_consume_queue(req)) {
            l(
                &req.topic,
                req.queue_id,
                req.consume_queue_offset + 1,
                req.tags_code,
            );
        }
    }

    /// Dispatches everything between `reput_from_offset` and the commit log's readable end
    /// (`doReput`).
    pub(crate) fn do_reput(&self) {
        match &self.commit_log {
            CommitLog::Local(log) => self.reput_local(log),
            CommitLog::DLedger(log) => self.reput_dledger(log),
        }
    }

    // ANCHOR: reput
    /// [`Self::do_reput`] over the local commit log's files.
    fn reput_local(&self, log: &LocalCommitLog) {
        let (mut from, listener) = self.reput_start(log.min_offset());
        let opts = CheckOptions {
            check_crc: false,
            expected_offset: None,
            delay_levels_ms: log.delay_levels_ms(),
        };
        'files: while from < log.max_offset() {
            let Some((file, pos, len)) = log.get_data(from) else {
                break;
            };
            let Some(data) = file.slice(pos, len) else {
                break;
            };
            let mut read = 0usize;
            while read < len {
                let opts = CheckOptions {
                    expected_offset: Some(from),
                    ..opts
                };
                match check_record(&data[read..], &opts) {
                    RecordCheck::Message(req) => {
                        self.dispatch_and_notify(&req, listener.as_ref());
                        let size = req.msg_size as usize;
                        from += size as i64;
                        read += size;
                        self.reput_from_offset.store(from, Ordering::Release);
                    }
                    RecordCheck::EndOfFile => {
                        from = log.roll_next_file(from);
                        self.reput_from_offset.store(from, Ordering::Release);
                        break;
                    }
                    RecordCheck::SizeMismatch { size, reason } => {
                        tracing::error!(from, size, %reason, "[BUG]read total count not equals msg total size");
                        from += size as i64;
                        read += size as usize;
                        self.reput_from_offset.store(from, Ordering::Release);
                    }
                    RecordCheck::Invalid(reason) => {
                        if self.config.broker_role == BrokerRole::Slave {
                            // 4.8.0 skips only on a master: a slave's replicated chunk may end
                            // inside a record, whose rest arrives with the next chunk
                            tracing::debug!(from, %reason, "incomplete record; waiting for more bytes");
                            break 'files;
                        }
                        tracing::error!(from, skipped = len - read, %reason,
                            "[BUG]dispatch message to commit log error; skipping the rest of the readable region");
                        from += (len - read) as i64;
                        self.reput_from_offset.store(from, Ordering::Release);
                        break;
                    }
                }
            }
        }
    }
    // ANCHOR_END: reput

    // ANCHOR: reput_dledger
    /// [`Self::do_reput`] in DLedger mode: walks the DLedger entries of the data files up to
    /// the committed position (never an entry a new leader could still cut), dispatching the
    /// message record inside each (`DLedgerCommitLog.getData` and
    /// `checkMessageAndReturnSize`).
    fn reput_dledger(&self, log: &DLedgerCommitLog) {
        let (mut from, listener) = self.reput_start(log.min_offset());
        while from < log.max_offset() {
            let Some(bytes) = log.view().committed_bytes(from) else {
                break;
            };
            let mut read = 0usize;
            while read < bytes.len() {
                let step = match log.check_entry(&bytes[read..], from) {
                    EntryCheck::Message { req, size } => {
                        self.dispatch_and_notify(&req, listener.as_ref());
                        size
                    }
                    EntryCheck::Empty => BODY_OFFSET,
                    EntryCheck::Blank => {
                        from = log.roll_next_file(from);
                        self.reput_from_offset.store(from, Ordering::Release);
                        break;
                    }
                    EntryCheck::SizeMismatch { size, reason } => {
                        tracing::error!(from, size, %reason, "[BUG]read total count not equals msg total size");
                        size
                    }
                    EntryCheck::Invalid(reason) => {
                        // committed bytes that are not an entry: 4.8.0 skips the rest of the
                        // readable region in DLedger mode
                        tracing::error!(from, skipped = bytes.len() - read, %reason,
                            "[BUG]dispatch message to commit log error; skipping the rest of the readable region");
                        bytes.len() - read
                    }
                };
                from += step as i64;
                read += step;
                self.reput_from_offset.store(from, Ordering::Release);
            }
        }
    }
    // ANCHOR_END: reput_dledger
}
