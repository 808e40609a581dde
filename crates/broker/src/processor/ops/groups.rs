//! Consumer-group operations: DELETE_SUBSCRIPTIONGROUP (207).
//!
//! Deleting a group removes its `SubscriptionGroupConfig` from `subscriptionGroup.json`. It
//! does not touch the group's committed offsets (`consumerOffset.json`): 4.8.0 keeps them, so a
//! group created again under the same name resumes where it stopped (later versions added a
//! `cleanOffset` flag; 4.8.0's request has only `groupName`). With `autoCreateSubscriptionGroup`
//! on, the next heartbeat or pull of a live consumer creates the group again with defaults.
//! Book: Part III "Operating a cluster with mqadmin". Mirrors `AdminBrokerProcessor`
//! (`deleteSubscriptionGroup`).

use crate::broker::Broker;
use crate::processor::{ok, Outcome};
use rmq_remoting::protocol::header::DeleteSubscriptionGroupRequestHeader;
use rmq_remoting::{Connection, RemotingCommand};

/// DELETE_SUBSCRIPTIONGROUP: always SUCCESS, as 4.8.0 (an unknown group is only logged).
pub fn delete_subscription_group(b: &Broker, ctx: &Connection, req: &RemotingCommand) -> Outcome {
    let h: DeleteSubscriptionGroupRequestHeader = req.decode_header()?;
    tracing::info!(peer = %ctx.remote_addr(), group = %h.group_name, "deleteSubscriptionGroup called");
    b.subscriptions().delete(&h.group_name);
    Ok(ok())
}
