//! Route bodies: `TopicRouteData` (reply to GET_ROUTEINFO_BY_TOPIC), `QueueData`
//! and `BrokerData`.
//!
//! `BrokerData.brokerAddrs` is keyed by broker id (0 = master) and must be written
//! with bare integer keys: the Go client v2.0.0 splits the raw text on `,` and `:`.
//! Book: Part III "Name server". Mirrors `TopicRouteData`, `QueueData`, `BrokerData`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// The broker id of a master.
pub const MASTER_ID: i64 = 0;

/// Everything a client needs to reach a topic's queues.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TopicRouteData {
    /// The broker groups that hold the topic.
    #[serde(rename = "brokerDatas")]
    pub broker_datas: Vec<BrokerData>,
    /// Filter servers by broker address.
    #[serde(rename = "filterServerTable")]
    pub filter_server_table: HashMap<String, Vec<String>>,
    /// The order configuration (`brokerName:queueNums;...`) when ordered messages are on.
    #[serde(rename = "orderTopicConf", skip_serializing_if = "Option::is_none")]
    pub order_topic_conf: Option<String>,
    /// The topic's queues on each broker group.
    #[serde(rename = "queueDatas")]
    pub queue_datas: Vec<QueueData>,
}

/// The queues one broker (by name) holds for a topic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueData {
    /// The broker group.
    #[serde(rename = "brokerName")]
    pub broker_name: String,
    /// Permission bits for the topic on this broker.
    pub perm: i32,
    /// Number of read queues.
    #[serde(rename = "readQueueNums")]
    pub read_queue_nums: i32,
    /// The topic's sysFlag (the Java property really is spelled "Syn").
    #[serde(rename = "topicSynFlag")]
    pub topic_syn_flag: i32,
    /// Number of write queues.
    #[serde(rename = "writeQueueNums")]
    pub write_queue_nums: i32,
}

/// One broker name: its cluster and the addresses of its master and slaves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrokerData {
    /// Addresses by broker id (0 = master).
    #[serde(rename = "brokerAddrs")]
    pub broker_addrs: BTreeMap<i64, String>,
    /// The broker group's name.
    #[serde(rename = "brokerName")]
    pub broker_name: String,
    /// The cluster.
    pub cluster: String,
}

impl BrokerData {
    /// A broker group with no addresses yet.
    pub fn new(cluster: impl Into<String>, broker_name: impl Into<String>) -> Self {
        BrokerData {
            broker_addrs: BTreeMap::new(),
            broker_name: broker_name.into(),
            cluster: cluster.into(),
        }
    }

    /// The master's address, if a master is registered.
    pub fn master_addr(&self) -> Option<&str> {
        self.broker_addrs.get(&MASTER_ID).map(String::as_str)
    }

    /// The master's address, else any slave's (like `BrokerData.selectBrokerAddr`,
    /// minus the randomness: the lowest id wins).
    pub fn select_broker_addr(&self) -> Option<&str> {
        self.master_addr()
            .or_else(|| self.broker_addrs.values().next().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{decode_body, encode_body};

    fn sample() -> TopicRouteData {
        let mut bd = BrokerData::new("DefaultCluster", "broker-a");
        bd.broker_addrs.insert(0, "192.168.0.2:10911".into());
        bd.broker_addrs.insert(1, "192.168.0.3:10911".into());
        TopicRouteData {
            broker_datas: vec![bd],
            queue_datas: vec![QueueData {
                broker_name: "broker-a".into(),
                perm: 6,
                read_queue_nums: 4,
                topic_syn_flag: 0,
                write_queue_nums: 4,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn route_is_written_like_fastjson() {
        let text = String::from_utf8(encode_body(&sample()).unwrap().to_vec()).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"brokerDatas":[{"brokerAddrs":{0:"192.168.0.2:10911",1:"192.168.0.3:10911"},"#,
                r#""brokerName":"broker-a","cluster":"DefaultCluster"}],"filterServerTable":{},"#,
                r#""queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSynFlag":0,"writeQueueNums":4}]}"#
            )
        );
        let back: TopicRouteData = decode_body(text.as_bytes()).unwrap();
        assert_eq!(back, sample());
        assert_eq!(
            back.broker_datas[0].master_addr(),
            Some("192.168.0.2:10911")
        );
    }

    #[test]
    fn go_style_brokeraddrs_parsing_works_on_our_output() {
        // Emulates rocketmq-client-go v2.0.0: take the raw brokerAddrs object text,
        // strip braces, split on ',' then on the first ':'; ids must parse as ints.
        let text = String::from_utf8(encode_body(&sample()).unwrap().to_vec()).unwrap();
        let start = text.find("\"brokerAddrs\":").unwrap() + "\"brokerAddrs\":".len();
        let end = start + text[start..].find('}').unwrap();
        let inner = &text[start + 1..end];
        let ids: Vec<i64> = inner
            .split(',')
            .map(|kv| kv.split_once(':').unwrap().0.parse::<i64>().unwrap())
            .collect();
        assert_eq!(ids, vec![0, 1]);
    }

    #[test]
    fn order_topic_conf_only_when_set() {
        let mut r = sample();
        r.order_topic_conf = Some("broker-a:4".into());
        let text = String::from_utf8(encode_body(&r).unwrap().to_vec()).unwrap();
        assert!(
            text.contains(r#""filterServerTable":{},"orderTopicConf":"broker-a:4","queueDatas""#)
        );
    }
}
