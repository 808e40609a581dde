//! Message trace over real TCP: a traced producer and a traced push consumer against the real
//! `mqbroker`; the trace topic (auto-created through TBW102) then holds, for each message, a
//! Pub line and SubBefore/SubAfter pairs with the fields 4.8.0's hooks write. A failed
//! listener call shows as SubAfter `false` with context code 4 (FAILED), and the redelivery
//! as a second pair. Book: Part II "Consuming" (section "Message trace").

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rmq_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, MessageListener, PullConsumer, PushConsumer,
    PushConsumerConfig,
};
use rmq_client::trace::{decode, MessageType, TraceContext, TraceType, RMQ_SYS_TRACE_TOPIC};
use rmq_client::{Message, Producer, ProducerConfig};

/// Every trace line in every queue of `topic`.
async fn trace_lines(pc: &PullConsumer, topic: &str) -> Vec<TraceContext> {
    let mut out = Vec::new();
    for body in pull_bodies(pc, topic).await {
        out.extend(decode(&body).unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn traced_producer_and_consumer_write_4_8_0_trace_lines() {
    let c = Cluster::start().await;
    c.create_topic("TraceMe", 2).await;

    let mut pc = ProducerConfig::new("trace_pg", c.ns.clone());
    pc.client = c.client_config("trace-producer");
    pc.enable_msg_trace = true;
    let producer = Producer::start(pc).await.unwrap();
    let tagged = producer
        .send(
            Message::new("TraceMe", "tagged")
                .with_tags("TagA")
                .with_keys("order-1 order-2"),
        )
        .await
        .unwrap();
    let plain = producer
        .send(Message::new("TraceMe", "fail-once"))
        .await
        .unwrap();
    let delayed = producer
        .send(Message::new("TraceMe", "delayed").with_delay_level(1))
        .await
        .unwrap();

    let failed_once = Arc::new(AtomicBool::new(false));
    let flag = failed_once.clone();
    let mut cc = PushConsumerConfig::new("trace_cg", c.ns.clone());
    cc.client = c.client_config("trace-consumer");
    cc.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cc.enable_msg_trace = true;
    let consumer = PushConsumer::start(
        cc,
        &[("TraceMe", "*")],
        MessageListener::concurrently(move |msgs, _| {
            if msgs.iter().any(|m| &m.body[..] == b"fail-once")
                && !flag.swap(true, Ordering::SeqCst)
            {
                return ConsumeConcurrentlyStatus::ReconsumeLater;
            }
            ConsumeConcurrentlyStatus::ConsumeSuccess
        }),
    )
    .await
    .unwrap();

    let reader = PullConsumer::start("trace_reader", c.client_config("trace-reader"))
        .await
        .unwrap();
    let ids = [&tagged.msg_id, &plain.msg_id, &delayed.msg_id];
    // 3 Pub, 4 SubBefore/SubAfter pairs (fail-once is consumed twice).
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    let lines = loop {
        let lines = trace_lines(&reader, RMQ_SYS_TRACE_TOPIC).await;
        let count = |t: TraceType| lines.iter().filter(|l| l.trace_type == t).count();
        if count(TraceType::Pub) == 3 && count(TraceType::SubAfter) == 4 {
            break lines;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "trace lines so far: {lines:#?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };

    let pubs: BTreeMap<&str, &TraceContext> = lines
        .iter()
        .filter(|l| l.trace_type == TraceType::Pub)
        .map(|l| (l.beans[0].msg_id.as_str(), l))
        .collect();
    for id in ids {
        let p = pubs
            .get(id.as_str())
            .unwrap_or_else(|| panic!("no Pub line for {id}"));
        assert_eq!(p.group_name, "trace_pg");
        assert_eq!(p.region_id.as_deref(), Some("DefaultRegion"));
        assert!(p.success);
        let b = &p.beans[0];
        assert_eq!(b.topic, "TraceMe");
        assert_eq!(b.store_host, c.broker);
        assert_eq!(b.client_host, producer.client_id());
        assert!(!b.offset_msg_id.is_empty());
    }
    let t = &pubs[tagged.msg_id.as_str()].beans[0];
    assert_eq!(
        (t.tags.as_deref(), t.keys.as_deref()),
        (Some("TagA"), Some("order-1 order-2"))
    );
    assert_eq!(t.body_length, 6);
    assert_eq!(t.msg_type, MessageType::Normal);
    let p = &pubs[plain.msg_id.as_str()].beans[0];
    // 4.8.0 writes a Java null as "null".
    assert_eq!(
        (p.tags.as_deref(), p.keys.as_deref()),
        (Some("null"), Some("null"))
    );
    assert_eq!(
        pubs[delayed.msg_id.as_str()].beans[0].msg_type,
        MessageType::Delay
    );

    // Each SubAfter closes a SubBefore with the same request id and message.
    for after in lines.iter().filter(|l| l.trace_type == TraceType::SubAfter) {
        let before = lines
            .iter()
            .find(|l| l.trace_type == TraceType::SubBefore && l.request_id == after.request_id)
            .unwrap_or_else(|| panic!("SubAfter {} without SubBefore", after.request_id));
        assert_eq!(before.beans[0].msg_id, after.beans[0].msg_id);
        assert_eq!(
            (before.group_name.as_str(), after.group_name.as_str()),
            ("trace_cg", "trace_cg")
        );
        assert_eq!(before.beans[0].client_host, consumer.client_id());
        assert!(ids.iter().any(|id| **id == after.beans[0].msg_id));
    }
    let verdicts: Vec<(bool, i32, i32)> = lines
        .iter()
        .filter(|l| l.trace_type == TraceType::SubAfter && l.beans[0].msg_id == plain.msg_id)
        .map(|l| {
            let retry = lines
                .iter()
                .find(|b| b.trace_type == TraceType::SubBefore && b.request_id == l.request_id)
                .map_or(-1, |b| b.beans[0].retry_times);
            (l.success, l.context_code, retry)
        })
        .collect();
    assert!(verdicts.contains(&(false, 4, 0)), "{verdicts:?}");
    assert!(verdicts.contains(&(true, 0, 1)), "{verdicts:?}");
    // The trace producer does not trace its own sends.
    assert!(lines
        .iter()
        .all(|l| l.beans[0].topic != RMQ_SYS_TRACE_TOPIC));

    consumer.shutdown().await;
    producer.shutdown().await;
    reader.shutdown().await;
}
