//! SQL92 property filtering in the broker: where the compiled expressions live
//! ([`manager`]), how a pull uses them ([`message_filter`]), the bit map computed at
//! dispatch, and the request-side checks — CHECK_CLIENT_CONFIG (46), the filter part of
//! HEART_BEAT and of PULL_MESSAGE — with 4.8.0's codes and remarks.
//!
//! With `enablePropertyFilter=false` (the default) a SQL92 subscription is refused where 4.8.0
//! refuses it: CHECK_CLIENT_CONFIG and every pull answer SYSTEM_ERROR "The broker does not
//! support consumer to filter message by SQL92" (the Java consumer's `start()` fails on the
//! first). A heartbeat is accepted as in 4.8.0, and the broker logs the refusal with the peer.
//! Book: Part II, "Filtering". Mirrors `ClientManageProcessor.checkClientConfig`,
//! `PullMessageProcessor` (filter part), `CommitLogDispatcherCalcBitMap` and
//! `DefaultConsumerIdsChangeListener` (REGISTER/UNREGISTER).

pub mod manager;
pub mod message_filter;

use crate::broker::Broker;
use crate::processor::reply;
use manager::ConsumerFilterManager;
use message_filter::{ExpressionMessageFilter, RetryAwareFilter, Subscription};
use rmq_filter::BitsArray;
use rmq_remoting::codes::response as rs;
use rmq_remoting::protocol::heartbeat::SubscriptionData;
use rmq_remoting::{Connection, RemotingCommand};
use std::sync::Arc;

/// RemotingCommand code 23, the compile failure of CHECK_CLIENT_CONFIG.
pub const SUBSCRIPTION_PARSE_FAILED: i32 = 23;
/// 27: a pull for a SQL92 subscription the broker has no compiled filter for.
pub const FILTER_DATA_NOT_EXIST: i32 = 27;
/// 28: the broker's filter is older than the pull's subscription version.
pub const FILTER_DATA_NOT_LATEST: i32 = 28;

/// 4.8.0's refusal text when `enablePropertyFilter` is off.
pub fn not_supported_remark(expression_type: &str) -> String {
    format!("The broker does not support consumer to filter message by {expression_type}")
}

// ANCHOR: bit_map_calc
/// The store's bit-map hook (`CommitLogDispatcherCalcBitMap.dispatch`): for a topic with
/// filter data, an m-bit map with the bloom positions of every group whose expression is
/// TRUE on the message's properties.
pub fn bit_map_calculator(
    filters: Arc<ConsumerFilterManager>,
    enabled: bool,
) -> rmq_store::store::BitMapCalculator {
    Arc::new(move |req| {
        if !enabled || !filters.has_topic(&req.topic) {
            return None;
        }
        let bloom = filters.bloom();
        let mut bits = BitsArray::new(bloom.m as usize);
        filters.for_each_in_topic(&req.topic, |d| {
            if let (Some(expr), Some(data)) = (&d.compiled, &d.bloom) {
                if expr.matches(&req.properties).unwrap_or(false) {
                    bloom.hash_to(data, &mut bits);
                }
            }
        });
        Some(bits.into_bytes())
    })
}
// ANCHOR_END: bit_map_calc

// ANCHOR: check_client_config
/// CHECK_CLIENT_CONFIG (46): may this consumer's subscription run here?
pub fn check_client_config(b: &Broker, ctx: &Connection, req: &RemotingCommand) -> RemotingCommand {
    let Some(body) = req.body.as_ref().filter(|b| !b.is_empty()) else {
        return reply(rs::SYSTEM_ERROR, "CHECK_CLIENT_CONFIG without a body");
    };
    let text = rmq_remoting::protocol::fastjson::normalize(&String::from_utf8_lossy(body));
    let v: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return reply(rs::SYSTEM_ERROR, format!("bad CheckClientRequestBody: {e}")),
    };
    let Some(sub) = v.get("subscriptionData").filter(|s| !s.is_null()) else {
        return crate::processor::ok();
    };
    let sub: SubscriptionData =
        match rmq_remoting::protocol::fastjson::lenient::from_value(sub.clone()) {
            Ok(s) => s,
            Err(e) => return reply(rs::SYSTEM_ERROR, format!("bad subscriptionData: {e}")),
        };
    if rmq_filter::is_tag_type(Some(&sub.expression_type)) {
        return crate::processor::ok();
    }
    if !b.config().filter.enable_property_filter {
        tracing::warn!(peer = %ctx.remote_addr(), group = v.get("group").and_then(|g| g.as_str()).unwrap_or(""),
            topic = %sub.topic, "refusing a {} subscription: enablePropertyFilter=false", sub.expression_type);
        return reply(rs::SYSTEM_ERROR, not_supported_remark(&sub.expression_type));
    }
    match rmq_filter::compile(&sub.expression_type, &sub.sub_string) {
        Ok(_) => crate::processor::ok(),
        Err(e) => {
            tracing::warn!(peer = %ctx.remote_addr(), expression = %sub.sub_string, error = %e,
                "filter message, but failed to compile expression");
            RemotingCommand::new_response(SUBSCRIPTION_PARSE_FAILED, e.remark())
        }
    }
}
// ANCHOR_END: check_client_config

/// The filter part of a heartbeat (the REGISTER event): registers the group's SQL92
/// subscriptions; when filtering is off they are registered anyway (as 4.8.0 does) and the
/// refusal is logged with the peer — the client hears it on CHECK_CLIENT_CONFIG and pulls.
pub fn on_heartbeat(b: &Broker, ctx: &Connection, group: &str, subs: &[SubscriptionData]) {
    if !b.config().filter.enable_property_filter {
        for s in subs
            .iter()
            .filter(|s| !rmq_filter::is_tag_type(Some(&s.expression_type)))
        {
            tracing::warn!(peer = %ctx.remote_addr(), group, topic = %s.topic,
                "consumer subscribes by {} but enablePropertyFilter=false; its pulls will be refused",
                s.expression_type);
        }
    }
    b.filters().register_group(group, subs);
}

/// Marks a group's filters dead once its last client is gone (the UNREGISTER event).
pub fn on_group_maybe_gone(b: &Broker, group: &str) {
    if b.consumers().group(group).is_none() {
        b.filters().unregister(group);
    }
}

/// What a pull's header says about its subscription.
pub struct PullSubscriptionHeader<'a> {
    /// The consumer group.
    pub group: &'a str,
    /// The pulled topic.
    pub topic: &'a str,
    /// FLAG_SUBSCRIPTION: the subscription travels in the header.
    pub has_subscription_flag: bool,
    /// The subscription expression, when the flag is set.
    pub subscription: Option<&'a str>,
    /// `TAG` or `SQL92` (absent: `TAG`).
    pub expression_type: Option<&'a str>,
    /// The version of the subscription the client holds (checked against the filter data).
    pub sub_version: i64,
}

// ANCHOR: pull_filter
/// Builds the pull's filter, or the refusal 4.8.0 answers: 23 for an empty SQL92 expression
/// in the header, 27/28 for missing or stale filter data, 1 when filtering is off. For a
/// registered subscription `registered` is the group's subscription of the topic.
pub fn pull_filter(
    b: &Arc<Broker>,
    h: &PullSubscriptionHeader,
    registered: Option<&SubscriptionData>,
) -> Result<Arc<dyn rmq_store::filter::MessageFilter + Send + Sync>, Box<RemotingCommand>> {
    let (expression_type, sub_string, filter_data) = match registered {
        None => {
            let ty = h.expression_type.unwrap_or(rmq_filter::TAG);
            let sub = h.subscription.unwrap_or("");
            if rmq_filter::is_tag_type(Some(ty)) {
                (ty.to_string(), sub.to_string(), None)
            } else {
                if sub.is_empty() {
                    return Err(Box::new(reply(
                        SUBSCRIPTION_PARSE_FAILED,
                        "parse the consumer's subscription failed",
                    )));
                }
                // a compile error leaves no filter data: the pull runs unfiltered, as 4.8.0
                let d = ConsumerFilterManager::build(h.topic, h.group, sub, ty, h.sub_version);
                (ty.to_string(), sub.to_string(), d)
            }
        }
        Some(s) => {
            let mut d = None;
            if !rmq_filter::is_tag_type(Some(&s.expression_type)) {
                let Some(found) = b.filters().get(h.topic, h.group) else {
                    return Err(Box::new(reply(
                        FILTER_DATA_NOT_EXIST,
                        "The broker's consumer filter data is not exist!Your expression may be wrong!",
                    )));
                };
                if found.client_version < h.sub_version {
                    return Err(Box::new(reply(
                        FILTER_DATA_NOT_LATEST,
                        "the consumer's consumer filter data not latest",
                    )));
                }
                d = Some(found);
            }
            (s.expression_type.clone(), s.sub_string.clone(), d)
        }
    };
    let is_tag = rmq_filter::is_tag_type(Some(&expression_type));
    if !is_tag && !b.config().filter.enable_property_filter {
        return Err(Box::new(reply(
            rs::SYSTEM_ERROR,
            not_supported_remark(&expression_type),
        )));
    }
    let subscription = if is_tag {
        Subscription::Tags(crate::processor::pull::tag_filter(Some(&sub_string)))
    } else {
        Subscription::Sql {
            topic: h.topic.to_string(),
            filter_data,
        }
    };
    let inner = ExpressionMessageFilter {
        subscription,
        manager: b.filters().clone(),
    };
    if b.config().filter.filter_support_retry {
        let retry_group = h
            .topic
            .strip_prefix(crate::topic::RETRY_GROUP_TOPIC_PREFIX)
            .map(String::from);
        return Ok(Arc::new(RetryAwareFilter { inner, retry_group }));
    }
    Ok(Arc::new(inner))
}
// ANCHOR_END: pull_filter
