//! The message store's part of recovery in DLedger mode: the DLedger member recovered its
//! files by their entry headers (DLedger 0.2.2 checks no body); here the bodies of the
//! entries that may not have reached the disk are checked to be whole message records. A
//! write torn inside a body leaves the header intact, and 0.2.2 (like 4.8.0's
//! `DLedgerCommitLog`) would keep the entry and serve its broken record; this store cuts the
//! member's log at the first such entry instead, before the member runs, and logs it. In a
//! group the leader sends the entries again; alone, the member had lost them with the torn
//! write.
//!
//! Which entries: those after the member's checkpoint (`endIndex`), which DLedger writes
//! only after a flush, so everything up to it was on disk; after a clean shutdown that is
//! none. Without a checkpoint, the entries of the last three data files, where 0.2.2's
//! recovery starts.
//! Book: Part IV "Cluster modes and DLedger" (recovery). Complements
//! `DLedgerMmapFileStore.recover` and `DLedgerCommitLog.recover` of 4.8.0.

use super::dispatch::{check_entry, EntryCheck};
use crate::error::StoreError;
use rmq_dledger::entry::BODY_OFFSET;
use rmq_dledger::store::DLedgerStore;

/// How many data files (from the last) have their records checked, as recovery does.
const FILES_CHECKED: usize = 3;

/// Cuts `ledger` at the first entry of its last data files whose body is not a whole
/// message record. Returns the position cut at, if any.
pub fn cut_damaged_tail(
    ledger: &mut DLedgerStore,
    delay_levels_ms: &[i64],
) -> Result<Option<i64>, StoreError> {
    let mut begin = ledger.data_view().begin_pos();
    // Entries up to the checkpoint's endIndex were on disk when it was written: check only
    // the later ones (none after a clean shutdown). A checkpoint the log does not hold
    // (older than its first entry) tells nothing; then the last files are checked.
    let checkpoint = ledger.checkpoint_end_index();
    if checkpoint >= 0 {
        match (
            ledger.entry_pos(checkpoint),
            ledger.entry_pos(checkpoint + 1),
        ) {
            (_, Some(next)) => begin = begin.max(next),
            (Some(_), None) => return Ok(None),
            (None, None) => {}
        }
    }
    let bad = {
        let files = ledger.written_data();
        let first = files.len().saturating_sub(FILES_CHECKED);
        let mut bad = None;
        'files: for (start, data) in &files[first..] {
            if start + data.len() as i64 <= begin {
                continue;
            }
            // the first file may begin with the middle of nothing (a follower's log that
            // starts at the leader's position)
            let mut rel = if begin > *start {
                (begin - start) as usize
            } else {
                0
            };
            while rel < data.len() {
                let pos = start + rel as i64;
                match check_entry(&data[rel..], pos, delay_levels_ms) {
                    EntryCheck::Message { size, .. } => rel += size,
                    EntryCheck::Empty => rel += BODY_OFFSET,
                    EntryCheck::Blank => continue 'files,
                    EntryCheck::SizeMismatch { reason, .. } | EntryCheck::Invalid(reason) => {
                        bad = Some((pos, reason));
                        break 'files;
                    }
                }
            }
        }
        bad
    };
    let Some((pos, reason)) = bad else {
        return Ok(None);
    };
    tracing::warn!(
        pos,
        %reason,
        "the DLedger entry at {pos} holds no whole message record (a torn write?); cutting the log there"
    );
    ledger
        .cut_at(pos)
        .map_err(|e| StoreError::Config(format!("cutting the DLedger log at {pos}: {e}")))?;
    Ok(Some(pos))
}
