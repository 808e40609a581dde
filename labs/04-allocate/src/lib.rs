//! Lab 4: AllocateMessageQueueAveragely.
//!
//! Every consumer of a group computes the whole assignment of queues by itself, from the same
//! two sorted lists, and keeps its own share; nobody coordinates. This lab is that function:
//! sort the inputs as `RebalanceImpl` sorts them, then cut the queue list into contiguous blocks
//! exactly as 4.8.0's `AllocateMessageQueueAveragely` does, uneven cases included. A consumer
//! that computes a different share than its Java neighbours reads a queue twice or not at all.
//!
//! You edit `src/lab.rs`. The types below are given. Book: Part II, "Clients and rebalancing"
//! (book/src/part2/rebalancing.md, section "Lab"). Grade with `make labs LAB=04`.

use std::fmt;

/// One queue of a topic on one broker (`MessageQueue`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageQueue {
    /// The topic the queue belongs to.
    pub topic: String,
    /// The broker that holds the queue (`brokerName`, e.g. `RaftNode00`).
    pub broker_name: String,
    /// The queue's number on that broker (`queueId`).
    pub queue_id: i32,
}

impl MessageQueue {
    /// A queue from its three parts.
    pub fn new(topic: &str, broker_name: &str, queue_id: i32) -> MessageQueue {
        MessageQueue {
            topic: topic.to_string(),
            broker_name: broker_name.to_string(),
            queue_id,
        }
    }
}

impl fmt::Display for MessageQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.topic, self.broker_name, self.queue_id)
    }
}

/// The arguments 4.8.0 refuses with an `IllegalArgumentException` (the rebalance of that topic
/// is then skipped and logged). The messages are 4.8.0's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocateError {
    /// `current_cid` is the empty string.
    EmptyCurrentCid,
    /// There are no queues.
    EmptyMqAll,
    /// There are no consumers.
    EmptyCidAll,
}

impl fmt::Display for AllocateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AllocateError::EmptyCurrentCid => "currentCID is empty",
            AllocateError::EmptyMqAll => "mqAll is null or mqAll empty",
            AllocateError::EmptyCidAll => "cidAll is null or cidAll empty",
        })
    }
}

impl std::error::Error for AllocateError {}

#[cfg(not(feature = "reference"))]
mod lab;
#[cfg(feature = "reference")]
#[path = "../../solutions/04-allocate.rs"]
mod lab;

pub use lab::{allocate_averagely, sort_for_allocation};
