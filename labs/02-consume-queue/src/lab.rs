//! Lab 2: your code goes here. Replace each `panic!` with your implementation.
//! Read labs/02-consume-queue/README.md first; `make labs LAB=02` grades this file.

use crate::{CqEntry, Location, CQ_STORE_UNIT_SIZE};
use std::path::Path;

const NOT_DONE: &str = "lab not done yet: see book chapter Part I \"ConsumeQueue\", section Lab (book/src/part1/consumequeue.md#lab) and labs/02-consume-queue/README.md";

/// The 20 bytes of `entry` as a broker writes them (big-endian, in field order).
pub fn encode_entry(entry: &CqEntry) -> [u8; CQ_STORE_UNIT_SIZE] {
    // LAB 2, part 1.
    let _ = entry;
    panic!("{NOT_DONE}");
}

/// The entry in the first 20 bytes of `bytes`; `None` if there are fewer.
pub fn decode_entry(bytes: &[u8]) -> Option<CqEntry> {
    // LAB 2, part 1.
    let _ = bytes;
    panic!("{NOT_DONE}");
}

/// The size of a consume-queue file for the configured `mappedFileSizeConsumeQueue`
/// (`MessageStoreConfig.getMappedFileSizeConsumeQueue`).
pub fn consume_queue_file_size(configured: u64) -> u64 {
    // LAB 2, part 2.
    let _ = configured;
    panic!("{NOT_DONE}");
}

/// Where entry `cq_offset` (the queue offset) lives in a chain of `file_size`-byte files;
/// `None` for a negative offset.
pub fn locate(cq_offset: i64, file_size: u64) -> Option<Location> {
    // LAB 2, part 2.
    let _ = (cq_offset, file_size);
    panic!("{NOT_DONE}");
}

/// Reads entry `cq_offset` from the chain in `queue_dir` (files of `file_size` bytes, as a
/// broker left them on disk). `None` if its file does not exist or the entry was never
/// written (a written entry has `phy_offset >= 0` and `size > 0`).
pub fn read_entry(queue_dir: &Path, cq_offset: i64, file_size: u64) -> Option<CqEntry> {
    // LAB 2, part 3.
    let _ = (queue_dir, cq_offset, file_size);
    panic!("{NOT_DONE}");
}

/// The record of message `cq_offset` of (`topic`, `queue_id`) in the store at `store_root`:
/// its consume-queue entry (files of `cq_file_size` bytes), then the entry's bytes from the
/// commit log (files of `commit_log_file_size` bytes). `None` if either is missing.
pub fn read_message(
    store_root: &Path,
    topic: &str,
    queue_id: i32,
    cq_offset: i64,
    cq_file_size: u64,
    commit_log_file_size: u64,
) -> Option<Vec<u8>> {
    // LAB 2, part 4.
    let _ = (
        store_root,
        topic,
        queue_id,
        cq_offset,
        cq_file_size,
        commit_log_file_size,
    );
    panic!("{NOT_DONE}");
}
