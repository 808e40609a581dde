//! Lab 4: your code goes here. Replace each `panic!` with your implementation.
//! Read labs/04-allocate/README.md first; `make labs LAB=04` grades this file.

use crate::{AllocateError, MessageQueue};

/// Sorts both lists in place the way every 4.8.0 consumer sorts them before allocating
/// (`RebalanceImpl.rebalanceByTopic` calls `Collections.sort` on both): queues by topic, then
/// broker name, then queue id; client ids in string order.
pub fn sort_for_allocation(mq_all: &mut [MessageQueue], cid_all: &mut [String]) {
    // LAB 4, part 1.
    let _ = (mq_all, cid_all);
    panic!("lab not done yet: see book chapter Part II \"Clients and rebalancing\", section Lab (book/src/part2/rebalancing.md#lab) and labs/04-allocate/README.md");
}

/// The queues `current_cid` reads: its contiguous share of `mq_all` as
/// `AllocateMessageQueueAveragely.allocate` computes it. Both lists are already sorted.
/// A consumer missing from `cid_all` gets no queue (this is not an error in 4.8.0).
pub fn allocate_averagely(
    current_cid: &str,
    mq_all: &[MessageQueue],
    cid_all: &[String],
) -> Result<Vec<MessageQueue>, AllocateError> {
    // LAB 4, part 2.
    let _ = (current_cid, mq_all, cid_all);
    panic!("lab not done yet: see book chapter Part II \"Clients and rebalancing\", section Lab (book/src/part2/rebalancing.md#lab) and labs/04-allocate/README.md");
}
