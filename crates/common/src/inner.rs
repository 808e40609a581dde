//! The message a broker builds before it appends it to the commit log, and the encoder that
//! turns it into the 4.8.0 record bytes (ROCKETMQ-SPEC §4.1).
//!
//! It exists apart from [`crate::message::MessageExt`] because the writer knows things the
//! reader does not yet have (the queue offset and physical offset are assigned under the
//! commit log's put lock, the store timestamp at the moment of the append), so encoding is a
//! function of the message plus those three numbers. The store calls [`encode_inner_record_into`]
//! straight into the mapped file, so the record is written once, with no intermediate buffer.
//! Book: Part I "CommitLog". Mirrors `MessageExtBrokerInner` and
//! `CommitLog.DefaultAppendMessageCallback.doAppend`.

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;

use crate::message::{BORNHOST_V6_FLAG, MESSAGE_MAGIC_CODE, STOREHOST_V6_FLAG};

/// A message as the broker hands it to the store (4.8.0 `MessageExtBrokerInner`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExtBrokerInner {
    /// The topic the message is sent to (at most 127 bytes in a record).
    pub topic: String,
    /// The queue within the topic (`queueId`).
    pub queue_id: i32,
    /// The producer's free-form flag, stored as is.
    pub flag: i32,
    /// The body bytes, already compressed if `sys_flag` says so.
    pub body: Bytes,
    /// Already encoded as `name\u{1}value\u{2}...` ([`crate::message::encode_properties`]).
    pub properties: String,
    /// The tag hash, for the caller's own use: the store does not read it (nor does 4.8.0's
    /// `CommitLog`). The consume queue's third field is computed at dispatch from the stored
    /// record: the TAGS hash, or in SCHEDULE_TOPIC_XXXX the delivery time.
    pub tags_code: i64,
    /// The system flag bits (`sysFlag`): compression, transaction type, IPv6 hosts.
    pub sys_flag: i32,
    /// When the producer created the message, in ms since the epoch (`bornTimestamp`).
    pub born_timestamp: i64,
    /// The producer's address (`bornHost`).
    pub born_host: SocketAddr,
    /// The broker's address, written into the record (`storeHost`).
    pub store_host: SocketAddr,
    /// How many times the message has been re-delivered (`reconsumeTimes`).
    pub reconsume_times: i32,
    /// For a transaction's commit or rollback record: the commit-log offset of its half
    /// message (`preparedTransactionOffset`); 0 otherwise.
    pub prepared_transaction_offset: i64,
}

/// Why a message cannot become a record.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    /// The topic is longer than a record's one-byte length allows (its length in bytes).
    #[error("topic is {0} bytes; a record allows at most 127")]
    TopicTooLong(usize),
    /// The encoded properties are longer than a record's two-byte length allows (bytes).
    #[error("properties are {0} bytes; a record allows at most 32767")]
    PropertiesTooLong(usize),
    /// The buffer is too small for the record.
    #[error("record needs {need} bytes but only {have} are available")]
    NoRoom {
        /// Bytes the record needs.
        need: usize,
        /// Bytes left in the buffer.
        have: usize,
    },
}

fn host_len(addr: &SocketAddr) -> usize {
    if addr.is_ipv4() {
        8
    } else {
        20
    }
}

/// The sysFlag as stored: the caller's flags with the two IPv6 bits set from the hosts'
/// real address types. A producer's own bits are never trusted for them: a BORNHOST_V6 flag
/// on an IPv4 connection would announce a 20-byte host where 8 bytes are written, and every
/// reader (dispatch, recovery, consumers) would then misread the record — recovery would cut
/// the log there and drop every later message.
pub fn stored_sys_flag(m: &MessageExtBrokerInner) -> i32 {
    let mut flag = m.sys_flag & !(BORNHOST_V6_FLAG | STOREHOST_V6_FLAG);
    if m.born_host.is_ipv6() {
        flag |= BORNHOST_V6_FLAG;
    }
    if m.store_host.is_ipv6() {
        flag |= STOREHOST_V6_FLAG;
    }
    flag
}

// ANCHOR: record_size
/// The total record length (`CommitLog.calMsgLength`): fixed fields, hosts, then the three
/// variable parts, each behind its length prefix (body i32, topic u8, properties i16).
pub fn inner_record_size(m: &MessageExtBrokerInner) -> usize {
    4 // TOTALSIZE
        + 4 // MAGICCODE
        + 4 // BODYCRC
        + 4 // QUEUEID
        + 4 // FLAG
        + 8 // QUEUEOFFSET
        + 8 // PHYSICALOFFSET
        + 4 // SYSFLAG
        + 8 // BORNTIMESTAMP
        + host_len(&m.born_host)
        + 8 // STORETIMESTAMP
        + host_len(&m.store_host)
        + 4 // RECONSUMETIMES
        + 8 // Prepared Transaction Offset
        + 4 + m.body.len()
        + 1 + m.topic.len()
        + 2 + m.properties.len()
}
// ANCHOR_END: record_size

/// Checks the limits the record layout imposes before any byte is written.
pub fn check_encodable(m: &MessageExtBrokerInner) -> Result<(), EncodeError> {
    if m.topic.len() > 127 {
        return Err(EncodeError::TopicTooLong(m.topic.len()));
    }
    if m.properties.len() > i16::MAX as usize {
        return Err(EncodeError::PropertiesTooLong(m.properties.len()));
    }
    Ok(())
}

struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.buf[self.pos..self.pos + bytes.len()].copy_from_slice(bytes);
        self.pos += bytes.len();
    }
    fn host(&mut self, addr: &SocketAddr) {
        match addr.ip() {
            IpAddr::V4(ip) => self.put(&ip.octets()),
            IpAddr::V6(ip) => self.put(&ip.octets()),
        }
        self.put(&(addr.port() as i32).to_be_bytes());
    }
}

// ANCHOR: encode
/// Writes the record for `m` into the start of `out` with the offsets and store time the
/// commit log assigned; returns the record length. The body CRC is CRC32 of the body with the
/// top bit cleared, as 4.8.0's `UtilAll.crc32` returns it.
pub fn encode_inner_record_into(
    m: &MessageExtBrokerInner,
    queue_offset: i64,
    physical_offset: i64,
    store_timestamp: i64,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    check_encodable(m)?;
    let total = inner_record_size(m);
    if out.len() < total {
        return Err(EncodeError::NoRoom {
            need: total,
            have: out.len(),
        });
    }
    let body_crc = (crc32fast::hash(&m.body) & 0x7FFF_FFFF) as i32;
    let mut w = Writer { buf: out, pos: 0 };
    w.put(&(total as i32).to_be_bytes());
    w.put(&MESSAGE_MAGIC_CODE.to_be_bytes());
    w.put(&body_crc.to_be_bytes());
    w.put(&m.queue_id.to_be_bytes());
    w.put(&m.flag.to_be_bytes());
    w.put(&queue_offset.to_be_bytes());
    w.put(&physical_offset.to_be_bytes());
    w.put(&stored_sys_flag(m).to_be_bytes());
    w.put(&m.born_timestamp.to_be_bytes());
    w.host(&m.born_host);
    w.put(&store_timestamp.to_be_bytes());
    w.host(&m.store_host);
    w.put(&m.reconsume_times.to_be_bytes());
    w.put(&m.prepared_transaction_offset.to_be_bytes());
    w.put(&(m.body.len() as i32).to_be_bytes());
    w.put(&m.body);
    w.put(&[m.topic.len() as u8]);
    w.put(m.topic.as_bytes());
    w.put(&(m.properties.len() as i16).to_be_bytes());
    w.put(m.properties.as_bytes());
    debug_assert_eq!(w.pos, total);
    Ok(total)
}
// ANCHOR_END: encode

/// Convenience: the record as an owned buffer.
pub fn encode_inner_record(
    m: &MessageExtBrokerInner,
    queue_offset: i64,
    physical_offset: i64,
    store_timestamp: i64,
) -> Result<Vec<u8>, EncodeError> {
    let mut buf = vec![0u8; inner_record_size(m)];
    encode_inner_record_into(m, queue_offset, physical_offset, store_timestamp, &mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{decode_record, encode_properties, tags_code};
    use proptest::prelude::*;

    fn inner(
        topic: &str,
        body: Vec<u8>,
        props: &[(&str, &str)],
        v6: bool,
    ) -> MessageExtBrokerInner {
        let host: SocketAddr = if v6 {
            "[::1]:10911".parse().unwrap()
        } else {
            "127.0.0.1:10911".parse().unwrap()
        };
        let props: Vec<(String, String)> = props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        MessageExtBrokerInner {
            topic: topic.into(),
            queue_id: 3,
            flag: 7,
            body: Bytes::from(body),
            properties: encode_properties(&props),
            tags_code: tags_code(Some("a")),
            sys_flag: 0,
            born_timestamp: 1_600_000_000_000,
            born_host: host,
            store_host: host,
            reconsume_times: 2,
            prepared_transaction_offset: 0,
        }
    }

    #[test]
    fn encoded_record_decodes_with_the_client_decoder() {
        let m = inner(
            "TopicTest",
            b"hello".to_vec(),
            &[("TAGS", "a"), ("KEYS", "k1 k2")],
            false,
        );
        let rec = encode_inner_record(&m, 5, 1000, 1_600_000_000_123).unwrap();
        let (d, len) = decode_record(&rec).unwrap();
        assert_eq!(len, rec.len());
        assert_eq!(d.store_size as usize, rec.len());
        assert_eq!(&d.body[..], b"hello");
        assert_eq!(d.queue_offset, 5);
        assert_eq!(d.commit_log_offset, 1000);
        assert_eq!(d.store_timestamp, 1_600_000_000_123);
        assert_eq!(d.tags(), Some("a"));
        assert_eq!(d.keys(), Some("k1 k2"));
        assert_eq!(d.body_crc, (crc32fast::hash(b"hello") & 0x7FFF_FFFF) as i32);
        // 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 8 + 8 + 4 + 8 = 84 fixed bytes for IPv4.
        assert_eq!(rec.len(), 84 + 4 + 5 + 1 + 9 + 2 + m.properties.len());
    }

    #[test]
    fn ipv6_hosts_set_their_flags() {
        let m = inner("T", b"x".to_vec(), &[], true);
        let rec = encode_inner_record(&m, 0, 0, 0).unwrap();
        let (d, _) = decode_record(&rec).unwrap();
        assert_ne!(d.sys_flag & BORNHOST_V6_FLAG, 0);
        assert_ne!(d.sys_flag & STOREHOST_V6_FLAG, 0);
        assert_eq!(d.store_host, m.store_host);
    }

    #[test]
    fn a_producers_ipv6_bits_on_ipv4_hosts_are_cleared() {
        let mut m = inner("T", b"body".to_vec(), &[("KEYS", "k")], false);
        m.sys_flag |= BORNHOST_V6_FLAG | STOREHOST_V6_FLAG | 0x2; // 0x2: multi tags, kept
        let rec = encode_inner_record(&m, 3, 0, 0).unwrap();
        let (d, len) = decode_record(&rec).expect("the record reads back");
        assert_eq!(len, rec.len());
        assert_eq!(d.sys_flag & (BORNHOST_V6_FLAG | STOREHOST_V6_FLAG), 0);
        assert_eq!(d.sys_flag & 0x2, 0x2);
        assert_eq!(d.born_host, m.born_host);
        assert_eq!(&d.body[..], b"body");
        assert_eq!(d.keys(), Some("k"));
    }

    #[test]
    fn limits_are_errors() {
        let m = inner(&"t".repeat(128), vec![], &[], false);
        assert_eq!(
            encode_inner_record(&m, 0, 0, 0),
            Err(EncodeError::TopicTooLong(128))
        );
        let m = inner("T", b"abc".to_vec(), &[], false);
        let mut small = [0u8; 10];
        assert!(matches!(
            encode_inner_record_into(&m, 0, 0, 0, &mut small),
            Err(EncodeError::NoRoom { .. })
        ));
    }

    proptest! {
        #[test]
        fn any_message_round_trips(topic in "[A-Za-z0-9_%]{1,127}", body in proptest::collection::vec(any::<u8>(), 0..2048),
                                   key in "[a-z0-9]{0,20}", qo in 0i64..i64::MAX, po in 0i64..i64::MAX) {
            let m = inner(&topic, body.clone(), &[("KEYS", &key)], false);
            let rec = encode_inner_record(&m, qo, po, 42).unwrap();
            let (d, len) = decode_record(&rec).unwrap();
            prop_assert_eq!(len, rec.len());
            prop_assert_eq!(&d.body[..], &body[..]);
            prop_assert_eq!(d.topic, topic);
            prop_assert_eq!(d.queue_offset, qo);
            prop_assert_eq!(d.commit_log_offset, po);
        }
    }
}
