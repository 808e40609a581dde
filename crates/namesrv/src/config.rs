//! Name server configuration: 4.8.0's `NamesrvConfig` and the `NettyServerConfig`
//! keys that matter, read from a RocketMQ `.properties` file.
//!
//! Unknown keys produce a warning, bad values a clear error naming key and value.
//! Two keys are ours: `bindAddress` (default 127.0.0.1; say 0.0.0.0 to listen on
//! all interfaces) and the broker-expiry timings, which 4.8.0 hard-codes but tests
//! need short. Book: Part III "Name server".
//! Mirrors `org.apache.rocketmq.common.namesrv.NamesrvConfig` and `NamesrvStartup`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A config problem (file unreadable, bad value).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// The I/O error from reading it.
        source: std::io::Error,
    },
    /// A key has a value that does not parse as the type the key needs.
    #[error("config key {key}: {value:?} is not a valid {expected}")]
    BadValue {
        /// The key, as spelled in the file (e.g. `listenPort`).
        key: String,
        /// The value found in the file.
        value: String,
        /// What the value should have been (e.g. "port number").
        expected: &'static str,
    },
}

/// Everything the name server needs to start.
#[derive(Debug, Clone, PartialEq)]
pub struct NamesrvConfig {
    /// TCP port to listen on (`listenPort` of 4.8.0's `NettyServerConfig`, default 9876; 0 picks a free port).
    pub listen_port: u16,
    /// Interface to bind; loopback unless configured otherwise.
    pub bind_address: IpAddr,
    /// Where KV config is persisted (`$HOME/namesrv/kvConfig.json` by default).
    pub kv_config_path: PathBuf,
    /// Add `orderTopicConf` from KV `ORDER_TOPIC_CONFIG` to routes (default false).
    pub order_message_enable: bool,
    // ANCHOR: expiry_settings
    /// A broker silent for this long is removed (4.8.0: 120 s).
    pub broker_channel_expired_time: Duration,
    /// How often to look for silent brokers (4.8.0: 10 s).
    pub scan_not_active_broker_interval: Duration,
    // ANCHOR_END: expiry_settings
    /// Largest accepted frame (4.8.0: 16 MiB).
    pub max_frame_len: usize,
    /// Close connections idle this long (`serverChannelMaxIdleTimeSeconds`, 120 s; 0 = never).
    pub server_channel_max_idle_time: Duration,
}

impl Default for NamesrvConfig {
    fn default() -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        NamesrvConfig {
            listen_port: 9876,
            bind_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            kv_config_path: home.join("namesrv").join("kvConfig.json"),
            order_message_enable: false,
            broker_channel_expired_time: Duration::from_millis(120_000),
            scan_not_active_broker_interval: Duration::from_millis(10_000),
            max_frame_len: rmq_remoting::codec::DEFAULT_MAX_FRAME_LEN,
            server_channel_max_idle_time: Duration::from_secs(120),
        }
    }
}

/// 4.8.0 keys we accept but that have no effect here (thread pools, buffers, ...).
const IGNORED_KEYS: &[&str] = &[
    "rocketmqHome",
    "configStorePath",
    "productEnvName",
    "clusterTest",
    "serverWorkerThreads",
    "serverCallbackExecutorThreads",
    "serverSelectorThreads",
    "serverOnewaySemaphoreValue",
    "serverAsyncSemaphoreValue",
    "serverSocketSndBufSize",
    "serverSocketRcvBufSize",
    "serverPooledByteBufAllocatorEnable",
    "useEpollNativeSelector",
];

impl NamesrvConfig {
    /// The socket address to bind: `bind_address` and `listen_port` together.
    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind_address, self.listen_port)
    }

    /// Reads a `.properties` file on top of the defaults. Returns the config and
    /// the keys that were not recognized (the caller warns about them).
    pub fn load(path: &Path) -> Result<(NamesrvConfig, Vec<String>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = NamesrvConfig::default();
        let unknown = config.apply(&parse_properties(&text))?;
        Ok((config, unknown))
    }

    /// Applies key/value pairs; returns the unknown keys.
    pub fn apply(&mut self, props: &[(String, String)]) -> Result<Vec<String>, ConfigError> {
        let mut unknown = Vec::new();
        for (key, value) in props {
            match key.as_str() {
                "listenPort" => self.listen_port = parse(key, value, "port")?,
                "bindAddress" => self.bind_address = parse(key, value, "IP address")?,
                "kvConfigPath" => self.kv_config_path = PathBuf::from(value),
                "orderMessageEnable" => self.order_message_enable = parse_bool(key, value)?,
                "brokerChannelExpiredTime" => {
                    self.broker_channel_expired_time =
                        Duration::from_millis(parse(key, value, "duration in ms")?)
                }
                "scanNotActiveBrokerInterval" => {
                    self.scan_not_active_broker_interval =
                        Duration::from_millis(parse::<u64>(key, value, "duration in ms")?.max(1))
                }
                "serverChannelMaxIdleTimeSeconds" => {
                    self.server_channel_max_idle_time =
                        Duration::from_secs(parse(key, value, "number of seconds")?)
                }
                "frameMaxLength" => self.max_frame_len = parse(key, value, "size in bytes")?,
                k if IGNORED_KEYS.contains(&k) => {}
                _ => unknown.push(key.clone()),
            }
        }
        Ok(unknown)
    }

    /// The config as properties text (reply to GET_NAMESRV_CONFIG).
    pub fn to_properties(&self) -> String {
        format!(
            "listenPort={}\nbindAddress={}\nkvConfigPath={}\norderMessageEnable={}\n\
             brokerChannelExpiredTime={}\nscanNotActiveBrokerInterval={}\nframeMaxLength={}\n\
             serverChannelMaxIdleTimeSeconds={}\n",
            self.listen_port,
            self.bind_address,
            self.kv_config_path.display(),
            self.order_message_enable,
            self.broker_channel_expired_time.as_millis(),
            self.scan_not_active_broker_interval.as_millis(),
            self.max_frame_len,
            self.server_channel_max_idle_time.as_secs(),
        )
    }
}

fn parse<T: std::str::FromStr>(
    key: &str,
    value: &str,
    expected: &'static str,
) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        expected,
    })
}

fn parse_bool(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError::BadValue {
            key: key.to_string(),
            value: value.to_string(),
            expected: "boolean",
        }),
    }
}

pub use rmq_common::properties::parse_properties;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_known_keys_and_reports_unknown() {
        let mut c = NamesrvConfig::default();
        let unknown = c
            .apply(&parse_properties(
                "listenPort=9877\nbindAddress=0.0.0.0\nserverWorkerThreads=8\nfoo=bar\nscanNotActiveBrokerInterval=500",
            ))
            .unwrap();
        assert_eq!(unknown, vec!["foo".to_string()]);
        assert_eq!(c.listen_addr().to_string(), "0.0.0.0:9877");
        assert_eq!(
            c.scan_not_active_broker_interval,
            Duration::from_millis(500)
        );
        let err = c.apply(&parse_properties("listenPort=abc")).unwrap_err();
        assert!(err.to_string().contains("listenPort"));
        assert!(c
            .apply(&parse_properties("orderMessageEnable=yes"))
            .is_err());
    }
}
