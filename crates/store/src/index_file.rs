//! One index file: a hash table on disk from message keys to commit-log offsets.
//!
//! Layout (big-endian): a 40-byte header (beginTimestamp i64, endTimestamp i64,
//! beginPhyOffset i64, endPhyOffset i64, hashSlotCount i32, indexCount i32), then
//! `hashSlotNum` int32 slots, then `indexNum` 20-byte entries (keyHash i32, phyOffset i64,
//! timeDiff seconds i32, prevIndex i32). A slot holds the number of the newest entry in its
//! bucket; each entry points to the previous one, so a bucket is a linked list threaded
//! through the entry area, newest first. Entry 0 is never used (0 means "none").
//! Book: Part I, "IndexFile". Mirrors `org.apache.rocketmq.store.index.IndexFile` and
//! `IndexHeader`.

use crate::error::StoreError;
use crate::mapped_file::MappedFile;
use parking_lot::RwLock;
use rmq_common::message::java_string_hash;
use std::path::Path;

/// Header size.
pub const INDEX_HEADER_SIZE: usize = 40;
/// Bytes per hash slot.
pub const HASH_SLOT_SIZE: usize = 4;
/// Bytes per index entry.
pub const INDEX_ENTRY_SIZE: usize = 20;

/// The header fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexHeader {
    /// Store time of the first message indexed.
    pub begin_timestamp: i64,
    /// Store time of the last message indexed.
    pub end_timestamp: i64,
    /// Commit-log offset of the first message indexed.
    pub begin_phy_offset: i64,
    /// Commit-log offset of the last message indexed.
    pub end_phy_offset: i64,
    /// Slots in use.
    pub hash_slot_count: i32,
    /// Number of the next entry to write; starts at 1.
    pub index_count: i32,
}

impl IndexHeader {
    fn to_bytes(self) -> [u8; INDEX_HEADER_SIZE] {
        let mut b = [0u8; INDEX_HEADER_SIZE];
        b[0..8].copy_from_slice(&self.begin_timestamp.to_be_bytes());
        b[8..16].copy_from_slice(&self.end_timestamp.to_be_bytes());
        b[16..24].copy_from_slice(&self.begin_phy_offset.to_be_bytes());
        b[24..32].copy_from_slice(&self.end_phy_offset.to_be_bytes());
        b[32..36].copy_from_slice(&self.hash_slot_count.to_be_bytes());
        b[36..40].copy_from_slice(&self.index_count.to_be_bytes());
        b
    }

    fn from_bytes(b: &[u8; INDEX_HEADER_SIZE]) -> IndexHeader {
        let i64_at = |i: usize| i64::from_be_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        let i32_at = |i: usize| i32::from_be_bytes(b[i..i + 4].try_into().unwrap_or([0; 4]));
        IndexHeader {
            begin_timestamp: i64_at(0),
            end_timestamp: i64_at(8),
            begin_phy_offset: i64_at(16),
            end_phy_offset: i64_at(24),
            hash_slot_count: i32_at(32),
            index_count: i32_at(36).max(1),
        }
    }
}

/// `abs(javaHash(key))`, 0 for the one value whose absolute value overflows.
pub fn index_key_hash(key: &str) -> i32 {
    let h = java_string_hash(key).wrapping_abs();
    if h < 0 {
        0
    } else {
        h
    }
}

/// The size of an index file with these parameters (420 000 040 bytes by default).
pub fn index_file_size(hash_slot_num: u32, index_num: u32) -> usize {
    INDEX_HEADER_SIZE
        + hash_slot_num as usize * HASH_SLOT_SIZE
        + index_num as usize * INDEX_ENTRY_SIZE
}

/// See the module docs.
pub struct IndexFile {
    file: MappedFile,
    hash_slot_num: u32,
    index_num: u32,
    /// Guards every access to the mapping (the raw reads and writes below) and the header.
    header: RwLock<IndexHeader>,
}

impl IndexFile {
    /// Creates a new file; `end_phy_offset`/`end_timestamp` of the previous file seed both the
    /// begin and end values of the header, as 4.8.0 does.
    pub fn create(
        path: &Path,
        hash_slot_num: u32,
        index_num: u32,
        end_phy_offset: i64,
        end_timestamp: i64,
    ) -> Result<IndexFile, StoreError> {
        let size = index_file_size(hash_slot_num, index_num);
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io("create dir", dir, e))?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| StoreError::io("create", path, e))?;
        file.set_len(size as u64)
            .map_err(|e| StoreError::io("set_len", path, e))?;
        drop(file);
        let mapped = Self::map_any_name(path, size)?;
        let header = IndexHeader {
            begin_timestamp: end_timestamp.max(0),
            end_timestamp: end_timestamp.max(0),
            begin_phy_offset: end_phy_offset.max(0),
            end_phy_offset: end_phy_offset.max(0),
            hash_slot_count: 0,
            index_count: 1,
        };
        let f = IndexFile {
            file: mapped,
            hash_slot_num,
            index_num,
            header: RwLock::new(header),
        };
        f.write_header(&header);
        Ok(f)
    }

    /// Opens an existing index file (its size must match the parameters).
    pub fn open(path: &Path, hash_slot_num: u32, index_num: u32) -> Result<IndexFile, StoreError> {
        let size = index_file_size(hash_slot_num, index_num);
        let mapped = Self::map_any_name(path, size)?;
        let mut raw = [0u8; INDEX_HEADER_SIZE];
        // SAFETY: nobody else has this file yet.
        unsafe { mapped.raw_read(0, &mut raw) };
        Ok(IndexFile {
            file: mapped,
            hash_slot_num,
            index_num,
            header: RwLock::new(IndexHeader::from_bytes(&raw)),
        })
    }

    // Index files are named by time, not offset, so they bypass `MappedFile::open`'s name check.
    fn map_any_name(path: &Path, size: usize) -> Result<MappedFile, StoreError> {
        let len = std::fs::metadata(path)
            .map_err(|e| StoreError::io("stat", path, e))?
            .len();
        if len != size as u64 {
            return Err(StoreError::FileSizeMismatch {
                path: path.to_path_buf(),
                expected: size as u64,
                actual: len,
            });
        }
        let f = MappedFile::open_named(path, 0, size)?;
        // hash slots are written anywhere in the file: no read-ahead on their page faults
        f.advise_random();
        Ok(f)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }
    /// The header as it stands.
    pub fn header(&self) -> IndexHeader {
        *self.header.read()
    }
    /// Commit-log offset of the last message indexed.
    pub fn end_phy_offset(&self) -> i64 {
        self.header.read().end_phy_offset
    }
    /// Store time of the last message indexed.
    pub fn end_timestamp(&self) -> i64 {
        self.header.read().end_timestamp
    }
    /// Store time of the first message indexed.
    pub fn begin_timestamp(&self) -> i64 {
        self.header.read().begin_timestamp
    }
    /// No more entries fit (`isWriteFull`).
    pub fn is_write_full(&self) -> bool {
        self.header.read().index_count as u32 >= self.index_num
    }

    fn write_header(&self, h: &IndexHeader) {
        // SAFETY: callers hold the header write lock (or own the file exclusively).
        unsafe { self.file.raw_write(0, &h.to_bytes()) };
    }

    fn slot_pos(&self, key_hash: i32) -> usize {
        INDEX_HEADER_SIZE + (key_hash as u32 % self.hash_slot_num) as usize * HASH_SLOT_SIZE
    }

    fn entry_pos(&self, n: i32) -> usize {
        INDEX_HEADER_SIZE
            + self.hash_slot_num as usize * HASH_SLOT_SIZE
            + n as usize * INDEX_ENTRY_SIZE
    }

    fn read_i32(&self, pos: usize) -> i32 {
        let mut b = [0u8; 4];
        // SAFETY: callers hold the header lock (read or write), which guards the mapping.
        unsafe { self.file.raw_read(pos, &mut b) };
        i32::from_be_bytes(b)
    }

    // ANCHOR: index_put
    /// Adds `key -> phy_offset` stored at `store_timestamp`; false when the file is full
    /// (`putKey`). The new entry becomes the head of its bucket and points at the old head.
    pub fn put_key(&self, key: &str, phy_offset: i64, store_timestamp: i64) -> bool {
        let mut h = self.header.write();
        if h.index_count as u32 >= self.index_num {
            return false;
        }
        let key_hash = index_key_hash(key);
        let slot_pos = self.slot_pos(key_hash);
        let mut slot_value = self.read_i32(slot_pos);
        if slot_value <= 0 || slot_value > h.index_count {
            slot_value = 0;
        }
        let time_diff = if h.begin_timestamp <= 0 {
            0
        } else {
            ((store_timestamp - h.begin_timestamp) / 1000).clamp(0, i32::MAX as i64) as i32
        };
        let mut entry = [0u8; INDEX_ENTRY_SIZE];
        entry[0..4].copy_from_slice(&key_hash.to_be_bytes());
        entry[4..12].copy_from_slice(&phy_offset.to_be_bytes());
        entry[12..16].copy_from_slice(&time_diff.to_be_bytes());
        entry[16..20].copy_from_slice(&slot_value.to_be_bytes());
        // SAFETY: we hold the header write lock, which guards all access to the mapping.
        unsafe {
            self.file.raw_write(self.entry_pos(h.index_count), &entry);
            self.file.raw_write(slot_pos, &h.index_count.to_be_bytes());
        }
        if h.index_count <= 1 {
            h.begin_phy_offset = phy_offset;
            h.begin_timestamp = store_timestamp;
        }
        if slot_value == 0 {
            h.hash_slot_count += 1;
        }
        h.index_count += 1;
        h.end_phy_offset = phy_offset;
        h.end_timestamp = store_timestamp;
        self.write_header(&h);
        true
    }
    // ANCHOR_END: index_put

    /// Whether `[begin, end]` overlaps this file's time span (`isTimeMatched`).
    pub fn is_time_matched(&self, begin: i64, end: i64) -> bool {
        let h = self.header.read();
        (begin < h.begin_timestamp && end > h.end_timestamp)
            || (begin >= h.begin_timestamp && begin <= h.end_timestamp)
            || (end >= h.begin_timestamp && end <= h.end_timestamp)
    }

    // ANCHOR: index_query
    /// Collects up to `max_num` offsets of entries for `key` stored within `[begin, end]`
    /// (`selectPhyOffset`): start at the key's slot and follow the prev links, newest first,
    /// stopping at the chain's end, a broken link, or an entry older than `begin`.
    pub fn select_phy_offsets(
        &self,
        out: &mut Vec<i64>,
        key: &str,
        max_num: usize,
        begin: i64,
        end: i64,
    ) {
        let h = self.header.read();
        let key_hash = index_key_hash(key);
        let slot_value = self.read_i32(self.slot_pos(key_hash));
        if slot_value <= 0 || slot_value > h.index_count || h.index_count <= 1 {
            return;
        }
        let mut next = slot_value;
        loop {
            if out.len() >= max_num {
                break;
            }
            let mut e = [0u8; INDEX_ENTRY_SIZE];
            // SAFETY: we hold the header read lock; writers need the write lock.
            if !unsafe { self.file.raw_read(self.entry_pos(next), &mut e) } {
                break;
            }
            let hash_read = i32::from_be_bytes([e[0], e[1], e[2], e[3]]);
            let phy_read = i64::from_be_bytes(e[4..12].try_into().unwrap_or([0; 8]));
            let time_diff = i32::from_be_bytes([e[12], e[13], e[14], e[15]]);
            let prev = i32::from_be_bytes([e[16], e[17], e[18], e[19]]);
            if time_diff < 0 {
                break;
            }
            // header and entry come from the file: saturate rather than overflow
            let time_read = h.begin_timestamp.saturating_add(time_diff as i64 * 1000);
            if hash_read == key_hash && time_read >= begin && time_read <= end {
                out.push(phy_read);
            }
            if prev <= 0 || prev > h.index_count || prev == next || time_read < begin {
                break;
            }
            next = prev;
        }
    }
    // ANCHOR_END: index_query

    /// msyncs the whole file.
    pub fn flush(&self) {
        let _h = self.header.read();
        if let Err(e) = self.file.flush_all() {
            tracing::error!(file = %self.path().display(), error = %e, "index flush failed");
        }
    }

    /// Unlinks the file.
    pub fn destroy(&self) -> bool {
        self.file.destroy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_size_is_420000040() {
        assert_eq!(index_file_size(5_000_000, 20_000_000), 420_000_040);
    }

    #[test]
    fn key_hash_is_non_negative() {
        assert!(index_key_hash("TopicTest#KEY1") >= 0);
        // "polygenelubricants" hashes to i32::MIN in Java
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        assert_eq!(index_key_hash("polygenelubricants"), 0);
    }

    #[test]
    fn put_and_query_chains() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("20200901120000123");
        // 4 slots force collisions; room for 9 entries
        let f = IndexFile::create(&path, 4, 10, 0, 0).unwrap();
        let t0 = 1_600_000_000_000i64;
        for i in 0..9i64 {
            let key = format!("T#k{}", i % 3);
            assert!(f.put_key(&key, i * 100, t0 + i * 1000));
        }
        assert!(f.is_write_full());
        assert!(!f.put_key("T#k0", 999, t0));
        let h = f.header();
        assert_eq!(h.index_count, 10);
        assert_eq!(h.begin_timestamp, t0);
        assert_eq!(h.end_phy_offset, 800);
        let mut out = Vec::new();
        f.select_phy_offsets(&mut out, "T#k1", 10, 0, i64::MAX);
        assert_eq!(out, vec![700, 400, 100]);
        let mut out = Vec::new();
        f.select_phy_offsets(&mut out, "T#k1", 10, t0 + 2000, t0 + 5000);
        assert_eq!(out, vec![400]);
        let mut out = Vec::new();
        f.select_phy_offsets(&mut out, "T#k2", 1, 0, i64::MAX);
        assert_eq!(out, vec![800]);
        assert!(f.is_time_matched(t0 + 1, t0 + 2));
        assert!(!f.is_time_matched(t0 + 9_000, t0 + 10_000));

        // header bytes on disk
        f.flush();
        drop(f);
        let raw = std::fs::read(&path).unwrap();
        assert_eq!(raw.len(), index_file_size(4, 10));
        assert_eq!(i32::from_be_bytes(raw[36..40].try_into().unwrap()), 10);
        // entry 1 (the first written) is at 40 + 4*4 + 20
        let e1 = &raw[40 + 16 + 20..40 + 16 + 40];
        assert_eq!(i64::from_be_bytes(e1[4..12].try_into().unwrap()), 0);
        assert_eq!(i32::from_be_bytes(e1[16..20].try_into().unwrap()), 0);
        let g = IndexFile::open(&path, 4, 10).unwrap();
        assert_eq!(g.header(), h);
        let mut out = Vec::new();
        g.select_phy_offsets(&mut out, "T#k0", 10, 0, i64::MAX);
        assert_eq!(out, vec![600, 300, 0]);
    }
}
