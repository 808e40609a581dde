//! Lab 7: your code goes here. Replace each `panic!` with your implementation.
//! Read labs/07-msg-id/README.md first; `make labs LAB=07` grades this file.

use crate::{CommitLogPlace, MessageId, MsgIdError};
use std::net::SocketAddr;

const NOT_DONE: &str = "lab not done yet: see book chapter Part II \"Producing: the send path and message ids\", section Lab (book/src/part2/producing.md#lab) and labs/07-msg-id/README.md";

/// The offset message id of the record at `commit_log_offset` stored by `store_host`
/// (`MessageDecoder.createMessageId`).
pub fn create_message_id(store_host: SocketAddr, commit_log_offset: i64) -> String {
    // LAB 7, part 1.
    let _ = (store_host, commit_log_offset);
    panic!("{NOT_DONE}");
}

/// Splits an offset message id back into the broker address and the offset
/// (`MessageDecoder.decodeMessageId`). Lower-case hex is accepted too.
pub fn decode_message_id(msg_id: &str) -> Result<MessageId, MsgIdError> {
    // LAB 7, part 2.
    let _ = msg_id;
    panic!("{NOT_DONE}");
}

/// The commit-log file that holds `offset` and the position inside it, for files of
/// `file_size` bytes (`mappedFileSizeCommitLog`, 1 GiB by default).
pub fn locate_in_commit_log(offset: i64, file_size: u64) -> CommitLogPlace {
    // LAB 7, part 3.
    let _ = (offset, file_size);
    panic!("{NOT_DONE}");
}
