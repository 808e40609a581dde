//! `verify` on hand-made DLedger-mode stores (4.8.0 `DLedgerCommitLog`): the messages are the
//! bodies of entries in `dledger-n0/data`, consume queues point at entry position + 48. A
//! clean store passes; each broken rule is reported as its own violation. (A store written by
//! a real 4.8.0 DLedger broker is checked by `interop/dledger-store/run.sh`.)

mod common;

use common::{flip, StoreBuilder, DLEDGER_DATA, ENTRY_HEADER};
use rmq_inspect::{verify_store, Options, StoreImage, ViolationKind as K};

fn kinds(root: &std::path::Path) -> Vec<K> {
    let report = verify_store(root, &Options::default()).unwrap();
    for v in &report.violations {
        eprintln!("{v}");
    }
    report.kinds()
}

/// Twenty messages in 1 KiB data files, so that entries roll over blank markers.
fn dledger_store() -> StoreBuilder {
    let mut b = StoreBuilder::new_dledger(1024, 4);
    for i in 0..20 {
        let topic = if i % 3 == 0 { "TopicA" } else { "TopicB" };
        let key = format!("order-{i}");
        b.put(
            topic,
            i % 2,
            Some("TagX"),
            &[key.as_str()],
            format!("hello {i}").as_bytes(),
        );
    }
    b
}

#[test]
fn clean_dledger_store_passes() {
    let b = dledger_store();
    let root = b.finish();
    assert!(!root.join("commitlog").exists());
    let report = verify_store(&root, &Options::default()).unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(report.messages, 20);
    assert_eq!(report.cq_entries, 20);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("dledger-n0/data: 20 entries 0..=19")),
        "{:?}",
        report.notes
    );
    // The records sit 48 bytes after their entries, and the data files rolled.
    assert_eq!(b.puts[0].phy, ENTRY_HEADER as i64);
    assert!(std::fs::read_dir(root.join(DLEDGER_DATA)).unwrap().count() >= 3);
    let mut v = rmq_inspect::violation::Violations::default();
    let image = StoreImage::load(&root, &Options::default(), &mut v).unwrap();
    let d = image.dledger.expect("DLedger layout recognised");
    assert_eq!(
        (d.entries, d.index_records, d.committed_index),
        (20, 20, Some(19))
    );
}

#[test]
fn a_wrong_pos_field_is_an_entry_violation() {
    let b = dledger_store();
    let root = b.finish();
    let (path, at) = b.locate(b.entries[3].0);
    flip(&root.join(path), at + 31, 0x04); // lowest byte of the pos field
    assert_eq!(kinds(&root), vec![K::DLedgerEntry, K::DLedgerIndex]);
}

#[test]
fn an_index_record_that_disagrees_is_reported() {
    let b = dledger_store();
    let root = b.finish();
    let index = root.join("dledger-n0/index/00000000000000000000");
    flip(&index, 5 * 32 + 15, 0x01); // entry 5's size in its index record
    assert_eq!(kinds(&root), vec![K::DLedgerIndex]);
}

#[test]
fn an_empty_entry_cannot_be_dispatched_by_4_8_0() {
    let mut b = dledger_store();
    b.put_empty_entry();
    b.put("TopicA", 0, None, &[], b"after the empty entry");
    let root = b.finish();
    assert_eq!(kinds(&root), vec![K::DLedgerEntry]);
}

#[test]
fn a_derived_commit_log_beside_the_dledger_data_is_an_overlap() {
    let b = dledger_store();
    let root = b.finish();
    let copy = common::sample_store();
    let classic = copy.finish();
    std::fs::rename(classic.join("commitlog"), root.join("commitlog")).unwrap();
    let found = kinds(&root);
    assert_eq!(found.first(), Some(&K::DLedgerLayout), "{found:?}");
}

/// A store whose last two messages have no consume-queue entries (never dispatched), with
/// the checkpoint's committedIndex at `committed`.
fn last_two_undispatched(committed: i64) -> Vec<K> {
    let mut b = dledger_store();
    b.committed_index = Some(committed);
    let root = b.finish();
    for p in &b.puts[18..] {
        let dir = root
            .join("consumequeue")
            .join(&p.topic)
            .join(p.queue_id.to_string());
        let at = p.queue_offset as usize * 20;
        let file = dir.join(format!("{:020}", at / b.cq_file_size * b.cq_file_size));
        let mut data = std::fs::read(&file).unwrap();
        let off = at % b.cq_file_size;
        data[off..off + 20].fill(0);
        std::fs::write(&file, data).unwrap();
    }
    kinds(&root)
}

#[test]
fn entries_past_the_committed_index_need_no_consume_queue_entry() {
    // Entries 18 and 19 are past the committed index: the broker has not dispatched them yet.
    assert_eq!(last_two_undispatched(17), vec![]);
    // Committed, they must have their entries.
    assert_eq!(last_two_undispatched(19), vec![K::CqMissing, K::CqMissing]);
}
