//! Commit-log recovery: find where valid data ends and cut the log there.
//!
//! Normal recovery (clean exit) re-checks the last three files; abnormal recovery (the
//! `abort` file survived) starts at the newest file whose first message is no newer than the
//! checkpoint and re-dispatches every valid record, so consume queues and the index catch up
//! with what the crash left. Book: Part I, "Crash recovery". Mirrors
//! `CommitLog.recoverNormally`/`recoverAbnormally` and `isMappedFileMatchedRecover` of 4.8.0.

use super::local::LocalCommitLog;
use super::RecoveryOutcome;
use crate::checkpoint::StoreCheckpoint;
use crate::mapped_file::{MappedFile, RecoveryPhase};
use crate::record::{check_record, CheckOptions, DispatchRequest, RecordCheck};

impl LocalCommitLog {
    // ANCHOR: recover
    /// Finds the end of valid data and cuts the log there. Normal recovery (clean exit) starts
    /// three files from the end; abnormal recovery starts at the newest file whose first
    /// message is no newer than the checkpoint and hands every valid record to `dispatch`, so
    /// the consume queues and the index are rebuilt. Whatever follows the last valid record
    /// is dropped, and each drop is logged with its file, offset and size.
    pub fn recover(
        &self,
        abnormal: bool,
        checkpoint: &StoreCheckpoint,
        index_safe: bool,
        phase: &mut RecoveryPhase,
        dispatch: &mut dyn FnMut(&DispatchRequest),
    ) -> RecoveryOutcome {
        let files = self.queue.files();
        if files.is_empty() {
            self.queue.set_flushed_where(0);
            return RecoveryOutcome {
                process_offset: 0,
                no_files: true,
            };
        }
        let opts = CheckOptions {
            check_crc: self.check_crc_on_recover,
            expected_offset: None,
            delay_levels_ms: &self.delay_levels_ms,
        };
        let mut index = if abnormal {
            let min_ts = if index_safe {
                checkpoint.min_timestamp_index()
            } else {
                checkpoint.min_timestamp()
            };
            files
                .iter()
                .rposition(|f| {
                    first_store_timestamp(f, phase, &opts)
                        .map(|t| t <= min_ts)
                        .unwrap_or(false)
                })
                .unwrap_or(0)
        } else {
            files.len().saturating_sub(3)
        };
        tracing::info!(abnormal, file = %files[index].path().display(), "commit log recovery starts");
        let mut pos = 0usize;
        let stop_reason;
        loop {
            let f = &files[index];
            let data = f.whole_for_recovery(phase);
            let at = f.file_from_offset() as i64 + pos as i64;
            let verdict = check_record(
                &data[pos..],
                &CheckOptions {
                    expected_offset: Some(at),
                    ..opts
                },
            );
            match verdict {
                RecordCheck::Message(req) => {
                    pos += req.msg_size as usize;
                    if abnormal {
                        dispatch(&req);
                    }
                }
                RecordCheck::EndOfFile => {
                    if index + 1 >= files.len() {
                        stop_reason = "END_OF_FILE blank in the last file".to_string();
                        break;
                    }
                    index += 1;
                    pos = 0;
                }
                RecordCheck::SizeMismatch { size, reason } => {
                    stop_reason = format!("record of size {size} is inconsistent: {reason}");
                    break;
                }
                RecordCheck::Invalid(reason) => {
                    stop_reason = reason;
                    break;
                }
            }
        }
        let process_offset = files[index].file_from_offset() as i64 + pos as i64;
        self.queue.set_flushed_where(process_offset);
        for t in self.queue.truncate_dirty_files(phase, process_offset) {
            if t.dropped_bytes > 0 {
                tracing::warn!(file = %t.path.display(), offset = t.from_offset, bytes = t.dropped_bytes,
                    deleted = t.deleted, reason = %stop_reason,
                    "commit log recovery dropped {} bytes at offset {} of {}", t.dropped_bytes, t.from_offset, t.path.display());
            }
        }
        tracing::info!(process_offset, "commit log recovered");
        RecoveryOutcome {
            process_offset,
            no_files: false,
        }
    }
    // ANCHOR_END: recover
}

/// Store time of a file's first message, `None` if the file does not start with a valid
/// record (`isMappedFileMatchedRecover`'s reading part).
///
/// 4.8.0 checks only the magic code before it trusts the timestamp. Here the whole first
/// record must pass the same check as the recovery scan (sizes, body CRC, PHYSICALOFFSET):
/// garbage in a first record's sysFlag moves where the store time is read from, and a
/// garbage time can make recovery start at that file, after the index files newer than the
/// checkpoint were deleted, so the keys of every intact message in earlier files would be
/// lost. With an untrusted first record the scan starts at an earlier file instead.
fn first_store_timestamp(
    f: &MappedFile,
    phase: &RecoveryPhase,
    opts: &CheckOptions<'_>,
) -> Option<i64> {
    let data = f.whole_for_recovery(phase);
    let first = CheckOptions {
        expected_offset: Some(f.file_from_offset() as i64),
        ..*opts
    };
    match check_record(data, &first) {
        RecordCheck::Message(req) if req.store_timestamp != 0 => Some(req.store_timestamp),
        _ => None,
    }
}
