//! The lite pull consumer: the application calls `poll` in its own loop, as with a Kafka
//! consumer, while the client does the pulling, the rebalancing and (by default) the
//! committing in the background.
//!
//! Two ways to get queues, which exclude each other: `subscribe` (the group shares the
//! topic's queues, rebalanced every 20 s and when the membership changes, like a push
//! consumer) or `assign` (the application names the queues; no rebalance). Each owned queue
//! has a pull task that long-polls the broker and buffers what it gets; `poll` hands out one
//! buffered batch and moves that queue's consume offset past it. `commit_sync` stores the
//! consume offsets on the broker now; with `auto_commit` (the default) `poll` stores them
//! every `auto_commit_interval` and shutdown stores them a last time. `seek`,
//! `seek_to_begin` and `seek_to_end` move a queue; `pause` and `resume` stop and restart its
//! pulls.
//! Book: Part II "Consuming" (section "The lite pull consumer"). Mirrors 4.8.0's
//! `DefaultLitePullConsumer`, `DefaultLitePullConsumerImpl` and `RebalanceLitePullImpl`.

mod assigned;
mod pull_task;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use parking_lot::Mutex;
use rmq_common::message::MessageExt;
use rmq_remoting::protocol::{
    ConsumeFromWhere, ConsumeType, ConsumerData, MessageModel, MessageQueue, SubscriptionData,
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::config::ClientConfig;
use crate::consumer::allocate::AllocateStrategy;
use crate::consumer::assignment;
use crate::consumer::offset_store::{
    LocalFileOffsetStore, OffsetStore, ReadOffsetType, RemoteBrokerOffsetStore,
};
use crate::consumer::pull_api::PullApiWrapper;
use crate::consumer::subscription::{build_subscription, MessageSelector};
use crate::error::{ClientError, Result};
use crate::instance::{ClientInstance, ConsumerHook};
use crate::util::now_ms;

pub use assigned::QueueState;

/// Lite pull consumer settings; defaults are 4.8.0's `DefaultLitePullConsumer` values.
#[derive(Debug, Clone)]
pub struct LitePullConsumerConfig {
    /// The consumer group.
    pub group: String,
    /// Name servers, instance name and the runtime's periods.
    pub client: ClientConfig,
    /// Clustering (the group shares the queues) or broadcasting (each client reads all).
    pub message_model: MessageModel,
    /// Where a queue without a stored offset starts (default: the last offset).
    pub consume_from_where: ConsumeFromWhere,
    /// For `ConsumeFromTimestamp`: epoch ms (default: half an hour ago).
    pub consume_timestamp_ms: i64,
    /// How `subscribe` shares the group's queues.
    pub allocate_strategy: AllocateStrategy,
    /// `pullBatchSize`: messages per pull (10).
    pub pull_batch_size: i32,
    /// `pullThresholdForAll`: buffered messages over all queues before pulls wait (10 000).
    pub pull_threshold_for_all: usize,
    /// `pullThresholdForQueue`: buffered messages of one queue before its pulls wait (1000).
    pub pull_threshold_for_queue: usize,
    /// `consumeMaxSpan`: largest offset span buffered in one queue (2000).
    pub consume_max_span: i64,
    /// `pollTimeoutMillis`: how long `poll` waits for a batch (5 s).
    pub poll_timeout: Duration,
    /// `autoCommit`: store consume offsets from `poll` and at shutdown (true).
    pub auto_commit: bool,
    /// `autoCommitIntervalMillis` (5 s).
    pub auto_commit_interval: Duration,
    /// Long-poll hold asked of the broker (`brokerSuspendMaxTimeMillis`, 20 s).
    pub broker_suspend_max_time: Duration,
    /// RPC timeout of a long poll (`consumerTimeoutMillisWhenSuspend`, 30 s).
    pub consumer_timeout_when_suspend: Duration,
    /// Broadcasting offsets directory (default `$HOME/.rocketmq_offsets`).
    pub offset_store_dir: Option<PathBuf>,
}

impl LitePullConsumerConfig {
    /// A config with 4.8.0's defaults for `group` and the name servers `namesrv_addr`.
    pub fn new(group: impl Into<String>, namesrv_addr: impl Into<String>) -> Self {
        LitePullConsumerConfig {
            group: group.into(),
            client: ClientConfig::new(namesrv_addr),
            message_model: MessageModel::Clustering,
            consume_from_where: ConsumeFromWhere::ConsumeFromLastOffset,
            consume_timestamp_ms: now_ms() - 30 * 60 * 1000,
            allocate_strategy: AllocateStrategy::default(),
            pull_batch_size: 10,
            pull_threshold_for_all: 10_000,
            pull_threshold_for_queue: 1000,
            consume_max_span: 2000,
            poll_timeout: Duration::from_millis(5000),
            auto_commit: true,
            auto_commit_interval: Duration::from_millis(5000),
            broker_suspend_max_time: Duration::from_millis(20_000),
            consumer_timeout_when_suspend: Duration::from_millis(30_000),
            offset_store_dir: None,
        }
    }
}

/// How the consumer got its queues (`SubscriptionType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    None,
    Subscribe,
    Assign,
}

/// A pulled batch waiting for `poll` (`ConsumeRequest`).
pub(crate) struct ReadyBatch {
    state: Arc<QueueState>,
    generation: u64,
    msgs: Vec<MessageExt>,
}

/// A running lite pull consumer (clones share everything).
#[derive(Clone)]
pub struct LitePullConsumer {
    inner: Arc<LiteInner>,
}

pub(crate) struct LiteInner {
    config: LitePullConsumerConfig,
    instance: ClientInstance,
    wrapper: PullApiWrapper,
    offsets: OffsetStore,
    mode: Mutex<Mode>,
    /// Topic -> subscription (subscribe mode), or `*` per assigned topic.
    subscriptions: Mutex<BTreeMap<String, SubscriptionData>>,
    /// The assigned queues (`AssignedMessageQueue`).
    assigned: Mutex<BTreeMap<MessageQueue, Arc<QueueState>>>,
    /// Batches waiting for `poll` (`consumeRequestCache`).
    ready: Mutex<VecDeque<ReadyBatch>>,
    ready_signal: Notify,
    /// Messages in `ready`.
    cached: AtomicUsize,
    next_auto_commit_ms: AtomicI64,
    rebalance_lock: tokio::sync::Mutex<()>,
    shutdown: CancellationToken,
}

struct Hook(Arc<LiteInner>);

impl ConsumerHook for Hook {
    fn consumer_data(&self) -> ConsumerData {
        let c = &self.0.config;
        ConsumerData {
            consume_from_where: c.consume_from_where,
            consume_type: ConsumeType::ConsumeActively,
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
        async move {
            let mqs = inner.assigned_queues();
            inner.offsets.persist_all(&mqs, true).await
        }
        .boxed()
    }

    fn offset_table(&self, topic: &str) -> HashMap<MessageQueue, i64> {
        let mut t = self.0.offsets.snapshot();
        t.retain(|mq, _| mq.topic == topic);
        t
    }
}

impl LitePullConsumer {
    /// Starts the consumer's runtime; then `subscribe` or `assign` gives it queues.
    pub async fn start(mut config: LitePullConsumerConfig) -> Result<LitePullConsumer> {
        config.group = config.client.with_namespace(&config.group);
        if config.group.trim().is_empty() || config.group == "DEFAULT_CONSUMER" {
            return Err(ClientError::InvalidArgument(format!(
                "consumer group {:?}",
                config.group
            )));
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
        let inner = Arc::new(LiteInner {
            wrapper: PullApiWrapper::new(instance.clone(), config.group.clone()),
            offsets,
            mode: Mutex::new(Mode::None),
            subscriptions: Mutex::new(BTreeMap::new()),
            assigned: Mutex::new(BTreeMap::new()),
            ready: Mutex::new(VecDeque::new()),
            ready_signal: Notify::new(),
            cached: AtomicUsize::new(0),
            next_auto_commit_ms: AtomicI64::new(
                now_ms() + config.auto_commit_interval.as_millis() as i64,
            ),
            rebalance_lock: tokio::sync::Mutex::new(()),
            shutdown: instance.shutdown_token().child_token(),
            instance,
            config,
        });
        inner
            .instance
            .register_consumer(&inner.config.group, Arc::new(Hook(inner.clone())), &[]);
        info!(group = %inner.config.group, client_id = %inner.instance.client_id(), "lite pull consumer started");
        Ok(LitePullConsumer { inner })
    }

    /// The consumer group.
    pub fn group(&self) -> &str {
        &self.inner.config.group
    }

    /// This client's id (`ip@instanceName`).
    pub fn client_id(&self) -> &str {
        self.inner.instance.client_id()
    }

    /// Subscribes to `topic` with a tag expression (`"*"`, `"TagA || TagB"`); the group's
    /// queues are then shared by rebalancing. Excludes `assign`.
    pub async fn subscribe(&self, topic: &str, expression: &str) -> Result<()> {
        self.subscribe_with(topic, MessageSelector::from(expression))
            .await
    }

    /// [`subscribe`](Self::subscribe) with a [`MessageSelector`] (tag or SQL92).
    pub async fn subscribe_with(&self, topic: &str, selector: MessageSelector) -> Result<()> {
        let inner = &self.inner;
        inner.set_mode(Mode::Subscribe)?;
        let topic = &inner.config.client.with_namespace(topic);
        let sub = selector.to_subscription(topic)?;
        inner.subscriptions.lock().insert(topic.to_string(), sub);
        inner.instance.add_consumer_topic(topic);
        let _ = inner.instance.update_topic_route(topic).await;
        inner.instance.send_heartbeat_to_all_brokers().await;
        inner.do_rebalance().await;
        Ok(())
    }

    /// Stops reading `topic` (its queues are dropped at once).
    pub async fn unsubscribe(&self, topic: &str) {
        let topic = &self.inner.config.client.with_namespace(topic);
        self.inner.subscriptions.lock().remove(topic);
        self.inner.update_assigned(topic, &BTreeSet::new()).await;
    }

    /// Reads exactly these queues (no rebalance); replaces an earlier assignment. Excludes
    /// `subscribe`.
    pub async fn assign(&self, mqs: &[MessageQueue]) -> Result<()> {
        let inner = &self.inner;
        inner.set_mode(Mode::Assign)?;
        let mut by_topic: BTreeMap<String, BTreeSet<MessageQueue>> = BTreeMap::new();
        for mq in mqs {
            let mq = &inner.with_namespace(mq);
            by_topic
                .entry(mq.topic.clone())
                .or_default()
                .insert(mq.clone());
        }
        {
            let mut subs = inner.subscriptions.lock();
            subs.retain(|t, _| by_topic.contains_key(t));
            for topic in by_topic.keys() {
                if !subs.contains_key(topic) {
                    subs.insert(topic.clone(), build_subscription(topic, "*")?);
                }
            }
        }
        let old_topics: BTreeSet<String> = inner
            .assigned
            .lock()
            .keys()
            .map(|m| m.topic.clone())
            .collect();
        for topic in old_topics.iter().filter(|t| !by_topic.contains_key(*t)) {
            inner.update_assigned(topic, &BTreeSet::new()).await;
        }
        for (topic, mine) in &by_topic {
            let _ = inner.instance.update_topic_route(topic).await;
            inner.update_assigned(topic, mine).await;
        }
        Ok(())
    }

    /// The queues of `topic` (`fetchMessageQueues`).
    pub async fn fetch_message_queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        let topic = &self.inner.config.client.with_namespace(topic);
        let inst = &self.inner.instance;
        let _ = inst.update_topic_route(topic).await;
        let mut v = inst.subscribe_queues(topic);
        if v.is_empty() {
            return Err(ClientError::NoRoute(topic.to_string()));
        }
        v.sort();
        Ok(v)
    }

    /// The queues this consumer owns now (sorted).
    pub fn assignment(&self) -> Vec<MessageQueue> {
        self.inner.assigned_queues()
    }

    /// The next batch of messages, waiting up to `poll_timeout`; empty when none came.
    pub async fn poll(&self) -> Result<Vec<MessageExt>> {
        self.poll_timeout(self.inner.config.poll_timeout).await
    }

    /// [`poll`](Self::poll) with another timeout.
    pub async fn poll_timeout(&self, timeout: Duration) -> Result<Vec<MessageExt>> {
        let inner = &self.inner;
        if inner.is_stopped() {
            return Err(ClientError::NotRunning("lite pull consumer is shut down"));
        }
        if inner.config.auto_commit {
            inner.maybe_auto_commit();
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = inner.ready_signal.notified();
            if let Some(mut msgs) = inner.take_ready() {
                // The application sees its topics without the namespace (`resetTopic`).
                for m in &mut msgs {
                    m.topic = inner.config.client.without_namespace(&m.topic);
                }
                return Ok(msgs);
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(deadline) => return Ok(Vec::new()),
                _ = inner.shutdown.cancelled() => return Ok(Vec::new()),
            }
        }
    }

    /// Continues `mq` from `offset`, which must lie within the queue's min and max offsets;
    /// what was buffered for it is dropped.
    pub async fn seek(&self, mq: &MessageQueue, offset: i64) -> Result<()> {
        let mq = &self.inner.with_namespace(mq);
        let state = self.inner.state_of(mq)?;
        let (min, max) = (self.min_offset(mq).await?, self.max_offset(mq).await?);
        if offset < min || offset > max {
            return Err(ClientError::InvalidArgument(format!(
                "Seek offset illegal, seek offset = {offset}, min offset = {min}, max offset = {max}"
            )));
        }
        self.inner.seek_state(&state, offset);
        Ok(())
    }

    /// Continues `mq` from its first message.
    pub async fn seek_to_begin(&self, mq: &MessageQueue) -> Result<()> {
        let mq = &self.inner.with_namespace(mq);
        let state = self.inner.state_of(mq)?;
        let min = self.min_offset(mq).await?;
        self.inner.seek_state(&state, min);
        Ok(())
    }

    /// Continues `mq` after its last message.
    pub async fn seek_to_end(&self, mq: &MessageQueue) -> Result<()> {
        let mq = &self.inner.with_namespace(mq);
        let state = self.inner.state_of(mq)?;
        let max = self.max_offset(mq).await?;
        self.inner.seek_state(&state, max);
        Ok(())
    }

    /// Stops pulling these queues (buffered messages still come out of `poll`).
    pub fn pause(&self, mqs: &[MessageQueue]) {
        for mq in mqs {
            if let Some(s) = self
                .inner
                .assigned
                .lock()
                .get(&self.inner.with_namespace(mq))
            {
                s.set_paused(true);
            }
        }
    }

    /// Pulls these queues again.
    pub fn resume(&self, mqs: &[MessageQueue]) {
        for mq in mqs {
            if let Some(s) = self
                .inner
                .assigned
                .lock()
                .get(&self.inner.with_namespace(mq))
            {
                s.set_paused(false);
            }
        }
    }

    /// Stores every owned queue's consume offset on the broker (or file) now.
    pub async fn commit_sync(&self) {
        self.inner.commit_all();
        let mqs = self.inner.assigned_queues();
        self.inner.offsets.persist_all(&mqs, true).await;
    }

    /// The offset stored for `mq` (-1: none).
    pub async fn committed(&self, mq: &MessageQueue) -> i64 {
        let mq = &self.inner.with_namespace(mq);
        self.inner
            .offsets
            .read_offset(mq, ReadOffsetType::ReadFromStore)
            .await
    }

    /// The queue's smallest offset.
    pub async fn min_offset(&self, mq: &MessageQueue) -> Result<i64> {
        self.queue_end(mq, false).await
    }

    /// One past the queue's last offset.
    pub async fn max_offset(&self, mq: &MessageQueue) -> Result<i64> {
        self.queue_end(mq, true).await
    }

    /// GET_MIN_OFFSET or GET_MAX_OFFSET of the queue's master.
    async fn queue_end(&self, mq: &MessageQueue, max: bool) -> Result<i64> {
        let mq = &self.inner.with_namespace(mq);
        let inst = &self.inner.instance;
        let addr = inst
            .master_addr_or_refresh(&mq.broker_name, &mq.topic)
            .await?;
        let (api, t) = (inst.api(), inst.api_timeout());
        if max {
            api.get_max_offset(&addr, mq, t).await
        } else {
            api.get_min_offset(&addr, mq, t).await
        }
    }

    /// Stops pulling, stores the consume offsets (with `auto_commit`), unregisters.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        inner.shutdown.cancel();
        if inner.config.auto_commit {
            inner.commit_all();
        }
        let mqs = inner.assigned_queues();
        inner.offsets.persist_all(&mqs, true).await;
        inner
            .instance
            .unregister(None, Some(&inner.config.group))
            .await;
        inner.instance.shutdown();
        info!(group = %inner.config.group, "lite pull consumer shut down");
    }
}

impl LiteInner {
    fn is_stopped(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    /// `queueWithNamespace`.
    fn with_namespace(&self, mq: &MessageQueue) -> MessageQueue {
        crate::namespace::queue_with_namespace(self.config.client.namespace(), mq)
    }

    fn set_mode(&self, wanted: Mode) -> Result<()> {
        let mut mode = self.mode.lock();
        if *mode != Mode::None && *mode != wanted {
            return Err(ClientError::InvalidArgument(
                "Subscribe and assign are mutually exclusive.".into(),
            ));
        }
        *mode = wanted;
        Ok(())
    }

    fn assigned_queues(&self) -> Vec<MessageQueue> {
        self.assigned.lock().keys().cloned().collect()
    }

    fn state_of(&self, mq: &MessageQueue) -> Result<Arc<QueueState>> {
        self.assigned.lock().get(mq).cloned().ok_or_else(|| {
            ClientError::InvalidArgument(
                "The message queue is not in assigned list, may be rebalancing, message queue: "
                    .to_string()
                    + &format!("{mq:?}"),
            )
        })
    }

    fn subscription_for(&self, topic: &str) -> Option<SubscriptionData> {
        self.subscriptions.lock().get(topic).cloned()
    }

    fn cached_msg_count(&self) -> usize {
        self.cached.load(Ordering::SeqCst)
    }

    /// Puts a pulled batch where `poll` finds it.
    fn submit(&self, batch: ReadyBatch) {
        self.cached.fetch_add(batch.msgs.len(), Ordering::SeqCst);
        self.ready.lock().push_back(batch);
        self.ready_signal.notify_one();
    }

    // ANCHOR: lite_take_ready
    /// The first batch still valid (its queue owned, no seek since), consumed.
    fn take_ready(&self) -> Option<Vec<MessageExt>> {
        loop {
            let batch = self.ready.lock().pop_front()?;
            self.cached.fetch_sub(batch.msgs.len(), Ordering::SeqCst);
            let s = &batch.state;
            if s.pq.is_dropped() || batch.generation != s.generation() {
                continue;
            }
            let offset = s.pq.remove_messages(&batch.msgs);
            if offset >= 0 {
                s.set_consume_offset(offset);
            }
            return Some(batch.msgs);
        }
    }
    // ANCHOR_END: lite_take_ready

    fn seek_state(&self, state: &QueueState, offset: i64) {
        state.seek(offset);
        info!(queue = ?state.mq, offset, "seek");
    }

    // ANCHOR: lite_commit_all
    /// Copies every owned queue's consume offset into the offset store (`commitAll`).
    fn commit_all(&self) {
        for state in self.assigned.lock().values() {
            let o = state.consume_offset();
            if o >= 0 && !state.pq.is_dropped() {
                self.offsets.update_offset(&state.mq, o, false);
            }
        }
    }

    fn maybe_auto_commit(&self) {
        let now = now_ms();
        let due = self.next_auto_commit_ms.load(Ordering::SeqCst);
        if now >= due {
            self.next_auto_commit_ms.store(
                now + self.config.auto_commit_interval.as_millis() as i64,
                Ordering::SeqCst,
            );
            self.commit_all();
        }
    }
    // ANCHOR_END: lite_commit_all

    /// One rebalance round (subscribe mode only).
    async fn do_rebalance(self: &Arc<Self>) {
        if self.is_stopped() || *self.mode.lock() != Mode::Subscribe {
            return;
        }
        let _one_at_a_time = self.rebalance_lock.lock().await;
        let topics: Vec<String> = self.subscriptions.lock().keys().cloned().collect();
        let c = &self.config;
        for topic in &topics {
            if let Some(mine) = assignment::my_queues(
                &self.instance,
                &c.group,
                topic,
                c.message_model,
                &c.allocate_strategy,
            )
            .await
            {
                let mine: BTreeSet<MessageQueue> = mine.into_iter().collect();
                self.update_assigned(topic, &mine).await;
            }
        }
    }

    /// Makes `mine` the owned queues of `topic`: dropped ones store their offset and stop,
    /// new ones get a pull task (`updateAssignQueueAndStartPullTask`).
    async fn update_assigned(self: &Arc<Self>, topic: &str, mine: &BTreeSet<MessageQueue>) {
        let lost: Vec<Arc<QueueState>> = self
            .assigned
            .lock()
            .values()
            .filter(|s| s.mq.topic == topic && !mine.contains(&s.mq))
            .cloned()
            .collect();
        for s in lost {
            if self.config.auto_commit && s.consume_offset() >= 0 {
                self.offsets.update_offset(&s.mq, s.consume_offset(), false);
            }
            s.pq.set_dropped(true);
            s.interrupt.notify_one();
            self.offsets
                .persist_all(std::slice::from_ref(&s.mq), true)
                .await;
            self.offsets.remove_offset(&s.mq);
            self.assigned.lock().remove(&s.mq);
            info!(group = %self.config.group, queue = ?s.mq, "dropped queue");
        }
        for mq in mine {
            if self.assigned.lock().contains_key(mq) {
                continue;
            }
            self.offsets.remove_offset(mq);
            let state = Arc::new(QueueState::new(mq.clone()));
            self.assigned.lock().insert(mq.clone(), state.clone());
            info!(group = %self.config.group, queue = ?mq, "new queue");
            pull_task::spawn(self.clone(), state);
        }
    }
}
