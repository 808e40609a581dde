//! SEND_MESSAGE (10), SEND_MESSAGE_V2 (310, one-letter header names), SEND_BATCH_MESSAGE (320)
//! and CONSUMER_SEND_MSG_BACK (36): validation, topic auto-create, retry/DLQ routing, flow
//! control, append, and the send response header. Mirrors `SendMessageProcessor` and
//! `AbstractSendMessageProcessor`. Book: Part II, "The send path".

use super::{get_prop, put_message, put_status_reply, reply, set_prop, Outcome, FAQ_SUFFIX};
use crate::broker::Broker;
use crate::flow_control::SendSlot;
use crate::topic::{
    dlq_topic, retry_topic, PERM_READ, PERM_WRITE, RETRY_GROUP_TOPIC_PREFIX, SCHEDULE_TOPIC,
};
use bytes::{Buf, Bytes};
use rmq_common::message::{
    decode_properties, decode_record, keys, tags_code, BORNHOST_V6_FLAG, STOREHOST_V6_FLAG,
};
use rmq_common::MessageExtBrokerInner;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::header::{
    ConsumerSendMsgBackRequestHeader, SendMessageRequestHeader, SendMessageResponseHeader,
};
use rmq_remoting::protocol::TopicConfig;
use rmq_remoting::{Connection, HeaderError, RemotingCommand};
use std::sync::Arc;

/// The queue count a topic created on first use gets when the send names none
/// (`defaultTopicQueueNums` absent).
pub const DEFAULT_TOPIC_QUEUE_NUMS: i32 = 4;

// ANCHOR: send_header
/// Reads the send header of any send code. `from_request` (rmq-remoting) reads the V2
/// form, one-letter keys, for SEND_MESSAGE_V2, SEND_BATCH_MESSAGE and SEND_REPLY_MESSAGE_V2
/// and converts it to V1; SEND_BATCH_MESSAGE always carries a batch, whatever `batch` says.
pub fn send_header(req: &RemotingCommand) -> Result<SendMessageRequestHeader, HeaderError> {
    let mut h = SendMessageRequestHeader::from_request(req)?;
    h.batch |= req.code == rq::SEND_BATCH_MESSAGE;
    Ok(h)
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
/// Serves SEND_MESSAGE, SEND_MESSAGE_V2 and SEND_BATCH_MESSAGE.
pub async fn process(b: &Arc<Broker>, ctx: &Arc<Connection>, req: RemotingCommand) -> Outcome {
    // A header that cannot be read is refused by the dispatcher: SYSTEM_ERROR with the
    // reason, logged with the peer.
    let h = send_header(&req)?;
    let store = b.store().clone();
    let slot = match b.flow().enter(|| store.append_started()).await {
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
/// `AbstractSendMessageProcessor.msgCheck`, the gate every send and every reply passes:
/// topic name, default-topic conflict, existence (auto-create from the default topic),
/// queue id range, write permission of order topics. Returns the topic's config, or the
/// refusal to answer with (boxed: a command is large next to a topic config).
pub fn msg_check(
    b: &Arc<Broker>,
    ctx: &Arc<Connection>,
    h: &SendMessageRequestHeader,
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
    let mut tc = b.topics().get(&h.topic);
    if tc.is_none() {
        let sys_flag = 0;
        tc = match b.topics().create_in_send(
            &h.topic,
            h.default_topic.as_deref().unwrap_or(""),
            h.default_topic_queue_nums
                .unwrap_or(DEFAULT_TOPIC_QUEUE_NUMS),
            sys_flag,
        ) {
            Some((t, created)) => {
                if created {
                    b.register_now();
                }
                Some(t)
            }
            None if h.topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) => {
                let (t, _) = b.topics().create_in_send_back(&h.topic, 1, 6, 0);
                b.register_now();
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
    if b.config().broker_permission & PERM_WRITE == 0 && tc.order {
        return Err(Box::new(reply(
            rs::NO_PERMISSION,
            format!(
                "the broker[{}] sending message is forbidden",
                b.config().broker_ip1
            ),
        )));
    }
    Ok(tc)
}

async fn send_checked(
    b: &Arc<Broker>,
    ctx: &Arc<Connection>,
    req: &RemotingCommand,
    mut h: SendMessageRequestHeader,
    slot: &SendSlot,
) -> Outcome {
    let tc = match msg_check(b, ctx, &h) {
        Ok(tc) => tc,
        Err(refusal) => return Ok(*refusal),
    };
    if h.queue_id < 0 {
        h.queue_id = random_queue_id(tc.write_queue_nums);
    }
    // No size check here: as in 4.8.0, the commit log refuses a message longer than
    // `maxMessageSize` (MESSAGE_SIZE_EXCEEDED), which answers MESSAGE_ILLEGAL below.
    let body = req.body.clone().unwrap_or_default();
    let mut props = decode_properties(h.properties.as_deref().unwrap_or(""));
    let reconsume_times = h.reconsume_times.unwrap_or(0);
    // ANCHOR: retry_send_dlq
    // Retry topic past its limit -> DLQ (handleRetryAndDLQ).
    if let Some(group) = h.topic.strip_prefix(RETRY_GROUP_TOPIC_PREFIX) {
        let Some(sub) = b.subscriptions().find(group) else {
            return Ok(reply(
                rs::SUBSCRIPTION_GROUP_NOT_EXIST,
                format!("subscription group not exist, {group} {FAQ_SUFFIX}"),
            ));
        };
        let max = h.max_reconsume_times.unwrap_or(sub.retry_max_times);
        if reconsume_times >= max {
            let dlq = dlq_topic(group);
            let (_, created) = b.topics().create_in_send_back(&dlq, 1, PERM_WRITE, 0);
            if created {
                b.register_now();
            }
            h.topic = dlq;
            h.queue_id = 0;
        }
    }
    // ANCHOR_END: retry_send_dlq
    set_prop(
        &mut props,
        keys::CLUSTER,
        b.config().broker_cluster_name.clone(),
    );
    let msg = MessageExtBrokerInner {
        topic: h.topic.clone(),
        queue_id: h.queue_id,
        flag: h.flag.unwrap_or(0),
        body: body.clone(),
        properties: String::new(),
        tags_code: tags_code(get_prop(&props, keys::TAGS)),
        sys_flag: h.sys_flag.unwrap_or(0),
        born_timestamp: h.born_timestamp.unwrap_or(0),
        born_host: ctx.remote_addr(),
        store_host: b.store_host(),
        reconsume_times,
        prepared_transaction_offset: 0,
    };
    // ANCHOR: half_send
    // The half message of a transaction waits in RMQ_SYS_TRANS_HALF_TOPIC (spec 14.2).
    let mut msg = msg;
    if !h.batch && crate::transaction::is_half_send(&props, reconsume_times) {
        if b.config().transaction.reject {
            return Ok(reply(
                rs::NO_PERMISSION,
                format!(
                    "the broker[{}] sending transaction message is forbidden",
                    b.config().broker_ip1
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
    if let (rmq_store::PutMessageStatus::PutOk, Some((ids, _))) = (&status, &appended) {
        // TOPIC_PUT_NUMS counts every message of a batch (`statsAll`'s InTPS).
        let n = ids.split(',').count() as u64;
        b.stats().topic_puts.add(&h.topic, n);
    }
    let (code, remark) = put_status_reply(status);
    let mut resp = RemotingCommand::new_response(code, remark);
    if let Some((msg_id, queue_offset)) = appended {
        resp.put_header(&SendMessageResponseHeader {
            msg_id,
            queue_id: h.queue_id,
            queue_offset,
            transaction_id: None,
        });
    }
    Ok(with_region(b, resp))
}
// ANCHOR_END: send_core

/// Every send answer carries `MSG_REGION` and `TRACE_ON` besides the header, refusals of
/// a reply included (4.8.0 adds them to the extFields).
pub fn with_region(b: &Broker, mut resp: RemotingCommand) -> RemotingCommand {
    resp.put_ext(keys::MSG_REGION, &b.config().region_id);
    resp.put_ext(keys::TRACE_ON, "true");
    resp
}

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
            m.tags_code = tags_code(get_prop(&props, keys::TAGS));
            m.properties = rmq_common::message::encode_properties(&props);
            m
        })
        .collect();
    // One put for the whole batch; the cluster mode decides how it is stored.
    let wait = get_prop(batch_props, keys::WAIT) != Some("false");
    let (status, stored) = b.replication().put_batch(b, msgs, wait, slot).await?;
    Ok((status, stored.map(|s| (s.msg_ids, s.first_queue_offset))))
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

/// A queue of a topic with `write_queue_nums` writable queues, chosen at random: where a
/// send that names no queue (queueId < 0), a send-back and a reply go, as 4.8.0 picks one
/// with `random.nextInt() % writeQueueNums`.
pub(super) fn random_queue_id(write_queue_nums: i32) -> i32 {
    use rand::Rng;
    rand::thread_rng().gen_range(0..write_queue_nums.max(1))
}

/// `MQVersion.Version.V3_4_9.ordinal()`: the oldest client whose send-back carries
/// `maxReconsumeTimes`.
const V3_4_9: i32 = 121;

/// CONSUMER_SEND_MSG_BACK: the failed message goes to %RETRY%group with a delay level, or
/// to %DLQ%group after maxReconsumeTimes (spec 6.3).
pub async fn send_back(b: &Arc<Broker>, req: RemotingCommand) -> Outcome {
    let h: ConsumerSendMsgBackRequestHeader = req.decode_header()?;
    let (offset, group) = (h.offset, h.group);
    let delay_level = h.delay_level.unwrap_or(0);
    let Some(sub) = b.subscriptions().find(&group) else {
        return Ok(reply(
            rs::SUBSCRIPTION_GROUP_NOT_EXIST,
            format!("subscription group not exist, {group} {FAQ_SUFFIX}"),
        ));
    };
    if b.config().broker_permission & PERM_WRITE == 0 {
        return Ok(reply(
            rs::NO_PERMISSION,
            format!(
                "the broker[{}] sending message is forbidden",
                b.config().broker_ip1
            ),
        ));
    }
    if sub.retry_queue_nums <= 0 {
        return Ok(super::ok());
    }
    let retry = retry_topic(&group);
    let (rtc, created) =
        b.topics()
            .create_in_send_back(&retry, sub.retry_queue_nums, PERM_READ | PERM_WRITE, 0);
    if created {
        // Synchronously, as 4.8.0's createTopicInSendMessageBackMethod does.
        crate::register::register_all(b).await;
    }
    let store = b.store().clone();
    let rec = tokio::task::spawn_blocking(move || store.look_message_by_offset(offset)).await?;
    let Some((old, _)) = rec.as_deref().and_then(|r| decode_record(r).ok()) else {
        return Ok(reply(
            rs::SYSTEM_ERROR,
            format!("look message by offset failed, {offset}"),
        ));
    };
    // ANCHOR: send_back_target
    let mut props = old.properties.clone();
    if get_prop(&props, keys::RETRY_TOPIC).is_none() {
        set_prop(&mut props, keys::RETRY_TOPIC, old.topic.clone());
    }
    set_prop(&mut props, keys::WAIT, "false");
    let max = if req.version >= V3_4_9 {
        h.max_reconsume_times.unwrap_or(sub.retry_max_times)
    } else {
        sub.retry_max_times
    };
    let (topic, queue_id) = if old.reconsume_times >= max || delay_level < 0 {
        let dlq = dlq_topic(&group);
        let (_, created) = b.topics().create_in_send_back(&dlq, 1, PERM_WRITE, 0);
        if created {
            b.register_now();
        }
        (dlq, 0)
    } else {
        let level = if delay_level == 0 {
            3 + old.reconsume_times
        } else {
            delay_level
        };
        set_prop(&mut props, keys::DELAY, level.to_string());
        let q = random_queue_id(rtc.write_queue_nums);
        (retry, q)
    };
    // ANCHOR_END: send_back_target
    if get_prop(&props, keys::ORIGIN_MESSAGE_ID).is_none() {
        let id = rmq_common::msgid::offset_msg_id(b.store_host(), old.commit_log_offset);
        set_prop(&mut props, keys::ORIGIN_MESSAGE_ID, id);
    }
    let msg = MessageExtBrokerInner {
        topic,
        queue_id,
        flag: old.flag,
        body: old.body.clone(),
        properties: String::new(),
        tags_code: tags_code(get_prop(&props, keys::TAGS)),
        // the host flags describe the old record's addresses, not this one's
        sys_flag: old.sys_flag & !(BORNHOST_V6_FLAG | STOREHOST_V6_FLAG),
        born_timestamp: old.born_timestamp,
        born_host: old.born_host,
        store_host: b.store_host(),
        reconsume_times: old.reconsume_times + 1,
        prepared_transaction_offset: 0,
    };
    let (status, _) = put_message(b, msg, props, &SendSlot::default()).await?;
    Ok(match status {
        rmq_store::PutMessageStatus::PutOk => super::ok(),
        s => reply(rs::SYSTEM_ERROR, format!("{s:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::random_queue_id;

    #[test]
    fn a_random_queue_is_one_of_the_topics_queues() {
        let mut seen = [false; 4];
        for _ in 0..1000 {
            let q = random_queue_id(4);
            assert!((0..4).contains(&q), "{q}");
            seen[q as usize] = true;
        }
        assert!(seen.iter().all(|s| *s), "every queue is picked: {seen:?}");
        // a topic without writable queues (refused later) still gets a valid index
        assert_eq!(random_queue_id(0), 0);
    }
}
