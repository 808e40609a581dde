//! The log of one partition: a directory of segments, the newest one active. Appends assign
//! consecutive offsets, roll to a new segment at `segment.bytes`, and fsync every
//! `flush.messages` appends or when asked; reads find the segment by base offset and let it
//! find the record.
//!
//! Opening a directory trusts the sealed segments (a segment is flushed when it is sealed)
//! and recovers the active one: its tail may be torn by a crash, so it is scanned and cut
//! after the last valid record.
//!
//! Book: Part V "RocketMQ vs Kafka: one log or many". Mirrors Kafka's `kafka.log.Log`
//! (since 3.x `UnifiedLog`/`LocalLog`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::LogConfig;
use crate::error::{LogError, Result};
use crate::record::{self, Record};
use crate::segment::Segment;

/// One partition's log.
#[derive(Debug)]
pub struct PartitionLog {
    dir: PathBuf,
    config: LogConfig,
    /// Segments by base offset; the last is the active one.
    segments: BTreeMap<i64, Segment>,
    unflushed: u64,
    scratch: Vec<u8>,
}

/// The base offset a segment file name stands for (`None` for other files).
fn base_offset_of(path: &Path) -> Result<Option<i64>> {
    if path.extension().and_then(|e| e.to_str()) != Some("log") {
        return Ok(None);
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    match stem.parse::<i64>() {
        Ok(b) if stem.len() == 20 && b >= 0 => Ok(Some(b)),
        _ => Err(LogError::BadFileName(path.to_path_buf())),
    }
}

impl PartitionLog {
    /// Opens the partition in `dir` (created if missing).
    pub fn open(dir: impl Into<PathBuf>, config: LogConfig) -> Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(LogError::io("creating", &dir))?;
        let mut bases = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(LogError::io("listing", &dir))? {
            let entry = entry.map_err(LogError::io("listing", &dir))?;
            if let Some(b) = base_offset_of(&entry.path())? {
                bases.push(b);
            }
        }
        bases.sort_unstable();
        if bases.is_empty() {
            bases.push(0);
        }
        let last = bases.len() - 1;
        let mut segments = BTreeMap::new();
        for (i, b) in bases.into_iter().enumerate() {
            segments.insert(b, Segment::open(&dir, b, &config, i == last)?);
        }
        Ok(PartitionLog {
            dir,
            config,
            segments,
            unflushed: 0,
            scratch: Vec::new(),
        })
    }

    fn active(&self) -> &Segment {
        self.segments
            .values()
            .next_back()
            .expect("a partition always has an active segment")
    }

    fn active_mut(&mut self) -> &mut Segment {
        self.segments
            .values_mut()
            .next_back()
            .expect("a partition always has an active segment")
    }

    /// The directory holding the segments.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The offset the next record will get (Kafka's log end offset).
    pub fn log_end_offset(&self) -> i64 {
        self.active().next_offset()
    }

    /// The offset of the first record still on disk.
    pub fn log_start_offset(&self) -> i64 {
        self.segments.keys().next().copied().unwrap_or(0)
    }

    /// The segments, oldest first.
    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.segments.values()
    }

    /// Bytes of records across all segments.
    pub fn size_in_bytes(&self) -> u64 {
        self.segments.values().map(Segment::size).sum()
    }

    // ANCHOR: partition_append
    /// Appends one record and returns its offset, rolling to a new segment when the active
    /// one is full and flushing every `flush.messages` appends.
    pub fn append(&mut self, key: &[u8], value: &[u8], timestamp: i64) -> Result<i64> {
        let offset = self.log_end_offset();
        record::encode(&mut self.scratch, offset, timestamp, key, value)?;
        if self.active().should_roll(self.scratch.len(), &self.config) {
            self.roll()?;
        }
        let encoded = std::mem::take(&mut self.scratch);
        let appended = self.active_mut().append(offset, timestamp, &encoded);
        self.scratch = encoded;
        appended?;
        self.unflushed += 1;
        if self
            .config
            .flush_interval_messages
            .is_some_and(|n| self.unflushed >= n)
        {
            self.flush()?;
        }
        Ok(offset)
    }
    // ANCHOR_END: partition_append

    /// Seals the active segment and starts a new one at the log end offset.
    pub fn roll(&mut self) -> Result<()> {
        let next = self.log_end_offset();
        if self.active().size() == 0 {
            return Ok(());
        }
        self.active_mut().seal()?;
        let seg = Segment::open(&self.dir, next, &self.config, true)?;
        self.segments.insert(next, seg);
        Ok(())
    }

    /// Forces everything appended so far to disk (sealed segments were flushed when sealed).
    pub fn flush(&mut self) -> Result<()> {
        self.active_mut().flush()?;
        self.unflushed = 0;
        Ok(())
    }

    fn segment_for(&self, offset: i64) -> Option<&Segment> {
        self.segments.range(..=offset).next_back().map(|(_, s)| s)
    }

    /// The record at `offset`, if the log holds it.
    pub fn read(&self, offset: i64) -> Result<Option<Record>> {
        match self.segment_for(offset) {
            Some(s) if offset < self.log_end_offset() => s.read(offset),
            _ => Ok(None),
        }
    }

    /// Up to `max` consecutive records from `offset` on, crossing segments.
    pub fn read_from(&self, offset: i64, max: usize) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        let mut at = offset.max(self.log_start_offset());
        for seg in self
            .segments
            .range(..=at)
            .next_back()
            .into_iter()
            .map(|(_, s)| s)
            .chain(self.segments.range(at.saturating_add(1)..).map(|(_, s)| s))
        {
            if out.len() >= max {
                break;
            }
            let got = seg.read_from(at, max - out.len())?;
            if let Some(last) = got.last() {
                at = last.offset + 1;
            }
            out.extend(got);
        }
        Ok(out)
    }

    // ANCHOR: find_by_time
    /// The first record (lowest offset) whose timestamp is at or after `timestamp`: the first
    /// segment whose largest timestamp reaches it, then that segment's time index.
    pub fn find_by_timestamp(&self, timestamp: i64) -> Result<Option<Record>> {
        match self
            .segments
            .values()
            .find(|s| s.max_timestamp() >= timestamp)
        {
            Some(s) => s.find_by_timestamp(timestamp),
            None => Ok(None),
        }
    }
    // ANCHOR_END: find_by_time

    /// Where the records a fetch from `offset` returns lie (within one segment, at most
    /// `max_bytes` but at least one record): the segment and the byte range of its `.log`
    /// file, `(segment, position, length)`, for a caller that sends it with `sendfile`.
    pub fn fetch_range(&self, offset: i64, max_bytes: u64) -> Result<Option<(&Segment, u64, u64)>> {
        match self.segment_for(offset) {
            Some(s) if offset < self.log_end_offset() => Ok(s
                .fetch_range(offset, max_bytes)?
                .map(|(position, len)| (s, position, len))),
            _ => Ok(None),
        }
    }

    /// Copies the raw records from `offset` on (within one segment, at most `max_bytes` but at
    /// least one record) to `dest`, the way a Kafka fetch response is served.
    pub fn send_to(&self, offset: i64, max_bytes: u64, dest: &mut impl Write) -> Result<u64> {
        match self.segment_for(offset) {
            Some(s) if offset < self.log_end_offset() => s.send_to(offset, max_bytes, dest),
            _ => Ok(0),
        }
    }
}
