//! Lab 5: the DLedger vote decision.
//!
//! A DLedger member answers a candidate's vote request with one of eleven results. The order
//! of the checks is the whole lesson: 0.2.2 compares the candidate's *ledger* (last entry's
//! term, then index) before it looks at the *term* of the request, and a request with a newer
//! term is refused as "not ready" while the voter steps down, instead of being granted at once
//! as in the Raft paper. This lab is that decision, `DLedgerLeaderElector.handleVote`.
//!
//! You edit `src/lab.rs`. The types below are given, named after the Java fields they stand
//! for. Book: Part IV, "DLedger: Raft inside a broker group" (book/src/part4/dledger.md,
//! section "Lab"). Grade with `make labs LAB=05`.

/// A member's role (`MemberState.Role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Candidate,
    Leader,
    Follower,
}

/// `VoteResponse.RESULT` of DLedger 0.2.2, as the brokers' Raft core names it; `name()` gives
/// the Java name the JSON body carries (`REJECT_ALREADY_VOTED`, ...).
pub use rmq_dledger::codes::VoteResult;

/// A candidate's request (`VoteRequest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteRequest {
    /// The term the candidate wants to lead.
    pub term: i64,
    /// The candidate's id (`leaderId` in the JSON body), e.g. `n1`.
    pub leader_id: String,
    /// Term of the candidate's last ledger entry (-1 for an empty ledger).
    pub ledger_end_term: i64,
    /// Index of the candidate's last ledger entry (-1 for an empty ledger).
    pub ledger_end_index: i64,
}

/// The voter's answer (`VoteResponse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteResponse {
    /// The term the voter reports back (its current term, except for one result).
    pub term: i64,
    /// The verdict.
    pub result: VoteResult,
}

/// What a voter knows when a request arrives: `MemberState` plus the two fields of
/// `DLedgerLeaderElector` that `handleVote` touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// This member's id (`selfId`).
    pub self_id: String,
    /// Every member of the group, this one included (`peerMap`).
    pub peers: Vec<String>,
    /// Current role.
    pub role: Role,
    /// Current term (`currTerm`), persisted in the `currterm` file.
    pub curr_term: i64,
    /// Whom this member voted for in `curr_term` (`currVoteFor`), persisted with it.
    pub curr_vote_for: Option<String>,
    /// The leader this member follows in `curr_term`, if it knows one (`leaderId`).
    pub leader_id: Option<String>,
    /// Term of this member's last ledger entry (-1 when empty).
    pub ledger_end_term: i64,
    /// Index of this member's last ledger entry (-1 when empty).
    pub ledger_end_index: i64,
    /// The highest term seen in the group (`knownMaxTermInGroup`); the next vote round adopts it.
    pub known_max_term_in_group: i64,
    /// Start a new vote round at once instead of waiting for the timer
    /// (`needIncreaseTermImmediately`).
    pub need_increase_term_immediately: bool,
    /// This member is taking over leadership (it is the preferred leader, or a leadership
    /// transfer named it for the current term): `isTakingLeadership()`.
    pub taking_leadership: bool,
}

impl Member {
    /// A member of `peers` in term 0 with an empty ledger, as a fresh start finds it.
    pub fn new(self_id: &str, peers: &[&str]) -> Member {
        Member {
            self_id: self_id.to_string(),
            peers: peers.iter().map(|p| p.to_string()).collect(),
            role: Role::Candidate,
            curr_term: 0,
            curr_vote_for: None,
            leader_id: None,
            ledger_end_term: -1,
            ledger_end_index: -1,
            known_max_term_in_group: -1,
            need_increase_term_immediately: false,
            taking_leadership: false,
        }
    }

    /// Whether `id` is one of the group's members (`isPeerMember`).
    pub fn is_peer_member(&self, id: &str) -> bool {
        self.peers.iter().any(|p| p == id)
    }

    /// Steps down to CANDIDATE because a newer `term` was seen (`changeRoleToCandidate`):
    /// remembers the term as the known maximum and forgets the leader. The current term does
    /// **not** change here; the member adopts the known maximum when it starts its next vote
    /// round (`MemberState.nextTerm`). A `term` below the current one is ignored.
    pub fn change_role_to_candidate(&mut self, term: i64) {
        if term < self.curr_term {
            return;
        }
        if term > self.known_max_term_in_group {
            self.known_max_term_in_group = term;
        }
        self.role = Role::Candidate;
        self.leader_id = None;
    }
}

#[cfg(not(feature = "reference"))]
mod lab;
#[cfg(feature = "reference")]
#[path = "../../solutions/05-vote.rs"]
mod lab;
