//! The one-message producer behind `mqadmin sendMessage`.
//!
//! It does what a 4.8.0 `DefaultMQProducer.send(msg)` does for a single message:
//! find the topic's route (or, for a topic nobody has created yet, the route of
//! `TBW102` so the broker auto-creates it), list the writable queues of every
//! master, pick one round-robin from a random start, stamp a unique id
//! (`UNIQ_KEY`) and send SEND_MESSAGE_V2; on a retryable failure it tries the next
//! queue, up to three attempts.
//! Book: Part II "Producing". Mirrors `DefaultMQProducerImpl.sendDefaultImpl`,
//! `MQClientInstance.topicRouteData2TopicPublishInfo` and
//! `MQClientAPIImpl.sendMessage` / `processSendResponse`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use rmq_remoting::codes::{request, response};
use rmq_remoting::protocol::{MessageQueue, TopicRouteData};
use rmq_remoting::RemotingCommand;

use crate::admin_client::{AdminClient, AdminError, Result, AUTO_CREATE_TOPIC_KEY};
use crate::format::java_hashmap_order;
use crate::message::{encode_properties, keys};
use crate::msgid::UniqIdGenerator;

/// `DefaultMQProducer.sendMsgTimeout`.
pub const SEND_TIMEOUT: Duration = Duration::from_millis(3000);
/// `DefaultMQProducer.defaultTopicQueueNums`.
pub const DEFAULT_TOPIC_QUEUE_NUMS: i32 = 4;
/// 1 + `retryTimesWhenSendFailed` (2).
const SEND_ATTEMPTS: usize = 3;

/// A message to send.
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    pub topic: String,
    pub tags: Option<String>,
    pub keys: Option<String>,
    pub body: Vec<u8>,
}

/// `SendStatus` plus the ids and queue, like 4.8.0's `SendResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResult {
    pub send_status: &'static str,
    /// The producer's unique id (what 4.8.0 prints as the msgId).
    pub msg_id: String,
    /// The broker's offset id.
    pub offset_msg_id: String,
    pub message_queue: MessageQueue,
    pub queue_offset: i64,
}

/// Response codes after which 4.8.0 tries another queue.
fn retryable(code: i32) -> bool {
    matches!(
        code,
        response::TOPIC_NOT_EXIST
            | response::SERVICE_NOT_AVAILABLE
            | response::SYSTEM_ERROR
            | response::NO_PERMISSION
            | response::NO_BUYER_ID
            | response::NOT_IN_CURRENT_UNIT
    )
}

/// Writable queues of every broker with a master, ordered by broker name.
pub fn publish_queues(topic: &str, route: &TopicRouteData) -> Vec<(MessageQueue, String)> {
    let mut qds = route.queue_datas.clone();
    qds.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
    let mut out = Vec::new();
    for qd in qds {
        if qd.perm & crate::format::PERM_WRITE == 0 {
            continue;
        }
        let master = route
            .broker_datas
            .iter()
            .find(|bd| bd.broker_name == qd.broker_name)
            .and_then(|bd| bd.master_addr());
        let Some(addr) = master else { continue };
        for q in 0..qd.write_queue_nums {
            out.push((
                MessageQueue {
                    broker_name: qd.broker_name.clone(),
                    queue_id: q,
                    topic: topic.to_string(),
                },
                addr.to_string(),
            ));
        }
    }
    out
}

/// The route to send with: the topic's own, or TBW102's with at most 4 queues per
/// broker when the topic does not exist yet.
async fn publish_route(admin: &AdminClient, topic: &str) -> Result<TopicRouteData> {
    match admin.examine_topic_route_info(topic).await {
        Ok(r) => Ok(r),
        Err(e) if e.code() == Some(response::TOPIC_NOT_EXIST) => {
            let mut r = admin
                .examine_topic_route_info(AUTO_CREATE_TOPIC_KEY)
                .await
                .map_err(|_| e)?;
            for qd in &mut r.queue_datas {
                let n = DEFAULT_TOPIC_QUEUE_NUMS.min(qd.read_queue_nums);
                qd.read_queue_nums = n;
                qd.write_queue_nums = n;
            }
            Ok(r)
        }
        Err(e) => Err(e),
    }
}

/// Sends one message. `target` pins the queue (`-b brokerName -i queueId`).
pub async fn send(
    admin: &AdminClient,
    producer_group: &str,
    msg: &OutgoingMessage,
    target: Option<(String, i32)>,
) -> Result<SendResult> {
    let route = publish_route(admin, &msg.topic).await?;
    let queues = publish_queues(&msg.topic, &route);
    let candidates: Vec<(MessageQueue, String)> = match target {
        Some((broker, qid)) => {
            let addr = route
                .broker_datas
                .iter()
                .find(|bd| bd.broker_name == broker)
                .and_then(|bd| bd.master_addr())
                .ok_or_else(|| AdminError::Client {
                    code: -1,
                    desc: format!("The broker[{broker}] not exist"),
                })?;
            vec![(
                MessageQueue {
                    broker_name: broker,
                    queue_id: qid,
                    topic: msg.topic.clone(),
                },
                addr.to_string(),
            )]
        }
        None => queues,
    };
    if candidates.is_empty() {
        return Err(AdminError::Client {
            code: -1,
            desc: format!("No route info of this topic: {}", msg.topic),
        });
    }
    let start = random_index(candidates.len());
    let attempts = if candidates.len() == 1 {
        1
    } else {
        SEND_ATTEMPTS
    };
    let mut last_err = None;
    let mut last_broker: Option<String> = None;
    for attempt in 0..attempts {
        // Prefer a broker other than the one that just failed.
        let mut pick = (start + attempt) % candidates.len();
        if let Some(bad) = &last_broker {
            for step in 0..candidates.len() {
                let i = (start + attempt + step) % candidates.len();
                if &candidates[i].0.broker_name != bad {
                    pick = i;
                    break;
                }
            }
        }
        let (mq, addr) = &candidates[pick];
        match send_to(admin, producer_group, msg, mq, addr).await {
            Ok(r) => return Ok(r),
            Err(e) => {
                let again = match e.code() {
                    Some(code) => retryable(code),
                    None => matches!(e, AdminError::Remoting(_)),
                };
                tracing::warn!(broker = %mq.broker_name, queue = mq.queue_id, error = %e, "send failed");
                last_broker = Some(mq.broker_name.clone());
                last_err = Some(e);
                if !again {
                    break;
                }
            }
        }
    }
    Err(last_err.unwrap_or(AdminError::Client {
        code: -1,
        desc: "send failed".into(),
    }))
}

async fn send_to(
    admin: &AdminClient,
    producer_group: &str,
    msg: &OutgoingMessage,
    mq: &MessageQueue,
    addr: &str,
) -> Result<SendResult> {
    // The unique id starts with the address the broker sees us from.
    let local_ip = admin
        .remoting()
        .connection(addr)
        .await
        .map(|c| c.local_addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let uniq_id = UniqIdGenerator::new(local_ip, random_salt()).next_id();
    let mut props: Vec<(String, String)> = Vec::new();
    if let Some(t) = msg.tags.as_deref().filter(|t| !t.is_empty()) {
        props.push((keys::TAGS.into(), t.into()));
    }
    if let Some(k) = msg.keys.as_deref().filter(|k| !k.is_empty()) {
        props.push((keys::KEYS.into(), k.into()));
    }
    props.push((keys::WAIT.into(), "true".into()));
    props.push((keys::UNIQ_KEY.into(), uniq_id.clone()));
    // The Java producer serializes its properties HashMap, so use its order.
    let properties = encode_properties(&java_hashmap_order(&props));
    let now = chrono::Utc::now().timestamp_millis();
    let cmd = RemotingCommand::new_request(request::SEND_MESSAGE_V2)
        .with_ext("a", producer_group)
        .with_ext("b", &msg.topic)
        .with_ext("c", AUTO_CREATE_TOPIC_KEY)
        .with_ext("d", DEFAULT_TOPIC_QUEUE_NUMS)
        .with_ext("e", mq.queue_id)
        .with_ext("f", 0)
        .with_ext("g", now)
        .with_ext("h", 0)
        .with_ext("i", properties)
        .with_ext("j", 0)
        .with_ext("k", false)
        .with_ext("m", false)
        .with_body(msg.body.clone());
    let resp = admin.invoke(addr, cmd, SEND_TIMEOUT).await?;
    let send_status = match resp.code {
        response::SUCCESS => "SEND_OK",
        response::FLUSH_DISK_TIMEOUT => "FLUSH_DISK_TIMEOUT",
        response::FLUSH_SLAVE_TIMEOUT => "FLUSH_SLAVE_TIMEOUT",
        response::SLAVE_NOT_AVAILABLE => "SLAVE_NOT_AVAILABLE",
        code => {
            return Err(AdminError::Server {
                code,
                remark: resp.remark.clone().unwrap_or_default(),
                addr: Some(addr.to_string()),
            })
        }
    };
    let queue_id = resp
        .ext_i32("queueId")
        .ok()
        .flatten()
        .unwrap_or(mq.queue_id);
    Ok(SendResult {
        send_status,
        msg_id: uniq_id,
        offset_msg_id: resp.ext("msgId").unwrap_or_default().to_string(),
        message_queue: MessageQueue {
            broker_name: mq.broker_name.clone(),
            queue_id,
            topic: mq.topic.clone(),
        },
        queue_offset: resp.ext_i64("queueOffset").ok().flatten().unwrap_or(-1),
    })
}

/// A cheap per-call random number (no rand dependency needed for picking a queue).
fn random_u64() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish()
}

fn random_index(n: usize) -> usize {
    (random_u64() % n.max(1) as u64) as usize
}

fn random_salt() -> i32 {
    random_u64() as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmq_remoting::protocol::{BrokerData, QueueData};

    fn route() -> TopicRouteData {
        let mut a = BrokerData::new("c", "broker-b");
        a.broker_addrs.insert(0, "127.0.0.1:20911".into());
        let mut b = BrokerData::new("c", "broker-a");
        b.broker_addrs.insert(0, "127.0.0.1:10911".into());
        let mut slave_only = BrokerData::new("c", "broker-c");
        slave_only.broker_addrs.insert(1, "127.0.0.1:30911".into());
        let qd = |name: &str, perm, n| QueueData {
            broker_name: name.into(),
            perm,
            read_queue_nums: n,
            topic_syn_flag: 0,
            write_queue_nums: n,
        };
        TopicRouteData {
            broker_datas: vec![a, b, slave_only],
            queue_datas: vec![
                qd("broker-b", 6, 2),
                qd("broker-a", 6, 1),
                qd("broker-c", 6, 4),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn publish_queues_skip_masterless_and_sort_by_broker() {
        let qs = publish_queues("T", &route());
        let names: Vec<(String, i32, String)> = qs
            .into_iter()
            .map(|(mq, addr)| (mq.broker_name, mq.queue_id, addr))
            .collect();
        assert_eq!(
            names,
            vec![
                ("broker-a".to_string(), 0, "127.0.0.1:10911".to_string()),
                ("broker-b".into(), 0, "127.0.0.1:20911".into()),
                ("broker-b".into(), 1, "127.0.0.1:20911".into()),
            ]
        );
        let mut read_only = route();
        for qd in &mut read_only.queue_datas {
            qd.perm = 4;
        }
        assert!(publish_queues("T", &read_only).is_empty());
    }

    #[test]
    fn retry_codes_match_4_8_0() {
        for c in [17, 14, 1, 16, 204, 205] {
            assert!(retryable(c), "{c}");
        }
        for c in [2, 13, 26] {
            assert!(!retryable(c), "{c}");
        }
    }
}
