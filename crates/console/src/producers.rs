//! `/api/producers?topic=&group=`: the client connections of one producer group.
//!
//! Brokers keep no list of producer groups, so the page asks for a topic and a
//! group (as rocketmq-console's Producer page does). The console sends
//! GET_PRODUCER_CONNECTION_LIST (204) to a broker of the topic's route: each
//! producer's heartbeat reaches every broker it knows, so one broker suffices.
//! Book: Part III "The web console" (Producers page).
//! Mirrors rocketmq-console's `ProducerController.producerConnection`
//! (`ProducerServiceImpl.getProducerConnection`).

use axum::extract::{Query, State};
use axum::Json;
use rmq_admin::AdminError;
use rmq_remoting::codes::response;
use rmq_remoting::protocol::ProducerConnection;
use serde::Deserialize;

use crate::error::{required, ApiError, ApiResult};
use crate::server::AppState;

/// The query of `/api/producers`.
#[derive(Debug, Deserialize)]
pub struct ProducerQuery {
    /// A topic the group sends to.
    pub topic: Option<String>,
    /// The producer group.
    pub group: Option<String>,
}

/// `GET /api/producers?topic=&group=`: the group's connections; 404 when no
/// producer of the group is connected to the broker.
pub async fn producer_connections(
    State(st): State<AppState>,
    Query(q): Query<ProducerQuery>,
) -> ApiResult<ProducerConnection> {
    let topic = required(q.topic, "topic")?;
    let group = required(q.group, "group")?;
    st.within(async {
        match st
            .admin
            .examine_producer_connection_info(&group, &topic)
            .await
        {
            Ok(c) => Ok(Json(c)),
            // 4.8.0 answers SYSTEM_ERROR "the producer group[..] not exist".
            Err(AdminError::Server { code, remark, .. })
                if code == response::SYSTEM_ERROR && remark.contains("not exist") =>
            {
                Err(ApiError::NotFound(format!(
                    "no producer of group {group} is connected to the brokers of {topic}"
                )))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}
