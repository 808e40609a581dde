//! `/api/cluster`: every cluster, its broker groups and their nodes, with each
//! node's version and put/get TPS, plus cluster-wide totals for the live TPS chart.
//!
//! One GET_BROKER_CLUSTER_INFO (106) to a name server, then GET_BROKER_RUNTIME_INFO
//! (28) to every broker address, concurrently. A broker that does not answer keeps
//! its row, with an `error` instead of numbers (as `mqadmin clusterList` does).
//! Book: Part III "The web console" (Cluster page).
//! Mirrors rocketmq-console's `ClusterServiceImpl.list` and `ClusterController`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use futures::future::join_all;
use rmq_remoting::protocol::route::MASTER_ID;
use serde::Serialize;

use crate::error::ApiResult;
use crate::server::AppState;

/// The reply of `/api/cluster`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterView {
    /// Every cluster the name server knows, by name.
    pub clusters: Vec<ClusterEntry>,
    /// Sum of the masters' put TPS (messages stored per second, last 10 s window).
    pub total_put_tps: f64,
    /// Sum of every node's get TPS (messages handed to consumers per second).
    pub total_get_tps: f64,
    /// When the console took the sample (ms since the epoch).
    pub timestamp: i64,
}

/// One cluster (`brokerClusterName`) and its broker groups.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterEntry {
    /// The cluster's name.
    pub name: String,
    /// Its broker names, each with its nodes.
    pub broker_groups: Vec<BrokerGroup>,
}

/// One broker name: a master and its slaves, or one DLedger group.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerGroup {
    /// The broker name (`brokerName`).
    pub broker_name: String,
    /// Its nodes, by broker id.
    pub nodes: Vec<BrokerNode>,
}

/// One broker process: its address, version and rates (a `clusterList` row).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerNode {
    /// 0 is the master (or the DLedger leader).
    pub broker_id: i64,
    /// `ip:port` clients use.
    pub addr: String,
    /// `brokerVersionDesc` (`V4_8_0`); `None` when the broker did not answer.
    pub version: Option<String>,
    /// Messages stored per second (`putTps`, last 10 s window).
    pub put_tps: f64,
    /// Messages handed to consumers per second (`getTransferedTps`, last 10 s window).
    pub get_tps: f64,
    /// Messages stored since midnight (`msgPutTotalTodayNow - msgPutTotalTodayMorning`).
    pub msg_put_total_today: Option<i64>,
    /// Messages handed out since midnight.
    pub msg_get_total_today: Option<i64>,
    /// Every key of the broker's runtime info, for the curious.
    pub runtime: BTreeMap<String, String>,
    /// Why the runtime info could not be read, if it could not.
    pub error: Option<String>,
}

// ANCHOR: first_tps
/// The broker reports TPS as three windows "10s 60s 600s"; the console plots the
/// first, the most recent.
pub fn first_tps(v: Option<&String>) -> f64 {
    v.and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(0.0)
}
// ANCHOR_END: first_tps

/// A node's row from its runtime info (or the error fetching it).
fn node(broker_id: i64, addr: String, kv: Result<BTreeMap<String, String>, String>) -> BrokerNode {
    match kv {
        Ok(kv) => {
            let num = |k: &str| kv.get(k).and_then(|s| s.parse::<i64>().ok());
            let today = |now: &str, morning: &str| Some(num(now)? - num(morning)?);
            BrokerNode {
                broker_id,
                addr,
                version: kv.get("brokerVersionDesc").cloned(),
                put_tps: first_tps(kv.get("putTps")),
                get_tps: first_tps(kv.get("getTransferedTps")),
                msg_put_total_today: today("msgPutTotalTodayNow", "msgPutTotalTodayMorning"),
                msg_get_total_today: today("msgGetTotalTodayNow", "msgGetTotalTodayMorning"),
                runtime: kv,
                error: None,
            }
        }
        Err(e) => BrokerNode {
            broker_id,
            addr,
            version: None,
            put_tps: 0.0,
            get_tps: 0.0,
            msg_put_total_today: None,
            msg_get_total_today: None,
            runtime: BTreeMap::new(),
            error: Some(e),
        },
    }
}

// ANCHOR: get_cluster
/// `GET /api/cluster`: every node with its version and TPS, plus the totals.
pub async fn get_cluster(State(st): State<AppState>) -> ApiResult<ClusterView> {
    st.within(async {
        let info = st.admin.examine_broker_cluster_info().await?;
        let mut clusters = Vec::new();
        for (cluster, names) in &info.cluster_addr_table {
            let mut broker_groups = Vec::new();
            for name in names {
                let Some(bd) = info.broker_addr_table.get(name) else {
                    continue;
                };
                let admin = &st.admin;
                let fetches = bd.broker_addrs.iter().map(|(id, addr)| async move {
                    let kv = admin.fetch_broker_runtime_stats(addr).await;
                    node(
                        *id,
                        addr.clone(),
                        kv.map(|t| t.table).map_err(|e| e.to_string()),
                    )
                });
                broker_groups.push(BrokerGroup {
                    broker_name: name.clone(),
                    nodes: join_all(fetches).await,
                });
            }
            clusters.push(ClusterEntry {
                name: cluster.clone(),
                broker_groups,
            });
        }
        let (total_put_tps, total_get_tps) = totals(&clusters);
        Ok(Json(ClusterView {
            total_put_tps,
            total_get_tps,
            timestamp: now_millis(),
            clusters,
        }))
    })
    .await
}
// ANCHOR_END: get_cluster

// ANCHOR: totals
/// The cluster's (put, get) TPS. Slaves and DLedger followers count the entries
/// they replicate as puts too, so only the masters' puts are messages producers
/// sent; gets are counted wherever consumers read.
pub fn totals(clusters: &[ClusterEntry]) -> (f64, f64) {
    let nodes = || {
        clusters
            .iter()
            .flat_map(|c| &c.broker_groups)
            .flat_map(|g| &g.nodes)
    };
    let put = nodes()
        .filter(|n| n.broker_id == MASTER_ID)
        .map(|n| n.put_tps)
        .sum();
    (put, nodes().map(|n| n.get_tps).sum())
}
// ANCHOR_END: totals

pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_info_becomes_a_row() {
        let mut kv = BTreeMap::new();
        kv.insert("brokerVersionDesc".to_string(), "V4_8_0".to_string());
        kv.insert("putTps".to_string(), "12.5 3.0 1.0".to_string());
        kv.insert("getTransferedTps".to_string(), "garbage".to_string());
        kv.insert("msgPutTotalTodayNow".to_string(), "10".to_string());
        kv.insert("msgPutTotalTodayMorning".to_string(), "4".to_string());
        let n = node(0, "127.0.0.1:10911".into(), Ok(kv));
        assert_eq!(n.version.as_deref(), Some("V4_8_0"));
        assert_eq!(n.put_tps, 12.5);
        assert_eq!(n.get_tps, 0.0);
        assert_eq!(n.msg_put_total_today, Some(6));
        assert_eq!(n.msg_get_total_today, None);
        let down = node(1, "127.0.0.1:10921".into(), Err("refused".into()));
        assert_eq!(down.error.as_deref(), Some("refused"));
        let mut follower = node(2, "127.0.0.1:10931".into(), Ok(BTreeMap::new()));
        follower.put_tps = 12.5; // replicated entries
        follower.get_tps = 1.0;
        let group = BrokerGroup {
            broker_name: "RaftNode00".into(),
            nodes: vec![n, down, follower],
        };
        let clusters = [ClusterEntry {
            name: "RaftCluster".into(),
            broker_groups: vec![group],
        }];
        assert_eq!(totals(&clusters), (12.5, 1.0));
    }
}
