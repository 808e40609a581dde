//! A chain of equally sized memory-mapped files, each named by the 20-digit byte
//! offset where it starts, that together act as one long append-only byte space.
//!
//! DLedger keeps two such chains: entry data (1 GiB files, records may not cross a
//! file end, so a too-long record leaves a *blank* marker `[-1][remaining]` and goes
//! to the next file) and the index (files a multiple of 32 bytes, so records never
//! cross). Truncation removes later files and clears the tail of the file it lands in
//! (0.2.2 leaves stale bytes there; clearing them keeps a later recovery from reading
//! old records back).
//!
//! Each list also publishes its files (start offset and mapping) in a [`SharedFiles`]
//! that readers outside the store hold without its lock: the data list's is how the message
//! store reads committed entries in place (see `view.rs`). A mapping stays valid while any
//! reader holds it, even after its file was truncated away or deleted.
//! Book: Part IV "Cluster modes and DLedger" (the DLedger files). Mirrors
//! `store/file/MmapFileList.java` and `DefaultMmapFile.java` of DLedger 0.2.2.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::MmapRaw;
use parking_lot::RwLock;

use super::error::StoreError;
use crate::entry::{BLANK_MAGIC_CODE, MIN_BLANK_LEN};

/// The name of the file starting at `offset`: 20 digits, zero-padded.
pub fn file_name(offset: i64) -> String {
    format!("{offset:020}")
}

/// One mapped file.
pub struct MappedFile {
    /// Offset of the file's first byte in the list's byte space (= its name).
    pub start: i64,
    /// The file.
    pub path: PathBuf,
    /// Bytes written (valid) from the file start.
    pub wrote: i64,
    flushed: i64,
    /// The mapping, shared with readers that hold it without the store's lock. Only the
    /// list's owner writes it (through `&mut self`), and only at or after `wrote` or while
    /// cutting a tail back; readers outside read only bytes the owner no longer changes
    /// (committed entries, see `view.rs`).
    map: Arc<MmapRaw>,
    /// The open file, shared with flush jobs that sync it without holding the store.
    file: Arc<File>,
}

/// A published file: where it starts and its mapping.
#[derive(Clone)]
pub struct SharedFile {
    /// Offset of the file's first byte.
    pub start: i64,
    /// The file's path.
    pub path: Arc<Path>,
    pub(crate) map: Arc<MmapRaw>,
}

/// The files of a list as readers outside the store see them, updated by the list whenever
/// it adds, cuts or removes a file.
#[derive(Default)]
pub struct SharedFiles {
    files: RwLock<Vec<SharedFile>>,
}

impl SharedFiles {
    /// A snapshot of the files, oldest first.
    pub fn snapshot(&self) -> Vec<SharedFile> {
        self.files.read().clone()
    }

    /// The file holding `pos`, if any (files are equally sized and contiguous).
    pub fn find(&self, pos: i64, file_size: i64) -> Option<SharedFile> {
        if pos < 0 {
            return None;
        }
        let files = self.files.read();
        let first = files.first()?.start;
        let i = usize::try_from((pos - first).div_euclid(file_size)).ok()?;
        files
            .get(i)
            .filter(|f| f.start <= pos && pos < f.start + file_size)
            .cloned()
    }

    fn publish(&self, files: &[MappedFile]) {
        *self.files.write() = files
            .iter()
            .map(|f| SharedFile {
                start: f.start,
                path: Arc::from(f.path.as_path()),
                map: f.map.clone(),
            })
            .collect();
    }
}

/// Written bytes of one file waiting to reach the disk, taken under the store lock and
/// synced without it ([`MmapFileList::flush_jobs`], then [`MmapFileList::mark_flushed`]).
/// 0.2.2 flushes in its own thread (`FlushDataService`) for the same reason: an fsync can
/// take milliseconds, and appends, pushes and answers must not queue behind it.
pub struct FlushJob {
    /// The list's truncation epoch when the job was taken.
    epoch: u64,
    start: i64,
    upto: i64,
    path: PathBuf,
    file: Arc<File>,
}

impl FlushJob {
    /// Forces the file's dirty pages to disk. On Linux msync(MS_SYNC) is an fsync of the
    /// range, and fsync also writes back the pages dirtied through the shared mapping.
    pub fn sync(&self) -> Result<(), StoreError> {
        self.file
            .sync_data()
            .map_err(|e| StoreError::io(&self.path, e))
    }
}

impl MappedFile {
    fn open(path: PathBuf, start: i64, size: i64, create: bool) -> Result<MappedFile, StoreError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        if create {
            file.set_len(size as u64)
                .map_err(|e| StoreError::io(&path, e))?;
        }
        // The file is ours alone (one store per directory) and is never resized while
        // mapped; all access below is bounds-checked.
        let map = MmapRaw::map_raw(&file).map_err(|e| StoreError::io(&path, e))?;
        Ok(MappedFile {
            start,
            path,
            wrote: 0,
            flushed: 0,
            map: Arc::new(map),
            file: Arc::new(file),
        })
    }

    /// The whole mapped file.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` bytes and lives as long as `self`. The owner writes
        // only through `&mut self`, so not while this borrow lives; readers outside only read.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr(), self.map.len()) }
    }

    fn write_at(&mut self, rel: i64, data: &[u8]) {
        let a = rel as usize;
        assert!(a + data.len() <= self.map.len(), "write past the file end");
        // SAFETY: in bounds (checked above); `&mut self` excludes the owner's own slices, and
        // outside readers never read bytes at or past `wrote` (where appends go).
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.map.as_mut_ptr().add(a), data.len())
        };
    }

    fn zero(&mut self, from: i64, to: i64) {
        let (a, b) = (from.max(0) as usize, (to as usize).min(self.map.len()));
        if a < b {
            // SAFETY: in bounds; the range is a tail being cut, which outside readers (of
            // committed bytes only) never read.
            unsafe { std::ptr::write_bytes(self.map.as_mut_ptr().add(a), 0, b - a) };
        }
    }
}

/// A directory of mapped files forming one byte space.
pub struct MmapFileList {
    dir: PathBuf,
    file_size: i64,
    files: Vec<MappedFile>,
    /// Bumped by every truncation or reset, so flush jobs taken before one mark nothing.
    epoch: u64,
    /// The files as published to readers outside the store.
    shared: Arc<SharedFiles>,
}

impl MmapFileList {
    /// Opens (creating the directory) and maps every existing file; all count as
    /// full until recovery truncates (`MmapFileList.load`).
    pub fn open(dir: &Path, file_size: i64) -> Result<MmapFileList, StoreError> {
        if file_size <= MIN_BLANK_LEN {
            return Err(StoreError::Config(format!(
                "mapped file size {file_size} too small"
            )));
        }
        fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let mut names = Vec::new();
        for ent in fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))? {
            let ent = ent.map_err(|e| StoreError::io(dir, e))?;
            let path = ent.path();
            if !path.is_file() {
                continue;
            }
            let name = ent.file_name().to_string_lossy().to_string();
            if name.ends_with(".tmp") || name.ends_with(".bak") {
                continue;
            }
            let start: i64 = match name.parse() {
                Ok(v) if name.len() == 20 => v,
                _ => return Err(StoreError::FileName { path }),
            };
            names.push((start, path));
        }
        names.sort();
        let mut files: Vec<MappedFile> = Vec::new();
        for (start, path) in names {
            let len = fs::metadata(&path)
                .map_err(|e| StoreError::io(&path, e))?
                .len();
            if len != file_size as u64 {
                return Err(StoreError::FileSize {
                    path,
                    len,
                    expected: file_size as u64,
                });
            }
            if let Some(prev) = files.last() {
                if prev.start + file_size != start {
                    return Err(StoreError::Gap {
                        dir: dir.to_path_buf(),
                        prev: prev.start,
                        next: start,
                    });
                }
            }
            let mut f = MappedFile::open(path, start, file_size, false)?;
            f.wrote = file_size;
            f.flushed = file_size;
            files.push(f);
        }
        let shared = Arc::new(SharedFiles::default());
        shared.publish(&files);
        Ok(MmapFileList {
            dir: dir.to_path_buf(),
            file_size,
            files,
            epoch: 0,
            shared,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The size of every file.
    pub fn file_size(&self) -> i64 {
        self.file_size
    }
    /// The files, oldest first.
    pub fn files(&self) -> &[MappedFile] {
        &self.files
    }
    /// No file yet.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
    /// The files as readers outside the store see them.
    pub fn shared(&self) -> &Arc<SharedFiles> {
        &self.shared
    }

    /// First byte offset held (0 when empty).
    pub fn min_offset(&self) -> i64 {
        self.files.first().map(|f| f.start).unwrap_or(0)
    }

    /// End of the written bytes (`getMaxWrotePosition`).
    pub fn max_write_pos(&self) -> i64 {
        self.files.last().map(|f| f.start + f.wrote).unwrap_or(0)
    }

    fn new_file(&mut self, start: i64) -> Result<(), StoreError> {
        let path = self.dir.join(file_name(start));
        let f = MappedFile::open(path, start, self.file_size, true)?;
        self.files.push(f);
        self.shared.publish(&self.files);
        Ok(())
    }

    /// Where a record of `len` bytes will go, creating the next file (and writing a
    /// blank marker when `use_blank`) as needed (`preAppend`).
    pub fn pre_append(&mut self, len: i64, use_blank: bool) -> Result<i64, StoreError> {
        let blank = if use_blank { MIN_BLANK_LEN } else { 0 };
        if len + blank > self.file_size {
            return Err(StoreError::TooLarge(len));
        }
        let size = self.file_size;
        let need_new = match self.files.last() {
            None => true,
            Some(f) => f.wrote >= size,
        };
        if need_new {
            let start = self.files.last().map(|f| f.start + size).unwrap_or(0);
            self.new_file(start)?;
        }
        let Some(last) = self.files.last_mut() else {
            return Err(StoreError::Corrupt(
                "no mapped file after creating one".into(),
            ));
        };
        if len + blank > size - last.wrote {
            if !use_blank {
                return Err(StoreError::Corrupt(format!(
                    "{} bytes left in {} but record needs {len}",
                    size - last.wrote,
                    last.path.display()
                )));
            }
            let remaining = size - last.wrote;
            let mut marker = [0u8; 8];
            marker[..4].copy_from_slice(&BLANK_MAGIC_CODE.to_be_bytes());
            marker[4..].copy_from_slice(&(remaining as i32).to_be_bytes());
            let at = last.wrote;
            last.write_at(at, &marker);
            last.wrote = size;
            let start = last.start + size;
            self.new_file(start)?;
        }
        Ok(self.max_write_pos())
    }

    /// Appends `data` as one record; returns its position.
    pub fn append(&mut self, data: &[u8], use_blank: bool) -> Result<i64, StoreError> {
        let pos = self.pre_append(data.len() as i64, use_blank)?;
        let Some(last) = self.files.last_mut() else {
            return Err(StoreError::Corrupt("no mapped file to append to".into()));
        };
        let rel = pos - last.start;
        last.write_at(rel, data);
        last.wrote = rel + data.len() as i64;
        Ok(pos)
    }

    /// Copies `len` written bytes at `pos`.
    pub fn read(&self, pos: i64, len: i64) -> Result<Vec<u8>, StoreError> {
        let out_of_range = || StoreError::OutOfRange {
            dir: self.dir.clone(),
            pos,
            len,
        };
        let f = self.file_for(pos).ok_or_else(out_of_range)?;
        let rel = pos - f.start;
        if len < 0 || rel + len > f.wrote {
            return Err(out_of_range());
        }
        Ok(f.bytes()[rel as usize..(rel + len) as usize].to_vec())
    }

    fn file_for(&self, pos: i64) -> Option<&MappedFile> {
        if pos < 0 {
            return None;
        }
        let first = self.files.first()?.start;
        let i = ((pos - first) / self.file_size) as usize;
        self.files.get(i).filter(|f| f.start <= pos)
    }

    /// Cuts the byte space at `offset`: later files go, the file holding `offset`
    /// keeps its bytes before it and has the rest cleared (`truncateOffset`).
    pub fn truncate(&mut self, offset: i64) -> Result<(), StoreError> {
        // whatever this cuts or removes, flush jobs taken before it mark nothing
        self.epoch += 1;
        let size = self.file_size;
        while self.files.last().is_some_and(|f| f.start > offset) {
            if let Some(f) = self.files.pop() {
                self.shared.publish(&self.files);
                let path = f.path.clone();
                drop(f);
                fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
            }
        }
        if let Some(last) = self.files.last_mut() {
            if offset >= last.start && offset < last.start + size {
                let rel = offset - last.start;
                let old = last.wrote.max(rel);
                last.zero(rel, old);
                if old > rel {
                    last.map
                        .flush_range(rel as usize, (old - rel) as usize)
                        .map_err(|e| StoreError::io(&last.path, e))?;
                }
                last.wrote = rel;
                last.flushed = last.flushed.min(rel);
            }
        }
        Ok(())
    }

    /// Deletes every file and starts a fresh one so the next byte written lands at
    /// `pos` (`rebuildWithPos`).
    pub fn reset_to(&mut self, pos: i64) -> Result<(), StoreError> {
        self.epoch += 1;
        let old = std::mem::take(&mut self.files);
        self.shared.publish(&self.files);
        for f in old {
            let path = f.path.clone();
            drop(f);
            fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
        }
        let start = pos - pos.rem_euclid(self.file_size);
        self.new_file(start)?;
        if let Some(f) = self.files.last_mut() {
            f.wrote = pos - start;
        }
        Ok(())
    }

    /// What [`Self::flush`] would force, as jobs that run without `&mut self`.
    pub fn flush_jobs(&self) -> Vec<FlushJob> {
        self.files
            .iter()
            .filter(|f| f.flushed < f.wrote)
            .map(|f| FlushJob {
                epoch: self.epoch,
                start: f.start,
                upto: f.wrote,
                path: f.path.clone(),
                file: f.file.clone(),
            })
            .collect()
    }

    /// Records that `jobs` reached the disk. Jobs taken before a truncation or reset mark
    /// nothing: bytes written after the cut may sit below their `upto` without having been
    /// synced, so the next round syncs again.
    pub fn mark_flushed(&mut self, jobs: &[FlushJob]) {
        for j in jobs.iter().filter(|j| j.epoch == self.epoch) {
            if let Some(f) = self.files.iter_mut().find(|f| f.start == j.start) {
                f.flushed = f.flushed.max(j.upto.min(f.wrote));
            }
        }
    }

    /// Forces written bytes to disk, in place: the periodic flush's jobs run right here.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        let jobs = self.flush_jobs();
        for j in &jobs {
            j.sync()?;
        }
        self.mark_flushed(&jobs);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flush_jobs_cover_unflushed_bytes_and_respect_a_truncation_in_between() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = MmapFileList::open(dir.path(), 64).unwrap();
        assert!(
            l.flush_jobs().is_empty(),
            "nothing written, nothing to flush"
        );
        l.append(&[1u8; 40], true).unwrap();
        l.append(&[2u8; 30], true).unwrap(); // second file
        let jobs = l.flush_jobs();
        assert_eq!(jobs.len(), 2);
        for j in &jobs {
            j.sync().unwrap();
        }
        l.mark_flushed(&jobs);
        assert!(l.flush_jobs().is_empty(), "everything synced is marked");
        // bytes written while a sync runs stay dirty for the next round
        l.append(&[3u8; 10], true).unwrap();
        let jobs = l.flush_jobs();
        assert_eq!(jobs.len(), 1);
        // a truncation and new writes between taking the jobs and marking them: the new
        // bytes lie below the job's end but were never synced, so nothing is marked
        l.truncate(64 + 5).unwrap();
        l.append(&[4u8; 20], true).unwrap();
        l.mark_flushed(&jobs);
        assert_eq!(l.files()[1].flushed, 5);
        let again = l.flush_jobs();
        assert_eq!(again.len(), 1, "the rewritten tail is dirty again");
        again[0].sync().unwrap();
        l.mark_flushed(&again);
        assert!(l.flush_jobs().is_empty());
        assert_eq!(l.read(64, 5).unwrap(), vec![2u8; 5]);
        assert_eq!(l.read(64 + 5, 20).unwrap(), vec![4u8; 20]);
    }

    #[test]
    fn append_rolls_with_blank_and_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = MmapFileList::open(dir.path(), 64).unwrap();
        assert_eq!(l.append(&[1u8; 40], true).unwrap(), 0);
        // 40 + 30 + 8 > 64: blank, next file
        assert_eq!(l.append(&[2u8; 30], true).unwrap(), 64);
        assert_eq!(l.files().len(), 2);
        assert_eq!(&l.files()[0].bytes()[40..44], &(-1i32).to_be_bytes());
        assert_eq!(&l.files()[0].bytes()[44..48], &24i32.to_be_bytes());
        assert_eq!(l.read(64, 30).unwrap(), vec![2u8; 30]);
        assert!(l.read(64, 31).is_err());
        assert!(dir.path().join("00000000000000000064").exists());
        l.truncate(20).unwrap();
        assert_eq!(l.files().len(), 1);
        assert_eq!(l.max_write_pos(), 20);
        assert_eq!(&l.files()[0].bytes()[20..40], &[0u8; 20]);
        assert!(!dir.path().join("00000000000000000064").exists());
    }

    #[test]
    fn index_records_fill_files_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = MmapFileList::open(dir.path(), 64).unwrap();
        for i in 0..5 {
            assert_eq!(l.append(&[i as u8; 32], false).unwrap(), i * 32);
        }
        assert_eq!(l.files().len(), 3);
        l.flush().unwrap();
        drop(l);
        let l = MmapFileList::open(dir.path(), 64).unwrap();
        assert_eq!(l.max_write_pos(), 192);
        assert!(MmapFileList::open(dir.path(), 128).is_err());
    }

    #[test]
    fn reset_starts_mid_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = MmapFileList::open(dir.path(), 64).unwrap();
        l.append(&[1u8; 10], true).unwrap();
        l.reset_to(130).unwrap();
        assert_eq!(l.min_offset(), 128);
        assert_eq!(l.max_write_pos(), 130);
        assert_eq!(l.append(&[3u8; 8], true).unwrap(), 130);
    }
}
