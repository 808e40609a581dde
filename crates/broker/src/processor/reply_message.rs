//! SEND_REPLY_MESSAGE (324) and SEND_REPLY_MESSAGE_V2 (325): the responder's half of
//! request-reply. The reply is pushed down the requester's own connection with
//! PUSH_REPLY_MESSAGE_TO_CLIENT (326), then (with `storeReplyMessageEnable`, default true)
//! also stored in `<cluster>_REPLY_TOPIC`.
//!
//! The requester is named by the reply's `REPLY_TO_CLIENT` property: a client id that the
//! requester's heartbeat registered as a producer on this broker. The answer to the
//! responder is the *push* result; a failed store is only logged (4.8.0 does the same), and
//! a failed push still stores the reply, so nothing the responder sent is lost. A reply whose
//! requester is gone answers 1 `push reply message fail, channel of <id> not found.`.
//! Book: Part II "Request-reply". Mirrors `ReplyMessageProcessor` (`processReplyMessageRequest`,
//! `pushReplyMessage`, `handlePushReplyResult`, `handlePutMessageResult`).

use super::send::{msg_check, SendHeader};
use super::{put_message, reply};
use crate::broker::Broker;
use crate::flow_control::SendSlot;
use rmq_common::message::{decode_properties, encode_properties, keys, tags_code};
use rmq_common::MessageExtBrokerInner;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::{Connection, RemotingCommand};
use rmq_store::PutMessageStatus;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long the broker waits for the requester to acknowledge a push (`Broker2Client.callClient`).
pub const PUSH_REPLY_TIMEOUT: Duration = Duration::from_secs(10);

// ANCHOR: reply_process
pub async fn process(
    b: &Arc<Broker>,
    ctx: &Arc<Connection>,
    req: RemotingCommand,
) -> anyhow::Result<RemotingCommand> {
    let h = match SendHeader::parse(&req) {
        Ok(h) => h,
        Err(e) => return Ok(reply(rs::SYSTEM_ERROR, e.to_string())),
    };
    let tc = match msg_check(b, ctx, &h) {
        Ok(tc) => tc,
        Err(refusal) => return Ok(with_region(b, *refusal)),
    };
    let queue_id = if h.queue_id < 0 {
        (super::send::rand_u32() % tc.write_queue_nums.max(1) as u32) as i32
    } else {
        h.queue_id
    };
    let props = decode_properties(&h.properties);
    let body = req.body.clone().unwrap_or_default();
    // First push, then store: the requester is waiting, the store is a record.
    let pushed = push_reply(b, ctx, &req, &h, &props).await;
    let mut resp = match pushed {
        Ok(()) => RemotingCommand::new_response(rs::SUCCESS, None)
            .with_ext("msgId", "0")
            .with_ext("queueId", queue_id)
            .with_ext("queueOffset", 0),
        Err(remark) => reply(rs::SYSTEM_ERROR, remark),
    };
    if b.cfg.store_reply_message_enable {
        let msg = MessageExtBrokerInner {
            topic: h.topic.clone(),
            queue_id,
            flag: h.flag,
            body,
            properties: encode_properties(&props),
            tags_code: tags_code(props_get(&props, keys::TAGS)),
            // 4.8.0 copies neither the sysFlag nor adds CLUSTER to a stored reply.
            sys_flag: 0,
            born_timestamp: h.born_timestamp,
            born_host: ctx.remote_addr(),
            store_host: b.store_host,
            reconsume_times: h.reconsume_times,
            prepared_transaction_offset: 0,
        };
        match put_message(b, msg, props, &SendSlot::default()).await {
            Ok((
                PutMessageStatus::PutOk
                | PutMessageStatus::FlushDiskTimeout
                | PutMessageStatus::FlushSlaveTimeout
                | PutMessageStatus::SlaveNotAvailable,
                Some(a),
            )) => {
                resp.put_ext("msgId", a.msg_id);
                resp.put_ext("queueId", queue_id);
                resp.put_ext("queueOffset", a.logics_offset);
            }
            Ok((status, _)) => {
                tracing::warn!(topic = %h.topic, ?status, peer = %ctx.remote_addr(), "storing a reply message failed")
            }
            Err(e) => {
                tracing::warn!(topic = %h.topic, error = %e, peer = %ctx.remote_addr(), "storing a reply message failed")
            }
        }
    }
    Ok(with_region(b, resp))
}
// ANCHOR_END: reply_process

/// Every reply answer carries `MSG_REGION` and `TRACE_ON`, refusals included.
fn with_region(b: &Broker, mut resp: RemotingCommand) -> RemotingCommand {
    resp.put_ext("MSG_REGION", &b.cfg.region_id);
    resp.put_ext("TRACE_ON", "true");
    resp
}

fn props_get<'a>(props: &'a [(String, String)], k: &str) -> Option<&'a str> {
    super::get_prop(props, k)
}

// ANCHOR: push_reply
/// Sends PUSH_REPLY_MESSAGE_TO_CLIENT down the requester's connection and waits for its
/// answer; `Err` carries 4.8.0's remark for the responder.
async fn push_reply(
    b: &Arc<Broker>,
    ctx: &Arc<Connection>,
    req: &RemotingCommand,
    h: &SendHeader,
    props: &[(String, String)],
) -> Result<(), String> {
    let Some(requester) = props_get(props, keys::REPLY_TO_CLIENT) else {
        tracing::warn!(peer = %ctx.remote_addr(), "REPLY_TO_CLIENT is null, can not reply message");
        return Err(format!(
            "reply message properties[{}] is null",
            keys::REPLY_TO_CLIENT
        ));
    };
    let Some(channel) = b.producers.find_channel(requester) else {
        let remark = format!("push reply message fail, channel of <{requester}> not found.");
        tracing::warn!(peer = %ctx.remote_addr(), "{remark}");
        return Err(remark);
    };
    let mut pushed_props = props.to_vec();
    super::set_prop(
        &mut pushed_props,
        keys::PUSH_REPLY_TIME,
        rmq_store::now_ms().to_string(),
    );
    let unit_mode = req.ext(if req.code == rq::SEND_REPLY_MESSAGE_V2 {
        "k"
    } else {
        "unitMode"
    }) == Some("true");
    let push = RemotingCommand::new_request(rq::PUSH_REPLY_MESSAGE_TO_CLIENT)
        .with_ext("producerGroup", &h.producer_group)
        .with_ext("topic", &h.topic)
        .with_ext("defaultTopic", &h.default_topic)
        .with_ext("defaultTopicQueueNums", h.default_topic_queue_nums)
        .with_ext("queueId", h.queue_id)
        .with_ext("sysFlag", h.sys_flag)
        .with_ext("bornTimestamp", h.born_timestamp)
        .with_ext("flag", h.flag)
        .with_ext("properties", encode_properties(&pushed_props))
        .with_ext("reconsumeTimes", h.reconsume_times)
        .with_ext("unitMode", unit_mode)
        .with_ext("bornHost", java_socket_addr(ctx.remote_addr()))
        .with_ext("storeHost", java_socket_addr(b.store_host))
        .with_ext("storeTimestamp", rmq_store::now_ms())
        .with_body(req.body.clone().unwrap_or_default());
    let failed = format!("push reply message to {requester}fail.");
    match channel.conn.invoke(push, PUSH_REPLY_TIMEOUT).await {
        Ok(r) if r.code == rs::SUCCESS => Ok(()),
        Ok(r) => {
            tracing::warn!(requester, code = r.code, remark = ?r.remark, "push reply message returned a failure");
            Err(failed)
        }
        Err(e) => {
            tracing::warn!(requester, error = %e, "push reply message failed");
            Err(failed)
        }
    }
}
// ANCHOR_END: push_reply

/// `InetSocketAddress.toString()` of an address without a host name: `/ip:port`.
pub fn java_socket_addr(a: SocketAddr) -> String {
    format!("/{}:{}", a.ip(), a.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_addresses_print_like_java() {
        let a: SocketAddr = "127.0.0.1:10911".parse().unwrap();
        assert_eq!(java_socket_addr(a), "/127.0.0.1:10911");
    }
}
