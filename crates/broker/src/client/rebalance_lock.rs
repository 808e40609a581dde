//! RebalanceLockManager: per-group queue locks for ordered consumption; a lock held by one
//! client id expires after 60 s unless renewed. Mirrors `RebalanceLockManager`.

use parking_lot::Mutex;
use rmq_remoting::protocol::admin::MessageQueue;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A queue lock not renewed for this long is free (`REBALANCE_LOCK_MAX_LIVE_TIME`).
pub const LOCK_MAX_LIVE: Duration = Duration::from_secs(60);

/// Queue -> (owning client id, last renewal).
type GroupLocks = HashMap<MessageQueue, (String, Instant)>;

/// Which client of a group holds which queue, for orderly consumers (`RebalanceLockManager`).
#[derive(Default)]
pub struct RebalanceLockManager {
    table: Mutex<HashMap<String, GroupLocks>>,
}

impl RebalanceLockManager {
    // ANCHOR: try_lock_batch
    /// Locks what it can for `client_id`; returns the queues now held by it.
    pub fn try_lock_batch(
        &self,
        group: &str,
        mqs: &[MessageQueue],
        client_id: &str,
    ) -> Vec<MessageQueue> {
        let mut t = self.table.lock();
        let g = t.entry(group.to_string()).or_default();
        let mut ok = Vec::new();
        for mq in mqs {
            let free = match g.get(mq) {
                None => true,
                Some((owner, at)) => owner == client_id || at.elapsed() > LOCK_MAX_LIVE,
            };
            if free {
                g.insert(mq.clone(), (client_id.to_string(), Instant::now()));
                ok.push(mq.clone());
            }
        }
        ok
    }
    // ANCHOR_END: try_lock_batch

    /// Releases the queues of `mqs` that `client_id` holds.
    pub fn unlock_batch(&self, group: &str, mqs: &[MessageQueue], client_id: &str) {
        let mut t = self.table.lock();
        if let Some(g) = t.get_mut(group) {
            for mq in mqs {
                if g.get(mq).is_some_and(|(o, _)| o == client_id) {
                    g.remove(mq);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_client_cannot_take_a_held_lock() {
        let m = RebalanceLockManager::default();
        let mq = MessageQueue {
            broker_name: "b".into(),
            queue_id: 0,
            topic: "t".into(),
        };
        assert_eq!(
            m.try_lock_batch("g", std::slice::from_ref(&mq), "c1").len(),
            1
        );
        assert!(m
            .try_lock_batch("g", std::slice::from_ref(&mq), "c2")
            .is_empty());
        m.unlock_batch("g", std::slice::from_ref(&mq), "c1");
        assert_eq!(m.try_lock_batch("g", &[mq], "c2").len(), 1);
    }
}
