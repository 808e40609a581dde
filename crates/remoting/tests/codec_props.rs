//! Property tests: every command survives an encode/decode round trip in both
//! header encodings, and no byte sequence makes the decoder panic.

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use rmq_remoting::codec::RemotingCodec;
use rmq_remoting::protocol::fastjson;
use rmq_remoting::{LanguageCode, RemotingCommand, SerializeType};
use tokio_util::codec::{Decoder, Encoder};

fn language() -> impl Strategy<Value = LanguageCode> {
    (0u8..12).prop_map(LanguageCode::from_code)
}

fn command() -> impl Strategy<Value = RemotingCommand> {
    (
        any::<i16>(),
        language(),
        any::<i16>(),
        any::<i32>(),
        any::<i32>(),
        proptest::option::of(".{1,40}"),
        proptest::collection::hash_map("[a-zA-Z0-9_]{1,12}", ".{0,30}", 0..8),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 1..300)),
        any::<bool>(),
    )
        .prop_map(
            |(code, language, version, opaque, flag, remark, ext, body, binary)| RemotingCommand {
                code: code as i32,
                language,
                version: version as i32,
                opaque,
                flag,
                remark,
                ext_fields: ext.into_iter().collect::<HashMap<_, _>>(),
                body: body.map(Bytes::from),
                serialize_type: if binary {
                    SerializeType::RocketMq
                } else {
                    SerializeType::Json
                },
            },
        )
}

proptest! {
    #[test]
    fn round_trip(cmds in proptest::collection::vec(command(), 1..4)) {
        let mut codec = RemotingCodec::default();
        let mut buf = BytesMut::new();
        for cmd in &cmds {
            codec.encode(cmd.clone(), &mut buf).unwrap();
        }
        for cmd in &cmds {
            let back = codec.decode(&mut buf).unwrap().unwrap();
            prop_assert_eq!(&back, cmd);
        }
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut codec = RemotingCodec::new(4096);
        let mut buf = BytesMut::from(&bytes[..]);
        // Either a frame, a wait for more, or an error: never a panic or a hang.
        for _ in 0..8 {
            match codec.decode(&mut buf) {
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => break,
            }
        }
    }

    #[test]
    fn garbage_after_a_valid_prefix_never_panics(
        header in proptest::collection::vec(any::<u8>(), 0..200),
        json in any::<bool>(),
    ) {
        // A well-formed length word around a random header.
        let mut frame = BytesMut::new();
        let len = 4 + header.len() as u32;
        frame.extend_from_slice(&len.to_be_bytes());
        let type_byte: u32 = if json { 0 } else { 1 };
        frame.extend_from_slice(&((type_byte << 24) | header.len() as u32).to_be_bytes());
        frame.extend_from_slice(&header);
        let _ = RemotingCodec::default().decode(&mut frame);
    }

    #[test]
    fn fastjson_normalize_never_panics(text in ".{0,200}") {
        let _ = fastjson::normalize(&text);
        let _ = fastjson::from_str::<serde_json::Value>(&text);
    }

    #[test]
    fn json_header_accepts_numbers_for_ext_values(v in any::<i64>(), b in any::<bool>()) {
        let header = format!(
            r#"{{"code":34,"language":"CPP","version":333,"opaque":1,"flag":0,"extFields":{{"n":{v},"b":{b}}}}}"#
        );
        let mut frame = BytesMut::new();
        frame.extend_from_slice(&((4 + header.len()) as u32).to_be_bytes());
        frame.extend_from_slice(&(header.len() as u32).to_be_bytes());
        frame.extend_from_slice(header.as_bytes());
        let cmd = RemotingCodec::default().decode(&mut frame).unwrap().unwrap();
        prop_assert_eq!(cmd.ext_i64("n").unwrap(), Some(v));
        prop_assert_eq!(cmd.ext_bool("b").unwrap(), Some(b));
    }
}

fn broker_data() -> impl Strategy<Value = rmq_remoting::protocol::BrokerData> {
    (
        ".{0,12}",
        ".{0,12}",
        proptest::collection::btree_map(0i64..1000, ".{0,20}", 0..4),
    )
        .prop_map(
            |(cluster, name, addrs)| rmq_remoting::protocol::BrokerData {
                broker_addrs: addrs,
                broker_name: name,
                cluster,
            },
        )
}

proptest! {
    #[test]
    fn route_bodies_round_trip_through_fastjson(
        bds in proptest::collection::vec(broker_data(), 0..4),
        qn in 0i32..64,
        conf in proptest::option::of(".{0,16}"),
    ) {
        use rmq_remoting::protocol::{decode_body, encode_body, QueueData, TopicRouteData};
        let route = TopicRouteData {
            queue_datas: bds
                .iter()
                .map(|b| QueueData {
                    broker_name: b.broker_name.clone(),
                    perm: 6,
                    read_queue_nums: qn,
                    topic_syn_flag: 0,
                    write_queue_nums: qn,
                })
                .collect(),
            broker_datas: bds,
            order_topic_conf: conf,
            ..Default::default()
        };
        let bytes = encode_body(&route).unwrap();
        let back: TopicRouteData = decode_body(&bytes).unwrap();
        prop_assert_eq!(back, route);
    }
}
