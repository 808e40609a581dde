//! The push consumer: subscribe, register a listener, start — the client then
//! divides the queues among the group's consumers, long-polls each of its
//! queues, hands messages to the listener and commits progress.
//!
//! Moving parts: the rebalance round (every 20 s and whenever a broker says the
//! group changed) decides which queues this consumer owns; one pull task per
//! owned queue long-polls the broker and fills that queue's `ProcessQueue`;
//! consume tasks call the listener — concurrently (any order, failed messages
//! go back to the broker for a delayed retry) or orderly (one batch at a time
//! per queue, under a broker-side queue lock). Offsets go to the broker every
//! 5 s and at shutdown. A broker may relay admin calls to the consumer (offset reset,
//! status, running info, consume one message directly; see `relayed`).
//! Book: Part II "Consuming, long polling and rebalancing". Mirrors
//! `DefaultMQPushConsumer`, `DefaultMQPushConsumerImpl` and `RebalancePushImpl`.

mod concurrently;
mod listener;
mod orderly;
mod pull_loop;
mod rebalance;
mod relayed;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use parking_lot::Mutex;
use rmq_common::message::MessageExt;
use rmq_remoting::protocol::{
    ConsumeFromWhere, ConsumeMessageDirectlyResult, ConsumeType, ConsumerData, ConsumerRunningInfo,
    MessageModel, MessageQueue, SubscriptionData,
};
use tokio::sync::{OnceCell, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::ClientConfig;
use crate::consumer::allocate::AllocateStrategy;
use crate::consumer::offset_store::{LocalFileOffsetStore, OffsetStore, RemoteBrokerOffsetStore};
use crate::consumer::process_queue::ProcessQueue;
use crate::consumer::pull_api::PullApiWrapper;
use crate::consumer::stats::ConsumerStats;
use crate::consumer::subscription::{build_subscription, MessageSelector};
use crate::error::{ClientError, Result};
use crate::instance::{ClientInstance, ConsumerHook};
use crate::producer::{Producer, ProducerConfig};
use crate::trace::{self, ConsumeReturnType, TraceContext, TraceDispatcher, TraceRole};
use crate::util::retry_topic;

/// Runs `f` (a listener call) on `msgs` with their topics outside the namespace `ns`, as
/// the application knows them, and puts the namespace back afterwards for the bookkeeping
/// (`resetRetryAndNamespace`, and `withNamespace` before a send-back).
pub(crate) fn with_user_topics<R>(
    ns: &str,
    msgs: &mut [MessageExt],
    f: impl FnOnce(&[MessageExt]) -> R,
) -> R {
    if ns.is_empty() {
        return f(msgs);
    }
    for m in msgs.iter_mut() {
        m.topic = crate::namespace::without_namespace_of(&m.topic, ns);
    }
    let r = f(msgs);
    for m in msgs.iter_mut() {
        m.topic = crate::namespace::wrap_namespace(ns, &m.topic);
    }
    r
}

pub use listener::{
    ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, ConsumeOrderlyContext,
    ConsumeOrderlyStatus, MessageListener,
};

/// Push consumer settings; defaults are 4.8.0's `DefaultMQPushConsumer` values.
#[derive(Debug, Clone)]
pub struct PushConsumerConfig {
    /// The consumer group.
    pub group: String,
    /// Name servers, instance name and the runtime's periods.
    pub client: ClientConfig,
    /// Clustering (the group shares the queues) or broadcasting (every client reads all).
    pub message_model: MessageModel,
    /// Where a queue without a stored offset starts.
    pub consume_from_where: ConsumeFromWhere,
    /// For `ConsumeFromTimestamp`: epoch ms (default: half an hour ago).
    pub consume_timestamp_ms: i64,
    /// How the group's queues are shared out (`allocateMessageQueueStrategy`).
    pub allocate_strategy: AllocateStrategy,
    /// `consumeThreadMax`: listener calls in flight.
    pub consume_thread_max: usize,
    /// `consumeConcurrentlyMaxSpan`.
    pub consume_concurrently_max_span: i64,
    /// `pullThresholdForQueue` (messages).
    pub pull_threshold_for_queue: usize,
    /// `pullThresholdSizeForQueue` (MiB).
    pub pull_threshold_size_for_queue_mib: usize,
    /// `pullInterval`.
    pub pull_interval: Duration,
    /// `pullBatchSize`.
    pub pull_batch_size: i32,
    /// `consumeMessageBatchMaxSize`.
    pub consume_message_batch_max_size: usize,
    /// `postSubscriptionWhenPull`.
    pub post_subscription_when_pull: bool,
    /// `maxReconsumeTimes`; -1 means 16 (concurrently) or unlimited (orderly).
    pub max_reconsume_times: i32,
    /// `suspendCurrentQueueTimeMillis` (orderly).
    pub suspend_current_queue_time: Duration,
    /// Long-poll hold asked of the broker (`BROKER_SUSPEND_MAX_TIME_MILLIS`).
    pub broker_suspend_max_time: Duration,
    /// RPC timeout of a long poll (`CONSUMER_TIMEOUT_MILLIS_WHEN_SUSPEND`).
    pub consumer_timeout_when_suspend: Duration,
    /// Broadcasting offsets directory (default `$HOME/.rocketmq_offsets`).
    pub offset_store_dir: Option<PathBuf>,
    /// How long an offset reset waits for pulls and listener calls in flight before it sets
    /// the new offsets (hard-coded to 10 s in 4.8.0's `MQClientInstance.resetOffset`).
    pub reset_offset_wait: Duration,
    /// `enableMsgTrace`: record SubBefore/SubAfter trace events around every listener call
    /// (see [`crate::trace`]).
    pub enable_msg_trace: bool,
    /// `customizedTraceTopic`: the trace topic (`None`: `RMQ_SYS_TRACE_TOPIC`).
    pub customized_trace_topic: Option<String>,
}

impl PushConsumerConfig {
    /// A config with 4.8.0's defaults for `group` and the name servers `namesrv_addr`.
    pub fn new(group: impl Into<String>, namesrv_addr: impl Into<String>) -> Self {
        PushConsumerConfig {
            group: group.into(),
            client: ClientConfig::new(namesrv_addr),
            message_model: MessageModel::Clustering,
            consume_from_where: ConsumeFromWhere::ConsumeFromLastOffset,
            consume_timestamp_ms: crate::util::now_ms() - 30 * 60 * 1000,
            allocate_strategy: AllocateStrategy::default(),
            consume_thread_max: 20,
            consume_concurrently_max_span: 2000,
            pull_threshold_for_queue: 1000,
            pull_threshold_size_for_queue_mib: 100,
            pull_interval: Duration::ZERO,
            pull_batch_size: 32,
            consume_message_batch_max_size: 1,
            post_subscription_when_pull: false,
            max_reconsume_times: -1,
            suspend_current_queue_time: Duration::from_millis(1000),
            broker_suspend_max_time: Duration::from_millis(15000),
            consumer_timeout_when_suspend: Duration::from_millis(30000),
            offset_store_dir: None,
            reset_offset_wait: Duration::from_secs(10),
            enable_msg_trace: false,
            customized_trace_topic: None,
        }
    }
}

/// A running push consumer (clones share everything).
#[derive(Clone)]
pub struct PushConsumer {
    inner: Arc<PushInner>,
}

pub(crate) struct PushInner {
    config: PushConsumerConfig,
    instance: ClientInstance,
    wrapper: PullApiWrapper,
    offsets: OffsetStore,
    subscriptions: Mutex<BTreeMap<String, SubscriptionData>>,
    listener: MessageListener,
    table: Mutex<HashMap<MessageQueue, Arc<ProcessQueue>>>,
    consume_sem: Arc<Semaphore>,
    shutdown: CancellationToken,
    inner_producer: OnceCell<Producer>,
    rebalance_lock: tokio::sync::Mutex<()>,
    /// Serializes offset flushes so the final one at shutdown is the last.
    persist_lock: tokio::sync::Mutex<()>,
    /// Suspended (start-up, an offset reset): no pulls, no rebalance
    /// (`DefaultMQPushConsumerImpl.pause`).
    paused: AtomicBool,
    /// When the consumer started (epoch ms), for the running info.
    start_ms: i64,
    /// Pull and consume counters for the running info.
    stats: ConsumerStats,
    /// The trace dispatcher, when `enable_msg_trace` is on.
    trace: Option<Arc<TraceDispatcher>>,
}

struct Hook(Arc<PushInner>);

impl ConsumerHook for Hook {
    fn consumer_data(&self) -> ConsumerData {
        let c = &self.0.config;
        ConsumerData {
            consume_from_where: c.consume_from_where,
            consume_type: ConsumeType::ConsumePassively,
            group_name: c.group.clone(),
            message_model: c.message_model,
            subscription_data_set: self.0.subscriptions.lock().values().cloned().collect(),
            unit_mode: false,
        }
    }

    fn do_rebalance(&self) -> BoxFuture<'static, ()> {
        let inner = self.0.clone();
        async move { inner.do_rebalance().await }.boxed()
    }

    fn persist_offsets(&self) -> BoxFuture<'static, ()> {
        let inner = self.0.clone();
        async move { inner.persist_offsets(false).await }.boxed()
    }

    fn reset_offset(
        &self,
        topic: String,
        offsets: HashMap<MessageQueue, i64>,
    ) -> BoxFuture<'static, ()> {
        let inner = self.0.clone();
        async move { inner.reset_offset(&topic, offsets).await }.boxed()
    }

    fn offset_table(&self, topic: &str) -> HashMap<MessageQueue, i64> {
        self.0.offset_table(topic)
    }

    fn running_info(&self) -> Option<ConsumerRunningInfo> {
        Some(self.0.running_info())
    }

    fn consume_message_directly(
        &self,
        msg: MessageExt,
        broker_name: String,
    ) -> BoxFuture<'static, Option<ConsumeMessageDirectlyResult>> {
        let inner = self.0.clone();
        async move { Some(inner.consume_message_directly(msg, broker_name).await) }.boxed()
    }
}

impl PushConsumer {
    /// Starts consuming `subscriptions` (topic, tag expression) with `listener`.
    pub async fn start(
        config: PushConsumerConfig,
        subscriptions: &[(&str, &str)],
        listener: MessageListener,
    ) -> Result<PushConsumer> {
        let selectors: Vec<(&str, MessageSelector)> = subscriptions
            .iter()
            .map(|(t, e)| (*t, MessageSelector::from(*e)))
            .collect();
        Self::start_with_selectors(config, &selectors, listener).await
    }

    /// Starts consuming `subscriptions` (topic, [`MessageSelector`]) with `listener`. A SQL92
    /// selector is checked with a broker of its topic first (CHECK_CLIENT_CONFIG, as the Java
    /// consumer's `start()`): a broker without `enablePropertyFilter=true`, or an expression it
    /// cannot compile, makes this fail with the broker's code and remark.
    pub async fn start_with_selectors(
        mut config: PushConsumerConfig,
        subscriptions: &[(&str, MessageSelector)],
        listener: MessageListener,
    ) -> Result<PushConsumer> {
        config.group = config.client.with_namespace(&config.group);
        if config.group.trim().is_empty() || config.group == "DEFAULT_CONSUMER" {
            return Err(ClientError::InvalidArgument(format!(
                "consumer group {:?}",
                config.group
            )));
        }
        if subscriptions.is_empty() {
            return Err(ClientError::InvalidArgument("no subscription".into()));
        }
        let mut subs = BTreeMap::new();
        for (topic, selector) in subscriptions {
            let topic = config.client.with_namespace(topic);
            subs.insert(topic.clone(), selector.to_subscription(&topic)?);
        }
        if config.message_model == MessageModel::Clustering {
            let rt = retry_topic(&config.group);
            subs.insert(rt.clone(), build_subscription(&rt, "*")?);
        }
        let instance = ClientInstance::start(config.client.clone()).await?;
        let offsets = match config.message_model {
            MessageModel::Clustering => OffsetStore::Remote(RemoteBrokerOffsetStore::new(
                instance.clone(),
                config.group.clone(),
            )),
            MessageModel::Broadcasting => {
                let dir = config
                    .offset_store_dir
                    .clone()
                    .unwrap_or_else(LocalFileOffsetStore::default_dir);
                OffsetStore::Local(LocalFileOffsetStore::open(
                    &dir,
                    instance.client_id(),
                    &config.group,
                )?)
            }
        };
        let topics: Vec<String> = subs.keys().cloned().collect();
        let trace = if config.enable_msg_trace {
            let started = TraceDispatcher::start(
                &config.group,
                TraceRole::Consume,
                config.customized_trace_topic.as_deref(),
                &config.client,
            )
            .await;
            match started {
                Ok(d) => Some(d),
                Err(e) => {
                    instance.shutdown();
                    return Err(e);
                }
            }
        } else {
            None
        };
        let inner = Arc::new(PushInner {
            trace,
            wrapper: PullApiWrapper::new(instance.clone(), config.group.clone()),
            consume_sem: Arc::new(Semaphore::new(config.consume_thread_max.max(1))),
            shutdown: instance.shutdown_token().child_token(),
            subscriptions: Mutex::new(subs),
            table: Mutex::new(HashMap::new()),
            inner_producer: OnceCell::new(),
            rebalance_lock: tokio::sync::Mutex::new(()),
            persist_lock: tokio::sync::Mutex::new(()),
            // Until the first heartbeat has reached every broker: a rebalance woken by a
            // broker's NOTIFY_CONSUMER_IDS_CHANGED could otherwise pull from a broker that has
            // not heard of the group yet (SUBSCRIPTION_NOT_EXIST, then a 3 s back-off).
            paused: AtomicBool::new(true),
            start_ms: crate::util::now_ms(),
            stats: ConsumerStats::default(),
            offsets,
            listener,
            instance,
            config,
        });
        let inst = &inner.instance;
        for t in &topics {
            if let Err(e) = inst.update_topic_route(t).await {
                warn!(topic = %t, error = %e, "route lookup at start failed");
            }
        }
        if let Err(e) = inner.check_client_in_broker().await {
            inst.shutdown();
            return Err(e);
        }
        inst.register_consumer(&inner.config.group, Arc::new(Hook(inner.clone())), &topics);
        inst.send_heartbeat_to_all_brokers().await;
        inner
            .paused
            .store(false, std::sync::atomic::Ordering::SeqCst);
        if inner.is_orderly() && inner.config.message_model == MessageModel::Clustering {
            orderly::spawn_lock_all_task(inner.clone());
        }
        inst.rebalance_immediately();
        info!(group = %inner.config.group, client_id = %inst.client_id(), "push consumer started");
        Ok(PushConsumer { inner })
    }

    /// The consumer group.
    pub fn group(&self) -> &str {
        &self.inner.config.group
    }

    /// This client's id (`ip@instanceName`), as the brokers list it.
    pub fn client_id(&self) -> &str {
        self.inner.instance.client_id()
    }

    /// The client runtime this consumer owns.
    pub fn instance(&self) -> &ClientInstance {
        &self.inner.instance
    }

    /// The queues this consumer currently owns (sorted).
    pub fn assigned_queues(&self) -> Vec<MessageQueue> {
        let mut v: Vec<_> = self
            .inner
            .table
            .lock()
            .iter()
            .filter(|(_, pq)| !pq.is_dropped())
            .map(|(mq, _)| mq.clone())
            .collect();
        v.sort();
        v
    }

    /// The in-memory offsets (next offset to consume) per queue.
    pub fn offsets(&self) -> HashMap<MessageQueue, i64> {
        self.inner.offsets.snapshot()
    }

    /// Runs one rebalance round now and waits for it.
    pub async fn rebalance_now(&self) {
        self.inner.do_rebalance().await;
    }

    /// Stops pulling, waits for listener calls in flight (up to 10 s), writes
    /// offsets, releases orderly locks and unregisters from the brokers.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        inner.shutdown.cancel();
        let n = inner.config.consume_thread_max.max(1) as u32;
        let drained =
            tokio::time::timeout(Duration::from_secs(10), inner.consume_sem.acquire_many(n)).await;
        if drained.is_err() {
            warn!(group = %inner.config.group, "listener calls still running at shutdown");
        }
        inner.persist_offsets(true).await;
        if inner.is_orderly() && inner.config.message_model == MessageModel::Clustering {
            inner.unlock_all().await;
        }
        inner
            .instance
            .unregister(None, Some(&inner.config.group))
            .await;
        if let Some(p) = inner.inner_producer.get() {
            p.shutdown().await;
        }
        if let Some(t) = &inner.trace {
            t.shutdown().await;
        }
        inner.instance.shutdown();
        info!(group = %inner.config.group, "push consumer shut down");
    }
}

impl PushInner {
    /// `MQClientInstance.checkClientInBroker`: each non-TAG subscription is shown to one
    /// broker of its topic, which must accept it.
    async fn check_client_in_broker(&self) -> Result<()> {
        let subs: Vec<SubscriptionData> = self.subscriptions.lock().values().cloned().collect();
        let inst = &self.instance;
        for sub in subs.iter().filter(|s| s.expression_type != "TAG") {
            let Some(route) = inst.route(&sub.topic) else {
                continue;
            };
            let Some(addr) = route
                .broker_datas
                .iter()
                .find_map(|b| b.broker_addrs.values().next().cloned())
            else {
                continue;
            };
            inst.api()
                .check_client_config(
                    &addr,
                    &self.config.group,
                    inst.client_id(),
                    sub,
                    Duration::from_secs(3),
                )
                .await?;
        }
        Ok(())
    }

    /// Records the SubBefore event of a listener call over `msgs`, if tracing is on; the
    /// event is handed back for [`trace_after`](Self::trace_after).
    fn trace_before(&self, msgs: &[MessageExt]) -> Option<TraceContext> {
        let dispatcher = self.trace.as_ref()?;
        let ctx = trace::hooks::sub_before(&self.config.group, self.instance.client_id(), msgs)?;
        dispatcher.append(ctx.clone());
        Some(ctx)
    }

    /// Records the SubAfter event closing `before`.
    fn trace_after(
        &self,
        before: Option<TraceContext>,
        msg_count: usize,
        success: bool,
        how: ConsumeReturnType,
    ) {
        if let (Some(dispatcher), Some(before)) = (&self.trace, before) {
            dispatcher.append(trace::hooks::sub_after(&before, msg_count, success, how));
        }
    }

    /// The client's namespace, for the listener's view of topics.
    fn namespace(&self) -> String {
        self.config.client.namespace().to_string()
    }

    fn is_orderly(&self) -> bool {
        matches!(self.listener, MessageListener::Orderly(_))
    }

    fn is_stopped(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    fn is_paused(&self) -> bool {
        self.paused.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn subscription(&self, topic: &str) -> Option<SubscriptionData> {
        self.subscriptions.lock().get(topic).cloned()
    }

    /// Writes the offsets of owned queues (`persistConsumerOffset`). Periodic
    /// flushes (`is_final == false`) stop once shutdown began, so the final
    /// flush is the last word. Every flush waits for the broker's reply (4.8.0
    /// sends the periodic ones oneway), which keeps a late periodic update from
    /// overtaking the final one.
    async fn persist_offsets(&self, is_final: bool) {
        let _one_at_a_time = self.persist_lock.lock().await;
        if !is_final && self.is_stopped() {
            return;
        }
        let mqs: Vec<MessageQueue> = self.table.lock().keys().cloned().collect();
        self.offsets.persist_all(&mqs, true).await;
    }

    /// `maxReconsumeTimes` with the -1 default resolved.
    fn max_reconsume_times(&self) -> i32 {
        match self.config.max_reconsume_times {
            -1 if self.is_orderly() => i32::MAX,
            -1 => 16,
            n => n,
        }
    }

    /// The producer used when CONSUMER_SEND_MSG_BACK fails (`CLIENT_INNER_PRODUCER`).
    async fn inner_producer(&self) -> Result<&Producer> {
        self.inner_producer
            .get_or_try_init(|| async {
                let mut pc = ProducerConfig::new(
                    "CLIENT_INNER_PRODUCER",
                    self.config.client.namesrv_addr.clone(),
                );
                pc.client = self.config.client.clone();
                pc.client.instance_name = None;
                pc.retry_times_when_send_failed = 0;
                Producer::start(pc).await
            })
            .await
    }
}
