//! `ClusterInfo`: the reply to GET_BROKER_CLUSTER_INFO (mqadmin clusterList).
//!
//! Book: Part III "Name server". Mirrors `org.apache.rocketmq.common.protocol.body.ClusterInfo`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::route::BrokerData;

/// All brokers by name, and the broker names of each cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterInfo {
    /// Every broker group, by broker name.
    #[serde(rename = "brokerAddrTable")]
    pub broker_addr_table: BTreeMap<String, BrokerData>,
    /// The broker names of each cluster.
    #[serde(rename = "clusterAddrTable")]
    pub cluster_addr_table: BTreeMap<String, BTreeSet<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{decode_body, encode_body};

    #[test]
    fn cluster_info_shape() {
        let mut bd = BrokerData::new("DefaultCluster", "broker-a");
        bd.broker_addrs.insert(0, "192.168.0.2:10911".into());
        let mut info = ClusterInfo::default();
        info.broker_addr_table.insert("broker-a".into(), bd);
        info.cluster_addr_table
            .entry("DefaultCluster".into())
            .or_default()
            .insert("broker-a".into());
        let text = String::from_utf8(encode_body(&info).unwrap().to_vec()).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"192.168.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}},"#,
                r#""clusterAddrTable":{"DefaultCluster":["broker-a"]}}"#
            )
        );
        assert_eq!(decode_body::<ClusterInfo>(text.as_bytes()).unwrap(), info);
    }
}
