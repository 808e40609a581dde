//! Result types of the store's put and get calls, with 4.8.0's status names.
//!
//! Book: Part II, "What the broker asks of the store". Mirrors `PutMessageStatus`,
//! `PutMessageResult`, `AppendMessageResult`, `AppendMessageStatus`, `GetMessageStatus`,
//! `GetMessageResult` and `QueryMessageResult`.

use bytes::Bytes;

/// Outcome of a put (`PutMessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMessageStatus {
    /// Stored (`PUT_OK`).
    PutOk,
    /// Stored, but the sync flush timed out (`FLUSH_DISK_TIMEOUT`).
    FlushDiskTimeout,
    /// Stored, but no slave acknowledged in time (`FLUSH_SLAVE_TIMEOUT`).
    FlushSlaveTimeout,
    /// Stored, but no slave is connected (`SLAVE_NOT_AVAILABLE`).
    SlaveNotAvailable,
    /// Not stored: the store does not take puts now (`SERVICE_NOT_AVAILABLE`).
    ServiceNotAvailable,
    /// Not stored: no file could be created (`CREATE_MAPEDFILE_FAILED`).
    CreateMappedFileFailed,
    /// Not stored: the message is invalid or too large (`MESSAGE_ILLEGAL`).
    MessageIllegal,
    /// Not stored: the properties are too long (`PROPERTIES_SIZE_EXCEEDED`).
    PropertiesSizeExceeded,
    /// Not stored: the put lock is held too long, or the replicated log is saturated (`OS_PAGECACHE_BUSY`).
    OsPageCacheBusy,
    /// Outcome unknown (`UNKNOWN_ERROR`).
    UnknownError,
}

/// Outcome of one append into a mapped file (`AppendMessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendMessageStatus {
    /// Appended.
    PutOk,
    /// The file had no room: the blank was written, try the next file.
    EndOfFile,
    /// The record exceeds the maximum size.
    MessageSizeExceeded,
    /// The properties do not fit the record.
    PropertiesSizeExceeded,
    /// Anything else.
    UnknownError,
}

/// Where and how a message was appended (`AppendMessageResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessageResult {
    /// How the append went.
    pub status: AppendMessageStatus,
    /// Commit-log offset of the (first) record.
    pub wrote_offset: i64,
    /// Bytes appended (all records of a batch).
    pub wrote_bytes: usize,
    /// Offset message id(s); comma-joined for a batch.
    pub msg_id: String,
    /// STORETIMESTAMP written into the record(s).
    pub store_timestamp: i64,
    /// Queue offset of the (first) message.
    pub logics_offset: i64,
    /// Messages appended.
    pub msg_num: usize,
}

/// What a put returns (`PutMessageResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutMessageResult {
    /// The overall status.
    pub status: PutMessageStatus,
    /// What was appended, if anything.
    pub append: Option<AppendMessageResult>,
}

impl PutMessageResult {
    /// A result from its parts.
    pub fn new(status: PutMessageStatus, append: Option<AppendMessageResult>) -> Self {
        PutMessageResult { status, append }
    }
    /// The message was stored (`PUT_OK`).
    pub fn is_ok(&self) -> bool {
        self.status == PutMessageStatus::PutOk
    }
}

/// Outcome of a pull (`GetMessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetMessageStatus {
    /// Messages found.
    Found,
    /// Entries found, but the filter matched none.
    NoMatchedMessage,
    /// The commit-log file holding the next record is being deleted.
    MessageWasRemoving,
    /// No entry at the offset (a deleted consume-queue file).
    OffsetFoundNull,
    /// The offset is past the end of the queue by more than one.
    OffsetOverflowBadly,
    /// The offset is exactly the end of the queue (nothing new yet).
    OffsetOverflowOne,
    /// The offset is below the queue's first live entry.
    OffsetTooSmall,
    /// No such queue.
    NoMatchedLogicQueue,
    /// The queue is empty.
    NoMessageInQueue,
}

/// What a pull returns (`GetMessageResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetMessageResult {
    /// How the read went.
    pub status: GetMessageStatus,
    /// Raw records, back to back as a pull reply carries them.
    pub messages: Vec<Bytes>,
    /// Where the next pull should start.
    pub next_begin_offset: i64,
    /// First live offset of the queue.
    pub min_offset: i64,
    /// End of the queue.
    pub max_offset: i64,
    /// The reads went to disk enough that a slave should serve this consumer.
    pub suggest_pulling_from_slave: bool,
    /// Total bytes of `messages`.
    pub buffer_total_size: usize,
    /// Queue offsets of the returned messages.
    pub message_queue_offsets: Vec<i64>,
}

impl GetMessageResult {
    pub(crate) fn empty(status: GetMessageStatus) -> Self {
        GetMessageResult {
            status,
            messages: Vec::new(),
            next_begin_offset: 0,
            min_offset: 0,
            max_offset: 0,
            suggest_pulling_from_slave: false,
            buffer_total_size: 0,
            message_queue_offsets: Vec::new(),
        }
    }
}

/// What a key query returns (`QueryMessageResult`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryMessageResult {
    /// Raw records, newest first.
    pub messages: Vec<Bytes>,
    /// Store time of the newest message the index covers.
    pub index_last_update_timestamp: i64,
    /// Commit-log offset of the newest message the index covers.
    pub index_last_update_phyoffset: i64,
    /// Total bytes of `messages`.
    pub buffer_total_size: usize,
}
