//! One live TCP connection, shared by the server and the client.
//!
//! RocketMQ connections are symmetric: either side may send requests, and a
//! response finds its request by `opaque`. So every connection runs the same two
//! tasks: a *reader* that decodes frames, hands requests to a `RequestProcessor` and
//! completes waiting `invoke` calls with responses; and a *writer* that drains a queue
//! of outgoing commands. A decode error (oversized or malformed frame) ends the
//! connection with a `warn!` line, like Netty closing the channel in 4.8.0.
//! Book: Appendix "Wire protocol". Mirrors `NettyRemotingAbstract` (`responseTable`,
//! `processRequestCommand`, `processResponseCommand`, `invokeSyncImpl`, `invokeOnewayImpl`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::{FutureExt, SinkExt, StreamExt};
use parking_lot::Mutex;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::codec::RemotingCodec;
use crate::codes::response;
use crate::command::RemotingCommand;
use crate::error::RemotingError;

/// Serves requests arriving on a connection (server side: clients' requests;
/// client side: the broker's calls back into a client).
pub trait RequestProcessor: Send + Sync + 'static {
    /// Handles one request. Called on the connection's reader task in frame order
    /// (so work done before returning the future is ordered per connection); the
    /// returned future runs in its own task. `None` means "send no reply", which is
    /// also what happens for oneway requests whatever is returned. The server fills
    /// the response's opaque and response flag.
    fn process(
        &self,
        ctx: Arc<Connection>,
        req: RemotingCommand,
    ) -> BoxFuture<'static, Option<RemotingCommand>>;

    /// Called once when the connection is gone (EOF, error, or close()).
    fn on_close(&self, _ctx: &Connection) {}
}

/// Outgoing queue depth per connection; senders wait when it is full.
const WRITE_QUEUE: usize = 4096;

/// Request ids are process-wide, like Java's `RemotingCommand.requestId`.
static NEXT_OPAQUE: AtomicI32 = AtomicI32::new(1);
static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh request id.
pub fn next_opaque() -> i32 {
    NEXT_OPAQUE.fetch_add(1, Ordering::Relaxed)
}

type Pending = Mutex<HashMap<i32, oneshot::Sender<Result<RemotingCommand, RemotingError>>>>;

/// A live connection. Cheap to share as `Arc<Connection>`.
pub struct Connection {
    /// Process-unique id (handy as a map key for per-connection state).
    pub id: u64,
    /// The peer's address.
    pub remote_addr: SocketAddr,
    /// Our end's address.
    pub local_addr: SocketAddr,
    outgoing: mpsc::Sender<RemotingCommand>,
    // ANCHOR: response_table
    /// Requests we sent and still wait for, by opaque (Java's `responseTable`).
    pending: Pending,
    // ANCHOR_END: response_table
    shutdown: CancellationToken,
    /// Activity clock for the idle check: ms since `born` of the last read or write.
    born: Instant,
    last_activity_ms: AtomicU64,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.id)
            .field("remote_addr", &self.remote_addr)
            .field("local_addr", &self.local_addr)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl Connection {
    /// Starts the reader and writer tasks for `stream` and returns the handle.
    pub(crate) fn spawn(
        stream: TcpStream,
        processor: Option<Arc<dyn RequestProcessor>>,
        max_frame_len: usize,
        idle_timeout: Option<Duration>,
    ) -> std::io::Result<Arc<Connection>> {
        let remote_addr = stream.peer_addr()?;
        let local_addr = stream.local_addr()?;
        // Small request/response frames: do not let Nagle delay them.
        let _ = stream.set_nodelay(true);
        let (read_half, write_half) = stream.into_split();
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        let conn = Arc::new(Connection {
            id: NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed),
            remote_addr,
            local_addr,
            outgoing: tx,
            pending: Mutex::new(HashMap::new()),
            shutdown: CancellationToken::new(),
            born: Instant::now(),
            last_activity_ms: AtomicU64::new(0),
        });
        let codec = RemotingCodec::new(max_frame_len);
        tokio::spawn(write_loop(
            conn.clone(),
            FramedWrite::new(write_half, codec),
            rx,
        ));
        tokio::spawn(read_loop(
            conn.clone(),
            FramedRead::new(read_half, codec),
            processor,
            idle_timeout,
        ));
        Ok(conn)
    }

    /// The connection's process-unique id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The peer's address.
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// Our end's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The connection was closed (by either side).
    pub fn is_closed(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    /// Closes the connection (both tasks stop; pending invokes fail).
    pub fn close(&self) {
        self.shutdown.cancel();
    }

    /// Resolves when the connection has closed.
    pub async fn closed(&self) {
        self.shutdown.cancelled().await
    }

    // ANCHOR: invoke
    /// Sends a request and waits for the response with the same opaque.
    pub async fn invoke(
        &self,
        mut cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand, RemotingError> {
        let opaque = next_opaque();
        cmd.opaque = opaque;
        cmd.flag &= !crate::command::FLAG_RESPONSE;
        let (tx, rx) = oneshot::channel();
        self.pending.lock().insert(opaque, tx);
        let outcome = tokio::time::timeout(timeout, async {
            self.enqueue(cmd).await?;
            match rx.await {
                Ok(result) => result,
                // The sender was dropped: the connection closed under us.
                Err(_) => Err(self.closed_error()),
            }
        })
        .await;
        // Whatever happened, this opaque is no longer awaited.
        self.pending.lock().remove(&opaque);
        match outcome {
            Ok(result) => result,
            Err(_) => Err(RemotingError::Timeout {
                addr: self.remote_addr.to_string(),
                timeout,
                opaque,
            }),
        }
    }
    // ANCHOR_END: invoke

    // ANCHOR: send_oneway
    /// Sends a request that wants no response (flag bit 1 set).
    pub async fn send_oneway(&self, mut cmd: RemotingCommand) -> Result<(), RemotingError> {
        cmd.opaque = next_opaque();
        cmd.mark_oneway();
        self.enqueue(cmd).await
    }
    // ANCHOR_END: send_oneway

    /// Queues any command as is (e.g. a response built by hand).
    pub async fn send(&self, cmd: RemotingCommand) -> Result<(), RemotingError> {
        self.enqueue(cmd).await
    }

    async fn enqueue(&self, cmd: RemotingCommand) -> Result<(), RemotingError> {
        if self.is_closed() {
            return Err(self.closed_error());
        }
        self.outgoing
            .send(cmd)
            .await
            .map_err(|_| self.closed_error())
    }

    fn touch(&self) {
        let now = self.born.elapsed().as_millis() as u64;
        self.last_activity_ms.store(now, Ordering::Relaxed);
    }

    /// Time since the last frame was read or written.
    pub fn idle_for(&self) -> Duration {
        let last = self.last_activity_ms.load(Ordering::Relaxed);
        self.born
            .elapsed()
            .saturating_sub(Duration::from_millis(last))
    }

    fn closed_error(&self) -> RemotingError {
        RemotingError::ConnectionClosed(self.remote_addr.to_string())
    }

    // ANCHOR: opaque_matching
    /// Routes an incoming response to the `invoke` waiting for its opaque.
    fn complete(&self, resp: RemotingCommand) {
        let waiter = self.pending.lock().remove(&resp.opaque);
        match waiter {
            Some(tx) => {
                // The invoker may have timed out in the meantime; that is fine.
                let _ = tx.send(Ok(resp));
            }
            None => debug!(
                peer = %self.remote_addr,
                opaque = resp.opaque,
                code = resp.code,
                "response for an unknown or timed-out request dropped"
            ),
        }
    }
    // ANCHOR_END: opaque_matching

    fn fail_request(&self, opaque: i32, err: RemotingError) {
        if let Some(tx) = self.pending.lock().remove(&opaque) {
            let _ = tx.send(Err(err));
        }
    }
}

async fn write_loop(
    conn: Arc<Connection>,
    mut sink: FramedWrite<tokio::net::tcp::OwnedWriteHalf, RemotingCodec>,
    mut rx: mpsc::Receiver<RemotingCommand>,
) {
    loop {
        let cmd = tokio::select! {
            _ = conn.shutdown.cancelled() => break,
            cmd = rx.recv() => match cmd {
                Some(cmd) => cmd,
                None => break,
            },
        };
        if let Err(e) = write_one(&conn, &mut sink, cmd).await {
            warn!(peer = %conn.remote_addr, error = %e, "write failed, closing connection");
            break;
        }
        // Batch whatever else is queued into the same flush.
        while let Ok(cmd) = rx.try_recv() {
            if let Err(e) = write_one(&conn, &mut sink, cmd).await {
                warn!(peer = %conn.remote_addr, error = %e, "write failed, closing connection");
                conn.close();
                return;
            }
        }
        if let Err(e) = sink.flush().await {
            warn!(peer = %conn.remote_addr, error = %e, "flush failed, closing connection");
            break;
        }
        conn.touch();
    }
    conn.close();
}

/// Feeds one command to the sink. A command that cannot be encoded (too large)
/// is answered locally instead of killing the connection: an invoke fails, a
/// response is replaced by SYSTEM_ERROR so the peer does not wait forever.
async fn write_one(
    conn: &Connection,
    sink: &mut FramedWrite<tokio::net::tcp::OwnedWriteHalf, RemotingCodec>,
    cmd: RemotingCommand,
) -> Result<(), RemotingError> {
    let opaque = cmd.opaque;
    let is_response = cmd.is_response();
    match sink.feed(cmd).await {
        Ok(()) => Ok(()),
        Err(e @ (RemotingError::FrameTooLarge { .. } | RemotingError::MalformedHeader(_))) => {
            warn!(peer = %conn.remote_addr, opaque, error = %e, "cannot encode outgoing command");
            if is_response {
                let mut err = RemotingCommand::new_response(
                    response::SYSTEM_ERROR,
                    Some(format!("response could not be encoded: {e}")),
                );
                err.opaque = opaque;
                sink.feed(err).await
            } else {
                conn.fail_request(opaque, e);
                Ok(())
            }
        }
        Err(e) => Err(e),
    }
}

async fn read_loop(
    conn: Arc<Connection>,
    mut stream: FramedRead<tokio::net::tcp::OwnedReadHalf, RemotingCodec>,
    processor: Option<Arc<dyn RequestProcessor>>,
    idle_timeout: Option<Duration>,
) {
    // Far enough in the future to mean "never" without overflowing Instant.
    let never = Duration::from_secs(86_400 * 365);
    loop {
        let idle_left = idle_timeout.map_or(never, |t| t.saturating_sub(conn.idle_for()));
        let frame = tokio::select! {
            _ = conn.shutdown.cancelled() => break,
            frame = stream.next() => frame,
            _ = tokio::time::sleep(idle_left) => {
                if idle_timeout.is_some_and(|t| conn.idle_for() >= t) {
                    // 4.8.0's IdleStateHandler: an all-idle channel is closed.
                    warn!(peer = %conn.remote_addr, idle = ?conn.idle_for(), "connection idle, closing it");
                    break;
                }
                continue;
            }
        };
        conn.touch();
        match frame {
            None => break,
            Some(Err(e)) => {
                warn!(peer = %conn.remote_addr, error = %e, "bad frame, closing connection");
                break;
            }
            Some(Ok(cmd)) if cmd.is_response() => conn.complete(cmd),
            Some(Ok(cmd)) => dispatch(&conn, processor.as_ref(), cmd),
        }
    }
    conn.close();
    // Wake every invoke still waiting: their senders are dropped here.
    conn.pending.lock().clear();
    if let Some(p) = &processor {
        p.on_close(&conn);
    }
    debug!(peer = %conn.remote_addr, id = conn.id, "connection closed");
}

// ANCHOR: dispatch
/// Runs one request through the processor and sends its response, if any.
fn dispatch(
    conn: &Arc<Connection>,
    processor: Option<&Arc<dyn RequestProcessor>>,
    req: RemotingCommand,
) {
    let opaque = req.opaque;
    let oneway = req.is_oneway();
    let code = req.code;
    let Some(processor) = processor else {
        if !oneway {
            let resp = RemotingCommand::new_response(
                response::REQUEST_CODE_NOT_SUPPORTED,
                Some(format!(" request type {code} not supported")),
            );
            reply(conn.clone(), opaque, resp);
        }
        return;
    };
    let fut = processor.process(conn.clone(), req);
    let conn = conn.clone();
    tokio::spawn(async move {
        // A panicking handler must not take the connection (or the server) down.
        let outcome = AssertUnwindSafe(fut).catch_unwind().await;
        let resp = match outcome {
            Ok(resp) => resp,
            Err(_) => {
                warn!(peer = %conn.remote_addr, code, "request handler panicked");
                Some(RemotingCommand::new_response(
                    response::SYSTEM_ERROR,
                    Some(format!("request {code} failed: handler panicked")),
                ))
            }
        };
        if let (Some(resp), false) = (resp, oneway) {
            send_reply(&conn, opaque, resp).await;
        }
    });
}
// ANCHOR_END: dispatch

fn reply(conn: Arc<Connection>, opaque: i32, resp: RemotingCommand) {
    tokio::spawn(async move { send_reply(&conn, opaque, resp).await });
}

async fn send_reply(conn: &Connection, opaque: i32, mut resp: RemotingCommand) {
    resp.opaque = opaque;
    resp.mark_response();
    if let Err(e) = conn.enqueue(resp).await {
        debug!(peer = %conn.remote_addr, error = %e, "reply not sent");
    }
}
