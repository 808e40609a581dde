//! What the traced producer and push consumer record: a Pub event after each send the broker
//! answered, a SubBefore event before each listener call and a SubAfter event after it.
//!
//! A send to the trace topic itself is never traced, nor one whose reply says `TRACE_ON` is
//! off; a consumed message whose `TRACE_ON` property is `false` is left out.
//! Book: Part II "Consuming" (section "Message trace"). Mirrors `SendMessageTraceHookImpl`
//! and `ConsumeMessageTraceHookImpl` of 4.8.0's client.

use std::net::Ipv4Addr;
use std::sync::OnceLock;

use rmq_common::message::MessageExt;
use rmq_common::msgid::UniqIdGenerator;

use super::record::{ConsumeReturnType, MessageType, TraceBean, TraceContext, TraceType};
use crate::api::{SendResult, SendStatus};
use crate::message::keys;
use crate::namespace::without_namespace;
use crate::util::now_ms;

/// A fresh unique id pairing a SubBefore with its SubAfter (4.8.0:
/// `MessageClientIDSetter.createUniqID()`; only its uniqueness matters, so the address part
/// is the loopback one).
fn new_request_id() -> String {
    static IDS: OnceLock<UniqIdGenerator> = OnceLock::new();
    IDS.get_or_init(|| UniqIdGenerator::new(Ipv4Addr::LOCALHOST.into(), rand::random()))
        .next_id()
}

/// What a send knows before it goes out, for its Pub event.
#[derive(Debug, Clone)]
pub struct PubStart {
    /// When the attempt began (epoch ms).
    pub time_stamp_ms: i64,
    /// Producer group.
    pub group: String,
    /// Message topic.
    pub topic: String,
    /// Tags (`None`: no TAGS property).
    pub tags: Option<String>,
    /// Keys (`None`: no KEYS property).
    pub keys: Option<String>,
    /// Body length on the wire.
    pub body_length: i32,
    /// Normal, half, or delayed.
    pub msg_type: MessageType,
}

/// The message type 4.8.0's `sendKernelImpl` reports: delayed when a delay level (or a
/// start-deliver time) is set, else a transaction half when `TRAN_MSG=true`, else normal.
pub fn message_type(property: impl Fn(&str) -> Option<String>) -> MessageType {
    if property(keys::DELAY).is_some() || property("__STARTDELIVERTIME").is_some() {
        MessageType::Delay
    } else if property(keys::TRAN_MSG).as_deref() == Some("true") {
        MessageType::TransHalf
    } else {
        MessageType::Normal
    }
}

/// The Pub event of a send the broker at `store_host` answered with `result`; `None` when
/// the reply turned tracing off.
pub fn pub_event(
    start: PubStart,
    result: &SendResult,
    store_host: &str,
    client_id: &str,
) -> Option<TraceContext> {
    if !result.trace_on {
        return None;
    }
    Some(TraceContext {
        trace_type: TraceType::Pub,
        time_stamp_ms: start.time_stamp_ms,
        region_id: Some(result.region_id.clone()),
        group_name: start.group,
        cost_time_ms: (now_ms() - start.time_stamp_ms).max(0) as i32,
        success: result.send_status == SendStatus::SendOk,
        request_id: new_request_id(),
        context_code: 0,
        beans: vec![TraceBean {
            topic: start.topic,
            msg_id: result.msg_id.clone(),
            offset_msg_id: result.offset_msg_id.clone(),
            tags: start.tags,
            keys: start.keys,
            store_host: store_host.to_string(),
            client_host: client_id.to_string(),
            retry_times: 0,
            body_length: start.body_length,
            msg_type: start.msg_type,
        }],
    })
}

/// The SubBefore event of a listener call over `msgs` (group and topics without their
/// namespace); `None` when every message asked not to be traced.
pub fn sub_before(group: &str, client_id: &str, msgs: &[MessageExt]) -> Option<TraceContext> {
    let mut region = None;
    let beans: Vec<TraceBean> = msgs
        .iter()
        .filter(|m| m.property(keys::TRACE_ON) != Some("false"))
        .map(|m| {
            region = m.property(keys::MSG_REGION).map(String::from);
            TraceBean {
                topic: without_namespace(&m.topic),
                msg_id: m.msg_id(),
                tags: m.tags().map(String::from),
                keys: m.keys().map(String::from),
                client_host: client_id.to_string(),
                retry_times: m.reconsume_times,
                body_length: m.store_size,
                ..TraceBean::default()
            }
        })
        .collect();
    if beans.is_empty() {
        return None;
    }
    Some(TraceContext {
        trace_type: TraceType::SubBefore,
        time_stamp_ms: now_ms(),
        region_id: region,
        group_name: without_namespace(group),
        cost_time_ms: 0,
        success: true,
        request_id: new_request_id(),
        context_code: 0,
        beans,
    })
}

/// The SubAfter event that closes `before`: `msg_count` messages were handed over.
pub fn sub_after(
    before: &TraceContext,
    msg_count: usize,
    success: bool,
    how: ConsumeReturnType,
) -> TraceContext {
    let now = now_ms();
    TraceContext {
        trace_type: TraceType::SubAfter,
        time_stamp_ms: now,
        region_id: before.region_id.clone(),
        group_name: before.group_name.clone(),
        cost_time_ms: ((now - before.time_stamp_ms).max(0) / msg_count.max(1) as i64) as i32,
        success,
        request_id: before.request_id.clone(),
        context_code: how.ordinal(),
        beans: before.beans.clone(),
    }
}
