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
//! | a put | appended locally; wakes the HA transfers; a SYNC_MASTER then waits for a slave unless the message says `WAIT=false` | appended to the DLedger log, acknowledged by a majority, then applied locally |
//! | a batch | one contiguous append | one entry per message |
//! | the REGISTER_BROKER reply | a slave learns its master's HA address from it | — |
//! | copying config tables ([`crate::slave_sync`]) | while SLAVE | while follower |
//! | tasks | the HA listener (master) or the HA client (slave), see [`crate::ha`] | the DLedger member, its apply loop and its role loop, see [`crate::dledger_mode`] |
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
use rmq_store::{AppendMessageResult, DefaultMessageStore, MessageStoreConfig, PutMessageStatus};
use std::sync::{Arc, OnceLock};
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

/// DLedger mode: the member (running once the broker runs) and the id and role that follow
/// its elections.
pub struct DLedger {
    settings: DLedgerSettings,
    member: OnceLock<Arc<DLedgerMode>>,
    /// (brokerId, role) now; a member starts as a follower.
    role: RwLock<(i64, BrokerRole)>,
}

impl Replication {
    /// Chooses the mode from broker.conf (`enableDLegerCommitLog`); `store_cfg` is the store's
    /// configuration (the HA service needs the commit-log file size).
    pub fn from_config(
        cfg: &BrokerConfig,
        store_cfg: &MessageStoreConfig,
    ) -> anyhow::Result<Replication> {
        match DLedgerSettings::from_config(cfg)? {
            Some(settings) => {
                // A member starts as a follower; leadership makes it brokerId 0 later.
                let role = (settings.follower_broker_id()?, BrokerRole::Slave);
                Ok(Replication::DLedger(DLedger {
                    settings,
                    member: OnceLock::new(),
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

    /// Opens the message store. In DLedger mode the local commit log is derived from the
    /// DLedger log, so it is removed first and rebuilt by the apply loop (see
    /// [`crate::dledger_mode`]).
    pub fn open_store(
        &self,
        cfg: &BrokerConfig,
        store_cfg: MessageStoreConfig,
    ) -> anyhow::Result<Arc<DefaultMessageStore>> {
        let root = &cfg.store.store_path_root_dir;
        if let Replication::DLedger(_) = self {
            crate::dledger_mode::reset_derived_store(root)
                .with_context(|| format!("resetting the derived store in {}", root.display()))?;
        }
        DefaultMessageStore::open(store_cfg)
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
            Replication::DLedger(d) => d.member.get().is_some_and(|dl| dl.is_leader()),
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
        match self {
            Replication::MasterSlave(m) => {
                let slot = slot.clone();
                let r = crate::processor::run_put(b.store(), move |s| {
                    s.put_message_then(msg, move || slot.release())
                })
                .await?;
                Ok(m.after_local_put(wait, r).await)
            }
            Replication::DLedger(d) => match d.member.get() {
                Some(dl) => Ok(crate::dledger_mode::put_via_dledger(b, dl, msg, slot).await),
                None => Ok((PutMessageStatus::ServiceNotAvailable, None)),
            },
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
        match self {
            Replication::MasterSlave(m) => {
                // One contiguous append for the whole batch, as 4.8.0 does.
                let slot = slot.clone();
                let r = crate::processor::run_put(b.store(), move |s| {
                    s.put_messages_then(msgs, move || slot.release())
                })
                .await?;
                let (status, a) = m.after_local_put(wait, r).await;
                Ok((
                    status,
                    a.map(|a| BatchStored {
                        msg_ids: a.msg_id,
                        first_queue_offset: a.logics_offset,
                    }),
                ))
            }
            Replication::DLedger(d) => {
                let Some(dl) = d.member.get() else {
                    return Ok((PutMessageStatus::ServiceNotAvailable, None));
                };
                // DLedger replicates message by message. The send worker stays held until
                // the last entry is in (each entry gets an empty slot, so nothing releases it
                // early): no other producer's send interleaves with the batch while there is
                // one worker. Scheduled deliveries and send-backs take no worker and may.
                let mut ids = Vec::new();
                let mut first = None;
                for m in msgs {
                    let (status, a) =
                        crate::dledger_mode::put_via_dledger(b, dl, m, &SendSlot::default()).await;
                    match a {
                        Some(a) if status == PutMessageStatus::PutOk => {
                            first.get_or_insert(a.logics_offset);
                            ids.push(a.msg_id);
                        }
                        _ => return Ok((status, None)),
                    }
                }
                Ok((
                    PutMessageStatus::PutOk,
                    first.map(|f| BatchStored {
                        msg_ids: ids.join(","),
                        first_queue_offset: f,
                    }),
                ))
            }
        }
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
            Replication::DLedger(d) => {
                let dl = DLedgerMode::start(&b.config(), d.settings.clone()).await?;
                let _ = d.member.set(dl.clone());
                Ok(vec![
                    tokio::spawn(crate::dledger_mode::apply_loop(b.clone(), dl.clone())),
                    tokio::spawn(crate::dledger_mode::role_loop(b.clone(), dl)),
                ])
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
            if let Some(dl) = d.member.get() {
                dl.server.shutdown().await;
            }
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
