//! Requests a broker sends *to* a client over the client's own connection: a reply for a
//! waiting request (PUSH_REPLY_MESSAGE_TO_CLIENT 326), an offset reset
//! (RESET_CONSUMER_CLIENT_OFFSET 220, oneway), the offsets of a topic
//! (GET_CONSUMER_STATUS_FROM_CLIENT 221), the running info (GET_CONSUMER_RUNNING_INFO 307)
//! and "consume this one message now" (CONSUME_MESSAGE_DIRECTLY 309).
//!
//! The last four start at an admin tool that asked a broker; the broker relays them because
//! only it holds a connection to the consumer. Each one names a consumer group; this
//! instance answers for the consumer of that group it runs, through the `ConsumerHook`
//! methods, and answers 1 `The Consumer Group <g> not exist in this consumer` when it runs
//! none. Book: Part II "Request-reply" and "Consumer offsets" (Resetting offsets).
//! Mirrors `ClientRemotingProcessor` and `MQClientInstance` (`resetOffset`,
//! `getConsumerStatus`, `consumerRunningInfo`, `consumeMessageDirectly`).

use std::collections::HashMap;
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::FutureExt;
use rmq_common::message::{decode_properties, decode_record_with, MessageExt, COMPRESSED_FLAG};
use rmq_remoting::codes::{request as rq, response as rs, version_desc, VERSION};
use rmq_remoting::protocol::fastjson::ObjectKeyMap;
use rmq_remoting::protocol::header::{
    ConsumeMessageDirectlyResultRequestHeader, GetConsumerRunningInfoRequestHeader,
    GetConsumerStatusRequestHeader, ReplyMessageRequestHeader, ResetOffsetRequestHeader,
};
use rmq_remoting::protocol::{
    decode_body, encode_body, ConsumerRunningInfo, GetConsumerStatusBody, MessageQueue,
    ResetOffsetBody, ResetOffsetBodyForC,
};
use rmq_remoting::{Connection, HeaderError, RemotingCommand};
use tracing::{info, warn};

use crate::instance::ClientInstance;
use crate::message::keys;
use crate::util::now_ms;

/// The request codes this module serves.
pub fn handles(code: i32) -> bool {
    matches!(
        code,
        rq::PUSH_REPLY_MESSAGE_TO_CLIENT
            | rq::RESET_CONSUMER_CLIENT_OFFSET
            | rq::GET_CONSUMER_STATUS_FROM_CLIENT
            | rq::GET_CONSUMER_RUNNING_INFO
            | rq::CONSUME_MESSAGE_DIRECTLY
    )
}

/// Serves one broker call; `None` sends no answer (oneway requests).
pub fn process(
    inst: ClientInstance,
    ctx: Arc<Connection>,
    req: RemotingCommand,
) -> BoxFuture<'static, Option<RemotingCommand>> {
    async move {
        match req.code {
            rq::PUSH_REPLY_MESSAGE_TO_CLIENT => Some(receive_reply(&inst, &ctx, &req)),
            rq::RESET_CONSUMER_CLIENT_OFFSET => {
                reset_offset(&inst, &ctx, &req).await;
                None
            }
            rq::GET_CONSUMER_STATUS_FROM_CLIENT => Some(consumer_status(&inst, &req)),
            rq::GET_CONSUMER_RUNNING_INFO => Some(running_info(&inst, &req)),
            _ => Some(consume_message_directly(&inst, &req).await),
        }
    }
    .boxed()
}

fn ok(body: Bytes) -> RemotingCommand {
    RemotingCommand::new_response(rs::SUCCESS, None).with_body(body)
}

fn no_such_group(group: &str) -> RemotingCommand {
    RemotingCommand::new_response(
        rs::SYSTEM_ERROR,
        format!("The Consumer Group <{group}> not exist in this consumer"),
    )
}

fn failed(e: impl std::fmt::Display) -> RemotingCommand {
    RemotingCommand::new_response(rs::SYSTEM_ERROR, e.to_string())
}

// ANCHOR: receive_reply
/// PUSH_REPLY_MESSAGE_TO_CLIENT: rebuild the reply message and wake its request.
fn receive_reply(
    inst: &ClientInstance,
    ctx: &Connection,
    req: &RemotingCommand,
) -> RemotingCommand {
    let msg = match reply_message(req) {
        Ok(m) => m,
        Err(e) => {
            warn!(broker = %ctx.remote_addr, error = %e, "unreadable reply message");
            return RemotingCommand::new_response(rs::SYSTEM_ERROR, "process reply message fail");
        }
    };
    let id = msg
        .property(keys::CORRELATION_ID)
        .unwrap_or_default()
        .to_string();
    if !inst.request_futures().complete(&id, msg.clone()) {
        // Late (the request timed out) or not ours: 4.8.0 logs and still answers success.
        warn!(
            "receive reply message, but not matched any request, CorrelationId: {id} , reply from host: {}",
            msg.born_host
        );
    }
    RemotingCommand::new_response(rs::SUCCESS, None)
}
// ANCHOR_END: receive_reply

/// The reply as a message, from the `ReplyMessageRequestHeader` fields and the body
/// (inflated when the sysFlag says so), with `ARRIVE_TIME` added.
fn reply_message(req: &RemotingCommand) -> Result<MessageExt, HeaderError> {
    let arrived = now_ms();
    let h: ReplyMessageRequestHeader = req.decode_header()?;
    let sys_flag = h.sys_flag;
    let mut body = req.body.clone().unwrap_or_default();
    if sys_flag & COMPRESSED_FLAG != 0 {
        let mut out = Vec::new();
        match flate2::read::ZlibDecoder::new(&body[..]).read_to_end(&mut out) {
            Ok(_) => body = Bytes::from(out),
            Err(e) => warn!(error = %e, "reply body does not inflate; kept as sent"),
        }
    }
    let mut properties = decode_properties(h.properties.as_deref().unwrap_or(""));
    properties.push((keys::ARRIVE_TIME.to_string(), arrived.to_string()));
    Ok(MessageExt {
        store_size: 0,
        body_crc: 0,
        queue_id: h.queue_id,
        flag: h.flag,
        queue_offset: 0,
        commit_log_offset: 0,
        sys_flag,
        born_timestamp: h.born_timestamp,
        born_host: java_socket_addr(Some(&h.born_host)),
        store_timestamp: h.store_timestamp,
        store_host: java_socket_addr(Some(&h.store_host)),
        reconsume_times: h.reconsume_times.unwrap_or(0),
        prepared_transaction_offset: 0,
        body,
        topic: h.topic,
        properties,
    })
}

/// Reads Java's `InetSocketAddress.toString()` (`/10.0.0.5:53211`, maybe `host/ip:port`);
/// 0.0.0.0:0 when it cannot.
fn java_socket_addr(text: Option<&str>) -> SocketAddr {
    let unknown = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
    let Some(text) = text else {
        return unknown;
    };
    let addr = text.rsplit('/').next().unwrap_or(text);
    let Some((ip, port)) = addr.rsplit_once(':') else {
        return unknown;
    };
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    match (ip.parse::<IpAddr>(), port.parse::<u16>()) {
        (Ok(ip), Ok(port)) => SocketAddr::new(ip, port),
        _ => unknown,
    }
}

/// The new offsets of a reset: the object-keyed form, or the list form a broker sends when
/// the admin tool spoke as a C++ client.
fn reset_table(body: &[u8]) -> Option<HashMap<MessageQueue, i64>> {
    if let Ok(b) = decode_body::<ResetOffsetBody>(body) {
        return Some(b.offset_table.0.into_iter().collect());
    }
    let b = decode_body::<ResetOffsetBodyForC>(body).ok()?;
    Some(
        b.offset_table
            .into_iter()
            .map(|e| {
                let mq = MessageQueue {
                    broker_name: e.broker_name,
                    queue_id: e.queue_id,
                    topic: e.topic,
                };
                (mq, e.offset)
            })
            .collect(),
    )
}

/// RESET_CONSUMER_CLIENT_OFFSET: the push consumer of the group moves to the offsets.
async fn reset_offset(inst: &ClientInstance, ctx: &Connection, req: &RemotingCommand) {
    let h: ResetOffsetRequestHeader = match req.decode_header() {
        Ok(h) => h,
        Err(e) => {
            warn!(broker = %ctx.remote_addr, error = %e, "reset offset header unreadable; ignored");
            return;
        }
    };
    let (topic, group) = (h.topic, h.group);
    info!(
        "invoke reset offset operation from broker. brokerAddr={}, topic={topic}, group={group}, timestamp={}",
        ctx.remote_addr, h.timestamp
    );
    let table = match req.body.as_deref() {
        None => HashMap::new(),
        Some(body) => match reset_table(body) {
            Some(t) => t,
            None => {
                warn!(broker = %ctx.remote_addr, "reset offset body unreadable; ignored");
                return;
            }
        },
    };
    match inst.consumer(&group) {
        Some(hook) => hook.reset_offset(topic, table).await,
        None => info!("[reset-offset] consumer dose not exist. group={group}"),
    }
}

/// GET_CONSUMER_STATUS_FROM_CLIENT: this client's offsets of one topic.
fn consumer_status(inst: &ClientInstance, req: &RemotingCommand) -> RemotingCommand {
    let h: GetConsumerStatusRequestHeader = match req.decode_header() {
        Ok(h) => h,
        Err(e) => return failed(e),
    };
    let mut table: Vec<(MessageQueue, i64)> = inst
        .consumer(&h.group)
        .map(|c| c.offset_table(&h.topic).into_iter().collect())
        .unwrap_or_default();
    table.sort();
    let body = GetConsumerStatusBody {
        message_queue_table: ObjectKeyMap(table),
        ..Default::default()
    };
    match encode_body(&body) {
        Ok(b) => ok(b),
        Err(e) => failed(e),
    }
}

/// GET_CONSUMER_RUNNING_INFO: the consumer's own view plus the instance's properties.
fn running_info(inst: &ClientInstance, req: &RemotingCommand) -> RemotingCommand {
    let h: GetConsumerRunningInfoRequestHeader = match req.decode_header() {
        Ok(h) => h,
        Err(e) => return failed(e),
    };
    let group = &h.consumer_group;
    let Some(mut info) = inst.consumer(group).and_then(|c| c.running_info()) else {
        return no_such_group(group);
    };
    let ns: String = inst.namesrvs().iter().map(|a| format!("{a};")).collect();
    let p = &mut info.properties;
    p.insert(ConsumerRunningInfo::PROP_NAMESERVER_ADDR.into(), ns);
    p.insert(
        ConsumerRunningInfo::PROP_CLIENT_VERSION.into(),
        version_desc(VERSION),
    );
    if h.jstack_enable {
        // There is no JVM thread dump to give; say so instead of leaving it blank.
        info.jstack = Some("jstack is not available in the Rust client".into());
    }
    match encode_body(&info) {
        Ok(b) => ok(b),
        Err(e) => failed(e),
    }
}

/// CONSUME_MESSAGE_DIRECTLY: run the group's listener on the record in the body.
async fn consume_message_directly(inst: &ClientInstance, req: &RemotingCommand) -> RemotingCommand {
    let h: ConsumeMessageDirectlyResultRequestHeader = match req.decode_header() {
        Ok(h) => h,
        Err(e) => return failed(e),
    };
    let group = h.consumer_group;
    let broker = h.broker_name.unwrap_or_default();
    let Some(hook) = inst.consumer(&group) else {
        return no_such_group(&group);
    };
    let msg = match decode_record_with(req.body_bytes(), true) {
        Ok((m, _)) => m,
        Err(e) => return failed(format!("the message in the body does not decode: {e}")),
    };
    match hook.consume_message_directly(msg, broker).await {
        Some(result) => match encode_body(&result) {
            Ok(b) => ok(b),
            Err(e) => failed(e),
        },
        None => no_such_group(&group),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_addresses_parse() {
        assert_eq!(
            java_socket_addr(Some("/127.0.0.1:10911")),
            "127.0.0.1:10911".parse().unwrap()
        );
        assert_eq!(
            java_socket_addr(Some("host.example/10.0.0.5:53211")),
            "10.0.0.5:53211".parse().unwrap()
        );
        assert_eq!(java_socket_addr(Some("garbage")).port(), 0);
        assert_eq!(java_socket_addr(None).port(), 0);
    }

    #[test]
    fn reply_header_becomes_a_message() {
        let props = [(keys::CORRELATION_ID, "x"), (keys::MSG_TYPE, "reply")]
            .map(|(k, v)| (k.to_string(), v.to_string()));
        let req = RemotingCommand::new_request(rq::PUSH_REPLY_MESSAGE_TO_CLIENT)
            .with_header(&ReplyMessageRequestHeader {
                producer_group: "PG".into(),
                topic: "C_REPLY_TOPIC".into(),
                default_topic: "TBW102".into(),
                default_topic_queue_nums: 4,
                queue_id: -1,
                sys_flag: 0,
                born_timestamp: 11,
                flag: 3,
                properties: Some(rmq_common::message::encode_properties(&props)),
                reconsume_times: None,
                unit_mode: false,
                born_host: "/127.0.0.1:1".into(),
                store_host: "/127.0.0.1:2".into(),
                store_timestamp: 12,
            })
            .with_body(Bytes::from_static(b"pong"));
        let m = reply_message(&req).unwrap();
        assert_eq!(m.topic, "C_REPLY_TOPIC");
        assert_eq!((m.flag, m.born_timestamp, m.store_timestamp), (3, 11, 12));
        assert_eq!(m.property(keys::CORRELATION_ID), Some("x"));
        assert!(m.property(keys::ARRIVE_TIME).is_some());
        assert_eq!(&m.body[..], b"pong");
        assert_eq!(m.store_host.port(), 2);
        let missing_topic = RemotingCommand::new_request(rq::PUSH_REPLY_MESSAGE_TO_CLIENT);
        assert!(reply_message(&missing_topic).is_err());
    }

    #[test]
    fn reset_bodies_in_both_forms() {
        let object = br#"{"offsetTable":{{"brokerName":"b","queueId":1,"topic":"T"}:7}}"#;
        let list = br#"{"offsetTable":[{"brokerName":"b","offset":7,"queueId":1,"topic":"T"}]}"#;
        let want: HashMap<MessageQueue, i64> = [(
            MessageQueue {
                broker_name: "b".into(),
                queue_id: 1,
                topic: "T".into(),
            },
            7,
        )]
        .into_iter()
        .collect();
        assert_eq!(reset_table(object), Some(want.clone()));
        assert_eq!(reset_table(list), Some(want));
        assert_eq!(reset_table(b"not json"), None);
    }
}
