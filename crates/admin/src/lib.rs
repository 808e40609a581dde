//! rmq-admin: `mqadmin`, the RocketMQ 4.8.0 command-line admin tool, in Rust.
//!
//! The subcommands, their flags and their printed columns follow 4.8.0 so that
//! scripts and muscle memory carry over: `clusterList`, `topicList`, `topicRoute`,
//! `topicStatus`, `updateTopic`, `deleteTopic`, `updateSubGroup`, `brokerStatus`,
//! `consumerProgress`, `consumerConnection`, `sendMessage`, `consumeMessage`,
//! `queryMsgById`, `queryMsgByKey`, `resetOffsetByTime`.
//!
//! Layout: `admin_client` holds the admin-only requests to name servers and brokers
//! (a small DefaultMQAdminExt) on top of rmq-client's client runtime, `message` decodes
//! stored records, `msgid` builds and splits message ids, `format` reproduces Java's
//! text shapes, and `commands` holds one file per subcommand. Commands that send or
//! read messages (sendMessage, consumeMessage, queryMsgById -s) use rmq-client's
//! `Producer` and `PullConsumer`, as 4.8.0's tools use `DefaultMQProducer` and
//! `DefaultMQPullConsumer`.
//! Book: Part II "Topics and queues" and Part III "Name server" ("Try it" sections).
//! Mirrors the `rocketmq-tools` module of 4.8.0 (`MQAdminStartup`, `DefaultMQAdminExt`).
//!
//! # Public API
//! ```text
//! admin_client::AdminClient::start(namesrv: &str /* "a:9876;b:9876" */, timeout).await -> Result<AdminClient, AdminError>
//!   examine_broker_cluster_info() examine_topic_route_info(topic) fetch_all_topic_list()
//!   fetch_broker_runtime_stats(addr) create_and_update_topic_config(addr, &TopicConfig)
//!   delete_topic_in_broker(addr, topic) delete_topic_in_namesrv(addr, topic)
//!   examine_topic_stats(topic) examine_consume_stats(group) examine_consumer_connection_info(group)
//!   create_and_update_subscription_group_config(addr, &cfg) view_message(offset_msg_id)
//!   query_message(topic, key, max, begin, end, uniq) max_offset/search_offset(addr, topic, qid ..)
//! message::{decode_record, decode_records, MessageExt}   msgid::{offset_msg_id, decode_offset_msg_id}
//! commands::{SUB_COMMANDS, find, print_help, execute}
//! ```
//!
//! Deviations from 4.8.0 (all deliberate): a failed command exits with status 1;
//! outputs that Java leaves without a final newline get one; `queryMsgById` takes
//! an optional `-t` for producer (unique) ids and otherwise searches every topic.

// Header rows deliberately reuse the data rows' format string (with literal
// arguments) so the two visibly line up, as in the Java printf calls.
#![allow(clippy::write_literal)]
#![warn(missing_docs)]

pub mod acl_calls;
pub mod admin_client;
pub mod catalog;
pub mod commands;
pub mod format;
/// The record decoder and message ids live in rmq-common; re-exported under the names the
/// commands use.
pub use rmq_common::{message, msgid};

pub use admin_client::{AdminClient, AdminError};
