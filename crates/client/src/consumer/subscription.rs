//! Subscriptions: a topic plus a tag expression such as `TagA || TagB` or `*`, or a SQL92
//! expression on message properties ([`MessageSelector::sql`], evaluated by the broker).
//!
//! The broker filters by the *hash* of each tag (what the consume queue stores),
//! so a subscription carries both the tag strings and their Java hash codes; the
//! client filters again by the strings after decoding, which makes hash
//! collisions harmless.
//! Book: Part II "Consuming, long polling and rebalancing" (tag filtering).
//! Mirrors `FilterAPI.buildSubscriptionData` and the tag check of
//! `PullAPIWrapper.processPullResult`.

use rmq_common::message::MessageExt;
use rmq_remoting::protocol::SubscriptionData;

use crate::error::{ClientError, Result};
use crate::util::{java_string_hash, now_ms};

/// The expression that matches every tag (`SubscriptionData.SUB_ALL`).
pub const SUB_ALL: &str = "*";

/// How a consumer selects messages of a topic (`MessageSelector`): by tags, or by a SQL92
/// expression on the message properties, which only a broker with `enablePropertyFilter=true`
/// accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageSelector {
    /// `MessageSelector.byTag("TagA || TagB")`; `*` or empty for all.
    Tag(String),
    /// `MessageSelector.bySql("a > 5 AND b = 'x'")`.
    Sql(String),
}

impl MessageSelector {
    /// A tag expression (`TagA || TagB`, `*`): `MessageSelector.byTag`.
    pub fn tag(expression: impl Into<String>) -> Self {
        MessageSelector::Tag(expression.into())
    }

    /// A SQL92 expression over properties, evaluated by the broker: `MessageSelector.bySql`.
    pub fn sql(expression: impl Into<String>) -> Self {
        MessageSelector::Sql(expression.into())
    }

    /// The subscription this selector makes for `topic` (`FilterAPI.build`).
    pub fn to_subscription(&self, topic: &str) -> Result<SubscriptionData> {
        match self {
            MessageSelector::Tag(e) => build_subscription(topic, e),
            MessageSelector::Sql(e) => {
                if e.is_empty() {
                    return Err(ClientError::InvalidArgument(
                        "Expression can't be null! SQL92".into(),
                    ));
                }
                Ok(SubscriptionData {
                    class_filter_mode: false,
                    code_set: Default::default(),
                    expression_type: "SQL92".to_string(),
                    sub_string: e.clone(),
                    sub_version: now_ms(),
                    tags_set: Default::default(),
                    topic: topic.to_string(),
                })
            }
        }
    }
}

impl From<&str> for MessageSelector {
    fn from(tags: &str) -> Self {
        MessageSelector::Tag(tags.to_string())
    }
}

/// Parses a tag expression into a subscription of `topic`.
pub fn build_subscription(topic: &str, expression: &str) -> Result<SubscriptionData> {
    let expr = expression.trim();
    let mut sub = SubscriptionData {
        class_filter_mode: false,
        code_set: Default::default(),
        expression_type: "TAG".to_string(),
        sub_string: SUB_ALL.to_string(),
        sub_version: now_ms(),
        tags_set: Default::default(),
        topic: topic.to_string(),
    };
    if expr.is_empty() || expr == SUB_ALL {
        return Ok(sub);
    }
    sub.sub_string = expr.to_string();
    for tag in expr.split("||").map(str::trim).filter(|t| !t.is_empty()) {
        sub.tags_set.insert(tag.to_string());
        sub.code_set.insert(java_string_hash(tag));
    }
    if sub.tags_set.is_empty() {
        return Err(ClientError::InvalidArgument(format!(
            "subString split error: {expression:?}"
        )));
    }
    Ok(sub)
}

/// Whether a decoded message passes the subscription's tag filter.
pub fn matches(sub: &SubscriptionData, msg: &MessageExt) -> bool {
    if sub.tags_set.is_empty() || sub.class_filter_mode {
        return true;
    }
    msg.tags().is_some_and(|t| sub.tags_set.contains(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_blank_match_everything() {
        for e in ["*", "", "  "] {
            let s = build_subscription("T", e).unwrap();
            assert_eq!(s.sub_string, "*");
            assert!(s.tags_set.is_empty());
        }
    }

    #[test]
    fn sql_selector_carries_the_expression_and_no_tags() {
        let s = MessageSelector::sql("a > 5").to_subscription("T").unwrap();
        assert_eq!(s.expression_type, "SQL92");
        assert_eq!(s.sub_string, "a > 5");
        assert!(s.tags_set.is_empty() && s.code_set.is_empty());
        assert!(MessageSelector::sql("").to_subscription("T").is_err());
        let t = MessageSelector::from("TagA").to_subscription("T").unwrap();
        assert_eq!(t.expression_type, "TAG");
    }

    #[test]
    fn tags_and_codes() {
        let s = build_subscription("T", "TagA || TagB||").unwrap();
        assert_eq!(s.tags_set.len(), 2);
        assert!(s.code_set.contains(&2_598_919));
        assert_eq!(s.expression_type, "TAG");
        assert!(build_subscription("T", "||").is_err());
    }
}
