//! rmq-client: a RocketMQ 4.x client in Rust — producer, pull consumer, push
//! consumer with rebalancing, and the `mqbench` load tool.
//!
//! Book: Part II "Producing" and "Consuming, long polling and rebalancing".
//! Mirrors the `rocketmq-client` module of 4.8.0.
//!
//! # Public API
//!
//! ```text
//! ClientConfig { namesrv_addr, instance_name: Option, client_ip: Option, poll_name_server_interval (30 s),
//!     heartbeat_broker_interval (30 s), persist_consumer_offset_interval (5 s), api_timeout (3 s),
//!     rebalance_interval (20 s), credentials: Option<acl::Credentials> }   ClientConfig::new("host:port;host:port")
//! acl::{Credentials::new(ak, sk) { access_key, secret_key, security_token }, Credentials::from_tools_yml(path),
//!     AclSigner::new(credentials) (an rmq_remoting::RpcHook; installed by every client whose config has credentials)}
//! Message::new(topic, body).with_tags(..).with_keys(..).with_flag(..).with_delay_level(..).with_property(k, v)
//!     property(k) put_property(k, v) remove_property(k) tags() keys() set_wait_store_msg_ok(b)
//! producer::{Producer, ProducerConfig}
//!     ProducerConfig::new(group, namesrv) { send_timeout 3 s, retry_times_when_send_failed 2,
//!         retry_times_when_send_async_failed 2, compress_msg_body_over 4096, max_message_size 4 MiB,
//!         default_topic_queue_nums 4, create_topic_key "TBW102", send_latency_fault_enable false, .. }
//!     Producer::start(cfg).await?
//!     send(msg).await -> SendResult          send_with_timeout(msg, d)
//!     send_async(msg, |Result<SendResult>| ..)   send_oneway(msg).await
//!     send_batch(Vec<Message>).await          send_to_queue(msg, &mq).await
//!     send_select(msg, |&[MessageQueue], &Message| Option<MessageQueue>).await
//!     fetch_publish_message_queues(topic)     shutdown().await
//!     request(msg, timeout).await -> MessageExt (the reply)   request_async(msg, timeout, |Result<MessageExt>| ..)
//!     request_to_queue(msg, &mq, timeout)     create_reply_message(&request, body) -> Message
//! producer::transaction::{TransactionProducer, TransactionListener, LocalTransactionState}
//!     TransactionProducer::start(ProducerConfig, Arc<dyn TransactionListener>).await?
//!     send_message_in_transaction(msg).await -> TransactionSendResult { send_result,
//!         transaction_id, local_transaction_state }     producer()   shutdown().await
//!     TransactionListener: execute_local_transaction(&Message, id) / check_local_transaction(&MessageExt)
//! api::{SendResult { send_status, msg_id (UNIQ_KEY, comma-joined for batches), offset_msg_id,
//!     message_queue, queue_offset, .. }, SendStatus, PullStatus, MqClientApi (one fn per request code)}
//! consumer::PullConsumer::start(group, ClientConfig).await?
//!     fetch_subscribe_message_queues(topic)   pull(&mq, expr, offset, max)   pull_block_if_not_found(..)
//!     update_consume_offset(&mq, o)  fetch_consume_offset(&mq, from_store)  persist_consume_offsets()
//!     max_offset/min_offset/search_offset(&mq, ..)   shutdown()
//!     -> consumer::PullResult { status, next_begin_offset, min_offset, max_offset, msgs: Vec<MessageExt> }
//! consumer::{PushConsumer, PushConsumerConfig, MessageListener, ConsumeConcurrentlyStatus,
//!     ConsumeOrderlyStatus, ConsumeConcurrentlyContext, ConsumeOrderlyContext, MessageModel,
//!     ConsumeFromWhere, AllocateStrategy}
//!     PushConsumerConfig::new(group, namesrv) { message_model, consume_from_where, consume_thread_max 20,
//!         pull_batch_size 32, consume_message_batch_max_size 1, max_reconsume_times -1, offset_store_dir, .. }
//!     PushConsumer::start(cfg, &[(topic, "TagA || TagB")], MessageListener::concurrently(|msgs, ctx| ..)).await?
//!     MessageListener::orderly(|msgs, ctx| ConsumeOrderlyStatus::..)
//!     assigned_queues() offsets() rebalance_now() client_id() shutdown()
//!     (answers the broker's RESET_CONSUMER_CLIENT_OFFSET, GET_CONSUMER_STATUS_FROM_CLIENT,
//!     GET_CONSUMER_RUNNING_INFO and CONSUME_MESSAGE_DIRECTLY: see broker_calls)
//! consumer::{LitePullConsumer, LitePullConsumerConfig} (DefaultLitePullConsumer)
//!     LitePullConsumerConfig::new(group, namesrv) { pull_batch_size 10, poll_timeout 5 s, auto_commit true,
//!         auto_commit_interval 5 s, consume_from_where, allocate_strategy, .. }
//!     LitePullConsumer::start(cfg).await?   subscribe(topic, expr).await | assign(&[mq]).await
//!     poll().await / poll_timeout(d) -> Vec<MessageExt>   seek(&mq, o) seek_to_begin(&mq) seek_to_end(&mq)
//!     pause(&[mq]) resume(&[mq])   commit_sync().await   committed(&mq)   assignment()   shutdown()
//! consumer::assignment::{my_queues, compute_pull_from_where} (shared by push and lite pull)
//! consumer::allocate::{AllocateStrategy::{Averagely, AveragelyByCircle, ByConfig(mqs), ByMachineRoom(rooms),
//!     ConsistentHash { virtual_nodes }, MachineRoomNearby(..)}, allocate_averagely, allocate_by_circle,
//!     allocate_consistent_hash, allocate_by_machine_room, MachineRoomResolver, PrefixResolver}
//! namespace::{wrap_namespace, without_namespace, without_namespace_of, wrap_namespace_and_retry, ..}
//!     (ClientConfig.namespace: producers and consumers wrap topics and groups, unwrap what they hand back)
//! trace (message trace; ProducerConfig/PushConsumerConfig { enable_msg_trace, customized_trace_topic }):
//!     record::{encode(&TraceContext) -> TraceTransfer { data, keys }, decode(&str) -> Vec<TraceContext>}
//!     view::views_for(msg_id, body) -> Vec<TraceView>   dispatcher::TraceDispatcher   RMQ_SYS_TRACE_TOPIC
//! fault::{MqFaultStrategy, LatencyFaultTolerance, compute_not_available_duration}
//! route::{TopicPublishInfo, subscribe_queues}       instance::ClientInstance (the shared runtime)
//! MessageExt, MessageQueue (re-exported from rmq-common / rmq-remoting)
//! ```
//!
//! Behaviour worth knowing:
//! * Every producer and consumer owns its client instance; the default instance
//!   name is `pid#n`, so several clients of one group may live in one process.
//! * Offset flushes wait for the broker's reply (4.8.0 sends the periodic ones
//!   oneway) and the final flush at shutdown comes after all listener calls finished.
//! * An orderly consumer marks a queue locked as soon as LOCK_BATCH_MQ grants it
//!   (4.8.0 waits for the next 20 s lock round).

#![warn(missing_docs)]

pub mod acl;
pub mod api;
pub mod broker_calls;
pub mod config;
pub mod consumer;
pub mod error;
pub mod fault;
pub mod instance;
pub mod message;
pub mod namespace;
pub mod producer;
pub mod route;
pub mod trace;
pub mod util;

pub use api::{SendResult, SendStatus};
pub use config::ClientConfig;
pub use error::{ClientError, Result};
pub use message::Message;
pub use producer::transaction::{
    LocalTransactionState, TransactionListener, TransactionProducer, TransactionSendResult,
};
pub use producer::{create_reply_message, Producer, ProducerConfig};
pub use rmq_common::message::MessageExt;
pub use rmq_remoting::protocol::MessageQueue;
