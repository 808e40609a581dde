//! Slave synchronization of metadata: a slave (classic master/slave) or a DLedger follower
//! copies four tables from its master every 10 s, so that after a failover the broker that
//! takes over knows the topics, where each consumer group stands, where each delay level
//! stands and the groups' settings.
//!
//! Why it is needed: replication (the HA service, or DLedger) copies *messages* only. Consumer
//! offsets, topic and group configs and delay positions live in `config/*.json` and change on
//! the master alone. Without this copy, a new leader answers `consumerProgress` with nothing
//! and a restarting consumer starts from its `consumeFromWhere` policy: it re-reads or skips.
//! With it, the new master's tables are at most one sync window old: a consumer re-reads at
//! most what it committed during the last 10 s before the master died.
//!
//! What `sync_all` does, in 4.8.0's order (a failed step is logged and the others still run;
//! each request has no header and a 3 s timeout):
//!
//! | step | request to the master | the follower |
//! |---|---|---|
//! | topics | GET_ALL_TOPIC_CONFIG (21), on the master's VIP port (listenPort − 2) | replaces its table when the `dataVersion` differs; writes `topics.json` |
//! | offsets | GET_ALL_CONSUMER_OFFSET (43) | overwrites each `topic@group` entry it got (`putAll`); writes `consumerOffset.json` |
//! | delay offsets | GET_ALL_DELAY_OFFSET (45) | writes the body verbatim to `delayOffset.json` and takes the positions over |
//! | groups | GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201) | replaces its table when the `dataVersion` differs; writes `subscriptionGroup.json` |
//!
//! When: every 10 s, the first time 3 s after the broker became a slave; becoming master
//! stops it (4.8.0 `BrokerController.handleSlaveSynchronize`). The master's address is the
//! `masterAddr` of the name server's reply to the last REGISTER_BROKER, cleared at every change
//! to slave. Nothing is copied while it is unknown or is this broker itself.
//!
//! Deviations from 4.8.0, both so a new leader starts from what it copied: (1) a follower
//! whose master address is unknown asks the name server for the group's brokerId 0 instead of
//! waiting up to `registerNameServerPeriod` (30 s) for its next registration, and forgets an
//! address that stopped answering; (2) copied delay offsets are taken over in memory too, not
//! only written to the file (4.8.0 reads the file only when the store loads, so a DLedger
//! follower promoted without a restart resumes its delay levels from its boot-time positions
//! and delivers some delayed messages twice).
//! Book: Part IV, "What followers copy, and when". Mirrors `SlaveSynchronize`,
//! `BrokerController.handleSlaveSynchronize` and `BrokerOuterAPI.getAll*`.

use crate::broker::Broker;
use crate::config::BrokerRole;
use parking_lot::RwLock;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::RemotingCommand;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// 4.8.0's schedule: first copy 3 s after becoming a slave, then every 10 s.
pub const FIRST_DELAY: Duration = Duration::from_secs(3);
/// The sync window: how stale a follower's copy can be.
pub const INTERVAL: Duration = Duration::from_secs(10);
/// `BrokerOuterAPI.getAll*` timeout.
const RPC_TIMEOUT: Duration = Duration::from_millis(3000);

/// The master's address and the schedule's on/off switch.
pub struct SlaveSync {
    /// `SlaveSynchronize.masterAddr`: from the last REGISTER_BROKER reply.
    master_addr: RwLock<Option<String>>,
    /// (generation, syncing): every change to slave restarts the schedule (new generation).
    schedule: watch::Sender<(u64, bool)>,
}

impl SlaveSync {
    /// A switch that starts on (`slave`) or off.
    pub fn new(slave: bool) -> SlaveSync {
        SlaveSync {
            master_addr: RwLock::new(None),
            schedule: watch::Sender::new((0, slave)),
        }
    }

    // ANCHOR: handle_role
    /// `handleSlaveSynchronize`: a slave (re)starts the schedule, a master stops it; both
    /// forget the master address (the next registration brings the current one).
    pub fn handle_role(&self, role: BrokerRole) {
        *self.master_addr.write() = None;
        self.schedule.send_modify(|(generation, on)| {
            *generation += 1;
            *on = role == BrokerRole::Slave;
        });
    }
    // ANCHOR_END: handle_role

    /// The `masterAddr` of a REGISTER_BROKER reply (absent or empty: unknown).
    pub fn set_master_addr(&self, addr: Option<&str>) {
        let addr = addr.map(str::trim).filter(|a| !a.is_empty());
        let mut cur = self.master_addr.write();
        if cur.as_deref() != addr {
            tracing::info!("slave sync: master address {:?} -> {addr:?}", *cur);
            *cur = addr.map(String::from);
        }
    }

    /// The master address the slave copies from, if known.
    pub fn master_addr(&self) -> Option<String> {
        self.master_addr.read().clone()
    }

    /// Whether the schedule runs now.
    pub fn is_on(&self) -> bool {
        self.schedule.borrow().1
    }
}

/// Runs `sync_all` on 4.8.0's schedule while the broker is a slave; restarts the schedule at
/// every change to slave and idles while master. Runs until aborted.
pub async fn run(b: Arc<Broker>) {
    let mut rx = b.slave_sync().schedule.subscribe();
    loop {
        let (_, on) = *rx.borrow_and_update();
        if on {
            tokio::select! {
                _ = every_interval(&b) => {}
                changed = rx.changed() => if changed.is_err() { return },
            }
        } else if rx.changed().await.is_err() {
            return;
        }
    }
}

async fn every_interval(b: &Arc<Broker>) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + FIRST_DELAY, INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        sync_all(b).await;
    }
}

/// The address to copy from, or None (unknown, or this broker itself).
async fn master_to_copy_from(b: &Broker) -> Option<String> {
    let addr = match b.slave_sync().master_addr() {
        Some(a) => a,
        None => {
            let a = crate::register::find_master_addr(b).await?;
            b.slave_sync().set_master_addr(Some(&a));
            a
        }
    };
    (addr != b.config().broker_addr()).then_some(addr)
}

// ANCHOR: sync_all
/// One round: topics, consumer offsets, delay offsets, subscription groups, in that order.
/// Returns how many of the four steps succeeded.
pub async fn sync_all(b: &Arc<Broker>) -> usize {
    let Some(master) = master_to_copy_from(b).await else {
        return 0;
    };
    let steps = [
        ("topic config", sync_topic_config(b, &master).await),
        ("consumer offset", sync_consumer_offset(b, &master).await),
        ("delay offset", sync_delay_offset(b, &master).await),
        (
            "subscription group",
            sync_subscription_group(b, &master).await,
        ),
    ];
    let mut ok = 0;
    let mut unreachable = false;
    for (what, r) in steps {
        match r {
            Ok(()) => ok += 1,
            Err(e) => {
                unreachable |= matches!(e, SyncError::Unreachable(_));
                tracing::warn!("Sync {what} from master {master} failed: {e}");
            }
        }
    }
    if unreachable {
        // A dead master: ask again next time (the name server knows the new one first).
        b.slave_sync().set_master_addr(None);
    }
    ok
}
// ANCHOR_END: sync_all

/// Why one step failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The master could not be reached.
    #[error("master unreachable: {0}")]
    Unreachable(rmq_remoting::RemotingError),
    /// The master refused the request.
    #[error("master answered {code}: {remark}")]
    Refused {
        /// The response code.
        code: i32,
        /// The master's remark.
        remark: String,
    },
    /// The master's body does not decode.
    #[error("cannot read the master's body: {0}")]
    Body(#[from] rmq_remoting::RemotingError),
    /// The copy could not be written locally.
    #[error("cannot apply the copy: {0}")]
    Apply(#[from] anyhow::Error),
}

/// Sends a header-less request and returns the SUCCESS body.
async fn get_all(b: &Broker, addr: &str, code: i32) -> Result<bytes::Bytes, SyncError> {
    let r = b
        .client()
        .invoke(addr, RemotingCommand::new_request(code), RPC_TIMEOUT)
        .await
        .map_err(SyncError::Unreachable)?;
    if r.code != rs::SUCCESS {
        return Err(SyncError::Refused {
            code: r.code,
            remark: r.remark.unwrap_or_default(),
        });
    }
    Ok(r.body.unwrap_or_default())
}

/// `brokerVIPChannel(true, addr)`: the same host, port − 2.
fn vip_channel(addr: &str) -> String {
    match addr.rsplit_once(':') {
        Some((host, port)) => match port.parse::<u16>() {
            Ok(p) if p > 2 => format!("{host}:{}", p - 2),
            _ => addr.to_string(),
        },
        None => addr.to_string(),
    }
}

async fn sync_topic_config(b: &Broker, master: &str) -> Result<(), SyncError> {
    let body = get_all(b, &vip_channel(master), rq::GET_ALL_TOPIC_CONFIG).await?;
    let theirs = rmq_remoting::protocol::decode_body(&body)?;
    if b.topics().replace_from_master(theirs) {
        tracing::info!("Update slave topic config from master, {master}");
    }
    Ok(())
}

async fn sync_consumer_offset(b: &Broker, master: &str) -> Result<(), SyncError> {
    let body = get_all(b, master, rq::GET_ALL_CONSUMER_OFFSET).await?;
    let n = b
        .offsets()
        .put_all_from_master(&String::from_utf8_lossy(&body))?;
    b.offsets().persist();
    tracing::info!("Update slave consumer offset from master, {master} ({n} topic@group)");
    Ok(())
}

async fn sync_delay_offset(b: &Broker, master: &str) -> Result<(), SyncError> {
    let body = get_all(b, master, rq::GET_ALL_DELAY_OFFSET).await?;
    b.schedule()
        .replace_from_master(&String::from_utf8_lossy(&body))?;
    tracing::info!("Update slave delay offset from master, {master}");
    Ok(())
}

async fn sync_subscription_group(b: &Broker, master: &str) -> Result<(), SyncError> {
    let body = get_all(b, master, rq::GET_ALL_SUBSCRIPTIONGROUP_CONFIG).await?;
    let theirs = rmq_remoting::protocol::decode_body(&body)?;
    if b.subscriptions().replace_from_master(theirs) {
        tracing::info!("Update slave Subscription Group from master, {master}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vip_channel_is_two_below() {
        assert_eq!(vip_channel("127.0.0.1:10911"), "127.0.0.1:10909");
        assert_eq!(vip_channel("127.0.0.1:2"), "127.0.0.1:2");
        assert_eq!(vip_channel("nohost"), "nohost");
    }

    #[test]
    fn role_changes_switch_the_schedule_and_forget_the_master() {
        let s = SlaveSync::new(false);
        assert!(!s.is_on());
        s.set_master_addr(Some("127.0.0.1:10911"));
        s.handle_role(BrokerRole::Slave);
        assert!(s.is_on());
        assert_eq!(s.master_addr(), None);
        s.set_master_addr(Some(" "));
        assert_eq!(s.master_addr(), None);
        s.set_master_addr(Some("127.0.0.1:10921"));
        s.handle_role(BrokerRole::SyncMaster);
        assert!(!s.is_on());
        assert_eq!(s.master_addr(), None);
    }
}
