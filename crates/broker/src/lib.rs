//! rmq-broker: a RocketMQ 4.8.0-compatible broker (single master) — config, topic/offset/
//! subscription managers, client bookkeeping, the request processors (send, pull with long
//! polling, consumer offsets, heartbeats, locks, queries, admin), flow control and name-server
//! registration. Book: Part II. Mirrors the `rocketmq-broker` module (`BrokerController` etc.).
//! Messages are kept by rmq-store (the 4.8.0 commit log, consume queues and index files); the
//! delay queue's delivery loops are in [`schedule`], transactional messages in [`transaction`].

#![warn(missing_docs)]

pub mod acl;
pub mod broker;
pub mod client;
pub mod config;
pub mod dledger_mode;
pub mod filter;
pub mod flow_control;
pub mod ha;
pub mod long_polling;
pub mod offset;
pub mod persist;
pub mod processor;
pub mod register;
pub mod replication;
pub mod schedule;
pub mod slave_sync;
pub mod stats;
pub mod subscription;
pub mod topic;
pub mod transaction;
