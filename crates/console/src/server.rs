//! The HTTP side: shared state, the router that maps each URL to a page module,
//! the static page, and the per-request deadline.
//!
//! The console is stateless: `AppState` only holds the admin client (a pool of
//! remoting connections) and the deadline. Every handler runs inside
//! [`AppState::within`], so a cluster that stops answering yields a 504 JSON error
//! instead of a browser spinning forever.
//! Book: Part III "The web console" (code tour: the router).
//! Mirrors rocketmq-console's controllers (`ClusterController`, `TopicController`,
//! `ConsumerController`, `MessageController`) and its `index.html` single-page app.

use std::future::Future;
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::Router;
use futures::stream::{self, StreamExt};
use rmq_admin::AdminClient;
use rmq_client::acl::Credentials;

use crate::auth::{require_login, Login};
use crate::error::ApiError;
use crate::{
    brokers, cluster, consumers, dashboard, dledger, dlq, groups, messages, offsets, ops,
    producers, resend, storage, topic_admin, topics, trace, tracks,
};

/// How many per-topic or per-group lookups a list page runs at once.
pub const PARALLEL: usize = 8;

/// The page, compiled into the binary: no files to install, no CDN to reach.
pub const INDEX_HTML: &str = include_str!("../assets/index.html");

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The admin client every handler asks the cluster through.
    pub admin: AdminClient,
    /// The name server list (`a:p;b:p`), for the short-lived producers and pull
    /// consumers of the write actions and time-range queries.
    pub namesrv: String,
    /// The most a whole API request may take (it may make many remoting calls).
    pub deadline: Duration,
    /// The TPS history the dashboard draws, sampled in the background.
    pub dashboard: dashboard::Dashboard,
    /// ACL credentials that sign every request (the admin client's, and those of the
    /// short-lived producers and pull consumers), when the brokers run with ACL.
    pub credentials: Option<Credentials>,
}

impl AppState {
    /// `namesrv` is the `-n` list ("a:p;b:p"); `timeout` bounds each remoting call;
    /// the dashboard samples the cluster every `sample_every`; `credentials` sign every
    /// request when the brokers run with ACL (4.8.0's `AclClientRPCHook`).
    pub async fn new(
        namesrv: &str,
        timeout: Duration,
        sample_every: Duration,
        credentials: Option<Credentials>,
    ) -> Result<Self, ApiError> {
        let admin = AdminClient::start_with_credentials(namesrv, timeout, credentials.clone())
            .await
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        // GET_CONSUME_STATS is given three timeouts (as in 4.8.0); leave room for it.
        let deadline = timeout * 3 + Duration::from_secs(1);
        Ok(AppState {
            dashboard: dashboard::Dashboard::start(admin.clone(), sample_every),
            credentials,
            admin,
            namesrv: namesrv.to_string(),
            deadline,
        })
    }

    // ANCHOR: within
    /// Runs one handler's work under the request deadline.
    pub async fn within<T>(
        &self,
        work: impl Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        match tokio::time::timeout(self.deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(ApiError::Deadline(self.deadline)),
        }
    }
    // ANCHOR_END: within
}

// ANCHOR: router
/// Every URL the console answers. With a `login`, each of them asks for it first.
pub fn router(state: AppState, login: Option<Login>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/favicon.ico", get(no_icon))
        .route("/api/cluster", get(cluster::get_cluster))
        .route("/api/dashboard", get(dashboard::dashboard))
        .route("/api/brokers/{addr}", get(brokers::broker_detail))
        .route("/api/brokers/{addr}/storage", get(storage::storage))
        .route("/api/dledger", get(dledger::dledger))
        .route("/api/ops", get(ops::ops))
        .route(
            "/api/topics",
            get(topics::list_topics).post(topic_admin::create_topic),
        )
        .route(
            "/api/topics/{topic}",
            axum::routing::delete(topic_admin::delete_topic),
        )
        .route("/api/topics/{topic}/route", get(topics::topic_route))
        .route(
            "/api/topics/{topic}/consumers",
            get(topics::topic_consumers),
        )
        .route(
            "/api/topics/{topic}/messages",
            post(topic_admin::send_message),
        )
        .route(
            "/api/consumers",
            get(consumers::list_groups).post(groups::create_group),
        )
        .route(
            "/api/consumers/{group}",
            get(consumers::group_detail).delete(groups::delete_group),
        )
        .route("/api/consumers/{group}/config", get(groups::group_config))
        .route("/api/consumers/{group}/reset", post(offsets::reset_offset))
        .route("/api/producers", get(producers::producer_connections))
        .route("/api/messages", get(messages::search))
        .route("/api/messages/{msg_id}", get(messages::by_id))
        .route("/api/messages/{msg_id}/tracks", get(tracks::tracks))
        .route("/api/messages/{msg_id}/resend", post(resend::resend))
        .route("/api/messages/{msg_id}/trace", get(trace::trace))
        .route("/api/dlq/{group}/readable", post(dlq::make_readable))
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(login, require_login))
}
// ANCHOR_END: router

// ANCHOR: fan_out
/// Runs one lookup per item, [`PARALLEL`] at a time, and returns the results in
/// the items' order: a big cluster is neither asked serially (slow) nor all at
/// once (a burst of connections on every click).
pub async fn fan_out<F: Future>(work: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    stream::iter(work).buffered(PARALLEL).collect().await
}
// ANCHOR_END: fan_out

async fn index() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-cache")], Html(INDEX_HTML))
}

/// The page declares an inline icon; this answers browsers that ask anyway, so no
/// 404 lands in their console.
async fn no_icon() -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!("no such page: {}", uri.path()))
}
