//! Store operations: CLEAN_EXPIRED_CONSUMEQUEUE (306), CLEAN_UNUSED_TOPIC (316),
//! QUERY_CONSUME_QUEUE (321) and GET_SYSTEM_TOPIC_LIST_FROM_BROKER (305).
//!
//! The two cleanups remove consume queues that point at nothing: those whose every entry is
//! below the commit log's first byte (retention deleted the messages), and those of topics the
//! broker no longer has. QUERY_CONSUME_QUEUE reads raw 20-byte entries, the view `mqadmin
//! queryCq` prints.
//! Book: Part III "Operating a cluster with mqadmin" (cleanup) and Part I "ConsumeQueue".
//! Mirrors `AdminBrokerProcessor` (`cleanExpiredConsumeQueue`, `cleanUnusedTopic`,
//! `queryConsumeQueue`, `getSystemTopicListFromBroker`).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use crate::broker::Broker;
use crate::processor::{ok, reply, Outcome};
use rmq_remoting::codes::response as rs;
use rmq_remoting::protocol::header::QueryConsumeQueueRequestHeader;
use rmq_remoting::protocol::{
    encode_body, ConsumeQueueData, QueryConsumeQueueResponseBody, TopicList,
};
use rmq_remoting::{Connection, RemotingCommand};
use rmq_store::consume_queue_ext::is_ext_addr;

/// `TopicValidator.getSystemTopicSet()` of 4.8.0.
pub const SYSTEM_TOPICS: [&str; 9] = [
    "TBW102",
    "SCHEDULE_TOPIC_XXXX",
    "BenchmarkTest",
    "RMQ_SYS_TRANS_HALF_TOPIC",
    "RMQ_SYS_TRACE_TOPIC",
    "RMQ_SYS_TRANS_OP_HALF_TOPIC",
    "TRANS_CHECK_MAX_TIME_TOPIC",
    "SELF_TEST_TOPIC",
    "OFFSET_MOVED_EVENT",
];

/// CLEAN_EXPIRED_CONSUMEQUEUE: always SUCCESS.
pub async fn clean_expired_consume_queue(b: &Arc<Broker>, ctx: &Connection) -> Outcome {
    tracing::warn!(peer = %ctx.remote_addr(), "invoke cleanExpiredConsumeQueue start.");
    let store = b.store().clone();
    let n = tokio::task::spawn_blocking(move || store.clean_expired_consume_queues()).await?;
    tracing::warn!(destroyed = n, "invoke cleanExpiredConsumeQueue end.");
    Ok(ok())
}

/// CLEAN_UNUSED_TOPIC: the consume queues of topics missing from the topic table go (the
/// schedule and transaction-op topics stay). Always SUCCESS.
pub async fn clean_unused_topic(b: &Arc<Broker>, ctx: &Connection) -> Outcome {
    tracing::warn!(peer = %ctx.remote_addr(), "invoke cleanUnusedTopic start.");
    let keep: HashSet<String> = b
        .topics()
        .snapshot()
        .topic_config_table
        .into_keys()
        .collect();
    let store = b.store().clone();
    let n = tokio::task::spawn_blocking(move || store.clean_unused_topics(&keep)).await?;
    tracing::warn!(deleted_topics = n, "invoke cleanUnusedTopic end.");
    Ok(ok())
}

/// GET_SYSTEM_TOPIC_LIST_FROM_BROKER: 4.8.0's fixed system topic set.
pub fn system_topic_list() -> Outcome {
    let body = TopicList {
        topic_list: SYSTEM_TOPICS
            .iter()
            .map(|t| t.to_string())
            .collect::<BTreeSet<_>>(),
        broker_addr: None,
    };
    Ok(ok().with_body(encode_body(&body)?))
}

/// QUERY_CONSUME_QUEUE: up to `count` entries of one queue from `index`, with the queue's
/// bounds and, when a group is named, its subscription. A queue that does not exist is
/// SYSTEM_ERROR; an index with no entry is SUCCESS with a remark and no body, as 4.8.0.
pub fn query_consume_queue(b: &Broker, req: &RemotingCommand) -> Outcome {
    let h: QueryConsumeQueueRequestHeader = req.decode_header()?;
    let topic = h.topic.clone().unwrap_or_else(|| "null".into());
    let Some(cq) = b.store().existing_consume_queue(&topic, h.queue_id) else {
        return Ok(reply(
            rs::SYSTEM_ERROR,
            format!("{}@{topic} is not exist!", h.queue_id),
        ));
    };
    let mut body = QueryConsumeQueueResponseBody {
        max_queue_index: cq.max_offset_in_queue(),
        min_queue_index: cq.min_offset_in_queue(),
        ..Default::default()
    };
    if let Some(group) = &h.consumer_group {
        let sub = b
            .consumers()
            .group(group)
            .and_then(|g| g.subscriptions.get(&topic).cloned());
        body.filter_data = Some(match &sub {
            None => format!("{group}@{topic} is not online!"),
            Some(_) => match b.filters().get(&topic, group) {
                Some(f) => serde_json::to_string_pretty(&serde_json::json!({
                    "consumerGroup": f.consumer_group,
                    "topic": f.topic,
                    "expression": f.expression,
                    "expressionType": f.expression_type,
                    "bornTime": f.born_time,
                    "deadTime": f.dead_time,
                    "clientVersion": f.client_version,
                }))
                .map_err(anyhow::Error::from)?,
                None => "null".into(),
            },
        });
        body.subscription_data = sub;
    }
    let count = usize::try_from(h.count).unwrap_or(0);
    let entries = cq.get_entries(h.index, count);
    if entries.is_empty() {
        return Ok(reply(
            rs::SUCCESS,
            format!("Index {} of {}@{topic} is not exist!", h.index, h.queue_id),
        ));
    }
    let data = entries
        .into_iter()
        .map(|e| {
            let mut one = ConsumeQueueData {
                physic_offset: e.phy_offset,
                physic_size: e.size,
                tags_code: e.tags_code,
                ..Default::default()
            };
            if is_ext_addr(e.tags_code) && cq.ext().is_some() {
                match cq.get_ext(e.tags_code) {
                    Some(unit) => {
                        one.extend_data_json = Some(
                            serde_json::json!({
                                "tagsCode": unit.tags_code,
                                "msgStoreTime": unit.msg_store_time,
                                "filterBitMap": unit.filter_bit_map,
                            })
                            .to_string(),
                        );
                    }
                    None => one.msg = Some(format!("Cq extend not exist!addr: {}", e.tags_code)),
                }
            }
            one
        })
        .collect();
    body.queue_data = Some(data);
    Ok(ok().with_body(encode_body(&body)?))
}
