//! Batch sends: many messages of one topic in one SEND_BATCH_MESSAGE request.
//!
//! Each message becomes one entry `TOTALSIZE ‖ MAGICCODE(0) ‖ BODYCRC(0) ‖ FLAG ‖
//! BODYLEN ‖ BODY ‖ PROPLEN(i16) ‖ PROPERTIES`, where TOTALSIZE counts the whole
//! entry (22 bytes of fixed fields plus body and properties). The broker turns
//! every entry into a full commit-log record with consecutive queue offsets. The
//! rules: one topic, no delay level, no retry topic, one `WAIT` value.
//! Book: Part II "Producing" (batches). Mirrors `MessageBatch.generateFromList`
//! and `MessageDecoder.encodeMessage(s)`.

use bytes::{BufMut, Bytes, BytesMut};
use rmq_common::message::encode_properties;

use crate::error::{ClientError, Result};
use crate::message::{keys, Message};
use crate::util::RETRY_GROUP_TOPIC_PREFIX;

/// Fixed bytes of one batch entry besides body and properties.
pub const ENTRY_OVERHEAD: usize = 4 + 4 + 4 + 4 + 4 + 2;

/// Encodes one batch entry.
pub fn encode_entry(out: &mut BytesMut, msg: &Message) -> Result<()> {
    let props = encode_properties(&msg.properties);
    let props = props.as_bytes();
    if props.len() > i16::MAX as usize {
        return Err(ClientError::InvalidArgument(format!(
            "properties of {} bytes exceed 32767",
            props.len()
        )));
    }
    let total = ENTRY_OVERHEAD + msg.body.len() + props.len();
    out.reserve(total);
    out.put_i32(total as i32);
    out.put_i32(0); // MAGICCODE, unused
    out.put_i32(0); // BODYCRC, computed by the broker
    out.put_i32(msg.flag);
    out.put_i32(msg.body.len() as i32);
    out.put_slice(&msg.body);
    out.put_i16(props.len() as i16);
    out.put_slice(props);
    Ok(())
}

/// Checks the batch rules and returns the topic and the batch-level `WAIT`.
pub fn check_batch(msgs: &[Message]) -> Result<(String, bool)> {
    let first = msgs
        .first()
        .ok_or_else(|| ClientError::InvalidArgument("empty batch".into()))?;
    for m in msgs {
        if m.delay_level() > 0 {
            return Err(ClientError::InvalidArgument(
                "TimeDelayLevel is not supported for batching".into(),
            ));
        }
        if m.topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) {
            return Err(ClientError::InvalidArgument(
                "Retry Group is not supported for batching".into(),
            ));
        }
        if m.topic != first.topic {
            return Err(ClientError::InvalidArgument(
                "The topic of the messages in one batch should be the same".into(),
            ));
        }
        if m.wait_store_msg_ok() != first.wait_store_msg_ok() {
            return Err(ClientError::InvalidArgument(
                "The waitStoreMsgOK of the messages in one batch should the same".into(),
            ));
        }
    }
    Ok((first.topic.clone(), first.wait_store_msg_ok()))
}

/// Encodes every message (each must already carry its `UNIQ_KEY`).
pub fn encode_batch(msgs: &[Message]) -> Result<Bytes> {
    let mut out = BytesMut::new();
    for m in msgs {
        encode_entry(&mut out, m)?;
    }
    Ok(out.freeze())
}

/// The batch-level message: topic, `WAIT`, and the encoded entries as body.
pub fn batch_message(msgs: &[Message]) -> Result<Message> {
    let (topic, wait) = check_batch(msgs)?;
    let mut m = Message {
        topic,
        flag: 0,
        properties: Vec::new(),
        body: encode_batch(msgs)?,
    };
    m.put_property(keys::WAIT, if wait { "true" } else { "false" });
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_layout() {
        let m = Message::new("T", &b"abc"[..]).with_flag(7);
        let mut out = BytesMut::new();
        encode_entry(&mut out, &m).unwrap();
        let props = b"WAIT\x01true\x02";
        assert_eq!(out.len(), 22 + 3 + props.len());
        assert_eq!(&out[0..4], &(out.len() as i32).to_be_bytes());
        assert_eq!(&out[4..12], &[0u8; 8]);
        assert_eq!(&out[12..16], &7i32.to_be_bytes());
        assert_eq!(&out[16..20], &3i32.to_be_bytes());
        assert_eq!(&out[20..23], b"abc");
        assert_eq!(&out[23..25], &(props.len() as i16).to_be_bytes());
        assert_eq!(&out[25..], props);
    }

    #[test]
    fn batch_rules() {
        let a = Message::new("T", &b"1"[..]);
        assert!(batch_message(&[a.clone(), Message::new("U", &b"2"[..])]).is_err());
        assert!(batch_message(&[a.clone().with_delay_level(2)]).is_err());
        assert!(batch_message(&[Message::new("%RETRY%g", &b"1"[..])]).is_err());
        let mut nowait = a.clone();
        nowait.set_wait_store_msg_ok(false);
        assert!(batch_message(&[a.clone(), nowait]).is_err());
        assert!(batch_message(&[]).is_err());
        let b = batch_message(&[a.clone(), a]).unwrap();
        assert_eq!(b.topic, "T");
        assert_eq!(b.property(keys::WAIT), Some("true"));
        assert_eq!(b.body.len(), 2 * (22 + 1 + 10));
    }
}
