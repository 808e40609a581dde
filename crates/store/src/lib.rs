//! rmq-store: RocketMQ 4.8.0's message store, file for file and byte for byte.
//!
//! A single append-only commit log holds every message; per-queue consume queues and a hash
//! index over message keys are derived from it by a dispatcher thread, so they can always be
//! rebuilt after a crash. Book: Part I, "Storage files" ("CommitLog", "ConsumeQueue",
//! "IndexFile", "Crash recovery"). Mirrors the `org.apache.rocketmq.store` package.

#![warn(missing_docs)]

pub mod allocate;
pub mod checkpoint;
pub mod clean;
pub mod commit_log;
pub mod config;
pub mod consume_queue;
pub mod consume_queue_ext;
pub mod error;
pub mod filter;
pub mod flush;
mod ha;
pub mod index_file;
pub mod index_service;
pub mod mapped_file;
pub mod mapped_file_queue;
pub mod record;
mod reput;
pub mod result;
pub mod running_flags;
pub mod service;
pub mod store;
pub mod util;

pub use config::{BrokerRole, FlushDiskType, MessageStoreConfig};
pub use error::StoreError;
pub use result::{
    AppendMessageResult, AppendMessageStatus, GetMessageResult, GetMessageStatus, PutMessageResult,
    PutMessageStatus, QueryMessageResult,
};
pub use rmq_common::inner::MessageExtBrokerInner;
pub use store::{ArrivalListener, DefaultMessageStore};
pub use util::now_ms;
