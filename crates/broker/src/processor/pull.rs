//! PULL_MESSAGE (11): checks, tag and SQL92 filtering (the filter itself is built in
//! `crate::filter`), status -> response code mapping with the
//! next/min/max offset headers, the offset commit carried by the pull, and long polling
//! (suspend when nothing is there, re-run once when woken). Mirrors `PullMessageProcessor`
//! and `PullRequestHoldService`. Book: Part II, "Pull and long polling".

use super::Outcome;
use super::{reply, FAQ_SUFFIX};
use crate::broker::Broker;
use crate::topic::PERM_READ;
use bytes::BytesMut;
use rmq_remoting::codes::response as rs;
use rmq_remoting::protocol::header::{PullMessageRequestHeader, PullMessageResponseHeader};
use rmq_remoting::{Connection, RemotingCommand};
use rmq_store::filter::MessageFilter;
use rmq_store::GetMessageStatus;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

const FLAG_COMMIT_OFFSET: i32 = 0x1;
const FLAG_SUSPEND: i32 = 0x2;
const FLAG_SUBSCRIPTION: i32 = 0x4;

/// `suspendTimeoutMillis` when the request has none: the Java consumer's default.
const DEFAULT_SUSPEND_TIMEOUT_MS: i64 = 15_000;

/// The pull request as the handler uses it: the typed header with 4.8.0's absent-value
/// readings applied (see the optional fields of [`PullMessageRequestHeader`]).
struct Pull {
    header: PullMessageRequestHeader,
    commit_offset: i64,
    suspend_timeout_ms: i64,
    sub_version: i64,
}

impl Pull {
    fn new(header: PullMessageRequestHeader) -> Pull {
        Pull {
            commit_offset: header.commit_offset.unwrap_or(0),
            suspend_timeout_ms: header
                .suspend_timeout_millis
                .unwrap_or(DEFAULT_SUSPEND_TIMEOUT_MS),
            sub_version: header.sub_version.unwrap_or(0),
            header,
        }
    }
}

// ANCHOR: tag_filter
/// Tag codes to accept, or None for "everything" (`*`, empty, or no subscription).
pub(crate) fn tag_filter(sub: Option<&str>) -> Option<BTreeSet<i64>> {
    let s = sub?.trim();
    if s.is_empty() || s == "*" {
        return None;
    }
    Some(
        s.split("||")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| rmq_common::message::java_string_hash(t) as i64)
            .collect(),
    )
}
// ANCHOR_END: tag_filter

/// PULL_MESSAGE (11): reads from the store, or holds the pull (long polling) when there is
/// nothing new yet.
pub async fn process(b: &Arc<Broker>, ctx: &Arc<Connection>, req: RemotingCommand) -> Outcome {
    // A header that cannot be read is refused by the dispatcher: SYSTEM_ERROR with the
    // reason, logged with the peer.
    let pull = Pull::new(req.decode_header()?);
    let h = &pull.header;
    // ANCHOR: pull_checks
    // Checks that do not depend on the data.
    if b.config().broker_permission & PERM_READ == 0 {
        return Ok(reply(
            rs::NO_PERMISSION,
            format!(
                "the broker[{}] pulling message is forbidden",
                b.config().broker_ip1
            ),
        ));
    }
    let Some(sub) = b.subscriptions().find(&h.consumer_group) else {
        return Ok(reply(
            rs::SUBSCRIPTION_GROUP_NOT_EXIST,
            format!(
                "subscription group [{}] does not exist, {FAQ_SUFFIX}",
                h.consumer_group
            ),
        ));
    };
    if !sub.consume_enable {
        return Ok(reply(
            rs::NO_PERMISSION,
            format!("subscription group no permission, {}", h.consumer_group),
        ));
    }
    let Some(tc) = b.topics().get(&h.topic) else {
        return Ok(reply(
            rs::TOPIC_NOT_EXIST,
            format!(
                "topic[{}] not exist, apply first please! {FAQ_SUFFIX}",
                h.topic
            ),
        ));
    };
    if tc.perm & PERM_READ == 0 {
        return Ok(reply(
            rs::NO_PERMISSION,
            format!("the topic[{}] pulling message is forbidden", h.topic),
        ));
    }
    if h.queue_id < 0 || h.queue_id >= tc.read_queue_nums {
        return Ok(reply(
            rs::SYSTEM_ERROR,
            format!(
                "queueId[{}] is illegal, topic:[{}] topicConfig.readQueueNums:[{}] consumer:[{}]",
                h.queue_id,
                h.topic,
                tc.read_queue_nums,
                ctx.remote_addr()
            ),
        ));
    }
    let sub_header = crate::filter::PullSubscriptionHeader {
        group: &h.consumer_group,
        topic: &h.topic,
        has_subscription_flag: h.sys_flag & FLAG_SUBSCRIPTION != 0,
        subscription: h.subscription.as_deref(),
        expression_type: h.expression_type.as_deref(),
        sub_version: pull.sub_version,
    };
    let built = if sub_header.has_subscription_flag {
        crate::filter::pull_filter(b, &sub_header, None)
    } else {
        let Some(group) = b.consumers().group(&h.consumer_group) else {
            return Ok(reply(
                rs::SUBSCRIPTION_NOT_EXIST,
                format!("the consumer's group info not exist{FAQ_SUFFIX}"),
            ));
        };
        let Some(s) = group.subscriptions.get(&h.topic) else {
            return Ok(reply(
                rs::SUBSCRIPTION_NOT_EXIST,
                format!("the consumer's subscription not exist{FAQ_SUFFIX}"),
            ));
        };
        crate::filter::pull_filter(b, &sub_header, Some(s))
    };
    let filter = match built {
        Ok(f) => f,
        Err(refusal) => return Ok(*refusal),
    };
    // ANCHOR_END: pull_checks

    // ANCHOR: pull_long_polling
    let mut resp = read(b, h, filter.clone()).await?;
    // Only the fresh request commits the offset it carries (never a woken re-run).
    if h.sys_flag & FLAG_COMMIT_OFFSET != 0 && b.is_master() {
        b.offsets()
            .commit(&h.consumer_group, &h.topic, h.queue_id, pull.commit_offset);
    }

    if resp.code == rs::PULL_NOT_FOUND && h.sys_flag & FLAG_SUSPEND != 0 {
        let hold = if b.config().long_polling_enable {
            Duration::from_millis(pull.suspend_timeout_ms.max(0) as u64)
        } else {
            Duration::from_millis(b.config().short_polling_time_ms)
        };
        let store = b.store().clone();
        let (topic, qid, offset) = (h.topic.clone(), h.queue_id, h.queue_offset);
        b.long_polling()
            .wait(&h.topic, h.queue_id, hold, move || {
                store.get_max_offset_in_queue(&topic, qid) > offset
            })
            .await;
        // The re-run after waking never suspends again and never commits the offset.
        resp = read(b, h, filter).await?;
    }
    // ANCHOR_END: pull_long_polling
    Ok(resp)
}

/// One read of the queue, mapped to 4.8.0's response code and headers.
async fn read(
    b: &Arc<Broker>,
    h: &PullMessageRequestHeader,
    filter: Arc<dyn MessageFilter + Send + Sync>,
) -> Outcome {
    let store = b.store().clone();
    let (group, topic, qid, offset, max) = (
        h.consumer_group.clone(),
        h.topic.clone(),
        h.queue_id,
        h.queue_offset,
        h.max_msg_nums,
    );
    let r = tokio::task::spawn_blocking(move || {
        store.get_message_filtered(&group, &topic, qid, offset, max.min(32), filter.as_ref())
    })
    .await?;
    if r.status == GetMessageStatus::Found {
        b.stats()
            .group_gets
            .add(&h.topic, &h.consumer_group, r.messages.len() as u64);
    }
    // ANCHOR: pull_status_map
    let (code, next) = match r.status {
        GetMessageStatus::Found => (rs::SUCCESS, r.next_begin_offset),
        GetMessageStatus::NoMatchedMessage | GetMessageStatus::MessageWasRemoving => {
            (rs::PULL_RETRY_IMMEDIATELY, r.next_begin_offset)
        }
        GetMessageStatus::NoMessageInQueue | GetMessageStatus::NoMatchedLogicQueue => {
            if h.queue_offset != 0 {
                (rs::PULL_OFFSET_MOVED, 0)
            } else {
                (rs::PULL_NOT_FOUND, 0)
            }
        }
        GetMessageStatus::OffsetTooSmall => (rs::PULL_OFFSET_MOVED, r.min_offset),
        GetMessageStatus::OffsetOverflowOne => (rs::PULL_NOT_FOUND, h.queue_offset),
        GetMessageStatus::OffsetOverflowBadly => (
            rs::PULL_OFFSET_MOVED,
            if r.min_offset == 0 {
                r.min_offset
            } else {
                r.max_offset
            },
        ),
        GetMessageStatus::OffsetFoundNull => (rs::PULL_NOT_FOUND, r.next_begin_offset),
    };
    // ANCHOR_END: pull_status_map
    let name = match r.status {
        GetMessageStatus::Found => "FOUND",
        GetMessageStatus::NoMatchedMessage => "NO_MATCHED_MESSAGE",
        GetMessageStatus::MessageWasRemoving => "MESSAGE_WAS_REMOVING",
        GetMessageStatus::OffsetFoundNull => "OFFSET_FOUND_NULL",
        GetMessageStatus::OffsetOverflowBadly => "OFFSET_OVERFLOW_BADLY",
        GetMessageStatus::OffsetOverflowOne => "OFFSET_OVERFLOW_ONE",
        GetMessageStatus::OffsetTooSmall => "OFFSET_TOO_SMALL",
        GetMessageStatus::NoMatchedLogicQueue => "NO_MATCHED_LOGIC_QUEUE",
        GetMessageStatus::NoMessageInQueue => "NO_MESSAGE_IN_QUEUE",
    };
    let mut resp =
        RemotingCommand::new_response(code, name).with_header(&PullMessageResponseHeader {
            suggest_which_broker_id: 0,
            next_begin_offset: next,
            min_offset: r.min_offset,
            max_offset: r.max_offset,
        });
    // ANCHOR: pull_body
    if code == rs::SUCCESS {
        let mut body = BytesMut::new();
        for m in &r.messages {
            body.extend_from_slice(m);
        }
        resp = resp.with_body(body.freeze());
    }
    // ANCHOR_END: pull_body
    Ok(resp)
}
