//! Small helpers shared by the store files: file names from offsets, clocks, human timestamps.
//!
//! Book: Part I, "CommitLog" (file naming). Mirrors `UtilAll.offset2FileName` and
//! `UtilAll.timeMillisToHumanString` of RocketMQ 4.8.0.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (`System.currentTimeMillis()`).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The name of a mapped file that starts at `offset`: 20 decimal digits, zero-padded.
pub fn offset_to_file_name(offset: u64) -> String {
    format!("{offset:020}")
}

/// Parses a mapped file name back into its start offset; `None` for foreign files.
pub fn file_name_to_offset(name: &str) -> Option<u64> {
    if name.len() != 20 || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// `yyyyMMddHHmmssSSS` in local time: the name of an index file.
pub fn time_millis_to_human_string(ms: i64) -> String {
    use chrono::{Local, TimeZone};
    match Local.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y%m%d%H%M%S%3f").to_string(),
        None => format!("{ms:017}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_twenty_digits() {
        assert_eq!(offset_to_file_name(0), "00000000000000000000");
        assert_eq!(offset_to_file_name(1073741824), "00000000001073741824");
        assert_eq!(
            file_name_to_offset("00000000001073741824"),
            Some(1073741824)
        );
        assert_eq!(file_name_to_offset("checkpoint"), None);
        assert_eq!(file_name_to_offset("0000000000107374182x"), None);
    }

    #[test]
    fn human_time_has_17_digits() {
        let s = time_millis_to_human_string(now_ms());
        assert_eq!(s.len(), 17);
        assert!(s.bytes().all(|b| b.is_ascii_digit()));
    }
}
