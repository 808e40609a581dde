//! Push consumers against the real mqnamesrv + mqbroker: clustering splits the
//! queues and delivers each message once per group, broadcasting delivers
//! everything to everyone, failures travel through %RETRY%<group>, orderly
//! consumption keeps queue order, offsets survive a restart, and a pulled batch
//! is consumed in slices of consume_message_batch_max_size with their ack_index.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use common::{wait_until, Cluster};
use parking_lot::Mutex;
use rmq_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, ConsumeOrderlyStatus, MessageListener,
    MessageModel, PushConsumer, PushConsumerConfig,
};
use rmq_client::message::keys;
use rmq_client::{Message, Producer, ProducerConfig};

const LONG: Duration = Duration::from_secs(60);

async fn producer(c: &Cluster) -> Producer {
    let mut cfg = ProducerConfig::new("PG_PUSH", c.ns.clone());
    cfg.client = c.client_config("producer");
    Producer::start(cfg).await.unwrap()
}

fn config(c: &Cluster, group: &str, instance: &str) -> PushConsumerConfig {
    let mut cfg = PushConsumerConfig::new(group, c.ns.clone());
    cfg.client = c.client_config(instance);
    cfg.client.persist_consumer_offset_interval = Duration::from_millis(500);
    cfg.client.rebalance_interval = Duration::from_secs(2);
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cfg.offset_store_dir = Some(c.dir.path().join("offsets"));
    cfg
}

type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A listener that records (consumer, body) and succeeds.
fn recording(who: &str, seen: &Seen) -> MessageListener {
    let (who, seen) = (who.to_string(), seen.clone());
    MessageListener::concurrently(move |msgs, _| {
        for m in msgs {
            seen.lock()
                .push((who.clone(), String::from_utf8_lossy(&m.body).into_owned()));
        }
        ConsumeConcurrentlyStatus::ConsumeSuccess
    })
}

fn topic_queues(c: &PushConsumer, topic: &str) -> BTreeSet<i32> {
    c.assigned_queues()
        .into_iter()
        .filter(|m| m.topic == topic)
        .map(|m| m.queue_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clustering_splits_queues_and_delivers_once() {
    let c = Cluster::start().await;
    c.create_topic("Clu", 4).await;
    let seen: Seen = Arc::default();
    // Periodic rebalancing is slowed down so that only the broker's
    // NOTIFY_CONSUMER_IDS_CHANGED can explain a quick change of ownership.
    let slow = |name: &str| {
        let mut cfg = config(&c, "CG_CLU", name);
        cfg.client.rebalance_interval = Duration::from_secs(600);
        cfg
    };
    let c1 = PushConsumer::start(slow("c1"), &[("Clu", "*")], recording("c1", &seen))
        .await
        .unwrap();
    wait_until(LONG, "c1 owning all four queues", || {
        topic_queues(&c1, "Clu").len() == 4
    })
    .await;
    let c2 = PushConsumer::start(slow("c2"), &[("Clu", "*")], recording("c2", &seen))
        .await
        .unwrap();
    wait_until(LONG, "two consumers splitting four queues", || {
        let (a, b) = (topic_queues(&c1, "Clu"), topic_queues(&c2, "Clu"));
        a.len() == 2 && b.len() == 2 && a.is_disjoint(&b)
    })
    .await;

    let p = producer(&c).await;
    let n = 40;
    for i in 0..n {
        p.send(Message::new("Clu", format!("m{i}"))).await.unwrap();
    }
    wait_until(LONG, "all messages", || seen.lock().len() >= n).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = seen.lock().clone();
    assert_eq!(seen.len(), n, "each message exactly once per group");
    let bodies: BTreeSet<_> = seen.iter().map(|(_, b)| b.clone()).collect();
    assert_eq!(bodies.len(), n);
    let by: BTreeSet<_> = seen.iter().map(|(w, _)| w.clone()).collect();
    assert_eq!(by.len(), 2, "both consumers got a share");
    // c2 leaves: the broker tells c1, which takes every queue back.
    c2.shutdown().await;
    wait_until(LONG, "c1 owning all four queues again", || {
        topic_queues(&c1, "Clu").len() == 4
    })
    .await;
    c1.shutdown().await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broadcasting_delivers_everything_to_everyone() {
    let c = Cluster::start().await;
    c.create_topic("Bro", 2).await;
    let seen: Seen = Arc::default();
    let mut cfg1 = config(&c, "CG_BRO", "b1");
    cfg1.message_model = MessageModel::Broadcasting;
    let mut cfg2 = config(&c, "CG_BRO", "b2");
    cfg2.message_model = MessageModel::Broadcasting;
    let b1 = PushConsumer::start(cfg1, &[("Bro", "*")], recording("b1", &seen))
        .await
        .unwrap();
    let b2 = PushConsumer::start(cfg2, &[("Bro", "*")], recording("b2", &seen))
        .await
        .unwrap();
    wait_until(LONG, "both own every queue", || {
        topic_queues(&b1, "Bro").len() == 2 && topic_queues(&b2, "Bro").len() == 2
    })
    .await;
    let p = producer(&c).await;
    for i in 0..10 {
        p.send(Message::new("Bro", format!("m{i}"))).await.unwrap();
    }
    wait_until(LONG, "20 deliveries", || seen.lock().len() >= 20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = seen.lock().clone();
    assert_eq!(seen.len(), 20);
    for who in ["b1", "b2"] {
        let got: BTreeSet<_> = seen
            .iter()
            .filter(|(w, _)| w == who)
            .map(|(_, b)| b.clone())
            .collect();
        assert_eq!(got.len(), 10, "{who} got everything");
    }
    // Offsets of a broadcasting consumer live in a local file.
    b1.shutdown().await;
    b2.shutdown().await;
    let file = c
        .dir
        .path()
        .join("offsets")
        .join(b1.client_id())
        .join("CG_BRO")
        .join("offsets.json");
    assert!(file.exists(), "{} missing", file.display());
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_messages_come_back_through_the_retry_topic() {
    let c = Cluster::start().await;
    c.create_topic("Ret", 2).await;
    // (body, reconsume_times, RETRY_TOPIC property, topic as seen)
    type Delivery = (String, i32, Option<String>, String);
    let seen: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let s = seen.clone();
    let listener = MessageListener::concurrently(move |msgs, _| {
        let mut status = ConsumeConcurrentlyStatus::ConsumeSuccess;
        for m in msgs {
            s.lock().push((
                String::from_utf8_lossy(&m.body).into_owned(),
                m.reconsume_times,
                m.property(keys::RETRY_TOPIC).map(str::to_string),
                m.topic.clone(),
            ));
            if m.reconsume_times == 0 {
                status = ConsumeConcurrentlyStatus::ReconsumeLater;
            }
        }
        status
    });
    let consumer = PushConsumer::start(config(&c, "CG_RET", "r1"), &[("Ret", "*")], listener)
        .await
        .unwrap();
    let p = producer(&c).await;
    for i in 0..3 {
        p.send(Message::new("Ret", format!("r{i}"))).await.unwrap();
    }
    wait_until(LONG, "three failures and three retries", || {
        seen.lock().len() >= 6
    })
    .await;
    let seen = seen.lock().clone();
    for i in 0..3 {
        let body = format!("r{i}");
        let tries: Vec<_> = seen.iter().filter(|s| s.0 == body).collect();
        assert_eq!(tries.len(), 2, "{body}: {tries:?}");
        assert_eq!(tries[0].1, 0);
        assert_eq!(tries[1].1, 1, "second delivery counts one retry");
        assert_eq!(tries[1].2.as_deref(), Some("Ret"), "came through %RETRY%");
        assert_eq!(
            tries[1].3, "Ret",
            "original topic restored for the listener"
        );
    }
    assert!(
        c.max_offset("%RETRY%CG_RET", 0).await >= 3,
        "the retry topic holds the messages"
    );
    consumer.shutdown().await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn orderly_consumption_keeps_queue_order() {
    let c = Cluster::start().await;
    c.create_topic("Ord", 4).await;
    // order id -> sequence numbers in delivery order
    let seen: Arc<Mutex<HashMap<u32, Vec<u32>>>> = Arc::default();
    let failed_once = Arc::new(Mutex::new(false));
    let mk = |seen: Arc<Mutex<HashMap<u32, Vec<u32>>>>, failed_once: Arc<Mutex<bool>>| {
        MessageListener::orderly(move |msgs, ctx| {
            for m in msgs {
                let body = String::from_utf8_lossy(&m.body).into_owned();
                let (order, seq) = body.split_once(':').unwrap();
                let (order, seq): (u32, u32) = (order.parse().unwrap(), seq.parse().unwrap());
                // Fail order 1, message 5 once: it must be retried before message 6.
                if order == 1 && seq == 5 {
                    let mut f = failed_once.lock();
                    if !*f {
                        *f = true;
                        ctx.suspend_current_queue_time_millis = 200;
                        return ConsumeOrderlyStatus::SuspendCurrentQueueAMoment;
                    }
                }
                seen.lock().entry(order).or_default().push(seq);
            }
            ConsumeOrderlyStatus::Success
        })
    };
    let o1 = PushConsumer::start(
        config(&c, "CG_ORD", "o1"),
        &[("Ord", "*")],
        mk(seen.clone(), failed_once.clone()),
    )
    .await
    .unwrap();
    let o2 = PushConsumer::start(
        config(&c, "CG_ORD", "o2"),
        &[("Ord", "*")],
        mk(seen.clone(), failed_once.clone()),
    )
    .await
    .unwrap();
    wait_until(LONG, "orderly consumers splitting queues", || {
        let (a, b) = (topic_queues(&o1, "Ord"), topic_queues(&o2, "Ord"));
        a.len() + b.len() == 4 && a.is_disjoint(&b)
    })
    .await;
    let p = producer(&c).await;
    let (orders, per_order) = (4u32, 15u32);
    for seq in 0..per_order {
        for order in 0..orders {
            p.send_select(Message::new("Ord", format!("{order}:{seq}")), |mqs, _| {
                mqs.get(order as usize % mqs.len()).cloned()
            })
            .await
            .unwrap();
        }
    }
    wait_until(LONG, "every ordered message", || {
        seen.lock().values().map(Vec::len).sum::<usize>() >= (orders * per_order) as usize
    })
    .await;
    assert!(*failed_once.lock(), "the suspend path ran");
    for (order, seqs) in seen.lock().iter() {
        assert_eq!(
            *seqs,
            (0..per_order).collect::<Vec<_>>(),
            "order {order} out of sequence"
        );
    }
    o1.shutdown().await;
    o2.shutdown().await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn offsets_survive_a_consumer_restart() {
    let c = Cluster::start().await;
    c.create_topic("Rst", 2).await;
    let p = producer(&c).await;
    let seen: Seen = Arc::default();
    let first = PushConsumer::start(
        config(&c, "CG_RST", "first"),
        &[("Rst", "*")],
        recording("first", &seen),
    )
    .await
    .unwrap();
    for i in 0..10 {
        p.send(Message::new("Rst", format!("old{i}")))
            .await
            .unwrap();
    }
    wait_until(LONG, "first batch", || seen.lock().len() >= 10).await;
    first.shutdown().await;

    for i in 0..10 {
        p.send(Message::new("Rst", format!("new{i}")))
            .await
            .unwrap();
    }
    let second = PushConsumer::start(
        config(&c, "CG_RST", "second"),
        &[("Rst", "*")],
        recording("second", &seen),
    )
    .await
    .unwrap();
    wait_until(LONG, "second batch", || seen.lock().len() >= 20).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seen = seen.lock().clone();
    assert_eq!(seen.len(), 20, "nothing consumed twice: {seen:?}");
    assert!(seen
        .iter()
        .filter(|(w, _)| w == "second")
        .all(|(_, b)| b.starts_with("new")));
    second.shutdown().await;
    p.shutdown().await;
}

/// One pulled batch is consumed in slices of `consume_message_batch_max_size`; a slice's
/// `ack_index` sends the rest of that slice (only) through the retry topic; nothing is
/// consumed twice after a restart, so the committed offset passed every slice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slices_of_a_pulled_batch_keep_batch_size_and_ack_index() {
    let c = Cluster::start().await;
    c.create_topic("Sli", 1).await;
    let p = producer(&c).await;
    for i in 0..20 {
        p.send(Message::new("Sli", format!("b{i}"))).await.unwrap();
    }
    // Each call: the (body, reconsume_times) it saw.
    type Call = Vec<(String, i32)>;
    let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
    let seen = calls.clone();
    let listener = MessageListener::concurrently(move |msgs, ctx| {
        let call: Call = msgs
            .iter()
            .map(|m| {
                (
                    String::from_utf8_lossy(&m.body).into_owned(),
                    m.reconsume_times,
                )
            })
            .collect();
        // The first delivery of b4 acknowledges only what comes before it in its slice.
        if let Some(i) = call.iter().position(|(b, t)| b == "b4" && *t == 0) {
            ctx.ack_index = i as i32 - 1;
        }
        seen.lock().push(call);
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    let mut cfg = config(&c, "CG_SLI", "s1");
    cfg.consume_message_batch_max_size = 3;
    let first = PushConsumer::start(cfg, &[("Sli", "*")], listener)
        .await
        .unwrap();
    let delivered = |calls: &[Call]| calls.iter().map(Vec::len).sum::<usize>();
    // The failed ones come back after the retry topic's first delay level (10 s).
    let expected = || {
        let calls = calls.lock();
        let slice = calls
            .iter()
            .find(|c| c.iter().any(|(b, t)| b == "b4" && *t == 0));
        slice.map(|s| {
            let i = s.iter().position(|(b, _)| b == "b4").unwrap_or(0);
            20 + s.len() - i
        })
    };
    wait_until(
        LONG,
        "every message, and the retried rest of b4's slice",
        || expected().is_some_and(|n| delivered(&calls.lock()) >= n),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    first.shutdown().await;
    let calls = calls.lock().clone();
    assert!(
        calls.iter().all(|c| !c.is_empty() && c.len() <= 3),
        "{calls:?}"
    );
    let b4_slice = calls
        .iter()
        .find(|c| c.iter().any(|(b, t)| b == "b4" && *t == 0))
        .cloned()
        .unwrap_or_default();
    let i = b4_slice.iter().position(|(b, _)| b == "b4").unwrap_or(0);
    let failed: BTreeSet<String> = b4_slice[i..].iter().map(|(b, _)| b.clone()).collect();
    let mut retried = BTreeSet::new();
    let mut firsts = BTreeSet::new();
    for (b, t) in calls.iter().flatten() {
        if *t == 0 {
            assert!(firsts.insert(b.clone()), "{b} delivered twice: {calls:?}");
        } else {
            assert_eq!(*t, 1, "{b}");
            assert!(retried.insert(b.clone()), "{b} retried twice: {calls:?}");
        }
    }
    assert_eq!(firsts.len(), 20, "{calls:?}");
    assert_eq!(
        retried, failed,
        "exactly the rest of b4's slice came back: {calls:?}"
    );

    // A new consumer of the group starts after everything: only the new message arrives.
    let seen: Seen = Arc::default();
    let second = PushConsumer::start(
        config(&c, "CG_SLI", "s2"),
        &[("Sli", "*")],
        recording("s2", &seen),
    )
    .await
    .unwrap();
    p.send(Message::new("Sli", "after")).await.unwrap();
    wait_until(LONG, "the new message", || !seen.lock().is_empty()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seen = seen.lock().clone();
    assert_eq!(seen, vec![("s2".to_string(), "after".to_string())]);
    second.shutdown().await;
    p.shutdown().await;
}
