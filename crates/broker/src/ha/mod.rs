//! Classic master/slave replication of the commit log (4.8.0's HA service): the master
//! listens on listenPort+1 and streams raw commit-log bytes to each connected slave; the
//! slave appends them at the same physical offsets and reports how far it got; a
//! SYNC_MASTER holds each put until a slave has acknowledged it.
//!
//! Wire protocol (big-endian, no framing beyond this):
//! - slave -> master: an 8-byte max physical offset, on connect, after each append and every
//!   `haSendHeartbeatInterval` (5 s);
//! - master -> slave: a 12-byte header (8-byte physical offset of the body, 4-byte body size)
//!   and the body, up to `haTransferBatchSize` (32 KiB) of commit-log bytes that never cross a
//!   file end; a header with size 0 is the master's heartbeat.
//!
//! Book: Part IV, "Cluster modes". Mirrors `org.apache.rocketmq.store.ha.HAService` (with its
//! `GroupTransferService` in [`HaService::wait_for_slave`]); the connections are in
//! [`master`] (`HAConnection`) and [`slave`] (`HAService.HAClient`).

pub mod master;
pub mod slave;

use crate::broker::Broker;
use crate::config::BrokerConfig;
use parking_lot::RwLock;
use rmq_store::PutMessageStatus;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

/// Size of the master's frame header: physical offset (8) + body size (4).
pub const HEADER_SIZE: usize = 12;

/// The HA knobs of `broker.conf`, with 4.8.0's `MessageStoreConfig` defaults.
#[derive(Debug, Clone)]
pub struct HaConfig {
    /// `haListenPort`: always listenPort+1 (4.8.0's BrokerStartup overrides the key).
    pub listen_port: u16,
    /// `haSendHeartbeatInterval` (5 s).
    pub heartbeat_interval: Duration,
    /// `haHousekeepingInterval` (20 s): a silent peer is dropped after this.
    pub housekeeping_interval: Duration,
    /// `haTransferBatchSize` (32 KiB).
    pub transfer_batch_size: usize,
    /// `haSlaveFallbehindMax` (256 MiB): a slave further behind does not count for SYNC_MASTER.
    pub slave_fallbehind_max: i64,
    /// `syncFlushTimeout` (5 s): how long a SYNC_MASTER put waits for the slave.
    pub sync_flush_timeout: Duration,
    /// `haMasterAddress`: a slave's fixed master HA address, instead of asking the name server.
    pub master_address: Option<String>,
    /// Size of one commit-log file (`mappedFileSizeCommitLog`).
    pub commit_log_file_size: i64,
}

impl HaConfig {
    /// The HA settings of `cfg` (its `ha` section and the store's `syncFlushTimeout`).
    pub fn from_broker(cfg: &BrokerConfig, commit_log_file_size: i64) -> anyhow::Result<Self> {
        let keys = &cfg.ha;
        Ok(HaConfig {
            listen_port: cfg.listen_port.checked_add(1).ok_or_else(|| {
                anyhow::anyhow!(
                    "listenPort {} leaves no room for the HA port",
                    cfg.listen_port
                )
            })?,
            // 0 would make the slave's ticker panic; 1 ms is the shortest period that works
            heartbeat_interval: Duration::from_millis(keys.send_heartbeat_interval_ms.max(1)),
            housekeeping_interval: Duration::from_millis(keys.housekeeping_interval_ms),
            transfer_batch_size: keys.transfer_batch_size.max(1),
            slave_fallbehind_max: keys.slave_fallbehind_max,
            sync_flush_timeout: Duration::from_millis(cfg.store.sync_flush_timeout_ms),
            // 4.8.0 ignores an address shorter than "1.1.1.1" without a port
            master_address: keys
                .master_address
                .as_deref()
                .map(str::trim)
                .filter(|s| s.len() >= 6)
                .map(String::from),
            commit_log_file_size,
        })
    }
}

/// Replication state shared by the connections and the put path.
pub struct HaService {
    /// The settings it runs with.
    pub cfg: HaConfig,
    /// Highest offset any slave acknowledged (`push2SlaveMaxOffset`).
    push2slave: watch::Sender<i64>,
    /// Connected slaves (`connectionCount`).
    connections: AtomicUsize,
    /// Wakes the master's transfer loops when new bytes were appended.
    new_data: Notify,
    /// The master HA address a slave last learned (register reply or name server).
    master_addr: RwLock<Option<String>>,
}

impl HaService {
    /// A service with no slave connected yet.
    pub fn new(cfg: HaConfig) -> Arc<Self> {
        Arc::new(HaService {
            cfg,
            push2slave: watch::channel(0).0,
            connections: AtomicUsize::new(0),
            new_data: Notify::new(),
            master_addr: RwLock::new(None),
        })
    }

    /// Slaves connected now.
    pub fn connection_count(&self) -> usize {
        self.connections.load(Ordering::Acquire)
    }

    /// Highest offset a slave acknowledged.
    pub fn push2slave_max_offset(&self) -> i64 {
        *self.push2slave.borrow()
    }

    /// A slave acknowledged `offset` (`notifyTransferSome`): raise the max, wake waiters.
    pub fn notify_transfer_some(&self, offset: i64) {
        self.push2slave.send_if_modified(|v| {
            if offset > *v {
                *v = offset;
                true
            } else {
                false
            }
        });
    }

    /// Whether a SYNC_MASTER put ending at `master_put_where` may wait for a slave
    /// (`isSlaveOK`): one is connected and not too far behind.
    pub fn is_slave_ok(&self, master_put_where: i64) -> bool {
        self.connection_count() > 0
            && master_put_where - self.push2slave_max_offset() < self.cfg.slave_fallbehind_max
    }

    /// Tells the transfer loops that the commit log grew.
    pub fn wakeup_transfers(&self) {
        self.new_data.notify_waiters();
    }

    /// Sets a slave's master HA address (`updateMasterAddress`), e.g. from the REGISTER_BROKER
    /// reply's `haServerAddr`.
    pub fn update_master_address(&self, addr: &str) {
        let mut cur = self.master_addr.write();
        if cur.as_deref() != Some(addr) {
            tracing::info!("update master address, OLD: {:?} NEW: {addr}", *cur);
            *cur = Some(addr.to_string());
        }
    }

    /// The master HA address a slave replicates from, if known.
    pub fn master_address(&self) -> Option<String> {
        self.master_addr.read().clone()
    }

    // ANCHOR: sync_wait
    /// SYNC_MASTER after a successful append ending at `next_offset` (`CommitLog.handleHA` +
    /// `GroupTransferService.doWaitTransfer`): SLAVE_NOT_AVAILABLE at once when no slave can
    /// take it, else PUT_OK once a slave acknowledged `next_offset`, FLUSH_SLAVE_TIMEOUT after
    /// `syncFlushTimeout`. The message stays stored either way.
    pub async fn wait_for_slave(&self, next_offset: i64) -> PutMessageStatus {
        if !self.is_slave_ok(next_offset) {
            return PutMessageStatus::SlaveNotAvailable;
        }
        self.wakeup_transfers();
        let mut acked = self.push2slave.subscribe();
        let reached = tokio::time::timeout(
            self.cfg.sync_flush_timeout,
            acked.wait_for(|v| *v >= next_offset),
        )
        .await;
        match reached {
            Ok(Ok(_)) => PutMessageStatus::PutOk,
            _ => {
                tracing::warn!("transfer messsage to slave timeout, {next_offset}");
                PutMessageStatus::FlushSlaveTimeout
            }
        }
    }
    // ANCHOR_END: sync_wait
}

/// Starts replication for a classic (non-DLedger) broker: the HA listener on a master, the
/// HA client on a slave. Returns the tasks to abort at shutdown.
pub async fn start(b: &Arc<Broker>, ha: Arc<HaService>) -> anyhow::Result<Vec<JoinHandle<()>>> {
    if b.is_master() {
        let ip = b.store_host().ip();
        let listener = tokio::net::TcpListener::bind((ip, ha.cfg.listen_port))
            .await
            .map_err(|e| anyhow::anyhow!("binding HA port {ip}:{}: {e}", ha.cfg.listen_port))?;
        tracing::info!("HA service listening on {ip}:{}", ha.cfg.listen_port);
        Ok(vec![tokio::spawn(master::accept_loop(
            listener,
            b.store().clone(),
            ha,
        ))])
    } else {
        if let Some(a) = &ha.cfg.master_address {
            ha.update_master_address(a);
        }
        Ok(vec![tokio::spawn(slave::client_loop(b.clone(), ha))])
    }
}
