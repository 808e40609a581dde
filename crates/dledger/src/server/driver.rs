//! The driver task: owns the Raft core, feeds it time, RPCs and appends, and carries
//! out its effects (persist `currterm` first, then publish commits and role changes,
//! answer appends, hand messages to the transport). Flushing and checkpoints run in `flush.rs`.
//!
//! Book: Part IV "Cluster modes and DLedger". Stands in for the threads of DLedger
//! 0.2.2 (`StateMaintainer`, `EntryDispatcher`s, `EntryHandler`, `QuorumAckChecker`,
//! `FlushDataService`), which here are one event loop around the pure core.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::transport::Transport;
use super::{RoleState, ServerConfig, Shared};
use crate::codes::ResponseCode;
use crate::core::{
    AppendError, Appended, Effect, Envelope, Node, Output, PersistedState, Request, Response, Rpc,
};
use crate::store::persist_term;

/// What the driver is asked to do.
pub(crate) enum Cmd {
    /// A peer's request; the answer (and the leader we know) goes back on `reply`.
    Incoming {
        from: String,
        req: Request,
        reply: oneshot::Sender<(Response, Option<String>)>,
    },
    /// The answer to one of our requests.
    Answer {
        from: String,
        id: u64,
        resp: Response,
    },
    /// One of our requests got no answer.
    Lost { peer: String, id: u64 },
    /// Hand leadership to `transferee` (None: the most up-to-date follower); `term`, when
    /// given, must be ours. The outcome code goes back on `reply`.
    Transfer {
        transferee: Option<String>,
        term: Option<i64>,
        reply: oneshot::Sender<ResponseCode>,
    },
    /// A client append.
    Append {
        body: Bytes,
        reply: oneshot::Sender<Result<Appended, AppendError>>,
    },
}

pub(crate) struct Driver {
    cfg: ServerConfig,
    node: Node,
    shared: Arc<Shared>,
    transport: Arc<Transport>,
    started: Instant,
    next_local: u64,
    replies: HashMap<u64, oneshot::Sender<(Response, Option<String>)>>,
    appends: HashMap<u64, oneshot::Sender<Result<Appended, AppendError>>>,
    transfers: HashMap<u64, oneshot::Sender<ResponseCode>>,
}

impl Driver {
    pub fn new(
        cfg: ServerConfig,
        persisted: PersistedState,
        shared: Arc<Shared>,
        transport: Arc<Transport>,
    ) -> Driver {
        let committed = shared.committed_index.load(Ordering::Acquire);
        let node = {
            let store = shared.store.lock();
            Node::new(cfg.node.clone(), persisted, committed, &*store, 0)
        };
        Driver {
            cfg,
            node,
            shared,
            transport,
            started: Instant::now(),
            next_local: 1,
            replies: HashMap::new(),
            appends: HashMap::new(),
            transfers: HashMap::new(),
        }
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub async fn run(mut self, mut cmds: mpsc::Receiver<Cmd>, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_millis(self.cfg.tick_ms.max(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut last_sweep = Instant::now();
        let sweep_every = Duration::from_millis(self.cfg.flush_interval_ms);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tick.tick() => {
                    let now = self.now();
                    let out = {
                        let mut store = self.shared.store.lock();
                        self.node.tick(now, &mut *store)
                    };
                    self.carry_out(out);
                    // (the data files are flushed and the checkpoint written by flush.rs)
                    if last_sweep.elapsed() >= sweep_every {
                        last_sweep = Instant::now();
                        self.replies.retain(|_, tx| !tx.is_closed());
                    }
                }
                cmd = cmds.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => break,
                },
            }
        }
        for (_, tx) in self.appends.drain() {
            let _ = tx.send(Err(AppendError {
                code: ResponseCode::NotLeader,
                leader: None,
            }));
        }
    }

    fn handle(&mut self, cmd: Cmd) {
        let now = self.now();
        let me = self.cfg.self_id.clone();
        let out = match cmd {
            Cmd::Incoming { from, req, reply } => {
                let id = self.next_local;
                self.next_local += 1;
                self.replies.insert(id, reply);
                let env = Envelope {
                    from,
                    to: me,
                    rpc: Rpc::Request { id, req },
                };
                let mut store = self.shared.store.lock();
                self.node.receive(now, env, &mut *store)
            }
            Cmd::Answer { from, id, resp } => {
                let env = Envelope {
                    from,
                    to: me,
                    rpc: Rpc::Response { id, resp },
                };
                let mut store = self.shared.store.lock();
                self.node.receive(now, env, &mut *store)
            }
            Cmd::Lost { peer, id } => {
                let mut store = self.shared.store.lock();
                self.node.unreachable(now, &peer, id, &mut *store)
            }
            Cmd::Transfer {
                transferee,
                term,
                reply,
            } => {
                if term.is_some_and(|t| t != self.node.term()) {
                    let _ = reply.send(ResponseCode::InconsistentTerm);
                    return;
                }
                let id = self.next_local;
                self.next_local += 1;
                self.transfers.insert(id, reply);
                let mut store = self.shared.store.lock();
                self.node
                    .transfer_leadership(now, id, transferee.as_deref(), &mut *store)
            }
            Cmd::Append { body, reply } => {
                let id = self.next_local;
                self.next_local += 1;
                self.appends.insert(id, reply);
                let mut store = self.shared.store.lock();
                self.node.append(now, id, body, &mut *store)
            }
        };
        self.carry_out(out);
    }

    /// Effects first (term and vote reach the disk before any message leaves).
    fn carry_out(&mut self, out: Output) {
        for effect in out.effects {
            match effect {
                Effect::PersistTermVote { term, vote_for } => {
                    let root = self.shared.store.lock().root();
                    if let Err(e) = persist_term(&root, &PersistedState { term, vote_for }) {
                        warn!(id = %self.cfg.self_id, error = %e, "persisting currterm failed");
                    }
                }
                Effect::RoleChanged { role, term, leader } => {
                    info!(id = %self.cfg.self_id, role = role.name(), term, ?leader, "role changed");
                    self.shared.role.send_replace(RoleState {
                        role,
                        term,
                        leader_id: leader,
                    });
                }
                Effect::Committed { index } => {
                    let pos = self.shared.store.lock().committed_pos();
                    self.shared.committed_pos.store(pos, Ordering::Release);
                    self.shared.committed_index.store(index, Ordering::Release);
                    self.shared.committed_watch.send_replace(index);
                }
                Effect::TransferResult { req, code } => {
                    info!(id = %self.cfg.self_id, code = code.name(), "leadership transfer ended");
                    if let Some(tx) = self.transfers.remove(&req) {
                        let _ = tx.send(code);
                    }
                }
                Effect::AppendResult { req, result } => {
                    if let Some(tx) = self.appends.remove(&req) {
                        let _ = tx.send(result);
                    }
                }
            }
        }
        // Keep the published term current even when only the term moved.
        let (role, term, leader) = (
            self.node.role(),
            self.node.term(),
            self.node.leader().map(str::to_string),
        );
        self.shared.role.send_if_modified(|s| {
            if s.term != term && s.role == role {
                s.term = term;
                s.leader_id = leader;
                true
            } else {
                false
            }
        });
        for env in out.messages {
            match env.rpc {
                Rpc::Response { id, resp } => {
                    if let Some(tx) = self.replies.remove(&id) {
                        let _ = tx.send((resp, self.node.leader().map(str::to_string)));
                    }
                }
                Rpc::Request { id, req } => self.transport.send(&env.to, id, req),
            }
        }
    }
}
