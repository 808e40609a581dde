//! The client runtime behind every producer and consumer: one connection pool,
//! the route cache, the broker address book and the periodic tasks.
//!
//! Tasks: refresh the routes of every topic in use from the name server (30 s),
//! heartbeat every known broker (30 s), persist consumer offsets (5 s), and
//! rebalance (20 s, or at once when a broker sends NOTIFY_CONSUMER_IDS_CHANGED).
//! A 4.8.0 JVM shares one `MQClientInstance` among all clients with the same
//! client id; here every producer and consumer owns one, which keeps lifetimes
//! simple and lets tests run several consumers of one group in one process.
//! Book: Part II "Producing" (routes) and "Consuming, long polling and
//! rebalancing" (heartbeats, rebalance triggers). Mirrors `MQClientInstance`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use parking_lot::{Mutex, RwLock};
use rmq_common::message::MessageExt;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::header::{
    CheckTransactionStateRequestHeader, NotifyConsumerIdsChangedRequestHeader,
};
use rmq_remoting::protocol::{
    ConsumeMessageDirectlyResult, ConsumerData, ConsumerRunningInfo, HeartbeatData, MessageQueue,
    ProducerData, TopicRouteData,
};
use rmq_remoting::{Connection, RemotingClient, RemotingCommand, RequestProcessor};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::api::MqClientApi;
use crate::config::ClientConfig;
use crate::error::{ClientError, Result};
use crate::producer::request::RequestFutureTable;
use crate::route::{default_topic_route, subscribe_queues};
use crate::util::MASTER_ID;

/// What the runtime needs from a consumer.
pub trait ConsumerHook: Send + Sync + 'static {
    /// Its entry in the heartbeat.
    fn consumer_data(&self) -> ConsumerData;
    /// One rebalance round over all subscribed topics.
    fn do_rebalance(&self) -> BoxFuture<'static, ()>;
    /// Write in-memory offsets to their store.
    fn persist_offsets(&self) -> BoxFuture<'static, ()>;

    // The calls a broker relays from an admin tool (see `broker_calls`); a consumer kind
    // that does not support one keeps the default.

    /// RESET_CONSUMER_CLIENT_OFFSET: move to these offsets (push consumers only).
    fn reset_offset(
        &self,
        _topic: String,
        _offsets: HashMap<MessageQueue, i64>,
    ) -> BoxFuture<'static, ()> {
        async {}.boxed()
    }
    /// GET_CONSUMER_STATUS_FROM_CLIENT: the in-memory offsets of one topic.
    fn offset_table(&self, _topic: &str) -> HashMap<MessageQueue, i64> {
        HashMap::new()
    }
    /// GET_CONSUMER_RUNNING_INFO: settings, subscriptions, queues and rates.
    fn running_info(&self) -> Option<ConsumerRunningInfo> {
        None
    }
    /// CONSUME_MESSAGE_DIRECTLY: run the listener on this one message.
    fn consume_message_directly(
        &self,
        _msg: MessageExt,
        _broker_name: String,
    ) -> BoxFuture<'static, Option<ConsumeMessageDirectlyResult>> {
        async { None }.boxed()
    }
}

/// What the runtime needs from a transaction producer: answer a broker's
/// CHECK_TRANSACTION_STATE about a half message of its group.
pub trait TransactionCheckHook: Send + Sync + 'static {
    /// Handles one check; `msg` is the half as the broker shows it (real topic and
    /// queue). The answer goes back on `broker`, the connection the check came on.
    fn check_transaction_state(
        &self,
        broker: Arc<Connection>,
        check: CheckTransactionStateRequestHeader,
        msg: rmq_common::message::MessageExt,
    );
}

/// Transaction producers by group.
type CheckHooks = Arc<Mutex<HashMap<String, Arc<dyn TransactionCheckHook>>>>;

/// Serves the broker's calls into the client.
struct ClientProcessor {
    rebalance_now: Arc<Notify>,
    /// The instance, once built (the processor exists before it).
    instance: Arc<OnceLock<Weak<Inner>>>,
    transaction_checks: CheckHooks,
}

impl RequestProcessor for ClientProcessor {
    fn process(
        &self,
        ctx: Arc<Connection>,
        req: RemotingCommand,
    ) -> BoxFuture<'static, Option<RemotingCommand>> {
        let reply = match req.code {
            rq::NOTIFY_CONSUMER_IDS_CHANGED => {
                let group = req
                    .decode_header::<NotifyConsumerIdsChangedRequestHeader>()
                    .map(|h| h.consumer_group)
                    .unwrap_or_default();
                info!(group, broker = %ctx.remote_addr, "consumer ids changed, rebalancing now");
                self.rebalance_now.notify_one();
                None
            }
            code if crate::broker_calls::handles(code) => {
                let instance = self.instance.get().and_then(Weak::upgrade);
                return match instance {
                    Some(inner) => crate::broker_calls::process(ClientInstance { inner }, ctx, req),
                    None => async { None }.boxed(),
                };
            }
            rq::CHECK_TRANSACTION_STATE => {
                check_transaction_state(&self.transaction_checks, ctx, &req);
                None
            }
            code if req.is_oneway() => {
                debug!(code, "ignoring oneway request from broker");
                None
            }
            code => Some(RemotingCommand::new_response(
                rs::REQUEST_CODE_NOT_SUPPORTED,
                format!("The request code {code} is not supported by the Rust client"),
            )),
        };
        async move { reply }.boxed()
    }
}

/// CHECK_TRANSACTION_STATE (`ClientRemotingProcessor.checkTransactionState`): hands the half
/// to the transaction producer of its `PGROUP`; nothing is answered on the wire here (the
/// producer sends END_TRANSACTION oneway when it knows).
fn check_transaction_state(hooks: &CheckHooks, ctx: Arc<Connection>, req: &RemotingCommand) {
    let check: CheckTransactionStateRequestHeader = match req.decode_header() {
        Ok(h) => h,
        Err(e) => {
            warn!(broker = %ctx.remote_addr, error = %e, "CHECK_TRANSACTION_STATE header unreadable; ignored");
            return;
        }
    };
    let msg = match rmq_common::message::decode_record(req.body_bytes()) {
        Ok((m, _)) => m,
        Err(e) => {
            warn!(broker = %ctx.remote_addr, error = %e, "checkTransactionState, decode message failed");
            return;
        }
    };
    let Some(group) = msg.property(crate::message::keys::PGROUP).map(String::from) else {
        warn!(broker = %ctx.remote_addr, "checkTransactionState, pick producer group failed");
        return;
    };
    let hook = hooks.lock().get(&group).cloned();
    match hook {
        Some(h) => h.check_transaction_state(ctx, check, msg),
        None => debug!(
            group,
            "checkTransactionState, pick producer by group failed"
        ),
    }
}

/// The shared runtime (cheap to clone).
#[derive(Clone)]
pub struct ClientInstance {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    client_id: String,
    client_ip: IpAddr,
    api: MqClientApi,
    namesrvs: Vec<String>,
    namesrv_index: AtomicUsize,
    routes: RwLock<HashMap<String, TopicRouteData>>,
    /// brokerName -> brokerId -> address.
    broker_addrs: RwLock<HashMap<String, BTreeMap<i64, String>>>,
    producer_groups: Mutex<BTreeSet<String>>,
    consumers: Mutex<HashMap<String, Arc<dyn ConsumerHook>>>,
    transaction_checks: CheckHooks,
    /// Topics consumers subscribe to (their routes are refreshed even before
    /// the first lookup).
    consumer_topics: Mutex<BTreeSet<String>>,
    rebalance_now: Arc<Notify>,
    /// Requests waiting for their reply (request-reply), by correlation id.
    request_futures: Arc<RequestFutureTable>,
    shutdown: CancellationToken,
}

impl ClientInstance {
    /// Connects to a name server to learn this client's IP, then starts the
    /// periodic tasks.
    pub async fn start(config: ClientConfig) -> Result<Self> {
        let namesrvs = config.namesrv_list();
        if namesrvs.is_empty() {
            return Err(ClientError::NoNameServer);
        }
        let rebalance_now = Arc::new(Notify::new());
        let instance_slot = Arc::new(OnceLock::new());
        let transaction_checks = CheckHooks::default();
        let remoting = RemotingClient::with_processor(Arc::new(ClientProcessor {
            rebalance_now: rebalance_now.clone(),
            instance: instance_slot.clone(),
            transaction_checks: transaction_checks.clone(),
        }));
        if let Some(c) = &config.credentials {
            remoting.set_rpc_hook(Arc::new(crate::acl::AclSigner::new(c.clone())));
        }
        let client_ip = match config.client_ip.as_deref().map(str::parse::<IpAddr>) {
            Some(Ok(ip)) => ip,
            Some(Err(_)) => {
                return Err(ClientError::InvalidArgument(format!(
                    "client ip {:?}",
                    config.client_ip
                )))
            }
            None => local_ip_towards(&remoting, &namesrvs).await,
        };
        let client_id = format!("{}@{}", client_ip, config.resolve_instance_name());
        let inner = Arc::new(Inner {
            api: MqClientApi::new(remoting),
            namesrvs,
            namesrv_index: AtomicUsize::new(rand::random::<usize>() % 16),
            routes: RwLock::new(HashMap::new()),
            broker_addrs: RwLock::new(HashMap::new()),
            producer_groups: Mutex::new(BTreeSet::new()),
            consumers: Mutex::new(HashMap::new()),
            transaction_checks,
            consumer_topics: Mutex::new(BTreeSet::new()),
            rebalance_now,
            request_futures: Arc::default(),
            shutdown: CancellationToken::new(),
            client_id,
            client_ip,
            config,
        });
        let _ = instance_slot.set(Arc::downgrade(&inner));
        let me = ClientInstance { inner };
        me.spawn_tasks();
        info!(client_id = %me.client_id(), "client instance started");
        Ok(me)
    }

    /// `ip@instanceName`, how brokers and tools name this client (`clientId`).
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The IP this client reports (and stamps into unique message ids).
    pub fn client_ip(&self) -> IpAddr {
        self.inner.client_ip
    }

    /// The settings the instance started with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The request functions over this instance's connections (`getMQClientAPIImpl`).
    pub fn api(&self) -> &MqClientApi {
        &self.inner.api
    }

    /// The timeout of control requests (`ClientConfig::api_timeout`).
    pub fn api_timeout(&self) -> Duration {
        self.inner.config.api_timeout
    }

    /// Cancelled when the instance shuts down.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    /// Whether [`shutdown`](Self::shutdown) ran.
    pub fn is_shut_down(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }

    /// Adds a producer group to this instance's heartbeats (`registerProducer`).
    pub fn register_producer(&self, group: &str) {
        self.inner.producer_groups.lock().insert(group.to_string());
    }

    /// Adds a consumer to the heartbeats, rebalances and offset flushes, with the topics whose
    /// routes it needs (`registerConsumer`).
    pub fn register_consumer(&self, group: &str, hook: Arc<dyn ConsumerHook>, topics: &[String]) {
        self.inner.consumers.lock().insert(group.to_string(), hook);
        self.inner
            .consumer_topics
            .lock()
            .extend(topics.iter().cloned());
    }

    /// Routes the broker's transaction checks for `group` to `hook`.
    pub fn register_transaction_checker(&self, group: &str, hook: Arc<dyn TransactionCheckHook>) {
        self.inner
            .transaction_checks
            .lock()
            .insert(group.to_string(), hook);
    }

    /// Adds topics a registered consumer subscribes to after start.
    pub fn add_consumer_topic(&self, topic: &str) {
        self.inner.consumer_topics.lock().insert(topic.to_string());
    }

    /// The consumer of a group registered on this instance.
    pub fn consumer(&self, group: &str) -> Option<Arc<dyn ConsumerHook>> {
        self.inner.consumers.lock().get(group).cloned()
    }

    /// The name server addresses this instance uses.
    pub fn namesrvs(&self) -> &[String] {
        &self.inner.namesrvs
    }

    /// Requests of this instance's producers waiting for a reply (request-reply).
    pub fn request_futures(&self) -> &Arc<RequestFutureTable> {
        &self.inner.request_futures
    }

    /// Wakes the rebalance task now (`rebalanceImmediately`).
    pub fn rebalance_immediately(&self) {
        self.inner.rebalance_now.notify_one();
    }

    fn spawn_tasks(&self) {
        let cfg = &self.inner.config;
        self.spawn_periodic(cfg.poll_name_server_interval, |me| {
            async move { me.update_all_routes().await }.boxed()
        });
        self.spawn_periodic(cfg.heartbeat_broker_interval, |me| {
            async move { me.send_heartbeat_to_all_brokers().await }.boxed()
        });
        self.spawn_periodic(cfg.persist_consumer_offset_interval, |me| {
            async move { me.persist_all_consumer_offsets().await }.boxed()
        });
        // Rebalance every 20 s or when woken.
        let me = self.clone();
        let period = cfg.rebalance_interval;
        tokio::spawn(async move {
            let token = me.inner.shutdown.clone();
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    _ = tokio::time::sleep(period) => {}
                    _ = me.inner.rebalance_now.notified() => {}
                }
                me.do_rebalance().await;
            }
        });
    }

    fn spawn_periodic<F>(&self, period: Duration, f: F)
    where
        F: Fn(ClientInstance) -> BoxFuture<'static, ()> + Send + 'static,
    {
        let me = self.clone();
        tokio::spawn(async move {
            let token = me.inner.shutdown.clone();
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    _ = tokio::time::sleep(period) => {}
                }
                f(me.clone()).await;
            }
        });
    }

    /// One rebalance round for every consumer.
    pub async fn do_rebalance(&self) {
        let hooks: Vec<_> = self.inner.consumers.lock().values().cloned().collect();
        for h in hooks {
            h.do_rebalance().await;
        }
    }

    async fn persist_all_consumer_offsets(&self) {
        let hooks: Vec<_> = self.inner.consumers.lock().values().cloned().collect();
        for h in hooks {
            h.persist_offsets().await;
        }
    }

    // ----- name server and routes -------------------------------------------------

    /// Runs `call` against the name servers, each at most once, starting from the one
    /// that answered last, until one does not fail; returns that server's address and
    /// answer (4.8.0's remoting client picks a name server the same way and moves on
    /// when one cannot be reached).
    async fn with_name_server<T, F, Fut>(&self, what: &str, call: F) -> Result<(String, T)>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let n = self.inner.namesrvs.len();
        let start = self.inner.namesrv_index.load(Ordering::Relaxed);
        let mut last_err = ClientError::NoNameServer;
        for i in 0..n {
            let idx = (start + i) % n;
            let addr = self.inner.namesrvs[idx].clone();
            match call(addr.clone()).await {
                Ok(r) => {
                    self.inner.namesrv_index.store(idx, Ordering::Relaxed);
                    return Ok((addr, r));
                }
                Err(e) => {
                    debug!(namesrv = %addr, error = %e, "{what} failed, trying the next name server");
                    last_err = e;
                }
            }
        }
        Err(last_err)
    }

    /// Sends `cmd` to a name server (failing over as [`fetch_route`](Self::fetch_route)
    /// does) and returns the address that answered with its reply, whatever the reply's
    /// code: the admin tools read name-server replies themselves
    /// (`MQClientAPIImpl`'s `invokeSync(null, ...)`).
    pub async fn invoke_name_server(
        &self,
        cmd: RemotingCommand,
        timeout: Duration,
    ) -> Result<(String, RemotingCommand)> {
        let remoting = &self.inner.api.remoting;
        self.with_name_server("name server request", |addr| {
            let cmd = cmd.clone();
            async move { Ok(remoting.invoke(&addr, cmd, timeout).await?) }
        })
        .await
    }

    /// Asks the name servers for a route, trying each once, starting from the
    /// one that answered last. `Ok(None)`: the topic does not exist.
    pub async fn fetch_route(&self, topic: &str) -> Result<Option<TopicRouteData>> {
        let api = &self.inner.api;
        let timeout = self.api_timeout();
        self.with_name_server("route lookup", |addr| async move {
            api.get_topic_route(&addr, topic, timeout).await
        })
        .await
        .map(|(_, route)| route)
    }

    /// Refreshes one topic's route; returns whether the topic has a route now.
    pub async fn update_topic_route(&self, topic: &str) -> Result<bool> {
        match self.fetch_route(topic).await? {
            Some(route) => {
                self.store_route(topic, route);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// For a topic without a route: borrow `default_key`'s route with at most
    /// `queue_nums` queues per broker, so the first send auto-creates it.
    pub async fn update_topic_route_from_default(
        &self,
        topic: &str,
        default_key: &str,
        queue_nums: i32,
    ) -> Result<bool> {
        match self.fetch_route(default_key).await? {
            Some(route) => {
                self.store_route(topic, default_topic_route(route, queue_nums));
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn store_route(&self, topic: &str, route: TopicRouteData) {
        {
            let mut addrs = self.inner.broker_addrs.write();
            for bd in &route.broker_datas {
                addrs.insert(bd.broker_name.clone(), bd.broker_addrs.clone());
            }
        }
        let mut routes = self.inner.routes.write();
        if routes.get(topic) != Some(&route) {
            debug!(topic, "route changed");
            routes.insert(topic.to_string(), route);
        }
    }

    /// The cached route of a topic.
    pub fn route(&self, topic: &str) -> Option<TopicRouteData> {
        self.inner.routes.read().get(topic).cloned()
    }

    /// The readable queues of a topic from the cached route (empty if unknown).
    pub fn subscribe_queues(&self, topic: &str) -> Vec<MessageQueue> {
        self.route(topic)
            .map(|r| subscribe_queues(topic, &r))
            .unwrap_or_default()
    }

    /// Refreshes every route in use, then forgets brokers no route mentions.
    pub async fn update_all_routes(&self) {
        let mut topics: BTreeSet<String> = self.inner.routes.read().keys().cloned().collect();
        topics.extend(self.inner.consumer_topics.lock().iter().cloned());
        for topic in topics {
            if let Err(e) = self.update_topic_route(&topic).await {
                debug!(topic, error = %e, "route refresh failed");
            }
        }
        self.clean_offline_brokers();
    }

    fn clean_offline_brokers(&self) {
        let routes = self.inner.routes.read();
        let mut live: HashMap<String, BTreeSet<String>> = HashMap::new();
        for r in routes.values() {
            for bd in &r.broker_datas {
                live.entry(bd.broker_name.clone())
                    .or_default()
                    .extend(bd.broker_addrs.values().cloned());
            }
        }
        self.inner.broker_addrs.write().retain(|name, addrs| {
            let Some(alive) = live.get(name) else {
                return false;
            };
            addrs.retain(|_, a| alive.contains(a));
            !addrs.is_empty()
        });
    }

    /// The master address of a broker (`findBrokerAddressInPublish`).
    pub fn find_broker_addr_in_publish(&self, broker_name: &str) -> Option<String> {
        self.inner
            .broker_addrs
            .read()
            .get(broker_name)
            .and_then(|m| m.get(&MASTER_ID).cloned())
    }

    /// An address of a broker for reading: the wanted id if known, else (unless
    /// `only_this`) any; returns the address and whether it is a slave
    /// (`findBrokerAddressInSubscribe`).
    pub fn find_broker_addr_in_subscribe(
        &self,
        broker_name: &str,
        broker_id: i64,
        only_this: bool,
    ) -> Option<(String, bool)> {
        let addrs = self.inner.broker_addrs.read();
        let m = addrs.get(broker_name)?;
        if let Some(a) = m.get(&broker_id) {
            return Some((a.clone(), broker_id != MASTER_ID));
        }
        if only_this {
            return None;
        }
        m.iter().next().map(|(id, a)| (a.clone(), *id != MASTER_ID))
    }

    /// The master address of a broker, refreshing `topic`'s route once if unknown.
    pub async fn master_addr_or_refresh(&self, broker_name: &str, topic: &str) -> Result<String> {
        if let Some(a) = self.find_broker_addr_in_publish(broker_name) {
            return Ok(a);
        }
        let _ = self.update_topic_route(topic).await;
        self.find_broker_addr_in_publish(broker_name)
            .ok_or_else(|| ClientError::BrokerNotFound(broker_name.to_string()))
    }

    /// Every known address, master first per broker: (broker name, id, address).
    pub fn all_broker_addrs(&self) -> Vec<(String, i64, String)> {
        let addrs = self.inner.broker_addrs.read();
        let mut out: Vec<_> = addrs
            .iter()
            .flat_map(|(n, m)| m.iter().map(move |(id, a)| (n.clone(), *id, a.clone())))
            .collect();
        out.sort();
        out
    }

    /// The client ids of a group, asked of a broker serving `topic`
    /// (`findConsumerIdList`).
    pub async fn find_consumer_id_list(&self, topic: &str, group: &str) -> Result<Vec<String>> {
        let route = self
            .route(topic)
            .ok_or_else(|| ClientError::NoRoute(topic.to_string()))?;
        let mut brokers: Vec<_> = route.broker_datas.iter().collect();
        if brokers.is_empty() {
            return Err(ClientError::NoRoute(topic.to_string()));
        }
        // Any broker will do: each one knows every consumer of the group.
        let start = rand::random::<usize>() % brokers.len();
        brokers.rotate_left(start);
        let mut last = ClientError::NoRoute(topic.to_string());
        for bd in brokers {
            let Some(addr) = bd.select_broker_addr() else {
                continue;
            };
            match self
                .inner
                .api
                .get_consumer_id_list(addr, group, self.api_timeout())
                .await
            {
                Ok(ids) => return Ok(ids),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    // ----- heartbeats -------------------------------------------------------------

    /// The heartbeat body: every producer group and consumer of this instance.
    pub fn heartbeat_data(&self) -> HeartbeatData {
        HeartbeatData {
            client_id: self.inner.client_id.clone(),
            producer_data_set: self
                .inner
                .producer_groups
                .lock()
                .iter()
                .map(|g| ProducerData {
                    group_name: g.clone(),
                })
                .collect(),
            consumer_data_set: self
                .inner
                .consumers
                .lock()
                .values()
                .map(|h| h.consumer_data())
                .collect(),
        }
    }

    /// HEART_BEAT to every known broker; slaves only when there are consumers.
    pub async fn send_heartbeat_to_all_brokers(&self) {
        let data = self.heartbeat_data();
        if data.producer_data_set.is_empty() && data.consumer_data_set.is_empty() {
            return;
        }
        let has_consumers = !data.consumer_data_set.is_empty();
        for (name, id, addr) in self.all_broker_addrs() {
            if !has_consumers && id != MASTER_ID {
                continue;
            }
            if let Err(e) = self
                .inner
                .api
                .send_heartbeat(&addr, &data, self.api_timeout())
                .await
            {
                warn!(broker = %name, addr = %addr, error = %e, "heartbeat failed");
            }
        }
    }

    /// UNREGISTER_CLIENT for a group on every master, then forget it.
    pub async fn unregister(&self, producer_group: Option<&str>, consumer_group: Option<&str>) {
        if let Some(g) = producer_group {
            self.inner.producer_groups.lock().remove(g);
            self.inner.transaction_checks.lock().remove(g);
        }
        if let Some(g) = consumer_group {
            self.inner.consumers.lock().remove(g);
        }
        for (_, id, addr) in self.all_broker_addrs() {
            if id != MASTER_ID {
                continue;
            }
            let r = self
                .inner
                .api
                .unregister_client(
                    &addr,
                    &self.inner.client_id,
                    producer_group,
                    consumer_group,
                    self.api_timeout(),
                )
                .await;
            if let Err(e) = r {
                debug!(addr = %addr, error = %e, "unregister failed");
            }
        }
    }

    /// Stops the periodic tasks and closes every connection.
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.consumers.lock().clear();
        self.inner.api.remoting.shutdown();
    }
}

/// The local address of a connection to the first reachable name server.
async fn local_ip_towards(remoting: &RemotingClient, namesrvs: &[String]) -> IpAddr {
    for addr in namesrvs {
        if let Ok(conn) = remoting.connection(addr).await {
            return conn.local_addr.ip();
        }
    }
    warn!("no name server reachable; reporting client ip 127.0.0.1");
    IpAddr::V4(Ipv4Addr::LOCALHOST)
}
