//! TopicConfigManager: the broker's topic table, persisted to `config/topics.json`; system
//! topics created at boot, auto-creation from TBW102 on send, retry topics on send-back.
//! Mirrors `org.apache.rocketmq.broker.topic.TopicConfigManager`. Book: Part II, "Topics".

use crate::config::BrokerConfig;
use crate::persist;
use parking_lot::Mutex;
use rmq_remoting::protocol::{fastjson, DataVersion, TopicConfig, TopicConfigSerializeWrapper};
use std::path::PathBuf;

// ANCHOR: perms
/// Permission bit: priority (4.8.0 defines it; nothing in 4.8.0 or here reads it).
pub const PERM_PRIORITY: i32 = 8;
/// Permission bit: consumers may read.
pub const PERM_READ: i32 = 4;
/// Permission bit: producers may write.
pub const PERM_WRITE: i32 = 2;
/// Permission bit: a topic created from this template inherits its permission.
pub const PERM_INHERIT: i32 = 1;
/// The template topic a send to an unknown topic is created from (`autoCreateTopicEnable`).
pub const DEFAULT_TOPIC: &str = "TBW102";
/// Where delayed messages wait, one queue per delay level.
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";
// ANCHOR_END: perms
/// A consumer group's retry topic is this prefix + the group (`MixAll.RETRY_GROUP_TOPIC_PREFIX`).
pub const RETRY_GROUP_TOPIC_PREFIX: &str = "%RETRY%";
/// A consumer group's dead-letter topic is this prefix + the group (`MixAll.DLQ_GROUP_TOPIC_PREFIX`).
pub const DLQ_GROUP_TOPIC_PREFIX: &str = "%DLQ%";

/// `MixAll.getRetryTopic`: the retry topic of `group`.
pub fn retry_topic(group: &str) -> String {
    format!("{RETRY_GROUP_TOPIC_PREFIX}{group}")
}

/// `MixAll.getDLQTopic`: the dead-letter topic of `group`.
pub fn dlq_topic(group: &str) -> String {
    format!("{DLQ_GROUP_TOPIC_PREFIX}{group}")
}

/// The broker's topics (`TopicConfigManager`), persisted in `topics.json`.
pub struct TopicConfigManager {
    table: Mutex<TopicConfigSerializeWrapper>,
    path: PathBuf,
}

fn tc(name: &str, read: i32, write: i32, perm: i32) -> TopicConfig {
    let mut t = TopicConfig::new(name);
    t.read_queue_nums = read;
    t.write_queue_nums = write;
    t.perm = perm;
    t
}

impl TopicConfigManager {
    /// Loads topics.json (if any) and adds the 4.8.0 system topics.
    pub fn new(cfg: &BrokerConfig) -> anyhow::Result<TopicConfigManager> {
        let path = cfg.config_dir().join("topics.json");
        let mut w = TopicConfigSerializeWrapper {
            data_version: DataVersion::now(),
            ..Default::default()
        };
        if let Some(text) = persist::read_with_backup(&path) {
            w = fastjson::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{} is not valid: {e}", path.display()))?;
        }
        // ANCHOR: system_topics
        let rw = PERM_READ | PERM_WRITE;
        let mut sys = vec![tc("SELF_TEST_TOPIC", 1, 1, rw)];
        if cfg.auto_create_topic_enable {
            let n = cfg.default_topic_queue_nums;
            sys.push(tc(DEFAULT_TOPIC, n, n, PERM_INHERIT | rw));
        }
        sys.push(tc("BenchmarkTest", 1024, 1024, rw));
        let mut perm = PERM_INHERIT;
        if cfg.cluster_topic_enable {
            perm |= rw;
        }
        sys.push(tc(&cfg.broker_cluster_name, 16, 16, perm));
        let mut perm = PERM_INHERIT;
        if cfg.broker_topic_enable {
            perm |= rw;
        }
        sys.push(tc(&cfg.broker_name, 1, 1, perm));
        sys.push(tc("OFFSET_MOVED_EVENT", 1, 1, rw));
        sys.push(tc(SCHEDULE_TOPIC, 18, 18, rw));
        if cfg.trace_topic_enable {
            sys.push(tc(&cfg.msg_trace_topic_name, 1, 1, rw));
        }
        sys.push(tc(
            &rmq_common::message::reply_topic(&cfg.broker_cluster_name),
            1,
            1,
            rw,
        ));
        // ANCHOR_END: system_topics
        for t in sys {
            w.topic_config_table.insert(t.topic_name.clone(), t);
        }
        let m = TopicConfigManager {
            table: Mutex::new(w),
            path,
        };
        m.persist();
        Ok(m)
    }

    /// The config of `topic`, if the broker has it.
    pub fn get(&self, topic: &str) -> Option<TopicConfig> {
        self.table.lock().topic_config_table.get(topic).cloned()
    }

    /// A copy of the whole table (GET_ALL_TOPIC_CONFIG, registration).
    pub fn snapshot(&self) -> TopicConfigSerializeWrapper {
        self.table.lock().clone()
    }

    /// The table's data version (changes with every topic change).
    pub fn data_version(&self) -> DataVersion {
        self.table.lock().data_version
    }

    /// Every topic name.
    pub fn topic_names(&self) -> Vec<String> {
        self.table
            .lock()
            .topic_config_table
            .keys()
            .cloned()
            .collect()
    }

    /// Adds or replaces a topic (UPDATE_AND_CREATE_TOPIC), bumping the data version.
    pub fn update(&self, t: TopicConfig) {
        {
            let mut w = self.table.lock();
            w.topic_config_table.insert(t.topic_name.clone(), t);
            w.data_version.next_version();
        }
        self.persist();
    }

    /// A slave's copy of its master's topics (`SlaveSynchronize.syncTopicConfig`): when the
    /// master's data version differs from ours, take its version and its whole table, and
    /// persist. Returns whether anything was replaced.
    pub fn replace_from_master(&self, theirs: TopicConfigSerializeWrapper) -> bool {
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

    /// Bumps the data version without changing a topic (4.8.0 does it when
    /// `brokerPermission` changes, so the name servers take the new registration).
    pub fn bump_data_version(&self) {
        self.table.lock().data_version.next_version();
        self.persist();
    }

    /// Removes `topic`; `true` when it existed.
    pub fn delete(&self, topic: &str) -> bool {
        let removed = {
            let mut w = self.table.lock();
            let r = w.topic_config_table.remove(topic).is_some();
            if r {
                w.data_version.next_version();
            }
            r
        };
        if removed {
            self.persist();
        }
        removed
    }

    // ANCHOR: topic_auto_create
    /// `createTopicInSendMessageMethod`: a send to an unknown topic inherits from the default
    /// topic (TBW102) when that topic carries PERM_INHERIT. Returns the config and whether it
    /// was created now (then the caller registers with the name servers at once).
    pub fn create_in_send(
        &self,
        topic: &str,
        default_topic: &str,
        client_queue_nums: i32,
        topic_sys_flag: i32,
    ) -> Option<(TopicConfig, bool)> {
        let created = {
            let mut w = self.table.lock();
            if let Some(t) = w.topic_config_table.get(topic) {
                return Some((t.clone(), false));
            }
            let def = w.topic_config_table.get(default_topic)?.clone();
            if def.perm & PERM_INHERIT == 0 {
                tracing::warn!(
                    "create topic {topic} refused: default topic {default_topic} has no inherit permission"
                );
                return None;
            }
            let queues = client_queue_nums.min(def.write_queue_nums).max(1);
            let mut t = TopicConfig::new(topic);
            t.read_queue_nums = queues;
            t.write_queue_nums = queues;
            t.perm = def.perm & !PERM_INHERIT;
            t.topic_sys_flag = topic_sys_flag;
            t.topic_filter_type = def.topic_filter_type.clone();
            tracing::info!("auto-created topic {topic} from {default_topic}: {t:?}");
            w.topic_config_table.insert(topic.to_string(), t.clone());
            w.data_version.next_version();
            t
        };
        self.persist();
        Some((created, true))
    }
    // ANCHOR_END: topic_auto_create

    /// `createTopicInSendMessageBackMethod`: retry/DLQ topics created on demand.
    pub fn create_in_send_back(
        &self,
        topic: &str,
        queue_nums: i32,
        perm: i32,
        sys_flag: i32,
    ) -> (TopicConfig, bool) {
        let created = {
            let mut w = self.table.lock();
            if let Some(t) = w.topic_config_table.get(topic) {
                return (t.clone(), false);
            }
            let mut t = TopicConfig::new(topic);
            t.read_queue_nums = queue_nums;
            t.write_queue_nums = queue_nums;
            t.perm = perm;
            t.topic_sys_flag = sys_flag;
            w.topic_config_table.insert(topic.to_string(), t.clone());
            w.data_version.next_version();
            t
        };
        self.persist();
        (created, true)
    }

    /// Writes the table to `topics.json` (failures are logged).
    pub fn persist(&self) {
        let text = match fastjson::to_string_pretty(&*self.table.lock()) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("encoding topics.json failed: {e}");
                return;
            }
        };
        if let Err(e) = persist::write_atomic(&self.path, &text) {
            tracing::error!("writing {} failed: {e}", self.path.display());
        }
    }
}
