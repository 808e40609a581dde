//! The operations half of [`AdminClient`]: the requests behind `mqadmin`'s cluster-operations
//! subcommands (group deletion, offset cloning, consume-queue cleanup, statistics, name-server
//! and broker configuration, write-permission wiping).
//!
//! Kept apart from `admin_client.rs` so that file stays about the everyday calls; the methods
//! are still `AdminClient`'s, as 4.8.0 puts them all on `DefaultMQAdminExt`.
//! Book: Part III "Operating a cluster with mqadmin". Mirrors the matching methods of
//! `DefaultMQAdminExtImpl` and `MQClientAPIImpl`.

use std::collections::{BTreeMap, BTreeSet};

use rmq_remoting::codes::request;
use rmq_remoting::protocol::header::DeleteSubscriptionGroupRequestHeader;
use rmq_remoting::RemotingCommand;

use super::{AdminClient, Result};

/// `MixAll.properties2String`: one `key=value` line per entry.
pub fn properties_text(props: &[(String, String)]) -> String {
    props.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

impl AdminClient {
    /// DELETE_SUBSCRIPTIONGROUP (207) on one broker: removes the group's configuration (its
    /// offsets stay, as in 4.8.0).
    pub async fn delete_subscription_group(&self, addr: &str, group: &str) -> Result<()> {
        let cmd = RemotingCommand::new_request(request::DELETE_SUBSCRIPTIONGROUP).with_header(
            &DeleteSubscriptionGroupRequestHeader {
                group_name: group.to_string(),
            },
        );
        self.broker_call(addr, cmd).await.map(|_| ())
    }

    /// UPDATE_BROKER_CONFIG (25) on one broker: the properties as `key=value` text.
    pub async fn update_broker_config(&self, addr: &str, props: &[(String, String)]) -> Result<()> {
        let cmd = RemotingCommand::new_request(request::UPDATE_BROKER_CONFIG)
            .with_body(properties_text(props).into_bytes());
        self.broker_call(addr, cmd).await.map(|_| ())
    }

    /// `CommandUtil.fetchMasterAndSlaveDistinguish`: each master address of `cluster` with
    /// its slaves' addresses; `None` when the cluster is unknown.
    pub async fn masters_and_slaves_of_cluster(
        &self,
        cluster: &str,
    ) -> Result<Option<BTreeMap<String, Vec<String>>>> {
        let info = self.examine_broker_cluster_info().await?;
        Ok(info.cluster_addr_table.get(cluster).map(|names| {
            names
                .iter()
                .filter_map(|n| info.broker_addr_table.get(n))
                .filter_map(|bd| {
                    let master = bd.master_addr()?.to_string();
                    let slaves = bd
                        .broker_addrs
                        .iter()
                        .filter(|(id, _)| **id != 0)
                        .map(|(_, a)| a.clone())
                        .collect();
                    Some((master, slaves))
                })
                .collect()
        }))
    }

    /// `getTopicClusterList`: the clusters whose brokers hold `topic`.
    pub async fn topic_cluster_list(&self, topic: &str) -> Result<BTreeSet<String>> {
        let info = self.examine_broker_cluster_info().await?;
        let route = self.examine_topic_route_info(topic).await?;
        Ok(route
            .broker_datas
            .iter()
            .filter_map(|bd| {
                info.cluster_addr_table
                    .iter()
                    .find(|(_, names)| names.contains(&bd.broker_name))
                    .map(|(c, _)| c.clone())
            })
            .collect())
    }
}
