//! A tiny helper for the store's background threads: sleep until woken or a timeout passes,
//! and stop cleanly.
//!
//! Book: Part I, "CommitLog" (the flush threads). Mirrors
//! `org.apache.rocketmq.common.ServiceThread` (`wakeup`, `waitForRunning`, `shutdown`).

use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Wake-up and stop signals for one background thread.
#[derive(Default)]
pub struct Waker {
    notified: Mutex<bool>,
    cv: Condvar,
    stopped: AtomicBool,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl Waker {
    /// A waker that is neither stopped nor signalled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the thread if it is waiting; otherwise its next wait returns at once.
    pub fn wakeup(&self) {
        let mut n = self.notified.lock();
        if !*n {
            *n = true;
            self.cv.notify_one();
        }
    }

    /// Waits until woken, stopped, or `timeout` passes; consumes the wake-up.
    pub fn wait_for_running(&self, timeout: Duration) {
        let mut n = self.notified.lock();
        if !*n && !self.is_stopped() {
            self.cv.wait_for(&mut n, timeout);
        }
        *n = false;
    }

    /// Whether `shutdown` ran.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Spawns `body` as the thread this waker controls.
    pub fn spawn(&self, name: &str, body: impl FnOnce() + Send + 'static) {
        match std::thread::Builder::new()
            .name(name.to_string())
            .spawn(body)
        {
            Ok(h) => *self.handle.lock() = Some(h),
            Err(e) => tracing::error!(thread = name, error = %e, "cannot start store thread"),
        }
    }

    /// Sets the stop flag, wakes the thread and joins it.
    pub fn shutdown(&self) {
        self.stopped.store(true, Ordering::Release);
        {
            let mut n = self.notified.lock();
            *n = true;
            self.cv.notify_all();
        }
        let handle = self.handle.lock().take();
        if let Some(h) = handle {
            if h.thread().id() != std::thread::current().id() {
                let _ = h.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn wakes_and_stops() {
        let w = Arc::new(Waker::new());
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (w2, c2) = (w.clone(), count.clone());
        w.spawn("t", move || {
            while !w2.is_stopped() {
                w2.wait_for_running(Duration::from_secs(60));
                c2.fetch_add(1, Ordering::SeqCst);
            }
        });
        w.wakeup();
        for _ in 0..500 {
            if count.load(Ordering::SeqCst) > 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(count.load(Ordering::SeqCst) >= 1);
        w.shutdown();
        assert!(w.is_stopped());
    }
}
