//! `POST /api/messages/{msgId}/resend`: have one consumer of a group consume one stored
//! message again, now, and report how it went.
//!
//! This is CONSUME_MESSAGE_DIRECTLY (309). The console sends it to the broker that
//! stores the message (the message id holds that broker's address); the broker adds
//! the stored record and relays the request to the client, whose listener runs on that
//! one message and answers a `ConsumeMessageDirectlyResult` (`CR_SUCCESS`, `CR_LATER`,
//! ...). The group's offsets do not move, and nothing is written: the message is not
//! sent again, it is handed to the listener. This is how the Message and DLQ pages
//! "resend" a message, and what `mqadmin queryMsgById -g GROUP -d CLIENT` does. With
//! no client named, the group's first online client gets it.
//! Book: Part III "The web console" (Message page, DLQ page).
//! Mirrors rocketmq-console's `MessageController.consumeMessageDirectly` and
//! `DlqMessageController.resendDlqMessage` (`DefaultMQAdminExtImpl.consumeMessageDirectly`).

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::Json;
use rmq_remoting::codes::{request, response};
use rmq_remoting::protocol::header::ConsumeMessageDirectlyResultRequestHeader;
use rmq_remoting::protocol::{decode_body, ConsumeMessageDirectlyResult};
use rmq_remoting::RemotingCommand;
use serde::{Deserialize, Serialize};

use crate::consumers::absent;
use crate::error::{json_body, path_arg, ApiError, ApiResult};
use crate::messages::{check_msg_id, find};
use crate::server::AppState;

/// The body of `POST /api/messages/{msgId}/resend`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResendForm {
    /// The consumer group whose client consumes the message.
    pub group: String,
    /// The client to hand it to (default: the group's first online client).
    pub client_id: Option<String>,
    /// The message's topic, needed when `msgId` is a unique id.
    pub topic: Option<String>,
}

/// What the consumer answered.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resent {
    /// The client that consumed it.
    pub client_id: String,
    /// `CR_SUCCESS`, `CR_LATER`, `CR_ROLLBACK`, `CR_COMMIT`, `CR_THROW_EXCEPTION` or `CR_RETURN_NULL`.
    pub consume_result: Option<String>,
    /// The consumer's remark (an exception, for instance).
    pub remark: Option<String>,
    /// Time the listener took, ms.
    pub spent_time_ms: i64,
    /// The consumer is orderly.
    pub order: bool,
}

// ANCHOR: resend
/// `POST /api/messages/{msgId}/resend`.
pub async fn resend(
    State(st): State<AppState>,
    msg_id: Result<Path<String>, PathRejection>,
    form: Result<Json<ResendForm>, JsonRejection>,
) -> ApiResult<Resent> {
    let msg_id = path_arg(msg_id, "message id")?;
    check_msg_id(&msg_id)?;
    let form = json_body(form)?;
    let group = form.group.trim().to_string();
    if group.is_empty() {
        return Err(ApiError::BadRequest("name the consumer group".into()));
    }
    st.within(async {
        let m = find(&st, &msg_id, form.topic).await?;
        let client_id = match form.client_id.filter(|c| !c.trim().is_empty()) {
            Some(c) => c.trim().to_string(),
            None => match st.admin.examine_consumer_connection_info(&group).await {
                Ok(c) => c
                    .connection_set
                    .iter()
                    .map(|c| c.client_id.clone())
                    .min()
                    .ok_or_else(|| no_client(&group))?,
                Err(e) if absent(&e) => return Err(no_client(&group)),
                Err(e) => return Err(e.into()),
            },
        };
        let cmd = RemotingCommand::new_request(request::CONSUME_MESSAGE_DIRECTLY).with_header(
            &ConsumeMessageDirectlyResultRequestHeader {
                consumer_group: group.clone(),
                client_id: Some(client_id.clone()),
                msg_id: Some(m.offset_msg_id()),
                broker_name: None,
            },
        );
        // The broker waits on the consumer's listener: give it twice the usual timeout
        // (4.8.0 gives three; the console's request deadline is three plus a second).
        let addr = m.store_host.to_string();
        let resp = st.admin.invoke(&addr, cmd, st.admin.timeout() * 2).await?;
        if resp.code != response::SUCCESS {
            return Err(ApiError::Upstream(format!(
                "{addr} answered code {}: {}",
                resp.code,
                resp.remark.unwrap_or_default()
            )));
        }
        let r: ConsumeMessageDirectlyResult = decode_body(resp.body_bytes())
            .map_err(|e| ApiError::Upstream(format!("bad ConsumeMessageDirectlyResult: {e}")))?;
        Ok(Json(Resent {
            client_id,
            consume_result: r
                .consume_result
                .and_then(|c| serde_json::to_value(c).ok())
                .and_then(|v| v.as_str().map(str::to_string)),
            remark: r.remark,
            spent_time_ms: r.spent_time_mills,
            order: r.order,
        }))
    })
    .await
}
// ANCHOR_END: resend

fn no_client(group: &str) -> ApiError {
    ApiError::NotFound(format!(
        "consumer group {group} has no client online to consume the message"
    ))
}
