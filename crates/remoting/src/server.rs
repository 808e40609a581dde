//! The TCP server: accept connections and run each through `Connection`.
//!
//! The server owns nothing but the listener; all per-connection work lives in
//! `connection.rs`, so the same machinery also serves clients that receive calls
//! from a broker. Book: Appendix "Wire protocol". Mirrors `NettyRemotingServer`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, ToSocketAddrs};
use tracing::{debug, warn};

use crate::codec::DEFAULT_MAX_FRAME_LEN;
use crate::connection::{Connection, RequestProcessor};

/// `NettyServerConfig.serverChannelMaxIdleTimeSeconds`.
pub const DEFAULT_SERVER_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// A bound, not yet serving, remoting server.
pub struct RemotingServer {
    listener: TcpListener,
    max_frame_len: usize,
    idle_timeout: Option<Duration>,
}

impl RemotingServer {
    /// Binds the listening socket (use port 0 for an ephemeral port).
    pub async fn bind(addr: impl ToSocketAddrs) -> std::io::Result<RemotingServer> {
        Ok(RemotingServer {
            listener: TcpListener::bind(addr).await?,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            idle_timeout: Some(DEFAULT_SERVER_IDLE_TIMEOUT),
        })
    }

    /// Changes the maximum accepted frame size (default 16 MiB).
    pub fn with_max_frame_len(mut self, max_frame_len: usize) -> Self {
        self.max_frame_len = max_frame_len;
        self
    }

    /// Closes connections with no traffic in either direction for this long
    /// (default 120 s like `serverChannelMaxIdleTimeSeconds`; `None` disables).
    pub fn with_idle_timeout(mut self, idle_timeout: Option<Duration>) -> Self {
        self.idle_timeout = idle_timeout;
        self
    }

    /// The address the server listens on (the real port after binding port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections forever.
    pub async fn serve(self, processor: Arc<dyn RequestProcessor>) -> std::io::Result<()> {
        self.serve_until(processor, std::future::pending()).await
    }

    /// Accepts connections until `shutdown` resolves. Connections already open
    /// keep running until their peers close them.
    pub async fn serve_until(
        self,
        processor: Arc<dyn RequestProcessor>,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                _ = &mut shutdown => return Ok(()),
                accepted = self.listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, peer)) => {
                    match Connection::spawn(
                        stream,
                        Some(processor.clone()),
                        self.max_frame_len,
                        self.idle_timeout,
                    ) {
                        Ok(conn) => debug!(%peer, id = conn.id, "connection accepted"),
                        Err(e) => warn!(%peer, error = %e, "could not set up accepted connection"),
                    }
                }
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}
