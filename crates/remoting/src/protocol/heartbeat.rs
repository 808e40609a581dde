//! HEART_BEAT bodies: `HeartbeatData`, `ProducerData`, `ConsumerData`,
//! `SubscriptionData`, and the consumer enums they carry.
//!
//! Readers are lenient through `fastjson::from_*` (see `fastjson::lenient`): the Go client
//! sends tag hash codes in `codeSet` as JSON strings; the C++ core sends the enums as Java
//! ordinals, `subVersion` as a string, `unitMode` as `"0"`, and leaves out empty sets and
//! `expressionType`. Writers produce Java's shape (enum names, properties in alphabetical
//! order).
//! Book: Part II "Consuming". Mirrors `org.apache.rocketmq.common.protocol.heartbeat.*`
//! and `org.apache.rocketmq.common.consumer.ConsumeFromWhere`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::fastjson::java_enum;

java_enum!(
    /// Pull (`CONSUME_ACTIVELY`) or push (`CONSUME_PASSIVELY`) consumer.
    ConsumeType {
        ConsumeActively = "CONSUME_ACTIVELY",
        ConsumePassively = "CONSUME_PASSIVELY",
    }
);

java_enum!(
    /// Every consumer gets every message, or the group shares the queues.
    MessageModel {
        Broadcasting = "BROADCASTING",
        Clustering = "CLUSTERING",
    }
);

java_enum!(
    /// Where a new consumer group starts.
    ConsumeFromWhere {
        ConsumeFromLastOffset = "CONSUME_FROM_LAST_OFFSET",
        ConsumeFromLastOffsetAndFromMinWhenBootFirst = "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
        ConsumeFromMinOffset = "CONSUME_FROM_MIN_OFFSET",
        ConsumeFromMaxOffset = "CONSUME_FROM_MAX_OFFSET",
        ConsumeFromFirstOffset = "CONSUME_FROM_FIRST_OFFSET",
        ConsumeFromTimestamp = "CONSUME_FROM_TIMESTAMP",
    }
);

/// The body of HEART_BEAT.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HeartbeatData {
    #[serde(rename = "clientID")]
    pub client_id: String,
    #[serde(rename = "consumerDataSet")]
    pub consumer_data_set: Vec<ConsumerData>,
    #[serde(rename = "producerDataSet")]
    pub producer_data_set: Vec<ProducerData>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProducerData {
    #[serde(rename = "groupName")]
    pub group_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerData {
    #[serde(rename = "consumeFromWhere", default = "default_from_where")]
    pub consume_from_where: ConsumeFromWhere,
    #[serde(rename = "consumeType", default = "default_consume_type")]
    pub consume_type: ConsumeType,
    #[serde(rename = "groupName", default)]
    pub group_name: String,
    #[serde(rename = "messageModel", default = "default_model")]
    pub message_model: MessageModel,
    #[serde(rename = "subscriptionDataSet", default)]
    pub subscription_data_set: Vec<SubscriptionData>,
    #[serde(rename = "unitMode", default)]
    pub unit_mode: bool,
}

fn default_from_where() -> ConsumeFromWhere {
    ConsumeFromWhere::ConsumeFromLastOffset
}

fn default_consume_type() -> ConsumeType {
    ConsumeType::ConsumePassively
}

fn default_model() -> MessageModel {
    MessageModel::Clustering
}

/// One topic subscription with its tag filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionData {
    #[serde(rename = "classFilterMode", default)]
    pub class_filter_mode: bool,
    /// Java hash of each tag; Go sends them as strings.
    #[serde(rename = "codeSet", default)]
    pub code_set: BTreeSet<i32>,
    #[serde(rename = "expressionType", default = "default_expression_type")]
    pub expression_type: String,
    #[serde(rename = "subString", default)]
    pub sub_string: String,
    #[serde(rename = "subVersion", default)]
    pub sub_version: i64,
    #[serde(rename = "tagsSet", default)]
    pub tags_set: BTreeSet<String>,
    #[serde(default)]
    pub topic: String,
}

fn default_expression_type() -> String {
    "TAG".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{decode_body, encode_body};

    #[test]
    fn java_heartbeat_round_trips() {
        let text = concat!(
            r#"{"clientID":"192.168.0.10@12345","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","#,
            r#""consumeType":"CONSUME_PASSIVELY","groupName":"cg1","messageModel":"CLUSTERING","#,
            r#""subscriptionDataSet":[{"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG","subString":"TagA","#,
            r#""subVersion":1600000000000,"tagsSet":["TagA"],"topic":"TopicTest"}],"unitMode":false}],"#,
            r#""producerDataSet":[{"groupName":"CLIENT_INNER_PRODUCER"}]}"#
        );
        let hb: HeartbeatData = decode_body(text.as_bytes()).unwrap();
        assert_eq!(
            hb.consumer_data_set[0].subscription_data_set[0]
                .code_set
                .iter()
                .next(),
            Some(&2598919)
        );
        assert_eq!(&encode_body(&hb).unwrap()[..], text.as_bytes());
    }

    #[test]
    fn go_and_cpp_quirks_are_accepted() {
        let go = r#"{"clientID":"x","consumerDataSet":[{"groupName":"g","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING",
            "consumeFromWhere":"CONSUME_FROM_FIRST_OFFSET","subscriptionDataSet":[{"topic":"T","subString":"a","codeSet":["97"],"tagsSet":["a"]}]}]}"#;
        let hb: HeartbeatData = decode_body(go.as_bytes()).unwrap();
        assert!(hb.consumer_data_set[0].subscription_data_set[0]
            .code_set
            .contains(&97));
        let cpp = r#"{"clientID":"y","consumerDataSet":[{"groupName":"g","consumeType":1,"messageModel":0,
            "consumeFromWhere":4,"unitMode":"0","subscriptionDataSet":[]}],"producerDataSet":[]}"#;
        let hb: HeartbeatData = decode_body(cpp.as_bytes()).unwrap();
        let cd = &hb.consumer_data_set[0];
        assert_eq!(cd.consume_type, ConsumeType::ConsumePassively);
        assert_eq!(cd.message_model, MessageModel::Broadcasting);
        assert_eq!(
            cd.consume_from_where,
            ConsumeFromWhere::ConsumeFromFirstOffset
        );
        assert!(
            decode_body::<HeartbeatData>(br#"{"consumerDataSet":[{"consumeType":9}]}"#).is_err()
        );
    }
}
