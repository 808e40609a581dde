//! Concurrent consumption: every pulled batch goes to a consume worker of its
//! own, which calls the listener with up to `consume_message_batch_max_size`
//! messages at a time; workers run in any order, up to `consume_thread_max` at
//! a time.
//!
//! When the listener answers "reconsume later" (or panics), clustering
//! consumers send each failed message back to the broker with
//! CONSUMER_SEND_MSG_BACK; the broker stores it in `%RETRY%<group>` with a delay
//! level (3 + times already retried, so 10 s, 30 s, 1 min, ...) and, after
//! `max_reconsume_times`, in the dead-letter queue `%DLQ%<group>`. If even that
//! fails, the client re-sends the message to the retry topic itself, and as a
//! last resort consumes it again locally after 5 s. Broadcasting consumers just
//! drop failures. Either way the queue's committed offset only moves past a
//! message once it is done with.
//! Book: Part II "Consuming, long polling and rebalancing" (retries). Mirrors
//! `ConsumeMessageConcurrentlyService` and `DefaultMQPushConsumerImpl.sendMessageBack`.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use rmq_common::message::MessageExt;
use rmq_remoting::protocol::{MessageModel, MessageQueue};
use tracing::{debug, warn};

use super::listener::{ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, MessageListener};
use super::PushInner;
use crate::consumer::process_queue::ProcessQueue;
use crate::error::Result;
use crate::message::{keys, Message};
use crate::trace::ConsumeReturnType;
use crate::util::retry_topic;
use rmq_remoting::protocol::header::ConsumerSendMsgBackRequestHeader;

/// Delay before consuming again locally when send-back failed.
const LOCAL_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Schedules a pulled batch after `delay`: one consume worker per pulled batch.
///
/// 4.8.0 submits one `ConsumeRequest` per `consumeMessageBatchMaxSize` slice to its
/// thread pool. Here the slices of one pulled batch are consumed by one worker that
/// holds one of the `consume_thread_max` permits and loops over them: the listener
/// still sees at most `consume_message_batch_max_size` messages per call, each slice
/// is acknowledged (process-queue removal, offset update) as soon as its call
/// returns, and at most `consume_thread_max` listener calls run at a time. The pull
/// loop keeps pulling while a worker runs, so a slow listener still gets up to
/// `consume_thread_max` workers at once across pulled batches; a fast one pays for
/// one task hand-off per pulled batch instead of one per message.
// ANCHOR: submit
pub(super) fn submit(
    inner: Arc<PushInner>,
    msgs: Vec<MessageExt>,
    pq: Arc<ProcessQueue>,
    mq: MessageQueue,
    delay: Duration,
) {
    if msgs.is_empty() {
        return;
    }
    tokio::spawn(async move {
        if !delay.is_zero() {
            tokio::select! {
                _ = inner.shutdown.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
            }
        }
        let MessageListener::Concurrently(_) = &inner.listener else {
            return;
        };
        let Ok(permit) = inner.consume_sem.clone().acquire_owned().await else {
            return;
        };
        let rt = tokio::runtime::Handle::current();
        let worker = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let batch = inner.config.consume_message_batch_max_size.max(1);
            let mut rest = msgs.into_iter();
            loop {
                let slice: Vec<MessageExt> = rest.by_ref().take(batch).collect();
                if slice.is_empty() || !consume(&rt, &inner, slice, &pq, &mq) {
                    return; // a stop leaves the rest buffered: no offset moves past it
                }
            }
        });
        if worker.await.is_err() {
            warn!("consume worker failed");
        }
    });
}
// ANCHOR_END: submit

/// Messages of the group's retry topic get their original topic back.
pub(super) fn reset_retry_topic(group: &str, msgs: &mut [MessageExt]) {
    let rt = retry_topic(group);
    for m in msgs {
        if m.topic == rt {
            if let Some(orig) = m.property(keys::RETRY_TOPIC).map(str::to_string) {
                m.topic = orig;
            }
        }
    }
}

/// One listener call on a consume worker's thread, then its bookkeeping; false once
/// the queue is dropped or the consumer stops (the rest is not consumed).
fn consume(
    rt: &tokio::runtime::Handle,
    inner: &Arc<PushInner>,
    mut msgs: Vec<MessageExt>,
    pq: &Arc<ProcessQueue>,
    mq: &MessageQueue,
) -> bool {
    let MessageListener::Concurrently(listener) = &inner.listener else {
        return false;
    };
    if pq.is_dropped() || inner.is_stopped() {
        return false;
    }
    reset_retry_topic(&inner.config.group, &mut msgs);
    let mut ctx = ConsumeConcurrentlyContext {
        message_queue: mq.clone(),
        delay_level_when_next_consume: 0,
        ack_index: i32::MAX,
    };
    let traced = inner.trace_before(&msgs);
    let began = std::time::Instant::now();
    let ns = inner.namespace();
    let status = super::with_user_topics(&ns, &mut msgs, |user| {
        std::panic::catch_unwind(AssertUnwindSafe(|| listener(user, &mut ctx)))
    });
    let (status, how) = match status {
        Ok(s @ ConsumeConcurrentlyStatus::ConsumeSuccess) => (s, ConsumeReturnType::Success),
        Ok(s @ ConsumeConcurrentlyStatus::ReconsumeLater) => (s, ConsumeReturnType::Failed),
        Err(_) => {
            warn!(queue = ?mq, "listener panicked; will reconsume later");
            (
                ConsumeConcurrentlyStatus::ReconsumeLater,
                ConsumeReturnType::Exception,
            )
        }
    };
    let ok = match status {
        ConsumeConcurrentlyStatus::ConsumeSuccess => msgs.len(),
        ConsumeConcurrentlyStatus::ReconsumeLater => 0,
    };
    inner.trace_after(traced, msgs.len(), ok > 0, how);
    inner
        .stats
        .consumed(&mq.topic, began.elapsed(), ok, msgs.len() - ok);
    if pq.is_dropped() {
        debug!(queue = ?mq, "queue dropped while consuming; result ignored");
        return false;
    }
    let acked = match status {
        ConsumeConcurrentlyStatus::ConsumeSuccess => {
            (ctx.ack_index.max(-1) as i64 + 1).min(msgs.len() as i64) as usize
        }
        ConsumeConcurrentlyStatus::ReconsumeLater => 0,
    };
    if acked == msgs.len() {
        // Everything consumed: no send-back, no await.
        let offset = pq.remove_messages(&msgs);
        if offset >= 0 && !pq.is_dropped() {
            inner.offsets.update_offset(mq, offset, true);
        }
    } else {
        rt.block_on(process_result(inner, acked, ctx, msgs, pq, mq));
    }
    true
}

/// The messages from `acked` on failed: send them back (clustering) or drop them
/// (broadcasting), then acknowledge the batch.
async fn process_result(
    inner: &Arc<PushInner>,
    acked: usize,
    ctx: ConsumeConcurrentlyContext,
    mut msgs: Vec<MessageExt>,
    pq: &Arc<ProcessQueue>,
    mq: &MessageQueue,
) {
    let mut failed_locally = Vec::new();
    match inner.config.message_model {
        MessageModel::Broadcasting => {
            for m in &msgs[acked..] {
                warn!(msg_id = %m.msg_id(), "BROADCASTING: consume failed, message dropped");
            }
        }
        MessageModel::Clustering => {
            let mut kept = Vec::with_capacity(msgs.len());
            for (i, m) in msgs.into_iter().enumerate() {
                if i >= acked
                    && inner
                        .send_message_back(&m, ctx.delay_level_when_next_consume, &mq.broker_name)
                        .await
                        .is_err()
                {
                    let mut again = m;
                    again.reconsume_times += 1;
                    failed_locally.push(again);
                } else {
                    kept.push(m);
                }
            }
            msgs = kept;
        }
    }
    let offset = pq.remove_messages(&msgs);
    if offset >= 0 && !pq.is_dropped() {
        inner.offsets.update_offset(mq, offset, true);
    }
    if !failed_locally.is_empty() {
        submit(
            inner.clone(),
            failed_locally,
            pq.clone(),
            mq.clone(),
            LOCAL_RETRY_DELAY,
        );
    }
}

impl PushInner {
    /// Gives a failed message back to the broker for a delayed retry.
    pub(super) async fn send_message_back(
        &self,
        msg: &MessageExt,
        delay_level: i32,
        broker_name: &str,
    ) -> Result<()> {
        let inst = &self.instance;
        let header = ConsumerSendMsgBackRequestHeader {
            offset: msg.commit_log_offset,
            group: self.config.group.clone(),
            delay_level: Some(delay_level),
            origin_msg_id: Some(msg.msg_id()),
            origin_topic: Some(msg.topic.clone()),
            unit_mode: false,
            max_reconsume_times: Some(self.max_reconsume_times()),
        };
        let addr = match inst.find_broker_addr_in_publish(broker_name) {
            Some(a) => a,
            None => msg.store_host.to_string(),
        };
        match inst
            .api()
            .consumer_send_msg_back(&addr, &header, inst.api_timeout())
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => {
                warn!(msg_id = %msg.msg_id(), error = %e, "send back failed; re-sending to the retry topic");
                self.send_to_retry_topic(msg, 3 + msg.reconsume_times).await
            }
        }
    }

    /// Re-sends a copy of `msg` to `%RETRY%<group>` with the bookkeeping
    /// properties the broker expects.
    pub(super) async fn send_to_retry_topic(
        &self,
        msg: &MessageExt,
        delay_level: i32,
    ) -> Result<()> {
        let mut m =
            Message::new(retry_topic(&self.config.group), msg.body.clone()).with_flag(msg.flag);
        m.properties = msg.properties.clone();
        let origin = msg
            .property(keys::ORIGIN_MESSAGE_ID)
            .map(str::to_string)
            .unwrap_or_else(|| msg.msg_id());
        m.put_property(keys::ORIGIN_MESSAGE_ID, origin);
        m.put_property(keys::RETRY_TOPIC, msg.topic.clone());
        m.put_property(keys::RECONSUME_TIME, (msg.reconsume_times + 1).to_string());
        m.put_property(
            keys::MAX_RECONSUME_TIMES,
            self.max_reconsume_times().to_string(),
        );
        m.put_property(keys::DELAY, delay_level.to_string());
        self.inner_producer().await?.send(m).await.map(|_| ())
    }
}
