//! Broker liveness: a periodic scan that removes brokers which have not
//! registered within the expiry time (4.8.0: first scan after 5 s, then every 10 s,
//! expiry 120 s). Connection-close removal happens in `processor.rs` (`on_close`).
//! Book: Part III "Name server". Mirrors `NamesrvController`'s scheduled
//! `scanNotActiveBroker` and `BrokerHousekeepingService`.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tracing::info;

use crate::NameServerState;

// ANCHOR: broker_scan
/// Starts the scan task; abort the handle to stop it.
pub fn spawn_broker_scan(state: Arc<NameServerState>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let interval = state.config.read().scan_not_active_broker_interval;
        // 4.8.0 waits 5 s before the first scan; never wait longer than one interval.
        tokio::time::sleep(interval.min(Duration::from_secs(5))).await;
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let expiry = state.config.read().broker_channel_expired_time;
            let removed = state.routes.scan_not_active_broker(expiry);
            if !removed.is_empty() {
                info!(?removed, "expired brokers removed");
            }
        }
    })
}
// ANCHOR_END: broker_scan
