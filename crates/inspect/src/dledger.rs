//! DLedger mode's commit log: the data files of `dledger-<selfId>/data`, entry by entry, their
//! index files and the `checkpoint` text file.
//!
//! With `enableDLegerCommitLog=true`, 4.8.0's `DLedgerCommitLog` keeps its messages in the
//! DLedger files themselves. Each message record is the body of one entry:
//!
//! | bytes | field | rule checked here |
//! |---|---|---|
//! | 0–3 | magic | 1 (`DLedgerEntry.MAGIC_1`); −1 marks the rest of the file as blank |
//! | 4–7 | size | 48 + bodySize |
//! | 8–15 | index | the previous entry's index + 1 |
//! | 16–23 | term | never lower than the previous entry's |
//! | 24–31 | pos | the entry's own absolute position |
//! | 32–43 | channel, chainCrc, bodyCrc | not checked (0.2.2 writes 0) |
//! | 44–47 | bodySize | > 0: an empty entry cannot be dispatched by 4.8.0 |
//! | 48– | body | one message record whose PHYSICALOFFSET is `pos + 48` |
//!
//! Consume-queue and index entries point at `pos + 48`, so the records read here join the
//! same [`CommitLog`] as classic records and every cross-check of [`crate::verify`] applies
//! unchanged. An entry never ends closer than 8 bytes to its file's end
//! (`MmapFileList.preAppend`); when the next one would, the file ends with `[int −1][int bytes
//! left]`. Index record *i* (32 bytes: magic, pos, size, index, term) sits at byte `i × 32` of
//! the index chain. Only committed entries are dispatched, so records after the checkpoint's
//! `committedIndex` may lack consume-queue and index entries. Classic `commitlog/` files may
//! precede the DLedger files (a broker switched to DLedger mode), but only below the first
//! DLedger file's start (`dividedCommitlogOffset`).
//!
//! Book: Part IV "DLedger: Raft inside a broker group" (the files). Mirrors DLedger 0.2.2's
//! `DLedgerMmapFileStore.recover`, `MmapFileList.preAppend` and `DLedgerEntryCoder`, and
//! 4.8.0's `DLedgerCommitLog.checkMessageAndReturnSize`.

use std::path::Path;

use rmq_common::properties::parse_properties;

use crate::commitlog::{check_record, CommitLog, CommitLogFile};
use crate::error::InspectError;
use crate::files::{file_name, map_file, read_chain, ChainFile};
use crate::record::{be_i32, be_i64};
use crate::violation::{ViolationKind as K, Violations};

/// `DLedgerEntry.BODY_OFFSET`: the header in front of every body.
pub const ENTRY_HEADER_SIZE: usize = 48;
/// `DLedgerEntry.MAGIC_1`, the only magic 0.2.2 writes.
pub const ENTRY_MAGIC: i32 = 1;
/// `MmapFileList.BLANK_MAGIC_CODE`: the rest of the file is blank.
pub const BLANK_MAGIC: i32 = -1;
/// `MmapFileList.MIN_BLANK_LEN`: an entry leaves at least this much room for the blank marker.
pub const MIN_BLANK_LEN: usize = 8;
/// `DLedgerMmapFileStore.INDEX_UNIT_SIZE`.
pub const INDEX_UNIT_SIZE: usize = 32;

/// What the DLedger directory holds, besides the records added to the commit log.
#[derive(Debug, Clone, Default)]
pub struct DLedgerLog {
    /// `dledger-<selfId>`.
    pub dir: String,
    pub entries: usize,
    pub first_index: Option<i64>,
    pub last_index: Option<i64>,
    pub last_term: Option<i64>,
    /// Entries whose body is empty (4.8.0 cannot dispatch them).
    pub empty_entries: usize,
    /// Index records compared with their entries.
    pub index_records: usize,
    /// `endIndex` and `committedIndex` of the checkpoint file (written every 3 s and at a
    /// clean shutdown).
    pub end_index: Option<i64>,
    pub committed_index: Option<i64>,
    /// Start of the first data file: below it, records come from `commitlog/`.
    pub data_start: i64,
}

/// One entry's header, as the index must repeat it.
struct EntryHead {
    magic: i32,
    size: i32,
    index: i64,
    term: i64,
    pos: i64,
}

/// Reads `dir` (a `dledger-<selfId>` directory): every data file, the index records and the
/// checkpoint. Records go into `log`, after any classic ones already there.
pub fn read_dledger(
    dir: &Path,
    log: &mut CommitLog,
    v: &mut Violations,
) -> Result<DLedgerLog, InspectError> {
    let name = file_name(dir);
    let classic_end = log.files.last().map(|f| f.start + f.size as i64);
    let chain = read_chain(&dir.join("data"), 1, v)?;
    let mut info = DLedgerLog {
        dir: name.clone(),
        data_start: chain.first().map_or(0, |f| f.start),
        ..DLedgerLog::default()
    };
    if let (Some(end), Some(first)) = (classic_end, chain.first()) {
        if first.start < end {
            v.push(
                K::DLedgerLayout,
                format!("{name}/data/{}", first.name),
                format!(
                    "the DLedger data starts at {} but commitlog/ files reach {end}: the two \
                     logs overlap (4.8.0 starts the DLedger data where the old commit log ends)",
                    first.start
                ),
            );
        }
    }
    let mut heads = Vec::new();
    for cf in &chain {
        let bytes = map_file(&cf.path)?;
        let file = scan_data_file(&name, cf, &bytes, log, &mut heads, &mut info, v);
        log.files.push(file);
    }
    info.entries = heads.len();
    info.first_index = heads.first().map(|h| h.index);
    info.last_index = heads.last().map(|h| h.index);
    info.last_term = heads.last().map(|h| h.term);
    info.index_records = check_index(dir, &name, &heads, v)?;
    read_checkpoint(dir, &mut info)?;
    if let (Some(c), Some(last)) = (info.committed_index, info.last_index) {
        if c > last {
            v.push(
                K::DLedgerLayout,
                format!("{name}/checkpoint"),
                format!("committedIndex {c} but the data ends at entry {last}"),
            );
        }
        // Entries past the committed index are not dispatched yet.
        log.undispatched_from = heads
            .iter()
            .find(|h| h.index > c)
            .map(|h| h.pos + ENTRY_HEADER_SIZE as i64);
    }
    Ok(info)
}

/// Walks one data file; returns its summary (with `records` = entries holding a record).
fn scan_data_file(
    dir: &str,
    cf: &ChainFile,
    buf: &[u8],
    log: &mut CommitLog,
    heads: &mut Vec<EntryHead>,
    info: &mut DLedgerLog,
    v: &mut Violations,
) -> CommitLogFile {
    let len = buf.len();
    let start = cf.start;
    let place = |pos: usize| format!("{dir}/data/{} @{pos} (pos {})", cf.name, start + pos as i64);
    let mut pos = 0usize;
    let mut records = 0usize;
    let mut filler = None;
    loop {
        if pos + MIN_BLANK_LEN > len {
            if buf[pos..].iter().any(|&b| b != 0) {
                v.push(
                    K::DLedgerEntry,
                    place(pos),
                    "non-zero bytes in the last 8 bytes of the file",
                );
            }
            break;
        }
        let (Some(magic), Some(size)) = (be_i32(buf, pos), be_i32(buf, pos + 4)) else {
            break;
        };
        if magic == BLANK_MAGIC {
            let left = (len - pos) as i64;
            if i64::from(size) != left {
                v.push(
                    K::DLedgerEntry,
                    place(pos),
                    format!("blank marker says {size} bytes but {left} are left"),
                );
            }
            filler = Some(left as u64);
            break;
        }
        if magic == 0 && size == 0 {
            break; // the end of the written data
        }
        let Some(head) = entry_head(buf, pos) else {
            v.push(
                K::DLedgerEntry,
                place(pos),
                "the 48-byte header runs past the file end",
            );
            break;
        };
        let body_size = be_i32(buf, pos + 44).unwrap_or(-1);
        if head.magic != ENTRY_MAGIC {
            v.push(
                K::DLedgerEntry,
                place(pos),
                format!("magic {} is neither 1 nor the blank marker -1", head.magic),
            );
            break;
        }
        if body_size < 0 || head.size as i64 != body_size as i64 + ENTRY_HEADER_SIZE as i64 {
            v.push(
                K::DLedgerEntry,
                place(pos),
                format!("size {} is not 48 + bodySize {body_size}", head.size),
            );
            break;
        }
        if head.size as usize > len - pos {
            v.push(
                K::DLedgerEntry,
                place(pos),
                format!("size {} runs past the file end", head.size),
            );
            break;
        }
        let at = start + pos as i64;
        if head.pos != at {
            v.push(
                K::DLedgerEntry,
                place(pos),
                format!("pos field {} but the entry is at {at}", head.pos),
            );
        }
        if let Some(prev) = heads.last() {
            if head.index != prev.index + 1 {
                v.push(
                    K::DLedgerEntry,
                    place(pos),
                    format!("index {} follows index {}", head.index, prev.index),
                );
            }
            if head.term < prev.term {
                v.push(
                    K::DLedgerEntry,
                    place(pos),
                    format!("term {} after term {}", head.term, prev.term),
                );
            }
        }
        if body_size == 0 {
            info.empty_entries += 1;
            v.push(
                K::DLedgerEntry,
                place(pos),
                format!(
                    "entry {} has an empty body: 4.8.0's dispatcher reads a record at pos + 48 \
                     and cannot skip it",
                    head.index
                ),
            );
        } else {
            let body = &buf[pos + ENTRY_HEADER_SIZE..pos + head.size as usize];
            let total = be_i32(body, 0).unwrap_or(-1);
            if total != body_size {
                v.push(
                    K::BadTotalSize,
                    place(pos),
                    format!(
                        "the record's TOTALSIZE {total} is not the entry's bodySize {body_size}"
                    ),
                );
            } else {
                let decoded_before = log.records.len();
                let phy = at + ENTRY_HEADER_SIZE as i64;
                check_record(body, phy, &place(pos + ENTRY_HEADER_SIZE), log, v);
                records += log.records.len() - decoded_before;
            }
        }
        pos += head.size as usize;
        heads.push(head);
        if pos + MIN_BLANK_LEN > len {
            v.push(
                K::DLedgerEntry,
                place(pos),
                format!(
                    "entry ends {} bytes before the file end; DLedger leaves at least {MIN_BLANK_LEN}",
                    len - pos
                ),
            );
            break;
        }
    }
    CommitLogFile {
        name: format!("{dir}/data/{}", cf.name),
        start,
        size: len as u64,
        records,
        data_end: pos as u64,
        filler,
    }
}

fn entry_head(buf: &[u8], pos: usize) -> Option<EntryHead> {
    if pos + ENTRY_HEADER_SIZE > buf.len() {
        return None;
    }
    Some(EntryHead {
        magic: be_i32(buf, pos)?,
        size: be_i32(buf, pos + 4)?,
        index: be_i64(buf, pos + 8)?,
        term: be_i64(buf, pos + 16)?,
        pos: be_i64(buf, pos + 24)?,
    })
}

/// Compares index record i with entry i for every entry; returns how many were compared.
fn check_index(
    dir: &Path,
    name: &str,
    heads: &[EntryHead],
    v: &mut Violations,
) -> Result<usize, InspectError> {
    let chain = read_chain(&dir.join("index"), INDEX_UNIT_SIZE as u64, v)?;
    let mut files = Vec::new();
    for cf in &chain {
        files.push((cf.start, map_file(&cf.path)?));
    }
    let mut compared = 0;
    for h in heads {
        let at = h.index * INDEX_UNIT_SIZE as i64;
        let place = || format!("{name}/index entry {} (byte {at})", h.index);
        let found = files.iter().find_map(|(start, bytes)| {
            let off = usize::try_from(at - start).ok()?;
            bytes.get(off..off + INDEX_UNIT_SIZE)
        });
        let Some(rec) = found else {
            v.push(K::DLedgerIndex, place(), "no index record for this entry");
            continue;
        };
        compared += 1;
        let got = (
            be_i32(rec, 0).unwrap_or_default(),
            be_i64(rec, 4).unwrap_or_default(),
            be_i32(rec, 12).unwrap_or_default(),
            be_i64(rec, 16).unwrap_or_default(),
            be_i64(rec, 24).unwrap_or_default(),
        );
        let want = (h.magic, h.pos, h.size, h.index, h.term);
        if got != want {
            v.push(
                K::DLedgerIndex,
                place(),
                format!("(magic, pos, size, index, term) = {got:?} but the entry has {want:?}"),
            );
        }
    }
    Ok(compared)
}

/// `checkpoint`: Java properties text with `endIndex` and `committedIndex`.
fn read_checkpoint(dir: &Path, info: &mut DLedgerLog) -> Result<(), InspectError> {
    let path = dir.join("checkpoint");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(InspectError::io(&path, e)),
    };
    for (k, val) in parse_properties(&text) {
        let n = val.trim().parse().ok();
        match k.as_str() {
            "endIndex" => info.end_index = n,
            "committedIndex" => info.committed_index = n,
            _ => {}
        }
    }
    Ok(())
}
