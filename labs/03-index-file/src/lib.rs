//! Lab 3: the IndexFile.
//!
//! `mqadmin queryMsgByKey` finds messages by their KEYS through a hash table that lives in a
//! file: a 40-byte header, a table of int32 hash slots, then 20-byte entries
//! `(keyHash i32, phyOffset i64, timeDiff i32, prevIndex i32)`. A slot holds the number of the
//! newest entry whose key hashes there, and every entry links to the previous entry of the same
//! slot, so each slot is a linked list threaded through the entry area, newest first. This lab
//! is `IndexFile.putKey` and `IndexFile.selectPhyOffset` of 4.8.0, on the file's bytes.
//!
//! You edit `src/lab.rs`. The file layout helpers below are given. Book: Part I, "IndexFile"
//! (book/src/part1/indexfile.md, section "Lab"). Grade with `make labs LAB=03`.

use std::io;
use std::path::Path;

/// Java's `String.hashCode` (over UTF-16 code units), the start of every key hash.
pub use rmq_common::message::java_string_hash;

/// The header's fields (`IndexHeader`: begin/end timestamp, begin/end phyOffset,
/// hashSlotCount, indexCount) and the sizes of the file's three parts: the header (40 bytes),
/// a slot (4) and an entry (20). They are the store's own.
pub use rmq_store::index_file::{IndexHeader, HASH_SLOT_SIZE, INDEX_ENTRY_SIZE, INDEX_HEADER_SIZE};

/// A slot or prevIndex of 0 means "no entry" (`invalidIndex`).
pub const INVALID_INDEX: i32 = 0;

/// The key IndexService puts for a message key: `topic#key`.
pub fn build_key(topic: &str, key: &str) -> String {
    format!("{topic}#{key}")
}

/// One index file, in memory: all its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    /// Number of slots (`maxHashSlotNum`, 5 000 000 by default).
    pub hash_slot_num: u32,
    /// Number of entries the file has room for, entry 0 included (`maxIndexNum`, 20 000 000).
    pub index_num: u32,
    /// The file: header, slots, entries.
    pub bytes: Vec<u8>,
}

impl IndexFile {
    /// The size of a file with these capacities (420 000 040 bytes with the defaults).
    pub fn file_size(hash_slot_num: u32, index_num: u32) -> usize {
        rmq_store::index_file::index_file_size(hash_slot_num, index_num)
    }

    /// A new, empty file. As in 4.8.0, the previous file's end offset and end time (0 for the
    /// first file) become this one's begin and end values; the index count starts at 1.
    pub fn create(
        hash_slot_num: u32,
        index_num: u32,
        end_phy_offset: i64,
        end_timestamp: i64,
    ) -> IndexFile {
        let mut f = IndexFile {
            hash_slot_num,
            index_num,
            bytes: vec![0; IndexFile::file_size(hash_slot_num, index_num)],
        };
        let mut h = IndexHeader {
            index_count: 1,
            ..IndexHeader::default()
        };
        if end_phy_offset > 0 {
            h.begin_phy_offset = end_phy_offset;
            h.end_phy_offset = end_phy_offset;
        }
        if end_timestamp > 0 {
            h.begin_timestamp = end_timestamp;
            h.end_timestamp = end_timestamp;
        }
        f.set_header(&h);
        f
    }

    /// Reads a file written by [`IndexFile::save`] or by a broker.
    pub fn load(path: &Path, hash_slot_num: u32, index_num: u32) -> io::Result<IndexFile> {
        let bytes = std::fs::read(path)?;
        if bytes.len() != IndexFile::file_size(hash_slot_num, index_num) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} has {} bytes, not the size of {hash_slot_num} slots and {index_num} entries", path.display(), bytes.len()),
            ));
        }
        Ok(IndexFile {
            hash_slot_num,
            index_num,
            bytes,
        })
    }

    /// Writes the file to `path`.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        std::fs::write(path, &self.bytes)
    }

    /// The big-endian int32 at byte `pos`.
    pub fn get_i32(&self, pos: usize) -> i32 {
        i32::from_be_bytes(self.bytes[pos..pos + 4].try_into().expect("4 bytes"))
    }

    /// Writes `v` big-endian at byte `pos`.
    pub fn put_i32(&mut self, pos: usize, v: i32) {
        self.bytes[pos..pos + 4].copy_from_slice(&v.to_be_bytes());
    }

    /// The big-endian int64 at byte `pos`.
    pub fn get_i64(&self, pos: usize) -> i64 {
        i64::from_be_bytes(self.bytes[pos..pos + 8].try_into().expect("8 bytes"))
    }

    /// Writes `v` big-endian at byte `pos`.
    pub fn put_i64(&mut self, pos: usize, v: i64) {
        self.bytes[pos..pos + 8].copy_from_slice(&v.to_be_bytes());
    }

    /// The header as stored in the first 40 bytes.
    pub fn header(&self) -> IndexHeader {
        IndexHeader {
            begin_timestamp: self.get_i64(0),
            end_timestamp: self.get_i64(8),
            begin_phy_offset: self.get_i64(16),
            end_phy_offset: self.get_i64(24),
            hash_slot_count: self.get_i32(32),
            index_count: self.get_i32(36),
        }
    }

    /// Writes `h` into the first 40 bytes.
    pub fn set_header(&mut self, h: &IndexHeader) {
        self.put_i64(0, h.begin_timestamp);
        self.put_i64(8, h.end_timestamp);
        self.put_i64(16, h.begin_phy_offset);
        self.put_i64(24, h.end_phy_offset);
        self.put_i32(32, h.hash_slot_count);
        self.put_i32(36, h.index_count);
    }
}

#[cfg(not(feature = "reference"))]
mod lab;
#[cfg(feature = "reference")]
#[path = "../../solutions/03-index-file.rs"]
mod lab;

pub use lab::index_key_hash;
