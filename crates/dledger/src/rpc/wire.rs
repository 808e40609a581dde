//! DLedger's JSON bodies and request codes, and their conversion to and from the
//! core's messages.
//!
//! Each DLedger RPC is one remoting frame with a JSON header whose `code` is the
//! request code below; the request object is fastjson JSON in the body. The answer is
//! a response frame with remoting code 200 and the response object in the body; the
//! verdict is the `code` *inside* the body. `byte[]` fields are base64. Fields are
//! declared in alphabetical order because that is the order fastjson writes them.
//! Book: Appendix "Wire protocol" and Part IV "Cluster modes and DLedger". Mirrors
//! `protocol/*.java` and `DLedgerRpcNettyService` of DLedger 0.2.2.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::base64;
use crate::codes::{ResponseCode, VoteResult};
use crate::core::{
    HeartBeatRequest, HeartBeatResponse, PushRequest, PushResponse, PushType, VoteRequest,
    VoteResponse,
};
use crate::entry::Entry;

/// `DLedgerRequestCode`.
pub mod request_code {
    pub const METADATA: i32 = 50000;
    pub const APPEND: i32 = 50001;
    pub const GET: i32 = 50002;
    pub const VOTE: i32 = 51001;
    pub const HEART_BEAT: i32 = 51002;
    pub const PULL: i32 = 51003;
    pub const PUSH: i32 = 51004;
    pub const LEADERSHIP_TRANSFER: i32 = 51005;
}

/// The remoting code of every DLedger response frame (`DLedgerResponseCode.SUCCESS`).
pub const RESPONSE_FRAME_CODE: i32 = 200;

fn success() -> i32 {
    200
}
fn minus_one() -> i64 {
    -1
}

/// The fields every DLedger body has (`RequestOrResponse`), for routing checks.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Base {
    #[serde(default = "success")]
    pub code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    #[serde(default = "minus_one")]
    pub term: i64,
}

/// `DLedgerEntry` as JSON.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EntryJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default)]
    pub body_crc: i32,
    #[serde(default)]
    pub chain_crc: i32,
    #[serde(default)]
    pub channel: i32,
    pub index: i64,
    #[serde(default)]
    pub magic: i32,
    pub pos: i64,
    #[serde(default)]
    pub size: i32,
    pub term: i64,
}

impl EntryJson {
    pub fn from_entry(e: &Entry) -> EntryJson {
        EntryJson {
            body: Some(base64::encode(&e.body)),
            body_crc: e.body_crc,
            chain_crc: e.chain_crc,
            channel: e.channel,
            index: e.index,
            magic: e.magic,
            pos: e.pos,
            size: e.size(),
            term: e.term,
        }
    }

    pub fn to_entry(&self) -> Option<Entry> {
        let body = match &self.body {
            Some(b) => Bytes::from(base64::decode(b)?),
            None => Bytes::new(),
        };
        Some(Entry {
            magic: self.magic,
            index: self.index,
            term: self.term,
            pos: self.pos,
            channel: self.channel,
            chain_crc: self.chain_crc,
            body_crc: self.body_crc,
            body,
        })
    }
}

/// `VoteRequest`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VoteRequestJson {
    #[serde(default = "success")]
    pub code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_id: Option<String>,
    #[serde(default = "minus_one")]
    pub ledger_end_index: i64,
    #[serde(default = "minus_one")]
    pub ledger_end_term: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    #[serde(default = "minus_one")]
    pub term: i64,
}

/// `VoteResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct VoteResponseJson {
    #[serde(default = "success")]
    pub code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    #[serde(default = "minus_one")]
    pub term: i64,
    #[serde(default)]
    pub vote_result: Option<String>,
}

/// `HeartBeatRequest` and `HeartBeatResponse` (common fields only).
pub type HeartBeatJson = Base;

/// `PushEntryRequest`, with the getters fastjson also writes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PushEntryRequestJson {
    #[serde(default)]
    pub batch_entry: Vec<EntryJson>,
    #[serde(default = "success")]
    pub code: i32,
    #[serde(default = "minus_one")]
    pub commit_index: i64,
    #[serde(default)]
    pub count: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<EntryJson>,
    #[serde(default = "minus_one")]
    pub first_entry_index: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default = "minus_one")]
    pub last_entry_index: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    #[serde(default = "minus_one")]
    pub term: i64,
    #[serde(default)]
    pub total_size: i64,
    #[serde(rename = "type", default = "append_name")]
    pub kind: String,
}

fn append_name() -> String {
    "APPEND".into()
}

/// `PushEntryResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PushEntryResponseJson {
    #[serde(default = "minus_one")]
    pub begin_index: i64,
    #[serde(default = "success")]
    pub code: i32,
    #[serde(default = "minus_one")]
    pub end_index: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default = "minus_one")]
    pub index: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    #[serde(default = "minus_one")]
    pub term: i64,
}

/// `AppendEntryRequest` (client → leader).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AppendEntryRequestJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default = "success")]
    pub code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    #[serde(default = "minus_one")]
    pub term: i64,
}

/// `AppendEntryResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AppendEntryResponseJson {
    #[serde(default = "success")]
    pub code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default = "minus_one")]
    pub index: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    #[serde(default = "minus_one")]
    pub pos: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    #[serde(default = "minus_one")]
    pub term: i64,
}

/// `GetEntriesRequest`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GetEntriesRequestJson {
    #[serde(default)]
    pub begin_index: Option<i64>,
    #[serde(default = "success")]
    pub code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    #[serde(default)]
    pub max_size: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    #[serde(default = "minus_one")]
    pub term: i64,
}

/// `GetEntriesResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct GetEntriesResponseJson {
    #[serde(default = "success")]
    pub code: i32,
    #[serde(default)]
    pub entries: Vec<EntryJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_id: Option<String>,
    #[serde(default = "minus_one")]
    pub term: i64,
}

/// `MetadataResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MetadataResponseJson {
    #[serde(default = "success")]
    pub code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader_id: Option<String>,
    #[serde(default)]
    pub peers: BTreeMap<String, String>,
    #[serde(default = "minus_one")]
    pub term: i64,
}

/// Who sends to whom, for filling the common fields.
#[derive(Debug, Clone)]
pub struct Route<'a> {
    pub group: &'a str,
    pub local_id: &'a str,
    pub remote_id: &'a str,
}

impl Route<'_> {
    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }
}

pub fn vote_request(r: &Route, v: &VoteRequest) -> VoteRequestJson {
    VoteRequestJson {
        code: 200,
        group: Route::some(r.group),
        leader_id: Some(v.candidate.clone()),
        ledger_end_index: v.ledger_end_index,
        ledger_end_term: v.ledger_end_term,
        local_id: Route::some(r.local_id),
        remote_id: Route::some(r.remote_id),
        term: v.term,
    }
}

pub fn vote_request_from(j: &VoteRequestJson) -> Option<VoteRequest> {
    Some(VoteRequest {
        term: j.term,
        candidate: j.leader_id.clone()?,
        ledger_end_index: j.ledger_end_index,
        ledger_end_term: j.ledger_end_term,
    })
}

pub fn vote_response(r: &Route, leader: Option<String>, v: &VoteResponse) -> VoteResponseJson {
    VoteResponseJson {
        code: 200,
        group: Route::some(r.group),
        leader_id: leader,
        local_id: Route::some(r.local_id),
        remote_id: Route::some(r.remote_id),
        term: v.term,
        vote_result: Some(v.result.name().to_string()),
    }
}

pub fn vote_response_from(j: &VoteResponseJson) -> VoteResponse {
    let result = if j.code == 200 {
        j.vote_result
            .as_deref()
            .map(VoteResult::from_name)
            .unwrap_or(VoteResult::Unknown)
    } else {
        VoteResult::Unknown
    };
    VoteResponse {
        term: j.term,
        result,
    }
}

pub fn heartbeat_request(r: &Route, h: &HeartBeatRequest) -> HeartBeatJson {
    Base {
        code: 200,
        group: Route::some(r.group),
        leader_id: Some(h.leader.clone()),
        local_id: Route::some(r.local_id),
        remote_id: Route::some(r.remote_id),
        term: h.term,
    }
}

pub fn heartbeat_request_from(j: &HeartBeatJson) -> Option<HeartBeatRequest> {
    Some(HeartBeatRequest {
        term: j.term,
        leader: j.leader_id.clone()?,
    })
}

pub fn heartbeat_response(
    r: &Route,
    leader: Option<String>,
    h: &HeartBeatResponse,
) -> HeartBeatJson {
    Base {
        code: h.code.code(),
        group: Route::some(r.group),
        leader_id: leader,
        local_id: Route::some(r.local_id),
        remote_id: Route::some(r.remote_id),
        term: h.term,
    }
}

pub fn heartbeat_response_from(j: &HeartBeatJson) -> HeartBeatResponse {
    HeartBeatResponse {
        term: j.term,
        code: ResponseCode::from_code(j.code),
    }
}

pub fn push_request(r: &Route, p: &PushRequest) -> PushEntryRequestJson {
    PushEntryRequestJson {
        batch_entry: Vec::new(),
        code: 200,
        commit_index: p.commit_index,
        count: 0,
        entry: p.entry.as_ref().map(EntryJson::from_entry),
        first_entry_index: -1,
        group: Route::some(r.group),
        last_entry_index: -1,
        leader_id: Some(p.leader.clone()),
        local_id: Route::some(r.local_id),
        remote_id: Route::some(r.remote_id),
        term: p.term,
        total_size: 0,
        kind: p.kind.name().to_string(),
    }
}

pub fn push_request_from(j: &PushEntryRequestJson) -> Option<PushRequest> {
    let entry = match &j.entry {
        Some(e) => Some(e.to_entry()?),
        // A batch push of one entry is the same thing.
        None if j.batch_entry.len() == 1 => Some(j.batch_entry[0].to_entry()?),
        None => None,
    };
    Some(PushRequest {
        term: j.term,
        leader: j.leader_id.clone()?,
        kind: PushType::from_name(&j.kind)?,
        commit_index: j.commit_index,
        entry,
    })
}

pub fn push_response(r: &Route, leader: Option<String>, p: &PushResponse) -> PushEntryResponseJson {
    PushEntryResponseJson {
        begin_index: p.begin_index,
        code: p.code.code(),
        end_index: p.end_index,
        group: Route::some(r.group),
        index: p.index,
        leader_id: leader,
        local_id: Route::some(r.local_id),
        remote_id: Route::some(r.remote_id),
        term: p.term,
    }
}

pub fn push_response_from(j: &PushEntryResponseJson) -> PushResponse {
    PushResponse {
        term: j.term,
        code: ResponseCode::from_code(j.code),
        index: j.index,
        begin_index: j.begin_index,
        end_index: j.end_index,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_remoting::protocol::fastjson;

    #[test]
    fn push_request_json_shape() {
        let mut e = Entry::new(Bytes::from_static(b"hi"));
        e.index = 3;
        e.term = 2;
        e.pos = 150;
        let p = PushRequest {
            term: 2,
            leader: "n0".into(),
            kind: PushType::Compare,
            commit_index: 1,
            entry: Some(e.clone()),
        };
        let r = Route {
            group: "g",
            local_id: "n0",
            remote_id: "n1",
        };
        let text = fastjson::to_string(&push_request(&r, &p)).unwrap();
        assert!(text.starts_with("{\"batchEntry\":[],\"code\":200,\"commitIndex\":1,\"count\":0,\"entry\":{\"body\":\"aGk=\",\"bodyCrc\":0,\"chainCrc\":0,\"channel\":0,\"index\":3,\"magic\":1,\"pos\":150,\"size\":50,\"term\":2}"), "{text}");
        assert!(text.contains("\"type\":\"COMPARE\""));
        let back: PushEntryRequestJson = fastjson::from_str(&text).unwrap();
        assert_eq!(push_request_from(&back).unwrap(), p);
    }

    #[test]
    fn java_style_vote_bodies_parse() {
        let j: VoteRequestJson = fastjson::from_str(
            r#"{"code":200,"group":"RaftNode00","leaderId":"n1","ledgerEndIndex":9,"ledgerEndTerm":2,"localId":"n1","remoteId":"n0","term":3}"#,
        )
        .unwrap();
        let v = vote_request_from(&j).unwrap();
        assert_eq!(
            (v.term, v.candidate.as_str(), v.ledger_end_index),
            (3, "n1", 9)
        );
        let resp: VoteResponseJson =
            fastjson::from_str(r#"{"code":200,"term":3,"voteResult":"REJECT_ALREADY_VOTED"}"#)
                .unwrap();
        assert_eq!(
            vote_response_from(&resp).result,
            VoteResult::RejectAlreadyVoted
        );
        let failed: VoteResponseJson = fastjson::from_str(r#"{"code":400,"term":3}"#).unwrap();
        assert_eq!(vote_response_from(&failed).result, VoteResult::Unknown);
    }
}
