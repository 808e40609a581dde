//! What a rebalancing consumer (push or lite pull) shares: this client's share of a topic's
//! queues, and where a newly owned queue starts reading.
//!
//! Clustering asks a broker for the group's client ids and lets the allocation strategy pick
//! this client's share (every member computes the same answer); broadcasting takes every
//! queue. A new queue starts at the group's stored offset, or, when there is none, where
//! `consume_from_where` says.
//! Book: Part II "Consuming, long polling and rebalancing". Mirrors
//! `RebalanceImpl.rebalanceByTopic` and `RebalancePushImpl.computePullFromWhere` (which
//! 4.8.0's `RebalanceLitePullImpl` repeats).

use rmq_remoting::protocol::{ConsumeFromWhere, MessageModel, MessageQueue};
use tracing::{debug, warn};

use crate::consumer::allocate::AllocateStrategy;
use crate::consumer::offset_store::{OffsetStore, ReadOffsetType};
use crate::instance::ClientInstance;
use crate::util::RETRY_GROUP_TOPIC_PREFIX;

/// This client's queues of `topic`, sorted; `None` when the round cannot decide now (no
/// route, no member list), in which case the caller keeps what it has.
pub async fn my_queues(
    inst: &ClientInstance,
    group: &str,
    topic: &str,
    model: MessageModel,
    strategy: &AllocateStrategy,
) -> Option<Vec<MessageQueue>> {
    let mut mq_all = inst.subscribe_queues(topic);
    if mq_all.is_empty() {
        let _ = inst.update_topic_route(topic).await;
        mq_all = inst.subscribe_queues(topic);
    }
    if mq_all.is_empty() {
        if !topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) {
            warn!(group, topic, "rebalance: no queues for topic");
        }
        return None;
    }
    mq_all.sort();
    match model {
        MessageModel::Broadcasting => Some(mq_all),
        MessageModel::Clustering => {
            let mut cids = match inst.find_consumer_id_list(topic, group).await {
                Ok(c) if !c.is_empty() => c,
                Ok(_) => return None,
                Err(e) => {
                    debug!(topic, error = %e, "rebalance: no consumer id list");
                    return None;
                }
            };
            cids.sort();
            let mut mine = strategy.allocate(inst.client_id(), &mq_all, &cids);
            mine.sort();
            Some(mine)
        }
    }
}

/// Where a newly owned queue starts: the stored offset, else per `from`; negative means
/// "cannot tell now".
pub async fn compute_pull_from_where(
    inst: &ClientInstance,
    offsets: &OffsetStore,
    mq: &MessageQueue,
    from: ConsumeFromWhere,
    timestamp_ms: i64,
) -> i64 {
    let last = offsets.read_offset(mq, ReadOffsetType::ReadFromStore).await;
    if last >= 0 {
        return last;
    }
    if last != -1 {
        return -1; // the store could not be asked
    }
    let is_retry = mq.topic.starts_with(RETRY_GROUP_TOPIC_PREFIX);
    match from {
        ConsumeFromWhere::ConsumeFromFirstOffset | ConsumeFromWhere::ConsumeFromMinOffset => 0,
        ConsumeFromWhere::ConsumeFromTimestamp if !is_retry => {
            broker_offset(inst, mq, Some(timestamp_ms)).await
        }
        _ if is_retry => 0,
        _ => broker_offset(inst, mq, None).await,
    }
}

/// The queue's max offset, or the offset at a timestamp; -1 on error.
pub async fn broker_offset(
    inst: &ClientInstance,
    mq: &MessageQueue,
    timestamp: Option<i64>,
) -> i64 {
    let Ok(addr) = inst
        .master_addr_or_refresh(&mq.broker_name, &mq.topic)
        .await
    else {
        return -1;
    };
    let t = inst.api_timeout();
    let r = match timestamp {
        Some(ts) => inst.api().search_offset(&addr, mq, ts, t).await,
        None => inst.api().get_max_offset(&addr, mq, t).await,
    };
    r.unwrap_or_else(|e| {
        warn!(queue = ?mq, error = %e, "offset lookup failed");
        -1
    })
}
