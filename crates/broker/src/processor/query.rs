//! Offset and message lookups: GET_MAX_OFFSET (30), GET_MIN_OFFSET (31),
//! GET_EARLIEST_MSG_STORETIME (32), SEARCH_OFFSET_BY_TIMESTAMP (29), QUERY_MESSAGE (12) by key,
//! VIEW_MESSAGE_BY_ID (33). Mirrors `AdminBrokerProcessor` (offset calls) and
//! `QueryMessageProcessor`. Book: Part II, "Finding messages".

use super::reply;
use crate::broker::Broker;
use bytes::BytesMut;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::{Connection, RemotingCommand};
use std::sync::Arc;

pub async fn process(
    b: &Arc<Broker>,
    _ctx: &Arc<Connection>,
    req: RemotingCommand,
) -> anyhow::Result<RemotingCommand> {
    let store = b.store.clone();
    match req.code {
        rq::GET_MAX_OFFSET => {
            let off = store
                .get_max_offset_in_queue(req.required_ext("topic")?, req.required_i32("queueId")?);
            Ok(super::ok().with_ext("offset", off))
        }
        rq::GET_MIN_OFFSET => {
            // 4.8.0 creates a missing queue on lookup, so an unknown queue reports 0, not -1.
            let off = store
                .get_min_offset_in_queue(req.required_ext("topic")?, req.required_i32("queueId")?)
                .max(0);
            Ok(super::ok().with_ext("offset", off))
        }
        rq::GET_EARLIEST_MSG_STORETIME => {
            let ts = store
                .get_earliest_message_time(req.required_ext("topic")?, req.required_i32("queueId")?)
                .max(0);
            Ok(super::ok().with_ext("timestamp", ts))
        }
        rq::SEARCH_OFFSET_BY_TIMESTAMP => {
            let off = store.get_offset_in_queue_by_time(
                req.required_ext("topic")?,
                req.required_i32("queueId")?,
                req.required_i64("timestamp")?,
            );
            Ok(super::ok().with_ext("offset", off))
        }
        rq::QUERY_MESSAGE => {
            let topic = req.required_ext("topic")?.to_string();
            let key = req.required_ext("key")?.to_string();
            let mut max = req.ext_i32("maxNum")?.unwrap_or(32).clamp(1, 64) as usize;
            if req.ext("_UNIQUE_KEY_QUERY") == Some("true") {
                max = 32;
            }
            let begin = req.ext_i64("beginTimestamp")?.unwrap_or(0);
            let end = req.ext_i64("endTimestamp")?.unwrap_or(i64::MAX);
            let found = tokio::task::spawn_blocking(move || {
                store.query_message(&topic, &key, max, begin, end)
            })
            .await?;
            let index_ts = found.index_last_update_timestamp;
            let index_phy = found.index_last_update_phyoffset;
            let found = found.messages;
            if found.is_empty() {
                return Ok(reply(
                    rs::QUERY_NOT_FOUND,
                    "can not find message, maybe time range not correct",
                ));
            }
            let mut body = BytesMut::new();
            for m in found {
                body.extend_from_slice(&m);
            }
            Ok(super::ok()
                .with_ext("indexLastUpdateTimestamp", index_ts)
                .with_ext("indexLastUpdatePhyoffset", index_phy)
                .with_body(body.freeze()))
        }
        _ => {
            let off = req.required_i64("offset")?;
            match tokio::task::spawn_blocking(move || store.look_message_by_offset(off)).await? {
                Some(rec) => Ok(super::ok().with_body(rec)),
                None => Ok(reply(
                    rs::SYSTEM_ERROR,
                    format!("can not find message by the offset, {off}"),
                )),
            }
        }
    }
}
