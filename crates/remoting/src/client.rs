//! The remoting client: one cached connection per address, `invoke` with a
//! timeout, and oneway sends.
//!
//! A connection that closed is dropped from the cache and the next call dials
//! again, so a restarted name server or broker is picked up without ceremony.
//! A client may also serve requests its peers send it (a broker asking a consumer
//! for its running info) by passing a `RequestProcessor`.
//! Book: Appendix "Wire protocol". Mirrors `NettyRemotingClient`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::net::TcpStream;

use crate::codec::DEFAULT_MAX_FRAME_LEN;
use crate::command::RemotingCommand;
use crate::connection::{Connection, RequestProcessor};
use crate::error::RemotingError;

/// Default connect timeout (`NettyClientConfig.connectTimeoutMillis`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

type Slot = Arc<tokio::sync::Mutex<Option<Arc<Connection>>>>;

/// Something that edits every request this client sends just before it goes out (4.8.0's
/// `RPCHook.doBeforeRequest`); rmq-client's ACL signer is one. `remote_addr` is the peer.
pub trait RpcHook: Send + Sync {
    /// Called once per request, after the request is complete and before it is sent.
    fn before_request(&self, remote_addr: &str, cmd: &mut RemotingCommand);
}

/// A client holding one connection per peer address.
#[derive(Clone)]
pub struct RemotingClient {
    inner: Arc<Inner>,
}

struct Inner {
    slots: Mutex<HashMap<String, Slot>>,
    processor: Option<Arc<dyn RequestProcessor>>,
    connect_timeout: Duration,
    max_frame_len: usize,
    hook: parking_lot::RwLock<Option<Arc<dyn RpcHook>>>,
}

impl Default for RemotingClient {
    fn default() -> Self {
        RemotingClient::new()
    }
}

impl RemotingClient {
    /// A client that serves no requests from peers, with the default connect timeout and
    /// frame limit.
    pub fn new() -> Self {
        RemotingClient::build(None, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_FRAME_LEN)
    }

    /// A client whose connections also serve requests sent by the peer.
    pub fn with_processor(processor: Arc<dyn RequestProcessor>) -> Self {
        RemotingClient::build(
            Some(processor),
            DEFAULT_CONNECT_TIMEOUT,
            DEFAULT_MAX_FRAME_LEN,
        )
    }

    /// Full control over the settings.
    pub fn build(
        processor: Option<Arc<dyn RequestProcessor>>,
        connect_timeout: Duration,
        max_frame_len: usize,
    ) -> Self {
        RemotingClient {
            inner: Arc::new(Inner {
                slots: Mutex::new(HashMap::new()),
                processor,
                connect_timeout,
                max_frame_len,
                hook: parking_lot::RwLock::new(None),
            }),
        }
    }

    /// The cached connection to `addr` ("host:port"), dialing if there is none.
    pub async fn connection(&self, addr: &str) -> Result<Arc<Connection>, RemotingError> {
        let slot = self
            .inner
            .slots
            .lock()
            .entry(addr.to_string())
            .or_default()
            .clone();
        // One dial per address at a time; other addresses are not held up.
        let mut guard = slot.lock().await;
        if let Some(conn) = guard.as_ref() {
            if !conn.is_closed() {
                return Ok(conn.clone());
            }
        }
        let conn = self.dial(addr).await?;
        *guard = Some(conn.clone());
        Ok(conn)
    }

    async fn dial(&self, addr: &str) -> Result<Arc<Connection>, RemotingError> {
        if addr.trim().is_empty() {
            return Err(RemotingError::InvalidAddress(addr.to_string()));
        }
        let timeout = self.inner.connect_timeout;
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| RemotingError::ConnectTimeout {
                addr: addr.to_string(),
                timeout,
            })?
            .map_err(|source| RemotingError::Connect {
                addr: addr.to_string(),
                source,
            })?;
        Ok(Connection::spawn(
            stream,
            self.inner.processor.clone(),
            self.inner.max_frame_len,
            // Clients keep their connections; the server side enforces idleness.
            None,
        )?)
    }

    /// Installs the hook every later request passes through (`registerRPCHook`); one per
    /// client, a second call replaces the first.
    pub fn set_rpc_hook(&self, hook: Arc<dyn RpcHook>) {
        *self.inner.hook.write() = Some(hook);
    }

    /// Runs the installed hook, if any, on `cmd` bound for `addr`. Requests sent on a
    /// [`Connection`] directly (not through `invoke`) call this themselves.
    pub fn apply_rpc_hook(&self, addr: &str, cmd: &mut RemotingCommand) {
        if let Some(h) = self.inner.hook.read().as_ref() {
            h.before_request(addr, cmd);
        }
    }

    /// Sends `cmd` to `addr` and waits up to `timeout` for the response.
    pub async fn invoke(
        &self,
        addr: &str,
        mut cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, RemotingError> {
        self.apply_rpc_hook(addr, &mut cmd);
        let conn = self.connection(addr).await?;
        conn.invoke(cmd, timeout).await
    }

    /// Sends `cmd` to `addr` as a oneway request.
    pub async fn invoke_oneway(
        &self,
        addr: &str,
        mut cmd: RemotingCommand,
    ) -> Result<(), RemotingError> {
        self.apply_rpc_hook(addr, &mut cmd);
        let conn = self.connection(addr).await?;
        conn.send_oneway(cmd).await
    }

    /// Closes and forgets the connection to `addr`, if any.
    pub fn close_connection(&self, addr: &str) {
        if let Some(slot) = self.inner.slots.lock().remove(addr) {
            if let Ok(guard) = slot.try_lock() {
                if let Some(conn) = guard.as_ref() {
                    conn.close();
                }
            }
        }
    }

    /// Closes every cached connection.
    pub fn shutdown(&self) {
        let slots: Vec<Slot> = self.inner.slots.lock().drain().map(|(_, s)| s).collect();
        for slot in slots {
            if let Ok(guard) = slot.try_lock() {
                if let Some(conn) = guard.as_ref() {
                    conn.close();
                }
            }
        }
    }
}
