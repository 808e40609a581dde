//! `mqbench` end to end: a short producer run and a short consumer run against
//! the real binaries (`mqnamesrv`, `mqbroker` on ephemeral 127.0.0.1 ports; build them first:
//! `cargo build -p rmq-namesrv -p rmq-broker --bins`), checked through their JSON summaries
//! (no speed asserted).
//! Book chapter: Part V "Side by side with Java RocketMQ and rocketmq-rust" (mqbench drives
//! it). RocketMQ 4.8.0 counterpart: none (its benchmark has no tests).

use std::time::{Duration, Instant};

use rmq_client::api::MqClientApi;
use rmq_remoting::protocol::TopicConfig;
use rmq_remoting::RemotingClient;
use rmq_testkit::{BrokerConf, Proc};

const T: Duration = Duration::from_secs(10);

/// One name server and one broker, killed on drop.
struct Cluster {
    ns: String,
    broker: String,
    dir: tempfile::TempDir,
    _procs: Vec<Proc>,
}

impl Cluster {
    fn start() -> Cluster {
        let bin = |name: &str| rmq_testkit::sibling_bin(name).unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap();
        let (ns_proc, ns) = rmq_testkit::start_namesrv(&bin("mqnamesrv"), dir.path(), "")
            .unwrap_or_else(|e| panic!("{e}"));
        let conf = BrokerConf::new("broker-a", &ns, &dir.path().join("store"))
            .unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("broker.conf");
        conf.write(&path).unwrap_or_else(|e| panic!("{e}"));
        let broker_proc =
            rmq_testkit::start_broker(&bin("mqbroker"), &path).unwrap_or_else(|e| panic!("{e}"));
        Cluster {
            ns,
            broker: conf.addr(),
            dir,
            _procs: vec![ns_proc, broker_proc],
        }
    }

    /// Creates a topic on the broker and waits until the name server routes it.
    async fn create_topic(&self, topic: &str, queues: i32) {
        let api = MqClientApi::new(RemotingClient::new());
        let tc = TopicConfig {
            read_queue_nums: queues,
            write_queue_nums: queues,
            ..TopicConfig::new(topic)
        };
        api.create_topic(&self.broker, &tc, T).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !matches!(api.get_topic_route(&self.ns, topic, T).await, Ok(Some(_))) {
            assert!(Instant::now() < deadline, "no route for {topic}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        api.remoting.shutdown();
    }
}

fn run(args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mqbench"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("TPS"), "per-second lines: {stdout}");
    let json = args.iter().skip_while(|a| **a != "--json").nth(1).unwrap();
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_then_consumer_write_summaries() {
    let c = Cluster::start();
    c.create_topic("BenchT", 4).await;
    let pj = c.dir.path().join("p.json");
    let cj = c.dir.path().join("c.json");
    let (ns, pjs, cjs) = (
        c.ns.clone(),
        pj.display().to_string(),
        cj.display().to_string(),
    );
    let p = tokio::task::spawn_blocking(move || {
        run(&[
            "producer",
            "-n",
            &ns,
            "-t",
            "BenchT",
            "-s",
            "64",
            "-w",
            "2",
            "--batch",
            "4",
            "--duration",
            "2",
            "--json",
            &pjs,
        ])
    })
    .await
    .unwrap();
    assert_eq!(p["mode"], "producer");
    assert!(p["messages"].as_u64().unwrap() > 0);
    assert_eq!(p["failures"], 0);
    assert_eq!(
        p["messages"].as_u64().unwrap() % 4,
        1,
        "a probe message, then whole batches"
    );
    assert!(!p["per_second"].as_array().unwrap().is_empty());
    assert!(p["latency_us"]["p999"].as_u64().unwrap() >= p["latency_us"]["p50"].as_u64().unwrap());

    let ns = c.ns.clone();
    let cons = tokio::task::spawn_blocking(move || {
        run(&[
            "consumer",
            "-n",
            &ns,
            "-t",
            "BenchT",
            "-w",
            "4",
            "--duration",
            "4",
            "--json",
            &cjs,
        ])
    })
    .await
    .unwrap();
    assert_eq!(cons["mode"], "consumer");
    // A new group starts at offset 0 while the queues' first messages are still
    // in memory, so it sees the producer's messages.
    assert_eq!(
        cons["messages"], p["messages"],
        "consumer saw every produced message"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_limit_rate_and_stamps() {
    let c = Cluster::start();
    c.create_topic("BenchS", 2).await;
    let dir = c.dir.path().to_path_buf();
    let ns = c.ns.clone();
    let d = dir.clone();
    // A consumer that stops at 300 messages, waiting on the empty topic before the sends.
    let consumer = tokio::task::spawn_blocking(move || {
        let json = d.join("c.json").display().to_string();
        run(&[
            "consumer",
            "-n",
            &ns,
            "-t",
            "BenchS",
            "-w",
            "2",
            "--stamp",
            "--messages",
            "300",
            "--duration",
            "30",
            "--json",
            &json,
        ])
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ns = c.ns.clone();
    let d = dir.clone();
    let begin = Instant::now();
    // 300 stamped messages at 200 a second: the limit ends the run, not the duration.
    let p = tokio::task::spawn_blocking(move || {
        let json = d.join("p.json").display().to_string();
        run(&[
            "producer",
            "-n",
            &ns,
            "-t",
            "BenchS",
            "-s",
            "32",
            "-w",
            "2",
            "--rate",
            "200",
            "--stamp",
            "--messages",
            "300",
            "--duration",
            "30",
            "--json",
            &json,
        ])
    })
    .await
    .unwrap();
    let took = begin.elapsed();
    let sent = p["messages"].as_u64().unwrap();
    assert!((300..=302).contains(&sent), "sent {sent}");
    assert!(
        took < Duration::from_secs(25),
        "the limit stops the producer"
    );
    assert!(
        took >= Duration::from_millis(1000),
        "300 messages at 200/s take more than a second, took {took:?}"
    );
    let cons = consumer.await.unwrap();
    assert!(cons["messages"].as_u64().unwrap() >= 300);
    // Send-to-receive from the body stamps: microseconds, well under the 30 s run.
    let p50 = cons["latency_us"]["p50"].as_u64().unwrap();
    assert!(p50 > 0 && p50 < 10_000_000, "p50 {p50} µs");
    let (first, last) = (
        cons["first_message_s"].as_f64().unwrap(),
        cons["last_message_s"].as_f64().unwrap(),
    );
    assert!(first > 0.0 && last > first);
}
