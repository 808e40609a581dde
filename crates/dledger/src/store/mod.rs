//! The DLedger file store with 0.2.2's on-disk layout, under
//! `<storeBaseDir>/dledger-<selfId>/`:
//!
//! ```text
//! data/<20-digit offset>    entry records (48-byte header + body), 1 GiB files
//! index/<20-digit offset>   32-byte index records, entry i at byte i*32, 160 MiB files
//! checkpoint                endIndex=..  committedIndex=..   (properties text)
//! currterm                  currTerm=..  voteLeader=..       (properties text)
//! ```
//!
//! Recovery walks the data records from (up to) the third-last file, checks each one
//! (magic, size, position, contiguous index, non-decreasing term) and its index record,
//! rewrites index records that disagree, and truncates both chains at the first bad
//! record with a `warn!` line: a torn tail from a crash is cut, not fatal.
//! Book: Part IV "Cluster modes and DLedger" (the DLedger files). Mirrors
//! `store/file/DLedgerMmapFileStore.java` of DLedger 0.2.2.

pub mod error;
pub mod mmap_list;
pub mod props;
pub mod view;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use tracing::{info, warn};

use crate::core::{LogError, LogStore, PersistedState};
use crate::entry::{
    place, Entry, EntryHeader, IndexRecord, BLANK_MAGIC_CODE, BODY_OFFSET, HEADER_SIZE,
    INDEX_UNIT_SIZE,
};
pub use error::StoreError;
use mmap_list::{FlushJob, MmapFileList};
use view::Positions;
pub use view::{CommittedBytes, DataFile, DataView};

/// Unflushed bytes of the data and the index files (two lists: their file offsets overlap).
pub struct PendingFlush {
    data: Vec<FlushJob>,
    index: Vec<FlushJob>,
}

impl PendingFlush {
    /// Whether nothing is waiting to be synced.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty() && self.index.is_empty()
    }

    /// Syncs every file, data before index as [`DLedgerStore::flush`] does.
    pub fn sync(&self) -> Result<(), StoreError> {
        for j in self.data.iter().chain(&self.index) {
            j.sync()?;
        }
        Ok(())
    }
}

/// 0.2.2's data file size (`mappedFileSizeForEntryData`), also RocketMQ's commit log size.
pub const DEFAULT_DATA_FILE_SIZE: i64 = 1024 * 1024 * 1024;
/// 0.2.2's index file size: 32 × 5 × 1024 × 1024 (5,242,880 records).
pub const DEFAULT_INDEX_FILE_SIZE: i64 = INDEX_UNIT_SIZE as i64 * 5 * 1024 * 1024;

const CHECKPOINT_FILE: &str = "checkpoint";
const TERM_FILE: &str = "currterm";

/// Where and how big.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `storeBaseDir` (RocketMQ: `storePathRootDir`).
    pub base_dir: PathBuf,
    /// This member's id (`selfId`); the store lives in `dledger-<selfId>`.
    pub self_id: String,
    /// Size of one data file, in bytes (`mappedFileSizeForEntryData`).
    pub data_file_size: i64,
    /// Size of one index file, in bytes (`mappedFileSizeForEntryIndex`).
    pub index_file_size: i64,
}

impl StoreConfig {
    /// 0.2.2's default sizes.
    pub fn new(base_dir: impl Into<PathBuf>, self_id: impl Into<String>) -> StoreConfig {
        StoreConfig {
            base_dir: base_dir.into(),
            self_id: self_id.into(),
            data_file_size: DEFAULT_DATA_FILE_SIZE,
            index_file_size: DEFAULT_INDEX_FILE_SIZE,
        }
    }

    /// `<base>/dledger-<selfId>` (`DLedgerConfig.getDefaultPath`).
    pub fn default_path(&self) -> PathBuf {
        self.base_dir.join(format!("dledger-{}", self.self_id))
    }
}

/// What recovery found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The first index held (-1 when empty).
    pub begin_index: i64,
    /// The last index held (-1 when empty).
    pub end_index: i64,
    /// The term of the last entry (-1 when empty).
    pub end_term: i64,
    /// Recovery found and cut a torn or stale record after the last good one
    /// (false after a clean shutdown).
    pub torn_tail: bool,
    /// Index records rewritten from the data.
    pub rebuilt_index_records: i64,
    /// The committed index read from the `checkpoint` file (`committedIndex`), -1 without one.
    pub committed_index: i64,
}

/// The DLedger ledger on disk.
pub struct DLedgerStore {
    cfg: StoreConfig,
    data: MmapFileList,
    index: MmapFileList,
    begin: i64,
    end: i64,
    end_term: i64,
    committed: i64,
    committed_pos: i64,
    hook: Option<AppendHook>,
    /// What [`DataView`]s see: committed and write positions, first entry.
    positions: Arc<Positions>,
    /// `endIndex` of the checkpoint found at open (-1: none): the checkpoint is written
    /// after a flush, so every entry up to it had reached the disk.
    checkpoint_end: i64,
}

/// Called on the leader for each new entry once its position is known and before it
/// is written, with the entry's index, its position and its body to patch in place
/// (`DLedgerMmapFileStore.AppendHook`: RocketMQ writes PHYSICALOFFSET = pos + 48 here).
#[derive(Clone)]
pub struct AppendHook(pub std::sync::Arc<AppendHookFn>);

/// The hook's signature: (entry index, entry pos, body to patch).
pub type AppendHookFn = dyn Fn(i64, i64, &mut [u8]) + Send + Sync;

impl std::fmt::Debug for AppendHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppendHook")
    }
}

fn log_err(e: StoreError) -> LogError {
    LogError::Disk(e.to_string())
}

impl DLedgerStore {
    /// Opens and recovers the store.
    pub fn open(cfg: StoreConfig) -> Result<(DLedgerStore, Recovery), StoreError> {
        if cfg.index_file_size <= 0 || cfg.index_file_size % INDEX_UNIT_SIZE as i64 != 0 {
            return Err(StoreError::Config(format!(
                "index file size {} is not a positive multiple of {INDEX_UNIT_SIZE}",
                cfg.index_file_size
            )));
        }
        let root = cfg.default_path();
        let data = MmapFileList::open(&root.join("data"), cfg.data_file_size)?;
        let index = MmapFileList::open(&root.join("index"), cfg.index_file_size)?;
        let mut store = DLedgerStore {
            cfg,
            data,
            index,
            begin: -1,
            end: -1,
            end_term: -1,
            committed: -1,
            committed_pos: -1,
            hook: None,
            positions: Arc::new(Positions::new()),
            checkpoint_end: -1,
        };
        let mut rec = store.recover()?;
        if let Some(cp) = props::read(&root.join(CHECKPOINT_FILE)) {
            if let Some(c) = cp.get("committedIndex").and_then(|v| v.parse::<i64>().ok()) {
                store.restore_committed(c);
            }
            if let Some(e) = cp.get("endIndex").and_then(|v| v.parse::<i64>().ok()) {
                store.checkpoint_end = e;
            }
        }
        rec.committed_index = store.committed;
        store.publish_positions();
        Ok((store, rec))
    }

    /// A read-only window on the data files' committed bytes for readers without this
    /// store's lock (the message store in DLedger mode).
    pub fn data_view(&self) -> DataView {
        DataView::new(
            self.data.shared().clone(),
            self.positions.clone(),
            self.data.file_size(),
        )
    }

    /// `endIndex` of the checkpoint found when the store was opened, -1 without one. The
    /// checkpoint is written after a flush, so the entries up to it were on disk then; only
    /// later ones can have been torn by a crash of the machine.
    pub fn checkpoint_end_index(&self) -> i64 {
        self.checkpoint_end
    }

    /// Position of entry `index`, if the log holds it (from its index record).
    pub fn entry_pos(&self, index: i64) -> Option<i64> {
        if index < self.begin || index > self.end || index < 0 {
            return None;
        }
        self.index_record(index).map(|r| r.pos)
    }

    /// The written bytes of each data file, oldest first, with the file's start position:
    /// for a reader that checks the entries' bodies before the member runs (the message
    /// store checks that the last files' entries hold whole message records).
    pub fn written_data(&self) -> Vec<(i64, &[u8])> {
        self.data
            .files()
            .iter()
            .map(|f| {
                (
                    f.start,
                    &f.bytes()[..f.wrote.clamp(0, self.data.file_size()) as usize],
                )
            })
            .collect()
    }

    /// Cuts the log at the entry that starts at `pos`, whose body a reader found damaged
    /// (a torn write that left the header whole): that entry and every later one go, as
    /// recovery cuts at a damaged header. The committed index follows the cut; in a group
    /// the leader sends the entries again. Returns the index of the first entry removed.
    pub fn cut_at(&mut self, pos: i64) -> Result<i64, StoreError> {
        let file = self
            .data
            .files()
            .iter()
            .position(|f| f.start <= pos && pos < f.start + self.data.file_size())
            .ok_or_else(|| StoreError::Corrupt(format!("no data file holds {pos}")))?;
        let rel = pos - self.data.files()[file].start;
        let h = self
            .header_at(file, rel)
            .filter(|h| h.check().is_ok() && h.pos == pos)
            .ok_or_else(|| StoreError::Corrupt(format!("no entry starts at {pos}")))?;
        if h.index < self.begin || h.index > self.end {
            return Err(StoreError::Corrupt(format!(
                "entry {} at {pos} is outside [{}, {}]",
                h.index, self.begin, self.end
            )));
        }
        warn!(
            dir = %self.data.dir().display(),
            "cutting the log at entry {} (position {pos}) and the {} after it",
            h.index,
            self.end - h.index
        );
        self.data.truncate(pos)?;
        self.index.truncate(h.index * INDEX_UNIT_SIZE as i64)?;
        self.end = h.index - 1;
        if self.end < self.begin {
            self.begin = -1;
            self.end_term = -1;
        } else {
            self.end_term = self
                .index_record(self.end)
                .map(|r| r.term)
                .ok_or_else(|| StoreError::Corrupt(format!("no index record {}", self.end)))?;
        }
        if self.committed > self.end {
            self.committed = self.end;
            self.committed_pos = self
                .index_record(self.end)
                .map_or(-1, |r| r.pos + r.size as i64);
        }
        self.publish_positions();
        Ok(h.index)
    }

    /// Publishes the write position and the first entry's position to the data views.
    fn publish_positions(&self) {
        let begin = if self.begin >= 0 {
            self.index_record(self.begin).map_or(-1, |r| r.pos)
        } else {
            -1
        };
        self.positions.begin.store(begin, Ordering::Release);
        self.positions
            .write
            .store(self.data.max_write_pos(), Ordering::Release);
        self.positions
            .committed
            .store(self.committed_pos, Ordering::Release);
    }

    /// The directory `dledger-<selfId>`.
    pub fn root(&self) -> PathBuf {
        self.cfg.default_path()
    }

    /// Reads the header of the record at `pos` if the whole header is in one file.
    fn header_at(&self, file: usize, rel: i64) -> Option<EntryHeader> {
        let f = self.data.files().get(file)?;
        let bytes = f.bytes();
        let a = rel as usize;
        if a + BODY_OFFSET > bytes.len() {
            return None;
        }
        EntryHeader::decode(&bytes[a..]).ok()
    }

    fn index_record(&self, index: i64) -> Option<IndexRecord> {
        let raw = self
            .index
            .read(index * INDEX_UNIT_SIZE as i64, INDEX_UNIT_SIZE as i64)
            .ok()?;
        IndexRecord::decode(&raw).ok()
    }

    fn recover(&mut self) -> Result<Recovery, StoreError> {
        let files = self.data.files().len();
        if files == 0 {
            if !self.index.is_empty() {
                self.index.reset_to(0)?;
            }
            return Ok(Recovery {
                begin_index: -1,
                end_index: -1,
                end_term: -1,
                ..Recovery::default()
            });
        }
        // Start from the third-last file whose first record looks sane.
        let mut first = files.saturating_sub(3);
        while first > 0 {
            let start = self.data.files()[first].start;
            let sane = self.header_at(first, 0).is_some_and(|h| {
                h.check().is_ok() && h.pos == start && h.size as usize > HEADER_SIZE
            });
            if sane {
                break;
            }
            first -= 1;
        }
        let rec = match self.scan(first, false)? {
            Some(rec) => rec,
            None => {
                warn!(
                    dir = %self.index.dir().display(),
                    "recovery: index files have gaps; rebuilding them from the data"
                );
                match self.scan(0, true)? {
                    Some(rec) => rec,
                    None => return Err(StoreError::Corrupt("index rebuild failed".into())),
                }
            }
        };
        info!(
            dir = %self.root().display(),
            "recovered ledger [{}, {}] end term {}, torn tail cut: {}, rewrote {} index records",
            rec.begin_index, rec.end_index, rec.end_term, rec.torn_tail, rec.rebuilt_index_records
        );
        Ok(rec)
    }

    /// Walks the records from data file `first`; `None` when the index chain cannot
    /// be patched in place (the caller then rebuilds it whole with `rebuild_all`).
    fn scan(&mut self, first: usize, rebuild_all: bool) -> Result<Option<Recovery>, StoreError> {
        let mut rec = Recovery::default();
        let files = self.data.files().len();
        let size = self.data.file_size();
        let mut file = first;
        let mut rel: i64 = 0;
        let mut process = self.data.files()[file].start;
        let (mut last_index, mut last_term, mut first_index) = (-1i64, -1i64, -1i64);
        let mut rewrite_index = false;
        loop {
            let start = self.data.files()[file].start;
            let abs = start + rel;
            let bytes = self.data.files()[file].bytes();
            let magic = bytes
                .get(rel as usize..rel as usize + 4)
                .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            if magic == Some(BLANK_MAGIC_CODE) {
                if file + 1 >= files {
                    process = start + size;
                    break;
                }
                file += 1;
                rel = 0;
                process = self.data.files()[file].start;
                continue;
            }
            let header = self.header_at(file, rel);
            let problem = match header {
                None => Some(format!("no room for a header at {abs}")),
                Some(h) => {
                    if let Err(e) = h.check() {
                        Some(e.to_string())
                    } else if h.pos != abs {
                        Some(format!("pos {} != {abs}", h.pos))
                    } else if (h.size as usize) <= HEADER_SIZE || rel + h.size as i64 > size {
                        Some(format!("size {} does not fit", h.size))
                    } else if abs == 0 && h.index != 0 {
                        Some(format!("the record at byte 0 has index {}", h.index))
                    } else if last_index != -1 && h.index != last_index + 1 {
                        Some(format!("index {} after {last_index}", h.index))
                    } else if h.term < last_term {
                        Some(format!("term {} after {last_term}", h.term))
                    } else {
                        None
                    }
                }
            };
            let h = match (problem, header) {
                (None, Some(h)) => h,
                (why, _) => {
                    // Look a little past the end: a torn record leaves bytes there.
                    let tail = &bytes[(rel as usize).min(bytes.len())..];
                    let garbage = tail.iter().take(64 * 1024).any(|b| *b != 0);
                    rec.torn_tail = garbage || file + 1 < files;
                    if rec.torn_tail {
                        warn!(
                            dir = %self.data.dir().display(),
                            "recovery: torn or stale tail at {abs} ({}); truncating the data there",
                            why.unwrap_or_default()
                        );
                    }
                    break;
                }
            };
            let unit = INDEX_UNIT_SIZE as i64;
            let want = IndexRecord {
                magic: h.magic,
                pos: abs,
                size: h.size,
                index: h.index,
                term: h.term,
            };
            if rebuild_all && !rewrite_index {
                self.index.reset_to(h.index * unit)?;
                rewrite_index = true;
            }
            if !rewrite_index && self.index_record(h.index) != Some(want) {
                let at = h.index * unit;
                if self.index.is_empty()
                    || at < self.index.min_offset()
                    || at > self.index.max_write_pos()
                {
                    return Ok(None);
                }
                warn!(
                    dir = %self.index.dir().display(),
                    "recovery: index record {} disagrees with the data; rewriting from there",
                    h.index
                );
                self.index.truncate(at)?;
                rewrite_index = true;
            }
            if rewrite_index {
                let at = self.index.append(&want.encode(), false)?;
                if at != h.index * unit {
                    return Err(StoreError::Corrupt(format!(
                        "index record {} written at {at}",
                        h.index
                    )));
                }
                rec.rebuilt_index_records += 1;
            }
            if last_index == -1 {
                first_index = h.index;
            }
            last_index = h.index;
            last_term = h.term;
            rel += h.size as i64;
            process = abs + h.size as i64;
        }
        let begin = if last_index == -1 {
            -1
        } else if first == 0 {
            first_index
        } else {
            match self.first_index() {
                // The first record of the ledger cannot come after the first one
                // scanned; a header that says so is damaged (0.2.2 takes it as is).
                Ok(b) if (0..=first_index).contains(&b) => b,
                // The first file is damaged: start over from it.
                _ => return Ok(None),
            }
        };
        self.data.truncate(process)?;
        self.index
            .truncate((last_index + 1).max(0) * INDEX_UNIT_SIZE as i64)?;
        self.end = last_index;
        self.end_term = last_term;
        self.begin = begin;
        rec.begin_index = self.begin;
        rec.end_index = self.end;
        rec.end_term = self.end_term;
        Ok(Some(rec))
    }

    /// The index of the first record in the first data file (`reviseLedgerBeginIndex`).
    fn first_index(&self) -> Result<i64, StoreError> {
        let start = self.data.min_offset();
        match self.header_at(0, 0) {
            Some(h) if h.check().is_ok() && h.pos == start => Ok(h.index),
            _ => Err(StoreError::Corrupt(
                "first data file does not start with an entry".into(),
            )),
        }
    }

    fn restore_committed(&mut self, c: i64) {
        let c = c.min(self.end);
        if c >= 0 && c >= self.begin {
            if let Ok(e) = self.get(c) {
                self.committed = c;
                self.committed_pos = e.pos + e.size() as i64;
            }
        }
    }

    /// Moves the committed position readers see (after the entry is on file).
    fn publish_committed(&self) {
        self.positions
            .committed
            .store(self.committed_pos, Ordering::Release);
    }

    /// End of the last committed entry in the data chain (-1 before any commit).
    pub fn committed_pos(&self) -> i64 {
        self.committed_pos
    }
    /// Highest committed index known to the store.
    pub fn committed_index(&self) -> i64 {
        self.committed
    }
    /// End of the written data.
    pub fn write_pos(&self) -> i64 {
        self.data.max_write_pos()
    }

    /// Installs (or removes) the leader-side append hook.
    pub fn set_append_hook(&mut self, hook: Option<AppendHook>) {
        self.hook = hook;
    }

    /// Copies `len` bytes of the data files at absolute position `pos` (how
    /// `DLedgerCommitLog` reads a message at entry pos + 48).
    pub fn read_data(&self, pos: i64, len: i64) -> Result<Vec<u8>, StoreError> {
        self.data.read(pos, len)
    }

    /// Forces data and index to disk.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        self.data.flush()?;
        self.index.flush()
    }

    /// The data and index files' unflushed bytes, to sync without holding the store (the
    /// periodic flush); hand them back to [`Self::mark_flushed`] once synced.
    pub fn flush_jobs(&self) -> PendingFlush {
        PendingFlush {
            data: self.data.flush_jobs(),
            index: self.index.flush_jobs(),
        }
    }

    /// Records a synced [`PendingFlush`].
    pub fn mark_flushed(&mut self, done: &PendingFlush) {
        self.data.mark_flushed(&done.data);
        self.index.mark_flushed(&done.index);
    }

    /// Writes `checkpoint` (`persistCheckPoint`).
    pub fn persist_checkpoint(&self) -> Result<(), StoreError> {
        let text = props::render(&[
            ("endIndex", self.end.to_string()),
            ("committedIndex", self.committed.to_string()),
        ]);
        props::write_safely(&self.root().join(CHECKPOINT_FILE), &text)
    }

    /// Reads `currterm`; a missing file means term 0 and no vote.
    pub fn load_term(&self) -> PersistedState {
        load_term(&self.root())
    }

    /// Writes `currterm` (`MemberState.persistTerm`).
    pub fn persist_term(&self, s: &PersistedState) -> Result<(), StoreError> {
        persist_term(&self.root(), s)
    }

    fn write_entry(&mut self, e: &Entry) -> Result<(), LogError> {
        let len = e.size() as i64;
        let want = place(self.data.max_write_pos(), len, self.data.file_size())
            .ok_or(LogError::TooLarge(len))?;
        if want != e.pos {
            return Err(LogError::BadPos { got: e.pos, want });
        }
        let at = self.data.append(&e.encode(), true).map_err(log_err)?;
        if at != e.pos {
            return Err(LogError::BadPos {
                got: e.pos,
                want: at,
            });
        }
        let ix = self
            .index
            .append(&IndexRecord::of(e).encode(), false)
            .map_err(log_err)?;
        if ix != e.index * INDEX_UNIT_SIZE as i64 {
            return Err(LogError::Disk(format!(
                "index record {} written at {ix}",
                e.index
            )));
        }
        self.end = e.index;
        self.end_term = e.term;
        if self.begin == -1 {
            self.begin = e.index;
            self.positions.begin.store(e.pos, Ordering::Release);
        }
        self.positions.write.store(e.pos + len, Ordering::Release);
        Ok(())
    }
}

/// Reads `<root>/currterm`.
pub fn load_term(root: &Path) -> PersistedState {
    let Some(p) = props::read(&root.join(TERM_FILE)) else {
        return PersistedState::default();
    };
    PersistedState {
        term: p.get("currTerm").and_then(|v| v.parse().ok()).unwrap_or(0),
        vote_for: p.get("voteLeader").filter(|v| !v.is_empty()).cloned(),
    }
}

/// Writes `<root>/currterm`.
pub fn persist_term(root: &Path, s: &PersistedState) -> Result<(), StoreError> {
    let text = props::render(&[
        ("currTerm", s.term.to_string()),
        ("voteLeader", s.vote_for.clone().unwrap_or_default()),
    ]);
    props::write_safely(&root.join(TERM_FILE), &text)
}

impl LogStore for DLedgerStore {
    fn begin_index(&self) -> i64 {
        self.begin
    }
    fn end_index(&self) -> i64 {
        self.end
    }
    fn end_term(&self) -> i64 {
        self.end_term
    }

    fn get(&self, index: i64) -> Result<Entry, LogError> {
        if index < 0 || index < self.begin || index > self.end {
            return Err(LogError::OutOfRange {
                index,
                begin: self.begin,
                end: self.end,
            });
        }
        let rec = self
            .index_record(index)
            .ok_or_else(|| LogError::Disk(format!("no index record for {index}")))?;
        let raw = self.data.read(rec.pos, rec.size as i64).map_err(log_err)?;
        let e = Entry::decode(&raw).map_err(|e| LogError::Disk(e.to_string()))?;
        if e.pos != rec.pos || e.index != index {
            return Err(LogError::Disk(format!(
                "entry at {} says index {} pos {}",
                rec.pos, e.index, e.pos
            )));
        }
        Ok(e)
    }

    fn append_as_leader(&mut self, term: i64, body: Bytes) -> Result<Entry, LogError> {
        let mut e = Entry::new(body);
        e.index = self.end + 1;
        e.term = term;
        let len = e.size() as i64;
        e.pos = place(self.data.max_write_pos(), len, self.data.file_size())
            .ok_or(LogError::TooLarge(len))?;
        if let Some(hook) = &self.hook {
            let mut body = e.body.to_vec();
            (hook.0)(e.index, e.pos, &mut body);
            e.body = Bytes::from(body);
        }
        self.write_entry(&e)?;
        Ok(e)
    }

    fn append_as_follower(&mut self, entry: &Entry) -> Result<(), LogError> {
        if entry.index != self.end + 1 {
            return Err(LogError::NotNext {
                got: entry.index,
                want: self.end + 1,
            });
        }
        self.write_entry(entry)
    }

    fn truncate(&mut self, entry: &Entry) -> Result<i64, LogError> {
        let i = entry.index;
        // the entry comes from a TRUNCATE push: refuse what no index file can address
        if i < 0
            || entry.pos < 0
            || i.checked_add(1)
                .and_then(|n| n.checked_mul(INDEX_UNIT_SIZE as i64))
                .is_none()
        {
            return Err(LogError::OutOfRange {
                index: i,
                begin: self.begin,
                end: self.end,
            });
        }
        let existed = self.get(i).map(|e| e.same_as(entry)).unwrap_or(false);
        let keep = if existed { i + 1 } else { i };
        if keep <= self.committed {
            return Err(LogError::BelowCommitted {
                index: keep,
                committed: self.committed,
            });
        }
        // Cut right after the last entry we keep, so the next placement (and its
        // blank marker, if any) is computed afresh.
        let cut = if keep > self.begin && keep > 0 && keep - 1 <= self.end {
            let last = self.get(keep - 1)?;
            last.pos + last.size() as i64
        } else {
            -1
        };
        if cut >= 0 {
            self.data.truncate(cut).map_err(log_err)?;
            self.index
                .truncate(keep * INDEX_UNIT_SIZE as i64)
                .map_err(log_err)?;
            self.end = keep - 1;
            self.end_term = self.get(keep - 1).map(|e| e.term)?;
        } else {
            // Nothing kept: start over where the leader's entry sits.
            self.data.reset_to(entry.pos).map_err(log_err)?;
            self.index
                .reset_to(i * INDEX_UNIT_SIZE as i64)
                .map_err(log_err)?;
            self.begin = -1;
            self.end = i - 1;
            self.end_term = -1;
        }
        if !existed {
            self.write_entry(entry)?;
        }
        if self.committed > self.end {
            self.committed = self.end;
        }
        self.publish_positions();
        Ok(i)
    }

    fn set_committed(&mut self, index: i64) {
        if index > self.committed && index <= self.end {
            if let Ok(e) = self.get(index) {
                self.committed = index;
                self.committed_pos = e.pos + e.size() as i64;
                self.publish_committed();
            }
        }
    }
}
