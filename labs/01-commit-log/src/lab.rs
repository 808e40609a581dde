//! Lab 1: your code goes here. Replace each `panic!` with your implementation.
//! Read labs/01-commit-log/README.md first; `make labs LAB=01` grades this file.

use crate::{AppendResult, CommitLog, LogFile, MessageExtBrokerInner};

const NOT_DONE: &str = "lab not done yet: see book chapter Part I \"CommitLog\", section Lab (book/src/part1/commitlog.md#lab) and labs/01-commit-log/README.md";

impl LogFile {
    /// Closes this file with the END_OF_FILE blank: from the write position, an int with the
    /// number of bytes left, then `BLANK_MAGIC_CODE`; the file is then full. The bytes after
    /// those 8 are left as they are.
    pub fn write_end_of_file_blank(&mut self) {
        // LAB 1, part 1.
        panic!("{NOT_DONE}");
    }
}

impl CommitLog {
    /// The file the next record goes to (`getLastMappedFile(0)`): the last file if it is not
    /// full, otherwise a new file right after it (the first file starts at offset 0).
    pub fn last_file_or_create(&mut self) -> &mut LogFile {
        // LAB 1, part 2.
        panic!("{NOT_DONE}");
    }

    /// Appends `msg` as stored at `store_timestamp` (`putMessage` + `doAppend`): decides its
    /// queue offset and physical offset, writes the record (closing the current file with
    /// the blank first if the record plus 8 bytes does not fit), and says where it went.
    pub fn append(&mut self, msg: &MessageExtBrokerInner, store_timestamp: i64) -> AppendResult {
        // LAB 1, part 3.
        let _ = (msg, store_timestamp);
        panic!("{NOT_DONE}");
    }
}
