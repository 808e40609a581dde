//! HEART_BEAT (34), UNREGISTER_CLIENT (35), CHECK_CLIENT_CONFIG (46), LOCK_BATCH_MQ (41),
//! UNLOCK_BATCH_MQ (42). Mirrors `ClientManageProcessor` and the lock part of
//! `AdminBrokerProcessor`. Book: Part II, "Clients and rebalancing".

use crate::broker::Broker;
use crate::client::consumer_manager::ClientChannel;
use crate::topic::{PERM_READ, PERM_WRITE};
use rmq_remoting::codes::request as rq;
use rmq_remoting::protocol::admin::{LockBatchRequestBody, LockBatchResponseBody};
use rmq_remoting::protocol::header::UnregisterClientRequestHeader;
use rmq_remoting::protocol::heartbeat::HeartbeatData;
use rmq_remoting::protocol::{decode_body, encode_body};
use rmq_remoting::{Connection, RemotingCommand};
use std::sync::Arc;
use std::time::Instant;

use super::Outcome;

/// Serves the five codes above.
pub async fn process(b: &Arc<Broker>, ctx: &Arc<Connection>, req: RemotingCommand) -> Outcome {
    match req.code {
        rq::HEART_BEAT => {
            let (resp, created_retry_topic) = heartbeat(b, ctx, &req)?;
            if created_retry_topic {
                // 4.8.0 registers synchronously here, so the consumer's rebalance right after
                // its heartbeat already finds the %RETRY% topic's route.
                crate::register::register_all(b).await;
            }
            Ok(resp)
        }
        rq::UNREGISTER_CLIENT => {
            let h: UnregisterClientRequestHeader = req.decode_header()?;
            // An empty group name counts as absent.
            if let Some(g) = h.producer_group.as_deref().filter(|g| !g.is_empty()) {
                b.producers().unregister(g, ctx.id());
            }
            if let Some(g) = h.consumer_group.as_deref().filter(|g| !g.is_empty()) {
                if b.consumers().unregister(g, ctx.id()) {
                    b.consumers().notify_ids_changed(g);
                }
                crate::filter::on_group_maybe_gone(b, g);
            }
            Ok(super::ok())
        }
        rq::CHECK_CLIENT_CONFIG => Ok(crate::filter::check_client_config(b, ctx, &req)),
        rq::LOCK_BATCH_MQ => {
            let body: LockBatchRequestBody = decode_body(req.body_bytes())?;
            let ok = b
                .locks()
                .try_lock_batch(&body.consumer_group, &body.mq_set, &body.client_id);
            let resp = LockBatchResponseBody { lock_ok_mq_set: ok };
            Ok(super::ok().with_body(encode_body(&resp)?))
        }
        _ => {
            let body: LockBatchRequestBody = decode_body(req.body_bytes())?;
            b.locks()
                .unlock_batch(&body.consumer_group, &body.mq_set, &body.client_id);
            Ok(super::ok())
        }
    }
}

// ANCHOR: heartbeat
fn heartbeat(
    b: &Arc<Broker>,
    ctx: &Arc<Connection>,
    req: &RemotingCommand,
) -> Result<(RemotingCommand, bool), super::Failure> {
    let mut created_retry_topic = false;
    let hb: HeartbeatData = decode_body(req.body_bytes())?;
    let channel = ClientChannel {
        conn: ctx.clone(),
        client_id: hb.client_id.clone(),
        language: req.language.name().to_string(),
        version: req.version,
        last_update: Instant::now(),
    };
    for c in hb.consumer_data_set {
        if let Some(sub) = b.subscriptions().find(&c.group_name) {
            let retry = crate::topic::retry_topic(&c.group_name);
            let (_, created) = b.topics().create_in_send_back(
                &retry,
                sub.retry_queue_nums.max(1),
                PERM_READ | PERM_WRITE,
                0,
            );
            created_retry_topic |= created;
        }
        crate::filter::on_heartbeat(b, ctx, &c.group_name, &c.subscription_data_set);
        let changed = b.consumers().register(
            &c.group_name,
            channel.clone(),
            c.consume_type,
            c.message_model,
            c.consume_from_where,
            c.subscription_data_set,
        );
        if changed {
            b.consumers().notify_ids_changed(&c.group_name);
        }
    }
    for p in hb.producer_data_set {
        b.producers().register(&p.group_name, channel.clone());
    }
    Ok((super::ok(), created_retry_topic))
}
// ANCHOR_END: heartbeat
