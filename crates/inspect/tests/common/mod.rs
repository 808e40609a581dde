//! A hand-made 4.8.0 store for the inspector's tests: records encoded with
//! `rmq_common::inner::encode_inner_record_into` into small commit-log files (with the
//! END_OF_FILE filler when a record does not fit), consume-queue entries in small files, one
//! index file built the way `IndexFile.putKey` builds it, a checkpoint and config files.
//! It deliberately shares no code with the inspector.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use rmq_common::inner::{encode_inner_record_into, inner_record_size};
use rmq_common::message::{encode_properties, java_string_hash, tags_code, BLANK_MAGIC_CODE};
use rmq_common::MessageExtBrokerInner;

pub const INDEX_SLOTS: usize = 64;
pub const INDEX_NUM: usize = 256;

/// A message put into the hand-made store.
#[derive(Debug, Clone)]
pub struct Put {
    pub phy: i64,
    pub size: usize,
    pub topic: String,
    pub queue_id: i32,
    pub queue_offset: i64,
    pub tags_code: i64,
    pub store_ts: i64,
    pub keys: Vec<String>,
}

pub struct StoreBuilder {
    pub dir: tempfile::TempDir,
    pub cl_file_size: usize,
    pub cq_file_size: usize,
    files: Vec<Vec<u8>>,
    pos: usize,
    next_qo: HashMap<(String, i32), i64>,
    pub puts: Vec<Put>,
    clock: i64,
}

impl StoreBuilder {
    pub fn new(cl_file_size: usize, cq_entries_per_file: usize) -> Self {
        StoreBuilder {
            dir: tempfile::tempdir().unwrap(),
            cl_file_size,
            cq_file_size: cq_entries_per_file * 20,
            files: vec![vec![0u8; cl_file_size]],
            pos: 0,
            next_qo: HashMap::new(),
            puts: Vec::new(),
            clock: 1_700_000_000_000,
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Appends one message; returns its physical offset.
    pub fn put(
        &mut self,
        topic: &str,
        queue_id: i32,
        tags: Option<&str>,
        keys: &[&str],
        body: &[u8],
    ) -> i64 {
        let mut props = vec![("WAIT".to_string(), "true".to_string())];
        if let Some(t) = tags {
            props.push(("TAGS".into(), t.into()));
        }
        if !keys.is_empty() {
            props.push(("KEYS".into(), keys.join(" ")));
        }
        let uniq = format!("7F000001{:024X}", self.puts.len());
        props.push(("UNIQ_KEY".into(), uniq.clone()));
        self.put_props(topic, queue_id, props, tags_code(tags), body)
    }

    /// Appends a message with exactly these properties and this consume-queue tagsCode.
    pub fn put_props(
        &mut self,
        topic: &str,
        queue_id: i32,
        props: Vec<(String, String)>,
        code: i64,
        body: &[u8],
    ) -> i64 {
        let host: SocketAddr = "127.0.0.1:10911".parse().unwrap();
        let inner = MessageExtBrokerInner {
            topic: topic.into(),
            queue_id,
            flag: 0,
            body: Bytes::copy_from_slice(body),
            properties: encode_properties(&props),
            tags_code: code,
            sys_flag: 0,
            born_timestamp: self.clock - 5,
            born_host: "127.0.0.1:50000".parse().unwrap(),
            store_host: host,
            reconsume_times: 0,
            prepared_transaction_offset: 0,
        };
        let size = inner_record_size(&inner);
        if self.pos + size + 8 > self.cl_file_size {
            let left = self.cl_file_size - self.pos;
            let file = self.files.last_mut().unwrap();
            file[self.pos..self.pos + 4].copy_from_slice(&(left as i32).to_be_bytes());
            file[self.pos + 4..self.pos + 8].copy_from_slice(&BLANK_MAGIC_CODE.to_be_bytes());
            self.files.push(vec![0u8; self.cl_file_size]);
            self.pos = 0;
        }
        let phy = ((self.files.len() - 1) * self.cl_file_size + self.pos) as i64;
        let qo_slot = self
            .next_qo
            .entry((topic.to_string(), queue_id))
            .or_insert(0);
        let qo = *qo_slot;
        *qo_slot += 1;
        self.clock += 1500;
        let pos = self.pos;
        let file = self.files.last_mut().unwrap();
        encode_inner_record_into(&inner, qo, phy, self.clock, &mut file[pos..]).unwrap();
        self.pos += size;
        let mut keys = Vec::new();
        for (k, v) in &props {
            if k == "UNIQ_KEY" {
                keys.insert(0, v.clone());
            }
        }
        for (k, v) in &props {
            if k == "KEYS" {
                keys.extend(v.split(' ').filter(|s| !s.is_empty()).map(str::to_string));
            }
        }
        self.puts.push(Put {
            phy,
            size,
            topic: topic.into(),
            queue_id,
            queue_offset: qo,
            tags_code: code,
            store_ts: self.clock,
            keys,
        });
        phy
    }

    /// Writes every file; returns the store root.
    pub fn finish(&self) -> PathBuf {
        let root = self.root().to_path_buf();
        let cl = root.join("commitlog");
        std::fs::create_dir_all(&cl).unwrap();
        for (i, f) in self.files.iter().enumerate() {
            std::fs::write(cl.join(format!("{:020}", i * self.cl_file_size)), f).unwrap();
        }
        // Consume queues.
        let mut queues: HashMap<(String, i32), Vec<u8>> = HashMap::new();
        for p in &self.puts {
            let q = queues.entry((p.topic.clone(), p.queue_id)).or_default();
            q.extend_from_slice(&p.phy.to_be_bytes());
            q.extend_from_slice(&(p.size as i32).to_be_bytes());
            q.extend_from_slice(&p.tags_code.to_be_bytes());
        }
        for ((topic, qid), data) in &queues {
            let dir = root.join("consumequeue").join(topic).join(qid.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            for (i, chunk) in data.chunks(self.cq_file_size).enumerate() {
                let mut file = vec![0u8; self.cq_file_size];
                file[..chunk.len()].copy_from_slice(chunk);
                std::fs::write(dir.join(format!("{:020}", i * self.cq_file_size)), file).unwrap();
            }
        }
        // Index file, built as IndexFile.putKey does.
        let mut idx = vec![0u8; 40 + INDEX_SLOTS * 4 + INDEX_NUM * 20];
        let (mut begin_ts, mut end_ts, mut begin_phy, mut end_phy) = (0i64, 0i64, 0i64, 0i64);
        let (mut slot_count, mut count) = (0i32, 1i32);
        for p in &self.puts {
            for key in &p.keys {
                let full = format!("{}#{}", p.topic, key);
                let hash = java_string_hash(&full).checked_abs().unwrap_or(0);
                let slot_pos = 40 + (hash as usize % INDEX_SLOTS) * 4;
                let slot_value =
                    i32::from_be_bytes(idx[slot_pos..slot_pos + 4].try_into().unwrap());
                let time_diff = if begin_ts <= 0 {
                    0
                } else {
                    ((p.store_ts - begin_ts) / 1000).max(0) as i32
                };
                let at = 40 + INDEX_SLOTS * 4 + count as usize * 20;
                idx[at..at + 4].copy_from_slice(&hash.to_be_bytes());
                idx[at + 4..at + 12].copy_from_slice(&p.phy.to_be_bytes());
                idx[at + 12..at + 16].copy_from_slice(&time_diff.to_be_bytes());
                idx[at + 16..at + 20].copy_from_slice(&slot_value.to_be_bytes());
                idx[slot_pos..slot_pos + 4].copy_from_slice(&count.to_be_bytes());
                if count <= 1 {
                    begin_ts = p.store_ts;
                    begin_phy = p.phy;
                }
                if slot_value == 0 {
                    slot_count += 1;
                }
                count += 1;
                end_ts = p.store_ts;
                end_phy = p.phy;
            }
        }
        idx[0..8].copy_from_slice(&begin_ts.to_be_bytes());
        idx[8..16].copy_from_slice(&end_ts.to_be_bytes());
        idx[16..24].copy_from_slice(&begin_phy.to_be_bytes());
        idx[24..32].copy_from_slice(&end_phy.to_be_bytes());
        idx[32..36].copy_from_slice(&slot_count.to_be_bytes());
        idx[36..40].copy_from_slice(&count.to_be_bytes());
        std::fs::create_dir_all(root.join("index")).unwrap();
        std::fs::write(root.join("index").join("20231114221320000"), idx).unwrap();
        // Checkpoint and config.
        let last = self.puts.last().map_or(0, |p| p.store_ts);
        let mut cp = vec![0u8; 4096];
        cp[0..8].copy_from_slice(&last.to_be_bytes());
        cp[8..16].copy_from_slice(&last.to_be_bytes());
        cp[16..24].copy_from_slice(&end_ts.to_be_bytes());
        std::fs::write(root.join("checkpoint"), cp).unwrap();
        std::fs::create_dir_all(root.join("config")).unwrap();
        std::fs::write(
            root.join("config/topics.json"),
            "{\n\t\"dataVersion\":{\"counter\":1,\"timestamp\":1},\n\t\"topicConfigTable\":{}\n}",
        )
        .unwrap();
        std::fs::write(
            root.join("config/consumerOffset.json"),
            "{\"offsetTable\":{\"T@g\":{0:3}}}",
        )
        .unwrap();
        root
    }

    /// Path and byte position of commit-log offset `phy`.
    pub fn locate(&self, phy: i64) -> (PathBuf, usize) {
        let start = phy as usize / self.cl_file_size * self.cl_file_size;
        (
            self.root().join("commitlog").join(format!("{start:020}")),
            phy as usize - start,
        )
    }
}

/// XORs one byte of a file.
pub fn flip(path: &Path, pos: usize, mask: u8) {
    let mut data = std::fs::read(path).unwrap();
    data[pos] ^= mask;
    std::fs::write(path, data).unwrap();
}

/// Index entry n's byte position in the test index file.
pub fn index_entry_pos(n: usize) -> usize {
    40 + INDEX_SLOTS * 4 + n * 20
}

/// The store of most tests: three topics, several queues, files that roll.
pub fn sample_store() -> StoreBuilder {
    let mut b = StoreBuilder::new(1024, 4);
    for i in 0..20 {
        let topic = if i % 3 == 0 { "TopicA" } else { "TopicB" };
        let tags = if i % 4 == 0 { None } else { Some("TagX") };
        let k1 = format!("order-{i}");
        let keys: Vec<&str> = if i % 5 == 0 {
            vec![]
        } else {
            vec![k1.as_str(), "shared"]
        };
        b.put(topic, i % 2, tags, &keys, format!("hello {i}").as_bytes());
    }
    b
}
