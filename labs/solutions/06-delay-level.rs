//! Lab 6, reference solution. Built instead of src/lab.rs with `--features reference`.
//! Try the lab before reading this.

use crate::{DelayLevelError, DelayLevelTable, ScheduleTarget};

/// Milliseconds per unit letter (`timeUnitTable`).
fn unit_ms(unit: char) -> Option<i64> {
    match unit {
        's' => Some(1_000),
        'm' => Some(60 * 1_000),
        'h' => Some(60 * 60 * 1_000),
        'd' => Some(24 * 60 * 60 * 1_000),
        _ => None,
    }
}

pub fn parse_delay_levels(text: &str) -> Result<DelayLevelTable, DelayLevelError> {
    // Java's split(" ") keeps empty pieces, except at the end; an empty value is one
    // empty piece.
    let pieces: Vec<&str> = text.split(' ').collect();
    let keep = match pieces.iter().rposition(|p| !p.is_empty()) {
        Some(last) => last + 1,
        None if text.is_empty() => 1,
        None => 0,
    };
    let mut delays_ms = Vec::with_capacity(keep);
    for piece in &pieces[..keep] {
        let bad = || DelayLevelError {
            item: piece.to_string(),
        };
        let mut chars = piece.chars();
        let unit = chars.next_back().ok_or_else(bad)?;
        let count: i64 = chars.as_str().parse().map_err(|_| bad())?;
        let ms = unit_ms(unit).ok_or_else(bad)?;
        delays_ms.push(count.checked_mul(ms).ok_or_else(bad)?);
    }
    Ok(DelayLevelTable { delays_ms })
}

impl DelayLevelTable {
    fn delay_of(&self, level: i32) -> Option<i64> {
        let index = usize::try_from(level.checked_sub(1)?).ok()?;
        self.delays_ms.get(index).copied()
    }

    pub fn schedule_target(&self, delay_level: i32) -> Option<ScheduleTarget> {
        if delay_level <= 0 {
            return None;
        }
        let level = delay_level.min(self.max_delay_level());
        Some(ScheduleTarget {
            level,
            queue_id: level - 1,
        })
    }

    pub fn compute_deliver_timestamp(&self, delay_level: i32, store_timestamp: i64) -> i64 {
        store_timestamp + self.delay_of(delay_level).unwrap_or(1_000)
    }

    pub fn schedule_tags_code(
        &self,
        delay_level: i32,
        store_timestamp: i64,
        tags_code: i64,
    ) -> i64 {
        let level = delay_level.min(self.max_delay_level());
        if level > 0 {
            self.compute_deliver_timestamp(level, store_timestamp)
        } else {
            tags_code
        }
    }

    pub fn correct_deliver_timestamp(
        &self,
        delay_level: i32,
        now: i64,
        deliver_timestamp: i64,
    ) -> i64 {
        let latest = now + self.delay_of(delay_level).unwrap_or(0);
        if deliver_timestamp > latest {
            now
        } else {
            deliver_timestamp
        }
    }
}
