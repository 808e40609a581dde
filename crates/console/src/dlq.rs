//! `POST /api/dlq/{group}/readable`: lets the DLQ page read a group's dead letters.
//!
//! A message that fails more than its group's retries goes to the topic
//! `%DLQ%<group>`. A 4.8.0 broker creates that topic write-only (perm 2), so no
//! consumer, not even the console's time-range search, can pull from it. This action
//! sets the topic's perm to 6 (read and write) on every broker that holds it, with
//! UPDATE_AND_CREATE_TOPIC (17) and the queue numbers it already has, which is what an
//! operator does with `mqadmin updateTopicPerm -p 6` before reading dead letters. The
//! DLQ page itself is the Messages page's time-range search on `%DLQ%<group>`; its
//! resend is `resend`.
//! Book: Part III "The web console" (DLQ page).
//! Mirrors rocketmq-console's `DlqMessageController` and 4.8.0's
//! `UpdateTopicPermSubCommand`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use rmq_admin::admin_client::DLQ_GROUP_TOPIC_PREFIX;
use rmq_remoting::protocol::TopicConfig;

use crate::error::{path_arg, ApiError, ApiResult};
use crate::server::AppState;
use crate::topic_admin::Done;

/// Read and write (`PermName.PERM_READ | PERM_WRITE`).
const PERM_READ_WRITE: i32 = 6;

// ANCHOR: readable
/// `POST /api/dlq/{group}/readable`: perm 6 for `%DLQ%<group>` on every broker of its route.
pub async fn make_readable(
    State(st): State<AppState>,
    group: Result<Path<String>, PathRejection>,
) -> ApiResult<Done> {
    let topic = format!("{DLQ_GROUP_TOPIC_PREFIX}{}", path_arg(group, "group name")?);
    st.within(async {
        let route = st.admin.examine_topic_route_info(&topic).await?;
        let mut brokers = Vec::new();
        for q in &route.queue_datas {
            let bd = route
                .broker_datas
                .iter()
                .find(|b| b.broker_name == q.broker_name);
            let Some(addr) = bd.and_then(|b| b.master_addr()) else {
                return Err(ApiError::Upstream(format!(
                    "{}: no master registered to update {topic} on",
                    q.broker_name
                )));
            };
            let mut tc = TopicConfig::new(topic.clone());
            tc.read_queue_nums = q.read_queue_nums;
            tc.write_queue_nums = q.write_queue_nums;
            tc.perm = PERM_READ_WRITE;
            tc.topic_sys_flag = q.topic_syn_flag;
            st.admin.create_and_update_topic_config(addr, &tc).await?;
            brokers.push(addr.to_string());
        }
        Ok(Json(Done { topic, brokers }))
    })
    .await
}
// ANCHOR_END: readable
