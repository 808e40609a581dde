//! Lab 5: your code goes here. Replace the `panic!` with your implementation.
//! Read labs/05-vote/README.md first; `make labs LAB=05` grades this file.

use crate::{Member, VoteRequest, VoteResponse};

impl Member {
    /// Answers `request` as DLedger 0.2.2's `DLedgerLeaderElector.handleVote` does, and
    /// changes this member's state the way that method does (the vote it records, or the
    /// step-down when the request carries a newer term). `is_self` is true when the member
    /// asks itself for its own vote at the start of a round.
    pub fn handle_vote(&mut self, request: &VoteRequest, is_self: bool) -> VoteResponse {
        // LAB 5.
        let _ = (request, is_self);
        panic!("lab not done yet: see book chapter Part IV \"DLedger: Raft inside a broker group\", section Lab (book/src/part4/dledger.md#lab) and labs/05-vote/README.md");
    }
}
