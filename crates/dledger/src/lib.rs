//! rmq-dledger: Raft as DLedger 0.2.2 does it, for RocketMQ 4.8.0's DLedger commit log.
//!
//! Book: Part IV "Cluster modes and DLedger". Mirrors the `io.openmessaging.storage.dledger`
//! library (0.2.2) that RocketMQ 4.8.0 embeds when `enableDLegerCommitLog=true`.
//!
//! Layers, bottom up:
//! * [`codes`], [`entry`]: DLedger's result codes and the on-disk entry/index layouts.
//! * [`core`]: the pure Raft state machine ([`core::Node`]): election, push replication
//!   (COMPARE / TRUNCATE / APPEND / COMMIT), commit by majority. No I/O; driven by time,
//!   messages and client appends; answers with messages and [`core::Effect`]s.
//! * [`store`]: the ledger files with 0.2.2's layout (`dledger-<selfId>/data`, `/index`,
//!   `checkpoint`, `currterm`), crash recovery that cuts a torn tail.
//! * [`rpc`]: DLedger's request codes and JSON bodies (fastjson field order, base64 bodies).
//! * [`server`]: [`server::DLedgerServer`] on tokio and rmq-remoting: the core, the store and
//!   the transport wired together, with the API the broker uses.
//!
//! # Public API (additions only)
//!
//! ```text
//! core::Node::new(NodeConfig, PersistedState, checkpoint_committed, &dyn LogStore, now_ms)
//!   tick(now, &mut log) / receive(now, Envelope, &mut log) / append(now, req, body, &mut log)
//!   unreachable(now, peer, rpc_id, &mut log) -> Output { messages, effects }
//!   role() term() leader() vote_for() committed_index()
//! core::{NodeConfig, Role, CommitRule, Effect, Appended, AppendError, LogStore, MemLog}
//! entry::{Entry, EntryHeader, IndexRecord, place}
//! codes::{ResponseCode, VoteResult}
//! store::{DLedgerStore::open(StoreConfig) -> (store, Recovery), StoreConfig::new(base, self_id),
//!   committed_pos() write_pos() flush() persist_checkpoint() load_term() persist_term(),
//!   set_append_hook(Option<AppendHook>) read_data(pos, len),
//!   StoreError, DEFAULT_DATA_FILE_SIZE, DEFAULT_INDEX_FILE_SIZE}   (DLedgerStore: LogStore)
//! server::{DLedgerServer::start(ServerConfig) / start_on(ServerConfig, RemotingServer),
//!   append(bytes).await -> Result<Appended{index, term, pos}, DLedgerError>  (after majority commit)
//!   submit(bytes) -> PendingAppend{wait().await}   append_batch(Vec<Bytes>)   read_at(pos, len)
//!   role() term() leader_id() watch_role() -> watch::Receiver<RoleState{role, term, leader_id}>
//!   get(index) committed_index() watch_committed() committed_pos() end_index() self_id() local_addr()
//!   shutdown().await,
//!   ServerConfig::new(group, self_id, peers, store_base_dir) {node: NodeConfig, data_file_size, ...},
//!   parse_peers("n0-127.0.0.1:40911;..."), DLedgerError}
//! rpc::wire::{request_code::*, *Json bodies, encode_bytes, decode_bytes}
//! ```
//!
//! Deviations from 0.2.2 (each a `NodeConfig` switch, default on, found or motivated by
//! the simulator in `tests/simulation.rs`):
//! * commit counts replicas only for entries of the leader's term (`CommitRule::CurrentTerm`),
//!   and a new leader with an uncommitted tail appends an **empty-body entry** (readers of
//!   the ledger must skip entries whose body is empty);
//! * a leader told of a newer term steps down at once (as DLedger 0.4 does);
//! * a COMPARE that succeeds below the follower's end compares further up before truncating;
//! * a re-sent APPEND that finds the follower ahead or more pushes overdue switches to COMPARE.

#![warn(missing_docs)]

pub mod codes;
pub mod core;
pub mod entry;
pub mod rpc;
pub mod server;
pub mod store;
