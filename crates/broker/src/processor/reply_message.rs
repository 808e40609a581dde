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

use super::send::{msg_check, send_header, with_region};
use super::{put_message, reply, Outcome};
use crate::broker::Broker;
use crate::flow_control::SendSlot;
use rmq_common::message::{decode_properties, encode_properties, keys, tags_code};
use rmq_common::MessageExtBrokerInner;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::header::{
    ReplyMessageRequestHeader, SendMessageRequestHeader, SendMessageResponseHeader,
};
use rmq_remoting::{Connection, RemotingCommand};
use rmq_store::PutMessageStatus;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long the broker waits for the requester to acknowledge a push (`Broker2Client.callClient`).
pub const PUSH_REPLY_TIMEOUT: Duration = Duration::from_secs(10);

// ANCHOR: reply_process
/// Serves SEND_REPLY_MESSAGE and SEND_REPLY_MESSAGE_V2.
pub async fn process(b: &Arc<Broker>, ctx: &Arc<Connection>, req: RemotingCommand) -> Outcome {
    let h = match send_header(&req) {
        Ok(h) => h,
        Err(e) => return Ok(reply(rs::SYSTEM_ERROR, e.to_string())),
    };
    let tc = match msg_check(b, ctx, &h) {
        Ok(tc) => tc,
        Err(refusal) => return Ok(with_region(b, *refusal)),
    };
    let queue_id = if h.queue_id < 0 {
        super::send::random_queue_id(tc.write_queue_nums)
    } else {
        h.queue_id
    };
    let props = decode_properties(h.properties.as_deref().unwrap_or(""));
    let body = req.body.clone().unwrap_or_default();
    // First push, then store: the requester is waiting, the store is a record.
    let pushed = push_reply(b, ctx, &req, &h, &props).await;
    let pushed_only = SendMessageResponseHeader {
        msg_id: "0".into(),
        queue_id,
        queue_offset: 0,
        transaction_id: None,
    };
    let mut resp = match pushed {
        Ok(()) => RemotingCommand::new_response(rs::SUCCESS, None).with_header(&pushed_only),
        Err(remark) => reply(rs::SYSTEM_ERROR, remark),
    };
    if b.config().store_reply_message_enable {
        let msg = MessageExtBrokerInner {
            topic: h.topic.clone(),
            queue_id,
            flag: h.flag.unwrap_or(0),
            body,
            properties: encode_properties(&props),
            tags_code: tags_code(props_get(&props, keys::TAGS)),
            // 4.8.0 copies neither the sysFlag nor adds CLUSTER to a stored reply.
            sys_flag: 0,
            born_timestamp: h.born_timestamp.unwrap_or(0),
            born_host: ctx.remote_addr(),
            store_host: b.store_host(),
            reconsume_times: h.reconsume_times.unwrap_or(0),
            prepared_transaction_offset: 0,
        };
        match put_message(b, msg, props, &SendSlot::default()).await {
            Ok((
                PutMessageStatus::PutOk
                | PutMessageStatus::FlushDiskTimeout
                | PutMessageStatus::FlushSlaveTimeout
                | PutMessageStatus::SlaveNotAvailable,
                Some(a),
            )) => resp.put_header(&SendMessageResponseHeader {
                msg_id: a.msg_id,
                queue_id,
                queue_offset: a.logics_offset,
                transaction_id: None,
            }),
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
    h: &SendMessageRequestHeader,
    props: &[(String, String)],
) -> Result<(), String> {
    let Some(requester) = props_get(props, keys::REPLY_TO_CLIENT) else {
        tracing::warn!(peer = %ctx.remote_addr(), "REPLY_TO_CLIENT is null, can not reply message");
        return Err(format!(
            "reply message properties[{}] is null",
            keys::REPLY_TO_CLIENT
        ));
    };
    let Some(channel) = b.producers().find_channel(requester) else {
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
    // The requester gets the responder's header as sent, plus where it came from; a field
    // the responder left out is sent as 4.8.0 would read it (empty, 0).
    let header = ReplyMessageRequestHeader {
        producer_group: h.producer_group.clone().unwrap_or_default(),
        topic: h.topic.clone(),
        default_topic: h.default_topic.clone().unwrap_or_default(),
        default_topic_queue_nums: h.default_topic_queue_nums.unwrap_or(0),
        queue_id: h.queue_id,
        sys_flag: h.sys_flag.unwrap_or(0),
        born_timestamp: h.born_timestamp.unwrap_or(0),
        flag: h.flag.unwrap_or(0),
        properties: Some(encode_properties(&pushed_props)),
        reconsume_times: Some(h.reconsume_times.unwrap_or(0)),
        unit_mode: h.unit_mode,
        born_host: java_socket_addr(ctx.remote_addr()),
        store_host: java_socket_addr(b.store_host()),
        store_timestamp: rmq_store::now_ms(),
    };
    let push = RemotingCommand::new_request(rq::PUSH_REPLY_MESSAGE_TO_CLIENT)
        .with_header(&header)
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
