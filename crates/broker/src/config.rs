//! Broker configuration: `BrokerConfig` plus the store keys the broker reads, parsed from a
//! RocketMQ `.properties` file with 4.8.0 key names and defaults. Unknown keys produce a warning;
//! a bad value is an error naming the key. Mirrors `BrokerConfig`, `MessageStoreConfig` and
//! `BrokerStartup`'s `MixAll.properties2Object`. Book: Part II, "Starting a broker".

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("bad value for key {key}: {value:?} ({reason})")]
    BadValue {
        key: String,
        value: String,
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushDiskType {
    AsyncFlush,
    SyncFlush,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerRole {
    AsyncMaster,
    SyncMaster,
    Slave,
}

/// All settings the broker uses, with 4.8.0 defaults.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub broker_cluster_name: String,
    pub broker_name: String,
    pub broker_id: i64,
    pub listen_port: u16,
    pub namesrv_addr: Option<String>,
    pub broker_ip1: String,
    pub store_path_root_dir: PathBuf,
    pub flush_disk_type: FlushDiskType,
    pub broker_role: BrokerRole,
    pub auto_create_topic_enable: bool,
    pub auto_create_subscription_group: bool,
    pub default_topic_queue_nums: i32,
    pub send_message_thread_pool_nums: usize,
    pub pull_message_thread_pool_nums: usize,
    pub send_thread_pool_queue_capacity: usize,
    pub wait_time_mills_in_send_queue: i64,
    pub os_page_cache_busy_time_out_mills: i64,
    pub register_broker_timeout_mills: u64,
    pub register_name_server_period: u64,
    pub broker_permission: i32,
    pub trace_topic_enable: bool,
    pub msg_trace_topic_name: String,
    pub cluster_topic_enable: bool,
    pub broker_topic_enable: bool,
    pub long_polling_enable: bool,
    pub short_polling_time_mills: u64,
    pub max_message_size: usize,
    pub flush_consumer_offset_interval: u64,
    pub enable_dleger_commit_log: bool,
    pub region_id: String,
    pub max_reconsume_times_default: i32,
    pub compressed_register: bool,
    /// `storeReplyMessageEnable`: request-reply replies are also stored in the reply topic.
    pub store_reply_message_enable: bool,
    /// SQL92 filtering (Part II, "Filtering"); see [`FilterConfig`].
    pub filter: FilterConfig,
    /// All key/value pairs as read, for GET_BROKER_CONFIG.
    pub raw: BTreeMap<String, String>,
}

// ANCHOR: config_defaults
impl Default for BrokerConfig {
    fn default() -> Self {
        let home = std::env::var("HOME").unwrap_or_else(|_| ".".into());
        BrokerConfig {
            broker_cluster_name: "DefaultCluster".into(),
            broker_name: "broker-a".into(),
            broker_id: 0,
            listen_port: 10911,
            namesrv_addr: std::env::var("NAMESRV_ADDR").ok(),
            broker_ip1: "127.0.0.1".into(),
            store_path_root_dir: Path::new(&home).join("store"),
            flush_disk_type: FlushDiskType::AsyncFlush,
            broker_role: BrokerRole::AsyncMaster,
            auto_create_topic_enable: true,
            auto_create_subscription_group: true,
            default_topic_queue_nums: 8,
            send_message_thread_pool_nums: 1,
            pull_message_thread_pool_nums: 16 + 2 * 2,
            send_thread_pool_queue_capacity: 10000,
            wait_time_mills_in_send_queue: 200,
            os_page_cache_busy_time_out_mills: 1000,
            register_broker_timeout_mills: 6000,
            register_name_server_period: 30_000,
            broker_permission: 6,
            trace_topic_enable: false,
            msg_trace_topic_name: "RMQ_SYS_TRACE_TOPIC".into(),
            cluster_topic_enable: true,
            broker_topic_enable: true,
            long_polling_enable: true,
            short_polling_time_mills: 1000,
            max_message_size: 4 * 1024 * 1024,
            flush_consumer_offset_interval: 5000,
            enable_dleger_commit_log: false,
            region_id: "DefaultRegion".into(),
            max_reconsume_times_default: 16,
            compressed_register: false,
            store_reply_message_enable: true,
            filter: FilterConfig::default(),
            raw: BTreeMap::new(),
        }
    }
}
// ANCHOR_END: config_defaults

fn parse<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    v.trim().parse::<T>().map_err(|e| ConfigError::BadValue {
        key: key.into(),
        value: v.into(),
        reason: e.to_string(),
    })
}

/// The config file's pairs as a map (the last duplicate wins, as in Java `Properties`).
pub fn parse_properties(text: &str) -> BTreeMap<String, String> {
    rmq_common::properties::parse_properties(text)
        .into_iter()
        .collect()
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

    pub fn from_properties(
        props: &BTreeMap<String, String>,
    ) -> Result<(BrokerConfig, Vec<String>), ConfigError> {
        // ANCHOR: config_keys
        let mut c = BrokerConfig::default();
        let mut unknown = Vec::new();
        for (k, v) in props {
            let key = k.as_str();
            match key {
                "brokerClusterName" => c.broker_cluster_name = v.clone(),
                "brokerName" => c.broker_name = v.clone(),
                "brokerId" => c.broker_id = parse(key, v)?,
                "listenPort" => c.listen_port = parse(key, v)?,
                "namesrvAddr" => c.namesrv_addr = Some(v.clone()).filter(|s| !s.is_empty()),
                "brokerIP1" => c.broker_ip1 = v.clone(),
                "storePathRootDir" => c.store_path_root_dir = PathBuf::from(v),
                "flushDiskType" => {
                    c.flush_disk_type = match v.as_str() {
                        "ASYNC_FLUSH" => FlushDiskType::AsyncFlush,
                        "SYNC_FLUSH" => FlushDiskType::SyncFlush,
                        _ => return Err(bad(key, v, "expected ASYNC_FLUSH or SYNC_FLUSH")),
                    }
                }
                "brokerRole" => {
                    c.broker_role = match v.as_str() {
                        "ASYNC_MASTER" => BrokerRole::AsyncMaster,
                        "SYNC_MASTER" => BrokerRole::SyncMaster,
                        "SLAVE" => BrokerRole::Slave,
                        _ => {
                            return Err(bad(key, v, "expected ASYNC_MASTER, SYNC_MASTER or SLAVE"))
                        }
                    }
                }
                "autoCreateTopicEnable" => c.auto_create_topic_enable = parse(key, v)?,
                "autoCreateSubscriptionGroup" => c.auto_create_subscription_group = parse(key, v)?,
                "defaultTopicQueueNums" => c.default_topic_queue_nums = parse(key, v)?,
                "sendMessageThreadPoolNums" => c.send_message_thread_pool_nums = parse(key, v)?,
                "pullMessageThreadPoolNums" => c.pull_message_thread_pool_nums = parse(key, v)?,
                "sendThreadPoolQueueCapacity" => c.send_thread_pool_queue_capacity = parse(key, v)?,
                "waitTimeMillsInSendQueue" => c.wait_time_mills_in_send_queue = parse(key, v)?,
                "osPageCacheBusyTimeOutMills" => {
                    c.os_page_cache_busy_time_out_mills = parse(key, v)?
                }
                "registerBrokerTimeoutMills" => c.register_broker_timeout_mills = parse(key, v)?,
                "registerNameServerPeriod" => c.register_name_server_period = parse(key, v)?,
                "brokerPermission" => c.broker_permission = parse(key, v)?,
                "traceTopicEnable" => c.trace_topic_enable = parse(key, v)?,
                "msgTraceTopicName" => c.msg_trace_topic_name = v.clone(),
                "clusterTopicEnable" => c.cluster_topic_enable = parse(key, v)?,
                "brokerTopicEnable" => c.broker_topic_enable = parse(key, v)?,
                "longPollingEnable" => c.long_polling_enable = parse(key, v)?,
                "shortPollingTimeMills" => c.short_polling_time_mills = parse(key, v)?,
                "maxMessageSize" => c.max_message_size = parse(key, v)?,
                "flushConsumerOffsetInterval" => c.flush_consumer_offset_interval = parse(key, v)?,
                "enableDLegerCommitLog" => c.enable_dleger_commit_log = parse(key, v)?,
                "regionId" => c.region_id = v.clone(),
                "compressedRegister" => c.compressed_register = parse(key, v)?,
                "storeReplyMessageEnable" => c.store_reply_message_enable = parse(key, v)?,
                "enablePropertyFilter" => c.filter.enable_property_filter = parse(key, v)?,
                "enableCalcFilterBitMap" => c.filter.enable_calc_filter_bit_map = parse(key, v)?,
                "filterSupportRetry" => c.filter.filter_support_retry = parse(key, v)?,
                "expectConsumerNumUseFilter" => {
                    c.filter.expect_consumer_num_use_filter = parse(key, v)?
                }
                "maxErrorRateOfBloomFilter" => {
                    c.filter.max_error_rate_of_bloom_filter = parse(key, v)?
                }
                "filterDataCleanTimeSpan" => {
                    c.filter.filter_data_clean_time_span_ms = parse(key, v)?
                }
                // Store and HA keys the store (not the broker) interprets; accepted silently.
                k if crate::store_config::STORE_KEYS.contains(&k) => {}
                // Read by the transaction module (TransactionConfig::from_raw).
                k if crate::transaction::CONFIG_KEYS.contains(&k) => {}
                "haSendHeartbeatInterval"
                | "haHousekeepingInterval"
                | "haTransferBatchSize"
                | "haSlaveFallbehindMax"
                | "haMasterAddress"
                | "dLegerGroup"
                | "dLegerHeartBeatTimeIntervalMs"
                | "dLegerMaxHeartBeatLeak"
                | "dLegerPeers"
                | "dLegerSelfId"
                | "brokerIP2"
                | "haListenPort"
                | "transientStorePoolEnable"
                | "sendMessageThreadPoolQueueCapacity"
                | "useReentrantLockWhenPutMessage"
                | "autoCreateTopicQueueNums" => {}
                _ => unknown.push(k.clone()),
            }
        }
        // ANCHOR_END: config_keys
        if c.default_topic_queue_nums <= 0 {
            return Err(bad(
                "defaultTopicQueueNums",
                &c.default_topic_queue_nums.to_string(),
                "must be positive",
            ));
        }
        c.raw = props.clone();
        Ok((c, unknown))
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

    pub fn config_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("config")
    }

    /// The effective config as `key=value` lines (GET_BROKER_CONFIG body).
    pub fn to_properties_text(&self) -> String {
        let mut m = self.raw.clone();
        m.insert("brokerClusterName".into(), self.broker_cluster_name.clone());
        m.insert("brokerName".into(), self.broker_name.clone());
        m.insert("brokerId".into(), self.broker_id.to_string());
        m.insert("listenPort".into(), self.listen_port.to_string());
        m.insert("brokerIP1".into(), self.broker_ip1.clone());
        m.insert(
            "namesrvAddr".into(),
            self.namesrv_addr.clone().unwrap_or_default(),
        );
        m.insert(
            "storePathRootDir".into(),
            self.store_path_root_dir.display().to_string(),
        );
        m.insert(
            "autoCreateTopicEnable".into(),
            self.auto_create_topic_enable.to_string(),
        );
        m.insert(
            "brokerPermission".into(),
            self.broker_permission.to_string(),
        );
        m.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
    }
}

/// The SQL92 filter's switches, with 4.8.0's defaults (`BrokerConfig`).
#[derive(Debug, Clone)]
pub struct FilterConfig {
    /// `enablePropertyFilter` (false): accept SQL92 subscriptions at all.
    pub enable_property_filter: bool,
    /// `enableCalcFilterBitMap` (false): compute each message's bloom bit map at dispatch.
    pub enable_calc_filter_bit_map: bool,
    /// `filterSupportRetry` (false): filter `%RETRY%` queues with the original topic's SQL.
    pub filter_support_retry: bool,
    /// `expectConsumerNumUseFilter` (32): groups per topic the bloom filter is sized for.
    pub expect_consumer_num_use_filter: i32,
    /// `maxErrorRateOfBloomFilter` (20, %): the bloom filter's false-positive rate.
    pub max_error_rate_of_bloom_filter: i32,
    /// `filterDataCleanTimeSpan` (24 h, in ms): how long dead filter data is kept.
    pub filter_data_clean_time_span_ms: i64,
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            enable_property_filter: false,
            enable_calc_filter_bit_map: false,
            filter_support_retry: false,
            expect_consumer_num_use_filter: 32,
            max_error_rate_of_bloom_filter: 20,
            filter_data_clean_time_span_ms: 24 * 3600 * 1000,
        }
    }
}

fn bad(key: &str, v: &str, reason: &str) -> ConfigError {
    ConfigError::BadValue {
        key: key.into(),
        value: v.into(),
        reason: reason.into(),
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
    }
}
