//! The client's error type.
//!
//! Three kinds of failure reach a caller: the transport failed (`Remoting`), the
//! peer answered with an error code (`Broker` — a broker or a name server refused),
//! or the client itself cannot proceed (no route, bad argument, shut down). Send
//! retries and the fault strategy look at the kind to decide what to do next.
//! Book: Part II "Producing" (send failures and retries). Mirrors `MQClientException`,
//! `MQBrokerException` and the remoting exceptions of 4.8.0.

use rmq_remoting::{HeaderError, RemotingError};

/// Everything that can go wrong in the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The transport failed: connect refused, timeout, connection closed
    /// (`RemotingConnectException`, `RemotingTimeoutException`, ...).
    #[error(transparent)]
    Remoting(#[from] RemotingError),
    /// The peer replied with a non-success code.
    #[error("CODE: {code}  DESC: {remark}  (from {addr})")]
    Broker {
        /// The response code.
        code: i32,
        /// The peer's remark.
        remark: String,
        /// The peer that answered.
        addr: String,
    },
    /// A reply header field is missing or not a number.
    #[error("bad reply header: {0}")]
    Header(#[from] HeaderError),
    /// The name servers know no route for this topic, or it has no usable queue.
    #[error("No route info of this topic: {0}")]
    NoRoute(String),
    /// No address is known for this broker name, even after a route refresh
    /// (4.8.0's `MQClientException` text).
    #[error("The broker[{0}] not exist")]
    BrokerNotFound(String),
    /// The configuration names no name server.
    #[error("no name server address configured")]
    NoNameServer,
    /// The caller passed something 4.8.0 refuses (blank group, bad topic, empty body, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A send (with its retries) ran out of `sendMsgTimeout`.
    #[error("send of message to topic {topic} timed out after {millis} ms")]
    SendTimeout {
        /// The message's topic.
        topic: String,
        /// The timeout that ran out, ms.
        millis: u64,
    },
    /// A request was sent but no reply came in time (`RequestTimeoutException`, 10006).
    #[error(
        "send request message to <{topic}> OK, but wait reply message timeout, {timeout_ms} ms."
    )]
    RequestTimeout {
        /// The request's topic.
        topic: String,
        /// How long the requester waited.
        timeout_ms: u64,
    },
    /// A request could not be sent.
    #[error("send request message to <{topic}> fail: {source}")]
    RequestSendFailed {
        /// The request's topic.
        topic: String,
        /// Why the send failed.
        #[source]
        source: Box<ClientError>,
    },
    /// `MessageUtil.createReplyMessage` refused (`CREATE_REPLY_MESSAGE_EXCEPTION`, 10007).
    #[error("create reply message fail, {0}")]
    CreateReplyMessage(String),
    /// The producer or consumer is shut down, or an operation produced no result.
    #[error("the client is not running ({0})")]
    NotRunning(&'static str),
    /// A message record from a broker does not decode.
    #[error("message decode failed: {0}")]
    Decode(String),
    /// A local file (the broadcasting offset store) could not be read or written.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A JSON body could not be encoded or decoded.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl ClientError {
    /// The response code when the peer refused, else `None`.
    pub fn code(&self) -> Option<i32> {
        match self {
            ClientError::Broker { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Builds the error for a reply with an unexpected code.
    pub fn from_reply(addr: &str, reply: &rmq_remoting::RemotingCommand) -> Self {
        ClientError::Broker {
            code: reply.code,
            remark: reply.remark.clone().unwrap_or_default(),
            addr: addr.to_string(),
        }
    }
}

/// The client's result type.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
