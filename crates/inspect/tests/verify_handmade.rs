//! `verify` on stores written by hand: a clean store passes, and each single corrupted byte
//! is reported as exactly the one violation it causes.

mod common;

use common::{flip, index_entry_pos, sample_store, StoreBuilder};
use rmq_inspect::{verify_store, Options, ViolationKind as K};

fn kinds(root: &std::path::Path) -> Vec<K> {
    let report = verify_store(root, &Options::default()).unwrap();
    for v in &report.violations {
        eprintln!("{v}");
    }
    report.kinds()
}

#[test]
fn clean_store_passes_and_counts_everything() {
    let b = sample_store();
    let root = b.finish();
    let report = verify_store(&root, &Options::default()).unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(report.messages, 20);
    assert_eq!(report.cq_entries, 20);
    let keys: usize = b.puts.iter().map(|p| p.keys.len()).sum();
    assert_eq!(report.index_entries, keys);
    assert_eq!(
        report.summary(),
        format!(
            "verified: 20 messages, 20 consume queue entries, {keys} index entries, 0 violations"
        )
    );
    // The files rolled and the consume queues span several files.
    assert!(std::fs::read_dir(root.join("commitlog")).unwrap().count() >= 3);
    assert!(
        std::fs::read_dir(root.join("consumequeue/TopicB/1"))
            .unwrap()
            .count()
            >= 2
    );
}

#[test]
fn body_byte_flip_is_a_crc_violation() {
    let b = sample_store();
    b.finish();
    let (path, pos) = b.locate(b.puts[7].phy);
    flip(&path, pos + 84 + 4, 0x01); // first body byte (IPv4 hosts: body length at 84)
    assert_eq!(kinds(b.root()), vec![K::BodyCrc]);
}

#[test]
fn magic_byte_flip_is_a_magic_violation() {
    let b = sample_store();
    b.finish();
    let (path, pos) = b.locate(b.puts[3].phy);
    flip(&path, pos + 5, 0x40);
    assert_eq!(kinds(b.root()), vec![K::BadMagic]);
}

#[test]
fn physical_offset_field_flip_is_reported() {
    let b = sample_store();
    b.finish();
    let (path, pos) = b.locate(b.puts[12].phy);
    flip(&path, pos + 28 + 7, 0x08);
    assert_eq!(kinds(b.root()), vec![K::PhysicalOffset]);
}

#[test]
fn wrong_filler_length_is_reported() {
    let b = sample_store();
    b.finish();
    // The first file ends with the filler right after the last record it holds.
    let last_in_first = b
        .puts
        .iter()
        .rfind(|p| (p.phy as usize) < b.cl_file_size)
        .unwrap();
    let (path, pos) = b.locate(last_in_first.phy);
    flip(&path, pos + last_in_first.size + 3, 0x04);
    assert_eq!(kinds(b.root()), vec![K::Filler]);
}

fn cq_file_of(b: &StoreBuilder, n: usize) -> (std::path::PathBuf, usize) {
    let p = &b.puts[n];
    let byte = p.queue_offset as usize * 20;
    let start = byte / b.cq_file_size * b.cq_file_size;
    let path = b
        .root()
        .join("consumequeue")
        .join(&p.topic)
        .join(p.queue_id.to_string())
        .join(format!("{start:020}"));
    (path, byte - start)
}

#[test]
fn cq_tags_code_flip_is_reported() {
    let b = sample_store();
    b.finish();
    let (path, pos) = cq_file_of(&b, 9);
    flip(&path, pos + 19, 0x01);
    assert_eq!(kinds(b.root()), vec![K::CqTagsCode]);
}

#[test]
fn cq_size_flip_is_a_mismatch() {
    let b = sample_store();
    b.finish();
    let (path, pos) = cq_file_of(&b, 10);
    flip(&path, pos + 11, 0x02);
    assert_eq!(kinds(b.root()), vec![K::CqMismatch]);
}

#[test]
fn cq_phy_flip_is_dangling() {
    let b = sample_store();
    b.finish();
    let (path, pos) = cq_file_of(&b, 11);
    flip(&path, pos + 7, 0x01);
    assert_eq!(kinds(b.root()), vec![K::CqDangling]);
}

#[test]
fn truncated_cq_is_a_missing_entry() {
    let b = sample_store();
    b.finish();
    // Zero the last entry of the queue of message 19 (it is that queue's newest).
    let (path, pos) = cq_file_of(&b, 19);
    let mut data = std::fs::read(&path).unwrap();
    data[pos..pos + 20].fill(0);
    std::fs::write(&path, data).unwrap();
    assert_eq!(kinds(b.root()), vec![K::CqMissing]);
}

#[test]
fn index_time_diff_flip_is_an_entry_violation() {
    let b = sample_store();
    b.finish();
    let path = b.root().join("index/20231114221320000");
    flip(&path, index_entry_pos(5) + 15, 0x10);
    assert_eq!(kinds(b.root()), vec![K::IndexEntry]);
}

#[test]
fn index_link_forward_is_a_chain_fault() {
    let b = sample_store();
    b.finish();
    let path = b.root().join("index/20231114221320000");
    // Find an entry with a non-zero prevIndex and make it point forward to itself.
    let data = std::fs::read(&path).unwrap();
    let n = (2..40)
        .find(|&n| {
            let at = index_entry_pos(n) + 16;
            i32::from_be_bytes(data[at..at + 4].try_into().unwrap()) > 0
        })
        .unwrap();
    let mut data = data;
    let at = index_entry_pos(n) + 16;
    data[at..at + 4].copy_from_slice(&(n as i32).to_be_bytes());
    std::fs::write(&path, data).unwrap();
    let k = kinds(b.root());
    assert_eq!(k[0], K::IndexChain, "{k:?}");
    // The entries behind the broken link are no longer reachable.
    assert!(
        k.iter()
            .all(|k| matches!(k, K::IndexChain | K::IndexMissing)),
        "{k:?}"
    );
}

#[test]
fn unindexed_key_is_reported() {
    let b = sample_store();
    b.finish();
    let path = b.root().join("index/20231114221320000");
    // Point entry 3 at another record: its own key goes missing and the entry is wrong.
    let mut data = std::fs::read(&path).unwrap();
    let at = index_entry_pos(3) + 4;
    let phy = i64::from_be_bytes(data[at..at + 8].try_into().unwrap());
    let other = b
        .puts
        .iter()
        .find(|p| p.phy != phy && p.phy > 0)
        .unwrap()
        .phy;
    data[at..at + 8].copy_from_slice(&other.to_be_bytes());
    std::fs::write(&path, data).unwrap();
    let mut k = kinds(b.root());
    k.sort();
    assert!(
        k.contains(&K::IndexEntry) && k.contains(&K::IndexMissing),
        "{k:?}"
    );
}

#[test]
fn queue_offset_gap_is_reported() {
    let mut b = StoreBuilder::new(4096, 8);
    b.put("T", 0, Some("a"), &["k"], b"one");
    b.put("T", 0, Some("a"), &["k"], b"two");
    b.finish();
    let (path, pos) = b.locate(b.puts[1].phy);
    flip(&path, pos + 20 + 7, 0x04); // queue offset 1 -> 5
    let k = kinds(b.root());
    assert_eq!(k[0], K::QueueOffset, "{k:?}");
    assert!(k.contains(&K::CqMismatch), "{k:?}");
}

#[test]
fn schedule_topic_tags_code_is_the_delivery_time() {
    let mut b = StoreBuilder::new(4096, 8);
    let props = |level: &str| {
        vec![
            ("DELAY".to_string(), level.to_string()),
            ("REAL_TOPIC".to_string(), "T".to_string()),
            ("REAL_QID".to_string(), "0".to_string()),
            ("TAGS".to_string(), "t".to_string()),
        ]
    };
    // The builder stores then advances its clock by 1500 ms per put: precompute store times.
    let store_ts = 1_700_000_000_000 + 1500;
    b.put_props(
        "SCHEDULE_TOPIC_XXXX",
        2,
        props("3"),
        store_ts + 10_000,
        b"later",
    );
    b.put_props(
        "SCHEDULE_TOPIC_XXXX",
        17,
        props("99"),
        store_ts + 1500 + 7_200_000,
        b"capped",
    );
    b.finish();
    assert_eq!(kinds(b.root()), vec![]);

    let mut b = StoreBuilder::new(4096, 8);
    b.put_props(
        "SCHEDULE_TOPIC_XXXX",
        2,
        props("3"),
        rmq_common::message::tags_code(Some("t")),
        b"x",
    );
    b.finish();
    assert_eq!(kinds(b.root()), vec![K::CqTagsCode]);
}

#[test]
fn gap_between_commit_log_files_is_reported() {
    let b = sample_store();
    b.finish();
    let cl = b.root().join("commitlog");
    std::fs::rename(
        cl.join(format!("{:020}", 2048)),
        cl.join(format!("{:020}", 4096)),
    )
    .unwrap();
    let k = kinds(b.root());
    assert!(k.contains(&K::FileGap), "{k:?}");
}

#[test]
fn preallocated_empty_next_file_is_fine() {
    let b = sample_store();
    b.finish();
    let cl = b.root().join("commitlog");
    let n = std::fs::read_dir(&cl).unwrap().count();
    std::fs::write(
        cl.join(format!("{:020}", n * b.cl_file_size)),
        vec![0u8; b.cl_file_size],
    )
    .unwrap();
    assert_eq!(kinds(b.root()), vec![]);
}

#[test]
fn missing_filler_before_later_data_is_reported() {
    let b = sample_store();
    b.finish();
    let last_in_first = b
        .puts
        .iter()
        .rfind(|p| (p.phy as usize) < b.cl_file_size)
        .unwrap();
    let (path, pos) = b.locate(last_in_first.phy);
    let mut data = std::fs::read(&path).unwrap();
    data[pos + last_in_first.size..].fill(0);
    std::fs::write(&path, data).unwrap();
    assert_eq!(kinds(b.root()), vec![K::Filler]);
}
