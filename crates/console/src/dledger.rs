//! `/api/dledger`: every DLedger group of the cluster, as each member sees it.
//!
//! A broker group runs DLedger when its settings say `enableDLegerCommitLog=true`.
//! Its settings (GET_BROKER_CONFIG, 26) also list the members (`dLegerPeers`,
//! `n0-ip:port;n1-ip:port;...`) and say which one the broker is (`dLegerSelfId`).
//! The console then asks every member, on its DLedger port, for its METADATA
//! (DLedger request 50000): the term it is in and the leader it follows. A member
//! that does not answer is shown as down; during an election the members disagree
//! on the term or the leader, and the page shows that too. The write position of
//! each member's log comes from its broker's runtime info (`commitLogMaxOffset`).
//! DLedger 0.2.2 has no request that returns a member's committed or applied index,
//! so those come from the member's broker through the Workbook's GET_STORE_STATS
//! (see `storage`); against a broker without it the columns stay empty.
//! Book: Part III "The web console" (DLedger view); DLedger itself: Part IV
//! "Cluster modes and DLedger".
//! Mirrors no rocketmq-console page; the request is DLedger's `MetadataRequest`
//! (`DLedgerRpcNettyService.metadata`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use futures::future::join_all;
use rmq_dledger::rpc::wire::{request_code, Base, MetadataResponseJson, RESPONSE_FRAME_CODE};
use rmq_remoting::protocol::fastjson;
use rmq_remoting::RemotingCommand;
use serde::Serialize;

use crate::error::ApiResult;
use crate::server::AppState;

/// The reply of `/api/dledger`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DLedgerView {
    /// Every broker group that runs DLedger.
    pub groups: Vec<DLedgerGroup>,
    /// When the console took the sample (ms since the epoch).
    pub timestamp: i64,
}

/// One DLedger group.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DLedgerGroup {
    /// The broker name (the group's brokers share it).
    pub broker_name: String,
    /// The DLedger group (`dLegerGroup`).
    pub group: String,
    /// Every member from `dLegerPeers`, by id.
    pub members: Vec<Member>,
    /// True when every member that answered names the same leader in the same term.
    pub agreed: bool,
}

/// One member of a DLedger group.
#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// The member id (`n0`, `n1`, ...).
    pub id: String,
    /// Its DLedger address (peer port).
    pub dledger_addr: String,
    /// Its broker address, when its broker is registered with the name servers.
    pub broker_addr: Option<String>,
    /// The broker id the name servers give it (0 = the leader, as the brokers report).
    pub broker_id: Option<i64>,
    /// The term it is in.
    pub term: Option<i64>,
    /// The leader it follows (itself when it leads).
    pub leader_id: Option<String>,
    /// Its commit log's write position, in bytes.
    pub commit_log_max_offset: Option<i64>,
    /// Last index in its log (GET_STORE_STATS).
    pub end_index: Option<i64>,
    /// Highest index it knows committed (GET_STORE_STATS).
    pub committed_index: Option<i64>,
    /// Last index its broker has dispatched into consume queues (GET_STORE_STATS).
    pub applied_index: Option<i64>,
    /// Why it did not answer, if it did not.
    pub error: Option<String>,
}

/// `dLegerPeers` as `(id, addr)` pairs.
pub fn parse_peers(peers: &str) -> Vec<(String, String)> {
    peers
        .split(';')
        .filter_map(|p| p.trim().split_once('-'))
        .map(|(id, addr)| (id.to_string(), addr.to_string()))
        .collect()
}

// ANCHOR: metadata
/// Asks one member for its term and leader (DLedger METADATA).
async fn metadata(
    st: &AppState,
    group: &str,
    id: &str,
    addr: &str,
) -> Result<MetadataResponseJson, String> {
    let ask = Base {
        group: Some(group.to_string()),
        remote_id: Some(id.to_string()),
        ..Base::default()
    };
    let body = fastjson::to_vec(&ask).map_err(|e| e.to_string())?;
    let cmd = RemotingCommand::new_request(request_code::METADATA).with_body(body);
    let answer = st
        .admin
        .invoke(addr, cmd, st.admin.timeout())
        .await
        .map_err(|e| e.to_string())?;
    if answer.code != RESPONSE_FRAME_CODE {
        return Err(format!("answered code {}", answer.code));
    }
    let meta: MetadataResponseJson =
        fastjson::from_slice(answer.body_bytes()).map_err(|e| e.to_string())?;
    if meta.code != 200 {
        return Err(format!("DLedger code {}", meta.code));
    }
    Ok(meta)
}
// ANCHOR_END: metadata

/// The group of one broker name, if it runs DLedger.
async fn group_view(
    st: &AppState,
    broker_name: &str,
    nodes: &BTreeMap<i64, String>,
) -> Option<DLedgerGroup> {
    // Each registered node's settings: its member id, and the group's peers.
    let configs = join_all(nodes.iter().map(|(id, addr)| async move {
        let config = st.admin.get_broker_config(addr).await.ok()?;
        let runtime = st.admin.fetch_broker_runtime_stats(addr).await.ok();
        Some((*id, addr.clone(), config, runtime))
    }))
    .await;
    let configs: Vec<_> = configs.into_iter().flatten().collect();
    let dledger = configs
        .iter()
        .find(|(_, _, c, _)| c.get("enableDLegerCommitLog").map(String::as_str) == Some("true"))?;
    let group = dledger.2.get("dLegerGroup").cloned().unwrap_or_default();
    let peers = parse_peers(dledger.2.get("dLegerPeers")?);
    let members = join_all(peers.into_iter().map(|(id, dledger_addr)| {
        let group = &group;
        let configs = &configs;
        async move {
            let mut m = Member {
                id,
                dledger_addr,
                ..Member::default()
            };
            let me = configs
                .iter()
                .find(|(_, _, c, _)| c.get("dLegerSelfId") == Some(&m.id));
            if let Some((broker_id, addr, _, runtime)) = me {
                m.broker_id = Some(*broker_id);
                m.broker_addr = Some(addr.clone());
                m.commit_log_max_offset = runtime
                    .as_ref()
                    .and_then(|r| r.table.get("commitLogMaxOffset"))
                    .and_then(|v| v.parse().ok());
                if let Ok(stats) = crate::storage::store_stats(st, addr).await {
                    let index = |k: &str| stats["dledger"][k].as_i64();
                    m.end_index = index("endIndex");
                    m.committed_index = index("committedIndex");
                    m.applied_index = index("appliedIndex");
                }
            }
            match metadata(st, group, &m.id, &m.dledger_addr).await {
                Ok(meta) => {
                    m.term = Some(meta.term);
                    m.leader_id = meta.leader_id;
                }
                Err(e) => m.error = Some(e),
            }
            m
        }
    }))
    .await;
    let mut seen = members
        .iter()
        .filter(|m| m.error.is_none())
        .map(|m| (m.term, m.leader_id.clone()));
    let first = seen.next();
    let agreed = first
        .as_ref()
        .is_some_and(|f| f.1.is_some() && seen.all(|s| &s == f));
    Some(DLedgerGroup {
        broker_name: broker_name.to_string(),
        group,
        members,
        agreed,
    })
}

/// `GET /api/dledger`: every DLedger group with each member's term, leader and write position.
pub async fn dledger(State(st): State<AppState>) -> ApiResult<DLedgerView> {
    st.within(async {
        let info = st.admin.examine_broker_cluster_info().await?;
        let groups = join_all(
            info.broker_addr_table
                .values()
                .map(|bd| group_view(&st, &bd.broker_name, &bd.broker_addrs)),
        )
        .await;
        Ok(Json(DLedgerView {
            groups: groups.into_iter().flatten().collect(),
            timestamp: crate::cluster::now_millis(),
        }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_parsed() {
        assert_eq!(
            parse_peers("n0-127.0.0.1:40911;n1-127.0.0.1:40912; n2-127.0.0.1:40913"),
            [
                ("n0".to_string(), "127.0.0.1:40911".to_string()),
                ("n1".to_string(), "127.0.0.1:40912".to_string()),
                ("n2".to_string(), "127.0.0.1:40913".to_string()),
            ]
        );
        assert!(parse_peers("").is_empty());
    }
}
