//! SEND_MESSAGE (10), SEND_MESSAGE_V2 (310, one-letter header names), SEND_BATCH_MESSAGE (320)
//! and CONSUMER_SEND_MSG_BACK (36): validation, topic auto-create, retry/DLQ routing, flow
//! control, append, and the send response header. Mirrors `SendMessageProcessor` and
//! `AbstractSendMessageProcessor`. Book: Part II, "The send path".

use super::{get_prop, put_message, put_status_reply, reply, set_prop, FAQ_SUFFIX};
use crate::broker::Broker;
use crate::flow_control::SendSlot;
use crate::topic::{PERM_READ, PERM_WRITE, SCHEDULE_TOPIC};
use bytes::{Buf, Bytes};
use rmq_common::message::{decode_properties, decode_record, tags_code};
use rmq_common::MessageExtBrokerInner;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::TopicConfig;
use rmq_remoting::{Connection, RemotingCommand};
use std::sync::Arc;

/// The send request header with V1 names, whichever form arrived.
pub struct SendHeader {
    pub producer_group: String,
    pub topic: String,
    pub default_topic: String,
    pub default_topic_queue_nums: i32,
    pub queue_id: i32,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub flag: i32,
    pub properties: String,
    pub reconsume_times: i32,
    pub max_reconsume_times: Option<i32>,
    pub batch: bool,
}

fn field<'a>(req: &'a RemotingCommand, v2: bool, long: &str, short: &str) -> Option<&'a str> {
    req.ext(if v2 { short } else { long })
}

fn num<T: std::str::FromStr>(
    req: &RemotingCommand,
    v2: bool,
    long: &str,
    short: &str,
    required: bool,
) -> anyhow::Result<Option<T>> {
    match field(req, v2, long, short).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(s.trim().parse::<T>().map_err(|_| {
            anyhow::anyhow!("the custom field <{long}> is not a number: {s:?}")
        })?)),
        None if required => anyhow::bail!("the custom field <{long}> is null"),
        None => Ok(None),
    }
}

// ANCHOR: send_header
impl SendHeader {
    pub fn parse(req: &RemotingCommand) -> anyhow::Result<SendHeader> {
        let v2 = matches!(
            req.code,
            rq::SEND_MESSAGE_V2 | rq::SEND_BATCH_MESSAGE | rq::SEND_REPLY_MESSAGE_V2
        );
        let s = |l: &str, sh: &str| field(req, v2, l, sh).unwrap_or("").to_string();
        let topic = field(req, v2, "topic", "b")
            .ok_or_else(|| anyhow::anyhow!("the custom field <topic> is null"))?
            .to_string();
        Ok(SendHeader {
            producer_group: s("producerGroup", "a"),
            topic,
            default_topic: s("defaultTopic", "c"),
            default_topic_queue_nums: num(req, v2, "defaultTopicQueueNums", "d", false)?
                .unwrap_or(4),
            queue_id: num(req, v2, "queueId", "e", true)?.unwrap_or(0),
            sys_flag: num(req, v2, "sysFlag", "f", false)?.unwrap_or(0),
            born_timestamp: num(req, v2, "bornTimestamp", "g", false)?.unwrap_or(0),
            flag: num(req, v2, "flag", "h", false)?.unwrap_or(0),
            properties: s("properties", "i"),
            reconsume_times: num(req, v2, "reconsumeTimes", "j", false)?.unwrap_or(0),
            max_reconsume_times: num(req, v2, "maxReconsumeTimes", "l", false)?,
            batch: field(req, v2, "batch", "m") == Some("true")
                || req.code == rq::SEND_BATCH_MESSAGE,
        })
    }
}
// ANCHOR_END: send_header

/// `TopicValidator.validateTopic` remarks.
pub fn validate_topic(topic: &str) -> Result<(), String> {
    if topic.trim().is_empty() {
        return Err("The specified topic is blank.".into());
    }
    if !topic
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '%' || c == '|' || c == '_' || c == '-')
    {
        return Err(
            "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"
                .into(),
        );
    }
    if topic.len() > 127 {
        return Err("The specified topic is longer than topic max length.".into());
    }
    Ok(())
}

// ANCHOR: send_entry
pub async fn process(
    b: &Arc<Broker>,
    ctx: &Arc<Connection>,
    req: RemotingCommand,
) -> anyhow::Result<RemotingCommand> {
    let h = match SendHeader::parse(&req) {
        Ok(h) => h,
        // Refused by the dispatcher: SYSTEM_ERROR with the reason, logged with the peer.
        Err(e) => return Err(e),
    };
    let store = b.store.clone();
    let slot = match b.flow.enter(|| store.append_started()).await {
        Ok(p) => SendSlot::holding(p),
        Err(busy) => return Ok(reply(rs::SYSTEM_BUSY, busy.remark())),
    };
    // the append releases the slot early; this covers refusals before any append
    let r = send_checked(b, ctx, &req, h, &slot).await;
    slot.release();
    r
}
// ANCHOR_END: send_entry

// ANCHOR: send_core
// ANCHOR: msg_check
/// `AbstractSendMessageProcessor.msgCheck`, the gate every send and every reply passes:
/// topic name, default-topic conflict, existence (auto-create from the default topic),
/// queue id range, write permission of order topics. Returns the topic's config, or the
/// refusal to answer with (boxed: a command is large next to a topic config).
pub fn msg_check(
    b: &Arc<Broker>,
    ctx: &Arc<Connection>,
    h: &SendHeader,
) -> Result<TopicConfig, Box<RemotingCommand>> {
    if let Err(remark) = validate_topic(&h.topic) {
        return Err(Box::new(reply(rs::SYSTEM_ERROR, remark)));
    }
    if h.topic == crate::topic::DEFAULT_TOPIC {
        return Err(Box::new(reply(
            rs::SYSTEM_ERROR,
            format!("the topic[{}] is conflict with default topic.", h.topic),
        )));
    }
    if h.topic == SCHEDULE_TOPIC {
        return Err(Box::new(reply(
            rs::NO_PERMISSION,
            format!("Sending message to topic[{}] is forbidden.", h.topic),
        )));
    }
    let mut tc = b.topics.get(&h.topic);
    if tc.is_none() {
        let sys_flag = 0;
        tc = match b.topics.create_in_send(
            &h.topic,
            &h.default_topic,
            h.default_topic_queue_nums,
            sys_flag,
        ) {
            Some((t, created)) => {
                if created {
                    b.register_now.notify_one();
                }
                Some(t)
            }
            None if h.topic.starts_with("%RETRY%") => {
                let (t, _) = b.topics.create_in_send_back(&h.topic, 1, 6, 0);
                b.register_now.notify_one();
                Some(t)
            }
            None => None,
        };
    }
    let Some(tc) = tc else {
        return Err(Box::new(reply(
            rs::TOPIC_NOT_EXIST,
            format!(
                "topic[{}] not exist, apply first please!{FAQ_SUFFIX}",
                h.topic
            ),
        )));
    };
    let max_qid = tc.write_queue_nums.max(tc.read_queue_nums);
    if h.queue_id >= max_qid {
        return Err(Box::new(reply(
            rs::SYSTEM_ERROR,
            format!(
                "request queueId[{}] is illegal, {:?} Producer: {}",
                h.queue_id,
                tc,
                ctx.remote_addr()
            ),
        )));
    }
    // 4.8.0 refuses here only for order topics on a non-writable broker; otherwise clients
    // avoid non-writable brokers through the route (such a broker registers every topic with
    // its own permission, see register::announced_topics).
    if b.cfg.broker_permission & PERM_WRITE == 0 && tc.order {
        return Err(Box::new(reply(
            rs::NO_PERMISSION,
            format!(
                "the broker[{}] sending message is forbidden",
                b.cfg.broker_ip1
            ),
        )));
    }
    Ok(tc)
}
// ANCHOR_END: msg_check

async fn send_checked(
    b: &Arc<Broker>,
    ctx: &Arc<Connection>,
    req: &RemotingCommand,
    mut h: SendHeader,
    slot: &SendSlot,
) -> anyhow::Result<RemotingCommand> {
    let tc = match msg_check(b, ctx, &h) {
        Ok(tc) => tc,
        Err(refusal) => return Ok(*refusal),
    };
    if h.queue_id < 0 {
        h.queue_id = (rand_u32() % tc.write_queue_nums.max(1) as u32) as i32;
    }
    let body = req.body.clone().unwrap_or_default();
    if body.len() > b.cfg.max_message_size {
        return Ok(reply(
            rs::MESSAGE_ILLEGAL,
            format!(
                "the message body size over max value, MAX: {}",
                b.cfg.max_message_size
            ),
        ));
    }
    let mut props = decode_properties(&h.properties);
    // ANCHOR: retry_send_dlq
    // Retry topic past its limit -> DLQ (handleRetryAndDLQ).
    if let Some(group) = h.topic.strip_prefix("%RETRY%") {
        let Some(sub) = b.subscriptions.find(group) else {
            return Ok(reply(
                rs::SUBSCRIPTION_GROUP_NOT_EXIST,
                format!("subscription group not exist, {group} {FAQ_SUFFIX}"),
            ));
        };
        let max = h.max_reconsume_times.unwrap_or(sub.retry_max_times);
        if h.reconsume_times >= max {
            let dlq = format!("%DLQ%{group}");
            let (_, created) = b.topics.create_in_send_back(&dlq, 1, PERM_WRITE, 0);
            if created {
                b.register_now.notify_one();
            }
            h.topic = dlq;
            h.queue_id = 0;
        }
    }
    // ANCHOR_END: retry_send_dlq
    set_prop(&mut props, "CLUSTER", b.cfg.broker_cluster_name.clone());
    let msg = MessageExtBrokerInner {
        topic: h.topic.clone(),
        queue_id: h.queue_id,
        flag: h.flag,
        body: body.clone(),
        properties: String::new(),
        tags_code: tags_code(get_prop(&props, "TAGS")),
        sys_flag: h.sys_flag,
        born_timestamp: h.born_timestamp,
        born_host: ctx.remote_addr(),
        store_host: b.store_host,
        reconsume_times: h.reconsume_times,
        prepared_transaction_offset: 0,
    };
    // ANCHOR: half_send
    // The half message of a transaction waits in RMQ_SYS_TRANS_HALF_TOPIC (spec 14.2).
    let mut msg = msg;
    if !h.batch && crate::transaction::is_half_send(&props, h.reconsume_times) {
        if b.transactions.cfg.reject {
            return Ok(reply(
                rs::NO_PERMISSION,
                format!(
                    "the broker[{}] sending transaction message is forbidden",
                    b.cfg.broker_ip1
                ),
            ));
        }
        crate::transaction::bridge::to_half(&mut msg, &mut props);
    }
    // ANCHOR_END: half_send
    let (status, appended) = if h.batch {
        put_batch(b, msg, &props, &body, slot).await?
    } else {
        let (s, a) = put_message(b, msg, props, slot).await?;
        (s, a.map(|a| (a.msg_id, a.logics_offset)))
    };
    let (code, remark) = put_status_reply(status);
    let mut resp = RemotingCommand::new_response(code, remark);
    if let Some(a) = appended {
        resp.put_ext("msgId", a.0);
        resp.put_ext("queueId", h.queue_id);
        resp.put_ext("queueOffset", a.1);
    }
    resp.put_ext("MSG_REGION", &b.cfg.region_id);
    resp.put_ext("TRACE_ON", "true");
    Ok(resp)
}
// ANCHOR_END: send_core

/// Stores each entry of a batch body; returns comma-joined ids and the first queue offset.
/// As in 4.8.0's `putMessages`, a DELAY in the batch's own properties makes the batch illegal,
/// and an entry's DELAY is stored as it is without delaying the entry.
async fn put_batch(
    b: &Arc<Broker>,
    template: MessageExtBrokerInner,
    batch_props: &[(String, String)],
    body: &Bytes,
    slot: &SendSlot,
) -> anyhow::Result<(rmq_store::PutMessageStatus, Option<(String, i64)>)> {
    if super::delay_level(batch_props)? > 0 {
        return Ok((rmq_store::PutMessageStatus::MessageIllegal, None));
    }
    let entries = match decode_batch(body) {
        Some(e) => e,
        None => return Ok((rmq_store::PutMessageStatus::MessageIllegal, None)),
    };
    // Each entry as a message of its own. 4.8.0 appends the batch's properties after the
    // entry's, so where both have a key the batch's value is the one readers see.
    let msgs: Vec<MessageExtBrokerInner> = entries
        .into_iter()
        .map(|(flag, ebody, eprops)| {
            let mut props = decode_properties(&eprops);
            for (k, v) in batch_props {
                set_prop(&mut props, k, v.clone());
            }
            let mut m = template.clone();
            m.flag = flag;
            m.body = ebody;
            m.tags_code = tags_code(get_prop(&props, "TAGS"));
            m.properties = rmq_common::message::encode_properties(&props);
            m
        })
        .collect();
    // One submit for the whole batch, as 4.8.0 does (in DLedger mode one entry per message).
    let wait = get_prop(batch_props, "WAIT") != Some("false");
    let (status, a) = super::put_messages(b, msgs, wait, slot).await?;
    Ok((status, a.map(|a| (a.msg_id, a.logics_offset))))
}

/// 4.8.0 batch body: repeated {totalSize, magic, bodyCRC, flag, bodyLen, body, propsLen(i16), props}.
pub fn decode_batch(mut buf: &[u8]) -> Option<Vec<(i32, Bytes, String)>> {
    let mut out = Vec::new();
    while buf.has_remaining() {
        if buf.remaining() < 20 {
            return None;
        }
        let _total = buf.get_i32();
        let _magic = buf.get_i32();
        let _crc = buf.get_i32();
        let flag = buf.get_i32();
        let len = usize::try_from(buf.get_i32()).ok()?;
        if buf.remaining() < len + 2 {
            return None;
        }
        let body = Bytes::copy_from_slice(&buf[..len]);
        buf.advance(len);
        let plen = buf.get_i16() as u16 as usize;
        if buf.remaining() < plen {
            return None;
        }
        let props = String::from_utf8_lossy(&buf[..plen]).into_owned();
        buf.advance(plen);
        out.push((flag, body, props));
    }
    (!out.is_empty()).then_some(out)
}

pub(super) fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(rmq_store::now_ms() as u64);
    h.finish() as u32
}

/// CONSUMER_SEND_MSG_BACK: the failed message goes to %RETRY%group with a delay level, or
/// to %DLQ%group after maxReconsumeTimes (spec 6.3).
pub async fn send_back(
    b: &Arc<Broker>,
    _ctx: &Arc<Connection>,
    req: RemotingCommand,
) -> anyhow::Result<RemotingCommand> {
    let offset = req.required_i64("offset")?;
    let group = req.required_ext("group")?.to_string();
    let delay_level = req.ext_i32("delayLevel")?.unwrap_or(0);
    let Some(sub) = b.subscriptions.find(&group) else {
        return Ok(reply(
            rs::SUBSCRIPTION_GROUP_NOT_EXIST,
            format!("subscription group not exist, {group} {FAQ_SUFFIX}"),
        ));
    };
    if b.cfg.broker_permission & PERM_WRITE == 0 {
        return Ok(reply(
            rs::NO_PERMISSION,
            format!(
                "the broker[{}] sending message is forbidden",
                b.cfg.broker_ip1
            ),
        ));
    }
    if sub.retry_queue_nums <= 0 {
        return Ok(super::ok());
    }
    let retry = format!("%RETRY%{group}");
    let (rtc, created) =
        b.topics
            .create_in_send_back(&retry, sub.retry_queue_nums, PERM_READ | PERM_WRITE, 0);
    if created {
        // Synchronously, as 4.8.0's createTopicInSendMessageBackMethod does.
        crate::register::register_all(b).await;
    }
    let store = b.store.clone();
    let rec = tokio::task::spawn_blocking(move || store.look_message_by_offset(offset)).await?;
    let Some((old, _)) = rec.as_deref().and_then(|r| decode_record(r).ok()) else {
        return Ok(reply(
            rs::SYSTEM_ERROR,
            format!("look message by offset failed, {offset}"),
        ));
    };
    // ANCHOR: send_back_target
    let mut props = old.properties.clone();
    if get_prop(&props, "RETRY_TOPIC").is_none() {
        set_prop(&mut props, "RETRY_TOPIC", old.topic.clone());
    }
    set_prop(&mut props, "WAIT", "false");
    let max = if req.version >= 121 {
        req.ext_i32("maxReconsumeTimes")?
            .unwrap_or(sub.retry_max_times)
    } else {
        sub.retry_max_times
    };
    let (topic, queue_id) = if old.reconsume_times >= max || delay_level < 0 {
        let dlq = format!("%DLQ%{group}");
        let (_, created) = b.topics.create_in_send_back(&dlq, 1, PERM_WRITE, 0);
        if created {
            b.register_now.notify_one();
        }
        (dlq, 0)
    } else {
        let level = if delay_level == 0 {
            3 + old.reconsume_times
        } else {
            delay_level
        };
        set_prop(&mut props, "DELAY", level.to_string());
        let q = (rand_u32() % rtc.write_queue_nums.max(1) as u32) as i32;
        (retry, q)
    };
    // ANCHOR_END: send_back_target
    if get_prop(&props, "ORIGIN_MESSAGE_ID").is_none() {
        let id = rmq_common::msgid::offset_msg_id(b.store_host, old.commit_log_offset);
        set_prop(&mut props, "ORIGIN_MESSAGE_ID", id);
    }
    let msg = MessageExtBrokerInner {
        topic,
        queue_id,
        flag: old.flag,
        body: old.body.clone(),
        properties: String::new(),
        tags_code: tags_code(get_prop(&props, "TAGS")),
        sys_flag: old.sys_flag & !0x30,
        born_timestamp: old.born_timestamp,
        born_host: old.born_host,
        store_host: b.store_host,
        reconsume_times: old.reconsume_times + 1,
        prepared_transaction_offset: 0,
    };
    let (status, _) = put_message(b, msg, props, &SendSlot::default()).await?;
    Ok(match status {
        rmq_store::PutMessageStatus::PutOk => super::ok(),
        s => reply(rs::SYSTEM_ERROR, format!("{s:?}")),
    })
}
