//! The table of consume queues, `topic -> queue id -> ConsumeQueue`: find or create one,
//! list them, delete a topic's. Book: Part I, "ConsumeQueue". Mirrors
//! `DefaultMessageStore.findConsumeQueue`, `deleteTopics` and `cleanUnusedTopic`.

use super::DefaultMessageStore;
use crate::consume_queue::ConsumeQueue;
use std::collections::HashMap;
use std::sync::Arc;

/// `topic -> queue id -> consume queue`.
pub(crate) type QueueTable = HashMap<String, HashMap<i32, Arc<ConsumeQueue>>>;

/// Topics whose consume queues survive `clean_unused_topics`.
const KEEP_TOPICS: [&str; 2] = ["SCHEDULE_TOPIC_XXXX", "RMQ_SYS_TRANS_OP_HALF_TOPIC"];

impl DefaultMessageStore {
    /// A consume queue of this store, with its ConsumeQueueExt when `enableConsumeQueueExt`.
    pub(super) fn new_consume_queue(&self, topic: &str, queue_id: i32) -> ConsumeQueue {
        let cq = ConsumeQueue::new(
            &self.config.consume_queue_dir(),
            topic,
            queue_id,
            self.config.consume_queue_file_size() as usize,
        );
        if !self.config.enable_consume_queue_ext {
            return cq;
        }
        cq.with_ext(crate::consume_queue_ext::ConsumeQueueExt::new(
            &self.config.consume_queue_ext_dir(),
            topic,
            queue_id,
            self.config.mapped_file_size_consume_queue_ext as usize,
        ))
    }

    pub(super) fn consume_queues(&self) -> Vec<Arc<ConsumeQueue>> {
        self.consume_queue_table
            .read()
            .values()
            .flat_map(|m| m.values().cloned())
            .collect()
    }

    /// The consume queue of `(topic, queue_id)`, created (empty) if new (`findConsumeQueue`).
    pub fn find_consume_queue(&self, topic: &str, queue_id: i32) -> Arc<ConsumeQueue> {
        if let Some(cq) = self
            .consume_queue_table
            .read()
            .get(topic)
            .and_then(|m| m.get(&queue_id))
        {
            return cq.clone();
        }
        let mut table = self.consume_queue_table.write();
        table
            .entry(topic.to_string())
            .or_default()
            .entry(queue_id)
            .or_insert_with(|| Arc::new(self.new_consume_queue(topic, queue_id)))
            .clone()
    }

    /// The consume queue of `(topic, queue_id)` if it exists; never creates one
    /// (`getConsumeQueue`).
    pub fn existing_consume_queue(&self, topic: &str, queue_id: i32) -> Option<Arc<ConsumeQueue>> {
        self.consume_queue_table
            .read()
            .get(topic)
            .and_then(|m| m.get(&queue_id))
            .cloned()
    }

    /// Deletes the consume queues of `topics`.
    pub fn delete_topics(&self, topics: &[String]) -> usize {
        let mut n = 0;
        for t in topics {
            let removed = self.consume_queue_table.write().remove(t);
            if let Some(queues) = removed {
                for (qid, cq) in queues {
                    cq.destroy();
                    self.commit_log.remove_queue_from_topic_queue_table(t, qid);
                }
                let _ = std::fs::remove_dir_all(self.config.consume_queue_dir().join(t));
                n += 1;
            }
        }
        n
    }

    /// Deletes the consume queues of every topic not in `keep` (except the schedule and
    /// transaction-op topics) (`cleanUnusedTopic`).
    pub fn clean_unused_topics(&self, keep: &std::collections::HashSet<String>) -> usize {
        let unused: Vec<String> = self
            .consume_queue_table
            .read()
            .keys()
            .filter(|t| !keep.contains(*t) && !KEEP_TOPICS.contains(&t.as_str()))
            .cloned()
            .collect();
        self.delete_topics(&unused)
    }

    // ANCHOR: clean_expired_cq
    /// Destroys every consume queue (except the schedule topic's) whose last entry points
    /// below the commit log's first byte: its messages are all gone (`cleanExpiredConsumerQueue`).
    /// A queue with no entry yet is left alone. Returns how many queues were destroyed.
    pub fn clean_expired_consume_queues(&self) -> usize {
        let min_commit_log_offset = self.get_min_phy_offset();
        let mut destroyed = 0;
        let mut table = self.consume_queue_table.write();
        for (topic, queues) in table.iter_mut() {
            if topic == crate::record::SCHEDULE_TOPIC {
                continue;
            }
            queues.retain(|qid, cq| {
                let last = cq.last_offset();
                if last == -1 || last >= min_commit_log_offset {
                    return true;
                }
                tracing::info!(
                    topic = %topic, queue_id = qid, min_commit_log_offset, last,
                    "cleanExpiredConsumerQueue: consume queue destroyed"
                );
                self.commit_log
                    .remove_queue_from_topic_queue_table(topic, *qid);
                cq.destroy();
                destroyed += 1;
                false
            });
        }
        table.retain(|topic, queues| {
            if queues.is_empty() {
                tracing::info!(topic = %topic, "cleanExpiredConsumerQueue: topic destroyed");
            }
            !queues.is_empty()
        });
        destroyed
    }
    // ANCHOR_END: clean_expired_cq

    /// Topics that have consume queues.
    pub fn topics(&self) -> Vec<String> {
        self.consume_queue_table.read().keys().cloned().collect()
    }
}
