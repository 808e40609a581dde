//! The messages DLedger peers exchange, as plain data for the Raft core.
//!
//! Every request gets an `id` from its sender; the answer echoes it, so the core
//! can match answers to the vote round, heartbeat round or push that asked. A
//! transport maps these ids to its own correlation (remoting `opaque`). The fields are
//! those of DLedger's JSON bodies; `rpc::wire` converts them.
//! Book: Part IV "Cluster modes and DLedger". Mirrors `protocol/VoteRequest.java`,
//! `VoteResponse.java`, `HeartBeatRequest.java`, `HeartBeatResponse.java`,
//! `PushEntryRequest.java` and `PushEntryResponse.java` of DLedger 0.2.2.

use crate::codes::{ResponseCode, VoteResult};
use crate::entry::Entry;

/// A peer id such as `n0`.
pub type NodeId = String;

/// `PushEntryRequest.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PushType {
    Append,
    Commit,
    Compare,
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
    pub term: i64,
    /// The candidate (`leaderId` in the JSON body).
    pub candidate: NodeId,
    pub ledger_end_index: i64,
    pub ledger_end_term: i64,
}

/// The voter's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteResponse {
    pub term: i64,
    pub result: VoteResult,
}

/// A leader's heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartBeatRequest {
    pub term: i64,
    pub leader: NodeId,
}

/// The answer to a heartbeat; `code` carries the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartBeatResponse {
    pub term: i64,
    pub code: ResponseCode,
}

/// A push from the leader to one follower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRequest {
    pub term: i64,
    pub leader: NodeId,
    pub kind: PushType,
    pub commit_index: i64,
    /// Absent only for COMMIT.
    pub entry: Option<Entry>,
}

/// The follower's answer to a push: its verdict and its ledger range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushResponse {
    pub term: i64,
    pub code: ResponseCode,
    /// Index of the pushed entry (-1 for COMMIT).
    pub index: i64,
    pub begin_index: i64,
    pub end_index: i64,
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Vote(VoteRequest),
    HeartBeat(HeartBeatRequest),
    Push(PushRequest),
}

/// A response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Vote(VoteResponse),
    HeartBeat(HeartBeatResponse),
    Push(PushResponse),
}

/// A request or the answer to one, with its correlation id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rpc {
    Request { id: u64, req: Request },
    Response { id: u64, resp: Response },
}

/// A message between two peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub from: NodeId,
    pub to: NodeId,
    pub rpc: Rpc,
}
