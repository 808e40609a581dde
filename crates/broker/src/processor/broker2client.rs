//! Admin calls that the broker answers by calling its consumers back: the offset reset
//! (INVOKE_BROKER_TO_RESET_OFFSET 222 -> RESET_CONSUMER_CLIENT_OFFSET 220 to every client of
//! the group), the consumer status (INVOKE_BROKER_TO_GET_CONSUMER_STATUS 223 ->
//! GET_CONSUMER_STATUS_FROM_CLIENT 221), and the two calls relayed to one client as they are
//! (GET_CONSUMER_RUNNING_INFO 307, CONSUME_MESSAGE_DIRECTLY 309).
//!
//! Consumers dial brokers; nobody dials a consumer. So an admin tool that wants to move a
//! group's offsets while it runs asks a broker, and the broker writes on the connections its
//! consumers opened. The broker computes the new offsets but does *not* store them: each
//! consumer sets them in memory, commits them, and pulls from there. When no consumer of the
//! group is online the answer is 206 (CONSUMER_NOT_ONLINE) and the admin tool falls back to
//! writing the stored offsets itself (UPDATE_CONSUMER_OFFSET, "resetOffsetByTimeOld").
//! Book: Part II "Consumer offsets" (Resetting offsets). Mirrors `Broker2Client`
//! (`resetOffset`, `getConsumeStatus`, `callClient`) and `AdminBrokerProcessor`
//! (`resetOffset`, `getConsumerStatus`, `getConsumerRunningInfo`, `consumeMessageDirectly`,
//! `callConsumer`).

use super::{reply, Outcome};
use crate::broker::Broker;
use crate::client::consumer_manager::ClientChannel;
use rmq_remoting::codes::{request as rq, response as rs, version_desc};
use rmq_remoting::language::LanguageCode;
use rmq_remoting::protocol::fastjson::ObjectKeyMap;
use rmq_remoting::protocol::header::{
    ConsumeMessageDirectlyResultRequestHeader, GetConsumerRunningInfoRequestHeader,
    GetConsumerStatusRequestHeader, ResetOffsetRequestHeader,
};
use rmq_remoting::protocol::{
    decode_body, encode_body, GetConsumerStatusBody, MessageQueue, MessageQueueForC,
    ResetOffsetBody, ResetOffsetBodyForC,
};
use rmq_remoting::{Connection, RemotingCommand, RemotingError};
use std::sync::Arc;
use std::time::Duration;

/// `MQVersion.Version.V3_0_7_SNAPSHOT.ordinal()`: the oldest client that understands 220/221.
pub const V3_0_7_SNAPSHOT: i32 = 28;
/// `MQVersion.Version.V3_1_8_SNAPSHOT.ordinal()`: the oldest client that answers 307/309.
pub const V3_1_8_SNAPSHOT: i32 = 62;
/// How long a relayed 307/309 may take (`Broker2Client.callClient`).
pub const CALL_CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one client may take to answer GET_CONSUMER_STATUS_FROM_CLIENT.
pub const CONSUMER_STATUS_TIMEOUT: Duration = Duration::from_secs(5);

/// The request codes this module serves.
pub fn handles(code: i32) -> bool {
    matches!(
        code,
        rq::INVOKE_BROKER_TO_RESET_OFFSET
            | rq::INVOKE_BROKER_TO_GET_CONSUMER_STATUS
            | rq::GET_CONSUMER_RUNNING_INFO
            | rq::CONSUME_MESSAGE_DIRECTLY
    )
}

/// Serves the four codes of [`handles`].
pub async fn process(b: &Arc<Broker>, ctx: &Arc<Connection>, req: RemotingCommand) -> Outcome {
    match req.code {
        rq::INVOKE_BROKER_TO_RESET_OFFSET => {
            let h: ResetOffsetRequestHeader = req.decode_header()?;
            let (topic, group, timestamp, force) = (&h.topic, &h.group, h.timestamp, h.is_force);
            tracing::info!(
                peer = %ctx.remote_addr(), topic, group, timestamp, force,
                "[reset-offset] reset offset started"
            );
            let for_c = req.language == LanguageCode::Cpp;
            reset_offset(b, topic, group, timestamp, force, for_c).await
        }
        rq::INVOKE_BROKER_TO_GET_CONSUMER_STATUS => {
            let h: GetConsumerStatusRequestHeader = req.decode_header()?;
            let (topic, group) = (&h.topic, &h.group);
            tracing::info!(peer = %ctx.remote_addr(), topic, group, "[get-consumer-status] asked");
            let client = h.client_addr.as_deref().filter(|c| !c.trim().is_empty());
            consumer_status(b, topic, group, client).await
        }
        rq::CONSUME_MESSAGE_DIRECTLY => consume_message_directly(b, req).await,
        _ => {
            let h: GetConsumerRunningInfoRequestHeader = req.decode_header()?;
            Ok(call_consumer(b, req, &h.consumer_group, &h.client_id).await)
        }
    }
}

// ANCHOR: reset_offset
/// `Broker2Client.resetOffset`: the target offset of every queue of `topic` on this broker,
/// sent oneway to every online client of `group`.
pub async fn reset_offset(
    b: &Arc<Broker>,
    topic: &str,
    group: &str,
    timestamp: i64,
    force: bool,
    for_c: bool,
) -> Outcome {
    let Some(tc) = b.topics().get(topic) else {
        tracing::error!(
            "[reset-offset] reset offset failed, no topic in this broker. topic={topic}"
        );
        return Ok(reply(
            rs::SYSTEM_ERROR,
            format!("[reset-offset] reset offset failed, no topic in this broker. topic={topic}"),
        ));
    };
    let mut table = Vec::new();
    for q in 0..tc.write_queue_nums {
        let consumer_offset = b.offsets().query(group, topic, q);
        if consumer_offset == -1 {
            return Ok(reply(
                rs::SYSTEM_ERROR,
                format!("THe consumer group <{group}> not exist"),
            ));
        }
        let mut target = if timestamp == -1 {
            b.store().get_max_offset_in_queue(topic, q)
        } else {
            b.store().get_offset_in_queue_by_time(topic, q, timestamp)
        };
        if target < 0 {
            tracing::warn!(
                "reset offset is invalid. topic={topic}, queueId={q}, timeStampOffset={target}"
            );
            target = 0;
        }
        // Without force an offset only moves backwards.
        let new = if force || target < consumer_offset {
            target
        } else {
            consumer_offset
        };
        table.push((mq(b, topic, q), new));
    }
    let body = if for_c {
        let list = table
            .iter()
            .map(|(m, o)| MessageQueueForC {
                broker_name: m.broker_name.clone(),
                offset: *o,
                queue_id: m.queue_id,
                topic: m.topic.clone(),
            })
            .collect();
        encode_body(&ResetOffsetBodyForC { offset_table: list })?
    } else {
        encode_body(&ResetOffsetBody {
            offset_table: ObjectKeyMap(table.clone()),
        })?
    };
    let channels = online_channels(b, group);
    if channels.is_empty() {
        let remark = format!(
            "Consumer not online, so can not reset offset, Group: {group} Topic: {topic} Timestamp: {timestamp}"
        );
        tracing::error!("{remark}");
        return Ok(reply(rs::CONSUMER_NOT_ONLINE, remark));
    }
    if let Some(old) = channels.iter().find(|c| c.version < V3_0_7_SNAPSHOT) {
        return Ok(too_old(old));
    }
    for c in &channels {
        // 4.8.0 tells the client isForce=false: the offsets in the body are final.
        let cmd = RemotingCommand::new_request(rq::RESET_CONSUMER_CLIENT_OFFSET)
            .with_header(&ResetOffsetRequestHeader {
                topic: topic.to_string(),
                group: group.to_string(),
                timestamp,
                is_force: false,
            })
            .with_body(body.clone());
        match c.conn.send_oneway(cmd).await {
            Ok(()) => tracing::info!(
                "[reset-offset] reset offset success. topic={topic}, group={group}, clientId={}",
                c.client_id
            ),
            Err(e) => tracing::error!(
                "[reset-offset] reset offset exception. topic={topic}, group={group}, error={e}"
            ),
        }
    }
    let resp = ResetOffsetBody {
        offset_table: ObjectKeyMap(table),
    };
    Ok(super::ok().with_body(encode_body(&resp)?))
}
// ANCHOR_END: reset_offset

fn mq(b: &Broker, topic: &str, queue_id: i32) -> MessageQueue {
    MessageQueue {
        broker_name: b.config().broker_name.clone(),
        queue_id,
        topic: topic.to_string(),
    }
}

fn online_channels(b: &Broker, group: &str) -> Vec<ClientChannel> {
    let mut v: Vec<ClientChannel> = b
        .consumers()
        .group(group)
        .map(|g| g.channels.into_values().collect())
        .unwrap_or_default();
    v.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    v
}

fn too_old(c: &ClientChannel) -> RemotingCommand {
    tracing::warn!(
        client = %c.conn.remote_addr(), version = %version_desc(c.version),
        "the client does not support this feature"
    );
    reply(
        rs::SYSTEM_ERROR,
        format!(
            "the client does not support this feature. version={}",
            version_desc(c.version)
        ),
    )
}

/// `Broker2Client.getConsumeStatus`: each client's offsets of `topic`, asked one by one
/// (or only `client` when given); a client that fails or times out is left out.
pub async fn consumer_status(
    b: &Arc<Broker>,
    topic: &str,
    group: &str,
    client: Option<&str>,
) -> Outcome {
    let channels = online_channels(b, group);
    if channels.is_empty() {
        return Ok(reply(
            rs::SYSTEM_ERROR,
            format!("No Any Consumer online in the consumer group: [{group}]"),
        ));
    }
    let mut out = GetConsumerStatusBody::default();
    for c in &channels {
        if c.version < V3_0_7_SNAPSHOT {
            return Ok(too_old(c));
        }
        if client.is_some_and(|id| id != c.client_id) {
            continue;
        }
        let cmd = RemotingCommand::new_request(rq::GET_CONSUMER_STATUS_FROM_CLIENT).with_header(
            &GetConsumerStatusRequestHeader {
                topic: topic.to_string(),
                group: group.to_string(),
                client_addr: None,
            },
        );
        match c.conn.invoke(cmd, CONSUMER_STATUS_TIMEOUT).await {
            Ok(r) if r.code == rs::SUCCESS && r.body.is_some() => {
                match decode_body::<GetConsumerStatusBody>(r.body_bytes()) {
                    Ok(body) => {
                        out.consumer_table
                            .insert(c.client_id.clone(), body.message_queue_table);
                    }
                    Err(e) => tracing::warn!(client = %c.client_id, error = %e, "[get-consumer-status] bad body"),
                }
            }
            Ok(r) => tracing::warn!(client = %c.client_id, code = r.code, "[get-consumer-status] refused"),
            Err(e) => tracing::error!(
                "[get-consumer-status] get consumer status exception. topic={topic}, group={group}, error={e}"
            ),
        }
        if client.is_some() {
            break;
        }
    }
    Ok(super::ok().with_body(encode_body(&out)?))
}

/// `AdminBrokerProcessor.callConsumer`: relays the request (same code, extFields and body)
/// to the named client and returns that client's answer as the reply.
pub async fn call_consumer(
    b: &Arc<Broker>,
    req: RemotingCommand,
    group: &str,
    client_id: &str,
) -> RemotingCommand {
    let Some(c) = online_channels(b, group)
        .into_iter()
        .find(|c| c.client_id == client_id)
    else {
        return reply(
            rs::SYSTEM_ERROR,
            format!("The Consumer <{group}> <{client_id}> not online"),
        );
    };
    if c.version < V3_1_8_SNAPSHOT {
        return reply(
            rs::SYSTEM_ERROR,
            format!(
                "The Consumer <{client_id}> Version <{}> too low to finish, please upgrade it to V3_1_8_SNAPSHOT",
                version_desc(c.version)
            ),
        );
    }
    let mut fwd = RemotingCommand::new_request(req.code);
    fwd.ext_fields = req.ext_fields;
    fwd.body = req.body;
    match c.conn.invoke(fwd, CALL_CLIENT_TIMEOUT).await {
        Ok(mut r) => {
            r.opaque = 0;
            r
        }
        Err(e @ RemotingError::Timeout { .. }) => reply(
            rs::CONSUME_MSG_TIMEOUT,
            format!("consumer <{group}> <{client_id}> Timeout: {e}"),
        ),
        Err(e) => reply(
            rs::SYSTEM_ERROR,
            format!("invoke consumer <{group}> <{client_id}> Exception: {e}"),
        ),
    }
}

/// CONSUME_MESSAGE_DIRECTLY: the broker adds its name and the stored record of `msgId`, then
/// relays to the client, which runs its listener on that one message.
async fn consume_message_directly(b: &Arc<Broker>, mut req: RemotingCommand) -> Outcome {
    let mut h: ConsumeMessageDirectlyResultRequestHeader = req.decode_header()?;
    // Both are optional in the header class; without them there is nothing to relay.
    let (Some(client_id), Some(msg_id)) = (h.client_id.clone(), h.msg_id.clone()) else {
        return Ok(reply(
            rs::SYSTEM_ERROR,
            "CONSUME_MESSAGE_DIRECTLY needs a client id and a message id",
        ));
    };
    let group = h.consumer_group.clone();
    h.broker_name = Some(b.config().broker_name.clone());
    req.put_header(&h);
    let record = match rmq_common::msgid::decode_offset_msg_id(&msg_id) {
        Ok((_, offset)) => {
            let store = b.store().clone();
            tokio::task::spawn_blocking(move || store.look_message_by_offset(offset)).await?
        }
        Err(e) => {
            return Ok(reply(
                rs::SYSTEM_ERROR,
                format!("the msgId {msg_id} is not an offset message id: {e}"),
            ))
        }
    };
    let Some(record) = record else {
        return Ok(reply(
            rs::SYSTEM_ERROR,
            format!("can not find message by the msgId {msg_id}"),
        ));
    };
    req.body = Some(record);
    Ok(call_consumer(b, req, &group, &client_id).await)
}
