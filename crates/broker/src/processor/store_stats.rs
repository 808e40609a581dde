//! GET_STORE_STATS (`codes::workbook::GET_STORE_STATS`): a Workbook extension that
//! answers, as JSON, the store positions no 4.8.0 request returns.
//!
//! The console's storage view draws the commit log from GET_BROKER_RUNTIME_INFO, but
//! 4.8.0 has no request for the rest of a broker's store: the index files with their
//! counts, the commit log's flush position, the checkpoint file, or, on a DLedger
//! broker, how far this member's log is committed and applied. This request returns
//! them in one JSON body ([`StoreStats`]). It has no header and changes nothing. A
//! 4.8.0 broker answers it with REQUEST_CODE_NOT_SUPPORTED, as for any unknown code,
//! and the console then shows the view without these numbers.
//!
//! "Applied" on a DLedger member is the broker's side of the log: DLedger commits
//! entries, and the broker's dispatcher then reads each committed entry into the
//! consume queues and the index. The applied index is the last entry the dispatcher
//! has finished (`reputFromOffset` has passed its body).
//! Book: Part III "The web console" (storage and DLedger views); Appendix "Wire
//! protocol" (Workbook extensions).
//! Mirrors no 4.8.0 class; the numbers are `IndexFile`'s header, `MappedFileQueue`'s
//! `flushedWhere`, `StoreCheckpoint`, DLedger's `MemberState` and `DLedgerStore`.

use std::sync::Arc;

use rmq_dledger::entry::BODY_OFFSET;
use rmq_dledger::server::DLedgerServer;
use rmq_store::DefaultMessageStore;
use serde::Serialize;

use crate::broker::Broker;

/// The reply body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreStats {
    /// Where the commit log has been flushed to disk (`flushedWhere`); `None` on DLedger,
    /// whose data files flush on their own.
    pub commit_log_flushed_offset: Option<i64>,
    /// The commit-log offset the dispatcher has reached (`reputFromOffset`).
    pub dispatch_offset: i64,
    /// The `checkpoint` file: the store time of the last message flushed in each kind of file.
    pub checkpoint: Checkpoint,
    /// Entries one index file holds at most (`maxIndexNum`).
    pub max_index_count: i64,
    /// The index files, oldest first.
    pub index_files: Vec<IndexFileStats>,
    /// This member's DLedger state, on a DLedger broker.
    pub dledger: Option<DLedgerMember>,
}

/// The three timestamps of the `checkpoint` file.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    /// `physicMsgTimestamp`: commit log.
    pub physic_msg_timestamp: i64,
    /// `logicsMsgTimestamp`: consume queues.
    pub logics_msg_timestamp: i64,
    /// `indexMsgTimestamp`: index files.
    pub index_msg_timestamp: i64,
}

/// One index file's header.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexFileStats {
    /// Its file name (the time it was created, `yyyyMMddHHmmssSSS`).
    pub name: String,
    /// Entries written (the header's `indexCount` minus the unused entry 0).
    pub index_count: i64,
    /// Hash slots in use.
    pub hash_slot_count: i64,
    /// Store time of the first and last message indexed.
    pub begin_timestamp: i64,
    /// Store time of the last message indexed.
    pub end_timestamp: i64,
    /// Commit-log offset of the last message indexed.
    pub end_phy_offset: i64,
}

/// A DLedger member as it sees itself.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DLedgerMember {
    /// Its id (`dLegerSelfId`).
    pub self_id: String,
    /// `Leader`, `Follower` or `Candidate`.
    pub role: String,
    /// The term it is in.
    pub term: i64,
    /// Last index in its log.
    pub end_index: i64,
    /// Highest index known committed.
    pub committed_index: i64,
    /// Last index the broker has dispatched (see the module doc); -1 before any.
    pub applied_index: i64,
}

// ANCHOR: applied_index
/// The last committed entry whose body the dispatcher has passed: a binary search on
/// the entries' positions. An entry that cannot be read (deleted with its old file) is
/// older than anything the dispatcher still has to do, so it counts as applied.
fn applied_index(server: &DLedgerServer, dispatch_offset: i64) -> i64 {
    let (mut lo, mut hi) = (-1i64, server.committed_index());
    while lo < hi {
        let mid = lo + (hi - lo + 1) / 2;
        let applied = server
            .get(mid)
            .map(|e| e.pos + BODY_OFFSET as i64 + e.body.len() as i64 <= dispatch_offset)
            .unwrap_or(true);
        if applied {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}
// ANCHOR_END: applied_index

/// Reads the numbers (on the blocking pool: index headers and entries are file reads).
pub fn collect(store: &Arc<DefaultMessageStore>) -> StoreStats {
    let dispatch_offset = store.reput_from_offset();
    let cp = store.checkpoint();
    let index_files = store
        .index_service()
        .files()
        .iter()
        .map(|f| {
            let h = f.header();
            IndexFileStats {
                name: f
                    .path()
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                index_count: i64::from(h.index_count) - 1,
                hash_slot_count: i64::from(h.hash_slot_count),
                begin_timestamp: h.begin_timestamp,
                end_timestamp: h.end_timestamp,
                end_phy_offset: h.end_phy_offset,
            }
        })
        .collect();
    let commit_log = store.commit_log();
    let dledger = commit_log
        .dledger()
        .and_then(|d| d.server())
        .map(|s| DLedgerMember {
            self_id: s.self_id().to_string(),
            role: format!("{:?}", s.role()),
            term: s.term(),
            end_index: s.end_index(),
            committed_index: s.committed_index(),
            applied_index: applied_index(s, dispatch_offset),
        });
    StoreStats {
        commit_log_flushed_offset: commit_log
            .local()
            .map(|l| l.mapped_file_queue().flushed_where()),
        dispatch_offset,
        checkpoint: Checkpoint {
            physic_msg_timestamp: cp.physic_msg_timestamp(),
            logics_msg_timestamp: cp.logics_msg_timestamp(),
            index_msg_timestamp: cp.index_msg_timestamp(),
        },
        max_index_count: i64::from(store.config().max_index_num),
        index_files,
        dledger,
    }
}

/// Serves the request: the JSON of [`collect`] as the body.
pub async fn process(b: &Arc<Broker>) -> super::Outcome {
    let store = b.store().clone();
    let stats = tokio::task::spawn_blocking(move || collect(&store)).await?;
    let body = serde_json::to_vec(&stats).map_err(anyhow::Error::from)?;
    Ok(super::ok().with_body(body))
}
