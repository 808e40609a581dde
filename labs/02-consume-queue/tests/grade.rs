//! Grades lab 2 (the consume queue): the 20-byte entry, the file size, locating entry k,
//! reading entries from files and following them to the commit log; then the lab against the
//! consume queues and commit log a real rmq_store wrote.

use lab02_consume_queue::{
    consume_queue_file_size, decode_entry, encode_entry, file_name, locate, queue_dir, read_entry,
    read_message, CqEntry, Location, DEFAULT_MAPPED_FILE_SIZE_CONSUME_QUEUE,
};
use lab_grader::{why, Rng};

const IDEA: &str = "part1/consumequeue.md#an-array-of-pointers-per-queue";
const READING: &str = "part1/consumequeue.md#reading";
const LAB: &str = "part1/consumequeue.md#lab";

#[test]
fn an_entry_is_offset_size_tags_code_big_endian() {
    let e = CqEntry {
        phy_offset: 0x0102_0304_0506_0708,
        size: 0x0A0B_0C0D,
        tags_code: -2,
    };
    let bytes = encode_entry(&e);
    let mut want = vec![1, 2, 3, 4, 5, 6, 7, 8, 0x0A, 0x0B, 0x0C, 0x0D];
    want.extend([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]);
    assert_eq!(
        bytes.to_vec(),
        want,
        "{}",
        why(
            "bytes 0-7 the commit-log offset, 8-11 the size, 12-19 the tagsCode, all big-endian",
            IDEA
        )
    );
    assert_eq!(
        decode_entry(&bytes),
        Some(e),
        "{}",
        why("decode inverts encode", IDEA)
    );
    let mut longer = bytes.to_vec();
    longer.extend([9; 20]);
    assert_eq!(
        decode_entry(&longer),
        Some(e),
        "{}",
        why("only the first 20 bytes are one entry", LAB)
    );
    assert_eq!(
        decode_entry(&bytes[..19]),
        None,
        "{}",
        why("19 bytes are not an entry", LAB)
    );
}

#[test]
fn the_file_size_is_rounded_up_to_whole_entries() {
    let rule = why(
        "getMappedFileSizeConsumeQueue rounds the configured size up to a multiple of 20, so an \
         entry never spans two files",
        LAB,
    );
    for (configured, want) in [
        (DEFAULT_MAPPED_FILE_SIZE_CONSUME_QUEUE, 6_000_000),
        (150, 160),
        (20, 20),
        (1, 20),
        (6_000_001, 6_000_020),
    ] {
        assert_eq!(
            consume_queue_file_size(configured),
            want,
            "mappedFileSizeConsumeQueue = {configured}{rule}"
        );
    }
}

#[test]
fn entry_k_is_at_byte_k_times_20_of_the_chain() {
    let rule = why(
        "entry k is at byte k x 20 of the chain: the file is the one whose first byte offset \
         (its name) is that byte rounded down to a multiple of the file size",
        IDEA,
    );
    let at = |file_from_offset, position| {
        Some(Location {
            file_from_offset,
            position,
        })
    };
    for (k, size, want) in [
        (0, 6_000_000, at(0, 0)),
        (299_999, 6_000_000, at(0, 5_999_980)),
        (300_000, 6_000_000, at(6_000_000, 0)),
        (4_711, 6_000_000, at(0, 94_220)),
        (9, 160, at(160, 20)),
        (16, 160, at(320, 0)),
        (-1, 160, None),
    ] {
        assert_eq!(
            locate(k, size),
            want,
            "entry {k}, files of {size} bytes{rule}"
        );
    }
    assert_eq!(file_name(6_000_000), "00000000000006000000");
}

#[test]
fn entries_are_read_from_the_files_and_unwritten_ones_are_none() {
    // Two files of 100 bytes (5 entries each); the second holds entries 5..8 only.
    let dir = tempfile::tempdir().expect("temp dir");
    let entry = |k: i64| CqEntry {
        phy_offset: k * 1000,
        size: 100 + k as i32,
        tags_code: k,
    };
    for (start, range) in [(0i64, 0..5), (100, 5..8)] {
        let mut file = vec![0u8; 100];
        for k in range {
            let pos = (k as usize % 5) * 20;
            file[pos..pos + 20].copy_from_slice(&encode_entry(&entry(k)));
        }
        std::fs::write(dir.path().join(file_name(start)), file).expect("write");
    }
    let rule = why(
        "entry k: open the file named after byte k x 20 rounded down, read 20 bytes at the rest",
        READING,
    );
    for k in 0..8 {
        assert_eq!(
            read_entry(dir.path(), k, 100),
            Some(entry(k)),
            "entry {k}{rule}"
        );
    }
    let none = why(
        "an entry of zeros was never written (size 0), and an entry whose file does not exist \
         is not there: both are None, never an error or a panic",
        LAB,
    );
    assert_eq!(
        read_entry(dir.path(), 8, 100),
        None,
        "entry 8 (zeros){none}"
    );
    assert_eq!(
        read_entry(dir.path(), 10, 100),
        None,
        "entry 10 (no file){none}"
    );
    assert_eq!(read_entry(dir.path(), -3, 100), None, "entry -3{none}");
}

fn message(topic: &str, queue_id: i32, i: usize) -> rmq_store::MessageExtBrokerInner {
    let tag = ["TagA", "TagB", "TagC"][i % 3];
    let body = format!("message {i} {}", "x".repeat(i * 37 % 700));
    let mut m = lab_fixtures::message(topic, queue_id, body);
    m.properties = format!("TAGS\u{1}{tag}\u{2}");
    m.tags_code = rmq_common::message::tags_code(Some(tag));
    m
}

/// A real store (consume-queue files of 150 -> 160 bytes, commit-log files of 4096 bytes, so
/// both chains roll often): the lab reads every entry the store's dispatcher wrote, and the
/// same record bytes a pull returns.
#[test]
fn reads_what_rmq_store_wrote() {
    use rmq_store::{DefaultMessageStore, GetMessageStatus, MessageStoreConfig, PutMessageStatus};
    let mut rng = Rng::new(0x0202);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = MessageStoreConfig {
        mapped_file_size_commit_log: 4096,
        mapped_file_size_consume_queue: 150,
        ..MessageStoreConfig::with_root(dir.path())
    };
    let cq_size = consume_queue_file_size(config.mapped_file_size_consume_queue);
    let store = DefaultMessageStore::open(config).expect("store opens");
    let queues = [("Orders", 0), ("Orders", 1), ("Payments", 0)];
    for i in 0..90 {
        let (topic, q) = *rng.pick(&queues);
        let r = store.put_message(message(topic, q, i));
        assert_eq!(r.status, PutMessageStatus::PutOk);
    }
    lab_fixtures::wait_dispatched(&store);
    let mut checked = 0;
    for (topic, q) in queues {
        let cq = store.find_consume_queue(topic, q);
        let max = cq.max_offset_in_queue();
        for k in 0..max {
            let case = format!("{topic}/{q} entry {k} (LAB_SEED={})", rng.seed);
            let theirs = cq.get_entry(k).expect("the store has the entry");
            let ours = read_entry(&queue_dir(dir.path(), topic, q), k, cq_size);
            assert_eq!(
                ours,
                Some(CqEntry {
                    phy_offset: theirs.phy_offset,
                    size: theirs.size,
                    tags_code: theirs.tags_code
                }),
                "{case}{}",
                why(
                    "the entry the store's dispatcher wrote for this message",
                    IDEA
                )
            );
            let pulled = store.get_message("lab", topic, q, k, 1, &|_| true);
            assert_eq!(
                pulled.status,
                GetMessageStatus::Found,
                "{case}: the store finds it"
            );
            assert_eq!(
                read_message(dir.path(), topic, q, k, cq_size, 4096).as_deref(),
                Some(&pulled.messages[0][..]),
                "{case}{}",
                why(
                    "the record a pull of this queue offset returns: the entry's size bytes at \
                     the entry's commit-log offset",
                    READING
                )
            );
            checked += 1;
        }
        assert_eq!(
            read_entry(&queue_dir(dir.path(), topic, q), max, cq_size),
            None,
            "{topic}/{q} entry {max} (the queue's max offset){}",
            why("one past the last entry there is nothing", READING)
        );
    }
    assert_eq!(checked, 90, "every message was checked");
    store.shutdown();
}
