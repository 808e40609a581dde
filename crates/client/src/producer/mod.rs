//! The producer: sends messages synchronously, asynchronously, oneway, in
//! batches, or to a queue of the caller's choosing.
//!
//! A send looks up the topic's route (borrowing `TBW102`'s when the topic does
//! not exist yet, so the broker auto-creates it), picks a queue round robin —
//! with latency fault avoidance when enabled — stamps a unique id, compresses
//! large bodies and sends SEND_MESSAGE_V2. Synchronous sends retry on another
//! queue up to `retry_times_when_send_failed` times within the send timeout.
//! Book: Part II "Producing". Mirrors `DefaultMQProducer` / `DefaultMQProducerImpl`.

pub mod batch;
pub mod request;
mod send;
pub mod transaction;
pub mod validate;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_common::msgid::UniqIdGenerator;
use rmq_remoting::protocol::MessageQueue;

use crate::api::SendResult;
use crate::config::ClientConfig;
use crate::error::{ClientError, Result};
use crate::fault::MqFaultStrategy;
use crate::instance::ClientInstance;
use crate::message::Message;
use crate::route::TopicPublishInfo;
use crate::trace::{TraceDispatcher, TraceRole};
use crate::util::AUTO_CREATE_TOPIC_KEY;

pub use request::{create_reply_message, RequestFutureTable};
pub use send::CommunicationMode;

/// Producer settings; defaults are 4.8.0's `DefaultMQProducer` values.
#[derive(Debug, Clone)]
pub struct ProducerConfig {
    /// `producerGroup` (a transactional producer's broker calls go to any member).
    pub group: String,
    /// Name servers, instance name and the runtime's periods.
    pub client: ClientConfig,
    /// `sendMsgTimeout`: the whole send, retries included.
    pub send_timeout: Duration,
    /// `retryTimesWhenSendFailed` (sync sends).
    pub retry_times_when_send_failed: u32,
    /// `retryTimesWhenSendAsyncFailed`.
    pub retry_times_when_send_async_failed: u32,
    /// `retryAnotherBrokerWhenNotStoreOK`.
    pub retry_another_broker_when_not_store_ok: bool,
    /// `compressMsgBodyOverHowmuch`.
    pub compress_msg_body_over: usize,
    /// zlib level (`rocketmq.message.compressLevel`).
    pub compress_level: u32,
    /// `maxMessageSize`.
    pub max_message_size: usize,
    /// `defaultTopicQueueNums`: queue count of auto-created topics.
    pub default_topic_queue_nums: i32,
    /// `createTopicKey`.
    pub create_topic_key: String,
    /// `sendLatencyFaultEnable`.
    pub send_latency_fault_enable: bool,
    /// `enableMsgTrace`: record a Pub trace event for every send (see [`crate::trace`]).
    pub enable_msg_trace: bool,
    /// `customizedTraceTopic`: the trace topic (`None`: `RMQ_SYS_TRACE_TOPIC`).
    pub customized_trace_topic: Option<String>,
    /// After a failed send attempt, fetch the topic's route again before the next attempt, and
    /// while a broker group of the route lists no master, fetch it again in the background (at
    /// most every [`ROUTE_REFRESH_MIN_GAP`]). Ours: a 4.8.0 producer keeps its route until
    /// the next `pollNameServerInterval` (30 s), so after a DLedger failover it writes to the
    /// group's new leader only then (its retries go to other broker groups meanwhile).
    pub refresh_route_on_failure: bool,
}

/// The shortest gap between two route refreshes of one topic caused by failed sends.
pub const ROUTE_REFRESH_MIN_GAP: Duration = Duration::from_millis(50);

impl ProducerConfig {
    /// A config with 4.8.0's defaults for `group` and the name servers `namesrv_addr`.
    pub fn new(group: impl Into<String>, namesrv_addr: impl Into<String>) -> Self {
        ProducerConfig {
            group: group.into(),
            client: ClientConfig::new(namesrv_addr),
            send_timeout: Duration::from_millis(3000),
            retry_times_when_send_failed: 2,
            retry_times_when_send_async_failed: 2,
            retry_another_broker_when_not_store_ok: false,
            compress_msg_body_over: 4096,
            compress_level: 5,
            max_message_size: 4 * 1024 * 1024,
            default_topic_queue_nums: 4,
            create_topic_key: AUTO_CREATE_TOPIC_KEY.to_string(),
            send_latency_fault_enable: false,
            enable_msg_trace: false,
            customized_trace_topic: None,
            refresh_route_on_failure: true,
        }
    }
}

/// A running producer (cheap to clone; clones share everything).
#[derive(Clone)]
pub struct Producer {
    inner: Arc<ProducerInner>,
}

struct ProducerInner {
    config: ProducerConfig,
    instance: ClientInstance,
    fault: MqFaultStrategy,
    publish: Mutex<HashMap<String, Arc<TopicPublishInfo>>>,
    uniq: UniqIdGenerator,
    /// Set by the first `request`, which heartbeats so the broker knows where to push replies.
    request_heartbeat_sent: std::sync::OnceLock<()>,
    /// The trace dispatcher, when `enable_msg_trace` is on.
    trace: Option<Arc<TraceDispatcher>>,
    /// When each topic's route was last refreshed after a failed send.
    refreshed_after_failure: Mutex<HashMap<String, std::time::Instant>>,
}

impl Producer {
    /// Starts a producer: checks the group, starts its client instance.
    pub async fn start(mut config: ProducerConfig) -> Result<Producer> {
        config.group = config.client.with_namespace(&config.group);
        validate::check_topic(&config.group).map_err(|_| {
            ClientError::InvalidArgument(format!("producer group {:?}", config.group))
        })?;
        if config.group == "DEFAULT_PRODUCER" {
            return Err(ClientError::InvalidArgument(
                "producerGroup can not equal DEFAULT_PRODUCER, please specify another one.".into(),
            ));
        }
        let instance = ClientInstance::start(config.client.clone()).await?;
        instance.register_producer(&config.group);
        let uniq = UniqIdGenerator::new(instance.client_ip(), rand::random());
        let trace = if config.enable_msg_trace {
            match TraceDispatcher::start(
                &config.group,
                TraceRole::Produce,
                config.customized_trace_topic.as_deref(),
                &config.client,
            )
            .await
            {
                Ok(d) => Some(d),
                Err(e) => {
                    instance.shutdown();
                    return Err(e);
                }
            }
        } else {
            None
        };
        Ok(Producer {
            inner: Arc::new(ProducerInner {
                fault: MqFaultStrategy::new(config.send_latency_fault_enable),
                config,
                instance,
                publish: Mutex::new(HashMap::new()),
                uniq,
                request_heartbeat_sent: std::sync::OnceLock::new(),
                trace,
                refreshed_after_failure: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The settings it started with.
    pub fn config(&self) -> &ProducerConfig {
        &self.inner.config
    }

    /// The client runtime this producer owns.
    pub fn instance(&self) -> &ClientInstance {
        &self.inner.instance
    }

    /// This client's id (`ip@instanceName`).
    pub fn client_id(&self) -> &str {
        self.inner.instance.client_id()
    }

    /// Gives `msg` a `UNIQ_KEY` (the id the application sees) unless it has one; returns it.
    pub(crate) fn stamp_uniq_key(&self, msg: &mut Message) -> String {
        match msg.property(crate::message::keys::UNIQ_KEY) {
            Some(id) => id.to_string(),
            None => {
                let id = self.inner.uniq.next_id();
                msg.put_property(crate::message::keys::UNIQ_KEY, id.clone());
                id
            }
        }
    }

    /// The trace dispatcher, when the producer traces its sends.
    pub fn trace_dispatcher(&self) -> Option<&Arc<TraceDispatcher>> {
        self.inner.trace.as_ref()
    }

    /// The fault strategy (exposed for inspection and experiments).
    pub fn fault_strategy(&self) -> &MqFaultStrategy {
        &self.inner.fault
    }

    /// Sends and waits for the broker's reply, retrying on another queue.
    pub async fn send(&self, msg: Message) -> Result<SendResult> {
        self.send_with_timeout(msg, self.inner.config.send_timeout)
            .await
    }

    /// [`send`](Self::send) with another timeout than `send_timeout`.
    pub async fn send_with_timeout(&self, msg: Message, timeout: Duration) -> Result<SendResult> {
        let attempts = 1 + self.inner.config.retry_times_when_send_failed;
        self.send_default(msg, CommunicationMode::Sync, attempts, timeout)
            .await?
            .ok_or(ClientError::NotRunning("no result"))
    }

    /// Sends in the background and calls `callback` with the outcome.
    pub fn send_async<F>(&self, msg: Message, callback: F)
    where
        F: FnOnce(Result<SendResult>) + Send + 'static,
    {
        let me = self.clone();
        tokio::spawn(async move {
            let attempts = 1 + me.inner.config.retry_times_when_send_async_failed;
            let timeout = me.inner.config.send_timeout;
            let r = me
                .send_default(msg, CommunicationMode::Async, attempts, timeout)
                .await
                .and_then(|r| r.ok_or(ClientError::NotRunning("no result")));
            callback(r);
        });
    }

    /// Sends without waiting for any reply (one attempt, no result).
    pub async fn send_oneway(&self, msg: Message) -> Result<()> {
        let timeout = self.inner.config.send_timeout;
        self.send_default(msg, CommunicationMode::Oneway, 1, timeout)
            .await
            .map(|_| ())
    }

    /// Sends many messages of one topic as one batch (one queue, consecutive offsets).
    pub async fn send_batch(&self, msgs: Vec<Message>) -> Result<SendResult> {
        let (batch, ids) = self.prepare_batch(msgs)?;
        let attempts = 1 + self.inner.config.retry_times_when_send_failed;
        self.send_batch_default(batch, ids, attempts).await
    }

    /// Sends to exactly this queue, once.
    pub async fn send_to_queue(&self, msg: Message, mq: &MessageQueue) -> Result<SendResult> {
        if msg.topic != mq.topic {
            return Err(ClientError::InvalidArgument(format!(
                "message's topic {} is not the queue's topic {}",
                msg.topic, mq.topic
            )));
        }
        let timeout = self.inner.config.send_timeout;
        self.send_direct(msg, mq, timeout).await
    }

    /// Lets `selector` pick the queue from the topic's writable queues, then
    /// sends once (how ordered messages are produced: same key, same queue).
    pub async fn send_select<F>(&self, msg: Message, selector: F) -> Result<SendResult>
    where
        F: FnOnce(&[MessageQueue], &Message) -> Option<MessageQueue>,
    {
        validate::check_message(&msg, self.inner.config.max_message_size)?;
        // The selector sees the queues and the message outside the namespace.
        let ns = self.inner.config.client.namespace();
        let info = self
            .publish_info(&self.inner.config.client.with_namespace(&msg.topic))
            .await?;
        let queues: Vec<MessageQueue> = info
            .message_queues
            .iter()
            .map(|q| crate::namespace::queue_without_namespace(ns, q))
            .collect();
        let mq = selector(&queues, &msg).ok_or_else(|| {
            ClientError::InvalidArgument("select message queue returned none".into())
        })?;
        let timeout = self.inner.config.send_timeout;
        self.send_direct(msg, &mq, timeout).await
    }

    /// The writable queues of a topic (`fetchPublishMessageQueues`).
    pub async fn fetch_publish_message_queues(&self, topic: &str) -> Result<Vec<MessageQueue>> {
        let c = &self.inner.config.client;
        let info = self.publish_info(&c.with_namespace(topic)).await?;
        Ok(info
            .message_queues
            .iter()
            .map(|q| crate::namespace::queue_without_namespace(c.namespace(), q))
            .collect())
    }

    /// Unregisters the group from the brokers and stops the client instance.
    pub async fn shutdown(&self) {
        if let Some(t) = &self.inner.trace {
            t.shutdown().await;
        }
        let inst = &self.inner.instance;
        inst.unregister(Some(&self.inner.config.group), None).await;
        inst.shutdown();
    }
}
