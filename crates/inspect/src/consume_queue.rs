//! Consume queues: `consumequeue/<topic>/<queueId>/`, 20-byte entries that point into the
//! commit log, and the check that every entry points at the record it claims.
//!
//! Entry k of a queue lives at byte k × 20 across the queue's file chain and holds the
//! record's physical offset (i64), its TOTALSIZE (i32) and its tagsCode (i64): the Java
//! `String.hashCode` of its TAGS, or, in `SCHEDULE_TOPIC_XXXX`, the time the delayed message
//! is due. A queue whose first file was created for a non-zero offset starts with placeholder
//! entries `(0, Integer.MAX_VALUE, 0)`; the first entry with a negative offset or a size ≤ 0
//! ends the queue. Book: Part I "ConsumeQueue". Mirrors `ConsumeQueue.recover`,
//! `ConsumeQueue.fillPreBlank`, `CommitLog.checkMessageAndReturnSize` (tagsCode) and
//! `ScheduleMessageService.computeDeliverTimestamp`.

use std::path::Path;

use rmq_common::message::tags_code;

use crate::commitlog::CommitLog;
use crate::error::InspectError;
use crate::files::{file_name, list_dirs, map_file, read_chain};
use crate::record::{be_i32, be_i64, Record, SCHEDULE_TOPIC};
use crate::violation::{ViolationKind as K, Violations};

/// `ConsumeQueue.CQ_STORE_UNIT_SIZE`.
pub const CQ_STORE_UNIT_SIZE: usize = 20;

/// One valid entry, with the logical offset it sits at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CqEntry {
    /// The entry's logical offset: its index in the queue.
    pub offset: i64,
    /// The commit-log offset of the message the entry points to.
    pub phy: i64,
    /// The message record's size in bytes.
    pub size: i32,
    /// The tag hash, or in SCHEDULE_TOPIC_XXXX the delivery time in ms; with ConsumeQueueExt, an ext address.
    pub tags_code: i64,
}

/// One `consumequeue/<topic>/<queueId>/` directory.
#[derive(Debug, Clone)]
pub struct ConsumeQueue {
    /// The topic (the parent directory's name).
    pub topic: String,
    /// The queue id (the directory's name).
    pub queue_id: i32,
    /// The first file's length in bytes (`mappedFileSizeConsumeQueue`); 0 when there is no file.
    pub file_size: u64,
    /// (name, start byte offset) of each file.
    pub files: Vec<(String, i64)>,
    /// The valid entries, in logical-offset order.
    pub entries: Vec<CqEntry>,
    /// Leading `(0, Integer.MAX_VALUE, 0)` placeholders.
    pub placeholders: usize,
}

impl ConsumeQueue {
    /// One past the last valid entry's logical offset (the queue's max offset).
    pub fn max_offset(&self) -> i64 {
        match self.entries.last() {
            Some(e) => e.offset + 1,
            None => {
                self.files
                    .first()
                    .map_or(0, |(_, s)| s / CQ_STORE_UNIT_SIZE as i64)
                    + self.placeholders as i64
            }
        }
    }

    /// The entry at logical offset `offset`, if the queue holds it.
    pub fn entry(&self, offset: i64) -> Option<&CqEntry> {
        let first = self.entries.first()?.offset;
        let i = usize::try_from(offset - first).ok()?;
        self.entries.get(i)
    }
}

/// Reads every consume queue under `root` (the `consumequeue/` directory).
pub fn read_consume_queues(
    root: &Path,
    v: &mut Violations,
) -> Result<Vec<ConsumeQueue>, InspectError> {
    let mut out = Vec::new();
    for topic_dir in list_dirs(root)? {
        let topic = file_name(&topic_dir);
        for qdir in list_dirs(&topic_dir)? {
            let qname = file_name(&qdir);
            let Ok(queue_id) = qname.parse::<i32>() else {
                v.push(
                    K::CqFile,
                    qdir.display().to_string(),
                    "queue directory name is not a queue id",
                );
                continue;
            };
            out.push(read_queue(&qdir, topic.clone(), queue_id, v)?);
        }
    }
    Ok(out)
}

fn read_queue(
    dir: &Path,
    topic: String,
    queue_id: i32,
    v: &mut Violations,
) -> Result<ConsumeQueue, InspectError> {
    let chain = read_chain(dir, CQ_STORE_UNIT_SIZE as u64, v)?;
    let mut cq = ConsumeQueue {
        topic,
        queue_id,
        file_size: chain.first().map_or(0, |f| f.size),
        files: chain.iter().map(|f| (f.name.clone(), f.start)).collect(),
        entries: Vec::new(),
        placeholders: 0,
    };
    let mut ended: Option<i64> = None;
    for (fi, cf) in chain.iter().enumerate() {
        let bytes = map_file(&cf.path)?;
        let place =
            |pos: usize| format!("consumequeue/{}/{}/{} @{pos}", cq.topic, queue_id, cf.name);
        for pos in (0..bytes.len() / CQ_STORE_UNIT_SIZE).map(|i| i * CQ_STORE_UNIT_SIZE) {
            let offset = (cf.start + pos as i64) / CQ_STORE_UNIT_SIZE as i64;
            let (Some(phy), Some(size), Some(tags)) = (
                be_i64(&bytes, pos),
                be_i32(&bytes, pos + 8),
                be_i64(&bytes, pos + 12),
            ) else {
                break;
            };
            if let Some(end) = ended {
                if phy != 0 || size != 0 || tags != 0 {
                    v.push(
                        K::CqFile,
                        place(pos),
                        format!(
                            "entry data at offset {offset} after the queue ended at offset {end}"
                        ),
                    );
                    break;
                }
                continue;
            }
            if phy == 0 && size == i32::MAX && tags == 0 {
                if fi != 0 || !cq.entries.is_empty() {
                    v.push(
                        K::CqFile,
                        place(pos),
                        "placeholder entry (0, Integer.MAX_VALUE, 0) after real entries or outside the first file",
                    );
                }
                cq.placeholders += 1;
                continue;
            }
            if phy >= 0 && size > 0 {
                cq.entries.push(CqEntry {
                    offset,
                    phy,
                    size,
                    tags_code: tags,
                });
            } else {
                ended = Some(offset);
            }
        }
    }
    Ok(cq)
}

/// `messageDelayLevel`: level i (1-based) → delay in ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayLevels(pub Vec<i64>);

/// 4.8.0's default `messageDelayLevel`.
pub const DEFAULT_DELAY_LEVELS: &str = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

impl DelayLevels {
    /// Parses `"1s 5s 1m 2h 1d"` like `ScheduleMessageService.parseDelayLevel`.
    pub fn parse(text: &str) -> Option<DelayLevels> {
        let mut out = Vec::new();
        for item in text.split_whitespace() {
            // the unit is the last character, which need not be one byte ("5é")
            let unit_at = item.char_indices().last()?.0;
            let (num, unit) = item.split_at(unit_at);
            let mult = match unit {
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return None,
            };
            out.push(num.parse::<i64>().ok()?.checked_mul(mult)?);
        }
        Some(DelayLevels(out))
    }

    /// `computeDeliverTimestamp(level, storeTimestamp)`.
    pub fn deliver_at(&self, level: usize, store_timestamp: i64) -> i64 {
        match level.checked_sub(1).and_then(|i| self.0.get(i)) {
            Some(ms) => store_timestamp + ms,
            None => store_timestamp + 1000,
        }
    }
}

impl Default for DelayLevels {
    fn default() -> Self {
        DelayLevels::parse(DEFAULT_DELAY_LEVELS).unwrap_or(DelayLevels(Vec::new()))
    }
}

/// The tagsCode 4.8.0 writes for `rec`: the tag hash, except in `SCHEDULE_TOPIC_XXXX` with a
/// positive DELAY level, where it is the delivery time (level capped at the highest level).
pub fn expected_tags_code(rec: &Record, delays: &DelayLevels) -> i64 {
    let code = tags_code(rec.tags.as_deref());
    if rec.topic == SCHEDULE_TOPIC {
        if let Some(level) = rec
            .delay_level
            .as_deref()
            .and_then(|t| t.parse::<i64>().ok())
        {
            let level = level.min(delays.0.len() as i64);
            if level > 0 {
                return delays.deliver_at(level as usize, rec.store_timestamp);
            }
        }
    }
    code
}

/// What an entry turned out to point at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryCheck {
    /// It points at the record it claims.
    Ok,
    /// It points below the commit log's first file (deleted by retention): nothing to check.
    Expired,
    /// What is wrong with it (the first rule it breaks).
    Wrong(K, String),
}

/// Checks one consume-queue entry of `topic`/`queue_id` against the commit log: it must
/// point at the start of a record of that topic and queue, with that queue offset and
/// size, that 4.8.0 would dispatch, and carry the tagsCode that record's tags give.
pub fn check_entry(
    topic: &str,
    queue_id: i32,
    e: &CqEntry,
    log: &CommitLog,
    delays: &DelayLevels,
) -> EntryCheck {
    if e.phy < log.min_offset() {
        return EntryCheck::Expired;
    }
    let Some(rec) = log.record_at(e.phy) else {
        let why = format!("phy {} is not the start of any record", e.phy);
        return EntryCheck::Wrong(K::CqDangling, why);
    };
    let mut diffs = Vec::new();
    if rec.topic != topic {
        diffs.push(format!("topic {:?}", rec.topic));
    }
    if rec.queue_id != queue_id {
        diffs.push(format!("queue {}", rec.queue_id));
    }
    if rec.queue_offset != e.offset {
        diffs.push(format!("queue offset {}", rec.queue_offset));
    }
    if rec.size != e.size {
        diffs.push(format!("size {} (entry says {})", rec.size, e.size));
    }
    if !rec.dispatched_to_cq() {
        diffs.push(format!(
            "transaction type {:#x}, which is never dispatched",
            rec.tran_type()
        ));
    }
    if !diffs.is_empty() {
        let why = format!("record at {} has {}", e.phy, diffs.join(", "));
        return EntryCheck::Wrong(K::CqMismatch, why);
    }
    let expected = expected_tags_code(rec, delays);
    if expected != e.tags_code {
        let why = format!("tagsCode {} but the record gives {expected}", e.tags_code);
        return EntryCheck::Wrong(K::CqTagsCode, why);
    }
    EntryCheck::Ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_levels_parse_like_4_8_0_and_refuse_odd_input_without_panicking() {
        let d = DelayLevels::parse("1s 5m 2h 1d").expect("valid levels");
        assert_eq!(d.0, vec![1000, 300_000, 7_200_000, 86_400_000]);
        assert!(DelayLevels::parse("1s 5é").is_none(), "a multi-byte unit");
        assert!(
            DelayLevels::parse("99999999999999999d").is_none(),
            "overflow"
        );
        assert!(DelayLevels::parse("s").is_none(), "no number");
    }
}
