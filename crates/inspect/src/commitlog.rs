//! The commit log: every file of `commitlog/`, walked record by record.
//!
//! A file holds records back to back from byte 0. A file the broker moved on from ends with
//! the END_OF_FILE filler: `[int bytesLeft][int 0xCBD43194]`, written when the next record
//! plus those 8 bytes would not fit. In the newest file, a zero TOTALSIZE and zero magic mark
//! the end of the data. Every record is checked: magic, TOTALSIZE against its own length
//! prefixes, body CRC, and the PHYSICALOFFSET field against the record's real position.
//! Book: Part I "CommitLog". Mirrors `CommitLog.checkMessageAndReturnSize`,
//! `CommitLog.recoverNormally` and `DefaultAppendMessageCallback.doAppend` (the filler rule).

use std::collections::HashMap;
use std::path::Path;

use rmq_common::message::{BLANK_MAGIC_CODE, MESSAGE_MAGIC_CODE};

use crate::error::InspectError;
use crate::files::{map_file, read_chain};
use crate::record::{be_i32, body_crc, decode, raw_layout, Record};
use crate::violation::{ViolationKind as K, Violations};

/// `CommitLog.END_FILE_MIN_BLANK_LENGTH`: a record never ends closer than this to the file end.
pub const END_FILE_MIN_BLANK_LENGTH: usize = 8;

/// What one commit-log file holds.
#[derive(Debug, Clone)]
pub struct CommitLogFile {
    /// The file name: its start offset as 20 digits.
    pub name: String,
    /// The file's first byte as a commit-log offset (parsed from the name).
    pub start: i64,
    /// The file's length in bytes.
    pub size: u64,
    /// How many message records the file holds.
    pub records: usize,
    /// Bytes of record data from the file start (where the filler or the unwritten tail begins).
    pub data_end: u64,
    /// Length of the END_OF_FILE filler, when the file has one.
    pub filler: Option<u64>,
}

/// The whole commit log.
#[derive(Debug, Default)]
pub struct CommitLog {
    /// The files in offset order.
    pub files: Vec<CommitLogFile>,
    /// Every record of every file, in offset order.
    pub records: Vec<Record>,
    /// Record index by physical offset.
    pub by_phy: HashMap<i64, usize>,
}

impl CommitLog {
    /// Offset of the first byte still on disk (the first file's start), 0 when empty.
    pub fn min_offset(&self) -> i64 {
        self.files.first().map_or(0, |f| f.start)
    }

    /// One past the last record byte.
    pub fn max_offset(&self) -> i64 {
        self.files.last().map_or(0, |f| f.start + f.data_end as i64)
    }

    /// The record that starts at commit-log offset `phy`, if one does.
    pub fn record_at(&self, phy: i64) -> Option<&Record> {
        self.by_phy.get(&phy).map(|&i| &self.records[i])
    }

    /// The newest store timestamp of any record, in ms since the epoch; `None` when there are no records.
    pub fn max_store_timestamp(&self) -> Option<i64> {
        self.records.iter().map(|r| r.store_timestamp).max()
    }
}

/// Reads `dir` (the `commitlog/` directory) and checks every record.
pub fn read_commit_log(dir: &Path, v: &mut Violations) -> Result<CommitLog, InspectError> {
    let chain = read_chain(dir, 1, v)?;
    let mut log = CommitLog::default();
    let mut open_ends = Vec::new();
    for cf in &chain {
        let bytes = map_file(&cf.path)?;
        let (file, end_reported) = scan_file(&cf.name, cf.start, &bytes, &mut log, v);
        open_ends.push(!end_reported && file.filler.is_none());
        log.files.push(file);
    }
    // Data may stop without a filler only in the newest file holding data: after it there
    // can be empty files (4.8.0 pre-allocates the next file, and a crash can leave it).
    let newest_with_data = log.files.iter().rposition(|f| f.data_end > 0);
    for (i, f) in log.files.iter().enumerate() {
        if open_ends[i] && newest_with_data.is_some_and(|n| i < n) {
            v.push(
                K::Filler,
                format!(
                    "commitlog/{} @{} (phy {})",
                    f.name,
                    f.data_end,
                    f.start + f.data_end as i64
                ),
                "the data stops here without the END_OF_FILE filler, but a later file holds data",
            );
        }
    }
    Ok(log)
}

fn scan_file(
    name: &str,
    start: i64,
    buf: &[u8],
    log: &mut CommitLog,
    v: &mut Violations,
) -> (CommitLogFile, bool) {
    let len = buf.len();
    let mut pos = 0usize;
    let mut records = 0usize;
    let mut filler = None;
    let mut end_reported = false;
    let place = |pos: usize| format!("commitlog/{name} @{pos} (phy {})", start + pos as i64);
    loop {
        if pos + END_FILE_MIN_BLANK_LENGTH > len {
            // Only the unwritten tail can be this short, and it must be zeros.
            if buf[pos..].iter().any(|&b| b != 0) {
                v.push(
                    K::Filler,
                    place(pos),
                    "non-zero bytes in the last 8 bytes of the file",
                );
            }
            break;
        }
        let (Some(total), Some(magic)) = (be_i32(buf, pos), be_i32(buf, pos + 4)) else {
            break;
        };
        if magic == BLANK_MAGIC_CODE {
            let left = (len - pos) as i64;
            if i64::from(total) != left {
                v.push(
                    K::Filler,
                    place(pos),
                    format!("END_OF_FILE filler says {total} bytes but {left} are left"),
                );
            }
            filler = Some(left as u64);
            break;
        }
        if magic == 0 && total == 0 {
            break; // end of the written data
        }
        let fits = total > 0 && (total as usize) <= len - pos;
        if magic != MESSAGE_MAGIC_CODE {
            v.push(
                K::BadMagic,
                place(pos),
                format!("magic {magic:#010x} is neither the message nor the blank magic"),
            );
            if !fits {
                break; // cannot tell where the next record would start
            }
        }
        if !fits {
            v.push(
                K::BadTotalSize,
                place(pos),
                format!(
                    "TOTALSIZE {total} does not fit in the {} bytes left",
                    len - pos
                ),
            );
            break;
        }
        let rec_buf = &buf[pos..pos + total as usize];
        let phy = start + pos as i64;
        match raw_layout(rec_buf) {
            Some(layout) if layout.computed_size == total as usize => {
                let crc = body_crc(&rec_buf[layout.body.clone()]);
                let stored = be_i32(rec_buf, 8).unwrap_or_default();
                if crc != stored {
                    v.push(
                        K::BodyCrc,
                        place(pos),
                        format!("body CRC field {stored} but crc32(body) & 0x7FFFFFFF = {crc}"),
                    );
                }
            }
            Some(layout) => {
                v.push(
                    K::BadTotalSize,
                    place(pos),
                    format!(
                        "TOTALSIZE {total} but the length fields add up to {}",
                        layout.computed_size
                    ),
                );
                break;
            }
            None => {
                v.push(
                    K::BadTotalSize,
                    place(pos),
                    format!("the length fields run past TOTALSIZE {total}"),
                );
                break;
            }
        }
        match decode(rec_buf, phy) {
            Ok(rec) => {
                if rec.phy_field != phy {
                    v.push(
                        K::PhysicalOffset,
                        place(pos),
                        format!(
                            "PHYSICALOFFSET field is {} but the record is at {phy}",
                            rec.phy_field
                        ),
                    );
                }
                log.by_phy.insert(phy, log.records.len());
                log.records.push(rec);
                records += 1;
            }
            Err(e) => {
                v.push(K::Undecodable, place(pos), e.to_string());
            }
        }
        pos += total as usize;
        if pos + END_FILE_MIN_BLANK_LENGTH > len {
            v.push(
                K::Filler,
                place(pos),
                format!(
                    "record ends {} bytes before the file end; 4.8.0 leaves at least {END_FILE_MIN_BLANK_LENGTH} for the filler",
                    len - pos
                ),
            );
            end_reported = true;
            break;
        }
    }
    let file = CommitLogFile {
        name: name.to_string(),
        start,
        size: len as u64,
        records,
        data_end: pos as u64,
        filler,
    };
    (file, end_reported)
}
