//! The message model as clients and tools see it, and the decoder of stored records: the
//! bytes a broker returns for PULL_MESSAGE, QUERY_MESSAGE and VIEW_MESSAGE_BY_ID are the
//! commit-log records verbatim (17 fields, big-endian, ROCKETMQ-SPEC §4.1 and §4.7), back to
//! back, so one decoder serves the client, mqadmin, the store inspector and the store's tests.
//! The writing side (a broker-built record) is in [`crate::inner`].
//! Book: Part I "CommitLog" (the record layout) and Part II "Producing".
//! Mirrors `org.apache.rocketmq.common.message.MessageDecoder`, `MessageExt`, `MessageConst`.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::Bytes;

use crate::msgid;

/// `MAGICCODE` of a message record (`0xDAA320A7`).
pub const MESSAGE_MAGIC_CODE: i32 = 0xDAA3_20A7_u32 as i32;
/// `BLANK_MAGIC_CODE` (`0xCBD43194`) of the END_OF_FILE filler that closes a commit-log file
/// when the next record does not fit.
pub const BLANK_MAGIC_CODE: i32 = 0xCBD4_3194_u32 as i32;
/// sysFlag transaction type of an ordinary message (`MessageSysFlag.TRANSACTION_NOT_TYPE`).
pub const TRANSACTION_NOT_TYPE: i32 = 0;
/// sysFlag transaction type of a half (prepared) message.
pub const TRANSACTION_PREPARED_TYPE: i32 = 0x1 << 2;
/// sysFlag transaction type of a committed transactional message.
pub const TRANSACTION_COMMIT_TYPE: i32 = 0x2 << 2;
/// sysFlag transaction type of a rolled-back transactional message.
pub const TRANSACTION_ROLLBACK_TYPE: i32 = 0x3 << 2;
/// The sysFlag bits that hold the transaction type (`TRANSACTION_ROLLBACK_TYPE` is all of them).
pub const TRANSACTION_TYPE_MASK: i32 = TRANSACTION_ROLLBACK_TYPE;

/// The transaction type bits of a sysFlag (`MessageSysFlag.getTransactionValue`).
pub fn transaction_type(sys_flag: i32) -> i32 {
    sys_flag & TRANSACTION_TYPE_MASK
}
/// sysFlag bit: the producer asked the broker to keep the message's tag code as a hash.
pub const MULTI_TAGS_FLAG: i32 = 0x1 << 1;
/// sysFlag bit: the body is zlib-compressed.
pub const COMPRESSED_FLAG: i32 = 0x1;
/// sysFlag bit: the born host is stored as 16 + 4 bytes.
pub const BORNHOST_V6_FLAG: i32 = 0x1 << 4;
/// sysFlag bit: the store host is stored as 16 + 4 bytes.
pub const STOREHOST_V6_FLAG: i32 = 0x1 << 5;

/// The message property names of `MessageConst` (its `PROPERTY_*` constants), so that no
/// property name is spelled anywhere else. Each constant is named after its value; the doc
/// names the Java constant.
pub mod keys {
    /// `PROPERTY_KEYS`: the message keys, separated by [`KEY_SEPARATOR`] (indexed).
    pub const KEYS: &str = "KEYS";
    /// `PROPERTY_TAGS`: the message tag.
    pub const TAGS: &str = "TAGS";
    /// `PROPERTY_WAIT_STORE_MSG_OK`: `false` lets a sync-flush broker answer before the flush.
    pub const WAIT: &str = "WAIT";
    /// `PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX`: the producer-made message id (indexed).
    pub const UNIQ_KEY: &str = "UNIQ_KEY";
    /// `PROPERTY_MIN_OFFSET`: set on pulled messages, the queue's min offset.
    pub const MIN_OFFSET: &str = "MIN_OFFSET";
    /// `PROPERTY_MAX_OFFSET`: set on pulled messages, the queue's max offset.
    pub const MAX_OFFSET: &str = "MAX_OFFSET";
    /// `PROPERTY_DELAY_TIME_LEVEL`: the delay level (1-18 by default).
    pub const DELAY: &str = "DELAY";
    /// `PROPERTY_RETRY_TOPIC`: the original topic of a message in a `%RETRY%` topic.
    pub const RETRY_TOPIC: &str = "RETRY_TOPIC";
    /// `PROPERTY_REAL_TOPIC`: the topic a delayed or half message will be delivered to.
    pub const REAL_TOPIC: &str = "REAL_TOPIC";
    /// `PROPERTY_REAL_QUEUE_ID`: the queue a delayed or half message will be delivered to.
    pub const REAL_QID: &str = "REAL_QID";
    /// `PROPERTY_ORIGIN_MESSAGE_ID`: the id of the message a retry copy was made from.
    pub const ORIGIN_MESSAGE_ID: &str = "ORIGIN_MESSAGE_ID";
    /// `PROPERTY_RECONSUME_TIME`: how often the message was consumed before.
    pub const RECONSUME_TIME: &str = "RECONSUME_TIME";
    /// `PROPERTY_MAX_RECONSUME_TIMES`: attempts before the dead-letter queue.
    pub const MAX_RECONSUME_TIMES: &str = "MAX_RECONSUME_TIMES";
    /// `PROPERTY_TRANSACTION_PREPARED`: `true` on a half (transactional) message.
    pub const TRAN_MSG: &str = "TRAN_MSG";
    /// `PROPERTY_PRODUCER_GROUP`: the producer group of a half message.
    pub const PGROUP: &str = "PGROUP";
    /// `PROPERTY_CLUSTER`: the cluster a request-reply requester sent to.
    pub const CLUSTER: &str = "CLUSTER";
    /// Request-reply: the requester's id for this request (`PROPERTY_CORRELATION_ID`).
    pub const CORRELATION_ID: &str = "CORRELATION_ID";
    /// Request-reply: the client id the broker pushes the reply to.
    pub const REPLY_TO_CLIENT: &str = "REPLY_TO_CLIENT";
    /// Request-reply: the requester's timeout in ms (`PROPERTY_MESSAGE_TTL`).
    pub const TTL: &str = "TTL";
    /// Request-reply: when the reply reached the requester (ms).
    pub const ARRIVE_TIME: &str = "ARRIVE_TIME";
    /// Request-reply: when the broker pushed the reply (ms).
    pub const PUSH_REPLY_TIME: &str = "PUSH_REPLY_TIME";
    /// `reply` on reply messages (`PROPERTY_MESSAGE_TYPE`).
    pub const MSG_TYPE: &str = "MSG_TYPE";
    /// How often the broker has asked a producer about this half message.
    pub const TRANSACTION_CHECK_TIMES: &str = "TRANSACTION_CHECK_TIMES";
    /// Set by a producer: seconds before the first check of its half message.
    pub const CHECK_IMMUNITY_TIME_IN_SECONDS: &str = "CHECK_IMMUNITY_TIME_IN_SECONDS";
    /// On a broker's "immunity" copy of a half message: the queue offset of the original.
    pub const TRAN_PREPARED_QUEUE_OFFSET: &str = "TRAN_PREPARED_QUEUE_OFFSET";
    /// `MessageConst.KEY_SEPARATOR`: several keys share one KEYS property.
    pub const KEY_SEPARATOR: &str = " ";

    /// `PROPERTY_BUYER_ID`: defined by 4.8.0, unused.
    pub const BUYER_ID: &str = "BUYER_ID";
    /// `PROPERTY_TRANSFER_FLAG`: defined by 4.8.0, unused.
    pub const TRANSFER_FLAG: &str = "TRANSFER_FLAG";
    /// `PROPERTY_CORRECTION_FLAG`: defined by 4.8.0, unused.
    pub const CORRECTION_FLAG: &str = "CORRECTION_FLAG";
    /// `PROPERTY_MSG_REGION`: the region of the broker that stored the message.
    pub const MSG_REGION: &str = "MSG_REGION";
    /// `PROPERTY_TRACE_SWITCH`: whether message tracing is on for the message.
    pub const TRACE_ON: &str = "TRACE_ON";
    /// `PROPERTY_CONSUME_START_TIMESTAMP`: when a push consumer started consuming it (ms).
    pub const CONSUME_START_TIME: &str = "CONSUME_START_TIME";
    /// `PROPERTY_INSTANCE_ID`: the instance id of a namespaced (cloud) client.
    pub const INSTANCE_ID: &str = "INSTANCE_ID";
}

/// `MixAll.REPLY_MESSAGE_FLAG`: the `MSG_TYPE` value of a reply message.
pub const REPLY_MESSAGE_FLAG: &str = "reply";
/// `MixAll.REPLY_TOPIC_POSTFIX`.
pub const REPLY_TOPIC_POSTFIX: &str = "REPLY_TOPIC";

/// `MixAll.getReplyTopic`: the topic replies of `cluster` travel through,
/// `<cluster>_REPLY_TOPIC`.
pub fn reply_topic(cluster: &str) -> String {
    format!("{cluster}_{REPLY_TOPIC_POSTFIX}")
}

/// Why a record could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ends inside a record.
    #[error("message record truncated at byte {at} (need {need} more bytes)")]
    Truncated {
        /// Byte position, in the record, of the field that does not fit.
        at: usize,
        /// How many more bytes the field needs.
        need: usize,
    },
    /// The record's magic code is not the message magic code (the code, its byte position).
    #[error("bad message magic code {0:#x} at byte {1}")]
    BadMagic(i32, usize),
    /// A size field (the record's total size or its body length) is negative or too small.
    #[error("message record at byte {at} declares an impossible size {size}")]
    BadSize {
        /// Byte position of the size field in the record.
        at: usize,
        /// The size the field declares, in bytes.
        size: i32,
    },
    /// The body is flagged as compressed but zlib cannot inflate it (zlib's message).
    #[error("compressed message body does not inflate: {0}")]
    Inflate(String),
}

/// One decoded record, as a 4.8.0 client sees it (body inflated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExt {
    /// The whole record's size in the commit log, in bytes (`storeSize`).
    pub store_size: i32,
    /// CRC32 of the stored body (`bodyCRC`).
    pub body_crc: i32,
    /// The queue within the topic (`queueId`).
    pub queue_id: i32,
    /// The producer's free-form flag.
    pub flag: i32,
    /// The message's index in its consume queue, in entries (`queueOffset`).
    pub queue_offset: i64,
    /// The record's byte position in the commit log (`commitLogOffset`).
    pub commit_log_offset: i64,
    /// The system flag bits (`sysFlag`): compression, transaction type, IPv6 hosts.
    pub sys_flag: i32,
    /// When the producer created the message, in ms since the epoch (`bornTimestamp`).
    pub born_timestamp: i64,
    /// The producer's address (`bornHost`).
    pub born_host: SocketAddr,
    /// When the broker stored the message, in ms since the epoch (`storeTimestamp`).
    pub store_timestamp: i64,
    /// The address of the broker that stored the message (`storeHost`).
    pub store_host: SocketAddr,
    /// How many times the message has been re-delivered (`reconsumeTimes`).
    pub reconsume_times: i32,
    /// For a transaction's commit or rollback record: the commit-log offset of its half
    /// message (`preparedTransactionOffset`); 0 otherwise.
    pub prepared_transaction_offset: i64,
    /// The body, inflated if it was stored compressed.
    pub body: Bytes,
    /// The topic the message belongs to.
    pub topic: String,
    /// Properties in the order a Java `HashMap` would first have seen them;
    /// a later duplicate key overwrites the value in place, as `put` does.
    pub properties: Vec<(String, String)>,
}

impl MessageExt {
    /// The value of property `key`, if the message has it.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Adds or replaces a property (`MessageAccessor.putProperty`).
    pub fn put_property(&mut self, key: &str, value: String) {
        match self.properties.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.properties.push((key.to_string(), value)),
        }
    }

    /// The offset message id: store host + commit-log offset.
    pub fn offset_msg_id(&self) -> String {
        msgid::offset_msg_id(self.store_host, self.commit_log_offset)
    }

    /// What `MessageClientExt.getMsgId()` returns: the producer's unique id when
    /// present, else the offset id.
    pub fn msg_id(&self) -> String {
        match self.property(keys::UNIQ_KEY) {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => self.offset_msg_id(),
        }
    }

    /// The message's tag (the `TAGS` property), if any.
    pub fn tags(&self) -> Option<&str> {
        self.property(keys::TAGS)
    }

    /// The message's keys (the `KEYS` property, space-separated), if any.
    pub fn keys(&self) -> Option<&str> {
        self.property(keys::KEYS)
    }
}

/// Splits a properties string (`name\u{1}value\u{2}...`) like
/// `MessageDecoder.string2messageProperties`: pieces that do not split into exactly
/// two non-empty-valued parts are dropped (Java's `split` drops trailing empties).
pub fn decode_properties(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for piece in text.split('\u{2}') {
        let parts: Vec<&str> = piece.split('\u{1}').collect();
        // Java's split drops trailing empty strings before the length check.
        let mut n = parts.len();
        while n > 0 && parts[n - 1].is_empty() {
            n -= 1;
        }
        if n != 2 {
            continue;
        }
        let (k, v) = (parts[0].to_string(), parts[1].to_string());
        match out.iter_mut().find(|(ek, _)| *ek == k) {
            Some(entry) => entry.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

/// Builds a properties string (`MessageDecoder.messageProperties2String`).
pub fn encode_properties(props: &[(String, String)]) -> String {
    let mut s = String::new();
    for (k, v) in props {
        s.push_str(k);
        s.push('\u{1}');
        s.push_str(v);
        s.push('\u{2}');
    }
    s
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        match end {
            Some(end) => {
                let s = &self.buf[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(DecodeError::Truncated {
                at: self.pos,
                need: n.saturating_sub(self.buf.len() - self.pos),
            }),
        }
    }
    fn i16(&mut self) -> Result<i16, DecodeError> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> Result<i32, DecodeError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> Result<i64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }
    fn host(&mut self, v6: bool) -> Result<SocketAddr, DecodeError> {
        let ip = if v6 {
            let b = self.take(16)?;
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            IpAddr::V6(Ipv6Addr::from(a))
        } else {
            let b = self.take(4)?;
            IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        };
        let port = self.i32()?;
        // A port outside u16 cannot come from a real socket; keep the low bits
        // rather than failing the whole decode.
        Ok(SocketAddr::new(ip, port as u16))
    }
}

/// Decodes one record at the start of `buf`; returns it and its length. A compressed body is
/// inflated, as a client sees it.
pub fn decode_record(buf: &[u8]) -> Result<(MessageExt, usize), DecodeError> {
    decode_record_with(buf, true)
}

/// Like [`decode_record`], but with `inflate = false` the body stays exactly as stored
/// (still compressed when sysFlag says so) — for code that re-stores a record verbatim.
pub fn decode_record_with(buf: &[u8], inflate: bool) -> Result<(MessageExt, usize), DecodeError> {
    let mut r = Reader { buf, pos: 0 };
    let store_size = r.i32()?;
    if store_size < 4 || store_size as usize > buf.len() {
        return Err(if store_size >= 4 {
            DecodeError::Truncated {
                at: 0,
                need: store_size as usize - buf.len(),
            }
        } else {
            DecodeError::BadSize {
                at: 0,
                size: store_size,
            }
        });
    }
    // Never read past this record, even if its inner lengths lie.
    let mut r = Reader {
        buf: &buf[..store_size as usize],
        pos: 4,
    };
    let magic = r.i32()?;
    if magic != MESSAGE_MAGIC_CODE {
        return Err(DecodeError::BadMagic(magic, 4));
    }
    let body_crc = r.i32()?;
    let queue_id = r.i32()?;
    let flag = r.i32()?;
    let queue_offset = r.i64()?;
    let commit_log_offset = r.i64()?;
    let sys_flag = r.i32()?;
    let born_timestamp = r.i64()?;
    let born_host = r.host(sys_flag & BORNHOST_V6_FLAG != 0)?;
    let store_timestamp = r.i64()?;
    let store_host = r.host(sys_flag & STOREHOST_V6_FLAG != 0)?;
    let reconsume_times = r.i32()?;
    let prepared_transaction_offset = r.i64()?;
    let body_len = r.i32()?;
    if body_len < 0 {
        return Err(DecodeError::BadSize {
            at: r.pos - 4,
            size: body_len,
        });
    }
    let raw_body = r.take(body_len as usize)?;
    let body = if inflate && sys_flag & COMPRESSED_FLAG != 0 {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(raw_body)
            .read_to_end(&mut out)
            .map_err(|e| DecodeError::Inflate(e.to_string()))?;
        Bytes::from(out)
    } else {
        Bytes::copy_from_slice(raw_body)
    };
    let topic_len = r.take(1)?[0] as usize;
    let topic = String::from_utf8_lossy(r.take(topic_len)?).into_owned();
    let props_len = r.i16()? as u16 as usize;
    let properties = decode_properties(&String::from_utf8_lossy(r.take(props_len)?));
    Ok((
        MessageExt {
            store_size,
            body_crc,
            queue_id,
            flag,
            queue_offset,
            commit_log_offset,
            sys_flag,
            born_timestamp,
            born_host,
            store_timestamp,
            store_host,
            reconsume_times,
            prepared_transaction_offset,
            body,
            topic,
            properties,
        },
        store_size as usize,
    ))
}

/// Decodes records back to back until `buf` is exhausted (a pull/query body).
pub fn decode_records(mut buf: &[u8]) -> Result<Vec<MessageExt>, DecodeError> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let (msg, len) = decode_record(buf)?;
        out.push(msg);
        buf = &buf[len..];
    }
    Ok(out)
}

/// Java `String.hashCode` over UTF-16 code units (the consume queue's tag hash).
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

/// The tags code a consume-queue entry stores for an ordinary message: the hash of its tag,
/// 0 without one (`MessageExtBrokerInner.tagsString2tagsCode`).
pub fn tags_code(tags: Option<&str>) -> i64 {
    match tags {
        Some(t) if !t.is_empty() => java_string_hash(t) as i64,
        _ => 0,
    }
}

/// Encodes a decoded record back into the 4.8.0 layout (the inverse of [`decode_record`],
/// used by tests and tools that need a record as a broker would have written it).
pub fn encode_record(m: &MessageExt) -> Vec<u8> {
    fn host(out: &mut Vec<u8>, a: SocketAddr) {
        match a.ip() {
            IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
            IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
        }
        out.extend_from_slice(&(a.port() as i32).to_be_bytes());
    }
    let props = encode_properties(&m.properties);
    let mut out = Vec::new();
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&MESSAGE_MAGIC_CODE.to_be_bytes());
    out.extend_from_slice(&m.body_crc.to_be_bytes());
    out.extend_from_slice(&m.queue_id.to_be_bytes());
    out.extend_from_slice(&m.flag.to_be_bytes());
    out.extend_from_slice(&m.queue_offset.to_be_bytes());
    out.extend_from_slice(&m.commit_log_offset.to_be_bytes());
    out.extend_from_slice(&m.sys_flag.to_be_bytes());
    out.extend_from_slice(&m.born_timestamp.to_be_bytes());
    host(&mut out, m.born_host);
    out.extend_from_slice(&m.store_timestamp.to_be_bytes());
    host(&mut out, m.store_host);
    out.extend_from_slice(&m.reconsume_times.to_be_bytes());
    out.extend_from_slice(&m.prepared_transaction_offset.to_be_bytes());
    out.extend_from_slice(&(m.body.len() as i32).to_be_bytes());
    out.extend_from_slice(&m.body);
    out.push(m.topic.len() as u8);
    out.extend_from_slice(m.topic.as_bytes());
    out.extend_from_slice(&(props.len() as i16).to_be_bytes());
    out.extend_from_slice(props.as_bytes());
    let len = out.len() as i32;
    out[0..4].copy_from_slice(&len.to_be_bytes());
    out
}

#[cfg(test)]
pub(crate) fn sample(body: &str, offset: i64) -> MessageExt {
    MessageExt {
        store_size: 0,
        body_crc: 7,
        queue_id: 2,
        flag: 0,
        queue_offset: 5,
        commit_log_offset: offset,
        sys_flag: 0,
        born_timestamp: 1_600_000_000_000,
        born_host: "127.0.0.1:50000".parse().unwrap(),
        store_timestamp: 1_600_000_000_010,
        store_host: "127.0.0.1:10911".parse().unwrap(),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body: Bytes::from(body.to_string()),
        topic: "TopicTest".into(),
        properties: vec![
            ("KEYS".into(), "k1 k2".into()),
            ("TAGS".into(), "tagA".into()),
            ("WAIT".into(), "true".into()),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_string_hash_matches_java() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("TAGS"), 2_567_193);
        assert_eq!(java_string_hash("TagA"), 2_598_919);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("hello world"), 1_794_106_052);
        // overflow wraps as Java's int arithmetic does
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        // UTF-16 code units, not bytes or chars: a surrogate pair counts twice
        assert_eq!(java_string_hash("\u{1F600}"), 0xD83D * 31 + 0xDE00);
    }

    #[test]
    fn records_round_trip_back_to_back() {
        let a = sample("hello", 0);
        let b = sample("world", 200);
        let mut buf = encode_record(&a);
        let first_len = buf.len();
        buf.extend(encode_record(&b));
        let got = decode_records(&buf).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].store_size as usize, first_len);
        assert_eq!(&got[0].body[..], b"hello");
        assert_eq!(&got[1].body[..], b"world");
        assert_eq!(got[1].commit_log_offset, 200);
        assert_eq!(got[0].keys(), Some("k1 k2"));
        assert_eq!(got[0].tags(), Some("tagA"));
        assert_eq!(got[0].offset_msg_id(), "7F00000100002A9F0000000000000000");
    }

    #[test]
    fn compressed_body_is_inflated() {
        use flate2::write::ZlibEncoder;
        use std::io::Write;
        let mut enc = ZlibEncoder::new(Vec::new(), flate2::Compression::new(5));
        enc.write_all(b"squeezed body").unwrap();
        let mut m = sample("", 0);
        m.body = Bytes::from(enc.finish().unwrap());
        m.sys_flag = COMPRESSED_FLAG;
        let got = decode_records(&encode_record(&m)).unwrap();
        assert_eq!(&got[0].body[..], b"squeezed body");
    }

    #[test]
    fn truncated_and_garbage_are_errors_not_panics() {
        let buf = encode_record(&sample("hello", 0));
        for cut in 0..buf.len() {
            assert!(decode_records(&buf[..cut]).is_err() || cut == 0);
        }
        let mut bad = buf.clone();
        bad[4] = 0;
        assert!(matches!(
            decode_records(&bad),
            Err(DecodeError::BadMagic(..))
        ));
        let mut lying = buf;
        // Body length far beyond the record.
        let body_len_at = 84;
        lying[body_len_at..body_len_at + 4].copy_from_slice(&1_000_000i32.to_be_bytes());
        assert!(decode_records(&lying).is_err());
    }

    #[test]
    fn properties_follow_java_split_rules() {
        let props = decode_properties(
            "A\u{1}1\u{2}EMPTY\u{1}\u{2}B\u{1}2\u{2}A\u{1}3\u{2}X\u{1}y\u{1}z\u{2}",
        );
        assert_eq!(
            props,
            vec![("A".to_string(), "3".to_string()), ("B".into(), "2".into())]
        );
        assert_eq!(encode_properties(&props), "A\u{1}3\u{2}B\u{1}2\u{2}");
    }
}
