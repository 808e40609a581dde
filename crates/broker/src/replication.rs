//! Replication: the one place that decides, for 4.8.0's two cluster modes, where a put goes
//! and what it waits for, whether this broker takes writes now, which brokerId and role it
//! registers with, what it does with the name server's answer, and which tasks keep the
//! copies going. A new replication rule is a new arm here, and the compiler finds every
//! place that must handle it.
//!
//! | | master/slave (`enableDLegerCommitLog=false`) | DLedger (`enableDLegerCommitLog=true`) |
//! |---|---|---|
//! | brokerId, role | `brokerId` and `brokerRole` of broker.conf, for good | a follower registers as `n<k>` → k+1, SLAVE; the elected leader as 0, SYNC_MASTER |
//! | takes writes | unless it is a SLAVE | only while it leads its group |
//! | a put | appended locally; wakes the HA transfers; a SYNC_MASTER then waits for a slave unless the message says `WAIT=false` | one DLedger entry per message, acknowledged by a majority; the entry's body is the commit-log record (the data files are the commit log) |
//! | a batch | one contiguous append | one entry per message |
//! | the REGISTER_BROKER reply | a slave learns its master's HA address from it | — |
//! | copying config tables ([`crate::slave_sync`]) | while SLAVE | while follower |
//! | tasks | the HA listener (master) or the HA client (slave), see [`crate::ha`] | the DLedger member, a dispatcher wake-up on each commit and its role loop, see [`crate::dledger_mode`] |
//!
//! There is no third, unreplicated mode: like 4.8.0, a master without slaves still listens
//! on its HA port, and a SYNC_MASTER without a connected slave answers SLAVE_NOT_AVAILABLE.
//! Book: Part IV, "Cluster modes". Mirrors the replication choices 4.8.0 spreads over
//! `BrokerController` (`initialize`, `changeToSlave`/`changeToMaster`, `registerBrokerAll`),
//! `CommitLog.handleHA` and `DLedgerCommitLog`.

use crate::broker::Broker;
use crate::config::{BrokerConfig, BrokerRole};
use crate::dledger_mode::{DLedgerMode, DLedgerSettings};
use crate::flow_control::SendSlot;
use crate::ha::{HaConfig, HaService};
use anyhow::Context;
use parking_lot::RwLock;
use rmq_common::MessageExtBrokerInner;
use rmq_remoting::protocol::header::RegisterBrokerResponseHeader;
use rmq_store::{
    AppendMessageResult, DefaultMessageStore, MessageStoreConfig, PutMessageResult,
    PutMessageStatus,
};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// What a put ended with: the store's status, and where the message went when it was stored.
pub type Stored = (PutMessageStatus, Option<AppendMessageResult>);

/// Where a stored batch went: its message ids (comma-joined, as the send reply carries them)
/// and the queue offset of its first message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchStored {
    /// The offset message ids, joined by commas.
    pub msg_ids: String,
    /// The queue offset of the first message.
    pub first_queue_offset: i64,
}

/// The cluster mode of this broker, with the state each mode needs.
pub enum Replication {
    /// Classic master/slave replication of the commit log (4.8.0's HA service).
    MasterSlave(MasterSlave),
    /// A DLedger (Raft) group replicates every message before it counts as stored.
    DLedger(DLedger),
}

/// Master/slave mode: a fixed id and role, and the HA service that streams the commit log.
pub struct MasterSlave {
    ha: Arc<HaService>,
    broker_id: i64,
    role: BrokerRole,
}

/// DLedger mode: the member (its store opened with the broker, running once the broker runs)
/// and the id and role that follow its elections.
pub struct DLedger {
    member: Arc<DLedgerMode>,
    /// (brokerId, role) now; a member starts as a follower.
    role: RwLock<(i64, BrokerRole)>,
}

impl Replication {
    /// Chooses the mode from broker.conf (`enableDLegerCommitLog`); `store_cfg` is the store's
    /// configuration (the HA service needs the commit-log file size). In DLedger mode this
    /// opens and recovers the member's files, which are the commit log the message store then
    /// opens on; `store_host` goes into the records a new leader writes for itself.
    pub fn from_config(
        cfg: &BrokerConfig,
        store_cfg: &MessageStoreConfig,
        store_host: SocketAddr,
    ) -> anyhow::Result<Replication> {
        match DLedgerSettings::from_config(cfg)? {
            Some(settings) => {
                // A member starts as a follower; leadership makes it brokerId 0 later.
                let role = (settings.follower_broker_id()?, BrokerRole::Slave);
                let member = Arc::new(DLedgerMode::open(cfg, settings, store_host)?);
                Ok(Replication::DLedger(DLedger {
                    member,
                    role: RwLock::new(role),
                }))
            }
            None => {
                let file_size = store_cfg.mapped_file_size_commit_log as i64;
                Ok(Replication::MasterSlave(MasterSlave {
                    ha: HaService::new(HaConfig::from_broker(cfg, file_size)?),
                    broker_id: cfg.broker_id,
                    role: cfg.store.broker_role,
                }))
            }
        }
    }

    /// Opens the message store: on the local commit log, or in DLedger mode on the member's
    /// data files (consume queues and index recovered against them; nothing is replayed).
    pub fn open_store(
        &self,
        cfg: &BrokerConfig,
        store_cfg: MessageStoreConfig,
    ) -> anyhow::Result<Arc<DefaultMessageStore>> {
        let root = &cfg.store.store_path_root_dir;
        match self {
            Replication::MasterSlave(_) => {
                DefaultMessageStore::open(store_cfg).map_err(anyhow::Error::from)
            }
            Replication::DLedger(d) => d.member.open_message_store(store_cfg),
        }
        .with_context(|| format!("opening store in {}", root.display()))
    }

    /// The brokerId this broker registers with now.
    pub fn broker_id(&self) -> i64 {
        match self {
            Replication::MasterSlave(m) => m.broker_id,
            Replication::DLedger(d) => d.role.read().0,
        }
    }

    /// The role this broker plays now.
    pub fn broker_role(&self) -> BrokerRole {
        match self {
            Replication::MasterSlave(m) => m.role,
            Replication::DLedger(d) => d.role.read().1,
        }
    }

    /// Whether this broker is a master now (it serves writes and commits offsets).
    pub fn is_master(&self) -> bool {
        self.broker_role() != BrokerRole::Slave
    }

    /// Whether a put may go ahead now: not on a slave, and in DLedger mode only on the leader.
    pub fn takes_writes(&self) -> bool {
        match self {
            Replication::MasterSlave(m) => m.role != BrokerRole::Slave,
            Replication::DLedger(d) => d.member.is_leader(),
        }
    }

    /// Sets the id and role after a DLedger election; returns the old pair when it changed.
    /// A master/slave broker's role never changes, so this returns `None` there.
    pub fn set_role(&self, broker_id: i64, role: BrokerRole) -> Option<(i64, BrokerRole)> {
        match self {
            Replication::MasterSlave(_) => None,
            Replication::DLedger(d) => {
                let old = std::mem::replace(&mut *d.role.write(), (broker_id, role));
                (old != (broker_id, role)).then_some(old)
            }
        }
    }

    /// Stores one message (its DELAY redirect already applied) and waits for what the mode
    /// promises. `wait` is the message's `WAIT` property (false: do not wait for a slave).
    pub async fn put(
        &self,
        b: &Arc<Broker>,
        msg: MessageExtBrokerInner,
        wait: bool,
        slot: &SendSlot,
    ) -> anyhow::Result<Stored> {
        if !self.takes_writes() {
            return Ok((PutMessageStatus::ServiceNotAvailable, None));
        }
        // Both modes submit to the store: the local log appends, a DLedger commit log hands
        // the record to the member. The send worker is released once that is done, and the
        // wait for the fsync or the majority overlaps with the next sends.
        let slot = slot.clone();
        let pending = crate::processor::run_put(b.store(), move |s| {
            s.submit_message(msg, move || slot.release())
        })
        .await?;
        let r = b.store().finish_put(pending).await;
        Ok(self.after_put(wait, r).await)
    }

    /// What follows a store put in this mode: the HA wait of a SYNC_MASTER, nothing more in
    /// DLedger mode (the majority was the store's wait).
    async fn after_put(&self, wait: bool, r: PutMessageResult) -> Stored {
        match self {
            Replication::MasterSlave(m) => m.after_local_put(wait, r).await,
            Replication::DLedger(_) => (r.status, r.append),
        }
    }

    /// Stores the messages of one batch (all for one queue) with consecutive queue offsets.
    pub async fn put_batch(
        &self,
        b: &Arc<Broker>,
        msgs: Vec<MessageExtBrokerInner>,
        wait: bool,
        slot: &SendSlot,
    ) -> anyhow::Result<(PutMessageStatus, Option<BatchStored>)> {
        if !self.takes_writes() {
            return Ok((PutMessageStatus::ServiceNotAvailable, None));
        }
        // One submit for the whole batch: one contiguous append as in 4.8.0, or in DLedger
        // mode one entry per message, all waited for together.
        let slot = slot.clone();
        let pending = crate::processor::run_put(b.store(), move |s| {
            s.submit_messages(msgs, move || slot.release())
        })
        .await?;
        let r = b.store().finish_put(pending).await;
        let (status, a) = self.after_put(wait, r).await;
        Ok((
            status,
            a.map(|a| BatchStored {
                msg_ids: a.msg_id,
                first_queue_offset: a.logics_offset,
            }),
        ))
    }

    /// What a slave takes from a successful REGISTER_BROKER reply (4.8.0
    /// `registerBrokerAll`): in master/slave mode, where to replicate from.
    pub fn on_registered(&self, reply: &RegisterBrokerResponseHeader) {
        if let Replication::MasterSlave(m) = self {
            if m.role == BrokerRole::Slave {
                if let Some(addr) = reply.ha_server_addr.as_deref().filter(|a| !a.is_empty()) {
                    m.ha.update_master_address(addr);
                }
            }
        }
    }

    /// Starts the tasks that keep the copies going; returns them for [`Replication::shutdown`]
    /// to abort.
    pub async fn start(&self, b: &Arc<Broker>) -> anyhow::Result<Vec<JoinHandle<()>>> {
        match self {
            Replication::MasterSlave(m) => crate::ha::start(b, m.ha.clone()).await,
            Replication::DLedger(d) => d.member.start(b).await,
        }
    }

    /// Before stopping: a DLedger leader hands leadership over (see
    /// [`DLedgerMode::hand_over`]) when `dLegerTransferLeadershipOnShutdown` is on.
    pub async fn hand_over(&self, b: &Arc<Broker>) {
        if let Replication::DLedger(d) = self {
            if b.config().dledger.transfer_leadership_on_shutdown {
                d.member.hand_over(b).await;
            }
        }
    }

    /// Stops what [`Replication::start`] started: aborts `tasks`, then stops the DLedger
    /// member (its files flushed).
    pub async fn shutdown(&self, tasks: Vec<JoinHandle<()>>) {
        for t in &tasks {
            t.abort();
        }
        if let Replication::DLedger(d) = self {
            d.member.shutdown().await;
        }
    }
}

impl MasterSlave {
    /// What follows a local append: wake the HA transfers and, on a SYNC_MASTER, wait for a
    /// slave (`CommitLog.handleHA`, after the disk flush).
    async fn after_local_put(&self, wait: bool, r: rmq_store::PutMessageResult) -> Stored {
        let mut status = r.status;
        if let Some(a) = &r.append {
            self.ha.wakeup_transfers();
            let stored = matches!(
                status,
                PutMessageStatus::PutOk | PutMessageStatus::FlushDiskTimeout
            );
            if stored && wait && self.role == BrokerRole::SyncMaster {
                match self
                    .ha
                    .wait_for_slave(a.wrote_offset + a.wrote_bytes as i64)
                    .await
                {
                    PutMessageStatus::PutOk => {}
                    s => status = s,
                }
            }
        }
        (status, r.append)
    }
}
