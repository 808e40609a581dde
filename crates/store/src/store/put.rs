//! The store's side of a put: refuse what 4.8.0 refuses before the append (shut down,
//! slave, not writeable, page cache busy, topic or properties too long, mixed batches), hand
//! the rest to the commit log, count the result. A put has two steps, whatever the commit
//! log: *submit* (checks, queue offsets, the append or the hand-over to DLedger) and
//! *finish* (DLedger's commit; nothing to wait for with the local log). Book: Part II, "What the broker asks of the
//! store". Mirrors `DefaultMessageStore.putMessage`/`putMessages` and `isOSPageCacheBusy`.

use super::DefaultMessageStore;
use crate::commit_log::PendingPut;
use crate::config::BrokerRole;
use crate::result::{AppendMessageStatus, PutMessageResult, PutMessageStatus};
use rmq_common::inner::MessageExtBrokerInner;
use rmq_common::message::{transaction_type, TRANSACTION_NOT_TYPE};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

impl DefaultMessageStore {
    pub(super) fn check_store_status(&self) -> Option<PutMessageStatus> {
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

    pub(super) fn check_message(msg: &MessageExtBrokerInner) -> Option<PutMessageStatus> {
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

    /// Submits one message to the commit log: checks, then the append (local log; with
    /// SYNC_FLUSH this waits for the fsync) or the hand-over to DLedger. `appended` runs as
    /// soon as the record is in the log (or queued for DLedger) and before any wait; it does
    /// not run when the message is refused first. The broker releases its send worker
    /// there, so the next send appends while this one waits. Finish the put with
    /// [`Self::finish_put`].
    pub fn submit_message(
        &self,
        msg: MessageExtBrokerInner,
        appended: impl FnOnce(),
    ) -> PendingPut {
        if let Some(s) = self
            .check_store_status()
            .or_else(|| Self::check_message(&msg))
        {
            return self.refused(s);
        }
        self.timed_submit(std::slice::from_ref(&msg), appended)
    }

    /// Submits a batch of one queue, stored contiguously with consecutive queue offsets
    /// (`putMessages`; in DLedger mode one entry per message). Transactional messages are
    /// refused, as in 4.8.0. A DELAY in an entry is stored as it is and delays nothing (4.8.0
    /// never redirects batch entries); a DELAY among the batch's own properties, which 4.8.0
    /// refuses, is the broker's to check, since the entries here already carry the batch's
    /// properties.
    pub fn submit_messages(
        &self,
        batch: Vec<MessageExtBrokerInner>,
        appended: impl FnOnce(),
    ) -> PendingPut {
        if let Some(s) = self.check_store_status() {
            return self.refused(s);
        }
        let Some(first) = batch.first() else {
            return self.refused(PutMessageStatus::MessageIllegal);
        };
        for m in &batch {
            if let Some(s) = Self::check_message(m) {
                return self.refused(s);
            }
            if m.topic != first.topic
                || m.queue_id != first.queue_id
                || transaction_type(m.sys_flag) != TRANSACTION_NOT_TYPE
            {
                tracing::warn!("batch put refused: mixed queues or transaction");
                return self.refused(PutMessageStatus::MessageIllegal);
            }
        }
        self.timed_submit(&batch, appended)
    }

    /// The end of every put: waits for DLedger's commit (at once for the local log), then
    /// counts the put (`putMessageTimesTotal` per message stored, a failure otherwise).
    pub async fn finish_put(&self, pending: PendingPut) -> PutMessageResult {
        let r = pending.finish().await;
        self.count_put(r)
    }

    /// [`Self::finish_put`] for a caller outside any async runtime.
    pub fn finish_put_blocking(&self, pending: PendingPut) -> PutMessageResult {
        let r = pending.finish_blocking();
        self.count_put(r)
    }

    /// Appends one message and waits for it to be stored: with SYNC_FLUSH until an fsync
    /// covers it, in DLedger mode until the group committed it (blocking the thread; from an
    /// async task use [`Self::submit_message`] and [`Self::finish_put`]).
    pub fn put_message(&self, msg: MessageExtBrokerInner) -> PutMessageResult {
        self.put_message_then(msg, || {})
    }

    /// [`Self::put_message`] with an `appended` callback, as in [`Self::submit_message`].
    pub fn put_message_then(
        &self,
        msg: MessageExtBrokerInner,
        appended: impl FnOnce(),
    ) -> PutMessageResult {
        let p = self.submit_message(msg, appended);
        self.finish_put_blocking(p)
    }

    /// Appends a batch of one queue and waits for it (see [`Self::submit_messages`] and
    /// [`Self::put_message`]).
    pub fn put_messages(&self, batch: Vec<MessageExtBrokerInner>) -> PutMessageResult {
        self.put_messages_then(batch, || {})
    }

    /// [`Self::put_messages`] with an `appended` callback, as in [`Self::submit_message`].
    pub fn put_messages_then(
        &self,
        batch: Vec<MessageExtBrokerInner>,
        appended: impl FnOnce(),
    ) -> PutMessageResult {
        let p = self.submit_messages(batch, appended);
        self.finish_put_blocking(p)
    }

    /// Whether a submit may block its thread (see [`CommitLog::submit_may_block`]).
    ///
    /// [`CommitLog::submit_may_block`]: crate::commit_log::CommitLog::submit_may_block
    pub fn submit_may_block(&self) -> bool {
        self.commit_log.submit_may_block()
    }

    fn refused(&self, status: PutMessageStatus) -> PendingPut {
        PendingPut::Done(PutMessageResult::new(status, None))
    }

    fn timed_submit(&self, msgs: &[MessageExtBrokerInner], appended: impl FnOnce()) -> PendingPut {
        let begin = Instant::now();
        let p = self.commit_log.submit(msgs, appended);
        let elapsed = begin.elapsed();
        if elapsed > Duration::from_millis(500) {
            tracing::warn!(
                elapsed_ms = elapsed.as_millis() as u64,
                "putMessage not in lock took long"
            );
        }
        p
    }

    fn count_put(&self, r: PutMessageResult) -> PutMessageResult {
        if !r.is_ok() {
            self.put_failed_times.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(a) = r
            .append
            .as_ref()
            .filter(|a| a.status == AppendMessageStatus::PutOk)
        {
            self.put_times
                .fetch_add(a.msg_num as u64, Ordering::Relaxed);
            self.wake_dispatcher_if_idle();
        }
        r
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
}
