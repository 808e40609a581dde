//! Small helpers the client needs in several places: the wall clock in ms,
//! Java's `String.hashCode` (the broker filters tags by it), and the retry-topic
//! names.
//!
//! Book: Part II "Consuming" (tag filtering). Mirrors `UtilAll`, `MixAll` and
//! `java.lang.String.hashCode`.

/// Prefix of a consumer group's retry topic (`MixAll.RETRY_GROUP_TOPIC_PREFIX`).
pub const RETRY_GROUP_TOPIC_PREFIX: &str = "%RETRY%";
/// Prefix of a consumer group's dead-letter topic (`MixAll.DLQ_GROUP_TOPIC_PREFIX`).
pub const DLQ_GROUP_TOPIC_PREFIX: &str = "%DLQ%";
/// The topic whose route a producer borrows for topics that do not exist yet.
pub const AUTO_CREATE_TOPIC_KEY: &str = "TBW102";
/// The broker id of a master.
pub const MASTER_ID: i64 = 0;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `%RETRY%<group>`.
pub fn retry_topic(group: &str) -> String {
    format!("{RETRY_GROUP_TOPIC_PREFIX}{group}")
}

/// Java's `String.hashCode` (the broker filters tags by it).
pub use rmq_common::message::java_string_hash;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_matches_known_values() {
        // Values from the JVM: "TagA".hashCode() == 2598919, "".hashCode() == 0.
        assert_eq!(java_string_hash("TagA"), 2_598_919);
        assert_eq!(java_string_hash(""), 0);
        // Overflow wraps like Java: "polygenelubricants".hashCode() == Integer.MIN_VALUE.
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
    }

    #[test]
    fn retry_topic_name() {
        assert_eq!(retry_topic("cg"), "%RETRY%cg");
    }
}
