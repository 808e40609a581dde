//! A directory of equally sized mapped files that together form one logical, ever-growing
//! byte space: the commit log, or one consume queue.
//!
//! The file holding logical offset `o` is the one named `o - o % size`; new files are added at
//! the tail when the last one is full, expired files are removed from the head. Book: Part I,
//! "CommitLog" (the queue of files) and "ConsumeQueue". Mirrors
//! `org.apache.rocketmq.store.MappedFileQueue`.

use crate::allocate::AllocateMappedFileService;
use crate::error::StoreError;
use crate::mapped_file::{MappedFile, RecoveryPhase, WriterId};
use crate::util::{file_name_to_offset, now_ms};
use parking_lot::RwLock;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

fn file_is_all_zero(path: &Path) -> bool {
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) if buf[..n].iter().all(|b| *b == 0) => {}
            _ => return false,
        }
    }
}

/// At most this many files are deleted per retention pass (`DELETE_FILES_BATCH_MAX`).
pub const DELETE_FILES_BATCH_MAX: usize = 10;

/// What truncation removed from one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruncatedFile {
    /// The file cut back or deleted.
    pub path: PathBuf,
    /// Queue offset where the dropped bytes began.
    pub from_offset: i64,
    /// Bytes of data dropped (up to the last non-zero byte).
    pub dropped_bytes: usize,
    /// The whole file was deleted.
    pub deleted: bool,
}

/// See the module docs.
pub struct MappedFileQueue {
    store_path: PathBuf,
    mapped_file_size: usize,
    files: RwLock<Vec<Arc<MappedFile>>>,
    flushed_where: AtomicI64,
    /// Store timestamp of the last flushed message (commit log), for the checkpoint.
    store_timestamp: AtomicI64,
    allocator: Option<Arc<AllocateMappedFileService>>,
    /// The write right every file of this queue is created for.
    writer: WriterId,
    /// Every file is advised `MADV_RANDOM` ([`MappedFile::advise_random`]).
    random_access: bool,
}

impl MappedFileQueue {
    /// A queue over `store_path` (nothing is mapped until `load`) whose files `writer`'s
    /// [`WriteRight`](crate::mapped_file::WriteRight) appends to; with an allocator, new files
    /// are created (and warmed) ahead by its thread.
    pub fn new(
        store_path: impl Into<PathBuf>,
        mapped_file_size: usize,
        allocator: Option<Arc<AllocateMappedFileService>>,
        writer: WriterId,
    ) -> Self {
        MappedFileQueue {
            store_path: store_path.into(),
            mapped_file_size,
            files: RwLock::new(Vec::new()),
            flushed_where: AtomicI64::new(0),
            store_timestamp: AtomicI64::new(0),
            allocator,
            writer,
            random_access: false,
        }
    }

    /// The same queue, its files advised for scattered access (consume queues): a page fault
    /// maps one page instead of a read-ahead window.
    pub fn with_random_access(mut self) -> Self {
        self.random_access = true;
        self
    }

    /// The directory of the files.
    pub fn store_path(&self) -> &Path {
        &self.store_path
    }
    /// The size of every file.
    pub fn mapped_file_size(&self) -> usize {
        self.mapped_file_size
    }

    /// Maps every file of the directory in name order (`load`); each counts as full until
    /// recovery finds its end. Foreign names are ignored; a file of the wrong size is an
    /// error, as in 4.8.0.
    pub fn load(&self, phase: &mut RecoveryPhase) -> Result<(), StoreError> {
        let rd = match std::fs::read_dir(&self.store_path) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io("read dir", &self.store_path, e)),
        };
        let mut names: Vec<(u64, PathBuf)> = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| StoreError::io("read dir", &self.store_path, e))?;
            let path = entry.path();
            if !path.is_file() {
                continue;
            }
            if let Some(off) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(file_name_to_offset)
            {
                names.push((off, path));
            } else {
                tracing::warn!(file = %path.display(), "ignoring a file that is not a mapped file");
            }
        }
        names.sort();
        self.pad_short_tail_file(&names)?;
        let mut files = self.files.write();
        for (_, path) in names {
            let f = MappedFile::open(&path, self.mapped_file_size, self.writer)?;
            if self.random_access {
                f.advise_random();
            }
            f.set_positions(phase, self.mapped_file_size);
            files.push(Arc::new(f));
        }
        Ok(())
    }

    /// A file shorter than the configured size that is the tail of the data (every later
    /// file is empty, e.g. only allocated ahead) was cut short by a crash: it is padded with
    /// zeros, which read as "no data", and recovery decides where valid data ends. A short file
    /// followed by data is left alone, so `open` fails with [`StoreError::FileSizeMismatch`]
    /// as in 4.8.0 (which refuses any short file).
    fn pad_short_tail_file(&self, names: &[(u64, PathBuf)]) -> Result<(), StoreError> {
        let size = self.mapped_file_size as u64;
        for (i, (_, path)) in names.iter().enumerate() {
            let len = std::fs::metadata(path)
                .map_err(|e| StoreError::io("stat", path, e))?
                .len();
            if len >= size {
                continue;
            }
            let later_empty = names[i + 1..].iter().all(|(_, p)| file_is_all_zero(p));
            if !later_empty {
                return Ok(());
            }
            tracing::warn!(file = %path.display(), len, expected = size,
                "mapped file at the tail is short (cut by a crash?); padding it with zeros");
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| StoreError::io("open", path, e))?;
            f.set_len(size)
                .map_err(|e| StoreError::io("set_len", path, e))?;
        }
        Ok(())
    }

    /// A snapshot of the files, oldest first.
    pub fn files(&self) -> Vec<Arc<MappedFile>> {
        self.files.read().clone()
    }
    /// How many files the queue holds.
    pub fn file_count(&self) -> usize {
        self.files.read().len()
    }
    /// The oldest file.
    pub fn first(&self) -> Option<Arc<MappedFile>> {
        self.files.read().first().cloned()
    }
    /// The newest file.
    pub fn last(&self) -> Option<Arc<MappedFile>> {
        self.files.read().last().cloned()
    }

    /// The file to append to: the last one unless it is full (or missing), in which case a new
    /// file is created; for an empty queue the first file starts at
    /// `start_offset - start_offset % size` (`getLastMappedFile(startOffset, true)`).
    pub fn last_or_create(&self, start_offset: u64) -> Result<Arc<MappedFile>, StoreError> {
        let size = self.mapped_file_size as u64;
        let create_offset = match self.last() {
            Some(last) if !last.is_full() => return Ok(last),
            Some(last) => last.file_from_offset() + size,
            None => start_offset - start_offset % size,
        };
        let f = match &self.allocator {
            Some(a) => a.request(
                &self.store_path,
                create_offset,
                create_offset + size,
                self.mapped_file_size,
                self.writer,
            )?,
            None => Arc::new(MappedFile::create(
                &self.store_path,
                create_offset,
                self.mapped_file_size,
                self.writer,
            )?),
        };
        if self.random_access {
            f.advise_random();
        }
        let mut files = self.files.write();
        if files.is_empty() {
            f.set_first_create_in_queue(true);
        }
        if let Some(last) = files.last() {
            if last.file_from_offset() >= create_offset {
                // someone else created it meanwhile; keep theirs
                return Ok(last.clone());
            }
        }
        files.push(f.clone());
        Ok(f)
    }

    /// The file containing `offset`; with `return_first_on_not_found`, the first file when no
    /// file does (`findMappedFileByOffset`).
    pub fn find_by_offset(
        &self,
        offset: i64,
        return_first_on_not_found: bool,
    ) -> Option<Arc<MappedFile>> {
        let files = self.files.read();
        let first = files.first()?;
        let last = files.last()?;
        let size = self.mapped_file_size as i64;
        if offset >= first.file_from_offset() as i64
            && offset < last.file_from_offset() as i64 + size
        {
            let idx = (offset / size - first.file_from_offset() as i64 / size) as usize;
            if let Some(f) = files.get(idx) {
                if offset >= f.file_from_offset() as i64
                    && offset < f.file_from_offset() as i64 + size
                {
                    return Some(f.clone());
                }
            }
            if let Some(f) = files.iter().find(|f| {
                offset >= f.file_from_offset() as i64 && offset < f.file_from_offset() as i64 + size
            }) {
                return Some(f.clone());
            }
        }
        if return_first_on_not_found {
            return Some(first.clone());
        }
        None
    }

    /// Offset of the first byte still stored (`getMinOffset`), or -1 when empty.
    pub fn min_offset(&self) -> i64 {
        self.first()
            .map(|f| f.file_from_offset() as i64)
            .unwrap_or(-1)
    }

    /// One past the last readable byte (`getMaxOffset`), 0 when empty.
    pub fn max_offset(&self) -> i64 {
        self.last()
            .map(|f| f.file_from_offset() as i64 + f.read_position() as i64)
            .unwrap_or(0)
    }

    /// One past the last written byte (`getMaxWrotePosition`).
    pub fn max_wrote_position(&self) -> i64 {
        self.last()
            .map(|f| f.file_from_offset() as i64 + f.wrote_position() as i64)
            .unwrap_or(0)
    }

    /// Queue offset up to which everything is flushed.
    pub fn flushed_where(&self) -> i64 {
        self.flushed_where.load(Ordering::Acquire)
    }
    /// Sets the flush point (after recovery).
    pub fn set_flushed_where(&self, v: i64) {
        self.flushed_where.store(v, Ordering::Release);
    }
    /// Store time of the last flushed message.
    pub fn store_timestamp(&self) -> i64 {
        self.store_timestamp.load(Ordering::Acquire)
    }

    /// Bytes written but not yet flushed.
    pub fn how_much_fall_behind(&self) -> i64 {
        (self.max_wrote_position() - self.flushed_where()).max(0)
    }

    /// Flushes the file holding the flush point (`flush(leastPages)`) and returns whether the
    /// flush point moved (4.8.0 returns the opposite). A full flush (`least_pages == 0`) also
    /// records the store time of the last message it covered, for the checkpoint.
    pub fn flush(&self, least_pages: usize) -> bool {
        let where_ = self.flushed_where();
        let Some(f) = self.find_by_offset(where_, where_ == 0) else {
            return false;
        };
        let ts = f.store_timestamp();
        let offset = f.flush(least_pages);
        let new_where = f.file_from_offset() as i64 + offset as i64;
        let progressed = new_where != where_;
        if new_where > where_ {
            self.set_flushed_where(new_where);
        }
        if least_pages == 0 && ts > 0 {
            self.store_timestamp.fetch_max(ts, Ordering::AcqRel);
        }
        progressed
    }

    /// Drops everything at or after `offset`: the file containing it is cut back (and its
    /// tail zeroed, so stale bytes cannot look like data after a later crash), later files are
    /// deleted (`truncateDirtyFiles`). Returns what was dropped, file by file.
    pub fn truncate_dirty_files(
        &self,
        phase: &mut RecoveryPhase,
        offset: i64,
    ) -> Vec<TruncatedFile> {
        let size = self.mapped_file_size as i64;
        let mut report = Vec::new();
        let mut files = self.files.write();
        files.retain(|f| {
            let from = f.file_from_offset() as i64;
            if from + size <= offset {
                return true;
            }
            if offset >= from {
                let pos = (offset - from) as usize;
                f.set_positions(phase, pos);
                let dropped = f.zero_tail_for_recovery(phase, pos);
                report.push(TruncatedFile {
                    path: f.path().to_path_buf(),
                    from_offset: offset,
                    dropped_bytes: dropped,
                    deleted: false,
                });
                true
            } else {
                report.push(TruncatedFile {
                    path: f.path().to_path_buf(),
                    from_offset: from,
                    dropped_bytes: f.data_extent_for_recovery(phase),
                    deleted: true,
                });
                f.destroy();
                false
            }
        });
        report
    }

    /// Deletes the files that end before `offset` (ConsumeQueueExt's `truncateByMinAddress`).
    pub fn delete_files_ending_before(&self, offset: i64) -> usize {
        let size = self.mapped_file_size as i64;
        let gone: Vec<u64> = self
            .files()
            .iter()
            .filter(|f| f.file_from_offset() as i64 + size < offset && f.destroy())
            .map(|f| f.file_from_offset())
            .collect();
        self.remove_from_list(&gone);
        gone.len()
    }

    /// Deletes the last file (used when a consume queue's last file holds no valid entry).
    pub fn delete_last(&self) {
        if let Some(f) = self.files.write().pop() {
            f.destroy();
        }
    }

    /// Deletes every file (a deleted topic).
    pub fn destroy(&self) {
        let files = std::mem::take(&mut *self.files.write());
        for f in files {
            f.destroy();
        }
        self.set_flushed_where(0);
        let _ = std::fs::remove_dir(&self.store_path);
    }

    /// Deletes files (never the last one) last modified more than `expired_ms` ago, or all
    /// but the last when `clean_immediately`; at most [`DELETE_FILES_BATCH_MAX`] per call,
    /// pausing `delete_interval_ms` between two (`deleteExpiredFileByTime`).
    pub fn delete_expired_by_time(
        &self,
        expired_ms: i64,
        delete_interval_ms: u64,
        clean_immediately: bool,
    ) -> usize {
        let files = self.files();
        let candidates = files.len().saturating_sub(1);
        let mut deleted = Vec::new();
        for (i, f) in files.iter().take(candidates).enumerate() {
            let live_until = f.last_modified_ms() + expired_ms;
            if !(now_ms() >= live_until || clean_immediately) {
                break;
            }
            if !f.destroy() {
                break;
            }
            deleted.push(f.file_from_offset());
            if deleted.len() >= DELETE_FILES_BATCH_MAX {
                break;
            }
            if delete_interval_ms > 0 && i + 1 < candidates {
                std::thread::sleep(std::time::Duration::from_millis(delete_interval_ms));
            }
        }
        self.remove_from_list(&deleted);
        deleted.len()
    }

    /// Deletes consume-queue files whose last entry points below `min_phy_offset`
    /// (`deleteExpiredFileByOffset`); `unit_size` is the entry size.
    pub fn delete_expired_by_offset(&self, min_phy_offset: i64, unit_size: usize) -> usize {
        let files = self.files();
        let mut deleted = Vec::new();
        for f in files.iter().take(files.len().saturating_sub(1)) {
            let last_entry = self.mapped_file_size - unit_size;
            let destroy = match f.slice(last_entry, 8) {
                Some(b) => {
                    let max_phy = i64::from_be_bytes(b.try_into().unwrap_or([0; 8]));
                    max_phy < min_phy_offset
                }
                None => !f.is_available(),
            };
            if destroy && f.destroy() {
                deleted.push(f.file_from_offset());
            } else {
                break;
            }
        }
        self.remove_from_list(&deleted);
        deleted.len()
    }

    fn remove_from_list(&self, offsets: &[u64]) {
        if offsets.is_empty() {
            return;
        }
        self.files
            .write()
            .retain(|f| !offsets.contains(&f.file_from_offset()));
    }

    /// Total mapped bytes.
    pub fn mapped_memory_size(&self) -> u64 {
        self.files.read().len() as u64 * self.mapped_file_size as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapped_file::WriteRight;

    fn phase() -> RecoveryPhase {
        // SAFETY: nothing else touches the files of these tests.
        unsafe { RecoveryPhase::begin() }
    }

    #[test]
    fn rolls_finds_truncates_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let mut right = WriteRight::new();
        let q = MappedFileQueue::new(dir.path(), 4096, None, right.id());
        q.load(&mut phase()).unwrap();
        assert_eq!(q.min_offset(), -1);
        assert_eq!(q.max_offset(), 0);
        for i in 0..3u8 {
            let f = q.last_or_create(0).unwrap();
            assert!(f.append_bytes(&mut right, &[i + 1; 4096]));
        }
        assert_eq!(q.file_count(), 3);
        assert!(q.first().unwrap().is_first_create_in_queue());
        assert_eq!(q.max_offset(), 3 * 4096);
        assert_eq!(
            q.find_by_offset(5000, false).unwrap().file_from_offset(),
            4096
        );
        assert!(q.find_by_offset(3 * 4096, false).is_none());
        assert_eq!(q.find_by_offset(99999, true).unwrap().file_from_offset(), 0);
        assert!(q.flush(0));
        assert_eq!(q.flushed_where(), 4096);
        while q.flush(0) {}
        assert_eq!(q.flushed_where(), 3 * 4096);

        let report = q.truncate_dirty_files(&mut phase(), 4096 + 100);
        assert_eq!(report.len(), 2);
        assert_eq!(report[0].dropped_bytes, 4096 - 100);
        assert!(report[1].deleted);
        assert_eq!(report[1].dropped_bytes, 4096);
        assert_eq!(q.file_count(), 2);
        assert_eq!(q.max_offset(), 4096 + 100);
        assert!(!dir.path().join("00000000000000008192").exists());

        let q2 = MappedFileQueue::new(dir.path(), 4096, None, right.id());
        let mut p = phase();
        q2.load(&mut p).unwrap();
        assert_eq!(q2.file_count(), 2);
        assert_eq!(q2.files()[1].whole_for_recovery(&p)[0], 2);
    }

    #[test]
    fn first_file_is_aligned_to_the_start_offset() {
        let dir = tempfile::tempdir().unwrap();
        let q = MappedFileQueue::new(dir.path(), 4000, None, WriteRight::new().id());
        let f = q.last_or_create(9000).unwrap();
        assert_eq!(f.file_from_offset(), 8000);
    }

    #[test]
    fn deletes_expired_files_but_never_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let mut right = WriteRight::new();
        let q = MappedFileQueue::new(dir.path(), 4096, None, right.id());
        for _ in 0..3 {
            let f = q.last_or_create(0).unwrap();
            f.append_bytes(&mut right, &[1; 4096]);
        }
        assert_eq!(q.delete_expired_by_time(3_600_000, 0, false), 0);
        assert_eq!(q.delete_expired_by_time(3_600_000, 0, true), 2);
        assert_eq!(q.file_count(), 1);
        assert_eq!(q.min_offset(), 8192);
    }

    #[test]
    fn deletes_consume_queue_files_below_min_physical_offset() {
        let dir = tempfile::tempdir().unwrap();
        let mut right = WriteRight::new();
        let q = MappedFileQueue::new(dir.path(), 40, None, right.id());
        for phy in [100i64, 200, 300, 400, 500] {
            let f = q.last_or_create(0).unwrap();
            let mut e = [0u8; 20];
            e[..8].copy_from_slice(&phy.to_be_bytes());
            e[8..12].copy_from_slice(&10i32.to_be_bytes());
            assert!(f.append_bytes(&mut right, &e));
        }
        assert_eq!(q.file_count(), 3);
        // file 0 ends with 200, file 1 with 400
        assert_eq!(q.delete_expired_by_offset(300, 20), 1);
        assert_eq!(q.min_offset(), 40);
    }

    #[test]
    fn wrong_file_size_is_an_error_except_a_short_tail_file() {
        let dir = tempfile::tempdir().unwrap();
        // a short file followed by data is a damaged middle file
        std::fs::write(dir.path().join("00000000000000000000"), [0u8; 100]).unwrap();
        std::fs::write(dir.path().join("00000000000000004096"), [1u8; 4096]).unwrap();
        let right = WriteRight::new();
        let q = MappedFileQueue::new(dir.path(), 4096, None, right.id());
        assert!(matches!(
            q.load(&mut phase()),
            Err(StoreError::FileSizeMismatch { .. })
        ));

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("00000000000000000000"), [0u8; 4096]).unwrap();
        std::fs::write(dir.path().join("00000000000000004096"), [9u8; 100]).unwrap();
        // an empty file allocated ahead does not make the short file a middle one
        std::fs::write(dir.path().join("00000000000000008192"), [0u8; 4096]).unwrap();
        let q = MappedFileQueue::new(dir.path(), 4096, None, right.id());
        let mut p = phase();
        q.load(&mut p).unwrap();
        assert_eq!(q.file_count(), 3);
        assert_eq!(q.files()[1].whole_for_recovery(&p)[99], 9);
        assert_eq!(q.files()[1].whole_for_recovery(&p)[100], 0);
    }
}
