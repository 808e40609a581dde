//! The trace record: what one send or one consumption leaves in the trace topic, and its text
//! encoding, byte for byte as 4.8.0 writes and reads it.
//!
//! A trace message body is a run of lines. Each line is a list of fields separated by
//! [`CONTENT_SPLITOR`] (U+0001) and ends with [`FIELD_SPLITOR`] (U+0002). The first field
//! names the line's type; the field order per type is in [`encode`]. A value 4.8.0 holds as a
//! Java `null` (a message without tags or keys) is written as the four letters `null`, so
//! this module keeps such values as `Option<String>` and writes `None` the same way.
//! Book: Part II "Consuming" (section "Message trace"). Mirrors `TraceContext`, `TraceBean`,
//! `TraceType`, `TraceConstants` and `TraceDataEncoder` of 4.8.0's client.

use std::collections::BTreeSet;
use std::fmt::Write as _;

/// `TraceConstants.CONTENT_SPLITOR`: between two fields of a line.
pub const CONTENT_SPLITOR: char = '\u{1}';
/// `TraceConstants.FIELD_SPLITOR`: after each line.
pub const FIELD_SPLITOR: char = '\u{2}';

/// What a trace line records (`TraceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceType {
    /// One send, written after the broker's reply.
    Pub,
    /// Messages handed to a listener, written before the call.
    SubBefore,
    /// The listener's verdict on those messages, written after the call.
    SubAfter,
}

impl TraceType {
    /// The name on the wire (Java's enum name).
    pub fn name(self) -> &'static str {
        match self {
            TraceType::Pub => "Pub",
            TraceType::SubBefore => "SubBefore",
            TraceType::SubAfter => "SubAfter",
        }
    }
}

/// `MessageType`; a Pub line carries its ordinal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MessageType {
    /// 0: an ordinary message.
    #[default]
    Normal,
    /// 1: a transaction's half (prepared) message.
    TransHalf,
    /// 2: a transaction's commit.
    TransCommit,
    /// 3: a message with a delay level.
    Delay,
}

impl MessageType {
    /// Java's ordinal.
    pub fn ordinal(self) -> i32 {
        match self {
            MessageType::Normal => 0,
            MessageType::TransHalf => 1,
            MessageType::TransCommit => 2,
            MessageType::Delay => 3,
        }
    }

    /// The type with this ordinal.
    pub fn from_ordinal(n: i32) -> Option<MessageType> {
        [
            MessageType::Normal,
            MessageType::TransHalf,
            MessageType::TransCommit,
            MessageType::Delay,
        ]
        .get(usize::try_from(n).ok()?)
        .copied()
    }
}

/// How a listener call ended (`ConsumeReturnType`); a SubAfter line carries its ordinal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsumeReturnType {
    /// 0: consumed.
    Success,
    /// 1: the call took longer than the consume timeout.
    TimeOut,
    /// 2: the listener threw (here: panicked).
    Exception,
    /// 3: the listener returned null (impossible in Rust; kept for the ordinals).
    ReturnNull,
    /// 4: the listener asked for a retry (reconsume later, suspend).
    Failed,
}

impl ConsumeReturnType {
    /// Java's ordinal.
    pub fn ordinal(self) -> i32 {
        match self {
            ConsumeReturnType::Success => 0,
            ConsumeReturnType::TimeOut => 1,
            ConsumeReturnType::Exception => 2,
            ConsumeReturnType::ReturnNull => 3,
            ConsumeReturnType::Failed => 4,
        }
    }
}

/// What one trace line says about one message (`TraceBean`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceBean {
    /// The message's topic (without namespace).
    pub topic: String,
    /// The message id the application sees (`UNIQ_KEY`).
    pub msg_id: String,
    /// The broker's offset message id.
    pub offset_msg_id: String,
    /// The message's tags (`None` is written `null`).
    pub tags: Option<String>,
    /// The message's keys, space-separated (`None` is written `null`).
    pub keys: Option<String>,
    /// The broker that stored it (`ip:port`).
    pub store_host: String,
    /// The client that sent or consumed it (its client id).
    pub client_host: String,
    /// Reconsume count (SubBefore).
    pub retry_times: i32,
    /// Body length in bytes (Pub: as sent, after compression).
    pub body_length: i32,
    /// The message's type (Pub).
    pub msg_type: MessageType,
}

/// One trace event (`TraceContext`): a send, or one listener call over several messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// Which event.
    pub trace_type: TraceType,
    /// When it began (epoch ms).
    pub time_stamp_ms: i64,
    /// The broker's region (`MSG_REGION`; `None` is written `null`).
    pub region_id: Option<String>,
    /// The producer or consumer group (without namespace).
    pub group_name: String,
    /// Time taken in ms (per message, for a listener call over several).
    pub cost_time_ms: i32,
    /// Send OK, or consumed successfully.
    pub success: bool,
    /// Pairs a SubBefore with its SubAfter.
    pub request_id: String,
    /// A SubAfter's [`ConsumeReturnType`] ordinal.
    pub context_code: i32,
    /// The messages (one for Pub).
    pub beans: Vec<TraceBean>,
}

/// The encoded form of one context (`TraceTransferBean`): its lines and the keys under which
/// the trace message is indexed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TraceTransfer {
    /// The lines, each ending with [`FIELD_SPLITOR`].
    pub data: String,
    /// Each bean's msgId and its non-empty keys.
    pub keys: BTreeSet<String>,
}

/// A trace body that does not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("trace line {line:?}: {reason}")]
pub struct TraceDecodeError {
    /// The offending line, separators shown as `|`.
    pub line: String,
    /// What is wrong with it.
    pub reason: String,
}

fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("null")
}

// ANCHOR: trace_encode
/// Encodes one context as 4.8.0's `TraceDataEncoder.encoderFromContextBean` does.
pub fn encode(ctx: &TraceContext) -> TraceTransfer {
    let (c, f) = (CONTENT_SPLITOR, FIELD_SPLITOR);
    let mut data = String::with_capacity(256);
    match ctx.trace_type {
        TraceType::Pub => {
            if let Some(b) = ctx.beans.first() {
                // Writing to a String cannot fail.
                let _ = write!(
                    data,
                    "Pub{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{f}",
                    ctx.time_stamp_ms,
                    opt(&ctx.region_id),
                    ctx.group_name,
                    b.topic,
                    b.msg_id,
                    opt(&b.tags),
                    opt(&b.keys),
                    b.store_host,
                    b.body_length,
                    ctx.cost_time_ms,
                    b.msg_type.ordinal(),
                    b.offset_msg_id,
                    ctx.success,
                    b.client_host,
                );
            }
        }
        TraceType::SubBefore => {
            for b in &ctx.beans {
                let _ = write!(
                    data,
                    "SubBefore{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{f}",
                    ctx.time_stamp_ms,
                    opt(&ctx.region_id),
                    ctx.group_name,
                    ctx.request_id,
                    b.msg_id,
                    b.retry_times,
                    opt(&b.keys),
                    b.client_host,
                );
            }
        }
        TraceType::SubAfter => {
            for b in &ctx.beans {
                let _ = write!(
                    data,
                    "SubAfter{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{c}{}{f}",
                    ctx.request_id,
                    b.msg_id,
                    ctx.cost_time_ms,
                    ctx.success,
                    opt(&b.keys),
                    ctx.context_code,
                    ctx.time_stamp_ms,
                    ctx.group_name,
                );
            }
        }
    }
    let mut keys = BTreeSet::new();
    for b in &ctx.beans {
        keys.insert(b.msg_id.clone());
        if let Some(k) = b.keys.as_ref().filter(|k| !k.is_empty()) {
            keys.insert(k.clone());
        }
    }
    TraceTransfer { data, keys }
}
// ANCHOR_END: trace_encode

/// Decodes a trace body as 4.8.0's `TraceDataEncoder.decoderFromTraceDataString` does: one
/// context per line, one bean per context; lines of an unknown type are skipped, and the
/// shorter lines of older clients (Pub of 13 or 14 fields, SubAfter of 6 to 8) are accepted.
/// Fields a line does not carry keep [`TraceBean`]'s defaults (empty hosts).
pub fn decode(body: &str) -> Result<Vec<TraceContext>, TraceDecodeError> {
    let mut out = Vec::new();
    for line in body.split(FIELD_SPLITOR).filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split(CONTENT_SPLITOR).collect();
        let bad = |reason: String| TraceDecodeError {
            line: line.replace(CONTENT_SPLITOR, "|"),
            reason,
        };
        let need = |n: usize| {
            if f.len() < n {
                Err(bad(format!("{} fields, at least {n} expected", f.len())))
            } else {
                Ok(())
            }
        };
        let int = |i: usize| -> Result<i64, TraceDecodeError> {
            f[i].trim()
                .parse::<i64>()
                .map_err(|_| bad(format!("field {i} ({:?}) is not a number", f[i])))
        };
        let text = |i: usize| f[i].to_string();
        // Java's Boolean.parseBoolean: "true" in any case, anything else is false.
        let boolean = |i: usize| f[i].eq_ignore_ascii_case("true");
        let ctx = match f[0] {
            "Pub" => {
                need(12)?;
                let msg_type = MessageType::from_ordinal(int(11)? as i32)
                    .ok_or_else(|| bad(format!("unknown message type {}", f[11])))?;
                let mut bean = TraceBean {
                    topic: text(4),
                    msg_id: text(5),
                    tags: Some(text(6)),
                    keys: Some(text(7)),
                    store_host: text(8),
                    body_length: int(9)? as i32,
                    msg_type,
                    ..TraceBean::default()
                };
                let mut success = true;
                match f.len() {
                    12 => {}
                    13 => success = boolean(12),
                    14 => {
                        bean.offset_msg_id = text(12);
                        success = boolean(13);
                    }
                    _ => {
                        bean.offset_msg_id = text(12);
                        success = boolean(13);
                        bean.client_host = text(14);
                    }
                }
                TraceContext {
                    trace_type: TraceType::Pub,
                    time_stamp_ms: int(1)?,
                    region_id: Some(text(2)),
                    group_name: text(3),
                    cost_time_ms: int(10)? as i32,
                    success,
                    request_id: String::new(),
                    context_code: 0,
                    beans: vec![bean],
                }
            }
            "SubBefore" => {
                need(9)?;
                TraceContext {
                    trace_type: TraceType::SubBefore,
                    time_stamp_ms: int(1)?,
                    region_id: Some(text(2)),
                    group_name: text(3),
                    cost_time_ms: 0,
                    success: true,
                    request_id: text(4),
                    context_code: 0,
                    beans: vec![TraceBean {
                        msg_id: text(5),
                        retry_times: int(6)? as i32,
                        keys: Some(text(7)),
                        client_host: text(8),
                        ..TraceBean::default()
                    }],
                }
            }
            "SubAfter" => {
                need(6)?;
                let (time_stamp_ms, group_name) = if f.len() >= 9 {
                    (int(7)?, text(8))
                } else {
                    (0, String::new())
                };
                TraceContext {
                    trace_type: TraceType::SubAfter,
                    time_stamp_ms,
                    region_id: None,
                    group_name,
                    cost_time_ms: int(3)? as i32,
                    success: boolean(4),
                    request_id: text(1),
                    context_code: if f.len() >= 7 { int(6)? as i32 } else { 0 },
                    beans: vec![TraceBean {
                        msg_id: text(2),
                        keys: Some(text(5)),
                        ..TraceBean::default()
                    }],
                }
            }
            _ => continue,
        };
        out.push(ctx);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pub_ctx() -> TraceContext {
        TraceContext {
            trace_type: TraceType::Pub,
            time_stamp_ms: 1_700_000_000_123,
            region_id: Some("DefaultRegion".into()),
            group_name: "pg".into(),
            cost_time_ms: 3,
            success: true,
            request_id: "R".into(),
            context_code: 0,
            beans: vec![TraceBean {
                topic: "T".into(),
                msg_id: "ID1".into(),
                offset_msg_id: "OFF1".into(),
                tags: None,
                keys: Some("k1 k2".into()),
                store_host: "127.0.0.1:10911".into(),
                client_host: "10.0.0.1@pid".into(),
                retry_times: 0,
                body_length: 11,
                msg_type: MessageType::Delay,
            }],
        }
    }

    #[test]
    fn pub_line_has_java_field_order_and_null_for_missing_tags() {
        let t = encode(&pub_ctx());
        assert_eq!(
            t.data,
            "Pub\u{1}1700000000123\u{1}DefaultRegion\u{1}pg\u{1}T\u{1}ID1\u{1}null\u{1}k1 k2\u{1}\
             127.0.0.1:10911\u{1}11\u{1}3\u{1}3\u{1}OFF1\u{1}true\u{1}10.0.0.1@pid\u{2}"
        );
        assert_eq!(
            t.keys.into_iter().collect::<Vec<_>>(),
            vec!["ID1".to_string(), "k1 k2".to_string()]
        );
        let back = decode(&encode(&pub_ctx()).data).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].beans[0].tags.as_deref(), Some("null"));
        assert_eq!(back[0].beans[0].offset_msg_id, "OFF1");
        assert_eq!(back[0].beans[0].client_host, "10.0.0.1@pid");
        assert_eq!(back[0].beans[0].msg_type, MessageType::Delay);
        assert_eq!(back[0].time_stamp_ms, 1_700_000_000_123);
    }

    #[test]
    fn sub_lines_one_per_bean_and_back() {
        let mut before = pub_ctx();
        before.trace_type = TraceType::SubBefore;
        before.region_id = None;
        let mut second = before.beans[0].clone();
        second.msg_id = "ID2".into();
        second.keys = None;
        second.retry_times = 2;
        before.beans.push(second);
        let t = encode(&before);
        assert_eq!(
            t.data,
            "SubBefore\u{1}1700000000123\u{1}null\u{1}pg\u{1}R\u{1}ID1\u{1}0\u{1}k1 k2\u{1}10.0.0.1@pid\u{2}\
             SubBefore\u{1}1700000000123\u{1}null\u{1}pg\u{1}R\u{1}ID2\u{1}2\u{1}null\u{1}10.0.0.1@pid\u{2}"
        );
        // A null key is not an index key; each msgId is.
        assert_eq!(t.keys.len(), 3);
        let mut after = before.clone();
        after.trace_type = TraceType::SubAfter;
        after.success = false;
        after.context_code = ConsumeReturnType::Failed.ordinal();
        let t = encode(&after);
        assert!(t.data.starts_with(
            "SubAfter\u{1}R\u{1}ID1\u{1}3\u{1}false\u{1}k1 k2\u{1}4\u{1}1700000000123\u{1}pg\u{2}"
        ));
        let back = decode(&t.data).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].beans[0].msg_id, "ID2");
        assert!(!back[1].success);
        assert_eq!(back[1].context_code, 4);
        assert_eq!(back[1].group_name, "pg");
    }

    #[test]
    fn older_shorter_lines_and_unknown_types_are_read_as_java_reads_them() {
        let body =
            "Pub\u{1}5\u{1}r\u{1}g\u{1}T\u{1}M\u{1}\u{1}\u{1}h:1\u{1}1\u{1}2\u{1}0\u{1}false\u{2}\
                    Other\u{1}x\u{2}\
                    SubAfter\u{1}R\u{1}M\u{1}7\u{1}TRUE\u{1}k\u{2}";
        let v = decode(body).unwrap();
        assert_eq!(v.len(), 2);
        assert!(!v[0].success);
        assert_eq!(v[0].beans[0].offset_msg_id, "");
        assert!(v[1].success);
        assert_eq!((v[1].cost_time_ms, v[1].context_code), (7, 0));
        let err = decode("Pub\u{1}x\u{2}").unwrap_err();
        assert!(err.reason.contains("at least 12"), "{err}");
        let err =
            decode("SubBefore\u{1}t\u{1}r\u{1}g\u{1}R\u{1}M\u{1}0\u{1}k\u{1}h\u{2}").unwrap_err();
        assert!(err.reason.contains("not a number"), "{err}");
    }
}
