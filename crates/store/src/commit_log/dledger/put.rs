//! The put in DLedger mode: under the put lock each message gets its queue offset and the
//! store time, is encoded as a §4.1 record (PHYSICALOFFSET still 0) and queued for the
//! DLedger member as one entry, in order; the lock is released, `appended` runs (the broker
//! frees its send worker), and the put completes once DLedger has committed every entry
//! (a majority holds it), with PHYSICALOFFSET = entry position + 48.
//!
//! 4.8.0 appends to the leader's local log inside the lock and refuses up front what DLedger
//! would refuse (pending requests full, not leader, a leadership transfer under way), so a
//! refused put never takes a queue offset. Here the entries are queued to the member's
//! driver and written there; the same guarantee holds because the queueing itself is
//! all-or-nothing, the member refuses LEADER_TRANSFERRING at the queue's door and writes
//! every entry that got in, and the number of entries in flight is kept below what the
//! member accepts (`maxPendingRequestsNum`). A member that lost leadership meanwhile answers
//! NOT_LEADER; its queue offsets are rebuilt from the consume queues before it takes puts
//! again (the broker's role change). Only a full disk refuses an entry that is already
//! queued: its queue offset stays unused and the dispatcher fills the gap with a
//! placeholder, which a pull steps over. Book: Part IV
//! "Cluster modes and DLedger". Mirrors `DLedgerCommitLog.putMessage`/`putMessages` and
//! `asyncPutMessage(s)` of 4.8.0.

use super::DLedgerCommitLog;
use crate::commit_log::lock::{assign_queue_offsets, queue_key, PutLock};
use crate::commit_log::put::failed;
use crate::commit_log::PendingPut;
use crate::result::{AppendMessageResult, AppendMessageStatus, PutMessageResult, PutMessageStatus};
use crate::util::now_ms;
use bytes::Bytes;
use rmq_common::inner::{encode_inner_record, inner_record_size, MessageExtBrokerInner};
use rmq_common::msgid::offset_msg_id;
use rmq_dledger::codes::ResponseCode;
use rmq_dledger::entry::{BODY_OFFSET, MIN_BLANK_LEN};
use rmq_dledger::server::{DLedgerError, PendingAppend};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long a put waits for DLedger's answer before it reports OS_PAGECACHE_BUSY
/// (`DLedgerCommitLog.putMessage`: `dledgerFuture.get(3, TimeUnit.SECONDS)`). DLedger
/// itself fails a waiting append after `maxWaitAckTimeMs` (2.5 s).
pub const PUT_TIMEOUT: Duration = Duration::from_secs(3);

/// Entries handed to DLedger and not yet answered, counted down when the put completes or
/// is dropped.
struct InFlight {
    counter: Arc<AtomicUsize>,
    n: usize,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.counter.fetch_sub(self.n, Ordering::AcqRel);
    }
}

/// A put whose entries are queued in the DLedger member, waiting for the commit.
pub struct Replicating {
    tickets: Vec<PendingAppend>,
    put: Submitted,
    _in_flight: InFlight,
}

/// What a put knew when it handed its entries over; the entries' positions complete it.
struct Submitted {
    store_hosts: Vec<SocketAddr>,
    store_timestamp: i64,
    wrote_bytes: usize,
    logics_offset: i64,
}

/// 4.8.0's mapping of a DLedger append result to a put status.
fn put_status(code: ResponseCode) -> PutMessageStatus {
    match code {
        ResponseCode::Success => PutMessageStatus::PutOk,
        ResponseCode::InconsistentLeader
        | ResponseCode::NotLeader
        | ResponseCode::LeaderNotReady
        | ResponseCode::DiskFull => PutMessageStatus::ServiceNotAvailable,
        ResponseCode::WaitQuorumAckTimeout | ResponseCode::LeaderPendingFull => {
            PutMessageStatus::OsPageCacheBusy
        }
        _ => PutMessageStatus::UnknownError,
    }
}

fn error_status(e: &DLedgerError) -> PutMessageStatus {
    match e {
        DLedgerError::Append { code, .. } => put_status(*code),
        DLedgerError::Closed => PutMessageStatus::ServiceNotAvailable,
        _ => PutMessageStatus::UnknownError,
    }
}

impl Replicating {
    /// Waits (up to [`PUT_TIMEOUT`]) until DLedger committed every entry.
    pub async fn finish(self) -> PutMessageResult {
        let deadline = tokio::time::Instant::now() + PUT_TIMEOUT;
        let mut positions = Vec::with_capacity(self.tickets.len());
        let mut tickets = self.tickets.into_iter();
        for t in tickets.by_ref() {
            match tokio::time::timeout_at(deadline, t.wait()).await {
                Ok(Ok(a)) => positions.push(a.pos),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "dledger append failed");
                    return PutMessageResult::new(error_status(&e), None);
                }
                Err(_) => {
                    tracing::warn!("dledger append not answered in {PUT_TIMEOUT:?}");
                    return PutMessageResult::new(PutMessageStatus::OsPageCacheBusy, None);
                }
            }
        }
        self.put.done(&positions)
    }

    /// [`Self::finish`] for a caller outside any async runtime: blocks until DLedger answers
    /// (it fails a waiting append after `maxWaitAckTimeMs`).
    pub fn finish_blocking(self) -> PutMessageResult {
        let mut positions = Vec::with_capacity(self.tickets.len());
        for t in self.tickets {
            match t.wait_blocking() {
                Ok(a) => positions.push(a.pos),
                Err(e) => {
                    tracing::warn!(error = %e, "dledger append failed");
                    return PutMessageResult::new(error_status(&e), None);
                }
            }
        }
        self.put.done(&positions)
    }
}

impl Submitted {
    /// The put's result, once DLedger placed its entries at `positions`.
    fn done(&self, positions: &[i64]) -> PutMessageResult {
        let offsets: Vec<i64> = positions.iter().map(|p| p + BODY_OFFSET as i64).collect();
        let msg_id = offsets
            .iter()
            .zip(&self.store_hosts)
            .map(|(o, h)| offset_msg_id(*h, *o))
            .collect::<Vec<_>>()
            .join(",");
        PutMessageResult::new(
            PutMessageStatus::PutOk,
            Some(AppendMessageResult {
                status: AppendMessageStatus::PutOk,
                wrote_offset: offsets.first().copied().unwrap_or(0),
                wrote_bytes: self.wrote_bytes,
                msg_id,
                store_timestamp: self.store_timestamp,
                logics_offset: self.logics_offset,
                msg_num: offsets.len(),
            }),
        )
    }
}

impl DLedgerCommitLog {
    // ANCHOR: submit
    /// Queues `msgs` (all of one queue) as consecutive entries; see the module docs.
    pub fn submit_messages(
        &self,
        msgs: &[MessageExtBrokerInner],
        appended: impl FnOnce(),
    ) -> PendingPut {
        let done = |status| PendingPut::Done(PutMessageResult::new(status, None));
        let Some(first) = msgs.first() else {
            return done(PutMessageStatus::MessageIllegal);
        };
        let Some(server) = self.server.get() else {
            tracing::warn!("put refused: the DLedger member is not running yet");
            return done(PutMessageStatus::ServiceNotAvailable);
        };
        // a leader takes puts only once its queue offsets are the group's
        if !self.is_ready() {
            return done(PutMessageStatus::ServiceNotAvailable);
        }
        let lens: Vec<usize> = msgs.iter().map(inner_record_size).collect();
        let total: usize = lens.iter().sum();
        let room = self.file_size() - BODY_OFFSET as i64 - MIN_BLANK_LEN;
        if lens
            .iter()
            .any(|l| *l > self.max_message_size || *l as i64 > room)
        {
            tracing::warn!(
                len = total,
                count = msgs.len(),
                max = self.max_message_size,
                "message size exceeded"
            );
            return PendingPut::Done(PutMessageResult::new(
                PutMessageStatus::MessageIllegal,
                Some(failed(AppendMessageStatus::MessageSizeExceeded, now_ms())),
            ));
        }
        // Stay below the member's own limit (the new leader's entry may take one more), so
        // it never refuses an entry that already has its queue offset.
        let limit = server.max_pending_requests().saturating_sub(1);
        if self.in_flight.load(Ordering::Acquire) + msgs.len() > limit {
            return done(PutMessageStatus::OsPageCacheBusy);
        }
        let mut put = PutLock::take(&self.put, &self.begin_time_in_lock, total);
        let store_ts = now_ms();
        let key = queue_key(&first.topic, first.queue_id);
        let next = put.get(&key).copied().unwrap_or(0);
        let (offsets, taken) = assign_queue_offsets(msgs, next);
        let mut records = Vec::with_capacity(msgs.len());
        for (m, q) in msgs.iter().zip(&offsets) {
            match encode_inner_record(m, *q, 0, store_ts) {
                Ok(r) => records.push(Bytes::from(r)),
                Err(_) => {
                    return PendingPut::Done(PutMessageResult::new(
                        PutMessageStatus::MessageIllegal,
                        Some(failed(
                            AppendMessageStatus::PropertiesSizeExceeded,
                            store_ts,
                        )),
                    ))
                }
            }
        }
        // A refusal here (a transfer runs, the queue is full) comes before the queue offsets
        // are kept: 4.8.0 answers any refused `handleAppend` (pos -1) with OS_PAGECACHE_BUSY.
        let tickets = match server.submit_batch(records) {
            Ok(t) => t,
            Err(DLedgerError::Closed) => return done(PutMessageStatus::ServiceNotAvailable),
            Err(e) => {
                tracing::warn!(error = %e, "dledger append refused");
                return done(PutMessageStatus::OsPageCacheBusy);
            }
        };
        self.in_flight.fetch_add(msgs.len(), Ordering::AcqRel);
        let in_flight = InFlight {
            counter: self.in_flight.clone(),
            n: msgs.len(),
        };
        put.insert(key, next + taken);
        drop(put);
        appended();
        PendingPut::Replicating(Replicating {
            tickets,
            put: Submitted {
                store_hosts: msgs.iter().map(|m| m.store_host).collect(),
                store_timestamp: store_ts,
                wrote_bytes: total,
                logics_offset: offsets[0],
            },
            _in_flight: in_flight,
        })
    }
    // ANCHOR_END: submit
}
