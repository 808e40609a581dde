//! The sparse indexes of a segment: the offset index (`.index`, 8-byte entries
//! `[relative offset u32][position u32]`) and the time index (`.timeindex`, 12-byte entries
//! `[timestamp i64][relative offset u32]`), big-endian like Kafka's.
//!
//! "Sparse" means one entry per `index.interval.bytes` of log, not one per record: a
//! lookup binary-searches the entries for the closest one at or before the target and
//! the segment scans the log from there. Offsets are stored relative to the segment's base
//! offset so that they fit four bytes.
//!
//! Kafka memory-maps its index files, preallocated to `segment.index.bytes` (10 MiB) and
//! trimmed when the segment rolls. We keep the entries in a `Vec` and append each new entry
//! to the file with a plain write: the same bytes on disk and the same binary search, without
//! the preallocation and trimming (an index is a few KiB per MiB of log).
//!
//! Book: Part V "RocketMQ vs Kafka: one log or many". Mirrors Kafka's `OffsetIndex`,
//! `TimeIndex` and their common parent `AbstractIndex`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{LogError, Result};

/// One fixed-size entry of an index file.
pub trait Entry: Copy {
    /// Bytes per entry on disk.
    const SIZE: usize;
    /// Appends the entry's `SIZE` big-endian bytes to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads an entry from the first `SIZE` bytes of `b` (the caller checks the length).
    fn decode(b: &[u8]) -> Self;
}

/// An offset-index entry: a record's offset relative to the segment base, and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetEntry {
    /// The record's offset minus the segment's base offset.
    pub relative_offset: u32,
    /// Byte position of the record in the segment's `.log` file.
    pub position: u32,
}

/// A time-index entry: the largest timestamp seen so far in the segment and the relative
/// offset of the record that carried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeEntry {
    /// The largest record timestamp up to this entry, in ms since the Unix epoch.
    pub timestamp: i64,
    /// Offset, minus the segment's base offset, of the record that carried `timestamp`.
    pub relative_offset: u32,
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

impl Entry for OffsetEntry {
    const SIZE: usize = 8;
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.relative_offset.to_be_bytes());
        out.extend_from_slice(&self.position.to_be_bytes());
    }
    fn decode(b: &[u8]) -> Self {
        OffsetEntry {
            relative_offset: u32_at(b, 0),
            position: u32_at(b, 4),
        }
    }
}

impl Entry for TimeEntry {
    const SIZE: usize = 12;
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.relative_offset.to_be_bytes());
    }
    fn decode(b: &[u8]) -> Self {
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&b[..8]);
        TimeEntry {
            timestamp: i64::from_be_bytes(ts),
            relative_offset: u32_at(b, 8),
        }
    }
}

/// An index file and its entries in memory.
#[derive(Debug)]
pub struct Index<E: Entry> {
    path: PathBuf,
    file: File,
    entries: Vec<E>,
    scratch: Vec<u8>,
}

/// The offset index of a segment.
pub type OffsetIndex = Index<OffsetEntry>;
/// The time index of a segment.
pub type TimeIndex = Index<TimeEntry>;

impl<E: Entry> Index<E> {
    /// Opens (or creates) an index file and loads its entries; a trailing partial entry
    /// (a torn write) is cut off.
    pub fn open(path: &Path) -> Result<Self> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(LogError::io("opening", path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(LogError::io("reading", path))?;
        let whole = bytes.len() / E::SIZE * E::SIZE;
        if whole != bytes.len() {
            file.set_len(whole as u64)
                .map_err(LogError::io("truncating", path))?;
        }
        let entries = bytes[..whole]
            .chunks_exact(E::SIZE)
            .map(E::decode)
            .collect();
        Ok(Index {
            path: path.to_path_buf(),
            file,
            entries,
            scratch: Vec::with_capacity(E::SIZE),
        })
    }

    /// Appends one entry to the file and to memory.
    pub fn append(&mut self, e: E) -> Result<()> {
        self.scratch.clear();
        e.encode(&mut self.scratch);
        let at = (self.entries.len() * E::SIZE) as u64;
        std::os::unix::fs::FileExt::write_all_at(&self.file, &self.scratch, at)
            .map_err(LogError::io("appending to", &self.path))?;
        self.entries.push(e);
        Ok(())
    }

    /// Drops every entry (recovery rebuilds the index from the log).
    pub fn reset(&mut self) -> Result<()> {
        self.entries.clear();
        self.file
            .set_len(0)
            .map_err(LogError::io("truncating", &self.path))
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[E] {
        &self.entries
    }

    /// The last entry, if any.
    pub fn last(&self) -> Option<E> {
        self.entries.last().copied()
    }

    /// Forces the file to disk.
    pub fn flush(&mut self) -> Result<()> {
        self.file
            .flush()
            .map_err(LogError::io("flushing", &self.path))?;
        self.file
            .sync_data()
            .map_err(LogError::io("syncing", &self.path))
    }

    /// The entry with the largest key for which `before(entry)` holds, found by binary search
    /// (entries are sorted by key and `before` must be true on a prefix of them).
    pub fn floor_by(&self, before: impl Fn(&E) -> bool) -> Option<E> {
        let n = self.entries.partition_point(before);
        n.checked_sub(1).map(|i| self.entries[i])
    }
}

impl OffsetIndex {
    // ANCHOR: offset_lookup
    /// Where to start scanning for `relative_offset`: the position of the last indexed record
    /// at or before it, or 0 (the segment's first record) when no entry is that early.
    pub fn lookup(&self, relative_offset: u32) -> u32 {
        self.floor_by(|e| e.relative_offset <= relative_offset)
            .map_or(0, |e| e.position)
    }
    // ANCHOR_END: offset_lookup
}

impl TimeIndex {
    /// The relative offset from which to scan for the first record with a timestamp at or after
    /// `timestamp`: the entry with the largest timestamp strictly before it (every record up to
    /// that entry's offset is older than `timestamp`), or 0.
    pub fn lookup(&self, timestamp: i64) -> u32 {
        self.floor_by(|e| e.timestamp < timestamp)
            .map_or(0, |e| e.relative_offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_reopen_and_a_torn_entry_is_dropped() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("00000000000000000000.index");
        let mut ix = OffsetIndex::open(&p).unwrap();
        for i in 0..5u32 {
            ix.append(OffsetEntry {
                relative_offset: i * 10,
                position: i * 4096,
            })
            .unwrap();
        }
        assert_eq!(ix.lookup(0), 0);
        assert_eq!(ix.lookup(9), 0);
        assert_eq!(ix.lookup(10), 4096);
        assert_eq!(ix.lookup(45), 4 * 4096);
        drop(ix);
        // A torn write leaves 3 bytes of a sixth entry.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(&[1, 2, 3]).unwrap();
        drop(f);
        let ix = OffsetIndex::open(&p).unwrap();
        assert_eq!(ix.entries().len(), 5);
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 40);
    }

    #[test]
    fn time_lookup_takes_the_last_entry_strictly_older() {
        let d = tempfile::tempdir().unwrap();
        let mut ix = TimeIndex::open(&d.path().join("0.timeindex")).unwrap();
        for (ts, rel) in [(100, 3), (200, 7), (300, 12)] {
            ix.append(TimeEntry {
                timestamp: ts,
                relative_offset: rel,
            })
            .unwrap();
        }
        assert_eq!(ix.lookup(50), 0);
        assert_eq!(ix.lookup(100), 0);
        assert_eq!(ix.lookup(101), 3);
        assert_eq!(ix.lookup(1000), 12);
    }
}
