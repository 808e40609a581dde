//! Consumers: the pull consumer (the application drives), the push consumer
//! (the client drives: rebalancing, long polling, listener calls), and the
//! pieces they share — subscriptions, queue allocation, offset stores, the
//! per-queue buffer and the pull request itself.
//!
//! Book: Part II "Consuming, long polling and rebalancing". Mirrors the
//! `org.apache.rocketmq.client.consumer` and `client.impl.consumer` packages.

pub mod allocate;
pub mod assignment;
pub mod lite_pull;
pub mod offset_store;
pub mod process_queue;
pub mod pull_api;
pub mod pull_consumer;
pub mod stats;
pub mod subscription;

pub use allocate::AllocateStrategy;
pub use lite_pull::{LitePullConsumer, LitePullConsumerConfig};
pub use offset_store::{OffsetStore, ReadOffsetType};
pub use process_queue::ProcessQueue;
pub use pull_api::PullResult;
pub use pull_consumer::PullConsumer;
pub use rmq_remoting::protocol::{ConsumeFromWhere, MessageModel};
pub use subscription::MessageSelector;
pub mod push;

pub use push::{
    ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, ConsumeOrderlyContext,
    ConsumeOrderlyStatus, MessageListener, PushConsumer, PushConsumerConfig,
};
