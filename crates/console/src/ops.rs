//! `/api/ops`: the name servers the console uses, and what each one says.
//!
//! The console is started with a name-server list (`-n`). Each name server is
//! asked on its own for the cluster (GET_BROKER_CLUSTER_INFO, 106). Two name
//! servers never talk to each other (Part III "Two name servers that never talk"),
//! so their answers can differ for a moment; the page shows each one's broker
//! count side by side, and an unreachable one with its error.
//! Book: Part III "The web console" (OPS page).
//! Mirrors rocketmq-console's `OpsController.homePage` (the name-server list).

use axum::extract::State;
use axum::Json;
use futures::future::join_all;
use rmq_remoting::codes::{request, response};
use rmq_remoting::protocol::{decode_body, ClusterInfo};
use rmq_remoting::RemotingCommand;
use serde::Serialize;

use crate::error::ApiResult;
use crate::server::AppState;

/// The reply of `/api/ops`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpsView {
    /// Every name server of the console's list, in order.
    pub name_servers: Vec<NameServer>,
}

/// One name server and its view of the cluster.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NameServer {
    /// Its `ip:port`.
    pub addr: String,
    /// How many broker processes it has registered (`None` if it did not answer).
    pub brokers: Option<usize>,
    /// The clusters it knows.
    pub clusters: Vec<String>,
    /// Why it did not answer, if it did not.
    pub error: Option<String>,
}

async fn ask(st: &AppState, addr: &str) -> NameServer {
    let cmd = RemotingCommand::new_request(request::GET_BROKER_CLUSTER_INFO);
    let answer = st.admin.invoke(addr, cmd, st.admin.timeout()).await;
    let info = match answer {
        Ok(r) if r.code == response::SUCCESS => {
            decode_body::<ClusterInfo>(r.body_bytes()).map_err(|e| e.to_string())
        }
        Ok(r) => Err(format!("code {}: {}", r.code, r.remark.unwrap_or_default())),
        Err(e) => Err(e.to_string()),
    };
    match info {
        Ok(i) => NameServer {
            addr: addr.to_string(),
            brokers: Some(
                i.broker_addr_table
                    .values()
                    .map(|b| b.broker_addrs.len())
                    .sum(),
            ),
            clusters: i.cluster_addr_table.into_keys().collect(),
            error: None,
        },
        Err(e) => NameServer {
            addr: addr.to_string(),
            brokers: None,
            clusters: Vec::new(),
            error: Some(e),
        },
    }
}

/// `GET /api/ops`: each name server of the list, asked on its own.
pub async fn ops(State(st): State<AppState>) -> ApiResult<OpsView> {
    st.within(async {
        let name_servers = join_all(st.admin.namesrv_addrs().iter().map(|a| ask(&st, a))).await;
        Ok(Json(OpsView { name_servers }))
    })
    .await
}
