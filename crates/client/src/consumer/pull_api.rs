//! One pull, from request to filtered messages: choose the broker node (master,
//! or the slave the broker suggested last time), send PULL_MESSAGE, decode the
//! records of the reply body, drop messages whose tag the subscription does not
//! want, and stamp MIN_OFFSET/MAX_OFFSET on each message.
//!
//! Book: Part II "Consuming, long polling and rebalancing" (the pull request).
//! Mirrors `PullAPIWrapper` (`pullKernelImpl`, `processPullResult`).

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use rmq_common::message::{decode_records, MessageExt};
use rmq_remoting::protocol::{MessageQueue, SubscriptionData};

use crate::api::{pull_flag, PullStatus, RawPullResult};
use crate::consumer::subscription;
use crate::error::{ClientError, Result};
use crate::instance::ClientInstance;
use crate::message::keys;
use crate::util::MASTER_ID;
use rmq_remoting::protocol::header::PullMessageRequestHeader;

/// A pull's outcome with decoded, filtered messages (`PullResult`).
#[derive(Debug, Clone)]
pub struct PullResult {
    /// What the broker found.
    pub status: PullStatus,
    /// The offset to pull from next.
    pub next_begin_offset: i64,
    /// The queue's smallest offset.
    pub min_offset: i64,
    /// One past the queue's last offset.
    pub max_offset: i64,
    /// The messages the subscription wants, each stamped with `MIN_OFFSET`/`MAX_OFFSET`
    /// (`msgFoundList`).
    pub msgs: Vec<MessageExt>,
}

/// What one pull asks for.
#[derive(Debug, Clone)]
pub struct PullArgs<'a> {
    /// The queue.
    pub mq: &'a MessageQueue,
    /// The subscription (sent with the pull, and applied again to what comes back).
    pub sub: &'a SubscriptionData,
    /// The first offset wanted.
    pub offset: i64,
    /// At most this many messages.
    pub max_nums: i32,
    /// `pull_flag` bits (COMMIT_OFFSET is cleared when the pull goes to a slave).
    pub sys_flag: i32,
    /// The group's offset to store on the way.
    pub commit_offset: i64,
    /// How long the broker may hold the request, ms.
    pub suspend_ms: i64,
    /// The request's timeout (longer than `suspend_ms` for a held pull).
    pub timeout: Duration,
}

/// Pulls for one consumer group.
pub struct PullApiWrapper {
    instance: ClientInstance,
    group: String,
    /// Which broker id to pull each queue from next (`pullFromWhichNodeTable`).
    suggested: Mutex<HashMap<MessageQueue, i64>>,
}

impl PullApiWrapper {
    /// Pulls for `group` through `instance`, starting at the masters.
    pub fn new(instance: ClientInstance, group: impl Into<String>) -> Self {
        PullApiWrapper {
            instance,
            group: group.into(),
            suggested: Mutex::new(HashMap::new()),
        }
    }

    fn recalculate_pull_from_which_node(&self, mq: &MessageQueue) -> i64 {
        self.suggested.lock().get(mq).copied().unwrap_or(MASTER_ID)
    }

    async fn broker_for(&self, mq: &MessageQueue) -> Result<(String, bool)> {
        let id = self.recalculate_pull_from_which_node(mq);
        if let Some(found) = self
            .instance
            .find_broker_addr_in_subscribe(&mq.broker_name, id, false)
        {
            return Ok(found);
        }
        let _ = self.instance.update_topic_route(&mq.topic).await;
        self.instance
            .find_broker_addr_in_subscribe(&mq.broker_name, id, false)
            .ok_or_else(|| ClientError::BrokerNotFound(mq.broker_name.clone()))
    }

    /// Sends the pull and returns the raw reply (`pullKernelImpl`).
    pub async fn pull_kernel(&self, a: &PullArgs<'_>) -> Result<RawPullResult> {
        let (addr, is_slave) = self.broker_for(a.mq).await?;
        let mut sys_flag = a.sys_flag;
        if is_slave {
            // A slave must not store offsets.
            sys_flag &= !pull_flag::COMMIT_OFFSET;
        }
        let header = PullMessageRequestHeader {
            consumer_group: self.group.clone(),
            topic: a.mq.topic.clone(),
            queue_id: a.mq.queue_id,
            queue_offset: a.offset,
            max_msg_nums: a.max_nums,
            sys_flag,
            commit_offset: Some(a.commit_offset),
            suspend_timeout_millis: Some(a.suspend_ms),
            subscription: Some(a.sub.sub_string.clone()),
            sub_version: Some(a.sub.sub_version),
            expression_type: Some(a.sub.expression_type.clone()),
        };
        self.instance
            .api()
            .pull_message(&addr, &header, a.timeout)
            .await
    }

    /// Decodes and filters a reply (`processPullResult`).
    pub fn process_pull_result(
        &self,
        mq: &MessageQueue,
        raw: RawPullResult,
        sub: &SubscriptionData,
    ) -> Result<PullResult> {
        self.suggested
            .lock()
            .insert(mq.clone(), raw.suggest_which_broker_id);
        let mut msgs = Vec::new();
        if raw.status == PullStatus::Found {
            let decoded =
                decode_records(&raw.body).map_err(|e| ClientError::Decode(e.to_string()))?;
            for mut m in decoded {
                if !subscription::matches(sub, &m) {
                    continue;
                }
                m.put_property(keys::MIN_OFFSET, raw.min_offset.to_string());
                m.put_property(keys::MAX_OFFSET, raw.max_offset.to_string());
                msgs.push(m);
            }
        }
        Ok(PullResult {
            status: raw.status,
            next_begin_offset: raw.next_begin_offset,
            min_offset: raw.min_offset,
            max_offset: raw.max_offset,
            msgs,
        })
    }

    /// Pull, decode and filter.
    pub async fn pull(&self, a: &PullArgs<'_>) -> Result<PullResult> {
        let raw = self.pull_kernel(a).await?;
        self.process_pull_result(a.mq, raw, a.sub)
    }
}
