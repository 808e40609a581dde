//! `DLedgerServer`: one DLedger member running on tokio — the Raft core, the file
//! store and the RPC transport wired together, with the API a broker needs.
//!
//! ```text
//! DLedgerServer::start(config).await? -> DLedgerServer        (binds its own peer address)
//! DLedgerServer::start_on(config, RemotingServer).await?      (pre-bound, for ephemeral ports)
//! DLedgerServer::open_store(&config)? -> (DLedgerStore, Recovery)   then
//! DLedgerServer::start_with_store(config, store, Option<RemotingServer>).await?
//!   (the store opened, and its data view taken, before the member runs)
//!   append(bytes).await -> Result<Appended { index, term, pos }, DLedgerError>  (after majority commit)
//!   submit(bytes) -> PendingAppend (ordered, non-blocking; .wait().await)   append_batch(Vec<Bytes>)
//!   submit_batch(Vec<Bytes>) -> Vec<PendingAppend> (all queued or none)
//!   read_at(pos, len)   data_view()   config.append_hook = Some(AppendHook(Arc::new(|index, pos, body| ..)))
//!   role() leader_id() term() watch_role() -> watch::Receiver<RoleState>
//!   get(index) -> Result<Entry>   committed_index()   committed_pos()   end_index()
//!   watch_committed() -> watch::Receiver<i64>          (wakes appliers when the commit moves)
//!   transfer_leadership(Option<transferee>).await                (LEADERSHIP_TRANSFER, as 0.2.2)
//!   shutdown().await                                             (flush, checkpoint, close sockets)
//! ```
//!
//! A single driver task owns the [`crate::core::Node`]; RPC handlers and `append`
//! talk to it over a channel, and it persists `currterm` before any message leaves.
//! Book: Part IV "Cluster modes and DLedger". Mirrors `DLedgerServer.java` of
//! DLedger 0.2.2 and the role-change hook RocketMQ's `DLedgerRoleChangeHandler` uses.

mod driver;
mod flush;
mod transport;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use rmq_remoting::RemotingServer;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken as CancelToken;

use crate::codes::ResponseCode;
use crate::core::{Appended, LogError, LogStore, NodeConfig, Role};
use crate::entry::Entry;
use crate::store::{
    AppendHook, DLedgerStore, DataView, Recovery, StoreConfig, StoreError, DEFAULT_DATA_FILE_SIZE,
    DEFAULT_INDEX_FILE_SIZE,
};

/// Everything that can fail in the server API.
#[derive(Debug, Error)]
pub enum DLedgerError {
    /// A setting is invalid (what is wrong).
    #[error("bad configuration: {0}")]
    Config(String),
    /// The file store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The member cannot listen on its address.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address from the peers list.
        addr: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A client append did not commit.
    #[error("append failed with {code} (leader: {leader:?})")]
    Append {
        /// Why (`DLedgerResponseCode`).
        code: ResponseCode,
        /// The leader this member knows of, to retry there.
        leader: Option<String>,
    },
    /// The ledger refused an operation.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A leadership transfer did not complete.
    #[error("leadership transfer failed with {code}")]
    Transfer {
        /// Why (`DLedgerResponseCode`, e.g. NOT_LEADER, FALL_BEHIND_TOO_MUCH, TIMEOUT).
        code: ResponseCode,
    },
    /// The server was shut down before it could answer.
    #[error("the server is shut down")]
    Closed,
}

/// One member's settings. Timings live in `node` (DLedger's defaults; scale them
/// down in tests).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The DLedger group name (`group`; RocketMQ: `dLegerGroup`).
    pub group: String,
    /// This member's id (`selfId`; RocketMQ: `dLegerSelfId`).
    pub self_id: String,
    /// `n0-127.0.0.1:40911;n1-127.0.0.1:40912;...`
    pub peers: String,
    /// The directory that holds `dledger-<selfId>/` (`storeBaseDir`).
    pub store_base_dir: PathBuf,
    /// Size of one data file, in bytes (`mappedFileSizeForEntryData`).
    pub data_file_size: i64,
    /// Size of one index file, in bytes (`mappedFileSizeForEntryIndex`).
    pub index_file_size: i64,
    /// The Raft core's timings and rules.
    pub node: NodeConfig,
    /// The longest the driver sleeps when the core names no earlier timer (it wakes at the
    /// core's [`Node::next_due`] otherwise).
    ///
    /// [`Node::next_due`]: crate::core::Node::next_due
    pub max_sleep_ms: u64,
    /// How often written data is forced to disk (0.2.2: 10 ms).
    pub flush_interval_ms: u64,
    /// How often `checkpoint` is written (0.2.2: 3000 ms).
    pub checkpoint_interval_ms: u64,
    /// Timeout of one peer RPC (0.2.2: 3000 ms).
    pub rpc_timeout_ms: u64,
    /// Patches each new entry's body on the leader once its position is known.
    pub append_hook: Option<AppendHook>,
}

/// Splits a peers string: `;`-separated `id-host:port` items (id = text before the
/// first `-`).
pub fn parse_peers(peers: &str) -> Result<Vec<(String, String)>, DLedgerError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for item in peers.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((id, addr)) = item.split_once('-') else {
            return Err(DLedgerError::Config(format!(
                "peer {item:?} is not id-host:port"
            )));
        };
        if id.is_empty() || addr.is_empty() || !addr.contains(':') {
            return Err(DLedgerError::Config(format!(
                "peer {item:?} is not id-host:port"
            )));
        }
        if out.iter().any(|(i, _)| i == id) {
            return Err(DLedgerError::Config(format!("peer id {id} appears twice")));
        }
        out.push((id.to_string(), addr.to_string()));
    }
    if out.is_empty() {
        return Err(DLedgerError::Config("no peers".into()));
    }
    Ok(out)
}

impl ServerConfig {
    /// A member with 0.2.2's defaults.
    pub fn new(
        group: impl Into<String>,
        self_id: impl Into<String>,
        peers: impl Into<String>,
        store_base_dir: impl Into<PathBuf>,
    ) -> Result<ServerConfig, DLedgerError> {
        let (self_id, peers) = (self_id.into(), peers.into());
        let ids: Vec<String> = parse_peers(&peers)?.into_iter().map(|(i, _)| i).collect();
        if !ids.contains(&self_id) {
            return Err(DLedgerError::Config(format!(
                "self id {self_id} is not among the peers"
            )));
        }
        let mut node = NodeConfig::new(self_id.clone(), ids);
        node.seed = seed_from_clock(&self_id);
        Ok(ServerConfig {
            group: group.into(),
            self_id,
            peers,
            store_base_dir: store_base_dir.into(),
            data_file_size: DEFAULT_DATA_FILE_SIZE,
            index_file_size: DEFAULT_INDEX_FILE_SIZE,
            node,
            max_sleep_ms: 1000,
            flush_interval_ms: 10,
            checkpoint_interval_ms: 3000,
            rpc_timeout_ms: 3000,
            append_hook: None,
        })
    }

    /// The address of `id` in the peers string.
    pub fn peer_addr(&self, id: &str) -> Option<String> {
        parse_peers(&self.peers)
            .ok()?
            .into_iter()
            .find(|(i, _)| i == id)
            .map(|(_, a)| a)
    }
}

fn seed_from_clock(id: &str) -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    id.bytes().fold(t, |h, b| h.rotate_left(7) ^ u64::from(b))
}

/// Role, term and leader as one value (what the role watch carries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleState {
    /// The member's role.
    pub role: Role,
    /// The member's current term.
    pub term: i64,
    /// The leader's id, if one is known.
    pub leader_id: Option<String>,
}

/// State the driver publishes for readers.
pub(crate) struct Shared {
    pub store: Mutex<DLedgerStore>,
    pub committed_index: AtomicI64,
    pub committed_pos: AtomicI64,
    /// The committed index again, as a watch: appliers sleep on it instead of polling.
    pub committed_watch: watch::Sender<i64>,
    pub role: watch::Sender<RoleState>,
    /// Told when the driver wrote to the log or the committed index moved: the flush task
    /// sleeps on it while there is nothing to flush.
    pub written: tokio::sync::Notify,
    /// A leadership transfer runs: new client appends are refused with LEADER_TRANSFERRING
    /// before they are queued (appends already queued are still written).
    pub transferring: AtomicBool,
    /// Client appends admitted through the door and not yet taken by the driver.
    pub queued: AtomicUsize,
}

/// A running DLedger member.
pub struct DLedgerServer {
    self_id: String,
    max_pending_requests: usize,
    local_addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    cmds: mpsc::Sender<driver::Cmd>,
    role_rx: watch::Receiver<RoleState>,
    cancel: CancelToken,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    transport: Arc<transport::Transport>,
}

impl DLedgerServer {
    /// Opens the store and listens on this member's own address from the peers string.
    pub async fn start(config: ServerConfig) -> Result<DLedgerServer, DLedgerError> {
        let (store, _) = DLedgerServer::open_store(&config)?;
        DLedgerServer::start_with_store(config, store, None).await
    }

    /// Like [`start`](Self::start) with an already bound listener.
    pub async fn start_on(
        config: ServerConfig,
        listener: RemotingServer,
    ) -> Result<DLedgerServer, DLedgerError> {
        let (store, _) = DLedgerServer::open_store(&config)?;
        DLedgerServer::start_with_store(config, store, Some(listener)).await
    }

    /// Opens and recovers this member's store (`<store_base_dir>/dledger-<selfId>`) without
    /// starting the member, so a reader can take its [`DataView`] first (the message store
    /// recovers its consume queues against it before the member runs).
    pub fn open_store(config: &ServerConfig) -> Result<(DLedgerStore, Recovery), DLedgerError> {
        let mut scfg = StoreConfig::new(&config.store_base_dir, &config.self_id);
        scfg.data_file_size = config.data_file_size;
        scfg.index_file_size = config.index_file_size;
        let (store, recovery) = DLedgerStore::open(scfg)?;
        tracing::info!(id = %config.self_id, ?recovery, "dledger store opened");
        Ok((store, recovery))
    }

    /// Runs the member on a store from [`open_store`](Self::open_store), listening on
    /// `listener` or, without one, on this member's address from the peers string.
    pub async fn start_with_store(
        config: ServerConfig,
        mut store: DLedgerStore,
        listener: Option<RemotingServer>,
    ) -> Result<DLedgerServer, DLedgerError> {
        let listener = match listener {
            Some(l) => l,
            None => {
                let addr = config
                    .peer_addr(&config.self_id)
                    .ok_or_else(|| DLedgerError::Config("self id has no address".into()))?;
                RemotingServer::bind(addr.as_str())
                    .await
                    .map_err(|source| DLedgerError::Bind { addr, source })?
            }
        };
        let peers = parse_peers(&config.peers)?;
        store.set_append_hook(config.append_hook.clone());
        let local_addr = listener.local_addr().map_err(|source| DLedgerError::Bind {
            addr: config.self_id.clone(),
            source,
        })?;
        let persisted = store.load_term();
        let committed = store.committed_index();
        let committed_pos = store.committed_pos();
        let (role_tx, role_rx) = watch::channel(RoleState {
            role: Role::Candidate,
            term: persisted.term,
            leader_id: None,
        });
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            committed_index: AtomicI64::new(committed),
            committed_pos: AtomicI64::new(committed_pos),
            committed_watch: watch::Sender::new(committed),
            role: role_tx,
            transferring: AtomicBool::new(false),
            queued: AtomicUsize::new(0),
            written: tokio::sync::Notify::new(),
        });
        let cancel = CancelToken::new();
        let (cmd_tx, cmd_rx) = mpsc::channel(65536);
        let transport = transport::Transport::new(
            config.group.clone(),
            config.self_id.clone(),
            peers.clone(),
            Duration::from_millis(config.rpc_timeout_ms),
            cmd_tx.clone(),
            shared.clone(),
        );
        let mut tasks = Vec::new();
        tasks.push(transport.clone().serve(listener, cancel.clone()));
        let driver =
            driver::Driver::new(config.clone(), persisted, shared.clone(), transport.clone());
        tasks.push(tokio::spawn(driver.run(cmd_rx, cancel.clone())));
        tasks.push(tokio::spawn(flush::flush_loop(
            shared.clone(),
            Duration::from_millis(config.flush_interval_ms),
            Duration::from_millis(config.checkpoint_interval_ms),
            cancel.clone(),
            config.self_id.clone(),
        )));
        Ok(DLedgerServer {
            max_pending_requests: config.node.max_pending_requests,
            self_id: config.self_id,
            local_addr,
            shared,
            cmds: cmd_tx,
            role_rx,
            cancel,
            tasks: Mutex::new(tasks),
            transport,
        })
    }

    /// This member's id.
    pub fn self_id(&self) -> &str {
        &self.self_id
    }
    /// The address peers reach this member on.
    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.local_addr
    }

    /// Appends `body`; resolves once a majority holds it (committed), or fails
    /// (NOT_LEADER, WAIT_QUORUM_ACK_TIMEOUT, TERM_CHANGED, ...).
    pub async fn append(&self, body: impl Into<Bytes>) -> Result<Appended, DLedgerError> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(driver::Cmd::Append {
                body: body.into(),
                reply: tx,
            })
            .await
            .map_err(|_| DLedgerError::Closed)?;
        match rx.await {
            Ok(Ok(a)) => Ok(a),
            Ok(Err(e)) => Err(DLedgerError::Append {
                code: e.code,
                leader: e.leader,
            }),
            Err(_) => Err(DLedgerError::Closed),
        }
    }

    /// Queues `body` for appending without waiting: the order of `submit` calls is
    /// the order of the entries (hold your own lock around it to pair entries with
    /// queue offsets); await the returned [`PendingAppend`] for the commit.
    pub fn submit(&self, body: impl Into<Bytes>) -> Result<PendingAppend, DLedgerError> {
        self.admit(1)?;
        let (tx, rx) = oneshot::channel();
        self.cmds
            .try_send(driver::Cmd::Append {
                body: body.into(),
                reply: tx,
            })
            .inspect_err(|_| {
                self.shared.queued.fetch_sub(1, Ordering::SeqCst);
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => DLedgerError::Append {
                    code: ResponseCode::LeaderPendingFull,
                    leader: self.leader_id(),
                },
                mpsc::error::TrySendError::Closed(_) => DLedgerError::Closed,
            })?;
        Ok(PendingAppend(rx))
    }

    /// Queues `bodies` as consecutive entries, all or none (`BatchAppendEntryRequest`):
    /// either every body is queued, in order, or nothing is and the error says why.
    pub fn submit_batch(&self, bodies: Vec<Bytes>) -> Result<Vec<PendingAppend>, DLedgerError> {
        let n = bodies.len();
        self.admit(n)?;
        let permits = self
            .cmds
            .try_reserve_many(n)
            .inspect_err(|_| {
                self.shared.queued.fetch_sub(n, Ordering::SeqCst);
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(()) => DLedgerError::Append {
                    code: ResponseCode::LeaderPendingFull,
                    leader: self.leader_id(),
                },
                mpsc::error::TrySendError::Closed(()) => DLedgerError::Closed,
            })?;
        let mut out = Vec::with_capacity(bodies.len());
        for (permit, body) in permits.zip(bodies) {
            let (tx, rx) = oneshot::channel();
            permit.send(driver::Cmd::Append { body, reply: tx });
            out.push(PendingAppend(rx));
        }
        Ok(out)
    }

    // ANCHOR: transfer_door
    /// The door for `n` client appends: LEADER_TRANSFERRING while a leadership transfer
    /// runs, checked before they are queued, so a broker that hears it has not given the
    /// messages queue offsets yet. Once admitted, an append is written (the driver uses
    /// [`Node::append_admitted`]). The count goes up before the flag is read and the driver
    /// sets the flag before it reads the count, so either the append is refused or the
    /// transfer waits for it.
    ///
    /// [`Node::append_admitted`]: crate::core::Node::append_admitted
    fn admit(&self, n: usize) -> Result<(), DLedgerError> {
        self.shared.queued.fetch_add(n, Ordering::SeqCst);
        if self.shared.transferring.load(Ordering::SeqCst) {
            self.shared.queued.fetch_sub(n, Ordering::SeqCst);
            return Err(DLedgerError::Append {
                code: ResponseCode::LeaderTransferring,
                leader: self.leader_id(),
            });
        }
        Ok(())
    }
    // ANCHOR_END: transfer_door

    /// Waiting client appends this member takes before it answers LEADER_PENDING_FULL
    /// (`maxPendingRequestsNum`).
    pub fn max_pending_requests(&self) -> usize {
        self.max_pending_requests
    }

    /// A read-only window on the committed bytes of this member's data files.
    pub fn data_view(&self) -> DataView {
        self.shared.store.lock().data_view()
    }

    /// Appends several bodies as consecutive entries (a batch put) and waits for all.
    pub async fn append_batch(&self, bodies: Vec<Bytes>) -> Result<Vec<Appended>, DLedgerError> {
        let mut pending = Vec::with_capacity(bodies.len());
        for b in bodies {
            pending.push(self.submit(b)?);
        }
        let mut out = Vec::with_capacity(pending.len());
        for p in pending {
            out.push(p.wait().await?);
        }
        Ok(out)
    }

    /// Reads `len` bytes of the data files at absolute position `pos`; only bytes
    /// below [`committed_pos`](Self::committed_pos) are final.
    pub fn read_at(&self, pos: i64, len: i64) -> Result<Bytes, DLedgerError> {
        Ok(Bytes::from(self.shared.store.lock().read_data(pos, len)?))
    }

    /// Current role.
    pub fn role(&self) -> Role {
        self.role_rx.borrow().role
    }
    /// Current term.
    pub fn term(&self) -> i64 {
        self.role_rx.borrow().term
    }
    /// The leader this member knows of.
    pub fn leader_id(&self) -> Option<String> {
        self.role_rx.borrow().leader_id.clone()
    }
    /// Role changes as they happen (the broker re-registers as brokerId 0 or N+1).
    pub fn watch_role(&self) -> watch::Receiver<RoleState> {
        self.role_rx.clone()
    }

    /// Reads entry `index` (committed or not; compare with [`committed_index`](Self::committed_index)).
    pub fn get(&self, index: i64) -> Result<Entry, DLedgerError> {
        Ok(self.shared.store.lock().get(index)?)
    }
    /// Highest committed index.
    pub fn committed_index(&self) -> i64 {
        self.shared.committed_index.load(Ordering::Acquire)
    }
    /// The committed index as it moves: `changed().await` wakes once per new commit
    /// (several commits in a row may coalesce into one wake-up; read the value then).
    /// Published after [`committed_index`](Self::committed_index) and
    /// [`committed_pos`](Self::committed_pos), so both already show it.
    pub fn watch_committed(&self) -> watch::Receiver<i64> {
        self.shared.committed_watch.subscribe()
    }
    /// End of the last committed entry in the data files (DLedgerCommitLog's max offset).
    pub fn committed_pos(&self) -> i64 {
        self.shared.committed_pos.load(Ordering::Acquire)
    }
    /// Last index in the local ledger.
    pub fn end_index(&self) -> i64 {
        self.shared.store.lock().end_index()
    }

    /// Hands leadership to `transferee` (None: the follower with the most complete ledger), as
    /// DLedger 0.2.2's LEADERSHIP_TRANSFER does: new appends are refused with
    /// LEADER_TRANSFERRING, the transferee catches up, asks for votes in the next term and
    /// wins. Returns once the transferee leads, or with the code that says why it did not.
    pub async fn transfer_leadership(
        &self,
        transferee: Option<String>,
    ) -> Result<(), DLedgerError> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(driver::Cmd::Transfer {
                transferee,
                term: None,
                reply: tx,
            })
            .await
            .map_err(|_| DLedgerError::Closed)?;
        match rx.await {
            Ok(ResponseCode::Success) => Ok(()),
            Ok(code) => Err(DLedgerError::Transfer { code }),
            Err(_) => Err(DLedgerError::Closed),
        }
    }

    /// Stops: no more RPCs, open connections closed, data flushed, checkpoint written.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        self.transport.close_all();
        let tasks = std::mem::take(&mut *self.tasks.lock());
        for t in tasks {
            let _ = t.await;
        }
        let mut store = self.shared.store.lock();
        if let Err(e) = store.flush().and_then(|_| store.persist_checkpoint()) {
            tracing::warn!(id = %self.self_id, error = %e, "final flush failed");
        }
    }
}

/// An append queued with [`DLedgerServer::submit`].
pub struct PendingAppend(oneshot::Receiver<Result<Appended, crate::core::AppendError>>);

impl PendingAppend {
    /// [`Self::wait`] for a caller outside any async runtime: blocks the thread.
    pub fn wait_blocking(self) -> Result<Appended, DLedgerError> {
        match self.0.blocking_recv() {
            Ok(Ok(a)) => Ok(a),
            Ok(Err(e)) => Err(DLedgerError::Append {
                code: e.code,
                leader: e.leader,
            }),
            Err(_) => Err(DLedgerError::Closed),
        }
    }

    /// Waits until the entry is committed (or failed).
    pub async fn wait(self) -> Result<Appended, DLedgerError> {
        match self.0.await {
            Ok(Ok(a)) => Ok(a),
            Ok(Err(e)) => Err(DLedgerError::Append {
                code: e.code,
                leader: e.leader,
            }),
            Err(_) => Err(DLedgerError::Closed),
        }
    }
}

impl Drop for DLedgerServer {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.transport.close_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_string_parses_like_member_state() {
        let p = parse_peers("n0-127.0.0.1:40911;n1-localhost:40912;").unwrap();
        assert_eq!(
            p,
            vec![
                ("n0".to_string(), "127.0.0.1:40911".to_string()),
                ("n1".to_string(), "localhost:40912".to_string())
            ]
        );
        // the id ends at the first '-'; the rest is the address
        let p = parse_peers("a-my-host:1").unwrap();
        assert_eq!(p[0], ("a".to_string(), "my-host:1".to_string()));
        assert!(parse_peers("").is_err());
        assert!(parse_peers("n0:40911").is_err());
        assert!(parse_peers("n0-h:1;n0-h:2").is_err());
        let c = ServerConfig::new("g", "n1", "n0-h:1;n1-h:2", "/tmp/x").unwrap();
        assert_eq!(c.peer_addr("n1").as_deref(), Some("h:2"));
        assert_eq!(c.node.peers, vec!["n0".to_string(), "n1".to_string()]);
        assert!(ServerConfig::new("g", "n7", "n0-h:1", "/tmp/x").is_err());
    }
}
