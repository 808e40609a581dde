//! Error types of the remoting layer.
//!
//! `HeaderError` is about the *content* of a request (a missing or unparsable
//! extFields value) and usually becomes an error response; `RemotingError` is about
//! the *transport* (I/O, framing, timeouts) and usually ends a connection or a call.
//! Book: Appendix "Wire protocol". Mirrors `RemotingCommandException`,
//! `RemotingTimeoutException`, `RemotingConnectException`, `RemotingSendRequestException`.

use std::time::Duration;

/// A custom header that cannot be read: a missing or unparsable extFields value, or a
/// value the header's own check refuses. A server answers it with SYSTEM_ERROR and the
/// error's text as the remark.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// A field 4.8.0 marks `@CFNotNull` is absent. The text is the message 4.8.0's
    /// `RemotingCommand.decodeCommandCustomHeader` builds for it.
    #[error("the custom field <{0}> is null")]
    Missing(String),
    /// A required number that does not parse (Java: `NumberFormatException`).
    #[error("the custom field <{field}> is not a valid {expected}: {value:?}")]
    Invalid {
        /// The extFields key.
        field: String,
        /// The value as received.
        value: String,
        /// The Java type expected: `int`, `long` or `boolean`.
        expected: &'static str,
    },
    /// The header's `checkFields` refused the values (for example
    /// `commitOrRollback field wrong`); the text is 4.8.0's message.
    #[error("{0}")]
    Check(String),
}

/// A transport-level failure.
#[derive(Debug, thiserror::Error)]
pub enum RemotingError {
    /// A socket read or write failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The TCP connect failed.
    #[error("connect to {addr} failed: {source}")]
    Connect {
        /// The address dialled.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TCP connect took too long.
    #[error("connect to {addr} timed out after {timeout:?}")]
    ConnectTimeout {
        /// The address dialled.
        addr: String,
        /// The connect timeout.
        timeout: Duration,
    },
    /// No response came in time (Java's `RemotingTimeoutException`).
    #[error("wait response on {addr} timed out after {timeout:?} (opaque {opaque})")]
    Timeout {
        /// The peer.
        addr: String,
        /// How long the call waited.
        timeout: Duration,
        /// The request's opaque.
        opaque: i32,
    },
    /// The connection closed before the response came.
    #[error("connection to {0} is closed")]
    ConnectionClosed(String),
    /// A frame longer than the codec's maximum.
    #[error("frame of {len} bytes exceeds the maximum of {max} bytes")]
    FrameTooLarge {
        /// The announced frame length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A frame whose lengths do not add up.
    #[error("malformed frame: {0}")]
    MalformedFrame(String),
    /// A frame header that does not decode.
    #[error("malformed header: {0}")]
    MalformedHeader(String),
    /// A body that does not decode.
    #[error("malformed body: {0}")]
    MalformedBody(String),
    /// An address that is not `host:port`.
    #[error("invalid address {0:?}")]
    InvalidAddress(String),
    /// A custom header that cannot be read.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// A JSON body that does not parse.
    #[error("json body: {0}")]
    Json(#[from] serde_json::Error),
}
