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
        /// A pull consumer: the application asks for messages.
        ConsumeActively = "CONSUME_ACTIVELY",
        /// A push consumer: the client pulls and calls a listener.
        ConsumePassively = "CONSUME_PASSIVELY",
    }
);

java_enum!(
    /// Every consumer gets every message, or the group shares the queues.
    MessageModel {
        /// Every consumer of the group gets every message.
        Broadcasting = "BROADCASTING",
        /// The group shares the queues; each message goes to one consumer.
        Clustering = "CLUSTERING",
    }
);

java_enum!(
    /// Where a new consumer group starts.
    ConsumeFromWhere {
        /// After the last message (the default).
        ConsumeFromLastOffset = "CONSUME_FROM_LAST_OFFSET",
        /// Deprecated; treated as [`Self::ConsumeFromLastOffset`].
        ConsumeFromLastOffsetAndFromMinWhenBootFirst = "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
        /// Deprecated; treated as [`Self::ConsumeFromLastOffset`].
        ConsumeFromMinOffset = "CONSUME_FROM_MIN_OFFSET",
        /// Deprecated; treated as [`Self::ConsumeFromLastOffset`].
        ConsumeFromMaxOffset = "CONSUME_FROM_MAX_OFFSET",
        /// From the first message still stored.
        ConsumeFromFirstOffset = "CONSUME_FROM_FIRST_OFFSET",
        /// From the first message stored after the consumer's `consumeTimestamp`.
        ConsumeFromTimestamp = "CONSUME_FROM_TIMESTAMP",
    }
);

/// The body of HEART_BEAT.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HeartbeatData {
    /// The client id (`ip@instanceName`).
    #[serde(rename = "clientID")]
    pub client_id: String,
    /// The client's consumer groups.
    #[serde(rename = "consumerDataSet")]
    pub consumer_data_set: Vec<ConsumerData>,
    /// The client's producer groups.
    #[serde(rename = "producerDataSet")]
    pub producer_data_set: Vec<ProducerData>,
}

/// One producer group of a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProducerData {
    /// The producer group.
    #[serde(rename = "groupName")]
    pub group_name: String,
}

/// One consumer group of a client, with its subscriptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerData {
    /// Where a new group starts.
    #[serde(rename = "consumeFromWhere", default = "default_from_where")]
    pub consume_from_where: ConsumeFromWhere,
    /// Pull or push.
    #[serde(rename = "consumeType", default = "default_consume_type")]
    pub consume_type: ConsumeType,
    /// The consumer group.
    #[serde(rename = "groupName", default)]
    pub group_name: String,
    /// Clustering or broadcasting.
    #[serde(rename = "messageModel", default = "default_model")]
    pub message_model: MessageModel,
    /// The group's subscriptions.
    #[serde(rename = "subscriptionDataSet", default)]
    pub subscription_data_set: Vec<SubscriptionData>,
    /// Unit mode; unused by the open-source broker.
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
    /// Class-based filtering (filter servers).
    #[serde(rename = "classFilterMode", default)]
    pub class_filter_mode: bool,
    /// Java hash of each tag; Go sends them as strings.
    #[serde(rename = "codeSet", default)]
    pub code_set: BTreeSet<i32>,
    /// `TAG` or `SQL92`.
    #[serde(rename = "expressionType", default = "default_expression_type")]
    pub expression_type: String,
    /// The expression as written (`TagA || TagB`, `*`, or SQL92).
    #[serde(rename = "subString", default)]
    pub sub_string: String,
    /// The subscription's version (its creation time in ms).
    #[serde(rename = "subVersion", default)]
    pub sub_version: i64,
    /// The tags of a TAG expression.
    #[serde(rename = "tagsSet", default)]
    pub tags_set: BTreeSet<String>,
    /// The topic.
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
