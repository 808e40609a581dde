//! DLedger mode (`enableDLegerCommitLog=true`): the broker's messages go through a Raft group
//! (rmq-dledger) before they count as stored, so a group of three brokers keeps every
//! acknowledged message even when its leader dies, and elects a new leader by itself.
//!
//! How it works here, as in 4.8.0: the DLedger member's data files *are* the commit log
//! (`rmq_store::commit_log::DLedgerCommitLog`). The member's store is opened first
//! ([`DLedgerMode::open`]); the message store recovers its consume queues and index against
//! those files; then the member runs ([`DLedgerMode::start`]) and is attached to the message
//! store, which hands it one entry per message on the leader and dispatches committed entries
//! on every member. Nothing is copied and nothing is replayed at start.
//! Role changes re-register the broker at once: the leader as brokerId 0 (SYNC_MASTER), the
//! followers as `n<k>` -> k+1 (SLAVE), as 4.8.0's `DLedgerRoleChangeHandler` does. Followers
//! copy the leader's topic configs, consumer offsets, delay offsets and subscription groups
//! every 10 s ([`crate::slave_sync`], 4.8.0 `SlaveSynchronize`), so a new leader starts from
//! the tables it copied last.
//!
//! What the rest of the broker uses: [`DLedgerSettings::from_config`], [`DLedgerMode::open`]
//! (before the message store), [`DLedgerMode::open_message_store`], [`DLedgerMode::start`] (attaches
//! the member to the store and returns the tasks that follow it), [`DLedgerMode::is_leader`]
//! and [`DLedgerMode::shutdown`]. Puts need nothing from here: they go through the message
//! store like any other. Book: Part IV "Cluster modes and DLedger". Mirrors the DLedger parts
//! of `BrokerController` and `DLedgerRoleChangeHandler`.

use crate::broker::Broker;
use crate::config::{BrokerConfig, BrokerRole};
use anyhow::Context;
use parking_lot::Mutex;
use rmq_dledger::core::{NoopBody, Role};
use rmq_dledger::server::{DLedgerServer, ServerConfig};
use rmq_dledger::store::{DLedgerStore, DataView};
use rmq_store::commit_log::dledger::{noop_record, physical_offset_hook};
use rmq_store::DefaultMessageStore;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

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

/// A DLedger member: its store, opened before the message store, then the running member.
pub struct DLedgerMode {
    /// The broker.conf settings.
    pub settings: DLedgerSettings,
    config: ServerConfig,
    view: DataView,
    /// The opened store, until [`DLedgerMode::start`] runs the member on it.
    opened: Mutex<Option<DLedgerStore>>,
    server: OnceLock<Arc<DLedgerServer>>,
}

impl DLedgerMode {
    /// Opens and recovers the member's store (`<storePathRootDir>/dledger-<selfId>`, data
    /// files of `mappedFileSizeCommitLog` bytes). Runs before the message store opens, which
    /// recovers its consume queues against [`Self::data_view`].
    pub fn open(
        cfg: &BrokerConfig,
        s: DLedgerSettings,
        store_host: SocketAddr,
    ) -> anyhow::Result<DLedgerMode> {
        let mut sc = ServerConfig::new(
            &s.group,
            &s.self_id,
            &s.peers,
            &cfg.store.store_path_root_dir,
        )
        .map_err(|e| anyhow::anyhow!("DLedger config: {e}"))?;
        sc.data_file_size = i64::try_from(cfg.store.mapped_file_size_commit_log)
            .context("mappedFileSizeCommitLog is too large")?;
        // DLedger 0.2.2 beats every 2 s and suspects the leader after 3 missed beats (6 s),
        // then waits 300-1000 ms before a vote round. A broker group should fail over within a
        // second, so our defaults are 100 ms x 5 and 50-200 ms (keys are ours).
        sc.node.heartbeat_interval_ms = cfg.dledger.heartbeat_interval_ms;
        sc.node.max_heartbeat_leak = cfg.dledger.max_heartbeat_leak;
        sc.node.min_vote_interval_ms = cfg.dledger.min_vote_interval_ms;
        sc.node.max_vote_interval_ms = cfg
            .dledger
            .max_vote_interval_ms
            .max(cfg.dledger.min_vote_interval_ms + 1);
        // After an election the first COMPARE often reaches a follower that has not heard
        // the new leader's heartbeat yet; 0.2.2's 500 ms pause would then be half the outage.
        sc.node.push_retry_ms = cfg.dledger.push_retry_ms;
        sc.node.preferred_leader_id = cfg.dledger.preferred_leader_id.clone();
        sc.node.batch_push = cfg.dledger.batch_push;
        // PHYSICALOFFSET = entry pos + 48, filled in when the leader places the entry
        sc.append_hook = Some(physical_offset_hook());
        // a new leader's own entry: a record every reader (4.8.0 too) dispatches nowhere
        sc.node.noop_body = Some(NoopBody(Arc::new(move || noop_record(store_host))));
        let (store, recovery) = DLedgerServer::open_store(&sc)
            .map_err(|e| anyhow::anyhow!("opening the DLedger store of {}: {e}", s.self_id))?;
        tracing::info!(
            "DLedger member {} recovered entries [{}, {}], committed {}",
            s.self_id,
            recovery.begin_index,
            recovery.end_index,
            recovery.committed_index
        );
        Ok(DLedgerMode {
            settings: s,
            view: store.data_view(),
            config: sc,
            opened: Mutex::new(Some(store)),
            server: OnceLock::new(),
        })
    }

    /// The data files as the message store reads them (its commit log).
    pub fn data_view(&self) -> DataView {
        self.view.clone()
    }

    /// Opens the message store on the member's data files (before [`Self::start`]): the
    /// records of the last files are checked, consume queues and index recovered.
    pub fn open_message_store(
        &self,
        store_cfg: rmq_store::MessageStoreConfig,
    ) -> anyhow::Result<Arc<DefaultMessageStore>> {
        let mut opened = self.opened.lock();
        let ledger = opened
            .as_mut()
            .context("the DLedger member runs already; open the message store before it")?;
        Ok(DefaultMessageStore::open_on_dledger(store_cfg, ledger)?)
    }

    /// Runs the member on the opened store, attaches it to `b.store` for puts, and starts
    /// the tasks that follow it: dispatcher wake-ups on commit and role changes. Returns
    /// those tasks (abort them at shutdown, then call [`Self::shutdown`]).
    pub async fn start(
        self: &Arc<Self>,
        b: &Arc<Broker>,
    ) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
        let store = self
            .opened
            .lock()
            .take()
            .context("the DLedger member was started before")?;
        let server = DLedgerServer::start_with_store(self.config.clone(), store, None)
            .await
            .map_err(|e| {
                anyhow::anyhow!("starting DLedger member {}: {e}", self.settings.self_id)
            })?;
        let server = Arc::new(server);
        let _ = self.server.set(server.clone());
        if !b.store().attach_dledger(server) {
            anyhow::bail!("the message store is not on this DLedger member's files");
        }
        let mut tasks = vec![
            tokio::spawn(wake_dispatcher_on_commit(b.store().clone(), self.clone())),
            tokio::spawn(role_loop(b.clone(), self.clone())),
        ];
        if let Some(preferred) = self.config.node.preferred_leader_id.clone() {
            if preferred != self.settings.self_id {
                tasks.push(tokio::spawn(prefer_leader(self.clone(), preferred)));
            }
        }
        Ok(tasks)
    }

    /// The running member (after [`Self::start`]).
    pub fn server(&self) -> Option<&Arc<DLedgerServer>> {
        self.server.get()
    }

    /// Whether this member leads its group now.
    pub fn is_leader(&self) -> bool {
        self.server().is_some_and(|s| s.role() == Role::Leader)
    }

    // ANCHOR: hand_over
    /// Graceful stop (`dLegerTransferLeadershipOnShutdown`, ours; 4.8.0 just stops): a leader
    /// hands leadership to its most up-to-date follower (DLedger's LEADERSHIP_TRANSFER), then
    /// registers as a follower, so the name servers list the new leader before this broker
    /// unregisters. Writes pause for one vote round instead of a failover.
    pub async fn hand_over(&self, b: &Arc<Broker>) {
        let Some(server) = self.server().cloned() else {
            return;
        };
        if server.role() != Role::Leader {
            return;
        }
        let started = std::time::Instant::now();
        let outcome =
            tokio::time::timeout(Duration::from_secs(3), server.transfer_leadership(None)).await;
        match outcome {
            Ok(Ok(())) => tracing::info!(
                "handed leadership of {} over in {} ms",
                self.settings.group,
                started.elapsed().as_millis()
            ),
            Ok(Err(e)) => tracing::warn!("leadership transfer before stopping failed: {e}"),
            Err(_) => tracing::warn!("leadership transfer before stopping took over 3 s"),
        }
        // The role loop turns us into a follower; register that before leaving.
        let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
        while b.broker_role() != BrokerRole::Slave && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        crate::register::register_all(b).await;
    }
    // ANCHOR_END: hand_over

    /// Stops the member: no more RPCs, data flushed, checkpoint written.
    pub async fn shutdown(&self) {
        if let Some(s) = self.server() {
            s.shutdown().await;
        }
    }
}

/// `preferredLeaderId` (DLedger 0.2.2 `checkPreferredLeader`, every second): while this member
/// leads and the preferred one is another member, hand leadership to it. The transfer is
/// refused while that member is down or far behind; the next second tries again.
async fn prefer_leader(dl: Arc<DLedgerMode>, preferred: String) {
    let Some(server) = dl.server().cloned() else {
        return;
    };
    let mut refused_before = false;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if server.role() != Role::Leader {
            continue;
        }
        match server.transfer_leadership(Some(preferred.clone())).await {
            Ok(()) => {
                tracing::info!("handed leadership to the preferred leader {preferred}");
                refused_before = false;
            }
            Err(e) if !refused_before => {
                tracing::info!("preferred leader {preferred} cannot take leadership yet: {e}");
                refused_before = true;
            }
            Err(_) => {}
        }
    }
}

/// Wakes the dispatcher whenever the committed index moves, so a committed message reaches
/// its consume queue at once instead of at the dispatcher's next 1 ms round.
async fn wake_dispatcher_on_commit(store: Arc<DefaultMessageStore>, dl: Arc<DLedgerMode>) {
    let Some(server) = dl.server() else { return };
    let mut commits = server.watch_committed();
    while commits.changed().await.is_ok() {
        store.wake_dispatcher();
    }
}

// ANCHOR: role_change
/// Follows DLedger role changes: the leader registers as brokerId 0 once everything in its
/// log is committed and dispatched and its queue offsets are rebuilt from the consume queues;
/// followers register as k+1, stop serving writes and copy the leader's tables.
pub async fn role_loop(b: Arc<Broker>, dl: Arc<DLedgerMode>) {
    let Some(server) = dl.server().cloned() else {
        return;
    };
    let follower_id = dl.settings.follower_broker_id().unwrap_or(1);
    let mut rx = server.watch_role();
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
                // as master: the queue offsets it then takes from the consume queues are the
                // group's, and nothing is served that a follower might not have.
                while server.role() == Role::Leader
                    && (server.committed_index() < server.end_index()
                        || b.store().dispatch_behind_bytes() > 0)
                {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                if server.role() == Role::Leader && server.term() == state.term {
                    b.store().become_dledger_master(state.term);
                    b.change_role(0, BrokerRole::SyncMaster);
                }
            }
            Role::Follower | Role::Candidate => {
                b.store().become_dledger_slave();
                b.change_role(follower_id, BrokerRole::Slave)
            }
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
}
