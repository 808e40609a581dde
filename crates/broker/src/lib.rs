//! rmq-broker: a RocketMQ 4.8.0-compatible broker (single master) — config, topic/offset/
//! subscription managers, client bookkeeping, the request processors (send, pull with long
//! polling, consumer offsets, heartbeats, locks, queries, admin), flow control and name-server
//! registration. Book: Part II. Mirrors the `rocketmq-broker` module (`BrokerController` etc.).
//!
//! Deviation: rmq-store had not landed when this crate was written, so `store` holds a small
//! private message store with the same blocking call shapes (one log file of 4.8.0 records and
//! in-memory queue indexes rebuilt on start); `message` holds the record codec.

pub mod broker;
pub mod client;
pub mod config;
pub mod flow_control;
pub mod long_polling;
pub mod offset;
pub mod persist;
pub mod processor;
pub mod register;
pub mod schedule;
pub mod store;
pub mod subscription;
pub mod topic;
