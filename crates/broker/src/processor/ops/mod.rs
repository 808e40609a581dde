//! The operations codes `mqadmin` sends to a broker beyond the everyday admin ones: deleting a
//! subscription group, copying offsets between groups, consume time spans and correction
//! offsets, per-broker consume statistics, cleaning consume queues, raw consume-queue reads,
//! the system topic list and the broker's statistics items.
//!
//! Each submodule holds one family of handlers; [`handles`] lists the codes so the
//! dispatcher needs one arm for all of them. Book: Part III "Operating a cluster with
//! mqadmin". Mirrors the matching methods of 4.8.0's `AdminBrokerProcessor`
//! (`deleteSubscriptionGroup`, `cloneGroupOffset`, `queryCorrectionOffset`,
//! `queryConsumeTimeSpan`, `fetchAllConsumeStatsInBroker`, `cleanExpiredConsumeQueue`,
//! `cleanUnusedTopic`, `getSystemTopicListFromBroker`, `queryConsumeQueue`,
//! `ViewBrokerStatsData`).

pub mod groups;
pub mod stats_data;
pub mod store_ops;

use super::Outcome;
use crate::broker::Broker;
use rmq_remoting::codes::request as rq;
use rmq_remoting::{Connection, RemotingCommand};
use std::sync::Arc;

// ANCHOR: ops_dispatch
/// The request codes this module serves.
pub fn handles(code: i32) -> bool {
    matches!(
        code,
        rq::DELETE_SUBSCRIPTIONGROUP
            | rq::CLONE_GROUP_OFFSET
            | rq::QUERY_CORRECTION_OFFSET
            | rq::QUERY_CONSUME_TIME_SPAN
            | rq::GET_BROKER_CONSUME_STATS
            | rq::CLEAN_EXPIRED_CONSUMEQUEUE
            | rq::CLEAN_UNUSED_TOPIC
            | rq::QUERY_CONSUME_QUEUE
            | rq::GET_SYSTEM_TOPIC_LIST_FROM_BROKER
            | rq::VIEW_BROKER_STATS_DATA
    )
}

/// Serves the codes of [`handles`].
pub async fn process(b: &Arc<Broker>, ctx: &Arc<Connection>, req: RemotingCommand) -> Outcome {
    match req.code {
        rq::DELETE_SUBSCRIPTIONGROUP => groups::delete_subscription_group(b, ctx, &req),
        rq::CLONE_GROUP_OFFSET => groups::clone_group_offset(b, ctx, &req),
        rq::QUERY_CORRECTION_OFFSET => groups::query_correction_offset(b, &req),
        rq::QUERY_CONSUME_TIME_SPAN => groups::query_consume_time_span(b, &req),
        rq::GET_BROKER_CONSUME_STATS => groups::broker_consume_stats(b, &req),
        rq::CLEAN_EXPIRED_CONSUMEQUEUE => store_ops::clean_expired_consume_queue(b, ctx).await,
        rq::CLEAN_UNUSED_TOPIC => store_ops::clean_unused_topic(b, ctx).await,
        rq::QUERY_CONSUME_QUEUE => store_ops::query_consume_queue(b, &req),
        rq::GET_SYSTEM_TOPIC_LIST_FROM_BROKER => store_ops::system_topic_list(),
        rq::VIEW_BROKER_STATS_DATA => stats_data::view_broker_stats_data(b, &req),
        code => Err(anyhow::anyhow!("request code {code} is not an operations code").into()),
    }
}
// ANCHOR_END: ops_dispatch
