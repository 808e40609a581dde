//! Queue allocation: which queues of a topic each consumer of a group reads.
//!
//! Every consumer runs the same pure function over the same sorted inputs (all
//! queues, all client ids of the group) and keeps only its own share, so the
//! group agrees without talking. "Averagely" hands out contiguous ranges: with
//! 8 queues and 3 consumers the shares are 3, 3 and 2 queues; with more
//! consumers than queues the extra consumers get nothing.
//! Book: Part II "Consuming, long polling and rebalancing" (allocation).
//! Mirrors `AllocateMessageQueueAveragely` and `AllocateMessageQueueAveragelyByCircle`.

use rmq_remoting::protocol::MessageQueue;

/// An allocation strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AllocateStrategy {
    /// Contiguous ranges (`AllocateMessageQueueAveragely`, the default).
    #[default]
    Averagely,
    /// Every n-th queue (`AllocateMessageQueueAveragelyByCircle`).
    AveragelyByCircle,
}

impl AllocateStrategy {
    /// `mq_all` and `cid_all` must be sorted; returns `current_cid`'s share.
    pub fn allocate(
        self,
        current_cid: &str,
        mq_all: &[MessageQueue],
        cid_all: &[String],
    ) -> Vec<MessageQueue> {
        match self {
            AllocateStrategy::Averagely => allocate_averagely(current_cid, mq_all, cid_all),
            AllocateStrategy::AveragelyByCircle => allocate_by_circle(current_cid, mq_all, cid_all),
        }
    }

    /// 4.8.0's strategy name (`AllocateMessageQueueStrategy.getName`).
    pub fn name(self) -> &'static str {
        match self {
            AllocateStrategy::Averagely => "AVG",
            AllocateStrategy::AveragelyByCircle => "AVG_BY_CIRCLE",
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

    #[test]
    fn circle() {
        let (m, c) = (mqs(5), cids(2));
        assert_eq!(ids(&allocate_by_circle("c0", &m, &c)), vec![0, 2, 4]);
        assert_eq!(ids(&allocate_by_circle("c1", &m, &c)), vec![1, 3]);
    }
}
