//! The Raft core, as DLedger 0.2.2 runs it, with no I/O: a [`Node`] is fed time,
//! peer messages and client appends, and answers with messages to send and effects
//! to carry out.
//!
//! DLedger splits Raft in two: the *elector* (terms, votes, heartbeats; see
//! `elector.rs`) and the *pusher* (per-follower dispatchers that COMPARE, TRUNCATE,
//! APPEND and COMMIT, a follower-side handler, and the quorum checker that advances the
//! committed index; see `pusher/`). This module holds the shared state and the public
//! API. Entries are read and written through [`LogStore`] synchronously; everything
//! else that must reach the outside world is an [`Effect`] in the [`Output`]:
//! persist term and vote *before* sending the output's messages, report role changes,
//! committed-index advances and append results.
//!
//! Book: Part IV "Cluster modes and DLedger". Mirrors `MemberState.java`,
//! `DLedgerLeaderElector.java` and `DLedgerEntryPusher.java` of DLedger 0.2.2.

mod elector;
pub mod log;
pub mod msg;
mod pusher;
pub mod rng;
mod transfer;

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::codes::ResponseCode;
pub use log::{LogError, LogStore, MemLog};
pub use msg::*;
use rng::Rng;

/// A member's role (`MemberState.Role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Asks the others for votes.
    Candidate,
    /// Appends entries and pushes them to the followers.
    Leader,
    /// Takes entries from the leader.
    Follower,
}

impl Role {
    /// The Java enum name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Candidate => "CANDIDATE",
            Role::Leader => "LEADER",
            Role::Follower => "FOLLOWER",
        }
    }
}

/// Which entries the quorum checker may commit by counting replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitRule {
    /// Raft's rule: only an entry of the leader's current term is committed by
    /// counting; earlier ones commit with it. Safe.
    CurrentTerm,
    /// DLedger 0.2.2's rule: the quorum watermark is committed whatever its term.
    /// Open to Raft's "figure 8" loss; kept so the simulator can show it.
    AnyTerm,
}

/// Makes the body of the entry a new leader appends (see [`NodeConfig::noop_body`]).
#[derive(Clone)]
pub struct NoopBody(pub std::sync::Arc<dyn Fn() -> Bytes + Send + Sync>);

impl std::fmt::Debug for NoopBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NoopBody")
    }
}

/// Timings and limits (`DLedgerConfig`), all in milliseconds. Defaults are 0.2.2's.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// This member's id (`selfId`).
    pub self_id: NodeId,
    /// Every member, this node included.
    pub peers: Vec<NodeId>,
    /// How often a leader sends heartbeats (`heartBeatTimeIntervalMs`).
    pub heartbeat_interval_ms: u64,
    /// A follower that heard no heartbeat for this many intervals starts an election (`maxHeartBeatLeak`).
    pub max_heartbeat_leak: u64,
    /// The shortest wait before a new vote round (`minVoteIntervalMs`).
    pub min_vote_interval_ms: u64,
    /// The longest wait before a new vote round (`maxVoteIntervalMs`).
    pub max_vote_interval_ms: u64,
    /// How long a vote round waits for answers (0.2.2: 2000 + rand(maxVoteInterval)).
    pub vote_wait_ms: u64,
    /// An APPEND push unanswered this long is sent again (`maxPushTimeOutMs`).
    pub max_push_timeout_ms: u64,
    /// How long a COMPARE or TRUNCATE push waits for its answer (0.2.2: 3 s).
    pub push_wait_ms: u64,
    /// Back-off after a failed COMPARE/TRUNCATE (0.2.2: 500 ms).
    pub push_retry_ms: u64,
    /// A COMMIT push goes out when nothing was pushed for this long (0.2.2: 1000).
    pub commit_push_interval_ms: u64,
    /// A follower answers an out-of-order APPEND it waited this long for with
    /// INCONSISTENT_STATE, making the leader compare again (0.2.2: 1000).
    pub follower_push_wait_ms: u64,
    /// A client append fails with WAIT_QUORUM_ACK_TIMEOUT after this (`maxWaitAckTimeMs`).
    pub max_wait_ack_ms: u64,
    /// More waiting appends than this fail with LEADER_PENDING_FULL.
    pub max_pending_requests: usize,
    /// APPEND pushes in flight per follower (0.2.2: 1000).
    pub max_pending_push: usize,
    /// Which entries counting replicas may commit.
    pub commit_rule: CommitRule,
    /// A new leader whose ledger ends past its committed index appends an entry of its
    /// own so the current-term rule can commit the tail. Not in 0.2.2 (which commits any
    /// term).
    pub noop_on_election: bool,
    /// The body of that entry: empty unless set (a reader of the ledger must then skip
    /// entries with an empty body). RocketMQ's DLedger mode sets a message record that every
    /// reader, a 4.8.0 broker included, dispatches to no consume queue.
    pub noop_body: Option<NoopBody>,
    /// A leader told of a newer term by a heartbeat answer steps down at once, as
    /// DLedger 0.4 does. 0.2.2 does not while it still has a quorum (set false to see
    /// the member with the newer term but older ledger stay out of the group).
    pub step_down_on_newer_term: bool,
    /// When a COMPARE succeeds below the follower's end, compare further up before
    /// truncating (see `pusher/dispatcher.rs`). 0.2.2 truncates at once, which can cut entries
    /// whose APPEND acks already counted toward a commit.
    pub compare_walk_forward: bool,
    /// A follower that lost its leader starts its first vote round in a new term, after a
    /// random pause of `min_vote_interval_ms..max_vote_interval_ms`. 0.2.2 first asks again in
    /// the old term, where every member already voted for the lost leader: that round is
    /// refused by all (or answered ALREADY_HAS_LEADER, which adds `maxHeartBeatLeak` beats
    /// of waiting), so a failover costs one extra vote interval or more.
    pub fresh_term_on_leader_loss: bool,
    /// A leadership transfer is refused when the transferee is this many entries or more
    /// behind the leader (`maxLeadershipTransferWaitIndex`, 0.2.2: 1000).
    pub max_leadership_transfer_wait_index: i64,
    /// The shortest pause before a member told to take leadership asks for votes
    /// (`minTakeLeadershipVoteIntervalMs`, 0.2.2: 30).
    pub min_take_leadership_vote_interval_ms: u64,
    /// The longest such pause (`maxTakeLeadershipVoteIntervalMs`, 0.2.2: 100).
    pub max_take_leadership_vote_interval_ms: u64,
    /// How long a leader that hands over leadership waits for the transferee to hold its
    /// whole ledger before it sends the take-leadership request anyway. 0.2.2 sends it at
    /// once (the transferee then may lose the vote to a member with a longer ledger).
    pub transfer_catch_up_ms: u64,
    /// The member that should lead when it can (`preferredLeaderId`; RocketMQ 4.8.0 passes its
    /// own `preferredLeaderId` key through). It asks for votes after the short take-leadership
    /// pause; the driver of a leader that is not it hands leadership over.
    pub preferred_leader_id: Option<NodeId>,
    /// Push several consecutive entries in one APPEND request (`isEnableBatchPush`; RocketMQ
    /// 4.8.0 passes its broker key `enableBatchPush` through, default false). Every member
    /// of a 0.2.2 group must agree on it; ours reads either form.
    pub batch_push: bool,
    /// A batch push is sent once its entries reach this many bytes (`maxBatchPushSize`,
    /// 0.2.2: 4 KiB; 4.8.0 keeps the default), or when the leader has no more entries.
    pub max_batch_push_size: usize,
    /// Seed for the election jitter.
    pub seed: u64,
}

impl NodeConfig {
    /// 0.2.2's defaults for member `self_id` of `peers`.
    pub fn new(self_id: impl Into<NodeId>, peers: Vec<NodeId>) -> NodeConfig {
        NodeConfig {
            self_id: self_id.into(),
            peers,
            heartbeat_interval_ms: 2000,
            max_heartbeat_leak: 3,
            min_vote_interval_ms: 300,
            max_vote_interval_ms: 1000,
            vote_wait_ms: 2000,
            max_push_timeout_ms: 1000,
            push_wait_ms: 3000,
            push_retry_ms: 500,
            commit_push_interval_ms: 1000,
            follower_push_wait_ms: 1000,
            max_wait_ack_ms: 2500,
            max_pending_requests: 10000,
            max_pending_push: 1000,
            commit_rule: CommitRule::CurrentTerm,
            noop_on_election: true,
            noop_body: None,
            step_down_on_newer_term: true,
            compare_walk_forward: true,
            fresh_term_on_leader_loss: true,
            max_leadership_transfer_wait_index: 1000,
            min_take_leadership_vote_interval_ms: 30,
            max_take_leadership_vote_interval_ms: 100,
            transfer_catch_up_ms: 1000,
            preferred_leader_id: None,
            batch_push: false,
            max_batch_push_size: 4 * 1024,
            seed: 0,
        }
    }

    /// Divides every timing by `factor` (at least 1 ms each), for fast tests.
    pub fn scaled_down(mut self, factor: u64) -> NodeConfig {
        let f = factor.max(1);
        let s = |v: &mut u64| *v = (*v / f).max(1);
        s(&mut self.heartbeat_interval_ms);
        s(&mut self.min_vote_interval_ms);
        s(&mut self.max_vote_interval_ms);
        s(&mut self.vote_wait_ms);
        s(&mut self.max_push_timeout_ms);
        s(&mut self.push_wait_ms);
        s(&mut self.push_retry_ms);
        s(&mut self.commit_push_interval_ms);
        s(&mut self.follower_push_wait_ms);
        s(&mut self.max_wait_ack_ms);
        s(&mut self.min_take_leadership_vote_interval_ms);
        s(&mut self.max_take_leadership_vote_interval_ms);
        s(&mut self.transfer_catch_up_ms);
        if self.max_vote_interval_ms <= self.min_vote_interval_ms {
            self.max_vote_interval_ms = self.min_vote_interval_ms + 1;
        }
        self
    }
}

/// What survives a restart besides the ledger: the `currterm` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersistedState {
    /// The current term (`currTerm`).
    pub term: i64,
    /// Whom this member voted for in that term (`voteFor`), if anyone.
    pub vote_for: Option<NodeId>,
}

/// A successful client append: committed by a majority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The entry's index.
    pub index: i64,
    /// The term it was appended in.
    pub term: i64,
    /// Its byte position in the data files.
    pub pos: i64,
}

/// A failed client append. The entry may still commit later unless the code says
/// it was never written (NOT_LEADER, LEADER_PENDING_FULL, DISK_ERROR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendError {
    /// Why it failed.
    pub code: ResponseCode,
    /// The leader this member knows of, for the client to retry there.
    pub leader: Option<NodeId>,
}

/// Something the driver must do or may observe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write the `currterm` file before sending this output's messages.
    PersistTermVote {
        /// The term to write.
        term: i64,
        /// The vote to write.
        vote_for: Option<NodeId>,
    },
    /// The role, term or known leader changed.
    RoleChanged {
        /// The member's role now.
        role: Role,
        /// The term now.
        term: i64,
        /// The leader now, if one is known.
        leader: Option<NodeId>,
    },
    /// The committed index moved forward.
    Committed {
        /// The new committed index.
        index: i64,
    },
    /// A leadership transfer asked through [`Node::transfer_leadership`] ended.
    TransferResult {
        /// The request id the driver gave the transfer.
        req: u64,
        /// SUCCESS once the transferee leads, or why the transfer failed.
        code: ResponseCode,
    },
    /// A client append finished.
    AppendResult {
        /// The request id the driver gave the append.
        req: u64,
        /// The entry committed, or why the append failed.
        result: Result<Appended, AppendError>,
    },
}

/// What one step produced.
#[derive(Debug, Default)]
pub struct Output {
    /// Messages to send to other members.
    pub messages: Vec<Envelope>,
    /// Things the driver must do or may observe.
    pub effects: Vec<Effect>,
}

/// Parse result of a vote round (`VoteResponse.ParseResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParseResult {
    WaitToRevote,
    RevoteImmediately,
    Passed,
    WaitToVoteNext,
}

/// What an outstanding request was for.
#[derive(Debug, Clone)]
enum Outstanding {
    Vote {
        round: u64,
    },
    HeartBeat {
        round: u64,
    },
    Push {
        peer: NodeId,
        kind: PushType,
        term: i64,
    },
    Transfer,
}

/// A client append waiting for the quorum.
#[derive(Debug, Clone)]
struct PendingAppend {
    req: Option<u64>,
    pos: i64,
    deadline: u64,
}

/// A push a follower holds until the entries before it have arrived.
#[derive(Debug, Clone)]
struct BufferedPush {
    from: NodeId,
    id: u64,
    req: PushRequest,
    received_at: u64,
}

/// One member of a DLedger group.
#[derive(Debug)]
pub struct Node {
    cfg: NodeConfig,
    now: u64,
    rng: Rng,
    out: Output,
    next_id: u64,
    outstanding: BTreeMap<u64, (u64, Outstanding)>,

    // MemberState
    role: Role,
    term: i64,
    vote_for: Option<NodeId>,
    leader: Option<NodeId>,
    known_max_term: i64,
    committed: i64,

    // elector
    last_leader_heartbeat: u64,
    last_send_heartbeat: Option<u64>,
    last_succ_heartbeat: u64,
    next_vote_time: u64,
    last_parse: ParseResult,
    need_increase_term: bool,
    vote_round: Option<elector::VoteRound>,
    hb_round: Option<elector::HeartBeatRound>,
    round_seq: u64,

    // pusher, leader side
    dispatchers: BTreeMap<NodeId, pusher::Dispatcher>,
    watermarks: BTreeMap<NodeId, i64>,
    pending: BTreeMap<i64, PendingAppend>,

    // pusher, follower side
    write_requests: BTreeMap<i64, BufferedPush>,
    last_check_fast_forward: u64,

    // leadership transfer
    /// `MemberState.transferee`: while set, the leader refuses client appends.
    transferee: Option<NodeId>,
    /// Client appends the server admitted that have not reached the core yet (see
    /// [`Node::set_queued_appends`]).
    queued_appends: usize,
    /// While set, events are taken in but the dispatchers do not run (see [`Node::hold`]).
    held: bool,
    transfer: Option<transfer::Transfer>,
    /// `MemberState.termToTakeLeadership` (-1: none).
    term_to_take_leadership: i64,
    /// The old leader's take-leadership request, answered once our role settles.
    take_leadership_reply: Option<(NodeId, u64)>,
}

impl Node {
    /// A member starting (or restarting) with its persisted term/vote, the
    /// committed index from its checkpoint, and its ledger. Starts as CANDIDATE.
    pub fn new(
        cfg: NodeConfig,
        persisted: PersistedState,
        checkpoint_committed: i64,
        log: &dyn LogStore,
        now: u64,
    ) -> Node {
        let committed = checkpoint_committed.min(log.end_index()).max(-1);
        Node {
            rng: Rng::new(cfg.seed),
            cfg,
            now,
            out: Output::default(),
            // Request ids of an earlier life of this member must not match ours: a late answer
            // to one would be counted for the wrong request (seen in the simulator after a
            // restart; a real transport loses those answers with the old connection).
            next_id: 1 + (now << 20),
            outstanding: BTreeMap::new(),
            role: Role::Candidate,
            term: persisted.term,
            vote_for: persisted.vote_for,
            leader: None,
            known_max_term: -1,
            committed,
            last_leader_heartbeat: now,
            last_send_heartbeat: None,
            last_succ_heartbeat: now,
            next_vote_time: 0,
            last_parse: ParseResult::WaitToRevote,
            need_increase_term: false,
            vote_round: None,
            hb_round: None,
            round_seq: 0,
            dispatchers: BTreeMap::new(),
            watermarks: BTreeMap::new(),
            pending: BTreeMap::new(),
            write_requests: BTreeMap::new(),
            last_check_fast_forward: now,
            transferee: None,
            queued_appends: 0,
            held: false,
            transfer: None,
            term_to_take_leadership: -1,
            take_leadership_reply: None,
        }
    }

    /// This member's id.
    pub fn id(&self) -> &str {
        &self.cfg.self_id
    }
    /// The configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.cfg
    }
    /// Current role.
    pub fn role(&self) -> Role {
        self.role
    }
    /// Current term.
    pub fn term(&self) -> i64 {
        self.term
    }
    /// Known leader of the current term.
    pub fn leader(&self) -> Option<&str> {
        self.leader.as_deref()
    }
    /// Who this member voted for in the current term.
    pub fn vote_for(&self) -> Option<&str> {
        self.vote_for.as_deref()
    }
    /// Highest index known committed.
    pub fn committed_index(&self) -> i64 {
        self.committed
    }
    /// Client appends waiting for their quorum.
    pub fn pending_appends(&self) -> usize {
        self.pending.len()
    }

    /// Advances time: election timers, heartbeats, push retries, timeouts.
    pub fn tick(&mut self, now: u64, log: &mut dyn LogStore) -> Output {
        self.advance(now);
        self.maintain(log);
        self.pump(log);
        self.gc_outstanding();
        std::mem::take(&mut self.out)
    }

    // ANCHOR: next_due
    /// The time (in the clock passed to [`Self::tick`]) of the next thing the node does on
    /// its own: a heartbeat, an election timeout, a vote round, a push to retry or resend, a
    /// waiting append that expires. A driver may sleep until then instead of ticking every
    /// few milliseconds; what is not listed here (the follower's wait for out-of-order
    /// pushes, cleaning up unanswered requests) tolerates a later tick.
    pub fn next_due(&self) -> u64 {
        // The elector acts whenever its time has come, so a past time means "now". The
        // others run on every call (`pump`): a time they left in the past waits for an
        // event, not for the clock, and must not wake the driver again and again.
        let future = |t: u64| if t > self.now { t } else { u64::MAX };
        let mut due = self.elector_due().max(self.now);
        if matches!(self.role, Role::Leader | Role::Candidate) {
            if let Some(t) = self.transfer_due() {
                due = due.min(future(t));
            }
        }
        if self.role == Role::Leader {
            for d in self.dispatchers.values() {
                due = due.min(future(d.due(&self.cfg)));
            }
            if let Some(p) = self.pending.values().next() {
                due = due.min(future(p.deadline));
            }
        }
        due
    }
    // ANCHOR_END: next_due

    /// Handles a message from a peer.
    pub fn receive(&mut self, now: u64, env: Envelope, log: &mut dyn LogStore) -> Output {
        self.advance(now);
        if env.to == self.cfg.self_id && self.is_peer(&env.from) {
            match env.rpc {
                Rpc::Request { id, req } => self.on_request(env.from, id, req, log),
                Rpc::Response { id, resp } => self.on_response(env.from, id, resp, log),
            }
            self.pump(log);
        }
        std::mem::take(&mut self.out)
    }

    /// The transport could not deliver request `id` to `peer` (or got no answer).
    pub fn unreachable(&mut self, now: u64, peer: &str, id: u64, log: &mut dyn LogStore) -> Output {
        self.advance(now);
        if let Some((_, what)) = self.outstanding.remove(&id) {
            match what {
                Outstanding::Vote { round } => self.vote_failed(round, log),
                Outstanding::HeartBeat { round } => self.heartbeat_failed(round, peer, log),
                Outstanding::Push { peer, kind, term } => self.push_failed(&peer, id, kind, term),
                Outstanding::Transfer => self.finish_transfer(ResponseCode::NetworkError),
            }
            self.pump(log);
        }
        std::mem::take(&mut self.out)
    }

    /// A client asks to append `body`; the answer is an [`Effect::AppendResult`] with `req`.
    pub fn append(&mut self, now: u64, req: u64, body: Bytes, log: &mut dyn LogStore) -> Output {
        self.advance(now);
        self.client_append(Some(req), body, false, log);
        self.pump(log);
        std::mem::take(&mut self.out)
    }

    /// [`Self::append`] for an append the server admitted before it reached the core: the
    /// server refuses LEADER_TRANSFERRING at its door ([`Self::is_transferring`], published
    /// after every step), so an append that passed the door is written even if a transfer
    /// began while it waited in the queue. A broker gives a message its queue offset when it
    /// queues it; refusing it here would leave that offset unused, a gap in the consume
    /// queue. 0.2.2 checks and appends in one call under the broker's put lock, which has
    /// the same effect.
    pub fn append_admitted(
        &mut self,
        now: u64,
        req: u64,
        body: Bytes,
        log: &mut dyn LogStore,
    ) -> Output {
        self.advance(now);
        self.client_append(Some(req), body, true, log);
        self.pump(log);
        std::mem::take(&mut self.out)
    }

    /// Takes in the following events (appends, answers, peer requests) without running the
    /// dispatchers after each one, until [`Self::release`]. A driver that holds the node while
    /// it drains a burst of queued events lets the leader push the entries appended meanwhile
    /// together (with `batch_push`, in one request) instead of one push per event. 0.2.2 gets
    /// the same effect from its threads: a dispatcher that wakes finds several new entries.
    pub fn hold(&mut self) {
        self.held = true;
    }

    /// Ends a [`Self::hold`] and runs what the held events left to do.
    pub fn release(&mut self, now: u64, log: &mut dyn LogStore) -> Output {
        self.held = false;
        self.advance(now);
        self.pump(log);
        std::mem::take(&mut self.out)
    }

    /// Tells the core how many admitted client appends wait in the server's queue. A leader
    /// that hands leadership over sends the transfer request only once they are written and
    /// the transferee holds them: an entry appended after the request would leave the old
    /// leader's log longer than the transferee's, and the transferee would lose the vote.
    pub fn set_queued_appends(&mut self, n: usize) {
        self.queued_appends = n;
    }

    /// Whether a leadership transfer is under way (client appends are refused).
    pub fn is_transferring(&self) -> bool {
        self.transferee.is_some()
    }

    fn advance(&mut self, now: u64) {
        if now > self.now {
            self.now = now;
        }
    }

    fn is_peer(&self, id: &str) -> bool {
        self.cfg.peers.iter().any(|p| p == id)
    }

    fn is_quorum(&self, n: usize) -> bool {
        n > self.cfg.peers.len() / 2
    }

    fn other_peers(&self) -> Vec<NodeId> {
        self.cfg
            .peers
            .iter()
            .filter(|p| **p != self.cfg.self_id)
            .cloned()
            .collect()
    }

    fn send_request(&mut self, to: &str, req: Request, what: Outstanding) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.outstanding.insert(id, (self.now, what));
        self.out.messages.push(Envelope {
            from: self.cfg.self_id.clone(),
            to: to.to_string(),
            rpc: Rpc::Request { id, req },
        });
        id
    }

    fn send_response(&mut self, to: &str, id: u64, resp: Response) {
        self.out.messages.push(Envelope {
            from: self.cfg.self_id.clone(),
            to: to.to_string(),
            rpc: Rpc::Response { id, resp },
        });
    }

    fn persist(&mut self) {
        self.out.effects.push(Effect::PersistTermVote {
            term: self.term,
            vote_for: self.vote_for.clone(),
        });
    }

    fn gc_outstanding(&mut self) {
        let horizon = self
            .cfg
            .push_wait_ms
            .max(self.cfg.vote_wait_ms + self.cfg.max_vote_interval_ms)
            .max(self.cfg.heartbeat_interval_ms)
            * 4;
        let now = self.now;
        self.outstanding
            .retain(|_, (sent, _)| now.saturating_sub(*sent) <= horizon);
    }

    fn on_request(&mut self, from: NodeId, id: u64, req: Request, log: &mut dyn LogStore) {
        match req {
            Request::Vote(v) => {
                let resp = self.handle_vote(&v, false, log);
                self.send_response(&from, id, Response::Vote(resp));
            }
            Request::HeartBeat(h) => {
                let resp = self.handle_heartbeat(&h);
                self.send_response(&from, id, Response::HeartBeat(resp));
            }
            Request::Push(p) => self.handle_push(from, id, p, log),
            Request::LeadershipTransfer(t) => self.on_transfer_request(from, id, t, log),
        }
    }

    fn on_response(&mut self, from: NodeId, id: u64, resp: Response, log: &mut dyn LogStore) {
        let Some((_, what)) = self.outstanding.remove(&id) else {
            return;
        };
        match (what, resp) {
            (Outstanding::Vote { round }, Response::Vote(v)) => {
                self.on_vote_response(round, v, log)
            }
            (Outstanding::HeartBeat { round }, Response::HeartBeat(h)) => {
                self.on_heartbeat_response(round, &from, h, log)
            }
            (Outstanding::Push { peer, kind, term }, Response::Push(p)) => {
                self.on_push_response(&peer, id, kind, term, p, log)
            }
            (Outstanding::Transfer, Response::LeadershipTransfer(t)) => {
                self.on_transfer_response(t)
            }
            _ => {}
        }
    }

    /// Sets role and leader, emitting `RoleChanged` and cleaning up what the old
    /// role owned.
    fn set_role(&mut self, role: Role, leader: Option<NodeId>) {
        let old = self.role;
        let changed = old != role || self.leader != leader;
        if old == Role::Leader && role != Role::Leader {
            self.step_down_cleanup();
            self.transferee = None;
        }
        if role != Role::Follower {
            self.write_requests.clear();
        }
        if role != Role::Candidate {
            self.vote_round = None;
        }
        self.role = role;
        self.leader = leader;
        if changed {
            self.out.effects.push(Effect::RoleChanged {
                role,
                term: self.term,
                leader: self.leader.clone(),
            });
            self.check_take_leadership();
        }
    }
}

#[cfg(test)]
mod tests;
