//! The operations codes `mqadmin` sends to a broker beyond the everyday admin ones: deleting a
//! subscription group, copying offsets between groups, cleaning consume queues, per-broker
//! consume statistics, the broker's statistics items and raw consume-queue reads.
//!
//! Each submodule holds one family of handlers; [`handles`] lists the codes so the
//! dispatcher needs one arm for all of them. Book: Part III "Operating a cluster with
//! mqadmin". Mirrors the matching methods of 4.8.0's `AdminBrokerProcessor`
//! (`deleteSubscriptionGroup`, `cloneGroupOffset`, `queryCorrectionOffset`,
//! `queryConsumeTimeSpan`, `fetchAllConsumeStatsInBroker`, `cleanExpiredConsumeQueue`,
//! `cleanUnusedTopic`, `getSystemTopicListFromBroker`, `queryConsumeQueue`,
//! `ViewBrokerStatsData`).

pub mod groups;

use super::Outcome;
use crate::broker::Broker;
use rmq_remoting::codes::request as rq;
use rmq_remoting::{Connection, RemotingCommand};
use std::sync::Arc;

/// The request codes this module serves.
pub fn handles(code: i32) -> bool {
    matches!(code, rq::DELETE_SUBSCRIPTIONGROUP)
}

/// Serves the codes of [`handles`].
pub async fn process(b: &Arc<Broker>, ctx: &Arc<Connection>, req: RemotingCommand) -> Outcome {
    match req.code {
        rq::DELETE_SUBSCRIPTIONGROUP => groups::delete_subscription_group(b, ctx, &req),
        code => Err(anyhow::anyhow!("request code {code} is not an operations code").into()),
    }
}
