//! Lab 7, reference solution. Built instead of src/lab.rs with `--features reference`.
//! Try the lab before reading this.

use crate::{CommitLogPlace, MessageId, MsgIdError};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub fn create_message_id(store_host: SocketAddr, commit_log_offset: i64) -> String {
    let mut bytes: Vec<u8> = match store_host.ip() {
        IpAddr::V4(ip) => ip.octets().to_vec(),
        IpAddr::V6(ip) => ip.octets().to_vec(),
    };
    // The port goes in as a Java int: four bytes.
    bytes.extend((store_host.port() as i32).to_be_bytes());
    bytes.extend(commit_log_offset.to_be_bytes());
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}

pub fn decode_message_id(msg_id: &str) -> Result<MessageId, MsgIdError> {
    let ip_len = match msg_id.len() {
        32 => 4,
        56 => 16,
        _ => return Err(MsgIdError::BadLength(msg_id.to_string())),
    };
    let not_hex = || MsgIdError::NotHex(msg_id.to_string());
    let digits: Vec<u8> = msg_id
        .chars()
        .map(|c| c.to_digit(16).map(|d| d as u8).ok_or_else(not_hex))
        .collect::<Result<_, _>>()?;
    let bytes: Vec<u8> = digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect();
    let (ip, rest) = bytes.split_at(ip_len);
    let ip = match ip_len {
        4 => IpAddr::V4(Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3])),
        _ => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(ip);
            IpAddr::V6(Ipv6Addr::from(octets))
        }
    };
    let port = i32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
    let mut offset = [0u8; 8];
    offset.copy_from_slice(&rest[4..12]);
    Ok(MessageId {
        address: SocketAddr::new(ip, port as u16),
        offset: i64::from_be_bytes(offset),
    })
}

pub fn locate_in_commit_log(offset: i64, file_size: u64) -> CommitLogPlace {
    let offset = offset as u64;
    let position = offset % file_size;
    CommitLogPlace {
        file_name: format!("{:020}", offset - position),
        position,
    }
}
