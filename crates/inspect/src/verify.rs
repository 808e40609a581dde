//! `rmq-inspect verify`: every cross-file invariant of a 4.8.0 store, checked and listed.
//!
//! On top of what loading checks (file chains, record framing, CRCs, physical offsets, the
//! END_OF_FILE filler) this module checks that queue offsets run consecutively per
//! topic/queue in commit-log order, that every consume-queue entry points at its record and
//! every dispatched record has its entry, that every index chain resolves to records whose
//! keys hash to that slot, that every message key is in the index, and that the checkpoint
//! is not ahead of the data. Book: Part I "Storage files" (the checklist at the end of each
//! chapter). Mirrors the invariants `CommitLog`, `ConsumeQueue`, `IndexService` and
//! `StoreCheckpoint` rely on during recovery.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::checkpoint::check_checkpoint;
use crate::consume_queue::{check_entry, EntryCheck};
use crate::error::InspectError;
use crate::index::index_key_hash;
use crate::store::{Options, StoreImage};
use crate::violation::{Violation, ViolationKind as K, Violations};

/// What `verify` found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    /// Message records read from the commit log.
    pub messages: usize,
    /// Consume-queue entries checked.
    pub cq_entries: usize,
    /// Index entries checked.
    pub index_entries: usize,
    /// Every rule the store breaks, in the order found.
    pub violations: Vec<Violation>,
    /// Things worth knowing that are not violations (abort file present, unread directories).
    pub notes: Vec<String>,
}

impl VerifyReport {
    /// The closing line: `verified: N messages, M consume queue entries, K index entries, V violations`.
    pub fn summary(&self) -> String {
        format!(
            "verified: {} messages, {} consume queue entries, {} index entries, {} violations",
            self.messages,
            self.cq_entries,
            self.index_entries,
            self.violations.len()
        )
    }

    /// The kinds of the violations found, in order.
    pub fn kinds(&self) -> Vec<K> {
        self.violations.iter().map(|v| v.kind).collect()
    }
}

/// Loads and verifies the store at `root`.
pub fn verify_store(root: &Path, opts: &Options) -> Result<VerifyReport, InspectError> {
    let mut v = Violations::default();
    let image = StoreImage::load(root, opts, &mut v)?;
    let mut report = verify_image(&image, &mut v);
    report.violations = v.0;
    Ok(report)
}

/// Runs the cross-file checks on a loaded store.
pub fn verify_image(image: &StoreImage, v: &mut Violations) -> VerifyReport {
    let log = &image.commit_log;
    let mut report = VerifyReport {
        messages: log.records.len(),
        ..VerifyReport::default()
    };
    check_queue_offsets(image, v);
    report.cq_entries = check_consume_queues(image, v);
    report.index_entries = check_index(image, v);
    if let Some(cp) = &image.checkpoint {
        check_checkpoint(cp, log, v);
    } else if !log.records.is_empty() {
        report.notes.push("no checkpoint file".into());
    }
    if image.abort_present {
        report
            .notes
            .push("abort file present: the broker is running or did not shut down cleanly".into());
    }
    for d in &image.other_dirs {
        report.notes.push(format!("directory {d}/ not inspected"));
    }
    report.notes.extend(image.notes.iter().cloned());
    if let Some(d) = &image.dledger {
        report.notes.push(format!(
            "DLedger store: {}/data is the commit log ({} entries, {} index records checked)",
            d.dir,
            d.entries.len(),
            d.index_records
        ));
    }
    report
}

/// Per topic/queue, dispatched records carry queue offsets n, n+1, n+2, ... in commit-log
/// order, starting at 0 when the commit log still starts at offset 0.
fn check_queue_offsets(image: &StoreImage, v: &mut Violations) {
    let log = &image.commit_log;
    let mut next: HashMap<(&str, i32), i64> = HashMap::new();
    for rec in log.records.iter().filter(|r| r.dispatched_to_cq()) {
        let key = (rec.topic.as_str(), rec.queue_id);
        let expected = match next.get(&key) {
            Some(&n) => Some(n),
            None if log.min_offset() == 0 => Some(0),
            None => None,
        };
        if let Some(exp) = expected {
            if rec.queue_offset != exp {
                v.push(
                    K::QueueOffset,
                    format!("record at {}", rec.phy),
                    format!(
                        "{}/{} queue offset {} but {exp} was next",
                        rec.topic, rec.queue_id, rec.queue_offset
                    ),
                );
            }
        }
        next.insert(key, rec.queue_offset + 1);
    }
}

/// Every entry points at its record; every dispatched record has an entry. Returns the
/// number of entries checked.
fn check_consume_queues(image: &StoreImage, v: &mut Violations) -> usize {
    let log = &image.commit_log;
    let mut count = 0;
    let mut queues = HashMap::new();
    for cq in &image.consume_queues {
        queues.insert((cq.topic.as_str(), cq.queue_id), cq);
        for e in &cq.entries {
            count += 1;
            let Some(e) = crate::consume_queue_ext::resolved_entry(image, cq, e, v) else {
                continue;
            };
            if let EntryCheck::Wrong(kind, why) =
                check_entry(&cq.topic, cq.queue_id, &e, log, &image.delay_levels)
            {
                v.push(
                    kind,
                    format!(
                        "consumequeue/{}/{} offset {}",
                        cq.topic, cq.queue_id, e.offset
                    ),
                    why,
                );
            }
        }
    }
    for rec in log.records.iter().filter(|r| r.dispatched_to_cq()) {
        let place = || format!("record at {}", rec.phy);
        match queues.get(&(rec.topic.as_str(), rec.queue_id)) {
            None => v.push(
                K::CqMissing,
                place(),
                format!("no consume queue {}/{} for it", rec.topic, rec.queue_id),
            ),
            Some(cq) if cq.entry(rec.queue_offset).is_none() => v.push(
                K::CqMissing,
                place(),
                format!(
                    "consume queue {}/{} has no entry {}",
                    rec.topic, rec.queue_id, rec.queue_offset
                ),
            ),
            Some(_) => {}
        }
    }
    count
}

/// Every index file's chains; every key of every record the index covers is in it.
/// Returns the number of index entries.
fn check_index(image: &StoreImage, v: &mut Violations) -> usize {
    let log = &image.commit_log;
    let mut indexed = HashSet::new();
    let mut entries = 0;
    for f in &image.index_files {
        f.check(log, &mut indexed, v);
        entries += (f.header.index_count.max(1) - 1) as usize;
    }
    // The oldest index file begins where indexing began (older files were deleted).
    let covered_from = image
        .index_files
        .iter()
        .filter(|f| f.header.index_count > 1)
        .map(|f| f.header.begin_phy_offset)
        .min();
    let mut unindexed = 0usize;
    for rec in &log.records {
        if covered_from.is_some_and(|from| rec.phy < from) {
            continue;
        }
        for key in rec.index_keys() {
            if covered_from.is_none() {
                unindexed += 1;
                continue;
            }
            if !indexed.contains(&(rec.phy, index_key_hash(&key))) {
                v.push(
                    K::IndexMissing,
                    format!("record at {}", rec.phy),
                    format!("key {key:?} is not in the index"),
                );
            }
        }
    }
    if unindexed > 0 {
        v.push(
            K::IndexMissing,
            "index/",
            format!("no index entries at all, but the commit log has {unindexed} message keys"),
        );
    }
    entries
}
