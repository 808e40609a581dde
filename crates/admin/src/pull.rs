//! The pull consumer behind `mqadmin consumeMessage`: list a topic's readable
//! queues and pull a queue from an offset, without heartbeats or offset commits.
//!
//! A pull names its subscription in the request (the FLAG_SUBSCRIPTION sysFlag bit,
//! expression `*`), so the broker needs no earlier heartbeat from this group; it
//! does not ask the broker to hold the request (no FLAG_SUSPEND) and commits no
//! offset, exactly like `DefaultMQPullConsumer.pull(mq, "*", offset, n)`.
//! Book: Part II "Consuming". Mirrors `DefaultMQPullConsumerImpl.pullSyncImpl`,
//! `PullAPIWrapper` and `MQClientAPIImpl.processPullResponse`.

use std::time::Duration;

use rmq_remoting::codes::{request, response};
use rmq_remoting::protocol::{MessageQueue, TopicRouteData};
use rmq_remoting::{RemotingCommand, RemotingError};

use crate::admin_client::{AdminClient, AdminError, Result};
use crate::format::PERM_READ;
use crate::message::{self, keys, MessageExt};

/// `MixAll.TOOLS_CONSUMER_GROUP`.
pub const TOOLS_CONSUMER_GROUP: &str = "TOOLS_CONSUMER";
/// `DefaultMQPullConsumer.consumerPullTimeoutMillis`.
pub const PULL_TIMEOUT: Duration = Duration::from_millis(10_000);
/// `DefaultMQPullConsumer.brokerSuspendMaxTimeMillis`.
const BROKER_SUSPEND_MAX_MS: i64 = 20_000;
/// PullSysFlag FLAG_SUBSCRIPTION.
const FLAG_SUBSCRIPTION: i32 = 0x1 << 2;

/// `PullStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullStatus {
    Found,
    NoNewMsg,
    NoMatchedMsg,
    OffsetIllegal,
}

impl PullStatus {
    pub fn name(self) -> &'static str {
        match self {
            PullStatus::Found => "FOUND",
            PullStatus::NoNewMsg => "NO_NEW_MSG",
            PullStatus::NoMatchedMsg => "NO_MATCHED_MSG",
            PullStatus::OffsetIllegal => "OFFSET_ILLEGAL",
        }
    }
}

/// One pull's outcome.
#[derive(Debug, Clone)]
pub struct PullResult {
    pub status: PullStatus,
    pub next_begin_offset: i64,
    pub min_offset: i64,
    pub max_offset: i64,
    pub messages: Vec<MessageExt>,
}

/// Readable queues of a topic (`fetchSubscribeMessageQueues`), sorted, each with
/// the broker address to pull from (the master when there is one).
pub fn subscribe_queues(topic: &str, route: &TopicRouteData) -> Vec<(MessageQueue, String)> {
    let addrs = AdminClient::broker_addr_by_name(route);
    let mut out = Vec::new();
    for qd in &route.queue_datas {
        if qd.perm & PERM_READ == 0 {
            continue;
        }
        let Some(addr) = addrs.get(&qd.broker_name) else {
            continue;
        };
        for q in 0..qd.read_queue_nums {
            out.push((
                MessageQueue {
                    broker_name: qd.broker_name.clone(),
                    queue_id: q,
                    topic: topic.to_string(),
                },
                addr.clone(),
            ));
        }
    }
    out.sort();
    out
}

/// Pulls up to `max_nums` messages of `mq` from `offset` at `addr`.
pub async fn pull(
    admin: &AdminClient,
    addr: &str,
    group: &str,
    mq: &MessageQueue,
    offset: i64,
    max_nums: i32,
) -> Result<PullResult> {
    let cmd = RemotingCommand::new_request(request::PULL_MESSAGE)
        .with_ext("consumerGroup", group)
        .with_ext("topic", &mq.topic)
        .with_ext("queueId", mq.queue_id)
        .with_ext("queueOffset", offset)
        .with_ext("maxMsgNums", max_nums)
        .with_ext("sysFlag", FLAG_SUBSCRIPTION)
        .with_ext("commitOffset", 0)
        .with_ext("suspendTimeoutMillis", BROKER_SUSPEND_MAX_MS)
        .with_ext("subscription", "*")
        .with_ext("subVersion", 0)
        .with_ext("expressionType", "TAG");
    let resp = admin.invoke(addr, cmd, PULL_TIMEOUT).await?;
    let status = match resp.code {
        response::SUCCESS => PullStatus::Found,
        response::PULL_NOT_FOUND => PullStatus::NoNewMsg,
        response::PULL_RETRY_IMMEDIATELY => PullStatus::NoMatchedMsg,
        response::PULL_OFFSET_MOVED => PullStatus::OffsetIllegal,
        code => {
            return Err(AdminError::Server {
                code,
                remark: resp.remark.clone().unwrap_or_default(),
                addr: Some(addr.to_string()),
            })
        }
    };
    // 4.8.0 brokers always send all three; a missing one reads as "no progress"
    // so a lenient peer cannot make consumeMessage loop.
    let header = |field: &'static str, default: i64| -> Result<i64> {
        Ok(resp
            .ext_i64(field)
            .map_err(RemotingError::from)?
            .unwrap_or(default))
    };
    let next_begin_offset = header("nextBeginOffset", offset)?;
    let min_offset = header("minOffset", 0)?;
    let max_offset = header("maxOffset", 0)?;
    let mut messages = Vec::new();
    if status == PullStatus::Found {
        messages =
            message::decode_records(resp.body_bytes()).map_err(|source| AdminError::Record {
                addr: addr.to_string(),
                source,
            })?;
        // The Java client adds these two client-side properties to every message.
        for m in &mut messages {
            m.put_property(keys::MIN_OFFSET, min_offset.to_string());
            m.put_property(keys::MAX_OFFSET, max_offset.to_string());
        }
    }
    Ok(PullResult {
        status,
        next_begin_offset,
        min_offset,
        max_offset,
        messages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_remoting::protocol::{BrokerData, QueueData};

    #[test]
    fn subscribe_queues_are_readable_and_sorted() {
        let mut a = BrokerData::new("c", "broker-a");
        a.broker_addrs.insert(1, "127.0.0.1:10921".into());
        let mut b = BrokerData::new("c", "broker-b");
        b.broker_addrs.insert(0, "127.0.0.1:20911".into());
        let route = TopicRouteData {
            broker_datas: vec![b, a],
            queue_datas: vec![
                QueueData {
                    broker_name: "broker-b".into(),
                    perm: 2,
                    read_queue_nums: 2,
                    topic_syn_flag: 0,
                    write_queue_nums: 2,
                },
                QueueData {
                    broker_name: "broker-a".into(),
                    perm: 6,
                    read_queue_nums: 2,
                    topic_syn_flag: 0,
                    write_queue_nums: 2,
                },
            ],
            ..Default::default()
        };
        let qs = subscribe_queues("T", &route);
        // broker-b is write-only; broker-a has only a slave, which still serves reads.
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[0].0.queue_id, 0);
        assert_eq!(qs[1].1, "127.0.0.1:10921");
    }
}
