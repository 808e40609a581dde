//! One pull task per assigned queue of a lite pull consumer: long-poll the broker from the
//! queue's pull offset and put what comes back into the consumer's ready buffer, where
//! `poll` finds it.
//!
//! The task waits instead of pulling while the queue is paused (1 s), while too many
//! messages wait in the buffer (`pull_threshold_for_all`, `pull_threshold_for_queue`,
//! `consume_max_span`: 50 ms), and after a failed pull (1 s). A seek that arrives while a
//! pull is in flight wins: that pull is abandoned (4.8.0 waits for it, up to the 20 s the
//! broker may hold it) and its result dropped.
//! Book: Part II "Consuming" (section "The lite pull consumer"). Mirrors 4.8.0's
//! `DefaultLitePullConsumerImpl.PullTaskImpl`.

use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, warn};

use super::assigned::QueueState;
use super::{LiteInner, ReadyBatch};
use crate::api::{pull_flag, PullStatus};
use crate::consumer::assignment;
use crate::consumer::pull_api::PullArgs;

/// `PULL_TIME_DELAY_MILLS_WHEN_PAUSE`.
const DELAY_WHEN_PAUSED: Duration = Duration::from_millis(1000);
/// `PULL_TIME_DELAY_MILLS_WHEN_FLOW_CONTROL`.
const DELAY_WHEN_FLOW_CONTROL: Duration = Duration::from_millis(50);
/// `PULL_TIME_DELAY_MILLS_ON_EXCEPTION`.
const DELAY_WHEN_EXCEPTION: Duration = Duration::from_millis(1000);

/// Starts the pull task of `state`; it ends when the queue is dropped or the consumer stops.
pub(super) fn spawn(inner: Arc<LiteInner>, state: Arc<QueueState>) {
    tokio::spawn(async move {
        loop {
            if inner.is_stopped() || state.pq.is_dropped() {
                break;
            }
            let delay = pull_once(&inner, &state).await;
            if delay.is_zero() {
                continue;
            }
            tokio::select! {
                _ = inner.shutdown.cancelled() => break,
                _ = tokio::time::sleep(delay) => {}
            }
        }
        debug!(queue = ?state.mq, "lite pull task ended");
    });
}

/// One round; returns how long to wait before the next.
async fn pull_once(inner: &Arc<LiteInner>, state: &Arc<QueueState>) -> Duration {
    let c = &inner.config;
    if state.is_paused() {
        return DELAY_WHEN_PAUSED;
    }
    if inner.cached_msg_count() > c.pull_threshold_for_all
        || state.pq.msg_count() > c.pull_threshold_for_queue
        || state.pq.max_span() > c.consume_max_span
    {
        return DELAY_WHEN_FLOW_CONTROL;
    }
    let mut offset = state.next_pull_offset();
    if offset < 0 {
        offset = assignment::compute_pull_from_where(
            &inner.instance,
            &inner.offsets,
            &state.mq,
            c.consume_from_where,
            c.consume_timestamp_ms,
        )
        .await;
        if offset < 0 {
            warn!(queue = ?state.mq, "no start offset yet");
            return DELAY_WHEN_EXCEPTION;
        }
        state.set_pull_offset(offset);
    }
    let Some(sub) = inner.subscription_for(&state.mq.topic) else {
        return DELAY_WHEN_EXCEPTION;
    };
    let args = PullArgs {
        mq: &state.mq,
        sub: &sub,
        offset,
        max_nums: c.pull_batch_size,
        // 4.8.0's pullSyncImpl(block = true): suspend and subscription, no commit offset.
        sys_flag: pull_flag::build(false, true, true, false),
        commit_offset: 0,
        suspend_ms: c.broker_suspend_max_time.as_millis() as i64,
        timeout: c.consumer_timeout_when_suspend,
    };
    let pulled = tokio::select! {
        r = inner.wrapper.pull(&args) => r,
        // A seek or a drop: give up this pull (its late reply is discarded) and go again.
        _ = state.interrupt.notified() => return Duration::ZERO,
        _ = inner.shutdown.cancelled() => return Duration::ZERO,
    };
    let result = match pulled {
        Ok(r) => r,
        Err(e) => {
            if !inner.is_stopped() {
                warn!(queue = ?state.mq, offset, error = %e, "lite pull failed");
            }
            return DELAY_WHEN_EXCEPTION;
        }
    };
    if state.pq.is_dropped() {
        return Duration::ZERO;
    }
    if result.status == PullStatus::OffsetIllegal {
        warn!(queue = ?state.mq, offset, next = result.next_begin_offset, "pull offset illegal");
    }
    let msgs = result.msgs;
    state.apply_pull(result.next_begin_offset, |generation| {
        if result.status == PullStatus::Found && !msgs.is_empty() {
            state.pq.put_offsets(&msgs);
            inner.submit(ReadyBatch {
                state: state.clone(),
                generation,
                msgs,
            });
        }
    });
    Duration::ZERO
}
