//! SubscriptionGroupManager: consumer group settings (retry queue count, max retries, consume
//! enable), built-in groups, auto-creation, persisted to `config/subscriptionGroup.json`.
//! Mirrors `org.apache.rocketmq.broker.subscription.SubscriptionGroupManager`. Book: Part II.

use crate::persist;
use parking_lot::Mutex;
use rmq_remoting::protocol::admin::SubscriptionGroupConfig;
use rmq_remoting::protocol::{fastjson, DataVersion};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `subscriptionGroup.json` and the GET_ALL_SUBSCRIPTIONGROUP_CONFIG body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SubscriptionGroupWrapper {
    /// Bumped by every change.
    #[serde(rename = "dataVersion")]
    pub data_version: DataVersion,
    /// Every group's config, by group name.
    #[serde(rename = "subscriptionGroupTable")]
    pub subscription_group_table: BTreeMap<String, SubscriptionGroupConfig>,
}

/// Consumer group configs (`SubscriptionGroupManager`).
pub struct SubscriptionGroupManager {
    table: Mutex<SubscriptionGroupWrapper>,
    path: PathBuf,
    auto_create: bool,
}

const BUILTIN: &[&str] = &[
    "TOOLS_CONSUMER",
    "FILTERSRV_CONSUMER",
    "SELF_TEST_C_GROUP",
    "CID_ONS-HTTP-PROXY",
    "CID_ONSAPI_PULL",
    "CID_ONSAPI_PERMISSION",
    "CID_ONSAPI_OWNER",
    "CID_RMQ_SYS_TRANS",
];

impl SubscriptionGroupManager {
    /// Loads `<config_dir>/subscriptionGroup.json` (or its backup) and adds 4.8.0's built-in
    /// groups.
    pub fn load(
        config_dir: &std::path::Path,
        auto_create: bool,
    ) -> anyhow::Result<SubscriptionGroupManager> {
        let path = config_dir.join("subscriptionGroup.json");
        let mut w = SubscriptionGroupWrapper {
            data_version: DataVersion::now(),
            ..Default::default()
        };
        if let Some(text) = persist::read_with_backup(&path) {
            w = fastjson::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{} is not valid: {e}", path.display()))?;
        }
        for g in BUILTIN {
            w.subscription_group_table
                .entry(g.to_string())
                .or_insert_with(|| SubscriptionGroupConfig {
                    group_name: g.to_string(),
                    consume_broadcast_enable: *g == "TOOLS_CONSUMER"
                        || *g == "CID_ONSAPI_OWNER"
                        || *g == "CID_ONSAPI_PERMISSION",
                    ..Default::default()
                });
        }
        let m = SubscriptionGroupManager {
            table: Mutex::new(w),
            path,
            auto_create,
        };
        m.persist();
        Ok(m)
    }

    /// The group's config, auto-created with defaults when allowed (`findSubscriptionGroupConfig`).
    pub fn find(&self, group: &str) -> Option<SubscriptionGroupConfig> {
        let created = {
            let mut w = self.table.lock();
            if let Some(c) = w.subscription_group_table.get(group) {
                return Some(c.clone());
            }
            if !self.auto_create {
                return None;
            }
            let c = SubscriptionGroupConfig {
                group_name: group.to_string(),
                ..Default::default()
            };
            w.subscription_group_table
                .insert(group.to_string(), c.clone());
            w.data_version.next_version();
            c
        };
        self.persist();
        Some(created)
    }

    /// Adds or replaces a group's config and persists the table.
    pub fn update(&self, c: SubscriptionGroupConfig) {
        {
            let mut w = self.table.lock();
            w.subscription_group_table.insert(c.group_name.clone(), c);
            w.data_version.next_version();
        }
        self.persist();
    }

    // ANCHOR: group_delete
    /// Removes a group's config and persists the table (`deleteSubscriptionGroupConfig`).
    /// Returns whether the group existed; an unknown group is logged and left alone. The
    /// group's consumer offsets stay: 4.8.0 keeps them (its request has no `cleanOffset`).
    pub fn delete(&self, group: &str) -> bool {
        let removed = {
            let mut w = self.table.lock();
            let old = w.subscription_group_table.remove(group);
            if old.is_some() {
                w.data_version.next_version();
            }
            old
        };
        match removed {
            Some(old) => {
                tracing::info!(group, ?old, "delete subscription group OK");
                self.persist();
                true
            }
            None => {
                tracing::warn!(
                    group,
                    "delete subscription group failed: the group does not exist"
                );
                false
            }
        }
    }

    // ANCHOR_END: group_delete
    /// A slave's copy of its master's groups (`SlaveSynchronize.syncSubscriptionGroupConfig`):
    /// when the master's data version differs, take its version and its whole table, and
    /// persist. Returns whether anything was replaced.
    pub fn replace_from_master(&self, theirs: SubscriptionGroupWrapper) -> bool {
        {
            let mut w = self.table.lock();
            if w.data_version == theirs.data_version {
                return false;
            }
            *w = theirs;
        }
        self.persist();
        true
    }

    /// A copy of the whole table.
    pub fn snapshot(&self) -> SubscriptionGroupWrapper {
        self.table.lock().clone()
    }

    /// Writes the table to `subscriptionGroup.json` (failures are logged).
    pub fn persist(&self) {
        let text = match fastjson::to_string_pretty(&*self.table.lock()) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("encoding subscriptionGroup.json failed: {e}");
                return;
            }
        };
        if let Err(e) = persist::write_atomic(&self.path, &text) {
            tracing::error!("writing {} failed: {e}", self.path.display());
        }
    }
}
