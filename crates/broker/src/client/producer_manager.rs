//! ProducerManager: producer groups and their connections, from heartbeats; expiry as consumers.
//! Mirrors `org.apache.rocketmq.broker.client().ProducerManager`.

use super::consumer_manager::{ClientChannel, CHANNEL_EXPIRED};
use parking_lot::Mutex;
use std::collections::HashMap;

/// Producer groups and their connections, from heartbeats (`ProducerManager`).
#[derive(Default)]
pub struct ProducerManager {
    groups: Mutex<HashMap<String, HashMap<u64, ClientChannel>>>,
}

impl ProducerManager {
    /// Records (or refreshes) a producer connection of `group`.
    pub fn register(&self, group: &str, ch: ClientChannel) {
        self.groups
            .lock()
            .entry(group.to_string())
            .or_default()
            .insert(ch.conn.id(), ch);
    }

    /// Forgets connection `conn_id` of `group` (UNREGISTER_CLIENT).
    pub fn unregister(&self, group: &str, conn_id: u64) {
        let mut g = self.groups.lock();
        if let Some(m) = g.get_mut(group) {
            m.remove(&conn_id);
            if m.is_empty() {
                g.remove(group);
            }
        }
    }

    /// Forgets a closed connection in every group.
    pub fn channel_closed(&self, conn_id: u64) {
        let mut g = self.groups.lock();
        for m in g.values_mut() {
            m.remove(&conn_id);
        }
        g.retain(|_, m| !m.is_empty());
    }

    /// Drops connections silent for longer than [`CHANNEL_EXPIRED`].
    pub fn scan_expired(&self) {
        let mut g = self.groups.lock();
        for m in g.values_mut() {
            m.retain(|_, c| c.last_update.elapsed() < CHANNEL_EXPIRED);
        }
        g.retain(|_, m| !m.is_empty());
    }

    /// The connection of the producer whose client id is `client_id`, in any group
    /// (`ProducerManager.findChannel`; request-reply pushes replies down it).
    pub fn find_channel(&self, client_id: &str) -> Option<ClientChannel> {
        self.groups
            .lock()
            .values()
            .flat_map(|m| m.values())
            .filter(|c| c.client_id == client_id && !c.conn.is_closed())
            .max_by_key(|c| c.last_update)
            .cloned()
    }

    /// The connections of `group` (transaction check-backs go to one of them).
    pub fn channels(&self, group: &str) -> Vec<ClientChannel> {
        self.groups
            .lock()
            .get(group)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }
}
