//! Lab 6: delay levels and the deliver time.
//!
//! RocketMQ 4.8.0 has no arbitrary delays: a producer picks one of the broker's delay levels
//! (`messageDelayLevel = 1s 5s 10s 30s 1m ... 2h`). The broker parks the message in
//! `SCHEDULE_TOPIC_XXXX`, queue `level - 1`; the dispatcher writes its *deliver time* (store
//! time + the level's delay) as the consume queue's tagsCode, and one loop per level moves each
//! message back to its real topic when that time comes. This lab is the arithmetic of that
//! journey: parse the level list, redirect a message, compute the deliver time, and correct it
//! when the clock moved back (`ScheduleMessageService` and `CommitLog.putMessage`).
//!
//! You edit `src/lab.rs`. The types below are given. Book: Part II, "Delay queue, retry and
//! DLQ" (book/src/part2/delay-queue.md, section "Lab"). Grade with `make labs LAB=06`.

use std::fmt;

/// The topic that holds every delayed message until it is due (`RMQ_SYS_SCHEDULE_TOPIC`).
pub const SCHEDULE_TOPIC: &str = "SCHEDULE_TOPIC_XXXX";

/// 4.8.0's default `messageDelayLevel`: 18 levels.
pub const DEFAULT_MESSAGE_DELAY_LEVEL: &str =
    "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

/// The delay of every level: `delays_ms[0]` is level 1 (`delayLevelTable`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayLevelTable {
    /// Milliseconds per level, level 1 first.
    pub delays_ms: Vec<i64>,
}

impl DelayLevelTable {
    /// The highest level (`maxDelayLevel`): the number of levels.
    pub fn max_delay_level(&self) -> i32 {
        self.delays_ms.len() as i32
    }
}

/// Why a `messageDelayLevel` value was refused (4.8.0 logs "parseDelayLevel exception" and
/// the store does not start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayLevelError {
    /// The piece of the value that could not be read (empty when the whole value is empty).
    pub item: String,
}

impl fmt::Display for DelayLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad delay level {:?}", self.item)
    }
}

impl std::error::Error for DelayLevelError {}

/// Where `CommitLog.putMessage` parks a delayed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleTarget {
    /// The level the message is stored with (its DELAY property after the put).
    pub level: i32,
    /// The queue of [`SCHEDULE_TOPIC`] it goes to.
    pub queue_id: i32,
}

#[cfg(not(feature = "reference"))]
mod lab;
#[cfg(feature = "reference")]
#[path = "../../solutions/06-delay-level.rs"]
mod lab;

pub use lab::parse_delay_levels;
