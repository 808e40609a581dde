//! Leader election as DLedger 0.2.2 does it: vote handling, vote rounds with their
//! parse results, heartbeats, and the per-role maintenance a timer drives.
//!
//! DLedger's term moves in an unusual way: seeing a higher term (in a vote request or
//! a heartbeat) only makes a member a CANDIDATE and records the term as "known max";
//! the member adopts it at its next round (`nextTerm`). A vote is checked against the
//! candidate's ledger *before* its term, so a stale candidate cannot push terms up.
//! Book: Part IV "Cluster modes and DLedger" (election). Mirrors
//! `DLedgerLeaderElector.java` and `MemberState.java` of DLedger 0.2.2.

use super::*;
use crate::codes::VoteResult;

/// An open vote round (the latch and counters of `maintainAsCandidate`).
#[derive(Debug, Clone)]
pub(super) struct VoteRound {
    id: u64,
    term: i64,
    deadline: u64,
    all: usize,
    valid: usize,
    accepted: usize,
    not_ready: usize,
    bigger_ledger: usize,
    already_has_leader: bool,
    known_max_term: i64,
}

/// An open heartbeat round (the latch and counters of `sendHeartbeats`).
#[derive(Debug, Clone)]
pub(super) struct HeartBeatRound {
    id: u64,
    term: i64,
    deadline: u64,
    all: usize,
    succ: usize,
    not_ready: usize,
    max_term: i64,
    inconsistent_leader: bool,
}

impl Node {
    // ANCHOR: handle_vote
    /// Answers a vote request (`handleVote`); `is_self` for the candidate's own vote.
    pub(super) fn handle_vote(
        &mut self,
        req: &VoteRequest,
        is_self: bool,
        log: &dyn LogStore,
    ) -> VoteResponse {
        let reply = |term: i64, result: VoteResult| VoteResponse { term, result };
        if !self.is_peer(&req.candidate) {
            return reply(self.term, VoteResult::RejectUnknownLeader);
        }
        if !is_self && req.candidate == self.cfg.self_id {
            return reply(self.term, VoteResult::RejectUnexpectedLeader);
        }
        // Leader completeness: the candidate's ledger must be at least as new as ours.
        let (my_end_term, my_end_index) = (log.end_term(), log.end_index());
        if req.ledger_end_term < my_end_term {
            return reply(self.term, VoteResult::RejectExpiredLedgerTerm);
        }
        if req.ledger_end_term == my_end_term && req.ledger_end_index < my_end_index {
            return reply(self.term, VoteResult::RejectSmallLedgerEndIndex);
        }
        if req.term < self.term {
            return reply(self.term, VoteResult::RejectExpiredVoteTerm);
        } else if req.term == self.term {
            match &self.vote_for {
                None => {}
                Some(v) if *v == req.candidate => {}
                Some(_) => {
                    return if self.leader.is_some() {
                        reply(self.term, VoteResult::RejectAlreadyHasLeader)
                    } else {
                        reply(self.term, VoteResult::RejectAlreadyVoted)
                    };
                }
            }
        } else {
            // A newer term: step down and adopt it at our next round; the candidate
            // asks again once we are ready.
            self.change_to_candidate(req.term);
            self.need_increase_term = true;
            return reply(self.term, VoteResult::RejectTermNotReady);
        }
        if req.term < my_end_term {
            return reply(my_end_term, VoteResult::RejectTermSmallThanLedger);
        }
        if !is_self
            && self.is_taking_leadership()
            && req.ledger_end_term == my_end_term
            && my_end_index >= req.ledger_end_index
        {
            return reply(self.term, VoteResult::RejectTakingLeadership);
        }
        self.vote_for = Some(req.candidate.clone());
        self.persist();
        reply(self.term, VoteResult::Accept)
    }
    // ANCHOR_END: handle_vote

    // ANCHOR: handle_heartbeat
    /// Answers a leader's heartbeat (`handleHeartBeat`).
    pub(super) fn handle_heartbeat(&mut self, req: &HeartBeatRequest) -> HeartBeatResponse {
        let reply = |term: i64, code: ResponseCode| HeartBeatResponse { term, code };
        if !self.is_peer(&req.leader) {
            return reply(self.term, ResponseCode::UnknownMember);
        }
        if req.leader == self.cfg.self_id {
            return reply(self.term, ResponseCode::UnexpectedMember);
        }
        if req.term < self.term {
            reply(self.term, ResponseCode::ExpiredTerm)
        } else if req.term == self.term {
            match &self.leader {
                None => {
                    self.change_to_follower(req.term, req.leader.clone());
                    reply(self.term, ResponseCode::Success)
                }
                Some(l) if *l == req.leader => {
                    self.last_leader_heartbeat = self.now;
                    reply(self.term, ResponseCode::Success)
                }
                Some(_) => reply(self.term, ResponseCode::InconsistentLeader),
            }
        } else {
            // Newer term: become candidate first, follow on the next heartbeat.
            self.change_to_candidate(req.term);
            self.need_increase_term = true;
            reply(self.term, ResponseCode::TermNotReady)
        }
    }
    // ANCHOR_END: handle_heartbeat

    /// `changeRoleToCandidate`: only remembers a higher term; `nextTerm` adopts it.
    pub(super) fn change_to_candidate(&mut self, term: i64) {
        if term < self.term {
            return;
        }
        if term > self.known_max_term {
            self.known_max_term = term;
        }
        self.set_role(Role::Candidate, None);
    }

    fn change_to_follower(&mut self, term: i64, leader: NodeId) {
        if term != self.term {
            return;
        }
        self.last_parse = ParseResult::WaitToRevote;
        self.last_leader_heartbeat = self.now;
        self.set_role(Role::Follower, Some(leader));
    }

    fn change_to_leader(&mut self, term: i64, log: &mut dyn LogStore) {
        if term != self.term || self.role != Role::Candidate {
            return;
        }
        self.last_send_heartbeat = None;
        self.last_succ_heartbeat = self.now;
        let me = self.cfg.self_id.clone();
        self.set_role(Role::Leader, Some(me));
        self.become_leader_pusher(log);
    }

    /// `MemberState.nextTerm`: adopt the known max term or add one; forget the vote.
    fn next_term(&mut self) -> i64 {
        if self.known_max_term > self.term {
            self.term = self.known_max_term;
        } else {
            self.term += 1;
        }
        self.vote_for = None;
        self.persist();
        self.term
    }

    fn next_vote_delay(&mut self) -> u64 {
        if self.is_taking_leadership() {
            let (lo, hi) = (
                self.cfg.min_take_leadership_vote_interval_ms,
                self.cfg.max_take_leadership_vote_interval_ms,
            );
            return lo + self.rng.below(hi.saturating_sub(lo));
        }
        let span = self
            .cfg
            .max_vote_interval_ms
            .saturating_sub(self.cfg.min_vote_interval_ms);
        self.cfg.min_vote_interval_ms + self.rng.below(span)
    }

    /// The state maintainer's work for the current role.
    pub(super) fn maintain(&mut self, log: &mut dyn LogStore) {
        match self.role {
            Role::Leader => self.maintain_as_leader(log),
            Role::Follower => self.maintain_as_follower(),
            Role::Candidate => self.maintain_as_candidate(log),
        }
    }

    /// When [`Self::maintain`] next has something to do: the leader's next heartbeat (or the
    /// end of the current round), a follower's heartbeat timeout, a candidate's next vote
    /// round (or the end of the current one). The driver sleeps until then.
    pub(super) fn elector_due(&self) -> u64 {
        match self.role {
            Role::Leader => match (&self.hb_round, self.last_send_heartbeat) {
                (Some(r), _) => r.deadline,
                (None, Some(t)) => t + self.cfg.heartbeat_interval_ms + 1,
                (None, None) => self.now,
            },
            Role::Follower => {
                self.last_leader_heartbeat
                    + self.cfg.max_heartbeat_leak * self.cfg.heartbeat_interval_ms
                    + 1
            }
            Role::Candidate => match &self.vote_round {
                Some(r) => r.deadline,
                None if self.need_increase_term => self.now,
                None => self.next_vote_time,
            },
        }
    }

    // ANCHOR: leader_loss
    fn maintain_as_follower(&mut self) {
        let limit = self.cfg.max_heartbeat_leak * self.cfg.heartbeat_interval_ms;
        if self.now.saturating_sub(self.last_leader_heartbeat) > limit {
            self.change_to_candidate(self.term);
            if self.cfg.fresh_term_on_leader_loss {
                // Everyone voted for the lost leader in this term: ask in the next one, after
                // a random pause so two followers that lost it together do not split the vote.
                self.last_parse = ParseResult::WaitToVoteNext;
                self.next_vote_time = self.now + self.next_vote_delay();
            }
        }
    }
    // ANCHOR_END: leader_loss

    fn maintain_as_leader(&mut self, log: &mut dyn LogStore) {
        if let Some(r) = &self.hb_round {
            if self.now >= r.deadline {
                self.resolve_heartbeat_round(log);
            }
            return;
        }
        let due = match self.last_send_heartbeat {
            None => true,
            Some(t) => self.now.saturating_sub(t) > self.cfg.heartbeat_interval_ms,
        };
        if !due {
            return;
        }
        self.last_send_heartbeat = Some(self.now);
        self.round_seq += 1;
        let round = self.round_seq;
        let term = self.term;
        self.hb_round = Some(HeartBeatRound {
            id: round,
            term,
            deadline: self.now + self.cfg.heartbeat_interval_ms,
            all: 1,
            succ: 1,
            not_ready: 0,
            max_term: -1,
            inconsistent_leader: false,
        });
        let leader = self.cfg.self_id.clone();
        for p in self.other_peers() {
            let req = Request::HeartBeat(HeartBeatRequest {
                term,
                leader: leader.clone(),
            });
            self.send_request(&p, req, Outstanding::HeartBeat { round });
        }
        self.check_heartbeat_latch(log);
    }

    pub(super) fn on_heartbeat_response(
        &mut self,
        round: u64,
        _from: &str,
        resp: HeartBeatResponse,
        log: &mut dyn LogStore,
    ) {
        // Later DLedger releases (0.4) step down at once when a member reports a
        // newer term; 0.2.2 ignores it while a quorum answers, which can leave a
        // member with a newer term but an older ledger outside the group for good.
        if self.cfg.step_down_on_newer_term
            && resp.code == ResponseCode::ExpiredTerm
            && resp.term > self.term
            && self.role == Role::Leader
        {
            self.change_to_candidate(resp.term);
            return;
        }
        let Some(r) = self.hb_round.as_mut().filter(|r| r.id == round) else {
            return;
        };
        match resp.code {
            ResponseCode::Success => r.succ += 1,
            ResponseCode::ExpiredTerm => r.max_term = r.max_term.max(resp.term),
            ResponseCode::InconsistentLeader => r.inconsistent_leader = true,
            ResponseCode::TermNotReady => r.not_ready += 1,
            _ => {}
        }
        r.all += 1;
        self.check_heartbeat_latch(log);
    }

    pub(super) fn heartbeat_failed(&mut self, round: u64, _peer: &str, log: &mut dyn LogStore) {
        if let Some(r) = self.hb_round.as_mut().filter(|r| r.id == round) {
            r.all += 1;
            self.check_heartbeat_latch(log);
        }
    }

    fn check_heartbeat_latch(&mut self, log: &mut dyn LogStore) {
        let Some(r) = &self.hb_round else { return };
        if self.is_quorum(r.succ)
            || self.is_quorum(r.succ + r.not_ready)
            || r.all >= self.cfg.peers.len()
        {
            self.resolve_heartbeat_round(log);
        }
    }

    fn resolve_heartbeat_round(&mut self, _log: &mut dyn LogStore) {
        let Some(r) = self.hb_round.take() else {
            return;
        };
        if self.role != Role::Leader || r.term != self.term {
            return;
        }
        if self.is_quorum(r.succ) {
            self.last_succ_heartbeat = self.now;
            return;
        }
        let leak = self.cfg.max_heartbeat_leak * self.cfg.heartbeat_interval_ms;
        if self.is_quorum(r.succ + r.not_ready) {
            // Some followers are catching up to our term: beat again at once.
            self.last_send_heartbeat = None;
        } else if r.max_term > r.term {
            self.change_to_candidate(r.max_term);
        } else if r.inconsistent_leader {
            self.change_to_candidate(r.term);
        } else if self.now.saturating_sub(self.last_succ_heartbeat) > leak {
            // No quorum for maxHeartBeatLeak intervals: step down.
            self.change_to_candidate(r.term);
        }
    }

    fn maintain_as_candidate(&mut self, log: &mut dyn LogStore) {
        if let Some(r) = &self.vote_round {
            if self.now >= r.deadline {
                self.resolve_vote_round(log);
            }
            return;
        }
        if self.now < self.next_vote_time && !self.need_increase_term {
            return;
        }
        let term = if self.last_parse == ParseResult::WaitToVoteNext || self.need_increase_term {
            self.last_parse = ParseResult::WaitToRevote;
            self.next_term()
        } else {
            self.term
        };
        if self.need_increase_term {
            self.next_vote_time = self.now + self.next_vote_delay();
            self.need_increase_term = false;
            return;
        }
        self.round_seq += 1;
        let round = self.round_seq;
        let wait = self.cfg.vote_wait_ms + self.rng.below(self.cfg.max_vote_interval_ms);
        self.vote_round = Some(VoteRound {
            id: round,
            term,
            deadline: self.now + wait,
            all: 0,
            valid: 0,
            accepted: 0,
            not_ready: 0,
            bigger_ledger: 0,
            already_has_leader: false,
            known_max_term: term,
        });
        let req = VoteRequest {
            term,
            candidate: self.cfg.self_id.clone(),
            ledger_end_index: log.end_index(),
            ledger_end_term: log.end_term(),
        };
        for p in self.other_peers() {
            self.send_request(&p, Request::Vote(req.clone()), Outstanding::Vote { round });
        }
        let own = self.handle_vote(&req, true, log);
        self.on_vote_response(round, own, log);
    }

    pub(super) fn on_vote_response(
        &mut self,
        round: u64,
        resp: VoteResponse,
        log: &mut dyn LogStore,
    ) {
        let Some(r) = self.vote_round.as_mut().filter(|r| r.id == round) else {
            return;
        };
        // A voter accepts in the term it was asked about; an ACCEPT of another term answers
        // some other round.
        if resp.result == VoteResult::Accept && resp.term != r.term {
            return;
        }
        if resp.result != VoteResult::Unknown {
            r.valid += 1;
        }
        match resp.result {
            VoteResult::Accept => r.accepted += 1,
            VoteResult::RejectAlreadyHasLeader => r.already_has_leader = true,
            VoteResult::RejectTermSmallThanLedger | VoteResult::RejectExpiredVoteTerm => {
                r.known_max_term = r.known_max_term.max(resp.term)
            }
            VoteResult::RejectExpiredLedgerTerm | VoteResult::RejectSmallLedgerEndIndex => {
                r.bigger_ledger += 1
            }
            VoteResult::RejectTermNotReady => r.not_ready += 1,
            _ => {}
        }
        r.all += 1;
        self.check_vote_latch(log);
    }

    pub(super) fn vote_failed(&mut self, round: u64, log: &mut dyn LogStore) {
        if let Some(r) = self.vote_round.as_mut().filter(|r| r.id == round) {
            r.all += 1;
            self.check_vote_latch(log);
        }
    }

    fn check_vote_latch(&mut self, log: &mut dyn LogStore) {
        let Some(r) = &self.vote_round else { return };
        if r.already_has_leader
            || self.is_quorum(r.accepted)
            || self.is_quorum(r.accepted + r.not_ready)
            || r.all >= self.cfg.peers.len()
        {
            self.resolve_vote_round(log);
        }
    }

    // ANCHOR: vote_parse
    fn resolve_vote_round(&mut self, log: &mut dyn LogStore) {
        let Some(r) = self.vote_round.take() else {
            return;
        };
        if self.role != Role::Candidate {
            return;
        }
        let leak = self.cfg.heartbeat_interval_ms * self.cfg.max_heartbeat_leak;
        let parse = if r.known_max_term > r.term {
            self.next_vote_time = self.now + self.next_vote_delay();
            self.change_to_candidate(r.known_max_term);
            ParseResult::WaitToVoteNext
        } else if r.already_has_leader {
            self.next_vote_time = self.now + self.next_vote_delay() + leak;
            ParseResult::WaitToRevote
        } else if !self.is_quorum(r.valid) {
            self.next_vote_time = self.now + self.next_vote_delay();
            ParseResult::WaitToRevote
        } else if !self.is_quorum(r.valid.saturating_sub(r.bigger_ledger)) {
            self.next_vote_time = self.now + self.next_vote_delay() + self.cfg.max_vote_interval_ms;
            ParseResult::WaitToRevote
        } else if self.is_quorum(r.accepted) {
            ParseResult::Passed
        } else if self.is_quorum(r.accepted + r.not_ready) {
            ParseResult::RevoteImmediately
        } else {
            self.next_vote_time = self.now + self.next_vote_delay();
            ParseResult::WaitToVoteNext
        };
        self.last_parse = parse;
        if parse == ParseResult::Passed {
            self.change_to_leader(r.term, log);
        }
    }
    // ANCHOR_END: vote_parse
}
