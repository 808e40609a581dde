//! The records of the transaction protocol and the store calls that write and read them.
//!
//! Every step of a transaction is an ordinary record in the commit log: the half message, the
//! final message a commit writes, the op record that marks a half as resolved, the renewed
//! copy a check appends, the copy a give-up writes. The builders here are pure functions
//! from a decoded record to the message to append, so each one can be tested on its own and
//! read next to its 4.8.0 counterpart. Bodies are read without inflating them (4.8.0 reads
//! halves with `deCompressBody=false`): a compressed body stays compressed, and its sysFlag
//! still says so.
//! Book: Part II, "Transactional messages". Mirrors `TransactionalMessageBridge`,
//! `EndTransactionProcessor.endMessageTransaction` and
//! `DefaultTransactionalMessageCheckListener.toMessageExtBrokerInner`.

use super::{
    CHECK_GROUP, CHECK_MAX_TIME_TOPIC, HALF_TOPIC, OP_TOPIC, REMOVE_TAG, TRANSACTION_COMMIT_TYPE,
    TRANSACTION_TYPE_MASK,
};
use crate::broker::Broker;
use crate::flow_control::SendSlot;
use crate::processor::set_prop;
use bytes::Bytes;
use rmq_common::message::{decode_record_with, keys, tags_code, MessageExt};
use rmq_common::MessageExtBrokerInner;
use rmq_remoting::protocol::header::CheckTransactionStateRequestHeader;
use rmq_store::{AppendMessageResult, GetMessageStatus, PutMessageStatus};
use std::net::SocketAddr;
use std::sync::Arc;

/// A half message that cannot be turned back into its real message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HalfError {
    /// The half has no `REAL_TOPIC` property.
    #[error("the half message has no REAL_TOPIC property")]
    NoRealTopic,
    /// The half's `REAL_QID` property is absent or not a number.
    #[error("the half message's REAL_QID {0:?} is not a queue id")]
    BadRealQid(Option<String>),
}

/// Properties as a list of pairs, in the order they are stored.
pub type Props = Vec<(String, String)>;

// ANCHOR: to_half
/// Turns a send into its half message (`parseHalfMessageInner`): the real topic and queue go
/// into properties, the transaction bits of the sysFlag are cleared (so the store dispatches
/// the half like an ordinary message), and the message moves to queue 0 of the half topic.
pub fn to_half(msg: &mut MessageExtBrokerInner, props: &mut Props) {
    set_prop(props, keys::REAL_TOPIC, msg.topic.clone());
    set_prop(props, keys::REAL_QID, msg.queue_id.to_string());
    msg.sys_flag &= !TRANSACTION_TYPE_MASK;
    msg.topic = HALF_TOPIC.to_string();
    msg.queue_id = 0;
}
// ANCHOR_END: to_half

/// `m` as a new message for `topic` / `queue_id`: body (as stored), flag, tags code, sysFlag,
/// born time and hosts, reconsume count; the properties are the caller's.
fn copy_of(m: &MessageExt, topic: &str, queue_id: i32) -> MessageExtBrokerInner {
    MessageExtBrokerInner {
        topic: topic.to_string(),
        queue_id,
        flag: m.flag,
        body: m.body.clone(),
        properties: String::new(),
        tags_code: tags_code(m.tags()),
        sys_flag: m.sys_flag,
        born_timestamp: m.born_timestamp,
        born_host: m.born_host,
        store_host: m.store_host,
        reconsume_times: m.reconsume_times,
        prepared_transaction_offset: 0,
    }
}

/// The real topic and queue a half message stands for.
pub fn real_queue(half: &MessageExt) -> Result<(String, i32), HalfError> {
    let topic = half
        .property(keys::REAL_TOPIC)
        .ok_or(HalfError::NoRealTopic)?;
    let qid = half.property(keys::REAL_QID);
    let qid = qid
        .and_then(|q| q.trim().parse().ok())
        .ok_or_else(|| HalfError::BadRealQid(qid.map(String::from)))?;
    Ok((topic.to_string(), qid))
}

// ANCHOR: final_message
/// The message a commit stores (`endMessageTransaction`): the half's body, flag, hosts, born
/// time and reconsume count in its real topic and queue, with the COMMIT type in the sysFlag
/// and the half's commit-log offset as prepared-transaction offset. The properties string is
/// the half's as stored: 4.8.0 removes `REAL_TOPIC`, `REAL_QID` and `TRAN_MSG` only from the
/// in-memory map after the string was built, so they stay in the record.
pub fn final_message(
    half: &MessageExt,
    commit_log_offset: i64,
) -> Result<(MessageExtBrokerInner, Props), HalfError> {
    let (topic, queue_id) = real_queue(half)?;
    let mut msg = copy_of(half, &topic, queue_id);
    msg.sys_flag = (half.sys_flag & !TRANSACTION_TYPE_MASK) | TRANSACTION_COMMIT_TYPE;
    msg.prepared_transaction_offset = commit_log_offset;
    Ok((msg, half.properties.clone()))
}
// ANCHOR_END: final_message

// ANCHOR: op_message
/// The op record that marks the half at `half_queue_offset` as resolved
/// (`addRemoveTagInTransactionOp`): tag `d`, the offset as decimal text for body. 4.8.0 builds
/// the properties string from a `HashMap` holding `TAGS` and `WAIT=true`, which iterates
/// `WAIT` first; its `UNIQ_KEY` is added after the string was built, so none is stored.
pub fn op_message(
    half_queue_id: i32,
    half_queue_offset: i64,
    broker_host: SocketAddr,
    now_ms: i64,
) -> (MessageExtBrokerInner, Props) {
    let props = vec![
        (keys::WAIT.to_string(), "true".to_string()),
        (keys::TAGS.to_string(), REMOVE_TAG.to_string()),
    ];
    let msg = MessageExtBrokerInner {
        topic: OP_TOPIC.to_string(),
        queue_id: half_queue_id,
        flag: 0,
        body: Bytes::from(half_queue_offset.to_string()),
        properties: String::new(),
        tags_code: tags_code(Some(REMOVE_TAG)),
        sys_flag: 0,
        born_timestamp: now_ms,
        born_host: broker_host,
        store_host: broker_host,
        reconsume_times: 0,
        prepared_transaction_offset: 0,
    };
    (msg, props)
}
// ANCHOR_END: op_message

/// The half offset an op record marks as resolved: its body as a decimal number, -1 when it
/// is not one (4.8.0 `getLong` logs and returns -1).
pub fn op_half_offset(op: &MessageExt) -> i64 {
    std::str::from_utf8(&op.body)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(-1)
}

/// A fresh copy of a half at the end of the half queue (`renewHalfMessageInner`): what every
/// check appends before it asks the producer, so the half queue only moves forward. 4.8.0
/// copies neither the flag nor the reconsume count (both 0 in the copy); the properties
/// carry the updated `TRANSACTION_CHECK_TIMES`.
pub fn renewed_half(m: &MessageExt) -> (MessageExtBrokerInner, Props) {
    let mut msg = copy_of(m, &m.topic, m.queue_id);
    msg.flag = 0;
    msg.reconsume_times = 0;
    (msg, m.properties.clone())
}

/// An "immunity" copy (`renewImmunityHalfMessageInner`): a renewed copy that remembers the
/// queue offset of the half it stands for in `TRAN_PREPARED_QUEUE_OFFSET`. Its properties
/// string is rebuilt after `WAIT=false` was set, so that is stored too.
pub fn immunity_copy(m: &MessageExt) -> (MessageExtBrokerInner, Props) {
    let (msg, mut props) = renewed_half(m);
    set_prop(&mut props, keys::WAIT, "false");
    let original = m
        .property(keys::TRAN_PREPARED_QUEUE_OFFSET)
        .map(String::from)
        .unwrap_or_else(|| m.queue_offset.to_string());
    set_prop(&mut props, keys::TRAN_PREPARED_QUEUE_OFFSET, original);
    (msg, props)
}

/// The copy a give-up stores in `TRANS_CHECK_MAX_TIME_TOPIC` queue 0
/// (`toMessageExtBrokerInner` of the check listener): everything of the half but its topic.
pub fn discard_copy(m: &MessageExt) -> (MessageExtBrokerInner, Props) {
    (copy_of(m, CHECK_MAX_TIME_TOPIC, 0), m.properties.clone())
}

/// A given-up half put back for checking (RESUME_CHECK_HALF_MESSAGE): queue 0 of the half
/// topic with `TRANSACTION_CHECK_TIMES=0`.
pub fn resumed_half(m: &MessageExt) -> (MessageExtBrokerInner, Props) {
    let (mut msg, mut props) = discard_copy(m);
    msg.topic = HALF_TOPIC.to_string();
    set_prop(&mut props, keys::TRANSACTION_CHECK_TIMES, "0");
    (msg, props)
}

/// CHECK_TRANSACTION_STATE for the renewed copy `copy` (`sendCheckMessage` +
/// `Broker2Client.checkProducerTransactionState`): the header names the copy's offsets, the
/// body is the copy re-encoded with its real topic and queue, so the producer sees the
/// message it sent.
pub fn check_request(copy: &MessageExt) -> Result<rmq_remoting::RemotingCommand, HalfError> {
    let (topic, queue_id) = real_queue(copy)?;
    let mut shown = copy.clone();
    shown.topic = topic;
    shown.queue_id = queue_id;
    let id = copy.property(keys::UNIQ_KEY).map(String::from);
    let header = CheckTransactionStateRequestHeader {
        tran_state_table_offset: copy.queue_offset,
        commit_log_offset: copy.commit_log_offset,
        msg_id: id.clone(),
        transaction_id: id,
        offset_msg_id: Some(copy.offset_msg_id()),
    };
    Ok(rmq_remoting::RemotingCommand::new_request(
        rmq_remoting::codes::request::CHECK_TRANSACTION_STATE,
    )
    .with_header(&header)
    .with_body(rmq_common::message::encode_record(&shown)))
}

/// Appends one transaction record through the broker's put path (DLedger, HA and the
/// DELAY redirect included). Puts of the transaction machinery take no send worker.
pub async fn put(
    b: &Arc<Broker>,
    msg: MessageExtBrokerInner,
    props: Props,
) -> (PutMessageStatus, Option<AppendMessageResult>) {
    match crate::processor::put_message(b, msg, props, &SendSlot::default()).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("transaction put failed: {e}");
            (PutMessageStatus::UnknownError, None)
        }
    }
}

/// The record at a commit-log offset, decoded without inflating its body
/// (`lookMessageByOffset`); `None` when no record starts there.
pub async fn look_message(b: &Arc<Broker>, commit_log_offset: i64) -> Option<MessageExt> {
    if commit_log_offset < 0 {
        return None;
    }
    let store = b.store().clone();
    let raw = tokio::task::spawn_blocking(move || store.look_message_by_offset(commit_log_offset))
        .await
        .ok()??;
    decode_record_with(&raw, false).ok().map(|(m, _)| m)
}

/// How a read of the half or op queue ended (the client's `PullStatus`, which 4.8.0's
/// bridge maps the store status to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadStatus {
    /// Records were read.
    Found,
    /// Nothing after the offset yet.
    NoNewMsg,
    /// Records were there, none matched.
    NoMatchedMsg,
    /// The offset is outside the queue.
    OffsetIllegal,
}

/// Records read from the half or op queue (`PullResult`).
#[derive(Debug, Clone)]
pub struct Read {
    /// How the read ended.
    pub status: ReadStatus,
    /// Where the next read starts.
    pub next_begin_offset: i64,
    /// Decoded records (bodies as stored); empty unless `Found`.
    pub msgs: Vec<MessageExt>,
}

/// Reads up to `n` records of `topic` queue `queue_id` from `offset` as group
/// `CID_RMQ_SYS_TRANS` (`TransactionalMessageBridge.getMessage`).
pub async fn read(
    b: &Arc<Broker>,
    topic: &'static str,
    queue_id: i32,
    offset: i64,
    n: i32,
) -> Read {
    let store = b.store().clone();
    let got = tokio::task::spawn_blocking(move || {
        store.get_message(CHECK_GROUP, topic, queue_id, offset, n, &|_| true)
    })
    .await;
    let Ok(got) = got else {
        return Read {
            status: ReadStatus::OffsetIllegal,
            next_begin_offset: offset,
            msgs: Vec::new(),
        };
    };
    let status = match got.status {
        GetMessageStatus::Found => ReadStatus::Found,
        GetMessageStatus::NoMatchedMessage => ReadStatus::NoMatchedMsg,
        // 4.8.0 creates a missing consume queue on lookup and finds it empty; this store
        // reports the missing queue (no op record written yet, say) as such.
        GetMessageStatus::NoMessageInQueue
        | GetMessageStatus::OffsetOverflowOne
        | GetMessageStatus::NoMatchedLogicQueue => ReadStatus::NoNewMsg,
        GetMessageStatus::MessageWasRemoving
        | GetMessageStatus::OffsetFoundNull
        | GetMessageStatus::OffsetOverflowBadly
        | GetMessageStatus::OffsetTooSmall => ReadStatus::OffsetIllegal,
    };
    let mut msgs = Vec::new();
    for raw in &got.messages {
        match decode_record_with(raw, false) {
            Ok((m, _)) => msgs.push(m),
            Err(e) => tracing::warn!("{topic}/{queue_id}: undecodable record skipped: {e}"),
        }
    }
    Read {
        status,
        next_begin_offset: got.next_begin_offset,
        msgs,
    }
}

/// The check cursor of one queue: the committed offset of `CID_RMQ_SYS_TRANS`, else the
/// queue's first offset (`fetchConsumeOffset`; a queue that does not exist yet starts at 0).
pub fn cursor(b: &Broker, topic: &str, queue_id: i32) -> i64 {
    match b.offsets().query(CHECK_GROUP, topic, queue_id) {
        -1 => b.store().get_min_offset_in_queue(topic, queue_id).max(0),
        o => o,
    }
}

/// Moves a check cursor (`updateConsumeOffset`); persisted with the other consumer offsets.
pub fn set_cursor(b: &Broker, topic: &str, queue_id: i32, offset: i64) {
    b.offsets().commit(CHECK_GROUP, topic, queue_id, offset);
}

/// The PGROUP of a record, if any.
pub fn producer_group(m: &MessageExt) -> Option<&str> {
    m.property(keys::PGROUP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::processor::get_prop;
    use rmq_common::message::{decode_record, encode_properties};

    use crate::transaction::test_half as half;

    #[test]
    fn a_send_becomes_a_half_of_queue_0() {
        let mut msg = MessageExtBrokerInner {
            topic: "T".into(),
            queue_id: 3,
            flag: 0,
            body: Bytes::new(),
            properties: String::new(),
            tags_code: 0,
            sys_flag: 0x4 | 0x1,
            born_timestamp: 0,
            born_host: "127.0.0.1:1".parse().unwrap(),
            store_host: "127.0.0.1:2".parse().unwrap(),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
        };
        let mut props = vec![("TRAN_MSG".to_string(), "true".to_string())];
        to_half(&mut msg, &mut props);
        assert_eq!(msg.topic, HALF_TOPIC);
        assert_eq!(msg.queue_id, 0);
        assert_eq!(msg.sys_flag, 0x1, "prepared bit cleared, compression kept");
        assert_eq!(get_prop(&props, "REAL_TOPIC"), Some("T"));
        assert_eq!(get_prop(&props, "REAL_QID"), Some("3"));
    }

    #[test]
    fn commit_rebuilds_the_real_message() {
        let (m, props) = final_message(&half(), 1000).unwrap();
        assert_eq!((m.topic.as_str(), m.queue_id), ("T", 3));
        assert_eq!(m.sys_flag, 0x1 | TRANSACTION_COMMIT_TYPE);
        assert_eq!(m.prepared_transaction_offset, 1000);
        assert_eq!(m.flag, 7);
        assert_eq!(m.reconsume_times, 2);
        assert_eq!(&m.body[..], b"zzz", "body kept compressed");
        assert_eq!(m.tags_code, tags_code(Some("TagA")));
        assert_eq!(props, half().properties, "stored string is the half's");
        let mut no_real = half();
        no_real.properties.retain(|(k, _)| k != "REAL_QID");
        assert_eq!(
            final_message(&no_real, 1).unwrap_err(),
            HalfError::BadRealQid(None)
        );
    }

    #[test]
    fn op_record_bytes() {
        let host: SocketAddr = "127.0.0.1:10911".parse().unwrap();
        let (m, props) = op_message(0, 42, host, 5);
        assert_eq!(m.topic, OP_TOPIC);
        assert_eq!(&m.body[..], b"42");
        assert_eq!(
            encode_properties(&props),
            "WAIT\u{1}true\u{2}TAGS\u{1}d\u{2}"
        );
        assert_eq!(m.tags_code, 100, "hash of \"d\"");
        let rec = rmq_common::inner::encode_inner_record(
            &MessageExtBrokerInner {
                properties: encode_properties(&props),
                ..m
            },
            0,
            0,
            5,
        )
        .unwrap();
        let (back, _) = decode_record(&rec).unwrap();
        assert_eq!(op_half_offset(&back), 42);
        assert_eq!(back.tags(), Some("d"));
        let mut junk = back.clone();
        junk.body = Bytes::from_static(b"x1");
        assert_eq!(op_half_offset(&junk), -1);
    }

    #[test]
    fn renewed_and_immunity_copies() {
        let (m, props) = renewed_half(&half());
        assert_eq!(
            (m.flag, m.reconsume_times),
            (0, 0),
            "4.8.0 does not copy them"
        );
        assert_eq!(m.topic, HALF_TOPIC);
        assert_eq!(props, half().properties);
        let (_, props) = immunity_copy(&half());
        assert_eq!(get_prop(&props, "TRAN_PREPARED_QUEUE_OFFSET"), Some("4"));
        assert_eq!(get_prop(&props, "WAIT"), Some("false"));
        let mut again = half();
        again.put_property("TRAN_PREPARED_QUEUE_OFFSET", "1".into());
        let (_, props) = immunity_copy(&again);
        assert_eq!(get_prop(&props, "TRAN_PREPARED_QUEUE_OFFSET"), Some("1"));
        let (d, _) = discard_copy(&half());
        assert_eq!(
            (d.topic.as_str(), d.flag, d.reconsume_times),
            (CHECK_MAX_TIME_TOPIC, 7, 2)
        );
        let (r, props) = resumed_half(&half());
        assert_eq!(r.topic, HALF_TOPIC);
        assert_eq!(get_prop(&props, "TRANSACTION_CHECK_TIMES"), Some("0"));
    }

    #[test]
    fn check_request_shows_the_real_message() {
        let req = check_request(&half()).unwrap();
        let h: CheckTransactionStateRequestHeader = req.decode_header().unwrap();
        assert_eq!((h.tran_state_table_offset, h.commit_log_offset), (4, 1000));
        assert_eq!(h.msg_id.as_deref(), Some("ABC"));
        assert_eq!(h.transaction_id.as_deref(), Some("ABC"));
        assert_eq!(h.offset_msg_id, Some(half().offset_msg_id()));
        let (shown, _) = rmq_common::message::decode_record_with(req.body_bytes(), false).unwrap();
        assert_eq!((shown.topic.as_str(), shown.queue_id), ("T", 3));
        assert_eq!(shown.commit_log_offset, 1000);
        assert_eq!(shown.property("PGROUP"), Some("PG"));
    }
}
