//! Lab 2, reference solution. Built instead of src/lab.rs with `--features reference`.
//! Try the lab before reading this.

use crate::{commit_log_dir, file_name, queue_dir, CqEntry, Location, CQ_STORE_UNIT_SIZE};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

pub fn encode_entry(entry: &CqEntry) -> [u8; CQ_STORE_UNIT_SIZE] {
    let mut out = [0u8; CQ_STORE_UNIT_SIZE];
    let fields = [
        &entry.phy_offset.to_be_bytes()[..],
        &entry.size.to_be_bytes()[..],
        &entry.tags_code.to_be_bytes()[..],
    ];
    let mut at = 0;
    for f in fields {
        out[at..at + f.len()].copy_from_slice(f);
        at += f.len();
    }
    out
}

pub fn decode_entry(bytes: &[u8]) -> Option<CqEntry> {
    let b = bytes.get(..CQ_STORE_UNIT_SIZE)?;
    let (phy, rest) = b.split_at(8);
    let (size, tags) = rest.split_at(4);
    Some(CqEntry {
        phy_offset: i64::from_be_bytes(phy.try_into().ok()?),
        size: i32::from_be_bytes(size.try_into().ok()?),
        tags_code: i64::from_be_bytes(tags.try_into().ok()?),
    })
}

pub fn consume_queue_file_size(configured: u64) -> u64 {
    let unit = CQ_STORE_UNIT_SIZE as u64;
    configured.div_ceil(unit) * unit
}

pub fn locate(cq_offset: i64, file_size: u64) -> Option<Location> {
    let byte = u64::try_from(cq_offset)
        .ok()?
        .checked_mul(CQ_STORE_UNIT_SIZE as u64)?;
    let position = byte % file_size;
    Some(Location {
        file_from_offset: i64::try_from(byte - position).ok()?,
        position: position as usize,
    })
}

/// `len` bytes at `position` of the file `dir/name`, if they are all there.
fn read_at(dir: &Path, from_offset: i64, position: u64, len: usize) -> Option<Vec<u8>> {
    let mut file = File::open(dir.join(file_name(from_offset))).ok()?;
    file.seek(SeekFrom::Start(position)).ok()?;
    let mut buf = vec![0u8; len];
    file.read_exact(&mut buf).ok()?;
    Some(buf)
}

pub fn read_entry(queue_dir: &Path, cq_offset: i64, file_size: u64) -> Option<CqEntry> {
    let at = locate(cq_offset, file_size)?;
    let raw = read_at(
        queue_dir,
        at.file_from_offset,
        at.position as u64,
        CQ_STORE_UNIT_SIZE,
    )?;
    decode_entry(&raw).filter(|e| e.phy_offset >= 0 && e.size > 0)
}

pub fn read_message(
    store_root: &Path,
    topic: &str,
    queue_id: i32,
    cq_offset: i64,
    cq_file_size: u64,
    commit_log_file_size: u64,
) -> Option<Vec<u8>> {
    let entry = read_entry(
        &queue_dir(store_root, topic, queue_id),
        cq_offset,
        cq_file_size,
    )?;
    let phy = entry.phy_offset as u64;
    let position = phy % commit_log_file_size;
    read_at(
        &commit_log_dir(store_root),
        (phy - position) as i64,
        position,
        entry.size as usize,
    )
}
