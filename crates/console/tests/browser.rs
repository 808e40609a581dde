//! The console in a real browser: a name server, a broker and `rmq-console` on
//! ephemeral 127.0.0.1 ports (killed on drop), seeded with a topic, a keyed message,
//! an online consumer group and an online producer; then
//! `crates/console/e2e/console_e2e.py` drives Debian's Chromium through every page,
//! every link and the back button, performs the write actions and checks them with
//! `mqadmin`, and saves a screenshot of each page into target/console-e2e/ (into
//! book/src/figures/console/ with `RMQ_BLESS_BOOK=1`, so `make test` leaves the book's
//! figures alone, as the experiments' `--quick` runs do).
//!
//! Ignored in `cargo test` (it needs /usr/bin/chromium and a Playwright venv);
//! `make console-e2e` (part of `make test`) installs the venv and runs it.
//! Book chapter: Part III "The web console". Mirrors no 4.8.0 test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmq_admin::AdminClient;
use rmq_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, MessageListener, PushConsumer, PushConsumerConfig,
};
use rmq_client::producer::{Producer, ProducerConfig};
use rmq_client::Message;
use rmq_remoting::protocol::TopicConfig;
use rmq_testkit::{sibling_bin, spawn_wait, BrokerConf};

const BOOT: Duration = Duration::from_secs(30);
const TOPIC: &str = "ConsoleTopic";
const GROUP: &str = "console_cg";
const PRODUCER_GROUP: &str = "console_pg";
const KEY: &str = "order-42";
const BODY: &str = "hello console";
const DLQ_TOPIC: &str = "ConsoleDlqTopic";
const DLQ_GROUP: &str = "console_dlq_cg";
const DLQ_KEY: &str = "dead-1";
const RAFT_TOPIC: &str = "ConsoleRaftTopic";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's python (`make console-e2e` creates it), or `$CONSOLE_E2E_PYTHON`.
fn python() -> PathBuf {
    std::env::var_os("CONSOLE_E2E_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/.venv/bin/python"))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs /usr/bin/chromium and the Playwright venv: run `make console-e2e` (part of `make test`)"]
async fn every_page_in_chromium() {
    let py = python();
    assert!(
        py.exists(),
        "{} is missing: run `make console-e2e`, which creates it",
        py.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let ns_dir = dir.path().join("ns");
    std::fs::create_dir_all(&ns_dir).unwrap();
    let (ns, namesrv) =
        rmq_testkit::start_namesrv(&sibling_bin("mqnamesrv").unwrap(), &ns_dir, "").unwrap();
    let conf = BrokerConf::new("broker-e2e", &namesrv, &dir.path().join("store"))
        .unwrap()
        // 1 MiB commit-log files, so the storage view has several files to draw.
        .with_extra("brokerIP1=127.0.0.1\nmappedFileSizeCommitLog=1048576\nmappedFileSizeConsumeQueue=60000");
    let conf_path = dir.path().join("broker.conf");
    conf.write(&conf_path).unwrap();
    let broker = rmq_testkit::start_broker(&sibling_bin("mqbroker").unwrap(), &conf_path).unwrap();
    let broker_addr = conf.addr();

    // A DLedger group of three, for the DLedger view (and an election when the test kills its leader).
    let peer_ports = rmq_testkit::free_ports(3).unwrap();
    let mut raft = Vec::new();
    for i in 0..3 {
        let conf = BrokerConf::new("RaftNode00", &namesrv, &dir.path().join(format!("n{i}")))
            .unwrap()
            .with_extra(&rmq_testkit::dledger_conf("RaftNode00", &peer_ports, i))
            .with_extra("brokerIP1=127.0.0.1\nmappedFileSizeCommitLog=1048576");
        let path = dir.path().join(format!("n{i}.conf"));
        conf.write(&path).unwrap();
        raft.push(rmq_testkit::start_broker(&sibling_bin("mqbroker").unwrap(), &path).unwrap());
    }
    let raft_pids: serde_json::Map<String, serde_json::Value> = raft
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("n{i}"), p.child.id().into()))
        .collect();

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rmq-console"));
    // The dashboard samples every second, so the suite sees rates without waiting long.
    cmd.args([
        "-n",
        &namesrv,
        "--listen",
        "127.0.0.1:0",
        "--sample-ms",
        "1000",
    ]);
    let (console, line) = spawn_wait(cmd, "rmq-console listening on http://", BOOT).unwrap();
    let http = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string();

    // A second console with a login, for the login form (the password from the environment,
    // as an operator would keep it out of `ps`).
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rmq-console"));
    cmd.args(["-n", &namesrv, "--listen", "127.0.0.1:0", "--user", "admin"])
        .env("RMQ_CONSOLE_PASSWORD", "e2e-s3cret");
    let (login_console, line) = spawn_wait(cmd, "rmq-console listening on http://", BOOT).unwrap();
    let login_http = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string();

    // Seed: a topic with 4 queues, a keyed message, a producer and a consumer that stay online.
    let admin = AdminClient::start(&namesrv, rmq_admin::admin_client::DEFAULT_TIMEOUT)
        .await
        .unwrap();
    let mut tc = TopicConfig::new(TOPIC);
    tc.read_queue_nums = 4;
    tc.write_queue_nums = 4;
    admin
        .create_and_update_topic_config(&broker_addr, &tc)
        .await
        .unwrap();
    let begin = now_ms() - 1000;
    let producer = Producer::start(ProducerConfig::new(PRODUCER_GROUP, namesrv.as_str()))
        .await
        .unwrap();
    let sent = producer
        .send(Message::new(TOPIC, BODY).with_tags("TagA").with_keys(KEY))
        .await
        .unwrap();
    // About 2.5 MiB of filler on another topic: the commit log spans three files. The
    // bytes are pseudo-random, so the producer's compression (bodies over 4 KiB) keeps them large.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..320 {
        let filler: Vec<u8> = (0..8 * 1024)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        producer
            .send(Message::new("ConsoleFiller", filler))
            .await
            .unwrap();
    }
    // The producer learned the broker with its first send; its next heartbeat would come
    // within 30 s. Send it now so the Producers page has a connection to show.
    producer.instance().send_heartbeat_to_all_brokers().await;
    let mut cfg = PushConsumerConfig::new(GROUP, namesrv.as_str());
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cfg.client.persist_consumer_offset_interval = Duration::from_millis(300);
    cfg.offset_store_dir = Some(dir.path().join("offsets"));
    // Counts deliveries of the keyed message: the offset reset in the browser makes the
    // group read it again.
    let deliveries = Arc::new(AtomicUsize::new(0));
    let seen = deliveries.clone();
    let consumer = PushConsumer::start(
        cfg,
        &[(TOPIC, "*")],
        MessageListener::concurrently(move |msgs, _| {
            let mine = msgs.iter().filter(|m| m.keys() == Some(KEY)).count();
            seen.fetch_add(mine, Ordering::SeqCst);
            ConsumeConcurrentlyStatus::ConsumeSuccess
        }),
    )
    .await
    .unwrap();
    // Wait until the group's offset is stored, so the pages have progress to show.
    let deadline = Instant::now() + BOOT;
    loop {
        let stored = admin
            .examine_consume_stats(GROUP)
            .await
            .map(|s| s.offset_table.0.iter().any(|(_, o)| o.consumer_offset >= 1))
            .unwrap_or(false);
        if stored {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the consumer never stored an offset"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // A group whose listener always fails, with no retries: its message goes straight to
    // %DLQ%console_dlq_cg, for the DLQ page; the page's resend calls the listener again.
    let mut tc = TopicConfig::new(DLQ_TOPIC);
    tc.read_queue_nums = 1;
    tc.write_queue_nums = 1;
    admin
        .create_and_update_topic_config(&broker_addr, &tc)
        .await
        .unwrap();
    let mut cfg = PushConsumerConfig::new(DLQ_GROUP, namesrv.as_str());
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cfg.max_reconsume_times = 0;
    cfg.offset_store_dir = Some(dir.path().join("offsets-dlq"));
    let failures = Arc::new(AtomicUsize::new(0));
    let failed = failures.clone();
    let dlq_consumer = PushConsumer::start(
        cfg,
        &[(DLQ_TOPIC, "*")],
        MessageListener::concurrently(move |msgs, _| {
            failed.fetch_add(msgs.len(), Ordering::SeqCst);
            ConsumeConcurrentlyStatus::ReconsumeLater
        }),
    )
    .await
    .unwrap();
    producer
        .send(Message::new(DLQ_TOPIC, "this one always fails").with_keys(DLQ_KEY))
        .await
        .unwrap();
    let dlq_topic = format!("%DLQ%{DLQ_GROUP}");
    let deadline = Instant::now() + BOOT;
    while !admin
        .examine_topic_stats(&dlq_topic)
        .await
        .is_ok_and(|s| s.offset_table.0.iter().any(|(_, o)| o.max_offset >= 1))
    {
        assert!(
            Instant::now() < deadline,
            "the failing message never reached {dlq_topic}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let failures_before = failures.load(Ordering::SeqCst);

    // One message from a producer with message trace on, for the Message page's trace.
    let mut tpc = ProducerConfig::new("console_trace_pg", namesrv.as_str());
    tpc.enable_msg_trace = true;
    let traced_producer = Producer::start(tpc).await.unwrap();
    let traced = traced_producer
        .send(Message::new(TOPIC, "traced").with_keys("traced-1"))
        .await
        .unwrap();

    // A few messages into the DLedger group, so its members have entries to commit and apply.
    let deadline = Instant::now() + BOOT;
    let raft_leader = loop {
        let leader = admin
            .examine_broker_cluster_info()
            .await
            .ok()
            .and_then(|c| {
                c.broker_addr_table
                    .get("RaftNode00")?
                    .master_addr()
                    .map(String::from)
            });
        if let Some(addr) = leader {
            break addr;
        }
        assert!(
            Instant::now() < deadline,
            "RaftNode00 never elected a leader"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    admin
        .create_and_update_topic_config(&raft_leader, &TopicConfig::new(RAFT_TOPIC))
        .await
        .unwrap();
    let mut raft_sent = 0;
    while raft_sent < 3 {
        match producer.send(Message::new(RAFT_TOPIC, "replicated")).await {
            Ok(_) => raft_sent += 1,
            // The route appears once the leader has registered the new topic.
            Err(e) => {
                assert!(Instant::now() < deadline, "no send to {RAFT_TOPIC}: {e}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }

    let fixture = serde_json::json!({
        "url": format!("http://{http}"),
        "namesrv": namesrv,
        "mqadmin": sibling_bin("mqadmin").unwrap(),
        "shots": shots_dir(),
        "cluster": "TestCluster",
        "broker_name": "broker-e2e",
        "broker_addr": broker_addr,
        "topic": TOPIC,
        "group": GROUP,
        "producer_group": PRODUCER_GROUP,
        "key": KEY,
        "body": BODY,
        "msg_id": sent.msg_id,
        "offset_msg_id": sent.offset_msg_id,
        "begin": begin,
        "end": now_ms() + 1000,
        "new_topic": "ConsoleE2eCreated",
        "new_group": "console_e2e_group",
        "dlq_group": DLQ_GROUP,
        "traced_msg_id": traced.msg_id,
        "dlq_key": DLQ_KEY,
        "login_url": format!("http://{login_http}"),
        "login_user": "admin",
        "login_password": "e2e-s3cret",
        "store_dir": dir.path().join("store"),
        "dledger_group": "RaftNode00",
        "dledger_pids": raft_pids,
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/console_e2e.py");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(py)
            .arg(script)
            .arg(fixture.to_string())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser suite failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("pages checked"), "{stdout}");
    println!("{stdout}");
    // The reset to timestamp 0 moved the online consumer back: it gets the message again.
    let deadline = Instant::now() + BOOT;
    while deliveries.load(Ordering::SeqCst) < 2 {
        assert!(
            Instant::now() < deadline,
            "after the reset the group never read the message again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The DLQ page's resend handed the dead letter to the failing group's listener once more.
    assert!(
        failures.load(Ordering::SeqCst) > failures_before,
        "the resend from the DLQ page never reached the consumer"
    );

    traced_producer.shutdown().await;
    dlq_consumer.shutdown().await;
    consumer.shutdown().await;
    producer.shutdown().await;
    drop((console, login_console, raft, broker, ns));
}

/// Where the screenshots go: the book's figures only when asked (`RMQ_BLESS_BOOK=1`), else
/// target/console-e2e/, so an ordinary test run does not rewrite tracked files.
fn shots_dir() -> PathBuf {
    if std::env::var_os("RMQ_BLESS_BOOK").is_some_and(|v| v == "1") {
        repo_root().join("book/src/figures/console")
    } else {
        repo_root().join("target/console-e2e")
    }
}
