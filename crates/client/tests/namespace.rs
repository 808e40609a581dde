//! Namespaces over real TCP: a producer, a push consumer and a lite pull consumer configured
//! with namespace `shop` use the short names (`Orders`, `cg`) while the broker sees
//! `shop%Orders`, `shop%cg` and the retry topic `%RETRY%shop%cg`.
//! Book: Part II "Clients and rebalancing" (namespaces).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use parking_lot::Mutex;
use rmq_client::api::MqClientApi;
use rmq_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, LitePullConsumer, LitePullConsumerConfig,
    MessageListener, PushConsumer, PushConsumerConfig,
};
use rmq_client::{Message, Producer, ProducerConfig};
use rmq_remoting::RemotingClient;

#[tokio::test(flavor = "multi_thread")]
async fn clients_in_a_namespace_use_short_names_and_the_broker_sees_wrapped_ones() {
    let c = Cluster::start().await;
    c.create_topic("shop%Orders", 2).await;

    let mut pc = ProducerConfig::new("pg", c.ns.clone());
    pc.client = c.client_config("ns-producer");
    pc.client.namespace = Some("shop".into());
    let producer = Producer::start(pc).await.unwrap();
    let r = producer.send(Message::new("Orders", "o-1")).await.unwrap();
    assert_eq!(r.message_queue.topic, "Orders");
    assert_eq!(producer.config().group, "shop%pg");
    // The consume queue is written just after the reply (the reput): wait for it.
    wait_until_async(
        Duration::from_secs(10),
        "the message in shop%Orders",
        || async {
            c.max_offset("shop%Orders", 0).await + c.max_offset("shop%Orders", 1).await == 1
        },
    )
    .await;

    // A push consumer of group cg in namespace shop: fails the first delivery once.
    let seen: Arc<Mutex<Vec<(String, i32)>>> = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let (seen2, calls2) = (seen.clone(), calls.clone());
    let mut cc = PushConsumerConfig::new("cg", c.ns.clone());
    cc.client = c.client_config("ns-push");
    cc.client.namespace = Some("shop".into());
    cc.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let consumer = PushConsumer::start(
        cc,
        &[("Orders", "*")],
        MessageListener::concurrently(move |msgs, _| {
            for m in msgs {
                seen2.lock().push((m.topic.clone(), m.reconsume_times));
            }
            if calls2.fetch_add(1, Ordering::SeqCst) == 0 {
                ConsumeConcurrentlyStatus::ReconsumeLater
            } else {
                ConsumeConcurrentlyStatus::ConsumeSuccess
            }
        }),
    )
    .await
    .unwrap();
    assert_eq!(consumer.group(), "shop%cg");
    wait_until(Duration::from_secs(30), "delivery and redelivery", || {
        seen.lock().len() >= 2
    })
    .await;
    let seen_now = seen.lock().clone();
    assert_eq!(seen_now[0], ("Orders".to_string(), 0));
    assert_eq!(seen_now[1], ("Orders".to_string(), 1));
    // The redelivery went through the namespaced retry topic.
    let api = MqClientApi::new(RemotingClient::new());
    let route = api
        .get_topic_route(&c.ns, "%RETRY%shop%cg", T)
        .await
        .unwrap();
    assert!(route.is_some(), "no route for %RETRY%shop%cg");
    api.remoting.shutdown();
    consumer.shutdown().await;

    // A lite pull consumer in the namespace, and a message sent with the full name by a
    // client without namespace: both are the same topic.
    let mut plain = ProducerConfig::new("plain_pg", c.ns.clone());
    plain.client = c.client_config("plain-producer");
    let plain = Producer::start(plain).await.unwrap();
    plain
        .send(Message::new("shop%Orders", "o-2"))
        .await
        .unwrap();
    let mut lc = LitePullConsumerConfig::new("lite_cg", c.ns.clone());
    lc.client = c.client_config("ns-lite");
    lc.client.namespace = Some("shop".into());
    lc.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let lite = LitePullConsumer::start(lc).await.unwrap();
    lite.subscribe("Orders", "*").await.unwrap();
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while got.len() < 2 {
        assert!(std::time::Instant::now() < deadline, "lite got {got:?}");
        for m in lite.poll_timeout(Duration::from_millis(500)).await.unwrap() {
            got.push((
                m.topic.clone(),
                String::from_utf8_lossy(&m.body).into_owned(),
            ));
        }
    }
    got.sort();
    assert_eq!(
        got,
        vec![
            ("Orders".to_string(), "o-1".to_string()),
            ("Orders".to_string(), "o-2".to_string())
        ]
    );
    assert!(lite.assignment().iter().all(|q| q.topic == "shop%Orders"));
    lite.shutdown().await;
    producer.shutdown().await;
    plain.shutdown().await;
}
