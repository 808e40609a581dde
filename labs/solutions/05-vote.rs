//! Lab 5, reference solution. Built instead of src/lab.rs with `--features reference`.
//! Try the lab before reading this.

use crate::{Member, VoteRequest, VoteResponse, VoteResult};

impl Member {
    pub fn handle_vote(&mut self, request: &VoteRequest, is_self: bool) -> VoteResponse {
        let verdict = self.decide(request, is_self);
        VoteResponse {
            term: if verdict == VoteResult::RejectTermSmallThanLedger {
                self.ledger_end_term
            } else {
                self.curr_term
            },
            result: verdict,
        }
    }

    /// The checks in 0.2.2's order; the first that fails decides.
    fn decide(&mut self, req: &VoteRequest, is_self: bool) -> VoteResult {
        use VoteResult::*;
        let candidate = req.leader_id.as_str();
        if !self.is_peer_member(candidate) {
            return RejectUnknownLeader;
        }
        if !is_self && candidate == self.self_id {
            return RejectUnexpectedLeader;
        }
        // The ledger first: never vote for a candidate that could lack a committed entry.
        if req.ledger_end_term < self.ledger_end_term {
            return RejectExpiredLedgerTerm;
        }
        let same_ledger_term = req.ledger_end_term == self.ledger_end_term;
        if same_ledger_term && req.ledger_end_index < self.ledger_end_index {
            return RejectSmallLedgerEndIndex;
        }
        // Then the term.
        if req.term < self.curr_term {
            return RejectExpiredVoteTerm;
        }
        if req.term > self.curr_term {
            self.change_role_to_candidate(req.term);
            self.need_increase_term_immediately = true;
            return RejectTermNotReady;
        }
        let voted_for_other = self
            .curr_vote_for
            .as_deref()
            .is_some_and(|v| v != candidate);
        if voted_for_other {
            return if self.leader_id.is_some() {
                RejectAlreadyHasLeader
            } else {
                RejectAlreadyVoted
            };
        }
        if req.term < self.ledger_end_term {
            return RejectTermSmallThanLedger;
        }
        let my_ledger_not_behind =
            same_ledger_term && self.ledger_end_index >= req.ledger_end_index;
        if !is_self && self.taking_leadership && my_ledger_not_behind {
            return RejectTakingLeadership;
        }
        self.curr_vote_for = Some(candidate.to_string());
        Accept
    }
}
