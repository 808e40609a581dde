//! Broker configuration: every key of a RocketMQ `.properties` file (broker.conf), with 4.8.0
//! key names and defaults, declared once in the table of [`keys`]. This module reads a file
//! into a [`BrokerConfig`] (unknown keys are reported for a warning; a bad value is an error
//! naming the key), writes a config back as properties text (GET_BROKER_CONFIG, and the file
//! UPDATE_BROKER_CONFIG rewrites), and applies a run-time update as 4.8.0's
//! `Configuration.update` does (see [`BrokerConfig::update`]).
//! Book: Part II, "Starting a broker", and Appendix "Configuration reference". Mirrors
//! `BrokerConfig`, `MessageStoreConfig`, `BrokerStartup` (`MixAll.properties2Object`) and
//! `org.apache.rocketmq.common.Configuration`.

#[macro_use]
pub mod table;
pub mod keys;
pub mod live;

pub use keys::{
    all_keys, find, BrokerConfig, DLedgerKeys, FilterConfig, HaKeys, Section, TransactionConfig,
    SECTIONS, STORE_KEYS,
};
pub use rmq_store::{BrokerRole, FlushDiskType};
pub use table::{Effect, KeyInfo, Unit};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a configuration could not be read or applied.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A value does not parse, or breaks a rule.
    #[error("bad value for key {key}: {value:?} ({reason})")]
    BadValue {
        /// The key.
        key: String,
        /// The value as written.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The file's pairs as a map (the last duplicate wins, as in Java `Properties`).
pub fn parse_properties(text: &str) -> BTreeMap<String, String> {
    rmq_common::properties::parse_properties(text)
        .into_iter()
        .collect()
}

/// What [`BrokerConfig::update`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Update {
    /// Keys that changed the running broker at once.
    pub live: Vec<String>,
    /// Keys written to the file that take effect at the next start (or never: keys this
    /// broker does not use).
    pub at_restart: Vec<String>,
    /// Keys the table does not have; ignored, as 4.8.0 ignores them.
    pub unknown: Vec<String>,
}

impl BrokerConfig {
    /// Loads a config file; returns the config and the keys that were not recognised.
    pub fn load(path: &Path) -> Result<(BrokerConfig, Vec<String>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_properties(&parse_properties(&text))
    }

    // ANCHOR: config_keys
    /// Reads every pair into a default config; returns it and the keys the table does not
    /// have. A value that does not parse is an error naming the key.
    pub fn from_properties(
        props: &BTreeMap<String, String>,
    ) -> Result<(BrokerConfig, Vec<String>), ConfigError> {
        let mut c = BrokerConfig::default();
        let mut unknown = Vec::new();
        for (k, v) in props {
            if c.set(k, v)?.is_none() {
                unknown.push(k.clone());
            }
        }
        c.validate()?;
        Ok((c, unknown))
    }

    /// Sets one key; `Ok(None)` when the table has no such key.
    pub fn set(&mut self, key: &str, value: &str) -> Result<Option<&'static KeyInfo>, ConfigError> {
        let Some((section, i)) = find(key) else {
            return Ok(None);
        };
        (section.set)(self, i, value).map_err(|reason| ConfigError::BadValue {
            key: key.into(),
            value: value.into(),
            reason,
        })?;
        Ok(Some((section.info)(i)))
    }
    // ANCHOR_END: config_keys

    /// The rules a value must keep beyond its type.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.default_topic_queue_nums <= 0 {
            return Err(ConfigError::BadValue {
                key: "defaultTopicQueueNums".into(),
                value: self.default_topic_queue_nums.to_string(),
                reason: "must be positive".into(),
            });
        }
        Ok(())
    }

    /// The value of `key` as broker.conf spells it (`None`: no such key, or not set).
    pub fn get(&self, key: &str) -> Option<String> {
        let (section, i) = find(key)?;
        (section.get)(self, i)
    }

    /// Every key that has a value, as `key=value` lines in the table's order: the body of
    /// GET_BROKER_CONFIG and the text UPDATE_BROKER_CONFIG persists.
    pub fn to_properties_text(&self) -> String {
        all_keys()
            .filter_map(|(s, i)| (s.get)(self, i).map(|v| format!("{}={v}\n", (s.info)(i).key)))
            .collect()
    }

    /// Applies a run-time update (UPDATE_BROKER_CONFIG), as 4.8.0's `Configuration.update`:
    /// every known key is written into `file` (the config the next start reads); keys that
    /// take effect at once are written into `self` too; unknown keys are ignored. A value
    /// that does not parse refuses the whole update and changes nothing (4.8.0 skips such a
    /// value silently).
    pub fn update(
        &mut self,
        file: &mut BrokerConfig,
        props: &BTreeMap<String, String>,
    ) -> Result<Update, ConfigError> {
        let (mut running, mut next_file) = (self.clone(), file.clone());
        let mut update = Update::default();
        for (k, v) in props {
            match next_file.set(k, v)? {
                None => update.unknown.push(k.clone()),
                Some(info) if info.effect == Effect::Live => {
                    running.set(k, v)?;
                    update.live.push(k.clone());
                }
                Some(_) => update.at_restart.push(k.clone()),
            }
        }
        running.validate()?;
        next_file.validate()?;
        *self = running;
        *file = next_file;
        Ok(update)
    }

    /// `ip:port` clients and the name server use for this broker.
    pub fn broker_addr(&self) -> String {
        format!("{}:{}", self.broker_ip1, self.listen_port)
    }

    /// Name server addresses (";"-separated in the config).
    pub fn namesrv_list(&self) -> Vec<String> {
        self.namesrv_addr
            .as_deref()
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }

    /// The store's root directory (`storePathRootDir`).
    pub fn store_path_root_dir(&self) -> &Path {
        &self.store.store_path_root_dir
    }

    /// `<storePathRootDir>/config`: topics.json, consumerOffset.json and the other tables.
    pub fn config_dir(&self) -> PathBuf {
        self.store_path_root_dir().join("config")
    }

    /// Where UPDATE_BROKER_CONFIG persists the configuration when the broker was started
    /// without `-c`: `<storePathRootDir>/config/broker.properties` (4.8.0:
    /// `$HOME/store/config/broker.properties`).
    pub fn default_properties_path(&self) -> PathBuf {
        self.config_dir().join("broker.properties")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_and_reports_unknown_and_bad() {
        let p = parse_properties("brokerName=b1\nlistenPort = 20911\n# c\nfoo=bar\n");
        let (c, unknown) = BrokerConfig::from_properties(&p).unwrap();
        assert_eq!(c.broker_name, "b1");
        assert_eq!(c.listen_port, 20911);
        assert_eq!(unknown, vec!["foo".to_string()]);
        let p = parse_properties("listenPort=abc");
        let err = BrokerConfig::from_properties(&p).unwrap_err().to_string();
        assert!(err.contains("listenPort"), "{err}");
        let p = parse_properties("flushDiskType=SYNC");
        let err = BrokerConfig::from_properties(&p).unwrap_err().to_string();
        assert_eq!(
            err,
            "bad value for key flushDiskType: \"SYNC\" (expected ASYNC_FLUSH or SYNC_FLUSH)"
        );
    }

    #[test]
    fn every_section_reads_its_keys() {
        let p = parse_properties(
            "storePathRootDir=/tmp/x\nmappedFileSizeCommitLog=1048576\nflushDiskType=SYNC_FLUSH\n\
             haSendHeartbeatInterval=7\ndLegerSelfId=n1\ntransactionCheckMax=3\n\
             enablePropertyFilter=true\nwaitTimeMillsInSendQueue=300\n",
        );
        let (c, unknown) = BrokerConfig::from_properties(&p).unwrap();
        assert!(unknown.is_empty(), "{unknown:?}");
        assert_eq!(c.store.mapped_file_size_commit_log, 1_048_576);
        assert_eq!(c.store.flush_disk_type, FlushDiskType::SyncFlush);
        assert_eq!(c.config_dir(), PathBuf::from("/tmp/x/config"));
        assert_eq!(c.ha.send_heartbeat_interval_ms, 7);
        assert_eq!(c.dledger.self_id.as_deref(), Some("n1"));
        assert_eq!(c.transaction.check_max, 3);
        assert!(c.filter.enable_property_filter);
        assert_eq!(c.wait_time_in_send_queue_ms, 300);
        // written back as read
        let text = c.to_properties_text();
        for line in [
            "mappedFileSizeCommitLog=1048576\n",
            "flushDiskType=SYNC_FLUSH\n",
            "dLegerSelfId=n1\n",
            "waitTimeMillsInSendQueue=300\n",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
        let (again, _) = BrokerConfig::from_properties(&parse_properties(&text)).unwrap();
        assert_eq!(
            again.to_properties_text(),
            text,
            "the text reads back to itself"
        );
        // an unset optional key is not written
        assert!(!text.contains("haMasterAddress="));
    }

    #[test]
    fn an_update_changes_live_keys_at_once_and_the_others_in_the_file() {
        let (mut running, _) =
            BrokerConfig::from_properties(&parse_properties("listenPort=20911")).unwrap();
        let mut file = running.clone();
        let props = parse_properties("brokerPermission=4\nlistenPort=30911\nnoSuchKey=1\n");
        let u = running.update(&mut file, &props).unwrap();
        assert_eq!(u.live, vec!["brokerPermission".to_string()]);
        assert_eq!(u.at_restart, vec!["listenPort".to_string()]);
        assert_eq!(u.unknown, vec!["noSuchKey".to_string()]);
        assert_eq!((running.broker_permission, running.listen_port), (4, 20911));
        assert_eq!((file.broker_permission, file.listen_port), (4, 30911));
        // a bad value refuses the whole update
        let bad = parse_properties("brokerPermission=2\nlongPollingEnable=maybe\n");
        let err = running.update(&mut file, &bad).unwrap_err().to_string();
        assert!(err.contains("longPollingEnable"), "{err}");
        assert_eq!((running.broker_permission, file.broker_permission), (4, 4));
        let bad = parse_properties("defaultTopicQueueNums=0\n");
        assert!(running.update(&mut file, &bad).is_err());
    }
}
