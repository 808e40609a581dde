//! Long polling: a pull that finds no message is parked on its queue until the store reports
//! an arrival (the reput dispatcher's listener) or the suspend timeout passes, then retried once.
//! Mirrors `PullRequestHoldService` + `NotifyMessageArrivingListener`. Book: Part II, "Pull and
//! long polling".

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Notify;

/// Pulls held until a message arrives, by (topic, queue) (`PullRequestHoldService`).
#[derive(Default)]
pub struct LongPolling {
    waiters: Mutex<HashMap<(String, i32), Arc<Notify>>>,
}

impl LongPolling {
    fn notify_for(&self, topic: &str, queue_id: i32) -> Arc<Notify> {
        self.waiters
            .lock()
            .entry((topic.to_string(), queue_id))
            .or_default()
            .clone()
    }

    // ANCHOR: long_polling_suspend
    /// Parks until a message arrives on the queue or `timeout` passes. `has_new` is re-checked
    /// after registering for the wake-up so an arrival between the failed read and the park is
    /// never missed.
    pub async fn wait(
        &self,
        topic: &str,
        queue_id: i32,
        timeout: std::time::Duration,
        has_new: impl Fn() -> bool,
    ) {
        let notify = self.notify_for(topic, queue_id);
        let deadline = tokio::time::Instant::now() + timeout;
        // A wake-up only counts when the queue really grew past the pulled offset (4.8.0's
        // notifyMessageArriving compares offsets too); anything else parks again.
        loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if has_new() {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }

    /// The store's arrival listener: wakes every pull parked on the queue.
    pub fn on_arrival(&self, topic: &str, queue_id: i32) {
        let n = self
            .waiters
            .lock()
            .get(&(topic.to_string(), queue_id))
            .cloned();
        if let Some(n) = n {
            n.notify_waiters();
        }
    }
    // ANCHOR_END: long_polling_suspend
}
