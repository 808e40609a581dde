//! Request-reply against the real mqnamesrv + mqbroker, with our client on both sides: a
//! request gets the reply its responder built, the reply is also stored in
//! `<cluster>_REPLY_TOPIC`, a reply nobody waits for is acknowledged and kept, a reply for
//! an absent requester is refused with 4.8.0's remark (and still stored), and a request
//! without a responder times out and leaves nothing behind.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{wait_until, Cluster, T};
use parking_lot::Mutex;
use rmq_client::api::send_command;
use rmq_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, MessageListener, PushConsumer, PushConsumerConfig,
};
use rmq_client::message::keys;
use rmq_client::{create_reply_message, ClientError, Message, Producer, ProducerConfig};
use rmq_common::message::{encode_properties, REPLY_MESSAGE_FLAG};
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::header::{SendMessageRequestHeader, SendMessageResponseHeader};
use rmq_remoting::{RemotingClient, RemotingCommand};

const REPLY_TOPIC: &str = "TestCluster_REPLY_TOPIC";

async fn producer(c: &Cluster, group: &str, name: &str) -> Producer {
    let mut cfg = ProducerConfig::new(group, c.ns.clone());
    cfg.client = c.client_config(name);
    Producer::start(cfg).await.unwrap()
}

/// A push consumer of `topic` that answers every request with "pong:<request body>"
/// through `replier`, and counts the requests it saw.
async fn responder(c: &Cluster, topic: &str, replier: Producer) -> (PushConsumer, Arc<Mutex<u32>>) {
    let seen = Arc::new(Mutex::new(0u32));
    let counter = seen.clone();
    let mut cfg = PushConsumerConfig::new("CG_RESPONDER", c.ns.clone());
    cfg.client = c.client_config("responder");
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cfg.client.rebalance_interval = Duration::from_secs(2);
    let listener = MessageListener::concurrently(move |msgs, _| {
        for m in msgs {
            *counter.lock() += 1;
            let body = format!("pong:{}", String::from_utf8_lossy(&m.body));
            let reply = create_reply_message(m, body).expect("requests carry CLUSTER");
            // Listeners run on the blocking pool, so waiting for the send here is fine.
            let sent = tokio::runtime::Handle::current().block_on(replier.send(reply));
            if sent.is_err() {
                return ConsumeConcurrentlyStatus::ReconsumeLater;
            }
        }
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    let pc = PushConsumer::start(cfg, &[(topic, "*")], listener)
        .await
        .unwrap();
    wait_until(T, "responder owning the request queues", || {
        pc.assigned_queues().iter().any(|q| q.topic == topic)
    })
    .await;
    (pc, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn request_gets_the_reply_its_responder_built() {
    let c = Cluster::start().await;
    c.create_topic("RpcTopic", 2).await;
    let requester = producer(&c, "PG_REQUESTER", "requester").await;
    let replier = producer(&c, "PG_REPLIER", "replier").await;
    let (responder, seen) = responder(&c, "RpcTopic", replier.clone()).await;
    let stored_before = c.max_offset(REPLY_TOPIC, 0).await;

    for i in 0..5 {
        let began = Instant::now();
        let reply = requester
            .request(Message::new("RpcTopic", format!("ping-{i}")), T)
            .await
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert!(began.elapsed() < T);
        assert_eq!(&reply.body[..], format!("pong:ping-{i}").as_bytes());
        assert_eq!(reply.topic, REPLY_TOPIC);
        assert_eq!(reply.property(keys::MSG_TYPE), Some("reply"));
        assert_eq!(
            reply.property(keys::REPLY_TO_CLIENT),
            Some(requester.client_id())
        );
        assert_eq!(reply.property(keys::TTL), Some("10000"));
        assert_eq!(reply.property(keys::CORRELATION_ID).map(str::len), Some(36));
        assert!(reply.property(keys::PUSH_REPLY_TIME).is_some());
        assert!(reply.property(keys::ARRIVE_TIME).is_some());
    }
    assert_eq!(*seen.lock(), 5, "one request message per request");
    assert!(requester.instance().request_futures().is_empty());

    // The asynchronous form calls back with the reply.
    let got = Arc::new(Mutex::new(None));
    let slot = got.clone();
    requester.request_async(Message::new("RpcTopic", "ping-async"), T, move |r| {
        *slot.lock() = Some(r.map(|m| m.body));
    });
    wait_until(T, "the async request's callback", || got.lock().is_some()).await;
    let body = got.lock().take().unwrap().unwrap();
    assert_eq!(&body[..], b"pong:ping-async");

    // storeReplyMessageEnable (default true): every reply is also in the reply topic.
    wait_stored(&c, stored_before + 6).await;

    responder.shutdown().await;
    replier.shutdown().await;
    requester.shutdown().await;
}

/// Waits until the reply topic's queue holds exactly `n` messages (the consume queue is
/// written a moment after the append).
async fn wait_stored(c: &Cluster, n: i64) {
    let deadline = Instant::now() + T;
    loop {
        let max = c.max_offset(REPLY_TOPIC, 0).await;
        if max == n {
            return;
        }
        assert!(max < n, "more replies stored than sent: {max} > {n}");
        assert!(Instant::now() < deadline, "{max} replies stored, want {n}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The send header of the replies this test sends by hand.
fn raw_reply_header() -> SendMessageRequestHeader {
    SendMessageRequestHeader {
        producer_group: Some("PG_RAW".into()),
        topic: REPLY_TOPIC.into(),
        default_topic: Some("TBW102".into()),
        default_topic_queue_nums: Some(4),
        queue_id: -1,
        sys_flag: Some(0),
        born_timestamp: Some(1),
        flag: Some(0),
        ..Default::default()
    }
}

/// A SEND_REPLY_MESSAGE_V2 sent once, with the given properties.
async fn send_reply_once(c: &Cluster, props: &[(&str, &str)]) -> rmq_remoting::RemotingCommand {
    let mut all: Vec<(String, String)> = props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    all.push((keys::MSG_TYPE.into(), REPLY_MESSAGE_FLAG.into()));
    let header = SendMessageRequestHeader {
        queue_id: 0,
        properties: Some(encode_properties(&all)),
        reconsume_times: Some(0),
        ..raw_reply_header()
    };
    let cmd = send_command(&header, Bytes::from_static(b"stray reply"));
    assert_eq!(
        cmd.code,
        rmq_remoting::codes::request::SEND_REPLY_MESSAGE_V2
    );
    let client = RemotingClient::new();
    let r = client.invoke(&c.broker, cmd, T).await.unwrap();
    client.shutdown();
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stray_replies_are_answered_like_4_8_0_and_kept() {
    let c = Cluster::start().await;
    c.create_topic("StrayTopic", 1).await;
    let requester = producer(&c, "PG_REQUESTER", "requester").await;
    // One request (it times out: nobody answers) registers the requester with the broker.
    let r = requester
        .request(
            Message::new("StrayTopic", "nobody listens"),
            Duration::from_millis(500),
        )
        .await;
    assert!(
        matches!(r, Err(ClientError::RequestTimeout { .. })),
        "{r:?}"
    );
    let before = c.max_offset(REPLY_TOPIC, 0).await;

    // Unknown correlation id, known requester: pushed, acknowledged, stored; no waiter woken.
    let r = send_reply_once(
        &c,
        &[
            (keys::CORRELATION_ID, "no-such-request"),
            (keys::REPLY_TO_CLIENT, requester.client_id()),
        ],
    )
    .await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let stored: SendMessageResponseHeader = r.decode_header().unwrap();
    assert_eq!(stored.queue_id, 0);
    assert_eq!(stored.queue_offset, before);
    assert_eq!(stored.msg_id.len(), 32, "the stored message's id");
    assert!(requester.instance().request_futures().is_empty());

    // A requester the broker does not know: 4.8.0's code and remark, and the reply is kept.
    let r = send_reply_once(
        &c,
        &[
            (keys::CORRELATION_ID, "x"),
            (keys::REPLY_TO_CLIENT, "10.9.9.9@gone"),
        ],
    )
    .await;
    assert_eq!(r.code, rs::SYSTEM_ERROR);
    assert_eq!(
        r.remark.as_deref(),
        Some("push reply message fail, channel of <10.9.9.9@gone> not found.")
    );
    // No REPLY_TO_CLIENT at all.
    let r = send_reply_once(&c, &[(keys::CORRELATION_ID, "y")]).await;
    assert_eq!(r.code, rs::SYSTEM_ERROR);
    assert_eq!(
        r.remark.as_deref(),
        Some("reply message properties[REPLY_TO_CLIENT] is null")
    );
    // SEND_REPLY_MESSAGE (324) with the long header names of the V1 header.
    let props = [
        (keys::CORRELATION_ID, "z"),
        (keys::REPLY_TO_CLIENT, requester.client_id()),
        (keys::MSG_TYPE, REPLY_MESSAGE_FLAG),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let v1 = RemotingCommand::new_request(rq::SEND_REPLY_MESSAGE)
        .with_header(&SendMessageRequestHeader {
            properties: Some(encode_properties(&props)),
            ..raw_reply_header()
        })
        .with_body(Bytes::from_static(b"v1 reply"));
    let client = RemotingClient::new();
    let r = client.invoke(&c.broker, v1, T).await.unwrap();
    client.shutdown();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    wait_stored(&c, before + 4).await;
    // The broker still serves requests.
    assert!(requester
        .send(Message::new("StrayTopic", "still alive"))
        .await
        .is_ok());
    requester.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_without_responder_times_out() {
    let c = Cluster::start().await;
    c.create_topic("LonelyTopic", 2).await;
    let requester = producer(&c, "PG_REQUESTER", "requester").await;
    let timeout = Duration::from_millis(1500);
    let began = Instant::now();
    let err = requester
        .request(Message::new("LonelyTopic", "anyone?"), timeout)
        .await
        .unwrap_err();
    let waited = began.elapsed();
    assert!(waited >= timeout, "gave up after {waited:?}");
    assert!(
        waited < timeout + Duration::from_secs(2),
        "waited {waited:?}"
    );
    assert_eq!(
        err.to_string(),
        "send request message to <LonelyTopic> OK, but wait reply message timeout, 1500 ms."
    );
    assert!(requester.instance().request_futures().is_empty());
    // The request itself was stored like any message, with the request properties.
    assert_eq!(
        c.max_offset("LonelyTopic", 0).await + c.max_offset("LonelyTopic", 1).await,
        1
    );
    requester.shutdown().await;
}
