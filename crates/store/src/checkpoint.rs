//! The `checkpoint` file: three store times that bound how far back crash recovery must look.
//!
//! Layout (one 4096-byte page, big-endian): `physicMsgTimestamp` i64 at 0 (last commit-log
//! message known flushed), `logicsMsgTimestamp` i64 at 8 (last message written into a consume
//! queue), `indexMsgTimestamp` i64 at 16 (end time of the last fully flushed index file); the
//! rest is zero. Book: Part I, "Crash recovery". Mirrors
//! `org.apache.rocketmq.store.StoreCheckpoint`.

use crate::error::StoreError;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};

/// Size of the checkpoint file (one OS page).
pub const CHECKPOINT_FILE_SIZE: usize = 4096;

/// See the module docs.
pub struct StoreCheckpoint {
    path: PathBuf,
    file: parking_lot::Mutex<File>,
    physic_msg_timestamp: AtomicI64,
    logics_msg_timestamp: AtomicI64,
    index_msg_timestamp: AtomicI64,
}

impl StoreCheckpoint {
    /// Opens (creating if needed) the checkpoint at `path` and reads its three times; a short
    /// or missing file reads as zeros.
    pub fn open(path: &Path) -> Result<StoreCheckpoint, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::io("create dir", dir, e))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| StoreError::io("open", path, e))?;
        let data = std::fs::read(path).map_err(|e| StoreError::io("read", path, e))?;
        let at = |i: usize| {
            data.get(i..i + 8)
                .and_then(|b| b.try_into().ok())
                .map(i64::from_be_bytes)
                .unwrap_or(0)
        };
        let cp = StoreCheckpoint {
            path: path.to_path_buf(),
            file: parking_lot::Mutex::new(file),
            physic_msg_timestamp: AtomicI64::new(at(0)),
            logics_msg_timestamp: AtomicI64::new(at(8)),
            index_msg_timestamp: AtomicI64::new(at(16)),
        };
        tracing::info!(
            physic = cp.physic_msg_timestamp(),
            logics = cp.logics_msg_timestamp(),
            index = cp.index_msg_timestamp(),
            "store checkpoint loaded"
        );
        Ok(cp)
    }

    /// Store time of the last message flushed to the commit log.
    pub fn physic_msg_timestamp(&self) -> i64 {
        self.physic_msg_timestamp.load(Ordering::Acquire)
    }
    /// Store time of the last entry written to a consume queue.
    pub fn logics_msg_timestamp(&self) -> i64 {
        self.logics_msg_timestamp.load(Ordering::Acquire)
    }
    /// Store time of the last message indexed.
    pub fn index_msg_timestamp(&self) -> i64 {
        self.index_msg_timestamp.load(Ordering::Acquire)
    }
    /// Records the store time of the last message flushed to the commit log.
    pub fn set_physic_msg_timestamp(&self, v: i64) {
        self.physic_msg_timestamp.store(v, Ordering::Release);
    }
    /// Records the store time of the last consume-queue entry written.
    pub fn set_logics_msg_timestamp(&self, v: i64) {
        self.logics_msg_timestamp.store(v, Ordering::Release);
    }
    /// Records the store time of the last message indexed.
    pub fn set_index_msg_timestamp(&self, v: i64) {
        self.index_msg_timestamp.store(v, Ordering::Release);
    }

    /// `min(physic, logics) - 3000`, floored at 0: abnormal recovery replays from the file
    /// whose first message is no newer than this (`getMinTimestamp`).
    pub fn min_timestamp(&self) -> i64 {
        let min = self.physic_msg_timestamp().min(self.logics_msg_timestamp());
        // the timestamps come from a file: never overflow on a damaged one
        min.saturating_sub(3000).max(0)
    }

    /// `min(min_timestamp, index)` for `messageIndexSafe` (`getMinTimestampIndex`).
    pub fn min_timestamp_index(&self) -> i64 {
        self.min_timestamp().min(self.index_msg_timestamp())
    }

    /// Writes the page and fsyncs it.
    pub fn flush(&self) -> Result<(), StoreError> {
        use std::io::{Seek, SeekFrom, Write};
        let mut page = [0u8; CHECKPOINT_FILE_SIZE];
        page[0..8].copy_from_slice(&self.physic_msg_timestamp().to_be_bytes());
        page[8..16].copy_from_slice(&self.logics_msg_timestamp().to_be_bytes());
        page[16..24].copy_from_slice(&self.index_msg_timestamp().to_be_bytes());
        let mut f = self.file.lock();
        let io = |e| StoreError::io("write", &self.path, e);
        f.seek(SeekFrom::Start(0)).map_err(io)?;
        f.write_all(&page).map_err(io)?;
        f.sync_data().map_err(io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoint");
        let cp = StoreCheckpoint::open(&path).unwrap();
        assert_eq!(cp.min_timestamp(), 0);
        cp.set_physic_msg_timestamp(1_600_000_010_000);
        cp.set_logics_msg_timestamp(1_600_000_005_000);
        cp.set_index_msg_timestamp(1_600_000_000_000);
        cp.flush().unwrap();
        let raw = std::fs::read(&path).unwrap();
        assert_eq!(raw.len(), 4096);
        assert_eq!(
            i64::from_be_bytes(raw[8..16].try_into().unwrap()),
            1_600_000_005_000
        );
        assert!(raw[24..].iter().all(|b| *b == 0));
        let again = StoreCheckpoint::open(&path).unwrap();
        assert_eq!(again.physic_msg_timestamp(), 1_600_000_010_000);
        assert_eq!(again.min_timestamp(), 1_600_000_002_000);
        assert_eq!(again.min_timestamp_index(), 1_600_000_000_000);
    }
}
