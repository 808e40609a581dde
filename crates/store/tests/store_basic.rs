//! Integration tests of `DefaultMessageStore`: put, pull, key query, restart, statuses,
//! batch, listener, lock, group commit and retention, on a real directory.

mod common;

use common::{all, body, msg, small_config};
use rmq_common::message::decode_record;
use rmq_store::{
    DefaultMessageStore, FlushDiskType, GetMessageStatus, PutMessageStatus, StoreError,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn wait_dispatched(s: &DefaultMessageStore) {
    for _ in 0..2000 {
        if s.dispatch_behind_bytes() == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("dispatch did not catch up");
}

#[test]
fn put_get_query_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config(dir.path(), FlushDiskType::SyncFlush);
    let topics = ["TopicA", "TopicB"];
    let n = 300;
    {
        let s = DefaultMessageStore::open(cfg.clone()).unwrap();
        for i in 0..n {
            let t = topics[i % 2];
            let q = (i % 3) as i32;
            let r = s.put_message(msg(
                t,
                q,
                &body(i),
                if i % 2 == 0 { "TagA" } else { "TagB" },
                &format!("k{i} group{}", i % 5),
                &format!("U{i}"),
            ));
            assert_eq!(r.status, PutMessageStatus::PutOk, "message {i}");
            let a = r.append.unwrap();
            assert_eq!(a.msg_id.len(), 32);
            assert_eq!(a.msg_num, 1);
        }
        wait_dispatched(&s);
        assert!(
            s.commit_log()
                .local()
                .expect("a local commit log")
                .mapped_file_queue()
                .file_count()
                > 3,
            "files rolled"
        );
        check_contents(&s, n);
        s.shutdown();
        assert!(!cfg.abort_path().exists(), "clean shutdown removes abort");
    }
    // normal restart
    let s = DefaultMessageStore::open(cfg.clone()).unwrap();
    assert!(cfg.abort_path().exists());
    check_contents(&s, n);
    // queue offsets continue after a restart
    let r = s.put_message(msg("TopicA", 0, b"after", "", "", ""));
    let expected = (0..n).filter(|i| i % 2 == 0 && i % 3 == 0).count() as i64;
    assert_eq!(r.append.unwrap().logics_offset, expected);
    s.shutdown();
}

fn check_contents(s: &DefaultMessageStore, n: usize) {
    let topics = ["TopicA", "TopicB"];
    for (ti, t) in topics.iter().enumerate() {
        for q in 0..3 {
            let expect: Vec<usize> = (0..n)
                .filter(|i| i % 2 == ti && (i % 3) as i32 == q)
                .collect();
            assert_eq!(s.get_max_offset_in_queue(t, q), expect.len() as i64);
            assert_eq!(s.get_min_offset_in_queue(t, q), 0);
            let mut got = Vec::new();
            let mut off = 0;
            loop {
                let r = s.get_message("g", t, q, off, 32, &all);
                if r.status != GetMessageStatus::Found {
                    assert_eq!(r.status, GetMessageStatus::OffsetOverflowOne);
                    break;
                }
                for (b, qo) in r.messages.iter().zip(&r.message_queue_offsets) {
                    let (m, len) = decode_record(b).unwrap();
                    assert_eq!(len, b.len());
                    assert_eq!(m.queue_offset, *qo);
                    got.push(m);
                }
                off = r.next_begin_offset;
            }
            assert_eq!(got.len(), expect.len());
            for (m, i) in got.iter().zip(&expect) {
                assert_eq!(&m.body[..], &body(*i)[..]);
                assert_eq!(m.topic, *t);
                assert_eq!(m.property("UNIQ_KEY"), Some(format!("U{i}").as_str()));
            }
        }
    }
    // key queries, by KEYS token and by UNIQ_KEY
    let r = s.query_message("TopicA", "k10", 32, 0, i64::MAX);
    assert_eq!(r.messages.len(), 1);
    assert_eq!(decode_record(&r.messages[0]).unwrap().0.body, body(10));
    let r = s.query_message("TopicB", "U11", 32, 0, i64::MAX);
    assert_eq!(r.messages.len(), 1);
    let r = s.query_message("TopicA", "group0", 64, 0, i64::MAX);
    // i % 5 == 0 and i even: i % 10 == 0
    assert_eq!(
        r.messages.len(),
        (0..n).filter(|i| i % 10 == 0).count().min(64)
    );
    assert!(s
        .query_message("TopicB", "k10", 32, 0, i64::MAX)
        .messages
        .is_empty());
    assert!(r.index_last_update_phyoffset > 0);
}

#[test]
fn statuses_filters_and_lookups() {
    let dir = tempfile::tempdir().unwrap();
    let s = DefaultMessageStore::open(small_config(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    let mut phys = Vec::new();
    for i in 0..20 {
        let r = s.put_message(msg(
            "T",
            1,
            &body(i),
            if i % 4 == 0 { "X" } else { "Y" },
            "",
            "",
        ));
        phys.push(r.append.unwrap());
    }
    wait_dispatched(&s);
    let r = s.get_message("g", "Nope", 0, 0, 32, &all);
    assert_eq!(r.status, GetMessageStatus::NoMatchedLogicQueue);
    let r = s.get_message("g", "T", 1, 20, 32, &all);
    assert_eq!(r.status, GetMessageStatus::OffsetOverflowOne);
    assert_eq!(r.next_begin_offset, 20);
    let r = s.get_message("g", "T", 1, 25, 32, &all);
    assert_eq!(r.status, GetMessageStatus::OffsetOverflowBadly);
    assert_eq!(r.next_begin_offset, 0, "min offset 0 => back to 0");
    let r = s.get_message("g", "T", 1, -1, 32, &all);
    assert_eq!(r.status, GetMessageStatus::OffsetTooSmall);
    let x = rmq_common::message::tags_code(Some("X"));
    let r = s.get_message("g", "T", 1, 0, 32, &|c| c == x);
    assert_eq!(r.status, GetMessageStatus::Found);
    assert_eq!(r.message_queue_offsets, vec![0, 4, 8, 12, 16]);
    assert_eq!(r.next_begin_offset, 20);
    let r = s.get_message("g", "T", 1, 17, 32, &|c| c == x);
    assert_eq!(r.status, GetMessageStatus::NoMatchedMessage);
    assert_eq!(r.next_begin_offset, 20);
    // max message count respected
    let r = s.get_message("g", "T", 1, 0, 3, &all);
    assert_eq!(r.messages.len(), 3);
    assert_eq!(r.next_begin_offset, 3);

    // lookups by physical offset and time
    let a = &phys[7];
    let rec = s.look_message_by_offset(a.wrote_offset).unwrap();
    assert_eq!(rec.len(), a.wrote_bytes);
    assert!(s.look_message_by_offset(a.wrote_offset + 1).is_none());
    assert_eq!(s.get_commit_log_offset_in_queue("T", 1, 7), a.wrote_offset);
    assert_eq!(s.get_message_store_timestamp("T", 1, 7), a.store_timestamp);
    assert_eq!(s.get_earliest_message_time("T", 1), phys[0].store_timestamp);
    assert_eq!(
        s.get_earliest_message_time_in_store(),
        phys[0].store_timestamp
    );
    let off = s.get_offset_in_queue_by_time("T", 1, a.store_timestamp);
    assert_eq!(
        s.get_message_store_timestamp("T", 1, off),
        a.store_timestamp
    );
    assert_eq!(s.get_offset_in_queue_by_time("T", 1, 0), 0);
    assert_eq!(
        s.get_max_phy_offset(),
        phys[19].wrote_offset + phys[19].wrote_bytes as i64
    );
    assert_eq!(s.get_min_phy_offset(), 0);
    s.shutdown();
    let r = s.put_message(msg("T", 1, b"late", "", "", ""));
    assert_eq!(r.status, PutMessageStatus::ServiceNotAvailable);
}

#[test]
fn illegal_messages_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = DefaultMessageStore::open(small_config(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    let long_topic = "t".repeat(128);
    assert_eq!(
        s.put_message(msg(&long_topic, 0, b"x", "", "", "")).status,
        PutMessageStatus::MessageIllegal
    );
    let mut m = msg("T", 0, b"x", "", "", "");
    m.properties = "a".repeat(40_000);
    assert_eq!(
        s.put_message(m).status,
        PutMessageStatus::PropertiesSizeExceeded
    );
    assert_eq!(
        s.put_message(msg("T", 0, &[0u8; 5000], "", "", "")).status,
        PutMessageStatus::MessageIllegal
    );
    // the log is untouched
    assert_eq!(s.get_max_phy_offset(), 0);
    s.shutdown();
}

#[test]
fn batch_put_is_contiguous_with_consecutive_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let s = DefaultMessageStore::open(small_config(dir.path(), FlushDiskType::SyncFlush)).unwrap();
    s.put_message(msg("B", 0, b"first", "", "", ""));
    let batch: Vec<_> = (0..5)
        .map(|i| msg("B", 0, &body(i), "", &format!("bk{i}"), ""))
        .collect();
    let r = s.put_messages(batch);
    assert_eq!(r.status, PutMessageStatus::PutOk);
    let a = r.append.unwrap();
    assert_eq!(a.logics_offset, 1);
    assert_eq!(a.msg_num, 5);
    assert_eq!(a.msg_id.split(',').count(), 5);
    wait_dispatched(&s);
    let g = s.get_message("g", "B", 0, 1, 32, &all);
    assert_eq!(g.messages.len(), 5);
    let mut pos = a.wrote_offset;
    for (i, b) in g.messages.iter().enumerate() {
        let (m, _) = decode_record(b).unwrap();
        assert_eq!(m.commit_log_offset, pos);
        assert_eq!(m.queue_offset, 1 + i as i64);
        pos += b.len() as i64;
    }
    assert_eq!(pos, a.wrote_offset + a.wrote_bytes as i64);
    assert_eq!(
        s.query_message("B", "bk3", 32, 0, i64::MAX).messages.len(),
        1
    );
    // mixed queues are refused
    let mixed = vec![msg("B", 0, b"a", "", "", ""), msg("B", 1, b"b", "", "", "")];
    assert_eq!(
        s.put_messages(mixed).status,
        PutMessageStatus::MessageIllegal
    );
    // an entry's DELAY stays in the record and the entry stays in its own queue (4.8.0)
    let mut d = msg("B", 0, b"d", "", "", "");
    d.properties.push_str("DELAY\u{1}3\u{2}");
    assert_eq!(s.put_messages(vec![d]).status, PutMessageStatus::PutOk);
    wait_dispatched(&s);
    let g = s.get_message("g", "B", 0, 6, 32, &all);
    let (m, _) = decode_record(&g.messages[0]).unwrap();
    assert_eq!((&m.body[..], m.property("DELAY")), (&b"d"[..], Some("3")));
    s.shutdown();
}

#[test]
fn arrival_listener_sees_every_message() {
    let dir = tempfile::tempdir().unwrap();
    let s = DefaultMessageStore::open(small_config(dir.path(), FlushDiskType::AsyncFlush)).unwrap();
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    s.set_arrival_listener(Arc::new(move |t: &str, q, max, tags| {
        seen2.lock().push((t.to_string(), q, max, tags));
    }));
    for i in 0..10 {
        s.put_message(msg("L", 2, &body(i), "TagA", "", ""));
    }
    wait_dispatched(&s);
    let v = seen.lock().clone();
    assert_eq!(v.len(), 10);
    assert_eq!(
        v[9],
        (
            "L".to_string(),
            2,
            10,
            rmq_common::message::tags_code(Some("TagA"))
        )
    );
    s.shutdown();
}

/// Puts from several threads while the dispatcher is busy are not woken one by one; every
/// record is still dispatched, in order, exactly once.
#[test]
fn concurrent_puts_are_all_dispatched_without_per_put_wakeups() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path(), FlushDiskType::AsyncFlush);
    cfg.mapped_file_size_commit_log = 1024 * 1024;
    cfg.mapped_file_size_consume_queue = 1000 * 20;
    let s = DefaultMessageStore::open(cfg).unwrap();
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    s.set_arrival_listener(Arc::new(move |_: &str, q, max, _| {
        seen2.lock().push((q, max));
    }));
    let mut hs = Vec::new();
    for t in 0..4 {
        let s = s.clone();
        hs.push(std::thread::spawn(move || {
            for i in 0..500 {
                let r = s.put_message(msg("D", t, &body(i), "", "", ""));
                assert_eq!(r.status, PutMessageStatus::PutOk);
            }
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    wait_dispatched(&s);
    let seen = seen.lock().clone();
    assert_eq!(seen.len(), 2000);
    for q in 0..4 {
        let maxes: Vec<i64> = seen
            .iter()
            .filter(|(sq, _)| *sq == q)
            .map(|(_, m)| *m)
            .collect();
        assert_eq!(maxes, (1..=500).collect::<Vec<i64>>(), "queue {q}");
        assert_eq!(s.get_max_offset_in_queue("D", q), 500);
    }
    s.shutdown();
}

#[test]
fn second_open_is_locked_out() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config(dir.path(), FlushDiskType::AsyncFlush);
    let s = DefaultMessageStore::open(cfg.clone()).unwrap();
    assert!(matches!(
        DefaultMessageStore::open(cfg.clone()),
        Err(StoreError::Locked(_))
    ));
    assert_eq!(std::fs::read(cfg.lock_path()).unwrap(), b"lock");
    s.shutdown();
    let s2 = DefaultMessageStore::open(cfg).unwrap();
    s2.shutdown();
}

#[test]
fn group_commit_under_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path(), FlushDiskType::SyncFlush);
    cfg.mapped_file_size_commit_log = 1024 * 1024;
    let s = DefaultMessageStore::open(cfg).unwrap();
    let ok = Arc::new(AtomicUsize::new(0));
    let mut hs = Vec::new();
    for t in 0..8 {
        let (s, ok) = (s.clone(), ok.clone());
        hs.push(std::thread::spawn(move || {
            for i in 0..100 {
                let r = s.put_message(msg("G", t, &body(i), "", "", ""));
                assert_eq!(r.status, PutMessageStatus::PutOk);
                let a = r.append.unwrap();
                // SYNC_FLUSH: when put returns, the flush point covers the record
                assert!(
                    s.commit_log()
                        .local()
                        .expect("a local commit log")
                        .mapped_file_queue()
                        .flushed_where()
                        >= a.wrote_offset + a.wrote_bytes as i64
                );
                ok.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(ok.load(Ordering::Relaxed), 800);
    let rounds = s
        .commit_log()
        .local()
        .expect("a local commit log")
        .group_commit()
        .unwrap()
        .rounds();
    assert!((1..=800).contains(&rounds), "rounds {rounds}");
    s.shutdown();
}

#[test]
fn retention_deletes_old_files_and_moves_min_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path(), FlushDiskType::SyncFlush);
    cfg.file_reserved_time_hours = 0;
    cfg.delete_when = "99".into();
    cfg.clean_resource_interval_ms = 20;
    cfg.delete_commit_log_files_interval_ms = 0;
    cfg.delete_consume_queue_files_interval_ms = 0;
    cfg.mapped_file_size_consume_queue = 20 * 16;
    let s = DefaultMessageStore::open(cfg).unwrap();
    for i in 0..400 {
        assert!(s
            .put_message(msg("R", 0, &body(i), "", &format!("rk{i}"), ""))
            .is_ok());
    }
    wait_dispatched(&s);
    let files_before = s
        .commit_log()
        .local()
        .expect("a local commit log")
        .mapped_file_queue()
        .file_count();
    let cq_files_before = s
        .find_consume_queue("R", 0)
        .mapped_file_queue()
        .file_count();
    assert!(files_before > 3);
    s.execute_delete_files_manually();
    let mut ok = false;
    for _ in 0..500 {
        std::thread::sleep(Duration::from_millis(10));
        if s.commit_log()
            .local()
            .expect("a local commit log")
            .mapped_file_queue()
            .file_count()
            == 1
            && s.get_min_offset_in_queue("R", 0) > 0
            && s.find_consume_queue("R", 0)
                .mapped_file_queue()
                .file_count()
                < cq_files_before
        {
            ok = true;
            break;
        }
    }
    assert!(ok, "old files deleted");
    let min_phy = s.get_min_phy_offset();
    assert!(min_phy > 0);
    let min_q = s.get_min_offset_in_queue("R", 0);
    let r = s.get_message("g", "R", 0, 0, 32, &all);
    assert_eq!(r.status, GetMessageStatus::OffsetTooSmall);
    assert_eq!(r.next_begin_offset, min_q);
    let r = s.get_message("g", "R", 0, min_q, 32, &all);
    assert_eq!(r.status, GetMessageStatus::Found);
    let (m, _) = decode_record(&r.messages[0]).unwrap();
    assert!(m.commit_log_offset >= min_phy);
    assert_eq!(m.queue_offset, min_q);
    // keys of deleted messages no longer resolve; recent ones do
    assert!(s
        .query_message("R", "rk0", 32, 0, i64::MAX)
        .messages
        .is_empty());
    assert_eq!(
        s.query_message("R", "rk399", 32, 0, i64::MAX)
            .messages
            .len(),
        1
    );
    s.shutdown();
}

#[test]
fn deleting_topics_removes_their_queues() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = small_config(dir.path(), FlushDiskType::AsyncFlush);
    let s = DefaultMessageStore::open(cfg.clone()).unwrap();
    for t in ["A", "B", "C"] {
        s.put_message(msg(t, 0, b"x", "", "", ""));
    }
    wait_dispatched(&s);
    assert_eq!(s.delete_topics(&["A".to_string()]), 1);
    assert!(!cfg.consume_queue_dir().join("A").exists());
    assert_eq!(s.get_max_offset_in_queue("A", 0), 0);
    let keep: HashSet<String> = ["B".to_string()].into_iter().collect();
    assert_eq!(s.clean_unused_topics(&keep), 1);
    assert_eq!(s.topics(), vec!["B".to_string()]);
    // a deleted topic starts again at queue offset 0
    let r = s.put_message(msg("A", 0, b"y", "", "", ""));
    assert_eq!(r.append.unwrap().logics_offset, 0);
    s.shutdown();
}

#[test]
fn warmed_preallocated_files_work_with_sync_flush() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path(), FlushDiskType::SyncFlush);
    cfg.warm_mapped_file_enable = true;
    cfg.flush_least_pages_when_warm_mapped_file = 2;
    let s = DefaultMessageStore::open(cfg.clone()).unwrap();
    for i in 0..200 {
        assert!(s.put_message(msg("W", 0, &body(i), "", "", "")).is_ok());
    }
    wait_dispatched(&s);
    let files = s
        .commit_log()
        .local()
        .expect("a local commit log")
        .mapped_file_queue()
        .file_count();
    assert!(files > 2);
    s.shutdown();
    // files allocated ahead but never used are removed at shutdown or by recovery
    let s = DefaultMessageStore::open(cfg).unwrap();
    assert_eq!(s.get_max_offset_in_queue("W", 0), 200);
    assert_eq!(
        s.commit_log()
            .local()
            .expect("a local commit log")
            .mapped_file_queue()
            .file_count(),
        files
    );
    s.shutdown();
}

/// A gap in a consume queue is filled with placeholder entries. A pull steps over a placeholder
/// and still hands out every real entry after it: read as a record, the placeholder (position 0)
/// would fail like a deleted message and take the rest of commit-log file 0 with it, and the
/// consumer would commit its offset past messages it never got.
#[test]
fn a_placeholder_in_a_queue_gap_skips_only_itself() {
    let dir = tempfile::tempdir().unwrap();
    let s = DefaultMessageStore::open(small_config(dir.path(), FlushDiskType::SyncFlush)).unwrap();
    let mut at = Vec::new();
    for i in 0..3 {
        let r = s.put_message(msg(
            "Src",
            0,
            &body(i),
            "TagA",
            &format!("k{i}"),
            &format!("U{i}"),
        ));
        assert_eq!(r.status, PutMessageStatus::PutOk);
        let a = r.append.unwrap();
        at.push((a.wrote_offset, a.wrote_bytes as i32));
    }
    wait_dispatched(&s);
    // Queue offsets 0 and 2 name messages 0 and 2; offset 1 is a gap (a put refused after
    // its queue offset was taken), which the consume queue fills with a placeholder.
    let cq = s.find_consume_queue("Gap", 0);
    cq.put_position(at[0].0, at[0].1, 0, 0).unwrap();
    cq.put_position(at[2].0, at[2].1, 0, 2).unwrap();
    assert_eq!(s.get_max_offset_in_queue("Gap", 0), 3);

    for from in [0, 1] {
        let r = s.get_message("g", "Gap", 0, from, 32, &all);
        assert_eq!(r.status, GetMessageStatus::Found, "pull from {from}");
        assert_eq!(r.next_begin_offset, 3, "pull from {from}");
        let bodies: Vec<Vec<u8>> = r
            .messages
            .iter()
            .map(|b| decode_record(b).unwrap().0.body.to_vec())
            .collect();
        let want: Vec<Vec<u8>> = if from == 0 {
            vec![body(0), body(2)]
        } else {
            vec![body(2)]
        };
        assert_eq!(bodies, want, "pull from {from}");
        assert_eq!(*r.message_queue_offsets.last().unwrap(), 2);
    }
}
