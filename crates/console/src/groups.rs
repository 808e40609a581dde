//! The Consumer page's write actions and settings: create or update a consumer
//! group's subscription settings, read them back, and delete the group.
//!
//! A group's settings (`SubscriptionGroupConfig`: consume enabled, broadcast allowed,
//! retry queues, retries before the DLQ, ...) live on each master, in
//! `config/subscriptionGroup.json`. Create/update sends UPDATE_AND_CREATE_SUBSCRIPTIONGROUP
//! (200) to every master of a cluster, as `mqadmin updateSubGroup -c` does. The settings
//! are read with GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201) from each master. Delete sends
//! DELETE_SUBSCRIPTIONGROUP (207) to every master of every cluster, then deletes the
//! group's `%RETRY%` and `%DLQ%` topics, as `mqadmin deleteSubGroup -c` does (the
//! brokers keep the group's stored offsets, as 4.8.0's do).
//! Book: Part III "The web console" (Consumer page, write actions).
//! Mirrors rocketmq-console's `ConsumerController.createOrUpdate` and `deleteSubGroup`
//! (`ConsumerServiceImpl`), and 4.8.0's `UpdateSubGroupSubCommand` and
//! `DeleteSubscriptionGroupCommand`.

use std::collections::BTreeMap;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::Json;
use rmq_admin::admin_client::{DLQ_GROUP_TOPIC_PREFIX, RETRY_GROUP_TOPIC_PREFIX};
use rmq_admin::AdminError;
use rmq_remoting::codes::request;
use rmq_remoting::protocol::{fastjson, SubscriptionGroupConfig};
use rmq_remoting::RemotingCommand;
use serde::{Deserialize, Serialize};

use crate::error::{json_body, path_arg, ApiError, ApiResult};
use crate::server::AppState;
use crate::topic_admin::{cluster_of, remove_topic};

/// The groups every 4.8.0 broker creates for itself (`SubscriptionGroupManager.init`):
/// the group list leaves them out.
pub const BUILTIN_GROUPS: &[&str] = &[
    "TOOLS_CONSUMER",
    "FILTERSRV_CONSUMER",
    "SELF_TEST_C_GROUP",
    "CID_ONS-HTTP-PROXY",
    "CID_ONSAPI_PULL",
    "CID_ONSAPI_PERMISSION",
    "CID_ONSAPI_OWNER",
    "CID_RMQ_SYS_TRANS",
];

/// The body of `POST /api/consumers`; a missing setting takes 4.8.0's default.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupForm {
    /// The group to create or update.
    pub group: String,
    /// The cluster whose masters get it (default: the only cluster, if there is one).
    pub cluster: Option<String>,
    /// Consumption allowed at all (default true).
    pub consume_enable: Option<bool>,
    /// Broadcast consumption allowed (default true).
    pub consume_broadcast_enable: Option<bool>,
    /// A new group starts from the min offset (default true).
    pub consume_from_min_enable: Option<bool>,
    /// Queues of the `%RETRY%` topic (default 1).
    pub retry_queue_nums: Option<i32>,
    /// Failed consumptions before the DLQ (default 16).
    pub retry_max_times: Option<i32>,
    /// Preferred broker id to consume from (default 0, the master).
    pub broker_id: Option<i64>,
    /// Broker id suggested to a slow consumer (default 1).
    pub which_broker_when_consume_slowly: Option<i64>,
}

/// What a group write did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDone {
    /// The group acted on.
    pub group: String,
    /// The brokers that took the change.
    pub brokers: Vec<String>,
    /// Topics deleted with the group (`%RETRY%` and `%DLQ%`), for a delete.
    pub topics_deleted: Vec<String>,
}

/// The reply of `GET /api/consumers/{group}/config`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupConfigs {
    /// Master address to the group's settings there (absent: that master has none).
    pub brokers: BTreeMap<String, SubscriptionGroupConfig>,
    /// Masters that could not be asked, with why.
    pub errors: Vec<String>,
}

/// The body of GET_ALL_SUBSCRIPTIONGROUP_CONFIG (`SubscriptionGroupWrapper`); only the table.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Wrapper {
    #[serde(rename = "subscriptionGroupTable")]
    table: BTreeMap<String, SubscriptionGroupConfig>,
}

/// A group name as 4.8.0's `Validators.checkGroup` wants it.
fn checked_group(group: &str) -> Result<String, ApiError> {
    let g = group.trim();
    let ok = !g.is_empty()
        && g.len() <= 255
        && g.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'%' || c == b'|');
    if ok {
        Ok(g.to_string())
    } else {
        Err(ApiError::BadRequest(format!(
            "bad group name {g:?}: 1 to 255 characters of letters, digits, %, |, - and _"
        )))
    }
}

/// Every group's settings on one broker (GET_ALL_SUBSCRIPTIONGROUP_CONFIG, 201).
pub async fn all_group_configs(
    st: &AppState,
    addr: &str,
) -> Result<BTreeMap<String, SubscriptionGroupConfig>, ApiError> {
    let cmd = RemotingCommand::new_request(request::GET_ALL_SUBSCRIPTIONGROUP_CONFIG);
    let resp = st.admin.invoke(addr, cmd, st.admin.timeout()).await?;
    if resp.code != rmq_remoting::codes::response::SUCCESS {
        return Err(server_error(addr, &resp).into());
    }
    let w: Wrapper = fastjson::from_slice(resp.body_bytes())
        .map_err(|e| ApiError::Upstream(format!("{addr}: bad subscription group table: {e}")))?;
    Ok(w.table)
}

fn server_error(addr: &str, resp: &RemotingCommand) -> AdminError {
    AdminError::Server {
        code: resp.code,
        remark: resp.remark.clone().unwrap_or_default(),
        addr: Some(addr.to_string()),
    }
}

/// The master of every broker group the name servers know.
async fn all_masters(st: &AppState) -> Result<Vec<String>, ApiError> {
    let info = st.admin.examine_broker_cluster_info().await?;
    Ok(info
        .broker_addr_table
        .values()
        .filter_map(|bd| bd.master_addr().map(String::from))
        .collect())
}

// ANCHOR: create_group
/// `POST /api/consumers`: creates or updates a group's settings on every master of a cluster.
pub async fn create_group(
    State(st): State<AppState>,
    form: Result<Json<GroupForm>, JsonRejection>,
) -> ApiResult<GroupDone> {
    let form = json_body(form)?;
    let d = SubscriptionGroupConfig::default();
    let config = SubscriptionGroupConfig {
        group_name: checked_group(&form.group)?,
        consume_enable: form.consume_enable.unwrap_or(d.consume_enable),
        consume_broadcast_enable: form
            .consume_broadcast_enable
            .unwrap_or(d.consume_broadcast_enable),
        consume_from_min_enable: form
            .consume_from_min_enable
            .unwrap_or(d.consume_from_min_enable),
        retry_queue_nums: form.retry_queue_nums.unwrap_or(d.retry_queue_nums),
        retry_max_times: form.retry_max_times.unwrap_or(d.retry_max_times),
        broker_id: form.broker_id.unwrap_or(d.broker_id),
        which_broker_when_consume_slowly: form
            .which_broker_when_consume_slowly
            .unwrap_or(d.which_broker_when_consume_slowly),
        ..d
    };
    if !(0..=1024).contains(&config.retry_queue_nums)
        || !(-1..=64).contains(&config.retry_max_times)
    {
        return Err(ApiError::BadRequest(
            "retry queues must be 0 to 1024 and retries -1 to 64".into(),
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
            st.admin
                .create_and_update_subscription_group_config(addr, &config)
                .await?;
        }
        Ok(Json(GroupDone {
            group: config.group_name,
            brokers: masters.into_iter().collect(),
            topics_deleted: Vec::new(),
        }))
    })
    .await
}
// ANCHOR_END: create_group

/// `GET /api/consumers/{group}/config`: the group's settings on each master.
pub async fn group_config(
    State(st): State<AppState>,
    group: Result<Path<String>, PathRejection>,
) -> ApiResult<GroupConfigs> {
    let group = path_arg(group, "group name")?;
    st.within(async {
        let masters = all_masters(&st).await?;
        let mut out = GroupConfigs {
            brokers: BTreeMap::new(),
            errors: Vec::new(),
        };
        for addr in masters {
            match all_group_configs(&st, &addr).await {
                Ok(mut table) => {
                    if let Some(c) = table.remove(&group) {
                        out.brokers.insert(addr, c);
                    }
                }
                Err(e) => out.errors.push(format!("{addr}: {e}")),
            }
        }
        Ok(Json(out))
    })
    .await
}

// ANCHOR: delete_group
/// `DELETE /api/consumers/{group}`: deletes the group on every master, then its
/// `%RETRY%` and `%DLQ%` topics.
pub async fn delete_group(
    State(st): State<AppState>,
    group: Result<Path<String>, PathRejection>,
) -> ApiResult<GroupDone> {
    let group = checked_group(&path_arg(group, "group name")?)?;
    if BUILTIN_GROUPS.contains(&group.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "{group} is a group the broker needs for itself"
        )));
    }
    st.within(async {
        let masters = all_masters(&st).await?;
        for addr in &masters {
            st.admin.delete_subscription_group(addr, &group).await?;
        }
        let mut topics_deleted = Vec::new();
        for prefix in [RETRY_GROUP_TOPIC_PREFIX, DLQ_GROUP_TOPIC_PREFIX] {
            let topic = format!("{prefix}{group}");
            match remove_topic(&st, &topic).await {
                Ok(_) => topics_deleted.push(topic),
                // The group never failed a message (no %RETRY%) or never gave up on one (no %DLQ%).
                Err(ApiError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Json(GroupDone {
            group,
            brokers: masters,
            topics_deleted,
        }))
    })
    .await
}
// ANCHOR_END: delete_group

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_are_checked_as_4_8_0_does() {
        assert_eq!(checked_group(" order_cg ").unwrap(), "order_cg");
        assert!(checked_group("a-b|c%d_1").is_ok());
        assert!(checked_group("").is_err());
        assert!(checked_group("has space").is_err());
        assert!(checked_group(&"g".repeat(256)).is_err());
    }

    #[test]
    fn the_group_table_is_read_leniently() {
        let body = br#"{"subscriptionGroupTable":{"g1":{"groupName":"g1","retryMaxTimes":3,"consumeEnable":true}},"dataVersion":{"counter":2,"timestamp":1}}"#;
        let w: Wrapper = fastjson::from_slice(body).unwrap();
        assert_eq!(w.table["g1"].retry_max_times, 3);
        assert_eq!(w.table["g1"].retry_queue_nums, 1);
    }
}
