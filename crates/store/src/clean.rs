//! Background upkeep: flushing consume queues (and the checkpoint), and deleting expired
//! files — commit-log files past `fileReservedTime` at the `deleteWhen` hour or when the disk
//! is fuller than `diskMaxUsedSpaceRatio`, then the consume-queue and index files that only
//! point below the commit log's new min offset.
//!
//! Book: Part I, "CommitLog" (retention) and "Crash recovery" (the checkpoint). Mirrors
//! `DefaultMessageStore.FlushConsumeQueueService`, `CleanCommitLogService` and
//! `CleanConsumeQueueService`.

use crate::commit_log::CommitLog;
use crate::running_flags::RunningFlags;
use crate::store::DefaultMessageStore;
use crate::util::now_ms;
use std::path::Path;
use std::sync::atomic::Ordering;

/// Above this used ratio the disk counts as full and puts are refused
/// (`rocketmq.broker.diskSpaceWarningLevelRatio`).
pub const DISK_SPACE_WARNING_LEVEL_RATIO: f64 = 0.90;
/// Above this used ratio files are deleted at once, ignoring their age
/// (`rocketmq.broker.diskSpaceCleanForciblyRatio`).
pub const DISK_SPACE_CLEAN_FORCIBLY_RATIO: f64 = 0.85;

/// Used fraction of the partition holding `path`, -1 if unknown
/// (`UtilAll.getDiskPartitionSpaceUsedPercent`).
pub fn disk_partition_space_used_percent(path: &Path) -> f64 {
    let _ = std::fs::create_dir_all(path);
    match (fs2::total_space(path), fs2::free_space(path)) {
        (Ok(total), Ok(free)) if total > 0 => (total.saturating_sub(free)) as f64 / total as f64,
        _ => -1.0,
    }
}

/// Whether the current local hour is one of `when` ("04", "01;13") (`UtilAll.isItTimeToDo`).
pub fn is_it_time_to_do(when: &str) -> bool {
    use chrono::Timelike;
    let hour = chrono::Local::now().hour() as i32;
    when.split(';')
        .filter_map(|w| w.trim().parse::<i32>().ok())
        .any(|h| h == hour)
}

/// Outcome of checking one partition.
struct SpaceCheck {
    over_max: bool,
    clean_immediately: bool,
}

fn check_space(path: &Path, max_ratio: f64, flags: &RunningFlags) -> SpaceCheck {
    let used = disk_partition_space_used_percent(path);
    let mut clean_immediately = false;
    if used > DISK_SPACE_WARNING_LEVEL_RATIO {
        if flags.get_and_make_disk_full() {
            tracing::error!(path = %path.display(), used, "disk maybe full soon, so mark disk full");
        }
        clean_immediately = true;
    } else if used > DISK_SPACE_CLEAN_FORCIBLY_RATIO {
        clean_immediately = true;
    } else if !flags.get_and_make_disk_ok() {
        tracing::info!(path = %path.display(), used, "disk space OK, so mark disk ok");
    }
    SpaceCheck {
        over_max: used < 0.0 || used > max_ratio,
        clean_immediately,
    }
}

impl DefaultMessageStore {
    /// Asks the retention thread to delete expired files on its next 20 rounds regardless of
    /// the hour (`executeDeleteFilesManually`).
    pub fn execute_delete_files_manually(&self) {
        self.manual_delete_times.store(20, Ordering::Release);
        self.clean_waker.wakeup();
    }

    /// Flushes the consume queues (all dirty pages every `flushConsumeQueueThoroughInterval`,
    /// or when `all`), then on full flushes the checkpoint (`FlushConsumeQueueService.doFlush`).
    pub(crate) fn flush_consume_queues(&self, all: bool) {
        let mut least = self.config.flush_consume_queue_least_pages as usize;
        let now = now_ms();
        let mut logics_ts = 0;
        let last = self.last_cq_thorough_flush.load(Ordering::Acquire);
        if all || now >= last + self.config.flush_consume_queue_thorough_interval_ms as i64 {
            self.last_cq_thorough_flush.store(now, Ordering::Release);
            least = 0;
            logics_ts = self.checkpoint.logics_msg_timestamp();
        }
        for cq in self
            .consume_queue_table
            .read()
            .values()
            .flat_map(|m| m.values())
        {
            cq.flush(least);
        }
        if least == 0 {
            if logics_ts > 0 {
                self.checkpoint.set_logics_msg_timestamp(logics_ts);
            }
            if let Err(e) = self.checkpoint.flush() {
                tracing::error!(error = %e, "checkpoint flush failed");
            }
        }
    }

    /// One retention round: commit-log files, then the queues and index behind them.
    pub(crate) fn clean_files(&self) {
        self.delete_expired_commit_log_files();
        self.delete_expired_consume_queue_files();
    }

    // ANCHOR: retention
    fn delete_expired_commit_log_files(&self) {
        let timeup = is_it_time_to_do(&self.config.delete_when);
        let max_ratio = self.config.disk_max_used_space_ratio as f64 / 100.0;
        // in DLedger mode the data files live under dledger-<selfId>/, and commitlog/ must
        // not be created (checking a path creates it)
        let physic_dir = match &self.commit_log {
            CommitLog::Local(_) => self.config.commit_log_dir(),
            CommitLog::DLedger(_) => self.config.store_path_root_dir.clone(),
        };
        let physic = check_space(&physic_dir, max_ratio, &self.running_flags);
        let logics = check_space(
            &self.config.consume_queue_dir(),
            max_ratio,
            &self.running_flags,
        );
        let space_full = physic.over_max || logics.over_max;
        let clean_immediately = physic.clean_immediately || logics.clean_immediately;
        let manual = self.manual_delete_times.load(Ordering::Acquire) > 0;
        if !(timeup || space_full || manual) {
            return;
        }
        if manual {
            self.manual_delete_times.fetch_sub(1, Ordering::AcqRel);
        }
        let clean_at_once = self.config.clean_file_forcibly_enable && clean_immediately;
        let reserved_ms = self.config.file_reserved_time_hours as i64 * 3_600_000;
        // DLedger 0.2.2 deletes its data files itself (CleanSpaceService); this member does
        // not, so in DLedger mode nothing is deleted here
        let deleted = match &self.commit_log {
            CommitLog::Local(log) => log.delete_expired_file(
                reserved_ms,
                self.config.delete_commit_log_files_interval_ms,
                clean_at_once,
            ),
            CommitLog::DLedger(_) => 0,
        };
        if deleted > 0 {
            tracing::info!(
                deleted,
                timeup,
                space_full,
                manual,
                clean_at_once,
                "deleted expired commit log files"
            );
        } else if space_full {
            tracing::warn!("disk space will be full soon, but delete file failed");
        }
    }

    /// Deletes consume-queue and index files that lie wholly below the commit log's min
    /// offset (`CleanConsumeQueueService.deleteExpiredFiles`).
    fn delete_expired_consume_queue_files(&self) {
        let min = self.commit_log.min_offset();
        if min <= self.last_physical_min_offset.load(Ordering::Acquire) {
            return;
        }
        self.last_physical_min_offset.store(min, Ordering::Release);
        let queues: Vec<_> = self
            .consume_queue_table
            .read()
            .values()
            .flat_map(|m| m.values().cloned())
            .collect();
        for cq in queues {
            if cq.delete_expired_file(min) > 0
                && self.config.delete_consume_queue_files_interval_ms > 0
            {
                std::thread::sleep(std::time::Duration::from_millis(
                    self.config.delete_consume_queue_files_interval_ms,
                ));
            }
        }
        self.index_service.delete_expired_file(min);
    }
    // ANCHOR_END: retention
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_ratio_is_a_fraction() {
        let dir = tempfile::tempdir().unwrap();
        let r = disk_partition_space_used_percent(dir.path());
        assert!((0.0..=1.0).contains(&r), "{r}");
    }

    #[test]
    fn delete_when_hours() {
        use chrono::Timelike;
        let h = chrono::Local::now().hour();
        assert!(is_it_time_to_do(&format!("{:02}", h)));
        assert!(is_it_time_to_do(&format!("99;{h}")));
        assert!(!is_it_time_to_do("99"));
        assert!(!is_it_time_to_do("x"));
    }
}
