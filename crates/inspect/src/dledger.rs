//! A DLedger store: with `enableDLegerCommitLog=true`, RocketMQ 4.8.0 keeps no `commitlog/`;
//! the DLedger member's data files are the commit log.
//!
//! ```text
//! dledger-<selfId>/data/<20-digit start>   entries back to back from byte 0:
//!   [int magic=1][int size=48+L][long index][long term][long pos][int channel]
//!   [int chainCrc][int bodyCrc][int bodySize=L]  then L bytes: one message record whose
//!   PHYSICALOFFSET is pos + 48 (its own position); a file that cannot take the next entry
//!   (size + 8 > bytes left) ends with [int -1][int bytesLeft]
//! dledger-<selfId>/index/<20-digit start>  entry i at byte i*32:
//!   [int magic][long pos][int size][long index][long term]
//! dledger-<selfId>/checkpoint              endIndex=.. committedIndex=..   (properties)
//! dledger-<selfId>/currterm                currTerm=.. voteLeader=..        (properties)
//! ```
//!
//! Every entry is checked the way DLedger 0.2.2's recovery checks it (magic, size, position,
//! consecutive index, non-decreasing term) and its record the way the commit log's records
//! are (layout, body CRC, PHYSICALOFFSET = pos + 48); each index record must repeat its
//! entry's header. The records go into the same [`CommitLog`] a classic store fills, so every
//! cross-check of `verify` (consume queues, index files, queue offsets) runs unchanged.
//! Book: Part IV "Cluster modes and DLedger" (the DLedger files are the commit log). Mirrors
//! `DLedgerMmapFileStore.recover`, `DLedgerEntryCoder` and `DLedgerCommitLog` (4.8.0).

use std::path::Path;

use rmq_common::message::MESSAGE_MAGIC_CODE;
use rmq_common::properties::parse_properties;

use crate::commitlog::{CommitLog, CommitLogFile};
use crate::error::InspectError;
use crate::files::{file_name, list_dirs, map_file, read_chain};
use crate::record::{be_i32, be_i64, body_crc, decode, raw_layout};
use crate::violation::{ViolationKind as K, Violations};

/// Bytes of an entry header (`DLedgerEntry.BODY_OFFSET`).
pub const HEADER: usize = 48;
/// Bytes of an index record (`INDEX_UNIT_SIZE`).
pub const INDEX_UNIT: usize = 32;
/// The blank at a data file's end (`MmapFileList.BLANK_MAGIC_CODE`).
pub const BLANK_MAGIC: i32 = -1;
/// Room an append leaves for the blank (`MmapFileList.MIN_BLANK_LEN`).
pub const MIN_BLANK_LEN: usize = 8;

/// One entry's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryHead {
    /// Its index in the log.
    pub index: i64,
    /// The term of the leader that appended it.
    pub term: i64,
    /// Its position in the data files.
    pub pos: i64,
    /// Header plus body.
    pub size: i32,
}

/// One data file.
#[derive(Debug, Clone)]
pub struct DataFile {
    /// Its name (the start offset).
    pub name: String,
    /// Its start offset.
    pub start: i64,
    /// Its length.
    pub size: u64,
    /// Entries in it.
    pub entries: usize,
    /// Bytes of entries from the file start.
    pub data_end: u64,
    /// Length of the blank at its end, if it has one.
    pub blank: Option<u64>,
}

/// What the DLedger directory holds.
#[derive(Debug, Clone, Default)]
pub struct DLedgerImage {
    /// The directory name, `dledger-<selfId>`.
    pub dir: String,
    /// The data files.
    pub files: Vec<DataFile>,
    /// Every entry, in order.
    pub entries: Vec<EntryHead>,
    /// Index records checked against their entries.
    pub index_records: usize,
    /// `endIndex` and `committedIndex` of `checkpoint`, when present.
    pub checkpoint: Option<(Option<i64>, Option<i64>)>,
    /// `currTerm` and `voteLeader` of `currterm`, when present.
    pub currterm: Option<(String, String)>,
}

impl DLedgerImage {
    /// Index of the last entry, -1 when there is none.
    pub fn end_index(&self) -> i64 {
        self.entries.last().map_or(-1, |e| e.index)
    }
}

/// The `dledger-*` directory under `root` that holds a `data/` directory, if any.
pub fn find(root: &Path) -> Result<Option<String>, InspectError> {
    Ok(list_dirs(root)?
        .into_iter()
        .map(|p| file_name(&p))
        .find(|n| n.starts_with("dledger-") && root.join(n).join("data").is_dir()))
}

/// Reads `root/dir` into `log` (files, records) and returns what else it holds.
pub fn read_dledger(
    root: &Path,
    dir: &str,
    log: &mut CommitLog,
    v: &mut Violations,
) -> Result<DLedgerImage, InspectError> {
    let base = root.join(dir);
    let mut image = DLedgerImage {
        dir: dir.to_string(),
        ..DLedgerImage::default()
    };
    for cf in read_chain(&base.join("data"), 1, v)? {
        let bytes = map_file(&cf.path)?;
        let place = format!("{dir}/data/{}", cf.name);
        let file = scan_data_file(&place, &cf.name, cf.start, &bytes, &mut image, log, v);
        log.files.push(CommitLogFile {
            name: file.name.clone(),
            start: file.start,
            size: file.size,
            records: file.entries,
            data_end: file.data_end,
            filler: file.blank,
        });
        image.files.push(file);
    }
    image.index_records = check_index(&base.join("index"), dir, &image.entries, v)?;
    image.checkpoint = read_props(&base.join("checkpoint")).map(|p| {
        let get = |k: &str| {
            p.iter()
                .find(|(pk, _)| pk == k)
                .and_then(|(_, v)| v.parse().ok())
        };
        (get("endIndex"), get("committedIndex"))
    });
    if let Some((_, Some(committed))) = image.checkpoint {
        if committed > image.end_index() {
            v.push(
                K::DLedgerCheckpoint,
                format!("{dir}/checkpoint"),
                format!(
                    "committedIndex {committed} but the data ends at entry {}",
                    image.end_index()
                ),
            );
        }
    }
    image.currterm = read_props(&base.join("currterm")).map(|p| {
        let get = |k: &str| {
            p.iter()
                .find(|(pk, _)| pk == k)
                .map_or(String::new(), |(_, v)| v.clone())
        };
        (get("currTerm"), get("voteLeader"))
    });
    Ok(image)
}

fn read_props(path: &Path) -> Option<Vec<(String, String)>> {
    std::fs::read_to_string(path)
        .ok()
        .map(|t| parse_properties(&t))
}

/// Walks one data file entry by entry.
fn scan_data_file(
    place: &str,
    name: &str,
    start: i64,
    buf: &[u8],
    image: &mut DLedgerImage,
    log: &mut CommitLog,
    v: &mut Violations,
) -> DataFile {
    let len = buf.len();
    let mut rel = 0usize;
    let mut entries = 0usize;
    let mut blank = None;
    // set when the walk stops at zeros (the end of the data) rather than at a problem
    let mut at_end = true;
    let at = |rel: usize| format!("{place} @{rel} (pos {})", start + rel as i64);
    while rel + MIN_BLANK_LEN <= len {
        let (Some(magic), Some(second)) = (be_i32(buf, rel), be_i32(buf, rel + 4)) else {
            break;
        };
        if magic == BLANK_MAGIC {
            let left = (len - rel) as i64;
            if i64::from(second) != left {
                v.push(
                    K::DLedgerEntry,
                    at(rel),
                    format!("blank says {second} bytes but {left} are left"),
                );
            }
            blank = Some(left as u64);
            break;
        }
        if magic == 0 && second == 0 {
            break; // the end of the written entries
        }
        at_end = false;
        let Some(h) = header(buf, rel) else {
            v.push(
                K::DLedgerEntry,
                at(rel),
                "an entry header is cut by the file end",
            );
            break;
        };
        let (size, body_size) = (h.size, be_i32(buf, rel + 44).unwrap_or(-1));
        let prev = image.entries.last().copied();
        let problem = if magic != 1 {
            Some(format!("magic {magic}, not 1"))
        } else if body_size < 0 || i64::from(size) != i64::from(body_size) + HEADER as i64 {
            Some(format!("size {size} is not bodySize {body_size} + 48"))
        } else if h.pos != start + rel as i64 {
            Some(format!("the header says pos {}", h.pos))
        } else if rel + size as usize > len {
            Some(format!("an entry of {size} bytes runs past the file end"))
        } else if prev.is_some_and(|p| h.index != p.index + 1) {
            Some(format!(
                "index {} after {}",
                h.index,
                prev.map_or(-1, |p| p.index)
            ))
        } else if prev.is_some_and(|p| h.term < p.term) {
            Some(format!(
                "term {} after {}",
                h.term,
                prev.map_or(-1, |p| p.term)
            ))
        } else {
            None
        };
        if let Some(why) = problem {
            v.push(K::DLedgerEntry, at(rel), why);
            break; // where the next entry starts cannot be known
        }
        image.entries.push(h);
        entries += 1;
        at_end = true;
        let body = &buf[rel + HEADER..rel + size as usize];
        check_record(&at(rel), h.pos + HEADER as i64, body, log, v);
        rel += size as usize;
        if rel < len && len - rel < MIN_BLANK_LEN {
            v.push(
                K::DLedgerEntry,
                at(rel),
                format!(
                    "an entry ends {} bytes before the file end; DLedger leaves at least {MIN_BLANK_LEN}",
                    len - rel
                ),
            );
            break;
        }
    }
    if at_end && blank.is_none() && buf[rel.min(len)..].iter().any(|&b| b != 0) {
        v.push(
            K::DLedgerEntry,
            at(rel),
            "non-zero bytes after the last entry",
        );
    }
    DataFile {
        name: name.to_string(),
        start,
        size: len as u64,
        entries,
        data_end: rel as u64,
        blank,
    }
}

fn header(buf: &[u8], rel: usize) -> Option<EntryHead> {
    if rel + HEADER > buf.len() {
        return None;
    }
    Some(EntryHead {
        size: be_i32(buf, rel + 4)?,
        index: be_i64(buf, rel + 8)?,
        term: be_i64(buf, rel + 16)?,
        pos: be_i64(buf, rel + 24)?,
    })
}

/// The body of an entry: one message record at `phy`.
fn check_record(place: &str, phy: i64, body: &[u8], log: &mut CommitLog, v: &mut Violations) {
    if body.is_empty() {
        v.push(
            K::DLedgerEntry,
            place,
            "an entry with an empty body: a 4.8.0 broker cannot dispatch past it",
        );
        return;
    }
    let magic = be_i32(body, 4).unwrap_or_default();
    if magic != MESSAGE_MAGIC_CODE {
        v.push(
            K::BadMagic,
            place,
            format!("the entry's body has magic {magic:#010x}, not a message record"),
        );
        return;
    }
    let total = be_i32(body, 0).unwrap_or_default();
    if total as usize != body.len() {
        v.push(
            K::BadTotalSize,
            place,
            format!("TOTALSIZE {total} in an entry body of {} bytes", body.len()),
        );
        return;
    }
    match raw_layout(body) {
        Some(layout) if layout.computed_size == body.len() => {
            let crc = body_crc(&body[layout.body.clone()]);
            let stored = be_i32(body, 8).unwrap_or_default();
            if crc != stored {
                v.push(
                    K::BodyCrc,
                    place,
                    format!("body CRC field {stored} but crc32(body) & 0x7FFFFFFF = {crc}"),
                );
            }
        }
        _ => {
            v.push(
                K::BadTotalSize,
                place,
                "the record's length fields do not add up to its TOTALSIZE",
            );
            return;
        }
    }
    match decode(body, phy) {
        Ok(rec) => {
            if rec.phy_field != phy {
                v.push(
                    K::PhysicalOffset,
                    place,
                    format!(
                        "PHYSICALOFFSET field is {} but the record is at {phy} (entry pos + 48)",
                        rec.phy_field
                    ),
                );
            }
            log.by_phy.insert(phy, log.records.len());
            log.records.push(rec);
        }
        Err(e) => v.push(K::Undecodable, place, e.to_string()),
    }
}

/// Checks that index record `i` repeats entry `i`'s header; returns how many were checked.
fn check_index(
    dir: &Path,
    name: &str,
    entries: &[EntryHead],
    v: &mut Violations,
) -> Result<usize, InspectError> {
    let chain = read_chain(dir, INDEX_UNIT as u64, v)?;
    let files: Vec<(i64, crate::files::FileBytes)> = chain
        .iter()
        .map(|cf| Ok((cf.start, map_file(&cf.path)?)))
        .collect::<Result<_, InspectError>>()?;
    let mut checked = 0;
    for e in entries {
        let at = e.index * INDEX_UNIT as i64;
        let place = format!("{name}/index record {}", e.index);
        let Some((start, bytes)) = files
            .iter()
            .find(|(s, b)| *s <= at && at < *s + b.len() as i64)
        else {
            v.push(K::DLedgerIndex, place, "no index file holds it");
            continue;
        };
        let rel = (at - start) as usize;
        let rec = (
            be_i32(bytes, rel),
            be_i64(bytes, rel + 4),
            be_i32(bytes, rel + 12),
            be_i64(bytes, rel + 16),
            be_i64(bytes, rel + 24),
        );
        let want = (
            Some(1),
            Some(e.pos),
            Some(e.size),
            Some(e.index),
            Some(e.term),
        );
        if rec != want {
            v.push(
                K::DLedgerIndex,
                place,
                format!("says (magic, pos, size, index, term) = {rec:?}, the entry has {want:?}"),
            );
        }
        checked += 1;
    }
    Ok(checked)
}
