//! One broken invariant of a store, with where it was found.
//!
//! The verifier never stops at the first problem: it collects every violation so that one
//! corrupted byte shows up as exactly one line, and a systematic bug shows up as a pattern.
//! Book: Part I "Storage files" (the inspector). Each kind names the 4.8.0 rule it checks.

use std::fmt;

/// What rule a violation breaks. Tests match on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ViolationKind {
    /// A file name is not the 20-digit start offset (or 17-digit timestamp for index files).
    FileName,
    /// Files of one queue do not all have the same size.
    FileSize,
    /// A file does not start where the previous one ended.
    FileGap,
    /// A record's magic code is neither the message nor the blank magic.
    BadMagic,
    /// TOTALSIZE disagrees with the record's own length fields, or runs past the file.
    BadTotalSize,
    /// The stored body CRC is not crc32(body) & 0x7FFFFFFF.
    BodyCrc,
    /// The PHYSICALOFFSET field is not the record's position in the commit log.
    PhysicalOffset,
    /// The END_OF_FILE filler is wrong or missing, or a record ends closer than 8 bytes to the end.
    Filler,
    /// A record cannot be decoded at all.
    Undecodable,
    /// Queue offsets of one topic/queue are not consecutive in commit-log order.
    QueueOffset,
    /// A consume-queue file name, size or placeholder entry is wrong.
    CqFile,
    /// A consume-queue entry points at no record.
    CqDangling,
    /// A consume-queue entry points at a record of another topic/queue/offset/size.
    CqMismatch,
    /// A consume-queue entry's tagsCode is not what the record's tags give.
    CqTagsCode,
    /// A dispatched record has no consume-queue entry.
    CqMissing,
    /// An index header is not consistent with its slots and entries.
    IndexHeader,
    /// An index chain does not terminate, or an entry sits in the wrong slot or no chain.
    IndexChain,
    /// An index entry does not point at a record with a key of that hash.
    IndexEntry,
    /// A message key is missing from the index.
    IndexMissing,
    /// A checkpoint timestamp lies beyond every record.
    Checkpoint,
    /// A DLedger entry's header is inconsistent (magic, size, position, index, term), the
    /// blank at a data file's end is wrong, or an entry's body is empty.
    DLedgerEntry,
    /// A DLedger index record does not repeat its entry's header.
    DLedgerIndex,
    /// The DLedger checkpoint names a committed entry the data files do not hold.
    DLedgerCheckpoint,
}

/// One violation: the rule, the place (file and position) and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which rule is broken.
    pub kind: ViolationKind,
    /// Where: the file and the byte or entry position.
    pub place: String,
    /// What was found, and what was expected.
    pub detail: String,
}

impl Violation {
    /// A violation of `kind` at `place`.
    pub fn new(kind: ViolationKind, place: impl Into<String>, detail: impl Into<String>) -> Self {
        Violation {
            kind,
            place: place.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{:?}] {}: {}", self.kind, self.place, self.detail)
    }
}

/// Where violations are collected while a store is read.
#[derive(Debug, Default)]
pub struct Violations(pub Vec<Violation>);

impl Violations {
    /// Records a violation of `kind` at `place`.
    pub fn push(
        &mut self,
        kind: ViolationKind,
        place: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.0.push(Violation::new(kind, place, detail));
    }
}
