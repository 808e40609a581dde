//! Messages as a broker hands them to the store, built the way the send processor builds
//! them: TAGS, KEYS and the producer's UNIQ_KEY in the properties, the tag hash as tagsCode.
//!
//! The experiments drive rmq-store directly (no network), so they need the broker's half of
//! the send path. Book: Part I "CommitLog". Mirrors what 4.8.0's
//! `SendMessageProcessor.sendMessage` puts into a `MessageExtBrokerInner`.

use std::net::SocketAddr;

use bytes::Bytes;
use rmq_common::message::{encode_properties, keys as property, tags_code};
use rmq_common::MessageExtBrokerInner;

/// The address records name as their store host (the default broker port on loopback).
pub const STORE_HOST: &str = "127.0.0.1:10911";
/// The address records name as their born host (a client's ephemeral port).
pub const BORN_HOST: &str = "127.0.0.1:50000";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("constant socket address parses")
}

/// One message for `topic`/`queue_id` with optional tags and keys and the given unique id.
pub fn message(
    topic: &str,
    queue_id: i32,
    body: Bytes,
    tags: Option<&str>,
    keys: Option<&str>,
    uniq_key: Option<&str>,
) -> MessageExtBrokerInner {
    let mut props = Vec::new();
    if let Some(k) = keys {
        props.push((property::KEYS.to_string(), k.to_string()));
    }
    if let Some(u) = uniq_key {
        props.push((property::UNIQ_KEY.to_string(), u.to_string()));
    }
    props.push((property::WAIT.to_string(), "true".to_string()));
    if let Some(t) = tags {
        props.push((property::TAGS.to_string(), t.to_string()));
    }
    MessageExtBrokerInner {
        topic: topic.to_string(),
        queue_id,
        flag: 0,
        body,
        properties: encode_properties(&props),
        tags_code: tags_code(tags),
        sys_flag: 0,
        born_timestamp: rmq_store::now_ms(),
        born_host: addr(BORN_HOST),
        store_host: addr(STORE_HOST),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_common::decode_record;
    use rmq_common::inner::encode_inner_record;

    #[test]
    fn built_messages_decode_with_their_tags_and_keys() {
        let m = message(
            "T",
            3,
            Bytes::from_static(b"hello"),
            Some("TagA"),
            Some("k1 k2"),
            Some("U1"),
        );
        let rec = encode_inner_record(&m, 7, 1000, 42).unwrap();
        let (back, len) = decode_record(&rec).unwrap();
        assert_eq!(len, rec.len());
        assert_eq!(back.tags(), Some("TagA"));
        assert_eq!(back.keys(), Some("k1 k2"));
        assert_eq!(back.queue_id, 3);
        assert_eq!(m.tags_code, tags_code(Some("TagA")));
    }
}
