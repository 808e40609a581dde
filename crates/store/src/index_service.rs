//! The list of index files under `index/`: adds keys of dispatched messages to the newest
//! file (opening a new one, named by the current time, when it fills up) and answers key
//! queries newest file first.
//!
//! Keys indexed per message: `topic#UNIQ_KEY` and `topic#k` for every non-empty token of
//! KEYS; rolled-back transaction records are not indexed. Book: Part I, "IndexFile". Mirrors
//! `org.apache.rocketmq.store.index.IndexService`.

use crate::checkpoint::StoreCheckpoint;
use crate::error::StoreError;
use crate::index_file::IndexFile;
use crate::record::DispatchRequest;
use crate::util::{now_ms, time_millis_to_human_string};
use parking_lot::RwLock;
use rmq_common::message::TRANSACTION_ROLLBACK_TYPE;
use std::path::PathBuf;
use std::sync::Arc;

/// Offsets found for a key query, plus where the index stood.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct QueryOffsetResult {
    /// Commit-log offsets of the messages found.
    pub phy_offsets: Vec<i64>,
    /// Store time of the newest message the index covers.
    pub index_last_update_timestamp: i64,
    /// Commit-log offset of the newest message the index covers.
    pub index_last_update_phyoffset: i64,
}

/// See the module docs.
pub struct IndexService {
    store_path: PathBuf,
    hash_slot_num: u32,
    index_num: u32,
    max_msgs_num_batch: usize,
    files: RwLock<Vec<Arc<IndexFile>>>,
    checkpoint: Arc<StoreCheckpoint>,
}

/// `topic#key`.
pub fn build_key(topic: &str, key: &str) -> String {
    format!("{topic}#{key}")
}

impl IndexService {
    /// The index files under `store_path` (nothing is read until `load`), with 4.8.0's slot and entry counts per file.
    pub fn new(
        store_path: PathBuf,
        hash_slot_num: u32,
        index_num: u32,
        max_msgs_num_batch: usize,
        checkpoint: Arc<StoreCheckpoint>,
    ) -> Self {
        IndexService {
            store_path,
            hash_slot_num,
            index_num,
            max_msgs_num_batch,
            files: RwLock::new(Vec::new()),
            checkpoint,
        }
    }

    /// Opens the existing files in name (= time) order. After an abnormal exit, files that
    /// end after the checkpoint's index time are deleted; recovery rebuilds them (`load`).
    /// Files that cannot be opened are skipped with a warning rather than failing the store.
    pub fn load(&self, last_exit_ok: bool) -> Result<(), StoreError> {
        let rd = match std::fs::read_dir(&self.store_path) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io("read dir", &self.store_path, e)),
        };
        let mut paths: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        let mut files = self.files.write();
        for p in paths {
            let f = match IndexFile::open(&p, self.hash_slot_num, self.index_num) {
                Ok(f) => f,
                Err(e) => {
                    tracing::warn!(file = %p.display(), error = %e, "skipping unreadable index file");
                    continue;
                }
            };
            if !last_exit_ok && f.end_timestamp() > self.checkpoint.index_msg_timestamp() {
                tracing::warn!(file = %p.display(), end = f.end_timestamp(),
                    checkpoint = self.checkpoint.index_msg_timestamp(),
                    "index file newer than the checkpoint after an abnormal exit; deleted for rebuild");
                f.destroy();
                continue;
            }
            files.push(Arc::new(f));
        }
        Ok(())
    }

    /// Index files, oldest first.
    pub fn files(&self) -> Vec<Arc<IndexFile>> {
        self.files.read().clone()
    }

    /// The file to write to, creating a new one if there is none or the last is full
    /// (`getAndCreateLastIndexFile`). The full file is flushed and its end time recorded in
    /// the checkpoint.
    fn last_writable(&self) -> Result<Arc<IndexFile>, StoreError> {
        let prev = {
            let files = self.files.read();
            match files.last() {
                Some(f) if !f.is_write_full() => return Ok(f.clone()),
                other => other.cloned(),
            }
        };
        let (end_phy, end_ts) = prev
            .as_ref()
            .map(|p| (p.end_phy_offset(), p.end_timestamp()))
            .unwrap_or((0, 0));
        let mut ms = now_ms();
        let mut path = self.store_path.join(time_millis_to_human_string(ms));
        while path.exists() {
            ms += 1;
            path = self.store_path.join(time_millis_to_human_string(ms));
        }
        let f = Arc::new(IndexFile::create(
            &path,
            self.hash_slot_num,
            self.index_num,
            end_phy,
            end_ts,
        )?);
        self.files.write().push(f.clone());
        if let Some(prev) = prev {
            self.flush_file(&prev);
        }
        Ok(f)
    }

    /// msyncs `f`; when it is full, its end time becomes the checkpoint's index time.
    pub fn flush_file(&self, f: &IndexFile) {
        let full_end = f.is_write_full().then(|| f.end_timestamp());
        f.flush();
        if let Some(ts) = full_end {
            self.checkpoint.set_index_msg_timestamp(ts);
            if let Err(e) = self.checkpoint.flush() {
                tracing::error!(error = %e, "checkpoint flush failed");
            }
        }
    }

    /// msyncs every file.
    pub fn flush(&self) {
        for f in self.files() {
            f.flush();
        }
    }

    // ANCHOR: build_index
    /// Indexes one dispatched message (`buildIndex`).
    pub fn build_index(&self, req: &DispatchRequest) -> Result<(), StoreError> {
        let mut file = self.last_writable()?;
        if req.commit_log_offset < file.end_phy_offset() {
            return Ok(()); // already indexed (re-dispatch after a crash)
        }
        if req.transaction_type() == TRANSACTION_ROLLBACK_TYPE {
            return Ok(());
        }
        let mut keys: Vec<String> = Vec::new();
        if let Some(u) = req.uniq_key.as_deref() {
            keys.push(build_key(&req.topic, u));
        }
        keys.extend(
            req.keys
                .split(' ')
                .filter(|k| !k.is_empty())
                .map(|k| build_key(&req.topic, k)),
        );
        for key in keys {
            while !file.put_key(&key, req.commit_log_offset, req.store_timestamp) {
                file = self.last_writable()?;
            }
        }
        Ok(())
    }
    // ANCHOR_END: build_index

    /// Offsets of messages stored with `key` in `topic` within `[begin, end]`, newest first,
    /// at most `min(max_num, maxMsgsNumBatch)` (`queryOffset`).
    pub fn query_offset(
        &self,
        topic: &str,
        key: &str,
        max_num: usize,
        begin: i64,
        end: i64,
    ) -> QueryOffsetResult {
        let max_num = max_num.min(self.max_msgs_num_batch);
        let mut res = QueryOffsetResult::default();
        let files = self.files();
        let full_key = build_key(topic, key);
        for (i, f) in files.iter().enumerate().rev() {
            if i == files.len() - 1 {
                res.index_last_update_timestamp = f.end_timestamp();
                res.index_last_update_phyoffset = f.end_phy_offset();
            }
            if f.is_time_matched(begin, end) {
                f.select_phy_offsets(&mut res.phy_offsets, &full_key, max_num, begin, end);
            }
            if f.begin_timestamp() < begin || res.phy_offsets.len() >= max_num {
                break;
            }
        }
        res
    }

    /// Deletes files (never the newest) whose entries all lie below `min_phy_offset`
    /// (`deleteExpiredFile`).
    pub fn delete_expired_file(&self, min_phy_offset: i64) -> usize {
        let files = self.files();
        if files
            .first()
            .map(|f| f.end_phy_offset() >= min_phy_offset)
            .unwrap_or(true)
        {
            return 0;
        }
        let mut gone = Vec::new();
        for f in files.iter().take(files.len().saturating_sub(1)) {
            if f.end_phy_offset() < min_phy_offset {
                if f.destroy() {
                    gone.push(f.path().to_path_buf());
                }
            } else {
                break;
            }
        }
        if !gone.is_empty() {
            self.files
                .write()
                .retain(|f| !gone.iter().any(|p| p == f.path()));
        }
        gone.len()
    }

    /// After the commit log was cut at `max_phy_offset`, deletes the index files that hold
    /// entries at or past it (their keys would point at bytes that will be overwritten, and
    /// their end offset would make the index skip new messages). Returns the commit-log offset
    /// from which the deleted files must be rebuilt, if any were deleted.
    pub fn truncate_past(&self, max_phy_offset: i64) -> Option<i64> {
        let stale: Vec<Arc<IndexFile>> = self
            .files()
            .into_iter()
            .filter(|f| {
                f.end_phy_offset() >= max_phy_offset
                    && (f.header().index_count > 1 || max_phy_offset > 0)
            })
            .collect();
        if stale.is_empty() {
            return None;
        }
        let from = stale
            .iter()
            .map(|f| f.header().begin_phy_offset)
            .min()
            .unwrap_or(0);
        for f in &stale {
            tracing::warn!(file = %f.path().display(), end_phy_offset = f.end_phy_offset(), max_phy_offset,
                "index file points past the recovered commit log; deleted for rebuild");
            f.destroy();
        }
        self.files
            .write()
            .retain(|f| !stale.iter().any(|s| s.path() == f.path()));
        Some(from)
    }

    /// Deletes every index file.
    pub fn destroy(&self) {
        for f in std::mem::take(&mut *self.files.write()) {
            f.destroy();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(off: i64, ts: i64, keys: &str, uniq: Option<&str>) -> DispatchRequest {
        DispatchRequest {
            topic: "T".into(),
            queue_id: 0,
            commit_log_offset: off,
            msg_size: 100,
            tags_code: 0,
            store_timestamp: ts,
            consume_queue_offset: 0,
            keys: keys.into(),
            uniq_key: uniq.map(String::from),
            sys_flag: 0,
            prepared_transaction_offset: 0,
            body_crc: 0,
            properties: Vec::new(),
        }
    }

    #[test]
    fn builds_rolls_queries_and_expires() {
        let dir = tempfile::tempdir().unwrap();
        let cp = Arc::new(StoreCheckpoint::open(&dir.path().join("checkpoint")).unwrap());
        let svc = IndexService::new(dir.path().join("index"), 16, 8, 64, cp.clone());
        let t0 = 1_600_000_000_000i64;
        for i in 0..10i64 {
            let uniq = format!("U{i}");
            svc.build_index(&req(i * 100, t0 + i * 1000, "a  b", Some(&uniq)))
                .unwrap();
        }
        // 3 keys per message, 7 entries per file
        assert_eq!(svc.files().len(), 5);
        assert!(
            cp.index_msg_timestamp() > 0,
            "full files advance the checkpoint"
        );
        let r = svc.query_offset("T", "a", 64, 0, i64::MAX);
        assert_eq!(
            r.phy_offsets,
            (0..10).rev().map(|i| i * 100).collect::<Vec<_>>()
        );
        assert_eq!(r.index_last_update_phyoffset, 900);
        let r = svc.query_offset("T", "U3", 64, 0, i64::MAX);
        assert_eq!(r.phy_offsets, vec![300]);
        let r = svc.query_offset("T", "a", 3, 0, i64::MAX);
        assert_eq!(r.phy_offsets.len(), 3);
        assert!(svc
            .query_offset("Other", "a", 64, 0, i64::MAX)
            .phy_offsets
            .is_empty());
        // re-dispatch of old offsets is ignored
        svc.build_index(&req(100, t0, "a", None)).unwrap();
        assert_eq!(
            svc.query_offset("T", "a", 64, 0, i64::MAX)
                .phy_offsets
                .len(),
            10
        );

        assert!(svc.delete_expired_file(500) >= 1);
        let r = svc.query_offset("T", "a", 64, 0, i64::MAX);
        assert!(r.phy_offsets.iter().all(|o| *o >= 200));
        assert!(r.phy_offsets.contains(&900));

        // reload after a clean exit keeps everything; after a crash, files past the
        // checkpoint are deleted
        let n = svc.files().len();
        let svc2 = IndexService::new(dir.path().join("index"), 16, 8, 64, cp.clone());
        svc2.load(true).unwrap();
        assert_eq!(svc2.files().len(), n);
        cp.set_index_msg_timestamp(t0 + 6000);
        let svc3 = IndexService::new(dir.path().join("index"), 16, 8, 64, cp);
        svc3.load(false).unwrap();
        assert!(svc3.files().len() < n);
        assert!(svc3.files().iter().all(|f| f.end_timestamp() <= t0 + 6000));
    }

    #[test]
    fn truncation_past_the_log_end_deletes_files_and_names_the_replay_start() {
        let dir = tempfile::tempdir().unwrap();
        let cp = Arc::new(StoreCheckpoint::open(&dir.path().join("checkpoint")).unwrap());
        let svc = IndexService::new(dir.path().join("index"), 16, 8, 64, cp);
        for i in 0..10i64 {
            svc.build_index(&req(i * 100, 1_000 + i, "a b", None))
                .unwrap();
        }
        let before = svc.files().len();
        let from = svc.truncate_past(850).unwrap();
        assert!(svc.files().len() < before);
        assert!(svc.files().iter().all(|f| f.end_phy_offset() < 850));
        assert!(from <= 850);
        assert_eq!(svc.truncate_past(850), None);
        // replaying from there restores the keys
        for i in 0..9i64 {
            svc.build_index(&req(i * 100, 1_000 + i, "a b", None))
                .unwrap();
        }
        // (the message whose keys straddled the cut file is indexed twice; queries dedup)
        let mut r = svc.query_offset("T", "b", 64, 0, i64::MAX).phy_offsets;
        r.dedup();
        assert_eq!(r, (0..9).rev().map(|i| i * 100).collect::<Vec<_>>());
    }
}
