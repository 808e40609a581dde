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
    #[error(transparent)]
    Remoting(#[from] RemotingError),
    /// The peer replied with a non-success code.
    #[error("CODE: {code}  DESC: {remark}  (from {addr})")]
    Broker {
        code: i32,
        remark: String,
        addr: String,
    },
    #[error("bad reply header: {0}")]
    Header(#[from] HeaderError),
    #[error("No route info of this topic: {0}")]
    NoRoute(String),
    #[error("broker [{0}] has no known address")]
    BrokerNotFound(String),
    #[error("no name server address configured")]
    NoNameServer,
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("send of message to topic {topic} timed out after {millis} ms")]
    SendTimeout { topic: String, millis: u64 },
    /// A request was sent but no reply came in time (`RequestTimeoutException`, 10006).
    #[error(
        "send request message to <{topic}> OK, but wait reply message timeout, {timeout_ms} ms."
    )]
    RequestTimeout { topic: String, timeout_ms: u64 },
    /// A request could not be sent.
    #[error("send request message to <{topic}> fail: {source}")]
    RequestSendFailed {
        topic: String,
        #[source]
        source: Box<ClientError>,
    },
    /// `MessageUtil.createReplyMessage` refused (`CREATE_REPLY_MESSAGE_EXCEPTION`, 10007).
    #[error("create reply message fail, {0}")]
    CreateReplyMessage(String),
    #[error("the client is not running ({0})")]
    NotRunning(&'static str),
    #[error("message decode failed: {0}")]
    Decode(String),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
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
