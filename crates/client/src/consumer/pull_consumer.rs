//! The pull consumer: the application decides which queue to read, from which
//! offset, and when to store its progress.
//!
//! Nothing happens in the background except route refresh, heartbeats and the
//! periodic offset flush; `pull` reads at once (or, with
//! `pull_block_if_not_found`, lets the broker hold the request until messages
//! arrive), and `update_consume_offset` records progress that is written to
//! the broker every 5 s and at shutdown.
//! Book: Part II "Consuming, long polling and rebalancing" (pull consumers).
//! Mirrors `DefaultMQPullConsumer` / `DefaultMQPullConsumerImpl`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use parking_lot::Mutex;
use rmq_remoting::protocol::{
    ConsumeFromWhere, ConsumeType, ConsumerData, MessageModel, MessageQueue,
};

use crate::api::pull_flag;
use crate::config::ClientConfig;
use crate::consumer::offset_store::{OffsetStore, ReadOffsetType, RemoteBrokerOffsetStore};
use crate::consumer::pull_api::{PullApiWrapper, PullArgs, PullResult};
use crate::consumer::subscription::{build_subscription, MessageSelector};
use crate::error::{ClientError, Result};
use crate::instance::{ClientInstance, ConsumerHook};

/// How long the broker may hold a blocking pull (`brokerSuspendMaxTimeMillis`).
pub const BROKER_SUSPEND_MAX_TIME: Duration = Duration::from_secs(20);
/// RPC timeout of a blocking pull (`consumerTimeoutMillisWhenSuspend`).
pub const CONSUMER_TIMEOUT_WHEN_SUSPEND: Duration = Duration::from_secs(30);
/// RPC timeout of a plain pull (`consumerPullTimeoutMillis`).
pub const CONSUMER_PULL_TIMEOUT: Duration = Duration::from_secs(10);

/// A running pull consumer (clones share everything).
#[derive(Clone)]
pub struct PullConsumer {
    inner: Arc<PullInner>,
}

struct PullInner {
    group: String,
    instance: ClientInstance,
    wrapper: PullApiWrapper,
    offsets: OffsetStore,
    topics: Mutex<BTreeSet<String>>,
}

struct Hook(Arc<PullInner>);

impl ConsumerHook for Hook {
    fn consumer_data(&self) -> ConsumerData {
        let subs = self
            .0
            .topics
            .lock()
            .iter()
            .filter_map(|t| build_subscription(t, "*").ok())
            .collect();
        ConsumerData {
            consume_from_where: ConsumeFromWhere::ConsumeFromLastOffset,
            consume_type: ConsumeType::ConsumeActively,
            group_name: self.0.group.clone(),
            message_model: MessageModel::Clustering,
            subscription_data_set: subs,
            unit_mode: false,
        }
    }

    fn do_rebalance(&self) -> BoxFuture<'static, ()> {
        async {}.boxed()
    }

    fn persist_offsets(&self) -> BoxFuture<'static, ()> {
        let inner = self.0.clone();
        async move {
            let mqs: Vec<_> = inner.offsets.snapshot().into_keys().collect();
            inner.offsets.persist_all(&mqs, false).await;
        }
        .boxed()
    }

    fn offset_table(&self, topic: &str) -> std::collections::HashMap<MessageQueue, i64> {
        self.0
            .offsets
            .snapshot()
            .into_iter()
            .filter(|(mq, _)| mq.topic == topic)
            .collect()
    }
}

impl PullConsumer {
    /// Starts a pull consumer of `group`.
    pub async fn start(group: impl Into<String>, client: ClientConfig) -> Result<PullConsumer> {
        let group = group.into();
        if group.trim().is_empty() {
            return Err(ClientError::InvalidArgument(
                "consumer group is blank".into(),
            ));
        }
        let instance = ClientInstance::start(client).await?;
        let inner = Arc::new(PullInner {
            wrapper: PullApiWrapper::new(instance.clone(), group.clone()),
            offsets: OffsetStore::Remote(RemoteBrokerOffsetStore::new(
                instance.clone(),
                group.clone(),
            )),
            topics: Mutex::new(BTreeSet::new()),
            group,
            instance,
        });
        inner
            .instance
            .register_consumer(&inner.group, Arc::new(Hook(inner.clone())), &[]);
        Ok(PullConsumer { inner })
    }

    /// The consumer group.
    pub fn group(&self) -> &str {
        &self.inner.group
    }

    /// The client runtime this consumer owns.
    pub fn instance(&self) -> &ClientInstance {
        &self.inner.instance
    }

    /// The readable queues of a topic (`fetchSubscribeMessageQueues`); also
    /// registers the topic in this consumer's heartbeat.
    pub async fn fetch_subscribe_message_queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        let inst = &self.inner.instance;
        if !inst.update_topic_route(topic).await? {
            return Err(ClientError::NoRoute(topic.to_string()));
        }
        if self.inner.topics.lock().insert(topic.to_string()) {
            inst.add_consumer_topic(topic);
            inst.send_heartbeat_to_all_brokers().await;
        }
        Ok(inst.subscribe_queues(topic))
    }

    /// Reads up to `max_nums` messages from `offset` without waiting.
    pub async fn pull(
        &self,
        mq: &MessageQueue,
        sub_expression: &str,
        offset: i64,
        max_nums: i32,
    ) -> Result<PullResult> {
        self.pull_impl(mq, sub_expression, offset, max_nums, false)
            .await
    }

    /// Reads with a [`MessageSelector`]: a SQL92 selector is sent with the pull and
    /// evaluated by the broker (`pull(mq, MessageSelector, offset, maxNums)`).
    pub async fn pull_selected(
        &self,
        mq: &MessageQueue,
        selector: &MessageSelector,
        offset: i64,
        max_nums: i32,
        block: bool,
    ) -> Result<PullResult> {
        let sub = selector.to_subscription(&mq.topic)?;
        self.pull_sub(mq, sub, offset, max_nums, block).await
    }

    /// Like `pull`, but the broker holds the request (up to 20 s) until a
    /// message arrives.
    pub async fn pull_block_if_not_found(
        &self,
        mq: &MessageQueue,
        sub_expression: &str,
        offset: i64,
        max_nums: i32,
    ) -> Result<PullResult> {
        self.pull_impl(mq, sub_expression, offset, max_nums, true)
            .await
    }

    async fn pull_impl(
        &self,
        mq: &MessageQueue,
        expr: &str,
        offset: i64,
        max_nums: i32,
        block: bool,
    ) -> Result<PullResult> {
        let sub = build_subscription(&mq.topic, expr)?;
        self.pull_sub(mq, sub, offset, max_nums, block).await
    }

    async fn pull_sub(
        &self,
        mq: &MessageQueue,
        sub: rmq_remoting::protocol::SubscriptionData,
        offset: i64,
        max_nums: i32,
        block: bool,
    ) -> Result<PullResult> {
        if offset < 0 {
            return Err(ClientError::InvalidArgument("offset < 0".into()));
        }
        if max_nums <= 0 {
            return Err(ClientError::InvalidArgument("maxNums <= 0".into()));
        }
        let (suspend_ms, timeout) = if block {
            (
                BROKER_SUSPEND_MAX_TIME.as_millis() as i64,
                CONSUMER_TIMEOUT_WHEN_SUSPEND,
            )
        } else {
            (0, CONSUMER_PULL_TIMEOUT)
        };
        let args = PullArgs {
            mq,
            sub: &sub,
            offset,
            max_nums,
            sys_flag: pull_flag::build(false, block, true, false),
            commit_offset: 0,
            suspend_ms,
            timeout,
        };
        self.inner.wrapper.pull(&args).await
    }

    /// Records the next offset to consume (written out every 5 s and at shutdown).
    pub fn update_consume_offset(&self, mq: &MessageQueue, offset: i64) {
        self.inner.offsets.update_offset(mq, offset, false);
    }

    /// The group's offset of a queue: from memory, or (when `from_store`) from
    /// the broker; -1 if there is none.
    pub async fn fetch_consume_offset(&self, mq: &MessageQueue, from_store: bool) -> i64 {
        let kind = if from_store {
            ReadOffsetType::ReadFromStore
        } else {
            ReadOffsetType::MemoryFirstThenStore
        };
        self.inner.offsets.read_offset(mq, kind).await
    }

    /// Writes recorded offsets to the brokers now and waits for the replies.
    pub async fn persist_consume_offsets(&self) {
        let mqs: Vec<_> = self.inner.offsets.snapshot().into_keys().collect();
        self.inner.offsets.persist_all(&mqs, true).await;
    }

    async fn master(&self, mq: &MessageQueue) -> Result<String> {
        self.inner
            .instance
            .master_addr_or_refresh(&mq.broker_name, &mq.topic)
            .await
    }

    /// GET_MAX_OFFSET on the queue's master: one past its last message (`maxOffset`).
    pub async fn max_offset(&self, mq: &MessageQueue) -> Result<i64> {
        let addr = self.master(mq).await?;
        let inst = &self.inner.instance;
        inst.api()
            .get_max_offset(&addr, mq, inst.api_timeout())
            .await
    }

    /// GET_MIN_OFFSET on the queue's master: its first offset still stored (`minOffset`).
    pub async fn min_offset(&self, mq: &MessageQueue) -> Result<i64> {
        let addr = self.master(mq).await?;
        let inst = &self.inner.instance;
        inst.api()
            .get_min_offset(&addr, mq, inst.api_timeout())
            .await
    }

    /// The offset of the first message stored at or after `timestamp` (ms).
    pub async fn search_offset(&self, mq: &MessageQueue, timestamp: i64) -> Result<i64> {
        let addr = self.master(mq).await?;
        let inst = &self.inner.instance;
        inst.api()
            .search_offset(&addr, mq, timestamp, inst.api_timeout())
            .await
    }

    /// Flushes offsets, unregisters from the brokers and stops.
    pub async fn shutdown(&self) {
        self.persist_consume_offsets().await;
        let inst = &self.inner.instance;
        inst.unregister(None, Some(&self.inner.group)).await;
        inst.shutdown();
    }
}
