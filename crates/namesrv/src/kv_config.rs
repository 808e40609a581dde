//! KV configuration: namespaced string pairs kept by the name server and persisted
//! to `kvConfig.json` (e.g. namespace `ORDER_TOPIC_CONFIG`, key topic, value
//! `brokerName:queueNum;...`).
//!
//! Writes go to `<file>.tmp`, the previous file is copied to `<file>.bak`, then the
//! temp file is renamed into place, as 4.8.0's `MixAll.string2File` does; loading
//! falls back to the `.bak` copy when the main file is unreadable or corrupt.
//! Book: Part III "Name server". Mirrors `org.apache.rocketmq.namesrv.kvconfig.KVConfigManager`
//! and `KVConfigSerializeWrapper`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use parking_lot::RwLock;
use rmq_remoting::protocol::{fastjson, KVTable};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

/// The namespace whose table is returned to registering brokers.
pub const NAMESPACE_ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

type Table = BTreeMap<String, BTreeMap<String, String>>;

/// The on-disk shape: `{"configTable":{"<ns>":{"<k>":"<v>"}}}`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct KvConfigSerializeWrapper {
    #[serde(rename = "configTable")]
    config_table: Table,
}

/// A KV persistence problem.
#[derive(Debug, thiserror::Error)]
pub enum KvConfigError {
    /// Reading or writing the KV file failed.
    #[error("kv config file {path}: {source}")]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The KV file does not parse, and neither does its `.bak` copy.
    #[error("kv config file {path} is corrupt ({reason}) and no usable .bak copy exists")]
    Corrupt {
        /// The main KV file.
        path: PathBuf,
        /// Why the main file was rejected (the parse error).
        reason: String,
    },
}

/// Namespaced KV pairs with write-through persistence.
pub struct KvConfigManager {
    path: PathBuf,
    table: RwLock<Table>,
}

impl KvConfigManager {
    /// Loads `path` (a missing file means an empty table).
    pub fn load(path: &Path) -> Result<KvConfigManager, KvConfigError> {
        let table = match read_table(path) {
            Ok(Some(table)) => table,
            Ok(None) => Table::new(),
            Err(reason) => {
                let bak = bak_path(path);
                match read_table(&bak) {
                    Ok(Some(table)) => {
                        warn!(path = %path.display(), %reason, "kv config corrupt, loaded the .bak copy");
                        table
                    }
                    _ => {
                        return Err(KvConfigError::Corrupt {
                            path: path.to_path_buf(),
                            reason,
                        })
                    }
                }
            }
        };
        info!(path = %path.display(), namespaces = table.len(), "kv config loaded");
        Ok(KvConfigManager {
            path: path.to_path_buf(),
            table: RwLock::new(table),
        })
    }

    // ANCHOR: kv_put
    /// Sets `key` in `namespace` to `value` (creating the namespace if needed) and persists the table.
    pub fn put(&self, namespace: &str, key: &str, value: &str) -> Result<(), KvConfigError> {
        let mut table = self.table.write();
        let prev = table
            .entry(namespace.to_string())
            .or_default()
            .insert(key.to_string(), value.to_string());
        match prev {
            None => info!(namespace, key, value, "putKVConfig create new config item"),
            Some(_) => info!(namespace, key, value, "putKVConfig update config item"),
        }
        self.persist(&table)
    }
    // ANCHOR_END: kv_put

    /// The value of `key` in `namespace`, or `None` when either does not exist.
    pub fn get(&self, namespace: &str, key: &str) -> Option<String> {
        self.table.read().get(namespace)?.get(key).cloned()
    }

    /// Removes `key` from `namespace` and persists the table; a missing key or namespace is not an error.
    pub fn delete(&self, namespace: &str, key: &str) -> Result<(), KvConfigError> {
        let mut table = self.table.write();
        let Some(ns) = table.get_mut(namespace) else {
            return Ok(());
        };
        if ns.remove(key).is_some() {
            info!(namespace, key, "deleteKVConfig delete a config item");
        }
        // Java keeps the (possibly empty) namespace map; so do we.
        self.persist(&table)
    }

    /// The whole namespace, or `None` when it does not exist.
    pub fn namespace(&self, namespace: &str) -> Option<KVTable> {
        self.table
            .read()
            .get(namespace)
            .map(|ns| KVTable { table: ns.clone() })
    }

    // ANCHOR: kv_persist
    fn persist(&self, table: &Table) -> Result<(), KvConfigError> {
        let wrapper = KvConfigSerializeWrapper {
            config_table: table.clone(),
        };
        let io = |source| KvConfigError::Io {
            path: self.path.clone(),
            source,
        };
        let text =
            fastjson::to_string_pretty(&wrapper).map_err(|e| io(std::io::Error::other(e)))?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(io)?;
        if self.path.exists() {
            std::fs::copy(&self.path, bak_path(&self.path)).map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)
    }
    // ANCHOR_END: kv_persist
}

fn bak_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".bak");
    PathBuf::from(name)
}

/// `Ok(None)` when the file does not exist, `Err(reason)` when it is unusable.
fn read_table(path: &Path) -> Result<Option<Table>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    fastjson::from_str::<KvConfigSerializeWrapper>(&text)
        .map(|w| Some(w.config_table))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persists_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv").join("kvConfig.json");
        let kv = KvConfigManager::load(&path).unwrap();
        kv.put(NAMESPACE_ORDER_TOPIC_CONFIG, "T", "b:4").unwrap();
        kv.put("ns", "k", "v").unwrap();
        kv.delete("ns", "k").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\n\t\"configTable\":{"), "{text}");
        let again = KvConfigManager::load(&path).unwrap();
        assert_eq!(
            again.get(NAMESPACE_ORDER_TOPIC_CONFIG, "T").as_deref(),
            Some("b:4")
        );
        assert_eq!(again.get("ns", "k"), None);
        assert!(again.namespace("ns").unwrap().table.is_empty());
        assert!(again.namespace("none").is_none());
    }

    #[test]
    fn corrupt_file_falls_back_to_bak_or_fails_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kvConfig.json");
        let kv = KvConfigManager::load(&path).unwrap();
        kv.put("ns", "a", "1").unwrap();
        kv.put("ns", "b", "2").unwrap(); // .bak now holds {a}
        std::fs::write(&path, "{\"configTable\":{tru").unwrap();
        let again = KvConfigManager::load(&path).unwrap();
        assert_eq!(again.get("ns", "a").as_deref(), Some("1"));
        std::fs::write(bak_path(&path), "garbage").unwrap();
        let err = KvConfigManager::load(&path).err().unwrap();
        assert!(err.to_string().contains("corrupt"), "{err}");
    }
}
