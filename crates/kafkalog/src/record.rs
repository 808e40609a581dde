//! The on-disk record: a simplified layout in the spirit of Kafka's first message format.
//!
//! ```text
//! [offset i64][size i32][crc32 u32][timestamp i64][key length i32][key][value]
//!  \____ log overhead ___/\_____________ `size` bytes, covered by the crc (from timestamp on) __/
//! ```
//!
//! All integers are big-endian, as in Kafka. `size` counts the bytes after the size field,
//! the CRC (CRC-32, IEEE) covers everything after the CRC field, and the value runs to the
//! end of the record (so it needs no length of its own).
//!
//! What is simplified. Kafka's message format v0 (0.8-0.9) was
//! `offset, message_size, crc, magic, attributes, key_length, key, value_length, value`;
//! v1 (0.10) added an 8-byte timestamp after `attributes`. Since 0.11 (v2) Kafka writes
//! *record batches*: a batch header (base offset, length, partition leader epoch, magic,
//! a CRC-32C, attributes, last offset delta, first and max timestamps, producer id, epoch and
//! base sequence, record count) followed by records whose fields are varint deltas, and
//! headers. We keep one record per entry with the v0 skeleton plus v1's timestamp, and drop
//! magic, attributes (compression, timestamp type), batching, idempotence and headers: enough
//! for the log layer's job (offsets, positions, indexes, recovery), not the wire format.
//!
//! Book: Part V "RocketMQ vs Kafka: one log or many". Mirrors Kafka's
//! `LegacyRecord`/`DefaultRecordBatch` in spirit, not in bytes.

use crate::error::{LogError, Result};

/// Offset and size: the bytes before a record's `size` counts (Kafka's `LOG_OVERHEAD`).
pub const LOG_OVERHEAD: usize = 12;
/// CRC, timestamp and key length: the fixed part that `size` counts.
pub const FIXED_BODY: usize = 16;
/// The largest `size` a record may declare; larger is treated as corruption.
pub const MAX_RECORD_SIZE: usize = 64 << 20;

/// One record as read back from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record's offset in its partition, from 0.
    pub offset: i64,
    /// The timestamp given at append, in ms since the Unix epoch.
    pub timestamp: i64,
    /// The key bytes (empty when the record has no key).
    pub key: Vec<u8>,
    /// The value bytes.
    pub value: Vec<u8>,
}

/// Bytes the record for `key` and `value` takes on disk.
pub fn encoded_len(key: &[u8], value: &[u8]) -> usize {
    LOG_OVERHEAD + FIXED_BODY + key.len() + value.len()
}

// ANCHOR: encode
/// Encodes one record into `out` (cleared first).
pub fn encode(
    out: &mut Vec<u8>,
    offset: i64,
    timestamp: i64,
    key: &[u8],
    value: &[u8],
) -> Result<()> {
    let size = FIXED_BODY + key.len() + value.len();
    if size > MAX_RECORD_SIZE {
        return Err(LogError::InvalidRecord(format!(
            "{size} bytes is over the limit"
        )));
    }
    out.clear();
    out.extend_from_slice(&offset.to_be_bytes());
    out.extend_from_slice(&(size as i32).to_be_bytes());
    out.extend_from_slice(&[0; 4]); // the CRC, filled in below
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&(key.len() as i32).to_be_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(value);
    let crc = crc32fast::hash(&out[LOG_OVERHEAD + 4..]);
    out[LOG_OVERHEAD..LOG_OVERHEAD + 4].copy_from_slice(&crc.to_be_bytes());
    Ok(())
}
// ANCHOR_END: encode

/// The two fields before the body: the record's offset and its `size`.
pub fn parse_overhead(b: &[u8; LOG_OVERHEAD]) -> (i64, i32) {
    let mut off = [0u8; 8];
    off.copy_from_slice(&b[..8]);
    let mut size = [0u8; 4];
    size.copy_from_slice(&b[8..12]);
    (i64::from_be_bytes(off), i32::from_be_bytes(size))
}

/// Checks that a declared `size` is plausible before reading that many bytes.
pub fn check_size(size: i32) -> std::result::Result<usize, String> {
    match usize::try_from(size) {
        Ok(s) if (FIXED_BODY..=MAX_RECORD_SIZE).contains(&s) => Ok(s),
        _ => Err(format!("record size {size} out of range")),
    }
}

/// Decodes the body (the `size` bytes after the overhead) of the record at `offset`,
/// verifying its CRC and key length.
pub fn decode_body(offset: i64, body: &[u8]) -> std::result::Result<Record, String> {
    if body.len() < FIXED_BODY {
        return Err(format!("body of {} bytes is too short", body.len()));
    }
    let u32_at = |i: usize| u32::from_be_bytes([body[i], body[i + 1], body[i + 2], body[i + 3]]);
    let crc = u32_at(0);
    if crc32fast::hash(&body[4..]) != crc {
        return Err("CRC mismatch".into());
    }
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&body[4..12]);
    let key_len = u32_at(12) as i32;
    let key_end = usize::try_from(key_len)
        .ok()
        .and_then(|k| FIXED_BODY.checked_add(k))
        .filter(|&e| e <= body.len())
        .ok_or_else(|| format!("key length {key_len} out of range"))?;
    Ok(Record {
        offset,
        timestamp: i64::from_be_bytes(ts),
        key: body[FIXED_BODY..key_end].to_vec(),
        value: body[key_end..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_and_its_crc_catches_a_flipped_bit() {
        let mut buf = Vec::new();
        encode(&mut buf, 42, 1_700_000_000_000, b"k", b"hello").unwrap();
        assert_eq!(buf.len(), encoded_len(b"k", b"hello"));
        let mut head = [0u8; LOG_OVERHEAD];
        head.copy_from_slice(&buf[..LOG_OVERHEAD]);
        let (offset, size) = parse_overhead(&head);
        assert_eq!(
            (offset, check_size(size).unwrap()),
            (42, buf.len() - LOG_OVERHEAD)
        );
        let r = decode_body(offset, &buf[LOG_OVERHEAD..]).unwrap();
        assert_eq!(r.key, b"k");
        assert_eq!(r.value, b"hello");
        assert_eq!(r.timestamp, 1_700_000_000_000);
        let mut bad = buf.clone();
        bad[LOG_OVERHEAD + 20] ^= 1;
        assert!(decode_body(42, &bad[LOG_OVERHEAD..]).is_err());
        assert!(check_size(3).is_err());
        assert!(check_size(-1).is_err());
    }
}
