//! Orderly consumption: the messages of one queue are consumed one batch at a
//! time, in queue order, by exactly one consumer of the group.
//!
//! Two locks make that true. Across the group, the broker's queue lock
//! (LOCK_BATCH_MQ, renewed every 20 s, trusted for 30 s on the client): a
//! consumer takes a queue only after winning its lock and consumes only while
//! it holds it. Inside the client, the queue's consume lock: one task at a time
//! walks the queue's buffer. A listener that answers "suspend" gets the same
//! messages again after a pause, so order is never broken by a failure.
//! Book: Part II "Consuming, long polling and rebalancing" (ordered messages).
//! Mirrors `ConsumeMessageOrderlyService`.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmq_common::message::MessageExt;
use rmq_remoting::protocol::{MessageModel, MessageQueue};
use tracing::warn;

use super::concurrently::reset_retry_topic;
use super::listener::{ConsumeOrderlyContext, ConsumeOrderlyStatus, MessageListener, OrderlyFn};
use super::PushInner;
use crate::consumer::process_queue::ProcessQueue;
use crate::message::keys;
use crate::trace::ConsumeReturnType;

/// Lock renewal period (`rocketmq.client.rebalance.lockInterval`).
const LOCK_INTERVAL: Duration = Duration::from_secs(20);
/// Longest uninterrupted run on one queue (`MAX_TIME_CONSUME_CONTINUOUSLY`).
const MAX_TIME_CONSUME_CONTINUOUSLY: Duration = Duration::from_secs(60);

/// Renews the broker locks of owned queues every 20 s.
pub(super) fn spawn_lock_all_task(inner: Arc<PushInner>) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = inner.shutdown.cancelled() => break,
                _ = tokio::time::sleep(LOCK_INTERVAL) => {}
            }
            inner.lock_all().await;
        }
    });
}

/// Schedules a consume run of one queue after `delay`.
pub(super) fn submit(
    inner: Arc<PushInner>,
    pq: Arc<ProcessQueue>,
    mq: MessageQueue,
    delay: Duration,
) {
    tokio::spawn(async move {
        if !delay.is_zero() {
            tokio::select! {
                _ = inner.shutdown.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
            }
        }
        consume(inner, pq, mq).await;
    });
}

/// Tries to win the queue's lock again later, then resumes.
fn try_lock_later_and_reconsume(
    inner: Arc<PushInner>,
    pq: Arc<ProcessQueue>,
    mq: MessageQueue,
    delay: Duration,
) {
    tokio::spawn(async move {
        tokio::select! {
            _ = inner.shutdown.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        let locked = inner.lock(&mq).await;
        let next = if locked {
            Duration::from_millis(10)
        } else {
            Duration::from_millis(3000)
        };
        submit(inner, pq, mq, next);
    });
}

async fn consume(inner: Arc<PushInner>, pq: Arc<ProcessQueue>, mq: MessageQueue) {
    let MessageListener::Orderly(listener) = &inner.listener else {
        return;
    };
    if pq.is_dropped() {
        return;
    }
    let clustering = inner.config.message_model == MessageModel::Clustering;
    let guard = pq.consume_lock.lock().await;
    let begin = Instant::now();
    loop {
        if pq.is_dropped() || inner.is_stopped() {
            break;
        }
        if clustering && (!pq.is_locked() || pq.is_lock_expired()) {
            drop(guard);
            let delay = if pq.is_locked() { 10 } else { 100 };
            try_lock_later_and_reconsume(
                inner.clone(),
                pq.clone(),
                mq.clone(),
                Duration::from_millis(delay),
            );
            return;
        }
        if begin.elapsed() > MAX_TIME_CONSUME_CONTINUOUSLY {
            drop(guard);
            submit(
                inner.clone(),
                pq.clone(),
                mq.clone(),
                Duration::from_millis(10),
            );
            return;
        }
        let mut msgs = pq.take_messages(inner.config.consume_message_batch_max_size.max(1));
        if msgs.is_empty() {
            break; // take_messages cleared the dispatch flag
        }
        reset_retry_topic(&inner.config.group, &mut msgs);
        let Ok(permit) = inner.consume_sem.clone().acquire_owned().await else {
            break;
        };
        let traced = inner.trace_before(&msgs);
        let began = Instant::now();
        let (status, ctx, msgs, panicked) =
            call_listener(listener.clone(), msgs, &mq, inner.namespace()).await;
        drop(permit);
        let ok = match status {
            ConsumeOrderlyStatus::Success => msgs.len(),
            ConsumeOrderlyStatus::SuspendCurrentQueueAMoment => 0,
        };
        let how = match (status, panicked) {
            (_, true) => ConsumeReturnType::Exception,
            (ConsumeOrderlyStatus::Success, _) => ConsumeReturnType::Success,
            (ConsumeOrderlyStatus::SuspendCurrentQueueAMoment, _) => ConsumeReturnType::Failed,
        };
        inner.trace_after(traced, msgs.len(), ok > 0, how);
        inner
            .stats
            .consumed(&mq.topic, began.elapsed(), ok, msgs.len() - ok);
        if pq.is_dropped() {
            break;
        }
        match status {
            ConsumeOrderlyStatus::Success => {
                let commit = pq.commit();
                if commit >= 0 {
                    inner.offsets.update_offset(&mq, commit, false);
                }
            }
            ConsumeOrderlyStatus::SuspendCurrentQueueAMoment => {
                if inner.must_retry_in_place(&msgs).await {
                    // Same messages, same order, after a pause.
                    let retry: Vec<MessageExt> = msgs
                        .into_iter()
                        .map(|mut m| {
                            m.reconsume_times += 1;
                            m
                        })
                        .collect();
                    pq.make_message_to_consume_again(&retry);
                    let pause = if ctx.suspend_current_queue_time_millis > 0 {
                        Duration::from_millis(ctx.suspend_current_queue_time_millis as u64)
                    } else {
                        inner.config.suspend_current_queue_time
                    };
                    drop(guard);
                    submit(inner.clone(), pq.clone(), mq.clone(), pause);
                    return;
                }
                // Retries exhausted: the messages went to the retry topic (DLQ).
                let commit = pq.commit();
                if commit >= 0 {
                    inner.offsets.update_offset(&mq, commit, false);
                }
            }
        }
    }
    drop(guard);
}

/// Calls the listener off the runtime; the flag says it panicked.
async fn call_listener(
    listener: Arc<OrderlyFn>,
    mut msgs: Vec<MessageExt>,
    mq: &MessageQueue,
    ns: String,
) -> (
    ConsumeOrderlyStatus,
    ConsumeOrderlyContext,
    Vec<MessageExt>,
    bool,
) {
    let mut ctx = ConsumeOrderlyContext {
        message_queue: mq.clone(),
        suspend_current_queue_time_millis: -1,
    };
    let fallback_ctx = ctx.clone();
    let fallback_msgs = msgs.clone();
    let r = tokio::task::spawn_blocking(move || {
        let s = super::with_user_topics(&ns, &mut msgs, |user| {
            std::panic::catch_unwind(AssertUnwindSafe(|| listener(user, &mut ctx)))
        });
        (s, ctx, msgs)
    })
    .await;
    match r {
        Ok((Ok(s), ctx, msgs)) => (s, ctx, msgs, false),
        Ok((Err(_), ctx, msgs)) => {
            warn!(queue = ?mq, "orderly listener panicked; suspending the queue");
            (
                ConsumeOrderlyStatus::SuspendCurrentQueueAMoment,
                ctx,
                msgs,
                true,
            )
        }
        Err(_) => (
            ConsumeOrderlyStatus::SuspendCurrentQueueAMoment,
            fallback_ctx,
            fallback_msgs,
            true,
        ),
    }
}

impl PushInner {
    /// True if the batch should be retried in place; false if some message ran
    /// out of retries and every such message was handed to the retry topic.
    async fn must_retry_in_place(&self, msgs: &[MessageExt]) -> bool {
        let max = self.max_reconsume_times();
        let mut suspend = false;
        for m in msgs {
            if m.reconsume_times >= max {
                let mut copy = m.clone();
                copy.put_property(keys::RECONSUME_TIME, m.reconsume_times.to_string());
                if self
                    .send_to_retry_topic(&copy, 3 + m.reconsume_times)
                    .await
                    .is_err()
                {
                    suspend = true;
                }
            } else {
                suspend = true;
            }
        }
        suspend
    }
}
