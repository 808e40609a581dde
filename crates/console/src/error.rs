//! The console's API error: a typed error that becomes `{"error": "..."}` with a
//! 4xx/5xx status, so the page (and tests) always get JSON back, never a panic or a
//! hang.
//!
//! The status tells *whose* fault it is: 400 for a bad request, 404 when the cluster
//! answered "no such topic / message / group", 502 when a name server or broker
//! could not be reached or answered with an unexpected error, 504 when the whole
//! request ran past its deadline.
//! Book: Part III "The web console" (API table).
//! Mirrors rocketmq-console's `GlobalExceptionHandler` / `JsonResult` (status plus message).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rmq_admin::AdminError;
use rmq_remoting::codes::response;

// ANCHOR: api_error
/// Everything an API handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request itself is wrong (missing parameter, malformed id).
    #[error("{0}")]
    BadRequest(String),
    /// The cluster answered, and the thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A name server or broker failed: unreachable, timed out or refused.
    #[error("{0}")]
    Upstream(String),
    /// The request as a whole took longer than the console's deadline.
    #[error("the cluster did not answer within {0:?}")]
    Deadline(std::time::Duration),
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e.code() {
            Some(response::TOPIC_NOT_EXIST)
            | Some(response::NO_MESSAGE)
            | Some(response::CONSUMER_NOT_ONLINE)
            | Some(response::SUBSCRIPTION_GROUP_NOT_EXIST) => ApiError::NotFound(e.to_string()),
            _ => match e {
                AdminError::Remoting(r) => ApiError::Upstream(format!("cluster unreachable: {r}")),
                other => ApiError::Upstream(other.to_string()),
            },
        }
    }
}

impl ApiError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::Deadline(_) => StatusCode::GATEWAY_TIMEOUT,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.to_string() });
        (self.status(), Json(body)).into_response()
    }
}
// ANCHOR_END: api_error

/// What a handler returns: a JSON body, or an error that becomes `{"error": ...}`.
pub type ApiResult<T> = Result<Json<T>, ApiError>;

/// A path segment (topic, group, message id), trimmed and non-empty. Taking the
/// extractor's `Result` keeps even a badly encoded URL on the JSON error path.
pub fn path_arg(
    arg: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
    what: &str,
) -> Result<String, ApiError> {
    let axum::extract::Path(v) =
        arg.map_err(|e| ApiError::BadRequest(format!("bad {what}: {e}")))?;
    let v = v.trim();
    if v.is_empty() {
        return Err(ApiError::BadRequest(format!("empty {what}")));
    }
    Ok(v.to_string())
}

/// A path segment that must be a broker address (`ip:port`).
pub fn broker_addr_arg(
    arg: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<String, ApiError> {
    let addr = path_arg(arg, "broker address")?;
    if addr.parse::<std::net::SocketAddr>().is_err() {
        return Err(ApiError::BadRequest(format!(
            "{addr:?} is not a broker address (ip:port)"
        )));
    }
    Ok(addr)
}

/// A JSON request body, with a malformed one answered as a 400 JSON error.
pub fn json_body<T>(
    body: Result<Json<T>, axum::extract::rejection::JsonRejection>,
) -> Result<T, ApiError> {
    body.map(|Json(v)| v)
        .map_err(|e| ApiError::BadRequest(format!("bad request body: {}", e.body_text())))
}

/// A required, non-empty query parameter.
pub fn required(v: Option<String>, name: &str) -> Result<String, ApiError> {
    v.map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::BadRequest(format!("the query parameter `{name}` is required")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_codes_map_to_statuses() {
        let nf = ApiError::from(AdminError::Client {
            code: response::NO_MESSAGE,
            desc: "query message by key finished, but no message.".into(),
        });
        assert_eq!(nf.status(), StatusCode::NOT_FOUND);
        let topic = ApiError::from(AdminError::Server {
            code: response::TOPIC_NOT_EXIST,
            remark: "No topic route info in name server for the topic: X".into(),
            addr: None,
        });
        assert_eq!(topic.status(), StatusCode::NOT_FOUND);
        let other = ApiError::from(AdminError::Server {
            code: 1,
            remark: "boom".into(),
            addr: Some("127.0.0.1:10911".into()),
        });
        assert_eq!(other.status(), StatusCode::BAD_GATEWAY);
        let down = ApiError::from(AdminError::Remoting(
            rmq_remoting::RemotingError::ConnectionClosed("127.0.0.1:9876".into()),
        ));
        assert_eq!(down.status(), StatusCode::BAD_GATEWAY);
        assert!(
            down.to_string().starts_with("cluster unreachable"),
            "{down}"
        );
    }
}
