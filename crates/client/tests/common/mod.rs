//! Test harness: the real `mqnamesrv` and `mqbroker` binaries on ephemeral
//! 127.0.0.1 ports (build them first: `cargo build -p rmq-namesrv -p rmq-broker --bins`),
//! killed on drop (process plumbing from `rmq-testkit`), plus topic creation and wait helpers.
//! Book chapter: none (test support). RocketMQ 4.8.0 counterpart: `IntegrationTestBase`
//! (test module).
#![allow(dead_code)]

use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rmq_client::api::{MqClientApi, PullStatus};
use rmq_client::consumer::PullConsumer;
use rmq_client::{ClientConfig, LocalTransactionState, Message, MessageExt, TransactionListener};
use rmq_remoting::protocol::TopicConfig;
use rmq_remoting::RemotingClient;
use rmq_testkit::BrokerConf;
use std::collections::{BTreeMap, BTreeSet};

pub use rmq_testkit::Proc;

pub const T: Duration = Duration::from_secs(10);

/// A read-write topic with `queues` read and write queues.
pub fn topic_config(topic: &str, queues: i32) -> TopicConfig {
    TopicConfig {
        read_queue_nums: queues,
        write_queue_nums: queues,
        ..TopicConfig::new(topic)
    }
}

/// A built binary next to the test executable; panics with the cargo command to build it.
fn bin(name: &str) -> PathBuf {
    rmq_testkit::sibling_bin(name).unwrap_or_else(|e| panic!("{e}"))
}

/// Writes `conf` to `path` and starts `mqbroker` on it.
fn start_broker_at(conf: &BrokerConf, path: &Path) -> Proc {
    conf.write(path).unwrap_or_else(|e| panic!("{e}"));
    rmq_testkit::start_broker(&bin("mqbroker"), path).unwrap_or_else(|e| panic!("{e}"))
}

/// One name server and one broker.
pub struct Cluster {
    pub ns: String,
    pub broker: String,
    pub dir: tempfile::TempDir,
    _procs: Vec<Proc>,
    broker_conf: PathBuf,
}

impl Cluster {
    pub async fn start() -> Cluster {
        Self::start_with("").await
    }

    /// [`Cluster::start`] with more broker.conf lines.
    pub async fn start_with(extra: &str) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let (ns_proc, ns) = rmq_testkit::start_namesrv(&bin("mqnamesrv"), dir.path(), "")
            .unwrap_or_else(|e| panic!("{e}"));
        let conf = BrokerConf::new("broker-a", &ns, &dir.path().join("store"))
            .unwrap_or_else(|e| panic!("{e}"))
            .with_extra(
                "flushConsumerOffsetInterval=200\n\
                 messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s",
            )
            .with_extra(extra);
        let broker_conf = dir.path().join("broker.conf");
        let broker_proc = start_broker_at(&conf, &broker_conf);
        let c = Cluster {
            ns,
            broker: conf.addr(),
            dir,
            _procs: vec![ns_proc, broker_proc],
            broker_conf,
        };
        c.wait_route("TBW102").await;
        c
    }

    /// `kill -9` of the broker, then the same broker.conf again on the same store and port.
    pub fn kill9_and_restart_broker(&mut self) {
        let mut old = self._procs.remove(1);
        old.child.kill().unwrap();
        old.child.wait().unwrap();
        let p = rmq_testkit::start_broker(&bin("mqbroker"), &self.broker_conf)
            .unwrap_or_else(|e| panic!("{e}"));
        self._procs.insert(1, p);
    }

    /// Starts another master named `name`; returns its address and process
    /// (drop the process to kill the broker).
    pub fn add_broker(&self, name: &str) -> (String, Proc) {
        let store = self.dir.path().join(format!("store-{name}"));
        let conf = BrokerConf::new(name, &self.ns, &store).unwrap_or_else(|e| panic!("{e}"));
        let p = start_broker_at(&conf, &self.dir.path().join(format!("{name}.conf")));
        (conf.addr(), p)
    }

    /// Creates a topic on one broker (no waiting for the route).
    pub async fn create_topic_on(&self, broker: &str, topic: &str, queues: i32) {
        let api = MqClientApi::new(RemotingClient::new());
        let tc = topic_config(topic, queues);
        api.create_topic(broker, &tc, T).await.unwrap();
        api.remoting.shutdown();
    }

    pub fn client_config(&self, instance: &str) -> ClientConfig {
        let mut c = ClientConfig::new(self.ns.clone());
        c.instance_name = Some(instance.to_string());
        c
    }

    /// Creates a topic on the broker and waits for the name server to route it.
    pub async fn create_topic(&self, topic: &str, queues: i32) {
        self.create_topic_on(&self.broker, topic, queues).await;
        self.wait_route(topic).await;
    }

    pub async fn wait_route(&self, topic: &str) {
        self.wait_route_brokers(topic, 1).await
    }

    /// Waits until the name server routes `topic` to at least `brokers` brokers.
    pub async fn wait_route_brokers(&self, topic: &str, brokers: usize) {
        let api = MqClientApi::new(RemotingClient::new());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(r)) = api.get_topic_route(&self.ns, topic, T).await {
                if r.queue_datas.len() >= brokers {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "no route for {topic}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        api.remoting.shutdown();
    }

    /// The broker's max offset of one queue.
    pub async fn max_offset(&self, topic: &str, queue_id: i32) -> i64 {
        let api = MqClientApi::new(RemotingClient::new());
        let mq = rmq_client::MessageQueue {
            broker_name: "broker-a".into(),
            queue_id,
            topic: topic.into(),
        };
        let o = api.get_max_offset(&self.broker, &mq, T).await.unwrap();
        api.remoting.shutdown();
        o
    }
}

/// Polls `cond` every 100 ms until it holds or `within` passes.
pub async fn wait_until<F: FnMut() -> bool>(within: Duration, what: &str, mut cond: F) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn path_exists(p: &Path) -> bool {
    p.exists()
}

/// Evaluates the async `cond` every 200 ms until it holds or `within` passes.
pub async fn wait_until_async<F, Fut>(within: Duration, what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !cond().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every body in every queue of `topic`, read from offset 0 with `pc`, sorted, repetitions
/// kept. A failed lookup or pull ends the read of that topic or queue (during a failover the
/// caller polls again).
pub async fn pull_bodies(pc: &PullConsumer, topic: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(queues) = pc.fetch_subscribe_message_queues(topic).await else {
        return out;
    };
    for mq in queues {
        let mut offset = 0;
        while let Ok(r) = pc.pull(&mq, "*", offset, 32).await {
            if r.status != PullStatus::Found {
                break;
            }
            out.extend(
                r.msgs
                    .iter()
                    .map(|m| String::from_utf8_lossy(&m.body).into_owned()),
            );
            offset = r.next_begin_offset;
        }
    }
    out.sort();
    out
}

/// A local "database" that decides by the body's prefix: `commit-` and `rollback-` decide at
/// once; `unknown-commit-` / `unknown-rollback-` answer UNKNOW first and decide on the
/// check; `unknown-forever-` never decides. Counts every call.
#[derive(Default)]
pub struct Scripted {
    pub executed: Mutex<BTreeSet<String>>,
    /// body -> number of check-backs received.
    pub checks: Mutex<BTreeMap<String, u32>>,
}

pub fn verdict(body: &str, at_check: bool) -> LocalTransactionState {
    use LocalTransactionState::*;
    if body.starts_with("commit-") || (at_check && body.starts_with("unknown-commit-")) {
        CommitMessage
    } else if body.starts_with("rollback-") || (at_check && body.starts_with("unknown-rollback-")) {
        RollbackMessage
    } else {
        Unknow
    }
}

impl TransactionListener for Scripted {
    fn execute_local_transaction(
        &self,
        msg: &Message,
        transaction_id: &str,
    ) -> LocalTransactionState {
        assert_eq!(msg.property("UNIQ_KEY"), Some(transaction_id));
        let body = String::from_utf8_lossy(&msg.body).into_owned();
        self.executed.lock().insert(body.clone());
        verdict(&body, false)
    }

    fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState {
        let body = String::from_utf8_lossy(&msg.body).into_owned();
        *self.checks.lock().entry(body.clone()).or_default() += 1;
        verdict(&body, true)
    }
}

impl Scripted {
    pub fn checks_of(&self, body: &str) -> u32 {
        self.checks.lock().get(body).copied().unwrap_or(0)
    }
}
