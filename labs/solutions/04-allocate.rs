//! Lab 4, reference solution. Built instead of src/lab.rs with `--features reference`.
//! Try the lab before reading this.

use crate::{AllocateError, MessageQueue};
use std::cmp::Ordering;

/// `MessageQueue.compareTo`: topic, broker name, queue id.
fn queue_order(a: &MessageQueue, b: &MessageQueue) -> Ordering {
    a.topic
        .cmp(&b.topic)
        .then_with(|| a.broker_name.cmp(&b.broker_name))
        .then(a.queue_id.cmp(&b.queue_id))
}

pub fn sort_for_allocation(mq_all: &mut [MessageQueue], cid_all: &mut [String]) {
    mq_all.sort_by(queue_order);
    cid_all.sort();
}

pub fn allocate_averagely(
    current_cid: &str,
    mq_all: &[MessageQueue],
    cid_all: &[String],
) -> Result<Vec<MessageQueue>, AllocateError> {
    if current_cid.is_empty() {
        return Err(AllocateError::EmptyCurrentCid);
    }
    if mq_all.is_empty() {
        return Err(AllocateError::EmptyMqAll);
    }
    if cid_all.is_empty() {
        return Err(AllocateError::EmptyCidAll);
    }
    let Some(me) = cid_all.iter().position(|c| c == current_cid) else {
        return Ok(Vec::new());
    };
    let queues = mq_all.len();
    let consumers = cid_all.len();
    let extra = queues % consumers;
    // Members before `extra` take one queue more; with no more queues than members each
    // block is one queue long and members past the end take nothing.
    let gets_extra = extra > 0 && me < extra;
    let block = match (queues <= consumers, gets_extra) {
        (true, _) => 1,
        (false, true) => queues / consumers + 1,
        (false, false) => queues / consumers,
    };
    let first = if gets_extra {
        me * block
    } else {
        me * block + extra
    };
    Ok(mq_all.iter().skip(first).take(block).cloned().collect())
}
