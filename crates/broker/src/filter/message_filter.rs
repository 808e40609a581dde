//! The filter a pull hands the store: tag codes for TAG subscriptions; for SQL92 the bloom
//! bit map on the consume-queue entry first (a clear bit skips the message without reading
//! the commit log), then the expression on the record's properties.
//!
//! With `filterSupportRetry`, a consumer's `%RETRY%<group>` queue is filtered with the
//! expression the group registered for the message's original topic (the `RETRY_TOPIC`
//! property). Book: Part II, "Filtering". Mirrors `ExpressionMessageFilter` and
//! `ExpressionForRetryMessageFilter`.

use super::manager::{ConsumerFilterManager, FilterData};
use rmq_filter::BitsArray;
use rmq_store::consume_queue_ext::CqExtUnit;
use rmq_store::filter::MessageFilter;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The subscription a pull filters by.
#[derive(Debug, Clone)]
pub enum Subscription {
    /// TAG: the tag codes to accept, or `None` for everything (`*`).
    Tags(Option<BTreeSet<i64>>),
    /// SQL92 (or another non-tag type) with the group's filter data, if any.
    Sql {
        /// The pulled topic (the retry topic for a retry pull).
        topic: String,
        /// The group's filter data for that topic, if the broker has it.
        filter_data: Option<FilterData>,
    },
}

/// See the module docs.
pub struct ExpressionMessageFilter {
    /// How the pull's messages are matched.
    pub subscription: Subscription,
    /// Where the group's filter data lives.
    pub manager: Arc<ConsumerFilterManager>,
}

impl ExpressionMessageFilter {
    fn bloom_valid(&self, d: &FilterData) -> bool {
        d.bloom
            .as_ref()
            .is_some_and(|b| self.manager.bloom().is_valid(b))
    }

    fn evaluate(d: &FilterData, record: &[u8]) -> bool {
        let Some(expr) = &d.compiled else {
            return true;
        };
        let props = record_properties(record);
        match expr.matches(&props) {
            Ok(m) => m,
            Err(e) => {
                tracing::info!(expression = %d.expression, error = %e, "message filter evaluation failed");
                false
            }
        }
    }
}

/// The properties of a stored record, read without decoding the rest
/// (`MessageDecoder.decodeProperties`); empty for a record too short to hold them.
pub fn record_properties(record: &[u8]) -> Vec<(String, String)> {
    use rmq_common::message::{BORNHOST_V6_FLAG, STOREHOST_V6_FLAG};
    let i32_at = |p: usize| {
        record
            .get(p..p + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let Some(sys_flag) = i32_at(36) else {
        return Vec::new();
    };
    let born = if sys_flag & BORNHOST_V6_FLAG != 0 {
        20
    } else {
        8
    };
    let store = if sys_flag & STOREHOST_V6_FLAG != 0 {
        20
    } else {
        8
    };
    let body_size_at = 36 + 4 + 8 + born + 8 + store + 4 + 8;
    let Some(body_len) = i32_at(body_size_at).and_then(|l| usize::try_from(l).ok()) else {
        return Vec::new();
    };
    let topic_len_at = body_size_at + 4 + body_len;
    let Some(&topic_len) = record.get(topic_len_at) else {
        return Vec::new();
    };
    let props_at = topic_len_at + 1 + topic_len as usize;
    let Some(len) = record
        .get(props_at..props_at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
    else {
        return Vec::new();
    };
    match record.get(props_at + 2..props_at + 2 + len) {
        Some(p) => rmq_common::message::decode_properties(&String::from_utf8_lossy(p)),
        None => Vec::new(),
    }
}

impl MessageFilter for ExpressionMessageFilter {
    // ANCHOR: matched_by_cq
    fn is_matched_by_consume_queue(&self, tags_code: Option<i64>, ext: Option<&CqExtUnit>) -> bool {
        match &self.subscription {
            Subscription::Tags(None) => true,
            Subscription::Tags(Some(codes)) => match tags_code {
                None => true,
                // 4.8.0 compares the int value of the code
                Some(c) => codes.contains(&(c as i32 as i64)),
            },
            Subscription::Sql { filter_data, .. } => {
                let Some(d) = filter_data else { return true };
                let (Some(_), Some(bloom)) = (&d.compiled, &d.bloom) else {
                    return true;
                };
                // a message stored before the group registered carries no bits for it
                let Some(unit) = ext.filter(|u| d.is_msg_in_live(u.msg_store_time)) else {
                    return true;
                };
                if unit.filter_bit_map.is_empty()
                    || !self.bloom_valid(d)
                    || unit.filter_bit_map.len() * 8 != bloom.bit_num as usize
                {
                    return true;
                }
                let bits = BitsArray::from_bytes(unit.filter_bit_map.clone());
                self.manager.bloom().is_hit(bloom, &bits)
            }
        }
    }
    // ANCHOR_END: matched_by_cq

    fn is_matched_by_commit_log(&self, record: &[u8]) -> bool {
        match &self.subscription {
            Subscription::Sql { filter_data, .. } => match filter_data {
                Some(d) => Self::evaluate(d, record),
                None => true,
            },
            Subscription::Tags(_) => true,
        }
    }
}

/// The retry variant's extra step: a `%RETRY%<group>` pull (a TAG subscription) is checked
/// against the filter the group registered for the message's original topic.
pub struct RetryAwareFilter {
    /// The filter of the pull itself.
    pub inner: ExpressionMessageFilter,
    /// The group when the pulled topic is `%RETRY%<group>`.
    pub retry_group: Option<String>,
}

impl MessageFilter for RetryAwareFilter {
    fn is_matched_by_consume_queue(&self, tags_code: Option<i64>, ext: Option<&CqExtUnit>) -> bool {
        self.inner.is_matched_by_consume_queue(tags_code, ext)
    }

    fn is_matched_by_commit_log(&self, record: &[u8]) -> bool {
        let Some(group) = &self.retry_group else {
            return self.inner.is_matched_by_commit_log(record);
        };
        let props = record_properties(record);
        let real_topic = props
            .iter()
            .find(|(k, _)| k == "RETRY_TOPIC")
            .map(|(_, v)| v.as_str());
        let Some(d) = real_topic.and_then(|t| self.inner.manager.get(t, group)) else {
            return true;
        };
        let Some(expr) = &d.compiled else { return true };
        expr.matches(&props).unwrap_or(false)
    }
}
