//! Log replication as DLedger 0.2.2 does it: one dispatcher per follower on the
//! leader (COMPARE → TRUNCATE → APPEND, with COMMIT when idle), the follower-side
//! handler that applies pushes in index order, and the quorum checker that advances
//! the committed index and answers waiting client appends.
//!
//! Unlike textbook Raft there is no `prevLogIndex` check on every append: a new
//! leader first *compares* one entry at a time, walking back from its end until the
//! follower holds an equal entry, then *truncates* the follower right after (or at) that
//! point and streams entries in order. Appends from the same leader in the same term are
//! then safe to accept without checks.
//! Book: Part IV "Cluster modes and DLedger" (replication). Mirrors
//! `DLedgerEntryPusher.java` (`EntryDispatcher`, `EntryHandler`, `QuorumAckChecker`) and
//! `DLedgerMmapFileStore.updateCommittedIndex` of DLedger 0.2.2.

use super::*;
use crate::entry::Entry;

/// The leader's push state for one follower (`EntryDispatcher`).
#[derive(Debug, Clone)]
pub(super) struct Dispatcher {
    kind: PushType,
    compare_index: i64,
    write_index: i64,
    /// APPEND pushes in flight: index → send time.
    pending: BTreeMap<i64, u64>,
    last_push_commit: u64,
    last_check_leak: u64,
    /// The COMPARE or TRUNCATE push awaiting its answer: (rpc id, deadline).
    in_flight: Option<(u64, u64)>,
    truncate_index: i64,
    retry_at: u64,
    /// The APPEND last sent again after a timeout.
    resent: Option<i64>,
    /// Highest index a COMPARE found the follower holding a *different* entry at.
    mismatch_at: Option<i64>,
}

impl Dispatcher {
    fn new(now: u64) -> Dispatcher {
        Dispatcher {
            kind: PushType::Compare,
            compare_index: -1,
            write_index: -1,
            pending: BTreeMap::new(),
            last_push_commit: now,
            last_check_leak: now,
            in_flight: None,
            truncate_index: -1,
            retry_at: 0,
            resent: None,
            mismatch_at: None,
        }
    }
}

impl Node {
    /// Sets up dispatchers and watermarks for a fresh term as leader.
    pub(super) fn become_leader_pusher(&mut self, log: &mut dyn LogStore) {
        self.dispatchers.clear();
        self.watermarks.clear();
        for p in self.cfg.peers.clone() {
            self.watermarks.insert(p.clone(), -1);
            if p != self.cfg.self_id {
                self.dispatchers.insert(p, Dispatcher::new(self.now));
            }
        }
        let me = self.cfg.self_id.clone();
        self.watermarks.insert(me, log.end_index());
        if self.cfg.noop_on_election && log.end_index() > self.committed {
            self.client_append(None, Bytes::new(), log);
        }
    }

    /// Leaving leadership: fail waiting appends and drop push state.
    pub(super) fn step_down_cleanup(&mut self) {
        let leader = self.leader.clone();
        for (_, p) in std::mem::take(&mut self.pending) {
            if let Some(req) = p.req {
                self.out.effects.push(Effect::AppendResult {
                    req,
                    result: Err(AppendError {
                        code: ResponseCode::TermChanged,
                        leader: leader.clone(),
                    }),
                });
            }
        }
        self.dispatchers.clear();
        self.watermarks.clear();
        self.hb_round = None;
    }

    /// `DLedgerServer.handleAppend` + `waitAck`.
    pub(super) fn client_append(&mut self, req: Option<u64>, body: Bytes, log: &mut dyn LogStore) {
        let fail = |node: &mut Node, code: ResponseCode| {
            if let Some(req) = req {
                node.out.effects.push(Effect::AppendResult {
                    req,
                    result: Err(AppendError {
                        code,
                        leader: node.leader.clone(),
                    }),
                });
            }
        };
        if self.role != Role::Leader {
            return fail(self, ResponseCode::NotLeader);
        }
        if self.pending.len() > self.cfg.max_pending_requests {
            return fail(self, ResponseCode::LeaderPendingFull);
        }
        let entry = match log.append_as_leader(self.term, body) {
            Ok(e) => e,
            Err(_) => return fail(self, ResponseCode::DiskError),
        };
        let me = self.cfg.self_id.clone();
        self.update_watermark(&me, entry.index);
        self.pending.insert(
            entry.index,
            PendingAppend {
                req,
                pos: entry.pos,
                deadline: self.now + self.cfg.max_wait_ack_ms,
            },
        );
        self.check_quorum(log);
    }

    fn update_watermark(&mut self, peer: &str, index: i64) {
        if let Some(w) = self.watermarks.get_mut(peer) {
            if *w < index {
                *w = index;
            }
        }
    }

    // ANCHOR: commit_index
    /// `QuorumAckChecker`: the index a majority holds becomes committed, if the rule
    /// allows; waiting appends at or below it succeed, expired ones time out.
    fn check_quorum(&mut self, log: &mut dyn LogStore) {
        if self.role != Role::Leader {
            return;
        }
        let mut marks: Vec<i64> = self.watermarks.values().copied().collect();
        marks.sort_unstable_by(|a, b| b.cmp(a));
        let quorum_index = marks.get(marks.len() / 2).copied().unwrap_or(-1);
        if quorum_index > self.committed {
            let allowed = match self.cfg.commit_rule {
                CommitRule::AnyTerm => true,
                // Raft's rule: count replicas only for an entry of our own term.
                CommitRule::CurrentTerm => log
                    .get(quorum_index)
                    .map(|e| e.term == self.term)
                    .unwrap_or(false),
            };
            if allowed {
                self.set_committed(quorum_index, log);
            }
        }
        let term = self.term;
        let done: Vec<i64> = self
            .pending
            .range(..=self.committed)
            .map(|(i, _)| *i)
            .collect();
        for i in done {
            if let Some(p) = self.pending.remove(&i) {
                if let Some(req) = p.req {
                    self.out.effects.push(Effect::AppendResult {
                        req,
                        result: Ok(Appended {
                            index: i,
                            term,
                            pos: p.pos,
                        }),
                    });
                }
            }
        }
        let now = self.now;
        // Deadlines grow with the index (same timeout, appended in order).
        let expired: Vec<i64> = self
            .pending
            .iter()
            .take_while(|(_, p)| p.deadline <= now)
            .map(|(i, _)| *i)
            .collect();
        for i in expired {
            if let Some(p) = self.pending.remove(&i) {
                if let Some(req) = p.req {
                    self.out.effects.push(Effect::AppendResult {
                        req,
                        result: Err(AppendError {
                            code: ResponseCode::WaitQuorumAckTimeout,
                            leader: self.leader.clone(),
                        }),
                    });
                }
            }
        }
    }
    // ANCHOR_END: commit_index

    fn set_committed(&mut self, index: i64, log: &mut dyn LogStore) {
        if index > self.committed {
            self.committed = index;
            log.set_committed(index);
            self.out.effects.push(Effect::Committed { index });
        }
    }

    /// `updateCommittedIndex` on a follower: take the leader's committed index,
    /// capped at our own ledger end.
    fn follower_commit(&mut self, term: i64, index: i64, log: &mut dyn LogStore) {
        if index == -1 || log.end_index() == -1 || term < self.term || index <= self.committed {
            return;
        }
        if index < log.begin_index() {
            return;
        }
        self.set_committed(index.min(log.end_index()), log);
    }

    /// Runs every dispatcher and the quorum checker (leader) or the follower's
    /// out-of-order check.
    pub(super) fn pump(&mut self, log: &mut dyn LogStore) {
        match self.role {
            Role::Leader => {
                for peer in self.dispatchers.keys().cloned().collect::<Vec<_>>() {
                    self.run_dispatcher(&peer, log);
                }
                self.check_quorum(log);
            }
            Role::Follower => self.check_abnormal_pushes(log),
            Role::Candidate => {}
        }
    }

    fn run_dispatcher(&mut self, peer: &str, log: &mut dyn LogStore) {
        // A few passes so a state change (COMPARE → APPEND) takes effect at once.
        for _ in 0..3 {
            let Some(d) = self.dispatchers.get(peer) else {
                return;
            };
            match d.kind {
                PushType::Append => {
                    self.do_append(peer, log);
                    return;
                }
                PushType::Compare | PushType::Truncate => {
                    let Some(d) = self.dispatchers.get_mut(peer) else {
                        return;
                    };
                    if let Some((_, deadline)) = d.in_flight {
                        if self.now < deadline {
                            return;
                        }
                        // No answer in time: start the comparison over after a pause.
                        d.in_flight = None;
                        d.retry_at = self.now + self.cfg.push_retry_ms;
                    }
                    if self.now < d.retry_at {
                        return;
                    }
                    if !self.do_compare(peer, log) {
                        return;
                    }
                }
                PushType::Commit => return,
            }
        }
    }

    /// `changeState`.
    fn change_state(&mut self, peer: &str, index: i64, target: PushType) {
        let now = self.now;
        let Some(d) = self.dispatchers.get_mut(peer) else {
            return;
        };
        match target {
            PushType::Append => {
                d.compare_index = -1;
                d.write_index = index + 1;
                d.last_check_leak = now;
            }
            PushType::Compare => {
                if d.kind == PushType::Append {
                    d.compare_index = -1;
                    d.pending.clear();
                    d.mismatch_at = None;
                }
            }
            PushType::Truncate => d.compare_index = -1,
            PushType::Commit => {}
        }
        d.kind = target;
        if target == PushType::Append {
            self.update_watermark(peer, index);
        }
    }

    fn push_request(&self, kind: PushType, entry: Option<Entry>) -> Request {
        Request::Push(PushRequest {
            term: self.term,
            leader: self.cfg.self_id.clone(),
            kind,
            commit_index: self.committed,
            entry,
        })
    }

    fn send_push(&mut self, peer: &str, kind: PushType, entry: Option<Entry>) -> u64 {
        let req = self.push_request(kind, entry);
        let what = Outstanding::Push {
            peer: peer.to_string(),
            kind,
            term: self.term,
        };
        self.send_request(peer, req, what)
    }

    /// Sends the next COMPARE (or the pending TRUNCATE); false if nothing was sent.
    fn do_compare(&mut self, peer: &str, log: &mut dyn LogStore) -> bool {
        let (begin, end) = (log.begin_index(), log.end_index());
        let Some(d) = self.dispatchers.get_mut(peer) else {
            return false;
        };
        if d.compare_index == -1 && end == -1 {
            return false;
        }
        if d.compare_index == -1 || d.compare_index > end || d.compare_index < begin {
            d.compare_index = end;
        }
        let index = d.compare_index;
        let entry = match log.get(index) {
            Ok(e) => e,
            Err(_) => {
                if let Some(d) = self.dispatchers.get_mut(peer) {
                    d.retry_at = self.now + self.cfg.push_retry_ms;
                }
                return false;
            }
        };
        let id = self.send_push(peer, PushType::Compare, Some(entry));
        let deadline = self.now + self.cfg.push_wait_ms;
        if let Some(d) = self.dispatchers.get_mut(peer) {
            d.in_flight = Some((id, deadline));
        }
        false
    }

    // ANCHOR: compare_response
    fn on_compare_response(&mut self, peer: &str, resp: &PushResponse, log: &mut dyn LogStore) {
        let (begin, end) = (log.begin_index(), log.end_index());
        let now = self.now;
        let retry = self.cfg.push_retry_ms;
        let Some(d) = self.dispatchers.get_mut(peer) else {
            return;
        };
        let mut truncate_index = -1;
        match resp.code {
            ResponseCode::Success => {
                let k = d.compare_index;
                if k == resp.end_index {
                    // The follower ends exactly where we agree: stream from here.
                    self.change_state(peer, k, PushType::Append);
                    return;
                }
                if !self.cfg.compare_walk_forward
                    || resp.end_index < k
                    || k == end
                    || d.mismatch_at == Some(k + 1)
                {
                    // What follows k on the follower is not ours: cut it.
                    truncate_index = k;
                } else {
                    // Not in 0.2.2, which truncates here at once. APPENDs still in
                    // flight when the comparison started may have landed after k, and
                    // their acks already count toward the quorum: truncating them could
                    // leave a committed entry on a minority. Compare further up first.
                    d.compare_index = resp.end_index.min(end);
                    return;
                }
            }
            ResponseCode::InconsistentState => {
                if resp.begin_index <= d.compare_index && d.compare_index <= resp.end_index {
                    d.mismatch_at = Some(d.compare_index);
                }
                if resp.end_index < begin || resp.begin_index > end {
                    // No overlap at all.
                    truncate_index = begin;
                } else if d.compare_index < resp.begin_index {
                    truncate_index = begin;
                } else if d.compare_index > resp.end_index {
                    // Usual case: the follower is shorter, compare at its end.
                    d.compare_index = resp.end_index;
                } else {
                    d.compare_index -= 1;
                }
                if d.compare_index < begin {
                    truncate_index = begin;
                }
            }
            _ => {
                d.retry_at = now + retry;
                return;
            }
        }
        if truncate_index != -1 {
            self.change_state(peer, truncate_index, PushType::Truncate);
            let entry = match log.get(truncate_index) {
                Ok(e) => e,
                Err(_) => {
                    if let Some(d) = self.dispatchers.get_mut(peer) {
                        d.retry_at = now + retry;
                    }
                    return;
                }
            };
            let id = self.send_push(peer, PushType::Truncate, Some(entry));
            if let Some(d) = self.dispatchers.get_mut(peer) {
                d.truncate_index = truncate_index;
                d.in_flight = Some((id, now + self.cfg.push_wait_ms));
            }
        }
    }
    // ANCHOR_END: compare_response

    /// Streams APPEND pushes (`doAppend`).
    fn do_append(&mut self, peer: &str, log: &mut dyn LogStore) {
        loop {
            let now = self.now;
            let wm = self.watermarks.get(peer).copied().unwrap_or(-1);
            let max_pending = self.cfg.max_pending_push;
            let Some(d) = self.dispatchers.get_mut(peer) else {
                return;
            };
            if d.kind != PushType::Append {
                return;
            }
            if d.write_index > log.end_index() {
                self.do_commit(peer);
                self.do_check_append_response(peer, log);
                return;
            }
            if d.pending.len() >= max_pending || now.saturating_sub(d.last_check_leak) > 1000 {
                d.pending.retain(|i, _| *i >= wm);
                d.last_check_leak = now;
            }
            if d.pending.len() >= max_pending {
                self.do_check_append_response(peer, log);
                return;
            }
            let index = d.write_index;
            self.do_append_inner(peer, index, log);
            if let Some(d) = self.dispatchers.get_mut(peer) {
                d.write_index += 1;
            }
        }
    }

    fn do_append_inner(&mut self, peer: &str, index: i64, log: &mut dyn LogStore) {
        let entry = match log.get(index) {
            Ok(e) => e,
            Err(_) => {
                self.change_state(peer, -1, PushType::Compare);
                return;
            }
        };
        self.send_push(peer, PushType::Append, Some(entry));
        let now = self.now;
        if let Some(d) = self.dispatchers.get_mut(peer) {
            d.pending.insert(index, now);
            d.last_push_commit = now;
        }
    }

    fn do_commit(&mut self, peer: &str) {
        let now = self.now;
        let interval = self.cfg.commit_push_interval_ms;
        let Some(d) = self.dispatchers.get_mut(peer) else {
            return;
        };
        if now.saturating_sub(d.last_push_commit) > interval {
            d.last_push_commit = now;
            self.send_push(peer, PushType::Commit, None);
        }
    }

    /// Re-sends the first unacknowledged APPEND when it is overdue.
    fn do_check_append_response(&mut self, peer: &str, log: &mut dyn LogStore) {
        let wm = self.watermarks.get(peer).copied().unwrap_or(-1);
        let overdue = self
            .dispatchers
            .get(peer)
            .and_then(|d| d.pending.get(&(wm + 1)))
            .map(|sent| self.now.saturating_sub(*sent) > self.cfg.max_push_timeout_ms)
            .unwrap_or(false);
        if overdue {
            self.do_append_inner(peer, wm + 1, log);
            if let Some(d) = self.dispatchers.get_mut(peer) {
                d.resent = Some(wm + 1);
            }
        }
    }

    /// An answer to one of our pushes.
    pub(super) fn on_push_response(
        &mut self,
        peer: &str,
        id: u64,
        kind: PushType,
        term: i64,
        resp: PushResponse,
        log: &mut dyn LogStore,
    ) {
        if self.role != Role::Leader || term != self.term {
            return;
        }
        match kind {
            PushType::Append => match resp.code {
                ResponseCode::Success => {
                    let mut ahead = false;
                    let (now, timeout) = (self.now, self.cfg.max_push_timeout_ms);
                    if let Some(d) = self.dispatchers.get_mut(peer) {
                        d.pending.remove(&resp.index);
                        // Not in 0.2.2: a re-sent entry got through but more pushes are
                        // overdue, or the follower already holds more (it restarted, or
                        // answers were lost). Compare once and stream again instead of
                        // re-sending one entry per round trip all the way up.
                        let overdue = d
                            .pending
                            .values()
                            .any(|sent| now.saturating_sub(*sent) > timeout);
                        ahead = d.resent == Some(resp.index)
                            && (resp.end_index > resp.index || overdue);
                        if d.resent == Some(resp.index) {
                            d.resent = None;
                        }
                    }
                    if resp.term == self.term {
                        self.update_watermark(peer, resp.index);
                    }
                    if ahead {
                        self.change_state(peer, -1, PushType::Compare);
                    }
                    self.check_quorum(log);
                }
                ResponseCode::InconsistentState => self.change_state(peer, -1, PushType::Compare),
                _ => {}
            },
            PushType::Commit => {}
            PushType::Compare | PushType::Truncate => {
                let Some(d) = self.dispatchers.get_mut(peer) else {
                    return;
                };
                if d.in_flight.map(|(i, _)| i) != Some(id) {
                    return;
                }
                d.in_flight = None;
                if kind == PushType::Compare {
                    self.on_compare_response(peer, &resp, log);
                } else if resp.code == ResponseCode::Success {
                    let i = d.truncate_index;
                    self.change_state(peer, i, PushType::Append);
                    self.check_quorum(log);
                } else {
                    d.compare_index = -1;
                    d.mismatch_at = None;
                    d.retry_at = self.now + self.cfg.push_retry_ms;
                }
            }
        }
    }

    /// A push could not be delivered.
    pub(super) fn push_failed(&mut self, peer: &str, id: u64, kind: PushType, term: i64) {
        if self.role != Role::Leader || term != self.term {
            return;
        }
        if matches!(kind, PushType::Compare | PushType::Truncate) {
            let retry = self.now + self.cfg.push_retry_ms;
            if let Some(d) = self.dispatchers.get_mut(peer) {
                if d.in_flight.map(|(i, _)| i) == Some(id) {
                    d.in_flight = None;
                    d.compare_index = -1;
                    d.retry_at = retry;
                }
            }
        }
    }

    // ---------------------------------------------------------------- follower side

    fn push_reply(
        &self,
        req: &PushRequest,
        code: ResponseCode,
        log: &dyn LogStore,
    ) -> PushResponse {
        PushResponse {
            term: req.term,
            code,
            index: req.entry.as_ref().map(|e| e.index).unwrap_or(-1),
            begin_index: log.begin_index(),
            end_index: log.end_index(),
        }
    }

    fn answer_push(
        &mut self,
        to: &str,
        id: u64,
        req: &PushRequest,
        code: ResponseCode,
        log: &dyn LogStore,
    ) {
        let resp = self.push_reply(req, code, log);
        self.send_response(to, id, Response::Push(resp));
    }

    /// `EntryHandler.handlePush` and its worker loop.
    pub(super) fn handle_push(
        &mut self,
        from: NodeId,
        id: u64,
        req: PushRequest,
        log: &mut dyn LogStore,
    ) {
        if self.role != Role::Follower {
            return self.answer_push(&from, id, &req, ResponseCode::NotFollower, log);
        }
        if req.kind != PushType::Commit && req.entry.is_none() {
            return self.answer_push(&from, id, &req, ResponseCode::UnexpectedArgument, log);
        }
        match req.kind {
            PushType::Append => {
                let index = req.entry.as_ref().map(|e| e.index).unwrap_or(-1);
                if self.write_requests.contains_key(&index) {
                    return self.answer_push(&from, id, &req, ResponseCode::RepeatedPush, log);
                }
                let now = self.now;
                self.write_requests.insert(
                    index,
                    BufferedPush {
                        from,
                        id,
                        req,
                        received_at: now,
                    },
                );
                self.drain_write_requests(log);
            }
            PushType::Commit => {
                self.follower_commit(req.term, req.commit_index, log);
                self.answer_push(&from, id, &req, ResponseCode::Success, log);
            }
            PushType::Compare => {
                self.write_requests.clear();
                let code = match (&req.entry, req.entry.as_ref().map(|e| log.get(e.index))) {
                    (Some(e), Some(Ok(local))) if local.same_as(e) => ResponseCode::Success,
                    _ => ResponseCode::InconsistentState,
                };
                self.answer_push(&from, id, &req, code, log);
            }
            PushType::Truncate => {
                self.write_requests.clear();
                let code = self.handle_truncate(&req, log);
                self.answer_push(&from, id, &req, code, log);
            }
        }
    }

    // ANCHOR: truncate
    /// `handleDoTruncate`: only the current term's leader may cut our ledger.
    fn handle_truncate(&mut self, req: &PushRequest, log: &mut dyn LogStore) -> ResponseCode {
        let Some(entry) = &req.entry else {
            return ResponseCode::UnexpectedArgument;
        };
        if req.term != self.term || self.leader.as_deref() != Some(req.leader.as_str()) {
            return ResponseCode::InconsistentState;
        }
        match log.truncate(entry) {
            Ok(i) if i == entry.index => {
                self.follower_commit(req.term, req.commit_index, log);
                ResponseCode::Success
            }
            _ => ResponseCode::InconsistentState,
        }
    }
    // ANCHOR_END: truncate

    /// Applies buffered APPEND pushes in index order (`handleDoAppend`).
    fn drain_write_requests(&mut self, log: &mut dyn LogStore) {
        loop {
            let next = log.end_index() + 1;
            let Some(p) = self.write_requests.remove(&next) else {
                return;
            };
            let ok = p.req.term == self.term
                && self.leader.as_deref() == Some(p.req.leader.as_str())
                && p.req
                    .entry
                    .as_ref()
                    .map(|e| log.append_as_follower(e).is_ok())
                    .unwrap_or(false);
            if ok {
                self.answer_push(&p.from, p.id, &p.req, ResponseCode::Success, log);
                self.follower_commit(p.req.term, p.req.commit_index, log);
            } else {
                self.answer_push(&p.from, p.id, &p.req, ResponseCode::InconsistentState, log);
                return;
            }
        }
    }

    /// `checkAbnormalFuture`: answers pushes we already hold, and makes the leader
    /// compare again when the push we need never came.
    fn check_abnormal_pushes(&mut self, log: &mut dyn LogStore) {
        self.drain_write_requests(log);
        if self.now.saturating_sub(self.last_check_fast_forward) < self.cfg.follower_push_wait_ms {
            return;
        }
        self.last_check_fast_forward = self.now;
        let end = log.end_index();
        let behind: Vec<i64> = self.write_requests.range(..=end).map(|(i, _)| *i).collect();
        for i in behind {
            if let Some(p) = self.write_requests.remove(&i) {
                let same = match (p.req.entry.as_ref(), log.get(i)) {
                    (Some(e), Ok(local)) => local.same_as(e),
                    _ => false,
                };
                let code = if same {
                    ResponseCode::Success
                } else {
                    ResponseCode::InconsistentState
                };
                self.answer_push(&p.from, p.id, &p.req, code, log);
            }
        }
        if self.write_requests.contains_key(&(end + 1)) {
            return;
        }
        let wait = self.cfg.follower_push_wait_ms;
        let now = self.now;
        let first_late = self
            .write_requests
            .iter()
            .find(|(_, p)| now.saturating_sub(p.received_at) >= wait)
            .map(|(i, _)| *i);
        if let Some(i) = first_late {
            if let Some(p) = self.write_requests.remove(&i) {
                self.answer_push(&p.from, p.id, &p.req, ResponseCode::InconsistentState, log);
            }
        }
    }
}
