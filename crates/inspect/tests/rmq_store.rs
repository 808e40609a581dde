//! A store written by our own `rmq-store` (small files, so everything rolls) passes `verify`,
//! before and after a reopen; delayed messages parked in SCHEDULE_TOPIC_XXXX carry their
//! delivery time as tagsCode.

use std::time::{Duration, Instant};

use bytes::Bytes;
use rmq_common::message::{encode_properties, tags_code};
use rmq_inspect::{verify_store, Options};
use rmq_store::{
    DefaultMessageStore, FlushDiskType, MessageExtBrokerInner, MessageStoreConfig, PutMessageStatus,
};

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
