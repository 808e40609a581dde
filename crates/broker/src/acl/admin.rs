//! The ACL administration codes, served on a broker (mqadmin's `updateAclConfig`,
//! `deleteAccessConfig`, `updateGlobalWhiteAddr`, `clusterAclConfigVersion` and
//! `getAccessConfigSubCommand` send them):
//!
//! | code | does | refused with |
//! |---|---|---|
//! | 50 UPDATE_AND_CREATE_ACL_CONFIG | replaces the account with that access key (it moves to the end of the list) or appends it | 209 |
//! | 51 DELETE_ACL_CONFIG | removes the account | 210 |
//! | 52 GET_BROKER_CLUSTER_ACL_INFO | the data version, broker name, address, cluster | (no reply) |
//! | 53 UPDATE_GLOBAL_WHITE_ADDRS_CONFIG | replaces `globalWhiteRemoteAddresses` (only if the file has the key) | 211 |
//! | 54 GET_BROKER_CLUSTER_ACL_CONFIG | the white list and every account, secrets included | (no reply) |
//!
//! Codes 50, 51 and 53 read plain_acl.yml from disk, edit it, bump `dataVersion` and write it
//! back; the rules then reload from the file (4.8.0 leaves that to the file watcher, within
//! 500 ms; here it happens before the reply). They need a valid signature but not `admin`,
//! as in 4.8.0. With ACL off, 50/51/53 answer their failure code without a remark and
//! 52/54 do not answer at all, as 4.8.0's null validator makes them.
//! Book: Part II, "Who may do what: ACL". Mirrors the ACL part of `AdminBrokerProcessor`
//! and `PlainPermissionManager.updateAccessConfig` / `deleteAccessConfig` /
//! `updateGlobalWhiteAddrsConfig` / `getAllAclConfig` (4.8.0).

use super::rules::{parse_document, yaml_string, PlainAccessConfig};
use super::AclValidator;
use crate::broker::Broker;
use crate::processor::{Failure, Outcome};
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::encode_body;
use rmq_remoting::protocol::header::{
    CreateAccessConfigRequestHeader, DeleteAccessConfigRequestHeader,
    GetBrokerAclConfigResponseHeader, UpdateGlobalWhiteAddrsConfigRequestHeader,
};
use rmq_remoting::{Connection, RemotingCommand};
use serde::Serialize;
use serde_yaml::{Mapping, Value};
use std::sync::Arc;

/// Whether `code` is one of 50-54.
pub fn handles(code: i32) -> bool {
    matches!(
        code,
        rq::UPDATE_AND_CREATE_ACL_CONFIG
            | rq::DELETE_ACL_CONFIG
            | rq::GET_BROKER_CLUSTER_ACL_INFO
            | rq::UPDATE_GLOBAL_WHITE_ADDRS_CONFIG
            | rq::GET_BROKER_CLUSTER_ACL_CONFIG
    )
}

/// Serves codes 50-54; `None`: no reply (52 and 54 when they fail).
pub async fn process(
    b: &Arc<Broker>,
    ctx: &Arc<Connection>,
    req: RemotingCommand,
) -> Option<Outcome> {
    let acl = b.acl().cloned();
    match req.code {
        rq::UPDATE_AND_CREATE_ACL_CONFIG => Some(update_account(acl, &req).await),
        rq::DELETE_ACL_CONFIG => {
            tracing::info!("DeleteAccessConfig called by {}", ctx.remote_addr());
            Some(delete_account(acl, &req).await)
        }
        rq::UPDATE_GLOBAL_WHITE_ADDRS_CONFIG => Some(update_global_white(acl, &req).await),
        rq::GET_BROKER_CLUSTER_ACL_INFO => {
            let Some(acl) = acl else {
                tracing::error!(peer = %ctx.remote_addr(), "GET_BROKER_CLUSTER_ACL_INFO: ACL is off (aclEnable=false), no reply");
                return None;
            };
            let cfg = b.config();
            let header = GetBrokerAclConfigResponseHeader {
                version: acl.version_json(),
                broker_name: cfg.broker_name.clone(),
                broker_addr: cfg.broker_addr(),
                cluster_name: cfg.broker_cluster_name.clone(),
            };
            Some(Ok(crate::processor::ok().with_header(&header)))
        }
        rq::GET_BROKER_CLUSTER_ACL_CONFIG => {
            let Some(acl) = acl else {
                tracing::error!(peer = %ctx.remote_addr(), "GET_BROKER_CLUSTER_ACL_CONFIG: ACL is off (aclEnable=false), no reply");
                return None;
            };
            match all_config(&acl) {
                Ok(body) => Some(Ok(crate::processor::ok().with_body(body))),
                Err(e) => {
                    tracing::error!(peer = %ctx.remote_addr(), "Failed to generate a proper getBrokerClusterAclConfig response: {e}");
                    None
                }
            }
        }
        _ => None,
    }
}

/// The body of GET_BROKER_CLUSTER_ACL_CONFIG (`GetBrokerClusterAclConfigResponseBody`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AclConfigBody {
    global_white_addrs: Vec<String>,
    plain_access_configs: Vec<PlainAccessConfig>,
}

fn all_config(acl: &AclValidator) -> anyhow::Result<bytes::Bytes> {
    let text = std::fs::read_to_string(acl.path())?;
    let doc = parse_document(&text)?
        .ok_or_else(|| anyhow::anyhow!("{} file is not data", acl.path().display()))?;
    let list = |k: &str| -> Vec<Value> {
        match doc.get(k) {
            Some(Value::Sequence(s)) => s.clone(),
            _ => vec![],
        }
    };
    let body = AclConfigBody {
        global_white_addrs: list("globalWhiteRemoteAddresses")
            .iter()
            .filter_map(yaml_string)
            .collect(),
        plain_access_configs: list("accounts")
            .iter()
            .map(PlainAccessConfig::from_yaml)
            .collect::<Result<_, _>>()?,
    };
    Ok(encode_body(&body)?)
}

/// `UtilAll.string2List(s, ",")`: blank is nothing; Java's `split` drops trailing empties.
fn string_to_list(s: Option<&str>) -> Option<Vec<String>> {
    let s = s.filter(|s| !s.is_empty())?;
    let mut items: Vec<String> = s.split(',').map(str::to_string).collect();
    while items.last().is_some_and(|i| i.is_empty()) {
        items.pop();
    }
    Some(items)
}

/// Why an edit was not made: `Refused` gets the code's fixed text, `Failed` the message
/// (4.8.0: `false` from the manager vs an exception).
enum EditError {
    Refused,
    Failed(Option<String>),
}

impl From<anyhow::Error> for EditError {
    fn from(e: anyhow::Error) -> Self {
        EditError::Failed(Some(e.to_string()))
    }
}

/// Reads the file, lets `edit` change it, bumps `dataVersion`, writes it, reloads.
async fn edit_file(
    acl: Option<Arc<AclValidator>>,
    edit: impl FnOnce(&mut Mapping) -> Result<(), EditError>,
) -> Result<(), EditError> {
    // ACL off: 4.8.0 calls a null validator; the NullPointerException has no message
    let acl = acl.ok_or(EditError::Failed(None))?;
    let _one_at_a_time = acl.write_lock.lock().await;
    let text =
        std::fs::read_to_string(acl.path()).map_err(|e| EditError::Failed(Some(e.to_string())))?;
    let mut doc = parse_document(&text)
        .map_err(|e| EditError::Failed(Some(e.0)))?
        .ok_or(EditError::Failed(None))?;
    edit(&mut doc)?;
    let v = acl.next_version();
    let mut stamp = Mapping::new();
    stamp.insert("counter".into(), Value::from(v.counter));
    stamp.insert("timestamp".into(), Value::from(v.timestamp));
    doc.insert(
        "dataVersion".into(),
        Value::Sequence(vec![Value::Mapping(stamp)]),
    );
    let out = serde_yaml::to_string(&doc).map_err(|e| EditError::Failed(Some(e.to_string())))?;
    std::fs::write(acl.path(), out).map_err(|e| EditError::Failed(Some(e.to_string())))?;
    acl.reload_if_changed();
    Ok(())
}

fn answer(r: Result<(), EditError>, code: i32, refused: String) -> Outcome {
    Ok(match r {
        Ok(()) => crate::processor::ok(),
        Err(EditError::Refused) => {
            tracing::warn!("{refused}");
            RemotingCommand::new_response(code, refused)
        }
        Err(EditError::Failed(m)) => {
            tracing::error!(
                "ACL config change failed: {}",
                m.as_deref().unwrap_or("null")
            );
            RemotingCommand::new_response(code, m)
        }
    })
}

fn accounts_of(doc: &mut Mapping) -> Option<&mut Vec<Value>> {
    match doc.get_mut("accounts") {
        Some(Value::Sequence(s)) => Some(s),
        _ => None,
    }
}

fn key_of(account: &Value) -> Option<String> {
    account.get("accessKey").and_then(yaml_string)
}

// ANCHOR: acl_update_account
async fn update_account(acl: Option<Arc<AclValidator>>, req: &RemotingCommand) -> Outcome {
    let h: CreateAccessConfigRequestHeader = req.decode_header().map_err(Failure::from)?;
    let refused = format!(
        "The accesskey[{}] corresponding to accessConfig has been updated failed.",
        h.access_key
    );
    let r = edit_file(acl, |doc| {
        let accounts = accounts_of(doc).ok_or(EditError::Refused)?;
        let existing = accounts
            .iter()
            .position(|a| key_of(a).as_deref() == Some(h.access_key.as_str()));
        let mut entry = match existing {
            Some(i) => match accounts.remove(i) {
                Value::Mapping(m) => m,
                _ => Mapping::new(),
            },
            None => Mapping::new(),
        };
        merge_account(&mut entry, &h).map_err(|m| EditError::Failed(Some(m)))?;
        accounts.push(Value::Mapping(entry));
        Ok(())
    })
    .await;
    answer(r, rs::UPDATE_AND_CREATE_ACL_CONFIG_FAILED, refused)
}

/// `createAclAccessConfigMap`: checks the keys, then sets what the request carries over
/// what the entry had (fields the request leaves empty keep their old values).
fn merge_account(entry: &mut Mapping, h: &CreateAccessConfigRequestHeader) -> Result<(), String> {
    if h.access_key.chars().count() <= 6 {
        return Err(format!(
            "The accessKey={} cannot be null and length should longer than 6",
            h.access_key
        ));
    }
    entry.insert("accessKey".into(), h.access_key.clone().into());
    if let Some(sk) = h.secret_key.as_deref().filter(|s| !s.is_empty()) {
        if sk.chars().count() <= 6 {
            return Err(format!(
                "The secretKey={sk} value length should longer than 6"
            ));
        }
        entry.insert("secretKey".into(), sk.into());
    }
    let mut set = |k: &str, v: Option<&String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            entry.insert(k.into(), v.clone().into());
        }
    };
    set("whiteRemoteAddress", h.white_remote_address.as_ref());
    entry.insert("admin".into(), h.admin.into());
    let mut set = |k: &str, v: Option<&String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            entry.insert(k.into(), v.clone().into());
        }
    };
    set("defaultTopicPerm", h.default_topic_perm.as_ref());
    set("defaultGroupPerm", h.default_group_perm.as_ref());
    for (k, v) in [
        ("topicPerms", &h.topic_perms),
        ("groupPerms", &h.group_perms),
    ] {
        if let Some(list) = string_to_list(v.as_deref()).filter(|l| !l.is_empty()) {
            entry.insert(
                k.into(),
                Value::Sequence(list.into_iter().map(Value::from).collect()),
            );
        }
    }
    Ok(())
}
// ANCHOR_END: acl_update_account

async fn delete_account(acl: Option<Arc<AclValidator>>, req: &RemotingCommand) -> Outcome {
    let h: DeleteAccessConfigRequestHeader = req.decode_header().map_err(Failure::from)?;
    let refused = format!(
        "The accesskey[{}] corresponding to accessConfig has been deleted failed.",
        h.access_key
    );
    let r = edit_file(acl, |doc| {
        if h.access_key.is_empty() {
            return Err(EditError::Refused);
        }
        let accounts = accounts_of(doc).ok_or(EditError::Refused)?;
        let i = accounts
            .iter()
            .position(|a| key_of(a).as_deref() == Some(h.access_key.as_str()))
            .ok_or(EditError::Refused)?;
        accounts.remove(i);
        Ok(())
    })
    .await;
    answer(r, rs::DELETE_ACL_CONFIG_FAILED, refused)
}

async fn update_global_white(acl: Option<Arc<AclValidator>>, req: &RemotingCommand) -> Outcome {
    let h: UpdateGlobalWhiteAddrsConfigRequestHeader =
        req.decode_header().map_err(Failure::from)?;
    let refused = format!(
        "The globalWhiteAddresses[{}] has been updated failed.",
        h.global_white_addrs
    );
    let r = edit_file(acl, |doc| {
        let list = string_to_list(Some(&h.global_white_addrs)).ok_or(EditError::Refused)?;
        match doc.get_mut("globalWhiteRemoteAddresses") {
            Some(v @ Value::Sequence(_)) => {
                *v = Value::Sequence(list.into_iter().map(Value::from).collect());
                Ok(())
            }
            _ => Err(EditError::Refused),
        }
    })
    .await;
    answer(r, rs::UPDATE_GLOBAL_WHITE_ADDRS_CONFIG_FAILED, refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_to_list_is_utilall_string2list() {
        assert_eq!(string_to_list(Some("")), None);
        assert_eq!(string_to_list(None), None);
        assert_eq!(
            string_to_list(Some("a=PUB,b=SUB,,")).unwrap(),
            vec!["a=PUB", "b=SUB"]
        );
    }

    #[test]
    fn merge_keeps_old_fields_the_request_leaves_empty() {
        let mut entry: Mapping = serde_yaml::from_str(
            "accessKey: RocketMQ\nsecretKey: '12345678'\nwhiteRemoteAddress: 10.0.0.1\n",
        )
        .unwrap();
        let h = CreateAccessConfigRequestHeader {
            access_key: "RocketMQ".into(),
            secret_key: None,
            white_remote_address: None,
            admin: true,
            default_topic_perm: Some("PUB".into()),
            default_group_perm: None,
            topic_perms: Some("t1=SUB,t2=DENY".into()),
            group_perms: None,
        };
        merge_account(&mut entry, &h).unwrap();
        assert_eq!(entry.get("whiteRemoteAddress").unwrap(), "10.0.0.1");
        assert_eq!(entry.get("admin").unwrap(), &Value::Bool(true));
        assert_eq!(
            entry
                .get("topicPerms")
                .unwrap()
                .as_sequence()
                .unwrap()
                .len(),
            2
        );
        let short = CreateAccessConfigRequestHeader {
            access_key: "abc".into(),
            ..h
        };
        assert_eq!(
            merge_account(&mut entry, &short).unwrap_err(),
            "The accessKey=abc cannot be null and length should longer than 6"
        );
    }
}
