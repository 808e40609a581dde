//! What replication needs from the store: the master reads raw commit-log bytes from a
//! physical offset, the slave appends them at exactly the same offset and lets the
//! dispatcher build its consume queues and index from them.
//!
//! The network side (HA port, offset reports, the SYNC_MASTER wait) lives in the broker
//! (`rmq_broker::ha`); the store only offers these byte-level calls. Book: Part IV, "Cluster
//! modes" (master/slave replication). Mirrors `DefaultMessageStore.getCommitLogData` and
//! `DefaultMessageStore.appendToCommitLog` (with `CommitLog.appendData`) of 4.8.0.

use crate::error::StoreError;
use crate::store::DefaultMessageStore;
use bytes::Bytes;

impl DefaultMessageStore {
    /// Up to `max_len` readable commit-log bytes starting at `from`, never crossing a file end
    /// (`getCommitLogData`, cut to `haTransferBatchSize` by the caller's `max_len`). `None`
    /// when nothing is readable there yet.
    pub fn commit_log_data(&self, from: i64, max_len: usize) -> Option<Bytes> {
        if self.is_shutdown() || from < 0 {
            return None;
        }
        // DLedger mode replicates through the DLedger member, not the HA service
        let (file, pos, len) = self.commit_log.local()?.get_data(from)?;
        if file.file_from_offset() as i64 + pos as i64 != from {
            // `from` is below the first file (deleted) and `get_data` fell back to it
            return None;
        }
        file.read_bytes(pos, len.min(max_len))
    }

    /// Appends bytes replicated from the master at physical offset `start_offset`, which must
    /// be this store's current end; wakes the dispatcher when they were written
    /// (`appendToCommitLog`). Returns whether they were written.
    pub fn append_to_commit_log(&self, start_offset: i64, data: &[u8]) -> Result<bool, StoreError> {
        if self.is_shutdown() {
            tracing::warn!("message store has been shut down, so appendToCommitLog is forbidden");
            return Ok(false);
        }
        let Some(log) = self.commit_log.local() else {
            tracing::warn!("appendToCommitLog in DLedger mode: the DLedger member replicates");
            return Ok(false);
        };
        let ok = log.append_data(start_offset, data)?;
        if ok {
            self.reput_waker.wakeup();
        } else {
            tracing::error!(
                start_offset,
                len = data.len(),
                max = self.commit_log.max_offset(),
                "appendToCommitLog: the bytes do not continue this commit log"
            );
        }
        Ok(ok)
    }
}
