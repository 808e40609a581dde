//! The binary header encoding (serialize type 1, "ROCKETMQ").
//!
//! Fixed fields first (code and version as signed 16-bit!), then length-prefixed
//! remark and extFields blocks. Codes above 32767 (DLedger's 50000+) do not survive
//! this encoding, exactly as in Java. Every length is checked against what is left of
//! the buffer, so a hostile header is an error, never a panic or a huge allocation.
//! Book: Appendix "Wire protocol". Mirrors `RocketMQSerializable`.

use bytes::{Buf, BufMut};

use crate::command::RemotingCommand;
use crate::error::RemotingError;
use crate::language::{LanguageCode, SerializeType};

// ANCHOR: binary_encode
/// Encodes the header of `cmd` in the binary layout.
pub fn encode(cmd: &RemotingCommand) -> Vec<u8> {
    let remark = cmd.remark.as_deref().unwrap_or("").as_bytes();
    let mut ext = Vec::new();
    let mut keys: Vec<&String> = cmd.ext_fields.keys().collect();
    keys.sort();
    for key in keys {
        let value = cmd.ext_fields[key].as_bytes();
        // A key longer than a short can count cannot be represented; Java would
        // corrupt the frame, we drop the entry.
        let Ok(key_len) = i16::try_from(key.len()) else {
            continue;
        };
        ext.put_i16(key_len);
        ext.put_slice(key.as_bytes());
        ext.put_i32(value.len() as i32);
        ext.put_slice(value);
    }
    let mut out = Vec::with_capacity(21 + remark.len() + ext.len());
    out.put_i16(cmd.code as i16);
    out.put_u8(cmd.language.code());
    out.put_i16(cmd.version as i16);
    out.put_i32(cmd.opaque);
    out.put_i32(cmd.flag);
    out.put_i32(remark.len() as i32);
    out.put_slice(remark);
    out.put_i32(ext.len() as i32);
    out.put_slice(&ext);
    out
}
// ANCHOR_END: binary_encode

/// Decodes a binary header. The body is left empty; the codec attaches it.
pub fn decode(mut buf: &[u8]) -> Result<RemotingCommand, RemotingError> {
    let short =
        |what: &str| RemotingError::MalformedHeader(format!("binary header truncated at {what}"));
    if buf.remaining() < 17 {
        return Err(short("fixed fields"));
    }
    let mut cmd = RemotingCommand {
        code: buf.get_i16() as i32,
        language: LanguageCode::from_code(buf.get_u8()),
        version: buf.get_i16() as i32,
        opaque: buf.get_i32(),
        flag: buf.get_i32(),
        serialize_type: SerializeType::RocketMq,
        ..Default::default()
    };
    let remark_len = read_len(&mut buf, 4, "remark")?;
    if remark_len > 0 {
        cmd.remark = Some(read_string(&mut buf, remark_len, "remark")?);
    }
    if buf.remaining() < 4 {
        return Err(short("extFields length"));
    }
    let ext_len = read_len(&mut buf, 4, "extFields")?;
    let mut ext = &buf[..ext_len];
    while ext.has_remaining() {
        let key_len = read_len(&mut ext, 2, "extFields key")?;
        let key = read_string(&mut ext, key_len, "extFields key")?;
        let value_len = read_len(&mut ext, 4, "extFields value")?;
        let value = read_string(&mut ext, value_len, "extFields value")?;
        cmd.ext_fields.insert(key, value);
    }
    Ok(cmd)
}

/// Reads a 2- or 4-byte signed length and checks it fits in what follows.
fn read_len(buf: &mut &[u8], width: usize, what: &str) -> Result<usize, RemotingError> {
    if buf.remaining() < width {
        return Err(RemotingError::MalformedHeader(format!(
            "binary header truncated at {what} length"
        )));
    }
    let len = if width == 2 {
        buf.get_i16() as i64
    } else {
        buf.get_i32() as i64
    };
    if len < 0 || len as u64 > buf.remaining() as u64 {
        return Err(RemotingError::MalformedHeader(format!(
            "binary header {what} length {len} exceeds the {} bytes left",
            buf.remaining()
        )));
    }
    Ok(len as usize)
}

fn read_string(buf: &mut &[u8], len: usize, what: &str) -> Result<String, RemotingError> {
    let text = std::str::from_utf8(&buf[..len])
        .map_err(|_| RemotingError::MalformedHeader(format!("{what} is not UTF-8")))?
        .to_string();
    buf.advance(len);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_spec_vector() {
        let cmd = RemotingCommand::new_request(105)
            .with_ext("topic", "TopicTest")
            .with_opaque(1);
        let bytes = encode(&cmd);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "006900017500000001000000000000000000000014000574\
             6f706963000000095\
             46f70696354657374"
                .replace(' ', "")
        );
        assert_eq!(bytes.len(), 41);
        let back = decode(&bytes).unwrap();
        assert_eq!(back.code, 105);
        assert_eq!(back.ext("topic"), Some("TopicTest"));
        assert_eq!(back.serialize_type, SerializeType::RocketMq);
    }

    #[test]
    fn large_codes_wrap_like_java() {
        let cmd = RemotingCommand::new_request(50001);
        assert_eq!(decode(&encode(&cmd)).unwrap().code, 50001i32 as i16 as i32);
    }

    #[test]
    fn hostile_lengths_are_errors() {
        let mut bytes = encode(&RemotingCommand::new_request(1).with_remark("hi"));
        // Claim a remark of 2^31-1 bytes.
        bytes[13..17].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(decode(&bytes).is_err());
        assert!(decode(&[0u8; 5]).is_err());
    }
}
