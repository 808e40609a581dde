//! What a request asks for: the topics and groups it touches with the permission each
//! needs, read from its extFields (and, for HEART_BEAT, its body) exactly where 4.8.0's
//! `PlainAccessValidator.parse` reads them. Every code not listed needs no resource (it is
//! only authenticated).
//!
//! | code | resources |
//! |---|---|
//! | 10 SEND_MESSAGE | `topic` PUB |
//! | 310 SEND_MESSAGE_V2 | `b` (the topic) PUB |
//! | 36 CONSUMER_SEND_MSG_BACK | `originTopic` PUB, group `group` SUB |
//! | 11 PULL_MESSAGE | `topic` SUB, group `consumerGroup` SUB |
//! | 12 QUERY_MESSAGE | `topic` SUB |
//! | 34 HEART_BEAT | every consumer's group SUB and each subscribed topic SUB |
//! | 35 UNREGISTER_CLIENT, 38 GET_CONSUMER_LIST_BY_GROUP | group `consumerGroup` SUB |
//! | 15 UPDATE_CONSUMER_OFFSET | group `consumerGroup` SUB, `topic` SUB |
//!
//! A group is checked as its retry topic `%RETRY%<group>`. The resources are kept in a Java
//! `HashMap` there, and the first one that fails names the error, so [`Resources`] keeps
//! 4.8.0's iteration order: by hash bucket, then insertion.
//! Book: Part II, "Who may do what: ACL". Mirrors `PlainAccessValidator.parse` and
//! `PlainAccessResource.addResourceAndPerm` (4.8.0).

use super::rules::{PUB, RETRY_PREFIX, SUB};
use rmq_remoting::codes::request as rq;
use rmq_remoting::protocol::decode_body;
use rmq_remoting::protocol::header::{
    GetConsumerListByGroupRequestHeader, UnregisterClientRequestHeader,
    UpdateConsumerOffsetRequestHeader,
};
use rmq_remoting::protocol::heartbeat::HeartbeatData;
use rmq_remoting::RemotingCommand;

/// Java's `String.hashCode` (over UTF-16 code units, wrapping).
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

/// Resource -> needed permission, iterated in the order a Java 8 `HashMap` would.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {
    /// In insertion order; a second put of one name changes the value in place.
    entries: Vec<(String, u8)>,
}

impl Resources {
    /// `addResourceAndPerm`: a missing name is ignored.
    pub fn add(&mut self, name: Option<&str>, perm: u8) {
        let Some(name) = name else { return };
        match self.entries.iter_mut().find(|(n, _)| n == name) {
            Some(e) => e.1 = perm,
            None => self.entries.push((name.to_string(), perm)),
        }
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    // ANCHOR: acl_hash_order
    /// The entries in `HashMap` iteration order: bucket `(h ^ h >>> 16) & (capacity - 1)`
    /// ascending, ties in insertion order (a resize splits buckets without reordering
    /// them). The table starts at 16 buckets and doubles past 3/4 full.
    pub fn in_java_order(&self) -> Vec<(&str, u8)> {
        let mut capacity = 16usize;
        while self.entries.len() * 4 > capacity * 3 {
            capacity *= 2;
        }
        let bucket = |name: &str| {
            let h = java_string_hash(name);
            ((h ^ ((h as u32) >> 16) as i32) as u32 as usize) & (capacity - 1)
        };
        let mut out: Vec<(&str, u8)> = self.entries.iter().map(|(n, p)| (n.as_str(), *p)).collect();
        out.sort_by_key(|(n, _)| bucket(n)); // stable: ties keep insertion order
        out
    }
    // ANCHOR_END: acl_hash_order
}

fn retry(group: Option<&str>) -> Option<String> {
    group.map(|g| format!("{RETRY_PREFIX}{g}"))
}

// ANCHOR: acl_parse
/// The resources `req` needs. `Err` carries the message of what could not be read (a
/// header or heartbeat body), which 4.8.0 turns into an `AclException`.
pub fn resources_of(req: &RemotingCommand) -> Result<Resources, String> {
    let mut r = Resources::default();
    if req.ext_fields.is_empty() {
        // 4.8.0 reads nothing from a request without extFields (null there)
        return Ok(r);
    }
    let ext = |k: &str| req.ext_fields.get(k).map(String::as_str);
    match req.code {
        rq::SEND_MESSAGE => r.add(ext("topic"), PUB),
        rq::SEND_MESSAGE_V2 => r.add(ext("b"), PUB),
        rq::CONSUMER_SEND_MSG_BACK => {
            r.add(ext("originTopic"), PUB);
            r.add(retry(ext("group")).as_deref(), SUB);
        }
        rq::PULL_MESSAGE => {
            r.add(ext("topic"), SUB);
            r.add(retry(ext("consumerGroup")).as_deref(), SUB);
        }
        rq::QUERY_MESSAGE => r.add(ext("topic"), SUB),
        rq::HEART_BEAT => {
            let hb: HeartbeatData = decode_body(req.body_bytes()).map_err(|e| e.to_string())?;
            for c in &hb.consumer_data_set {
                r.add(retry(Some(&c.group_name)).as_deref(), SUB);
                for s in &c.subscription_data_set {
                    r.add(Some(&s.topic), SUB);
                }
            }
        }
        rq::UNREGISTER_CLIENT => {
            let h: UnregisterClientRequestHeader =
                req.decode_header().map_err(|e| e.to_string())?;
            r.add(retry(h.consumer_group.as_deref()).as_deref(), SUB);
        }
        rq::GET_CONSUMER_LIST_BY_GROUP => {
            let h: GetConsumerListByGroupRequestHeader =
                req.decode_header().map_err(|e| e.to_string())?;
            r.add(retry(Some(&h.consumer_group)).as_deref(), SUB);
        }
        rq::UPDATE_CONSUMER_OFFSET => {
            let h: UpdateConsumerOffsetRequestHeader =
                req.decode_header().map_err(|e| e.to_string())?;
            r.add(retry(Some(&h.consumer_group)).as_deref(), SUB);
            r.add(Some(&h.topic), SUB);
        }
        _ => {}
    }
    Ok(r)
}
// ANCHOR_END: acl_parse

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_matches_known_values() {
        // "hello".hashCode() == 99162322, "".hashCode() == 0
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash(""), 0);
        // overflow wraps: "polygenelubricants".hashCode() == Integer.MIN_VALUE
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
    }

    #[test]
    fn order_is_by_bucket_then_insertion() {
        let mut r = Resources::default();
        // buckets in a 16-slot table: "b" (98) -> 2, "a" (97) -> 1
        r.add(Some("b"), SUB);
        r.add(Some("a"), PUB);
        r.add(None, PUB);
        let order: Vec<&str> = r.in_java_order().iter().map(|e| e.0).collect();
        assert_eq!(order, ["a", "b"]);
        r.add(Some("b"), PUB);
        assert_eq!(r.in_java_order()[1], ("b", PUB));
    }

    #[test]
    fn pull_needs_the_topic_and_the_retry_topic_of_its_group() {
        let req = RemotingCommand::new_request(rq::PULL_MESSAGE)
            .with_ext("topic", "T")
            .with_ext("consumerGroup", "G");
        let r = resources_of(&req).unwrap();
        let mut names: Vec<&str> = r.in_java_order().iter().map(|e| e.0).collect();
        names.sort();
        assert_eq!(names, ["%RETRY%G", "T"]);
        let bad = RemotingCommand::new_request(rq::UPDATE_CONSUMER_OFFSET).with_ext("topic", "T");
        assert_eq!(
            resources_of(&bad).unwrap_err(),
            "the custom field <consumerGroup> is null"
        );
    }
}
