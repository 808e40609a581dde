//! Behaviour of the Kafka-style log through its public API: round trips across segments and
//! reopenings, index lookups against a linear scan, roll-over, torn-tail recovery and the
//! multi-partition directory layout.

use proptest::prelude::*;
use rmq_kafkalog::record::encoded_len;
use rmq_kafkalog::{Log, LogConfig, PartitionLog, Record};

fn small(segment_bytes: u64, interval: u32) -> LogConfig {
    LogConfig {
        segment_bytes,
        index_interval_bytes: interval,
        flush_interval_messages: None,
    }
}

type Input = (Vec<u8>, Vec<u8>, i64);

fn inputs(max: usize) -> impl Strategy<Value = Vec<Input>> {
    prop::collection::vec(
        (
            prop::collection::vec(any::<u8>(), 0..8),
            prop::collection::vec(any::<u8>(), 0..300),
            0i64..1000,
        ),
        1..max,
    )
}

fn expected(inputs: &[Input]) -> Vec<Record> {
    inputs
        .iter()
        .enumerate()
        .map(|(i, (k, v, t))| Record {
            offset: i as i64,
            timestamp: *t,
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}

fn fill(log: &mut PartitionLog, inputs: &[Input]) {
    for (i, (k, v, t)) in inputs.iter().enumerate() {
        assert_eq!(log.append(k, v, *t).unwrap(), i as i64);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn appended_records_read_back_before_and_after_reopen(
        recs in inputs(120), seg in 200u64..3000, interval in 1u32..600,
    ) {
        let d = tempfile::tempdir().unwrap();
        let cfg = small(seg, interval);
        let want = expected(&recs);
        let mut log = PartitionLog::open(d.path(), cfg).unwrap();
        fill(&mut log, &recs);
        prop_assert_eq!(log.read_from(0, usize::MAX).unwrap(), want.clone());
        log.flush().unwrap();
        drop(log);
        let log = PartitionLog::open(d.path(), cfg).unwrap();
        prop_assert_eq!(log.log_end_offset(), recs.len() as i64);
        for r in &want {
            prop_assert_eq!(log.read(r.offset).unwrap(), Some(r.clone()));
        }
        prop_assert_eq!(log.read(recs.len() as i64).unwrap(), None);
        let mid = recs.len() as i64 / 2;
        prop_assert_eq!(log.read_from(mid, 5).unwrap(), want[mid as usize..].iter().take(5).cloned().collect::<Vec<_>>());
    }

    #[test]
    fn index_lookups_agree_with_a_linear_scan(
        recs in inputs(150), seg in 300u64..5000, interval in 1u32..1000, probe in 0i64..1100,
    ) {
        let d = tempfile::tempdir().unwrap();
        let mut log = PartitionLog::open(d.path(), small(seg, interval)).unwrap();
        fill(&mut log, &recs);
        let want = expected(&recs);
        // By offset: every offset, through index + scan, is the record a scan would find.
        for r in &want {
            prop_assert_eq!(log.read(r.offset).unwrap(), Some(r.clone()));
        }
        // By time: the first record (lowest offset) with a timestamp >= probe.
        let linear = want.iter().find(|r| r.timestamp >= probe).cloned();
        prop_assert_eq!(log.find_by_timestamp(probe).unwrap(), linear);
        // Indexes are sparse and sorted.
        for s in log.segments() {
            let e = s.offset_index().entries();
            prop_assert!(e.windows(2).all(|w| w[0].relative_offset < w[1].relative_offset));
            let t = s.time_index().entries();
            prop_assert!(t.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
        }
    }

    #[test]
    fn recovery_at_any_cut_point_keeps_every_flushed_record(
        recs in inputs(80), flushed_frac in 0.0f64..1.0, cut_frac in 0.0f64..1.0,
        garbage in prop::collection::vec(any::<u8>(), 0..40), seg in 300u64..4000,
    ) {
        let d = tempfile::tempdir().unwrap();
        let cfg = small(seg, 128);
        let mut log = PartitionLog::open(d.path(), cfg).unwrap();
        let k = (recs.len() as f64 * flushed_frac) as usize;
        fill(&mut log, &recs[..k]);
        log.flush().unwrap();
        for (k2, v, t) in &recs[k..] {
            log.append(k2, v, *t).unwrap();
        }
        let active = log.segments().last().unwrap();
        let base = active.base_offset() as usize;
        let active_path = d.path().join(format!("{base:020}.log"));
        let size = active.size();
        drop(log);
        // Records before max(k, base) are durable: flushed explicitly or sealed by a roll.
        let durable = k.max(base);
        let durable_pos: u64 = recs[base..durable].iter().map(|(k, v, _)| encoded_len(k, v) as u64).sum();
        let cut = durable_pos + ((size - durable_pos) as f64 * cut_frac) as u64;
        let f = std::fs::OpenOptions::new().write(true).open(&active_path).unwrap();
        f.set_len(cut).unwrap();
        std::os::unix::fs::FileExt::write_all_at(&f, &garbage, cut).unwrap();
        drop(f);

        let mut log = PartitionLog::open(d.path(), cfg).unwrap();
        let end = log.log_end_offset() as usize;
        prop_assert!(end >= durable && end <= recs.len(), "end {} durable {}", end, durable);
        let want = expected(&recs);
        prop_assert_eq!(log.read_from(0, usize::MAX).unwrap(), want[..end].to_vec());
        prop_assert_eq!(log.append(b"k", b"after", 5).unwrap(), end as i64);
        prop_assert_eq!(log.read(end as i64).unwrap().map(|r| r.value), Some(b"after".to_vec()));
    }
}

#[test]
fn segments_roll_at_the_configured_size_with_twenty_digit_names() {
    let d = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(d.path(), small(1000, 100)).unwrap();
    let value = vec![7u8; 100]; // 128-byte records: 7 per segment
    for i in 0..30 {
        log.append(b"", &value, i).unwrap();
    }
    let bases: Vec<i64> = log.segments().map(|s| s.base_offset()).collect();
    assert_eq!(bases, vec![0, 7, 14, 21, 28]);
    assert!(log.segments().all(|s| s.size() <= 1000));
    for b in &bases {
        for ext in ["log", "index", "timeindex"] {
            assert!(
                d.path().join(format!("{b:020}.{ext}")).is_file(),
                "{b} {ext}"
            );
        }
    }
    assert!(d.path().join("00000000000000000007.log").is_file());
    // Sealed segments end with a time-index entry for their newest record.
    let first = log.segments().next().unwrap();
    let last = first.time_index().last().unwrap();
    assert_eq!((last.timestamp, last.relative_offset), (6, 6));
    // An offset index entry every > 100 bytes: after the first record, one per record.
    assert_eq!(first.offset_index().entries().len(), 6);
    assert_eq!(first.offset_index().entries()[0].position, 128);
}

#[test]
fn the_default_index_is_sparse_and_flush_messages_appends_still_work() {
    let d = tempfile::tempdir().unwrap();
    let cfg = LogConfig {
        flush_interval_messages: Some(10),
        ..LogConfig::default()
    };
    let mut log = PartitionLog::open(d.path(), cfg).unwrap();
    for i in 0..100 {
        log.append(b"key", &[1u8; 1000], i).unwrap();
    }
    let seg = log.segments().next().unwrap();
    // 1031-byte records and a 4096-byte interval: more than 4096 bytes have passed after four
    // records, so records 4, 8, ..., 96 get entries.
    assert_eq!(seg.offset_index().entries().len(), 24);
    assert_eq!(seg.offset_index().entries()[0].relative_offset, 4);
    assert_eq!(
        std::fs::metadata(d.path().join("00000000000000000000.index"))
            .unwrap()
            .len(),
        24 * 8
    );
    drop(log);
    let log = PartitionLog::open(d.path(), cfg).unwrap();
    assert_eq!(log.log_end_offset(), 100);
}

#[test]
fn send_to_copies_raw_records_to_a_file() {
    let d = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(d.path().join("p"), small(1 << 20, 4096)).unwrap();
    for i in 0..10 {
        log.append(b"", format!("value-{i}").as_bytes(), i).unwrap();
    }
    let rec = encoded_len(b"", b"value-0") as u64;
    let out_path = d.path().join("out");
    let mut out = std::fs::File::create(&out_path).unwrap();
    // Three whole records fit in 3.5 records' worth of bytes.
    assert_eq!(log.send_to(4, rec * 7 / 2, &mut out).unwrap(), rec * 3);
    drop(out);
    let bytes = std::fs::read(&out_path).unwrap();
    assert_eq!(&bytes[..8], &4i64.to_be_bytes());
    assert!(bytes.windows(7).any(|w| w == b"value-6"));
    // At least one record even when max_bytes is tiny; nothing past the end.
    let mut v = Vec::new();
    assert_eq!(log.send_to(9, 1, &mut v).unwrap(), rec);
    assert_eq!(log.send_to(10, 1 << 20, &mut v).unwrap(), 0);
}

#[test]
fn fetch_range_names_the_bytes_send_to_sends() {
    use std::os::unix::fs::FileExt;
    let d = tempfile::tempdir().unwrap();
    // Small segments: offset 7 lies in a later segment than offset 0.
    let rec = encoded_len(b"", b"value-0") as u64;
    let mut log = PartitionLog::open(d.path().join("p"), small(rec * 4, 1)).unwrap();
    for i in 0..10 {
        log.append(b"", format!("value-{i}").as_bytes(), i).unwrap();
    }
    for (offset, max) in [(0, rec * 2), (7, rec * 5 / 2), (9, 1), (3, 1 << 20)] {
        let (seg, position, len) = log.fetch_range(offset, max).unwrap().unwrap();
        assert!(seg.base_offset() <= offset && offset < seg.next_offset());
        let mut range = vec![0u8; len as usize];
        seg.log_file().read_exact_at(&mut range, position).unwrap();
        let mut sent = Vec::new();
        assert_eq!(log.send_to(offset, max, &mut sent).unwrap(), len);
        assert_eq!(sent, range, "offset {offset}");
        assert_eq!(&range[..8], &offset.to_be_bytes());
    }
    assert!(log.fetch_range(10, 1 << 20).unwrap().is_none());
}

#[test]
fn a_log_keeps_one_directory_per_topic_partition() {
    let d = tempfile::tempdir().unwrap();
    let mut log = Log::open(d.path(), LogConfig::default()).unwrap();
    for i in 0..40u32 {
        let off = log
            .append("order-events", i % 4, b"", b"v", i64::from(i))
            .unwrap();
        assert_eq!(off, i64::from(i / 4));
    }
    log.flush_all().unwrap();
    drop(log);
    for p in 0..4 {
        assert!(d
            .path()
            .join(format!("order-events-{p}/00000000000000000000.log"))
            .is_file());
    }
    let log = Log::open(d.path(), LogConfig::default()).unwrap();
    assert_eq!(log.partitions().count(), 4);
    assert_eq!(log.get("order-events", 3).unwrap().log_end_offset(), 10);
    assert_eq!(
        log.read("order-events", 2, 9).unwrap().unwrap().timestamp,
        38
    );
    assert!(log.read("nope", 0, 0).unwrap().is_none());
    std::fs::create_dir(d.path().join("not_a_partition")).unwrap();
    assert!(Log::open(d.path(), LogConfig::default()).is_err());
}
