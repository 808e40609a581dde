//! One fixed-size file mapped into memory: the unit every store file is built from.
//!
//! A writer appends at `wrote_position`; readers may look at bytes below the published
//! position only, so an append never races a read of the same bytes. `flushed_position` says
//! how far `msync` has reached. Files are named by the 20-digit offset of their first byte in
//! the whole queue of files. Deletion is safe while readers still hold an `Arc`: the file is
//! unlinked at once and the mapping goes away with the last reference (4.8.0 counts
//! references by hand for the same effect).
//!
//! Two rules keep the unsafe memory access sound, and the types carry both:
//! * one appender per file: [`MappedFile::append_with`] takes `&mut` [`WriteRight`], the
//!   token its queue's owner keeps under the lock that serialises its writers (the commit
//!   log's put lock, a consume queue's write lock); the file checks that the token is the one
//!   it was created for;
//! * rewinding positions and reading past them happen only while nothing else touches the
//!   files: those functions take a [`RecoveryPhase`], which only an `unsafe` call can create.
//!
//! Book: Part I, "CommitLog" (mapped files and page cache). Mirrors
//! `org.apache.rocketmq.store.MappedFile` (without the transient store pool: committed ==
//! wrote).

use crate::error::StoreError;
use crate::util::{file_name_to_offset, now_ms, offset_to_file_name};
use bytes::Bytes;
use memmap2::{MmapMut, MmapOptions};
use std::fs::{File, OpenOptions};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};

/// The OS page size RocketMQ assumes for flush accounting and warming.
pub const OS_PAGE_SIZE: usize = 4096;

/// The right to append to the files of one queue of mapped files.
///
/// Its owner keeps it inside the lock that serialises the queue's writers and lends it out
/// as `&mut`, so at most one append runs per queue at any time; every file records the
/// [`WriterId`] of the right it was created with and refuses any other. Not `Clone`.
#[derive(Debug)]
pub struct WriteRight {
    id: WriterId,
}

/// Which [`WriteRight`] may append to a file (copied into the file when it is created).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterId(u64);

impl WriterId {
    /// The id of files nobody appends to through `append_with` (index files, which write
    /// through their own lock).
    pub const NONE: WriterId = WriterId(0);
}

impl WriteRight {
    /// A new right with an id no other right has.
    pub fn new() -> WriteRight {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        WriteRight {
            id: WriterId(NEXT.fetch_add(1, Ordering::Relaxed)),
        }
    }

    /// The id to create this queue's files with.
    pub fn id(&self) -> WriterId {
        self.id
    }
}

impl Default for WriteRight {
    fn default() -> Self {
        WriteRight::new()
    }
}

/// Proof that nothing but the holder reads or writes the store's mapped files: the state of
/// a store while it is being opened (loading, recovery), before any thread starts or any
/// reference to it escapes. Reading a file past its published position borrows the phase
/// (`&`); rewinding positions or zeroing a tail borrows it `&mut`, so no such read is alive
/// then. Neither `Send` nor `Sync`, so it stays on the thread that opens the store.
#[derive(Debug)]
pub struct RecoveryPhase {
    _not_send: PhantomData<*const ()>,
}

impl RecoveryPhase {
    /// Starts a recovery phase.
    ///
    /// # Safety
    /// Until the returned value is dropped, no other thread may read or write any mapped file
    /// it is used with (through `slice`, `append_with`, flushes or raw access), and this
    /// thread may not append to a file while a slice of it from
    /// [`MappedFile::whole_for_recovery`] is alive. `DefaultMessageStore::open` creates it
    /// before the store is shared and drops it before its threads start.
    pub unsafe fn begin() -> RecoveryPhase {
        RecoveryPhase {
            _not_send: PhantomData,
        }
    }
}

/// A memory-mapped store file.
pub struct MappedFile {
    path: PathBuf,
    file_from_offset: u64,
    file_size: usize,
    // Kept alive for `flush_range`; all data access goes through `ptr`.
    mmap: MmapMut,
    ptr: *mut u8,
    _file: File,
    wrote_position: AtomicUsize,
    committed_position: AtomicUsize,
    flushed_position: AtomicUsize,
    /// Store timestamp of the last message appended (commit log only).
    store_timestamp: AtomicI64,
    available: AtomicBool,
    first_create_in_queue: AtomicBool,
    /// The right that may append here.
    writer: WriterId,
}

// SAFETY: `ptr` points into `mmap`, which lives as long as `self`. Bytes at or above
// `wrote_position` are written only by the holder of the file's `WriteRight` (borrowed
// `&mut`, so one at a time) or under a `RecoveryPhase` (nobody else touches the file); bytes
// below it are only read after an Acquire load of the position that the writer published
// with Release. So no byte is written and read concurrently.
unsafe impl Send for MappedFile {}
unsafe impl Sync for MappedFile {}

/// What an append callback did with the space it was offered.
pub struct AppendOutcome<T> {
    /// Bytes written at the start of the offered slice (the wrote position advances by this).
    pub written: usize,
    /// Whatever the callback wants to hand back.
    pub value: T,
}

impl MappedFile {
    /// Creates `<dir>/<20-digit offset>` of `size` bytes and maps it, appendable by `writer`.
    pub fn create(
        dir: &Path,
        file_from_offset: u64,
        size: usize,
        writer: WriterId,
    ) -> Result<MappedFile, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io("create dir", dir, e))?;
        let path = dir.join(offset_to_file_name(file_from_offset));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError::io("create", &path, e))?;
        file.set_len(size as u64)
            .map_err(|e| StoreError::io("set_len", &path, e))?;
        Self::map(path, file, file_from_offset, size, writer)
    }

    /// Maps an existing file, appendable by `writer`; its length must equal `size`. Positions
    /// start at 0 until recovery sets them.
    pub fn open(path: &Path, size: usize, writer: WriterId) -> Result<MappedFile, StoreError> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let from = file_name_to_offset(name).ok_or_else(|| {
            StoreError::Config(format!("{} is not a mapped file name", path.display()))
        })?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| StoreError::io("open", path, e))?;
        let len = file
            .metadata()
            .map_err(|e| StoreError::io("stat", path, e))?
            .len();
        if len != size as u64 {
            return Err(StoreError::FileSizeMismatch {
                path: path.to_path_buf(),
                expected: size as u64,
                actual: len,
            });
        }
        Self::map(path.to_path_buf(), file, from, size, writer)
    }

    /// Maps an existing file of any name (index files are named by time); `from` is recorded
    /// as its start offset. Nobody appends to it ([`WriterId::NONE`]).
    pub fn open_named(path: &Path, from: u64, size: usize) -> Result<MappedFile, StoreError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| StoreError::io("open", path, e))?;
        Self::map(path.to_path_buf(), file, from, size, WriterId::NONE)
    }

    fn map(
        path: PathBuf,
        file: File,
        from: u64,
        size: usize,
        writer: WriterId,
    ) -> Result<MappedFile, StoreError> {
        // SAFETY: the store owns its files (guarded by the lock file); nobody truncates them
        // behind our back while mapped.
        let mut mmap = unsafe { MmapOptions::new().len(size).map_mut(&file) }
            .map_err(|e| StoreError::io("mmap", &path, e))?;
        let ptr = mmap.as_mut_ptr();
        Ok(MappedFile {
            path,
            file_from_offset: from,
            file_size: size,
            mmap,
            ptr,
            _file: file,
            wrote_position: AtomicUsize::new(0),
            committed_position: AtomicUsize::new(0),
            flushed_position: AtomicUsize::new(0),
            store_timestamp: AtomicI64::new(0),
            available: AtomicBool::new(true),
            first_create_in_queue: AtomicBool::new(false),
            writer,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Offset of this file's first byte within its queue (= its name).
    pub fn file_from_offset(&self) -> u64 {
        self.file_from_offset
    }
    /// The file's length in bytes.
    pub fn file_size(&self) -> usize {
        self.file_size
    }
    /// End of the appended bytes, relative to the file start.
    pub fn wrote_position(&self) -> usize {
        self.wrote_position.load(Ordering::Acquire)
    }
    /// End of the committed bytes (equal to the wrote position: no transient store pool).
    pub fn committed_position(&self) -> usize {
        self.committed_position.load(Ordering::Acquire)
    }
    /// How far `msync` has reached, relative to the file start.
    pub fn flushed_position(&self) -> usize {
        self.flushed_position.load(Ordering::Acquire)
    }
    /// The readable end: everything below it is complete (`getReadPosition`).
    pub fn read_position(&self) -> usize {
        self.wrote_position()
    }
    /// No byte is left to append to.
    pub fn is_full(&self) -> bool {
        self.wrote_position() >= self.file_size
    }
    /// False once the file was destroyed (readers holding it may still finish).
    pub fn is_available(&self) -> bool {
        self.available.load(Ordering::Acquire)
    }
    /// Store time of the last message appended (commit log only).
    pub fn store_timestamp(&self) -> i64 {
        self.store_timestamp.load(Ordering::Acquire)
    }
    /// Records the store time of the message just appended.
    pub fn set_store_timestamp(&self, ts: i64) {
        self.store_timestamp.store(ts, Ordering::Release);
    }
    /// This was the first file its queue created (a consume queue then fills the entries
    /// before its first offset with placeholders).
    pub fn is_first_create_in_queue(&self) -> bool {
        self.first_create_in_queue.load(Ordering::Relaxed)
    }
    /// Marks the file as the first one its queue created.
    pub fn set_first_create_in_queue(&self, v: bool) {
        self.first_create_in_queue.store(v, Ordering::Relaxed);
    }

    /// Sets all three positions, for loading and recovery: lowering them while readers look
    /// at the bytes above would let a later append race those reads, hence the phase token.
    pub fn set_positions(&self, _phase: &mut RecoveryPhase, pos: usize) {
        let pos = pos.min(self.file_size);
        self.wrote_position.store(pos, Ordering::Release);
        self.committed_position.store(pos, Ordering::Release);
        self.flushed_position.store(pos, Ordering::Release);
    }

    /// Offers the free tail `[wrote, size)` to `f`, then publishes what it wrote. `right`
    /// proves the caller is this file's only appender right now.
    ///
    /// # Panics
    /// If `right` is not the right the file was created for (a bug in the caller).
    pub fn append_with<T>(
        &self,
        right: &mut WriteRight,
        f: impl FnOnce(&mut [u8], u64) -> AppendOutcome<T>,
    ) -> Option<T> {
        assert_eq!(
            right.id,
            self.writer,
            "{} appended to with another queue's write right",
            self.path.display()
        );
        let pos = self.wrote_position.load(Ordering::Acquire);
        if pos >= self.file_size {
            return None;
        }
        // SAFETY: [pos, size) lies inside the mapping and above the published position, so no
        // reader looks at it; `right` is borrowed mutably and is the file's only right, so no
        // other append runs.
        let tail =
            unsafe { std::slice::from_raw_parts_mut(self.ptr.add(pos), self.file_size - pos) };
        let out = f(tail, self.file_from_offset + pos as u64);
        let written = out.written.min(self.file_size - pos);
        self.wrote_position.store(pos + written, Ordering::Release);
        self.committed_position
            .store(pos + written, Ordering::Release);
        Some(out.value)
    }

    /// Appends `data` if it fits entirely; returns false (and writes nothing) otherwise.
    pub fn append_bytes(&self, right: &mut WriteRight, data: &[u8]) -> bool {
        self.append_with(right, |tail, _| {
            if tail.len() < data.len() {
                AppendOutcome {
                    written: 0,
                    value: false,
                }
            } else {
                tail[..data.len()].copy_from_slice(data);
                AppendOutcome {
                    written: data.len(),
                    value: true,
                }
            }
        })
        .unwrap_or(false)
    }

    // ANCHOR: mf_read
    /// The published bytes `[pos, pos + len)`, or `None` if they are not all readable yet.
    pub fn slice(&self, pos: usize, len: usize) -> Option<&[u8]> {
        let end = pos.checked_add(len)?;
        if end > self.read_position() {
            return None;
        }
        // SAFETY: the range is inside the mapping and below the published wrote position, so
        // it is complete and no appender writes there.
        Some(unsafe { std::slice::from_raw_parts(self.ptr.add(pos), len) })
    }

    /// Copies `[pos, pos + len)` out (`selectMappedBuffer`, heap transfer).
    pub fn read_bytes(&self, pos: usize, len: usize) -> Option<Bytes> {
        self.slice(pos, len).map(Bytes::copy_from_slice)
    }
    // ANCHOR_END: mf_read

    /// The whole file regardless of positions, while `phase` guarantees nothing writes it.
    pub fn whole_for_recovery<'a>(&'a self, _phase: &'a RecoveryPhase) -> &'a [u8] {
        // SAFETY: the recovery phase guarantees no other thread writes the file while the
        // slice (which cannot outlive the phase) exists.
        unsafe { std::slice::from_raw_parts(self.ptr, self.file_size) }
    }

    /// The parts of `[from, size)` that may hold data, as page-aligned ranges: holes of a
    /// sparse file are skipped with `SEEK_DATA`/`SEEK_HOLE`, so looking at the unused tail of
    /// a fresh 1 GiB file costs nothing. Without that support, the whole range.
    fn data_ranges(&self, from: usize) -> Vec<(usize, usize)> {
        let from = from.min(self.file_size);
        #[cfg(any(target_os = "linux", target_os = "macos"))]
        {
            use std::os::unix::io::AsRawFd;
            let fd = self._file.as_raw_fd();
            let mut out = Vec::new();
            let mut pos = from;
            while pos < self.file_size {
                // SAFETY: lseek on our own open descriptor; no memory is passed.
                let data = unsafe { libc::lseek(fd, pos as libc::off_t, libc::SEEK_DATA) };
                if data < 0 {
                    let err = std::io::Error::last_os_error();
                    if err.raw_os_error() == Some(libc::ENXIO) {
                        break; // no data after pos
                    }
                    return vec![(from, self.file_size)]; // unsupported: scan everything
                }
                let start = (data as usize).max(pos).min(self.file_size);
                // SAFETY: as above.
                let hole = unsafe { libc::lseek(fd, start as libc::off_t, libc::SEEK_HOLE) };
                let end = if hole < 0 {
                    self.file_size
                } else {
                    (hole as usize).clamp(start, self.file_size)
                };
                if end == start {
                    break;
                }
                out.push((start, end));
                pos = end;
            }
            out
        }
        #[cfg(not(any(target_os = "linux", target_os = "macos")))]
        {
            vec![(from, self.file_size)]
        }
    }

    /// Zeroes the non-zero pages of `[from, size)`, so that stale bytes past a recovered end
    /// can never be mistaken for records later. Returns how many bytes after `from` held data
    /// (up to the last non-zero byte).
    pub fn zero_tail_for_recovery(&self, _phase: &mut RecoveryPhase, from: usize) -> usize {
        let from = from.min(self.file_size);
        let mut extent = 0;
        for (start, end) in self.data_ranges(from) {
            let mut pos = start;
            while pos < end {
                let page_end = ((pos / OS_PAGE_SIZE + 1) * OS_PAGE_SIZE).min(end);
                // SAFETY: the recovery phase rules out other readers and writers; the range is
                // inside the mapping.
                let chunk =
                    unsafe { std::slice::from_raw_parts_mut(self.ptr.add(pos), page_end - pos) };
                if let Some(last) = chunk.iter().rposition(|b| *b != 0) {
                    extent = pos + last + 1 - from;
                    chunk.fill(0);
                }
                pos = page_end;
            }
        }
        if extent > 0 {
            let _ = self.mmap.flush_range(from, extent);
        }
        extent
    }

    /// Bytes of data in the file: one past its last non-zero byte.
    pub fn data_extent_for_recovery(&self, phase: &RecoveryPhase) -> usize {
        let whole = self.whole_for_recovery(phase);
        self.data_ranges(0)
            .iter()
            .rev()
            .find_map(|(start, end)| {
                whole[*start..*end]
                    .iter()
                    .rposition(|b| *b != 0)
                    .map(|i| start + i + 1)
            })
            .unwrap_or(0)
    }

    /// Writes `data` at `pos` ignoring the positions (the index file manages its own layout).
    /// Returns false if out of range.
    ///
    /// # Safety
    /// The caller must guarantee that nobody reads or writes the range concurrently (the
    /// index file holds its own lock around every access).
    pub(crate) unsafe fn raw_write(&self, pos: usize, data: &[u8]) -> bool {
        let Some(end) = pos.checked_add(data.len()) else {
            return false;
        };
        if end > self.file_size {
            return false;
        }
        std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.add(pos), data.len());
        true
    }

    /// Reads `len` bytes at `pos` ignoring the positions; `None` if out of range.
    ///
    /// # Safety
    /// As for [`MappedFile::raw_write`]: no concurrent writer of the range.
    pub(crate) unsafe fn raw_read(&self, pos: usize, out: &mut [u8]) -> bool {
        let Some(end) = pos.checked_add(out.len()) else {
            return false;
        };
        if end > self.file_size {
            return false;
        }
        std::ptr::copy_nonoverlapping(self.ptr.add(pos), out.as_mut_ptr(), out.len());
        true
    }

    /// Whether `flush(least_pages)` would do anything (`isAbleToFlush`).
    pub fn is_able_to_flush(&self, least_pages: usize) -> bool {
        let flush = self.flushed_position();
        let write = self.read_position();
        if self.is_full() && flush < write {
            return true;
        }
        if least_pages > 0 {
            return write / OS_PAGE_SIZE >= flush / OS_PAGE_SIZE + least_pages;
        }
        write > flush
    }

    /// `msync`s the written but unflushed bytes if at least `least_pages` dirty pages
    /// (0 = any) have accumulated; returns the flushed position.
    pub fn flush(&self, least_pages: usize) -> usize {
        if self.is_able_to_flush(least_pages) && self.is_available() {
            let flushed = self.flushed_position();
            let write = self.read_position();
            if let Err(e) = self.mmap.flush_range(flushed, write - flushed) {
                tracing::error!(file = %self.path.display(), error = %e, "msync failed");
                return flushed;
            }
            self.flushed_position.fetch_max(write, Ordering::AcqRel);
        }
        self.flushed_position()
    }

    /// `msync`s the whole mapping (for files written outside the wrote position, the index).
    pub fn flush_all(&self) -> std::io::Result<()> {
        self.mmap.flush()
    }

    /// Pre-touches every page of a fresh file by writing a zero into it, so later appends do
    /// not page-fault; with `sync_pages > 0` msyncs every that many pages (SYNC_FLUSH), then
    /// advises the kernel to keep the mapping and tries to lock it in RAM (`warmMappedFile`).
    /// Takes `&mut self`: only a file nobody else holds yet can be warmed.
    pub fn warm(&mut self, sync_pages: usize) {
        let begin = now_ms();
        let mut since_flush = 0usize;
        let mut i = 0usize;
        while i < self.file_size {
            // SAFETY: `&mut self`: nobody else holds the file; in range.
            unsafe { self.ptr.add(i).write_volatile(0) };
            since_flush += 1;
            if sync_pages > 0 && since_flush >= sync_pages {
                let _ = self.mmap.flush_range(0, i + 1);
                since_flush = 0;
            }
            i += OS_PAGE_SIZE;
        }
        if sync_pages > 0 {
            let _ = self.mmap.flush();
        }
        self.advise_and_lock();
        tracing::info!(file = %self.path.display(), cost_ms = now_ms() - begin, "mapped file warmed");
    }

    #[cfg(unix)]
    fn advise_and_lock(&self) {
        let _ = self.mmap.advise(memmap2::Advice::WillNeed);
        // SAFETY: the address range is our own mapping.
        let r = unsafe { libc::mlock(self.ptr as *const libc::c_void, self.file_size) };
        if r != 0 {
            tracing::debug!(file = %self.path.display(), "mlock refused (RLIMIT_MEMLOCK); continuing unlocked");
        }
    }

    #[cfg(not(unix))]
    fn advise_and_lock(&self) {}

    // ANCHOR: advise_random
    /// Tells the kernel that this file is written and read at scattered places
    /// (`MADV_RANDOM`), so a page fault maps one page and does not read ahead. A consume queue
    /// fills its file 20 bytes at a time, and an index file writes its hash slots anywhere.
    /// Without this, the first write to a fresh sparse file faults in a whole read-ahead
    /// window (`read_ahead_kb`, 8 MiB on the course machine: all of a 5.7 MB consume-queue
    /// file), and the kernel zeroes every page of it. With 1 024 new queues that is 5.8 GB of
    /// zeroing, and the dispatcher falls minutes behind the appends. 4.8.0 does not map these
    /// writes at all: `MappedFile.appendMessage(byte[])` writes them with
    /// `FileChannel.write`, which allocates only the page it writes.
    #[cfg(unix)]
    pub fn advise_random(&self) {
        if let Err(e) = self.mmap.advise(memmap2::Advice::Random) {
            tracing::debug!(file = %self.path.display(), error = %e, "madvise(MADV_RANDOM) refused");
        }
    }
    // ANCHOR_END: advise_random

    #[cfg(not(unix))]
    pub fn advise_random(&self) {}

    /// Last modification time of the file in ms (retention uses it).
    pub fn last_modified_ms(&self) -> i64 {
        std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    /// Marks the file unusable and unlinks it; the mapping lives on until the last `Arc` goes.
    pub fn destroy(&self) -> bool {
        self.available.store(false, Ordering::Release);
        match std::fs::remove_file(&self.path) {
            Ok(()) => {
                tracing::info!(file = %self.path.display(), "deleted mapped file");
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => {
                tracing::warn!(file = %self.path.display(), error = %e, "cannot delete mapped file");
                false
            }
        }
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: unlocking our own mapping; harmless if it was never locked.
        unsafe {
            libc::munlock(self.ptr as *const libc::c_void, self.file_size);
        }
    }
}

impl std::fmt::Debug for MappedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedFile")
            .field("path", &self.path)
            .field("wrote", &self.wrote_position())
            .field("flushed", &self.flushed_position())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_read_flush_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut right = WriteRight::new();
        let f = MappedFile::create(dir.path(), 8192, 8192, right.id()).unwrap();
        assert_eq!(
            f.path().file_name().unwrap().to_str().unwrap(),
            "00000000000000008192"
        );
        assert!(f.append_bytes(&mut right, b"hello"));
        assert!(f.append_bytes(&mut right, b" world"));
        assert_eq!(f.wrote_position(), 11);
        assert_eq!(f.slice(0, 11).unwrap(), b"hello world");
        assert!(
            f.slice(5, 7).is_none(),
            "unpublished bytes are not readable"
        );
        assert!(!f.is_able_to_flush(1), "less than a page dirty");
        assert!(f.is_able_to_flush(0));
        assert_eq!(f.flush(0), 11);
        assert!(!f.append_bytes(&mut right, &[1u8; 8192]), "does not fit");
        let path = f.path().to_path_buf();
        drop(f);
        let g = MappedFile::open(&path, 8192, right.id()).unwrap();
        assert_eq!(g.file_from_offset(), 8192);
        // SAFETY: nothing else touches the files of this test.
        let phase = unsafe { RecoveryPhase::begin() };
        assert_eq!(&g.whole_for_recovery(&phase)[..11], b"hello world");
        assert!(matches!(
            MappedFile::open(&path, 4096, right.id()),
            Err(StoreError::FileSizeMismatch { .. })
        ));
    }

    #[test]
    #[should_panic(expected = "another queue's write right")]
    fn another_queues_right_cannot_append() {
        let dir = tempfile::tempdir().unwrap();
        let owner = WriteRight::new();
        let mut stranger = WriteRight::new();
        let f = MappedFile::create(dir.path(), 0, 4096, owner.id()).unwrap();
        f.append_bytes(&mut stranger, b"x");
    }

    #[test]
    fn full_file_and_zero_tail() {
        let dir = tempfile::tempdir().unwrap();
        let mut right = WriteRight::new();
        let mut f = MappedFile::create(dir.path(), 0, 4096 * 2, right.id()).unwrap();
        f.warm(1);
        assert!(f.append_bytes(&mut right, &[7u8; 4096 * 2]));
        assert!(f.is_full());
        assert!(f.is_able_to_flush(100), "a full file is always flushable");
        // SAFETY: nothing else touches the files of this test.
        let mut phase = unsafe { RecoveryPhase::begin() };
        f.set_positions(&mut phase, 10);
        assert_eq!(f.data_extent_for_recovery(&phase), 4096 * 2);
        assert_eq!(f.zero_tail_for_recovery(&mut phase, 10), 4096 * 2 - 10);
        assert_eq!(f.data_extent_for_recovery(&phase), 10);
        assert_eq!(f.zero_tail_for_recovery(&mut phase, 10), 0);
        assert!(f.whole_for_recovery(&phase)[10..].iter().all(|b| *b == 0));
        assert!(f.destroy());
        assert!(!f.path().exists());
    }
}
