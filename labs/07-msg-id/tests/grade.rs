//! Grades lab 7 (offset message ids): the layout, both address families, bad ids, the file
//! lookup; then the lab against rmq_common, which the broker and mqadmin use.

use lab07_msg_id::{
    create_message_id, decode_message_id, locate_in_commit_log, CommitLogPlace, MessageId,
    MsgIdError,
};
use lab_grader::{why, Rng};
use std::net::SocketAddr;

const CHAPTER: &str = "part2/producing.md";
const LAB: &str = "part2/producing.md#lab";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

#[test]
fn an_ipv4_id_is_ip_port_offset_in_32_upper_case_hex_digits() {
    let id = create_message_id(addr("10.0.0.7:10911"), 0x0012_3456_789A);
    assert_eq!(
        id,
        "0A000007" /* 10.0.0.7 */
            .to_owned()
            + "00002A9F" /* port 10911 as a 4-byte int */
            + "000000123456789A", /* offset as an 8-byte long */
        "{}",
        why(
            "4 bytes of IP, the port as a 4-byte int, the offset as an 8-byte long, all big \
             endian, as upper-case hex",
            CHAPTER
        )
    );
}

#[test]
fn an_ipv6_id_has_56_digits() {
    let id = create_message_id(addr("[2001:db8::1]:10911"), 4096);
    assert_eq!(
        id.len(),
        56,
        "{id}{}",
        why(
            "16 bytes of IPv6 address + 4 + 8 = 28 bytes = 56 hex digits",
            LAB
        )
    );
    assert!(
        id.starts_with("20010DB8000000000000000000000001"),
        "{id}{}",
        why("the 16 address bytes come first", LAB)
    );
    assert!(id.ends_with("00002A9F0000000000001000"), "{id}");
}

#[test]
fn decoding_gives_back_address_and_offset() {
    let rule = why("decodeMessageId inverts createMessageId", CHAPTER);
    for (a, off) in [
        ("127.0.0.1:10911", 0),
        ("192.168.1.20:10921", 1_073_741_824 + 417),
        ("[::1]:10931", i64::MAX),
    ] {
        let id = create_message_id(addr(a), off);
        assert_eq!(
            decode_message_id(&id),
            Ok(MessageId {
                address: addr(a),
                offset: off
            }),
            "{id}{rule}"
        );
    }
    assert_eq!(
        decode_message_id("0a00000700002a9f000000123456789a"),
        Ok(MessageId {
            address: addr("10.0.0.7:10911"),
            offset: 0x0012_3456_789A
        }),
        "{}",
        why(
            "lower-case hex decodes too (4.8.0 upper-cases before decoding)",
            LAB
        )
    );
}

#[test]
fn strings_that_are_not_offset_ids_are_refused() {
    let bad_length = |s: &str| MsgIdError::BadLength(s.to_string());
    let not_hex = |s: &str| MsgIdError::NotHex(s.to_string());
    for (id, want) in [
        ("ABC", bad_length("ABC")),
        ("", bad_length("")),
        (
            "0A00000700002A9F000000123456789A0",
            bad_length("0A00000700002A9F000000123456789A0"),
        ),
        (
            "ZZ00000700002A9F000000123456789A",
            not_hex("ZZ00000700002A9F000000123456789A"),
        ),
        (
            "é000000700002A9F000000123456789",
            not_hex("é000000700002A9F000000123456789"),
        ),
    ] {
        assert_eq!(
            decode_message_id(id),
            Err(want),
            "{id:?}{}",
            why(
                "only 32 or 56 hex digits make an offset id; anything else is an error, not a \
                 panic (the id comes from a user)",
                LAB
            )
        );
    }
}

#[test]
fn an_offset_is_found_in_the_file_named_after_its_first_offset() {
    let gib = 1u64 << 30;
    let rule = why(
        "commit-log files are named by their first offset (20 digits); the position is the \
         offset modulo the file size",
        "part1/commitlog.md",
    );
    for (offset, size, name, position) in [
        (0, gib, "00000000000000000000", 0),
        (417, gib, "00000000000000000000", 417),
        (gib as i64, gib, "00000000001073741824", 0),
        (3 * gib as i64 + 5, gib, "00000000003221225472", 5),
        (10_000, 4096, "00000000000000008192", 1808),
    ] {
        assert_eq!(
            locate_in_commit_log(offset, size),
            CommitLogPlace {
                file_name: name.to_string(),
                position
            },
            "offset {offset}, files of {size} bytes{rule}"
        );
    }
}

/// The broker stamps ids with rmq_common and mqadmin decodes them with it: the lab must agree
/// both ways on random hosts and offsets.
#[test]
fn agrees_with_rmq_common_on_random_ids() {
    let mut rng = Rng::new(0x0707);
    for round in 0..2000 {
        let port = rng.range(1, 65535) as u16;
        let host: SocketAddr = if rng.chance(70) {
            let b = rng.next_u64().to_be_bytes();
            SocketAddr::from(([b[0], b[1], b[2], b[3]], port))
        } else {
            let mut o = [0u8; 16];
            o[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
            o[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
            SocketAddr::from((o, port))
        };
        let offset = rng.range(0, i64::MAX);
        let case = format!(
            "round {round} (LAB_SEED={}): {host} offset {offset}",
            rng.seed
        );
        let ours = create_message_id(host, offset);
        let theirs = rmq_common::msgid::offset_msg_id(host, offset);
        assert_eq!(
            ours,
            theirs,
            "{case}{}",
            why("the id the broker returns for this record", CHAPTER)
        );
        let decoded = decode_message_id(&theirs);
        let (a, o) = rmq_common::msgid::decode_offset_msg_id(&theirs).expect("rmq_common decodes");
        assert_eq!(
            decoded,
            Ok(MessageId {
                address: a,
                offset: o
            }),
            "{case}{}",
            why("what mqadmin queryMsgById decodes", CHAPTER)
        );
    }
}
