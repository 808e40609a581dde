//! What a push consumer does for the admin calls a broker relays to it: move to new offsets
//! (RESET_CONSUMER_CLIENT_OFFSET), report its offsets (GET_CONSUMER_STATUS_FROM_CLIENT) and
//! its running state (GET_CONSUMER_RUNNING_INFO), and run its listener on one given message
//! (CONSUME_MESSAGE_DIRECTLY).
//!
//! The reset is the delicate one. Pull tasks and listener calls of the reset queues are in
//! flight and would commit old offsets over the new ones. So, as 4.8.0 does: pause the
//! consumer (no pulls, no rebalance), mark the queues dropped and empty them, wait
//! (`reset_offset_wait`, 10 s in 4.8.0) so every call in flight ends and sees "dropped",
//! then set each new offset, commit it to the broker and forget the queue, and resume with a
//! rebalance, which takes the queues again and starts them from the committed offsets.
//! Book: Part II "Consumer offsets" (Resetting offsets). Mirrors `MQClientInstance.resetOffset`,
//! `DefaultMQPushConsumerImpl` (`suspend`, `resume`, `consumerRunningInfo`) and
//! `ConsumeMessage{Concurrently,Orderly}Service.consumeMessageDirectly`.

use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use rmq_common::message::MessageExt;
use rmq_remoting::protocol::fastjson::ObjectKeyMap;
use rmq_remoting::protocol::{
    CmResult, ConsumeMessageDirectlyResult, ConsumerRunningInfo, MessageQueue,
};
use tracing::info;

use super::concurrently::reset_retry_topic;
use super::listener::{
    ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, ConsumeOrderlyContext,
    ConsumeOrderlyStatus, MessageListener,
};
use super::PushInner;
use crate::consumer::process_queue::ProcessQueue;

impl PushInner {
    // ANCHOR: push_reset_offset
    /// Moves the queues of `topic` listed in `table` to their new offsets.
    pub(super) async fn reset_offset(
        self: &Arc<Self>,
        topic: &str,
        table: HashMap<MessageQueue, i64>,
    ) {
        self.paused.store(true, Ordering::SeqCst);
        info!(group = %self.config.group, topic, "suspend this consumer for an offset reset");
        let targets: Vec<(MessageQueue, Arc<ProcessQueue>)> = self
            .table
            .lock()
            .iter()
            .filter(|(mq, _)| mq.topic == topic && table.contains_key(mq))
            .map(|(mq, pq)| (mq.clone(), pq.clone()))
            .collect();
        for (_, pq) in &targets {
            pq.set_dropped(true);
            pq.clear();
        }
        // Pulls and listener calls in flight finish and find their queue dropped.
        tokio::select! {
            _ = self.shutdown.cancelled() => return,
            _ = tokio::time::sleep(self.config.reset_offset_wait) => {}
        }
        for (mq, pq) in targets {
            let Some(&offset) = table.get(&mq) else {
                continue;
            };
            self.offsets.update_offset(&mq, offset, false);
            self.persist_and_forget(&mq).await;
            // Orderly: also gives the broker lock back; the next rebalance locks again.
            self.remove_unnecessary_message_queue(&mq, &pq).await;
            self.table.lock().remove(&mq);
            info!(group = %self.config.group, queue = ?mq, offset, "offset reset");
        }
        self.paused.store(false, Ordering::SeqCst);
        info!(group = %self.config.group, "resume this consumer");
        self.do_rebalance().await;
    }
    // ANCHOR_END: push_reset_offset

    /// The in-memory offsets of one topic (`cloneOffsetTable`).
    pub(super) fn offset_table(&self, topic: &str) -> HashMap<MessageQueue, i64> {
        self.offsets
            .snapshot()
            .into_iter()
            .filter(|(mq, _)| mq.topic == topic)
            .collect()
    }

    /// GET_CONSUMER_RUNNING_INFO: settings, subscriptions, owned queues and rates.
    pub(super) fn running_info(&self) -> ConsumerRunningInfo {
        let c = &self.config;
        let mut p = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            p.insert(k.to_string(), v);
        };
        // The settings under their DefaultMQPushConsumer field names.
        put("consumerGroup", c.group.clone());
        put("messageModel", c.message_model.name().into());
        put("consumeFromWhere", c.consume_from_where.name().into());
        put("consumeTimestamp", c.consume_timestamp_ms.to_string());
        put("allocateMessageQueueStrategy", c.allocate_strategy.name());
        put("consumeThreadMax", c.consume_thread_max.to_string());
        put(
            "consumeConcurrentlyMaxSpan",
            c.consume_concurrently_max_span.to_string(),
        );
        put(
            "pullThresholdForQueue",
            c.pull_threshold_for_queue.to_string(),
        );
        put(
            "pullThresholdSizeForQueue",
            c.pull_threshold_size_for_queue_mib.to_string(),
        );
        put("pullInterval", c.pull_interval.as_millis().to_string());
        put("pullBatchSize", c.pull_batch_size.to_string());
        put(
            "consumeMessageBatchMaxSize",
            c.consume_message_batch_max_size.to_string(),
        );
        put(
            "postSubscriptionWhenPull",
            c.post_subscription_when_pull.to_string(),
        );
        put("maxReconsumeTimes", c.max_reconsume_times.to_string());
        put(
            "suspendCurrentQueueTimeMillis",
            c.suspend_current_queue_time.as_millis().to_string(),
        );
        put("unitMode", "false".into());
        put("namesrvAddr", c.client.namesrv_addr.clone());
        put("clientIP", self.instance.client_ip().to_string());
        put(
            "instanceName",
            self.instance
                .client_id()
                .split_once('@')
                .map(|(_, n)| n.to_string())
                .unwrap_or_default(),
        );
        put(
            "pollNameServerInterval",
            c.client.poll_name_server_interval.as_millis().to_string(),
        );
        put(
            "heartbeatBrokerInterval",
            c.client.heartbeat_broker_interval.as_millis().to_string(),
        );
        put(
            "persistConsumerOffsetInterval",
            c.client
                .persist_consumer_offset_interval
                .as_millis()
                .to_string(),
        );
        put(
            ConsumerRunningInfo::PROP_CONSUME_ORDERLY,
            self.is_orderly().to_string(),
        );
        put(
            ConsumerRunningInfo::PROP_THREADPOOL_CORE_SIZE,
            c.consume_thread_max.to_string(),
        );
        put(
            ConsumerRunningInfo::PROP_CONSUMER_START_TIMESTAMP,
            self.start_ms.to_string(),
        );
        put(
            ConsumerRunningInfo::PROP_CONSUME_TYPE,
            "CONSUME_PASSIVELY".into(),
        );
        let subscription_set: Vec<_> = self.subscriptions.lock().values().cloned().collect();
        let offsets = self.offsets.snapshot();
        let mut mq_table: Vec<_> = self
            .table
            .lock()
            .iter()
            .map(|(mq, pq)| (mq.clone(), pq.info(offsets.get(mq).copied().unwrap_or(-1))))
            .collect();
        mq_table.sort_by(|a, b| a.0.cmp(&b.0));
        let status_table = subscription_set
            .iter()
            .map(|s| (s.topic.clone(), self.stats.status(&s.topic)))
            .collect();
        ConsumerRunningInfo {
            jstack: None,
            mq_table: ObjectKeyMap(mq_table),
            properties: p,
            status_table,
            subscription_set,
        }
    }

    /// CONSUME_MESSAGE_DIRECTLY: one listener call on `msg`, outside the normal flow (no
    /// offset, no retry); the result says what the listener answered.
    pub(super) async fn consume_message_directly(
        &self,
        msg: MessageExt,
        broker_name: String,
    ) -> ConsumeMessageDirectlyResult {
        let mut msgs = vec![msg];
        reset_retry_topic(&self.config.group, &mut msgs);
        let mq = MessageQueue {
            broker_name,
            queue_id: msgs[0].queue_id,
            topic: msgs[0].topic.clone(),
        };
        info!(group = %self.config.group, msg_id = %msgs[0].msg_id(), "consumeMessageDirectly");
        let begin = Instant::now();
        let listener = self.listener.clone();
        let order = matches!(listener, MessageListener::Orderly(_));
        let outcome = tokio::task::spawn_blocking(move || {
            std::panic::catch_unwind(AssertUnwindSafe(|| match &listener {
                MessageListener::Concurrently(f) => {
                    let mut ctx = ConsumeConcurrentlyContext {
                        message_queue: mq,
                        delay_level_when_next_consume: 0,
                        ack_index: i32::MAX,
                    };
                    match f(&msgs, &mut ctx) {
                        ConsumeConcurrentlyStatus::ConsumeSuccess => CmResult::Success,
                        ConsumeConcurrentlyStatus::ReconsumeLater => CmResult::Later,
                    }
                }
                MessageListener::Orderly(f) => {
                    let mut ctx = ConsumeOrderlyContext {
                        message_queue: mq,
                        suspend_current_queue_time_millis: -1,
                    };
                    match f(&msgs, &mut ctx) {
                        ConsumeOrderlyStatus::Success => CmResult::Success,
                        ConsumeOrderlyStatus::SuspendCurrentQueueAMoment => CmResult::Later,
                    }
                }
            }))
        })
        .await;
        let (result, remark) = match outcome {
            Ok(Ok(r)) => (r, None),
            Ok(Err(panic)) => (CmResult::ThrowException, Some(panic_text(&*panic))),
            Err(e) => (CmResult::ThrowException, Some(e.to_string())),
        };
        ConsumeMessageDirectlyResult {
            auto_commit: true,
            consume_result: Some(result),
            order,
            remark,
            spent_time_mills: begin.elapsed().as_millis() as i64,
        }
    }
}

/// The message of a caught panic.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("listener panicked: {what}")
}
