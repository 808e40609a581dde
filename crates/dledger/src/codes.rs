//! DLedger's result codes and vote results, with their 0.2.2 numbers and names.
//!
//! Every DLedger RPC answer carries a `code` (200 = success) inside its JSON body, and
//! vote answers carry a `voteResult` name. The Raft core uses the same vocabulary so a
//! log line or a captured frame reads the same in Rust and in Java.
//! Book: Part IV "Cluster modes and DLedger". Mirrors `protocol/DLedgerResponseCode.java`
//! and `VoteResponse.RESULT` of DLedger 0.2.2.

use std::fmt;

/// `DLedgerResponseCode` (the `code` field of every response body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseCode {
    /// `UNKNOWN` (-1): a code this side does not know.
    Unknown,
    /// `SUCCESS` (200): the request succeeded.
    Success,
    /// `TIMEOUT` (300): no answer in time.
    Timeout,
    /// `METADATA_ERROR` (301): the client does not know the group's leader.
    MetadataError,
    /// `NETWORK_ERROR` (302): the peer could not be reached.
    NetworkError,
    /// `UNSUPPORTED` (303): the request type is not served.
    Unsupported,
    /// `UNKNOWN_GROUP` (400): the request names another group.
    UnknownGroup,
    /// `UNKNOWN_MEMBER` (401): the request names a member not in the group.
    UnknownMember,
    /// `UNEXPECTED_MEMBER` (402): the request names the wrong member.
    UnexpectedMember,
    /// `EXPIRED_TERM` (403): the sender's term is older than the receiver's.
    ExpiredTerm,
    /// `NOT_LEADER` (404): the receiver is not the leader.
    NotLeader,
    /// `NOT_FOLLOWER` (405): the receiver is not a follower.
    NotFollower,
    /// `INCONSISTENT_STATE` (406): the receiver's role or term does not allow the request.
    InconsistentState,
    /// `INCONSISTENT_TERM` (407): the terms of sender and receiver differ.
    InconsistentTerm,
    /// `INCONSISTENT_INDEX` (408): the entry index is not the one expected.
    InconsistentIndex,
    /// `INCONSISTENT_LEADER` (409): the sender is not the leader the receiver knows.
    InconsistentLeader,
    /// `INDEX_OUT_OF_RANGE` (410): the index is outside the log.
    IndexOutOfRange,
    /// `UNEXPECTED_ARGUMENT` (411): a request field is invalid.
    UnexpectedArgument,
    /// `REPEATED_REQUEST` (412): the request was already received.
    RepeatedRequest,
    /// `REPEATED_PUSH` (413): the push was already received.
    RepeatedPush,
    /// `DISK_ERROR` (414): writing the log failed.
    DiskError,
    /// `DISK_FULL` (415): the disk is too full to append.
    DiskFull,
    /// `TERM_NOT_READY` (416): the receiver is still changing term.
    TermNotReady,
    /// `FALL_BEHIND_TOO_MUCH` (417): a follower is too far behind to take part.
    FallBehindTooMuch,
    /// `TAKE_LEADERSHIP_FAILED` (418): a leadership transfer did not complete.
    TakeLeadershipFailed,
    /// `INDEX_LESS_THAN_LOCAL_BEGIN` (419): the index is before the first entry kept.
    IndexLessThanLocalBegin,
    /// `REQUEST_WITH_EMPTY_BODYS` (420): a batch request has no bodies.
    RequestWithEmptyBodys,
    /// `INTERNAL_ERROR` (500): an unexpected failure.
    InternalError,
    /// `TERM_CHANGED` (501): the term changed while the request was handled.
    TermChanged,
    /// `WAIT_QUORUM_ACK_TIMEOUT` (502): a majority did not acknowledge the append in time.
    WaitQuorumAckTimeout,
    /// `LEADER_PENDING_FULL` (503): the leader has too many appends waiting for a quorum.
    LeaderPendingFull,
    /// `ILLEGAL_MEMBER_STATE` (504): the member's state does not allow the operation.
    IllegalMemberState,
    /// `LEADER_NOT_READY` (505): the new leader has not finished taking over.
    LeaderNotReady,
    /// `LEADER_TRANSFERRING` (506): the leader is handing leadership over.
    LeaderTransferring,
}

const TABLE: &[(ResponseCode, i32, &str)] = &[
    (ResponseCode::Unknown, -1, "UNKNOWN"),
    (ResponseCode::Success, 200, "SUCCESS"),
    (ResponseCode::Timeout, 300, "TIMEOUT"),
    (ResponseCode::MetadataError, 301, "METADATA_ERROR"),
    (ResponseCode::NetworkError, 302, "NETWORK_ERROR"),
    (ResponseCode::Unsupported, 303, "UNSUPPORTED"),
    (ResponseCode::UnknownGroup, 400, "UNKNOWN_GROUP"),
    (ResponseCode::UnknownMember, 401, "UNKNOWN_MEMBER"),
    (ResponseCode::UnexpectedMember, 402, "UNEXPECTED_MEMBER"),
    (ResponseCode::ExpiredTerm, 403, "EXPIRED_TERM"),
    (ResponseCode::NotLeader, 404, "NOT_LEADER"),
    (ResponseCode::NotFollower, 405, "NOT_FOLLOWER"),
    (ResponseCode::InconsistentState, 406, "INCONSISTENT_STATE"),
    (ResponseCode::InconsistentTerm, 407, "INCONSISTENT_TERM"),
    (ResponseCode::InconsistentIndex, 408, "INCONSISTENT_INDEX"),
    (ResponseCode::InconsistentLeader, 409, "INCONSISTENT_LEADER"),
    (ResponseCode::IndexOutOfRange, 410, "INDEX_OUT_OF_RANGE"),
    (ResponseCode::UnexpectedArgument, 411, "UNEXPECTED_ARGUMENT"),
    (ResponseCode::RepeatedRequest, 412, "REPEATED_REQUEST"),
    (ResponseCode::RepeatedPush, 413, "REPEATED_PUSH"),
    (ResponseCode::DiskError, 414, "DISK_ERROR"),
    (ResponseCode::DiskFull, 415, "DISK_FULL"),
    (ResponseCode::TermNotReady, 416, "TERM_NOT_READY"),
    (ResponseCode::FallBehindTooMuch, 417, "FALL_BEHIND_TOO_MUCH"),
    (
        ResponseCode::TakeLeadershipFailed,
        418,
        "TAKE_LEADERSHIP_FAILED",
    ),
    (
        ResponseCode::IndexLessThanLocalBegin,
        419,
        "INDEX_LESS_THAN_LOCAL_BEGIN",
    ),
    (
        ResponseCode::RequestWithEmptyBodys,
        420,
        "REQUEST_WITH_EMPTY_BODYS",
    ),
    (ResponseCode::InternalError, 500, "INTERNAL_ERROR"),
    (ResponseCode::TermChanged, 501, "TERM_CHANGED"),
    (
        ResponseCode::WaitQuorumAckTimeout,
        502,
        "WAIT_QUORUM_ACK_TIMEOUT",
    ),
    (ResponseCode::LeaderPendingFull, 503, "LEADER_PENDING_FULL"),
    (
        ResponseCode::IllegalMemberState,
        504,
        "ILLEGAL_MEMBER_STATE",
    ),
    (ResponseCode::LeaderNotReady, 505, "LEADER_NOT_READY"),
    (ResponseCode::LeaderTransferring, 506, "LEADER_TRANSFERRING"),
];

impl ResponseCode {
    /// The numeric code on the wire.
    pub fn code(self) -> i32 {
        TABLE
            .iter()
            .find(|(c, _, _)| *c == self)
            .map(|(_, n, _)| *n)
            .unwrap_or(-1)
    }

    /// The Java enum name.
    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(c, _, _)| *c == self)
            .map(|(_, _, s)| *s)
            .unwrap_or("UNKNOWN")
    }

    /// Decodes a wire code; unknown numbers map to `Unknown` as `valueOf` does in Java.
    pub fn from_code(code: i32) -> ResponseCode {
        TABLE
            .iter()
            .find(|(_, n, _)| *n == code)
            .map(|(c, _, _)| *c)
            .unwrap_or(ResponseCode::Unknown)
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.code())
    }
}

/// `VoteResponse.RESULT`: why a voter accepted or refused a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VoteResult {
    /// `UNKNOWN`: no result yet.
    Unknown,
    /// `ACCEPT`: the voter votes for the candidate.
    Accept,
    /// `REJECT_UNKNOWN_LEADER`: the candidate is not a member the voter knows.
    RejectUnknownLeader,
    /// `REJECT_UNEXPECTED_LEADER`: another member asks with the voter's own id.
    RejectUnexpectedLeader,
    /// `REJECT_EXPIRED_VOTE_TERM`: the candidate's term is older than the voter's.
    RejectExpiredVoteTerm,
    /// `REJECT_ALREADY_VOTED`: the voter already voted for another candidate in this term.
    RejectAlreadyVoted,
    /// `REJECT_ALREADY_HAS_LEADER`: the voter already has a leader in this term.
    RejectAlreadyHasLeader,
    /// `REJECT_TERM_NOT_READY`: the candidate's term is newer; the voter moves to it first.
    RejectTermNotReady,
    /// `REJECT_TERM_SMALL_THAN_LEDGER`: the candidate's term is older than the voter's last log term.
    RejectTermSmallThanLedger,
    /// `REJECT_EXPIRED_LEDGER_TERM`: the candidate's last log term is older than the voter's.
    RejectExpiredLedgerTerm,
    /// `REJECT_SMALL_LEDGER_END_INDEX`: same last term, but the candidate's log is shorter.
    RejectSmallLedgerEndIndex,
    /// `REJECT_TAKING_LEADERSHIP`: the voter is itself taking leadership over (a transfer)
    /// and its log is at least as long.
    RejectTakingLeadership,
}

const VOTE_NAMES: &[(VoteResult, &str)] = &[
    (VoteResult::Unknown, "UNKNOWN"),
    (VoteResult::Accept, "ACCEPT"),
    (VoteResult::RejectUnknownLeader, "REJECT_UNKNOWN_LEADER"),
    (
        VoteResult::RejectUnexpectedLeader,
        "REJECT_UNEXPECTED_LEADER",
    ),
    (
        VoteResult::RejectExpiredVoteTerm,
        "REJECT_EXPIRED_VOTE_TERM",
    ),
    (VoteResult::RejectAlreadyVoted, "REJECT_ALREADY_VOTED"),
    (
        VoteResult::RejectAlreadyHasLeader,
        "REJECT_ALREADY_HAS_LEADER",
    ),
    (VoteResult::RejectTermNotReady, "REJECT_TERM_NOT_READY"),
    (
        VoteResult::RejectTermSmallThanLedger,
        "REJECT_TERM_SMALL_THAN_LEDGER",
    ),
    (
        VoteResult::RejectExpiredLedgerTerm,
        "REJECT_EXPIRED_LEDGER_TERM",
    ),
    (
        VoteResult::RejectSmallLedgerEndIndex,
        "REJECT_SMALL_LEDGER_END_INDEX",
    ),
    (
        VoteResult::RejectTakingLeadership,
        "REJECT_TAKING_LEADERSHIP",
    ),
];

impl VoteResult {
    /// The Java enum name used in the JSON body.
    pub fn name(self) -> &'static str {
        VOTE_NAMES
            .iter()
            .find(|(v, _)| *v == self)
            .map(|(_, s)| *s)
            .unwrap_or("UNKNOWN")
    }

    /// Parses a Java enum name; anything else is `Unknown`.
    pub fn from_name(name: &str) -> VoteResult {
        VOTE_NAMES
            .iter()
            .find(|(_, s)| *s == name)
            .map(|(v, _)| *v)
            .unwrap_or(VoteResult::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for (c, n, s) in TABLE {
            assert_eq!(ResponseCode::from_code(*n), *c);
            assert_eq!(c.code(), *n);
            assert_eq!(c.name(), *s);
        }
        assert_eq!(ResponseCode::from_code(12345), ResponseCode::Unknown);
        for (v, s) in VOTE_NAMES {
            assert_eq!(VoteResult::from_name(s), *v);
        }
    }
}
