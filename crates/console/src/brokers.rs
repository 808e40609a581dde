//! `/api/brokers/{addr}`: one broker process's settings and runtime numbers.
//!
//! Two requests to the broker at `addr`: GET_BROKER_CONFIG (26, the effective
//! `broker.conf` as `key=value` lines) and GET_BROKER_RUNTIME_INFO (28, the
//! counters `mqadmin brokerStatus` prints). Both are asked at once; each half that
//! fails keeps the other and says why.
//! Book: Part III "The web console" (Cluster page, broker detail).
//! Mirrors rocketmq-console's `ClusterController.brokerConfig` and
//! `ClusterServiceImpl.getBrokerConfig`.

use std::collections::BTreeMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;

use crate::error::{broker_addr_arg, ApiError, ApiResult};
use crate::server::AppState;

/// The reply of `/api/brokers/{addr}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerDetail {
    /// The broker's `ip:port`.
    pub addr: String,
    /// Its effective settings, by key (empty when `config_error` is set).
    pub config: BTreeMap<String, String>,
    /// Why the settings could not be read, if they could not.
    pub config_error: Option<String>,
    /// Its runtime info, by key (empty when `runtime_error` is set).
    pub runtime: BTreeMap<String, String>,
    /// Why the runtime info could not be read, if it could not.
    pub runtime_error: Option<String>,
}

/// `GET /api/brokers/{addr}`: settings and runtime info of one broker; 502 when
/// the broker answers neither.
pub async fn broker_detail(
    State(st): State<AppState>,
    addr: Result<Path<String>, PathRejection>,
) -> ApiResult<BrokerDetail> {
    let addr = broker_addr_arg(addr)?;
    st.within(async {
        let (config, runtime) = futures::join!(
            st.admin.get_broker_config(&addr),
            st.admin.fetch_broker_runtime_stats(&addr)
        );
        if let (Err(e), Err(_)) = (&config, &runtime) {
            return Err(ApiError::Upstream(format!("broker {addr}: {e}")));
        }
        let (config, config_error) = split(config);
        let (runtime, runtime_error) = split(runtime.map(|t| t.table));
        Ok(Json(BrokerDetail {
            addr,
            config,
            config_error,
            runtime,
            runtime_error,
        }))
    })
    .await
}

/// A table and no error, or an empty table and the error.
fn split<E: std::fmt::Display>(
    r: Result<BTreeMap<String, String>, E>,
) -> (BTreeMap<String, String>, Option<String>) {
    match r {
        Ok(t) => (t, None),
        Err(e) => (BTreeMap::new(), Some(e.to_string())),
    }
}
