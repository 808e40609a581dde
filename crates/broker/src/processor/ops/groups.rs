//! Consumer-group operations: DELETE_SUBSCRIPTIONGROUP (207), CLONE_GROUP_OFFSET (314),
//! QUERY_CORRECTION_OFFSET (308), QUERY_CONSUME_TIME_SPAN (303) and GET_BROKER_CONSUME_STATS
//! (317).
//!
//! Deleting a group removes its `SubscriptionGroupConfig` from `subscriptionGroup.json`. It
//! does not touch the group's committed offsets (`consumerOffset.json`): 4.8.0 keeps them, so a
//! group created again under the same name resumes where it stopped (later versions added a
//! `cleanOffset` flag; 4.8.0's request has only `groupName`). With `autoCreateSubscriptionGroup`
//! on, the next heartbeat or pull of a live consumer creates the group again with defaults.
//! Book: Part III "Operating a cluster with mqadmin". Mirrors `AdminBrokerProcessor`
//! (`deleteSubscriptionGroup`, `cloneGroupOffset`, `queryCorrectionOffset`,
//! `queryConsumeTimeSpan`, `fetchAllConsumeStatsInBroker`) and `ConsumerOffsetManager`
//! (`cloneOffset`, `queryMinOffsetInAllGroup`).

use std::collections::BTreeMap;

use crate::broker::Broker;
use crate::processor::{ok, reply, Outcome};
use rmq_remoting::codes::response as rs;
use rmq_remoting::protocol::header::{
    CloneGroupOffsetRequestHeader, DeleteSubscriptionGroupRequestHeader,
    GetConsumeStatsInBrokerHeader, QueryConsumeTimeSpanRequestHeader, QueryCorrectionOffsetHeader,
};
use rmq_remoting::protocol::{
    encode_body, ConsumeStats, ConsumeStatsList, MessageQueue, OffsetWrapper,
    QueryConsumeTimeSpanBody, QueryCorrectionOffsetBody, QueueTimeSpan,
};
use rmq_remoting::{Connection, RemotingCommand};

// ANCHOR: delete_group
/// DELETE_SUBSCRIPTIONGROUP: always SUCCESS, as 4.8.0 (an unknown group is only logged).
pub fn delete_subscription_group(b: &Broker, ctx: &Connection, req: &RemotingCommand) -> Outcome {
    let h: DeleteSubscriptionGroupRequestHeader = req.decode_header()?;
    tracing::info!(peer = %ctx.remote_addr(), group = %h.group_name, "deleteSubscriptionGroup called");
    b.subscriptions().delete(&h.group_name);
    Ok(ok())
}
// ANCHOR_END: delete_group

/// CLONE_GROUP_OFFSET (314): copy the source group's committed offsets in a topic to the
/// destination group. Without `offline`, a topic the source group is online for but does not
/// subscribe to is skipped. As in 4.8.0 the copy itself uses the header's topic, so a request
/// without one copies nothing.
pub fn clone_group_offset(b: &Broker, ctx: &Connection, req: &RemotingCommand) -> Outcome {
    let h: CloneGroupOffsetRequestHeader = req.decode_header()?;
    let header_topic = h.topic.as_deref().filter(|t| !t.trim().is_empty());
    let topics = match header_topic {
        Some(t) => vec![t.to_string()],
        None => b.offsets().topics_of_group(&h.src_group),
    };
    let online = b.consumers().group(&h.src_group);
    for topic in topics {
        if b.topics().get(&topic).is_none() {
            tracing::warn!(topic, "[cloneGroupOffset] topic config not exist");
            continue;
        }
        if !h.offline {
            if let Some(info) = &online {
                if !info.subscriptions.is_empty() && !info.subscriptions.contains_key(&topic) {
                    tracing::warn!(group = %h.src_group, topic, "[cloneGroupOffset] the consumer group does not subscribe to the topic");
                    continue;
                }
            }
        }
        if let Some(t) = header_topic {
            b.offsets().clone_offset(&h.src_group, &h.dest_group, t);
        }
    }
    tracing::info!(peer = %ctx.remote_addr(), src = %h.src_group, dest = %h.dest_group, "cloneGroupOffset called");
    Ok(ok())
}

/// QUERY_CORRECTION_OFFSET (308): per queue of a topic, the smallest committed offset among
/// the groups not filtered out; a queue where the compare group is behind that minimum gets
/// `Long.MAX_VALUE`.
pub fn query_correction_offset(b: &Broker, req: &RemotingCommand) -> Outcome {
    let h: QueryCorrectionOffsetHeader = req.decode_header()?;
    let exclude: Vec<&str> = h
        .filter_groups
        .as_deref()
        .map(|f| f.split(',').collect())
        .unwrap_or_default();
    let store = b.store();
    let mut min = b.offsets().min_offset_in_groups(&h.topic, &exclude, |q| {
        store.get_min_offset_in_queue(&h.topic, q)
    });
    for (qid, compare) in b.offsets().offsets_of(&h.compare_group, &h.topic) {
        if let Some(m) = min.get_mut(&qid) {
            if *m > compare {
                *m = i64::MAX;
            }
        }
    }
    let body = QueryCorrectionOffsetBody {
        correction_offsets: min,
    };
    Ok(ok().with_body(encode_body(&body)?))
}

/// QUERY_CONSUME_TIME_SPAN (303): per write queue of the topic, the store times of the oldest
/// and newest message and of the group's last consumed one, and how long the next unconsumed
/// message has waited.
pub fn query_consume_time_span(b: &Broker, req: &RemotingCommand) -> Outcome {
    let h: QueryConsumeTimeSpanRequestHeader = req.decode_header()?;
    let topic = h.topic.as_str();
    let Some(tc) = b.topics().get(topic) else {
        return Ok(reply(
            rs::TOPIC_NOT_EXIST,
            format!("topic[{topic}] not exist"),
        ));
    };
    let store = b.store();
    let now = rmq_store::now_ms();
    let mut spans = Vec::new();
    for q in 0..tc.write_queue_nums {
        let min_time = store.get_earliest_message_time(topic, q);
        let max = store.get_max_offset_in_queue(topic, q);
        let consumer_offset = b.offsets().query(&h.group, topic, q);
        let consume_time = if consumer_offset > 0 {
            store.get_message_store_timestamp(topic, q, consumer_offset - 1)
        } else {
            min_time
        };
        let delay_time = if consumer_offset < max {
            now - store.get_message_store_timestamp(topic, q, consumer_offset)
        } else {
            0
        };
        spans.push(QueueTimeSpan {
            consume_time_stamp: consume_time,
            delay_time,
            max_time_stamp: store.get_message_store_timestamp(topic, q, max - 1),
            message_queue: queue(b, topic, q),
            min_time_stamp: min_time,
        });
    }
    let body = QueryConsumeTimeSpanBody {
        consume_time_span_set: spans,
    };
    Ok(ok().with_body(encode_body(&body)?))
}

fn queue(b: &Broker, topic: &str, queue_id: i32) -> MessageQueue {
    MessageQueue {
        broker_name: b.config().broker_name.clone(),
        queue_id,
        topic: topic.to_string(),
    }
}

/// GET_BROKER_CONSUME_STATS (317): for every subscription group, one `ConsumeStats` per topic
/// it has offsets in (only ordered topics with `isOrder`), and the total lag.
pub fn broker_consume_stats(b: &Broker, req: &RemotingCommand) -> Outcome {
    let h: GetConsumeStatsInBrokerHeader = req.decode_header()?;
    let store = b.store();
    let mut list = Vec::new();
    let mut total_diff = 0i64;
    for group in b.subscriptions().snapshot().subscription_group_table.keys() {
        let online = b.consumers().group(group);
        let mut per_topic = Vec::new();
        for topic in b.offsets().topics_of_group(group) {
            let Some(tc) = b.topics().get(&topic) else {
                tracing::warn!(topic, "consumeStats, topic config not exist");
                continue;
            };
            if h.is_order && !tc.order {
                continue;
            }
            if let Some(info) = &online {
                if !info.subscriptions.is_empty() && !info.subscriptions.contains_key(&topic) {
                    continue;
                }
            }
            let mut stats = ConsumeStats::default();
            for q in 0..tc.write_queue_nums {
                let broker_offset = store.get_max_offset_in_queue(&topic, q).max(0);
                let consumer_offset = b.offsets().query(group, &topic, q).max(0);
                let last = if consumer_offset > 0 {
                    store
                        .get_message_store_timestamp(&topic, q, consumer_offset - 1)
                        .max(0)
                } else {
                    0
                };
                total_diff += broker_offset - consumer_offset;
                stats.offset_table.0.push((
                    queue(b, &topic, q),
                    OffsetWrapper {
                        broker_offset,
                        consumer_offset,
                        last_timestamp: last,
                    },
                ));
            }
            stats.consume_tps = b.stats().group_gets.tps(&topic, group);
            per_topic.push(stats);
        }
        list.push(BTreeMap::from([(group.clone(), per_topic)]));
    }
    let body = ConsumeStatsList {
        broker_addr: b.store_host().to_string(),
        consume_stats_list: list,
        total_diff,
    };
    Ok(ok().with_body(encode_body(&body)?))
}
