//! Grades lab 1 (the commit-log append): record positions, queue offsets, the END_OF_FILE
//! blank and the roll to the next file, with the 8-byte boundary cases; then the lab against a
//! real rmq_store (same results, byte-identical files) and rmq_inspect (the saved files verify).

use lab01_commit_log::{
    offset_msg_id, record_size, AppendStatus, CommitLog, LogFile, MessageExtBrokerInner,
    BLANK_MAGIC_CODE,
};
use lab_grader::{why, Rng};
use rmq_common::message::decode_record;

const IDEA: &str = "part1/commitlog.md#the-end-of-a-file";
const APPEND: &str = "part1/commitlog.md#appending";
const LAB: &str = "part1/commitlog.md#lab";

fn message(topic: &str, queue_id: i32, body_len: usize) -> MessageExtBrokerInner {
    lab_fixtures::message(topic, queue_id, vec![b'x'; body_len])
}

/// A message of topic "T", queue 0, whose record is exactly `size` bytes.
fn sized(size: usize) -> MessageExtBrokerInner {
    let empty = record_size(&message("T", 0, 0));
    message("T", 0, size - empty)
}

fn be_i32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

#[test]
fn the_first_record_starts_the_first_file_at_offset_zero() {
    let mut log = CommitLog::new(1000);
    let m = sized(300);
    let r = log.append(&m, 42);
    let rule = why(
        "an empty log creates its first file at offset 0 and writes the record at its start",
        APPEND,
    );
    assert_eq!(r.status, AppendStatus::PutOk, "status{rule}");
    assert_eq!(r.wrote_offset, 0, "wrote offset{rule}");
    assert_eq!(
        r.wrote_bytes, 300,
        "wrote bytes = the record's length{rule}"
    );
    assert_eq!(
        r.queue_offset, 0,
        "the first message of a queue has queue offset 0{rule}"
    );
    assert_eq!(r.store_timestamp, 42, "store timestamp{rule}");
    assert_eq!(
        r.msg_id,
        offset_msg_id(m.store_host, 0),
        "message id of offset 0{rule}"
    );
    assert_eq!(log.files.len(), 1, "number of files{rule}");
    assert_eq!(
        log.files[0].file_from_offset, 0,
        "first file's offset{rule}"
    );
    assert_eq!(log.files[0].wrote_position, 300, "write position{rule}");
    assert_eq!(log.max_offset(), 300, "max offset{rule}");
}

#[test]
fn records_follow_each_other_and_queue_offsets_count_per_queue() {
    let mut log = CommitLog::new(4096);
    let a0 = message("A", 0, 10);
    let a1 = message("A", 1, 20);
    let b0 = message("B", 0, 30);
    let results: Vec<_> = [&a0, &a1, &a0, &b0, &a0]
        .iter()
        .enumerate()
        .map(|(i, m)| log.append(m, 100 + i as i64))
        .collect();
    let offsets: Vec<i64> = results.iter().map(|r| r.wrote_offset).collect();
    let (sa0, sa1, sb0) = (
        record_size(&a0) as i64,
        record_size(&a1) as i64,
        record_size(&b0) as i64,
    );
    assert_eq!(
        offsets,
        vec![0, sa0, sa0 + sa1, 2 * sa0 + sa1, 2 * sa0 + sa1 + sb0],
        "{}",
        why(
            "records are appended back to back: each starts where the previous one ended",
            APPEND
        )
    );
    let queue_offsets: Vec<i64> = results.iter().map(|r| r.queue_offset).collect();
    assert_eq!(
        queue_offsets,
        vec![0, 0, 1, 0, 2],
        "{}",
        why(
            "the queue offset counts the messages of one topic and queue id \
             (topicQueueTable[\"topic-queueId\"]): A-0 gets 0, 1, 2; A-1 and B-0 start at 0",
            APPEND
        )
    );
    assert_eq!(
        log.topic_queue_table.get("A-0"),
        Some(&3),
        "{}",
        why("next queue offset of A-0", APPEND)
    );
}

#[test]
fn the_record_carries_its_own_offsets_and_store_time() {
    let mut log = CommitLog::new(4096);
    log.append(&message("A", 0, 10), 1);
    let r = log.append(&message("A", 0, 25), 1_700_000_000_123);
    let bytes = log
        .read(r.wrote_offset, r.wrote_bytes)
        .expect("the record is readable");
    let (m, len) = decode_record(bytes).expect("the bytes are a valid record");
    let rule = why(
        "the record stores its queue offset (QUEUEOFFSET), its own position (PHYSICALOFFSET) \
         and the store time: that is what lets recovery rebuild everything from the log",
        "part1/commitlog.md#the-record",
    );
    assert_eq!(len, r.wrote_bytes, "record length{rule}");
    assert_eq!(m.commit_log_offset, r.wrote_offset, "PHYSICALOFFSET{rule}");
    assert_eq!(m.queue_offset, 1, "QUEUEOFFSET{rule}");
    assert_eq!(m.store_timestamp, 1_700_000_000_123, "STORETIMESTAMP{rule}");
    assert_eq!(m.body.len(), 25, "body{rule}");
}

#[test]
fn the_blank_is_the_bytes_left_then_the_blank_magic() {
    let mut f = LogFile::new(4096, 100);
    f.wrote_position = 60;
    f.write_end_of_file_blank();
    let rule = why(
        "the END_OF_FILE blank is an int with the number of bytes left (here 100 - 60 = 40) \
         and BLANK_MAGIC_CODE (0xCBD43194), written at the write position; the file is then full",
        IDEA,
    );
    assert_eq!(be_i32(&f.bytes, 60), 40, "first int of the blank{rule}");
    assert_eq!(
        be_i32(&f.bytes, 64),
        BLANK_MAGIC_CODE,
        "second int of the blank{rule}"
    );
    assert_eq!(
        f.wrote_position, 100,
        "write position after the blank{rule}"
    );
    assert!(f.is_full(), "the file is full{rule}");
    assert!(
        f.bytes[..60].iter().chain(&f.bytes[68..]).all(|&b| b == 0),
        "only the 8 bytes of the blank are written{rule}"
    );
}

#[test]
fn a_new_file_starts_where_the_full_one_ends() {
    let mut log = CommitLog::new(1000);
    let rule = why(
        "files are equally sized and named after their first offset: the first starts at 0, \
         each next one at the previous start + the file size; a file that is not full is reused",
        "part1/commitlog.md#files-in-a-chain",
    );
    assert_eq!(
        log.last_file_or_create().file_from_offset,
        0,
        "first file{rule}"
    );
    log.files[0].wrote_position = 10;
    assert_eq!(
        log.last_file_or_create().file_from_offset,
        0,
        "not full: same file{rule}"
    );
    assert_eq!(
        log.files.len(),
        1,
        "no new file while the last is not full{rule}"
    );
    log.files[0].wrote_position = 1000;
    let f = log.last_file_or_create();
    assert_eq!(f.file_from_offset, 1000, "second file{rule}");
    assert_eq!(f.file_name(), "00000000000000001000", "its name{rule}");
    assert_eq!(f.file_size(), 1000, "its size{rule}");
    assert_eq!(log.files.len(), 2, "number of files{rule}");
}

#[test]
fn a_record_that_does_not_fit_goes_to_the_start_of_the_next_file() {
    let mut log = CommitLog::new(1000);
    for _ in 0..3 {
        log.append(&sized(300), 7);
    }
    let m = sized(300);
    let r = log.append(&m, 7);
    let rule = why(
        "300 + 8 bytes do not fit in the 100 left at 900: the blank fills 900..1000 and the \
         record is written at the start of the next file, so its wrote offset is 1000",
        IDEA,
    );
    assert_eq!(r.status, AppendStatus::PutOk, "status{rule}");
    assert_eq!(r.wrote_offset, 1000, "wrote offset{rule}");
    assert_eq!(
        r.queue_offset, 3,
        "the blank does not take a queue offset{rule}"
    );
    assert_eq!(
        r.msg_id,
        offset_msg_id(m.store_host, 1000),
        "message id{rule}"
    );
    assert_eq!(log.files.len(), 2, "number of files{rule}");
    assert_eq!(
        be_i32(&log.files[0].bytes, 900),
        100,
        "blank length at 900{rule}"
    );
    assert_eq!(
        be_i32(&log.files[0].bytes, 904),
        BLANK_MAGIC_CODE,
        "blank magic at 904{rule}"
    );
    assert!(log.files[0].is_full(), "the first file is full{rule}");
    assert_eq!(
        log.files[1].wrote_position, 300,
        "second file's write position{rule}"
    );
    let (decoded, _) = decode_record(log.read(1000, 300).expect("record at 1000"))
        .expect("a valid record at the start of the second file");
    assert_eq!(
        decoded.commit_log_offset, 1000,
        "PHYSICALOFFSET of the moved record{rule}"
    );
    assert_eq!(log.max_offset(), 1300, "max offset{rule}");
}

#[test]
fn a_record_may_end_exactly_8_bytes_before_the_end_of_its_file() {
    let rule = why(
        "the test is `length + 8 > bytes left`: a record that leaves exactly 8 bytes fits \
         (the blank still has room), one that would leave 7 does not",
        IDEA,
    );
    let mut log = CommitLog::new(1000);
    log.append(&sized(500), 1);
    let fits = log.append(&sized(492), 1);
    assert_eq!(
        fits.wrote_offset, 500,
        "a 492-byte record at 500 leaves 8 bytes{rule}"
    );
    let next = log.append(&sized(100), 1);
    assert_eq!(
        next.wrote_offset, 1000,
        "the next record goes to the next file{rule}"
    );
    assert_eq!(
        be_i32(&log.files[0].bytes, 992),
        8,
        "an 8-byte blank at 992{rule}"
    );
    assert_eq!(
        be_i32(&log.files[0].bytes, 996),
        BLANK_MAGIC_CODE,
        "blank magic{rule}"
    );

    let mut log = CommitLog::new(1000);
    log.append(&sized(500), 1);
    let moved = log.append(&sized(493), 1);
    assert_eq!(
        moved.wrote_offset, 1000,
        "a 493-byte record would leave 7 bytes{rule}"
    );
    assert_eq!(
        be_i32(&log.files[0].bytes, 500),
        500,
        "a 500-byte blank at 500{rule}"
    );
}

#[test]
fn a_record_over_max_message_size_is_refused_and_changes_nothing() {
    let mut log = CommitLog::new(4096);
    log.max_message_size = 400;
    log.append(&sized(300), 1);
    let before = (
        log.max_offset(),
        log.topic_queue_table.clone(),
        log.files.clone(),
    );
    let r = log.append(&sized(401), 2);
    let rule = why(
        "doAppend refuses a record longer than maxMessageSize with MESSAGE_SIZE_EXCEEDED \
         (the broker answers MESSAGE_ILLEGAL); nothing is written and no queue offset is used",
        LAB,
    );
    assert_eq!(r.status, AppendStatus::MessageSizeExceeded, "status{rule}");
    assert_eq!(
        (
            log.max_offset(),
            log.topic_queue_table.clone(),
            log.files.clone()
        ),
        before,
        "the log after the refusal{rule}"
    );
    let ok = log.append(&sized(400), 3);
    assert_eq!(
        (ok.status, ok.queue_offset),
        (AppendStatus::PutOk, 1),
        "a 400-byte record{rule}"
    );
}

fn random_message(rng: &mut Rng) -> MessageExtBrokerInner {
    let topic = rng.pick(&["TopicA", "TopicB", "订单"]).to_string();
    let mut m = message(&topic, rng.range(0, 3) as i32, rng.range(0, 1500) as usize);
    if rng.chance(50) {
        m.properties = format!(
            "TAGS\u{1}tag{}\u{2}KEYS\u{1}k{}\u{2}",
            rng.below(5),
            rng.below(100)
        );
    }
    if rng.chance(20) {
        m.born_host = "[::1]:50000".parse().expect("address");
    }
    m
}

/// The same messages, appended by the lab and by the real store (files of 4096 bytes, so the
/// log rolls every few records): every result is the same, and so is every byte of every file.
#[test]
fn same_results_and_same_bytes_as_rmq_store() {
    use rmq_store::{DefaultMessageStore, MessageStoreConfig, PutMessageStatus};
    let mut rng = Rng::new(0x0101);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = MessageStoreConfig {
        mapped_file_size_commit_log: 4096,
        ..MessageStoreConfig::with_root(dir.path())
    };
    let store = DefaultMessageStore::open(config).expect("store opens");
    let mut log = CommitLog::new(4096);
    for i in 0..120 {
        let m = random_message(&mut rng);
        let theirs = store.put_message(m.clone());
        assert_eq!(
            theirs.status,
            PutMessageStatus::PutOk,
            "the store takes message {i}"
        );
        let theirs = theirs.append.expect("append result");
        let ours = log.append(&m, theirs.store_timestamp);
        let case = format!(
            "message {i} (LAB_SEED={}), a {}-byte record; the store put it at {}",
            rng.seed,
            record_size(&m),
            theirs.wrote_offset
        );
        let rule = why(
            "the append must decide what rmq_store (and 4.8.0) decide",
            APPEND,
        );
        assert_eq!(
            (
                ours.wrote_offset,
                ours.wrote_bytes,
                ours.queue_offset,
                ours.msg_id.as_str()
            ),
            (
                theirs.wrote_offset,
                theirs.wrote_bytes,
                theirs.logics_offset,
                theirs.msg_id.as_str()
            ),
            "(wrote offset, wrote bytes, queue offset, msg id) of {case}{rule}"
        );
    }
    store.shutdown();
    assert!(log.files.len() > 10, "the test must roll many files");
    for f in &log.files {
        let path = dir.path().join("commitlog").join(f.file_name());
        let disk = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Some(at) = disk.iter().zip(&f.bytes).position(|(a, b)| a != b) {
            panic!(
                "commitlog/{} differs from the store's at byte {at}: store {:#04x}, lab {:#04x}{}",
                f.file_name(),
                disk[at],
                f.bytes[at],
                why(
                    "same records at the same places, and the blank (bytes left, magic) at the \
                     end of every full file, nothing else",
                    IDEA
                )
            );
        }
        assert_eq!(disk.len(), f.bytes.len(), "file size of {}", f.file_name());
    }
}

/// rmq_inspect, which shares no code with the store, reads the lab's saved files: every
/// record valid, every file but the last closed by a correct blank.
#[test]
fn rmq_inspect_verifies_the_saved_files() {
    let mut rng = Rng::new(0x0111);
    let mut log = CommitLog::new(4096);
    let mut appended = 0;
    for i in 0..80 {
        if log
            .append(&random_message(&mut rng), 1_700_000_000_000 + i)
            .status
            == AppendStatus::PutOk
        {
            appended += 1;
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    log.save(dir.path()).expect("save");
    let mut v = rmq_inspect::violation::Violations(Vec::new());
    let read = rmq_inspect::commitlog::read_commit_log(dir.path(), &mut v).expect("readable");
    let problems: Vec<String> = v.0.iter().map(ToString::to_string).collect();
    assert!(
        problems.is_empty(),
        "rmq_inspect found problems (LAB_SEED={}):\n{}{}",
        rng.seed,
        problems.join("\n"),
        why("the saved log must be a valid 4.8.0 commit log", LAB)
    );
    assert_eq!(read.records.len(), appended, "records rmq_inspect found");
    for (ours, theirs) in log.files.iter().zip(&read.files) {
        let blank = (ours.file_from_offset < log.files.last().map_or(0, |l| l.file_from_offset))
            .then(|| theirs.size - theirs.data_end);
        assert_eq!(
            theirs.filler,
            blank,
            "END_OF_FILE blank of {} as rmq_inspect reads it{}",
            ours.file_name(),
            why(
                "every file but the last ends with a blank covering the rest",
                IDEA
            )
        );
    }
}
