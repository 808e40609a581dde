//! `/api/messages?topic=&key=`, `?topic=&begin=&end=` and `/api/messages/{msgId}[?topic=]`:
//! find messages by their business key or by store time (see `by_time`), or one message by its id, and show headers, properties
//! and body.
//!
//! By key: QUERY_MESSAGE (12) to every broker of the topic; the brokers look the
//! key up in their index files and the result is filtered by the exact key. By
//! id: an offset id names the broker and commit-log offset, so VIEW_MESSAGE_BY_ID
//! (33) reads it directly; a producer's unique id falls back to a unique-key
//! QUERY_MESSAGE (on `topic` if given, else on every topic) — the same lookup as
//! `mqadmin queryMsgById`, which this module calls rather than repeats.
//! Book: Part III "The web console" (Messages page); ids and keys: Part II "Producing".
//! Mirrors rocketmq-console's `MessageServiceImpl.queryMessageByTopicAndKey` and
//! `viewMessage`.

use std::collections::BTreeMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use rmq_admin::commands::query_msg_by_id;
use rmq_admin::message::MessageExt;
use rmq_admin::AdminError;
use serde::{Deserialize, Serialize};

use crate::error::{path_arg, required, ApiError, ApiResult};
use crate::server::AppState;

/// The most messages one key query returns (as `mqadmin queryMsgByKey`).
const MAX_BY_KEY: i32 = 64;
/// The most messages one time-range query returns (the page is not a bulk export).
pub const MAX_BY_TIME: usize = 200;
/// Longer bodies are cut in the JSON (the size is still reported).
const BODY_PREVIEW: usize = 64 * 1024;

/// The query string of the message endpoints.
#[derive(Debug, Default, Deserialize)]
pub struct MessageQuery {
    /// `topic=`: the topic to search (required by key; optional for a unique id).
    pub topic: Option<String>,
    /// `key=`: the message key (`KEYS`) to look up in the index.
    pub key: Option<String>,
    /// `begin=`: with no key, the start of a time range (ms since the epoch).
    pub begin: Option<i64>,
    /// `end=`: with no key, the end of a time range (ms since the epoch; default now).
    pub end: Option<i64>,
}

/// The reply of `/api/messages`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagesView {
    /// The messages found, at most `MAX_BY_KEY`.
    pub messages: Vec<MessageView>,
}

/// One message as the page shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    /// The producer's unique id (UNIQ_KEY) when set, else the offset id.
    pub msg_id: String,
    /// Broker address + commit-log offset, hex encoded.
    pub offset_msg_id: String,
    /// The topic.
    pub topic: String,
    /// The tag (`TAGS`).
    pub tags: Option<String>,
    /// The keys (`KEYS`).
    pub keys: Option<String>,
    /// The queue it is stored in.
    pub queue_id: i32,
    /// Its offset in the consume queue.
    pub queue_offset: i64,
    /// Its offset in the commit log.
    pub commit_log_offset: i64,
    /// When the producer made it, ms since the epoch.
    pub born_timestamp: i64,
    /// When the broker stored it, ms since the epoch.
    pub store_timestamp: i64,
    /// The producer's address.
    pub born_host: String,
    /// The broker's address.
    pub store_host: String,
    /// How often it was consumed before (retries).
    pub reconsume_times: i32,
    /// Every property, sorted by key.
    pub properties: BTreeMap<String, String>,
    /// The body's length in bytes.
    pub body_size: usize,
    /// The body as UTF-8 (invalid bytes replaced), cut at 64 KiB.
    pub body: String,
}

impl From<&MessageExt> for MessageView {
    fn from(m: &MessageExt) -> Self {
        let cut = &m.body[..m.body.len().min(BODY_PREVIEW)];
        MessageView {
            msg_id: m.msg_id(),
            offset_msg_id: m.offset_msg_id(),
            topic: m.topic.clone(),
            tags: m.tags().map(String::from),
            keys: m.keys().map(String::from),
            queue_id: m.queue_id,
            queue_offset: m.queue_offset,
            commit_log_offset: m.commit_log_offset,
            born_timestamp: m.born_timestamp,
            store_timestamp: m.store_timestamp,
            born_host: m.born_host.to_string(),
            store_host: m.store_host.to_string(),
            reconsume_times: m.reconsume_times,
            properties: m.properties.iter().cloned().collect(),
            body_size: m.body.len(),
            body: String::from_utf8_lossy(cut).into_owned(),
        }
    }
}

/// `GET /api/messages?topic=&key=` (by key) or `?topic=&begin=&end=` (by time).
pub async fn search(st: State<AppState>, Query(q): Query<MessageQuery>) -> ApiResult<MessagesView> {
    let has_key = q.key.as_deref().is_some_and(|k| !k.trim().is_empty());
    if !has_key && (q.begin.is_some() || q.end.is_some()) {
        let topic = required(q.topic, "topic")?;
        let end = q.end.unwrap_or_else(crate::cluster::now_millis);
        crate::by_time::by_time(st, topic, q.begin.unwrap_or(0), end).await
    } else {
        by_key(st, q).await
    }
}

// ANCHOR: by_key
/// `GET /api/messages?topic=&key=`: the messages whose keys include `key` (`queryMsgByKey`).
pub async fn by_key(State(st): State<AppState>, q: MessageQuery) -> ApiResult<MessagesView> {
    let topic = required(q.topic, "topic")?;
    let key = required(q.key, "key")?;
    st.within(async {
        let found = st
            .admin
            .query_message(&topic, &key, MAX_BY_KEY, 0, i64::MAX, false)
            .await?;
        Ok(Json(MessagesView {
            messages: found.iter().map(MessageView::from).collect(),
        }))
    })
    .await
}
// ANCHOR_END: by_key

// ANCHOR: check_msg_id
/// Message ids are hex: 32 digits for a unique id or an IPv4 offset id, 40 for
/// an IPv6 offset id. Anything else is refused before asking the cluster.
pub fn check_msg_id(id: &str) -> Result<(), ApiError> {
    let hex = id.bytes().all(|b| b.is_ascii_hexdigit());
    if hex && (id.len() == 32 || id.len() == 40) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "{id:?} is not a message id (32 or 40 hex digits)"
        )))
    }
}
// ANCHOR_END: check_msg_id

/// `GET /api/messages/{msg_id}`: one message by offset id or unique id (`queryMsgById`).
pub async fn by_id(
    State(st): State<AppState>,
    msg_id: Result<Path<String>, PathRejection>,
    Query(q): Query<MessageQuery>,
) -> ApiResult<MessageView> {
    let msg_id = path_arg(msg_id, "message id")?;
    check_msg_id(&msg_id)?;
    st.within(async {
        let m = find(&st, &msg_id, q.topic).await?;
        Ok(Json(MessageView::from(&m)))
    })
    .await
}

/// One message by offset id or unique id (on `topic` when given), as `queryMsgById` finds it.
pub async fn find(
    st: &AppState,
    msg_id: &str,
    topic: Option<String>,
) -> Result<MessageExt, ApiError> {
    let topic = topic.filter(|t| !t.trim().is_empty());
    query_msg_by_id::view_message(&st.admin, msg_id, topic.as_deref())
        .await
        .map_err(|e| match e.downcast::<AdminError>() {
            Ok(admin) => ApiError::from(admin),
            Err(other) => ApiError::Upstream(other.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_checked() {
        assert!(check_msg_id("7F0000010000000000000000000000AB").is_ok());
        assert!(check_msg_id(&"a".repeat(40)).is_ok());
        assert!(check_msg_id("not-an-id").is_err());
        assert!(check_msg_id(&"g".repeat(32)).is_err());
        assert!(check_msg_id("").is_err());
    }

    #[test]
    fn required_params() {
        assert_eq!(required(Some(" T ".into()), "topic").unwrap(), "T");
        assert!(required(Some("  ".into()), "topic").is_err());
        assert!(required(None, "key").is_err());
    }
}
