//! Error types of the remoting layer.
//!
//! `HeaderError` is about the *content* of a request (a missing or unparsable
//! extFields value) and usually becomes an error response; `RemotingError` is about
//! the *transport* (I/O, framing, timeouts) and usually ends a connection or a call.
//! Book: Appendix "Wire protocol". Mirrors `RemotingCommandException`,
//! `RemotingTimeoutException`, `RemotingConnectException`, `RemotingSendRequestException`.

use std::time::Duration;

/// A problem with one custom-header field.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum HeaderError {
    #[error("the custom header field [{0}] is null")]
    Missing(String),
    #[error(
        "the custom header field [{field}] has value {value:?} which is not a valid {expected}"
    )]
    Invalid {
        field: String,
        value: String,
        expected: &'static str,
    },
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
