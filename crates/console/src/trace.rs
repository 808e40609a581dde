//! `/api/messages/{msgId}/trace`: the message trace of one message, when its producer
//! or consumers had tracing on.
//!
//! A client with tracing on (`enable_msg_trace`) sends one trace message per event to
//! `RMQ_SYS_TRACE_TOPIC`: a `Pub` when the message was stored, a `SubBefore` when a
//! listener received it and a `SubAfter` with the listener's verdict. Each trace message
//! is indexed under the ids it mentions, so QUERY_MESSAGE (12) on the trace topic with
//! the message's unique id as the key finds them, as `mqadmin QueryMsgTraceById` does.
//! The bodies are decoded by rmq-client's trace reader (`rmq_client::trace::views_for`),
//! the same one mqadmin uses; only the lines about this id are kept.
//! Book: Part III "The web console" (Message page); trace itself: Part II "Consuming".
//! Mirrors rocketmq-console's `MessageTraceController.viewMessageTraceDetail`
//! (`MessageTraceServiceImpl`).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use rmq_client::trace::{views_for, RMQ_SYS_TRACE_TOPIC};
use rmq_remoting::codes::response;
use serde::Serialize;

use crate::consumers::absent;
use crate::error::{path_arg, ApiError, ApiResult};
use crate::messages::check_msg_id;
use crate::server::AppState;

/// The reply of `/api/messages/{msgId}/trace`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    /// Every trace line about the message, oldest first.
    pub events: Vec<TraceEvent>,
}

/// One trace line (`TraceView`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceEvent {
    /// `Pub`, `SubBefore` or `SubAfter`.
    pub trace_type: &'static str,
    /// The producer or consumer group.
    pub group: String,
    /// The client that sent or received it (empty for `SubAfter`).
    pub client_host: String,
    /// The broker that stored it (`Pub`).
    pub store_host: String,
    /// When, ms since the epoch.
    pub timestamp: i64,
    /// Time taken, ms.
    pub cost_time_ms: i32,
    /// `success` or `failed`.
    pub status: &'static str,
    /// Reconsume count (`SubBefore`).
    pub retry_times: i32,
}

// ANCHOR: trace
/// `GET /api/messages/{msgId}/trace`, `msgId` being the producer's unique id.
pub async fn trace(
    State(st): State<AppState>,
    msg_id: Result<Path<String>, PathRejection>,
) -> ApiResult<Trace> {
    let msg_id = path_arg(msg_id, "message id")?;
    check_msg_id(&msg_id)?;
    st.within(async {
        let now = rmq_client::util::now_ms();
        let found = match st
            .admin
            .query_message(RMQ_SYS_TRACE_TOPIC, &msg_id, 64, 0, now, false)
            .await
        {
            Ok(m) => m,
            // No client ever traced anything (no trace topic), or nothing about this id.
            Err(e) if absent(&e) || e.code() == Some(response::NO_MESSAGE) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let mut events = Vec::new();
        for m in found {
            let body = String::from_utf8_lossy(&m.body);
            let views = views_for(&msg_id, &body).map_err(|e| {
                ApiError::Upstream(format!("trace message {} does not decode: {e}", m.msg_id()))
            })?;
            events.extend(views.into_iter().map(|v| TraceEvent {
                trace_type: v.trace_type.name(),
                group: v.group_name,
                client_host: v.client_host,
                store_host: v.store_host,
                timestamp: v.time_stamp_ms,
                cost_time_ms: v.cost_time_ms,
                status: v.status,
                retry_times: v.retry_times,
            }));
        }
        events.sort_by_key(|e| e.timestamp);
        Ok(Json(Trace { events }))
    })
    .await
}
// ANCHOR_END: trace
