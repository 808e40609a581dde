//! Rebalancing: decide which queues this consumer owns, start pulling the new
//! ones, stop and hand over the lost ones.
//!
//! A round runs every 20 s and whenever a broker reports that the group's
//! membership changed. Per subscribed topic: clustering asks a broker for the
//! group's client ids and allocates (every member computes the same answer);
//! broadcasting takes every queue. Lost queues are marked dropped, their offset
//! is written to the broker, and (orderly) their broker lock is released. New
//! queues get a start offset — the group's stored offset, or `consume_from_where`
//! when there is none — and a pull task. Orderly consumers must win the broker
//! lock of a queue before they take it.
//! Book: Part II "Consuming, long polling and rebalancing". Mirrors
//! `RebalanceImpl` and `RebalancePushImpl`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rmq_remoting::protocol::{LockBatchRequestBody, MessageModel, MessageQueue};
use tracing::{debug, info, warn};

use super::{pull_loop, PushInner};
use crate::consumer::assignment;
use crate::consumer::process_queue::ProcessQueue;
use crate::util::MASTER_ID;

impl PushInner {
    /// One rebalance round over every subscribed topic.
    pub(super) async fn do_rebalance(self: &Arc<Self>) {
        if self.is_stopped() || self.is_paused() {
            return;
        }
        let _one_at_a_time = self.rebalance_lock.lock().await;
        let topics: Vec<String> = self.subscriptions.lock().keys().cloned().collect();
        for topic in &topics {
            self.rebalance_by_topic(topic).await;
        }
        // Queues of topics no longer subscribed.
        let stale: Vec<(MessageQueue, Arc<ProcessQueue>)> = self
            .table
            .lock()
            .iter()
            .filter(|(mq, _)| !topics.contains(&mq.topic))
            .map(|(m, p)| (m.clone(), p.clone()))
            .collect();
        for (mq, pq) in stale {
            pq.set_dropped(true);
            self.table.lock().remove(&mq);
        }
    }

    async fn rebalance_by_topic(self: &Arc<Self>, topic: &str) {
        let c = &self.config;
        let Some(mine) = assignment::my_queues(
            &self.instance,
            &c.group,
            topic,
            c.message_model,
            &c.allocate_strategy,
        )
        .await
        else {
            return;
        };
        let mine: BTreeSet<MessageQueue> = mine.into_iter().collect();
        if self.update_process_queue_table(topic, &mine).await {
            info!(
                group = %self.config.group,
                topic,
                queues = ?mine.iter().map(|m| (&m.broker_name, m.queue_id)).collect::<Vec<_>>(),
                "rebalance result changed"
            );
        }
    }

    /// Drops queues no longer owned and starts the new ones; true if anything changed.
    async fn update_process_queue_table(
        self: &Arc<Self>,
        topic: &str,
        mine: &BTreeSet<MessageQueue>,
    ) -> bool {
        let mut changed = false;
        let current: Vec<(MessageQueue, Arc<ProcessQueue>)> = self
            .table
            .lock()
            .iter()
            .filter(|(mq, _)| mq.topic == topic)
            .map(|(m, p)| (m.clone(), p.clone()))
            .collect();
        for (mq, pq) in current {
            let lost = !mine.contains(&mq);
            let stuck = pq.is_pull_expired();
            if lost || stuck || pq.is_dropped() {
                pq.set_dropped(true);
                if self.remove_unnecessary_message_queue(&mq, &pq).await {
                    self.table.lock().remove(&mq);
                    changed = true;
                    info!(group = %self.config.group, queue = ?mq, lost, stuck, "dropped queue");
                }
            }
        }
        for mq in mine {
            if self.table.lock().contains_key(mq) {
                continue;
            }
            if self.is_orderly()
                && self.config.message_model == MessageModel::Clustering
                && !self.lock(mq).await
            {
                debug!(queue = ?mq, "queue is locked by another consumer; not taking it yet");
                continue;
            }
            self.offsets.remove_offset(mq);
            let next = self.compute_pull_from_where(mq).await;
            if next < 0 {
                warn!(queue = ?mq, "no start offset; will retry at the next rebalance");
                continue;
            }
            let pq = Arc::new(ProcessQueue::new());
            if self.is_orderly() {
                // The lock was just won (4.8.0 waits for the next lock round).
                pq.set_locked(true);
            }
            self.table.lock().insert(mq.clone(), pq.clone());
            changed = true;
            info!(group = %self.config.group, queue = ?mq, next_offset = next, "new queue");
            pull_loop::spawn(self.clone(), mq.clone(), pq, next);
        }
        changed
    }

    /// Hands a queue over: write its offset and, for orderly clustering, wait
    /// (up to 1 s) for the batch in flight and release the broker lock.
    pub(super) async fn remove_unnecessary_message_queue(
        &self,
        mq: &MessageQueue,
        pq: &ProcessQueue,
    ) -> bool {
        if self.is_orderly() && self.config.message_model == MessageModel::Clustering {
            let Ok(_guard) =
                tokio::time::timeout(Duration::from_secs(1), pq.consume_lock.lock()).await
            else {
                debug!(queue = ?mq, "queue still consuming; will drop it later");
                return false;
            };
            self.persist_and_forget(mq).await;
            self.unlock(mq).await;
            return true;
        }
        self.persist_and_forget(mq).await;
        true
    }

    pub(super) async fn persist_and_forget(&self, mq: &MessageQueue) {
        self.offsets
            .persist_all(std::slice::from_ref(mq), true)
            .await;
        self.offsets.remove_offset(mq);
    }

    /// Where a newly owned queue starts (see [`assignment::compute_pull_from_where`]).
    pub(super) async fn compute_pull_from_where(&self, mq: &MessageQueue) -> i64 {
        let c = &self.config;
        assignment::compute_pull_from_where(
            &self.instance,
            &self.offsets,
            mq,
            c.consume_from_where,
            c.consume_timestamp_ms,
        )
        .await
    }

    // ----- broker-side queue locks (orderly) ---------------------------------------

    fn lock_body(&self, mqs: Vec<MessageQueue>) -> LockBatchRequestBody {
        LockBatchRequestBody {
            client_id: self.instance.client_id().to_string(),
            consumer_group: self.config.group.clone(),
            mq_set: mqs,
        }
    }

    /// LOCK_BATCH_MQ for one queue.
    pub(super) async fn lock(&self, mq: &MessageQueue) -> bool {
        let inst = &self.instance;
        let Some((addr, _)) = inst.find_broker_addr_in_subscribe(&mq.broker_name, MASTER_ID, true)
        else {
            return false;
        };
        let body = self.lock_body(vec![mq.clone()]);
        match inst
            .api()
            .lock_batch_mq(&addr, &body, inst.api_timeout())
            .await
        {
            Ok(locked) => {
                let ok = locked.contains(mq);
                if let Some(pq) = self.table.lock().get(mq) {
                    pq.set_locked(ok);
                }
                ok
            }
            Err(e) => {
                warn!(queue = ?mq, error = %e, "lock failed");
                false
            }
        }
    }

    /// Renews the locks of every owned queue, per broker (`lockAll`).
    pub(super) async fn lock_all(&self) {
        let by_broker = self.owned_by_broker();
        let inst = &self.instance;
        for (broker, mqs) in by_broker {
            let Some((addr, _)) = inst.find_broker_addr_in_subscribe(&broker, MASTER_ID, true)
            else {
                continue;
            };
            let body = self.lock_body(mqs.clone());
            match inst
                .api()
                .lock_batch_mq(&addr, &body, inst.api_timeout())
                .await
            {
                Ok(locked) => {
                    let locked: BTreeSet<_> = locked.into_iter().collect();
                    let table = self.table.lock();
                    for mq in &mqs {
                        if let Some(pq) = table.get(mq) {
                            pq.set_locked(locked.contains(mq));
                        }
                    }
                }
                Err(e) => warn!(broker = %broker, error = %e, "lockAll failed"),
            }
        }
    }

    /// UNLOCK_BATCH_MQ for one queue.
    pub(super) async fn unlock(&self, mq: &MessageQueue) {
        let inst = &self.instance;
        if let Some((addr, _)) =
            inst.find_broker_addr_in_subscribe(&mq.broker_name, MASTER_ID, true)
        {
            let body = self.lock_body(vec![mq.clone()]);
            if let Err(e) = inst
                .api()
                .unlock_batch_mq(&addr, &body, inst.api_timeout())
                .await
            {
                debug!(queue = ?mq, error = %e, "unlock failed");
            }
        }
    }

    /// Releases every owned queue's lock (at shutdown).
    pub(super) async fn unlock_all(&self) {
        let inst = &self.instance;
        for (broker, mqs) in self.owned_by_broker() {
            if let Some((addr, _)) = inst.find_broker_addr_in_subscribe(&broker, MASTER_ID, true) {
                let body = self.lock_body(mqs.clone());
                if let Err(e) = inst
                    .api()
                    .unlock_batch_mq(&addr, &body, inst.api_timeout())
                    .await
                {
                    debug!(broker = %broker, error = %e, "unlockAll failed");
                }
            }
            let table = self.table.lock();
            for mq in &mqs {
                if let Some(pq) = table.get(mq) {
                    pq.set_locked(false);
                }
            }
        }
    }

    fn owned_by_broker(&self) -> HashMap<String, Vec<MessageQueue>> {
        let mut out: HashMap<String, Vec<MessageQueue>> = HashMap::new();
        for mq in self.table.lock().keys() {
            out.entry(mq.broker_name.clone())
                .or_default()
                .push(mq.clone());
        }
        out
    }
}
