//! Where a consumer group's progress lives: on the broker (clustering — the
//! group shares one offset per queue) or in a local file (broadcasting — every
//! consumer has its own).
//!
//! Offsets are kept in memory and written out periodically (every 5 s) and at
//! shutdown; the broker side also learns them from the `commitOffset` carried on
//! every pull. The stored value is the *next* offset to consume.
//! Book: Part II "Consuming, long polling and rebalancing" (offset management).
//! Mirrors `OffsetStore`, `RemoteBrokerOffsetStore` and `LocalFileOffsetStore`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use rmq_remoting::protocol::fastjson::{self, ObjectKeyMap};
use rmq_remoting::protocol::MessageQueue;
use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;
use crate::util::MASTER_ID;

/// Where `read_offset` looks (`ReadOffsetType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOffsetType {
    /// Only the in-memory table (-1 when the queue has no entry).
    ReadFromMemory,
    /// Only the store: the broker or the local file.
    ReadFromStore,
    /// Memory, falling back to the store.
    MemoryFirstThenStore,
}

/// A consumer group's offsets.
pub enum OffsetStore {
    /// Clustering: the brokers keep the group's offsets (`RemoteBrokerOffsetStore`).
    Remote(RemoteBrokerOffsetStore),
    /// Broadcasting: each client keeps its own in a file (`LocalFileOffsetStore`).
    Local(LocalFileOffsetStore),
}

impl OffsetStore {
    fn table(&self) -> &Mutex<HashMap<MessageQueue, i64>> {
        match self {
            OffsetStore::Remote(s) => &s.table,
            OffsetStore::Local(s) => &s.table,
        }
    }

    /// Sets the in-memory offset; with `increase_only` it never moves back.
    pub fn update_offset(&self, mq: &MessageQueue, offset: i64, increase_only: bool) {
        let mut t = self.table().lock();
        let e = t.entry(mq.clone()).or_insert(offset);
        if !increase_only || offset > *e {
            *e = offset;
        }
    }

    /// The offset of a queue; -1 when there is none, -2 when the store could
    /// not be asked.
    pub async fn read_offset(&self, mq: &MessageQueue, kind: ReadOffsetType) -> i64 {
        if kind != ReadOffsetType::ReadFromStore {
            if let Some(o) = self.table().lock().get(mq) {
                return *o;
            }
            if kind == ReadOffsetType::ReadFromMemory {
                return -1;
            }
        }
        let stored = match self {
            OffsetStore::Remote(s) => s.fetch_from_broker(mq).await,
            OffsetStore::Local(s) => Ok(s.read_file().ok().and_then(|t| t.get(mq).copied())),
        };
        match stored {
            Ok(Some(o)) => {
                self.update_offset(mq, o, false);
                o
            }
            Ok(None) => -1,
            Err(e) => {
                warn!(queue = ?mq, error = %e, "reading consumer offset failed");
                -2
            }
        }
    }

    /// Writes the offsets of `mqs` out.
    pub async fn persist_all(&self, mqs: &[MessageQueue], acknowledged: bool) {
        let entries: Vec<(MessageQueue, i64)> = {
            let t = self.table().lock();
            mqs.iter()
                .filter_map(|m| t.get(m).map(|o| (m.clone(), *o)))
                .collect()
        };
        match self {
            OffsetStore::Remote(s) => {
                for (mq, off) in entries {
                    if let Err(e) = s.update_to_broker(&mq, off, !acknowledged).await {
                        warn!(queue = ?mq, error = %e, "persisting consumer offset failed");
                    }
                }
            }
            OffsetStore::Local(s) => {
                if let Err(e) = s.write_file() {
                    warn!(path = %s.path.display(), error = %e, "persisting local offsets failed");
                }
            }
        }
    }

    /// Writes one queue's offset out.
    pub async fn persist(&self, mq: &MessageQueue) {
        self.persist_all(std::slice::from_ref(mq), false).await
    }

    /// Forgets a queue's in-memory offset (after rebalance took it away).
    pub fn remove_offset(&self, mq: &MessageQueue) {
        self.table().lock().remove(mq);
    }

    /// A copy of the in-memory table.
    pub fn snapshot(&self) -> HashMap<MessageQueue, i64> {
        self.table().lock().clone()
    }
}

/// Offsets kept by the brokers.
pub struct RemoteBrokerOffsetStore {
    instance: ClientInstance,
    group: String,
    table: Mutex<HashMap<MessageQueue, i64>>,
}

impl RemoteBrokerOffsetStore {
    /// The offsets of `group`, stored on the brokers that `instance` knows.
    pub fn new(instance: ClientInstance, group: impl Into<String>) -> Self {
        RemoteBrokerOffsetStore {
            instance,
            group: group.into(),
            table: Mutex::new(HashMap::new()),
        }
    }

    async fn master(&self, mq: &MessageQueue) -> Result<String> {
        if let Some((a, _)) =
            self.instance
                .find_broker_addr_in_subscribe(&mq.broker_name, MASTER_ID, true)
        {
            return Ok(a);
        }
        let _ = self.instance.update_topic_route(&mq.topic).await;
        self.instance
            .find_broker_addr_in_subscribe(&mq.broker_name, MASTER_ID, true)
            .map(|(a, _)| a)
            .ok_or_else(|| ClientError::BrokerNotFound(mq.broker_name.clone()))
    }

    async fn fetch_from_broker(&self, mq: &MessageQueue) -> Result<Option<i64>> {
        let addr = self.master(mq).await?;
        let api = self.instance.api();
        match api
            .query_consumer_offset(&addr, &self.group, mq, self.instance.api_timeout())
            .await
        {
            Ok(o) => Ok(o),
            // Any refusal from the broker means "no offset" (4.8.0 maps every
            // MQBrokerException to -1); transport errors are real errors.
            Err(ClientError::Broker { code, .. }) => {
                debug!(code, queue = ?mq, "broker has no offset");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn update_to_broker(&self, mq: &MessageQueue, offset: i64, oneway: bool) -> Result<()> {
        let addr = self.master(mq).await?;
        self.instance
            .api()
            .update_consumer_offset(
                &addr,
                &self.group,
                mq,
                offset,
                oneway,
                self.instance.api_timeout(),
            )
            .await
    }
}

/// The JSON of a local offsets file (`OffsetSerializeWrapper`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct OffsetSerializeWrapper {
    #[serde(rename = "offsetTable", default)]
    offset_table: ObjectKeyMap<MessageQueue, i64>,
}

/// Offsets in `<dir>/<clientId>/<group>/offsets.json`.
pub struct LocalFileOffsetStore {
    path: PathBuf,
    table: Mutex<HashMap<MessageQueue, i64>>,
}

impl LocalFileOffsetStore {
    /// The default directory: `$HOME/.rocketmq_offsets` (`rocketmq.client.localOffsetStoreDir`).
    pub fn default_dir() -> PathBuf {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
            .join(".rocketmq_offsets")
    }

    /// Opens the store and loads any existing file.
    pub fn open(dir: &Path, client_id: &str, group: &str) -> Result<Self> {
        let path = dir.join(client_id).join(group).join("offsets.json");
        let store = LocalFileOffsetStore {
            path,
            table: Mutex::new(HashMap::new()),
        };
        let loaded = store.read_file()?;
        *store.table.lock() = loaded;
        Ok(store)
    }

    /// The `offsets.json` file this store reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read_file(&self) -> Result<HashMap<MessageQueue, i64>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
            Err(e) => return Err(e.into()),
        };
        if text.trim().is_empty() {
            return Ok(HashMap::new());
        }
        let w: OffsetSerializeWrapper = fastjson::from_str(&text)?;
        Ok(w.offset_table.0.into_iter().collect())
    }

    fn write_file(&self) -> Result<()> {
        let mut entries: Vec<(MessageQueue, i64)> = self
            .table
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        entries.sort();
        let text = fastjson::to_string_pretty(&OffsetSerializeWrapper {
            offset_table: ObjectKeyMap(entries),
        })?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mq(q: i32) -> MessageQueue {
        MessageQueue {
            broker_name: "b".into(),
            queue_id: q,
            topic: "T".into(),
        }
    }

    #[tokio::test]
    async fn local_store_round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let s =
            OffsetStore::Local(LocalFileOffsetStore::open(dir.path(), "1.2.3.4@x", "g").unwrap());
        s.update_offset(&mq(0), 5, false);
        s.update_offset(&mq(0), 3, true);
        s.update_offset(&mq(1), 9, true);
        assert_eq!(
            s.read_offset(&mq(0), ReadOffsetType::ReadFromMemory).await,
            5
        );
        s.persist_all(&[mq(0), mq(1)], true).await;
        let text = std::fs::read_to_string(dir.path().join("1.2.3.4@x/g/offsets.json")).unwrap();
        assert!(text.contains("\"offsetTable\""), "{text}");
        let again =
            OffsetStore::Local(LocalFileOffsetStore::open(dir.path(), "1.2.3.4@x", "g").unwrap());
        assert_eq!(
            again
                .read_offset(&mq(1), ReadOffsetType::ReadFromStore)
                .await,
            9
        );
        assert_eq!(
            again
                .read_offset(&mq(2), ReadOffsetType::ReadFromStore)
                .await,
            -1
        );
        again.remove_offset(&mq(1));
        assert_eq!(
            again
                .read_offset(&mq(1), ReadOffsetType::ReadFromMemory)
                .await,
            -1
        );
    }
}
