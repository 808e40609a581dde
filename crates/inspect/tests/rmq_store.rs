//! A store written by our own `rmq-store` (small files, so everything rolls) passes `verify`,
//! before and after a reopen; delayed messages parked in SCHEDULE_TOPIC_XXXX carry their
//! delivery time as tagsCode; a DLedger store (its data files are the commit log) verifies,
//! and damage to its entries, index or checkpoint is reported.

use std::time::{Duration, Instant};

use bytes::Bytes;
use rmq_common::inner::encode_inner_record;
use rmq_common::message::{encode_properties, tags_code};
use rmq_dledger::core::LogStore;
use rmq_dledger::entry::{BODY_OFFSET, INDEX_UNIT_SIZE};
use rmq_dledger::store::{DLedgerStore, StoreConfig};
use rmq_inspect::{verify_store, Options, ViolationKind as K};
use rmq_store::commit_log::dledger::physical_offset_hook;
use rmq_store::{
    DefaultMessageStore, FlushDiskType, MessageExtBrokerInner, MessageStoreConfig, PutMessageStatus,
};
use std::path::Path;

fn config(root: &std::path::Path) -> MessageStoreConfig {
    MessageStoreConfig {
        mapped_file_size_commit_log: 8 * 1024,
        mapped_file_size_consume_queue: 20 * 16,
        max_hash_slot_num: 32,
        max_index_num: 128,
        flush_disk_type: FlushDiskType::AsyncFlush,
        flush_interval_commit_log_ms: 10,
        flush_interval_consume_queue_ms: 50,
        clean_resource_interval_ms: 3_600_000,
        ..MessageStoreConfig::with_root(root)
    }
}

fn msg(topic: &str, queue_id: i32, i: usize) -> MessageExtBrokerInner {
    let tags = ["TagA", "TagB", "", "标签"][i % 4];
    let mut props = vec![("WAIT".to_string(), "true".to_string())];
    if !tags.is_empty() {
        props.push(("TAGS".into(), tags.into()));
    }
    if i % 3 != 2 {
        props.push(("KEYS".into(), format!("order-{i} user-{} ключ-{i}", i % 5)));
    }
    props.push(("UNIQ_KEY".into(), format!("7F0000010001{i:020X}")));
    MessageExtBrokerInner {
        topic: topic.into(),
        queue_id,
        flag: 0,
        body: Bytes::from(format!("body {i} {}", "x".repeat(i * 7 % 300))),
        properties: encode_properties(&props),
        tags_code: tags_code(if tags.is_empty() { None } else { Some(tags) }),
        sys_flag: 0,
        born_timestamp: rmq_store::now_ms(),
        born_host: "127.0.0.1:50000".parse().unwrap(),
        store_host: "127.0.0.1:10911".parse().unwrap(),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
    }
}

/// Message `i` as the broker parks a delayed message: in SCHEDULE_TOPIC_XXXX `queue_id`,
/// with DELAY `level` and the real topic and queue.
fn parked(queue_id: i32, level: &str, i: usize) -> MessageExtBrokerInner {
    let mut m = msg("SCHEDULE_TOPIC_XXXX", queue_id, i);
    let mut props = rmq_common::message::decode_properties(&m.properties);
    props.push(("DELAY".into(), level.into()));
    props.push(("REAL_TOPIC".into(), "TopicA".into()));
    props.push(("REAL_QID".into(), "0".into()));
    m.properties = encode_properties(&props);
    m
}

fn wait_dispatched(store: &DefaultMessageStore) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.dispatch_behind_bytes() > 0 {
        assert!(Instant::now() < deadline, "dispatch did not catch up");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_verifies(root: &std::path::Path, messages: usize) {
    let report = verify_store(root, &Options::default()).unwrap();
    for v in &report.violations {
        eprintln!("{v}");
    }
    assert!(report.violations.is_empty(), "{}", report.summary());
    assert_eq!(report.messages, messages, "{}", report.summary());
    assert_eq!(report.cq_entries, messages, "{}", report.summary());
}

#[test]
fn rmq_store_output_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let store = DefaultMessageStore::open(config(dir.path())).unwrap();
    let mut n = 0;
    for i in 0..150 {
        let topic = if i % 2 == 0 { "TopicA" } else { "TopicB" };
        let r = store.put_message(msg(topic, (i % 3) as i32, i));
        assert_eq!(r.status, PutMessageStatus::PutOk);
        n += 1;
    }
    for b in 0..5 {
        let batch: Vec<_> = (0..6).map(|j| msg("Batch", 1, 1000 + b * 6 + j)).collect();
        let r = store.put_messages(batch);
        assert_eq!(r.status, PutMessageStatus::PutOk);
        n += 6;
    }
    // A delayed message as the broker parks it (level 3 = 10 s, queue id = level - 1).
    let r = store.put_message(parked(2, "3", 7));
    assert_eq!(r.status, PutMessageStatus::PutOk);
    n += 1;
    wait_dispatched(&store);
    store.shutdown();
    drop(store);
    assert!(!dir.path().join("abort").exists());
    assert!(
        std::fs::read_dir(dir.path().join("commitlog"))
            .unwrap()
            .count()
            > 3
    );
    assert!(std::fs::read_dir(dir.path().join("index")).unwrap().count() > 1);
    assert_verifies(dir.path(), n);

    // Reopen (normal recovery), append more, verify again.
    let store = DefaultMessageStore::open(config(dir.path())).unwrap();
    for i in 150..200 {
        let r = store.put_message(msg("TopicA", (i % 3) as i32, i));
        assert_eq!(r.status, PutMessageStatus::PutOk);
        n += 1;
    }
    wait_dispatched(&store);
    store.shutdown();
    drop(store);
    assert_verifies(dir.path(), n);
}

/// With `enableConsumeQueueExt` every entry holds an extension address: verify resolves it
/// (tags code and store time must agree with the record), `store` lists the units, and a
/// corrupted unit is reported.
#[test]
fn consume_queue_ext_store_verifies_and_a_broken_unit_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.enable_consume_queue_ext = true;
    cfg.mapped_file_size_consume_queue_ext = 512;
    let store = DefaultMessageStore::open(cfg).unwrap();
    store.set_bit_map_calculator(std::sync::Arc::new(|req| {
        Some(vec![(req.consume_queue_offset % 256) as u8; 14])
    }));
    for i in 0..60 {
        let r = store.put_message(msg("ExtTopic", (i % 2) as i32, i));
        assert_eq!(r.status, PutMessageStatus::PutOk);
    }
    wait_dispatched(&store);
    store.shutdown();
    drop(store);
    assert_verifies(dir.path(), 60);
    let image = rmq_inspect::StoreImage::load(
        dir.path(),
        &Options::default(),
        &mut rmq_inspect::violation::Violations::default(),
    )
    .unwrap();
    let units: usize = image.consume_queue_exts.iter().map(|q| q.units.len()).sum();
    assert_eq!(units, 60);
    let text = rmq_inspect::show::render(&image, &rmq_inspect::show::ShowOptions::default());
    assert!(
        text.contains("== consumequeue_ext ExtTopic/0 (30 units)"),
        "{text}"
    );

    // overwrite the tags code of the first unit of queue 0
    let f = dir
        .path()
        .join("consumequeue_ext/ExtTopic/0/00000000000000000000");
    let mut bytes = std::fs::read(&f).unwrap();
    bytes[2..10].copy_from_slice(&12345i64.to_be_bytes());
    std::fs::write(&f, bytes).unwrap();
    let report = verify_store(dir.path(), &Options::default()).unwrap();
    assert!(
        report
            .violations
            .iter()
            .any(|v| v.kind == rmq_inspect::ViolationKind::CqTagsCode),
        "{}",
        report.summary()
    );
}

/// A record parked with a DELAY level above the highest (40 of the default 18): the store's
/// dispatcher caps the level as 4.8.0's `checkMessageAndReturnSize` does, so the entry holds
/// store time + 2 h and the store verifies.
#[test]
fn a_schedule_level_above_the_highest_is_capped_at_dispatch() {
    let dir = tempfile::tempdir().unwrap();
    let store = DefaultMessageStore::open(config(dir.path())).unwrap();
    let r = store.put_message(parked(17, "40", 1));
    assert_eq!(r.status, PutMessageStatus::PutOk);
    let stored_at = r.append.unwrap().store_timestamp;
    wait_dispatched(&store);
    let entry = store
        .find_consume_queue("SCHEDULE_TOPIC_XXXX", 17)
        .get_entry(0)
        .unwrap();
    assert_eq!(entry.tags_code, stored_at + 2 * 3_600_000);
    store.shutdown();
    drop(store);
    assert_verifies(dir.path(), 1);
}

// DLedger stores (`enableDLegerCommitLog=true`): the DLedger data files are the commit log.
// A store written through rmq-dledger's file store and rmq-store's DLedger commit log
// verifies with no violation; a broken index record, a wrong PHYSICALOFFSET, an entry with an
// empty body and a checkpoint ahead of the data are each reported.

/// Data files of 8 KiB, so the entries span several files and leave blanks.
const DLEDGER_FILE_SIZE: i64 = 8 * 1024;
/// Messages in the DLedger store.
const N: usize = 120;

/// Writes `N` messages as a DLedger leader writes them (queue offsets in the records,
/// PHYSICALOFFSET from the append hook), commits them, and lets the message store build its
/// consume queues and index from the data files.
fn write_dledger_store(root: &Path) {
    let mut cfg = StoreConfig::new(root, "n0");
    cfg.data_file_size = DLEDGER_FILE_SIZE;
    cfg.index_file_size = INDEX_UNIT_SIZE as i64 * 256;
    let (mut ledger, _) = DLedgerStore::open(cfg).unwrap();
    ledger.set_append_hook(Some(physical_offset_hook()));
    let mut next = [0i64; 2];
    for i in 0..N {
        let m = msg("RaftTopic", (i % 2) as i32, i);
        let q = m.queue_id as usize;
        let record = encode_inner_record(&m, next[q], 0, rmq_store::now_ms()).unwrap();
        next[q] += 1;
        ledger.append_as_leader(1, Bytes::from(record)).unwrap();
    }
    ledger.set_committed(ledger.end_index());
    ledger.persist_checkpoint().unwrap();
    let store = DefaultMessageStore::open_on_dledger(config(root), &mut ledger).unwrap();
    assert_eq!(store.dispatch_behind_bytes(), 0, "dispatched while opening");
    store.shutdown();
    ledger.flush().unwrap();
}

fn dledger_data_file(root: &Path, start: i64) -> std::path::PathBuf {
    root.join("dledger-n0/data").join(format!("{start:020}"))
}

fn kinds(root: &Path) -> Vec<K> {
    verify_store(root, &Options::default()).unwrap().kinds()
}

#[test]
fn a_dledger_store_verifies_and_shows_its_entries() {
    let dir = tempfile::tempdir().unwrap();
    write_dledger_store(dir.path());
    assert!(!dir.path().join("commitlog").exists());
    let report = verify_store(dir.path(), &Options::default()).unwrap();
    for v in &report.violations {
        eprintln!("{v}");
    }
    assert!(report.violations.is_empty(), "{}", report.summary());
    assert_eq!(report.messages, N);
    assert_eq!(report.cq_entries, N);
    assert!(report.index_entries >= N, "{}", report.summary());
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("dledger-n0/data is the commit log")),
        "{:?}",
        report.notes
    );
    let image = rmq_inspect::StoreImage::load(
        dir.path(),
        &Options::default(),
        &mut rmq_inspect::violation::Violations::default(),
    )
    .unwrap();
    let d = image.dledger.as_ref().unwrap();
    assert!(d.files.len() > 3, "the entries span several files");
    assert!(d.files.iter().any(|f| f.blank.is_some()), "with blanks");
    assert_eq!(d.entries.len(), N);
    let text = rmq_inspect::show::render(&image, &rmq_inspect::show::ShowOptions::default());
    assert!(
        text.contains("== dledger-n0/data: the commit log"),
        "{text}"
    );
    assert!(
        text.contains("checkpoint: endIndex 119 committedIndex 119"),
        "{text}"
    );
    // entry 0 sits at 0 and its message at 48
    assert!(text.contains("RaftTopic q0 #0"), "{text}");
}

#[test]
fn a_broken_index_record_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_dledger_store(dir.path());
    let f = dir
        .path()
        .join("dledger-n0/index")
        .join(format!("{:020}", 0));
    let mut b = std::fs::read(&f).unwrap();
    let at = 7 * INDEX_UNIT_SIZE + 4; // entry 7's pos
    b[at..at + 8].copy_from_slice(&99i64.to_be_bytes());
    std::fs::write(&f, b).unwrap();
    assert_eq!(kinds(dir.path()), vec![K::DLedgerIndex]);
}

#[test]
fn a_wrong_physical_offset_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_dledger_store(dir.path());
    // the first message's PHYSICALOFFSET (record bytes 28..36, after the entry header)
    let f = dledger_data_file(dir.path(), 0);
    let mut b = std::fs::read(&f).unwrap();
    let at = BODY_OFFSET + 28;
    b[at..at + 8].copy_from_slice(&0i64.to_be_bytes());
    std::fs::write(&f, b).unwrap();
    assert!(kinds(dir.path()).contains(&K::PhysicalOffset));
}

#[test]
fn an_empty_entry_and_a_checkpoint_ahead_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_dledger_store(dir.path());
    let mut cfg = StoreConfig::new(dir.path(), "n0");
    cfg.data_file_size = DLEDGER_FILE_SIZE;
    cfg.index_file_size = INDEX_UNIT_SIZE as i64 * 256;
    let (mut ledger, _) = DLedgerStore::open(cfg).unwrap();
    // an entry with no body, as an earlier rmq-broker wrote for a new leader: a 4.8.0
    // broker's dispatcher cannot read past it
    ledger.append_as_leader(2, Bytes::new()).unwrap();
    ledger.flush().unwrap();
    drop(ledger);
    std::fs::write(
        dir.path().join("dledger-n0/checkpoint"),
        "endIndex=500\ncommittedIndex=500\n",
    )
    .unwrap();
    let k = kinds(dir.path());
    assert!(k.contains(&K::DLedgerEntry), "{k:?}");
    assert!(k.contains(&K::DLedgerCheckpoint), "{k:?}");
}
