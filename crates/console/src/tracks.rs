//! `/api/messages/{msgId}/tracks`: for one message, whether each consumer group of
//! its topic has consumed it.
//!
//! The groups come from QUERY_TOPIC_CONSUME_BY_WHO (300). A group with no client
//! online is `NOT_ONLINE`; a pull group (`CONSUME_ACTIVELY`) keeps its own offsets,
//! so it is `PULL`; for a push group, GET_CONSUME_STATS (208) gives its offset on
//! the message's queue: past the message's queue offset means `CONSUMED`, else
//! `NOT_CONSUME_YET`. 4.8.0 also reports `CONSUMED_BUT_FILTERED` when the group's
//! tag subscription excludes the message; this view does not make that distinction.
//! Book: Part III "The web console" (Message page).
//! Mirrors rocketmq-console's `MessageController.viewMessage` track list, which calls
//! `DefaultMQAdminExtImpl.messageTrackDetail`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use futures::future::join_all;
use rmq_remoting::protocol::ConsumeType;
use serde::Serialize;

use crate::consumers::absent;
use crate::error::{path_arg, ApiResult};
use crate::messages::{check_msg_id, find, MessageQuery};
use crate::server::AppState;

/// The reply of `/api/messages/{msgId}/tracks`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tracks {
    /// One row per group that consumes the message's topic.
    pub tracks: Vec<Track>,
}

/// One group's state for the message (`MessageTrack`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Track {
    /// The consumer group.
    pub group: String,
    /// `CONSUMED`, `NOT_CONSUME_YET`, `NOT_ONLINE`, `PULL` or `UNKNOWN`.
    pub track_type: &'static str,
    /// What went wrong, for `UNKNOWN`.
    pub error: Option<String>,
}

/// `GET /api/messages/{msgId}/tracks[?topic=]`.
pub async fn tracks(
    State(st): State<AppState>,
    msg_id: Result<Path<String>, PathRejection>,
    Query(q): Query<MessageQuery>,
) -> ApiResult<Tracks> {
    let msg_id = path_arg(msg_id, "message id")?;
    check_msg_id(&msg_id)?;
    st.within(async {
        let m = find(&st, &msg_id, q.topic).await?;
        let broker = st
            .admin
            .broker_name_by_addr(&m.store_host.to_string())
            .await?;
        let groups = st.admin.query_topic_consume_by_who(&m.topic).await?;
        let rows = join_all(groups.into_iter().map(|group| {
            let (st, m, broker) = (&st, &m, &broker);
            async move {
                let mut t = Track {
                    group,
                    track_type: "UNKNOWN",
                    error: None,
                };
                match st.admin.examine_consumer_connection_info(&t.group).await {
                    Err(e) if absent(&e) => t.track_type = "NOT_ONLINE",
                    Err(e) => t.error = Some(e.to_string()),
                    Ok(c) if c.consume_type == Some(ConsumeType::ConsumeActively) => {
                        t.track_type = "PULL"
                    }
                    Ok(_) => match st.admin.examine_consume_stats(&t.group).await {
                        Ok(stats) => {
                            let offset = stats.offset_table.0.iter().find(|(mq, _)| {
                                mq.topic == m.topic
                                    && mq.queue_id == m.queue_id
                                    && Some(&mq.broker_name) == broker.as_ref()
                            });
                            t.track_type = match offset {
                                Some((_, o)) if o.consumer_offset > m.queue_offset => "CONSUMED",
                                _ => "NOT_CONSUME_YET",
                            };
                        }
                        Err(e) if absent(&e) => t.track_type = "NOT_CONSUME_YET",
                        Err(e) => t.error = Some(e.to_string()),
                    },
                }
                t
            }
        }))
        .await;
        Ok(Json(Tracks { tracks: rows }))
    })
    .await
}
