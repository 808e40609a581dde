//! A deterministic, seeded simulator for the DLedger Raft core.
//!
//! One seed fixes everything: message delays (so reordering), drops, partitions,
//! crashes with restart from what was persisted (ledger + `currterm` + a possibly stale
//! checkpoint), pauses, and the client's appends. After every step the simulator checks
//! Raft's safety properties; at the end it heals all faults and checks that the group
//! recovers and that nothing acknowledged was lost. Recovery is awaited within budgets
//! derived from the members' timings and the network's delay (see
//! `SimConfig::election_budget_ms` and `SimConfig::catch_up_budget_ms`), not a fixed
//! quiet time: with slow links DLedger needs many election attempts and one round
//! trip per stale entry of a member.
//! Book: Part IV "Cluster modes and DLedger" (testing Raft). No Java counterpart:
//! DLedger 0.2.2 is tested with real threads and sleeps.

#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

use bytes::Bytes;
use rmq_dledger::core::rng::Rng;
use rmq_dledger::core::*;
use rmq_dledger::entry::Entry;
use rmq_dledger::store::{DLedgerStore, StoreConfig};

/// Knobs for one run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub nodes: usize,
    pub seed: u64,
    /// Simulated time with faults.
    pub duration_ms: u64,
    /// Election attempts a healed group may need (see [`SimConfig::election_budget_ms`]).
    pub heal_vote_rounds: u64,
    pub tick_ms: u64,
    pub min_delay_ms: u64,
    pub max_delay_ms: u64,
    /// Per-message drop probability, in 1/1000.
    pub drop_permille: u64,
    /// A fault (or heal) happens every this many ms on average.
    pub fault_every_ms: u64,
    pub crashes: bool,
    pub partitions: bool,
    pub pauses: bool,
    pub client_every_ms: u64,
    /// How long a transport waits before reporting a lost request.
    pub rpc_timeout_ms: u64,
    pub commit_rule: CommitRule,
    pub noop_on_election: bool,
    pub step_down_on_newer_term: bool,
    pub compare_walk_forward: bool,
    /// `NodeConfig::fresh_term_on_leader_loss` (false: 0.2.2's first round in the old term).
    pub fresh_term_on_leader_loss: bool,
    /// Per mille of client steps at which the leader hands leadership over instead.
    pub transfer_permille: u64,
    /// Use the real file store (in a temp directory) instead of memory.
    pub file_store: bool,
    /// Timing scale: DLedger's defaults divided by this.
    pub scale: u64,
    /// Members push batches (`NodeConfig::batch_push`, with a small batch size so that a
    /// batch holds a few entries), and clients append bursts of 1-4 entries to a held
    /// node ([`Node::hold`]), as the server's driver does under load.
    pub batch_push: bool,
}

impl SimConfig {
    pub fn new(nodes: usize, seed: u64) -> SimConfig {
        SimConfig {
            nodes,
            seed,
            duration_ms: 3000,
            heal_vote_rounds: 40,
            tick_ms: 5,
            min_delay_ms: 1,
            max_delay_ms: 15,
            drop_permille: 20,
            fault_every_ms: 250,
            crashes: true,
            partitions: true,
            pauses: true,
            client_every_ms: 10,
            rpc_timeout_ms: 150,
            commit_rule: CommitRule::CurrentTerm,
            noop_on_election: true,
            step_down_on_newer_term: true,
            compare_walk_forward: true,
            fresh_term_on_leader_loss: true,
            transfer_permille: 5,
            file_store: false,
            scale: 20,
            batch_push: false,
        }
    }

    /// The members' timings (DLedger's defaults, scaled down as the nodes run them).
    pub fn timing(&self) -> NodeConfig {
        NodeConfig::new("n0", Vec::new()).scaled_down(self.scale)
    }

    /// The longest round trip once healed: a request and its answer at the maximum
    /// delay, plus one tick for a reaction that waits for the timer.
    pub fn max_rtt_ms(&self) -> u64 {
        2 * self.max_delay_ms + self.tick_ms
    }

    /// How long a healed group may take to settle on one leader that every member
    /// follows. Stale leadership ends first (see [`SimConfig::stale_leadership_ms`]);
    /// then each election attempt costs at most the wait before the round (up to
    /// `maxVoteIntervalMs`, plus `maxVoteIntervalMs` more after a round lost to a
    /// bigger ledger) and the round itself (every answer is back within one round
    /// trip: nothing is dropped any more).
    ///
    /// Attempts are randomized, not bounded. With the scaled timings the vote jitter
    /// spans `minVoteIntervalMs..maxVoteIntervalMs` = 15..50 ms while a round trip may
    /// take up to 2 x 39 ms: a member told of a newer term (TERM_NOT_READY) often
    /// starts its own round before the candidate's re-vote reaches it, and members
    /// whose ledgers are too short to win keep raising the term (0.2.2 has no
    /// pre-vote), which also unseats a leader just elected. So a healed group with
    /// slow links may need many attempts: over 40,000 random cases of
    /// `any_network_keeps_safety` the slowest needed about 22. The budget allows
    /// `heal_vote_rounds` (40).
    pub fn election_budget_ms(&self) -> u64 {
        let t = self.timing();
        let attempt = 2 * t.max_vote_interval_ms + self.max_rtt_ms() + self.tick_ms;
        self.stale_leadership_ms() + self.heal_vote_rounds * attempt
    }

    /// How long a leadership from before the heal can outlive it: a leader checks its
    /// quorum once per heartbeat round (one heartbeat interval after the round starts)
    /// and steps down once it had none for `maxHeartBeatLeak` intervals; a follower
    /// turns candidate after the same leak without heartbeats.
    pub fn stale_leadership_ms(&self) -> u64 {
        let t = self.timing();
        (t.max_heartbeat_leak + 2) * t.heartbeat_interval_ms + self.tick_ms
    }

    /// How long a leader may take to bring every member's ledger to its own once the
    /// group is stable. DLedger 0.2.2 finds where a follower diverges by COMPAREs
    /// walking back one entry per round trip (`compareIndex--`), so a follower holding
    /// `walk_back` entries past its committed index needs up to that many round trips,
    /// then one TRUNCATE, and the APPENDs stream (pipelined: a few round trips). Plus
    /// one COMPARE wait and retry in case the first COMPARE found no follower yet, and
    /// one COMMIT push interval and heartbeat for the committed index to reach everyone.
    pub fn catch_up_budget_ms(&self, walk_back: u64) -> u64 {
        let t = self.timing();
        (walk_back + 4) * self.max_rtt_ms()
            + t.push_wait_ms
            + t.push_retry_ms
            + t.commit_push_interval_ms
            + t.heartbeat_interval_ms
    }
}

/// What a run observed.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub seeds: u64,
    pub acked: usize,
    pub committed: usize,
    pub leaders_elected: usize,
    pub max_term: i64,
    pub crashes: usize,
    pub messages: usize,
    /// Longest time a healed run took to settle on one leader, in % of its budget.
    pub election_budget_used: u64,
    /// Longest time a healed run took to converge, in % of its budget.
    pub catch_up_budget_used: u64,
}

impl Report {
    /// Adds another run's counts.
    pub fn add(&mut self, r: &Report) {
        self.seeds += 1;
        self.acked += r.acked;
        self.committed += r.committed;
        self.leaders_elected += r.leaders_elected;
        self.crashes += r.crashes;
        self.messages += r.messages;
        self.max_term = self.max_term.max(r.max_term);
        self.election_budget_used = self.election_budget_used.max(r.election_budget_used);
        self.catch_up_budget_used = self.catch_up_budget_used.max(r.catch_up_budget_used);
    }
}

/// A member's ledger: in memory, or the real file store in a temp directory.
pub enum SimLog {
    Mem(MemLog),
    File(Box<DLedgerStore>, StoreConfig),
}

impl SimLog {
    /// Every entry, in index order.
    pub fn entries(&self) -> Vec<Entry> {
        match self {
            SimLog::Mem(m) => m.entries().to_vec(),
            SimLog::File(f, _) => (f.begin_index().max(0)..=f.end_index())
                .map(|i| f.get(i).expect("readable entry"))
                .collect(),
        }
    }

    /// A crash: the process dies; the files stay and are recovered on restart.
    fn crash(&mut self) -> i64 {
        match self {
            SimLog::Mem(_) => -1,
            SimLog::File(store, cfg) => {
                let (fresh, _) = DLedgerStore::open(cfg.clone()).expect("recovery");
                **store = fresh;
                store.committed_index()
            }
        }
    }

    fn checkpoint(&mut self) {
        if let SimLog::File(store, _) = self {
            store.persist_checkpoint().expect("checkpoint");
        }
    }

    fn inner(&self) -> &dyn LogStore {
        match self {
            SimLog::Mem(m) => m,
            SimLog::File(f, _) => &**f,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn LogStore {
        match self {
            SimLog::Mem(m) => m,
            SimLog::File(f, _) => &mut **f,
        }
    }
}

impl LogStore for SimLog {
    fn begin_index(&self) -> i64 {
        self.inner().begin_index()
    }
    fn end_index(&self) -> i64 {
        self.inner().end_index()
    }
    fn end_term(&self) -> i64 {
        self.inner().end_term()
    }
    fn get(&self, index: i64) -> Result<Entry, LogError> {
        self.inner().get(index)
    }
    fn append_as_leader(&mut self, term: i64, body: Bytes) -> Result<Entry, LogError> {
        self.inner_mut().append_as_leader(term, body)
    }
    fn append_as_follower(&mut self, entry: &Entry) -> Result<(), LogError> {
        self.inner_mut().append_as_follower(entry)
    }
    fn truncate(&mut self, entry: &Entry) -> Result<i64, LogError> {
        self.inner_mut().truncate(entry)
    }
    fn set_committed(&mut self, index: i64) {
        self.inner_mut().set_committed(index)
    }
}

#[derive(Debug)]
enum Ev {
    Deliver(Envelope),
    Unreachable { node: usize, peer: String, id: u64 },
}

struct Slot {
    node: Option<Node>,
    log: SimLog,
    persisted: PersistedState,
    checkpoint: i64,
    /// Some while paused: messages that arrived meanwhile.
    inbox: Option<Vec<Envelope>>,
    incarnation: u64,
    /// Committed prefix of this incarnation already checked against the global one.
    verified: i64,
}

pub struct Sim {
    cfg: SimConfig,
    rng: Rng,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: HashMap<u64, Ev>,
    slots: Vec<Slot>,
    ids: Vec<String>,
    /// Pairs (from, to) that cannot talk.
    cut: HashSet<(usize, usize)>,
    drop_permille: u64,
    // client
    next_req: u64,
    bodies: HashMap<u64, Bytes>,
    acked: BTreeMap<i64, Bytes>,
    // checks
    leader_of_term: BTreeMap<i64, usize>,
    committed: Vec<Entry>,
    /// Term of the leader that first committed each entry of `committed`.
    commit_term: Vec<i64>,
    pub report: Report,
    dir: Option<tempfile::TempDir>,
}

fn node_index(id: &str) -> usize {
    id[1..].parse().expect("ids are n<digits>")
}

impl Sim {
    pub fn new(cfg: SimConfig) -> Sim {
        let ids: Vec<String> = (0..cfg.nodes).map(|i| format!("n{i}")).collect();
        let mut sim = Sim {
            rng: Rng::new(cfg.seed),
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            events: HashMap::new(),
            slots: Vec::new(),
            ids: ids.clone(),
            cut: HashSet::new(),
            drop_permille: cfg.drop_permille,
            next_req: 1,
            bodies: HashMap::new(),
            acked: BTreeMap::new(),
            leader_of_term: BTreeMap::new(),
            committed: Vec::new(),
            commit_term: Vec::new(),
            report: Report::default(),
            dir: if cfg.file_store {
                Some(tempfile::tempdir().expect("temp dir"))
            } else {
                None
            },
            cfg,
        };
        for i in 0..sim.cfg.nodes {
            let log = match &sim.dir {
                None => SimLog::Mem(MemLog::new(64 * 1024)),
                Some(dir) => {
                    let mut c = StoreConfig::new(dir.path(), format!("n{i}"));
                    c.data_file_size = 64 * 1024;
                    c.index_file_size = 32 * 256;
                    let (store, _) = DLedgerStore::open(c.clone()).expect("open store");
                    SimLog::File(Box::new(store), c)
                }
            };
            sim.slots.push(Slot {
                node: None,
                log,
                persisted: PersistedState::default(),
                checkpoint: -1,
                inbox: None,
                incarnation: 0,
                verified: -1,
            });
            sim.start_node(i);
        }
        sim
    }

    fn node_config(&mut self, i: usize) -> NodeConfig {
        let mut c =
            NodeConfig::new(self.ids[i].clone(), self.ids.clone()).scaled_down(self.cfg.scale);
        c.commit_rule = self.cfg.commit_rule;
        c.noop_on_election = self.cfg.noop_on_election;
        c.step_down_on_newer_term = self.cfg.step_down_on_newer_term;
        c.compare_walk_forward = self.cfg.compare_walk_forward;
        c.fresh_term_on_leader_loss = self.cfg.fresh_term_on_leader_loss;
        c.batch_push = self.cfg.batch_push;
        c.max_batch_push_size = 200;
        c.seed = self.rng.next_u64();
        c
    }

    fn start_node(&mut self, i: usize) {
        let cfg = self.node_config(i);
        let s = &mut self.slots[i];
        s.incarnation += 1;
        s.verified = -1;
        s.node = Some(Node::new(
            cfg,
            s.persisted.clone(),
            s.checkpoint,
            &s.log,
            self.now,
        ));
    }

    fn schedule(&mut self, at: u64, ev: Ev) {
        self.seq += 1;
        self.events.insert(self.seq, ev);
        self.queue.push(Reverse((at, self.seq)));
    }

    fn chance(&mut self, permille: u64) -> bool {
        self.rng.below(1000) < permille
    }

    /// Runs the scenario; `Err` names the seed and the violated property.
    pub fn try_run(self) -> Result<Report, String> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run())).map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
    }

    /// Runs the whole scenario; panics with the seed on a violated property.
    pub fn run(mut self) -> Report {
        let end = self.cfg.duration_ms;
        let mut next_fault = self.cfg.fault_every_ms;
        let mut next_client = self.cfg.client_every_ms;
        let mut next_check = 500;
        while self.now < end {
            self.step();
            if self.now >= next_fault {
                self.fault();
                next_fault = self.now + 1 + self.rng.below(2 * self.cfg.fault_every_ms);
            }
            if self.now >= next_client {
                self.client_append();
                next_client = self.now + self.cfg.client_every_ms;
            }
            if self.now >= next_check {
                self.check_logs();
                next_check = self.now + 500;
            }
        }
        // Heal everything and let the group settle.
        self.cut.clear();
        self.drop_permille = 0;
        for i in 0..self.slots.len() {
            if self.slots[i].node.is_none() {
                self.start_node(i);
            }
            self.resume(i);
        }
        // Quiet until one leader is followed by every member, within the budget. A
        // leadership from before the heal is not trusted until a leader without a
        // quorum would have stepped down and a follower without a leader would have
        // turned candidate.
        let start = self.now;
        let budget = self.cfg.election_budget_ms();
        let settled = start + self.cfg.stale_leadership_ms();
        while self.now < start + budget && (self.now < settled || self.stable_leader().is_none()) {
            self.step();
        }
        self.report.election_budget_used = (self.now - start) * 100 / budget.max(1);
        self.final_checks();
        self.report.acked = self.acked.len();
        self.report.committed = self.committed.len();
        self.report
    }

    /// Delivers due events, then ticks every running node.
    fn step(&mut self) {
        let t = self.now + self.cfg.tick_ms;
        while let Some(Reverse((at, seq))) = self.queue.peek().copied() {
            if at > t {
                break;
            }
            self.queue.pop();
            self.now = self.now.max(at);
            if let Some(ev) = self.events.remove(&seq) {
                self.handle_event(ev);
            }
        }
        self.now = t;
        for i in 0..self.slots.len() {
            if self.slots[i].inbox.is_some() {
                continue;
            }
            let now = self.now;
            let s = &mut self.slots[i];
            if let Some(node) = s.node.as_mut() {
                let out = node.tick(now, &mut s.log);
                self.absorb(i, out);
            }
        }
    }

    fn handle_event(&mut self, ev: Ev) {
        match ev {
            Ev::Deliver(env) => {
                let to = node_index(&env.to);
                if self.slots[to].node.is_none() {
                    if let Rpc::Request { id, .. } = env.rpc {
                        let at = self.now + 1;
                        let from = node_index(&env.from);
                        self.schedule(
                            at,
                            Ev::Unreachable {
                                node: from,
                                peer: env.to.clone(),
                                id,
                            },
                        );
                    }
                    return;
                }
                if let Some(inbox) = self.slots[to].inbox.as_mut() {
                    inbox.push(env);
                    return;
                }
                self.deliver(to, env);
            }
            Ev::Unreachable { node, peer, id } => {
                if self.slots[node].inbox.is_some() {
                    return;
                }
                let now = self.now;
                let s = &mut self.slots[node];
                if let Some(n) = s.node.as_mut() {
                    let out = n.unreachable(now, &peer, id, &mut s.log);
                    self.absorb(node, out);
                }
            }
        }
    }

    fn deliver(&mut self, to: usize, env: Envelope) {
        let now = self.now;
        if let Ok(t) = std::env::var("SIM_TRACE") {
            if t == env.to || t == env.from {
                let short = format!("{:?}", env.rpc);
                eprintln!(
                    "t={now} {}->{} {}",
                    env.from,
                    env.to,
                    &short[..short.len().min(300)]
                );
            }
        }
        let s = &mut self.slots[to];
        if let Some(n) = s.node.as_mut() {
            let out = n.receive(now, env, &mut s.log);
            self.absorb(to, out);
        }
    }

    /// Applies a node's output: effects first (persist before send), then messages.
    fn absorb(&mut self, i: usize, out: Output) {
        for e in out.effects {
            self.on_effect(i, e);
        }
        for env in out.messages {
            self.report.messages += 1;
            let (from, to) = (node_index(&env.from), node_index(&env.to));
            let lost = self.cut.contains(&(from, to)) || self.chance(self.drop_permille);
            if lost {
                // The transport reports a lost request (or lost answer) after its timeout.
                let (requester, peer, id) = match &env.rpc {
                    Rpc::Request { id, .. } => (from, env.to.clone(), *id),
                    Rpc::Response { id, .. } => (to, env.from.clone(), *id),
                };
                let at = self.now + self.cfg.rpc_timeout_ms;
                self.schedule(
                    at,
                    Ev::Unreachable {
                        node: requester,
                        peer,
                        id,
                    },
                );
                continue;
            }
            let span = self.cfg.max_delay_ms - self.cfg.min_delay_ms + 1;
            let at = self.now + self.cfg.min_delay_ms + self.rng.below(span);
            self.schedule(at, Ev::Deliver(env));
        }
    }

    fn fail(&self, what: String) -> ! {
        if std::env::var("SIM_DUMP").is_ok() {
            for s in &self.slots {
                eprintln!("{:#?}", s.node);
            }
        }
        panic!("seed {} at t={}ms: {what}", self.cfg.seed, self.now);
    }

    fn on_effect(&mut self, i: usize, e: Effect) {
        if std::env::var("SIM_TRACE").is_ok() && !matches!(e, Effect::AppendResult { .. }) {
            eprintln!(
                "t={} n{i} {e:?} end={}",
                self.now,
                self.slots[i].log.end_index()
            );
        }
        match e {
            Effect::PersistTermVote { term, vote_for } => {
                self.slots[i].persisted = PersistedState { term, vote_for };
            }
            Effect::RoleChanged { role, term, .. } => {
                if role == Role::Leader {
                    // Election safety: one leader per term.
                    if let Some(prev) = self.leader_of_term.insert(term, i) {
                        if prev != i {
                            self.fail(format!("two leaders in term {term}: n{prev} and n{i}"));
                        }
                    }
                    self.report.leaders_elected += 1;
                    self.report.max_term = self.report.max_term.max(term);
                    // Leader completeness: it holds every entry committed in an
                    // earlier term.
                    for (c, t) in self.committed.iter().zip(&self.commit_term) {
                        if *t >= term {
                            continue;
                        }
                        match self.slots[i].log.get(c.index) {
                            Ok(e) if e.same_as(c) => {}
                            other => self.fail(format!(
                                "leader n{i} of term {term} lacks committed entry {}: {other:?}",
                                c.index
                            )),
                        }
                    }
                }
            }
            Effect::Committed { index } => {
                // State machine safety: what any node commits agrees with the rest.
                let log = &self.slots[i].log;
                if index > log.end_index() {
                    self.fail(format!(
                        "n{i} committed {index} past its end {}",
                        log.end_index()
                    ));
                }
                let from = self.slots[i].verified + 1;
                self.slots[i].verified = index;
                let log = &self.slots[i].log;
                for k in from..=index {
                    let e = match log.get(k) {
                        Ok(e) => e,
                        Err(err) => {
                            self.fail(format!("n{i} committed {index} but lacks {k}: {err}"))
                        }
                    };
                    match self.committed.get(k as usize) {
                        Some(c) if !c.same_as(&e) => self.fail(format!(
                            "n{i} commits entry {k} (term {}) but term {} was committed there",
                            e.term, c.term
                        )),
                        Some(_) => {}
                        None => {
                            let t = self.slots[i].node.as_ref().map(|n| n.term()).unwrap_or(-1);
                            self.committed.push(e);
                            self.commit_term.push(t);
                        }
                    }
                }
                if self.chance(300) {
                    self.slots[i].checkpoint = index;
                    self.slots[i].log.checkpoint();
                }
            }
            // A leadership transfer's outcome: safety is what the checks above judge.
            Effect::TransferResult { .. } => {}
            Effect::AppendResult { req, result } => {
                if let Ok(a) = result {
                    let body = self.bodies.get(&req).cloned().unwrap_or_default();
                    match self.committed.get(a.index as usize) {
                        Some(c) if c.body == body => {}
                        other => self.fail(format!(
                            "append {req} acked at {} but committed is {other:?}",
                            a.index
                        )),
                    }
                    self.acked.insert(a.index, body);
                }
            }
        }
    }

    fn client_append(&mut self) {
        let live: Vec<usize> = (0..self.slots.len())
            .filter(|i| self.slots[*i].node.is_some() && self.slots[*i].inbox.is_none())
            .collect();
        if live.is_empty() {
            return;
        }
        let leader = live.iter().copied().find(|i| {
            self.slots[*i]
                .node
                .as_ref()
                .map(|n| n.role() == Role::Leader)
                .unwrap_or(false)
        });
        // Now and then the leader hands leadership over (a graceful stop's first step).
        let transfer = self.cfg.transfer_permille;
        if let Some(l) = leader.filter(|_| transfer > 0 && self.chance(transfer)) {
            let now = self.now;
            let req = self.next_req;
            self.next_req += 1;
            let s = &mut self.slots[l];
            if let Some(n) = s.node.as_mut() {
                let out = n.transfer_leadership(now, req, None, &mut s.log);
                self.absorb(l, out);
            }
            return;
        }
        let target = match leader {
            Some(l) if self.chance(900) => l,
            _ => live[self.rng.below(live.len() as u64) as usize],
        };
        let burst = if self.cfg.batch_push {
            1 + self.rng.below(4)
        } else {
            1
        };
        let now = self.now;
        if burst > 1 {
            if let Some(n) = self.slots[target].node.as_mut() {
                n.hold();
            }
        }
        for _ in 0..burst {
            let req = self.next_req;
            self.next_req += 1;
            let body = Bytes::from(format!("s{}-r{req}", self.cfg.seed));
            self.bodies.insert(req, body.clone());
            let s = &mut self.slots[target];
            if let Some(n) = s.node.as_mut() {
                let out = n.append(now, req, body, &mut s.log);
                self.absorb(target, out);
            }
        }
        if burst > 1 {
            let s = &mut self.slots[target];
            if let Some(n) = s.node.as_mut() {
                let out = n.release(now, &mut s.log);
                self.absorb(target, out);
            }
        }
    }

    fn resume(&mut self, i: usize) {
        if let Some(inbox) = self.slots[i].inbox.take() {
            for env in inbox {
                self.deliver(i, env);
            }
        }
    }

    fn fault(&mut self) {
        let n = self.slots.len();
        let pick = self.rng.below(n as u64) as usize;
        match self.rng.below(6) {
            0 | 1 if self.cfg.partitions => {
                // Split into two random sides (possibly one-way for a pair).
                self.cut.clear();
                let side: Vec<bool> = (0..n).map(|_| self.chance(500)).collect();
                for a in 0..n {
                    for b in 0..n {
                        if side[a] != side[b] {
                            self.cut.insert((a, b));
                        }
                    }
                }
                if self.chance(300) {
                    let (a, b) = (pick, (pick + 1) % n);
                    self.cut.insert((a, b));
                }
            }
            2 => self.cut.clear(),
            3 if self.cfg.crashes => {
                if std::env::var("SIM_TRACE").is_ok() {
                    eprintln!("t={} crash/restart n{pick}", self.now);
                }
                if self.slots[pick].node.is_some() {
                    self.slots[pick].node = None;
                    self.slots[pick].inbox = None;
                    let cp = self.slots[pick].log.crash();
                    if cp >= 0 {
                        self.slots[pick].checkpoint = cp;
                    }
                    self.report.crashes += 1;
                } else {
                    self.start_node(pick);
                }
            }
            4 if self.cfg.pauses => {
                if self.slots[pick].inbox.is_some() {
                    self.resume(pick);
                } else if self.slots[pick].node.is_some() {
                    self.slots[pick].inbox = Some(Vec::new());
                }
            }
            _ => {
                // Restart whatever is down.
                for i in 0..n {
                    if self.slots[i].node.is_none() && self.chance(500) {
                        self.start_node(i);
                    }
                }
            }
        }
    }

    /// Log matching: equal (index, term) means equal prefixes. Plus: no node lost or
    /// changed an entry it counts as committed.
    fn check_logs(&self) {
        let n = self.slots.len();
        let all: Vec<Vec<Entry>> = self.slots.iter().map(|s| s.log.entries()).collect();
        for a in 0..n {
            let la = &all[a];
            let own_commit = self.slots[a]
                .node
                .as_ref()
                .map(|n| n.committed_index())
                .unwrap_or(self.slots[a].checkpoint);
            for k in 0..=own_commit {
                match (la.get(k as usize), self.committed.get(k as usize)) {
                    (Some(e), Some(c)) if e.same_as(c) => {}
                    (e, c) => self.fail(format!(
                        "n{a} counts {k} committed but holds {e:?}, committed is {c:?}"
                    )),
                }
            }
            for (b, lb) in all.iter().enumerate().skip(a + 1) {
                let common = la.len().min(lb.len());
                if let Some(top) = (0..common).rev().find(|k| la[*k].term == lb[*k].term) {
                    for k in 0..=top {
                        if !la[k].same_as(&lb[k]) {
                            self.fail(format!(
                                "log matching broken between n{a} and n{b} at {k} (match at {top})"
                            ));
                        }
                    }
                }
            }
        }
    }

    /// The leader every running member follows in its term, if there is one.
    fn stable_leader(&self) -> Option<usize> {
        let nodes: Vec<&Node> = self.slots.iter().filter_map(|s| s.node.as_ref()).collect();
        let leader = nodes.iter().find(|n| n.role() == Role::Leader)?;
        let all_follow = nodes.iter().all(|n| {
            n.term() == leader.term()
                && n.leader() == Some(leader.id())
                && (n.role() == Role::Follower || n.id() == leader.id())
        });
        all_follow.then(|| node_index(leader.id()))
    }

    /// The most COMPAREs leader `l` may need for one member: entries the member
    /// holds past its own committed index (those below agree with everyone's).
    fn walk_back(&self, l: usize) -> u64 {
        let end = self.slots[l].log.end_index();
        self.slots
            .iter()
            .map(|s| {
                let committed = s.node.as_ref().map(|n| n.committed_index()).unwrap_or(-1);
                (s.log.end_index().min(end) - committed).max(0) as u64
            })
            .max()
            .unwrap_or(0)
    }

    /// Steps until [`Sim::converged`] (or the leader's ledger is empty, if
    /// `empty_ok`), at most the catch-up budget.
    fn catch_up(&mut self, l: usize, empty_ok: bool) {
        let walk_back = self.walk_back(l);
        let start = self.now;
        let budget = self.cfg.catch_up_budget_ms(walk_back);
        while self.now < start + budget
            && !self.converged(l)
            && !(empty_ok && self.slots[l].log.end_index() == -1)
        {
            self.step();
        }
        let used = (self.now - start) * 100 / budget.max(1);
        self.report.catch_up_budget_used = self.report.catch_up_budget_used.max(used);
    }

    /// Every ledger equals the leader's, all of it committed by the leader.
    fn converged(&self, l: usize) -> bool {
        let committed = self.slots[l].node.as_ref().map(|n| n.committed_index());
        if committed != Some(self.slots[l].log.end_index()) {
            return false;
        }
        let (end, term) = (self.slots[l].log.end_index(), self.slots[l].log.end_term());
        if self
            .slots
            .iter()
            .any(|s| s.log.end_index() != end || s.log.end_term() != term)
        {
            return false;
        }
        let leader_log = self.slots[l].log.entries();
        self.slots.iter().all(|s| s.log.entries() == leader_log)
    }

    fn final_checks(&mut self) {
        self.check_logs();
        let leaders: Vec<usize> = (0..self.slots.len())
            .filter(|i| {
                self.slots[*i]
                    .node
                    .as_ref()
                    .map(|n| n.role() == Role::Leader)
                    .unwrap_or(false)
            })
            .collect();
        if leaders.len() != 1 {
            let states: Vec<String> = self
                .slots
                .iter()
                .map(|s| {
                    s.node
                        .as_ref()
                        .map(|n| format!("{:?}@{} leader={:?}", n.role(), n.term(), n.leader()))
                        .unwrap_or_default()
                })
                .collect();
            self.fail(format!("no single leader after healing: {states:?}"));
        }
        let l = leaders[0];
        // Quiet until every ledger equals the leader's and the leader has committed
        // all of it, within the budget. A leader with an empty ledger pushes nothing
        // (0.2.2 compares only once it holds an entry): the final append starts it.
        self.catch_up(l, true);
        let was_empty = self.slots[l].log.end_index() == -1;
        // Liveness: one more append commits and reaches every member.
        let req = self.next_req;
        self.next_req += 1;
        let body = Bytes::from_static(b"final");
        self.bodies.insert(req, body.clone());
        let now = self.now;
        let s = &mut self.slots[l];
        if let Some(n) = s.node.as_mut() {
            let out = n.append(now, req, body, &mut s.log);
            self.absorb(l, out);
        }
        self.catch_up(l, false);
        // Then a heartbeat-leak period of quiet: the group must stay so.
        let t = self.cfg.timing();
        let confirm = self.now + t.max_heartbeat_leak * t.heartbeat_interval_ms;
        while self.now < confirm {
            self.step();
        }
        let leaders: Vec<usize> = (0..self.slots.len())
            .filter(|i| self.slots[*i].node.as_ref().map(|n| n.role()) == Some(Role::Leader))
            .collect();
        if leaders != [l] {
            self.fail(format!(
                "leader n{l} did not stay the only leader after healing"
            ));
        }
        // Acknowledged, unless the leader had to compare and truncate the members
        // first (empty ledger): then the client may time out while the entry commits.
        let done = if was_empty {
            self.committed.iter().any(|e| e.body.as_ref() == b"final")
        } else {
            self.acked.values().any(|b| b.as_ref() == b"final")
        };
        if !done {
            self.fail("the final append did not commit after healing".into());
        }
        // No acknowledged entry lost, and every node converged on the leader's ledger.
        let leader_log = self.slots[l].log.entries();
        for (idx, body) in &self.acked {
            match leader_log.get(*idx as usize) {
                Some(e) if e.body == *body => {}
                other => self.fail(format!("acked entry {idx} lost: leader has {other:?}")),
            }
        }
        for (i, s) in self.slots.iter().enumerate() {
            if s.log.entries() != leader_log {
                self.fail(format!(
                    "n{i} did not converge: end {} vs leader end {}",
                    s.log.end_index(),
                    leader_log.len() as i64 - 1
                ));
            }
        }
    }
}
