//! HEART_BEAT bodies: `HeartbeatData`, `ProducerData`, `ConsumerData`,
//! `SubscriptionData`, and the consumer enums they carry.
//!
//! Readers must be lenient: the Go client sends tag hash codes in `codeSet` as JSON
//! strings, the C++ client may send the enums as integers (Java ordinals). Writers
//! produce Java's shape (enum names, properties in alphabetical order).
//! Book: Part II "Consuming". Mirrors `org.apache.rocketmq.common.protocol.heartbeat.*`
//! and `org.apache.rocketmq.common.consumer.ConsumeFromWhere`.

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines a Java enum that serializes as its name and deserializes from its name
/// or its ordinal.
macro_rules! java_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The Java enum constant name.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a Java enum name.
            pub fn from_name(name: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.name() == name)
            }

            /// Parses a Java ordinal.
            pub fn from_ordinal(ordinal: i64) -> Option<$name> {
                usize::try_from(ordinal).ok().and_then(|i| Self::ALL.get(i).copied())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = serde_json::Value::deserialize(d)?;
                let parsed = match &v {
                    serde_json::Value::String(s) => $name::from_name(s)
                        .or_else(|| s.parse::<i64>().ok().and_then($name::from_ordinal)),
                    serde_json::Value::Number(n) => n.as_i64().and_then($name::from_ordinal),
                    _ => None,
                };
                parsed.ok_or_else(|| {
                    serde::de::Error::custom(format!(concat!("invalid ", stringify!($name), " {}"), v))
                })
            }
        }
    };
}

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
    #[serde(rename = "unitMode", default, deserialize_with = "lenient_bool")]
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
    #[serde(rename = "classFilterMode", default, deserialize_with = "lenient_bool")]
    pub class_filter_mode: bool,
    /// Java hash of each tag; Go sends them as strings.
    #[serde(rename = "codeSet", default, deserialize_with = "lenient_int_set")]
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

/// Accepts `true`/`false`, `"true"`/`"false"`, `1`/`0`, `"1"`/`"0"`.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::Number(n) => n.as_i64().unwrap_or(0) != 0,
        serde_json::Value::String(s) => matches!(s.to_ascii_lowercase().as_str(), "true" | "1"),
        _ => false,
    })
}

/// Accepts numbers or numeric strings; other entries are an error.
fn lenient_int_set<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeSet<i32>, D::Error> {
    let v = Option::<Vec<serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    v.into_iter()
        .map(|item| {
            let n = match &item {
                serde_json::Value::Number(n) => n.as_i64(),
                serde_json::Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            n.and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| serde::de::Error::custom(format!("invalid tag code {item}")))
        })
        .collect()
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
