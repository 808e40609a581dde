//! The frame codec: `RemotingCommand` <-> bytes on a TCP stream.
//!
//! A frame is `[length:4][type:1][header length:3][header][body]`, big-endian, where
//! `length` counts everything after itself. The decoder refuses frames whose total
//! size (length field included, as Netty's `LengthFieldBasedFrameDecoder` counts it)
//! exceeds `max_frame_len`, and headers that do not parse; both are errors that make
//! the connection close, as in 4.8.0. Book: Appendix "Wire protocol".
//! Mirrors `NettyEncoder`, `NettyDecoder` and `RemotingCommand.encode/decode`.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::command::RemotingCommand;
use crate::error::RemotingError;
use crate::language::SerializeType;
use crate::{header_binary, header_json};

/// 4.8.0's default `com.rocketmq.remoting.frameMaxLength` (a JVM system property read by
/// `NettyDecoder`): 16 MiB, the length field included. Servers take theirs from the
/// `frameMaxLength` key of their config file.
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

/// How much room the decoder reserves at a time while a frame is still arriving.
const READ_STEP: usize = 64 * 1024;

/// The largest header the 24-bit header-length field can describe.
pub const MAX_HEADER_LEN: usize = 0xFF_FFFF;

/// tokio-util codec for RocketMQ frames.
#[derive(Debug, Clone, Copy)]
pub struct RemotingCodec {
    max_frame_len: usize,
}

impl RemotingCodec {
    /// A codec that refuses frames longer than `max_frame_len` bytes.
    pub fn new(max_frame_len: usize) -> Self {
        RemotingCodec { max_frame_len }
    }

    /// The frame limit in bytes.
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }
}

impl Default for RemotingCodec {
    fn default() -> Self {
        RemotingCodec::new(DEFAULT_MAX_FRAME_LEN)
    }
}

// ANCHOR: frame_decode
impl Decoder for RemotingCodec {
    type Item = RemotingCommand;
    type Error = RemotingError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<RemotingCommand>, RemotingError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let length = i32::from_be_bytes([src[0], src[1], src[2], src[3]]);
        // The length must at least cover the header-length word.
        if length < 4 {
            return Err(RemotingError::MalformedFrame(format!(
                "frame length {length} is smaller than 4"
            )));
        }
        let total = length as usize + 4;
        if total > self.max_frame_len {
            return Err(RemotingError::FrameTooLarge {
                len: total,
                max: self.max_frame_len,
            });
        }
        if src.len() < total {
            // Wait for the rest. The declared length is only a claim from the peer, so room
            // grows with the bytes that really arrive, one bounded step at a time: a peer
            // that announces 16 MiB and sends nothing costs us nothing.
            src.reserve((total - src.len()).min(READ_STEP));
            return Ok(None);
        }
        src.advance(4);
        let frame = src.split_to(length as usize).freeze();
        decode_frame_body(frame).map(Some)
    }
}

/// Decodes everything after the length field: header word, header, body.
pub fn decode_frame_body(mut frame: Bytes) -> Result<RemotingCommand, RemotingError> {
    if frame.len() < 4 {
        return Err(RemotingError::MalformedFrame(
            "missing header-length word".into(),
        ));
    }
    let word = frame.get_u32();
    let type_byte = (word >> 24) as u8;
    let header_len = (word & 0xFF_FFFF) as usize;
    if header_len > frame.len() {
        return Err(RemotingError::MalformedFrame(format!(
            "header length {header_len} exceeds the {} bytes left in the frame",
            frame.len()
        )));
    }
    let header = frame.split_to(header_len);
    let mut cmd = match SerializeType::from_code(type_byte) {
        Some(SerializeType::Json) => header_json::decode(&header)?,
        Some(SerializeType::RocketMq) => header_binary::decode(&header)?,
        None => {
            return Err(RemotingError::MalformedFrame(format!(
                "unknown serialize type {type_byte}"
            )))
        }
    };
    cmd.body = if frame.is_empty() { None } else { Some(frame) };
    Ok(cmd)
}
// ANCHOR_END: frame_decode

// ANCHOR: frame_encode
impl Encoder<RemotingCommand> for RemotingCodec {
    type Error = RemotingError;

    fn encode(&mut self, cmd: RemotingCommand, dst: &mut BytesMut) -> Result<(), RemotingError> {
        let header = match cmd.serialize_type {
            SerializeType::Json => header_json::encode(&cmd),
            SerializeType::RocketMq => header_binary::encode(&cmd),
        };
        if header.len() > MAX_HEADER_LEN {
            return Err(RemotingError::MalformedHeader(format!(
                "header of {} bytes does not fit the 24-bit length field",
                header.len()
            )));
        }
        let body = cmd.body_bytes();
        let length = 4 + header.len() + body.len();
        if length + 4 > self.max_frame_len {
            return Err(RemotingError::FrameTooLarge {
                len: length + 4,
                max: self.max_frame_len,
            });
        }
        dst.reserve(length + 4);
        dst.put_u32(length as u32);
        dst.put_u32(((cmd.serialize_type.code() as u32) << 24) | header.len() as u32);
        dst.put_slice(&header);
        dst.put_slice(body);
        Ok(())
    }
}
// ANCHOR_END: frame_encode

/// Encodes one command into a standalone frame (handy for tests and tools).
pub fn encode_frame(cmd: RemotingCommand) -> Result<BytesMut, RemotingError> {
    let mut buf = BytesMut::new();
    RemotingCodec::default().encode(cmd, &mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_frame_matches_the_spec_vector() {
        let cmd = RemotingCommand::new_request(105)
            .with_ext("topic", "TopicTest")
            .with_opaque(1);
        let frame = encode_frame(cmd.clone()).unwrap();
        assert_eq!(&frame[..8], &[0, 0, 0, 0x87, 0, 0, 0, 0x83]);
        let mut buf = frame.clone();
        let back = RemotingCodec::default().decode(&mut buf).unwrap().unwrap();
        assert_eq!(back, cmd);
        assert!(buf.is_empty());
    }

    #[test]
    fn binary_frame_matches_the_spec_vector() {
        let mut cmd = RemotingCommand::new_request(105)
            .with_ext("topic", "TopicTest")
            .with_opaque(1);
        cmd.serialize_type = SerializeType::RocketMq;
        let frame = encode_frame(cmd).unwrap();
        assert_eq!(&frame[..8], &[0, 0, 0, 0x2d, 1, 0, 0, 0x29]);
    }

    #[test]
    fn partial_frames_wait_and_bodies_survive() {
        let cmd = RemotingCommand::new_request(10).with_body(&b"hello"[..]);
        let frame = encode_frame(cmd.clone()).unwrap();
        let mut codec = RemotingCodec::default();
        let mut buf = BytesMut::from(&frame[..frame.len() - 1]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(&frame[frame.len() - 1..]);
        let back = codec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(back.body.as_deref(), Some(&b"hello"[..]));
    }

    #[test]
    fn oversized_and_malformed_frames_are_errors() {
        let mut codec = RemotingCodec::new(1024);
        let mut buf = BytesMut::from(&[0u8, 0, 4, 0, 0, 0, 0, 0][..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(RemotingError::FrameTooLarge {
                len: 1028,
                max: 1024
            })
        ));
        let mut buf = BytesMut::from(&[0xffu8, 0xff, 0xff, 0xff][..]);
        assert!(codec.decode(&mut buf).is_err());
        // Header length larger than the frame.
        let mut buf = BytesMut::from(&[0u8, 0, 0, 6, 0, 0, 0, 9, b'{', b'}'][..]);
        assert!(codec.decode(&mut buf).is_err());
        // Unknown serialize type.
        let mut buf = BytesMut::from(&[0u8, 0, 0, 6, 7, 0, 0, 2, b'{', b'}'][..]);
        assert!(codec.decode(&mut buf).is_err());
        let big = RemotingCommand::new_request(1).with_body(vec![0u8; 2048]);
        assert!(codec.encode(big, &mut BytesMut::new()).is_err());
    }

    #[test]
    fn a_declared_length_is_not_allocated_before_the_bytes_arrive() {
        let mut codec = RemotingCodec::default();
        // 15 MiB announced (within the limit), 4 bytes sent.
        let mut buf = BytesMut::from(&(15u32 << 20).to_be_bytes()[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert!(
            buf.capacity() <= 2 * READ_STEP,
            "reserved {} bytes for a frame that has not arrived",
            buf.capacity()
        );
        // 17 MiB announced: refused at once, with the 4.8.0 default limit.
        let mut buf = BytesMut::from(&(17u32 << 20).to_be_bytes()[..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(RemotingError::FrameTooLarge { max, .. }) if max == 16 * 1024 * 1024
        ));
        // A 5 MiB frame arriving in pieces decodes whole.
        let cmd = RemotingCommand::new_request(10).with_body(vec![5u8; 5 << 20]);
        let frame = encode_frame(cmd).unwrap();
        let mut buf = BytesMut::new();
        let mut out = None;
        for piece in frame.chunks(100_000) {
            buf.extend_from_slice(piece);
            if let Some(c) = codec.decode(&mut buf).unwrap() {
                out = Some(c);
            }
        }
        assert_eq!(out.unwrap().body_bytes().len(), 5 << 20);
    }
}
