//! `/api/brokers/{addr}/storage`: a live picture of one broker's store, for the
//! teaching view no other console has.
//!
//! The commit log is a row of files of `mappedFileSizeCommitLog` bytes, each named
//! after the offset of its first byte. From the broker's runtime info (28) the
//! console takes the first and last offset of the log (`commitLogMinOffset`,
//! `commitLogMaxOffset`) and how far the dispatcher lags (`dispatchBehindBytes`);
//! from its settings (26) the file size. That is enough to draw every file, how full
//! it is, and where the dispatcher stands behind the write position. The consume
//! queues come from GET_TOPIC_STATS_INFO (202) on this broker for each topic it holds.
//! Index files, flush and checkpoint positions are not in any 4.8.0 reply: they come
//! from the Workbook's own request GET_STORE_STATS (`codes::workbook`), passed to the
//! page as the broker's JSON. A broker without it (a real 4.8.0 one) answers
//! REQUEST_CODE_NOT_SUPPORTED, and the view says so and draws the rest.
//! Book: Part III "The web console" (storage view); the store itself: Part IV.
//! Mirrors no rocketmq-console page; the numbers are `DefaultMessageStore`'s
//! (`getMinPhyOffset`, `getMaxPhyOffset`, `dispatchBehindBytes`).

use std::collections::BTreeMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use rmq_remoting::codes::{response, workbook};
use rmq_remoting::RemotingCommand;
use serde::Serialize;

use crate::error::{broker_addr_arg, ApiResult};
use crate::server::{fan_out, AppState};

/// 4.8.0's default `mappedFileSizeCommitLog` (1 GiB).
const DEFAULT_FILE_SIZE: i64 = 1024 * 1024 * 1024;
/// The view draws at most this many files (the newest ones).
pub const MAX_FILES: usize = 64;

/// The reply of `/api/brokers/{addr}/storage`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageView {
    /// The broker's `ip:port`.
    pub addr: String,
    /// The commit log.
    pub commit_log: CommitLogView,
    /// Every consume queue of the broker that holds at least one message.
    pub queues: Vec<QueuePosition>,
    /// Topics whose queue numbers could not be read, with why.
    pub errors: Vec<String>,
    /// The broker's GET_STORE_STATS reply (index files, flush position, checkpoint,
    /// DLedger indexes), as it sent it.
    pub store_stats: Option<serde_json::Value>,
    /// Why `store_stats` is missing, if it is.
    pub store_stats_error: Option<String>,
}

/// The commit log's files and positions.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CommitLogView {
    /// Bytes per file (`mappedFileSizeCommitLog`).
    pub file_size: i64,
    /// Offset of the first byte still stored (the first file's name).
    pub min_offset: i64,
    /// Offset one past the last byte written: the write position.
    pub max_offset: i64,
    /// Bytes written but not yet dispatched to consume queues and index.
    pub dispatch_behind_bytes: i64,
    /// `max_offset - dispatch_behind_bytes`: how far the dispatcher has read.
    pub dispatch_offset: i64,
    /// How many files the log has (more than `files` when it is long).
    pub file_count: i64,
    /// The newest files, oldest first, at most [`MAX_FILES`].
    pub files: Vec<CommitLogFile>,
}

/// One commit-log file.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CommitLogFile {
    /// Its name: the offset of its first byte, 20 digits.
    pub name: String,
    /// The offset of its first byte.
    pub start_offset: i64,
    /// Bytes written into it.
    pub filled: i64,
}

/// One consume queue's positions.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuePosition {
    /// The topic.
    pub topic: String,
    /// The queue.
    pub queue_id: i32,
    /// The first entry still stored.
    pub min_offset: i64,
    /// One past the last entry.
    pub max_offset: i64,
}

// ANCHOR: commit_log_files
/// The files of a log that holds `[min, max)` in files of `size` bytes.
pub fn commit_log_view(size: i64, min: i64, max: i64, behind: i64) -> CommitLogView {
    let size = size.max(1);
    let first = min / size;
    // A log that ends exactly on a boundary has not created its next file yet.
    let last = if max > 0 { (max - 1) / size } else { 0 };
    let file_count = if max > min { last - first + 1 } else { 0 };
    let from = (last - MAX_FILES as i64 + 1).max(first);
    let files = if file_count == 0 {
        Vec::new()
    } else {
        (from..=last)
            .map(|i| {
                let start = i * size;
                CommitLogFile {
                    name: format!("{start:020}"),
                    start_offset: start,
                    filled: (max - start).clamp(0, size),
                }
            })
            .collect()
    };
    CommitLogView {
        file_size: size,
        min_offset: min,
        max_offset: max,
        dispatch_behind_bytes: behind,
        dispatch_offset: max - behind,
        file_count,
        files,
    }
}
// ANCHOR_END: commit_log_files

// ANCHOR: store_stats
/// Asks one broker for GET_STORE_STATS (a Workbook extension, no header, JSON body).
pub async fn store_stats(st: &AppState, addr: &str) -> Result<serde_json::Value, String> {
    let cmd = RemotingCommand::new_request(workbook::GET_STORE_STATS);
    let resp = st
        .admin
        .invoke(addr, cmd, st.admin.timeout())
        .await
        .map_err(|e| e.to_string())?;
    match resp.code {
        response::SUCCESS => serde_json::from_slice(resp.body_bytes()).map_err(|e| e.to_string()),
        response::REQUEST_CODE_NOT_SUPPORTED => Err(format!(
            "{addr} does not serve GET_STORE_STATS ({}), a Workbook extension: a 4.8.0 broker has no such request",
            workbook::GET_STORE_STATS
        )),
        code => Err(format!(
            "{addr} answered code {code}: {}",
            resp.remark.unwrap_or_default()
        )),
    }
}
// ANCHOR_END: store_stats

fn number(t: &BTreeMap<String, String>, key: &str) -> Option<i64> {
    t.get(key).and_then(|v| v.trim().parse().ok())
}

/// `GET /api/brokers/{addr}/storage`: the commit log's files and every consume queue.
pub async fn storage(
    State(st): State<AppState>,
    addr: Result<Path<String>, PathRejection>,
) -> ApiResult<StorageView> {
    let addr = broker_addr_arg(addr)?;
    st.within(async {
        let (runtime, config, topics, extra) = futures::join!(
            st.admin.fetch_broker_runtime_stats(&addr),
            st.admin.get_broker_config(&addr),
            st.admin.fetch_all_topic_list(),
            store_stats(&st, &addr)
        );
        let runtime = runtime?.table;
        let size = number(&config?, "mappedFileSizeCommitLog").unwrap_or(DEFAULT_FILE_SIZE);
        let commit_log = commit_log_view(
            size,
            number(&runtime, "commitLogMinOffset").unwrap_or(0),
            number(&runtime, "commitLogMaxOffset").unwrap_or(0),
            number(&runtime, "dispatchBehindBytes").unwrap_or(0),
        );
        let stats = topics?.topic_list.into_iter().map(|topic| {
            let st = &st;
            let addr = &addr;
            async move { (st.admin.topic_stats(addr, &topic).await, topic) }
        });
        let mut queues = Vec::new();
        let mut errors = Vec::new();
        for (result, topic) in fan_out(stats).await {
            match result {
                Ok(t) => queues.extend(t.offset_table.0.into_iter().filter_map(|(mq, o)| {
                    (o.max_offset > 0).then_some(QueuePosition {
                        topic: mq.topic,
                        queue_id: mq.queue_id,
                        min_offset: o.min_offset,
                        max_offset: o.max_offset,
                    })
                })),
                // A topic this broker does not hold is not an error of the view.
                Err(e) if crate::consumers::absent(&e) => {}
                Err(e) => errors.push(format!("{topic}: {e}")),
            }
        }
        queues.sort_by(|a, b| (&a.topic, a.queue_id).cmp(&(&b.topic, b.queue_id)));
        let (store_stats, store_stats_error) = match extra {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e)),
        };
        Ok(Json(StorageView {
            addr,
            commit_log,
            queues,
            errors,
            store_stats,
            store_stats_error,
        }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_fill() {
        // Three 100-byte files, the last one 50 bytes full, the dispatcher 20 bytes behind.
        let v = commit_log_view(100, 0, 250, 20);
        assert_eq!(v.file_count, 3);
        let fills: Vec<i64> = v.files.iter().map(|f| f.filled).collect();
        assert_eq!(fills, [100, 100, 50]);
        assert_eq!(v.files[2].name, "00000000000000000200");
        assert_eq!(v.dispatch_offset, 230);
        // Ending on a boundary: the next file does not exist yet.
        assert_eq!(commit_log_view(100, 0, 200, 0).file_count, 2);
        // Old files deleted: the log starts at the second file.
        let v = commit_log_view(100, 100, 250, 0);
        assert_eq!(v.file_count, 2);
        assert_eq!(v.files[0].start_offset, 100);
        // An empty log has no file.
        assert_eq!(commit_log_view(100, 0, 0, 0).files.len(), 0);
        // A long log shows only the newest files.
        let v = commit_log_view(10, 0, 10_000, 0);
        assert_eq!(v.file_count, 1000);
        assert_eq!(v.files.len(), MAX_FILES);
        assert_eq!(v.files.last().unwrap().start_offset, 9_990);
    }
}
