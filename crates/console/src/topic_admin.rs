//! The Topic page's write actions: create or update a topic, delete it, send it a
//! test message.
//!
//! Create/update sends UPDATE_AND_CREATE_TOPIC (17) to every master of a cluster,
//! as `mqadmin updateTopic -c` does; the brokers then announce the topic to the name
//! servers. Delete sends DELETE_TOPIC_IN_BROKER (215) to every broker of the
//! clusters that hold the topic, then DELETE_TOPIC_IN_NAMESRV (216) to every name
//! server, as `mqadmin deleteTopic -c` does. A test message goes through an
//! rmq-client producer, as `mqadmin sendMessage` does.
//! Book: Part III "The web console" (Topic page, write actions).
//! Mirrors rocketmq-console's `TopicController.createOrUpdate`, `deleteTopic` and
//! `sendTopicMessage` (`TopicServiceImpl`).

use std::collections::BTreeSet;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::Json;
use rmq_client::producer::validate::check_topic;
use rmq_client::{Message, Producer, ProducerConfig};
use rmq_remoting::protocol::TopicConfig;
use serde::{Deserialize, Serialize};

use crate::error::{json_body, path_arg, ApiError, ApiResult};
use crate::server::AppState;

/// The producer group of the console's test messages (rocketmq-console's is
/// `SELF_TEST_P_GROUP`).
pub const SEND_GROUP: &str = "CONSOLE_SEND_GROUP";

/// The body of `POST /api/topics`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicForm {
    /// The topic to create or update.
    pub topic: String,
    /// The cluster whose masters get it (default: the only cluster, if there is one).
    pub cluster: Option<String>,
    /// Write queues per broker (default 8, as `updateTopic`).
    pub write_queue_nums: Option<i32>,
    /// Read queues per broker (default 8).
    pub read_queue_nums: Option<i32>,
    /// 2 = write only, 4 = read only, 6 = read and write (default 6).
    pub perm: Option<i32>,
}

/// What a write action did, for the page to show.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Done {
    /// The topic acted on.
    pub topic: String,
    /// The brokers that took the change.
    pub brokers: Vec<String>,
}

fn checked_topic(topic: &str) -> Result<String, ApiError> {
    let topic = topic.trim();
    check_topic(topic).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(topic.to_string())
}

/// The cluster named in the form, or the only one there is.
pub(crate) async fn cluster_of(st: &AppState, asked: Option<String>) -> Result<String, ApiError> {
    if let Some(c) = asked
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
    {
        return Ok(c);
    }
    let info = st.admin.examine_broker_cluster_info().await?;
    let mut names = info.cluster_addr_table.into_keys();
    match (names.next(), names.next()) {
        (Some(only), None) => Ok(only),
        (None, _) => Err(ApiError::NotFound(
            "no cluster is registered with the name servers".into(),
        )),
        _ => Err(ApiError::BadRequest(
            "there are several clusters: say which one (`cluster`)".into(),
        )),
    }
}

// ANCHOR: create_topic
/// `POST /api/topics`: creates or updates a topic on every master of a cluster.
pub async fn create_topic(
    State(st): State<AppState>,
    form: Result<Json<TopicForm>, JsonRejection>,
) -> ApiResult<Done> {
    let form = json_body(form)?;
    let mut tc = TopicConfig::new(checked_topic(&form.topic)?);
    tc.write_queue_nums = form.write_queue_nums.unwrap_or(8);
    tc.read_queue_nums = form.read_queue_nums.unwrap_or(8);
    tc.perm = form.perm.unwrap_or(6);
    if !(1..=1024).contains(&tc.write_queue_nums) || !(1..=1024).contains(&tc.read_queue_nums) {
        return Err(ApiError::BadRequest(
            "queue numbers must be between 1 and 1024".into(),
        ));
    }
    if ![2, 4, 6].contains(&tc.perm) {
        return Err(ApiError::BadRequest(
            "perm must be 2 (write), 4 (read) or 6 (read and write)".into(),
        ));
    }
    st.within(async {
        let cluster = cluster_of(&st, form.cluster).await?;
        let masters = st
            .admin
            .master_addrs_of_cluster(&cluster)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no cluster named {cluster}")))?;
        for addr in &masters {
            st.admin.create_and_update_topic_config(addr, &tc).await?;
        }
        Ok(Json(Done {
            topic: tc.topic_name,
            brokers: masters.into_iter().collect(),
        }))
    })
    .await
}
// ANCHOR_END: create_topic

/// `DELETE /api/topics/{topic}`: deletes the topic from every broker of the
/// clusters that hold it, then from every name server.
pub async fn delete_topic(
    State(st): State<AppState>,
    topic: Result<Path<String>, PathRejection>,
) -> ApiResult<Done> {
    let topic = path_arg(topic, "topic name")?;
    st.within(async {
        let brokers = remove_topic(&st, &topic).await?;
        Ok(Json(Done { topic, brokers }))
    })
    .await
}

/// Deletes `topic` from every broker of the clusters in its route and from every name
/// server (`mqadmin deleteTopic -c`); returns the brokers. A topic without a route is
/// `NotFound`.
pub(crate) async fn remove_topic(st: &AppState, topic: &str) -> Result<Vec<String>, ApiError> {
    let route = st.admin.examine_topic_route_info(topic).await?;
    let clusters: BTreeSet<String> = route
        .broker_datas
        .iter()
        .map(|b| b.cluster.clone())
        .collect();
    let mut brokers = Vec::new();
    for cluster in &clusters {
        for addr in st
            .admin
            .all_addrs_of_cluster(cluster)
            .await?
            .unwrap_or_default()
        {
            st.admin.delete_topic_in_broker(&addr, topic).await?;
            brokers.push(addr);
        }
    }
    for ns in st.admin.namesrv_addrs() {
        st.admin.delete_topic_in_namesrv(ns, topic).await?;
    }
    Ok(brokers)
}

/// The body of `POST /api/topics/{topic}/messages`.
#[derive(Debug, Deserialize)]
pub struct SendForm {
    /// The message's keys (space separated), if any.
    pub key: Option<String>,
    /// Its tag, if any.
    pub tags: Option<String>,
    /// Its body (UTF-8 text).
    pub body: String,
}

/// What a send returned (`SendResult`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sent {
    /// `SEND_OK`, or the flush/slave status the broker reported.
    pub send_status: String,
    /// The producer's unique id.
    pub msg_id: String,
    /// The broker's offset id.
    pub offset_msg_id: String,
    /// The queue's broker.
    pub broker_name: String,
    /// The queue.
    pub queue_id: i32,
    /// The message's offset in its queue.
    pub queue_offset: i64,
}

/// `POST /api/topics/{topic}/messages`: sends one message with a short-lived producer.
pub async fn send_message(
    State(st): State<AppState>,
    topic: Result<Path<String>, PathRejection>,
    form: Result<Json<SendForm>, JsonRejection>,
) -> ApiResult<Sent> {
    let topic = checked_topic(&path_arg(topic, "topic name")?)?;
    let form = json_body(form)?;
    if form.body.is_empty() {
        return Err(ApiError::BadRequest("the message body is empty".into()));
    }
    let mut msg = Message::new(topic, form.body.into_bytes());
    if let Some(tags) = form.tags.filter(|t| !t.trim().is_empty()) {
        msg = msg.with_tags(tags.trim());
    }
    if let Some(keys) = form.key.filter(|k| !k.trim().is_empty()) {
        msg = msg.with_keys(keys.trim());
    }
    st.within(async {
        let mut config = ProducerConfig::new(SEND_GROUP, st.namesrv.as_str());
        config.client.credentials = st.credentials.clone();
        config.client.instance_name = Some(format!("console-{}", rmq_client::util::now_ms()));
        let producer = Producer::start(config).await.map_err(upstream)?;
        let sent = producer.send(msg).await;
        producer.shutdown().await;
        let r = sent.map_err(upstream)?;
        Ok(Json(Sent {
            send_status: r.send_status.name().to_string(),
            msg_id: r.msg_id,
            offset_msg_id: r.offset_msg_id,
            broker_name: r.message_queue.broker_name,
            queue_id: r.message_queue.queue_id,
            queue_offset: r.queue_offset,
        }))
    })
    .await
}

fn upstream(e: rmq_client::ClientError) -> ApiError {
    ApiError::from(rmq_admin::AdminError::from(e))
}
