//! `rmq-inspect` on a DLedger store (`enableDLegerCommitLog=true`): the DLedger data files are
//! the commit log. A store written through rmq-dledger's file store and rmq-store's DLedger
//! commit log verifies with no violation; a broken index record, a wrong PHYSICALOFFSET, an
//! entry with an empty body and a checkpoint ahead of the data are each reported.

use std::path::Path;

use bytes::Bytes;
use rmq_common::inner::encode_inner_record;
use rmq_common::message::{encode_properties, tags_code};
use rmq_dledger::core::LogStore;
use rmq_dledger::entry::{BODY_OFFSET, INDEX_UNIT_SIZE};
use rmq_dledger::store::{DLedgerStore, StoreConfig};
use rmq_inspect::{verify_store, Options, ViolationKind as K};
use rmq_store::commit_log::dledger::physical_offset_hook;
use rmq_store::{DefaultMessageStore, MessageExtBrokerInner, MessageStoreConfig};

const FILE_SIZE: i64 = 16 * 1024;
const N: usize = 120;

fn msg(i: usize) -> MessageExtBrokerInner {
    let tags = ["TagA", "TagB", ""][i % 3];
    let mut props = vec![("KEYS".to_string(), format!("order-{i}"))];
    if !tags.is_empty() {
        props.push(("TAGS".into(), tags.into()));
    }
    props.push(("UNIQ_KEY".into(), format!("7F0000010001{i:020X}")));
    MessageExtBrokerInner {
        topic: "RaftTopic".into(),
        queue_id: (i % 2) as i32,
        flag: 0,
        body: Bytes::from(format!("body {i} {}", "x".repeat(i * 37 % 900))),
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

/// Writes `N` messages as a DLedger leader writes them (queue offsets in the records,
/// PHYSICALOFFSET from the append hook), commits them, and lets the message store build its
/// consume queues and index from the data files.
fn write_store(root: &Path) {
    let mut cfg = StoreConfig::new(root, "n0");
    cfg.data_file_size = FILE_SIZE;
    cfg.index_file_size = INDEX_UNIT_SIZE as i64 * 256;
    let (mut ledger, _) = DLedgerStore::open(cfg).unwrap();
    ledger.set_append_hook(Some(physical_offset_hook()));
    let mut next = [0i64; 2];
    for i in 0..N {
        let m = msg(i);
        let q = m.queue_id as usize;
        let record = encode_inner_record(&m, next[q], 0, rmq_store::now_ms()).unwrap();
        next[q] += 1;
        ledger.append_as_leader(1, Bytes::from(record)).unwrap();
    }
    ledger.set_committed(ledger.end_index());
    ledger.persist_checkpoint().unwrap();
    let store_cfg = MessageStoreConfig {
        mapped_file_size_commit_log: FILE_SIZE as u64,
        mapped_file_size_consume_queue: 20 * 32,
        max_hash_slot_num: 32,
        max_index_num: 128,
        clean_resource_interval_ms: 3_600_000,
        ..MessageStoreConfig::with_root(root)
    };
    let store = DefaultMessageStore::open_on_dledger(store_cfg, &mut ledger).unwrap();
    assert_eq!(store.dispatch_behind_bytes(), 0, "dispatched while opening");
    store.shutdown();
    ledger.flush().unwrap();
}

fn data_file(root: &Path, start: i64) -> std::path::PathBuf {
    root.join("dledger-n0/data").join(format!("{start:020}"))
}

fn kinds(root: &Path) -> Vec<K> {
    verify_store(root, &Options::default()).unwrap().kinds()
}

#[test]
fn a_dledger_store_verifies_and_shows_its_entries() {
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path());
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
    write_store(dir.path());
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
    write_store(dir.path());
    // the first message's PHYSICALOFFSET (record bytes 28..36, after the entry header)
    let f = data_file(dir.path(), 0);
    let mut b = std::fs::read(&f).unwrap();
    let at = BODY_OFFSET + 28;
    b[at..at + 8].copy_from_slice(&0i64.to_be_bytes());
    std::fs::write(&f, b).unwrap();
    assert!(kinds(dir.path()).contains(&K::PhysicalOffset));
}

#[test]
fn an_empty_entry_and_a_checkpoint_ahead_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path());
    let mut cfg = StoreConfig::new(dir.path(), "n0");
    cfg.data_file_size = FILE_SIZE;
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
