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
use crate::store::DLedgerStore;

/// Timers due within this many milliseconds of each other fire in one wake-up.
const COALESCE_MS: u64 = 2;

/// At most this many queued commands are taken in one burst (see [`Driver::handle_burst`]).
const MAX_BURST: usize = 256;

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

    // ANCHOR: run
    /// The event loop: a command (peer message, answer, append, transfer) is handled when it
    /// arrives; otherwise the driver sleeps until the core's next timer ([`Node::next_due`]),
    /// at most `max_sleep_ms`. An idle member so wakes for its heartbeats only, instead of
    /// on a fixed millisecond tick.
    pub async fn run(mut self, mut cmds: mpsc::Receiver<Cmd>, cancel: CancellationToken) {
        let mut last_sweep = Instant::now();
        let sweep_every = Duration::from_millis(self.cfg.flush_interval_ms.max(1000));
        let timer = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(timer);
        loop {
            let wake = self.wake_at();
            if timer.deadline() != wake {
                timer.as_mut().reset(wake);
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = &mut timer => {
                    self.fire_timers();
                    if last_sweep.elapsed() >= sweep_every {
                        last_sweep = Instant::now();
                        self.replies.retain(|_, tx| !tx.is_closed());
                    }
                }
                cmd = cmds.recv() => match cmd {
                    Some(cmd) => self.handle_burst(cmd, &mut cmds),
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
    // ANCHOR_END: run

    /// The instant of the core's next timer, at most `max_sleep_ms` from now.
    fn wake_at(&self) -> tokio::time::Instant {
        let now = self.now();
        let wait = self
            .node
            .next_due()
            .saturating_sub(now)
            .min(self.cfg.max_sleep_ms.max(1));
        tokio::time::Instant::now() + Duration::from_millis(wait)
    }

    /// Ticks the core, and again at once for timers due within [`COALESCE_MS`], so that
    /// timers due together fire in one wake-up (a heartbeat round ends one millisecond
    /// before the next heartbeat is due).
    fn fire_timers(&mut self) {
        let mut now = self.now();
        for _ in 0..4 {
            let out = self.with_store(|node, store| node.tick(now, store));
            self.carry_out(out);
            let next = self.node.next_due();
            if next <= now || next > now + COALESCE_MS {
                break;
            }
            now = next;
        }
    }

    /// Runs `f` on the core under the store lock; tells the flush task when the log grew.
    fn with_store(&mut self, f: impl FnOnce(&mut Node, &mut DLedgerStore) -> Output) -> Output {
        let (out, grew) = {
            let queued = self.shared.queued.load(Ordering::SeqCst);
            self.node.set_queued_appends(queued);
            let mut store = self.shared.store.lock();
            let before = store.write_pos();
            let out = f(&mut self.node, &mut store);
            (out, store.write_pos() != before)
        };
        if grew {
            self.shared.written.notify_one();
        }
        out
    }

    // ANCHOR: burst
    /// Handles `first` and whatever else is already queued (up to [`MAX_BURST`]) with the
    /// node held ([`Node::hold`]), then lets the dispatchers run once. Under load, the
    /// appends of many producers and the answers of both followers arrive between two
    /// wake-ups; pushing after each of them would cost one request per entry and per
    /// follower, pushing after the burst costs one request per follower (with
    /// `enableBatchPush`). A transfer is handled outside the hold: it counts on the steps
    /// right after it (see [`Cmd::Transfer`]).
    fn handle_burst(&mut self, first: Cmd, cmds: &mut mpsc::Receiver<Cmd>) {
        let mut next = Some(first);
        let mut held = false;
        let mut taken = 0;
        while let Some(cmd) = next.take() {
            let transfer = matches!(cmd, Cmd::Transfer { .. });
            if transfer && held {
                self.release();
                held = false;
            } else if !transfer && !held {
                self.node.hold();
                held = true;
            }
            self.handle(cmd);
            taken += 1;
            if taken < MAX_BURST {
                next = cmds.try_recv().ok();
            }
        }
        if held {
            self.release();
        }
    }
    // ANCHOR_END: burst

    /// Ends a hold: the dispatchers push what the held commands appended.
    fn release(&mut self) {
        let now = self.now();
        let out = self.with_store(|node, store| node.release(now, store));
        self.carry_out(out);
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
                self.with_store(|node, store| node.receive(now, env, store))
            }
            Cmd::Answer { from, id, resp } => {
                let env = Envelope {
                    from,
                    to: me,
                    rpc: Rpc::Response { id, resp },
                };
                self.with_store(|node, store| node.receive(now, env, store))
            }
            Cmd::Lost { peer, id } => {
                self.with_store(|node, store| node.unreachable(now, &peer, id, store))
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
                let out = self.with_store(|node, store| {
                    node.transfer_leadership(now, id, transferee.as_deref(), store)
                });
                // The door is closed once this output is carried out; the next call counts
                // the appends admitted before and lets the transfer go on.
                self.carry_out(out);
                self.with_store(|node, store| node.tick(now, store))
            }
            Cmd::Append { body, reply } => {
                self.shared.queued.fetch_sub(1, Ordering::SeqCst);
                let id = self.next_local;
                self.next_local += 1;
                self.appends.insert(id, reply);
                self.with_store(|node, store| node.append_admitted(now, id, body, store))
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
                    // the checkpoint names the committed index
                    self.shared.written.notify_one();
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
        // The door for client appends (`DLedgerServer::submit`): closed while a transfer runs.
        self.shared
            .transferring
            .store(self.node.is_transferring(), Ordering::SeqCst);
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
