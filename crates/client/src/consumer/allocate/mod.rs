//! Queue allocation: which queues of a topic each consumer of a group reads.
//!
//! Every consumer runs the same pure function over the same sorted inputs (all
//! queues, all client ids of the group) and keeps only its own share, so the
//! group agrees without talking. "Averagely" hands out contiguous ranges: with
//! 8 queues and 3 consumers the shares are 3, 3 and 2 queues; with more
//! consumers than queues the extra consumers get nothing. The other strategies of
//! 4.8.0 are here too: by circle, by config (a fixed list), by machine room, machine
//! room nearby and consistent hash (in their own files).
//! Book: Part II "Clients and rebalancing" (allocation). Mirrors
//! `AllocateMessageQueueAveragely`, `AllocateMessageQueueAveragelyByCircle`,
//! `AllocateMessageQueueByConfig`, `AllocateMessageQueueByMachineRoom`,
//! `AllocateMachineRoomNearby` and `AllocateMessageQueueConsistentHash`.

pub mod consistent_hash;
pub mod machine_room;
pub mod md5;

use std::collections::BTreeSet;
use std::sync::Arc;

use rmq_remoting::protocol::MessageQueue;

pub use consistent_hash::{allocate_consistent_hash, DEFAULT_VIRTUAL_NODES};
pub use machine_room::{
    allocate_by_machine_room, MachineRoomNearby, MachineRoomResolver, PrefixResolver,
};

/// An allocation strategy (`allocateMessageQueueStrategy`).
#[derive(Debug, Clone, Default)]
pub enum AllocateStrategy {
    /// Contiguous ranges (`AllocateMessageQueueAveragely`, the default).
    #[default]
    Averagely,
    /// Every n-th queue (`AllocateMessageQueueAveragelyByCircle`).
    AveragelyByCircle,
    /// Always exactly these queues, whatever the group looks like
    /// (`AllocateMessageQueueByConfig`).
    ByConfig(Vec<MessageQueue>),
    /// The queues of brokers named `<room>@<name>` whose room is in the set, shared
    /// (`AllocateMessageQueueByMachineRoom`, `consumeridcs`).
    ByMachineRoom(BTreeSet<String>),
    /// A hash ring with this many points per consumer (`AllocateMessageQueueConsistentHash`;
    /// 4.8.0's default is [`DEFAULT_VIRTUAL_NODES`]).
    ConsistentHash {
        /// Ring points per consumer.
        virtual_nodes: usize,
    },
    /// Each room's queues to that room's consumers (`AllocateMachineRoomNearby`).
    MachineRoomNearby(Arc<MachineRoomNearby>),
}

impl AllocateStrategy {
    /// Consistent hashing with 4.8.0's 10 points per consumer.
    pub fn consistent_hash() -> Self {
        AllocateStrategy::ConsistentHash {
            virtual_nodes: DEFAULT_VIRTUAL_NODES,
        }
    }

    /// Machine room nearby with `resolver`, sharing each room with `inner`.
    pub fn machine_room_nearby(
        resolver: Arc<dyn MachineRoomResolver>,
        inner: AllocateStrategy,
    ) -> Self {
        AllocateStrategy::MachineRoomNearby(Arc::new(MachineRoomNearby {
            resolver,
            inner: Box::new(inner),
        }))
    }

    /// `mq_all` and `cid_all` must be sorted; returns `current_cid`'s share.
    pub fn allocate(
        &self,
        current_cid: &str,
        mq_all: &[MessageQueue],
        cid_all: &[String],
    ) -> Vec<MessageQueue> {
        match self {
            AllocateStrategy::Averagely => allocate_averagely(current_cid, mq_all, cid_all),
            AllocateStrategy::AveragelyByCircle => allocate_by_circle(current_cid, mq_all, cid_all),
            AllocateStrategy::ByConfig(list) => list.clone(),
            AllocateStrategy::ByMachineRoom(rooms) => {
                allocate_by_machine_room(current_cid, mq_all, cid_all, rooms)
            }
            AllocateStrategy::ConsistentHash { virtual_nodes } => {
                allocate_consistent_hash(current_cid, mq_all, cid_all, *virtual_nodes)
            }
            AllocateStrategy::MachineRoomNearby(n) => n.allocate(current_cid, mq_all, cid_all),
        }
    }

    /// 4.8.0's strategy name (`AllocateMessageQueueStrategy.getName`).
    pub fn name(&self) -> String {
        match self {
            AllocateStrategy::Averagely => "AVG".into(),
            AllocateStrategy::AveragelyByCircle => "AVG_BY_CIRCLE".into(),
            AllocateStrategy::ByConfig(_) => "CONFIG".into(),
            AllocateStrategy::ByMachineRoom(_) => "MACHINE_ROOM".into(),
            AllocateStrategy::ConsistentHash { .. } => "CONSISTENT_HASH".into(),
            AllocateStrategy::MachineRoomNearby(n) => {
                format!("MACHINE_ROOM_NEARBY-{}", n.inner.name())
            }
        }
    }
}

/// The contiguous share of `current_cid`: the first `mq % cid` consumers get
/// one queue more than the rest.
pub fn allocate_averagely(
    current_cid: &str,
    mq_all: &[MessageQueue],
    cid_all: &[String],
) -> Vec<MessageQueue> {
    let Some(index) = cid_all.iter().position(|c| c == current_cid) else {
        return Vec::new(); // not (yet) known to the broker: take nothing
    };
    let (n_mq, n_cid) = (mq_all.len(), cid_all.len());
    if n_mq == 0 {
        return Vec::new();
    }
    let rem = n_mq % n_cid;
    let average = if n_mq <= n_cid {
        1
    } else if rem > 0 && index < rem {
        n_mq / n_cid + 1
    } else {
        n_mq / n_cid
    };
    let start = if rem > 0 && index < rem {
        index * average
    } else {
        index * average + rem
    };
    let range = average.min(n_mq.saturating_sub(start));
    (0..range)
        .map(|i| mq_all[(start + i) % n_mq].clone())
        .collect()
}

/// Queue `i` goes to consumer `i % cid_all.len()`.
pub fn allocate_by_circle(
    current_cid: &str,
    mq_all: &[MessageQueue],
    cid_all: &[String],
) -> Vec<MessageQueue> {
    let Some(index) = cid_all.iter().position(|c| c == current_cid) else {
        return Vec::new();
    };
    mq_all
        .iter()
        .enumerate()
        .filter(|(i, _)| i % cid_all.len() == index)
        .map(|(_, mq)| mq.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mqs(n: i32) -> Vec<MessageQueue> {
        (0..n)
            .map(|q| MessageQueue {
                broker_name: "b".into(),
                queue_id: q,
                topic: "T".into(),
            })
            .collect()
    }

    fn cids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    fn ids(v: &[MessageQueue]) -> Vec<i32> {
        v.iter().map(|m| m.queue_id).collect()
    }

    #[test]
    fn eight_queues_three_consumers() {
        let (m, c) = (mqs(8), cids(3));
        assert_eq!(ids(&allocate_averagely("c0", &m, &c)), vec![0, 1, 2]);
        assert_eq!(ids(&allocate_averagely("c1", &m, &c)), vec![3, 4, 5]);
        assert_eq!(ids(&allocate_averagely("c2", &m, &c)), vec![6, 7]);
    }

    #[test]
    fn more_consumers_than_queues() {
        let (m, c) = (mqs(2), cids(3));
        assert_eq!(ids(&allocate_averagely("c0", &m, &c)), vec![0]);
        assert_eq!(ids(&allocate_averagely("c1", &m, &c)), vec![1]);
        assert!(allocate_averagely("c2", &m, &c).is_empty());
        assert!(allocate_averagely("stranger", &m, &c).is_empty());
    }

    #[test]
    fn every_queue_is_owned_exactly_once() {
        for n_mq in 0..12 {
            for n_cid in 1..6 {
                let (m, c) = (mqs(n_mq), cids(n_cid));
                for strategy in [
                    AllocateStrategy::Averagely,
                    AllocateStrategy::AveragelyByCircle,
                    AllocateStrategy::consistent_hash(),
                ] {
                    let mut all: Vec<i32> = c
                        .iter()
                        .flat_map(|cid| ids(&strategy.allocate(cid, &m, &c)))
                        .collect();
                    all.sort();
                    assert_eq!(
                        all,
                        (0..n_mq).collect::<Vec<_>>(),
                        "{n_mq} queues, {n_cid} consumers"
                    );
                }
            }
        }
    }

    fn queues(topic: &str, brokers: &[&str], per_broker: i32) -> Vec<MessageQueue> {
        brokers
            .iter()
            .flat_map(|b| {
                (0..per_broker).map(move |q| MessageQueue {
                    broker_name: b.to_string(),
                    queue_id: q,
                    topic: topic.into(),
                })
            })
            .collect()
    }

    fn names(v: &[MessageQueue]) -> String {
        v.iter()
            .map(|m| format!("{}:{}", m.broker_name, m.queue_id))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// Checks each consumer's share against what 4.8.0's Java class printed for the same input
    /// (`interop.AllocateVectors`, run against rocketmq-client 4.8.0).
    fn check(strategy: &AllocateStrategy, mqs: &[MessageQueue], cids: &[String], java: &[&str]) {
        for (cid, want) in cids.iter().zip(java) {
            assert_eq!(names(&strategy.allocate(cid, mqs, cids)), *want, "{cid}");
        }
    }

    #[test]
    fn consistent_hash_matches_java() {
        let mqs = queues("TopicTest", &["broker-a", "broker-b"], 4);
        let s = AllocateStrategy::consistent_hash();
        check(
            &s,
            &mqs,
            &strings(&["10.0.0.1@1", "10.0.0.2@2", "10.0.0.3@3"]),
            &[
                "broker-a:1 broker-a:2 broker-b:1 broker-b:3",
                "broker-b:2",
                "broker-a:0 broker-a:3 broker-b:0",
            ],
        );
        // The third consumer leaves: only its queues move.
        check(
            &s,
            &mqs,
            &strings(&["10.0.0.1@1", "10.0.0.2@2"]),
            &[
                "broker-a:1 broker-a:2 broker-a:3 broker-b:1 broker-b:3",
                "broker-a:0 broker-b:0 broker-b:2",
            ],
        );
        assert_eq!(s.name(), "CONSISTENT_HASH");
    }

    #[test]
    fn by_machine_room_matches_java() {
        let mqs = queues("T", &["IDC1@b1", "IDC2@b2", "IDC3@b3"], 3);
        let rooms = ["IDC1", "IDC2"].iter().map(|r| r.to_string()).collect();
        check(
            &AllocateStrategy::ByMachineRoom(rooms),
            &mqs,
            &strings(&["c1", "c2", "c3", "c4"]),
            &[
                "IDC1@b1:0 IDC2@b2:1",
                "IDC1@b1:1 IDC2@b2:2",
                "IDC1@b1:2",
                "IDC2@b2:0",
            ],
        );
    }

    #[test]
    fn machine_room_nearby_matches_java() {
        let mqs = queues("T", &["IDC1-b1", "IDC2-b2", "IDC3-b3"], 3);
        let s = AllocateStrategy::machine_room_nearby(
            Arc::new(PrefixResolver { separator: '-' }),
            AllocateStrategy::Averagely,
        );
        check(
            &s,
            &mqs,
            &strings(&["IDC1-c1", "IDC1-c2", "IDC2-c3"]),
            &[
                "IDC1-b1:0 IDC1-b1:1 IDC3-b3:0",
                "IDC1-b1:2 IDC3-b3:1",
                "IDC2-b2:0 IDC2-b2:1 IDC2-b2:2 IDC3-b3:2",
            ],
        );
        assert_eq!(s.name(), "MACHINE_ROOM_NEARBY-AVG");
        // A consumer whose room cannot be told: nothing is allocated.
        let cids = strings(&["IDC1-c1", "nodash"]);
        assert!(s.allocate("IDC1-c1", &mqs, &cids).is_empty());
    }

    #[test]
    fn by_config_is_the_configured_list() {
        let mine = queues("T", &["b"], 2);
        let s = AllocateStrategy::ByConfig(mine.clone());
        assert_eq!(s.allocate("anyone", &mqs(8), &cids(3)), mine);
        assert_eq!(s.name(), "CONFIG");
    }

    #[test]
    fn circle() {
        let (m, c) = (mqs(5), cids(2));
        assert_eq!(ids(&allocate_by_circle("c0", &m, &c)), vec![0, 2, 4]);
        assert_eq!(ids(&allocate_by_circle("c1", &m, &c)), vec![1, 3]);
    }
}
