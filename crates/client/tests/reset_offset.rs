//! Offset reset and the other broker-relayed consumer calls against the real mqnamesrv +
//! mqbroker + mqadmin: `mqadmin resetOffsetByTime` moves a running Rust consumer back to the
//! messages stored at a time (it consumes exactly those again), the same command falls back
//! to writing stored offsets when the group is offline, and the broker relays
//! GET_CONSUMER_STATUS, GET_CONSUMER_RUNNING_INFO and CONSUME_MESSAGE_DIRECTLY to a consumer
//! and answers bad requests with 4.8.0's remarks.
//! (Build mqadmin first: `cargo build -p rmq-admin`.)

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{wait_until, Cluster, T};
use parking_lot::Mutex;
use rmq_client::api::MqClientApi;
use rmq_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, MessageListener, PushConsumer, PushConsumerConfig,
};
use rmq_client::{Message, MessageQueue, Producer, ProducerConfig};
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::header::{
    CommandHeader, ConsumeMessageDirectlyResultRequestHeader, GetConsumerRunningInfoRequestHeader,
    GetConsumerStatusRequestHeader, ResetOffsetRequestHeader,
};
use rmq_remoting::protocol::{
    decode_body, CmResult, ConsumeMessageDirectlyResult, ConsumerRunningInfo,
    GetConsumerStatusBody, ResetOffsetBody,
};
use rmq_remoting::{RemotingClient, RemotingCommand};

const TOPIC: &str = "ResetTopic";
const LONG: Duration = Duration::from_secs(60);

fn mq(q: i32) -> MessageQueue {
    MessageQueue {
        broker_name: "broker-a".into(),
        queue_id: q,
        topic: TOPIC.into(),
    }
}

type Seen = Arc<Mutex<Vec<String>>>;

async fn consumer(c: &Cluster, group: &str, seen: &Seen) -> PushConsumer {
    let mut cfg = PushConsumerConfig::new(group, c.ns.clone());
    cfg.client = c.client_config(&format!("{group}-consumer"));
    cfg.client.persist_consumer_offset_interval = Duration::from_millis(300);
    cfg.client.rebalance_interval = Duration::from_secs(2);
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cfg.reset_offset_wait = Duration::from_secs(1);
    let seen = seen.clone();
    let listener = MessageListener::concurrently(move |msgs, _| {
        seen.lock().extend(
            msgs.iter()
                .map(|m| String::from_utf8_lossy(&m.body).into_owned()),
        );
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    PushConsumer::start(cfg, &[(TOPIC, "*")], listener)
        .await
        .unwrap()
}

/// Sends five messages `<prefix>-<queue>-<i>` to each of the two queues; returns the
/// offset message ids.
async fn send_batch(p: &Producer, prefix: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for q in 0..2 {
        for i in 0..5 {
            let r = p
                .send_to_queue(Message::new(TOPIC, format!("{prefix}-{q}-{i}")), &mq(q))
                .await
                .unwrap();
            ids.push(r.offset_msg_id);
        }
    }
    ids
}

fn bodies(prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = (0..2)
        .flat_map(|q| (0..5).map(move |i| format!("{prefix}-{q}-{i}")))
        .collect();
    v.sort();
    v
}

async fn stored_offset(c: &Cluster, group: &str, q: i32) -> Option<i64> {
    let api = MqClientApi::new(RemotingClient::new());
    let o = api
        .query_consumer_offset(&c.broker, group, &mq(q), T)
        .await
        .unwrap();
    api.remoting.shutdown();
    o
}

async fn wait_stored(c: &Cluster, group: &str, want: i64) {
    let deadline = std::time::Instant::now() + LONG;
    loop {
        let (a, b) = (
            stored_offset(c, group, 0).await,
            stored_offset(c, group, 1).await,
        );
        if a == Some(want) && b == Some(want) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "stored offsets of {group} are {a:?}/{b:?}, want {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn mqadmin(args: &[&str]) -> String {
    let exe = rmq_testkit::sibling_bin("mqadmin").unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(exe).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mqadmin {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The words of each table row of resetOffsetByTime's output (after the two header lines).
fn table_rows(out: &str) -> Vec<Vec<&str>> {
    out.lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect()
}

async fn call(c: &Cluster, cmd: RemotingCommand) -> RemotingCommand {
    let client = RemotingClient::new();
    let r = client
        .invoke(&c.broker, cmd, Duration::from_secs(15))
        .await
        .unwrap();
    client.shutdown();
    r
}

/// What every test here starts from: batch "a" of ten, time `t` 1.5 s later, batch "b" of ten
/// just after it, and a consumer of `group` that has read all twenty and committed offset 10
/// on both queues.
struct Scene {
    c: Cluster,
    p: Producer,
    t: i64,
    /// Offset message ids of batch "b", in send order.
    ids: Vec<String>,
    seen: Seen,
    cons: PushConsumer,
}

async fn scene(group: &str) -> Scene {
    let c = Cluster::start().await;
    c.create_topic(TOPIC, 2).await;
    let mut pc = ProducerConfig::new("PG_RESET", c.ns.clone());
    pc.client = c.client_config("producer");
    let p = Producer::start(pc).await.unwrap();
    send_batch(&p, "a").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let t = rmq_client::util::now_ms();
    let ids = send_batch(&p, "b").await;
    let seen: Seen = Arc::default();
    let cons = consumer(&c, group, &seen).await;
    wait_until(LONG, "all twenty messages", || seen.lock().len() == 20).await;
    wait_stored(&c, group, 10).await;
    Scene {
        c,
        p,
        t,
        ids,
        seen,
        cons,
    }
}

/// Waits for ten messages in `seen`, then one more second for any extra, and checks that they
/// are exactly batch "b".
async fn assert_batch_b_again(seen: &Seen) {
    wait_until(LONG, "the second batch again", || seen.lock().len() >= 10).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut got = seen.lock().clone();
    got.sort();
    assert_eq!(got, bodies("b"), "exactly the messages stored since t");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reset_by_time_makes_a_running_consumer_read_again_from_there() {
    let Scene {
        c,
        p,
        t,
        seen,
        cons,
        ..
    } = scene("CG_RESET").await;
    seen.lock().clear();

    let ts = t.to_string();
    let out = mqadmin(&[
        "resetOffsetByTime",
        "-n",
        &c.ns,
        "-g",
        "CG_RESET",
        "-t",
        TOPIC,
        "-s",
        &ts,
    ]);
    assert!(
        out.starts_with(&format!(
            "rollback consumer offset by specified group[CG_RESET], topic[{TOPIC}], force[true], timestamp(string)[{ts}], timestamp(long)[{ts}]\n"
        )),
        "{out}"
    );
    let rows = table_rows(&out);
    assert_eq!(
        rows,
        vec![vec!["broker-a", "0", "5"], vec!["broker-a", "1", "5"]],
        "{out}"
    );

    // The consumer pauses, drops its queues, commits 5 and 5, and reads the second batch again.
    assert_batch_b_again(&seen).await;
    wait_stored(&c, "CG_RESET", 10).await;
    cons.shutdown().await;
    p.shutdown().await;
}

/// INVOKE_BROKER_TO_GET_CONSUMER_STATUS for `group` in the test topic, all clients.
fn status_header(group: &str) -> GetConsumerStatusRequestHeader {
    GetConsumerStatusRequestHeader {
        topic: TOPIC.into(),
        group: group.into(),
        client_addr: None,
    }
}

/// GET_CONSUMER_RUNNING_INFO for one client of `CG_RELAY`, without a thread dump.
fn running_info_header(client_id: &str) -> GetConsumerRunningInfoRequestHeader {
    GetConsumerRunningInfoRequestHeader {
        consumer_group: "CG_RELAY".into(),
        client_id: client_id.into(),
        jstack_enable: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reset_with_the_group_offline_writes_the_stored_offsets() {
    let Scene { c, p, t, cons, .. } = scene("CG_OFFLINE").await;
    cons.shutdown().await;

    // The broker's own answer when nobody is online.
    let r = call(
        &c,
        RemotingCommand::new_request(rq::INVOKE_BROKER_TO_RESET_OFFSET).with_header(
            &ResetOffsetRequestHeader {
                topic: TOPIC.into(),
                group: "CG_OFFLINE".into(),
                timestamp: t,
                is_force: true,
            },
        ),
    )
    .await;
    assert_eq!(r.code, rs::CONSUMER_NOT_ONLINE);
    assert_eq!(
        r.remark.unwrap(),
        format!("Consumer not online, so can not reset offset, Group: CG_OFFLINE Topic: {TOPIC} Timestamp: {t}")
    );
    assert_eq!(
        stored_offset(&c, "CG_OFFLINE", 0).await,
        Some(10),
        "206 changes nothing"
    );

    // mqadmin falls back to the old method and writes the offsets itself.
    let ts = t.to_string();
    let out = mqadmin(&[
        "resetOffsetByTime",
        "-n",
        &c.ns,
        "-g",
        "CG_OFFLINE",
        "-t",
        TOPIC,
        "-s",
        &ts,
    ]);
    assert!(
        out.starts_with("rollback consumer offset by specified consumerGroup[CG_OFFLINE]"),
        "{out}"
    );
    let rows = table_rows(&out);
    assert_eq!(
        rows,
        vec![
            vec!["broker-a", "0", "10", "10", "5", "5"],
            vec!["broker-a", "1", "10", "10", "5", "5"]
        ],
        "{out}"
    );
    wait_stored(&c, "CG_OFFLINE", 5).await;

    // Without force an offset never moves forward: -s -1 (the end) leaves 5.
    let out = mqadmin(&[
        "resetOffsetByTime",
        "-n",
        &c.ns,
        "-g",
        "CG_OFFLINE",
        "-t",
        TOPIC,
        "-s",
        "-1",
        "-f",
        "false",
    ]);
    assert!(out.contains("force[false]"), "{out}");
    assert_eq!(stored_offset(&c, "CG_OFFLINE", 0).await, Some(5));
    assert_eq!(stored_offset(&c, "CG_OFFLINE", 1).await, Some(5));

    // A consumer that starts now reads from the reset point.
    let seen: Seen = Arc::default();
    let cons = consumer(&c, "CG_OFFLINE", &seen).await;
    assert_batch_b_again(&seen).await;
    cons.shutdown().await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_broker_relays_status_running_info_and_consume_directly() {
    let Scene {
        c,
        p,
        ids,
        seen,
        cons,
        ..
    } = scene("CG_RELAY").await;
    let client_id = cons.client_id().to_string();

    // INVOKE_BROKER_TO_GET_CONSUMER_STATUS -> GET_CONSUMER_STATUS_FROM_CLIENT.
    let r = call(
        &c,
        RemotingCommand::new_request(rq::INVOKE_BROKER_TO_GET_CONSUMER_STATUS)
            .with_header(&status_header("CG_RELAY")),
    )
    .await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let status: GetConsumerStatusBody = decode_body(r.body_bytes()).unwrap();
    let mut table = status.consumer_table[&client_id].0.clone();
    table.sort();
    assert_eq!(table, vec![(mq(0), 10), (mq(1), 10)]);

    // GET_CONSUMER_RUNNING_INFO relayed as is.
    let r = call(
        &c,
        RemotingCommand::new_request(rq::GET_CONSUMER_RUNNING_INFO)
            .with_header(&running_info_header(&client_id)),
    )
    .await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let info: ConsumerRunningInfo = decode_body(r.body_bytes()).unwrap();
    assert_eq!(info.properties["consumerGroup"], "CG_RELAY");
    assert_eq!(info.properties["PROP_CONSUME_TYPE"], "CONSUME_PASSIVELY");
    assert_eq!(info.properties["PROP_CONSUMEORDERLY"], "false");
    assert_eq!(info.properties["PROP_CLIENT_VERSION"], "V4_8_0");
    assert_eq!(
        info.properties["PROP_NAMESERVER_ADDR"],
        format!("{};", c.ns)
    );
    assert!(info.subscription_set.iter().any(|s| s.topic == TOPIC));
    let owned: Vec<_> = info
        .mq_table
        .0
        .iter()
        .filter(|(m, _)| m.topic == TOPIC)
        .map(|(m, pq)| (m.queue_id, pq.commit_offset, pq.droped))
        .collect();
    assert_eq!(owned, vec![(0, 10, false), (1, 10, false)]);
    let st = &info.status_table[TOPIC];
    assert!(st.pull_tps > 0.0 && st.consume_ok_tps > 0.0, "{st:?}");
    assert_eq!(st.consume_failed_msgs, 0);

    // CONSUME_MESSAGE_DIRECTLY: the broker attaches the stored record; the listener sees it.
    seen.lock().clear();
    let r = call(
        &c,
        RemotingCommand::new_request(rq::CONSUME_MESSAGE_DIRECTLY).with_header(
            &ConsumeMessageDirectlyResultRequestHeader {
                consumer_group: "CG_RELAY".into(),
                client_id: Some(client_id.clone()),
                msg_id: Some(ids[7].clone()),
                broker_name: None,
            },
        ),
    )
    .await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let result: ConsumeMessageDirectlyResult = decode_body(r.body_bytes()).unwrap();
    assert_eq!(result.consume_result, Some(CmResult::Success));
    assert!(!result.order && result.auto_commit);
    assert_eq!(*seen.lock(), vec!["b-1-2".to_string()]);
    // The same through mqadmin queryMsgById -g -d.
    let out = mqadmin(&[
        "queryMsgById",
        "-n",
        &c.ns,
        "-i",
        &ids[8],
        "-g",
        "CG_RELAY",
        "-d",
        &client_id,
    ]);
    assert!(
        out.starts_with("ConsumeMessageDirectlyResult [order=false, autoCommit=true, consumeResult=CR_SUCCESS, remark=null, spentTimeMills="),
        "{out}"
    );
    assert_eq!(*seen.lock(), vec!["b-1-2".to_string(), "b-1-3".to_string()]);

    // Refusals with 4.8.0's codes and remarks.
    let r = call(
        &c,
        RemotingCommand::new_request(rq::GET_CONSUMER_RUNNING_INFO)
            .with_header(&running_info_header("10.0.0.1@nobody")),
    )
    .await;
    assert_eq!(
        (r.code, r.remark.as_deref()),
        (
            rs::SYSTEM_ERROR,
            Some("The Consumer <CG_RELAY> <10.0.0.1@nobody> not online")
        )
    );
    let r = call(
        &c,
        RemotingCommand::new_request(rq::INVOKE_BROKER_TO_GET_CONSUMER_STATUS)
            .with_header(&status_header("CG_NOBODY")),
    )
    .await;
    assert_eq!(
        (r.code, r.remark.as_deref()),
        (
            rs::SYSTEM_ERROR,
            Some("No Any Consumer online in the consumer group: [CG_NOBODY]")
        )
    );
    let reset = |topic: &str, group: &str| {
        RemotingCommand::new_request(rq::INVOKE_BROKER_TO_RESET_OFFSET).with_header(
            &ResetOffsetRequestHeader {
                topic: topic.into(),
                group: group.into(),
                timestamp: 0,
                is_force: false,
            },
        )
    };
    let r = call(&c, reset("NoSuchTopic", "CG_RELAY")).await;
    assert_eq!(
        (r.code, r.remark.as_deref()),
        (
            rs::SYSTEM_ERROR,
            Some("[reset-offset] reset offset failed, no topic in this broker. topic=NoSuchTopic")
        )
    );
    let r = call(&c, reset(TOPIC, "CG_NOBODY")).await;
    assert_eq!(
        (r.code, r.remark.as_deref()),
        (
            rs::SYSTEM_ERROR,
            Some("THe consumer group <CG_NOBODY> not exist")
        )
    );
    // A request without the required group (a typed header always has one, so it is taken
    // out of the map by hand).
    let mut no_group = reset(TOPIC, "CG_RELAY");
    let group_key = ResetOffsetRequestHeader::INFO.key_of("group").unwrap();
    no_group.ext_fields.remove(group_key);
    let r = call(&c, no_group).await;
    assert_eq!(
        r.code,
        rs::SYSTEM_ERROR,
        "a missing header field is refused"
    );

    // Without force, timestamp 0 moves back to 0; the reply carries the table. Sent as a C++
    // client, so the broker sends the consumer the list form of the table (ResetOffsetBodyForC).
    let mut as_cpp = reset(TOPIC, "CG_RELAY");
    as_cpp.language = rmq_remoting::language::LanguageCode::Cpp;
    let r = call(&c, as_cpp).await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let body: ResetOffsetBody = decode_body(r.body_bytes()).unwrap();
    let mut t = body.offset_table.0;
    t.sort();
    assert_eq!(t, vec![(mq(0), 0), (mq(1), 0)]);
    wait_until(LONG, "everything once more", || seen.lock().len() >= 22).await;
    cons.shutdown().await;
    p.shutdown().await;
}
