//! Lookups that are not pulls: queue offsets and their store times, the offset for a time,
//! raw records by commit-log offset, messages by key, the commit log's bounds. Book: Part I,
//! "IndexFile" (queries by key); Part III, "Admin tools". Mirrors the matching
//! `DefaultMessageStore` methods (`getMaxOffsetInQueue`, `getOffsetInQueueByTime`,
//! `lookMessageByOffset`, `queryMessage`, ...).

use super::DefaultMessageStore;
use crate::result::QueryMessageResult;
use bytes::Bytes;

impl DefaultMessageStore {
    /// One past the last logical offset of a queue, 0 if unknown.
    pub fn get_max_offset_in_queue(&self, topic: &str, queue_id: i32) -> i64 {
        self.existing_consume_queue(topic, queue_id)
            .map(|cq| cq.max_offset_in_queue())
            .unwrap_or(0)
    }

    /// First live logical offset of a queue, -1 if unknown (`getMinOffsetInQueue`).
    pub fn get_min_offset_in_queue(&self, topic: &str, queue_id: i32) -> i64 {
        self.existing_consume_queue(topic, queue_id)
            .map(|cq| cq.min_offset_in_queue())
            .unwrap_or(-1)
    }

    /// Commit-log offset of the message at a logical offset, 0 if none
    /// (`getCommitLogOffsetInQueue`).
    pub fn get_commit_log_offset_in_queue(
        &self,
        topic: &str,
        queue_id: i32,
        cq_offset: i64,
    ) -> i64 {
        self.existing_consume_queue(topic, queue_id)
            .and_then(|cq| cq.get_entry(cq_offset))
            .map(|e| e.phy_offset)
            .unwrap_or(0)
    }

    /// Store time of the message at a logical offset, -1 if none.
    pub fn get_message_store_timestamp(&self, topic: &str, queue_id: i32, cq_offset: i64) -> i64 {
        self.existing_consume_queue(topic, queue_id)
            .and_then(|cq| cq.get_entry(cq_offset))
            .map(|e| self.commit_log.pickup_store_timestamp(e.phy_offset, e.size))
            .unwrap_or(-1)
    }

    /// Store time of the oldest message of a queue, -1 if none.
    pub fn get_earliest_message_time(&self, topic: &str, queue_id: i32) -> i64 {
        match self.existing_consume_queue(topic, queue_id) {
            Some(cq) => self.get_message_store_timestamp(topic, queue_id, cq.min_offset_in_queue()),
            None => -1,
        }
    }

    /// Store time of the oldest message in the commit log, -1 if none.
    pub fn get_earliest_message_time_in_store(&self) -> i64 {
        let min = self.commit_log.first_record_offset();
        if min < 0 {
            return -1;
        }
        self.look_message_by_offset(min)
            .and_then(|b| crate::commit_log::store_timestamp_of(&b))
            .unwrap_or(-1)
    }

    /// The logical offset whose store time is closest to `timestamp` (`getOffsetInQueueByTime`).
    pub fn get_offset_in_queue_by_time(&self, topic: &str, queue_id: i32, timestamp: i64) -> i64 {
        let Some(cq) = self.existing_consume_queue(topic, queue_id) else {
            return 0;
        };
        let cl = &self.commit_log;
        cq.offset_in_queue_by_time(timestamp, cl.min_offset(), &|p, s| {
            cl.pickup_store_timestamp(p, s)
        })
    }

    /// The raw record starting at `commit_log_offset`.
    pub fn look_message_by_offset(&self, commit_log_offset: i64) -> Option<Bytes> {
        self.commit_log.look_message(commit_log_offset)
    }

    /// Messages of `topic` stored with `key` (a KEYS token or the UNIQ_KEY) within
    /// `[begin_ts, end_ts]` (`queryMessage`). Records are re-checked so hash collisions and
    /// index entries past a recovered end are never returned.
    pub fn query_message(
        &self,
        topic: &str,
        key: &str,
        max_num: usize,
        begin_ts: i64,
        end_ts: i64,
    ) -> QueryMessageResult {
        let r = self
            .index_service
            .query_offset(topic, key, max_num, begin_ts, end_ts);
        let mut out = QueryMessageResult {
            index_last_update_timestamp: r.index_last_update_timestamp,
            index_last_update_phyoffset: r.index_last_update_phyoffset,
            ..Default::default()
        };
        let mut offsets = r.phy_offsets;
        offsets.sort_unstable();
        offsets.dedup();
        let opts = crate::record::CheckOptions {
            check_crc: false,
            expected_offset: None,
            delay_levels_ms: self.commit_log.delay_levels_ms(),
        };
        for off in offsets {
            let Some(rec) = self.look_message_by_offset(off) else {
                continue;
            };
            let opts = crate::record::CheckOptions {
                expected_offset: Some(off),
                ..opts
            };
            if let crate::record::RecordCheck::Message(req) =
                crate::record::check_record(&rec, &opts)
            {
                let matches = req.topic == topic
                    && (req.uniq_key.as_deref() == Some(key)
                        || req.keys.split(' ').any(|k| k == key));
                if matches {
                    out.buffer_total_size += rec.len();
                    out.messages.push(rec);
                }
            }
        }
        out
    }

    /// One past the last byte of the commit log.
    pub fn get_max_phy_offset(&self) -> i64 {
        self.commit_log.max_offset()
    }

    /// First byte of the commit log still stored.
    pub fn get_min_phy_offset(&self) -> i64 {
        self.commit_log.min_offset()
    }
}
