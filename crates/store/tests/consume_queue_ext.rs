//! ConsumeQueueExt through the whole store: with `enableConsumeQueueExt` every consume-queue
//! entry holds an extension address, the unit carries the tags code, store time and the bit
//! map the dispatcher computed, tag filtering still sees the real tags code, and everything
//! survives a reopen (clean) and a crash (abort file left behind).

mod common;

use common::{body, msg, small_config};
use rmq_store::consume_queue_ext::{is_ext_addr, undecorate};
use rmq_store::filter::MessageFilter;
use rmq_store::{DefaultMessageStore, FlushDiskType, GetMessageStatus};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn wait_dispatched(s: &DefaultMessageStore) {
    let t = Instant::now();
    while s.dispatch_behind_bytes() > 0 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Bit map: byte 0 = message index (from the body length), byte 1 = 0xFF when tag is "odd".
fn calculator() -> rmq_store::store::BitMapCalculator {
    Arc::new(|req| {
        let odd = req
            .properties
            .iter()
            .any(|(k, v)| k == "TAGS" && v == "odd");
        Some(vec![
            req.consume_queue_offset as u8,
            if odd { 0xFF } else { 0 },
        ])
    })
}

/// Passes entries whose unit's bit map has byte 1 set: never reads the commit log for others.
struct OddBits;
impl MessageFilter for OddBits {
    fn is_matched_by_consume_queue(
        &self,
        _tags: Option<i64>,
        ext: Option<&rmq_store::consume_queue_ext::CqExtUnit>,
    ) -> bool {
        ext.is_some_and(|u| u.filter_bit_map.get(1) == Some(&0xFF))
    }
    fn is_matched_by_commit_log(&self, _record: &[u8]) -> bool {
        true
    }
}

#[test]
fn entries_point_into_the_ext_file_and_survive_reopen_and_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = small_config(dir.path(), FlushDiskType::AsyncFlush);
    cfg.enable_consume_queue_ext = true;
    cfg.mapped_file_size_consume_queue_ext = 4096;
    let n = 300usize;
    {
        let s = DefaultMessageStore::open(cfg.clone()).unwrap();
        s.set_bit_map_calculator(calculator());
        for i in 0..n {
            let tag = if i % 2 == 1 { "odd" } else { "even" };
            assert!(s.put_message(msg("ExtT", 0, &body(i), tag, "", "")).is_ok());
        }
        wait_dispatched(&s);
        let cq = s.find_consume_queue("ExtT", 0);
        let e = cq.get_entry(7).unwrap();
        assert!(is_ext_addr(e.tags_code), "entry holds an address");
        let unit = cq.get_ext(e.tags_code).unwrap();
        assert_eq!(unit.tags_code, rmq_common::message::tags_code(Some("odd")));
        assert_eq!(unit.filter_bit_map, vec![7, 0xFF]);
        assert!(unit.msg_store_time > 0);
        // 22-byte units, 4096-byte files: the addresses run over several files
        assert!(undecorate(cq.get_entry(n as i64 - 1).unwrap().tags_code) > 4096);
        s.shutdown();
    }
    let ext_dir = dir.path().join("consumequeue_ext/ExtT/0");
    assert!(std::fs::read_dir(&ext_dir).unwrap().count() >= 2);
    // first after the clean shutdown (then a kill -9 stand-in), then after that crash
    for crash in [false, true] {
        let s = DefaultMessageStore::open(cfg.clone()).unwrap();
        s.set_bit_map_calculator(calculator());
        let odd = rmq_common::message::tags_code(Some("odd"));
        let (mut by_tag, mut by_bits) = (0, 0);
        let mut off = 0;
        while off < n as i64 {
            let r = s.get_message("g", "ExtT", 0, off, 32, &|c| c == odd);
            assert!(matches!(
                r.status,
                GetMessageStatus::Found | GetMessageStatus::NoMatchedMessage
            ));
            by_tag += r.messages.len();
            off = r.next_begin_offset;
        }
        off = 0;
        while off < n as i64 {
            let r = s.get_message_filtered("g", "ExtT", 0, off, 32, &OddBits);
            by_bits += r.messages.len();
            off = r.next_begin_offset;
        }
        assert_eq!((by_tag, by_bits), (n / 2, n / 2), "after crash: {crash}");
        if crash {
            s.shutdown();
        } else {
            s.halt();
        }
    }
}
