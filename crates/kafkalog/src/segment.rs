//! One segment of a partition: a `.log` file of records plus its `.index` and `.timeindex`,
//! all three named after the segment's base offset (the offset of its first record) as a
//! 20-digit zero-padded number, e.g. `00000000000000368769.log`.
//!
//! Appends go to the end of the `.log` file with a plain positional write, one per record,
//! as Kafka's `FileRecords.append` does through a `FileChannel`. We use `File` rather than a
//! memory map for the log on purpose: that is Kafka's design (mmap for the small indexes,
//! channel writes for the log, `sendfile` for reads), the opposite of RocketMQ's
//! `MappedFile`, and the difference is what Part V measures. Reads find a byte range with
//! [`Segment::fetch_range`]; [`Segment::send_to`] copies it to any writer, and a caller that
//! wants Kafka's zero-copy path (`FileRecords.writeTo` -> `FileChannel.transferTo`, i.e.
//! `sendfile`) passes the range and [`Segment::log_file`] to `sendfile` itself, as Part V's
//! experiment does.
//!
//! Book: Part V "RocketMQ vs Kafka: one log or many". Mirrors Kafka's `LogSegment` and
//! `FileRecords`.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::config::LogConfig;
use crate::error::{LogError, Result};
use crate::index::{OffsetEntry, OffsetIndex, TimeEntry, TimeIndex};
use crate::record::{self, Record, LOG_OVERHEAD};

/// `<20-digit base offset>.<ext>` in `dir`.
pub fn file_name(dir: &Path, base_offset: i64, ext: &str) -> PathBuf {
    dir.join(format!("{base_offset:020}.{ext}"))
}

/// A record's location and the fields a scan needs without reading its value.
#[derive(Debug, Clone, Copy)]
struct Header {
    offset: i64,
    /// Position of the record's first byte in the `.log` file.
    position: u64,
    /// Total bytes of the record, overhead included.
    len: u64,
}

/// A segment: its files, its size and what the indexes need to continue.
#[derive(Debug)]
pub struct Segment {
    base_offset: i64,
    log_path: PathBuf,
    log: File,
    size: u64,
    index: OffsetIndex,
    time_index: TimeIndex,
    index_interval_bytes: u32,
    bytes_since_last_index_entry: u32,
    /// Largest timestamp in the segment so far (`i64::MIN` while empty) and its offset.
    max_timestamp: i64,
    offset_of_max_timestamp: i64,
    /// Offset the next appended record gets.
    next_offset: i64,
}

impl Segment {
    /// Opens the segment with base offset `base_offset` in `dir`, creating empty files when
    /// they do not exist. With `recover`, the log is scanned, the indexes are rebuilt and a
    /// torn or corrupt tail is cut off (what Kafka does to segments after the recovery
    /// point); without, the indexes are trusted.
    pub fn open(dir: &Path, base_offset: i64, config: &LogConfig, recover: bool) -> Result<Self> {
        let log_path = file_name(dir, base_offset, "log");
        let log = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&log_path)
            .map_err(LogError::io("opening", &log_path))?;
        let size = log
            .metadata()
            .map_err(LogError::io("stat", &log_path))?
            .len();
        let mut seg = Segment {
            base_offset,
            log_path,
            log,
            size,
            index: OffsetIndex::open(&file_name(dir, base_offset, "index"))?,
            time_index: TimeIndex::open(&file_name(dir, base_offset, "timeindex"))?,
            index_interval_bytes: config.index_interval_bytes,
            bytes_since_last_index_entry: 0,
            max_timestamp: i64::MIN,
            offset_of_max_timestamp: base_offset,
            next_offset: base_offset,
        };
        if recover || !seg.indexes_are_sane() {
            seg.recover()?;
        } else if let Some(t) = seg.time_index.last() {
            seg.max_timestamp = t.timestamp;
            seg.offset_of_max_timestamp = base_offset + i64::from(t.relative_offset);
        }
        Ok(seg)
    }

    fn indexes_are_sane(&self) -> bool {
        let ordered =
            self.index.entries().windows(2).all(|w| {
                w[0].relative_offset < w[1].relative_offset && w[0].position < w[1].position
            });
        let inside = self
            .index
            .last()
            .map_or(true, |e| u64::from(e.position) < self.size);
        // A sealed non-empty segment always ends with a time-index entry (see `seal`).
        ordered && inside && (self.size == 0 || self.time_index.last().is_some())
    }

    /// The offset of the segment's first record; also the number in its file names.
    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }

    /// Bytes in the `.log` file.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The largest timestamp in the segment (`i64::MIN` when empty).
    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }

    /// The offset after the last record (valid for the active segment and after recovery).
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// The offset index's entries (for tests and the book's tour).
    pub fn offset_index(&self) -> &OffsetIndex {
        &self.index
    }

    /// The time index's entries.
    pub fn time_index(&self) -> &TimeIndex {
        &self.time_index
    }

    /// Whether a record of `len` bytes should go to a new segment instead: the segment would
    /// outgrow `segment.bytes` (an empty segment takes any record), or the relative offset
    /// would not fit the index's four bytes.
    pub fn should_roll(&self, len: usize, config: &LogConfig) -> bool {
        (self.size > 0 && self.size + len as u64 > config.segment_bytes)
            || self.next_offset - self.base_offset >= i64::from(u32::MAX)
            || self.size + len as u64 > u64::from(u32::MAX)
    }

    // ANCHOR: append
    /// Appends one encoded record (offset `offset`, timestamp `timestamp`) at the end of the
    /// log, adding index entries when `index.interval.bytes` have passed since the last one.
    pub fn append(&mut self, offset: i64, timestamp: i64, encoded: &[u8]) -> Result<()> {
        let position = self.size;
        self.log
            .write_all_at(encoded, position)
            .map_err(LogError::io("appending to", &self.log_path))?;
        self.size += encoded.len() as u64;
        self.index_record(offset, timestamp, position, encoded.len())
    }

    /// The bookkeeping after a record landed at `position` (shared with recovery).
    fn index_record(
        &mut self,
        offset: i64,
        timestamp: i64,
        position: u64,
        len: usize,
    ) -> Result<()> {
        if timestamp > self.max_timestamp {
            self.max_timestamp = timestamp;
            self.offset_of_max_timestamp = offset;
        }
        if self.bytes_since_last_index_entry > self.index_interval_bytes {
            self.index.append(OffsetEntry {
                relative_offset: self.relative(offset),
                position: position as u32, // should_roll keeps segments under 4 GiB
            })?;
            self.maybe_append_time_entry()?;
            self.bytes_since_last_index_entry = 0;
        }
        self.bytes_since_last_index_entry =
            self.bytes_since_last_index_entry.saturating_add(len as u32);
        self.next_offset = offset + 1;
        Ok(())
    }
    // ANCHOR_END: append

    fn relative(&self, offset: i64) -> u32 {
        (offset - self.base_offset) as u32
    }

    /// Adds `(max timestamp so far, its offset)` to the time index if it is newer than the
    /// last entry (time-index entries only ever grow).
    fn maybe_append_time_entry(&mut self) -> Result<()> {
        if self.max_timestamp == i64::MIN
            || self
                .time_index
                .last()
                .is_some_and(|t| t.timestamp >= self.max_timestamp)
        {
            return Ok(());
        }
        self.time_index.append(TimeEntry {
            timestamp: self.max_timestamp,
            relative_offset: self.relative(self.offset_of_max_timestamp),
        })
    }

    /// Forces the log and both indexes to disk.
    pub fn flush(&mut self) -> Result<()> {
        self.log
            .sync_data()
            .map_err(LogError::io("syncing", &self.log_path))?;
        self.index.flush()?;
        self.time_index.flush()
    }

    /// Called when the segment stops being the active one: records its largest timestamp in
    /// the time index (so lookups by time need not scan sealed segments) and flushes.
    pub fn seal(&mut self) -> Result<()> {
        self.maybe_append_time_entry()?;
        self.flush()
    }

    fn corrupt(&self, position: u64, reason: String) -> LogError {
        LogError::Corrupt {
            path: self.log_path.clone(),
            position,
            reason,
        }
    }

    /// The header of the record at `position`, or `None` at the end of the log.
    fn header_at(&self, position: u64) -> Result<Option<Header>> {
        if position + LOG_OVERHEAD as u64 > self.size {
            return Ok(None);
        }
        let mut b = [0u8; LOG_OVERHEAD];
        self.log
            .read_exact_at(&mut b, position)
            .map_err(LogError::io("reading", &self.log_path))?;
        let (offset, size) = record::parse_overhead(&b);
        let size = record::check_size(size).map_err(|r| self.corrupt(position, r))?;
        let len = (LOG_OVERHEAD + size) as u64;
        if position + len > self.size {
            return Err(self.corrupt(position, "record runs past the end of the log".into()));
        }
        Ok(Some(Header {
            offset,
            position,
            len,
        }))
    }

    /// Reads and verifies the whole record a header describes.
    fn record_at(&self, h: Header) -> Result<Record> {
        let mut body = vec![0u8; h.len as usize - LOG_OVERHEAD];
        self.log
            .read_exact_at(&mut body, h.position + LOG_OVERHEAD as u64)
            .map_err(LogError::io("reading", &self.log_path))?;
        record::decode_body(h.offset, &body).map_err(|r| self.corrupt(h.position, r))
    }

    // ANCHOR: translate
    /// The header of the first record with an offset at or after `offset`: binary search in
    /// the sparse index, then a scan of record headers from the position it gives.
    fn translate(&self, offset: i64) -> Result<Option<Header>> {
        let rel = offset
            .saturating_sub(self.base_offset)
            .clamp(0, i64::from(u32::MAX)) as u32;
        let mut position = u64::from(self.index.lookup(rel));
        while let Some(h) = self.header_at(position)? {
            if h.offset >= offset {
                return Ok(Some(h));
            }
            position += h.len;
        }
        Ok(None)
    }
    // ANCHOR_END: translate

    /// The record with offset `offset`, if this segment holds it.
    pub fn read(&self, offset: i64) -> Result<Option<Record>> {
        match self.translate(offset)? {
            Some(h) if h.offset == offset => self.record_at(h).map(Some),
            _ => Ok(None),
        }
    }

    /// Up to `max` records from `offset` on (fewer at the end of the segment).
    pub fn read_from(&self, offset: i64, max: usize) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        let Some(mut h) = self.translate(offset)? else {
            return Ok(out);
        };
        loop {
            if out.len() >= max {
                break;
            }
            out.push(self.record_at(h)?);
            match self.header_at(h.position + h.len)? {
                Some(next) => h = next,
                None => break,
            }
        }
        Ok(out)
    }

    /// The first record whose timestamp is at or after `timestamp`, if this segment has one:
    /// the time index gives an offset every record before which is older, the offset index a
    /// position, and a scan does the rest.
    pub fn find_by_timestamp(&self, timestamp: i64) -> Result<Option<Record>> {
        if self.max_timestamp < timestamp {
            return Ok(None);
        }
        let from = self.base_offset + i64::from(self.time_index.lookup(timestamp));
        let Some(mut h) = self.translate(from)? else {
            return Ok(None);
        };
        loop {
            let r = self.record_at(h)?;
            if r.timestamp >= timestamp {
                return Ok(Some(r));
            }
            match self.header_at(h.position + h.len)? {
                Some(next) => h = next,
                None => return Ok(None),
            }
        }
    }

    // ANCHOR: send_to
    /// Where the records a fetch from `offset` returns lie in the `.log` file: `(position,
    /// length)` of the records from `offset` on, at most `max_bytes` but at least one record,
    /// cut at a record boundary (a walk over the record headers after the first one).
    pub fn fetch_range(&self, offset: i64, max_bytes: u64) -> Result<Option<(u64, u64)>> {
        let Some(first) = self.translate(offset)? else {
            return Ok(None);
        };
        let mut end = first.position + first.len;
        while let Some(h) = self.header_at(end)? {
            if end + h.len - first.position > max_bytes {
                break;
            }
            end += h.len;
        }
        Ok(Some((first.position, end - first.position)))
    }

    /// The segment's `.log` file, for a caller that sends a [`Segment::fetch_range`] itself
    /// (with `sendfile`, as Kafka's `FileRecords.writeTo` does through `transferTo`).
    pub fn log_file(&self) -> &File {
        &self.log
    }

    /// Copies the raw bytes of the records from `offset` on (the [`Segment::fetch_range`]) to
    /// `dest`, and returns how many were copied. `io::copy` from a `File` into another regular
    /// file is `copy_file_range` on Linux (the bytes stay in the kernel); into a socket, the
    /// standard library copies through a buffer in this process (it does not use `sendfile`
    /// for sockets, see Part V).
    pub fn send_to(&self, offset: i64, max_bytes: u64, dest: &mut impl Write) -> Result<u64> {
        let Some((position, len)) = self.fetch_range(offset, max_bytes)? else {
            return Ok(0);
        };
        let mut file = &self.log;
        file.seek(SeekFrom::Start(position))
            .map_err(LogError::io("seeking", &self.log_path))?;
        let mut range = std::io::Read::take(file, len);
        std::io::copy(&mut range, dest).map_err(LogError::io("sending from", &self.log_path))
    }
    // ANCHOR_END: send_to

    // ANCHOR: recover
    /// Rebuilds both indexes by scanning the log and cuts it after the last valid record: one
    /// whose header fits, whose size is sane, whose CRC matches and whose offset follows the
    /// previous one. Returns the number of bytes cut off.
    pub fn recover(&mut self) -> Result<u64> {
        self.index.reset()?;
        self.time_index.reset()?;
        self.bytes_since_last_index_entry = 0;
        self.max_timestamp = i64::MIN;
        self.offset_of_max_timestamp = self.base_offset;
        self.next_offset = self.base_offset;
        let mut position = 0u64;
        let valid_end = loop {
            let h = match self.header_at(position) {
                Ok(Some(h)) if h.offset == self.next_offset => h,
                Ok(_) | Err(LogError::Corrupt { .. }) => break position,
                Err(e) => return Err(e),
            };
            let r = match self.record_at(h) {
                Ok(r) => r,
                Err(LogError::Corrupt { .. }) => break position,
                Err(e) => return Err(e),
            };
            self.index_record(r.offset, r.timestamp, position, h.len as usize)?;
            position += h.len;
        };
        let cut = self.size - valid_end;
        if cut > 0 {
            tracing::warn!(
                log = %self.log_path.display(),
                valid_bytes = valid_end,
                truncated_bytes = cut,
                next_offset = self.next_offset,
                "torn or corrupt tail: truncating the segment after its last valid record"
            );
            self.log
                .set_len(valid_end)
                .map_err(LogError::io("truncating", &self.log_path))?;
            self.size = valid_end;
        }
        Ok(cut)
    }
    // ANCHOR_END: recover
}
