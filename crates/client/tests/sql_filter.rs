//! SQL92 filtering end to end: the real mqnamesrv + mqbroker on ephemeral 127.0.0.1 ports
//! and our client's `MessageSelector::sql`.
//!
//! - a SQL consumer receives exactly the messages whose properties match (checked against a
//!   plain Rust predicate), with the bit map off and on (ConsumeQueueExt + enableCalcFilterBitMap);
//! - with the bit map on, the consumequeue_ext units hold the group's bloom bits for exactly
//!   the matching messages;
//! - after a restart (SIGTERM) the filter data is reloaded from consumerFilter.json (same
//!   bornTime), the old ext units are still used, and new messages are filtered the same way;
//! - `enablePropertyFilter=false` refuses a SQL consumer and a SQL pull with 4.8.0's code and
//!   remark; a bad expression is refused with SUBSCRIPTION_PARSE_FAILED and the parser's text.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_client::api::MqClientApi;
use rmq_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, MessageListener, MessageSelector, PullConsumer,
    PushConsumer, PushConsumerConfig,
};
use rmq_client::{ClientConfig, Message, MessageQueue, Producer, ProducerConfig};
use rmq_remoting::protocol::TopicConfig;
use rmq_remoting::RemotingClient;
use rmq_testkit::{BrokerConf, Proc};

const T: Duration = Duration::from_secs(10);
const EXPR: &str = "a > 5 AND (b = 'x' OR b IS NULL)";
const TOPIC: &str = "SqlFilterTopic";

fn bin(name: &str) -> PathBuf {
    rmq_testkit::sibling_bin(name).unwrap_or_else(|e| panic!("{e}"))
}

/// One name server and one broker whose broker.conf gets `extra`.
struct Env {
    dir: tempfile::TempDir,
    ns: String,
    conf: PathBuf,
    addr: String,
    broker: Option<Proc>,
    _ns: Proc,
}

impl Env {
    async fn start(extra: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let (ns_proc, ns) = rmq_testkit::start_namesrv(&bin("mqnamesrv"), dir.path(), "")
            .unwrap_or_else(|e| panic!("{e}"));
        let conf = BrokerConf::new("broker-a", &ns, &dir.path().join("store"))
            .unwrap_or_else(|e| panic!("{e}"))
            .with_extra("flushConsumerOffsetInterval=200")
            .with_extra(extra);
        let path = dir.path().join("broker.conf");
        conf.write(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut env = Env {
            ns,
            conf: path,
            addr: conf.addr(),
            broker: None,
            _ns: ns_proc,
            dir,
        };
        env.start_broker();
        let api = MqClientApi::new(RemotingClient::new());
        let tc = TopicConfig {
            read_queue_nums: 2,
            write_queue_nums: 2,
            ..TopicConfig::new(TOPIC)
        };
        api.create_topic(&env.addr, &tc, T).await.unwrap();
        wait_route(&api, &env.ns, TOPIC).await;
        api.remoting.shutdown();
        env
    }

    fn start_broker(&mut self) {
        self.broker = Some(
            rmq_testkit::start_broker(&bin("mqbroker"), &self.conf)
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }

    /// SIGTERM (a clean shutdown persists consumerFilter.json), then the same conf again.
    fn restart_broker(&mut self) {
        let mut p = self.broker.take().expect("broker running");
        let pid = p.child.id().to_string();
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(ok.success());
        p.child.wait().unwrap();
        self.start_broker();
    }

    fn client(&self, instance: &str) -> ClientConfig {
        let mut c = ClientConfig::new(self.ns.clone());
        c.instance_name = Some(instance.to_string());
        c
    }

    fn store(&self) -> &Path {
        self.dir.path()
    }
}

async fn wait_route(api: &MqClientApi, ns: &str, topic: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(api.get_topic_route(ns, topic, T).await, Ok(Some(_))) {
        assert!(Instant::now() < deadline, "no route for {topic}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Message `i`'s properties: `a` = i % 12 (absent when i % 7 == 0), `b` alternates x/y
/// (absent when i % 5 == 0).
fn props(i: usize) -> (Option<String>, Option<&'static str>) {
    let a = (i % 7 != 0).then(|| (i % 12).to_string());
    let b = (i % 5 != 0).then_some(if i % 2 == 0 { "x" } else { "y" });
    (a, b)
}

/// EXPR written out by hand: `a > 5 AND (b = 'x' OR b IS NULL)`.
fn expected(i: usize) -> bool {
    let (a, b) = props(i);
    let a_gt_5 = a.is_some_and(|a| a.parse::<i32>().unwrap() > 5);
    a_gt_5 && (b == Some("x") || b.is_none())
}

async fn send(env: &Env, range: std::ops::Range<usize>) {
    let mut cfg = ProducerConfig::new("PG_SQL", env.ns.clone());
    cfg.client = env.client("producer");
    let p = Producer::start(cfg).await.unwrap();
    for i in range {
        let (a, b) = props(i);
        let mut m = Message::new(TOPIC, i.to_string().into_bytes());
        if let Some(a) = a {
            m = m.with_property("a", a);
        }
        if let Some(b) = b {
            m = m.with_property("b", b);
        }
        p.send(m).await.unwrap();
    }
    p.shutdown().await;
}

type Seen = Arc<Mutex<BTreeSet<usize>>>;

async fn sql_consumer(env: &Env, group: &str, seen: &Seen) -> PushConsumer {
    let mut cfg = PushConsumerConfig::new(group, env.ns.clone());
    cfg.client = env.client(&format!("{group}-c"));
    cfg.client.persist_consumer_offset_interval = Duration::from_millis(300);
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let seen = seen.clone();
    let listener = MessageListener::concurrently(move |msgs, _| {
        for m in msgs {
            let i: usize = String::from_utf8_lossy(&m.body).parse().unwrap();
            assert!(seen.lock().insert(i), "message {i} delivered twice");
        }
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    PushConsumer::start_with_selectors(cfg, &[(TOPIC, MessageSelector::sql(EXPR))], listener)
        .await
        .unwrap()
}

/// Waits for `want`, then a little longer to catch anything extra.
async fn receive_exactly(seen: &Seen, want: &BTreeSet<usize>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.lock().len() < want.len() {
        assert!(
            Instant::now() < deadline,
            "received {} of {} matching messages",
            seen.lock().len(),
            want.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(&*seen.lock(), want);
}

/// Every consumequeue_ext unit of the topic: (tagsCode, storeTime, bitmap).
fn ext_units(store: &Path) -> Vec<(i64, i64, Vec<u8>)> {
    let mut out = Vec::new();
    let root = store.join("store/consumequeue_ext").join(TOPIC);
    let Ok(queues) = std::fs::read_dir(&root) else {
        return out;
    };
    for q in queues.flatten() {
        let mut files: Vec<_> = std::fs::read_dir(q.path()).unwrap().flatten().collect();
        files.sort_by_key(|f| f.file_name());
        for f in files {
            let b = std::fs::read(f.path()).unwrap();
            let mut pos = 0;
            while pos + 2 <= b.len() {
                let size = i16::from_be_bytes([b[pos], b[pos + 1]]);
                if size < 1 {
                    break;
                }
                let u = &b[pos..pos + size as usize];
                let n = i16::from_be_bytes([u[18], u[19]]) as usize;
                out.push((
                    i64::from_be_bytes(u[2..10].try_into().unwrap()),
                    i64::from_be_bytes(u[10..18].try_into().unwrap()),
                    u[20..20 + n].to_vec(),
                ));
                pos += size as usize;
            }
        }
    }
    out
}

fn matching(range: std::ops::Range<usize>) -> BTreeSet<usize> {
    range.filter(|i| expected(*i)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sql_consumer_gets_exactly_the_matching_messages_without_bit_map() {
    let env = Env::start("enablePropertyFilter=true").await;
    let seen = Seen::default();
    let c = sql_consumer(&env, "CG_SQL_PLAIN", &seen).await;
    send(&env, 0..120).await;
    let want = matching(0..120);
    assert!(want.len() > 10 && want.len() < 60, "a selective filter");
    receive_exactly(&seen, &want).await;
    assert!(
        ext_units(env.store()).is_empty(),
        "no ext files without enableConsumeQueueExt"
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bit_map_gives_the_same_result_and_survives_a_restart() {
    let mut env = Env::start(
        "enablePropertyFilter=true\nenableConsumeQueueExt=true\nenableCalcFilterBitMap=true\n\
         mappedFileSizeConsumeQueueExt=4096",
    )
    .await;
    let seen = Seen::default();
    let c = sql_consumer(&env, "CG_SQL_BITS", &seen).await;
    send(&env, 0..120).await;
    let want = matching(0..120);
    receive_exactly(&seen, &want).await;

    // one unit per message; 14-byte maps (m = 112); bits only where the expression matched
    let units = ext_units(env.store());
    assert_eq!(units.len(), 120);
    assert!(units.iter().all(|(_, t, m)| m.len() == 14 && *t > 0));
    let with_bits = units
        .iter()
        .filter(|(_, _, m)| m.iter().any(|b| *b != 0))
        .count();
    assert_eq!(
        with_bits,
        want.len(),
        "one group: bits set exactly on matches"
    );
    let bloom = rmq_filter::BloomFilter::create_by_fn(20, 32).unwrap();
    let pos = bloom.bit_positions(&format!("CG_SQL_BITS#{TOPIC}"));
    for (_, _, m) in units.iter().filter(|(_, _, m)| m.iter().any(|b| *b != 0)) {
        let bits = rmq_filter::BitsArray::from_bytes(m.clone());
        assert!(pos.iter().all(|p| bits.get(*p as usize)));
    }
    c.shutdown().await;

    env.restart_broker();
    // written at the clean shutdown
    let filter_file = env.store().join("store/config/consumerFilter.json");
    let born_before = born_time(&filter_file);
    let seen2 = Seen::default();
    let c2 = sql_consumer(&env, "CG_SQL_BITS", &seen2).await;
    send(&env, 120..200).await;
    receive_exactly(&seen2, &matching(120..200)).await;
    assert_eq!(
        ext_units(env.store()).len(),
        200,
        "old units kept, new ones added"
    );
    c2.shutdown().await;
    // the reloaded filter data was revived, not rebuilt
    env.restart_broker();
    assert_eq!(born_time(&filter_file), born_before);
}

fn born_time(path: &Path) -> i64 {
    let text = std::fs::read_to_string(path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let d = &v["filterDataByTopic"][TOPIC]["groupFilterData"]["CG_SQL_BITS"];
    assert_eq!(d["expression"], EXPR, "{text}");
    assert_eq!(d["expressionType"], "SQL92");
    d["bornTime"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disabled_filtering_and_bad_expressions_are_refused() {
    let env = Env::start("").await;
    let mut cfg = PushConsumerConfig::new("CG_SQL_OFF", env.ns.clone());
    cfg.client = env.client("off");
    let listener = MessageListener::concurrently(|_, _| ConsumeConcurrentlyStatus::ConsumeSuccess);
    let err = PushConsumer::start_with_selectors(
        cfg,
        &[(TOPIC, MessageSelector::sql("a > 5"))],
        listener.clone(),
    )
    .await
    .err()
    .expect("a SQL consumer must not start on a broker without enablePropertyFilter");
    assert_eq!(err.code(), Some(1), "{err}");
    assert!(
        err.to_string()
            .contains("The broker does not support consumer to filter message by SQL92"),
        "{err}"
    );
    // a pull carrying the SQL subscription is refused the same way
    let pc = PullConsumer::start("CG_SQL_PULL", env.client("pull"))
        .await
        .unwrap();
    let mq = MessageQueue {
        broker_name: "broker-a".into(),
        queue_id: 0,
        topic: TOPIC.into(),
    };
    pc.fetch_subscribe_message_queues(TOPIC).await.unwrap();
    let err = pc
        .pull_selected(&mq, &MessageSelector::sql("a > 5"), 0, 32, false)
        .await
        .expect_err("pull refused");
    assert_eq!(err.code(), Some(1), "{err}");
    pc.shutdown().await;
    drop(env);

    let env = Env::start("enablePropertyFilter=true").await;
    let mut cfg = PushConsumerConfig::new("CG_SQL_BAD", env.ns.clone());
    cfg.client = env.client("bad");
    let err =
        PushConsumer::start_with_selectors(cfg, &[(TOPIC, MessageSelector::sql("a >"))], listener)
            .await
            .err()
            .expect("a bad expression is refused");
    assert_eq!(err.code(), Some(23), "{err}");
    assert!(
        err.to_string().contains(
            "org.apache.rocketmq.filter.parser.ParseException: Encountered \"<EOF>\" at line 1, column 3."
        ),
        "{err}"
    );
}
