//! The store in DLedger mode: open on a DLedger member's data files, attach the running
//! member for puts, and refuse layouts this store cannot serve.
//!
//! 4.8.0 can also start DLedger on a store that holds a classic `commitlog/` (it seals the
//! old log with a blank and continues DLedger's files after it, reading old offsets from the
//! old files). This store does not read such a mixed log: it says so and does not start,
//! rather than serve consume queues that point into files it does not read. Book: Part IV
//! "Cluster modes and DLedger". Mirrors the DLedger parts of `DefaultMessageStore` and
//! `DLedgerCommitLog.recover` of 4.8.0.

use super::DefaultMessageStore;
use crate::commit_log::CommitLog;
use crate::config::MessageStoreConfig;
use crate::error::StoreError;
use crate::util::file_name_to_offset;
use rmq_dledger::server::DLedgerServer;
use rmq_dledger::store::DataView;
use std::sync::Arc;

/// Checks that `config`'s store can be served on the DLedger data files of `view`.
pub(super) fn check_layout(config: &MessageStoreConfig, view: &DataView) -> Result<(), StoreError> {
    let dir = config.commit_log_dir();
    let old_files = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .and_then(file_name_to_offset)
                    .is_some()
            })
            .count(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(StoreError::io("read dir", &dir, e)),
    };
    if old_files == 0 {
        return Ok(());
    }
    let root = config.store_path_root_dir.display();
    let why = match view.files().first().map(|f| f.start) {
        Some(0) => format!(
            "{} holds a copy of the DLedger log written by an earlier rmq-broker, whose DLedger \
             entries carry no queue or physical offsets; 4.8.0's layout cannot be served from \
             them: remove {root} (make clean) and start again",
            dir.display()
        ),
        Some(start) => format!(
            "{} holds a classic commit log below the DLedger files (which start at {start}): \
             4.8.0 reads such a mixed log, this store does not",
            dir.display()
        ),
        None => format!(
            "{} holds a classic commit log and there are no DLedger files yet: switching a \
             classic broker to DLedger (4.8.0 seals the old log and continues after it) is \
             not supported",
            dir.display()
        ),
    };
    Err(StoreError::Config(why))
}

impl DefaultMessageStore {
    /// Hands puts to the running DLedger member `server` (DLedger mode only). Returns false
    /// when the store has a local commit log or a member was attached before.
    pub fn attach_dledger(&self, server: Arc<DLedgerServer>) -> bool {
        match &self.commit_log {
            CommitLog::DLedger(log) => log.attach(server),
            CommitLog::Local(_) => false,
        }
    }

    /// Makes a DLedger leader a master (`DLedgerRoleChangeHandler.changeToMaster`): rebuilds
    /// the queue offsets from the consume queues, then takes puts while the member leads in
    /// `term`. Call it once everything committed is dispatched. Without DLedger it only
    /// rebuilds the offsets.
    pub fn become_dledger_master(&self, term: i64) {
        self.recover_topic_queue_table();
        if let CommitLog::DLedger(log) = &self.commit_log {
            log.set_ready_term(term);
        }
    }

    /// Stops taking puts in DLedger mode (`changeToSlave`).
    pub fn become_dledger_slave(&self) {
        if let CommitLog::DLedger(log) = &self.commit_log {
            log.set_ready_term(-1);
        }
    }

    /// Whether the commit log is a DLedger member's data files.
    pub fn is_dledger(&self) -> bool {
        matches!(self.commit_log, CommitLog::DLedger(_))
    }

    /// Wakes the dispatcher at once (DLedger mode: the committed position moved).
    pub fn wake_dispatcher(&self) {
        self.reput_waker.wakeup();
    }
}
