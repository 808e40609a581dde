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

    pub(super) fn existing_consume_queue(
        &self,
        topic: &str,
        queue_id: i32,
    ) -> Option<Arc<ConsumeQueue>> {
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

    /// Topics that have consume queues.
    pub fn topics(&self) -> Vec<String> {
        self.consume_queue_table.read().keys().cloned().collect()
    }
}
