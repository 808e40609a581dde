//! What a client makes of a topic route: the queues a producer may write to
//! (`TopicPublishInfo`) and the queues a consumer may read from.
//!
//! A route lists, per broker name, how many read and write queues the topic has
//! and with which permission, plus each broker's addresses. Producers only write
//! to brokers that have a master; consumers read from any broker. Queue lists are
//! built in broker-name order so every client of a group sees the same list —
//! rebalancing depends on it.
//! Book: Part II "Producing" (routes and queue selection). Mirrors
//! `TopicPublishInfo` and `MQClientInstance.topicRouteData2TopicPublishInfo` /
//! `topicRouteData2TopicSubscribeInfo`.

use std::sync::atomic::{AtomicU32, Ordering};

use rmq_remoting::protocol::{MessageQueue, TopicRouteData};

/// Permission bits (`PermName`).
pub mod perm {
    /// `PERM_PRIORITY`: defined by 4.8.0, checked nowhere.
    pub const PRIORITY: i32 = 0x1 << 3;
    /// `PERM_READ`: consumers may pull.
    pub const READ: i32 = 0x1 << 2;
    /// `PERM_WRITE`: producers may send.
    pub const WRITE: i32 = 0x1 << 1;
    /// `PERM_INHERIT`: other topics may be auto-created from this one (TBW102 has it; the
    /// created topic gets the permission without this bit).
    pub const INHERIT: i32 = 0x1;
}

/// The writable queues of a topic and a round-robin cursor over them.
#[derive(Debug)]
pub struct TopicPublishInfo {
    /// True when the route came with an `orderTopicConf`.
    pub order_topic: bool,
    /// The writable queues, in broker-name order.
    pub message_queues: Vec<MessageQueue>,
    /// The route they were built from (a changed route rebuilds them).
    pub route: TopicRouteData,
    /// Round-robin cursor (4.8.0: a thread-local index with a random start).
    send_which_queue: AtomicU32,
}

impl TopicPublishInfo {
    /// Whether a writable broker group of the route has no master listed now (a DLedger group
    /// between a leader's death and its successor's registration): its queues are left out.
    pub fn lacks_a_master(&self) -> bool {
        self.route.queue_datas.iter().any(|qd| {
            qd.perm & perm::WRITE != 0
                && !self
                    .route
                    .broker_datas
                    .iter()
                    .any(|bd| bd.broker_name == qd.broker_name && bd.master_addr().is_some())
        })
    }

    /// Builds the writable queue list of `topic` from its route.
    pub fn from_route(topic: &str, route: &TopicRouteData) -> Self {
        let mut queues = Vec::new();
        let order_conf = route.order_topic_conf.as_deref().unwrap_or("").trim();
        let order_topic = !order_conf.is_empty();
        if order_topic {
            // "brokerName:queueNums;brokerName:queueNums"
            for item in order_conf.split(';') {
                let mut parts = item.splitn(2, ':');
                let (Some(name), Some(nums)) = (parts.next(), parts.next()) else {
                    continue;
                };
                let nums: i32 = nums.trim().parse().unwrap_or(0);
                for q in 0..nums {
                    queues.push(mq(topic, name.trim(), q));
                }
            }
        } else {
            let mut qds = route.queue_datas.clone();
            qds.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
            for qd in qds {
                if qd.perm & perm::WRITE == 0 {
                    continue;
                }
                let has_master = route
                    .broker_datas
                    .iter()
                    .any(|bd| bd.broker_name == qd.broker_name && bd.master_addr().is_some());
                if !has_master {
                    continue;
                }
                for q in 0..qd.write_queue_nums {
                    queues.push(mq(topic, &qd.broker_name, q));
                }
            }
        }
        TopicPublishInfo {
            order_topic,
            message_queues: queues,
            route: route.clone(),
            send_which_queue: AtomicU32::new(rand::random::<u32>() % 1024),
        }
    }

    /// True when there is at least one writable queue.
    pub fn ok(&self) -> bool {
        !self.message_queues.is_empty()
    }

    /// The next cursor value (wrapping, never negative as an index).
    pub fn next_index(&self) -> usize {
        self.send_which_queue.fetch_add(1, Ordering::Relaxed) as usize
    }

    /// Round robin over all queues, skipping the broker that just failed
    /// (`last_broker`) when another broker is available.
    pub fn select_one_message_queue(&self, last_broker: Option<&str>) -> Option<MessageQueue> {
        let n = self.message_queues.len();
        if n == 0 {
            return None;
        }
        if let Some(last) = last_broker {
            for _ in 0..n {
                let mq = &self.message_queues[self.next_index() % n];
                if mq.broker_name != last {
                    return Some(mq.clone());
                }
            }
        }
        Some(self.message_queues[self.next_index() % n].clone())
    }

    /// The write queue count of one broker, -1 if it is not in the route
    /// (`getQueueIdByBroker`).
    pub fn write_queue_nums_of(&self, broker_name: &str) -> i32 {
        self.route
            .queue_datas
            .iter()
            .find(|qd| qd.broker_name == broker_name)
            .map(|qd| qd.write_queue_nums)
            .unwrap_or(-1)
    }
}

fn mq(topic: &str, broker: &str, queue_id: i32) -> MessageQueue {
    MessageQueue {
        broker_name: broker.to_string(),
        queue_id,
        topic: topic.to_string(),
    }
}

/// The readable queues of `topic`, sorted (`topicRouteData2TopicSubscribeInfo`).
pub fn subscribe_queues(topic: &str, route: &TopicRouteData) -> Vec<MessageQueue> {
    let mut out: Vec<MessageQueue> = route
        .queue_datas
        .iter()
        .filter(|qd| qd.perm & perm::READ != 0)
        .flat_map(|qd| (0..qd.read_queue_nums).map(move |q| mq(topic, &qd.broker_name, q)))
        .collect();
    out.sort();
    out
}

/// For a topic that does not exist yet: the route of `TBW102` with every broker's
/// queue count capped at `default_queue_nums` (what `DefaultMQProducerImpl` does
/// before the broker auto-creates the topic).
pub fn default_topic_route(mut tbw102: TopicRouteData, default_queue_nums: i32) -> TopicRouteData {
    for qd in &mut tbw102.queue_datas {
        let n = default_queue_nums.min(qd.read_queue_nums);
        qd.read_queue_nums = n;
        qd.write_queue_nums = n;
    }
    tbw102
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_remoting::protocol::{BrokerData, QueueData};

    fn route() -> TopicRouteData {
        let mut b = BrokerData::new("c", "broker-b");
        b.broker_addrs.insert(0, "127.0.0.1:2".into());
        let mut a = BrokerData::new("c", "broker-a");
        a.broker_addrs.insert(0, "127.0.0.1:1".into());
        let mut c = BrokerData::new("c", "broker-c");
        c.broker_addrs.insert(1, "127.0.0.1:3".into()); // slave only
        let qd = |name: &str, perm: i32| QueueData {
            broker_name: name.into(),
            perm,
            read_queue_nums: 2,
            write_queue_nums: 2,
            topic_syn_flag: 0,
        };
        TopicRouteData {
            broker_datas: vec![b, a, c],
            queue_datas: vec![qd("broker-b", 6), qd("broker-a", 6), qd("broker-c", 6)],
            ..Default::default()
        }
    }

    #[test]
    fn publish_queues_skip_brokers_without_master_and_sort_by_name() {
        let info = TopicPublishInfo::from_route("T", &route());
        let names: Vec<_> = info
            .message_queues
            .iter()
            .map(|m| (m.broker_name.as_str(), m.queue_id))
            .collect();
        assert_eq!(
            names,
            vec![
                ("broker-a", 0),
                ("broker-a", 1),
                ("broker-b", 0),
                ("broker-b", 1)
            ]
        );
        assert!(!info.order_topic);
        // broker-c lists only a slave: the route lacks a master until its next leader registers
        assert!(info.lacks_a_master());
        let mut healed = route();
        healed.broker_datas[2]
            .broker_addrs
            .insert(0, "127.0.0.1:4".into());
        assert!(!TopicPublishInfo::from_route("T", &healed).lacks_a_master());
        // Consumers can read from the slave-only broker.
        assert_eq!(subscribe_queues("T", &route()).len(), 6);
    }

    #[test]
    fn round_robin_avoids_last_broker() {
        let info = TopicPublishInfo::from_route("T", &route());
        for _ in 0..10 {
            let mq = info.select_one_message_queue(Some("broker-a")).unwrap();
            assert_eq!(mq.broker_name, "broker-b");
        }
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..4 {
            seen.insert(info.select_one_message_queue(None).unwrap());
        }
        assert_eq!(seen.len(), 4, "four picks visit all four queues");
    }

    #[test]
    fn order_topic_conf_defines_queues() {
        let mut r = route();
        r.order_topic_conf = Some("broker-a:3;broker-b:1".into());
        let info = TopicPublishInfo::from_route("T", &r);
        assert!(info.order_topic);
        assert_eq!(info.message_queues.len(), 4);
    }

    #[test]
    fn default_route_caps_queue_count() {
        let mut r = route();
        for qd in &mut r.queue_datas {
            qd.read_queue_nums = 8;
            qd.write_queue_nums = 8;
        }
        let d = default_topic_route(r, 4);
        assert!(d.queue_datas.iter().all(|q| q.write_queue_nums == 4));
    }
}
