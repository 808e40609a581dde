//! What the application plugs into a push consumer: a function called with a
//! batch of messages that says whether they were consumed.
//!
//! Listeners are plain (blocking) closures; the consumer runs them on tokio's
//! blocking pool, at most `consume_thread_max` at a time, so a slow listener
//! never stalls the pull tasks. A panicking listener counts as "try again later".
//! Book: Part II "Consuming, long polling and rebalancing". Mirrors
//! `MessageListenerConcurrently`, `MessageListenerOrderly` and their status
//! and context classes.

use std::fmt;
use std::sync::Arc;

use rmq_common::message::MessageExt;
use rmq_remoting::protocol::MessageQueue;

/// Result of a concurrent listener call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeConcurrentlyStatus {
    /// Consumed (up to `ack_index`; the rest go back for a retry).
    ConsumeSuccess,
    /// Send the messages back for a delayed retry (to `%RETRY%<group>`).
    ReconsumeLater,
}

/// Passed to a concurrent listener; it may change the retry delay and, on
/// success, acknowledge only a prefix of the batch.
#[derive(Debug, Clone)]
pub struct ConsumeConcurrentlyContext {
    /// The queue the messages came from.
    pub message_queue: MessageQueue,
    /// 0: the broker picks (3 + reconsume times); -1: straight to the DLQ.
    pub delay_level_when_next_consume: i32,
    /// On success, messages after this index are retried.
    pub ack_index: i32,
}

/// Result of an orderly listener call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeOrderlyStatus {
    /// Consumed; the queue's offset moves past the messages.
    Success,
    /// Retry the same messages after a pause, keeping the queue's order.
    SuspendCurrentQueueAMoment,
}

/// Passed to an orderly listener.
#[derive(Debug, Clone)]
pub struct ConsumeOrderlyContext {
    /// The queue the messages came from.
    pub message_queue: MessageQueue,
    /// Pause before retrying after a suspend; -1 uses the consumer's setting.
    pub suspend_current_queue_time_millis: i64,
}

pub(crate) type ConcurrentlyFn = dyn Fn(&[MessageExt], &mut ConsumeConcurrentlyContext) -> ConsumeConcurrentlyStatus
    + Send
    + Sync;
pub(crate) type OrderlyFn =
    dyn Fn(&[MessageExt], &mut ConsumeOrderlyContext) -> ConsumeOrderlyStatus + Send + Sync;

/// A listener, concurrent or orderly.
#[derive(Clone)]
pub enum MessageListener {
    /// Called from many tasks at once, batches from any queue (`MessageListenerConcurrently`).
    Concurrently(Arc<ConcurrentlyFn>),
    /// Called for one queue at a time, in queue order (`MessageListenerOrderly`).
    Orderly(Arc<OrderlyFn>),
}

impl MessageListener {
    /// A concurrent listener from a closure.
    pub fn concurrently<F>(f: F) -> Self
    where
        F: Fn(&[MessageExt], &mut ConsumeConcurrentlyContext) -> ConsumeConcurrentlyStatus
            + Send
            + Sync
            + 'static,
    {
        MessageListener::Concurrently(Arc::new(f))
    }

    /// An orderly listener from a closure.
    pub fn orderly<F>(f: F) -> Self
    where
        F: Fn(&[MessageExt], &mut ConsumeOrderlyContext) -> ConsumeOrderlyStatus
            + Send
            + Sync
            + 'static,
    {
        MessageListener::Orderly(Arc::new(f))
    }
}

impl fmt::Debug for MessageListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageListener::Concurrently(_) => f.write_str("MessageListener::Concurrently"),
            MessageListener::Orderly(_) => f.write_str("MessageListener::Orderly"),
        }
    }
}
