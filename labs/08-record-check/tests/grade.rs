//! Grades lab 8 (is this a record?): the body CRC, the record length, every verdict of the
//! check, the walk over a file; then the lab against rmq_store's check on thousands of damaged
//! buffers.

use lab08_record_check::{
    body_crc, cal_msg_length, check_record, scan_file, FileScan, RecordCheck, RecordInfo,
    BLANK_MAGIC_CODE, BORNHOST_V6_FLAG, STOREHOST_V6_FLAG,
};
use lab_grader::{why, Rng};
use rmq_common::inner::{encode_inner_record, MessageExtBrokerInner};

const IS_RECORD: &str = "part1/crash-recovery.md#is-this-a-record";
const RECORD: &str = "part1/commitlog.md#the-record";
const LAB: &str = "part1/crash-recovery.md#lab";

fn message(topic: &str, body: &[u8], properties: &str) -> MessageExtBrokerInner {
    let mut m = lab_fixtures::message(topic, 3, body.to_vec());
    m.properties = properties.to_string();
    m
}

/// The record of `m` at queue offset 7, physical offset 4096, stored at 1234.
fn record(m: &MessageExtBrokerInner) -> Vec<u8> {
    encode_inner_record(m, 7, 4096, 1234).expect("encodable")
}

fn blank(len: i32) -> Vec<u8> {
    let mut b = len.to_be_bytes().to_vec();
    b.extend(BLANK_MAGIC_CODE.to_be_bytes());
    b.resize(len as usize, 0);
    b
}

fn kind(c: &RecordCheck) -> &'static str {
    match c {
        RecordCheck::Message(_) => "Message",
        RecordCheck::EndOfFile => "EndOfFile",
        RecordCheck::SizeMismatch { .. } => "SizeMismatch",
        RecordCheck::Invalid(_) => "Invalid",
    }
}

#[test]
fn the_body_crc_is_crc32_without_its_top_bit() {
    assert_eq!(
        body_crc(b"123456789"),
        0x4BF4_3926,
        "{}",
        why(
            "CRC-32 of \"123456789\" is 0xCBF43926; UtilAll.crc32 clears the top bit so the \
             int stays positive",
            RECORD
        )
    );
    assert_eq!(
        body_crc(b"hello"),
        0x3610_A686,
        "{}",
        why("CRC-32 of \"hello\"", RECORD)
    );
    assert_eq!(
        body_crc(b""),
        0,
        "{}",
        why("CRC-32 of an empty body", RECORD)
    );
}

#[test]
fn the_record_length_is_91_fixed_bytes_plus_the_variable_parts() {
    let rule = why(
        "calMsgLength: 91 fixed bytes with IPv4 hosts (each host 4 + 4), 12 more per IPv6 host \
         (16 + 4), plus the body, topic and properties",
        RECORD,
    );
    assert_eq!(cal_msg_length(0, 0, 0, 0), 91, "an empty record{rule}");
    assert_eq!(
        cal_msg_length(0, 574, 10, 75),
        750,
        "the book's example{rule}"
    );
    assert_eq!(
        cal_msg_length(BORNHOST_V6_FLAG, 0, 0, 0),
        103,
        "IPv6 born host{rule}"
    );
    assert_eq!(
        cal_msg_length(BORNHOST_V6_FLAG | STOREHOST_V6_FLAG, 1, 1, 1),
        118,
        "both hosts IPv6{rule}"
    );
}

#[test]
fn a_valid_record_is_a_message_with_its_fields() {
    let m = message("Orders", b"hello", "TAGS\u{1}TagA\u{2}");
    let mut buf = record(&m);
    let len = buf.len();
    buf.extend([0u8; 64]); // the rest of the file
    let rule = why(
        "magic, TOTALSIZE and the length fields agree and the CRC matches: a record",
        IS_RECORD,
    );
    assert_eq!(
        check_record(&buf, true),
        RecordCheck::Message(RecordInfo {
            size: len as i32,
            topic: "Orders".into(),
            queue_id: 3,
            queue_offset: 7,
            physical_offset: 4096,
            store_timestamp: 1234,
        }),
        "{rule}"
    );
}

#[test]
fn the_blank_means_go_on_in_the_next_file() {
    assert_eq!(
        check_record(&blank(100), true),
        RecordCheck::EndOfFile,
        "{}",
        why(
            "BLANK_MAGIC_CODE: the data goes on at the start of the next file",
            IS_RECORD
        )
    );
    assert_eq!(
        check_record(&blank(8), true),
        RecordCheck::EndOfFile,
        "an 8-byte blank"
    );
}

#[test]
fn zeros_short_buffers_and_other_magics_are_not_records() {
    let rule = why(
        "zeros (the unwritten rest of the file), fewer than 8 bytes, or a magic that is \
         neither the message nor the blank magic: not a record, the valid data ends here",
        IS_RECORD,
    );
    for (what, buf) in [
        ("zeros", vec![0u8; 200]),
        ("7 bytes", vec![0, 0, 0, 100, 0xDA, 0xA3, 0x20]),
        ("no bytes", vec![]),
        (
            "magic 0x12345678",
            [100i32.to_be_bytes(), 0x1234_5678i32.to_be_bytes()].concat(),
        ),
    ] {
        let got = check_record(&buf, true);
        assert_eq!(kind(&got), "Invalid", "{what}: {got:?}{rule}");
    }
}

#[test]
fn a_damaged_body_fails_the_crc_only_when_it_is_checked() {
    let m = message("Orders", b"the body", "");
    let mut buf = record(&m);
    let body_at = buf.len() - 2 - 7 - 8; // props len, topic, body
    buf[body_at] ^= 0x01;
    let rule = why(
        "with checkCRCOnRecover the body must match BODYCRC; without it the damage goes unseen",
        IS_RECORD,
    );
    assert_eq!(
        kind(&check_record(&buf, true)),
        "Invalid",
        "CRC checked{rule}"
    );
    assert_eq!(
        kind(&check_record(&buf, false)),
        "Message",
        "CRC not checked{rule}"
    );
}

#[test]
fn sizes_that_disagree() {
    let m = message("Orders", b"hello", "A\u{1}B\u{2}");
    let good = record(&m);
    let n = good.len();
    let with_total = |total: i32, extra: usize| {
        let mut b = good.clone();
        b[..4].copy_from_slice(&total.to_be_bytes());
        b.resize(n + extra, 0);
        b
    };
    let mismatch = why(
        "TOTALSIZE that the length fields do not add up to: SIZE_MISMATCH with that size \
         (recovery stops there, the dispatcher skips it)",
        IS_RECORD,
    );
    assert_eq!(
        check_record(&with_total(n as i32 + 4, 4), true),
        RecordCheck::SizeMismatch { size: n as i32 + 4 },
        "TOTALSIZE 4 bytes too long{mismatch}"
    );
    assert_eq!(
        check_record(&with_total(n as i32 - 3, 16), true),
        RecordCheck::SizeMismatch { size: n as i32 - 3 },
        "TOTALSIZE 3 bytes too short, so the fields run past it{mismatch}"
    );
    let impossible = why(
        "a TOTALSIZE that is not positive, or larger than what is left of the file, cannot be a \
         record: invalid",
        LAB,
    );
    assert_eq!(
        kind(&check_record(&with_total(0, 0), true)),
        "Invalid",
        "TOTALSIZE 0{impossible}"
    );
    assert_eq!(
        kind(&check_record(&with_total(-5, 0), true)),
        "Invalid",
        "TOTALSIZE -5{impossible}"
    );
    assert_eq!(
        kind(&check_record(&with_total(n as i32 + 1, 0), true)),
        "Invalid",
        "TOTALSIZE one byte past the end of the buffer{impossible}"
    );
}

#[test]
fn a_file_scan_stops_at_the_blank_or_at_the_first_non_record() {
    let a = record(&message("Orders", b"first", ""));
    let b = record(&message("Orders", b"second", "K\u{1}V\u{2}"));
    let rule = why(
        "recovery walks record by record from the start of the file: a blank ends the file \
         normally, anything else that is not a record ends the valid data",
        "part1/crash-recovery.md#finding-the-end-of-the-log",
    );
    let mut file = [a.clone(), b.clone()].concat();
    let data = file.len();
    file.extend(blank(40));
    assert_eq!(
        scan_file(&file, true),
        FileScan {
            records: 2,
            end: data,
            end_of_file: true
        },
        "two records and a blank{rule}"
    );
    let mut file = [a.clone(), b.clone()].concat();
    file.resize(data + 300, 0);
    assert_eq!(
        scan_file(&file, true),
        FileScan {
            records: 2,
            end: data,
            end_of_file: false
        },
        "two records and zeros{rule}"
    );
    let mut torn = [a.clone(), b[..b.len() / 2].to_vec()].concat();
    torn.resize(a.len() + b.len() + 100, 0);
    assert_eq!(
        scan_file(&torn, true),
        FileScan {
            records: 1,
            end: a.len(),
            end_of_file: false
        },
        "a record torn in the middle of its write{rule}"
    );
    assert_eq!(
        scan_file(&[], true),
        FileScan {
            records: 0,
            end: 0,
            end_of_file: false
        },
        "an empty file{rule}"
    );
}

fn random_record(rng: &mut Rng) -> Vec<u8> {
    let body: Vec<u8> = (0..rng.range(0, 300))
        .map(|_| rng.below(256) as u8)
        .collect();
    let topic = rng
        .pick(&["T", "Orders", "订单", "SCHEDULE_TOPIC_XXXX"])
        .to_string();
    let props = if rng.chance(50) {
        format!("TAGS\u{1}t{}\u{2}", rng.below(9))
    } else {
        String::new()
    };
    let mut m = message(&topic, &body, &props);
    if rng.chance(20) {
        m.born_host = "[::1]:1".parse().expect("address");
    }
    if rng.chance(20) {
        m.store_host = "[::2]:10911".parse().expect("address");
    }
    encode_inner_record(
        &m,
        rng.range(0, 1000),
        rng.range(0, 1 << 40),
        rng.range(0, 1 << 42),
    )
    .expect("encodable")
}

/// Thousands of damaged positions (a flipped byte, a changed length field, a torn tail, a
/// blank, zeros): the lab and rmq_store's recovery check must give the same verdict.
#[test]
fn agrees_with_rmq_store_on_damaged_records() {
    let mut rng = Rng::new(0x0808);
    let mut seen = std::collections::HashSet::new();
    for round in 0..4000 {
        let mut buf = random_record(&mut rng);
        let len = buf.len();
        match rng.below(7) {
            0 => {} // intact
            1 => {
                let at = rng.below(len as u64) as usize;
                buf[at] ^= 1 << rng.below(8);
            }
            2 => {
                // a length field: TOTALSIZE, body length, topic length or properties length
                let body_len = i32::from_be_bytes(buf[84..88].try_into().expect("4 bytes"));
                let at = *rng.pick(&[0usize, 84, 88 + body_len.max(0) as usize]);
                buf[at + 3] = buf[at + 3].wrapping_add(rng.range(1, 9) as u8);
            }
            3 => buf.truncate(rng.below(len as u64) as usize),
            4 => buf = blank(rng.range(8, 200) as i32),
            5 => buf = vec![0u8; rng.below(100) as usize],
            _ => {
                let at = rng.range(0, 3) as usize * 4;
                buf[at..at + 4].copy_from_slice(&(rng.range(-10, 2000) as i32).to_be_bytes());
            }
        }
        if rng.chance(50) {
            buf.resize(buf.len() + rng.below(64) as usize, 0);
        }
        let check_crc = rng.chance(80);
        let ours = check_record(&buf, check_crc);
        let opts = rmq_store::record::CheckOptions {
            check_crc,
            expected_offset: None,
            delay_levels_ms: &[],
        };
        let theirs = rmq_store::record::check_record(&buf, &opts);
        let theirs_summary = match &theirs {
            rmq_store::record::RecordCheck::Message(d) => format!(
                "Message size {} topic {} queue {} offset {} phy {} stored {}",
                d.msg_size,
                d.topic,
                d.queue_id,
                d.consume_queue_offset,
                d.commit_log_offset,
                d.store_timestamp
            ),
            rmq_store::record::RecordCheck::EndOfFile => "EndOfFile".into(),
            rmq_store::record::RecordCheck::SizeMismatch { size, .. } => {
                format!("SizeMismatch {size}")
            }
            rmq_store::record::RecordCheck::Invalid(_) => "Invalid".into(),
        };
        let ours_summary = match &ours {
            RecordCheck::Message(i) => format!(
                "Message size {} topic {} queue {} offset {} phy {} stored {}",
                i.size, i.topic, i.queue_id, i.queue_offset, i.physical_offset, i.store_timestamp
            ),
            RecordCheck::SizeMismatch { size } => format!("SizeMismatch {size}"),
            other => kind(other).to_string(),
        };
        seen.insert(kind(&ours));
        assert_eq!(
            ours_summary,
            theirs_summary,
            "round {round} (LAB_SEED={}), check_crc {check_crc}, {} bytes{}",
            rng.seed,
            buf.len(),
            why(
                "the verdict rmq_store's recovery and dispatcher reach",
                IS_RECORD
            )
        );
    }
    assert_eq!(
        seen.len(),
        4,
        "the damage must produce every verdict, saw {seen:?}"
    );
}
