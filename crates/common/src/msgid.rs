//! Message ids: the broker's offset id (where a record lives) and the producer's
//! unique id (the `UNIQ_KEY` property a Java producer stamps on every message).
//!
//! An offset id is `hex(storeHost ip ‖ port as i32 ‖ commit-log offset as i64)`:
//! 32 hex digits for IPv4, 56 for IPv6, so `queryMsgById` can find the broker and
//! the byte position without asking anybody. A unique id is
//! `hex(client ip ‖ pid as i16 ‖ a per-process random i32 ‖ ms since the start of
//! the month as i32 ‖ counter as i16)`; it says nothing about where the message is,
//! so it has to be looked up through the broker's index (QUERY_MESSAGE).
//! Lives in rmq-common because the broker makes offset ids, the client makes unique ids and
//! mqadmin decodes both. Book: Part II "Producing" (message ids). Mirrors `MessageDecoder.createMessageId`,
//! `MessageDecoder.decodeMessageId` and `MessageClientIDSetter`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};

use chrono::{Datelike, Local, TimeZone};

/// Why a string is not an offset message id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MsgIdError {
    /// The id has neither 32 (IPv4) nor 56 (IPv6) hex digits (the id).
    #[error("message id {0:?} is neither 32 (IPv4) nor 56 (IPv6) hex digits")]
    BadLength(String),
    /// The id has a character that is not a hex digit (the id).
    #[error("message id {0:?} is not hexadecimal")]
    NotHex(String),
}

fn hex_upper(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xF) as usize] as char);
    }
    s
}

fn unhex(id: &str) -> Result<Vec<u8>, MsgIdError> {
    if id.len() & 1 == 1 || !id.is_ascii() {
        return Err(MsgIdError::NotHex(id.to_string()));
    }
    (0..id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&id[i..i + 2], 16).map_err(|_| MsgIdError::NotHex(id.into())))
        .collect()
}

/// The offset message id of the record at `phy_offset` stored by `store_host`.
pub fn offset_msg_id(store_host: SocketAddr, phy_offset: i64) -> String {
    let mut b = Vec::with_capacity(28);
    match store_host.ip() {
        IpAddr::V4(ip) => b.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => b.extend_from_slice(&ip.octets()),
    }
    b.extend_from_slice(&(store_host.port() as i32).to_be_bytes());
    b.extend_from_slice(&phy_offset.to_be_bytes());
    hex_upper(&b)
}

/// Splits an offset message id into the broker address and the commit-log offset.
pub fn decode_offset_msg_id(id: &str) -> Result<(SocketAddr, i64), MsgIdError> {
    let ip_len = match id.len() {
        32 => 4,
        56 => 16,
        _ => return Err(MsgIdError::BadLength(id.to_string())),
    };
    let b = unhex(id)?;
    let ip = if ip_len == 4 {
        IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    } else {
        let mut a = [0u8; 16];
        a.copy_from_slice(&b[..16]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    let port = i32::from_be_bytes([b[ip_len], b[ip_len + 1], b[ip_len + 2], b[ip_len + 3]]);
    let mut off = [0u8; 8];
    off.copy_from_slice(&b[ip_len + 4..ip_len + 12]);
    Ok((SocketAddr::new(ip, port as u16), i64::from_be_bytes(off)))
}

/// Generates producer unique ids (`UNIQ_KEY`) for one process.
pub struct UniqIdGenerator {
    fixed: String,
    month_start_ms: i64,
    counter: AtomicU16,
}

impl UniqIdGenerator {
    /// `client_ip` is the address the producer is seen from; `salt` stands in for
    /// Java's class-loader hash code (any per-process value will do).
    pub fn new(client_ip: IpAddr, salt: i32) -> Self {
        let mut fixed = Vec::with_capacity(22);
        match client_ip {
            IpAddr::V4(ip) => fixed.extend_from_slice(&ip.octets()),
            IpAddr::V6(ip) => fixed.extend_from_slice(&ip.octets()),
        }
        fixed.extend_from_slice(&(std::process::id() as i16).to_be_bytes());
        fixed.extend_from_slice(&salt.to_be_bytes());
        UniqIdGenerator {
            fixed: hex_upper(&fixed),
            month_start_ms: start_of_month_ms(),
            counter: AtomicU16::new(0),
        }
    }

    /// The next unique id.
    pub fn next_id(&self) -> String {
        let now = chrono::Utc::now().timestamp_millis();
        let mut tail = Vec::with_capacity(6);
        tail.extend_from_slice(&((now - self.month_start_ms) as i32).to_be_bytes());
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        tail.extend_from_slice(&n.to_be_bytes());
        format!("{}{}", self.fixed, hex_upper(&tail))
    }
}

/// Local midnight on the first day of the current month, in epoch ms (Java uses
/// the default time zone the same way).
fn start_of_month_ms() -> i64 {
    let now = Local::now();
    Local
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .earliest()
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|| now.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_ids_round_trip_v4_and_v6() {
        let a: SocketAddr = "10.0.0.7:10911".parse().unwrap();
        let id = offset_msg_id(a, 0x0012_3456_789A);
        assert_eq!(id, "0A00000700002A9F000000123456789A");
        assert_eq!(decode_offset_msg_id(&id).unwrap(), (a, 0x0012_3456_789A));
        let b: SocketAddr = "[::1]:10911".parse().unwrap();
        let id6 = offset_msg_id(b, 99);
        assert_eq!(id6.len(), 56);
        assert_eq!(decode_offset_msg_id(&id6).unwrap(), (b, 99));
        assert_eq!(
            decode_offset_msg_id(&id.to_lowercase()).unwrap(),
            (a, 0x0012_3456_789A)
        );
    }

    #[test]
    fn bad_ids_are_rejected() {
        assert!(matches!(
            decode_offset_msg_id("ABC"),
            Err(MsgIdError::BadLength(_))
        ));
        assert!(matches!(
            decode_offset_msg_id("ZZ00000700002A9F000000123456789A"),
            Err(MsgIdError::NotHex(_))
        ));
        assert!(decode_offset_msg_id("é0000000700002A9F000000123456789").is_err());
    }

    #[test]
    fn uniq_ids_are_32_hex_and_distinct() {
        let g = UniqIdGenerator::new("192.168.1.2".parse().unwrap(), 0x0102_0304);
        let a = g.next_id();
        let b = g.next_id();
        assert_eq!(a.len(), 32);
        assert!(a.starts_with("C0A80102"));
        assert_eq!(&a[12..20], "01020304");
        assert_ne!(a, b);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
    }
}
