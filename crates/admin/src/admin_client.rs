//! `AdminClient`: mqadmin's DefaultMQAdminExt, the admin-only requests on top of
//! rmq-client's client runtime.
//!
//! mqadmin asks two kinds of servers: the name servers for routes, the cluster map
//! and topic lists (codes 105, 106, 206, 216, 100/101), and the brokers for
//! everything about data (17, 215, 202, 208, 203, 28, 200, 12, 33, 30/29, 300).
//! Every method is one admin operation; the "examine" methods combine a route
//! lookup with per-broker calls the way 4.8.0 does (e.g. topic stats = route of
//! the topic, then GET_TOPIC_STATS_INFO on each broker in it).
//!
//! The connections, the name-server list and its fail-over, and the queue-offset
//! requests are rmq-client's: an `AdminClient` owns a [`ClientInstance`], as 4.8.0's
//! `DefaultMQAdminExtImpl` registers itself with an `MQClientInstance` and sends
//! through its `MQClientAPIImpl`. Sending and pulling messages (sendMessage,
//! consumeMessage, queryMsgById -s) use rmq-client's `Producer` and `PullConsumer`.
//! Book: Part III "Name server" (routes) and Part II "Topics and queues" (admin).
//! Mirrors `org.apache.rocketmq.tools.admin.DefaultMQAdminExtImpl`, the parts of
//! `MQClientAPIImpl` it calls, and `MQAdminImpl` (viewMessage, queryMessage).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use rmq_client::api::topic_route_command;
use rmq_client::instance::ClientInstance;
use rmq_client::{ClientConfig, ClientError};
use rmq_remoting::codes::{request, response};
use rmq_remoting::protocol::header::{
    DeleteTopicInNamesrvRequestHeader, DeleteTopicRequestHeader, GetConsumeStatsRequestHeader,
    GetConsumerConnectionListRequestHeader, GetKVConfigRequestHeader, GetKVConfigResponseHeader,
    GetProducerConnectionListRequestHeader, GetTopicStatsInfoRequestHeader,
    PutKVConfigRequestHeader, QueryMessageRequestHeader, QueryTopicConsumeByWhoRequestHeader,
    ViewMessageRequestHeader, UNIQUE_KEY_QUERY,
};
use rmq_remoting::protocol::{
    decode_body, encode_body, ClusterInfo, ConsumeStats, ConsumerConnection, KVTable, MessageQueue,
    ProducerConnection, SubscriptionGroupConfig, TopicConfig, TopicList, TopicRouteData,
    TopicStatsTable,
};
use rmq_remoting::{RemotingCommand, RemotingError};
use serde::Deserialize;

mod ops;

use crate::message::{self, DecodeError, MessageExt};
use crate::msgid::{self, MsgIdError};

/// The topic names every RocketMQ tool knows (`MixAll`), shared with rmq-client:
/// `TBW102` (the route that stands in for topics a broker may auto-create) and the
/// `%RETRY%` / `%DLQ%` prefixes of a group's retry and dead-letter topics.
pub use rmq_client::util::{
    AUTO_CREATE_TOPIC_KEY, DLQ_GROUP_TOPIC_PREFIX, RETRY_GROUP_TOPIC_PREFIX,
};

/// `DefaultMQAdminExt`'s default RPC timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(5000);
/// `NamesrvUtil.NAMESPACE_ORDER_TOPIC_CONFIG`.
pub const NAMESPACE_ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

/// What can go wrong talking to the cluster.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Neither `-n` nor `NAMESRV_ADDR` named a name server.
    #[error("no name server address: pass -n \"host:port;host:port\" or set NAMESRV_ADDR")]
    NoNameServer,
    /// The transport failed: connect refused, timeout, connection closed.
    #[error(transparent)]
    Remoting(#[from] RemotingError),
    /// A server answered with a non-success code (4.8.0's MQBrokerException /
    /// MQClientException text: `CODE: <n>  DESC: <remark>`).
    #[error("CODE: {code}  DESC: {remark}{}", addr.as_ref().map(|a| format!(" BROKER: {a}")).unwrap_or_default())]
    Server {
        /// The response code.
        code: i32,
        /// The server's remark.
        remark: String,
        /// The broker that answered; `None` for a name server.
        addr: Option<String>,
    },
    /// A client-side failure in 4.8.0's MQClientException style.
    #[error("CODE: {code}  DESC: {desc}")]
    Client {
        /// The `ResponseCode` or `ClientErrorCode` 4.8.0 uses for this failure.
        code: i32,
        /// What went wrong.
        desc: String,
    },
    /// A reply body that is not the JSON the request promises.
    #[error("bad reply body from {addr}: {source}")]
    Body {
        /// The server that sent it.
        addr: String,
        /// The decode error.
        source: RemotingError,
    },
    /// A message record in a reply that does not decode.
    #[error("bad message record from {addr}: {source}")]
    Record {
        /// The broker that sent it.
        addr: String,
        /// The decode error.
        source: DecodeError,
    },
    /// A message id that is neither an offset id nor a unique id.
    #[error(transparent)]
    MsgId(#[from] MsgIdError),
    /// rmq-client's runtime failed in a way none of the kinds above covers.
    #[error(transparent)]
    Instance(ClientError),
}

impl From<ClientError> for AdminError {
    /// Transport failures and refusals keep the admin kinds (and texts) they had before
    /// rmq-client carried them.
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Remoting(r) => AdminError::Remoting(r),
            ClientError::NoNameServer => AdminError::NoNameServer,
            ClientError::Broker { code, remark, addr } => AdminError::Server {
                code,
                remark,
                addr: Some(addr),
            },
            other => AdminError::Instance(other),
        }
    }
}

impl AdminError {
    /// The RocketMQ response code behind this error, if there is one.
    pub fn code(&self) -> Option<i32> {
        match self {
            AdminError::Server { code, .. } | AdminError::Client { code, .. } => Some(*code),
            AdminError::Instance(e) => e.code(),
            _ => None,
        }
    }
}

/// The admin client's result type.
pub type Result<T> = std::result::Result<T, AdminError>;

/// Reply to QUERY_TOPIC_CONSUME_BY_WHO (`GroupList`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GroupList {
    #[serde(rename = "groupList")]
    group_list: BTreeSet<String>,
}

/// Admin access to one RocketMQ cluster through its name servers (cheap to clone;
/// clones share the connections).
#[derive(Clone)]
pub struct AdminClient {
    instance: ClientInstance,
    timeout: Duration,
}

impl AdminClient {
    /// Starts an admin client. `namesrv` is 4.8.0's `-n` value (addresses separated by
    /// `;`); `timeout` bounds each request (GET_CONSUME_STATS and QUERY_MESSAGE get three
    /// times as much, as in 4.8.0).
    pub async fn start(namesrv: &str, timeout: Duration) -> Result<Self> {
        Self::start_with_credentials(namesrv, timeout, None).await
    }

    /// [`AdminClient::start`] with ACL credentials that sign every request (4.8.0: the
    /// `AclClientRPCHook` MQAdminStartup builds from `conf/tools.yml`).
    pub async fn start_with_credentials(
        namesrv: &str,
        timeout: Duration,
        credentials: Option<rmq_client::acl::Credentials>,
    ) -> Result<Self> {
        let mut config = ClientConfig::new(namesrv);
        config.credentials = credentials;
        if config.namesrv_list().is_empty() {
            return Err(AdminError::NoNameServer);
        }
        // 4.8.0's commands name the admin's client instance after the current time.
        config.instance_name = Some(format!("admin-{}", rmq_client::util::now_ms()));
        config.api_timeout = timeout;
        let instance = ClientInstance::start(config).await?;
        Ok(AdminClient { instance, timeout })
    }

    /// The name-server addresses, in the order given.
    pub fn namesrv_addrs(&self) -> &[String] {
        self.instance.namesrvs()
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The rmq-client runtime this client sends through.
    pub fn instance(&self) -> &ClientInstance {
        &self.instance
    }

    /// Closes every connection and stops the runtime's periodic tasks.
    pub fn shutdown(&self) {
        self.instance.shutdown();
    }

    /// Sends to a name server, moving on to the next when one cannot be reached.
    async fn invoke_namesrv(&self, cmd: RemotingCommand) -> Result<(String, RemotingCommand)> {
        Ok(self.instance.invoke_name_server(cmd, self.timeout).await?)
    }

    /// One request to one server, with `timeout`.
    pub async fn invoke(
        &self,
        addr: &str,
        cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<RemotingCommand> {
        Ok(self
            .instance
            .api()
            .remoting
            .invoke(addr, cmd, timeout)
            .await?)
    }

    fn success(resp: RemotingCommand, addr: Option<&str>) -> Result<RemotingCommand> {
        if resp.code == response::SUCCESS {
            Ok(resp)
        } else {
            Err(AdminError::Server {
                code: resp.code,
                remark: resp.remark.clone().unwrap_or_default(),
                addr: addr.map(String::from),
            })
        }
    }

    fn body<T: serde::de::DeserializeOwned>(resp: &RemotingCommand, addr: &str) -> Result<T> {
        decode_body(resp.body_bytes()).map_err(|source| AdminError::Body {
            addr: addr.to_string(),
            source,
        })
    }

    async fn namesrv_call<T: serde::de::DeserializeOwned>(
        &self,
        cmd: RemotingCommand,
    ) -> Result<T> {
        let (addr, resp) = self.invoke_namesrv(cmd).await?;
        let resp = Self::success(resp, None)?;
        Self::body(&resp, &addr)
    }

    async fn broker_call(&self, addr: &str, cmd: RemotingCommand) -> Result<RemotingCommand> {
        let resp = self.invoke(addr, cmd, self.timeout).await?;
        Self::success(resp, Some(addr))
    }

    // ---- name server ------------------------------------------------------------

    /// GET_BROKER_CLUSTER_INFO (106).
    pub async fn examine_broker_cluster_info(&self) -> Result<ClusterInfo> {
        self.namesrv_call(RemotingCommand::new_request(
            request::GET_BROKER_CLUSTER_INFO,
        ))
        .await
    }

    /// GET_ROUTEINFO_BY_TOPIC (105).
    pub async fn examine_topic_route_info(&self, topic: &str) -> Result<TopicRouteData> {
        self.namesrv_call(topic_route_command(topic)).await
    }

    /// GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206).
    pub async fn fetch_all_topic_list(&self) -> Result<TopicList> {
        self.namesrv_call(RemotingCommand::new_request(
            request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
        ))
        .await
    }

    /// DELETE_TOPIC_IN_NAMESRV (216) on one name server.
    pub async fn delete_topic_in_namesrv(&self, addr: &str, topic: &str) -> Result<()> {
        let cmd = RemotingCommand::new_request(request::DELETE_TOPIC_IN_NAMESRV).with_header(
            &DeleteTopicInNamesrvRequestHeader {
                topic: topic.to_string(),
            },
        );
        self.broker_call(addr, cmd).await.map(|_| ())
    }

    /// PUT_KV_CONFIG (100) on every name server, like `putKVConfigValue`.
    pub async fn put_kv_config(&self, namespace: &str, key: &str, value: &str) -> Result<()> {
        for addr in self.namesrv_addrs() {
            let cmd = RemotingCommand::new_request(request::PUT_KV_CONFIG).with_header(
                &PutKVConfigRequestHeader {
                    namespace: namespace.to_string(),
                    key: key.to_string(),
                    value: value.to_string(),
                },
            );
            self.broker_call(addr, cmd).await?;
        }
        Ok(())
    }

    /// GET_KV_CONFIG (101); `None` when the name server has no such item.
    pub async fn get_kv_config(&self, namespace: &str, key: &str) -> Result<Option<String>> {
        let cmd = RemotingCommand::new_request(request::GET_KV_CONFIG).with_header(
            &GetKVConfigRequestHeader {
                namespace: namespace.to_string(),
                key: key.to_string(),
            },
        );
        let (_, resp) = self.invoke_namesrv(cmd).await?;
        if resp.code == response::QUERY_NOT_FOUND {
            return Ok(None);
        }
        let resp = Self::success(resp, None)?;
        let h: GetKVConfigResponseHeader = resp.decode_header().map_err(ClientError::from)?;
        Ok(h.value)
    }

    /// `createOrUpdateOrderConf`: the ORDER_TOPIC_CONFIG item of `topic`. For a
    /// cluster the value replaces the old one; for a single broker its
    /// `brokerName:queueNums` entry is merged into the existing list.
    pub async fn create_or_update_order_conf(
        &self,
        topic: &str,
        value: &str,
        is_cluster: bool,
    ) -> Result<()> {
        if is_cluster {
            return self
                .put_kv_config(NAMESPACE_ORDER_TOPIC_CONFIG, topic, value)
                .await;
        }
        let old = self
            .get_kv_config(NAMESPACE_ORDER_TOPIC_CONFIG, topic)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "reading the old order conf failed");
                None
            });
        let mut entries: Vec<(String, String)> = Vec::new();
        let mut put = |item: &str| {
            let name = item.split(':').next().unwrap_or_default().to_string();
            match entries.iter_mut().find(|(k, _)| *k == name) {
                Some(e) => e.1 = item.to_string(),
                None => entries.push((name, item.to_string())),
            }
        };
        for item in old.as_deref().unwrap_or_default().split(';') {
            if !item.trim().is_empty() {
                put(item);
            }
        }
        put(value);
        let merged: Vec<String> = crate::format::java_hashmap_order(&entries)
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        self.put_kv_config(NAMESPACE_ORDER_TOPIC_CONFIG, topic, &merged.join(";"))
            .await
    }

    // ---- cluster helpers (CommandUtil) --------------------------------------------

    /// Master addresses of `cluster`; `None` when the cluster is unknown.
    pub async fn master_addrs_of_cluster(&self, cluster: &str) -> Result<Option<BTreeSet<String>>> {
        let info = self.examine_broker_cluster_info().await?;
        Ok(info.cluster_addr_table.get(cluster).map(|names| {
            names
                .iter()
                .filter_map(|n| info.broker_addr_table.get(n))
                .filter_map(|bd| bd.master_addr().map(String::from))
                .collect()
        }))
    }

    /// Every master and slave address of `cluster`; `None` when it is unknown.
    pub async fn all_addrs_of_cluster(&self, cluster: &str) -> Result<Option<BTreeSet<String>>> {
        let info = self.examine_broker_cluster_info().await?;
        Ok(info.cluster_addr_table.get(cluster).map(|names| {
            names
                .iter()
                .filter_map(|n| info.broker_addr_table.get(n))
                .flat_map(|bd| bd.broker_addrs.values().cloned())
                .collect()
        }))
    }

    /// Broker names of `cluster`; `None` when it is unknown.
    pub async fn broker_names_of_cluster(&self, cluster: &str) -> Result<Option<BTreeSet<String>>> {
        let info = self.examine_broker_cluster_info().await?;
        Ok(info.cluster_addr_table.get(cluster).cloned())
    }

    /// The broker name that `addr` belongs to (`CommandUtil.fetchBrokerNameByAddr`).
    pub async fn broker_name_by_addr(&self, addr: &str) -> Result<Option<String>> {
        let info = self.examine_broker_cluster_info().await?;
        Ok(info
            .broker_addr_table
            .values()
            .find(|bd| bd.broker_addrs.values().any(|a| a == addr))
            .map(|bd| bd.broker_name.clone()))
    }

    // ---- broker admin -------------------------------------------------------------

    /// GET_BROKER_RUNTIME_INFO (28).
    pub async fn fetch_broker_runtime_stats(&self, addr: &str) -> Result<KVTable> {
        let resp = self
            .broker_call(
                addr,
                RemotingCommand::new_request(request::GET_BROKER_RUNTIME_INFO),
            )
            .await?;
        Self::body(&resp, addr)
    }

    /// UPDATE_AND_CREATE_TOPIC (17) on one broker (rmq-client's `create_topic`).
    pub async fn create_and_update_topic_config(&self, addr: &str, tc: &TopicConfig) -> Result<()> {
        Ok(self
            .instance
            .api()
            .create_topic(addr, tc, self.timeout)
            .await?)
    }

    /// DELETE_TOPIC_IN_BROKER (215) on one broker.
    pub async fn delete_topic_in_broker(&self, addr: &str, topic: &str) -> Result<()> {
        let cmd = RemotingCommand::new_request(request::DELETE_TOPIC_IN_BROKER).with_header(
            &DeleteTopicRequestHeader {
                topic: topic.to_string(),
            },
        );
        self.broker_call(addr, cmd).await.map(|_| ())
    }

    /// UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200) on one broker.
    pub async fn create_and_update_subscription_group_config(
        &self,
        addr: &str,
        config: &SubscriptionGroupConfig,
    ) -> Result<()> {
        let body = encode_body(config)?;
        let cmd = RemotingCommand::new_request(request::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP)
            .with_body(body);
        self.broker_call(addr, cmd).await.map(|_| ())
    }

    /// GET_TOPIC_STATS_INFO (202) on one broker.
    pub async fn topic_stats(&self, addr: &str, topic: &str) -> Result<TopicStatsTable> {
        let cmd = RemotingCommand::new_request(request::GET_TOPIC_STATS_INFO).with_header(
            &GetTopicStatsInfoRequestHeader {
                topic: topic.to_string(),
            },
        );
        let resp = self.broker_call(addr, cmd).await?;
        Self::body(&resp, addr)
    }

    /// The topic's stats from every broker in its route.
    pub async fn examine_topic_stats(&self, topic: &str) -> Result<TopicStatsTable> {
        let route = self.examine_topic_route_info(topic).await?;
        let mut all = TopicStatsTable::default();
        for bd in &route.broker_datas {
            if let Some(addr) = bd.select_broker_addr() {
                let t = self.topic_stats(addr, topic).await?;
                all.offset_table.0.extend(t.offset_table.0);
            }
        }
        if all.offset_table.0.is_empty() {
            return Err(AdminError::Client {
                code: -1,
                desc: "Not found the topic stats info".into(),
            });
        }
        Ok(all)
    }

    /// GET_CONSUME_STATS (208) on one broker.
    pub async fn consume_stats(
        &self,
        addr: &str,
        group: &str,
        topic: Option<&str>,
    ) -> Result<ConsumeStats> {
        let cmd = RemotingCommand::new_request(request::GET_CONSUME_STATS).with_header(
            &GetConsumeStatsRequestHeader {
                consumer_group: group.to_string(),
                topic: topic.map(String::from),
            },
        );
        // 4.8.0 gives this call three times the usual timeout.
        let resp = self.invoke(addr, cmd, self.timeout * 3).await?;
        let resp = Self::success(resp, Some(addr))?;
        Self::body(&resp, addr)
    }

    /// Consume stats of `group` from every broker holding its retry topic.
    pub async fn examine_consume_stats(&self, group: &str) -> Result<ConsumeStats> {
        let route = self
            .examine_topic_route_info(&format!("{RETRY_GROUP_TOPIC_PREFIX}{group}"))
            .await?;
        let mut all = ConsumeStats::default();
        for bd in &route.broker_datas {
            if let Some(addr) = bd.select_broker_addr() {
                let s = self.consume_stats(addr, group, None).await?;
                all.offset_table.0.extend(s.offset_table.0);
                all.consume_tps += s.consume_tps;
            }
        }
        if all.offset_table.0.is_empty() {
            return Err(AdminError::Client {
                code: response::CONSUMER_NOT_ONLINE,
                desc: "Not found the consumer group consume stats, because return offset table is empty, maybe the consumer not consume any message".into(),
            });
        }
        Ok(all)
    }

    /// GET_CONSUMER_CONNECTION_LIST (203) on one broker.
    pub async fn consumer_connection(&self, addr: &str, group: &str) -> Result<ConsumerConnection> {
        let cmd = RemotingCommand::new_request(request::GET_CONSUMER_CONNECTION_LIST).with_header(
            &GetConsumerConnectionListRequestHeader {
                consumer_group: group.to_string(),
            },
        );
        let resp = self.broker_call(addr, cmd).await?;
        Self::body(&resp, addr)
    }

    /// The connections of `group`, asked of a broker holding its retry topic.
    /// (4.8.0 picks one at random; this takes the first by name, which is
    /// deterministic and equivalent because every broker sees every heartbeat.)
    pub async fn examine_consumer_connection_info(
        &self,
        group: &str,
    ) -> Result<ConsumerConnection> {
        let route = self
            .examine_topic_route_info(&format!("{RETRY_GROUP_TOPIC_PREFIX}{group}"))
            .await?;
        let addr = route
            .broker_datas
            .iter()
            .find_map(|bd| bd.select_broker_addr().map(String::from));
        let not_online = || AdminError::Client {
            code: response::CONSUMER_NOT_ONLINE,
            desc: "Not found the consumer group connection".into(),
        };
        let addr = addr.ok_or_else(not_online)?;
        let cc = self.consumer_connection(&addr, group).await?;
        if cc.connection_set.is_empty() {
            return Err(not_online());
        }
        Ok(cc)
    }

    /// QUERY_TOPIC_CONSUME_BY_WHO (300) on the first broker of the topic's route.
    pub async fn query_topic_consume_by_who(&self, topic: &str) -> Result<BTreeSet<String>> {
        let route = self.examine_topic_route_info(topic).await?;
        let Some(addr) = route
            .broker_datas
            .first()
            .and_then(|bd| bd.select_broker_addr())
        else {
            return Ok(BTreeSet::new());
        };
        let cmd = RemotingCommand::new_request(request::QUERY_TOPIC_CONSUME_BY_WHO).with_header(
            &QueryTopicConsumeByWhoRequestHeader {
                topic: Some(topic.to_string()),
            },
        );
        let resp = self.broker_call(addr, cmd).await?;
        Ok(Self::body::<GroupList>(&resp, addr)?.group_list)
    }

    /// GET_BROKER_CONFIG (26): the broker's effective settings, from its
    /// `key=value` properties text.
    pub async fn get_broker_config(&self, addr: &str) -> Result<BTreeMap<String, String>> {
        let resp = self
            .broker_call(
                addr,
                RemotingCommand::new_request(request::GET_BROKER_CONFIG),
            )
            .await?;
        let text = String::from_utf8_lossy(resp.body_bytes());
        Ok(ops::parse_properties_text(&text))
    }

    /// GET_PRODUCER_CONNECTION_LIST (204) on one broker.
    pub async fn producer_connection(&self, addr: &str, group: &str) -> Result<ProducerConnection> {
        let cmd = RemotingCommand::new_request(request::GET_PRODUCER_CONNECTION_LIST).with_header(
            &GetProducerConnectionListRequestHeader {
                producer_group: group.to_string(),
            },
        );
        let resp = self.broker_call(addr, cmd).await?;
        Self::body(&resp, addr)
    }

    /// The connections of producer `group`, asked of the first broker of `topic`'s
    /// route (`examineProducerConnectionInfo`; 4.8.0 picks one at random).
    pub async fn examine_producer_connection_info(
        &self,
        group: &str,
        topic: &str,
    ) -> Result<ProducerConnection> {
        let route = self.examine_topic_route_info(topic).await?;
        let addr = route
            .broker_datas
            .iter()
            .find_map(|bd| bd.select_broker_addr().map(String::from))
            .ok_or_else(|| AdminError::Client {
                code: response::TOPIC_NOT_EXIST,
                desc: format!("no broker holds the topic {topic}"),
            })?;
        self.producer_connection(&addr, group).await
    }

    // ---- offsets (rmq-client's requests) ---------------------------------------------

    fn queue(topic: &str, queue_id: i32) -> MessageQueue {
        MessageQueue {
            broker_name: String::new(),
            queue_id,
            topic: topic.to_string(),
        }
    }

    /// GET_MAX_OFFSET (30) at `addr`: one past the last message of the queue.
    pub async fn max_offset(&self, addr: &str, topic: &str, queue_id: i32) -> Result<i64> {
        let mq = Self::queue(topic, queue_id);
        Ok(self
            .instance
            .api()
            .get_max_offset(addr, &mq, self.timeout)
            .await?)
    }

    /// SEARCH_OFFSET_BY_TIMESTAMP (29) at `addr`: the first message stored at or after
    /// `timestamp` (ms).
    pub async fn search_offset(
        &self,
        addr: &str,
        topic: &str,
        queue_id: i32,
        timestamp: i64,
    ) -> Result<i64> {
        let mq = Self::queue(topic, queue_id);
        Ok(self
            .instance
            .api()
            .search_offset(addr, &mq, timestamp, self.timeout)
            .await?)
    }

    // ---- messages -------------------------------------------------------------------

    /// VIEW_MESSAGE_BY_ID (33): decodes the broker address and commit-log offset
    /// from an offset message id and reads that one record.
    pub async fn view_message(&self, msg_id: &str) -> Result<MessageExt> {
        let (store_host, offset) =
            msgid::decode_offset_msg_id(msg_id).map_err(|_| AdminError::Client {
                code: response::NO_MESSAGE,
                desc: "query message by id finished, but no message.".into(),
            })?;
        let addr = store_host.to_string();
        let cmd = RemotingCommand::new_request(request::VIEW_MESSAGE_BY_ID)
            .with_header(&ViewMessageRequestHeader { offset });
        let resp = self.broker_call(&addr, cmd).await?;
        let (msg, _) = message::decode_record(resp.body_bytes())
            .map_err(|source| AdminError::Record { addr, source })?;
        Ok(msg)
    }

    /// QUERY_MESSAGE (12) on every broker of the topic, keeping only messages whose
    /// KEYS (or, for `uniq_key`, whose unique id) really equal `key`: the index is a
    /// hash table and returns collisions.
    pub async fn query_message(
        &self,
        topic: &str,
        key: &str,
        max_num: i32,
        begin: i64,
        end: i64,
        uniq_key: bool,
    ) -> Result<Vec<MessageExt>> {
        let route = self.examine_topic_route_info(topic).await?;
        let addrs: Vec<String> = route
            .broker_datas
            .iter()
            .filter_map(|bd| bd.select_broker_addr().map(String::from))
            .collect();
        if addrs.is_empty() {
            return Err(AdminError::Client {
                code: response::TOPIC_NOT_EXIST,
                desc: format!("The topic[{topic}] not matched route info"),
            });
        }
        let mut found: Vec<MessageExt> = Vec::new();
        for addr in &addrs {
            let cmd = RemotingCommand::new_request(request::QUERY_MESSAGE)
                .with_header(&QueryMessageRequestHeader {
                    topic: topic.to_string(),
                    key: key.to_string(),
                    max_num: Some(max_num),
                    begin_timestamp: Some(begin),
                    end_timestamp: Some(end),
                })
                .with_ext(UNIQUE_KEY_QUERY, uniq_key);
            // Like 4.8.0, a broker that fails or finds nothing is skipped.
            let resp = match self.invoke(addr, cmd, self.timeout * 3).await {
                Ok(r) if r.code == response::SUCCESS => r,
                Ok(r) => {
                    tracing::debug!(%addr, code = r.code, remark = ?r.remark, "query message: no result");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(%addr, error = %e, "query message failed");
                    continue;
                }
            };
            let msgs = message::decode_records(resp.body_bytes()).map_err(|source| {
                AdminError::Record {
                    addr: addr.clone(),
                    source,
                }
            })?;
            for m in msgs {
                if uniq_key {
                    if m.msg_id() == key {
                        // Keep the earliest stored copy only.
                        match found.first() {
                            Some(f) if f.store_timestamp <= m.store_timestamp => {}
                            _ => {
                                found.clear();
                                found.push(m);
                            }
                        }
                    }
                } else if m
                    .keys()
                    .is_some_and(|ks| ks.split(message::keys::KEY_SEPARATOR).any(|k| k == key))
                {
                    found.push(m);
                }
            }
        }
        if found.is_empty() {
            return Err(AdminError::Client {
                code: response::NO_MESSAGE,
                desc: "query message by key finished, but no message.".into(),
            });
        }
        Ok(found)
    }

    /// `queryMessageByUniqKey`: the message whose `UNIQ_KEY` is `uniq_key`.
    pub async fn query_message_by_uniq_key(
        &self,
        topic: &str,
        uniq_key: &str,
    ) -> Result<MessageExt> {
        let mut v = self
            .query_message(topic, uniq_key, 32, 0, i64::MAX, true)
            .await?;
        Ok(v.remove(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn namesrv_list_parsing() {
        let a = AdminClient::start(" 127.0.0.1:1;127.0.0.1:2; ", DEFAULT_TIMEOUT)
            .await
            .unwrap();
        assert_eq!(a.namesrv_addrs(), ["127.0.0.1:1", "127.0.0.1:2"]);
        a.shutdown();
        assert!(matches!(
            AdminClient::start(" ; ", DEFAULT_TIMEOUT).await,
            Err(AdminError::NoNameServer)
        ));
    }

    #[test]
    fn client_errors_keep_the_admin_kinds() {
        let e = AdminError::from(ClientError::Broker {
            code: 1,
            remark: "boom".into(),
            addr: "127.0.0.1:10911".into(),
        });
        assert_eq!(e.to_string(), "CODE: 1  DESC: boom BROKER: 127.0.0.1:10911");
        assert!(matches!(
            AdminError::from(ClientError::NoNameServer),
            AdminError::NoNameServer
        ));
        let e = AdminError::from(ClientError::BrokerNotFound("broker-x".into()));
        assert_eq!(e.to_string(), "The broker[broker-x] not exist");
        assert_eq!(e.code(), None);
    }

    #[test]
    fn errors_read_like_4_8_0() {
        let e = AdminError::Server {
            code: 17,
            remark: "No topic route info in name server for the topic: X".into(),
            addr: None,
        };
        assert_eq!(
            e.to_string(),
            "CODE: 17  DESC: No topic route info in name server for the topic: X"
        );
        assert_eq!(e.code(), Some(17));
        let e = AdminError::Server {
            code: 1,
            remark: "boom".into(),
            addr: Some("127.0.0.1:10911".into()),
        };
        assert_eq!(e.to_string(), "CODE: 1  DESC: boom BROKER: 127.0.0.1:10911");
    }

    #[tokio::test]
    async fn unreachable_name_servers_are_reported() {
        // Port 1 on loopback: nothing listens there, the connect is refused fast.
        let a = AdminClient::start("127.0.0.1:1", DEFAULT_TIMEOUT)
            .await
            .unwrap();
        let err = a.examine_broker_cluster_info().await.unwrap_err();
        assert!(matches!(err, AdminError::Remoting(_)), "{err}");
        a.shutdown();
    }
}
