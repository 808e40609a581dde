//! QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15), GET_CONSUMER_LIST_BY_GROUP (38).
//! Mirrors `ConsumerManageProcessor`. Book: Part II, "Consumer offsets".

use super::reply;
use crate::broker::Broker;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::admin::GetConsumerListByGroupResponseBody;
use rmq_remoting::protocol::encode_body;
use rmq_remoting::{Connection, RemotingCommand};
use std::sync::Arc;

pub async fn process(
    b: &Arc<Broker>,
    _ctx: &Arc<Connection>,
    req: RemotingCommand,
) -> anyhow::Result<RemotingCommand> {
    match req.code {
        // ANCHOR: query_offset
        rq::QUERY_CONSUMER_OFFSET => {
            let group = req.required_ext("consumerGroup")?;
            let topic = req.required_ext("topic")?;
            let qid = req.required_i32("queueId")?;
            let off = b.offsets.query(group, topic, qid);
            if off >= 0 {
                return Ok(super::ok().with_ext("offset", off));
            }
            // No stored offset: a queue still starting at 0 answers 0 (4.8.0 also requires the
            // first message to be in page cache; this broker's store keeps it in memory).
            let min = b.store.get_min_offset_in_queue(topic, qid).max(0);
            if min <= 0 {
                Ok(super::ok().with_ext("offset", 0))
            } else {
                Ok(reply(
                    rs::QUERY_NOT_FOUND,
                    "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first",
                ))
            }
        }
        // ANCHOR_END: query_offset
        rq::UPDATE_CONSUMER_OFFSET => {
            let group = req.required_ext("consumerGroup")?;
            let topic = req.required_ext("topic")?;
            let qid = req.required_i32("queueId")?;
            let off = req.required_i64("commitOffset")?;
            b.offsets.commit(group, topic, qid, off);
            Ok(super::ok())
        }
        _ => {
            let group = req.required_ext("consumerGroup")?;
            let ids = b.consumers.client_ids(group);
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
