//! The `vs-kafka` experiment: one commit log for every queue (rmq-store, RocketMQ's design)
//! next to one log per partition (rmq-kafkalog, Kafka's design), for appends and for reads.
//!
//! The binary `src/bin/vs-kafka.rs` runs three workloads and writes their results into
//! `book/src/figures/vs-kafka/`:
//!
//! * [`appends`]: one thread appends 1 KiB messages round-robin over P queues, with and
//!   without an fsync every 1000 messages;
//! * [`reads`]: consumers read the same kind of data back, at the tail of the log (just
//!   written) and as a backlog from offset 0, with the data in the page cache and cold;
//! * [`zero_copy`]: a backlog goes to a real loopback TCP socket four ways: copied out of
//!   the store (what the broker does by default), written from the store's memory map, copied
//!   out of kafkalog's segment, and sent with `sendfile`.
//!
//! Each side is a [`Contender`]: append, make readable, read a batch, drop from the page cache.
//! The workloads only talk to that trait. **Adding a real Kafka broker** later means one more
//! [`Side`] variant and one more `Contender` that appends with a producer and reads with a
//! fetch over the network; the workloads, tables and charts then include it. (The zero-copy
//! workload needs the bytes of the store or the segment files, so it works with the two
//! in-process sides only; for a broker it would measure the broker process's CPU instead.)
//!
//! Book: Part V "RocketMQ vs Kafka: one log or many". Kafka ships no such benchmark; its
//! `kafka-producer-perf-test` and `kafka-consumer-perf-test` drive a whole broker.

pub mod appends;
pub mod contender;
pub mod reads;
pub mod zero_copy;

use serde::Serialize;

pub use contender::{open, Batch, Contender, DataFile, FileKind, SideConfig};

/// The topic every workload writes to (one topic, P queues or partitions).
pub const TOPIC: &str = "VsKafka";
/// The consumer group the store's reads name (the store ignores it for reads).
pub const GROUP: &str = "VsKafkaReaders";

/// The systems compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Side {
    /// rmq-store, the 4.8.0 commit log and consume queues.
    #[serde(rename = "rmq-store")]
    Store,
    /// rmq-kafkalog, the Kafka-style per-partition log.
    #[serde(rename = "kafkalog")]
    Kafka,
}

impl Side {
    /// Every side, in the order tables and charts list them.
    pub const ALL: [Side; 2] = [Side::Store, Side::Kafka];

    /// The name charts use.
    pub fn name(self) -> &'static str {
        match self {
            Side::Store => "rmq-store (one commit log)",
            Side::Kafka => "kafkalog (log per partition)",
        }
    }

    /// Palette index in charts: one colour per side.
    pub fn color(self) -> usize {
        match self {
            Side::Store => 0,
            Side::Kafka => 1,
        }
    }

    /// Sides in the order of a round: even rounds start with the store, odd ones with
    /// kafkalog, so that neither always runs on a machine the other has just warmed.
    pub fn order(round: usize) -> [Side; 2] {
        if round % 2 == 0 {
            [Side::Store, Side::Kafka]
        } else {
            [Side::Kafka, Side::Store]
        }
    }
}

/// The median run of every group: runs with the same `key` (side, mode, partitions, ...) are
/// rounds of one measurement, ranked by `by`; of an even count, the upper middle one.
pub fn medians<T: Clone, K: PartialEq>(
    runs: &[T],
    key: impl Fn(&T) -> K,
    by: impl Fn(&T) -> f64,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for r in runs {
        if out.iter().any(|o| key(o) == key(r)) {
            continue;
        }
        let mut same: Vec<&T> = runs.iter().filter(|x| key(x) == key(r)).collect();
        same.sort_by(|a, b| by(a).total_cmp(&by(b)));
        out.push(same[same.len() / 2].clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_round_is_the_middle_one_of_its_group() {
        let runs = [("a", 3.0), ("b", 7.0), ("a", 1.0), ("a", 2.0)];
        let m = medians(&runs, |r| r.0, |r| r.1);
        assert_eq!(m, vec![("a", 2.0), ("b", 7.0)]);
        assert!(medians(&[] as &[(u8, f64)], |r| r.0, |r| r.1).is_empty());
        assert_eq!(Side::order(1), [Side::Kafka, Side::Store]);
    }
}
