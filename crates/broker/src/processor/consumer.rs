//! QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15), GET_CONSUMER_LIST_BY_GROUP (38).
//! Mirrors `ConsumerManageProcessor`. Book: Part II, "Consumer offsets".

use super::{reply, Outcome};
use crate::broker::Broker;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::admin::GetConsumerListByGroupResponseBody;
use rmq_remoting::protocol::encode_body;
use rmq_remoting::protocol::header::{
    GetConsumerListByGroupRequestHeader, QueryConsumerOffsetRequestHeader,
    QueryConsumerOffsetResponseHeader, UpdateConsumerOffsetRequestHeader,
};
use rmq_remoting::{Connection, RemotingCommand};
use std::sync::Arc;

/// Serves the three codes above.
pub async fn process(b: &Arc<Broker>, _ctx: &Arc<Connection>, req: RemotingCommand) -> Outcome {
    match req.code {
        // ANCHOR: query_offset
        rq::QUERY_CONSUMER_OFFSET => {
            let h: QueryConsumerOffsetRequestHeader = req.decode_header()?;
            let (topic, qid) = (h.topic.as_str(), h.queue_id);
            let off = b.offsets().query(&h.consumer_group, topic, qid);
            let found =
                |offset| super::ok().with_header(&QueryConsumerOffsetResponseHeader { offset });
            if off >= 0 {
                return Ok(found(off));
            }
            // No stored offset: a queue still starting at 0 answers 0 (4.8.0 also requires the
            // first message to be in page cache; this broker's store keeps it in memory).
            let min = b.store().get_min_offset_in_queue(topic, qid).max(0);
            if min <= 0 {
                Ok(found(0))
            } else {
                Ok(reply(
                    rs::QUERY_NOT_FOUND,
                    "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first",
                ))
            }
        }
        // ANCHOR_END: query_offset
        rq::UPDATE_CONSUMER_OFFSET => {
            let h: UpdateConsumerOffsetRequestHeader = req.decode_header()?;
            b.offsets()
                .commit(&h.consumer_group, &h.topic, h.queue_id, h.commit_offset);
            Ok(super::ok())
        }
        _ => {
            let h: GetConsumerListByGroupRequestHeader = req.decode_header()?;
            let group = &h.consumer_group;
            let ids = b.consumers().client_ids(group);
            if ids.is_empty() {
                return Ok(reply(
                    rs::SYSTEM_ERROR,
                    format!("no consumer for this group, {group}"),
                ));
            }
            let body = GetConsumerListByGroupResponseBody {
                consumer_id_list: ids,
            };
            Ok(super::ok().with_body(encode_body(&body)?))
        }
    }
}
