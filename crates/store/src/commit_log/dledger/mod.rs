//! The commit log in DLedger mode (`enableDLegerCommitLog=true`): the DLedger data files
//! *are* the commit log, as in RocketMQ 4.8.0.
//!
//! ```text
//! dledger-<selfId>/data/<20-digit offset>     one DLedger entry per message:
//!   pos        [48-byte DLedger header: magic 1, size 48+L, index, term, pos, 0, 0, 0, L]
//!   pos + 48   [the message record, L bytes, exactly as in commitlog/; PHYSICALOFFSET = pos + 48]
//!   ...        [-1][remaining] at a file's end when the next entry does not fit (DLedger's blank)
//! ```
//!
//! A message's physical offset — in its consume-queue entry, its index entries, its offset
//! message id — is therefore the position of its record inside the data files, `pos + 48`.
//! The leader fills in PHYSICALOFFSET when DLedger places the entry ([`physical_offset_hook`]),
//! so every replica holds the same bytes. Readers see only committed entries: the commit
//! log's end ([`DLedgerCommitLog::max_offset`]) is DLedger's committed position, so the
//! dispatcher builds consume queues only from entries a majority holds, on the leader and the
//! followers alike, and a new leader's truncation of uncommitted entries never touches what a
//! consume queue points at. Nothing is copied: reads go to the DLedger mappings through a
//! [`DataView`]. Replication itself belongs to the DLedger member (`rmq_dledger::server`),
//! which the broker starts and [attaches](DLedgerCommitLog::attach) here.
//!
//! This file holds the log and its reads; `put.rs` the put (queue offsets under the put
//! lock, one entry per message), `dispatch.rs` the check of one entry for the dispatcher,
//! `recover.rs` the check of the last files' records before the member runs.
//! Book: Part IV "Cluster modes and DLedger" (the DLedger files are the commit log). Mirrors
//! `org.apache.rocketmq.store.dledger.DLedgerCommitLog` of 4.8.0.

mod dispatch;
mod put;
mod recover;

pub use dispatch::{check_entry, EntryCheck};
pub use put::{Replicating, PUT_TIMEOUT};
pub use recover::cut_damaged_tail;

use super::lock::QueueTable;
use super::store_timestamp_of;
use bytes::Bytes;
use parking_lot::Mutex;
use rmq_common::inner::{encode_inner_record, MessageExtBrokerInner};
use rmq_common::message::{MESSAGE_MAGIC_CODE, TRANSACTION_ROLLBACK_TYPE};
use rmq_dledger::entry::BODY_OFFSET;
use rmq_dledger::server::DLedgerServer;
use rmq_dledger::store::{AppendHook, DataView};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Where PHYSICALOFFSET sits in a message record (`MessageDecoder.PHY_POS_POSITION`).
pub const PHY_POS_POSITION: usize = 4 + 4 + 4 + 4 + 4 + 8;

/// The topic of the entry a new DLedger leader appends to commit its predecessors' entries
/// (see [`noop_record`]). No consume queue ever holds it.
pub const NOOP_TOPIC: &str = "RMQ_SYS_DLEDGER_NOOP_TOPIC";

// ANCHOR: hook
/// The hook DLedger runs on the leader once an entry's position is known and before the
/// entry is written: PHYSICALOFFSET = entry position + 48, the record's own position in the
/// data files (4.8.0's `AppendHook` in the `DLedgerCommitLog` constructor).
pub fn physical_offset_hook() -> AppendHook {
    AppendHook(Arc::new(|_index, pos, body: &mut [u8]| {
        if let Some(field) = body.get_mut(PHY_POS_POSITION..PHY_POS_POSITION + 8) {
            field.copy_from_slice(&(pos + BODY_OFFSET as i64).to_be_bytes());
        }
    }))
}
// ANCHOR_END: hook

/// The body of the entry a new leader appends when its log ends past the committed index
/// (the Raft rule that lets it commit earlier terms' entries): a message record of
/// [`NOOP_TOPIC`] whose sysFlag says "rolled-back transaction", with an empty body. Every
/// reader of the log dispatches such a record to no consume queue and no index — 4.8.0's
/// dispatcher included — so the data files stay readable by a Java broker, which knows no
/// such entry (DLedger 0.2.2 commits earlier terms' entries by replica count alone).
pub fn noop_record(store_host: SocketAddr) -> Bytes {
    let now = crate::util::now_ms();
    let msg = MessageExtBrokerInner {
        topic: NOOP_TOPIC.to_string(),
        queue_id: 0,
        flag: 0,
        body: Bytes::new(),
        properties: String::new(),
        tags_code: 0,
        sys_flag: TRANSACTION_ROLLBACK_TYPE,
        born_timestamp: now,
        born_host: store_host,
        store_host,
        reconsume_times: 0,
        prepared_transaction_offset: 0,
    };
    // a topic of 26 ASCII bytes and no properties always encode
    Bytes::from(encode_inner_record(&msg, 0, 0, now).unwrap_or_default())
}

/// See the module docs.
pub struct DLedgerCommitLog {
    view: DataView,
    /// The running DLedger member, once the broker attached it (puts fail before).
    server: OnceLock<Arc<DLedgerServer>>,
    /// The put lock and the next queue offset per `"topic-queueId"`.
    put: Mutex<QueueTable>,
    /// When the put holding the lock took it (`beginTimeInDledgerLock`).
    begin_time_in_lock: Mutex<Option<Instant>>,
    /// Entries handed to DLedger and not yet answered.
    in_flight: Arc<AtomicUsize>,
    /// The term in which this member leads with its queue offsets rebuilt: puts are taken
    /// only while the member leads in this term (-1: not ready).
    ready_term: AtomicI64,
    max_message_size: usize,
    delay_levels_ms: Vec<i64>,
}

impl DLedgerCommitLog {
    /// A commit log over the data files `view` shows (the member's store is open and
    /// recovered; the member itself may start later).
    pub fn new(view: DataView, max_message_size: usize, delay_levels_ms: Vec<i64>) -> Self {
        DLedgerCommitLog {
            view,
            server: OnceLock::new(),
            put: Mutex::new(QueueTable::default()),
            begin_time_in_lock: Mutex::new(None),
            in_flight: Arc::new(AtomicUsize::new(0)),
            ready_term: AtomicI64::new(-1),
            max_message_size,
            delay_levels_ms,
        }
    }

    /// Hands puts to `server` from now on. Returns false if a member was attached before.
    pub fn attach(&self, server: Arc<DLedgerServer>) -> bool {
        self.server.set(server).is_ok()
    }

    /// The attached member.
    pub fn server(&self) -> Option<&Arc<DLedgerServer>> {
        self.server.get()
    }

    /// Takes puts while the member leads in `term` (its queue offsets were just rebuilt from
    /// the consume queues, everything committed being dispatched); -1 takes none. 4.8.0
    /// switches the store's role to master at the same point (`changeToMaster` after
    /// `recoverTopicQueueTable`).
    pub fn set_ready_term(&self, term: i64) {
        self.ready_term.store(term, Ordering::Release);
    }

    /// Whether the member leads now, in the term it was made ready for.
    pub fn is_ready(&self) -> bool {
        let ready = self.ready_term.load(Ordering::Acquire);
        self.server.get().is_some_and(|s| {
            ready >= 0 && s.role() == rmq_dledger::core::Role::Leader && s.term() == ready
        })
    }

    /// The window on the data files.
    pub fn view(&self) -> &DataView {
        &self.view
    }

    /// The delay levels in ms (`messageDelayLevel`), for the dispatcher's due times.
    pub fn delay_levels_ms(&self) -> &[i64] {
        &self.delay_levels_ms
    }

    /// The size of every data file (`mappedFileSizeCommitLog`).
    pub fn file_size(&self) -> i64 {
        self.view.file_size()
    }

    /// The put lock's state, for the queue-offset table calls.
    pub(crate) fn queue_table(&self) -> &Mutex<QueueTable> {
        &self.put
    }

    /// When the put now holding the put lock took it, if one does.
    pub fn append_started(&self) -> Option<Instant> {
        *self.begin_time_in_lock.lock()
    }

    /// First byte of the log (`getMinOffset`): the first entry's position, or the first
    /// file's start; -1 without files.
    pub fn min_offset(&self) -> i64 {
        match self.view.begin_pos() {
            p if p >= 0 => p,
            _ => self.view.files().first().map_or(-1, |f| f.start),
        }
    }

    /// Where the first message record starts: the first entry's position + 48, -1 when the
    /// log is empty (4.8.0 reads the first record at the log's min offset, which in DLedger
    /// mode is an entry header).
    pub fn first_record_offset(&self) -> i64 {
        match self.view.begin_pos() {
            p if p >= 0 => p + BODY_OFFSET as i64,
            _ => -1,
        }
    }

    /// One past the last readable byte (`getMaxOffset`): DLedger's committed position, or
    /// the first file's start before anything is committed, or 0.
    pub fn max_offset(&self) -> i64 {
        let committed = self.view.committed_pos();
        if committed > 0 {
            return committed;
        }
        self.view
            .files()
            .first()
            .map(|f| f.start)
            .filter(|s| *s > 0)
            .unwrap_or(0)
    }

    /// End of the written data, committed or not (`dLedgerFileList.getMaxWrotePosition`):
    /// recovery cuts consume queues that point past it.
    pub fn max_wrote_offset(&self) -> i64 {
        self.view.write_pos()
    }

    /// Whether the data files hold anything at all.
    pub fn has_files(&self) -> bool {
        !self.view.files().is_empty()
    }

    /// Start of the file after the one holding `offset` (`rollNextFile`).
    pub fn roll_next_file(&self, offset: i64) -> i64 {
        self.view.roll_next_file(offset)
    }

    /// `size` committed bytes at `offset` (`getMessage`).
    pub fn get_message(&self, offset: i64, size: i32) -> Option<Bytes> {
        let size = usize::try_from(size).ok().filter(|s| *s > 0)?;
        self.view
            .read_committed(offset, size)
            .map(|b| Bytes::copy_from_slice(&b))
    }

    /// The whole record at `offset`, if a committed message record starts there
    /// (`lookMessageByOffset`).
    pub fn look_message(&self, offset: i64) -> Option<Bytes> {
        let head = self.view.read_committed(offset, 8)?;
        let size = i32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let magic = i32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        if magic != MESSAGE_MAGIC_CODE || size <= 0 {
            return None;
        }
        self.get_message(offset, size)
    }

    /// The store time of the record at `offset` of `size` bytes, -1 if unreadable
    /// (`pickupStoreTimestamp`).
    pub fn pickup_store_timestamp(&self, offset: i64, size: i32) -> i64 {
        usize::try_from(size)
            .ok()
            .and_then(|s| self.view.read_committed(offset, s))
            .and_then(|b| store_timestamp_of(&b))
            .unwrap_or(-1)
    }
}
