//! Send-path flow control: a bounded send queue served by `sendMessageThreadPoolNums` workers,
//! with 4.8.0's SYSTEM_BUSY answers — [REJECTREQUEST] when the store's append has been stuck
//! longer than osPageCacheBusyTimeOutMills, [OVERLOAD] when the queue is full,
//! [PCBUSY_CLEAN_QUEUE] / [TIMEOUT_CLEAN_QUEUE] for requests that waited in the queue while the
//! page cache was busy or longer than waitTimeMillsInSendQueue. Mirrors `BrokerFastFailure` and
//! `SendMessageProcessor.rejectRequest`. Book: Part II, "Flow control".

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The send workers and the queue in front of them.
pub struct FlowControl {
    workers: Arc<Semaphore>,
    queued: AtomicUsize,
    capacity: usize,
    max_wait: Duration,
    pc_busy_timeout: Duration,
}

/// Why a send was refused; `remark()` gives 4.8.0's exact text.
#[derive(Debug)]
pub enum Busy {
    /// The store's append has held the put lock too long (`[REJECTREQUEST]`).
    Reject,
    /// The send queue is full (`[OVERLOAD]`).
    Overload,
    /// A send waited while the page cache was busy (`[PCBUSY_CLEAN_QUEUE]`).
    PcBusy {
        /// How long it waited.
        waited_ms: u128,
        /// Sends waiting then.
        queue: usize,
    },
    /// A send waited longer than `waitTimeMillsInSendQueue` (`[TIMEOUT_CLEAN_QUEUE]`).
    Timeout {
        /// How long it waited.
        waited_ms: u128,
        /// Sends waiting then.
        queue: usize,
    },
}

// ANCHOR: busy_remarks
impl Busy {
    /// 4.8.0's remark for this refusal.
    pub fn remark(&self) -> String {
        match self {
            Busy::Reject => "[REJECTREQUEST]system busy, start flow control for a while".into(),
            Busy::Overload => "[OVERLOAD]system busy, start flow control for a while".into(),
            Busy::PcBusy { waited_ms, queue } => format!("[PCBUSY_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: {waited_ms}ms, size of queue: {queue}"),
            Busy::Timeout { waited_ms, queue } => format!("[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: {waited_ms}ms, size of queue: {queue}"),
        }
    }
}
// ANCHOR_END: busy_remarks

impl FlowControl {
    /// `workers` sends at once, `capacity` waiting, each waiting at most `max_wait_ms`; a
    /// store lock held longer than `pc_busy_ms` refuses sends.
    pub fn new(workers: usize, capacity: usize, max_wait_ms: u64, pc_busy_ms: u64) -> Self {
        FlowControl {
            workers: Arc::new(Semaphore::new(workers.max(1))),
            queued: AtomicUsize::new(0),
            capacity: capacity.max(1),
            max_wait: Duration::from_millis(max_wait_ms),
            pc_busy_timeout: Duration::from_millis(pc_busy_ms),
        }
    }

    /// True when an append has held the store for longer than osPageCacheBusyTimeOutMills.
    pub fn page_cache_busy(&self, append_started: Option<Instant>) -> bool {
        append_started.is_some_and(|t| t.elapsed() > self.pc_busy_timeout)
    }

    // ANCHOR: flow_control_check
    /// Waits for a send worker. Refuses at once when the page cache is busy or the queue is
    /// full, and after the wait when the request aged past waitTimeMillsInSendQueue.
    pub async fn enter(
        &self,
        append_started: impl Fn() -> Option<Instant>,
    ) -> Result<OwnedSemaphorePermit, Busy> {
        if self.page_cache_busy(append_started()) {
            return Err(Busy::Reject);
        }
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.capacity {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy::Overload);
        }
        let arrived = Instant::now();
        let permit = self.workers.clone().acquire_owned().await;
        let queue = self.queued.fetch_sub(1, Ordering::SeqCst) - 1;
        let Ok(permit) = permit else {
            return Err(Busy::Overload);
        };
        let waited = arrived.elapsed();
        if self.page_cache_busy(append_started()) {
            return Err(Busy::PcBusy {
                waited_ms: waited.as_millis(),
                queue,
            });
        }
        if waited >= self.max_wait && !self.max_wait.is_zero() {
            return Err(Busy::Timeout {
                waited_ms: waited.as_millis(),
                queue,
            });
        }
        Ok(permit)
    }
    // ANCHOR_END: flow_control_check
}

// ANCHOR: send_slot
/// The send worker one request holds. It is released as soon as the request's append is
/// done, not when its reply is ready: the wait for the fsync, the slave or the DLedger quorum
/// runs without it, so the next send can append meanwhile and share that fsync or round trip.
/// 4.8.0 gets the same effect from `asyncPutMessage`, whose future the SendMessageThread does
/// not wait for. Cheap to clone (the clone in the store's callback and the request's own copy
/// release the same permit); a slot made with `default()` holds nothing.
#[derive(Clone, Default)]
pub struct SendSlot(Arc<parking_lot::Mutex<Option<OwnedSemaphorePermit>>>);

impl SendSlot {
    /// A slot that holds `permit` until [`SendSlot::release`] (or the last clone drops).
    pub fn holding(permit: OwnedSemaphorePermit) -> Self {
        SendSlot(Arc::new(parking_lot::Mutex::new(Some(permit))))
    }

    /// Gives the worker back (a no-op after the first call).
    pub fn release(&self) {
        self.0.lock().take();
    }

    /// Whether the worker is still held.
    pub fn is_held(&self) -> bool {
        self.0.lock().is_some()
    }
}
// ANCHOR_END: send_slot

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_released_slot_lets_the_next_send_in_while_the_first_still_runs() {
        let fc = FlowControl::new(1, 10, 0, 1000);
        let first = SendSlot::holding(fc.enter(|| None).await.unwrap());
        let in_callback = first.clone();
        assert!(fc.workers.available_permits() == 0);
        in_callback.release();
        assert!(!first.is_held());
        let second = tokio::time::timeout(Duration::from_secs(1), fc.enter(|| None)).await;
        assert!(
            matches!(second, Ok(Ok(_))),
            "the second send got the worker"
        );
        first.release(); // releasing twice is harmless
        assert_eq!(fc.workers.available_permits(), 0);
    }

    #[tokio::test]
    async fn queued_request_past_the_wait_limit_is_refused_with_the_4_8_text() {
        let fc = Arc::new(FlowControl::new(1, 10, 50, 1000));
        let held = fc.enter(|| None).await.unwrap();
        let fc2 = fc.clone();
        let waiter = tokio::spawn(async move { fc2.enter(|| None).await });
        tokio::time::sleep(Duration::from_millis(120)).await;
        drop(held);
        let err = waiter.await.unwrap().unwrap_err();
        assert!(err.remark().starts_with(
            "[TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, period in queue: "
        ));
        assert!(matches!(
            fc.enter(|| Some(Instant::now() - Duration::from_secs(5)))
                .await,
            Err(Busy::Reject)
        ));
    }
}
