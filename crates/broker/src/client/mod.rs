//! Client bookkeeping: which producers and consumers are connected, their subscriptions, and
//! the ordered-consumption queue locks. Mirrors `org.apache.rocketmq.broker.client()`. Book: Part II.

pub mod consumer_manager;
pub mod producer_manager;
pub mod rebalance_lock;
