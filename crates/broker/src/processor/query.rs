//! Offset and message lookups: GET_MAX_OFFSET (30), GET_MIN_OFFSET (31),
//! GET_EARLIEST_MSG_STORETIME (32), SEARCH_OFFSET_BY_TIMESTAMP (29), QUERY_MESSAGE (12) by key,
//! VIEW_MESSAGE_BY_ID (33). Mirrors `AdminBrokerProcessor` (offset calls) and
//! `QueryMessageProcessor`. Book: Part II, "Finding messages".

use super::{reply, Outcome};
use crate::broker::Broker;
use bytes::BytesMut;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::header::{
    GetEarliestMsgStoretimeRequestHeader, GetEarliestMsgStoretimeResponseHeader,
    GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader, GetMinOffsetRequestHeader,
    GetMinOffsetResponseHeader, QueryMessageRequestHeader, QueryMessageResponseHeader,
    SearchOffsetRequestHeader, SearchOffsetResponseHeader, ViewMessageRequestHeader,
    UNIQUE_KEY_QUERY,
};
use rmq_remoting::{Connection, RemotingCommand};
use std::sync::Arc;

/// QUERY_MESSAGE's `maxNum` when the request has none.
const DEFAULT_QUERY_MAX_NUM: i32 = 32;

/// Serves the six codes above.
pub async fn process(b: &Arc<Broker>, _ctx: &Arc<Connection>, req: RemotingCommand) -> Outcome {
    let store = b.store().clone();
    match req.code {
        rq::GET_MAX_OFFSET => {
            let h: GetMaxOffsetRequestHeader = req.decode_header()?;
            let offset = store.get_max_offset_in_queue(&h.topic, h.queue_id);
            Ok(super::ok().with_header(&GetMaxOffsetResponseHeader { offset }))
        }
        rq::GET_MIN_OFFSET => {
            let h: GetMinOffsetRequestHeader = req.decode_header()?;
            // 4.8.0 creates a missing queue on lookup, so an unknown queue reports 0, not -1.
            let offset = store.get_min_offset_in_queue(&h.topic, h.queue_id).max(0);
            Ok(super::ok().with_header(&GetMinOffsetResponseHeader { offset }))
        }
        rq::GET_EARLIEST_MSG_STORETIME => {
            let h: GetEarliestMsgStoretimeRequestHeader = req.decode_header()?;
            let timestamp = store.get_earliest_message_time(&h.topic, h.queue_id).max(0);
            Ok(super::ok().with_header(&GetEarliestMsgStoretimeResponseHeader { timestamp }))
        }
        rq::SEARCH_OFFSET_BY_TIMESTAMP => {
            let h: SearchOffsetRequestHeader = req.decode_header()?;
            let offset = store.get_offset_in_queue_by_time(&h.topic, h.queue_id, h.timestamp);
            Ok(super::ok().with_header(&SearchOffsetResponseHeader { offset }))
        }
        rq::QUERY_MESSAGE => {
            let h: QueryMessageRequestHeader = req.decode_header()?;
            let (topic, key) = (h.topic, h.key);
            let mut max = h.max_num.unwrap_or(DEFAULT_QUERY_MAX_NUM).clamp(1, 64) as usize;
            if req.ext(UNIQUE_KEY_QUERY) == Some("true") {
                max = 32;
            }
            let begin = h.begin_timestamp.unwrap_or(0);
            let end = h.end_timestamp.unwrap_or(i64::MAX);
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
                .with_header(&QueryMessageResponseHeader {
                    index_last_update_timestamp: index_ts,
                    index_last_update_phyoffset: index_phy,
                })
                .with_body(body.freeze()))
        }
        _ => {
            let off = req.decode_header::<ViewMessageRequestHeader>()?.offset;
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
