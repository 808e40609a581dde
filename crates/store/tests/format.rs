//! Reads a store written by rmq-store with independent parsing code (no rmq-store or
//! rmq-common decoders) and checks the 4.8.0 file formats: commit-log records and
//! END_OF_FILE blanks, consume-queue entries, index-file hash chains, checkpoint.

mod common;

use common::{body, msg, small_config};
use rmq_store::{DefaultMessageStore, FlushDiskType};
use std::collections::HashMap;
use std::path::Path;

const MAGIC: i32 = 0xDAA320A7_u32 as i32;
const BLANK: i32 = 0xCBD43194_u32 as i32;

fn be_i32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}
fn be_i64(b: &[u8], at: usize) -> i64 {
    i64::from_be_bytes(b[at..at + 8].try_into().unwrap())
}
fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

#[derive(Debug, Clone)]
struct Rec {
    phy: i64,
    size: i32,
    topic: String,
    qid: i32,
    qoff: i64,
    store_ts: i64,
    props: HashMap<String, String>,
}

/// Sorted (offset, bytes) of the 20-digit-named files in `dir`, checking names and sizes.
fn files(dir: &Path, size: usize) -> Vec<(i64, Vec<u8>)> {
    let mut v: Vec<(i64, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            assert_eq!(name.len(), 20, "file name {name}");
            let off: i64 = name.parse().unwrap();
            let data = std::fs::read(e.path()).unwrap();
            assert_eq!(data.len(), size, "size of {name}");
            (off, data)
        })
        .collect();
    v.sort_by_key(|(o, _)| *o);
    for w in v.windows(2) {
        assert_eq!(w[1].0, w[0].0 + size as i64, "files are contiguous");
    }
    v
}

fn parse_commit_log(dir: &Path, size: usize) -> (Vec<Rec>, usize) {
    let mut recs = Vec::new();
    let mut blanks = 0;
    let files = files(dir, size);
    'files: for (from, data) in &files {
        let mut pos = 0usize;
        while pos + 8 <= data.len() {
            let total = be_i32(data, pos);
            let magic = be_i32(data, pos + 4);
            if magic == BLANK {
                assert_eq!(
                    total as usize,
                    size - pos,
                    "blank fills the rest of the file"
                );
                assert!(total >= 8);
                blanks += 1;
                continue 'files;
            }
            if total == 0 && magic == 0 {
                break 'files;
            }
            assert_eq!(magic, MAGIC, "magic at {}", from + pos as i64);
            let r = &data[pos..pos + total as usize];
            let body_crc = be_i32(r, 8);
            let qid = be_i32(r, 12);
            let qoff = be_i64(r, 20);
            let phy = be_i64(r, 28);
            assert_eq!(phy, from + pos as i64, "PHYSICALOFFSET field");
            let sys = be_i32(r, 36);
            assert_eq!(sys & 0x30, 0, "IPv4 hosts");
            let store_ts = be_i64(r, 56);
            assert_eq!(&r[64..68], &[127, 0, 0, 1], "store host ip");
            assert_eq!(be_i32(r, 68), 10911, "store host port");
            let body_len = be_i32(r, 84) as usize;
            let body = &r[88..88 + body_len];
            assert_eq!(
                body_crc,
                (crc32fast::hash(body) & 0x7FFF_FFFF) as i32,
                "body CRC"
            );
            let tl = r[88 + body_len] as usize;
            let topic = String::from_utf8(r[89 + body_len..89 + body_len + tl].to_vec()).unwrap();
            let pl_at = 89 + body_len + tl;
            let pl = u16::from_be_bytes([r[pl_at], r[pl_at + 1]]) as usize;
            let props_s = std::str::from_utf8(&r[pl_at + 2..pl_at + 2 + pl]).unwrap();
            assert_eq!(
                91 + body_len + tl + pl,
                total as usize,
                "total = 91 + n + t + p"
            );
            let props = props_s
                .split('\u{2}')
                .filter_map(|kv| kv.split_once('\u{1}'))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            recs.push(Rec {
                phy,
                size: total,
                topic,
                qid,
                qoff,
                store_ts,
                props,
            });
            pos += total as usize;
        }
    }
    (recs, blanks)
}

fn index_hash(key: &str) -> i32 {
    let h = java_hash(key).wrapping_abs();
    if h < 0 {
        0
    } else {
        h
    }
}

#[test]
fn files_decode_independently() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config(dir.path(), FlushDiskType::SyncFlush);
    let n = 400;
    {
        let s = DefaultMessageStore::open(cfg.clone()).unwrap();
        for i in 0..n {
            let t = ["Alpha", "Beta", "Gamma"][i % 3];
            let tags = ["", "TagA", "TagB"][i % 3];
            let r = s.put_message(msg(
                t,
                (i % 4) as i32,
                &body(i),
                tags,
                &format!("key{i} shared{}", i % 7),
                &format!("UNIQ{i:04}"),
            ));
            assert!(r.is_ok());
        }
        let batch = (0..4)
            .map(|i| msg("Alpha", 9, &body(i), "TagA", &format!("batch{i}"), ""))
            .collect();
        assert!(s.put_messages(batch).is_ok());
        s.shutdown();
    }
    let size = cfg.mapped_file_size_commit_log as usize;
    let (recs, blanks) = parse_commit_log(&cfg.commit_log_dir(), size);
    assert_eq!(recs.len(), n + 4);
    assert!(blanks >= 3, "files were closed with END_OF_FILE blanks");

    // queue offsets are consecutive per topic-queue
    let mut next: HashMap<(String, i32), i64> = HashMap::new();
    for r in &recs {
        let e = next.entry((r.topic.clone(), r.qid)).or_insert(0);
        assert_eq!(r.qoff, *e, "queue offset of {}-{}", r.topic, r.qid);
        *e += 1;
    }

    // consume queues: entry k points at the record with queue offset k
    let cq_size = cfg.consume_queue_file_size() as usize;
    for ((topic, qid), count) in &next {
        let qdir = cfg.consume_queue_dir().join(topic).join(qid.to_string());
        let all: Vec<u8> = files(&qdir, cq_size)
            .into_iter()
            .flat_map(|(_, d)| d)
            .collect();
        let of_queue: Vec<&Rec> = recs
            .iter()
            .filter(|r| &r.topic == topic && r.qid == *qid)
            .collect();
        for k in 0..*count as usize {
            let e = &all[k * 20..k * 20 + 20];
            let r = of_queue[k];
            assert_eq!(be_i64(e, 0), r.phy);
            assert_eq!(be_i32(e, 8), r.size);
            let tags = r
                .props
                .get("TAGS")
                .map(|t| java_hash(t) as i64)
                .unwrap_or(0);
            assert_eq!(be_i64(e, 12), tags, "tagsCode");
        }
        assert!(
            all[*count as usize * 20..].iter().all(|b| *b == 0),
            "nothing after the last entry"
        );
    }

    // index files: every key resolves to its record by following the chains
    let (slots, max_index) = (cfg.max_hash_slot_num as usize, cfg.max_index_num as usize);
    let mut index_files: Vec<(String, Vec<u8>)> = std::fs::read_dir(cfg.index_dir())
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    index_files.sort();
    assert!(index_files.len() > 1, "index files rolled");
    for (name, data) in &index_files {
        assert_eq!(name.len(), 17, "yyyyMMddHHmmssSSS");
        assert_eq!(data.len(), 40 + slots * 4 + max_index * 20);
        let count = be_i32(data, 36);
        assert!(count >= 2);
    }
    let find = |key: &str| -> Vec<i64> {
        let h = index_hash(key);
        let mut found = Vec::new();
        for (_, data) in index_files.iter().rev() {
            let count = be_i32(data, 36);
            let mut next = be_i32(data, 40 + (h as usize % slots) * 4);
            let mut guard = 0;
            while next > 0 && next < count && guard < max_index {
                let at = 40 + slots * 4 + next as usize * 20;
                if be_i32(data, at) == h {
                    found.push(be_i64(data, at + 4));
                }
                next = be_i32(data, at + 16);
                guard += 1;
            }
        }
        found
    };
    for r in &recs {
        let mut keys: Vec<&str> = r
            .props
            .get("KEYS")
            .map(|k| k.split(' ').collect())
            .unwrap_or_default();
        if let Some(u) = r.props.get("UNIQ_KEY") {
            keys.push(u);
        }
        for k in keys {
            let hits = find(&format!("{}#{}", r.topic, k));
            assert!(hits.contains(&r.phy), "key {k} of record at {}", r.phy);
        }
    }

    // checkpoint: one page, times of the last flushed / dispatched message
    let cp = std::fs::read(cfg.checkpoint_path()).unwrap();
    assert_eq!(cp.len(), 4096);
    let last_ts = recs.iter().map(|r| r.store_ts).max().unwrap();
    assert_eq!(be_i64(&cp, 0), last_ts, "physicMsgTimestamp");
    assert_eq!(be_i64(&cp, 8), last_ts, "logicsMsgTimestamp");
    assert!(cp[24..].iter().all(|b| *b == 0));
    assert!(!cfg.abort_path().exists());
    assert_eq!(std::fs::read(cfg.lock_path()).unwrap(), b"lock");
}
