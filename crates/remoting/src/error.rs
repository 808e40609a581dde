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
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("connect to {addr} failed: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("connect to {addr} timed out after {timeout:?}")]
    ConnectTimeout { addr: String, timeout: Duration },
    #[error("wait response on {addr} timed out after {timeout:?} (opaque {opaque})")]
    Timeout {
        addr: String,
        timeout: Duration,
        opaque: i32,
    },
    #[error("connection to {0} is closed")]
    ConnectionClosed(String),
    #[error("frame of {len} bytes exceeds the maximum of {max} bytes")]
    FrameTooLarge { len: usize, max: usize },
    #[error("malformed frame: {0}")]
    MalformedFrame(String),
    #[error("malformed header: {0}")]
    MalformedHeader(String),
    #[error("malformed body: {0}")]
    MalformedBody(String),
    #[error("invalid address {0:?}")]
    InvalidAddress(String),
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("json body: {0}")]
    Json(#[from] serde_json::Error),
}
