//! The consume queue of one (topic, queue id): a dense array of 20-byte entries
//! `(commit-log offset i64, record size i32, tagsCode i64)`, entry `k` at byte `k * 20`.
//!
//! Consumers address messages by the logical offset `k`; the entry tells where the record
//! sits in the commit log and lets a tag filter run without touching the commit log. The queue
//! is derived data: the dispatcher writes it from the commit log, recovery can truncate and
//! rebuild it. Files live in `consumequeue/<topic>/<queueId>/`. Book: Part I, "ConsumeQueue".
//! With `enableConsumeQueueExt` the tags-code field holds a [`ConsumeQueueExt`] address instead
//! (Part II, "Filtering"). Mirrors `org.apache.rocketmq.store.ConsumeQueue`.

use crate::consume_queue_ext::{is_ext_addr, ConsumeQueueExt, CqExtUnit};
use crate::error::StoreError;
use crate::mapped_file::{MappedFile, RecoveryPhase, WriteRight};
use crate::mapped_file_queue::MappedFileQueue;
use parking_lot::Mutex;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Bytes per consume-queue entry (`CQ_STORE_UNIT_SIZE`).
pub const CQ_STORE_UNIT_SIZE: usize = 20;

/// One decoded consume-queue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CqEntry {
    /// Physical offset of the record in the commit log.
    pub phy_offset: i64,
    /// Record size (TOTALSIZE).
    pub size: i32,
    /// Tag hash (or delivery time for the schedule topic).
    pub tags_code: i64,
}

impl CqEntry {
    /// An entry that points at a record (`offset >= 0 && size > 0`).
    pub fn is_valid(&self) -> bool {
        self.phy_offset >= 0 && self.size > 0
    }

    /// The 20 bytes as stored (big-endian).
    pub fn to_bytes(&self) -> [u8; CQ_STORE_UNIT_SIZE] {
        let mut b = [0u8; CQ_STORE_UNIT_SIZE];
        b[..8].copy_from_slice(&self.phy_offset.to_be_bytes());
        b[8..12].copy_from_slice(&self.size.to_be_bytes());
        b[12..].copy_from_slice(&self.tags_code.to_be_bytes());
        b
    }

    /// Parses 20 stored bytes; `None` if the slice is shorter.
    pub fn from_bytes(b: &[u8]) -> Option<CqEntry> {
        Some(CqEntry {
            phy_offset: i64::from_be_bytes(b.get(..8)?.try_into().ok()?),
            size: i32::from_be_bytes(b.get(8..12)?.try_into().ok()?),
            tags_code: i64::from_be_bytes(b.get(12..20)?.try_into().ok()?),
        })
    }

    /// The placeholder written before the first real entry of a queue that starts at a
    /// non-zero offset (`fillPreBlank`), and into a gap of queue offsets.
    pub const BLANK: CqEntry = CqEntry {
        phy_offset: 0,
        size: i32::MAX,
        tags_code: 0,
    };

    /// True for [`Self::BLANK`]: an entry that names no message.
    pub fn is_blank(&self) -> bool {
        self.phy_offset == Self::BLANK.phy_offset && self.size == Self::BLANK.size
    }
}

/// See the module docs.
pub struct ConsumeQueue {
    topic: String,
    queue_id: i32,
    queue: MappedFileQueue,
    file_size: usize,
    /// One past the last commit-log byte this queue covers; writes at or below are repeats.
    max_physic_offset: AtomicI64,
    /// Byte offset of the first live entry (min logical offset x 20).
    min_logic_offset: AtomicI64,
    /// Serialises writers (the dispatcher, recovery, retention) to the tail; holds the right
    /// to append to the queue's files.
    write_lock: Mutex<WriteRight>,
    /// The extension file (`enableConsumeQueueExt`), holding tags code, store time and filter
    /// bit map per entry.
    ext: Option<ConsumeQueueExt>,
}

impl ConsumeQueue {
    /// A queue over `<root>/consumequeue/<topic>/<queue_id>/` (nothing is read until `load`).
    pub fn new(cq_root: &Path, topic: &str, queue_id: i32, file_size: usize) -> Self {
        let dir = cq_root.join(topic).join(queue_id.to_string());
        let right = WriteRight::new();
        ConsumeQueue {
            topic: topic.to_string(),
            queue_id,
            queue: MappedFileQueue::new(dir, file_size, None, right.id()).with_random_access(),
            file_size,
            max_physic_offset: AtomicI64::new(-1),
            min_logic_offset: AtomicI64::new(0),
            write_lock: Mutex::new(right),
            ext: None,
        }
    }

    /// Adds the extension file: entries written from now on point into it.
    pub fn with_ext(mut self, ext: ConsumeQueueExt) -> Self {
        self.ext = Some(ext);
        self
    }

    /// The extension file, if this queue has one.
    pub fn ext(&self) -> Option<&ConsumeQueueExt> {
        self.ext.as_ref()
    }

    /// The extension unit an entry's tags-code field points at (`getExt`).
    pub fn get_ext(&self, address: i64) -> Option<CqExtUnit> {
        self.ext.as_ref()?.get(address)
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }
    /// The queue id.
    pub fn queue_id(&self) -> i32 {
        self.queue_id
    }
    /// The files.
    pub fn mapped_file_queue(&self) -> &MappedFileQueue {
        &self.queue
    }
    /// One past the last commit-log byte covered by an entry (-1: none).
    pub fn max_physic_offset(&self) -> i64 {
        self.max_physic_offset.load(Ordering::Acquire)
    }

    /// Maps the existing files.
    pub fn load(&self, phase: &mut RecoveryPhase) -> Result<(), StoreError> {
        self.queue.load(phase)?;
        match &self.ext {
            Some(ext) => ext.load(phase),
            None => Ok(()),
        }
    }

    /// Finds the end of valid entries, scanning from the third-last file, and drops the rest
    /// (`recover`).
    pub fn recover(&self, phase: &mut RecoveryPhase) {
        let _w = self.write_lock.lock();
        let files = self.queue.files();
        if files.is_empty() {
            return;
        }
        let mut index = files.len().saturating_sub(3);
        let mut process_offset;
        let mut max_ext_addr = 1;
        loop {
            let f = &files[index];
            let data = f.whole_for_recovery(phase);
            process_offset = f.file_from_offset() as i64;
            let mut valid_bytes = 0;
            for chunk in data.chunks_exact(CQ_STORE_UNIT_SIZE) {
                match CqEntry::from_bytes(chunk) {
                    Some(e) if e.is_valid() => {
                        valid_bytes += CQ_STORE_UNIT_SIZE;
                        if is_ext_addr(e.tags_code) {
                            max_ext_addr = e.tags_code;
                        }
                        self.max_physic_offset
                            .store(e.phy_offset + e.size as i64, Ordering::Release);
                    }
                    _ => break,
                }
            }
            process_offset += valid_bytes as i64;
            if valid_bytes == self.file_size && index + 1 < files.len() {
                index += 1;
                continue;
            }
            break;
        }
        self.queue.set_flushed_where(process_offset);
        let report = self.queue.truncate_dirty_files(phase, process_offset);
        self.log_truncation("recover", &report);
        if let Some(ext) = &self.ext {
            ext.recover(phase);
            ext.truncate_by_max_address(phase, max_ext_addr);
        }
    }

    /// Drops entries pointing at or past `phy_offset` (the commit log was cut there), walking
    /// back from the last file (`truncateDirtyLogicFiles`).
    pub fn truncate_dirty_logic_files(&self, phase: &mut RecoveryPhase, phy_offset: i64) {
        let _w = self.write_lock.lock();
        self.max_physic_offset.store(phy_offset, Ordering::Release);
        let mut max_ext_addr = 1;
        while let Some(f) = self.queue.last() {
            let data = f.whole_for_recovery(phase);
            let mut keep = 0usize;
            for chunk in data.chunks_exact(CQ_STORE_UNIT_SIZE) {
                let Some(e) = CqEntry::from_bytes(chunk) else {
                    break;
                };
                if !e.is_valid() || e.phy_offset >= phy_offset {
                    break;
                }
                keep += CQ_STORE_UNIT_SIZE;
                if is_ext_addr(e.tags_code) {
                    max_ext_addr = e.tags_code;
                }
                self.max_physic_offset
                    .store(e.phy_offset + e.size as i64, Ordering::Release);
            }
            if keep == 0 {
                self.queue.delete_last();
                continue;
            }
            let dropped_to = f.file_from_offset() as i64 + keep as i64;
            let report = self.queue.truncate_dirty_files(phase, dropped_to);
            self.log_truncation("commit log was cut", &report);
            break;
        }
        let max = self.queue.max_offset();
        if self.queue.flushed_where() > max {
            self.queue.set_flushed_where(max);
        }
        if let Some(ext) = &self.ext {
            ext.truncate_by_max_address(phase, max_ext_addr);
        }
    }

    fn log_truncation(&self, why: &str, report: &[crate::mapped_file_queue::TruncatedFile]) {
        for t in report.iter().filter(|t| t.dropped_bytes > 0) {
            tracing::warn!(topic = %self.topic, queue = self.queue_id, file = %t.path.display(),
                offset = t.from_offset, bytes = t.dropped_bytes, deleted = t.deleted,
                "consume queue truncated ({why})");
        }
    }

    /// One past the last commit-log byte of the last entry, or -1 (`getLastOffset`).
    pub fn last_offset(&self) -> i64 {
        let Some(f) = self.queue.last() else {
            return -1;
        };
        let pos = f.read_position();
        if pos < CQ_STORE_UNIT_SIZE {
            return -1;
        }
        f.slice(pos - CQ_STORE_UNIT_SIZE, CQ_STORE_UNIT_SIZE)
            .and_then(CqEntry::from_bytes)
            .filter(CqEntry::is_valid)
            .map(|e| e.phy_offset + e.size as i64)
            .unwrap_or(-1)
    }

    /// Sets the min logical offset to the first entry at or above the commit log's min
    /// offset (`correctMinOffset`).
    pub fn correct_min_offset(&self, phy_min_offset: i64) {
        let Some(f) = self.queue.first() else { return };
        let Some(data) = f.slice(0, f.read_position()) else {
            return;
        };
        for (i, chunk) in data.chunks_exact(CQ_STORE_UNIT_SIZE).enumerate() {
            if let Some(e) = CqEntry::from_bytes(chunk) {
                if e.phy_offset >= phy_min_offset {
                    let v = f.file_from_offset() as i64 + (i * CQ_STORE_UNIT_SIZE) as i64;
                    self.min_logic_offset.store(v, Ordering::Release);
                    if let Some(ext) = &self.ext {
                        ext.truncate_by_min_address(e.tags_code);
                    }
                    return;
                }
            }
        }
    }

    /// First live logical offset (`getMinOffsetInQueue`).
    pub fn min_offset_in_queue(&self) -> i64 {
        self.min_logic_offset.load(Ordering::Acquire) / CQ_STORE_UNIT_SIZE as i64
    }

    /// One past the last logical offset (`getMaxOffsetInQueue`).
    pub fn max_offset_in_queue(&self) -> i64 {
        self.queue.max_offset() / CQ_STORE_UNIT_SIZE as i64
    }

    // ANCHOR: cq_put
    /// Writes the entry for logical offset `cq_offset` (`putMessagePositionInfo`). Repeats of
    /// what is already there (same or lower commit-log position) are skipped, which makes
    /// re-dispatch after a crash idempotent. A queue whose first entry is not offset 0 gets
    /// placeholder entries before it, so entry `k` is always at byte `k * 20`.
    pub fn put_position(
        &self,
        phy_offset: i64,
        size: i32,
        tags_code: i64,
        cq_offset: i64,
    ) -> Result<(), StoreError> {
        self.put_position_ext(phy_offset, size, tags_code, cq_offset, 0, None)
    }

    /// [`Self::put_position`] with what an extension unit records: with an extension file,
    /// the unit `(tags_code, store_timestamp, bit_map)` is appended first and the entry holds
    /// its address (`putMessagePositionInfoWrapper`); without one, both are ignored.
    pub fn put_position_ext(
        &self,
        phy_offset: i64,
        size: i32,
        tags_code: i64,
        cq_offset: i64,
        store_timestamp: i64,
        bit_map: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let unit = CQ_STORE_UNIT_SIZE as i64;
        // the offsets come from the record (the log on disk, or a master's HA stream)
        let (Some(expect), Some(end)) = (
            cq_offset.checked_mul(unit).filter(|e| *e >= 0),
            phy_offset.checked_add(size as i64),
        ) else {
            return Err(StoreError::BadQueueOffset {
                phy_offset,
                queue_offset: cq_offset,
            });
        };
        let mut right = self.write_lock.lock();
        let right = &mut *right;
        if end <= self.max_physic_offset() {
            tracing::debug!(topic = %self.topic, queue = self.queue_id, phy_offset,
                "consume queue entry already built; skipped");
            return Ok(());
        }
        let mut file = self.queue.last_or_create(expect as u64)?;
        if file.is_first_create_in_queue() && cq_offset != 0 && file.wrote_position() == 0 {
            self.min_logic_offset.store(expect, Ordering::Release);
            self.queue
                .set_flushed_where(expect - expect % self.file_size as i64);
            let until = (expect % self.file_size as i64) as usize;
            for _ in 0..until / CQ_STORE_UNIT_SIZE {
                file.append_bytes(right, &CqEntry::BLANK.to_bytes());
            }
        }
        let mut current = file.file_from_offset() as i64 + file.wrote_position() as i64;
        if cq_offset != 0 && expect < current {
            tracing::warn!(topic = %self.topic, queue = self.queue_id, expect, current,
                "consume queue built repeatedly; entry skipped");
            return Ok(());
        }
        if expect > current {
            // 4.8.0 logs "[BUG]logic queue order maybe wrong" and appends anyway, which would
            // put entry k at the wrong byte; we keep the layout and fill the gap instead.
            tracing::warn!(topic = %self.topic, queue = self.queue_id, expect, current,
                "gap in consume queue; filling with placeholder entries");
            while current < expect {
                file = self.queue.last_or_create(current as u64)?;
                if !file.append_bytes(right, &CqEntry::BLANK.to_bytes()) {
                    return Err(StoreError::Config("consume queue gap fill failed".into()));
                }
                current += unit;
            }
            file = self.queue.last_or_create(expect as u64)?;
        }
        // ANCHOR: cq_put_ext
        // Only entries that are really written get a unit (4.8.0 appends the unit before the
        // repeat check, leaving orphan units after a replay).
        let tags_code = match &self.ext {
            Some(ext) => {
                let unit = CqExtUnit {
                    tags_code,
                    msg_store_time: store_timestamp,
                    filter_bit_map: bit_map.map(<[u8]>::to_vec).unwrap_or_default(),
                };
                ext.put(&unit).unwrap_or_else(|| {
                    tracing::warn!(topic = %self.topic, queue = self.queue_id, phy_offset,
                        "Save consume queue extend fail, So just save tagsCode!");
                    tags_code
                })
            }
            None => tags_code,
        };
        // ANCHOR_END: cq_put_ext
        let entry = CqEntry {
            phy_offset,
            size,
            tags_code,
        };
        if !file.append_bytes(right, &entry.to_bytes()) {
            return Err(StoreError::Config(format!(
                "consume queue {}/{} cannot append at {}",
                self.topic, self.queue_id, expect
            )));
        }
        self.max_physic_offset
            .store(phy_offset + size as i64, Ordering::Release);
        Ok(())
    }
    // ANCHOR_END: cq_put

    /// The entry at logical offset `index`, if it is written and not deleted.
    pub fn get_entry(&self, index: i64) -> Option<CqEntry> {
        if index < self.min_offset_in_queue() {
            return None;
        }
        let byte = index.checked_mul(CQ_STORE_UNIT_SIZE as i64)?;
        let f = self.queue.find_by_offset(byte, false)?;
        let pos = (byte - f.file_from_offset() as i64) as usize;
        f.slice(pos, CQ_STORE_UNIT_SIZE)
            .and_then(CqEntry::from_bytes)
    }

    // ANCHOR: cq_get_entries
    /// Up to `max` entries from `start_index`, within the file holding it (`getIndexBuffer`:
    /// a read never crosses a file boundary).
    pub fn get_entries(&self, start_index: i64, max: usize) -> Vec<CqEntry> {
        if start_index < self.min_offset_in_queue() {
            return Vec::new();
        }
        let Some(byte) = start_index.checked_mul(CQ_STORE_UNIT_SIZE as i64) else {
            return Vec::new();
        };
        let Some(f) = self.queue.find_by_offset(byte, false) else {
            return Vec::new();
        };
        let pos = (byte - f.file_from_offset() as i64) as usize;
        let read = f.read_position();
        if pos >= read {
            return Vec::new();
        }
        let n = ((read - pos) / CQ_STORE_UNIT_SIZE).min(max);
        f.slice(pos, n * CQ_STORE_UNIT_SIZE)
            .map(|b| {
                b.chunks_exact(CQ_STORE_UNIT_SIZE)
                    .filter_map(CqEntry::from_bytes)
                    .collect()
            })
            .unwrap_or_default()
    }
    // ANCHOR_END: cq_get_entries

    /// The logical offset whose message's store time is closest to `timestamp`
    /// (`getOffsetInQueueByTime`): pick the first file modified at or after the time, then
    /// binary-search it, reading store times from the commit log through `store_time`
    /// (`-1` when the record is gone). Entries below `min_phy_offset` count as "earlier".
    pub fn offset_in_queue_by_time(
        &self,
        timestamp: i64,
        min_phy_offset: i64,
        store_time: &dyn Fn(i64, i32) -> i64,
    ) -> i64 {
        let files = self.queue.files();
        let Some(f) = files
            .iter()
            .find(|f| f.last_modified_ms() >= timestamp)
            .or(files.last())
        else {
            return 0;
        };
        self.search_file(f, timestamp, min_phy_offset, store_time)
    }

    fn search_file(
        &self,
        f: &Arc<MappedFile>,
        timestamp: i64,
        min_phy_offset: i64,
        store_time: &dyn Fn(i64, i32) -> i64,
    ) -> i64 {
        let unit = CQ_STORE_UNIT_SIZE as i64;
        let from = f.file_from_offset() as i64;
        let min_logic = self.min_logic_offset.load(Ordering::Acquire);
        let Some(data) = f.slice(0, f.read_position()) else {
            return 0;
        };
        let mut low = if min_logic > from {
            min_logic - from
        } else {
            0
        };
        let mut high = data.len() as i64 - unit;
        let (mut target, mut left, mut right) = (-1i64, -1i64, -1i64);
        let (mut left_value, mut right_value) = (-1i64, -1i64);
        while high >= low {
            let mid = (low + high) / (2 * unit) * unit;
            let Some(e) = CqEntry::from_bytes(&data[mid as usize..]) else {
                break;
            };
            if e.phy_offset < min_phy_offset {
                low = mid + unit;
                left = mid;
                continue;
            }
            let t = store_time(e.phy_offset, e.size);
            if t < 0 {
                return 0;
            }
            if t == timestamp {
                target = mid;
                break;
            } else if t > timestamp {
                high = mid - unit;
                right = mid;
                right_value = t;
            } else {
                low = mid + unit;
                left = mid;
                left_value = t;
            }
        }
        let offset = if target != -1 {
            target
        } else if left_value == -1 {
            right
        } else if right_value == -1 {
            left
        } else if (timestamp - left_value).abs() > (timestamp - right_value).abs() {
            right
        } else {
            left
        };
        (from + offset) / unit
    }

    /// Deletes files whose entries all point below the commit log's min offset, then moves
    /// the min logical offset (`deleteExpiredFile`).
    pub fn delete_expired_file(&self, min_phy_offset: i64) -> usize {
        let n = self
            .queue
            .delete_expired_by_offset(min_phy_offset, CQ_STORE_UNIT_SIZE);
        self.correct_min_offset(min_phy_offset);
        n
    }

    /// msyncs dirty entries (at least `least_pages` pages, 0 = all).
    pub fn flush(&self, least_pages: usize) -> bool {
        let done = self.queue.flush(least_pages);
        match &self.ext {
            Some(ext) => ext.flush(least_pages) && done,
            None => done,
        }
    }

    /// Deletes every file and the directory (topic deleted).
    pub fn destroy(&self) {
        let _w = self.write_lock.lock();
        self.queue.destroy();
        if let Some(ext) = &self.ext {
            ext.destroy();
        }
        self.max_physic_offset.store(-1, Ordering::Release);
        self.min_logic_offset.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cq(dir: &Path, size: usize) -> ConsumeQueue {
        ConsumeQueue::new(dir, "TopicTest", 3, size)
    }

    /// The VmFlags line of the mapping of `path` in this process (`/proc/self/smaps`).
    #[cfg(target_os = "linux")]
    fn vm_flags_of(path: &Path) -> Option<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let name = path.to_str()?;
        let mut lines = smaps.lines();
        while let Some(line) = lines.next() {
            if line.ends_with(name) {
                return lines
                    .find(|l| l.starts_with("VmFlags:"))
                    .map(str::to_string);
            }
        }
        None
    }

    /// A consume-queue file is mapped with `MADV_RANDOM` (smaps flag `rr`): its page faults
    /// read no window ahead, so 1 024 fresh queues cost 1 024 pages, not 1 024 × 8 MiB.
    #[cfg(target_os = "linux")]
    #[test]
    fn consume_queue_files_are_mapped_for_random_access() {
        let dir = tempfile::tempdir().unwrap();
        let q = cq(dir.path(), 6000);
        q.put_position(0, 50, 7, 0).unwrap();
        let path = dir.path().join("TopicTest/3/00000000000000000000");
        let flags = vm_flags_of(&path).expect("the file is mapped");
        assert!(
            flags.split_whitespace().any(|f| f == "rr"),
            "no random-read advice: {flags}"
        );
        drop(q);
    }

    #[test]
    fn entries_are_20_bytes_at_k_times_20() {
        let dir = tempfile::tempdir().unwrap();
        let q = cq(dir.path(), 100);
        for k in 0..12i64 {
            q.put_position(1000 + k * 50, 50, k * 7, k).unwrap();
        }
        assert_eq!(q.max_offset_in_queue(), 12);
        assert_eq!(q.mapped_file_queue().file_count(), 3);
        let path = dir.path().join("TopicTest/3/00000000000000000100");
        let raw = std::fs::read(&path).unwrap();
        assert_eq!(raw.len(), 100);
        // entry 5 is the first of the second file
        assert_eq!(i64::from_be_bytes(raw[0..8].try_into().unwrap()), 1250);
        assert_eq!(i32::from_be_bytes(raw[8..12].try_into().unwrap()), 50);
        assert_eq!(i64::from_be_bytes(raw[12..20].try_into().unwrap()), 35);
        assert_eq!(
            q.get_entry(7),
            Some(CqEntry {
                phy_offset: 1350,
                size: 50,
                tags_code: 49
            })
        );
        assert_eq!(q.get_entries(3, 10).len(), 2, "reads stop at the file end");
        assert_eq!(q.get_entry(12), None);
        assert_eq!(q.last_offset(), 1000 + 11 * 50 + 50);
    }

    #[test]
    fn repeated_puts_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let q = cq(dir.path(), 200);
        for k in 0..5 {
            q.put_position(k * 10, 10, 0, k).unwrap();
        }
        for k in 0..5 {
            q.put_position(k * 10, 10, 0, k).unwrap();
        }
        assert_eq!(q.max_offset_in_queue(), 5);
    }

    #[test]
    fn first_entry_at_nonzero_offset_gets_placeholders() {
        let dir = tempfile::tempdir().unwrap();
        let q = cq(dir.path(), 100);
        q.put_position(500, 10, 1, 7).unwrap();
        assert_eq!(q.min_offset_in_queue(), 7);
        assert_eq!(q.max_offset_in_queue(), 8);
        let f = q.mapped_file_queue().first().unwrap();
        assert_eq!(f.file_from_offset(), 100);
        let e = CqEntry::from_bytes(f.slice(0, 20).unwrap()).unwrap();
        assert_eq!(e, CqEntry::BLANK);
        assert_eq!(q.get_entry(7).unwrap().phy_offset, 500);
    }

    #[test]
    fn recover_and_truncate() {
        let dir = tempfile::tempdir().unwrap();
        {
            let q = cq(dir.path(), 100);
            for k in 0..13i64 {
                q.put_position(k * 10, 10, 0, k).unwrap();
            }
        }
        // SAFETY: nothing else touches the files of this test.
        let mut phase = unsafe { RecoveryPhase::begin() };
        let q = cq(dir.path(), 100);
        q.load(&mut phase).unwrap();
        q.recover(&mut phase);
        assert_eq!(q.max_offset_in_queue(), 13);
        assert_eq!(q.max_physic_offset(), 130);
        q.truncate_dirty_logic_files(&mut phase, 75);
        assert_eq!(q.max_offset_in_queue(), 8);
        assert_eq!(q.max_physic_offset(), 80);
        assert_eq!(q.mapped_file_queue().file_count(), 2);
        q.truncate_dirty_logic_files(&mut phase, 40);
        assert_eq!(q.max_offset_in_queue(), 4);
        assert_eq!(q.mapped_file_queue().file_count(), 1);
        // rebuilt entries continue at the right byte
        q.put_position(40, 10, 0, 4).unwrap();
        assert_eq!(q.get_entry(4).unwrap().phy_offset, 40);
        // and stale bytes after the cut were zeroed, so a recover sees exactly 5 entries
        let q2 = cq(dir.path(), 100);
        q2.load(&mut phase).unwrap();
        q2.recover(&mut phase);
        assert_eq!(q2.max_offset_in_queue(), 5);
    }

    #[test]
    fn queue_offsets_no_entry_can_hold_are_refused_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let q = cq(dir.path(), 100);
        for bad in [-1, i64::MAX, i64::MAX / 20 + 1] {
            assert!(matches!(
                q.put_position(0, 10, 0, bad),
                Err(StoreError::BadQueueOffset { queue_offset, .. }) if queue_offset == bad
            ));
        }
        assert!(matches!(
            q.put_position(i64::MAX - 5, 10, 0, 0),
            Err(StoreError::BadQueueOffset { .. })
        ));
        assert_eq!(q.max_offset_in_queue(), 0, "nothing was written");
        q.put_position(0, 10, 0, 0).unwrap();
        assert_eq!(q.max_offset_in_queue(), 1);
    }

    #[test]
    fn binary_search_by_time() {
        let dir = tempfile::tempdir().unwrap();
        let q = cq(dir.path(), 2000);
        for k in 0..50i64 {
            q.put_position(k * 100, 100, 0, k).unwrap();
        }
        // store time of the record at phy p is 1000 + p (10 ms per 1000 bytes)
        let time = |p: i64, _s: i32| 1_000 + p;
        assert_eq!(q.offset_in_queue_by_time(1_000 + 2_300, 0, &time), 23);
        assert_eq!(q.offset_in_queue_by_time(1_000 + 2_340, 0, &time), 23);
        assert_eq!(q.offset_in_queue_by_time(1_000 + 2_360, 0, &time), 24);
        assert_eq!(q.offset_in_queue_by_time(0, 0, &time), 0);
        assert_eq!(q.offset_in_queue_by_time(i64::MAX / 2, 0, &time), 49);
        // entries below the commit log's min offset are skipped
        assert_eq!(q.offset_in_queue_by_time(0, 1_000, &time), 10);
    }

    #[test]
    fn expired_files_go_and_min_offset_moves() {
        let dir = tempfile::tempdir().unwrap();
        let q = cq(dir.path(), 40);
        for k in 0..6i64 {
            q.put_position(k * 10, 10, 0, k).unwrap();
        }
        assert_eq!(q.delete_expired_file(25), 1);
        assert_eq!(q.min_offset_in_queue(), 3);
        assert_eq!(q.get_entry(1), None);
        assert_eq!(q.get_entry(3).unwrap().phy_offset, 30);
    }
}
