//! `POST /api/consumers/{group}/reset`: moves a group's offsets on one topic to
//! the first message stored at or after a time.
//!
//! With a client of the group online, each broker of the topic gets
//! INVOKE_BROKER_TO_RESET_OFFSET (222) and tells the group's clients to move
//! (RESET_CONSUMER_CLIENT_OFFSET). With none online, the offsets are written
//! directly (the "old" way of `mqadmin resetOffsetByTime`). Both are the admin
//! crate's `reset_offset_by_time` functions; the console only calls them.
//! Book: Part III "The web console" (Consumer page, reset offset) and Part II
//! "Consuming" (offset reset).
//! Mirrors rocketmq-console's `ConsumerController.resetOffset`
//! (`ConsumerServiceImpl.resetOffset`, which calls `resetOffsetByTimestamp`).

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::Json;
use rmq_admin::commands::reset_offset_by_time::{reset_by_timestamp, reset_by_timestamp_old};
use rmq_remoting::codes::response;
use serde::{Deserialize, Serialize};

use crate::error::{json_body, path_arg, ApiError, ApiResult};
use crate::server::AppState;

/// The body of the reset request.
#[derive(Debug, Deserialize)]
pub struct ResetForm {
    /// The topic whose queues move.
    pub topic: String,
    /// Ms since the epoch; 0 means the oldest message, -1 the end of each queue.
    pub timestamp: i64,
}

/// The reply: where each queue now stands.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetDone {
    /// "online" (the clients moved) or "offline" (offsets written directly).
    pub method: &'static str,
    /// One row per queue.
    pub queues: Vec<ResetQueue>,
}

/// One queue's new offset.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetQueue {
    /// The queue's broker.
    pub broker_name: String,
    /// The queue.
    pub queue_id: i32,
    /// The group's offset on it now.
    pub offset: i64,
}

// ANCHOR: reset_offset
/// `POST /api/consumers/{group}/reset`: the online way first, the offline way when
/// no client of the group is connected (as `mqadmin resetOffsetByTime` does).
pub async fn reset_offset(
    State(st): State<AppState>,
    group: Result<Path<String>, PathRejection>,
    form: Result<Json<ResetForm>, JsonRejection>,
) -> ApiResult<ResetDone> {
    let group = path_arg(group, "group name")?;
    let form = json_body(form)?;
    let topic = form.topic.trim().to_string();
    if topic.is_empty() {
        return Err(ApiError::BadRequest("the topic is required".into()));
    }
    st.within(async {
        match reset_by_timestamp(&st.admin, &topic, &group, form.timestamp, true, false).await {
            Ok(table) => Ok(Json(ResetDone {
                method: "online",
                queues: table
                    .into_iter()
                    .map(|(mq, offset)| ResetQueue {
                        broker_name: mq.broker_name,
                        queue_id: mq.queue_id,
                        offset,
                    })
                    .collect(),
            })),
            Err(e) if e.code() == Some(response::CONSUMER_NOT_ONLINE) => {
                let rows =
                    reset_by_timestamp_old(&st.admin, &group, &topic, form.timestamp, true).await?;
                Ok(Json(ResetDone {
                    method: "offline",
                    queues: rows
                        .into_iter()
                        .map(|r| ResetQueue {
                            broker_name: r.broker_name,
                            queue_id: r.queue_id,
                            offset: r.rollback_offset,
                        })
                        .collect(),
                }))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}
// ANCHOR_END: reset_offset
