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
//!   StoreError, DEFAULT_DATA_FILE_SIZE, DEFAULT_INDEX_FILE_SIZE}   (DLedgerStore: LogStore)
//! ```

pub mod codes;
pub mod core;
pub mod entry;
pub mod store;
