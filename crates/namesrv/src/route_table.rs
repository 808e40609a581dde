//! The route table: which brokers exist, which clusters they form, which topics
//! they hold, and when each broker was last heard from.
//!
//! All five tables sit behind one read/write lock, as in 4.8.0, because every
//! registration touches several of them and readers need a consistent view.
//! Topic queue data is rebuilt only from masters and only when the broker's
//! `DataVersion` changed; topics are never pruned by a registration, only when a
//! broker name disappears or on DELETE_TOPIC_IN_NAMESRV.
//! Book: Part III "Name server". Mirrors `org.apache.rocketmq.namesrv.routeinfo.RouteInfoManager`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use rmq_remoting::protocol::route::MASTER_ID;
use rmq_remoting::protocol::{
    BrokerData, ClusterInfo, DataVersion, QueueData, TopicConfig, TopicConfigSerializeWrapper,
    TopicList, TopicRouteData,
};
use rmq_remoting::Connection;
use tracing::{info, warn};

/// `PermName.PERM_WRITE`.
const PERM_WRITE: i32 = 2;
/// `TopicSysFlag` bits.
const FLAG_UNIT: i32 = 1;
const FLAG_UNIT_SUB: i32 = 2;

// ANCHOR: live_info
/// Liveness record of one broker address.
struct BrokerLiveInfo {
    last_update: Instant,
    data_version: DataVersion,
    /// The connection the broker registered on (None for in-process callers).
    conn: Option<Weak<Connection>>,
    conn_id: Option<u64>,
    ha_server_addr: String,
}
// ANCHOR_END: live_info

// ANCHOR: tables
#[derive(Default)]
struct Tables {
    topic_queue_table: BTreeMap<String, Vec<QueueData>>,
    broker_addr_table: BTreeMap<String, BrokerData>,
    cluster_addr_table: BTreeMap<String, BTreeSet<String>>,
    broker_live_table: HashMap<String, BrokerLiveInfo>,
    filter_server_table: HashMap<String, Vec<String>>,
}
// ANCHOR_END: tables

/// One REGISTER_BROKER call, decoded.
pub struct BrokerRegistration {
    /// The cluster the broker belongs to (`brokerClusterName`).
    pub cluster_name: String,
    /// The broker's client-facing address, `ip:port`.
    pub broker_addr: String,
    /// The broker name shared by a master and its slaves.
    pub broker_name: String,
    /// 0 for the master, above 0 for a slave.
    pub broker_id: i64,
    /// The address slaves replicate from, `ip:haPort`.
    pub ha_server_addr: String,
    /// The broker's topic configs and their data version (Java: `topicConfigWrapper`).
    pub topic_config_wrapper: TopicConfigSerializeWrapper,
    /// Filter-server addresses the broker reports, if any (Java: `filterServerList`).
    pub filter_server_list: Option<Vec<String>>,
    /// The connection the request came on, closed if the broker expires (Java: `channel`); `None` in process.
    pub conn: Option<Arc<Connection>>,
}

/// What a registering slave learns about its master.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RegisterBrokerResult {
    /// The master's HA address, when the registering broker is a slave and its master is known.
    pub ha_server_addr: Option<String>,
    /// The master's address, when the registering broker is a slave and its master is known.
    pub master_addr: Option<String>,
}

/// The name server's routing state.
#[derive(Default)]
pub struct RouteInfoManager {
    tables: RwLock<Tables>,
}

impl RouteInfoManager {
    /// An empty routing table.
    pub fn new() -> Self {
        Self::default()
    }

    // ANCHOR: register_broker
    /// Records a broker's registration: cluster membership, address and liveness, and, from a
    /// master that is new or whose data version changed, its topics' queue data. A slave learns
    /// its master's addresses from the result.
    pub fn register_broker(&self, reg: BrokerRegistration) -> RegisterBrokerResult {
        let mut t = self.tables.write();
        t.cluster_addr_table
            .entry(reg.cluster_name.clone())
            .or_default()
            .insert(reg.broker_name.clone());

        let mut register_first = !t.broker_addr_table.contains_key(&reg.broker_name);
        let broker_data = t
            .broker_addr_table
            .entry(reg.broker_name.clone())
            .or_insert_with(|| BrokerData::new(&reg.cluster_name, &reg.broker_name));
        // One address, one id: a slave promoted to master must not linger as a slave.
        broker_data
            .broker_addrs
            .retain(|id, addr| !(addr == &reg.broker_addr && *id != reg.broker_id));
        let old = broker_data
            .broker_addrs
            .insert(reg.broker_id, reg.broker_addr.clone());
        register_first |= old.is_none();

        let wrapper = &reg.topic_config_wrapper;
        if reg.broker_id == MASTER_ID
            && (register_first || t.topic_config_changed(&reg.broker_addr, &wrapper.data_version))
        {
            for tc in wrapper.topic_config_table.values() {
                t.create_and_update_queue_data(&reg.broker_name, tc);
            }
        }

        let prev = t.broker_live_table.insert(
            reg.broker_addr.clone(),
            BrokerLiveInfo {
                last_update: Instant::now(),
                data_version: wrapper.data_version,
                conn: reg.conn.as_ref().map(Arc::downgrade),
                conn_id: reg.conn.as_ref().map(|c| c.id),
                ha_server_addr: reg.ha_server_addr.clone(),
            },
        );
        if prev.is_none() {
            info!(addr = %reg.broker_addr, ha = %reg.ha_server_addr, "new broker registered");
        }
        if let Some(list) = reg.filter_server_list {
            if list.is_empty() {
                t.filter_server_table.remove(&reg.broker_addr);
            } else {
                t.filter_server_table.insert(reg.broker_addr.clone(), list);
            }
        }

        let mut result = RegisterBrokerResult::default();
        if reg.broker_id != MASTER_ID {
            let master = t
                .broker_addr_table
                .get(&reg.broker_name)
                .and_then(|bd| bd.master_addr())
                .map(str::to_string);
            if let Some(master) = master {
                if let Some(live) = t.broker_live_table.get(&master) {
                    result.ha_server_addr = Some(live.ha_server_addr.clone());
                    result.master_addr = Some(master);
                }
            }
        }
        result
    }
    // ANCHOR_END: register_broker

    /// Forgets one broker (UNREGISTER_BROKER): its liveness, its address, and, when it was the
    /// last of its name, its name, its cluster entry and its queue data.
    pub fn unregister_broker(
        &self,
        cluster_name: &str,
        broker_addr: &str,
        broker_name: &str,
        broker_id: i64,
    ) {
        let mut t = self.tables.write();
        if t.broker_live_table.remove(broker_addr).is_some() {
            info!(
                addr = broker_addr,
                "unregisterBroker, remove from brokerLiveTable"
            );
        }
        t.filter_server_table.remove(broker_addr);
        let mut remove_name = false;
        if let Some(bd) = t.broker_addr_table.get_mut(broker_name) {
            bd.broker_addrs.remove(&broker_id);
            if bd.broker_addrs.is_empty() {
                t.broker_addr_table.remove(broker_name);
                remove_name = true;
            }
        }
        if remove_name {
            if let Some(names) = t.cluster_addr_table.get_mut(cluster_name) {
                names.remove(broker_name);
                if names.is_empty() {
                    t.cluster_addr_table.remove(cluster_name);
                }
            }
            t.remove_topics_of_broker_name(broker_name);
        }
    }

    // ANCHOR: pickup_route
    /// The route of `topic`, or `None` unless both queue data and a broker exist.
    pub fn pickup_topic_route_data(&self, topic: &str) -> Option<TopicRouteData> {
        let t = self.tables.read();
        let queue_datas = t.topic_queue_table.get(topic)?.clone();
        let names: BTreeSet<&str> = queue_datas.iter().map(|q| q.broker_name.as_str()).collect();
        let mut route = TopicRouteData {
            queue_datas: queue_datas.clone(),
            ..Default::default()
        };
        for name in names {
            if let Some(bd) = t.broker_addr_table.get(name) {
                for addr in bd.broker_addrs.values() {
                    if let Some(filters) = t.filter_server_table.get(addr) {
                        route
                            .filter_server_table
                            .insert(addr.clone(), filters.clone());
                    }
                }
                route.broker_datas.push(bd.clone());
            }
        }
        if route.broker_datas.is_empty() || route.queue_datas.is_empty() {
            return None;
        }
        Some(route)
    }
    // ANCHOR_END: pickup_route

    /// Every broker name with its addresses and every cluster with its broker names (GET_BROKER_CLUSTER_INFO).
    pub fn cluster_info(&self) -> ClusterInfo {
        let t = self.tables.read();
        ClusterInfo {
            broker_addr_table: t.broker_addr_table.clone(),
            cluster_addr_table: t.cluster_addr_table.clone(),
        }
    }

    /// Every topic that has a route (GET_ALL_TOPIC_LIST_FROM_NAMESERVER).
    pub fn all_topic_list(&self) -> TopicList {
        let t = self.tables.read();
        TopicList {
            broker_addr: None,
            topic_list: t.topic_queue_table.keys().cloned().collect(),
        }
    }

    /// Topics with at least one queue on a broker of `cluster`; empty for an unknown cluster.
    pub fn topics_by_cluster(&self, cluster: &str) -> TopicList {
        let t = self.tables.read();
        let mut list = TopicList::default();
        if let Some(names) = t.cluster_addr_table.get(cluster) {
            for (topic, qds) in &t.topic_queue_table {
                if qds.iter().any(|q| names.contains(&q.broker_name)) {
                    list.topic_list.insert(topic.clone());
                }
            }
        }
        list
    }

    /// Cluster names and broker names (they double as system topics), plus one broker address.
    pub fn system_topic_list(&self) -> TopicList {
        let t = self.tables.read();
        let mut list = TopicList::default();
        for (cluster, names) in &t.cluster_addr_table {
            list.topic_list.insert(cluster.clone());
            list.topic_list.extend(names.iter().cloned());
        }
        list.broker_addr = t
            .broker_addr_table
            .values()
            .find_map(|bd| bd.broker_addrs.values().next().cloned());
        list
    }

    /// Topics whose first queue data's sysFlag passes `pred` (unit topic lists).
    pub fn topics_with_flag(&self, pred: impl Fn(i32) -> bool) -> TopicList {
        let t = self.tables.read();
        TopicList {
            broker_addr: None,
            topic_list: t
                .topic_queue_table
                .iter()
                .filter(|(_, qds)| qds.first().is_some_and(|q| pred(q.topic_syn_flag)))
                .map(|(topic, _)| topic.clone())
                .collect(),
        }
    }

    /// Topics flagged as unit topics (GET_UNIT_TOPIC_LIST).
    pub fn unit_topics(&self) -> TopicList {
        self.topics_with_flag(|f| f & FLAG_UNIT != 0)
    }

    /// Topics flagged as having a unit subscription (GET_HAS_UNIT_SUB_TOPIC_LIST).
    pub fn has_unit_sub_topics(&self) -> TopicList {
        self.topics_with_flag(|f| f & FLAG_UNIT_SUB != 0)
    }

    /// Topics with a unit subscription that are not unit topics themselves (GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST).
    pub fn has_unit_sub_ununit_topics(&self) -> TopicList {
        self.topics_with_flag(|f| f & FLAG_UNIT == 0 && f & FLAG_UNIT_SUB != 0)
    }

    /// Clears the write bit on every queue data of `broker_name`; returns how many.
    pub fn wipe_write_perm_of_broker(&self, broker_name: &str) -> i32 {
        let mut t = self.tables.write();
        let mut count = 0;
        for qds in t.topic_queue_table.values_mut() {
            for qd in qds.iter_mut().filter(|q| q.broker_name == broker_name) {
                qd.perm &= !PERM_WRITE;
                count += 1;
            }
        }
        count
    }

    /// Removes a topic's route (DELETE_TOPIC_IN_NAMESRV); an unknown topic is ignored.
    pub fn delete_topic(&self, topic: &str) {
        self.tables.write().topic_queue_table.remove(topic);
    }

    /// True when `version` differs from the data version the broker last registered, or the broker is unknown.
    pub fn is_broker_topic_config_changed(&self, broker_addr: &str, version: &DataVersion) -> bool {
        self.tables
            .read()
            .topic_config_changed(broker_addr, version)
    }

    /// The data version of the broker's last registration, `None` for an unknown broker.
    pub fn query_broker_data_version(&self, broker_addr: &str) -> Option<DataVersion> {
        self.tables
            .read()
            .broker_live_table
            .get(broker_addr)
            .map(|l| l.data_version)
    }

    /// Marks a live broker as heard from now, so the expiry scan keeps it.
    pub fn touch_broker(&self, broker_addr: &str) {
        if let Some(live) = self.tables.write().broker_live_table.get_mut(broker_addr) {
            live.last_update = Instant::now();
        }
    }

    /// Live broker addresses (for tests and status output).
    pub fn live_brokers(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .tables
            .read()
            .broker_live_table
            .keys()
            .cloned()
            .collect();
        v.sort();
        v
    }

    // ANCHOR: scan_not_active
    /// Removes brokers not heard from within `expiry`, closing their connections.
    pub fn scan_not_active_broker(&self, expiry: Duration) -> Vec<String> {
        let now = Instant::now();
        let expired: Vec<(String, Option<Weak<Connection>>)> = self
            .tables
            .read()
            .broker_live_table
            .iter()
            .filter(|(_, l)| now.duration_since(l.last_update) > expiry)
            .map(|(addr, l)| (addr.clone(), l.conn.clone()))
            .collect();
        for (addr, conn) in &expired {
            warn!(addr = %addr, ?expiry, "the broker's channel expired");
            if let Some(conn) = conn.as_ref().and_then(Weak::upgrade) {
                conn.close();
            }
            self.remove_broker_addr(addr);
        }
        expired.into_iter().map(|(addr, _)| addr).collect()
    }
    // ANCHOR_END: scan_not_active

    // ANCHOR: on_connection_closed
    /// A connection closed: forget every broker that registered on it, at once.
    pub fn on_connection_closed(&self, conn_id: u64) -> Vec<String> {
        let addrs: Vec<String> = self
            .tables
            .read()
            .broker_live_table
            .iter()
            .filter(|(_, l)| l.conn_id == Some(conn_id))
            .map(|(addr, _)| addr.clone())
            .collect();
        for addr in &addrs {
            info!(addr = %addr, "the broker's channel destroyed, clean its data structure at once");
            self.remove_broker_addr(addr);
        }
        addrs
    }
    // ANCHOR_END: on_connection_closed

    // ANCHOR: remove_broker_addr
    /// Drops one broker address everywhere (`onChannelDestroy`).
    fn remove_broker_addr(&self, broker_addr: &str) {
        let mut t = self.tables.write();
        t.broker_live_table.remove(broker_addr);
        t.filter_server_table.remove(broker_addr);
        let mut emptied: Option<String> = None;
        let mut found = false;
        for bd in t.broker_addr_table.values_mut() {
            let before = bd.broker_addrs.len();
            bd.broker_addrs.retain(|_, addr| addr != broker_addr);
            if bd.broker_addrs.len() != before {
                found = true;
                if bd.broker_addrs.is_empty() {
                    emptied = Some(bd.broker_name.clone());
                }
                break;
            }
        }
        if !found {
            return;
        }
        if let Some(name) = emptied {
            info!(broker_name = %name, "remove brokerName, no address left");
            t.broker_addr_table.remove(&name);
            t.cluster_addr_table.retain(|_, names| {
                names.remove(&name);
                !names.is_empty()
            });
            t.remove_topics_of_broker_name(&name);
        }
    }
    // ANCHOR_END: remove_broker_addr
}

impl Tables {
    fn topic_config_changed(&self, broker_addr: &str, version: &DataVersion) -> bool {
        self.broker_live_table
            .get(broker_addr)
            .is_none_or(|l| &l.data_version != version)
    }

    // ANCHOR: queue_data
    fn create_and_update_queue_data(&mut self, broker_name: &str, tc: &TopicConfig) {
        let qd = QueueData {
            broker_name: broker_name.to_string(),
            perm: tc.perm,
            read_queue_nums: tc.read_queue_nums,
            topic_syn_flag: tc.topic_sys_flag,
            write_queue_nums: tc.write_queue_nums,
        };
        let list = self
            .topic_queue_table
            .entry(tc.topic_name.clone())
            .or_default();
        match list.iter_mut().find(|q| q.broker_name == broker_name) {
            Some(existing) if *existing == qd => {}
            Some(existing) => {
                info!(topic = %tc.topic_name, old = ?existing, new = ?qd, "topic changed");
                *existing = qd;
            }
            None => {
                info!(topic = %tc.topic_name, ?qd, "new topic registered");
                list.push(qd);
            }
        }
    }
    // ANCHOR_END: queue_data

    fn remove_topics_of_broker_name(&mut self, broker_name: &str) {
        self.topic_queue_table.retain(|topic, qds| {
            qds.retain(|q| q.broker_name != broker_name);
            if qds.is_empty() {
                info!(%topic, "remove topic, no queue data left");
            }
            !qds.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(
        name: &str,
        id: i64,
        addr: &str,
        topics: &[(&str, i32)],
        counter: i64,
    ) -> BrokerRegistration {
        let mut w = TopicConfigSerializeWrapper::default();
        w.data_version.counter = counter;
        for (t, n) in topics {
            let mut tc = TopicConfig::new(*t);
            tc.read_queue_nums = *n;
            tc.write_queue_nums = *n;
            w.topic_config_table.insert(t.to_string(), tc);
        }
        BrokerRegistration {
            cluster_name: "C".into(),
            broker_addr: addr.into(),
            broker_name: name.into(),
            broker_id: id,
            ha_server_addr: format!("{addr}-ha"),
            topic_config_wrapper: w,
            filter_server_list: Some(vec![]),
            conn: None,
        }
    }

    #[test]
    fn master_and_slave_share_a_broker_data() {
        let rim = RouteInfoManager::new();
        assert_eq!(
            rim.register_broker(reg("b", 0, "m:1", &[("T", 4)], 1)),
            RegisterBrokerResult::default()
        );
        let r = rim.register_broker(reg("b", 1, "s:1", &[("T", 8)], 1));
        assert_eq!(r.master_addr.as_deref(), Some("m:1"));
        assert_eq!(r.ha_server_addr.as_deref(), Some("m:1-ha"));
        let route = rim.pickup_topic_route_data("T").unwrap();
        assert_eq!(route.queue_datas.len(), 1);
        assert_eq!(
            route.queue_datas[0].read_queue_nums, 4,
            "slaves do not shape topics"
        );
        assert_eq!(route.broker_datas[0].broker_addrs.len(), 2);
        assert!(rim.pickup_topic_route_data("nope").is_none());
    }

    #[test]
    fn topics_update_only_on_version_change_and_are_never_pruned() {
        let rim = RouteInfoManager::new();
        rim.register_broker(reg("b", 0, "m:1", &[("T", 4), ("U", 1)], 1));
        rim.register_broker(reg("b", 0, "m:1", &[("T", 8)], 1));
        assert_eq!(
            rim.pickup_topic_route_data("T").unwrap().queue_datas[0].write_queue_nums,
            4
        );
        rim.register_broker(reg("b", 0, "m:1", &[("T", 8)], 2));
        assert_eq!(
            rim.pickup_topic_route_data("T").unwrap().queue_datas[0].write_queue_nums,
            8
        );
        assert!(rim.pickup_topic_route_data("U").is_some());
    }

    #[test]
    fn removing_the_last_address_removes_name_cluster_and_topics() {
        let rim = RouteInfoManager::new();
        rim.register_broker(reg("b", 0, "m:1", &[("T", 4)], 1));
        rim.register_broker(reg("b", 1, "s:1", &[], 1));
        rim.remove_broker_addr("s:1");
        assert!(
            rim.pickup_topic_route_data("T").is_some(),
            "slave removal keeps routes"
        );
        rim.unregister_broker("C", "m:1", "b", 0);
        assert!(rim.pickup_topic_route_data("T").is_none());
        assert!(rim.cluster_info().cluster_addr_table.is_empty());
        assert!(rim.all_topic_list().topic_list.is_empty());
    }

    #[test]
    fn slave_promotion_replaces_the_old_id() {
        let rim = RouteInfoManager::new();
        rim.register_broker(reg("b", 1, "x:1", &[], 1));
        rim.register_broker(reg("b", 0, "x:1", &[("T", 4)], 1));
        let info = rim.cluster_info();
        let ids: Vec<i64> = info.broker_addr_table["b"]
            .broker_addrs
            .keys()
            .copied()
            .collect();
        assert_eq!(ids, vec![0]);
    }

    #[test]
    fn wipe_and_expiry() {
        let rim = RouteInfoManager::new();
        rim.register_broker(reg("b", 0, "m:1", &[("T", 4), ("U", 4)], 1));
        assert_eq!(rim.wipe_write_perm_of_broker("b"), 2);
        assert_eq!(
            rim.pickup_topic_route_data("T").unwrap().queue_datas[0].perm,
            4
        );
        assert!(rim
            .scan_not_active_broker(Duration::from_secs(60))
            .is_empty());
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            rim.scan_not_active_broker(Duration::from_millis(10)),
            vec!["m:1".to_string()]
        );
        assert!(rim.live_brokers().is_empty());
        assert!(rim.pickup_topic_route_data("T").is_none());
    }
}
