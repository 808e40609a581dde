//! Bodies as the C++ core writes them (rocketmq-client-cpp, bundled in the Python client
//! `rocketmq` 0.4.4) and property tests of the fastjson conversions every body goes through.
//!
//! The `CPP_*` bodies below were captured from that client talking to our broker (its
//! jsoncpp `FastWriter` output: sorted keys, enum ordinals, `subVersion` as a string,
//! empty sets left out, a trailing newline). 4.8.0's fastjson reads all of them.

use proptest::prelude::*;
use rmq_remoting::protocol::admin::{LockBatchRequestBody, SubscriptionGroupConfig};
use rmq_remoting::protocol::{
    decode_body, encode_body, ConsumeFromWhere, ConsumeType, ConsumerData, DataVersion,
    HeartbeatData, MessageModel, ProducerData, SubscriptionData, TopicConfigSerializeWrapper,
};
use std::collections::BTreeSet;

/// A push consumer subscribed to `TagA || TagB`; the client subscribes its retry topic too.
const CPP_CONSUMER_HEARTBEAT: &str = concat!(
    r#"{"clientID":"11027-127.0.0.1@DEFAULT","consumerDataSet":[{"consumeFromWhere":0,"consumeType":1,"#,
    r#""groupName":"PyCG2","messageModel":1,"subscriptionDataSet":[{"subString":"*","subVersion":"1796573847321","#,
    r#""topic":"%RETRY%PyCG2"},{"codeSet":[0,0],"subString":"TagA || TagB","subVersion":"1796573847321","#,
    r#""tagsSet":["TagA","TagB"],"topic":"PyTopic"}]}]}"#,
    "\n"
);

/// A process with an orderly consumer and a producer.
const CPP_MIXED_HEARTBEAT: &str = concat!(
    r#"{"clientID":"13900-127.0.0.1@DEFAULT","consumerDataSet":[{"consumeFromWhere":0,"consumeType":1,"#,
    r#""groupName":"PyCG3","messageModel":1,"subscriptionDataSet":[{"subString":"*","subVersion":"1796573890262","#,
    r#""topic":"%RETRY%PyCG3"},{"codeSet":[0],"subString":"TagO","subVersion":"1796573890262","tagsSet":["TagO"],"#,
    r#""topic":"PyTopic"}]}],"producerDataSet":[{"groupName":"PyPG3"}]}"#,
    "\n"
);

/// LOCK_BATCH_MQ of the orderly consumer.
const CPP_LOCK_BATCH: &str = concat!(
    r#"{"clientId":"13900-127.0.0.1@DEFAULT","consumerGroup":"PyCG3","mqSet":[{"brokerName":"py-broker","#,
    r#""queueId":1,"topic":"PyTopic"},{"brokerName":"py-broker","queueId":2,"topic":"PyTopic"}]}"#,
    "\n"
);

#[test]
fn cpp_consumer_heartbeat_reads_like_javas() {
    let hb: HeartbeatData = decode_body(CPP_CONSUMER_HEARTBEAT.as_bytes()).unwrap();
    assert_eq!(hb.client_id, "11027-127.0.0.1@DEFAULT");
    assert!(hb.producer_data_set.is_empty());
    let cd = &hb.consumer_data_set[0];
    assert_eq!(cd.group_name, "PyCG2");
    assert_eq!(cd.consume_type, ConsumeType::ConsumePassively);
    assert_eq!(cd.message_model, MessageModel::Clustering);
    assert_eq!(
        cd.consume_from_where,
        ConsumeFromWhere::ConsumeFromLastOffset
    );
    assert!(!cd.unit_mode);
    let retry = &cd.subscription_data_set[0];
    assert_eq!(retry.topic, "%RETRY%PyCG2");
    assert_eq!(retry.sub_version, 1_796_573_847_321);
    assert!(retry.tags_set.is_empty() && retry.code_set.is_empty());
    assert_eq!(retry.expression_type, "TAG");
    let sub = &cd.subscription_data_set[1];
    assert_eq!(sub.sub_string, "TagA || TagB");
    assert_eq!(
        sub.tags_set,
        BTreeSet::from(["TagA".to_string(), "TagB".to_string()])
    );
    assert_eq!(sub.code_set, BTreeSet::from([0]));
}

#[test]
fn cpp_mixed_heartbeat_and_lock_batch() {
    let hb: HeartbeatData = decode_body(CPP_MIXED_HEARTBEAT.as_bytes()).unwrap();
    assert_eq!(
        hb.producer_data_set,
        vec![ProducerData {
            group_name: "PyPG3".into()
        }]
    );
    assert_eq!(hb.consumer_data_set[0].subscription_data_set.len(), 2);
    let lock: LockBatchRequestBody = decode_body(CPP_LOCK_BATCH.as_bytes()).unwrap();
    assert_eq!(lock.consumer_group, "PyCG3");
    assert_eq!(lock.client_id, "13900-127.0.0.1@DEFAULT");
    let ids: Vec<i32> = lock.mq_set.iter().map(|m| m.queue_id).collect();
    assert_eq!(ids, vec![1, 2]);
}

#[test]
fn refused_bodies_name_the_field() {
    let bad = r#"{"consumerDataSet":[{"groupName":"g","messageModel":7}]}"#;
    let e = decode_body::<HeartbeatData>(bad.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.contains("$.consumerDataSet[0].messageModel"), "{e}");
    let bad = r#"{"consumerDataSet":[{"subscriptionDataSet":[{"subVersion":"soon"}]}]}"#;
    let e = decode_body::<HeartbeatData>(bad.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("$.consumerDataSet[0].subscriptionDataSet[0].subVersion"),
        "{e}"
    );
    assert!(decode_body::<HeartbeatData>(b"{\"clientID\":").is_err());
    assert!(decode_body::<HeartbeatData>(b"[1,2]").is_err());
}

#[test]
fn other_request_bodies_take_fastjson_shapes() {
    // UPDATE_AND_CREATE_SUBSCRIPTIONGROUP with numbers and booleans as strings, a
    // snake_case key (smartMatch) and a null.
    let g: SubscriptionGroupConfig = decode_body(
        br#"{"groupName":"g","retryMaxTimes":"3","consumeEnable":"false","retry_queue_nums":2,"brokerId":null}"#,
    )
    .unwrap();
    assert_eq!(g.group_name, "g");
    assert_eq!(g.retry_max_times, 3);
    assert_eq!(g.retry_queue_nums, 2);
    assert_eq!(g.broker_id, 0);
    assert!(!g.consume_enable);
    // QUERY_DATA_VERSION's body with string numbers.
    let v: DataVersion = decode_body(br#"{"counter":"7","timestamp":"1600000000000"}"#).unwrap();
    assert_eq!((v.counter, v.timestamp), (7, 1_600_000_000_000));
    // A register body's topic table with bare integer perm strings and missing fields.
    let w: TopicConfigSerializeWrapper = decode_body(
        b"{\"topicConfigTable\":{\"T\":{\"topicName\":\"T\",\"perm\":\"6\",\"order\":0}}}\n",
    )
    .unwrap();
    let t = &w.topic_config_table["T"];
    assert_eq!((t.perm, t.read_queue_nums, t.order), (6, 16, false));
}

fn arb_enum<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    prop::sample::select(all)
}

const TYPES: &[ConsumeType] = &[ConsumeType::ConsumeActively, ConsumeType::ConsumePassively];
const MODELS: &[MessageModel] = &[MessageModel::Broadcasting, MessageModel::Clustering];
const WHERES: &[ConsumeFromWhere] = &[
    ConsumeFromWhere::ConsumeFromLastOffset,
    ConsumeFromWhere::ConsumeFromLastOffsetAndFromMinWhenBootFirst,
    ConsumeFromWhere::ConsumeFromMinOffset,
    ConsumeFromWhere::ConsumeFromMaxOffset,
    ConsumeFromWhere::ConsumeFromFirstOffset,
    ConsumeFromWhere::ConsumeFromTimestamp,
];

fn arb_subscription() -> impl Strategy<Value = SubscriptionData> {
    (
        "[A-Za-z%_]{1,12}",
        prop::collection::btree_set("[A-Za-z0-9]{1,6}", 0..4),
        0i64..=i64::MAX,
    )
        .prop_map(|(topic, tags, sub_version)| SubscriptionData {
            class_filter_mode: false,
            code_set: tags.iter().map(|t| rmq_common_like_hash(t)).collect(),
            expression_type: "TAG".into(),
            sub_string: if tags.is_empty() {
                "*".into()
            } else {
                tags.iter().cloned().collect::<Vec<_>>().join(" || ")
            },
            sub_version,
            tags_set: tags,
            topic,
        })
}

/// Java's `String.hashCode` (the tag code); any i32 would do for these tests.
fn rmq_common_like_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

fn arb_heartbeat() -> impl Strategy<Value = HeartbeatData> {
    let consumer = (
        "[A-Za-z0-9_-]{1,16}",
        arb_enum(TYPES),
        arb_enum(MODELS),
        arb_enum(WHERES),
        prop::collection::vec(arb_subscription(), 0..3),
    )
        .prop_map(|(group_name, ct, mm, cfw, subs)| ConsumerData {
            consume_from_where: cfw,
            consume_type: ct,
            group_name,
            message_model: mm,
            subscription_data_set: subs,
            unit_mode: false,
        });
    (
        "[0-9.@A-Za-z-]{1,30}",
        prop::collection::vec(consumer, 0..3),
        prop::collection::vec("[A-Za-z0-9_]{1,12}", 0..3),
    )
        .prop_map(|(client_id, consumers, producers)| HeartbeatData {
            client_id,
            consumer_data_set: consumers,
            producer_data_set: producers
                .into_iter()
                .map(|group_name| ProducerData { group_name })
                .collect(),
        })
}

/// The heartbeat as the C++ core's `HeartbeatData::Encode` writes it (spec §21): ordinals,
/// `subVersion` as a string, empty arrays and Java-only fields left out, trailing newline.
fn cpp_encode(hb: &HeartbeatData) -> String {
    use serde_json::{json, Map, Value};
    let ordinal = |name: &str, all: &[&str]| all.iter().position(|n| *n == name).unwrap();
    let mut root = Map::new();
    root.insert("clientID".into(), json!(hb.client_id));
    if !hb.consumer_data_set.is_empty() {
        let cds: Vec<Value> = hb
            .consumer_data_set
            .iter()
            .map(|c| {
                let mut o = Map::new();
                o.insert(
                    "consumeFromWhere".into(),
                    json!(WHERES
                        .iter()
                        .position(|w| *w == c.consume_from_where)
                        .unwrap()),
                );
                o.insert(
                    "consumeType".into(),
                    json!(ordinal(
                        c.consume_type.name(),
                        &["CONSUME_ACTIVELY", "CONSUME_PASSIVELY"]
                    )),
                );
                o.insert("groupName".into(), json!(c.group_name));
                o.insert(
                    "messageModel".into(),
                    json!(ordinal(
                        c.message_model.name(),
                        &["BROADCASTING", "CLUSTERING"]
                    )),
                );
                if !c.subscription_data_set.is_empty() {
                    let subs: Vec<Value> = c
                        .subscription_data_set
                        .iter()
                        .map(|s| {
                            let mut o = Map::new();
                            if !s.code_set.is_empty() {
                                o.insert("codeSet".into(), json!(s.code_set));
                            }
                            o.insert("subString".into(), json!(s.sub_string));
                            o.insert("subVersion".into(), json!(s.sub_version.to_string()));
                            if !s.tags_set.is_empty() {
                                o.insert("tagsSet".into(), json!(s.tags_set));
                            }
                            o.insert("topic".into(), json!(s.topic));
                            Value::Object(o)
                        })
                        .collect();
                    o.insert("subscriptionDataSet".into(), Value::Array(subs));
                }
                Value::Object(o)
            })
            .collect();
        root.insert("consumerDataSet".into(), Value::Array(cds));
    }
    if !hb.producer_data_set.is_empty() {
        let pds: Vec<Value> = hb
            .producer_data_set
            .iter()
            .map(|p| json!({ "groupName": p.group_name }))
            .collect();
        root.insert("producerDataSet".into(), Value::Array(pds));
    }
    format!("{}\n", Value::Object(root))
}

proptest! {
    /// Whatever a Java client sends, the C++ shape of the same heartbeat reads the same.
    #[test]
    fn cpp_shape_reads_as_java_shape(hb in arb_heartbeat()) {
        let java = encode_body(&hb).unwrap();
        let from_java: HeartbeatData = decode_body(&java).unwrap();
        prop_assert_eq!(&from_java, &hb);
        let from_cpp: HeartbeatData = decode_body(cpp_encode(&hb).as_bytes()).unwrap();
        prop_assert_eq!(&from_cpp, &hb);
    }

    /// Integers arrive as numbers or as strings, with or without spaces; both read the same.
    #[test]
    fn numbers_as_strings(counter in any::<i64>(), ts in any::<i64>(), pad in "[ ]{0,2}") {
        let plain: DataVersion =
            decode_body(format!(r#"{{"counter":{counter},"timestamp":{ts}}}"#).as_bytes()).unwrap();
        let quoted: DataVersion = decode_body(
            format!(r#"{{"counter":"{pad}{counter}{pad}","timestamp":"{ts}"}}{pad}"#).as_bytes(),
        )
        .unwrap();
        prop_assert_eq!(plain, quoted);
        prop_assert_eq!((plain.counter, plain.timestamp), (counter, ts));
    }

    /// No input makes the reader panic; whatever it accepts re-encodes and reads back equal.
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        if let Ok(hb) = decode_body::<HeartbeatData>(text.as_bytes()) {
            let again: HeartbeatData = decode_body(&encode_body(&hb).unwrap()).unwrap();
            prop_assert_eq!(again, hb);
        }
    }
}
