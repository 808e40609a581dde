//! Small bodies: `KVTable` (string map) and `TopicList`.
//!
//! Book: Part III "Name server". Mirrors `KVTable` and `TopicList`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// `{"table":{"k":"v"}}`: KV namespaces, broker runtime info, order-topic config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KVTable {
    /// Key to value.
    pub table: BTreeMap<String, String>,
}

/// `{"topicList":[...]}`, plus `brokerAddr` for the system-topic variant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TopicList {
    /// Set by GET_SYSTEM_TOPIC_LIST_FROM_NS: one broker address to ask for more.
    #[serde(rename = "brokerAddr", skip_serializing_if = "Option::is_none")]
    pub broker_addr: Option<String>,
    /// The topic names.
    #[serde(rename = "topicList")]
    pub topic_list: BTreeSet<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{decode_body, encode_body};

    #[test]
    fn shapes() {
        let mut kv = KVTable::default();
        kv.table.insert("T".into(), "b:4".into());
        assert_eq!(&encode_body(&kv).unwrap()[..], br#"{"table":{"T":"b:4"}}"#);
        let mut tl = TopicList::default();
        tl.topic_list.insert("T1".into());
        assert_eq!(&encode_body(&tl).unwrap()[..], br#"{"topicList":["T1"]}"#);
        let back: TopicList = decode_body(br#"{"topicList":["a","b"],"extra":1}"#).unwrap();
        assert_eq!(back.topic_list.len(), 2);
    }
}
