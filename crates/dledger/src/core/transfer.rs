//! Leadership transfer: a leader hands leadership to a chosen follower without waiting for
//! an election timeout, so a planned stop pauses writes for one vote round instead of a
//! failover.
//!
//! The leader side (`handleLeadershipTransfer`): check the transferee (a peer, not too far
//! behind), mark it as the transferee, which refuses new client appends with
//! LEADER_TRANSFERRING, wait until the transferee holds the whole ledger (our addition, at
//! most `transfer_catch_up_ms`), then send it a LEADERSHIP_TRANSFER request naming itself as
//! `transferId`. The transferee side (`handleTakeLeadership`): move to term + 1 at once, ask
//! for votes after a short pause (`minTakeLeadershipVoteIntervalMs..max`), and answer the
//! leader when its role settles: SUCCESS as leader of that term, TAKE_LEADERSHIP_FAILED as
//! follower, EXPIRED_TERM if a later term won. The old leader steps down when the
//! transferee's vote request of term + 1 reaches it.
//!
//! Book: Part IV "Breaking it on purpose" (graceful stop). Mirrors
//! `DLedgerServer.handleLeadershipTransfer`, `DLedgerLeaderElector.handleLeadershipTransfer`,
//! `handleTakeLeadership` and `TakeLeadershipTask` of DLedger 0.2.2.

use super::{Effect, LeadershipTransferRequest, LeadershipTransferResponse, Node, NodeId};
use super::{LogStore, Outstanding, Request, Response, Role};
use crate::codes::ResponseCode;

/// Who asked for a transfer and waits for its outcome.
#[derive(Debug, Clone)]
pub(super) enum Asker {
    /// A peer's LEADERSHIP_TRANSFER request: answer it with a response message.
    Peer { from: NodeId, id: u64 },
    /// The local API ([`Node::transfer_leadership`]): answer with [`Effect::TransferResult`].
    Local { req: u64 },
}

/// A transfer the leader is carrying out.
#[derive(Debug, Clone)]
pub(super) struct Transfer {
    asker: Asker,
    term: i64,
    transferee: NodeId,
    started: u64,
    /// The take-leadership request went out.
    sent: bool,
    /// The server has seen the door closed: appends it admitted before are counted in
    /// `queued_appends` from the next call on, not in the call that started the transfer.
    armed: bool,
}

impl Node {
    /// Asks this member, if it leads, to hand leadership to `transferee` (or, when `None`, to
    /// the follower whose ledger is the most complete). The outcome comes back as an
    /// [`Effect::TransferResult`] with `req`.
    pub fn transfer_leadership(
        &mut self,
        now: u64,
        req: u64,
        transferee: Option<&str>,
        log: &mut dyn LogStore,
    ) -> super::Output {
        self.advance(now);
        let target = match transferee {
            Some(t) => Some(t.to_string()),
            None => self.best_transferee(),
        };
        match target {
            Some(t) => {
                let term = self.term;
                self.start_transfer(Asker::Local { req }, term, t, log);
            }
            None => self.answer_transfer(Asker::Local { req }, self.refusal_without_transferee()),
        }
        self.pump(log);
        std::mem::take(&mut self.out)
    }

    fn refusal_without_transferee(&self) -> ResponseCode {
        if self.role != Role::Leader {
            ResponseCode::NotLeader
        } else {
            ResponseCode::UnknownMember
        }
    }

    /// The follower with the highest acknowledged index (the one that catches up soonest).
    fn best_transferee(&self) -> Option<NodeId> {
        if self.role != Role::Leader {
            return None;
        }
        self.watermarks
            .iter()
            .filter(|(id, _)| **id != self.cfg.self_id)
            .max_by_key(|(_, w)| **w)
            .map(|(id, _)| id.clone())
    }

    /// Whether this member is about to take leadership (its vote pause is short, and it
    /// refuses to vote for others with no longer ledger).
    pub(super) fn is_taking_leadership(&self) -> bool {
        self.cfg.preferred_leader_id.as_deref() == Some(self.cfg.self_id.as_str())
            || self.term_to_take_leadership == self.term
    }

    /// A LEADERSHIP_TRANSFER request from a peer: to us as the leader, or to us as the
    /// transferee.
    pub(super) fn on_transfer_request(
        &mut self,
        from: NodeId,
        id: u64,
        req: LeadershipTransferRequest,
        log: &mut dyn LogStore,
    ) {
        if req.transfer_id == self.cfg.self_id {
            self.start_transfer(Asker::Peer { from, id }, req.term, req.transferee_id, log);
        } else if req.transferee_id == self.cfg.self_id {
            self.take_leadership(from, id, req);
        } else {
            self.answer_transfer(Asker::Peer { from, id }, ResponseCode::UnexpectedArgument);
        }
    }

    // ANCHOR: start_transfer
    fn start_transfer(
        &mut self,
        asker: Asker,
        term: i64,
        transferee: NodeId,
        log: &mut dyn LogStore,
    ) {
        let refusal = if !self.is_peer(&transferee) || transferee == self.cfg.self_id {
            Some(ResponseCode::UnknownMember)
        } else if term != self.term {
            Some(ResponseCode::InconsistentTerm)
        } else if self.role != Role::Leader {
            Some(ResponseCode::NotLeader)
        } else if self.transferee.is_some() {
            Some(ResponseCode::LeaderTransferring)
        } else {
            let behind = log.end_index() - self.watermarks.get(&transferee).copied().unwrap_or(-1);
            (behind >= self.cfg.max_leadership_transfer_wait_index)
                .then_some(ResponseCode::FallBehindTooMuch)
        };
        if let Some(code) = refusal {
            return self.answer_transfer(asker, code);
        }
        self.transferee = Some(transferee.clone());
        self.transfer = Some(Transfer {
            asker,
            term,
            transferee,
            started: self.now,
            sent: false,
            armed: false,
        });
    }

    // ANCHOR_END: start_transfer

    /// When [`Self::drive_transfer`] gives up waiting: for the catch-up, or for the answer.
    pub(super) fn transfer_due(&self) -> Option<u64> {
        let t = self.transfer.as_ref()?;
        let mut wait = self.cfg.transfer_catch_up_ms;
        if t.sent {
            wait += self.cfg.vote_wait_ms + self.cfg.max_vote_interval_ms;
        }
        Some(t.started + wait + 1)
    }

    // ANCHOR: drive_transfer
    /// Leader side, run with the pusher: once the transferee holds the whole ledger (or the
    /// catch-up time is over), tell it to take leadership; give up when no answer comes.
    pub(super) fn drive_transfer(&mut self, log: &mut dyn LogStore) {
        let Some(t) = self.transfer.as_mut() else {
            return;
        };
        if !t.armed {
            t.armed = true;
            return;
        }
        let Some(t) = &self.transfer else { return };
        let waited = self.now.saturating_sub(t.started);
        if t.sent {
            let limit = self.cfg.transfer_catch_up_ms
                + self.cfg.vote_wait_ms
                + self.cfg.max_vote_interval_ms;
            if waited > limit {
                self.finish_transfer(ResponseCode::Timeout);
            }
            return;
        }
        if self.role != Role::Leader || self.term != t.term {
            return self.finish_transfer(ResponseCode::TermChanged);
        }
        let caught_up =
            self.watermarks.get(&t.transferee).copied().unwrap_or(-1) >= log.end_index();
        let settled = caught_up && self.queued_appends == 0;
        if !settled && waited < self.cfg.transfer_catch_up_ms {
            return;
        }
        let req = LeadershipTransferRequest {
            term: t.term,
            transfer_id: self.cfg.self_id.clone(),
            transferee_id: t.transferee.clone(),
            take_leadership_ledger_index: log.end_index(),
        };
        let to = t.transferee.clone();
        if let Some(t) = self.transfer.as_mut() {
            t.sent = true;
        }
        self.send_request(&to, Request::LeadershipTransfer(req), Outstanding::Transfer);
    }

    // ANCHOR_END: drive_transfer

    /// The transferee answered (or could not be reached: `NetworkError`).
    pub(super) fn on_transfer_response(&mut self, resp: LeadershipTransferResponse) {
        self.finish_transfer(resp.code);
    }

    pub(super) fn finish_transfer(&mut self, code: ResponseCode) {
        let Some(t) = self.transfer.take() else {
            return;
        };
        let still_leading = self.term == t.term && self.role == Role::Leader;
        if code == ResponseCode::Success && still_leading {
            // The transferee leads term + 1 and the vote that told us has not arrived: step
            // down now rather than at the next heartbeat answer.
            self.change_to_candidate(t.term + 1);
        } else if code != ResponseCode::Success || still_leading {
            // As 0.2.2: a failed transfer lets client appends in again.
            self.transferee = None;
        }
        self.answer_transfer(t.asker, code);
    }

    fn answer_transfer(&mut self, asker: Asker, code: ResponseCode) {
        match asker {
            Asker::Peer { from, id } => {
                let resp = LeadershipTransferResponse {
                    term: self.term,
                    code,
                };
                self.send_response(&from, id, Response::LeadershipTransfer(resp));
            }
            Asker::Local { req } => self.out.effects.push(Effect::TransferResult { req, code }),
        }
    }

    // ANCHOR: take_leadership
    /// Transferee side (`handleTakeLeadership`).
    fn take_leadership(&mut self, from: NodeId, id: u64, req: LeadershipTransferRequest) {
        if self.leader.as_deref() != Some(req.transfer_id.as_str()) {
            return self
                .answer_transfer(Asker::Peer { from, id }, ResponseCode::InconsistentLeader);
        }
        if req.term != self.term {
            return self.answer_transfer(Asker::Peer { from, id }, ResponseCode::InconsistentTerm);
        }
        let target = req.term + 1;
        self.term_to_take_leadership = target;
        self.take_leadership_reply = Some((from, id));
        self.change_to_candidate(target);
        self.need_increase_term = true;
    }
    // ANCHOR_END: take_leadership

    /// `TakeLeadershipTask.check`, after every role change: answer the old leader once the
    /// outcome of taking leadership is known.
    pub(super) fn check_take_leadership(&mut self) {
        if self.term_to_take_leadership < 0 || self.take_leadership_reply.is_none() {
            return;
        }
        let target = self.term_to_take_leadership;
        let code = if self.term > target {
            ResponseCode::ExpiredTerm
        } else {
            match (self.role, self.term == target) {
                (Role::Leader, true) => ResponseCode::Success,
                (Role::Follower, _) => ResponseCode::TakeLeadershipFailed,
                (Role::Candidate, _) => return,
                (Role::Leader, false) => ResponseCode::InternalError,
            }
        };
        self.term_to_take_leadership = -1;
        if let Some((from, id)) = self.take_leadership_reply.take() {
            self.answer_transfer(Asker::Peer { from, id }, code);
        }
    }
}
