//! Shared helpers for the store's integration tests: small-file configs and message builders.
#![allow(dead_code)]

use bytes::Bytes;
use rmq_common::message::encode_properties;
use rmq_store::{FlushDiskType, MessageExtBrokerInner, MessageStoreConfig};
use std::path::Path;

/// A config with tiny files so tests roll files, fill index files and so on.
pub fn small_config(root: &Path, flush: FlushDiskType) -> MessageStoreConfig {
    MessageStoreConfig {
        mapped_file_size_commit_log: 16 * 1024,
        mapped_file_size_consume_queue: 20 * 64,
        max_hash_slot_num: 64,
        max_index_num: 256,
        flush_disk_type: flush,
        flush_interval_commit_log_ms: 10,
        flush_interval_consume_queue_ms: 50,
        clean_resource_interval_ms: 3_600_000,
        max_message_size: 4096,
        ..MessageStoreConfig::with_root(root)
    }
}

/// A message with a TAGS/KEYS/UNIQ_KEY property set.
pub fn msg(
    topic: &str,
    queue_id: i32,
    body: &[u8],
    tags: &str,
    keys: &str,
    uniq: &str,
) -> MessageExtBrokerInner {
    let mut props = vec![("WAIT".to_string(), "true".to_string())];
    if !tags.is_empty() {
        props.push(("TAGS".to_string(), tags.to_string()));
    }
    if !keys.is_empty() {
        props.push(("KEYS".to_string(), keys.to_string()));
    }
    if !uniq.is_empty() {
        props.push(("UNIQ_KEY".to_string(), uniq.to_string()));
    }
    MessageExtBrokerInner {
        topic: topic.to_string(),
        queue_id,
        flag: 0,
        body: Bytes::copy_from_slice(body),
        properties: encode_properties(&props),
        tags_code: rmq_common::message::tags_code(if tags.is_empty() { None } else { Some(tags) }),
        sys_flag: 0,
        born_timestamp: rmq_store::now_ms(),
        born_host: "127.0.0.1:50000".parse().unwrap(),
        store_host: "127.0.0.1:10911".parse().unwrap(),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
    }
}

/// The body of message `i` (varied lengths, so records straddle file ends differently).
pub fn body(i: usize) -> Vec<u8> {
    let len = 20 + (i * 37) % 300;
    (0..len).map(|j| (i * 31 + j) as u8).collect()
}

/// Accept every tagsCode.
pub fn all(_: i64) -> bool {
    true
}

/// Collects log output in memory, to check what recovery says.
#[derive(Clone, Default)]
pub struct LogBuf(std::sync::Arc<parking_lot::Mutex<Vec<u8>>>);

impl LogBuf {
    /// What was logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }

    /// Runs `f` with its WARN and ERROR lines (on this thread) written here.
    pub fn capture_warnings<T>(&self, f: impl FnOnce() -> T) -> T {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .finish();
        tracing::subscriber::with_default(subscriber, f)
    }
}

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuf {
    type Writer = LogBuf;
    fn make_writer(&'a self) -> LogBuf {
        self.clone()
    }
}
