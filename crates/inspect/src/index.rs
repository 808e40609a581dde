//! Index files: `index/<yyyyMMddHHmmssSSS>`, a hash table on disk from `topic#key` to
//! commit-log offsets.
//!
//! Layout: a 40-byte header (begin/end store timestamp, begin/end physical offset,
//! hashSlotCount, indexCount), then `maxHashSlotNum` 4-byte slots, then `maxIndexNum` 20-byte
//! entries `(keyHash i32, phyOffset i64, timeDiff i32, prevIndex i32)`. A slot holds the
//! number of the newest entry whose hash falls into it; each entry links to the previous one
//! of the same slot, and 0 ends the chain. Entry 0 is never used, so indexCount starts at 1.
//! The header does not record the two capacities, so they are inferred from the file size
//! (4.8.0 defaults keep maxIndexNum = 4 × maxHashSlotNum) or given on the command line.
//! Book: Part I "IndexFile". Mirrors `IndexFile` (`putKey`, `selectPhyOffset`,
//! `indexKeyHashMethod`) and `IndexHeader`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rmq_common::message::java_string_hash;

use crate::commitlog::CommitLog;
use crate::error::InspectError;
use crate::files::{file_name, map_file, FileBytes};
use crate::record::{be_i32, be_i64};
use crate::violation::{ViolationKind as K, Violations};

/// `IndexHeader.INDEX_HEADER_SIZE`.
pub const INDEX_HEADER_SIZE: usize = 40;
/// Bytes per hash slot.
pub const HASH_SLOT_SIZE: usize = 4;
/// Bytes per index entry.
pub const INDEX_SIZE: usize = 20;

/// The two capacities an index file was created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexGeometry {
    /// `maxHashSlotNum`.
    pub slots: usize,
    /// `maxIndexNum`.
    pub max_index: usize,
}

impl IndexGeometry {
    /// The length in bytes of an index file with this geometry: header, slots and entries.
    pub fn file_size(&self) -> u64 {
        (INDEX_HEADER_SIZE + self.slots * HASH_SLOT_SIZE + self.max_index * INDEX_SIZE) as u64
    }

    /// The geometry of a `size`-byte file: from the given capacities (one is enough), or else
    /// assuming 4.8.0's ratio maxIndexNum = 4 × maxHashSlotNum.
    pub fn infer(
        size: u64,
        slots: Option<usize>,
        max_index: Option<usize>,
    ) -> Option<IndexGeometry> {
        let body = (size as usize).checked_sub(INDEX_HEADER_SIZE)?;
        let g = match (slots, max_index) {
            (Some(slots), Some(max_index)) => IndexGeometry { slots, max_index },
            (Some(slots), None) => {
                let rest = body.checked_sub(slots * HASH_SLOT_SIZE)?;
                IndexGeometry {
                    slots,
                    max_index: rest / INDEX_SIZE,
                }
            }
            (None, Some(max_index)) => {
                let rest = body.checked_sub(max_index * INDEX_SIZE)?;
                IndexGeometry {
                    slots: rest / HASH_SLOT_SIZE,
                    max_index,
                }
            }
            (None, None) => {
                let unit = HASH_SLOT_SIZE + 4 * INDEX_SIZE;
                IndexGeometry {
                    slots: body / unit,
                    max_index: 4 * (body / unit),
                }
            }
        };
        (g.slots > 0 && g.file_size() == size).then_some(g)
    }
}

/// The 40-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexHeader {
    /// Store timestamp of the first message indexed, in ms since the epoch (`beginTimestamp`).
    pub begin_timestamp: i64,
    /// Store timestamp of the last message indexed, in ms since the epoch (`endTimestamp`).
    pub end_timestamp: i64,
    /// Commit-log offset of the first message indexed (`beginPhyOffset`).
    pub begin_phy_offset: i64,
    /// Commit-log offset of the last message indexed (`endPhyOffset`).
    pub end_phy_offset: i64,
    /// How many hash slots the file has used (`hashSlotCount`).
    pub hash_slot_count: i32,
    /// How many entries the file holds, counting from 1 (`indexCount`).
    pub index_count: i32,
}

/// One 20-byte entry, with its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    /// The entry's number (its position in the entry area, from 1).
    pub number: i32,
    /// The key's hash ([`index_key_hash`]).
    pub key_hash: i32,
    /// Commit-log offset of the message the key belongs to.
    pub phy_offset: i64,
    /// The message's store time minus the header's begin timestamp, in seconds.
    pub time_diff: i32,
    /// The number of the previous entry in the same slot's chain, 0 at the chain's end.
    pub prev_index: i32,
}

/// The entries of one slot's chain, newest first, and why the walk stopped early if it did.
#[derive(Debug, Clone, Default)]
pub struct ChainWalk {
    /// The entries visited, newest first.
    pub entries: Vec<IndexEntry>,
    /// Why the walk stopped before the chain's end (a loop, an entry out of range), if it did.
    pub fault: Option<String>,
}

/// `IndexFile.indexKeyHashMethod`: `Math.abs(key.hashCode())`, and 0 for the one value
/// whose absolute value is still negative.
pub fn index_key_hash(key: &str) -> i32 {
    java_string_hash(key).checked_abs().unwrap_or(0)
}

/// One opened index file.
pub struct IndexFile {
    /// The file's full path.
    pub path: PathBuf,
    /// The file name (the creation time, `yyyyMMddHHmmssSSS`).
    pub name: String,
    /// The file's length in bytes.
    pub size: u64,
    /// The slot and entry capacities the file was created with.
    pub geometry: IndexGeometry,
    /// The 40-byte header as read.
    pub header: IndexHeader,
    bytes: FileBytes,
}

impl IndexFile {
    /// Opens `path`, inferring its geometry (see [`IndexGeometry::infer`]).
    pub fn open(
        path: &Path,
        slots: Option<usize>,
        max_index: Option<usize>,
    ) -> Result<IndexFile, InspectError> {
        let bytes = map_file(path)?;
        let size = bytes.len() as u64;
        let geometry = IndexGeometry::infer(size, slots, max_index).ok_or_else(|| {
            InspectError::IndexGeometry {
                path: path.to_path_buf(),
                size,
            }
        })?;
        let header = IndexHeader {
            begin_timestamp: be_i64(&bytes, 0).unwrap_or_default(),
            end_timestamp: be_i64(&bytes, 8).unwrap_or_default(),
            begin_phy_offset: be_i64(&bytes, 16).unwrap_or_default(),
            end_phy_offset: be_i64(&bytes, 24).unwrap_or_default(),
            hash_slot_count: be_i32(&bytes, 32).unwrap_or_default(),
            index_count: be_i32(&bytes, 36).unwrap_or_default(),
        };
        Ok(IndexFile {
            path: path.to_path_buf(),
            name: file_name(path),
            size,
            geometry,
            header,
            bytes,
        })
    }

    /// The value of slot `i` (0 = empty).
    pub fn slot(&self, i: usize) -> i32 {
        be_i32(&self.bytes, INDEX_HEADER_SIZE + i * HASH_SLOT_SIZE).unwrap_or_default()
    }

    /// The slot a key hash falls into.
    pub fn slot_of(&self, key_hash: i32) -> usize {
        key_hash.unsigned_abs() as usize % self.geometry.slots
    }

    /// Entry number `n`, if it lies inside the file.
    pub fn entry(&self, n: i32) -> Option<IndexEntry> {
        let n_us = usize::try_from(n)
            .ok()
            .filter(|&n| n < self.geometry.max_index)?;
        let pos = INDEX_HEADER_SIZE + self.geometry.slots * HASH_SLOT_SIZE + n_us * INDEX_SIZE;
        Some(IndexEntry {
            number: n,
            key_hash: be_i32(&self.bytes, pos)?,
            phy_offset: be_i64(&self.bytes, pos + 4)?,
            time_diff: be_i32(&self.bytes, pos + 12)?,
            prev_index: be_i32(&self.bytes, pos + 16)?,
        })
    }

    /// Number of non-empty slots.
    pub fn used_slots(&self) -> usize {
        (0..self.geometry.slots)
            .filter(|&i| self.slot(i) != 0)
            .count()
    }

    /// Follows slot `slot` from its newest entry through every prevIndex link. Entries are
    /// appended in number order, so a link must always go to a smaller number: that is what
    /// guarantees the walk ends, and a link that does not go back is reported as a fault.
    pub fn walk_chain(&self, slot: usize) -> ChainWalk {
        let mut walk = ChainWalk::default();
        let mut n = self.slot(slot);
        if n <= 0 {
            return walk;
        }
        if n >= self.header.index_count {
            walk.fault = Some(format!(
                "slot value {n} is not below indexCount {}",
                self.header.index_count
            ));
            return walk;
        }
        loop {
            let Some(entry) = self.entry(n) else {
                walk.fault = Some(format!("entry {n} lies outside the file"));
                return walk;
            };
            walk.entries.push(entry);
            let prev = entry.prev_index;
            if prev <= 0 {
                return walk; // 0 ends the chain
            }
            if prev >= n {
                walk.fault = Some(format!("entry {n} links to {prev}, which does not go back"));
                return walk;
            }
            n = prev;
        }
    }

    /// The entries of `key` (`topic#key`), newest first, as a lookup would find them.
    pub fn lookup(&self, key: &str) -> ChainWalk {
        let hash = index_key_hash(key);
        let mut walk = self.walk_chain(self.slot_of(hash));
        walk.entries.retain(|e| e.key_hash == hash);
        walk
    }

    /// Checks this file's header, every chain and every entry against the commit log, and
    /// adds each entry's `(phyOffset, keyHash)` to `indexed`.
    pub fn check(&self, log: &CommitLog, indexed: &mut HashSet<(i64, i32)>, v: &mut Violations) {
        let place = format!("index/{}", self.name);
        let h = self.header;
        let count = h.index_count;
        if count < 1 || count as usize > self.geometry.max_index {
            v.push(
                K::IndexHeader,
                &place,
                format!("indexCount {count} outside 1..={}", self.geometry.max_index),
            );
            return;
        }
        if count > 1
            && (h.begin_timestamp > h.end_timestamp || h.begin_phy_offset > h.end_phy_offset)
        {
            v.push(
                K::IndexHeader,
                &place,
                format!(
                    "begin after end: timestamps {}..{}, phy offsets {}..{}",
                    h.begin_timestamp, h.end_timestamp, h.begin_phy_offset, h.end_phy_offset
                ),
            );
        }
        let mut visited = vec![false; count as usize];
        let mut used = 0i64;
        for slot in 0..self.geometry.slots {
            if self.slot(slot) == 0 {
                continue;
            }
            used += 1;
            let walk = self.walk_chain(slot);
            if let Some(fault) = walk.fault {
                v.push(K::IndexChain, format!("{place} slot {slot}"), fault);
            }
            for e in &walk.entries {
                let seen = &mut visited[e.number as usize];
                if *seen {
                    v.push(
                        K::IndexChain,
                        format!("{place} entry {}", e.number),
                        "reached by two chains",
                    );
                    continue;
                }
                *seen = true;
                if e.key_hash < 0 || self.slot_of(e.key_hash) != slot {
                    v.push(
                        K::IndexChain,
                        format!("{place} entry {}", e.number),
                        format!("keyHash {} does not belong in slot {slot}", e.key_hash),
                    );
                }
                self.check_entry(e, log, &place, v);
                indexed.insert((e.phy_offset, e.key_hash));
            }
        }
        if used != i64::from(h.hash_slot_count) {
            v.push(
                K::IndexHeader,
                &place,
                format!(
                    "hashSlotCount {} but {used} slots are in use",
                    h.hash_slot_count
                ),
            );
        }
        let orphans: Vec<usize> = (1..count as usize).filter(|&n| !visited[n]).collect();
        if let Some(first) = orphans.first() {
            v.push(
                K::IndexChain,
                &place,
                format!(
                    "{} entries are in no slot's chain (first: entry {first})",
                    orphans.len()
                ),
            );
        }
    }

    fn check_entry(&self, e: &IndexEntry, log: &CommitLog, place: &str, v: &mut Violations) {
        let place = format!("{place} entry {}", e.number);
        let h = self.header;
        if e.phy_offset < h.begin_phy_offset || e.phy_offset > h.end_phy_offset {
            v.push(
                K::IndexEntry,
                &place,
                format!(
                    "phyOffset {} outside the header's {}..={}",
                    e.phy_offset, h.begin_phy_offset, h.end_phy_offset
                ),
            );
        }
        if e.phy_offset < log.min_offset() {
            return; // the record was deleted by retention
        }
        let Some(rec) = log.record_at(e.phy_offset) else {
            v.push(
                K::IndexEntry,
                place,
                format!("phyOffset {} is not the start of any record", e.phy_offset),
            );
            return;
        };
        if !rec
            .index_keys()
            .iter()
            .any(|k| index_key_hash(k) == e.key_hash)
        {
            v.push(
                K::IndexEntry,
                &place,
                format!(
                    "no indexed key of the record at {} hashes to {}",
                    e.phy_offset, e.key_hash
                ),
            );
        }
        // Entry 1 was written before beginTimestamp was set, so only later entries are exact.
        if e.number >= 2 && h.begin_timestamp > 0 {
            let diff =
                ((rec.store_timestamp - h.begin_timestamp) / 1000).clamp(0, i64::from(i32::MAX));
            if diff != i64::from(e.time_diff) {
                v.push(
                    K::IndexEntry,
                    &place,
                    format!(
                        "timeDiff {} but the record's store time gives {diff}",
                        e.time_diff
                    ),
                );
            }
        }
    }
}
