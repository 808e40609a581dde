//! rmq-namesrv: a RocketMQ 4.8.0-compatible name server, as a library (embed it with
//! `NameServer::start`) and as the `mqnamesrv` binary.
//!
//! A name server is a small, stateless-by-design directory: brokers register every
//! 30 s, producers and consumers ask it for topic routes, and name servers never talk
//! to each other (a broker registers with each). Book: Part III "Name server".
//! Mirrors `org.apache.rocketmq.namesrv.NamesrvController` and `NamesrvStartup`.
//!
//! # Public API
//! ```text
//! NamesrvConfig (config.rs): listen_port, bind_address, kv_config_path, order_message_enable,
//!     broker_channel_expired_time, scan_not_active_broker_interval, max_frame_len,
//!     server_channel_max_idle_time;
//!     NamesrvConfig::load(path) -> Result<(NamesrvConfig, Vec<String> /*unknown keys*/), ConfigError>
//! NameServer::start(config).await -> Result<NameServer, NamesrvError>
//!     .local_addr() -> SocketAddr   .state() -> &Arc<NameServerState>   .shutdown().await
//! run(config).await -> Result<(), NamesrvError>    (start and serve until the process ends)
//! NameServerState { config: RwLock<NamesrvConfig>, routes: RouteInfoManager, kv: KvConfigManager }
//! ```

#![warn(missing_docs)]

pub mod config;
pub mod housekeeping;
pub mod kv_config;
pub mod processor;
pub mod route_table;

use std::net::SocketAddr;
use std::sync::Arc;

use parking_lot::RwLock;
use rmq_remoting::RemotingServer;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{ConfigError, NamesrvConfig};
pub use kv_config::{KvConfigError, KvConfigManager};
pub use route_table::RouteInfoManager;

/// Why the name server could not start.
#[derive(Debug, thiserror::Error)]
pub enum NamesrvError {
    /// The listening socket could not be bound (port taken, address not local, ...).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address we tried to listen on.
        addr: SocketAddr,
        /// The error from the operating system.
        source: std::io::Error,
    },
    /// The KV config file could not be loaded.
    #[error(transparent)]
    KvConfig(#[from] KvConfigError),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Everything a request can touch.
pub struct NameServerState {
    /// The configuration; `updateNamesrvConfig` changes it at run time (Java: `namesrvConfig`).
    pub config: RwLock<NamesrvConfig>,
    /// Topic routes and broker liveness (Java: `routeInfoManager`).
    pub routes: RouteInfoManager,
    /// The persisted KV configuration (Java: `kvConfigManager`).
    pub kv: KvConfigManager,
}

/// A running name server.
pub struct NameServer {
    state: Arc<NameServerState>,
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    scan: JoinHandle<()>,
}

impl NameServer {
    /// Loads KV config, binds the listener and starts serving and housekeeping.
    pub async fn start(config: NamesrvConfig) -> Result<NameServer, NamesrvError> {
        let kv = KvConfigManager::load(&config.kv_config_path)?;
        let addr = config.listen_addr();
        let server = RemotingServer::bind(addr)
            .await
            .map_err(|source| NamesrvError::Bind { addr, source })?
            .with_max_frame_len(config.max_frame_len)
            .with_idle_timeout(Some(config.server_channel_max_idle_time).filter(|d| !d.is_zero()));
        let local_addr = server
            .local_addr()
            .map_err(|source| NamesrvError::Bind { addr, source })?;
        let state = Arc::new(NameServerState {
            config: RwLock::new(config),
            routes: RouteInfoManager::new(),
            kv,
        });
        let processor = Arc::new(processor::NamesrvProcessor::new(state.clone()));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(server.serve_until(processor, async move {
            let _ = stopped.await;
        }));
        let scan = housekeeping::spawn_broker_scan(state.clone());
        Ok(NameServer {
            state,
            local_addr,
            stop: Some(stop),
            server: Some(server),
            scan,
        })
    }

    /// The address actually bound (useful when the configured port was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The shared state the request processor works on (for tests and embedding).
    pub fn state(&self) -> &Arc<NameServerState> {
        &self.state
    }

    /// Stops accepting connections and stops housekeeping.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.scan.abort();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Waits until the accept loop ends (it only ends on shutdown or a fatal error).
    pub async fn wait(&mut self) -> std::io::Result<()> {
        let Some(server) = self.server.as_mut() else {
            return Ok(());
        };
        let outcome = server.await;
        self.server = None;
        match outcome {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

/// Starts a name server and serves until the process ends.
pub async fn run(config: NamesrvConfig) -> Result<(), NamesrvError> {
    let mut server = NameServer::start(config).await?;
    let addr = server.local_addr;
    server
        .wait()
        .await
        .map_err(|source| NamesrvError::Bind { addr, source })
}
