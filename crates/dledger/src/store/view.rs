//! A read-only window on a member's data files for the message store above it: the
//! DLedger data files *are* RocketMQ's commit log in DLedger mode (4.8.0
//! `DLedgerCommitLog`), so consume-queue offsets point into them and pulls read them.
//!
//! ```text
//! DataView::committed_bytes(pos)   the committed bytes from pos to the end of its file
//! DataView::read_committed(pos, n) n committed bytes at pos (never across a file end)
//! committed_pos()  end of the last committed entry (-1: none)   write_pos()  end of the data
//! begin_pos()      position of the first entry (-1: none)       files()      start + path
//! ```
//!
//! Reads go straight to the mappings, without the store's lock and without copying. That is
//! sound because a reader only ever sees bytes below the committed position, and the store
//! never changes those: appends go at or past the end of the data, a truncation cuts only
//! uncommitted entries (it refuses anything at or below the committed index), and a file a
//! truncation removes stays mapped while a reader holds it. The store moves the committed
//! position forward with a Release store after the entry was written under its lock; a reader
//! loads it with Acquire before reading, so the bytes are complete.
//!
//! Book: Part IV "Cluster modes and DLedger" (the DLedger files are the commit log). Mirrors
//! what `DLedgerCommitLog` of RocketMQ 4.8.0 reads from `DLedgerMmapFileStore`
//! (`getCommittedPos`, `getDataFileList().findMappedFileByOffset`, `selectMappedBuffer`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use super::mmap_list::{SharedFile, SharedFiles};

/// Positions the store publishes for its readers.
#[derive(Debug)]
pub(crate) struct Positions {
    /// End of the last committed entry, -1 before any commit.
    pub committed: AtomicI64,
    /// End of the written data.
    pub write: AtomicI64,
    /// Position of the first entry, -1 when the ledger is empty.
    pub begin: AtomicI64,
}

impl Positions {
    pub fn new() -> Positions {
        Positions {
            committed: AtomicI64::new(-1),
            write: AtomicI64::new(0),
            begin: AtomicI64::new(-1),
        }
    }
}

/// See the module docs. Cheap to clone; every clone sees the same files and positions.
#[derive(Clone)]
pub struct DataView {
    files: Arc<SharedFiles>,
    positions: Arc<Positions>,
    file_size: i64,
}

/// One data file as the view lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// Offset of its first byte (= its name).
    pub start: i64,
    /// Its path.
    pub path: PathBuf,
}

/// Committed bytes of one data file, read in place. Keeps the file's mapping alive.
pub struct CommittedBytes {
    file: SharedFile,
    /// Position of the first byte in the data files.
    pos: i64,
    offset: usize,
    len: usize,
}

impl CommittedBytes {
    /// Position of the first byte in the data files.
    pub fn pos(&self) -> i64 {
        self.pos
    }
}

impl std::ops::Deref for CommittedBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `offset + len` lies inside the mapping (checked when made), which `file`
        // keeps alive, and the bytes are below the committed position, which the store never
        // writes again (see the module docs).
        unsafe { std::slice::from_raw_parts(self.file.map.as_ptr().add(self.offset), self.len) }
    }
}

impl DataView {
    pub(crate) fn new(files: Arc<SharedFiles>, positions: Arc<Positions>, file_size: i64) -> Self {
        DataView {
            files,
            positions,
            file_size,
        }
    }

    /// The size of every data file.
    pub fn file_size(&self) -> i64 {
        self.file_size
    }

    /// End of the last committed entry (`getCommittedPos`), -1 before any commit.
    pub fn committed_pos(&self) -> i64 {
        self.positions.committed.load(Ordering::Acquire)
    }

    /// End of the written data (`getMaxWrotePosition`); entries past the committed position
    /// may still be cut by a new leader.
    pub fn write_pos(&self) -> i64 {
        self.positions.write.load(Ordering::Acquire)
    }

    /// Position of the first entry, -1 when the ledger is empty (`getMinOffset` of the data
    /// list: the first file's start plus where its first entry begins).
    pub fn begin_pos(&self) -> i64 {
        self.positions.begin.load(Ordering::Acquire)
    }

    /// The data files, oldest first.
    pub fn files(&self) -> Vec<DataFile> {
        self.files
            .snapshot()
            .into_iter()
            .map(|f| DataFile {
                start: f.start,
                path: f.path.to_path_buf(),
            })
            .collect()
    }

    /// Start of the file after the one holding `pos` (`rollNextFile`).
    pub fn roll_next_file(&self, pos: i64) -> i64 {
        pos + self.file_size - pos.rem_euclid(self.file_size)
    }

    /// The committed bytes from `pos` to the end of its file (or to the committed position,
    /// whichever comes first); `None` at or past the committed position or without a file
    /// (`DLedgerCommitLog.getData`).
    pub fn committed_bytes(&self, pos: i64) -> Option<CommittedBytes> {
        let committed = self.committed_pos();
        if pos < 0 || pos >= committed {
            return None;
        }
        let file = self.files.find(pos, self.file_size)?;
        let end = committed.min(file.start + self.file_size);
        let offset = usize::try_from(pos - file.start).ok()?;
        let len = usize::try_from(end - pos).ok()?;
        if offset + len > file.map.len() {
            return None;
        }
        Some(CommittedBytes {
            file,
            pos,
            offset,
            len,
        })
    }

    /// `len` committed bytes at `pos`, if they are all committed and in one file
    /// (`DLedgerCommitLog.getMessage`, which 4.8.0 does not limit to committed bytes).
    pub fn read_committed(&self, pos: i64, len: usize) -> Option<CommittedBytes> {
        let mut b = self.committed_bytes(pos)?;
        if len > b.len {
            return None;
        }
        b.len = len;
        Some(b)
    }
}
