//! The messages DLedger peers exchange, as plain data for the Raft core.
//!
//! Every request gets an `id` from its sender; the answer echoes it, so the core
//! can match answers to the vote round, heartbeat round or push that asked. A
//! transport maps these ids to its own correlation (remoting `opaque`). The fields are
//! those of DLedger's JSON bodies; `rpc::wire` converts them.
//! Book: Part IV "Cluster modes and DLedger". Mirrors `protocol/VoteRequest.java`,
//! `VoteResponse.java`, `HeartBeatRequest.java`, `HeartBeatResponse.java`,
//! `PushEntryRequest.java`, `PushEntryResponse.java`, `LeadershipTransferRequest.java` and
//! `LeadershipTransferResponse.java` of DLedger 0.2.2.

use crate::codes::{ResponseCode, VoteResult};
use crate::entry::Entry;

/// A peer id such as `n0`.
pub type NodeId = String;

/// `PushEntryRequest.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PushType {
    /// Carries one new entry.
    Append,
    /// Carries only the leader's committed index.
    Commit,
    /// Asks whether the follower holds the same entry, to find where the logs agree.
    Compare,
    /// Tells the follower to drop everything after the entry it carries.
    Truncate,
}

impl PushType {
    /// The Java enum name.
    pub fn name(self) -> &'static str {
        match self {
            PushType::Append => "APPEND",
            PushType::Commit => "COMMIT",
            PushType::Compare => "COMPARE",
            PushType::Truncate => "TRUNCATE",
        }
    }

    /// Parses a Java enum name.
    pub fn from_name(s: &str) -> Option<PushType> {
        match s {
            "APPEND" => Some(PushType::Append),
            "COMMIT" => Some(PushType::Commit),
            "COMPARE" => Some(PushType::Compare),
            "TRUNCATE" => Some(PushType::Truncate),
            _ => None,
        }
    }
}

/// A candidate asks for a vote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteRequest {
    /// The candidate's term.
    pub term: i64,
    /// The candidate (`leaderId` in the JSON body).
    pub candidate: NodeId,
    /// Index of the candidate's last entry (`ledgerEndIndex`).
    pub ledger_end_index: i64,
    /// Term of the candidate's last entry (`ledgerEndTerm`).
    pub ledger_end_term: i64,
}

/// The voter's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteResponse {
    /// The voter's term.
    pub term: i64,
    /// The vote, or why it is refused (`voteResult`).
    pub result: VoteResult,
}

/// A leader's heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartBeatRequest {
    /// The leader's term.
    pub term: i64,
    /// The leader (`leaderId`).
    pub leader: NodeId,
}

/// The answer to a heartbeat; `code` carries the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartBeatResponse {
    /// The follower's term.
    pub term: i64,
    /// SUCCESS, or why the follower does not accept the leader.
    pub code: ResponseCode,
}

/// A push from the leader to one follower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRequest {
    /// The leader's term.
    pub term: i64,
    /// The leader (`leaderId`).
    pub leader: NodeId,
    /// What the push asks for (`type`).
    pub kind: PushType,
    /// The leader's committed index (`commitIndex`).
    pub commit_index: i64,
    /// The entry of a single push; absent for COMMIT and for a batch APPEND.
    pub entry: Option<Entry>,
    /// The consecutive entries of a batch APPEND (`batchEntry`, sent when the leader runs
    /// with `enableBatchPush`); empty otherwise.
    pub batch: Vec<Entry>,
}

impl PushRequest {
    /// The entries this push carries, in index order.
    pub fn entries(&self) -> &[Entry] {
        match &self.entry {
            Some(e) => std::slice::from_ref(e),
            None => &self.batch,
        }
    }

    /// Index of the first entry carried, -1 for none.
    pub fn first_index(&self) -> i64 {
        self.entries().first().map_or(-1, |e| e.index)
    }

    /// Index of the last entry carried, -1 for none: what the follower's answer names
    /// (0.2.2 `buildBatchAppendResponse` answers a batch with its last index).
    pub fn last_index(&self) -> i64 {
        self.entries().last().map_or(-1, |e| e.index)
    }
}

/// The follower's answer to a push: its verdict and its ledger range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushResponse {
    /// The follower's term.
    pub term: i64,
    /// SUCCESS, or why the push failed.
    pub code: ResponseCode,
    /// Index of the pushed entry (-1 for COMMIT).
    pub index: i64,
    /// The follower's first index (`beginIndex`).
    pub begin_index: i64,
    /// The follower's last index (`endIndex`).
    pub end_index: i64,
}

/// Leadership transfer (`LeadershipTransferRequest`). Sent to the leader it asks it to hand
/// leadership to `transferee_id`; the leader then sends the same body to the transferee,
/// which takes leadership in the next term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadershipTransferRequest {
    /// The leader's term.
    pub term: i64,
    /// The member that hands leadership over, the leader (`transferId`).
    pub transfer_id: NodeId,
    /// The member that should lead next (`transfereeId`).
    pub transferee_id: NodeId,
    /// The leader's last index when it asked (`takeLeadershipLedgerIndex`).
    pub take_leadership_ledger_index: i64,
}

/// The answer to a leadership transfer (`LeadershipTransferResponse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadershipTransferResponse {
    /// The answering member's term.
    pub term: i64,
    /// SUCCESS once the transferee leads, or why not.
    pub code: ResponseCode,
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `VoteRequest`.
    Vote(VoteRequest),
    /// `HeartBeatRequest`.
    HeartBeat(HeartBeatRequest),
    /// `PushEntryRequest`.
    Push(PushRequest),
    /// `LeadershipTransferRequest`.
    LeadershipTransfer(LeadershipTransferRequest),
}

/// A response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `VoteResponse`.
    Vote(VoteResponse),
    /// `HeartBeatResponse`.
    HeartBeat(HeartBeatResponse),
    /// `PushEntryResponse`.
    Push(PushResponse),
    /// `LeadershipTransferResponse`.
    LeadershipTransfer(LeadershipTransferResponse),
}

/// A request or the answer to one, with its correlation id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rpc {
    /// A request.
    Request {
        /// The sender's id for it, echoed by the answer.
        id: u64,
        /// The request body.
        req: Request,
    },
    /// An answer.
    Response {
        /// The id of the request it answers.
        id: u64,
        /// The answer body.
        resp: Response,
    },
}

/// A message between two peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// The request or answer.
    pub rpc: Rpc,
}
