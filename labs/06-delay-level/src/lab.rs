//! Lab 6: your code goes here. Replace each `panic!` with your implementation.
//! Read labs/06-delay-level/README.md first; `make labs LAB=06` grades this file.

use crate::{DelayLevelError, DelayLevelTable, ScheduleTarget};

const NOT_DONE: &str = "lab not done yet: see book chapter Part II \"Delay queue, retry and DLQ\", section Lab (book/src/part2/delay-queue.md#lab) and labs/06-delay-level/README.md";

/// Parses `messageDelayLevel` ("1s 5s 10s 30s 1m ... 2h") as
/// `ScheduleMessageService.parseDelayLevel` does.
pub fn parse_delay_levels(text: &str) -> Result<DelayLevelTable, DelayLevelError> {
    // LAB 6, part 1.
    let _ = text;
    panic!("{NOT_DONE}");
}

impl DelayLevelTable {
    /// Where a message sent with `delay_level` is stored (`CommitLog.putMessage`), or `None`
    /// when it is not a delayed message at all.
    pub fn schedule_target(&self, delay_level: i32) -> Option<ScheduleTarget> {
        // LAB 6, part 2.
        let _ = delay_level;
        panic!("{NOT_DONE}");
    }

    /// When a message of `delay_level` stored at `store_timestamp` is due
    /// (`computeDeliverTimestamp`).
    pub fn compute_deliver_timestamp(&self, delay_level: i32, store_timestamp: i64) -> i64 {
        // LAB 6, part 3.
        let _ = (delay_level, store_timestamp);
        panic!("{NOT_DONE}");
    }

    /// The tagsCode the dispatcher writes into the consume queue of `SCHEDULE_TOPIC_XXXX` for
    /// a record whose DELAY property is `delay_level` (`checkMessageAndReturnSize`);
    /// `tags_code` is the hash of its tag, what any other topic would store.
    pub fn schedule_tags_code(
        &self,
        delay_level: i32,
        store_timestamp: i64,
        tags_code: i64,
    ) -> i64 {
        // LAB 6, part 4.
        let _ = (delay_level, store_timestamp, tags_code);
        panic!("{NOT_DONE}");
    }

    /// The deliver time a level's loop trusts at time `now` (`correctDeliverTimestamp`).
    /// `delay_level` is one of the table's levels.
    pub fn correct_deliver_timestamp(
        &self,
        delay_level: i32,
        now: i64,
        deliver_timestamp: i64,
    ) -> i64 {
        // LAB 6, part 5.
        let _ = (delay_level, now, deliver_timestamp);
        panic!("{NOT_DONE}");
    }
}
