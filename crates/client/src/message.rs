//! The message a producer sends: topic, tags, keys, flag, user properties and
//! body — what the broker later stores as one commit-log record.
//!
//! Properties keep insertion order (the wire form is a `key\u{1}value\u{2}`
//! string); setting a key twice replaces the value. Received messages are
//! `rmq_common::message::MessageExt` values decoded from pull replies.
//! Book: Part II "Producing" (the message model). Mirrors
//! `org.apache.rocketmq.common.message.Message` and `MessageConst`.

use bytes::Bytes;

/// Property names (`MessageConst`), shared with the broker and tools.
pub use rmq_common::message::keys;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The topic it is sent to.
    pub topic: String,
    /// User flag, stored verbatim (`Message.flag`).
    pub flag: i32,
    /// Properties in insertion order.
    pub properties: Vec<(String, String)>,
    /// The payload (compressed by the producer when large).
    pub body: Bytes,
}

impl Message {
    /// A message with `WAIT=true`, as every Java `Message` constructor sets.
    pub fn new(topic: impl Into<String>, body: impl Into<Bytes>) -> Self {
        let mut m = Message {
            topic: topic.into(),
            flag: 0,
            properties: Vec::new(),
            body: body.into(),
        };
        m.put_property(keys::WAIT, "true");
        m
    }

    /// Sets the tag (one per message; consumers filter on it).
    pub fn with_tags(mut self, tags: impl Into<String>) -> Self {
        let t = tags.into();
        if !t.is_empty() {
            self.put_property(keys::TAGS, t);
        }
        self
    }

    /// Sets the keys (space-separated; indexed by the broker for queryMsgByKey).
    pub fn with_keys(mut self, keys_text: impl Into<String>) -> Self {
        let k = keys_text.into();
        if !k.is_empty() {
            self.put_property(keys::KEYS, k);
        }
        self
    }

    /// Sets the user flag.
    pub fn with_flag(mut self, flag: i32) -> Self {
        self.flag = flag;
        self
    }

    /// Sets a delay level (1 = 1s ... 18 = 2h with the default `messageDelayLevel`).
    pub fn with_delay_level(mut self, level: i32) -> Self {
        self.put_property(keys::DELAY, level.to_string());
        self
    }

    /// Sets any property.
    pub fn with_property(mut self, key: &str, value: impl Into<String>) -> Self {
        self.put_property(key, value);
        self
    }

    /// Whether the broker should wait for the store (and flush/replication) to
    /// finish before replying (`WAIT`).
    pub fn set_wait_store_msg_ok(&mut self, wait: bool) {
        self.put_property(keys::WAIT, if wait { "true" } else { "false" });
    }

    /// Sets a property, replacing an earlier value of the same key.
    pub fn put_property(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.properties.iter_mut().find(|(k, _)| k == key) {
            Some(p) => p.1 = value,
            None => self.properties.push((key.to_string(), value)),
        }
    }

    /// The value of a property.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Removes a property, returning its value.
    pub fn remove_property(&mut self, key: &str) -> Option<String> {
        let i = self.properties.iter().position(|(k, _)| k == key)?;
        Some(self.properties.remove(i).1)
    }

    /// The tag (`TAGS`).
    pub fn tags(&self) -> Option<&str> {
        self.property(keys::TAGS)
    }

    /// The keys (`KEYS`), space-separated.
    pub fn keys(&self) -> Option<&str> {
        self.property(keys::KEYS)
    }

    /// The delay level (`DELAY`), 0 when the message is not delayed.
    pub fn delay_level(&self) -> i32 {
        self.property(keys::DELAY)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Whether the broker waits for the store before replying (`WAIT`, default true).
    pub fn wait_store_msg_ok(&self) -> bool {
        self.property(keys::WAIT) != Some("false")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_sets_properties_in_order_and_replaces() {
        let m = Message::new("T", &b"x"[..])
            .with_tags("A")
            .with_keys("k1 k2")
            .with_tags("B");
        assert_eq!(
            m.properties,
            vec![
                (keys::WAIT.to_string(), "true".to_string()),
                (keys::TAGS.to_string(), "B".to_string()),
                (keys::KEYS.to_string(), "k1 k2".to_string()),
            ]
        );
        assert!(m.wait_store_msg_ok());
        assert_eq!(m.delay_level(), 0);
        assert_eq!(m.with_delay_level(3).delay_level(), 3);
    }
}
