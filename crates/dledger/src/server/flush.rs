//! The periodic flush of a member's data and index files, outside the driver.
//!
//! Every `flush_interval_ms` the bytes written since the last round go to disk. The store
//! lock is held only to list the dirty files and, afterwards, to record them as flushed; the
//! sync itself runs in the blocking pool. The driver used to msync under the lock on its own
//! task, and every append, push and answer queued behind it: once the kernel's background
//! writeback started (a few seconds into a load) those syncs took milliseconds, and a
//! leader's sends fell from ~4 500/s to ~1 500/s with a p99 of 25-30 ms.
//!
//! After a flush, and at most every `checkpoint_interval_ms`, the `checkpoint` file is
//! written, so the committed index it names has reached the disk; when the load stops, the
//! last committed index is written at once. With nothing to flush and the checkpoint current,
//! the task sleeps until the driver says the log grew or the committed index moved.
//!
//! Book: Part IV "Cluster modes and DLedger". Mirrors `DLedgerMmapFileStore.FlushDataService`
//! of DLedger 0.2.2 (its own thread, flushing every `flushFileInterval` ms, then
//! `persistCheckPoint` every `checkPointInterval` ms).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::Shared;

// ANCHOR: flush_loop
/// Flushes every `every` and writes the checkpoint every `checkpoint_every` after a
/// successful flush, until `cancel`; the final flush and checkpoint are the shutdown's.
pub(super) async fn flush_loop(
    shared: Arc<Shared>,
    every: Duration,
    checkpoint_every: Duration,
    cancel: CancellationToken,
    self_id: String,
) {
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_checkpoint = Instant::now();
    // what the checkpoint file names: (write position, committed index)
    let mut checkpointed = (-1, -1);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let pending = shared.store.lock().flush_jobs();
        let idle = pending.is_empty();
        if !idle {
            let synced = tokio::task::spawn_blocking(move || {
                let r = pending.sync();
                (pending, r)
            })
            .await;
            match synced {
                Ok((pending, Ok(()))) => shared.store.lock().mark_flushed(&pending),
                Ok((_, Err(e))) => {
                    warn!(id = %self_id, error = %e, "flush failed");
                    continue;
                }
                Err(e) => {
                    warn!(id = %self_id, error = %e, "flush task failed");
                    continue;
                }
            }
        }
        let now_state = {
            let st = shared.store.lock();
            (st.write_pos(), st.committed_index())
        };
        let stale = now_state != checkpointed;
        if stale && (idle || last_checkpoint.elapsed() >= checkpoint_every) {
            last_checkpoint = Instant::now();
            // a few bytes into the page cache, as the driver used to write it
            match shared.store.lock().persist_checkpoint() {
                Ok(()) => checkpointed = now_state,
                Err(e) => warn!(id = %self_id, error = %e, "checkpoint failed"),
            }
        }
        if idle {
            // Nothing to flush and the checkpoint is current: sleep until the driver writes
            // (0.2.2's thread wakes every 10 ms regardless; an idle member need not).
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = shared.written.notified() => tick.reset(),
            }
        }
    }
}
// ANCHOR_END: flush_loop
