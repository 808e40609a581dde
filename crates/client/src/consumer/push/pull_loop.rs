//! One task per owned queue: long-poll the broker, buffer what arrives, hand
//! it to the consume service, repeat.
//!
//! Before each pull the task applies flow control (too many or too large
//! buffered messages, or — for concurrent consumption — too wide an offset span
//! between the oldest and newest buffered message: wait 50 ms). Each pull
//! carries the consumer's current offset so the broker can store it, and asks
//! the broker to hold the request up to 15 s when there is nothing new (long
//! polling): new messages are delivered as soon as they are stored, with no
//! busy polling. An illegal offset (messages deleted, queue reset) drops the
//! queue after 10 s and lets the next rebalance start it again from the
//! corrected offset.
//! Book: Part II "Consuming, long polling and rebalancing" (the pull loop).
//! Mirrors `DefaultMQPushConsumerImpl.pullMessage` and `PullMessageService`.

use std::sync::Arc;
use std::time::Duration;

use rmq_remoting::protocol::{MessageModel, MessageQueue};
use tracing::{debug, warn};

use super::PushInner;
use crate::api::{pull_flag, PullStatus};
use crate::consumer::offset_store::ReadOffsetType;
use crate::consumer::process_queue::ProcessQueue;
use crate::consumer::pull_api::PullArgs;

/// Delay after flow control kicks in (`PULL_TIME_DELAY_MILLS_WHEN_FLOW_CONTROL`).
const DELAY_FLOW_CONTROL: Duration = Duration::from_millis(50);
/// Delay after an error (`PULL_TIME_DELAY_MILLS_WHEN_EXCEPTION`).
const DELAY_EXCEPTION: Duration = Duration::from_millis(3000);
/// Delay while the consumer is suspended (`PULL_TIME_DELAY_MILLS_WHEN_SUSPEND`).
const DELAY_SUSPEND: Duration = Duration::from_millis(1000);
/// Delay before dropping a queue whose offset was illegal.
const DELAY_OFFSET_ILLEGAL: Duration = Duration::from_secs(10);

/// Starts the pull task of one queue.
pub(super) fn spawn(
    inner: Arc<PushInner>,
    mq: MessageQueue,
    pq: Arc<ProcessQueue>,
    next_offset: i64,
) {
    tokio::spawn(async move { pull_loop(inner, mq, pq, next_offset).await });
}

/// Sleeps unless the consumer stops or the queue is dropped first; false if so.
async fn pause(inner: &PushInner, d: Duration) -> bool {
    tokio::select! {
        _ = inner.shutdown.cancelled() => false,
        _ = tokio::time::sleep(d) => true,
    }
}

async fn pull_loop(
    inner: Arc<PushInner>,
    mq: MessageQueue,
    pq: Arc<ProcessQueue>,
    mut next_offset: i64,
) {
    let cfg = &inner.config;
    let mut locked_first = false;
    loop {
        if pq.is_dropped() || inner.is_stopped() {
            break;
        }
        pq.touch_pull();
        if inner.is_paused() {
            // An offset reset is running (`PULL_TIME_DELAY_MILLS_WHEN_SUSPEND`).
            if !pause(&inner, DELAY_SUSPEND).await {
                break;
            }
            continue;
        }
        // Flow control.
        let too_many = pq.msg_count() > cfg.pull_threshold_for_queue;
        let too_big = pq.msg_size() > cfg.pull_threshold_size_for_queue_mib * 1024 * 1024;
        let too_wide = !inner.is_orderly() && pq.max_span() > cfg.consume_concurrently_max_span;
        if too_many || too_big || too_wide {
            if !pause(&inner, DELAY_FLOW_CONTROL).await {
                break;
            }
            continue;
        }
        if inner.is_orderly() {
            if !pq.is_locked() {
                if !pause(&inner, DELAY_EXCEPTION).await {
                    break;
                }
                continue;
            }
            if !locked_first {
                // Another consumer may have moved the offset before we got the lock.
                let o = inner.compute_pull_from_where(&mq).await;
                if o < 0 {
                    if !pause(&inner, DELAY_EXCEPTION).await {
                        break;
                    }
                    continue;
                }
                next_offset = o;
                locked_first = true;
            }
        }
        let Some(sub) = inner.subscription(&mq.topic) else {
            if !pause(&inner, DELAY_EXCEPTION).await {
                break;
            }
            continue;
        };
        let commit_offset = if cfg.message_model == MessageModel::Clustering {
            inner
                .offsets
                .read_offset(&mq, ReadOffsetType::ReadFromMemory)
                .await
        } else {
            0
        };
        let args = PullArgs {
            mq: &mq,
            sub: &sub,
            offset: next_offset,
            max_nums: cfg.pull_batch_size,
            sys_flag: pull_flag::build(
                commit_offset > 0,
                true,
                cfg.post_subscription_when_pull,
                false,
            ),
            commit_offset: commit_offset.max(0),
            suspend_ms: cfg.broker_suspend_max_time.as_millis() as i64,
            timeout: cfg.consumer_timeout_when_suspend,
        };
        let pull_began = std::time::Instant::now();
        let result = tokio::select! {
            _ = inner.shutdown.cancelled() => break,
            r = inner.wrapper.pull(&args) => r,
        };
        if pq.is_dropped() {
            break;
        }
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                warn!(queue = ?mq, error = %e, "pull failed");
                if !pause(&inner, DELAY_EXCEPTION).await {
                    break;
                }
                continue;
            }
        };
        match r.status {
            PullStatus::Found => {
                inner
                    .stats
                    .pulled(&mq.topic, pull_began.elapsed(), r.msgs.len());
                next_offset = r.next_begin_offset;
                if !r.msgs.is_empty() {
                    let dispatch = if inner.is_orderly() {
                        pq.put_messages(&r.msgs)
                    } else {
                        pq.put_offsets(&r.msgs)
                    };
                    inner.submit_consume(r.msgs, pq.clone(), mq.clone(), dispatch);
                }
                if !cfg.pull_interval.is_zero() && !pause(&inner, cfg.pull_interval).await {
                    break;
                }
            }
            PullStatus::NoNewMsg | PullStatus::NoMatchedMsg => {
                next_offset = r.next_begin_offset;
                // Nothing buffered: the filtered-out range counts as consumed.
                if pq.msg_count() == 0 {
                    inner.offsets.update_offset(&mq, next_offset, true);
                }
            }
            PullStatus::OffsetIllegal => {
                warn!(queue = ?mq, offset = next_offset, next = r.next_begin_offset, "offset illegal");
                pq.set_dropped(true);
                if !pause(&inner, DELAY_OFFSET_ILLEGAL).await {
                    break;
                }
                inner.offsets.update_offset(&mq, r.next_begin_offset, false);
                inner.offsets.persist(&mq).await;
                inner.table.lock().remove(&mq);
                debug!(queue = ?mq, "queue dropped after illegal offset; next rebalance restarts it");
                break;
            }
        }
    }
}

impl PushInner {
    /// Hands pulled messages to the consume service of this consumer.
    fn submit_consume(
        self: &Arc<Self>,
        msgs: Vec<rmq_common::message::MessageExt>,
        pq: Arc<ProcessQueue>,
        mq: MessageQueue,
        dispatch: bool,
    ) {
        if self.is_orderly() {
            if dispatch {
                super::orderly::submit(self.clone(), pq, mq, Duration::ZERO);
            }
        } else {
            super::concurrently::submit(self.clone(), msgs, pq, mq, Duration::ZERO);
        }
    }
}
