//! A private, minimal message store used until rmq-store lands: one append-only log file of
//! 4.8.0 CommitLog records plus in-memory per-queue indexes rebuilt by scanning the log on start
//! (a truncated tail is cut off cleanly). It offers the blocking calls the processors need with
//! the same shape as rmq-store's contract (put, get, offsets, lookup, key query, arrival listener),
//! so switching to `rmq_store::DefaultMessageStore` is a small change in this one file.
//! Mirrors (loosely) `DefaultMessageStore`. Book: Part II, "What the broker asks of the store".

use bytes::Bytes;
use parking_lot::Mutex;
use rmq_common::message::{decode_record, tags_code, MessageExt};
use rmq_common::MessageExtBrokerInner as InnerMessage;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutStatus {
    PutOk,
    MessageIllegal,
    ServiceNotAvailable,
    OsPageCacheBusy,
    UnknownError,
}

#[derive(Debug, Clone)]
pub struct AppendResult {
    pub wrote_offset: i64,
    pub msg_id: String,
    pub logics_offset: i64,
    pub store_timestamp: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetStatus {
    Found,
    NoMatchedMessage,
    OffsetFoundNull,
    OffsetOverflowBadly,
    OffsetOverflowOne,
    OffsetTooSmall,
    NoMatchedLogicQueue,
    NoMessageInQueue,
}

pub struct GetResult {
    pub status: GetStatus,
    pub next_begin_offset: i64,
    pub min_offset: i64,
    pub max_offset: i64,
    pub messages: Vec<Bytes>,
}

#[derive(Clone, Copy)]
struct QueueEntry {
    phy: i64,
    tags_code: i64,
    store_ts: i64,
}

/// Called after each message becomes visible: (topic, queue id, max logic offset, tags code).
pub type ArrivalListener = Arc<dyn Fn(&str, i32, i64, i64) + Send + Sync>;

struct Inner {
    file: File,
    write_pos: i64,
    records: HashMap<i64, Bytes>,
    queues: HashMap<(String, i32), Vec<QueueEntry>>,
    keys: HashMap<(String, String), Vec<i64>>,
}

/// See the module docs.
pub struct MessageStore {
    inner: Mutex<Inner>,
    sync_flush: bool,
    path: PathBuf,
    listener: Mutex<Option<ArrivalListener>>,
    /// When the current append started, for the page-cache-busy check of flow control.
    pub(crate) append_started: Mutex<Option<Instant>>,
    pub put_times: std::sync::atomic::AtomicU64,
    pub get_times: std::sync::atomic::AtomicU64,
}

fn index_keys(m: &MessageExt) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in &m.properties {
        if k == "KEYS" {
            out.extend(v.split(' ').filter(|s| !s.is_empty()).map(String::from));
        } else if k == "UNIQ_KEY" {
            out.push(v.clone());
        }
    }
    out
}

impl MessageStore {
    /// Opens (or creates) the log under `root` and rebuilds the queue indexes.
    pub fn open(root: &Path, sync_flush: bool) -> std::io::Result<Arc<MessageStore>> {
        std::fs::create_dir_all(root)?;
        let path = root.join("broker-private.log");
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        let mut inner = Inner {
            file,
            write_pos: 0,
            records: HashMap::new(),
            queues: HashMap::new(),
            keys: HashMap::new(),
        };
        let mut pos = 0usize;
        while pos < data.len() {
            match decode_record(&data[pos..]) {
                Ok((m, len)) => {
                    let rec = Bytes::copy_from_slice(&data[pos..pos + len]);
                    Self::index(&mut inner, &m, tags_code(m.tags()), pos as i64, rec);
                    pos += len;
                }
                Err(_) => break,
            }
        }
        if pos < data.len() {
            tracing::warn!(
                "truncating {} corrupt/partial bytes at the end of {}",
                data.len() - pos,
                path.display()
            );
            inner.file.set_len(pos as u64)?;
        }
        inner.file.seek(SeekFrom::End(0))?;
        inner.write_pos = pos as i64;
        Ok(Arc::new(MessageStore {
            inner: Mutex::new(inner),
            sync_flush,
            path,
            listener: Mutex::new(None),
            append_started: Mutex::new(None),
            put_times: Default::default(),
            get_times: Default::default(),
        }))
    }

    fn index(inner: &mut Inner, m: &MessageExt, tags_code: i64, phy: i64, rec: Bytes) {
        inner.records.insert(phy, rec);
        inner
            .queues
            .entry((m.topic.clone(), m.queue_id))
            .or_default()
            .push(QueueEntry {
                phy,
                tags_code,
                store_ts: m.store_timestamp,
            });
        for k in index_keys(m) {
            inner
                .keys
                .entry((m.topic.clone(), k))
                .or_default()
                .push(phy);
        }
    }

    pub fn set_arrival_listener(&self, l: ArrivalListener) {
        *self.listener.lock() = Some(l);
    }

    /// Appends one message (blocking; fsyncs in SYNC_FLUSH before returning).
    pub fn put_message(&self, msg: InnerMessage) -> (PutStatus, Option<AppendResult>) {
        if msg.topic.len() > 127 || msg.properties.len() > 32767 {
            return (PutStatus::MessageIllegal, None);
        }
        *self.append_started.lock() = Some(Instant::now());
        let result = self.append(msg);
        *self.append_started.lock() = None;
        result
    }

    fn append(&self, msg: InnerMessage) -> (PutStatus, Option<AppendResult>) {
        let (result, notify) = {
            let mut inner = self.inner.lock();
            let key = (msg.topic.clone(), msg.queue_id);
            let logic = inner.queues.get(&key).map_or(0, |q| q.len() as i64);
            let phy = inner.write_pos;
            let ts = now_ms();
            let rec = match rmq_common::inner::encode_inner_record(&msg, logic, phy, ts) {
                Ok(r) => Bytes::from(r),
                Err(_) => return (PutStatus::MessageIllegal, None),
            };
            if let Err(e) = inner.file.write_all(&rec) {
                tracing::error!("append to {} failed: {e}", self.path.display());
                return (PutStatus::UnknownError, None);
            }
            if self.sync_flush {
                if let Err(e) = inner.file.sync_data() {
                    tracing::error!("fsync of {} failed: {e}", self.path.display());
                    return (PutStatus::UnknownError, None);
                }
            }
            inner.write_pos += rec.len() as i64;
            let Ok((stored, _)) = decode_record(&rec) else {
                return (PutStatus::UnknownError, None);
            };
            Self::index(&mut inner, &stored, msg.tags_code, phy, rec);
            self.put_times
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (
                AppendResult {
                    wrote_offset: phy,
                    msg_id: rmq_common::msgid::offset_msg_id(msg.store_host, phy),
                    logics_offset: logic,
                    store_timestamp: ts,
                },
                (msg.topic.clone(), msg.queue_id, logic + 1, msg.tags_code),
            )
        };
        if let Some(l) = self.listener.lock().clone() {
            l(&notify.0, notify.1, notify.2, notify.3);
        }
        (PutStatus::PutOk, Some(result))
    }

    /// Reads up to `max` messages from a queue, applying a tags-code filter.
    pub fn get_message(
        &self,
        topic: &str,
        queue_id: i32,
        offset: i64,
        max: i32,
        filter: &dyn Fn(i64) -> bool,
    ) -> GetResult {
        self.get_times
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let inner = self.inner.lock();
        let Some(q) = inner.queues.get(&(topic.to_string(), queue_id)) else {
            return GetResult {
                status: GetStatus::NoMatchedLogicQueue,
                next_begin_offset: 0,
                min_offset: 0,
                max_offset: 0,
                messages: vec![],
            };
        };
        let max_off = q.len() as i64;
        let (status, next) = if max_off == 0 {
            (GetStatus::NoMessageInQueue, 0)
        } else if offset < 0 {
            (GetStatus::OffsetTooSmall, 0)
        } else if offset == max_off {
            (GetStatus::OffsetOverflowOne, offset)
        } else if offset > max_off {
            (GetStatus::OffsetOverflowBadly, max_off)
        } else {
            let mut msgs = Vec::new();
            let mut i = offset;
            while i < max_off && (msgs.len() as i32) < max.max(1) {
                let e = q[i as usize];
                if filter(e.tags_code) {
                    if let Some(r) = inner.records.get(&e.phy) {
                        msgs.push(r.clone());
                    }
                }
                i += 1;
                if i - offset >= 800 {
                    break;
                }
            }
            let status = if msgs.is_empty() {
                GetStatus::NoMatchedMessage
            } else {
                GetStatus::Found
            };
            return GetResult {
                status,
                next_begin_offset: i,
                min_offset: 0,
                max_offset: max_off,
                messages: msgs,
            };
        };
        GetResult {
            status,
            next_begin_offset: next,
            min_offset: 0,
            max_offset: max_off,
            messages: vec![],
        }
    }

    pub fn max_offset_in_queue(&self, topic: &str, qid: i32) -> i64 {
        self.inner
            .lock()
            .queues
            .get(&(topic.to_string(), qid))
            .map_or(0, |q| q.len() as i64)
    }

    pub fn min_offset_in_queue(&self, _topic: &str, _qid: i32) -> i64 {
        0
    }

    pub fn message_store_timestamp(&self, topic: &str, qid: i32, offset: i64) -> i64 {
        let inner = self.inner.lock();
        inner
            .queues
            .get(&(topic.to_string(), qid))
            .and_then(|q| q.get(usize::try_from(offset).ok()?))
            .map_or(-1, |e| e.store_ts)
    }

    pub fn earliest_message_time(&self, topic: &str, qid: i32) -> i64 {
        self.message_store_timestamp(topic, qid, 0)
    }

    /// The first offset whose store time is >= `ts` (or the max offset).
    pub fn offset_in_queue_by_time(&self, topic: &str, qid: i32, ts: i64) -> i64 {
        let inner = self.inner.lock();
        match inner.queues.get(&(topic.to_string(), qid)) {
            Some(q) => q.iter().position(|e| e.store_ts >= ts).unwrap_or(q.len()) as i64,
            None => 0,
        }
    }

    pub fn look_message_by_offset(&self, phy: i64) -> Option<Bytes> {
        self.inner.lock().records.get(&phy).cloned()
    }

    pub fn query_message(&self, topic: &str, key: &str, max: usize) -> Vec<Bytes> {
        let inner = self.inner.lock();
        inner
            .keys
            .get(&(topic.to_string(), key.to_string()))
            .map(|v| {
                v.iter()
                    .rev()
                    .take(max)
                    .filter_map(|p| inner.records.get(p).cloned())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn max_phy_offset(&self) -> i64 {
        self.inner.lock().write_pos
    }

    /// Forgets the queues of deleted topics (the log itself is kept, as retention would).
    pub fn delete_topics(&self, topics: &[String]) {
        let mut inner = self.inner.lock();
        inner.queues.retain(|(t, _), _| !topics.contains(t));
    }

    /// Flushes the log (clean shutdown).
    pub fn shutdown(&self) {
        if let Err(e) = self.inner.lock().file.sync_all() {
            tracing::warn!("final fsync failed: {e}");
        }
    }
}
