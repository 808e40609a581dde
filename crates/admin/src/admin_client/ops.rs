//! The operations half of [`AdminClient`]: the requests behind `mqadmin`'s cluster-operations
//! subcommands (group deletion, offset cloning, consume-queue cleanup, statistics, name-server
//! and broker configuration, write-permission wiping).
//!
//! Kept apart from `admin_client.rs` so that file stays about the everyday calls; the methods
//! are still `AdminClient`'s, as 4.8.0 puts them all on `DefaultMQAdminExt`.
//! Book: Part III "Operating a cluster with mqadmin". Mirrors the matching methods of
//! `DefaultMQAdminExtImpl` and `MQClientAPIImpl`.

use std::collections::{BTreeMap, BTreeSet};

use std::time::Duration;

use rmq_client::MessageQueue;
use rmq_remoting::codes::request;
use rmq_remoting::protocol::header::{
    DeleteKVConfigRequestHeader, DeleteSubscriptionGroupRequestHeader,
    GetConsumeStatsInBrokerHeader, GetConsumerRunningInfoRequestHeader,
    QueryConsumeQueueRequestHeader, ViewBrokerStatsDataRequestHeader,
    WipeWritePermOfBrokerRequestHeader, WipeWritePermOfBrokerResponseHeader,
};
use rmq_remoting::protocol::{
    BrokerStatsData, ConsumeStatsList, ConsumerRunningInfo, QueryConsumeQueueResponseBody,
};
use rmq_remoting::RemotingCommand;

use super::{AdminClient, AdminError, Result};

/// Reads `key=value` properties text (comments and blank lines skipped).
pub fn parse_properties_text(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

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

    /// CLEAN_EXPIRED_CONSUMEQUEUE (306) on one broker; true on SUCCESS.
    pub async fn clean_expired_consume_queue(&self, addr: &str) -> Result<bool> {
        let cmd = RemotingCommand::new_request(request::CLEAN_EXPIRED_CONSUMEQUEUE);
        self.broker_call(addr, cmd).await.map(|_| true)
    }

    /// CLEAN_UNUSED_TOPIC (316) on one broker; true on SUCCESS.
    pub async fn clean_unused_topic(&self, addr: &str) -> Result<bool> {
        let cmd = RemotingCommand::new_request(request::CLEAN_UNUSED_TOPIC);
        self.broker_call(addr, cmd).await.map(|_| true)
    }

    /// WIPE_WRITE_PERM_OF_BROKER (205) on one name server: how many topic routes lost the
    /// broker's write permission.
    pub async fn wipe_write_perm_of_broker(&self, namesrv: &str, broker_name: &str) -> Result<i32> {
        let cmd = RemotingCommand::new_request(request::WIPE_WRITE_PERM_OF_BROKER).with_header(
            &WipeWritePermOfBrokerRequestHeader {
                broker_name: broker_name.to_string(),
            },
        );
        let resp = self.broker_call(namesrv, cmd).await?;
        let h: WipeWritePermOfBrokerResponseHeader = resp
            .decode_header()
            .map_err(rmq_client::ClientError::from)?;
        Ok(h.wipe_topic_count)
    }

    /// DELETE_KV_CONFIG (102) on every name server.
    pub async fn delete_kv_config(&self, namespace: &str, key: &str) -> Result<()> {
        for addr in self.namesrv_addrs() {
            let cmd = RemotingCommand::new_request(request::DELETE_KV_CONFIG).with_header(
                &DeleteKVConfigRequestHeader {
                    namespace: namespace.to_string(),
                    key: key.to_string(),
                },
            );
            self.broker_call(addr, cmd).await?;
        }
        Ok(())
    }

    /// GET_NAMESRV_CONFIG (319) on each of `addrs`: its properties.
    pub async fn get_namesrv_config(
        &self,
        addrs: &[String],
    ) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
        let mut all = BTreeMap::new();
        for addr in addrs {
            let cmd = RemotingCommand::new_request(request::GET_NAMESRV_CONFIG);
            let resp = self.broker_call(addr, cmd).await?;
            let text = String::from_utf8_lossy(resp.body_bytes());
            all.insert(addr.clone(), parse_properties_text(&text));
        }
        Ok(all)
    }

    /// UPDATE_NAMESRV_CONFIG (318) on each of `addrs`.
    pub async fn update_namesrv_config(
        &self,
        addrs: &[String],
        props: &[(String, String)],
    ) -> Result<()> {
        for addr in addrs {
            let cmd = RemotingCommand::new_request(request::UPDATE_NAMESRV_CONFIG)
                .with_body(properties_text(props).into_bytes());
            self.broker_call(addr, cmd).await?;
        }
        Ok(())
    }

    /// VIEW_BROKER_STATS_DATA (315): one statistics item of one broker.
    pub async fn view_broker_stats_data(
        &self,
        addr: &str,
        stats_name: &str,
        stats_key: &str,
    ) -> Result<BrokerStatsData> {
        let cmd = RemotingCommand::new_request(request::VIEW_BROKER_STATS_DATA).with_header(
            &ViewBrokerStatsDataRequestHeader {
                stats_name: stats_name.to_string(),
                stats_key: stats_key.to_string(),
            },
        );
        let resp = self.broker_call(addr, cmd).await?;
        Self::body(&resp, addr)
    }

    /// GET_BROKER_CONSUME_STATS (317): every group's consume stats on one broker.
    pub async fn fetch_consume_stats_in_broker(
        &self,
        addr: &str,
        is_order: bool,
        timeout: Duration,
    ) -> Result<ConsumeStatsList> {
        let cmd = RemotingCommand::new_request(request::GET_BROKER_CONSUME_STATS)
            .with_header(&GetConsumeStatsInBrokerHeader { is_order });
        let resp = self.invoke(addr, cmd, timeout).await?;
        let resp = Self::success(resp, Some(addr))?;
        Self::body(&resp, addr)
    }

    /// QUERY_CONSUME_QUEUE (321): raw entries of one consume queue.
    pub async fn query_consume_queue(
        &self,
        addr: &str,
        mq: &MessageQueue,
        index: i64,
        count: i32,
        group: Option<&str>,
    ) -> Result<QueryConsumeQueueResponseBody> {
        let cmd = RemotingCommand::new_request(request::QUERY_CONSUME_QUEUE).with_header(
            &QueryConsumeQueueRequestHeader {
                topic: Some(mq.topic.clone()),
                queue_id: mq.queue_id,
                index,
                count,
                consumer_group: group.map(String::from),
            },
        );
        let resp = self.broker_call(addr, cmd).await?;
        if resp.body.is_none() {
            // SUCCESS without a body: the index holds no entry; the remark says so.
            return Err(AdminError::Client {
                code: resp.code,
                desc: resp.remark.clone().unwrap_or_default(),
            });
        }
        Self::body(&resp, addr)
    }

    /// GET_CONSUMER_RUNNING_INFO (307), relayed by a broker of the group's retry topic to
    /// one consumer (`getConsumerRunningInfo`).
    pub async fn consumer_running_info(
        &self,
        group: &str,
        client_id: &str,
        jstack: bool,
    ) -> Result<ConsumerRunningInfo> {
        let route = self
            .examine_topic_route_info(&format!("{}{group}", super::RETRY_GROUP_TOPIC_PREFIX))
            .await?;
        let addr = route
            .broker_datas
            .iter()
            .find_map(|bd| bd.select_broker_addr().map(String::from))
            .ok_or_else(|| AdminError::Client {
                code: rmq_remoting::codes::response::CONSUMER_NOT_ONLINE,
                desc: format!("no broker holds the retry topic of {group}"),
            })?;
        let cmd = RemotingCommand::new_request(request::GET_CONSUMER_RUNNING_INFO).with_header(
            &GetConsumerRunningInfoRequestHeader {
                consumer_group: group.to_string(),
                client_id: client_id.to_string(),
                jstack_enable: jstack,
            },
        );
        let resp = self.invoke(&addr, cmd, self.timeout * 3).await?;
        let resp = Self::success(resp, Some(&addr))?;
        Self::body(&resp, &addr)
    }

    /// UPDATE_CONSUMER_OFFSET (15), acknowledged, on one broker (`updateConsumeOffset`).
    pub async fn update_consume_offset(
        &self,
        addr: &str,
        group: &str,
        mq: &MessageQueue,
        offset: i64,
    ) -> Result<()> {
        Ok(self
            .instance
            .api()
            .update_consumer_offset(addr, group, mq, offset, false, self.timeout)
            .await?)
    }

    /// Every broker address (masters and slaves) of `cluster`, or of every cluster when
    /// `cluster` is `None` (`ClusterInfo.retrieveAllAddrByCluster`).
    pub async fn broker_addrs(&self, cluster: Option<&str>) -> Result<BTreeSet<String>> {
        let info = self.examine_broker_cluster_info().await?;
        Ok(info
            .cluster_addr_table
            .iter()
            .filter(|(c, _)| cluster.is_none_or(|want| want == c.as_str()))
            .flat_map(|(_, names)| names.iter())
            .filter_map(|n| info.broker_addr_table.get(n))
            .flat_map(|bd| bd.broker_addrs.values().cloned())
            .collect())
    }
}
