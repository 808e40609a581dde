//! `/api/messages?topic=&begin=&end=`: the messages a topic stored in a time range.
//!
//! There is no time index across a topic, only per queue: for every readable queue
//! of the route, SEARCH_OFFSET_BY_TIMESTAMP (29) finds the first offset at or after
//! `begin`, and PULL_MESSAGE (11) reads on until a message stored after `end`
//! (a queue holds its messages in store order) or the queue's end (GET_MAX_OFFSET). The pulls go through an rmq-client pull consumer of group `TOOLS_CONSUMER`
//! that commits no offset, as `mqadmin consumeMessage -s -e` does. At most
//! [`MAX_BY_TIME`] messages come back, newest queues' order kept.
//! Book: Part III "The web console" (Messages page); the consume queue's time
//! search: Part IV "The consume queue".
//! Mirrors rocketmq-console's `MessageServiceImpl.queryMessageByTopic`.

use axum::extract::State;
use axum::Json;
use rmq_admin::commands::consume_message::TOOLS_CONSUMER_GROUP;
use rmq_client::api::PullStatus;
use rmq_client::consumer::PullConsumer;
use rmq_client::{ClientConfig, MessageQueue};

use crate::error::{ApiError, ApiResult};
use crate::messages::{MessageView, MessagesView, MAX_BY_TIME};
use crate::server::AppState;

/// Read permission bit of a queue's `perm` (`PermName.PERM_READ`).
const PERM_READ: i32 = 4;

// ANCHOR: by_time
/// The messages of `topic` stored in `[begin, end]` (ms), at most [`MAX_BY_TIME`].
pub async fn by_time(
    State(st): State<AppState>,
    topic: String,
    begin: i64,
    end: i64,
) -> ApiResult<MessagesView> {
    if begin > end {
        return Err(ApiError::BadRequest(format!(
            "the range is empty: begin {begin} is after end {end}"
        )));
    }
    st.within(async {
        let route = st.admin.examine_topic_route_info(&topic).await?;
        let queues: Vec<MessageQueue> = route
            .queue_datas
            .iter()
            .filter(|q| q.perm & PERM_READ != 0)
            .flat_map(|q| {
                (0..q.read_queue_nums).map(|queue_id| MessageQueue {
                    topic: topic.clone(),
                    broker_name: q.broker_name.clone(),
                    queue_id,
                })
            })
            .collect();
        if queues.is_empty() {
            if let Some(q) = route.queue_datas.first() {
                // 4.8.0 creates a %DLQ% topic write-only: say so rather than show an empty table.
                return Err(ApiError::BadRequest(format!(
                    "topic {topic} has no readable queue (perm {}, write only): make it readable (perm 6) to browse it",
                    q.perm
                )));
            }
        }
        let mut config = ClientConfig::new(st.namesrv.as_str());
        config.credentials = st.credentials.clone();
        config.instance_name = Some(format!("console-{}", rmq_client::util::now_ms()));
        let consumer = PullConsumer::start(TOOLS_CONSUMER_GROUP, config)
            .await
            .map_err(|e| ApiError::from(rmq_admin::AdminError::from(e)))?;
        let found = read_range(&consumer, &queues, begin, end).await;
        consumer.shutdown().await;
        let mut messages = found.map_err(|e| ApiError::from(rmq_admin::AdminError::from(e)))?;
        messages.sort_by_key(|m| std::cmp::Reverse(m.store_timestamp));
        Ok(Json(MessagesView { messages }))
    })
    .await
}

/// Pulls every queue between the offsets of `begin` and `end`, stopping at the cap.
async fn read_range(
    consumer: &PullConsumer,
    queues: &[MessageQueue],
    begin: i64,
    end: i64,
) -> rmq_client::Result<Vec<MessageView>> {
    let mut out = Vec::new();
    for mq in queues {
        let mut offset = consumer.search_offset(mq, begin).await?;
        let max = consumer.max_offset(mq).await?;
        // A queue's messages are stored in time order: stop at the first one past `end`.
        let mut past_end = false;
        while offset < max && !past_end && out.len() < MAX_BY_TIME {
            let want = (max - offset).min(32) as i32;
            let r = consumer.pull(mq, "*", offset, want).await?;
            if r.status != PullStatus::Found || r.next_begin_offset <= offset {
                break;
            }
            offset = r.next_begin_offset;
            past_end = r.msgs.iter().any(|m| m.store_timestamp > end);
            let in_range = r
                .msgs
                .iter()
                .filter(|m| (begin..=end).contains(&m.store_timestamp));
            out.extend(in_range.map(MessageView::from));
        }
        if out.len() >= MAX_BY_TIME {
            out.truncate(MAX_BY_TIME);
            break;
        }
    }
    Ok(out)
}
// ANCHOR_END: by_time
