//! Reading a commit-log record back for recovery and dispatch: validate it (magic, length
//! consistency, body CRC, position) and pull out what the consume queue and index need,
//! without inflating or copying the body.
//!
//! Writing records is `rmq_common::inner::encode_inner_record_into`; full decoding for
//! clients is `rmq_common::message::decode_record`. This is the store's own light check.
//! Book: Part I, "Crash recovery" (what makes a record valid) and "ConsumeQueue" (dispatch).
//! Mirrors `CommitLog.checkMessageAndReturnSize` and `DispatchRequest`.

use rmq_common::message::{
    decode_properties, keys, tags_code, transaction_type, BLANK_MAGIC_CODE, BORNHOST_V6_FLAG,
    MESSAGE_MAGIC_CODE, STOREHOST_V6_FLAG,
};

/// The topic whose consume-queue tagsCode is the delivery time (`ScheduleMessageService`).
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";

/// Everything the dispatcher needs about one record (`DispatchRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DispatchRequest {
    /// The topic.
    pub topic: String,
    /// The queue id.
    pub queue_id: i32,
    /// Commit-log offset of the record.
    pub commit_log_offset: i64,
    /// TOTALSIZE of the record.
    pub msg_size: i32,
    /// Tags code for the consume queue (the delivery time for the schedule topic).
    pub tags_code: i64,
    /// STORETIMESTAMP.
    pub store_timestamp: i64,
    /// QUEUEOFFSET.
    pub consume_queue_offset: i64,
    /// The KEYS property (space-separated), empty if absent.
    pub keys: String,
    /// The UNIQ_KEY property (the client message id), if any.
    pub uniq_key: Option<String>,
    /// SYSFLAG.
    pub sys_flag: i32,
    /// PREPAREDTRANSACTIONOFFSET.
    pub prepared_transaction_offset: i64,
    /// BODYCRC.
    pub body_crc: i32,
    /// The record's properties (`propertiesMap`), for the SQL92 bit-map dispatcher.
    pub properties: Vec<(String, String)>,
}

impl DispatchRequest {
    /// The transaction type bits of the record's sysFlag.
    pub fn transaction_type(&self) -> i32 {
        transaction_type(self.sys_flag)
    }
}

/// The verdict on the bytes at one commit-log position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordCheck {
    /// A valid record.
    Message(DispatchRequest),
    /// The END_OF_FILE blank: continue at the next file.
    EndOfFile,
    /// The record's fields disagree with its TOTALSIZE (4.8.0: `[BUG]read total count not
    /// equals msg total size`); `size` is what TOTALSIZE claims.
    SizeMismatch {
        /// What TOTALSIZE claims.
        size: i32,
        /// Which field disagrees.
        reason: String,
    },
    /// Not a record (zeros past the end, a torn write, corruption).
    Invalid(String),
}

/// Fixed part of a record besides hosts and variable fields.
const FIXED: usize = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 4 + 8 + 4 + 1 + 2;

/// `CommitLog.calMsgLength`.
pub fn cal_msg_length(sys_flag: i32, body_len: usize, topic_len: usize, props_len: usize) -> usize {
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
    FIXED + born + store + body_len + topic_len + props_len
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn i32(&mut self) -> Option<i32> {
        self.take(4)
            .map(|s| i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn i64(&mut self) -> Option<i64> {
        self.take(8)
            .and_then(|s| s.try_into().ok())
            .map(i64::from_be_bytes)
    }
    fn i16(&mut self) -> Option<i16> {
        self.take(2).map(|s| i16::from_be_bytes([s[0], s[1]]))
    }
}

/// Options of one check.
#[derive(Debug, Clone, Copy)]
pub struct CheckOptions<'a> {
    /// Verify the body CRC (`checkCRCOnRecover` during recovery).
    pub check_crc: bool,
    /// The position the record was read from; its PHYSICALOFFSET must equal it.
    pub expected_offset: Option<i64>,
    /// Delay level table in ms (index = level - 1) for the schedule topic's tagsCode.
    pub delay_levels_ms: &'a [i64],
}

// ANCHOR: check_record
/// Checks the record at the start of `buf` (`buf` ends where the file's data ends).
pub fn check_record(buf: &[u8], opts: &CheckOptions) -> RecordCheck {
    let mut c = Cursor { b: buf, pos: 0 };
    let (Some(total), Some(magic)) = (c.i32(), c.i32()) else {
        return RecordCheck::Invalid(format!("{} bytes left, too few for a header", buf.len()));
    };
    if magic == BLANK_MAGIC_CODE {
        return RecordCheck::EndOfFile;
    }
    if magic != MESSAGE_MAGIC_CODE {
        return RecordCheck::Invalid(format!("illegal magic code {magic:#010x}"));
    }
    if total <= 0 || total as usize > buf.len() {
        return RecordCheck::Invalid(format!(
            "total size {total} exceeds the {} bytes left",
            buf.len()
        ));
    }
    match parse_fields(&buf[..total as usize], opts) {
        Ok(req) => RecordCheck::Message(req),
        Err(FieldError::Truncated) => RecordCheck::SizeMismatch {
            size: total,
            reason: "fields run past the total size".into(),
        },
        Err(FieldError::Mismatch(reason)) => RecordCheck::SizeMismatch {
            size: total,
            reason,
        },
        Err(FieldError::Invalid(reason)) => RecordCheck::Invalid(reason),
    }
}
// ANCHOR_END: check_record

enum FieldError {
    Truncated,
    Mismatch(String),
    Invalid(String),
}

fn parse_fields(rec: &[u8], opts: &CheckOptions) -> Result<DispatchRequest, FieldError> {
    let mut c = Cursor { b: rec, pos: 8 };
    let t = FieldError::Truncated;
    let body_crc = c.i32().ok_or(FieldError::Truncated)?;
    let queue_id = c.i32().ok_or(FieldError::Truncated)?;
    let _flag = c.i32().ok_or(FieldError::Truncated)?;
    let queue_offset = c.i64().ok_or(FieldError::Truncated)?;
    let physic_offset = c.i64().ok_or(FieldError::Truncated)?;
    let sys_flag = c.i32().ok_or(FieldError::Truncated)?;
    let _born_ts = c.i64().ok_or(FieldError::Truncated)?;
    let born_len = if sys_flag & BORNHOST_V6_FLAG != 0 {
        20
    } else {
        8
    };
    c.take(born_len).ok_or(FieldError::Truncated)?;
    let store_timestamp = c.i64().ok_or(FieldError::Truncated)?;
    let store_len = if sys_flag & STOREHOST_V6_FLAG != 0 {
        20
    } else {
        8
    };
    c.take(store_len).ok_or(FieldError::Truncated)?;
    let _reconsume = c.i32().ok_or(FieldError::Truncated)?;
    let prepared_transaction_offset = c.i64().ok_or(FieldError::Truncated)?;
    let body_len = c.i32().ok_or(FieldError::Truncated)?;
    if body_len < 0 {
        return Err(FieldError::Mismatch(format!(
            "negative body length {body_len}"
        )));
    }
    let body = c.take(body_len as usize).ok_or(FieldError::Truncated)?;
    if opts.check_crc {
        let crc = (crc32fast::hash(body) & 0x7FFF_FFFF) as i32;
        if crc != body_crc {
            return Err(FieldError::Invalid(format!(
                "body CRC {crc:#x} does not match the stored {body_crc:#x}"
            )));
        }
    }
    let topic_len = c.take(1).ok_or(FieldError::Truncated)?[0] as usize;
    let topic = c.take(topic_len).ok_or(FieldError::Truncated)?;
    let props_len = c.i16().ok_or(FieldError::Truncated)? as u16 as usize;
    let props = c.take(props_len).ok_or(t)?;
    let expect = cal_msg_length(sys_flag, body_len as usize, topic_len, props_len);
    if expect != rec.len() {
        return Err(FieldError::Mismatch(format!(
            "fields add up to {expect} bytes but the total size is {}",
            rec.len()
        )));
    }
    if let Some(at) = opts.expected_offset {
        if physic_offset != at {
            return Err(FieldError::Invalid(format!(
                "record claims physical offset {physic_offset} but sits at {at}"
            )));
        }
    }
    let topic = String::from_utf8_lossy(topic).into_owned();
    let props = decode_properties(&String::from_utf8_lossy(props));
    let prop = |k: &str| {
        props
            .iter()
            .find(|(pk, _)| pk == k)
            .map(|(_, v)| v.as_str())
    };
    let mut tags = tags_code(prop(keys::TAGS));
    let keys_value = prop(keys::KEYS).unwrap_or_default().to_string();
    let uniq_key = prop(keys::UNIQ_KEY).map(str::to_string);
    if topic == SCHEDULE_TOPIC {
        if let Some(level) = prop(keys::DELAY).and_then(|v| v.parse::<i64>().ok()) {
            // A level above the highest configured one counts as the highest
            // (`CommitLog.checkMessageAndReturnSize` caps it before computing the time).
            let level = level.min(opts.delay_levels_ms.len() as i64);
            if level > 0 {
                tags = compute_deliver_timestamp(opts.delay_levels_ms, level, store_timestamp);
            }
        }
    }
    Ok(DispatchRequest {
        topic,
        queue_id,
        commit_log_offset: physic_offset,
        msg_size: rec.len() as i32,
        tags_code: tags,
        store_timestamp,
        consume_queue_offset: queue_offset,
        keys: keys_value,
        uniq_key,
        sys_flag,
        prepared_transaction_offset,
        body_crc,
        properties: props,
    })
}

/// Delivery time of a delayed message: store time + the level's delay
/// (`ScheduleMessageService.computeDeliverTimestamp`); unknown levels get 1 s.
pub fn compute_deliver_timestamp(levels_ms: &[i64], level: i64, store_timestamp: i64) -> i64 {
    match usize::try_from(level - 1)
        .ok()
        .and_then(|i| levels_ms.get(i))
    {
        // the store time comes from a record on disk: saturate rather than overflow
        Some(d) => store_timestamp.saturating_add(*d),
        None => store_timestamp.saturating_add(1000),
    }
}

/// Parses `messageDelayLevel` ("1s 5s 10s 30s 1m ... 2h") into milliseconds per level
/// (`ScheduleMessageService.parseDelayLevel`).
pub fn parse_delay_levels(text: &str) -> Result<Vec<i64>, String> {
    text.split(' ')
        .filter(|s| !s.is_empty())
        .map(|item| {
            // The unit is the last character (not byte: a stray non-ASCII unit must be an
            // error, not a panic on a char boundary).
            let unit_at = item.len() - item.chars().last().map_or(0, char::len_utf8);
            let (num, unit) = item.split_at(unit_at);
            let mult = match unit {
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return Err(format!("bad delay level {item:?}")),
            };
            num.parse::<i64>()
                .ok()
                .and_then(|n| n.checked_mul(mult))
                .ok_or_else(|| format!("bad delay level {item:?}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use rmq_common::inner::{encode_inner_record_into, inner_record_size, MessageExtBrokerInner};

    fn msg(topic: &str, props: &str, body: &[u8]) -> MessageExtBrokerInner {
        MessageExtBrokerInner {
            topic: topic.into(),
            queue_id: 2,
            flag: 0,
            body: Bytes::copy_from_slice(body),
            properties: props.into(),
            tags_code: 0,
            sys_flag: 0,
            born_timestamp: 1,
            born_host: "127.0.0.1:5000".parse().unwrap(),
            store_host: "127.0.0.1:10911".parse().unwrap(),
            reconsume_times: 0,
            prepared_transaction_offset: 0,
        }
    }

    fn opts(levels: &[i64]) -> CheckOptions<'_> {
        CheckOptions {
            check_crc: true,
            expected_offset: Some(4096),
            delay_levels_ms: levels,
        }
    }

    #[test]
    fn valid_record_yields_dispatch_fields() {
        let m = msg(
            "T",
            "TAGS\u{1}TagA\u{2}KEYS\u{1}k1 k2\u{2}UNIQ_KEY\u{1}U1\u{2}",
            b"hello",
        );
        let mut buf = vec![0u8; inner_record_size(&m) + 16];
        let n = encode_inner_record_into(&m, 7, 4096, 1234, &mut buf).unwrap();
        assert_eq!(n, cal_msg_length(0, 5, 1, m.properties.len()));
        let RecordCheck::Message(r) = check_record(&buf, &opts(&[])) else {
            panic!("expected a message")
        };
        assert_eq!(r.msg_size as usize, n);
        assert_eq!(r.consume_queue_offset, 7);
        assert_eq!(r.tags_code, 2598919);
        assert_eq!(r.keys, "k1 k2");
        assert_eq!(r.uniq_key.as_deref(), Some("U1"));
        assert_eq!(r.store_timestamp, 1234);
        assert_eq!(r.queue_id, 2);
    }

    #[test]
    fn corruption_is_detected() {
        let m = msg("T", "", b"hello");
        let mut buf = vec![0u8; inner_record_size(&m)];
        encode_inner_record_into(&m, 0, 4096, 1, &mut buf).unwrap();
        let mut bad = buf.clone();
        *bad.last_mut().unwrap() ^= 0; // untouched copy stays valid
        assert!(matches!(
            check_record(&bad, &opts(&[])),
            RecordCheck::Message(_)
        ));
        let body_at = buf.len() - 2 - 1 - 1 - 5;
        bad[body_at] ^= 0xff;
        assert!(matches!(
            check_record(&bad, &opts(&[])),
            RecordCheck::Invalid(_)
        ));
        assert!(matches!(
            check_record(&buf[..buf.len() - 1], &opts(&[])),
            RecordCheck::Invalid(_)
        ));
        let wrong_place = CheckOptions {
            expected_offset: Some(0),
            ..opts(&[])
        };
        assert!(matches!(
            check_record(&buf, &wrong_place),
            RecordCheck::Invalid(_)
        ));
        assert!(matches!(
            check_record(&[0u8; 64], &opts(&[])),
            RecordCheck::Invalid(_)
        ));
        let mut blank = vec![0u8; 8];
        blank[4..8].copy_from_slice(&BLANK_MAGIC_CODE.to_be_bytes());
        assert_eq!(check_record(&blank, &opts(&[])), RecordCheck::EndOfFile);
        // total size larger than the fields: a size mismatch
        let mut longer = buf.clone();
        longer.extend_from_slice(&[0; 4]);
        longer[0..4].copy_from_slice(&((buf.len() + 4) as i32).to_be_bytes());
        assert!(matches!(
            check_record(&longer, &opts(&[])),
            RecordCheck::SizeMismatch { .. }
        ));
    }

    #[test]
    fn schedule_topic_tags_code_is_delivery_time() {
        let levels =
            parse_delay_levels("1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h")
                .unwrap();
        assert_eq!(levels.len(), 18);
        assert_eq!(levels[4], 60_000);
        assert_eq!(levels[17], 7_200_000);
        let m = msg(SCHEDULE_TOPIC, "DELAY\u{1}3\u{2}TAGS\u{1}x\u{2}", b"b");
        let mut buf = vec![0u8; inner_record_size(&m)];
        encode_inner_record_into(&m, 0, 4096, 50_000, &mut buf).unwrap();
        let RecordCheck::Message(r) = check_record(&buf, &opts(&levels)) else {
            panic!()
        };
        assert_eq!(r.tags_code, 60_000);
        assert!(parse_delay_levels("1x").is_err());
        assert!(
            parse_delay_levels("99999999999999999d").is_err(),
            "overflow"
        );
        assert_eq!(
            compute_deliver_timestamp(&[1000], 1, i64::MAX - 10),
            i64::MAX
        );
    }

    /// `checkMessageAndReturnSize`: in the schedule topic a level above the highest counts as
    /// the highest; a level that is not positive (or not a number) leaves the tag hash.
    #[test]
    fn schedule_topic_level_above_the_highest_is_capped() {
        let levels = [1_000, 5_000, 7_200_000];
        let tag_hash = tags_code(Some("x"));
        for (delay, want) in [
            ("40", 50_000 + 7_200_000),
            ("3", 50_000 + 7_200_000),
            ("1", 50_000 + 1_000),
            ("0", tag_hash),
            ("-1", tag_hash),
            ("abc", tag_hash),
        ] {
            let m = msg(
                SCHEDULE_TOPIC,
                &format!("DELAY\u{1}{delay}\u{2}TAGS\u{1}x\u{2}"),
                b"b",
            );
            let mut buf = vec![0u8; inner_record_size(&m)];
            encode_inner_record_into(&m, 0, 4096, 50_000, &mut buf).unwrap();
            let RecordCheck::Message(r) = check_record(&buf, &opts(&levels)) else {
                panic!("DELAY {delay}: not a message")
            };
            assert_eq!(r.tags_code, want, "DELAY {delay}");
        }
    }
}
