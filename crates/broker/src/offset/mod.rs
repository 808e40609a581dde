//! ConsumerOffsetManager: committed offsets per `topic@group` and queue id, persisted to
//! `config/consumerOffset.json` in fastjson's form (bare integer queue-id keys), flushed
//! every few seconds and on shutdown. Mirrors `org.apache.rocketmq.broker.offset.ConsumerOffsetManager`.
//! Book: Part II, "Consumer offsets".

use crate::persist;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Committed consumer offsets, `topic@group` -> queue -> offset (`ConsumerOffsetManager`).
pub struct ConsumerOffsetManager {
    table: Mutex<BTreeMap<String, BTreeMap<i32, i64>>>,
    path: PathBuf,
}

/// `ConsumerOffsetSerializeWrapper`: the file and the GET_ALL_CONSUMER_OFFSET body.
#[derive(serde::Deserialize)]
struct OffsetFile {
    #[serde(rename = "offsetTable", default)]
    offset_table: BTreeMap<String, BTreeMap<i32, i64>>,
}

/// Reads the fastjson text (`{"offsetTable":{"T@G":{0:5}}}`, bare integer keys).
fn parse_offset_table(
    text: &str,
) -> Result<BTreeMap<String, BTreeMap<i32, i64>>, serde_json::Error> {
    rmq_remoting::protocol::fastjson::from_str::<OffsetFile>(text).map(|f| f.offset_table)
}

impl ConsumerOffsetManager {
    /// Loads `<config_dir>/consumerOffset.json` (or its backup); an absent file is an empty table.
    pub fn load(config_dir: &std::path::Path) -> anyhow::Result<ConsumerOffsetManager> {
        let path = config_dir.join("consumerOffset.json");
        let mut table = BTreeMap::new();
        if let Some(text) = persist::read_with_backup(&path) {
            table = parse_offset_table(&text)
                .map_err(|e| anyhow::anyhow!("{} is not valid: {e}", path.display()))?;
        }
        Ok(ConsumerOffsetManager {
            table: Mutex::new(table),
            path,
        })
    }

    fn key(topic: &str, group: &str) -> String {
        format!("{topic}@{group}")
    }

    // ANCHOR: commit_offset
    /// Records a consumer's committed offset (UPDATE_CONSUMER_OFFSET or a pull's commit flag).
    /// Memory only; the periodic flush writes the file.
    pub fn commit(&self, group: &str, topic: &str, queue_id: i32, offset: i64) {
        self.table
            .lock()
            .entry(Self::key(topic, group))
            .or_default()
            .insert(queue_id, offset);
    }
    // ANCHOR_END: commit_offset

    /// The committed offset, or -1 when there is none.
    pub fn query(&self, group: &str, topic: &str, queue_id: i32) -> i64 {
        self.table
            .lock()
            .get(&Self::key(topic, group))
            .and_then(|m| m.get(&queue_id).copied())
            .unwrap_or(-1)
    }

    /// Groups with offsets for `topic`.
    pub fn groups_of_topic(&self, topic: &str) -> Vec<String> {
        self.table
            .lock()
            .keys()
            .filter_map(|k| k.split_once('@'))
            .filter(|(t, _)| *t == topic)
            .map(|(_, g)| g.to_string())
            .collect()
    }

    /// Topics a group has offsets for.
    pub fn topics_of_group(&self, group: &str) -> Vec<String> {
        self.table
            .lock()
            .keys()
            .filter_map(|k| k.split_once('@'))
            .filter(|(_, g)| *g == group)
            .map(|(t, _)| t.to_string())
            .collect()
    }

    /// Every queue's committed offset of `group` in `topic` (`queryOffset(group, topic)`).
    pub fn offsets_of(&self, group: &str, topic: &str) -> BTreeMap<i32, i64> {
        self.table
            .lock()
            .get(&Self::key(topic, group))
            .cloned()
            .unwrap_or_default()
    }

    /// Copies `src`'s offsets in `topic` to `dest`, replacing `dest`'s (`cloneOffset`);
    /// nothing happens when `src` has none. Returns whether anything was copied.
    pub fn clone_offset(&self, src: &str, dest: &str, topic: &str) -> bool {
        let mut table = self.table.lock();
        let Some(offsets) = table.get(&Self::key(topic, src)).cloned() else {
            return false;
        };
        table.insert(Self::key(topic, dest), offsets);
        true
    }

    /// Per queue of `topic`, the smallest committed offset among the groups not named in
    /// `exclude`, counting only offsets at or above the queue's min offset (`min_offset_of`)
    /// (`queryMinOffsetInAllGroup`). 4.8.0 removes the excluded groups' entries from its own
    /// table while doing this; here the table is left as it is.
    pub fn min_offset_in_groups(
        &self,
        topic: &str,
        exclude: &[&str],
        min_offset_of: impl Fn(i32) -> i64,
    ) -> BTreeMap<i32, i64> {
        let mut min: BTreeMap<i32, i64> = BTreeMap::new();
        for (key, queues) in self.table.lock().iter() {
            let Some((t, g)) = key.split_once('@') else {
                continue;
            };
            if t != topic || exclude.contains(&g) {
                continue;
            }
            for (&qid, &offset) in queues {
                if offset >= min_offset_of(qid) {
                    let m = min.entry(qid).or_insert(i64::MAX);
                    *m = (*m).min(offset);
                }
            }
        }
        min
    }

    /// A slave's copy of its master's offsets (`SlaveSynchronize.syncConsumerOffset`): every
    /// `topic@group` in the master's table replaces ours (Java's `putAll`); entries the master
    /// does not have stay. Returns how many entries were copied. The caller persists.
    pub fn put_all_from_master(&self, body: &str) -> anyhow::Result<usize> {
        let theirs = parse_offset_table(body)?;
        let n = theirs.len();
        self.table.lock().extend(theirs);
        Ok(n)
    }

    /// The GET_ALL_CONSUMER_OFFSET body: the same table in fastjson's compact form (4.8.0
    /// `encode()`; the file uses the pretty form below).
    pub fn encode_compact(&self) -> String {
        #[derive(serde::Serialize)]
        struct Wire<'a> {
            #[serde(rename = "offsetTable")]
            offset_table: &'a BTreeMap<String, BTreeMap<i32, i64>>,
        }
        let t = self.table.lock();
        rmq_remoting::protocol::fastjson::to_string(&Wire { offset_table: &t })
            .unwrap_or_else(|_| "{\"offsetTable\":{}}".to_string())
    }

    // ANCHOR: offset_file
    /// The file text, fastjson style: `{"offsetTable":{"T@G":{0:5,1:3}}}`.
    pub fn encode(&self) -> String {
        let t = self.table.lock();
        let mut s = String::from("{\n\t\"offsetTable\":{");
        for (i, (k, qs)) in t.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let key = serde_json::to_string(k).unwrap_or_default();
            let _ = write!(s, "\n\t\t{key}:{{");
            for (j, (q, o)) in qs.iter().enumerate() {
                if j > 0 {
                    s.push(',');
                }
                let _ = write!(s, "{q}:{o}");
            }
            s.push('}');
        }
        s.push_str("\n\t}\n}");
        s
    }
    // ANCHOR_END: offset_file

    /// Writes the table to `consumerOffset.json` (failures are logged).
    pub fn persist(&self) {
        if let Err(e) = persist::write_atomic(&self.path, &self.encode()) {
            tracing::error!("writing {} failed: {e}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_and_file_forms_and_the_slave_merge() {
        let dir = tempfile::tempdir().unwrap();
        let m = ConsumerOffsetManager::load(dir.path()).unwrap();
        m.commit("G", "T", 0, 5);
        m.commit("G", "T", 1, 3);
        m.commit("H", "U", 0, 9);
        assert_eq!(
            m.encode_compact(),
            r#"{"offsetTable":{"T@G":{0:5,1:3},"U@H":{0:9}}}"#
        );
        // A slave takes each topic@group entry of the master whole and keeps the others.
        let slave = ConsumerOffsetManager::load(&dir.path().join("slave")).unwrap();
        slave.commit("G", "T", 2, 1);
        slave.commit("K", "V", 0, 4);
        assert_eq!(slave.put_all_from_master(&m.encode_compact()).unwrap(), 2);
        assert_eq!(slave.query("G", "T", 0), 5);
        assert_eq!(slave.query("G", "T", 2), -1);
        assert_eq!(slave.query("K", "V", 0), 4);
        // The pretty file form reads back the same.
        slave.persist();
        let again = ConsumerOffsetManager::load(&dir.path().join("slave")).unwrap();
        assert_eq!(again.encode_compact(), slave.encode_compact());
        assert!(slave.put_all_from_master("{not json").is_err());
    }
}
