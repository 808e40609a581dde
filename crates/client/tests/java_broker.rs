//! rmq-client against the real Apache RocketMQ 4.8.0 name server and broker (Java, from
//! Maven Central): every send mode, batches, compression, the pull consumer with offsets and
//! long polling, push consumers receiving everything, retries through `%RETRY%` and a delayed
//! message, transactions with check-backs. The same checks as `producer.rs` / `push.rs` /
//! `transaction.rs`, but the server side is the original,
//! so they prove wire compatibility rather than agreement between two of our own crates.
//!
//! How it runs: 4.8.0 binds the wildcard address, and the workbook never listens on anything
//! but loopback, so the test re-executes itself inside a private network namespace
//! (`unshare -r -n`, where `lo` is the only interface) and starts the Java servers there with
//! `experiments/peers/java-cluster.sh` (which downloads the jars with Maven the first time,
//! into `$HOME/.cache/rmq-workbook/java-4.8.0`). One Java cluster serves all checks, in
//! sequence, to stay well under two minutes.
//!
//! The test is `#[ignore]`d, so a plain `cargo test` reports it as ignored (with the reason)
//! instead of running it on a machine that may lack Java. `make test` (and so CI, which installs
//! the tools) runs it with `--ignored`; run by hand:
//! `cargo test -p rmq-client --test java_broker -- --ignored`. Once asked to run, it fails,
//! naming what is missing, when `java`, `mvn` (or the cached jars), `unshare` or `ip` is
//! absent: a check that was requested never passes without running.
//!
//! Book: Part V, "Side by side with Java RocketMQ and rocketmq-rust". Mirrors nothing in 4.8.0;
//! the Java side *is* 4.8.0.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_client::api::{MqClientApi, PullStatus};
use rmq_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, MessageListener, PullConsumer, PushConsumer,
    PushConsumerConfig,
};
use rmq_client::message::keys;
use rmq_client::{ClientConfig, Message, Producer, ProducerConfig, SendStatus};
use rmq_remoting::RemotingClient;

/// A free broker-style port (see `rmq_testkit::free_broker_port`).
fn free_port() -> u16 {
    rmq_testkit::free_broker_port().unwrap_or_else(|e| panic!("{e}"))
}

/// Set in the re-executed test process that runs inside the network namespace, to the file it
/// writes once every check passed.
const INSIDE: &str = "RMQ_JAVA_BROKER_TEST_NETNS";
const TEST_NAME: &str = "java_4_8_0_name_server_and_broker";
const T: Duration = Duration::from_secs(10);
const LONG: Duration = Duration::from_secs(40);
const BROKER_NAME: &str = "java-broker-a";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/peers/java-cluster.sh")
}

fn on_path(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd} >/dev/null 2>&1")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn jars_cached() -> bool {
    let cache = std::env::var_os("RMQ_JAVA_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/rmq-workbook/java-4.8.0"))
        });
    cache.is_some_and(|c| c.join("rocketmq-broker-4.8.0.jar").is_file())
}

/// Why the test cannot run here, if it cannot.
fn missing_prerequisite() -> Option<String> {
    if !on_path("java") {
        return Some("java is not installed".into());
    }
    if !jars_cached() && !on_path("mvn") {
        return Some("mvn is not installed and the 4.8.0 jars are not cached".into());
    }
    if !on_path("unshare") || !on_path("ip") {
        return Some("needs Linux `unshare` and `ip` (4.8.0 binds all interfaces, so it runs in a private network namespace)".into());
    }
    let ns = Command::new("unshare").args(["-r", "-n", "true"]).status();
    if !ns.map(|s| s.success()).unwrap_or(false) {
        return Some("`unshare -r -n` is not permitted here (no user namespaces)".into());
    }
    None
}

#[test]
#[ignore = "needs java, mvn (or cached 4.8.0 jars), unshare and ip; `make test` runs it: \
            cargo test -p rmq-client --test java_broker -- --ignored"]
fn java_4_8_0_name_server_and_broker() {
    if let Some(done_marker) = std::env::var_os(INSIDE) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(suite());
        // Tells the outer process that the checks really ran (a filter that matched
        // nothing would exit 0 too).
        std::fs::write(done_marker, "done").unwrap();
        return;
    }
    if let Some(reason) = missing_prerequisite() {
        panic!(
            "{TEST_NAME} was asked to run but cannot: {reason} \
             (`make test JAVA_TESTS=0` leaves it out explicitly)"
        );
    }
    // Fetch outside the namespace (Maven needs the network), then re-run inside.
    let fetched = Command::new("bash")
        .arg(script())
        .arg("fetch")
        .status()
        .unwrap();
    assert!(fetched.success(), "could not fetch the RocketMQ 4.8.0 jars");
    let marker_dir = tempfile::tempdir().unwrap();
    let done_marker = marker_dir.path().join("suite-ran");
    let exe = std::env::current_exe().unwrap();
    let status = Command::new("unshare")
        .args([
            "-r",
            "-n",
            "sh",
            "-c",
            "ip link set lo up && exec \"$0\" \"$@\"",
        ])
        .arg(exe)
        // --include-ignored: inside, the test must run, not be reported as ignored again.
        .args([
            TEST_NAME,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(INSIDE, &done_marker)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the test failed inside the network namespace"
    );
    assert!(
        done_marker.is_file(),
        "the run inside the network namespace exited without running the checks"
    );
}

/// The Java name server and broker, stopped on drop.
struct JavaCluster {
    dir: tempfile::TempDir,
    ns: String,
    broker: String,
}

impl JavaCluster {
    fn start() -> JavaCluster {
        let dir = tempfile::tempdir().unwrap();
        // Broker-style ports for both (p-2 VIP and p+1 HA free too), never the same twice.
        let (ns_port, broker_port) = (free_port(), free_port());
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir.path())
            .arg(ns_port.to_string())
            .arg(broker_port.to_string())
            // Every retry and delay level is one second, so retries come back quickly; the
            // transaction check runs every second on halves older than 2 s.
            .env(
                "RMQ_JAVA_BROKER_EXTRA",
                format!(
                    "messageDelayLevel={}\ntransactionCheckInterval=1000\ntransactionTimeOut=2000",
                    ["1s"; 18].join(" ")
                ),
            )
            .env("RMQ_JAVA_HEAP", "512m")
            .status()
            .unwrap();
        assert!(out.success(), "java-cluster.sh start failed");
        JavaCluster {
            dir,
            ns: format!("127.0.0.1:{ns_port}"),
            broker: format!("127.0.0.1:{broker_port}"),
        }
    }

    fn client(&self, instance: &str) -> ClientConfig {
        let mut c = ClientConfig::new(self.ns.clone());
        c.instance_name = Some(instance.to_string());
        c
    }

    async fn producer(&self, instance: &str) -> Producer {
        let mut cfg = ProducerConfig::new("PG_JAVA", self.ns.clone());
        cfg.client = self.client(instance);
        Producer::start(cfg).await.unwrap()
    }

    /// UPDATE_AND_CREATE_TOPIC on the Java broker, then wait for the name server's route.
    async fn create_topic(&self, topic: &str, queues: i32) {
        let api = MqClientApi::new(RemotingClient::new());
        let tc = common::topic_config(topic, queues);
        api.create_topic(&self.broker, &tc, T).await.unwrap();
        self.wait_route(&api, topic).await;
        api.remoting.shutdown();
    }

    async fn wait_route(&self, api: &MqClientApi, topic: &str) {
        let deadline = Instant::now() + LONG;
        loop {
            if let Ok(Some(r)) = api.get_topic_route(&self.ns, topic, T).await {
                if !r.queue_datas.is_empty() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "no route for {topic}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for JavaCluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

async fn wait_until<F: FnMut() -> bool>(within: Duration, what: &str, mut cond: F) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn suite() {
    let started = Instant::now();
    let c = JavaCluster::start();
    println!("Java 4.8.0 up in {:.1} s", started.elapsed().as_secs_f64());
    send_modes_and_pull(&c).await;
    batch_and_tag_filter(&c).await;
    auto_created_topic_offsets_and_long_polling(&c).await;
    push_consumer_receives_everything(&c).await;
    retry_and_delay(&c).await;
    transactions(&c).await;
    println!(
        "all checks passed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn send_modes_and_pull(c: &JavaCluster) {
    c.create_topic("JavaModes", 4).await;
    let p = c.producer("modes").await;
    let mut queues = BTreeSet::new();
    for i in 0..8 {
        let r = p
            .send(
                Message::new("JavaModes", format!("sync-{i}"))
                    .with_tags("A")
                    .with_keys(format!("k{i}")),
            )
            .await
            .unwrap();
        assert_eq!(r.send_status, SendStatus::SendOk);
        assert_eq!(r.msg_id.len(), 32, "UNIQ_KEY is 32 hex digits");
        assert_eq!(
            r.offset_msg_id.len(),
            32,
            "offset msg id from the Java broker"
        );
        assert_eq!(r.message_queue.broker_name, BROKER_NAME);
        queues.insert(r.message_queue.queue_id);
    }
    assert_eq!(queues.len(), 4, "eight sync sends visit all four queues");

    let results = Arc::new(Mutex::new(Vec::new()));
    for i in 0..5 {
        let results = results.clone();
        p.send_async(Message::new("JavaModes", format!("async-{i}")), move |r| {
            results.lock().push(r.map(|r| r.send_status));
        });
    }
    wait_until(T, "async callbacks", || results.lock().len() == 5).await;
    assert!(results
        .lock()
        .iter()
        .all(|r| matches!(r, Ok(SendStatus::SendOk))));

    for i in 0..3 {
        p.send_oneway(Message::new("JavaModes", format!("oneway-{i}")))
            .await
            .unwrap();
    }
    // Over 4 KiB: compressed by the client, stored compressed, inflated on the way back.
    let big = "compress me ".repeat(1000);
    p.send(Message::new("JavaModes", big.clone()))
        .await
        .unwrap();

    let pc = PullConsumer::start("CG_JAVA_PULL", c.client("pull-modes"))
        .await
        .unwrap();
    let deadline = Instant::now() + T;
    let bodies = loop {
        let b = common::pull_bodies(&pc, "JavaModes").await;
        if b.len() >= 17 || Instant::now() > deadline {
            break b;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(bodies.len(), 17, "{bodies:?}");
    assert!(bodies.contains(&big), "compressed body comes back intact");
    for b in ["sync-7", "async-4", "oneway-2"] {
        assert!(bodies.iter().any(|x| x == b), "{b} missing");
    }
    pc.shutdown().await;
    p.shutdown().await;
    println!("ok: sync, async, oneway and compressed sends, read back by the pull consumer");
}

async fn batch_and_tag_filter(c: &JavaCluster) {
    c.create_topic("JavaBatch", 2).await;
    let p = c.producer("batch").await;
    let msgs: Vec<Message> = (0..10)
        .map(|i| {
            Message::new("JavaBatch", format!("b-{i}")).with_tags(if i % 2 == 0 {
                "even"
            } else {
                "odd"
            })
        })
        .collect();
    let r = p.send_batch(msgs).await.unwrap();
    assert_eq!(r.send_status, SendStatus::SendOk);
    let ids: Vec<&str> = r.msg_id.split(',').collect();
    assert_eq!(ids.len(), 10);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 10);
    assert_eq!(r.offset_msg_id.split(',').count(), 10);

    let pc = PullConsumer::start("CG_JAVA_BATCH", c.client("pull-batch"))
        .await
        .unwrap();
    pc.fetch_subscribe_message_queues("JavaBatch")
        .await
        .unwrap();
    let deadline = Instant::now() + T;
    let got = loop {
        let got = pc
            .pull(&r.message_queue, "*", r.queue_offset, 32)
            .await
            .unwrap();
        if got.msgs.len() >= 10 || Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(got.status, PullStatus::Found);
    assert_eq!(got.msgs.len(), 10);
    for (i, m) in got.msgs.iter().enumerate() {
        assert_eq!(
            m.queue_offset,
            r.queue_offset + i as i64,
            "consecutive offsets"
        );
        assert_eq!(String::from_utf8_lossy(&m.body), format!("b-{i}"));
        assert_eq!(m.msg_id(), ids[i], "the UNIQ_KEY survives the Java broker");
    }
    let evens = pc
        .pull(&r.message_queue, "even", r.queue_offset, 32)
        .await
        .unwrap();
    assert_eq!(evens.msgs.len(), 5, "the Java broker filters by tag hash");
    assert!(evens.msgs.iter().all(|m| m.tags() == Some("even")));
    pc.shutdown().await;
    p.shutdown().await;
    println!("ok: batch send with consecutive offsets and unique ids, tag filtering");
}

async fn auto_created_topic_offsets_and_long_polling(c: &JavaCluster) {
    let p = c.producer("auto").await;
    // Unknown topic: the producer borrows TBW102's route and the Java broker creates it.
    let r = p.send(Message::new("JavaAuto", "first")).await.unwrap();
    assert_eq!(r.send_status, SendStatus::SendOk);
    let api = MqClientApi::new(RemotingClient::new());
    c.wait_route(&api, "JavaAuto").await;
    api.remoting.shutdown();

    let pc = PullConsumer::start("CG_JAVA_OFFSETS", c.client("pull-auto"))
        .await
        .unwrap();
    let mqs = pc.fetch_subscribe_message_queues("JavaAuto").await.unwrap();
    assert_eq!(mqs.len(), 4, "defaultTopicQueueNums = 4");
    let mq = &r.message_queue;
    assert_eq!(pc.min_offset(mq).await.unwrap(), 0);
    pc.update_consume_offset(mq, 1);
    pc.persist_consume_offsets().await;
    assert_eq!(
        pc.fetch_consume_offset(mq, true).await,
        1,
        "offset stored by Java"
    );

    // Drain, then a blocking pull at the end returns when a message arrives (long polling).
    let mut end = 0;
    let mut idle = 0;
    while idle < 3 {
        let r = pc.pull(mq, "*", end, 32).await.unwrap();
        if r.status == PullStatus::Found {
            end = r.next_begin_offset;
            idle = 0;
        } else {
            idle += 1;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let (pcc, mqc) = (pc.clone(), mq.clone());
    let waiter = tokio::spawn(async move { pcc.pull_block_if_not_found(&mqc, "*", end, 32).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    p.send_to_queue(Message::new("JavaAuto", "late"), mq)
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(25), waiter)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got.status, PullStatus::Found);
    assert_eq!(&got.msgs[0].body[..], b"late");
    pc.shutdown().await;
    p.shutdown().await;
    println!("ok: auto-created topic, stored consumer offset, long polling");
}

fn push_config(c: &JavaCluster, group: &str, instance: &str) -> PushConsumerConfig {
    let mut cfg = PushConsumerConfig::new(group, c.ns.clone());
    cfg.client = c.client(instance);
    cfg.client.persist_consumer_offset_interval = Duration::from_millis(500);
    cfg.client.rebalance_interval = Duration::from_secs(2);
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cfg.offset_store_dir = Some(c.dir.path().join("offsets"));
    cfg
}

async fn push_consumer_receives_everything(c: &JavaCluster) {
    c.create_topic("JavaPush", 4).await;
    let p = c.producer("push-p").await;
    let n = 200;
    for i in 0..n / 2 {
        p.send(Message::new("JavaPush", format!("m{i}")))
            .await
            .unwrap();
    }
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let s = seen.clone();
    let listener = MessageListener::concurrently(move |msgs, _| {
        s.lock().extend(
            msgs.iter()
                .map(|m| String::from_utf8_lossy(&m.body).into_owned()),
        );
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    let consumer = PushConsumer::start(
        push_config(c, "CG_JAVA_PUSH", "push-c"),
        &[("JavaPush", "*")],
        listener,
    )
    .await
    .unwrap();
    // Half before the consumer started, half while it runs.
    for i in n / 2..n {
        p.send(Message::new("JavaPush", format!("m{i}")))
            .await
            .unwrap();
    }
    wait_until(LONG, "all messages pushed", || seen.lock().len() >= n).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got: BTreeSet<String> = seen.lock().iter().cloned().collect();
    let want: BTreeSet<String> = (0..n).map(|i| format!("m{i}")).collect();
    assert_eq!(got, want, "every message, once");
    assert_eq!(seen.lock().len(), n, "no duplicates");
    let owned = consumer
        .assigned_queues()
        .into_iter()
        .filter(|q| q.topic == "JavaPush")
        .count();
    assert_eq!(owned, 4, "the only consumer owns all four queues");
    consumer.shutdown().await;
    p.shutdown().await;
    println!("ok: push consumer received all {n} messages exactly once");
}

async fn retry_and_delay(c: &JavaCluster) {
    c.create_topic("JavaRetry", 2).await;
    // (body, reconsume_times, RETRY_TOPIC property, topic as seen)
    type Delivery = (String, i32, Option<String>, String);
    let seen: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let s = seen.clone();
    let listener = MessageListener::concurrently(move |msgs, _| {
        let mut status = ConsumeConcurrentlyStatus::ConsumeSuccess;
        for m in msgs {
            let body = String::from_utf8_lossy(&m.body).into_owned();
            if body.starts_with("fail") && m.reconsume_times == 0 {
                status = ConsumeConcurrentlyStatus::ReconsumeLater;
            }
            s.lock().push((
                body,
                m.reconsume_times,
                m.property(keys::RETRY_TOPIC).map(str::to_string),
                m.topic.clone(),
            ));
        }
        status
    });
    let consumer = PushConsumer::start(
        push_config(c, "CG_JAVA_RETRY", "retry-c"),
        &[("JavaRetry", "*")],
        listener,
    )
    .await
    .unwrap();
    let p = c.producer("retry-p").await;
    p.send(Message::new("JavaRetry", "fail-once"))
        .await
        .unwrap();
    let sent = Instant::now();
    p.send(Message::new("JavaRetry", "delayed").with_delay_level(1))
        .await
        .unwrap();
    wait_until(LONG, "a retry and a delayed message", || {
        let s = seen.lock();
        s.iter().filter(|d| d.0 == "fail-once").count() >= 2 && s.iter().any(|d| d.0 == "delayed")
    })
    .await;
    let delay = sent.elapsed();
    let seen = seen.lock().clone();
    let tries: Vec<_> = seen.iter().filter(|d| d.0 == "fail-once").collect();
    assert_eq!(tries[0].1, 0);
    assert_eq!(tries[1].1, 1, "second delivery counts one retry");
    assert_eq!(
        tries[1].2.as_deref(),
        Some("JavaRetry"),
        "came through %RETRY%"
    );
    assert_eq!(tries[1].3, "JavaRetry", "original topic restored");
    let delayed = seen.iter().find(|d| d.0 == "delayed").unwrap();
    assert_eq!(
        delayed.3, "JavaRetry",
        "delivered to its real topic after the delay"
    );
    assert!(
        delay >= Duration::from_millis(900),
        "level 1 = 1 s, got {delay:?}"
    );
    consumer.shutdown().await;
    p.shutdown().await;
    println!(
        "ok: retry through %RETRY%CG_JAVA_RETRY and a delayed message from SCHEDULE_TOPIC_XXXX"
    );
}

/// The Rust `TransactionProducer` against the 4.8.0 broker: commit and rollback at once, UNKNOW
/// resolved by the Java broker's check-backs; the committed record as 4.8.0 stores it.
async fn transactions(c: &JavaCluster) {
    c.create_topic("JavaTx", 2).await;
    let listener = Arc::new(common::Scripted::default());
    let mut cfg = ProducerConfig::new("PG_JAVA_TX", c.ns.clone());
    cfg.client = c.client("tx");
    let l: Arc<dyn rmq_client::TransactionListener> = listener.clone();
    let p = rmq_client::TransactionProducer::start(cfg, l)
        .await
        .unwrap();
    let bodies = [
        "commit-0",
        "rollback-0",
        "unknown-commit-0",
        "unknown-rollback-0",
    ];
    for b in bodies {
        let r = p
            .send_message_in_transaction(Message::new("JavaTx", b).with_tags("Tx"))
            .await
            .unwrap();
        assert_eq!(r.send_result.send_status, SendStatus::SendOk, "{b}");
        assert_eq!(r.local_transaction_state, common::verdict(b, false), "{b}");
    }
    let pc = PullConsumer::start("CG_JAVA_TX", c.client("pull-tx"))
        .await
        .unwrap();
    let expected = vec!["commit-0".to_string(), "unknown-commit-0".to_string()];
    let deadline = Instant::now() + LONG;
    while common::pull_bodies(&pc, "JavaTx").await != expected {
        assert!(
            Instant::now() < deadline,
            "committed messages never arrived"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    wait_until(LONG, "the check-back of the rolled-back half", || {
        listener.checks_of("unknown-rollback-0") >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(common::pull_bodies(&pc, "JavaTx").await, expected);
    assert_eq!(listener.checks_of("commit-0"), 0);
    assert_eq!(listener.checks_of("rollback-0"), 0);
    // The committed record as 4.8.0 writes it (our broker must write the same).
    let mut seen = 0;
    for mq in pc.fetch_subscribe_message_queues("JavaTx").await.unwrap() {
        let r = pc.pull(&mq, "*", 0, 32).await.unwrap();
        for m in r.msgs {
            seen += 1;
            assert_eq!(m.sys_flag & 0xC, 0x8, "COMMIT type");
            assert!(m.prepared_transaction_offset > 0);
            assert_eq!(m.property("TRAN_MSG"), Some("true"));
            assert_eq!(m.property("PGROUP"), Some("PG_JAVA_TX"));
            assert_eq!(m.property("REAL_TOPIC"), Some("JavaTx"));
            assert!(m.property("REAL_QID").is_some());
            if m.body.starts_with(b"unknown") {
                assert_eq!(m.property("TRANSACTION_CHECK_TIMES"), Some("1"));
            }
        }
    }
    assert_eq!(seen, 2);
    println!(
        "transactions: commit/rollback/check-back against 4.8.0 ok ({} checks)",
        listener.checks.lock().values().sum::<u32>()
    );
    pc.shutdown().await;
    p.shutdown().await;
}
