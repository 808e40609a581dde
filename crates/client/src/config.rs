//! Settings shared by producers and consumers: where the name servers are, how
//! this client names itself, and how often it refreshes routes and heartbeats.
//!
//! Book: Part II "Producing" (clients and the name server). Mirrors `ClientConfig`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Client-wide settings; defaults are 4.8.0's.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `host:port;host:port`.
    pub namesrv_addr: String,
    /// Second half of the client id (`ip@instanceName`). `None` picks `pid#n`,
    /// unique per client in this process (4.8.0 uses the bare pid and shares one
    /// client instance per JVM; we give every producer/consumer its own).
    pub instance_name: Option<String>,
    /// The IP this client reports; `None` uses the local address of the
    /// connection to the name server.
    pub client_ip: Option<String>,
    /// `pollNameServerInterval`: route refresh period.
    pub poll_name_server_interval: Duration,
    /// `heartbeatBrokerInterval`.
    pub heartbeat_broker_interval: Duration,
    /// `persistConsumerOffsetInterval`.
    pub persist_consumer_offset_interval: Duration,
    /// Timeout of control requests (route, offsets, heartbeat, locks).
    pub api_timeout: Duration,
    /// Rebalance period (`rocketmq.client.rebalance.waitInterval`).
    pub rebalance_interval: Duration,
    /// ACL credentials: every request is signed with them (4.8.0: an `AclClientRPCHook`
    /// passed to the producer or consumer). `None`: requests go unsigned.
    pub credentials: Option<crate::acl::Credentials>,
    /// `namespace`: topics and groups go to the broker as `<namespace>%<name>` and come back
    /// without it (see [`crate::namespace`]); `None` or empty: no namespace.
    pub namespace: Option<String>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            namesrv_addr: String::new(),
            instance_name: None,
            client_ip: None,
            poll_name_server_interval: Duration::from_secs(30),
            heartbeat_broker_interval: Duration::from_secs(30),
            persist_consumer_offset_interval: Duration::from_secs(5),
            api_timeout: Duration::from_secs(3),
            rebalance_interval: Duration::from_secs(20),
            credentials: None,
            namespace: None,
        }
    }
}

static INSTANCE_SEQ: AtomicU32 = AtomicU32::new(0);

impl ClientConfig {
    /// A config for the given name-server list, other settings default.
    pub fn new(namesrv_addr: impl Into<String>) -> Self {
        ClientConfig {
            namesrv_addr: namesrv_addr.into(),
            ..Default::default()
        }
    }

    /// The namespace, "" when none.
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("").trim()
    }

    /// `withNamespace`: `resource` inside this client's namespace.
    pub fn with_namespace(&self, resource: &str) -> String {
        crate::namespace::wrap_namespace(self.namespace(), resource)
    }

    /// `withoutNamespace`: `resource` without this client's namespace.
    pub fn without_namespace(&self, resource: &str) -> String {
        crate::namespace::without_namespace_of(resource, self.namespace())
    }

    /// The name-server addresses, in configured order.
    pub fn namesrv_list(&self) -> Vec<String> {
        self.namesrv_addr
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The instance name to use: the configured one or a fresh `pid#n`.
    pub fn resolve_instance_name(&self) -> String {
        match &self.instance_name {
            Some(n) if !n.is_empty() => n.clone(),
            _ => {
                let seq = INSTANCE_SEQ.fetch_add(1, Ordering::Relaxed);
                format!("{}#{}", std::process::id(), seq)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namesrv_list_splits_and_trims() {
        let c = ClientConfig::new(" 127.0.0.1:9876; 127.0.0.1:9877 ;");
        assert_eq!(c.namesrv_list(), vec!["127.0.0.1:9876", "127.0.0.1:9877"]);
    }

    #[test]
    fn generated_instance_names_differ() {
        let c = ClientConfig::default();
        assert_ne!(c.resolve_instance_name(), c.resolve_instance_name());
        let named = ClientConfig {
            instance_name: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(named.resolve_instance_name(), "x");
    }
}
