//! Message record codec: the 4.8.0 CommitLog record layout (spec 4.x), Java string hash and
//! properties encoding, written privately here because rmq-common had not landed when the
//! broker was built. Mirrors `CommitLog.DefaultAppendMessageCallback` and `MessageDecoder`.
//! Book: Part II, "The send path".

use bytes::{BufMut, Bytes, BytesMut};
use std::net::{IpAddr, SocketAddr};

/// `MessageDecoder.MESSAGE_MAGIC_CODE` for ordinary records.
pub const MESSAGE_MAGIC_CODE: i32 = -626843481;

/// A message as the broker builds it before appending (4.8.0 `MessageExtBrokerInner`).
#[derive(Debug, Clone)]
pub struct InnerMessage {
    pub topic: String,
    pub queue_id: i32,
    pub flag: i32,
    pub body: Bytes,
    pub properties: String,
    pub tags_code: i64,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_host: SocketAddr,
    pub reconsume_times: i32,
}

/// One decoded stored record (the fields the broker needs to look at).
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub topic: String,
    pub queue_id: i32,
    pub queue_offset: i64,
    pub physical_offset: i64,
    pub store_timestamp: i64,
    pub properties: Vec<(String, String)>,
    pub body: Bytes,
    pub reconsume_times: i32,
    pub flag: i32,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub tags_code: i64,
}

/// Java `String.hashCode` over UTF-16 code units.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

/// Tags code as the consume queue stores it (hash of the tag string).
pub fn tags_code(tags: Option<&str>) -> i64 {
    match tags {
        Some(t) if !t.is_empty() => java_string_hash(t) as i64,
        _ => 0,
    }
}

/// Properties as `k\u0001v\u0002` pairs, 4.8.0's `messageProperties2String`.
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

/// The inverse of [`encode_properties`]; malformed pairs are skipped.
pub fn decode_properties(s: &str) -> Vec<(String, String)> {
    s.split('\u{2}')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('\u{1}')?;
            (!k.is_empty()).then(|| (k.to_string(), v.to_string()))
        })
        .collect()
}

fn put_host(buf: &mut BytesMut, addr: &SocketAddr) {
    match addr.ip() {
        IpAddr::V4(ip) => buf.put_slice(&ip.octets()),
        IpAddr::V6(ip) => buf.put_slice(&ip.octets()),
    }
    buf.put_i32(addr.port() as i32);
}

fn host_len(addr: &SocketAddr) -> usize {
    if addr.is_ipv4() {
        8
    } else {
        20
    }
}

/// sysflag bits for IPv6 born/store hosts.
const BORNHOST_V6: i32 = 1 << 4;
const STOREHOST_V6: i32 = 1 << 5;

/// Encodes one record exactly as the CommitLog stores it.
pub fn encode_record(
    m: &InnerMessage,
    queue_offset: i64,
    physical_offset: i64,
    store_timestamp: i64,
) -> Bytes {
    let mut sys_flag = m.sys_flag;
    if m.born_host.is_ipv6() {
        sys_flag |= BORNHOST_V6;
    }
    if m.store_host.is_ipv6() {
        sys_flag |= STOREHOST_V6;
    }
    let props = m.properties.as_bytes();
    let topic = m.topic.as_bytes();
    let total = 4
        + 4
        + 4
        + 4
        + 4
        + 8
        + 8
        + 4
        + 8
        + host_len(&m.born_host)
        + 8
        + host_len(&m.store_host)
        + 4
        + 8
        + 4
        + m.body.len()
        + 1
        + topic.len()
        + 2
        + props.len();
    let mut b = BytesMut::with_capacity(total);
    b.put_i32(total as i32);
    b.put_i32(MESSAGE_MAGIC_CODE);
    b.put_i32((crc32fast::hash(&m.body) & 0x7FFF_FFFF) as i32);
    b.put_i32(m.queue_id);
    b.put_i32(m.flag);
    b.put_i64(queue_offset);
    b.put_i64(physical_offset);
    b.put_i32(sys_flag);
    b.put_i64(m.born_timestamp);
    put_host(&mut b, &m.born_host);
    b.put_i64(store_timestamp);
    put_host(&mut b, &m.store_host);
    b.put_i32(m.reconsume_times);
    b.put_i64(0);
    b.put_i32(m.body.len() as i32);
    b.put_slice(&m.body);
    b.put_u8(topic.len() as u8);
    b.put_slice(topic);
    b.put_i16(props.len() as i16);
    b.put_slice(props);
    b.freeze()
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.buf.get(self.pos..self.pos + n)?;
        self.pos += n;
        Some(s)
    }
    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }
    fn host(&mut self, v6: bool) -> Option<SocketAddr> {
        let ip: IpAddr = if v6 {
            let o: [u8; 16] = self.take(16)?.try_into().ok()?;
            o.into()
        } else {
            let o: [u8; 4] = self.take(4)?.try_into().ok()?;
            o.into()
        };
        let port = self.i32()?;
        Some(SocketAddr::new(ip, port as u16))
    }
}

/// Decodes one record from the start of `buf`; `None` if it is truncated or not a record.
pub fn decode_record(buf: &[u8]) -> Option<(StoredMessage, usize)> {
    let mut r = Reader { buf, pos: 0 };
    let total = r.i32()?;
    if total <= 0 || total as usize > buf.len() || r.i32()? != MESSAGE_MAGIC_CODE {
        return None;
    }
    let _crc = r.i32()?;
    let queue_id = r.i32()?;
    let flag = r.i32()?;
    let queue_offset = r.i64()?;
    let physical_offset = r.i64()?;
    let sys_flag = r.i32()?;
    let born_timestamp = r.i64()?;
    let born_host = r.host(sys_flag & BORNHOST_V6 != 0)?;
    let store_timestamp = r.i64()?;
    let _store_host = r.host(sys_flag & STOREHOST_V6 != 0)?;
    let reconsume_times = r.i32()?;
    let _prepared = r.i64()?;
    let body_len = r.i32()?;
    let body = Bytes::copy_from_slice(r.take(usize::try_from(body_len).ok()?)?);
    let topic_len = r.take(1)?[0] as usize;
    let topic = String::from_utf8_lossy(r.take(topic_len)?).into_owned();
    let props_len = i16::from_be_bytes(r.take(2)?.try_into().ok()?) as u16 as usize;
    let props = String::from_utf8_lossy(r.take(props_len)?).into_owned();
    let properties = decode_properties(&props);
    let tags = properties
        .iter()
        .find(|(k, _)| k == "TAGS")
        .map(|(_, v)| v.as_str());
    let tags_code = tags_code(tags);
    Some((
        StoredMessage {
            topic,
            queue_id,
            queue_offset,
            physical_offset,
            store_timestamp,
            properties,
            body,
            reconsume_times,
            flag,
            sys_flag,
            born_timestamp,
            born_host,
            tags_code,
        },
        total as usize,
    ))
}

/// The offset message id: store host ip + port + physical offset, upper-case hex.
pub fn offset_msg_id(store_host: &SocketAddr, phy_offset: i64) -> String {
    let mut b = BytesMut::new();
    put_host(&mut b, store_host);
    b.put_i64(phy_offset);
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// Decodes an offset message id back to (store host, physical offset).
pub fn decode_offset_msg_id(id: &str) -> Option<(SocketAddr, i64)> {
    if id.len() != 32 && id.len() != 56 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(id.get(i..i + 2)?, 16).ok())
        .collect();
    let bytes = bytes?;
    let mut r = Reader {
        buf: &bytes,
        pos: 0,
    };
    let host = r.host(bytes.len() == 28)?;
    Some((host, r.i64()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips() {
        let host: SocketAddr = "127.0.0.1:10911".parse().unwrap();
        let m = InnerMessage {
            topic: "T".into(),
            queue_id: 3,
            flag: 7,
            body: Bytes::from_static(b"hello"),
            properties: encode_properties(&[("TAGS".into(), "a".into())]),
            tags_code: tags_code(Some("a")),
            sys_flag: 0,
            born_timestamp: 1,
            born_host: host,
            store_host: host,
            reconsume_times: 2,
        };
        let rec = encode_record(&m, 5, 100, 9);
        let (d, len) = decode_record(&rec).unwrap();
        assert_eq!(len, rec.len());
        assert_eq!(d.body, m.body);
        assert_eq!(d.queue_offset, 5);
        assert_eq!(d.tags_code, java_string_hash("a") as i64);
        let id = offset_msg_id(&host, 100);
        assert_eq!(id.len(), 32);
        assert_eq!(decode_offset_msg_id(&id), Some((host, 100)));
    }
}
