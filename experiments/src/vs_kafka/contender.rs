//! The two sides of the comparison behind one trait: rmq-store (`DefaultMessageStore`, one
//! commit log plus a consume queue per queue) and rmq-kafkalog (`Log`, a directory of
//! segments per partition), each opened in its own directory of the experiment's scratch
//! space.
//!
//! Reads use each side's real read API, the one its broker would call for a consumer:
//! the store's `get_message` (consume-queue entries, then one copy per message out of the
//! mapped commit log) and kafkalog's `send_to` (binary search in the sparse offset index, a
//! walk over record headers, then the byte range of the segment, here copied into a buffer).
//!
//! Book: Part V "RocketMQ vs Kafka: one log or many".

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use rmq_common::MessageExtBrokerInner;
use rmq_kafkalog::record::{encoded_len, parse_overhead, LOG_OVERHEAD};
use rmq_kafkalog::segment::file_name;
use rmq_kafkalog::{Log, LogConfig};
use rmq_store::mapped_file::MappedFile;
use rmq_store::{
    DefaultMessageStore, FlushDiskType, GetMessageStatus, MessageStoreConfig, PutMessageStatus,
};
use serde::Serialize;

use super::{Side, GROUP, TOPIC};
use crate::messages::message;
use crate::page_cache::{evict_file, evict_mapped};

/// How both sides are set up (the same for every workload).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SideConfig {
    /// Bytes of every message body (kafkalog: the record's value; no key).
    pub body_bytes: usize,
    /// The store's commit-log file size (`mappedFileSizeCommitLog`).
    pub commit_log_file_bytes: u64,
    /// kafkalog's `segment.bytes`.
    pub kafka_segment_bytes: u64,
    /// kafkalog's `index.interval.bytes`.
    pub kafka_index_interval_bytes: u32,
}

/// What one read call returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    /// Messages returned.
    pub messages: usize,
    /// Bytes of the records as stored (headers included).
    pub bytes: u64,
    /// The offset the next read of the queue starts at.
    pub next_offset: i64,
}

impl Batch {
    fn empty(at: i64) -> Batch {
        Batch {
            messages: 0,
            bytes: 0,
            next_offset: at,
        }
    }
}

/// What a file holds, for the page-cache experiments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FileKind {
    /// Message bytes: the store's commit log, kafkalog's segment `.log` files.
    Log,
    /// A per-queue structure that a read consults on disk: the store's consume queues.
    /// (kafkalog answers its index lookups from memory, so it has none.)
    Index,
}

/// A file that a read consults.
#[derive(Debug, Clone)]
pub struct DataFile {
    /// The file's path.
    pub path: PathBuf,
    /// What the file holds.
    pub kind: FileKind,
    /// Bytes in use (written records or entries).
    pub used: u64,
    /// The file's length (the store preallocates its mapped files).
    pub len: u64,
}

/// One side of the comparison, as the workloads use it.
pub trait Contender {
    /// Which system this is.
    fn side(&self) -> Side;
    /// Appends one message to `queue`.
    fn append(&mut self, queue: u32) -> Result<()>;
    /// Forces everything appended so far to disk.
    fn force(&mut self) -> Result<()>;
    /// Blocks until every appended message can be read (the store's consume queues are built
    /// by a background thread; kafkalog's records are readable at once).
    fn wait_readable(&mut self) -> Result<()>;
    /// One consumer read: up to `max` messages of `queue` from `offset`, copied into this
    /// process's memory. An empty batch means the queue has nothing at `offset` yet.
    fn read(&mut self, queue: u32, offset: i64, max: usize) -> Result<Batch>;
    /// The files that hold messages or the structures a read consults.
    fn data_files(&self) -> Result<Vec<DataFile>>;
    /// Drops the files of the given kinds from the page cache (see [`crate::page_cache`]).
    fn evict_page_cache(&mut self, kinds: &[FileKind]) -> Result<()>;
    /// Waits for background work and stops.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// Opens a fresh `side` in `dir` for `partitions` queues.
pub fn open(side: Side, dir: &Path, c: &SideConfig, partitions: u32) -> Result<Box<dyn Contender>> {
    Ok(match side {
        Side::Store => Box::new(StoreSide::open(dir, c, partitions)?),
        Side::Kafka => Box::new(KafkaSide::open(dir, c)?),
    })
}

/// rmq-store: a `DefaultMessageStore` with ASYNC_FLUSH.
pub struct StoreSide {
    store: Arc<DefaultMessageStore>,
    templates: Vec<MessageExtBrokerInner>,
}

impl StoreSide {
    /// A fresh store in `dir` whose appends go to `partitions` queues of one topic.
    pub fn open(dir: &Path, c: &SideConfig, partitions: u32) -> Result<StoreSide> {
        let config = MessageStoreConfig {
            mapped_file_size_commit_log: c.commit_log_file_bytes,
            flush_disk_type: FlushDiskType::AsyncFlush,
            ..MessageStoreConfig::with_root(dir)
        };
        let body = Bytes::from(vec![b'm'; c.body_bytes]);
        Ok(StoreSide {
            store: DefaultMessageStore::open(config).context("opening the store")?,
            templates: (0..partitions.max(1))
                .map(|q| message(TOPIC, q as i32, body.clone(), Some("TagA"), None, None))
                .collect(),
        })
    }

    /// The store itself, for the zero-copy paths that need more than [`Contender`].
    pub fn store(&self) -> &Arc<DefaultMessageStore> {
        &self.store
    }

    fn queues(&self) -> u32 {
        self.templates.len() as u32
    }

    /// The commit-log files and the consume-queue files of every queue.
    fn mapped_files(&self) -> Vec<(FileKind, Arc<MappedFile>)> {
        // this side opens a classic store (no DLedger member), so its commit log is local
        let log = self
            .store
            .commit_log()
            .local()
            .map(|l| l.mapped_file_queue().files())
            .unwrap_or_default();
        let mut out: Vec<_> = log.into_iter().map(|f| (FileKind::Log, f)).collect();
        for q in 0..self.queues() {
            let cq = self.store.find_consume_queue(TOPIC, q as i32);
            out.extend(
                cq.mapped_file_queue()
                    .files()
                    .into_iter()
                    .map(|f| (FileKind::Index, f)),
            );
        }
        out
    }
}

impl Contender for StoreSide {
    fn side(&self) -> Side {
        Side::Store
    }

    fn append(&mut self, queue: u32) -> Result<()> {
        let r = self
            .store
            .put_message(self.templates[queue as usize].clone());
        if r.status != PutMessageStatus::PutOk {
            bail!("put failed: {:?}", r.status);
        }
        Ok(())
    }

    fn force(&mut self) -> Result<()> {
        self.store.commit_log().flush();
        Ok(())
    }

    fn wait_readable(&mut self) -> Result<()> {
        let t0 = Instant::now();
        while self.store.dispatch_behind_bytes() > 0 {
            if t0.elapsed() > Duration::from_secs(60) {
                bail!("reput still behind after 60 s");
            }
            // Sleep rather than spin: the reput thread needs the CPU (two cores, shared).
            std::thread::sleep(Duration::from_micros(100));
        }
        Ok(())
    }

    // ANCHOR: store_read
    fn read(&mut self, queue: u32, offset: i64, max: usize) -> Result<Batch> {
        let r = self
            .store
            .get_message(GROUP, TOPIC, queue as i32, offset, max as i32, &|_| true);
        match r.status {
            GetMessageStatus::Found => Ok(Batch {
                messages: r.messages.len(),
                bytes: r.buffer_total_size as u64,
                next_offset: r.next_begin_offset,
            }),
            GetMessageStatus::OffsetOverflowOne | GetMessageStatus::NoMessageInQueue => {
                Ok(Batch::empty(offset))
            }
            other => bail!("reading queue {queue} at offset {offset}: {other:?}"),
        }
    }
    // ANCHOR_END: store_read

    fn data_files(&self) -> Result<Vec<DataFile>> {
        Ok(self
            .mapped_files()
            .into_iter()
            .map(|(kind, f)| DataFile {
                path: f.path().to_path_buf(),
                kind,
                used: f.read_position() as u64,
                len: f.file_size() as u64,
            })
            .collect())
    }

    fn evict_page_cache(&mut self, kinds: &[FileKind]) -> Result<()> {
        for (kind, f) in self.mapped_files() {
            if kinds.contains(&kind) {
                let used = f.slice(0, f.read_position()).unwrap_or(&[]);
                evict_mapped(used, f.path())?;
            }
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.wait_readable()?;
        self.store.shutdown();
        Ok(())
    }
}

/// rmq-kafkalog: a `Log` with one partition per queue.
pub struct KafkaSide {
    log: Log,
    value: Vec<u8>,
    /// Bytes of one record as stored, so that a fetch of `max` records can ask for
    /// `max × record_bytes` bytes.
    record_bytes: u64,
    buf: Vec<u8>,
}

impl KafkaSide {
    /// A fresh log in `dir`.
    pub fn open(dir: &Path, c: &SideConfig) -> Result<KafkaSide> {
        Ok(KafkaSide {
            log: Log::open(
                dir,
                LogConfig {
                    segment_bytes: c.kafka_segment_bytes,
                    index_interval_bytes: c.kafka_index_interval_bytes,
                    flush_interval_messages: None,
                },
            )?,
            value: vec![b'm'; c.body_bytes],
            record_bytes: encoded_len(b"", &vec![0; c.body_bytes]) as u64,
            buf: Vec::new(),
        })
    }

    /// The log itself, for the zero-copy paths.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Bytes one record takes in a segment.
    pub fn record_bytes(&self) -> u64 {
        self.record_bytes
    }
}

/// Counts the records in `bytes` (whole records as a segment holds them) and returns the
/// count and the offset after the last one, as a consumer does with a fetch response.
pub fn count_records(bytes: &[u8], from: i64) -> Result<(usize, i64)> {
    let (mut pos, mut n, mut next) = (0usize, 0usize, from);
    while pos < bytes.len() {
        let Some(head) = bytes.get(pos..pos + LOG_OVERHEAD) else {
            bail!("a fetch ends inside a record header at byte {pos}");
        };
        let head: &[u8; LOG_OVERHEAD] = head.try_into()?;
        let (offset, size) = parse_overhead(head);
        pos += LOG_OVERHEAD + usize::try_from(size).context("negative record size")?;
        n += 1;
        next = offset + 1;
    }
    if pos != bytes.len() {
        bail!("a fetch ends inside a record");
    }
    Ok((n, next))
}

impl Contender for KafkaSide {
    fn side(&self) -> Side {
        Side::Kafka
    }

    fn append(&mut self, queue: u32) -> Result<()> {
        self.log
            .append(TOPIC, queue, b"", &self.value, rmq_store::now_ms())?;
        Ok(())
    }

    fn force(&mut self) -> Result<()> {
        Ok(self.log.flush_all()?)
    }

    fn wait_readable(&mut self) -> Result<()> {
        Ok(())
    }

    // ANCHOR: kafka_read
    fn read(&mut self, queue: u32, offset: i64, max: usize) -> Result<Batch> {
        let Some(partition) = self.log.get(TOPIC, queue) else {
            return Ok(Batch::empty(offset));
        };
        self.buf.clear();
        let bytes = partition.send_to(offset, max as u64 * self.record_bytes, &mut self.buf)?;
        let (messages, next_offset) = count_records(&self.buf, offset)?;
        Ok(Batch {
            messages,
            bytes,
            next_offset,
        })
    }
    // ANCHOR_END: kafka_read

    fn data_files(&self) -> Result<Vec<DataFile>> {
        let mut out = Vec::new();
        for (_, p) in self.log.partitions() {
            for s in p.segments() {
                out.push(DataFile {
                    path: file_name(p.dir(), s.base_offset(), "log"),
                    kind: FileKind::Log,
                    used: s.size(),
                    len: s.size(),
                });
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    fn evict_page_cache(&mut self, kinds: &[FileKind]) -> Result<()> {
        // Only .log files matter: kafkalog answers index lookups from memory, so its .index
        // and .timeindex files are never read.
        if kinds.contains(&FileKind::Log) {
            for f in self.data_files()? {
                evict_file(&f.path)?;
            }
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        Ok(self.log.flush_all()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page_cache::{resident_bytes, CAN_EVICT};

    fn config() -> SideConfig {
        SideConfig {
            body_bytes: 1000,
            commit_log_file_bytes: 4 << 20,
            kafka_segment_bytes: 1 << 20,
            kafka_index_interval_bytes: 4096,
        }
    }

    /// Reads every queue from 0 to its end in batches of `max`; returns messages per queue.
    fn drain(c: &mut dyn Contender, queues: u32, max: usize) -> Vec<usize> {
        (0..queues)
            .map(|q| {
                let (mut at, mut n) = (0i64, 0usize);
                loop {
                    let b = c.read(q, at, max).unwrap();
                    assert!(b.messages <= max);
                    if b.messages == 0 {
                        break n;
                    }
                    assert_eq!(b.next_offset, at + b.messages as i64);
                    assert!(b.bytes >= (b.messages * 1000) as u64);
                    n += b.messages;
                    at = b.next_offset;
                }
            })
            .collect()
    }

    #[test]
    fn both_sides_read_back_what_was_appended_also_after_eviction() {
        // Under target/: tmpfs (often /tmp) would ignore the eviction.
        let root = crate::workspace_root().join("target/experiments");
        std::fs::create_dir_all(&root).unwrap();
        let tmp = tempfile::tempdir_in(root).unwrap();
        for side in Side::ALL {
            let dir = tmp.path().join(format!("{side:?}"));
            let mut c = open(side, &dir, &config(), 4).unwrap();
            // 3001 messages over 4 queues: 751 in queue 0, 750 in the others; kafkalog
            // rolls segments at 1 MiB on the way.
            for i in 0..3001u32 {
                c.append(i % 4).unwrap();
            }
            c.wait_readable().unwrap();
            assert_eq!(
                drain(c.as_mut(), 4, 32),
                vec![751, 750, 750, 750],
                "{side:?}"
            );
            let files = c.data_files().unwrap();
            let used: u64 = files.iter().map(|f| f.used).sum();
            assert!(used > 3_000_000, "{side:?}: {files:?}");
            let indexes = files.iter().filter(|f| f.kind == FileKind::Index).count();
            assert_eq!(indexes, if side == Side::Store { 4 } else { 0 });
            let resident = |kind: FileKind| -> u64 {
                files
                    .iter()
                    .filter(|f| f.kind == kind)
                    .map(|f| resident_bytes(&f.path, f.used).unwrap())
                    .sum()
            };
            if CAN_EVICT {
                // Logs only: the store's consume queues stay cached.
                c.evict_page_cache(&[FileKind::Log]).unwrap();
                assert!(resident(FileKind::Log) < used / 4, "{side:?}");
                if side == Side::Store {
                    assert!(resident(FileKind::Index) > 0);
                }
                c.evict_page_cache(&[FileKind::Log, FileKind::Index])
                    .unwrap();
                assert_eq!(resident(FileKind::Index), 0, "{side:?}");
            }
            assert_eq!(
                drain(c.as_mut(), 4, 7),
                vec![751, 750, 750, 750],
                "{side:?}"
            );
            c.finish().unwrap();
        }
    }

    #[test]
    fn records_are_counted_in_a_fetch_and_a_torn_one_is_refused() {
        let mut buf = Vec::new();
        let mut rec = Vec::new();
        for off in 5..8 {
            rmq_kafkalog::record::encode(&mut rec, off, 1, b"", b"abc").unwrap();
            buf.extend_from_slice(&rec);
        }
        assert_eq!(count_records(&buf, 5).unwrap(), (3, 8));
        assert_eq!(count_records(&[], 9).unwrap(), (0, 9));
        assert!(count_records(&buf[..buf.len() - 1], 5).is_err());
    }
}
