//! Consistent-hash allocation: each consumer owns the queues whose hash falls just before one of
//! its points on a ring, so a consumer joining or leaving moves only the queues next to its
//! points instead of reshuffling everything.
//!
//! The ring holds `virtual_nodes` points per consumer (default 10) at
//! `hash("<clientId>-<i>")`; a queue goes to the first point at or after
//! `hash("MessageQueue [topic=T, brokerName=B, queueId=N]")`, wrapping around. The hash is the
//! first 4 bytes of the MD5 digest, big-endian, as an unsigned number: the same as 4.8.0's, so
//! Java and Rust members of one group agree.
//! Book: Part II "Clients and rebalancing" (allocation strategies). Mirrors
//! `AllocateMessageQueueConsistentHash` and `common.consistenthash.ConsistentHashRouter`.

use std::collections::{BTreeMap, HashMap};

use rmq_remoting::protocol::MessageQueue;

use super::md5::md5;

/// 4.8.0's default number of ring points per consumer.
pub const DEFAULT_VIRTUAL_NODES: usize = 10;

/// `ConsistentHashRouter.MD5Hash.hash`: the first 4 digest bytes as an unsigned 32-bit number.
pub fn ring_hash(key: &str) -> u64 {
    let d = md5(key.as_bytes());
    u64::from(u32::from_be_bytes([d[0], d[1], d[2], d[3]]))
}

/// `MessageQueue.toString()`, the key a queue is hashed by.
pub fn queue_key(mq: &MessageQueue) -> String {
    format!(
        "MessageQueue [topic={}, brokerName={}, queueId={}]",
        mq.topic, mq.broker_name, mq.queue_id
    )
}

// ANCHOR: consistent_hash
/// `current_cid`'s queues under consistent hashing with `virtual_nodes` points per consumer.
pub fn allocate_consistent_hash(
    current_cid: &str,
    mq_all: &[MessageQueue],
    cid_all: &[String],
    virtual_nodes: usize,
) -> Vec<MessageQueue> {
    if !cid_all.iter().any(|c| c == current_cid) {
        return Vec::new();
    }
    // Point -> consumer. A later point with the same hash replaces an earlier one, and a
    // client id listed twice continues its point numbering, both as the Java TreeMap does.
    let mut ring: BTreeMap<u64, &str> = BTreeMap::new();
    let mut replicas: HashMap<&str, usize> = HashMap::new();
    for cid in cid_all {
        let first = replicas.entry(cid.as_str()).or_insert(0);
        for i in 0..virtual_nodes {
            ring.insert(ring_hash(&format!("{cid}-{}", *first + i)), cid.as_str());
        }
        *first += virtual_nodes;
    }
    mq_all
        .iter()
        .filter(|mq| {
            let h = ring_hash(&queue_key(mq));
            let owner = ring
                .range(h..)
                .next()
                .or_else(|| ring.iter().next())
                .map(|(_, c)| *c);
            owner == Some(current_cid)
        })
        .cloned()
        .collect()
}
// ANCHOR_END: consistent_hash
