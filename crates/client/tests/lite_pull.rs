//! The lite pull consumer over real TCP against the real `mqbroker`: assign, poll, seek,
//! seek to begin/end, pause/resume and commit on one queue; two consumers of one group
//! sharing a topic by rebalance; committed offsets surviving a consumer restart.
//! Book: Part II "Consuming" (section "The lite pull consumer").

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use rmq_client::consumer::{ConsumeFromWhere, LitePullConsumer, LitePullConsumerConfig};
use rmq_client::{Message, MessageExt, MessageQueue, Producer, ProducerConfig};

fn config(c: &Cluster, group: &str, instance: &str) -> LitePullConsumerConfig {
    let mut cfg = LitePullConsumerConfig::new(group, c.ns.clone());
    cfg.client = c.client_config(instance);
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cfg
}

async fn producer(c: &Cluster, group: &str) -> Producer {
    let mut pc = ProducerConfig::new(group, c.ns.clone());
    pc.client = c.client_config(group);
    Producer::start(pc).await.unwrap()
}

fn queue(topic: &str, id: i32) -> MessageQueue {
    MessageQueue {
        topic: topic.into(),
        broker_name: "broker-a".into(),
        queue_id: id,
    }
}

/// Polls until `n` messages came (or fails after 20 s).
async fn poll_n(c: &LitePullConsumer, n: usize) -> Vec<MessageExt> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut out = Vec::new();
    while out.len() < n {
        assert!(
            Instant::now() < deadline,
            "only {} of {n} messages",
            out.len()
        );
        out.extend(c.poll_timeout(Duration::from_millis(500)).await.unwrap());
    }
    out
}

fn offsets(msgs: &[MessageExt]) -> Vec<i64> {
    msgs.iter().map(|m| m.queue_offset).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn assign_poll_seek_pause_and_commit() {
    let c = Cluster::start().await;
    c.create_topic("LiteAssign", 2).await;
    let p = producer(&c, "lite_pg").await;
    let q0 = queue("LiteAssign", 0);
    for i in 0..10 {
        p.send_to_queue(Message::new("LiteAssign", format!("m{i}")), &q0)
            .await
            .unwrap();
    }
    p.send_to_queue(
        Message::new("LiteAssign", "other queue"),
        &queue("LiteAssign", 1),
    )
    .await
    .unwrap();

    let mut cfg = config(&c, "lite_assign_cg", "lite-assign");
    cfg.auto_commit = false;
    let consumer = LitePullConsumer::start(cfg).await.unwrap();
    consumer.assign(std::slice::from_ref(&q0)).await.unwrap();
    assert_eq!(consumer.assignment(), vec![q0.clone()]);
    let got = poll_n(&consumer, 10).await;
    assert_eq!(offsets(&got), (0..10).collect::<Vec<_>>());
    assert_eq!(&got[3].body[..], b"m3");
    // Nothing committed yet (a 4.8.0 broker answers 0 for a group without an offset on a
    // queue that starts at 0); commit_sync stores one past the last polled message.
    assert_eq!(consumer.committed(&q0).await, 0);
    consumer.commit_sync().await;
    assert_eq!(consumer.committed(&q0).await, 10);

    consumer.seek(&q0, 3).await.unwrap();
    assert_eq!(
        offsets(&poll_n(&consumer, 7).await),
        (3..10).collect::<Vec<_>>()
    );
    consumer.seek_to_begin(&q0).await.unwrap();
    assert_eq!(poll_n(&consumer, 10).await[0].queue_offset, 0);
    let err = consumer.seek(&q0, 100).await.unwrap_err();
    assert!(err.to_string().contains("Seek offset illegal"), "{err}");
    let err = consumer.seek(&queue("LiteAssign", 1), 0).await.unwrap_err();
    assert!(err.to_string().contains("not in assigned list"), "{err}");

    consumer.seek_to_end(&q0).await.unwrap();
    assert!(consumer
        .poll_timeout(Duration::from_millis(800))
        .await
        .unwrap()
        .is_empty());
    consumer.pause(std::slice::from_ref(&q0));
    // Let the pull in flight (held by the broker) come back before sending.
    tokio::time::sleep(Duration::from_millis(300)).await;
    p.send_to_queue(Message::new("LiteAssign", "after pause"), &q0)
        .await
        .unwrap();
    let paused_batch = consumer
        .poll_timeout(Duration::from_millis(1500))
        .await
        .unwrap();
    consumer.resume(std::slice::from_ref(&q0));
    let mut late = paused_batch;
    if late.is_empty() {
        late = poll_n(&consumer, 1).await;
    }
    assert_eq!(&late[0].body[..], b"after pause");
    assert_eq!(late[0].queue_offset, 10);
    consumer.commit_sync().await;
    assert_eq!(consumer.committed(&q0).await, 11);

    let err = consumer.subscribe("LiteAssign", "*").await.unwrap_err();
    assert!(err.to_string().contains("mutually exclusive"), "{err}");
    consumer.shutdown().await;
    assert!(consumer.poll().await.is_err());
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_subscribers_share_the_queues_and_every_message() {
    let c = Cluster::start().await;
    c.create_topic("LiteShare", 4).await;
    let a = LitePullConsumer::start(config(&c, "lite_share_cg", "lite-a"))
        .await
        .unwrap();
    a.subscribe("LiteShare", "*").await.unwrap();
    wait_until(Duration::from_secs(20), "a owns all 4 queues", || {
        a.assignment().len() == 4
    })
    .await;
    let b = LitePullConsumer::start(config(&c, "lite_share_cg", "lite-b"))
        .await
        .unwrap();
    b.subscribe("LiteShare", "*").await.unwrap();
    wait_until(Duration::from_secs(30), "a and b own 2 queues each", || {
        a.assignment().len() == 2 && b.assignment().len() == 2
    })
    .await;
    let (qa, qb): (BTreeSet<_>, BTreeSet<_>) = (
        a.assignment().into_iter().collect(),
        b.assignment().into_iter().collect(),
    );
    assert!(qa.is_disjoint(&qb));
    assert_eq!(qa.union(&qb).count(), 4);

    let p = producer(&c, "lite_share_pg").await;
    for i in 0..40 {
        p.send(Message::new("LiteShare", format!("s{i}")))
            .await
            .unwrap();
    }
    let (mut from_a, mut from_b) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(30);
    while from_a.len() + from_b.len() < 40 {
        assert!(
            Instant::now() < deadline,
            "{} + {} of 40",
            from_a.len(),
            from_b.len()
        );
        from_a.extend(a.poll_timeout(Duration::from_millis(200)).await.unwrap());
        from_b.extend(b.poll_timeout(Duration::from_millis(200)).await.unwrap());
    }
    assert!(from_a
        .iter()
        .all(|m| qa.iter().any(|q| q.queue_id == m.queue_id)));
    assert!(from_b
        .iter()
        .all(|m| qb.iter().any(|q| q.queue_id == m.queue_id)));
    let bodies: BTreeSet<String> = from_a
        .iter()
        .chain(&from_b)
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect();
    assert_eq!(bodies.len(), 40);

    // b leaves: a takes every queue again.
    b.shutdown().await;
    wait_until(Duration::from_secs(30), "a owns all 4 queues again", || {
        a.assignment().len() == 4
    })
    .await;
    a.shutdown().await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_committed_offsets_survive_a_consumer_restart() {
    let c = Cluster::start().await;
    c.create_topic("LiteRestart", 2).await;
    let p = producer(&c, "lite_restart_pg").await;
    for i in 0..20 {
        p.send(Message::new("LiteRestart", format!("first-{i}")))
            .await
            .unwrap();
    }
    let mut cfg = config(&c, "lite_restart_cg", "lite-r1");
    cfg.auto_commit_interval = Duration::from_millis(100);
    let first = LitePullConsumer::start(cfg).await.unwrap();
    first.subscribe("LiteRestart", "*").await.unwrap();
    let got = poll_n(&first, 20).await;
    assert_eq!(got.len(), 20);
    // Shutdown commits what poll handed out.
    first.shutdown().await;

    for i in 0..5 {
        p.send(Message::new("LiteRestart", format!("second-{i}")))
            .await
            .unwrap();
    }
    // From the first offset if nothing were stored: the stored offsets must win.
    let second = LitePullConsumer::start(config(&c, "lite_restart_cg", "lite-r2"))
        .await
        .unwrap();
    second.subscribe("LiteRestart", "*").await.unwrap();
    let got = poll_n(&second, 5).await;
    let extra = second
        .poll_timeout(Duration::from_millis(1000))
        .await
        .unwrap();
    let bodies: BTreeSet<String> = got
        .iter()
        .chain(&extra)
        .map(|m| String::from_utf8_lossy(&m.body).into_owned())
        .collect();
    assert_eq!(
        bodies,
        (0..5)
            .map(|i| format!("second-{i}"))
            .collect::<BTreeSet<_>>()
    );
    second.shutdown().await;
    p.shutdown().await;
}
