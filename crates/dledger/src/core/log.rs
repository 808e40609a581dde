//! What the Raft core needs from a ledger, and an in-memory ledger for tests and the
//! simulator.
//!
//! The core never touches files: it reads and writes entries through [`LogStore`],
//! synchronously, so it always sees its own writes. The file store (`store::DLedgerStore`)
//! and [`MemLog`] both implement it with the same placement rule, so entry positions
//! agree between replicas as DLedger requires.
//! Book: Part IV "Cluster modes and DLedger". Mirrors `store/DLedgerStore.java` and
//! `store/DLedgerMemoryStore.java` of DLedger 0.2.2.

use bytes::Bytes;
use thiserror::Error;

use crate::entry::{place, Entry, MAGIC_1};

/// Why a ledger operation failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LogError {
    /// The index is not in the ledger.
    #[error("index {index} out of range [{begin}, {end}]")]
    OutOfRange {
        /// The index asked for.
        index: i64,
        /// The first index held.
        begin: i64,
        /// The last index held.
        end: i64,
    },
    /// A replicated entry's index is not the one after the ledger's last.
    #[error("entry index {got} is not the next index {want}")]
    NotNext {
        /// The entry's index.
        got: i64,
        /// The next index of the ledger.
        want: i64,
    },
    /// A replicated entry's position is not where this ledger would place it.
    #[error("entry position {got} != expected {want}")]
    BadPos {
        /// The entry's position, in bytes.
        got: i64,
        /// Where this ledger would place it, in bytes.
        want: i64,
    },
    /// The entry is larger than one data file (its size in bytes).
    #[error("entry of {0} bytes does not fit in one data file")]
    TooLarge(i64),
    /// A truncation would drop committed entries.
    #[error("truncate below the committed index {committed} (at {index})")]
    BelowCommitted {
        /// The index the truncation would start at.
        index: i64,
        /// The highest committed index.
        committed: i64,
    },
    /// Reading or writing the files failed (what went wrong).
    #[error("disk error: {0}")]
    Disk(String),
}

/// The ledger operations the core uses.
pub trait LogStore {
    /// First index held (-1 when empty).
    fn begin_index(&self) -> i64;
    /// Last index held (-1 when empty).
    fn end_index(&self) -> i64;
    /// Term of the last entry (-1 when empty).
    fn end_term(&self) -> i64;
    /// Reads one entry.
    fn get(&self, index: i64) -> Result<Entry, LogError>;
    /// Appends `body` at the next index with `term`, choosing its position.
    fn append_as_leader(&mut self, term: i64, body: Bytes) -> Result<Entry, LogError>;
    /// Appends a replicated entry; its index must be next and its pos must be where
    /// this ledger would place it.
    fn append_as_follower(&mut self, entry: &Entry) -> Result<(), LogError>;
    /// Makes `entry` the last entry: keeps it if an equal entry is present, otherwise
    /// drops everything from its index on and writes it. Returns its index.
    fn truncate(&mut self, entry: &Entry) -> Result<i64, LogError>;
    /// Remembers the committed index (for the checkpoint); never called with a
    /// smaller value than before on the same run.
    fn set_committed(&mut self, _index: i64) {}
}

/// A ledger in memory. Its contents are what a crashed node still has on restart in
/// the simulator (every append is treated as flushed).
#[derive(Debug, Clone)]
pub struct MemLog {
    entries: Vec<Entry>,
    file_size: i64,
    /// Highest index ever reported committed; truncation below it is refused.
    committed: i64,
}

impl MemLog {
    /// An empty ledger whose positions follow data files of `file_size` bytes.
    pub fn new(file_size: i64) -> MemLog {
        MemLog {
            entries: Vec::new(),
            file_size,
            committed: -1,
        }
    }

    /// All entries (index = position in the vector).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    fn write_pos(&self) -> i64 {
        self.entries
            .last()
            .map(|e| e.pos + e.size() as i64)
            .unwrap_or(0)
    }
}

impl LogStore for MemLog {
    fn begin_index(&self) -> i64 {
        if self.entries.is_empty() {
            -1
        } else {
            0
        }
    }

    fn end_index(&self) -> i64 {
        self.entries.len() as i64 - 1
    }

    fn end_term(&self) -> i64 {
        self.entries.last().map(|e| e.term).unwrap_or(-1)
    }

    fn get(&self, index: i64) -> Result<Entry, LogError> {
        if index < 0 || index > self.end_index() {
            return Err(LogError::OutOfRange {
                index,
                begin: self.begin_index(),
                end: self.end_index(),
            });
        }
        Ok(self.entries[index as usize].clone())
    }

    fn append_as_leader(&mut self, term: i64, body: Bytes) -> Result<Entry, LogError> {
        let mut e = Entry::new(body);
        e.magic = MAGIC_1;
        e.index = self.end_index() + 1;
        e.term = term;
        let len = e.size() as i64;
        e.pos = place(self.write_pos(), len, self.file_size).ok_or(LogError::TooLarge(len))?;
        self.entries.push(e.clone());
        Ok(e)
    }

    fn append_as_follower(&mut self, entry: &Entry) -> Result<(), LogError> {
        let want = self.end_index() + 1;
        if entry.index != want {
            return Err(LogError::NotNext {
                got: entry.index,
                want,
            });
        }
        let len = entry.size() as i64;
        let pos = place(self.write_pos(), len, self.file_size).ok_or(LogError::TooLarge(len))?;
        if pos != entry.pos {
            return Err(LogError::BadPos {
                got: entry.pos,
                want: pos,
            });
        }
        self.entries.push(entry.clone());
        Ok(())
    }

    fn truncate(&mut self, entry: &Entry) -> Result<i64, LogError> {
        let i = entry.index;
        if i < 0 || i > self.end_index() + 1 {
            return Err(LogError::OutOfRange {
                index: i,
                begin: self.begin_index(),
                end: self.end_index(),
            });
        }
        let existed = self
            .entries
            .get(i as usize)
            .map(|e| e.same_as(entry))
            .unwrap_or(false);
        let keep = if existed { i as usize + 1 } else { i as usize };
        if (keep as i64) <= self.committed {
            return Err(LogError::BelowCommitted {
                index: keep as i64,
                committed: self.committed,
            });
        }
        self.entries.truncate(keep);
        if !existed {
            let pos = self.write_pos();
            let len = entry.size() as i64;
            let want = place(pos, len, self.file_size).ok_or(LogError::TooLarge(len))?;
            if entry.pos != want {
                return Err(LogError::BadPos {
                    got: entry.pos,
                    want,
                });
            }
            self.entries.push(entry.clone());
        }
        Ok(i)
    }

    fn set_committed(&mut self, index: i64) {
        if index > self.committed {
            self.committed = index;
        }
    }
}
