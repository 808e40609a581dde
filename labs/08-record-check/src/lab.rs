//! Lab 8: your code goes here. Replace each `panic!` with your implementation.
//! Read labs/08-record-check/README.md first; `make labs LAB=08` grades this file.

use crate::{FileScan, RecordCheck};

const NOT_DONE: &str = "lab not done yet: see book chapter Part I \"Crash recovery\", section Lab (book/src/part1/crash-recovery.md#lab) and labs/08-record-check/README.md";

/// The BODYCRC a record stores for `body` (`UtilAll.crc32`).
pub fn body_crc(body: &[u8]) -> i32 {
    // LAB 8, part 1.
    let _ = body;
    panic!("{NOT_DONE}");
}

/// The length of a record with these variable parts (`CommitLog.calMsgLength`).
pub fn cal_msg_length(
    sys_flag: i32,
    body_len: usize,
    topic_len: usize,
    properties_len: usize,
) -> usize {
    // LAB 8, part 1.
    let _ = (sys_flag, body_len, topic_len, properties_len);
    panic!("{NOT_DONE}");
}

/// Checks the record at the start of `buf`; `buf` runs to the end of the file's data. The body
/// CRC is compared only when `check_crc` is set (`checkCRCOnRecover`).
pub fn check_record(buf: &[u8], check_crc: bool) -> RecordCheck {
    // LAB 8, part 2.
    let _ = (buf, check_crc);
    panic!("{NOT_DONE}");
}

/// Walks `file` from byte 0, record by record, to the end of its valid data.
pub fn scan_file(file: &[u8], check_crc: bool) -> FileScan {
    // LAB 8, part 3.
    let _ = (file, check_crc);
    panic!("{NOT_DONE}");
}
