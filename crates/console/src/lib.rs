//! rmq-console: the workbook's web console, a small stand-in for apache
//! rocketmq-console 2.0.0 (the dashboard the original docker-compose ran on port 8080).
//!
//! It is an HTTP server with one static page and a JSON API. Every API call turns
//! into RocketMQ remoting requests through `rmq_admin::AdminClient`: the console
//! holds no state of its own and reads the cluster afresh on each request, just as
//! the Java console's services call `MQAdminExt` on every page load.
//!
//! Layout: `server` (router, state, static page, request timeout), `auth` (the bind
//! rule and the login), `error` (the
//! JSON error shape and status codes), and one module per page: `cluster` and
//! `brokers`, `topics` and `topic_admin` (its write actions), `consumers`, `groups` (create, update,
//! delete) and `offsets` (offset reset), `dashboard` (TPS sampled over time), `producers`, `messages`, `by_time`, `tracks` (who
//! consumed a message) and `resend` (consume it again), `trace` (its message trace), `dlq` (dead letters made readable), `ops` (the name servers); `storage` and
//! `dledger` feed the live storage view of one broker and the live DLedger view.
//! Book: Part III "The web console" (part3/console.md).
//! Mirrors rocketmq-console's `controller` and `service.impl` packages
//! (`ClusterServiceImpl`, `TopicServiceImpl`, `ConsumerServiceImpl`, `MessageServiceImpl`).

#![warn(missing_docs)]

pub mod auth;
pub mod brokers;
pub mod by_time;
pub mod cluster;
pub mod consumers;
pub mod dashboard;
pub mod dledger;
pub mod dlq;
pub mod error;
pub mod groups;
pub mod messages;
pub mod offsets;
pub mod ops;
pub mod producers;
pub mod resend;
pub mod server;
pub mod storage;
pub mod topic_admin;
pub mod topics;
pub mod trace;
pub mod tracks;

pub use error::ApiError;
pub use server::{router, AppState};
