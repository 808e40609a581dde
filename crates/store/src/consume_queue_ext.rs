//! ConsumeQueueExt: the consume queue's extension file, where the SQL92 filter's bit map of a
//! message is kept next to its consume-queue entry.
//!
//! A consume-queue entry has room for one 8-byte tags code. When the extension is on
//! (`enableConsumeQueueExt`), each entry's tags-code field holds instead the *address* of an
//! extension unit, which carries the real tags code, the store time and the bit map:
//!
//! ```text
//! unit:  [size: i16][tagsCode: i64][msgStoreTime: i64][bitMapSize: i16][bitMap: bitMapSize bytes]
//!        size = 20 + bitMapSize (at most 32767); big-endian like every RocketMQ file
//! file:  units back to back; when the next unit does not fit before the last 4 bytes, a
//!        short -1 is written where it would start and the unit goes to the next file
//! files: <storePathRootDir>/consumequeue_ext/<topic>/<queueId>/<20-digit start offset>,
//!        mappedFileSizeConsumeQueueExt bytes each (48 MiB)
//! address = file offset + i64::MIN   (sign bit set; every address is <= i32::MIN - 1, which
//!                                     no real tags code reaches: tag hashes are ints and
//!                                     delay-queue delivery times are positive)
//! ```
//!
//! Book: Part II, "Filtering" (ConsumeQueueExt). Mirrors
//! `org.apache.rocketmq.store.ConsumeQueueExt` of 4.8.0.

use crate::error::StoreError;
use crate::mapped_file::{AppendOutcome, RecoveryPhase, WriteRight};
use crate::mapped_file_queue::MappedFileQueue;
use parking_lot::Mutex;
use std::path::Path;

/// Bytes kept free at a file's end for the -1 end mark (`END_BLANK_DATA_LENGTH`).
pub const END_BLANK_DATA_LENGTH: usize = 4;
/// The largest address (`MAX_ADDR` = `Integer.MIN_VALUE - 1`).
pub const MAX_ADDR: i64 = i32::MIN as i64 - 1;
/// The largest file offset an address can encode (`MAX_REAL_OFFSET`).
pub const MAX_REAL_OFFSET: i64 = MAX_ADDR - i64::MIN;
/// A unit without bit map: size + tagsCode + msgStoreTime + bitMapSize (`MIN_EXT_UNIT_SIZE`).
pub const MIN_EXT_UNIT_SIZE: usize = 2 + 8 * 2 + 2;
/// `MAX_EXT_UNIT_SIZE` (a unit's size is a short).
pub const MAX_EXT_UNIT_SIZE: usize = i16::MAX as usize;

// ANCHOR: ext_addr
/// Whether a consume-queue tags-code field holds an extension address (`isExtAddr`).
pub fn is_ext_addr(tags_code: i64) -> bool {
    tags_code <= MAX_ADDR
}

/// File offset → address (`decorate`).
pub fn decorate(offset: i64) -> i64 {
    if is_ext_addr(offset) {
        offset
    } else {
        offset.wrapping_add(i64::MIN)
    }
}

/// Address → file offset (`unDecorate`).
pub fn undecorate(address: i64) -> i64 {
    if is_ext_addr(address) {
        address.wrapping_sub(i64::MIN)
    } else {
        address
    }
}
// ANCHOR_END: ext_addr

/// One extension unit (`CqExtUnit`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CqExtUnit {
    /// The message's real tags code.
    pub tags_code: i64,
    /// The message's store time (ms); filter data registered after it does not use the bit map.
    pub msg_store_time: i64,
    /// The bloom bit map of the SQL92 groups that match the message; empty for none.
    pub filter_bit_map: Vec<u8>,
}

impl CqExtUnit {
    /// Bytes the unit takes in the file.
    pub fn size(&self) -> usize {
        MIN_EXT_UNIT_SIZE + self.filter_bit_map.len()
    }

    /// The unit as stored.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.size());
        b.extend_from_slice(&(self.size() as i16).to_be_bytes());
        b.extend_from_slice(&self.tags_code.to_be_bytes());
        b.extend_from_slice(&self.msg_store_time.to_be_bytes());
        b.extend_from_slice(&(self.filter_bit_map.len() as i16).to_be_bytes());
        b.extend_from_slice(&self.filter_bit_map);
        b
    }

    /// Reads a unit at the start of `b`; `None` for no unit (size < 1, the -1 end mark, zeros)
    /// or a unit running past `b` (`CqExtUnit.read`).
    pub fn from_bytes(b: &[u8]) -> Option<CqExtUnit> {
        let size = i16::from_be_bytes(b.get(..2)?.try_into().ok()?);
        if size < 1 {
            return None;
        }
        let tags_code = i64::from_be_bytes(b.get(2..10)?.try_into().ok()?);
        let msg_store_time = i64::from_be_bytes(b.get(10..18)?.try_into().ok()?);
        let bit_map_size = i16::from_be_bytes(b.get(18..20)?.try_into().ok()?);
        let filter_bit_map = if bit_map_size < 1 {
            Vec::new()
        } else {
            b.get(20..20 + bit_map_size as usize)?.to_vec()
        };
        Some(CqExtUnit {
            tags_code,
            msg_store_time,
            filter_bit_map,
        })
    }
}

/// The extension files of one (topic, queue id).
pub struct ConsumeQueueExt {
    queue: MappedFileQueue,
    file_size: usize,
    /// Serialises appends (the dispatcher is the only writer; recovery runs alone) and holds
    /// the right to append to the files.
    put_lock: Mutex<WriteRight>,
}

impl ConsumeQueueExt {
    /// The extension under `<ext_root>/<topic>/<queue_id>/` (nothing is read until `load`).
    pub fn new(ext_root: &Path, topic: &str, queue_id: i32, file_size: usize) -> Self {
        let dir = ext_root.join(topic).join(queue_id.to_string());
        let right = WriteRight::new();
        ConsumeQueueExt {
            queue: MappedFileQueue::new(dir, file_size, None, right.id()).with_random_access(),
            file_size,
            put_lock: Mutex::new(right),
        }
    }

    /// The files.
    pub fn mapped_file_queue(&self) -> &MappedFileQueue {
        &self.queue
    }

    /// Maps the existing files.
    pub fn load(&self, phase: &mut RecoveryPhase) -> Result<(), StoreError> {
        self.queue.load(phase)
    }

    /// Appends a unit and returns its address, or `None` when it cannot be stored (too big,
    /// out of addresses, no file): the caller then keeps the plain tags code (`put`, which
    /// returns 1 there).
    pub fn put(&self, unit: &CqExtUnit) -> Option<i64> {
        let size = unit.size();
        if size > MAX_EXT_UNIT_SIZE {
            tracing::error!(
                size,
                "consume queue ext unit larger than {MAX_EXT_UNIT_SIZE}"
            );
            return None;
        }
        if self.queue.max_offset() + size as i64 > MAX_REAL_OFFSET {
            tracing::warn!("consume queue ext reached its maximum address");
            return None;
        }
        let bytes = unit.to_bytes();
        let mut right = self.put_lock.lock();
        let right = &mut *right;
        for _ in 0..3 {
            let file = match self.queue.last_or_create(0) {
                Ok(f) => f,
                Err(e) => {
                    tracing::error!(error = %e, "cannot create a consume queue ext file");
                    continue;
                }
            };
            let wrote = file.wrote_position();
            let blank = self.file_size.saturating_sub(wrote + END_BLANK_DATA_LENGTH);
            if size > blank {
                // the end mark: a short -1 where the unit would start; the file is then full
                file.append_with(right, |tail, _| {
                    if tail.len() >= 2 {
                        tail[..2].copy_from_slice(&(-1i16).to_be_bytes());
                    }
                    AppendOutcome {
                        written: tail.len(),
                        value: (),
                    }
                });
                continue;
            }
            if file.append_bytes(right, &bytes) {
                return Some(decorate(file.file_from_offset() as i64 + wrote as i64));
            }
        }
        None
    }

    /// The unit at `address` (`get`); `None` for a non-address or an address with no unit.
    pub fn get(&self, address: i64) -> Option<CqExtUnit> {
        if !is_ext_addr(address) {
            return None;
        }
        let offset = undecorate(address);
        let file = self.queue.find_by_offset(offset, offset == 0)?;
        let pos = (offset - file.file_from_offset() as i64) as usize;
        let avail = file.read_position().checked_sub(pos)?;
        CqExtUnit::from_bytes(file.slice(pos, avail)?)
    }

    /// Finds the end of the units, file by file, and drops what follows (`recover`).
    pub fn recover(&self, phase: &mut RecoveryPhase) {
        let files = self.queue.files();
        let Some(mut end) = files.first().map(|f| f.file_from_offset() as i64) else {
            return;
        };
        for f in &files {
            let data = f.whole_for_recovery(phase);
            let mut pos = 0usize;
            while let Some(b) = data.get(pos..pos + 2) {
                let size = i16::from_be_bytes([b[0], b[1]]);
                if size < 1 || pos + size as usize > data.len() {
                    break;
                }
                pos += size as usize;
            }
            end = f.file_from_offset() as i64 + pos as i64;
        }
        self.queue.set_flushed_where(end);
        for t in self
            .queue
            .truncate_dirty_files(phase, end)
            .iter()
            .filter(|t| t.dropped_bytes > 0)
        {
            tracing::warn!(file = %t.path.display(), offset = t.from_offset, bytes = t.dropped_bytes,
                "consume queue ext truncated (recover)");
        }
    }

    /// Drops every unit after the one at `max_address` (`truncateByMaxAddress`): the
    /// consume queue no longer points past it.
    pub fn truncate_by_max_address(&self, phase: &mut RecoveryPhase, max_address: i64) {
        if !is_ext_addr(max_address) {
            return;
        }
        let Some(unit) = self.get(max_address) else {
            tracing::error!(max_address, "[BUG] consume queue ext unit not found");
            return;
        };
        self.queue
            .truncate_dirty_files(phase, undecorate(max_address) + unit.size() as i64);
    }

    /// Deletes the files wholly below `min_address` (`truncateByMinAddress`).
    pub fn truncate_by_min_address(&self, min_address: i64) {
        if !is_ext_addr(min_address) {
            return;
        }
        self.queue
            .delete_files_ending_before(undecorate(min_address));
    }

    /// msyncs dirty units (at least `least_pages` pages, 0 = all); returns whether the flush point moved.
    pub fn flush(&self, least_pages: usize) -> bool {
        self.queue.flush(least_pages)
    }

    /// Deletes every file and the directory (topic deleted).
    pub fn destroy(&self) {
        self.queue.destroy();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(tags: i64, bits: usize) -> CqExtUnit {
        CqExtUnit {
            tags_code: tags,
            msg_store_time: 1_600_000_000_000 + tags,
            filter_bit_map: vec![0xA5; bits],
        }
    }

    #[test]
    fn addresses_never_look_like_tags_codes() {
        assert!(is_ext_addr(decorate(0)));
        assert_eq!(decorate(0), i64::MIN);
        assert_eq!(undecorate(decorate(12345)), 12345);
        assert!(!is_ext_addr(i32::MIN as i64));
        assert!(is_ext_addr(MAX_ADDR));
        assert!(!is_ext_addr(1_600_000_000_000));
    }

    #[test]
    fn units_are_stored_as_4_8_0_lays_them_out() {
        let u = unit(7, 14);
        let b = u.to_bytes();
        assert_eq!(b.len(), 34);
        assert_eq!(&b[..2], &34i16.to_be_bytes());
        assert_eq!(&b[2..10], &7i64.to_be_bytes());
        assert_eq!(&b[18..20], &14i16.to_be_bytes());
        assert_eq!(CqExtUnit::from_bytes(&b), Some(u));
        assert_eq!(CqExtUnit::from_bytes(&(-1i16).to_be_bytes()), None);
    }

    #[test]
    fn full_files_get_the_end_mark_and_recovery_finds_the_end() {
        let dir = tempfile::tempdir().unwrap();
        // 100-byte files hold two 34-byte units (the third needs 34 of the 32 left - 4)
        let ext = ConsumeQueueExt::new(dir.path(), "T", 0, 100);
        let addrs: Vec<i64> = (0..5).map(|i| ext.put(&unit(i, 14)).unwrap()).collect();
        assert_eq!(undecorate(addrs[1]), 34);
        assert_eq!(
            undecorate(addrs[2]),
            100,
            "third unit opens the second file"
        );
        let raw = std::fs::read(dir.path().join("T/0/00000000000000000000")).unwrap();
        assert_eq!(&raw[68..70], &(-1i16).to_be_bytes());
        for (i, a) in addrs.iter().enumerate() {
            assert_eq!(ext.get(*a).unwrap().tags_code, i as i64);
        }
        drop(ext);
        let ext = ConsumeQueueExt::new(dir.path(), "T", 0, 100);
        {
            // SAFETY: nothing else touches the files of this test.
            let mut phase = unsafe { RecoveryPhase::begin() };
            ext.load(&mut phase).unwrap();
            ext.recover(&mut phase);
            assert_eq!(ext.mapped_file_queue().max_offset(), 200 + 34);
            ext.truncate_by_max_address(&mut phase, addrs[2]);
        }
        assert_eq!(ext.mapped_file_queue().max_offset(), 134);
        assert_eq!(ext.get(addrs[3]), None);
        assert_eq!(decorate(134), ext.put(&unit(9, 14)).unwrap());
        ext.truncate_by_min_address(addrs[2]);
        assert_eq!(
            ext.mapped_file_queue().file_count(),
            2,
            "file 0 ends at 100, not before"
        );
        ext.truncate_by_min_address(decorate(134));
        assert_eq!(ext.mapped_file_queue().file_count(), 1);
        assert_eq!(ext.get(addrs[2]).unwrap().tags_code, 2);
    }
}
