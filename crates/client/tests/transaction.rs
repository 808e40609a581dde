//! Transactional messages end to end with the Rust `TransactionProducer` against the real
//! mqnamesrv + mqbroker: a commit reaches a push consumer once, a rollback never; an UNKNOW
//! verdict is resolved by the broker's check-back (commit or rollback); a half nobody answers
//! is given up after `transactionCheckMax` checks; a `kill -9` of the broker between prepare
//! and check loses nothing, because the halves, the op records and the check cursors are all
//! in the store.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{verdict, wait_until, Cluster, Scripted};
use parking_lot::Mutex;
use rmq_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, MessageListener, PullConsumer, PushConsumer,
    PushConsumerConfig,
};
use rmq_client::{
    LocalTransactionState, Message, ProducerConfig, TransactionListener, TransactionProducer,
};
use rmq_remoting::codes::request as rq;
use rmq_remoting::protocol::header::ResumeCheckHalfMessageRequestHeader;
use rmq_remoting::{RemotingClient, RemotingCommand};

const LONG: Duration = Duration::from_secs(60);

/// Broker settings that make check-backs quick.
const FAST_CHECKS: &str = "transactionCheckInterval=500\ntransactionTimeOut=1000";

async fn tx_producer(c: &Cluster, group: &str, listener: &Arc<Scripted>) -> TransactionProducer {
    let mut cfg = ProducerConfig::new(group, c.ns.clone());
    cfg.client = c.client_config(group);
    // After a broker restart the broker learns the producer's new connection from its next
    // heartbeat.
    cfg.client.heartbeat_broker_interval = Duration::from_secs(1);
    let l: Arc<dyn TransactionListener> = listener.clone();
    TransactionProducer::start(cfg, l).await.unwrap()
}

async fn send(p: &TransactionProducer, topic: &str, body: &str) -> LocalTransactionState {
    let r = p
        .send_message_in_transaction(Message::new(topic, body.to_string()).with_tags("Tx"))
        .await
        .unwrap();
    assert_eq!(r.send_result.msg_id, r.transaction_id);
    r.local_transaction_state
}

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commit_rollback_and_check_back_reach_a_push_consumer_as_decided() {
    let c = Cluster::start_with(FAST_CHECKS).await;
    c.create_topic("TxPush", 4).await;
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut cc = PushConsumerConfig::new("CG_TX", c.ns.clone());
    cc.client = c.client_config("consumer");
    cc.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cc.offset_store_dir = Some(c.dir.path().join("offsets"));
    let s2 = seen.clone();
    let consumer = PushConsumer::start(
        cc,
        &[("TxPush", "*")],
        MessageListener::concurrently(move |msgs, _| {
            for m in msgs {
                assert_eq!(m.sys_flag & 0xC, 0x8, "a committed message");
                s2.lock()
                    .push(String::from_utf8_lossy(&m.body).into_owned());
            }
            ConsumeConcurrentlyStatus::ConsumeSuccess
        }),
    )
    .await
    .unwrap();

    let listener = Arc::new(Scripted::default());
    let p = tx_producer(&c, "PG_TX", &listener).await;
    let mut bodies = Vec::new();
    for i in 0..4 {
        for kind in ["commit", "rollback", "unknown-commit", "unknown-rollback"] {
            bodies.push(format!("{kind}-{i}"));
        }
    }
    for b in &bodies {
        let state = send(&p, "TxPush", b).await;
        assert_eq!(state, verdict(b, false), "{b}");
    }
    assert_eq!(listener.executed.lock().len(), bodies.len());
    let expected: Vec<String> = {
        let mut v: Vec<String> = bodies
            .iter()
            .filter(|b| verdict(b, true) == LocalTransactionState::CommitMessage)
            .cloned()
            .collect();
        v.sort();
        v
    };
    wait_until(LONG, "every committed message consumed", || {
        seen.lock().len() >= expected.len()
    })
    .await;
    // Several more check passes: nothing else arrives, nothing twice, no more checks.
    let checks_then = listener.checks.lock().clone();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut got = seen.lock().clone();
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(
        *listener.checks.lock(),
        checks_then,
        "resolved halves are not checked again"
    );
    for b in &bodies {
        let checks = listener.checks_of(b);
        if b.starts_with("unknown-") {
            assert!(checks >= 1, "{b} was never checked");
        } else {
            assert_eq!(
                checks, 0,
                "{b} was decided at once but checked {checks} times"
            );
        }
    }
    consumer.shutdown().await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_half_nobody_answers_is_given_up_after_check_max() {
    let c = Cluster::start_with(
        "transactionCheckInterval=300\ntransactionTimeOut=500\ntransactionCheckMax=3",
    )
    .await;
    c.create_topic("TxMax", 1).await;
    let listener = Arc::new(Scripted::default());
    let p = tx_producer(&c, "PG_MAX", &listener).await;
    assert_eq!(
        send(&p, "TxMax", "unknown-forever-0").await,
        LocalTransactionState::Unknow
    );
    assert_eq!(
        send(&p, "TxMax", "unknown-commit-1").await,
        LocalTransactionState::Unknow
    );
    wait_until(LONG, "three checks of the unanswered half", || {
        listener.checks_of("unknown-forever-0") >= 3
    })
    .await;
    let pc = PullConsumer::start("CG_MAX", c.client_config("pc"))
        .await
        .unwrap();
    common::wait_until_async(LONG, "the half in TRANS_CHECK_MAX_TIME_TOPIC", || async {
        c.wait_route("TRANS_CHECK_MAX_TIME_TOPIC").await;
        common::pull_bodies(&pc, "TRANS_CHECK_MAX_TIME_TOPIC").await
            == sorted(&["unknown-forever-0"])
    })
    .await;
    // Given up means never asked again and never delivered; the answered one is delivered.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(listener.checks_of("unknown-forever-0"), 3);
    assert_eq!(
        common::pull_bodies(&pc, "TxMax").await,
        sorted(&["unknown-commit-1"])
    );
    // RESUME_CHECK_HALF_MESSAGE puts the given-up half back with its count reset: three more
    // checks, then a second give-up.
    let mq = pc
        .fetch_subscribe_message_queues("TRANS_CHECK_MAX_TIME_TOPIC")
        .await
        .unwrap()
        .remove(0);
    let given_up = pc.pull(&mq, "*", 0, 1).await.unwrap().msgs.remove(0);
    let resume = RemotingCommand::new_request(rq::RESUME_CHECK_HALF_MESSAGE).with_header(
        &ResumeCheckHalfMessageRequestHeader {
            msg_id: Some(given_up.offset_msg_id()),
        },
    );
    let r = RemotingClient::new()
        .invoke(&c.broker, resume, common::T)
        .await
        .unwrap();
    assert_eq!((r.code, r.remark), (0, None));
    wait_until(LONG, "three more checks after the resume", || {
        listener.checks_of("unknown-forever-0") >= 6
    })
    .await;
    common::wait_until_async(LONG, "the second give-up", || async {
        common::pull_bodies(&pc, "TRANS_CHECK_MAX_TIME_TOPIC")
            .await
            .len()
            == 2
    })
    .await;
    assert_eq!(listener.checks_of("unknown-forever-0"), 6);
    pc.shutdown().await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn check_backs_resolve_halves_across_broker_kills() {
    // Halves younger than 3 s are not checked: the kill comes before any check.
    let mut c = Cluster::start_with("transactionCheckInterval=1000\ntransactionTimeOut=3000").await;
    c.create_topic("TxKill", 2).await;
    let listener = Arc::new(Scripted::default());
    let p = tx_producer(&c, "PG_KILL", &listener).await;
    let pc = PullConsumer::start("CG_KILL", c.client_config("pc"))
        .await
        .unwrap();
    send(&p, "TxKill", "commit-0").await;
    for b in ["unknown-commit-1", "unknown-commit-2", "unknown-rollback-3"] {
        send(&p, "TxKill", b).await;
    }
    common::wait_until_async(LONG, "the committed message", || async {
        common::pull_bodies(&pc, "TxKill").await == sorted(&["commit-0"])
    })
    .await;
    assert!(listener.checks.lock().is_empty(), "checked before the kill");
    c.kill9_and_restart_broker();
    let expected = sorted(&["commit-0", "unknown-commit-1", "unknown-commit-2"]);
    common::wait_until_async(LONG, "the check-backs after the restart", || async {
        common::pull_bodies(&pc, "TxKill").await.len() >= expected.len()
    })
    .await;
    common::wait_until(LONG, "the check of the rolled-back half", || {
        listener.checks_of("unknown-rollback-3") >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(common::pull_bodies(&pc, "TxKill").await, expected);
    assert_eq!(
        listener.checks_of("commit-0"),
        0,
        "its op record survived the kill"
    );
    // A second kill after everything is resolved: the check cursors were persisted, so no
    // half is asked about again and nothing is committed twice.
    let checks = listener.checks.lock().clone();
    c.kill9_and_restart_broker();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(common::pull_bodies(&pc, "TxKill").await, expected);
    assert_eq!(*listener.checks.lock(), checks);
    pc.shutdown().await;
    p.shutdown().await;
}
