//! One commit-log record as the inspector keeps it, and the raw length arithmetic that checks
//! a record independently of the decoder.
//!
//! `rmq_common::message::decode_record` gives the fields (and inflates compressed bodies);
//! this module re-derives, from the length prefixes alone, where the stored body lies and how
//! long the record must be (`CommitLog.calMsgLength`), so that the body CRC is computed over
//! the bytes exactly as stored and a lying TOTALSIZE is caught.
//! Book: Part I "CommitLog" (record layout). Mirrors `CommitLog.checkMessageAndReturnSize`.

use std::ops::Range;

use rmq_common::message::{
    decode_record, keys, BORNHOST_V6_FLAG, MESSAGE_MAGIC_CODE, STOREHOST_V6_FLAG,
    TRANSACTION_COMMIT_TYPE, TRANSACTION_ROLLBACK_TYPE,
};
use rmq_common::DecodeError;

/// The delay topic whose consume-queue tagsCode is a delivery time.
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";

/// Reads a big-endian i32 at `pos` (None past the end).
pub fn be_i32(buf: &[u8], pos: usize) -> Option<i32> {
    let b = buf.get(pos..pos.checked_add(4)?)?;
    Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Reads a big-endian i64 at `pos` (None past the end).
pub fn be_i64(buf: &[u8], pos: usize) -> Option<i64> {
    let b = buf.get(pos..pos.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(i64::from_be_bytes(a))
}

/// What the length prefixes of a record say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLayout {
    /// Where the stored (possibly compressed) body lies, relative to the record start.
    pub body: Range<usize>,
    /// The length the record must have: `calMsgLength(sysFlag, bodyLen, topicLen, propsLen)`.
    pub computed_size: usize,
}

/// Walks the length prefixes of the record at the start of `buf`; None if they run past `buf`.
pub fn raw_layout(buf: &[u8]) -> Option<RawLayout> {
    let sys_flag = be_i32(buf, 36)?;
    let born = if sys_flag & BORNHOST_V6_FLAG != 0 {
        20
    } else {
        8
    };
    let store = if sys_flag & STOREHOST_V6_FLAG != 0 {
        20
    } else {
        8
    };
    // TOTALSIZE..BORNTIMESTAMP = 48 bytes, then born host, STORETIMESTAMP (8), store host,
    // RECONSUMETIMES (4) and PREPARED TRANSACTION OFFSET (8): the body length follows.
    let body_len_pos = 48 + born + 8 + store + 4 + 8;
    let body_len = usize::try_from(be_i32(buf, body_len_pos)?).ok()?;
    let body_start = body_len_pos + 4;
    let body_end = body_start.checked_add(body_len)?;
    let topic_len = *buf.get(body_end)? as usize;
    let props_len_pos = body_end + 1 + topic_len;
    let p = buf.get(props_len_pos..props_len_pos + 2)?;
    let props_len = u16::from_be_bytes([p[0], p[1]]) as usize;
    Some(RawLayout {
        body: body_start..body_end,
        computed_size: props_len_pos + 2 + props_len,
    })
}

/// `UtilAll.crc32`: CRC-32 with the top bit cleared.
pub fn body_crc(body: &[u8]) -> i32 {
    (crc32fast::hash(body) & 0x7FFF_FFFF) as i32
}

/// A record as the inspector keeps it.
#[derive(Debug, Clone)]
pub struct Record {
    /// Absolute commit-log offset of its first byte (where it really is).
    pub phy: i64,
    /// The record's total size in bytes (`storeSize`).
    pub size: i32,
    /// The topic.
    pub topic: String,
    /// The queue id (`queueId`).
    pub queue_id: i32,
    /// The QUEUEOFFSET field: the message's index in its consume queue (`queueOffset`).
    pub queue_offset: i64,
    /// The PHYSICALOFFSET field as stored.
    pub phy_field: i64,
    /// The system flag bits (`sysFlag`).
    pub sys_flag: i32,
    /// When the producer created the message, in ms since the epoch (`bornTimestamp`).
    pub born_timestamp: i64,
    /// When the broker stored the message, in ms since the epoch (`storeTimestamp`).
    pub store_timestamp: i64,
    /// The TAGS property, if present.
    pub tags: Option<String>,
    /// The KEYS property (space-separated keys), if present.
    pub keys: Option<String>,
    /// The UNIQ_KEY property (the producer's message id), if present.
    pub uniq_key: Option<String>,
    /// The DELAY property (delay level) as stored.
    pub delay_level: Option<String>,
    /// The body's length in bytes, after inflating a compressed body.
    pub body_len: usize,
    /// The first bytes of the (inflated) body, printable.
    pub body_preview: String,
}

impl Record {
    /// Transaction type bits (`sysFlag & 0xC`).
    pub fn tran_type(&self) -> i32 {
        self.sys_flag & 0xC
    }

    /// Whether 4.8.0 dispatches it into a consume queue (NOT_TYPE or COMMIT_TYPE only).
    pub fn dispatched_to_cq(&self) -> bool {
        matches!(self.tran_type(), 0 | TRANSACTION_COMMIT_TYPE)
    }

    /// The keys `IndexService.buildIndex` indexes for it, each already as `topic#key`:
    /// UNIQ_KEY, then every non-empty token of KEYS; none for a rollback record.
    pub fn index_keys(&self) -> Vec<String> {
        if self.tran_type() == TRANSACTION_ROLLBACK_TYPE {
            return Vec::new();
        }
        let mut out = Vec::new();
        if let Some(u) = &self.uniq_key {
            out.push(format!("{}#{}", self.topic, u));
        }
        if let Some(k) = &self.keys {
            for key in k.split(keys::KEY_SEPARATOR).filter(|k| !k.is_empty()) {
                out.push(format!("{}#{}", self.topic, key));
            }
        }
        out
    }
}

/// The record at the start of `buf` (exactly one record long), decoded. When the magic is
/// wrong the fields are decoded anyway (from a copy with the magic repaired) so that the
/// checks that depend on this record can still run; the caller reports the magic.
pub fn decode(buf: &[u8], phy: i64) -> Result<Record, DecodeError> {
    let decoded = match decode_record(buf) {
        Err(DecodeError::BadMagic(..)) => {
            let mut copy = buf.to_vec();
            copy[4..8].copy_from_slice(&MESSAGE_MAGIC_CODE.to_be_bytes());
            decode_record(&copy)
        }
        other => other,
    };
    let (m, _) = decoded?;
    let preview: String = String::from_utf8_lossy(&m.body[..m.body.len().min(40)])
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect();
    Ok(Record {
        phy,
        size: m.store_size,
        queue_id: m.queue_id,
        queue_offset: m.queue_offset,
        phy_field: m.commit_log_offset,
        sys_flag: m.sys_flag,
        born_timestamp: m.born_timestamp,
        store_timestamp: m.store_timestamp,
        tags: m.property(keys::TAGS).map(str::to_string),
        keys: m.property(keys::KEYS).map(str::to_string),
        uniq_key: m.property(keys::UNIQ_KEY).map(str::to_string),
        delay_level: m.property(keys::DELAY).map(str::to_string),
        body_len: m.body.len(),
        body_preview: preview,
        topic: m.topic,
    })
}
