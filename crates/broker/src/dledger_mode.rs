//! DLedger mode (`enableDLegerCommitLog=true`): the broker's messages go through a Raft group
//! (rmq-dledger) before they are stored, so a group of three brokers keeps every acknowledged
//! message even when its leader dies, and elects a new leader by itself.
//!
//! How it works here: the leader encodes each message as a 4.8.0 record and appends it to the
//! DLedger log; `append` resolves once a majority holds it. Every member — leader and followers
//! alike — then *applies* committed entries in index order to its local rmq-store, which builds
//! the consume queues and index as usual. The send reply is the leader's local append result.
//! Role changes re-register the broker at once: the leader as brokerId 0 (SYNC_MASTER), the
//! followers as `n<k>` -> k+1 (SLAVE), as 4.8.0's `DLedgerRoleChangeHandler` does. Followers
//! copy the leader's topic configs, consumer offsets, delay offsets and subscription groups
//! every 10 s ([`crate::slave_sync`], 4.8.0 `SlaveSynchronize`), so a new leader starts from
//! the tables it copied last.
//!
//! Deviation from 4.8.0: 4.8.0 makes the DLedger data files *be* the commit log (consume-queue
//! offsets point into `dledger-<id>/data`). Here the DLedger files hold the same records, and
//! the local commit log is a derived copy rebuilt from them at every start (like consume
//! queues are derived from the commit log), so the store crate stays one implementation.
//! Book: Part IV "Cluster modes and DLedger". Mirrors `DLedgerCommitLog` and
//! `DLedgerRoleChangeHandler`.

use crate::broker::Broker;
use crate::config::{BrokerConfig, BrokerRole};
use crate::flow_control::SendSlot;
use anyhow::Context;
use parking_lot::Mutex;
use rmq_common::message::{decode_record_with, BORNHOST_V6_FLAG, STOREHOST_V6_FLAG};
use rmq_common::MessageExtBrokerInner;
use rmq_dledger::core::Role;
use rmq_dledger::server::{DLedgerError, DLedgerServer, ServerConfig};
use rmq_store::{AppendMessageResult, PutMessageStatus};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The DLedger settings of broker.conf.
#[derive(Debug, Clone)]
pub struct DLedgerSettings {
    /// The group's name (`dLegerGroup`, by default the broker name).
    pub group: String,
    /// The members, `n0-host:port;n1-host:port;...` (`dLegerPeers`).
    pub peers: String,
    /// This member's id, `n<k>` (`dLegerSelfId`).
    pub self_id: String,
}

impl DLedgerSettings {
    /// Reads dLegerGroup / dLegerPeers / dLegerSelfId (4.8.0 spelling) when DLedger is on.
    pub fn from_config(cfg: &BrokerConfig) -> anyhow::Result<Option<DLedgerSettings>> {
        if !cfg.dledger.enable_commit_log {
            return Ok(None);
        }
        let keys = &cfg.dledger;
        let needs = |v: &Option<String>, k: &str| {
            v.clone()
                .with_context(|| format!("enableDLegerCommitLog=true needs {k}"))
        };
        let s = DLedgerSettings {
            group: keys
                .group
                .clone()
                .unwrap_or_else(|| cfg.broker_name.clone()),
            peers: needs(&keys.peers, "dLegerPeers")?,
            self_id: needs(&keys.self_id, "dLegerSelfId")?,
        };
        s.follower_broker_id()?;
        Ok(Some(s))
    }

    /// 4.8.0: brokerId of a follower = the digits of `n<k>` + 1 (a computed 0 becomes 1).
    pub fn follower_broker_id(&self) -> anyhow::Result<i64> {
        let digits = self.self_id.strip_prefix('n').unwrap_or("");
        let k: i64 = digits.parse().with_context(|| {
            format!("dLegerSelfId {:?} must look like n0, n1, ...", self.self_id)
        })?;
        Ok((k + 1).max(1))
    }
}

/// Removes the derived local store (commit log, consume queues, index, checkpoint, abort) so it
/// is rebuilt from the DLedger log; config/ (offsets, topics) is kept.
pub fn reset_derived_store(root: &std::path::Path) -> std::io::Result<()> {
    for dir in ["commitlog", "consumequeue", "index"] {
        let p = root.join(dir);
        if p.exists() {
            std::fs::remove_dir_all(&p)?;
        }
    }
    for file in ["checkpoint", "abort"] {
        let p = root.join(file);
        if p.exists() {
            std::fs::remove_file(&p)?;
        }
    }
    Ok(())
}

/// A running DLedger member plus the apply state.
pub struct DLedgerMode {
    /// The settings it started with.
    pub settings: DLedgerSettings,
    /// The DLedger member.
    pub server: DLedgerServer,
    /// Last DLedger index applied to the local store (-1: none); a watch, so senders wait for
    /// their entry without polling.
    applied: watch::Sender<i64>,
    /// Local append results of entries applied while leader, for the waiting senders.
    results: Mutex<BTreeMap<i64, (PutMessageStatus, Option<AppendMessageResult>)>>,
}

impl DLedgerMode {
    /// Starts the DLedger member over `<storePathRootDir>` with the broker's timing keys.
    pub async fn start(cfg: &BrokerConfig, s: DLedgerSettings) -> anyhow::Result<Arc<DLedgerMode>> {
        let mut sc = ServerConfig::new(
            &s.group,
            &s.self_id,
            &s.peers,
            &cfg.store.store_path_root_dir,
        )
        .map_err(|e| anyhow::anyhow!("DLedger config: {e}"))?;
        sc.data_file_size = i64::try_from(cfg.store.mapped_file_size_commit_log)
            .context("mappedFileSizeCommitLog is too large")?;
        // DLedger 0.2.2 beats every 2 s and suspects the leader after 3 missed beats (6 s);
        // a broker group should fail over faster, so our default is 500 ms (keys are ours).
        sc.node.heartbeat_interval_ms = cfg.dledger.heartbeat_interval_ms;
        sc.node.max_heartbeat_leak = cfg.dledger.max_heartbeat_leak;
        let server = DLedgerServer::start(sc)
            .await
            .map_err(|e| anyhow::anyhow!("starting DLedger member {}: {e}", s.self_id))?;
        Ok(Arc::new(DLedgerMode {
            settings: s,
            server,
            applied: watch::Sender::new(-1),
            results: Mutex::new(BTreeMap::new()),
        }))
    }

    /// The last DLedger index applied to the local store (-1: none).
    pub fn applied_index(&self) -> i64 {
        *self.applied.borrow()
    }

    /// Whether this member is the group's leader now.
    pub fn is_leader(&self) -> bool {
        self.server.role() == Role::Leader
    }
}

// ANCHOR: dledger_put
/// The leader's put: replicate the record, wait until it is applied locally, answer with the
/// local append result. Errors map as 4.8.0's `DLedgerCommitLog.putMessage` does.
pub async fn put_via_dledger(
    b: &Arc<Broker>,
    dl: &Arc<DLedgerMode>,
    msg: MessageExtBrokerInner,
    slot: &SendSlot,
) -> (PutMessageStatus, Option<AppendMessageResult>) {
    if !dl.is_leader() {
        return (PutMessageStatus::ServiceNotAvailable, None);
    }
    let record = match rmq_common::inner::encode_inner_record(&msg, 0, 0, rmq_store::now_ms()) {
        Ok(r) => r,
        Err(_) => return (PutMessageStatus::MessageIllegal, None),
    };
    if record.len() > b.config().store.max_message_size + 64 * 1024 {
        return (PutMessageStatus::MessageIllegal, None);
    }
    // Queued for the leader's log in send order; the send worker is free once it is queued,
    // and the quorum wait below overlaps with the next sends (DLedgerCommitLog's
    // asyncPutMessage in 4.8.0 does the same with its append future).
    let pending = match dl.server.submit(record) {
        Ok(p) => p,
        Err(e) => {
            slot.release();
            tracing::warn!("dledger append refused: {e}");
            return (submit_error_status(&e), None);
        }
    };
    slot.release();
    let appended = match tokio::time::timeout(Duration::from_secs(3), pending.wait()).await {
        Ok(Ok(a)) => a,
        Ok(Err(DLedgerError::Append { code, .. })) => {
            tracing::warn!("dledger append refused: {code}");
            return (append_error_status(&code.to_string()), None);
        }
        Ok(Err(e)) => {
            tracing::warn!("dledger append failed: {e}");
            return (PutMessageStatus::ServiceNotAvailable, None);
        }
        Err(_) => return (PutMessageStatus::OsPageCacheBusy, None),
    };
    // The apply loop records the result before it publishes the applied index.
    let mut applied = dl.applied.subscribe();
    let waited = tokio::time::timeout(
        Duration::from_secs(3),
        applied.wait_for(|&a| a >= appended.index),
    )
    .await;
    match dl.results.lock().remove(&appended.index) {
        Some(r) => {
            // Every member applied the entry without counting it; the put is this leader's.
            if let Some(a) = &r.1 {
                b.store().count_puts(a.msg_num as u64);
            }
            r
        }
        // Applied while this member was not leader any more, or apply is stuck.
        None => {
            if waited.is_err() {
                tracing::warn!("dledger entry {} not applied in 3 s", appended.index);
            }
            (PutMessageStatus::UnknownError, None)
        }
    }
}
// ANCHOR_END: dledger_put

fn submit_error_status(e: &DLedgerError) -> PutMessageStatus {
    match e {
        DLedgerError::Append { code, .. } => append_error_status(&code.to_string()),
        _ => PutMessageStatus::ServiceNotAvailable,
    }
}

fn append_error_status(code: &str) -> PutMessageStatus {
    if code.contains("QUORUM") || code.contains("PENDING") {
        PutMessageStatus::OsPageCacheBusy
    } else {
        PutMessageStatus::ServiceNotAvailable
    }
}

// ANCHOR: apply_loop
/// Applies committed entries in order to the local store, on every member. Sleeps on the
/// server's committed-index watch between commits.
pub async fn apply_loop(b: Arc<Broker>, dl: Arc<DLedgerMode>) {
    let mut commits = dl.server.watch_committed();
    loop {
        // Marks this value seen: a commit after this line wakes the `changed()` below.
        let committed = *commits.borrow_and_update();
        let mut next = dl.applied_index() + 1;
        let mut stalled = false;
        while next <= committed {
            let entry = match dl.server.get(next) {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!("dledger entry {next} unreadable: {e}; retrying");
                    stalled = true;
                    break;
                }
            };
            let result = apply_one(&b, &entry.body).await;
            if dl.is_leader() {
                let mut results = dl.results.lock();
                results.insert(next, result);
                // Nobody waits for results older than the send timeout; keep the map small.
                while results.len() > 100_000 {
                    results.pop_first();
                }
            }
            dl.applied.send_replace(next);
            next += 1;
        }
        if stalled {
            tokio::time::sleep(Duration::from_millis(10)).await;
        } else if commits.changed().await.is_err() {
            return; // the server is gone
        }
    }
}
// ANCHOR_END: apply_loop

async fn apply_one(
    b: &Arc<Broker>,
    body: &[u8],
) -> (PutMessageStatus, Option<AppendMessageResult>) {
    if body.is_empty() {
        // A new leader's no-op entry (commits the entries of earlier terms); nothing to store.
        return (PutMessageStatus::PutOk, None);
    }
    let (m, _) = match decode_record_with(body, false) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!("dledger entry is not a message record: {e}; skipped");
            return (PutMessageStatus::MessageIllegal, None);
        }
    };
    let inner = MessageExtBrokerInner {
        tags_code: tags_code_of(&m),
        properties: rmq_common::message::encode_properties(&m.properties),
        topic: m.topic,
        queue_id: m.queue_id,
        flag: m.flag,
        body: m.body,
        // the record encoder sets the IPv6 flags again from the hosts it writes
        sys_flag: m.sys_flag & !(BORNHOST_V6_FLAG | STOREHOST_V6_FLAG),
        born_timestamp: m.born_timestamp,
        born_host: m.born_host,
        store_host: m.store_host,
        reconsume_times: m.reconsume_times,
        prepared_transaction_offset: m.prepared_transaction_offset,
    };
    match crate::processor::run_put(b.store(), move |s| s.put_replicated(inner)).await {
        Ok(r) => (r.status, r.append),
        Err(_) => (PutMessageStatus::UnknownError, None),
    }
}

/// The consume-queue tags code: the tag hash (delayed messages get theirs at dispatch).
fn tags_code_of(m: &rmq_common::MessageExt) -> i64 {
    rmq_common::message::tags_code(m.tags())
}

// ANCHOR: role_change
/// Follows DLedger role changes: the leader registers as brokerId 0 once everything committed
/// is applied; followers register as k+1, stop serving writes and copy the leader's tables.
pub async fn role_loop(b: Arc<Broker>, dl: Arc<DLedgerMode>) {
    let follower_id = dl.settings.follower_broker_id().unwrap_or(1);
    let mut rx = dl.server.watch_role();
    let mut last_follower_of: Option<(i64, Option<String>)> = None;
    loop {
        let state = rx.borrow_and_update().clone();
        if state.role == Role::Follower {
            // 4.8.0 runs changeToSlave at every FOLLOWER event, even when already a slave:
            // a new term's leader restarts the table copy (and a registration tells where
            // the new master is).
            let of = Some((state.term, state.leader_id.clone()));
            if b.broker_role() == BrokerRole::Slave && last_follower_of != of {
                b.slave_sync().handle_role(BrokerRole::Slave);
                b.register_now();
            }
            last_follower_of = of;
        }
        match state.role {
            Role::Leader => {
                // 4.8.0 waits until the ledger end is committed and dispatched before acting
                // as master, so nothing is served that a follower might not have.
                while dl.server.role() == Role::Leader
                    && (dl.applied_index() < dl.server.committed_index()
                        || dl.server.committed_index() < dl.server.end_index())
                {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                if dl.server.role() == Role::Leader {
                    b.change_role(0, BrokerRole::SyncMaster);
                }
            }
            Role::Follower | Role::Candidate => b.change_role(follower_id, BrokerRole::Slave),
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}
// ANCHOR_END: role_change

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follower_ids_follow_4_8_0() {
        let s = |id: &str| DLedgerSettings {
            group: "g".into(),
            peers: String::new(),
            self_id: id.into(),
        };
        assert_eq!(s("n0").follower_broker_id().unwrap(), 1);
        assert_eq!(s("n2").follower_broker_id().unwrap(), 3);
        assert!(s("x").follower_broker_id().is_err());
        assert!(s("nn").follower_broker_id().is_err());
        assert!(s("x0").follower_broker_id().is_err());
    }

    #[test]
    fn reset_keeps_config() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["commitlog", "consumequeue/T/0", "index", "config"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("config/topics.json"), "{}").unwrap();
        std::fs::write(dir.path().join("abort"), "").unwrap();
        reset_derived_store(dir.path()).unwrap();
        assert!(!dir.path().join("commitlog").exists());
        assert!(!dir.path().join("consumequeue").exists());
        assert!(!dir.path().join("abort").exists());
        assert!(dir.path().join("config/topics.json").exists());
    }
}
