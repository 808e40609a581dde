//! ConsumerManager: consumer groups built from heartbeats (channel -> client id, subscriptions),
//! expiry after 120 s without a heartbeat or at once on connection close, and the
//! NOTIFY_CONSUMER_IDS_CHANGED push to a group's clients when membership changes.
//! Mirrors `ConsumerManager` + `ConsumerGroupInfo` + `DefaultConsumerIdsChangeListener`.

use parking_lot::Mutex;
use rmq_remoting::protocol::header::NotifyConsumerIdsChangedRequestHeader;
use rmq_remoting::protocol::heartbeat::{
    ConsumeFromWhere, ConsumeType, MessageModel, SubscriptionData,
};
use rmq_remoting::Connection;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A client not heard from for this long is dropped (4.8.0 `CHANNEL_EXPIRED_TIMEOUT`).
pub const CHANNEL_EXPIRED: Duration = Duration::from_secs(120);

/// One client connection of a group, as its last heartbeat described it.
#[derive(Clone)]
pub struct ClientChannel {
    /// The connection.
    pub conn: Arc<Connection>,
    /// The client id (`ip@instance`) the client sent.
    pub client_id: String,
    /// The client's language (`JAVA`, `GO`, `CPP`, ...).
    pub language: String,
    /// The client's version (`MQVersion` ordinal).
    pub version: i32,
    /// When the last heartbeat arrived.
    pub last_update: Instant,
}

/// A consumer group as its heartbeats describe it (`ConsumerGroupInfo`).
#[derive(Clone)]
pub struct ConsumerGroupInfo {
    /// The group's connections, by connection id.
    pub channels: HashMap<u64, ClientChannel>,
    /// What the group subscribes to, by topic.
    pub subscriptions: BTreeMap<String, SubscriptionData>,
    /// Push or pull.
    pub consume_type: ConsumeType,
    /// Clustering or broadcasting.
    pub message_model: MessageModel,
    /// Where a queue without an offset starts.
    pub consume_from_where: ConsumeFromWhere,
}

/// Consumer groups and their connections, from heartbeats (`ConsumerManager`).
#[derive(Default)]
pub struct ConsumerManager {
    groups: Mutex<HashMap<String, ConsumerGroupInfo>>,
}

impl ConsumerManager {
    // ANCHOR: consumer_register
    /// Registers a heartbeat; returns true when the group's membership changed.
    #[allow(clippy::too_many_arguments)]
    pub fn register(
        &self,
        group: &str,
        channel: ClientChannel,
        consume_type: ConsumeType,
        message_model: MessageModel,
        from_where: ConsumeFromWhere,
        subs: Vec<SubscriptionData>,
    ) -> bool {
        let mut g = self.groups.lock();
        let info = g
            .entry(group.to_string())
            .or_insert_with(|| ConsumerGroupInfo {
                channels: HashMap::new(),
                subscriptions: BTreeMap::new(),
                consume_type,
                message_model,
                consume_from_where: from_where,
            });
        info.consume_type = consume_type;
        info.message_model = message_model;
        info.consume_from_where = from_where;
        let mut changed = !info.channels.contains_key(&channel.conn.id());
        info.channels.insert(channel.conn.id(), channel);
        let subs: BTreeMap<String, SubscriptionData> =
            subs.into_iter().map(|s| (s.topic.clone(), s)).collect();
        // A different topic set also makes clients rebalance (4.8.0 updateSubscription).
        if !subs.keys().eq(info.subscriptions.keys()) {
            changed = true;
        }
        info.subscriptions = subs;
        changed
    }
    // ANCHOR_END: consumer_register

    /// Removes a client from one group; true if it was there.
    pub fn unregister(&self, group: &str, conn_id: u64) -> bool {
        let mut g = self.groups.lock();
        let Some(info) = g.get_mut(group) else {
            return false;
        };
        let removed = info.channels.remove(&conn_id).is_some();
        if info.channels.is_empty() {
            g.remove(group);
        }
        removed
    }

    // ANCHOR: channel_closed
    /// A connection closed: drop it everywhere; returns the groups that changed.
    pub fn channel_closed(&self, conn_id: u64) -> Vec<String> {
        let mut g = self.groups.lock();
        let mut changed = Vec::new();
        for (name, info) in g.iter_mut() {
            if info.channels.remove(&conn_id).is_some() {
                changed.push(name.clone());
            }
        }
        g.retain(|_, i| !i.channels.is_empty());
        changed
    }
    // ANCHOR_END: channel_closed

    // ANCHOR: scan_expired
    /// Drops channels silent for more than 120 s; returns the groups that changed.
    pub fn scan_expired(&self) -> Vec<String> {
        let mut g = self.groups.lock();
        let mut changed = Vec::new();
        for (name, info) in g.iter_mut() {
            let before = info.channels.len();
            info.channels
                .retain(|_, c| c.last_update.elapsed() < CHANNEL_EXPIRED);
            if info.channels.len() != before {
                tracing::warn!("consumer group {name}: expired idle channels");
                changed.push(name.clone());
            }
        }
        g.retain(|_, i| !i.channels.is_empty());
        changed
    }
    // ANCHOR_END: scan_expired

    /// A copy of the group's state, if any client of it is connected.
    pub fn group(&self, group: &str) -> Option<ConsumerGroupInfo> {
        self.groups.lock().get(group).cloned()
    }

    /// The client ids connected to `group` (NOTIFY_CONSUMER_IDS_CHANGED, GET_CONSUMER_LIST_BY_GROUP).
    pub fn client_ids(&self, group: &str) -> Vec<String> {
        self.group(group)
            .map(|i| i.channels.values().map(|c| c.client_id.clone()).collect())
            .unwrap_or_default()
    }

    /// Groups whose subscriptions include `topic`.
    pub fn groups_by_topic(&self, topic: &str) -> Vec<String> {
        self.groups
            .lock()
            .iter()
            .filter(|(_, i)| i.subscriptions.contains_key(topic))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The channel of a client id in a group (for forwarded admin calls).
    pub fn find_channel(&self, group: &str, client_id: &str) -> Option<Arc<Connection>> {
        self.group(group)?
            .channels
            .values()
            .find(|c| c.client_id == client_id)
            .map(|c| c.conn.clone())
    }

    // ANCHOR: notify_ids_changed
    /// Sends NOTIFY_CONSUMER_IDS_CHANGED (40) oneway to every client of the group.
    pub fn notify_ids_changed(&self, group: &str) {
        let Some(info) = self.group(group) else {
            return;
        };
        let header = NotifyConsumerIdsChangedRequestHeader {
            consumer_group: group.to_string(),
        };
        for c in info.channels.values() {
            let cmd = rmq_remoting::RemotingCommand::new_request(
                rmq_remoting::codes::request::NOTIFY_CONSUMER_IDS_CHANGED,
            )
            .with_header(&header);
            let conn = c.conn.clone();
            tokio::spawn(async move {
                if let Err(e) = conn.send_oneway(cmd).await {
                    tracing::debug!("notify consumer ids changed failed: {e}");
                }
            });
        }
    }
    // ANCHOR_END: notify_ids_changed
}
