//! Lab 1, reference solution. Built instead of src/lab.rs with `--features reference`.
//! Try the lab before reading this.

use crate::{
    encode_record, offset_msg_id, record_size, AppendResult, AppendStatus, CommitLog, LogFile,
    MessageExtBrokerInner, BLANK_MAGIC_CODE, END_FILE_MIN_BLANK_LENGTH,
};

impl LogFile {
    pub fn write_end_of_file_blank(&mut self) {
        let at = self.wrote_position;
        let left = self.remaining();
        self.bytes[at..at + 4].copy_from_slice(&(left as i32).to_be_bytes());
        self.bytes[at + 4..at + 8].copy_from_slice(&BLANK_MAGIC_CODE.to_be_bytes());
        self.wrote_position = self.file_size();
    }
}

impl CommitLog {
    pub fn last_file_or_create(&mut self) -> &mut LogFile {
        let next_start = match self.files.last() {
            None => Some(0),
            Some(f) if f.is_full() => Some(f.file_from_offset + f.file_size() as i64),
            Some(_) => None,
        };
        if let Some(start) = next_start {
            self.files.push(LogFile::new(start, self.file_size));
        }
        self.files
            .last_mut()
            .expect("a file was just made if there was none")
    }

    pub fn append(&mut self, msg: &MessageExtBrokerInner, store_timestamp: i64) -> AppendResult {
        let len = record_size(msg);
        if len > self.max_message_size {
            return AppendResult {
                status: AppendStatus::MessageSizeExceeded,
                wrote_offset: 0,
                wrote_bytes: 0,
                msg_id: String::new(),
                store_timestamp,
                queue_offset: 0,
            };
        }
        let key = format!("{}-{}", msg.topic, msg.queue_id);
        let queue_offset = self.topic_queue_table.get(&key).copied().unwrap_or(0);
        if len + END_FILE_MIN_BLANK_LENGTH > self.last_file_or_create().remaining() {
            // Close this file; the record goes to the start of the next one.
            self.last_file_or_create().write_end_of_file_blank();
        }
        let file = self.last_file_or_create();
        let wrote_offset = file.file_from_offset + file.wrote_position as i64;
        let record = encode_record(msg, queue_offset, wrote_offset, store_timestamp);
        let at = file.wrote_position;
        file.bytes[at..at + len].copy_from_slice(&record);
        file.wrote_position += len;
        self.topic_queue_table.insert(key, queue_offset + 1);
        AppendResult {
            status: AppendStatus::PutOk,
            wrote_offset,
            wrote_bytes: len,
            msg_id: offset_msg_id(msg.store_host, wrote_offset),
            store_timestamp,
            queue_offset,
        }
    }
}
