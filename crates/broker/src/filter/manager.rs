//! ConsumerFilterManager: the compiled SQL92 expression of every (topic, consumer group),
//! registered from heartbeats, versioned by the subscription's `subVersion`, and persisted to
//! `config/consumerFilter.json` in 4.8.0's shape:
//!
//! ```text
//! {"filterDataByTopic":{"<topic>":{"groupFilterData":{"<group>":{
//!     "bloomFilterData":{"bitNum":112,"bitPos":[a,b,c]},"bornTime":ms,"clientVersion":v,
//!     "consumerGroup":"g","dead":false,"deadTime":0,"expression":"a > 5",
//!     "expressionType":"SQL92","topic":"T"}},"topic":"T"}}}
//! ```
//!
//! Life of an entry: born on the first heartbeat that carries it (a compile error registers
//! nothing, so pulls then get FILTER_DATA_NOT_EXIST); replaced when a newer `subVersion`
//! changes the expression; marked dead (`deadTime`) when the group drops the topic or its
//! last client leaves, revived by a heartbeat of the same version, and dropped after
//! `filterDataCleanTimeSpan` dead. After a restart every entry is dead until a heartbeat
//! revives it, and its bit positions are kept only if the bloom filter's shape is unchanged.
//! Book: Part II, "Filtering". Mirrors `ConsumerFilterManager`, `ConsumerFilterData` and
//! `FilterDataMapByTopic`.

use crate::persist;
use parking_lot::RwLock;
use rmq_filter::{BloomFilter, BloomFilterData, Expr};
use rmq_remoting::protocol::heartbeat::SubscriptionData;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// One group's filter on one topic (`ConsumerFilterData`).
#[derive(Debug, Clone)]
pub struct FilterData {
    /// The consumer group.
    pub consumer_group: String,
    /// The topic it filters.
    pub topic: String,
    /// The expression as the client sent it.
    pub expression: String,
    /// `SQL92` (or another type a client names).
    pub expression_type: String,
    /// The compiled expression; `None` when a persisted expression no longer compiles.
    pub compiled: Option<Arc<Expr>>,
    /// When the entry was built (ms).
    pub born_time: i64,
    /// When it died (ms); 0 while alive. Dead means `dead_time >= born_time`.
    pub dead_time: i64,
    /// The group's bloom positions (`group#topic`).
    pub bloom: Option<BloomFilterData>,
    /// The `subVersion` of the subscription it came from.
    pub client_version: i64,
}

impl FilterData {
    /// `isDead`.
    pub fn is_dead(&self) -> bool {
        self.dead_time >= self.born_time
    }

    /// `isMsgInLive`: a message stored after this entry was built (its bit map may include us).
    pub fn is_msg_in_live(&self, msg_store_time: i64) -> bool {
        msg_store_time > self.born_time
    }

    fn to_json(&self) -> Value {
        let bloom = self
            .bloom
            .as_ref()
            .map(|b| json!({"bitNum": b.bit_num, "bitPos": b.bit_pos}));
        json!({
            "bloomFilterData": bloom,
            "bornTime": self.born_time,
            "clientVersion": self.client_version,
            "consumerGroup": self.consumer_group,
            "dead": self.is_dead(),
            "deadTime": self.dead_time,
            "expression": self.expression,
            "expressionType": self.expression_type,
            "topic": self.topic,
        })
    }

    fn from_json(v: &Value) -> Option<FilterData> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        let n = |k: &str| {
            v.get(k).and_then(|x| {
                x.as_i64()
                    .or_else(|| x.as_str().and_then(|t| t.trim().parse().ok()))
            })
        };
        let bloom = v.get("bloomFilterData").and_then(|b| {
            Some(BloomFilterData {
                bit_num: b.get("bitNum")?.as_i64()? as i32,
                bit_pos: b
                    .get("bitPos")?
                    .as_array()?
                    .iter()
                    .filter_map(|p| p.as_i64().map(|p| p as i32))
                    .collect(),
            })
        });
        Some(FilterData {
            consumer_group: s("consumerGroup")?,
            topic: s("topic")?,
            expression: s("expression").unwrap_or_default(),
            expression_type: s("expressionType").unwrap_or_default(),
            compiled: None,
            born_time: n("bornTime").unwrap_or(0),
            dead_time: n("deadTime").unwrap_or(0),
            bloom,
            client_version: n("clientVersion").unwrap_or(0),
        })
    }
}

fn now_ms() -> i64 {
    rmq_store::now_ms()
}

/// See the module docs.
pub struct ConsumerFilterManager {
    /// topic -> group -> filter data (`filterDataByTopic`).
    table: RwLock<BTreeMap<String, BTreeMap<String, FilterData>>>,
    bloom: BloomFilter,
    /// `filterDataCleanTimeSpan` (ms).
    clean_time_span_ms: i64,
    path: PathBuf,
}

impl ConsumerFilterManager {
    /// Loads `config/consumerFilter.json` (or its backup) for a bloom filter of this shape.
    pub fn load(
        config_dir: &std::path::Path,
        bloom: BloomFilter,
        clean_time_span_ms: i64,
    ) -> ConsumerFilterManager {
        let m = ConsumerFilterManager {
            table: RwLock::new(BTreeMap::new()),
            bloom,
            clean_time_span_ms,
            path: config_dir.join("consumerFilter.json"),
        };
        if let Some(text) = persist::read_with_backup(&m.path) {
            m.decode(&text);
        }
        m
    }

    /// The bloom filter every group's positions come from.
    pub fn bloom(&self) -> &BloomFilter {
        &self.bloom
    }

    /// `decode`: recompile every entry; keep them only if every stored bloom datum fits the
    /// current filter; entries alive when written are taken as dead 30 s ago (their clients
    /// must heartbeat again).
    fn decode(&self, text: &str) {
        let normalized = rmq_remoting::protocol::fastjson::normalize(text);
        let Ok(v) = serde_json::from_str::<Value>(&normalized) else {
            tracing::error!(path = %self.path.display(), "consumerFilter.json is not valid JSON; ignored");
            return;
        };
        let mut table = BTreeMap::new();
        let empty = serde_json::Map::new();
        let topics = v
            .get("filterDataByTopic")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        for (topic, by_topic) in topics {
            let groups = by_topic
                .get("groupFilterData")
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            let mut out = BTreeMap::new();
            for (group, fd) in groups {
                let Some(mut d) = FilterData::from_json(fd) else {
                    continue;
                };
                match rmq_filter::compile(&d.expression_type, &d.expression) {
                    Ok(e) => d.compiled = Some(Arc::new(e)),
                    Err(e) => tracing::error!(topic, group, error = %e, "load filter data error"),
                }
                if !d.bloom.as_ref().is_some_and(|b| self.bloom.is_valid(b)) {
                    tracing::info!("Bloom filter is changed! So ignore all filter data persisted!");
                    return;
                }
                if d.dead_time == 0 {
                    d.dead_time = (now_ms() - 30_000).max(d.born_time);
                }
                out.insert(group.clone(), d);
            }
            table.insert(topic.clone(), out);
        }
        *self.table.write() = table;
    }

    /// `build`: a new entry, compiled; `None` for a tag subscription or a compile error.
    pub fn build(
        topic: &str,
        group: &str,
        expression: &str,
        expression_type: &str,
        client_version: i64,
    ) -> Option<FilterData> {
        if rmq_filter::is_tag_type(Some(expression_type)) {
            return None;
        }
        match rmq_filter::compile(expression_type, expression) {
            Ok(e) => Some(FilterData {
                consumer_group: group.to_string(),
                topic: topic.to_string(),
                expression: expression.to_string(),
                expression_type: expression_type.to_string(),
                compiled: Some(Arc::new(e)),
                born_time: now_ms(),
                dead_time: 0,
                bloom: None,
                client_version,
            }),
            Err(e) => {
                tracing::error!(expression, topic, group, error = %e, "parse error");
                None
            }
        }
    }

    // ANCHOR: filter_register
    /// A heartbeat's subscriptions of `group` (`register(group, subList)`): each SQL92 one is
    /// registered; the group's entries for topics it no longer subscribes to are marked dead.
    pub fn register_group(&self, group: &str, subs: &[SubscriptionData]) {
        for s in subs {
            self.register(
                &s.topic,
                group,
                &s.sub_string,
                &s.expression_type,
                s.sub_version,
            );
        }
        let now = now_ms();
        let mut table = self.table.write();
        for (topic, groups) in table.iter_mut() {
            if let Some(d) = groups.get_mut(group) {
                if !subs.iter().any(|s| &s.topic == topic) && !d.is_dead() {
                    d.dead_time = now;
                    tracing::info!(
                        group,
                        topic,
                        "Consumer filter changed: make illegal topic dead"
                    );
                }
            }
        }
    }

    /// One subscription (`register(topic, group, expression, type, version)`); returns
    /// whether anything changed.
    pub fn register(
        &self,
        topic: &str,
        group: &str,
        expression: &str,
        expression_type: &str,
        client_version: i64,
    ) -> bool {
        if rmq_filter::is_tag_type(Some(expression_type)) || expression.is_empty() {
            return false;
        }
        let bloom = self.bloom.generate(&format!("{group}#{topic}"));
        let mut table = self.table.write();
        let groups = table.entry(topic.to_string()).or_default();
        let Some(old) = groups.get_mut(group) else {
            let Some(mut d) =
                Self::build(topic, group, expression, expression_type, client_version)
            else {
                return false;
            };
            d.bloom = Some(bloom);
            tracing::info!(topic, group, expression, "New consumer filter registered");
            groups.insert(group.to_string(), d);
            return true;
        };
        if client_version <= old.client_version {
            if client_version == old.client_version && old.is_dead() {
                old.dead_time = 0; // reAlive
                return true;
            }
            return false;
        }
        let changed = old.expression != expression
            || old.expression_type != expression_type
            || old.bloom.as_ref() != Some(&bloom);
        if changed {
            match Self::build(topic, group, expression, expression_type, client_version) {
                Some(mut d) => {
                    d.bloom = Some(bloom);
                    tracing::info!(topic, group, expression, "Consumer filter info change");
                    *old = d;
                    true
                }
                None => {
                    // the new expression does not compile: forget the old one, the client's
                    // pulls report the error
                    groups.remove(group);
                    false
                }
            }
        } else {
            old.client_version = client_version;
            if old.is_dead() {
                old.dead_time = 0;
            }
            true
        }
    }
    // ANCHOR_END: filter_register

    /// The group's last client left (`unRegister`): its entries are marked dead.
    pub fn unregister(&self, group: &str) {
        let now = now_ms();
        for groups in self.table.write().values_mut() {
            if let Some(d) = groups.get_mut(group) {
                if !d.is_dead() {
                    tracing::info!(group, topic = %d.topic, "Unregister consumer filter");
                    d.dead_time = now;
                }
            }
        }
    }

    /// The entry of (topic, group).
    pub fn get(&self, topic: &str, group: &str) -> Option<FilterData> {
        self.table.read().get(topic)?.get(group).cloned()
    }

    /// Runs `f` on every entry of a topic, dead ones included as in 4.8.0, under the read
    /// lock (the bit-map dispatcher's loop: no copies per message).
    pub fn for_each_in_topic(&self, topic: &str, mut f: impl FnMut(&FilterData)) {
        if let Some(groups) = self.table.read().get(topic) {
            groups.values().for_each(&mut f);
        }
    }

    /// Whether any topic has filter data (a cheap check before computing bit maps).
    pub fn has_topic(&self, topic: &str) -> bool {
        self.table.read().get(topic).is_some_and(|g| !g.is_empty())
    }

    /// Drops entries dead for longer than `filterDataCleanTimeSpan` and emptied topics.
    pub fn clean(&self) {
        let now = now_ms();
        let span = self.clean_time_span_ms;
        let mut table = self.table.write();
        for groups in table.values_mut() {
            groups.retain(|_, d| !(d.is_dead() && now - d.dead_time >= span));
        }
        table.retain(|_, g| !g.is_empty());
    }

    /// The file's JSON (`encode`, after `clean`).
    pub fn encode(&self) -> String {
        self.clean();
        let table = self.table.read();
        let mut topics = serde_json::Map::new();
        for (topic, groups) in table.iter() {
            let mut g = serde_json::Map::new();
            for (name, d) in groups {
                g.insert(name.clone(), d.to_json());
            }
            topics.insert(
                topic.clone(),
                json!({"groupFilterData": Value::Object(g), "topic": topic}),
            );
        }
        json!({ "filterDataByTopic": Value::Object(topics) }).to_string()
    }

    /// Writes `config/consumerFilter.json` (every 10 s and at shutdown).
    pub fn persist(&self) {
        if let Err(e) = persist::write_atomic(&self.path, &self.encode()) {
            tracing::error!(path = %self.path.display(), error = %e, "persist consumer filter failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(topic: &str, expr: &str, version: i64) -> SubscriptionData {
        SubscriptionData {
            class_filter_mode: false,
            code_set: Default::default(),
            expression_type: "SQL92".into(),
            sub_string: expr.into(),
            sub_version: version,
            tags_set: Default::default(),
            topic: topic.into(),
        }
    }

    fn manager(dir: &std::path::Path) -> ConsumerFilterManager {
        ConsumerFilterManager::load(dir, BloomFilter::create_by_fn(20, 32).unwrap(), 86_400_000)
    }

    #[test]
    fn versions_decide_and_bad_expressions_register_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(dir.path());
        m.register_group("g", &[sub("T", "a > 5", 10)]);
        let d = m.get("T", "g").unwrap();
        assert_eq!((d.expression.as_str(), d.client_version), ("a > 5", 10));
        assert_eq!(d.bloom.as_ref().unwrap().bit_pos.len(), 3);
        // an older version changes nothing
        m.register_group("g", &[sub("T", "a > 6", 9)]);
        assert_eq!(m.get("T", "g").unwrap().expression, "a > 5");
        // a newer one replaces it
        m.register_group("g", &[sub("T", "a > 6", 11)]);
        assert_eq!(m.get("T", "g").unwrap().expression, "a > 6");
        // a newer one that does not compile removes it
        m.register_group("g", &[sub("T", "a >", 12)]);
        assert!(m.get("T", "g").is_none());
        m.register_group("g2", &[sub("T", "a >>", 1)]);
        assert!(m.get("T", "g2").is_none());
    }

    #[test]
    fn dropped_topics_die_and_same_version_revives() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(dir.path());
        m.register_group("g", &[sub("T", "a > 5", 10)]);
        m.register_group("g", &[]);
        assert!(m.get("T", "g").unwrap().is_dead());
        m.register_group("g", &[sub("T", "a > 5", 10)]);
        assert!(!m.get("T", "g").unwrap().is_dead());
        m.unregister("g");
        assert!(m.get("T", "g").unwrap().is_dead());
    }

    #[test]
    fn persisted_in_4_8_0_shape_and_dead_after_reload() {
        let dir = tempfile::tempdir().unwrap();
        let m = manager(dir.path());
        m.register_group("g", &[sub("T", "a BETWEEN 1 AND 3", 7)]);
        m.persist();
        let text = std::fs::read_to_string(dir.path().join("consumerFilter.json")).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        let d = &v["filterDataByTopic"]["T"]["groupFilterData"]["g"];
        assert_eq!(d["expressionType"], "SQL92");
        assert_eq!(d["bloomFilterData"]["bitNum"], 112);
        assert_eq!(d["dead"], false);
        assert_eq!(v["filterDataByTopic"]["T"]["topic"], "T");
        let m2 = manager(dir.path());
        let d2 = m2.get("T", "g").unwrap();
        assert!(d2.is_dead(), "clients must heartbeat again after a restart");
        assert!(d2.compiled.is_some());
        m2.register_group("g", &[sub("T", "a BETWEEN 1 AND 3", 7)]);
        assert!(!m2.get("T", "g").unwrap().is_dead());
        // another bloom shape ignores everything stored
        let m3 =
            ConsumerFilterManager::load(dir.path(), BloomFilter::create_by_fn(20, 64).unwrap(), 1);
        assert!(m3.get("T", "g").is_none());
    }
}
