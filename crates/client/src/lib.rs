//! rmq-client: a RocketMQ 4.x client in Rust — producer, pull consumer, push
//! consumer with rebalancing, and the `mqbench` load tool.
//!
//! Book: Part II "Producing" and "Consuming, long polling and rebalancing".
//! Mirrors the `rocketmq-client` module of 4.8.0.

pub mod api;
pub mod config;
pub mod consumer;
pub mod error;
pub mod fault;
pub mod instance;
pub mod message;
pub mod producer;
pub mod route;
pub mod util;

pub use api::{SendResult, SendStatus};
pub use config::ClientConfig;
pub use error::{ClientError, Result};
pub use message::Message;
pub use producer::{Producer, ProducerConfig};
pub use rmq_common::message::MessageExt;
pub use rmq_remoting::protocol::MessageQueue;
