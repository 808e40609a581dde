//! The pull read: from a consume queue's entries to the records in the commit log, judged
//! by the consumer's filter on the way, with 4.8.0's statuses, next offsets and transfer
//! limits. Book: Part II, "What the broker asks of the store" and "Filtering". Mirrors
//! `DefaultMessageStore.getMessage`.

use super::DefaultMessageStore;
use crate::config::BrokerRole;
use crate::consume_queue::CQ_STORE_UNIT_SIZE;
use crate::result::{GetMessageResult, GetMessageStatus};
use std::sync::atomic::Ordering;

impl DefaultMessageStore {
    pub(super) fn next_offset_correction(&self, old: i64, new: i64) -> i64 {
        if self.config.broker_role != BrokerRole::Slave {
            new
        } else {
            old
        }
    }

    pub(super) fn is_the_batch_full(
        &self,
        size_py: i32,
        max_msg_nums: i32,
        buffer_total: usize,
        count: usize,
        in_disk: bool,
    ) -> bool {
        if buffer_total == 0 || count == 0 {
            return false;
        }
        if max_msg_nums as usize <= count {
            return true;
        }
        let (max_bytes, max_count) = if in_disk {
            (
                self.config.max_transfer_bytes_on_message_in_disk,
                self.config.max_transfer_count_on_message_in_disk,
            )
        } else {
            (
                self.config.max_transfer_bytes_on_message_in_memory,
                self.config.max_transfer_count_on_message_in_memory,
            )
        };
        buffer_total + size_py.max(0) as usize > max_bytes || count > max_count.saturating_sub(1)
    }

    pub(super) fn memory_window(&self) -> i64 {
        (self.total_physical_memory as f64
            * (self.config.access_message_in_memory_max_ratio as f64 / 100.0)) as i64
    }

    /// Reads up to `max_msg_nums` messages of a queue from logical `offset`, skipping those
    /// whose tagsCode `filter` rejects (`getMessage`). Statuses and next offsets as 4.8.0.
    pub fn get_message(
        &self,
        group: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_msg_nums: i32,
        filter: &dyn Fn(i64) -> bool,
    ) -> GetMessageResult {
        let f = crate::filter::TagsCodeFilter(filter);
        self.get_message_filtered(group, topic, queue_id, offset, max_msg_nums, &f)
    }

    /// [`Self::get_message`] with a [`MessageFilter`](crate::filter::MessageFilter): each
    /// entry is first judged on the consume queue (extension addresses resolved to their
    /// unit), and only the entries that pass are read from the commit log and judged again.
    pub fn get_message_filtered(
        &self,
        _group: &str,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max_msg_nums: i32,
        filter: &dyn crate::filter::MessageFilter,
    ) -> GetMessageResult {
        if self.shutdown.load(Ordering::Acquire) || !self.running_flags.is_readable() {
            return GetMessageResult::empty(GetMessageStatus::NoMatchedLogicQueue);
        }
        let max_offset_py = self.commit_log.max_offset();
        let mut res = GetMessageResult::empty(GetMessageStatus::NoMessageInQueue);
        let Some(cq) = self.existing_consume_queue(topic, queue_id) else {
            res.status = GetMessageStatus::NoMatchedLogicQueue;
            res.next_begin_offset = self.next_offset_correction(offset, 0);
            return res;
        };
        let min_offset = cq.min_offset_in_queue();
        let max_offset = cq.max_offset_in_queue();
        res.min_offset = min_offset;
        res.max_offset = max_offset;
        if max_offset == 0 {
            res.status = GetMessageStatus::NoMessageInQueue;
            res.next_begin_offset = self.next_offset_correction(offset, 0);
        } else if offset < min_offset {
            res.status = GetMessageStatus::OffsetTooSmall;
            res.next_begin_offset = self.next_offset_correction(offset, min_offset);
        } else if offset == max_offset {
            res.status = GetMessageStatus::OffsetOverflowOne;
            res.next_begin_offset = self.next_offset_correction(offset, offset);
        } else if offset > max_offset {
            res.status = GetMessageStatus::OffsetOverflowBadly;
            let to = if min_offset == 0 {
                min_offset
            } else {
                max_offset
            };
            res.next_begin_offset = self.next_offset_correction(offset, to);
        } else {
            // ANCHOR: get_message_read
            let max_filter = (16000 / CQ_STORE_UNIT_SIZE).max(max_msg_nums.max(0) as usize);
            let entries = cq.get_entries(offset, max_filter);
            if entries.is_empty() {
                res.status = GetMessageStatus::OffsetFoundNull;
                let per_file =
                    (self.config.consume_queue_file_size() as usize / CQ_STORE_UNIT_SIZE) as i64;
                let rolled = offset + per_file - offset % per_file;
                res.next_begin_offset = self.next_offset_correction(offset, rolled);
                return res;
            }
            res.status = GetMessageStatus::NoMatchedMessage;
            let memory = self.memory_window();
            let mut next_phy_file_start = i64::MIN;
            let mut max_phy_pulling = 0i64;
            let mut i = 0usize;
            while i < entries.len() {
                let e = entries[i];
                max_phy_pulling = e.phy_offset;
                if next_phy_file_start != i64::MIN && e.phy_offset < next_phy_file_start {
                    i += 1;
                    continue;
                }
                // A placeholder names no message: step over it alone. Read as a record, it
                // would fail like a deleted one and skip the rest of commit-log file 0 with it
                // (4.8.0 does that, but writes placeholders only below a queue's min offset;
                // ours also fill a gap, and the entries after the gap are real).
                if e.is_blank() {
                    i += 1;
                    continue;
                }
                let in_disk = max_offset_py - e.phy_offset > memory;
                if self.is_the_batch_full(
                    e.size,
                    max_msg_nums,
                    res.buffer_total_size,
                    res.messages.len(),
                    in_disk,
                ) {
                    break;
                }
                i += 1;
                // ANCHOR: get_message_filter
                let mut tags_code = Some(e.tags_code);
                let ext = if crate::consume_queue_ext::is_ext_addr(e.tags_code) {
                    let unit = cq.get_ext(e.tags_code);
                    match &unit {
                        Some(u) => tags_code = Some(u.tags_code),
                        None => {
                            tracing::error!(
                                topic,
                                queue_id,
                                address = e.tags_code,
                                "[BUG] can't find consume queue extend file content"
                            );
                            tags_code = None;
                        }
                    }
                    unit
                } else {
                    None
                };
                if !filter.is_matched_by_consume_queue(tags_code, ext.as_ref()) {
                    continue;
                }
                match self.commit_log.get_message(e.phy_offset, e.size) {
                    Some(b) if !filter.is_matched_by_commit_log(&b) => continue,
                    // ANCHOR_END: get_message_filter
                    Some(b) => {
                        res.buffer_total_size += b.len();
                        res.messages.push(b);
                        res.message_queue_offsets.push(offset + i as i64 - 1);
                        res.status = GetMessageStatus::Found;
                        // counted per message handed out, as getMessageTransferedMsgCount
                        self.get_times.fetch_add(1, Ordering::Relaxed);
                        next_phy_file_start = i64::MIN;
                    }
                    None => {
                        if res.buffer_total_size == 0 {
                            res.status = GetMessageStatus::MessageWasRemoving;
                        }
                        next_phy_file_start = self.commit_log.roll_next_file(e.phy_offset);
                    }
                }
            }
            res.next_begin_offset = offset + i as i64;
            res.suggest_pulling_from_slave = max_offset_py - max_phy_pulling > memory;
            // ANCHOR_END: get_message_read
        }
        res
    }
}
