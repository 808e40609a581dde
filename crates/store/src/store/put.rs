//! The store's side of a put: refuse what 4.8.0 refuses before the append (shut down,
//! slave, not writeable, page cache busy, topic or properties too long, mixed batches), hand
//! the rest to the commit log, count the result. Book: Part II, "What the broker asks of the
//! store". Mirrors `DefaultMessageStore.putMessage`/`putMessages` and `isOSPageCacheBusy`.

use super::DefaultMessageStore;
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

    pub(super) fn put_one(
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
            if m.topic != first.topic
                || m.queue_id != first.queue_id
                || transaction_type(m.sys_flag) != TRANSACTION_NOT_TYPE
            {
                tracing::warn!("batch put refused: mixed queues or transaction");
                return PutMessageResult::new(PutMessageStatus::MessageIllegal, None);
            }
        }
        let begin = Instant::now();
        let r = self.commit_log.put_messages_then(&batch, appended);
        self.after_put(&r, begin, true)
    }

    pub(super) fn after_put(
        &self,
        r: &PutMessageResult,
        begin: Instant,
        count: bool,
    ) -> PutMessageResult {
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
}
