//! Result types of the store's put and get calls, with 4.8.0's status names.
//!
//! Book: Part II, "What the broker asks of the store". Mirrors `PutMessageStatus`,
//! `PutMessageResult`, `AppendMessageResult`, `AppendMessageStatus`, `GetMessageStatus`,
//! `GetMessageResult` and `QueryMessageResult`.

use bytes::Bytes;

/// Outcome of a put (`PutMessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMessageStatus {
    PutOk,
    FlushDiskTimeout,
    FlushSlaveTimeout,
    SlaveNotAvailable,
    ServiceNotAvailable,
    CreateMappedFileFailed,
    MessageIllegal,
    PropertiesSizeExceeded,
    OsPageCacheBusy,
    UnknownError,
}

/// Outcome of one append into a mapped file (`AppendMessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendMessageStatus {
    PutOk,
    EndOfFile,
    MessageSizeExceeded,
    PropertiesSizeExceeded,
    UnknownError,
}

/// Where and how a message was appended (`AppendMessageResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessageResult {
    pub status: AppendMessageStatus,
    /// Commit-log offset of the (first) record.
    pub wrote_offset: i64,
    /// Bytes appended (all records of a batch).
    pub wrote_bytes: usize,
    /// Offset message id(s); comma-joined for a batch.
    pub msg_id: String,
    pub store_timestamp: i64,
    /// Queue offset of the (first) message.
    pub logics_offset: i64,
    /// Messages appended.
    pub msg_num: usize,
}

/// What a put returns (`PutMessageResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutMessageResult {
    pub status: PutMessageStatus,
    pub append: Option<AppendMessageResult>,
}

impl PutMessageResult {
    pub fn new(status: PutMessageStatus, append: Option<AppendMessageResult>) -> Self {
        PutMessageResult { status, append }
    }
    pub fn is_ok(&self) -> bool {
        self.status == PutMessageStatus::PutOk
    }
}

/// Outcome of a pull (`GetMessageStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetMessageStatus {
    Found,
    NoMatchedMessage,
    MessageWasRemoving,
    OffsetFoundNull,
    OffsetOverflowBadly,
    OffsetOverflowOne,
    OffsetTooSmall,
    NoMatchedLogicQueue,
    NoMessageInQueue,
}

/// What a pull returns (`GetMessageResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetMessageResult {
    pub status: GetMessageStatus,
    /// Raw records, back to back as a pull reply carries them.
    pub messages: Vec<Bytes>,
    pub next_begin_offset: i64,
    pub min_offset: i64,
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
    pub index_last_update_timestamp: i64,
    pub index_last_update_phyoffset: i64,
    pub buffer_total_size: usize,
}
