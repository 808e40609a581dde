//! Transactions across a DLedger leader change: a group of three real `mqbroker` processes,
//! the Rust `TransactionProducer` prepares halves whose local transactions answer UNKNOW,
//! the leader is killed with `kill -9` before any check, and the newly elected leader's check
//! service asks the producer and commits or rolls back. Halves and op records are replicated
//! entries, so the new leader knows which halves are still open: each committed message is
//! visible exactly once, the rolled-back one never.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::wait_until_async;
use parking_lot::Mutex;
use rmq_client::api::MqClientApi;
use rmq_client::consumer::PullConsumer;
use rmq_client::{
    ClientConfig, LocalTransactionState, Message, MessageExt, ProducerConfig, TransactionListener,
    TransactionProducer,
};
use rmq_remoting::codes::request as rq;
use rmq_remoting::protocol::{decode_body, ClusterInfo, MessageQueue};
use rmq_remoting::{RemotingClient, RemotingCommand};
use rmq_testkit::{BrokerConf, Proc};

const T: Duration = Duration::from_secs(10);
const LONG: Duration = Duration::from_secs(60);

fn bin(name: &str) -> std::path::PathBuf {
    rmq_testkit::sibling_bin(name).unwrap_or_else(|e| panic!("{e}"))
}

/// Commits `commit-*` at once; answers UNKNOW for `unknown-*` and decides on the check.
#[derive(Default)]
struct Local {
    checks: Mutex<BTreeMap<String, u32>>,
}

impl TransactionListener for Local {
    fn execute_local_transaction(&self, msg: &Message, _id: &str) -> LocalTransactionState {
        if msg.body.starts_with(b"commit-") {
            LocalTransactionState::CommitMessage
        } else {
            LocalTransactionState::Unknow
        }
    }

    fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState {
        let body = String::from_utf8_lossy(&msg.body).into_owned();
        *self.checks.lock().entry(body.clone()).or_default() += 1;
        if body.contains("rollback") {
            LocalTransactionState::RollbackMessage
        } else {
            LocalTransactionState::CommitMessage
        }
    }
}

struct Member {
    conf: std::path::PathBuf,
    addr: String,
    proc: Option<Proc>,
}

fn start_group(dir: &Path, ns: &str) -> Vec<Member> {
    let peer_ports = rmq_testkit::free_ports(3).unwrap();
    (0..3)
        .map(|i| {
            let conf = BrokerConf::new("RaftNode00", ns, &dir.join(format!("n{i}")))
                .unwrap()
                .with_extra(&rmq_testkit::dledger_conf("RaftNode00", &peer_ports, i))
                .with_extra(
                    "mappedFileSizeCommitLog=4194304\nflushConsumerOffsetInterval=200\n\
                     transactionCheckInterval=1000\ntransactionTimeOut=3000",
                );
            let path = dir.join(format!("n{i}.conf"));
            conf.write(&path).unwrap();
            let proc = rmq_testkit::start_broker(&bin("mqbroker"), &path).unwrap();
            Member {
                conf: path,
                addr: conf.addr(),
                proc: Some(proc),
            }
        })
        .collect()
}

/// Waits for a brokerId 0 of RaftNode00 other than `not`.
async fn wait_leader(c: &RemotingClient, ns: &str, not: Option<&str>) -> String {
    let start = Instant::now();
    loop {
        let req = RemotingCommand::new_request(rq::GET_BROKER_CLUSTER_INFO);
        if let Ok(r) = c.invoke(ns, req, T).await {
            let leader = decode_body::<ClusterInfo>(r.body_bytes())
                .ok()
                .and_then(|ci| ci.broker_addr_table.get("RaftNode00").cloned())
                .and_then(|bd| bd.broker_addrs.get(&0).cloned());
            if let Some(a) = leader.filter(|a| Some(a.as_str()) != not) {
                return a;
            }
        }
        assert!(start.elapsed() < LONG, "no leader elected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// GET_MAX_OFFSET of queue 0; 0 when the broker does not answer with one.
async fn max_offset(c: &RemotingClient, addr: &str, topic: &str) -> i64 {
    let mq = MessageQueue {
        broker_name: String::new(),
        queue_id: 0,
        topic: topic.to_string(),
    };
    let api = MqClientApi::new(c.clone());
    api.get_max_offset(addr, &mq, T).await.unwrap_or(0)
}

fn fast_client(ns: &str, name: &str) -> ClientConfig {
    let mut c = ClientConfig::new(ns.to_string());
    c.instance_name = Some(name.into());
    c.poll_name_server_interval = Duration::from_secs(1);
    c.heartbeat_broker_interval = Duration::from_secs(1);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_leader_checks_back_the_halves_of_a_killed_leader() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns_proc, ns) = rmq_testkit::start_namesrv(&bin("mqnamesrv"), dir.path(), "").unwrap();
    let mut members = start_group(dir.path(), &ns);
    let c = RemotingClient::new();
    let leader = wait_leader(&c, &ns, None).await;
    let api = MqClientApi::new(RemotingClient::new());
    let tc = common::topic_config("TxRaft", 1);
    api.create_topic(&leader, &tc, T).await.unwrap();
    // Followers copy the leader's topic configs every 3 s.
    tokio::time::sleep(Duration::from_secs(4)).await;

    let local = Arc::new(Local::default());
    let mut cfg = ProducerConfig::new("PG_RAFT", ns.clone());
    cfg.client = fast_client(&ns, "producer");
    let l: Arc<dyn TransactionListener> = local.clone();
    let p = TransactionProducer::start(cfg, l).await.unwrap();
    let pc = PullConsumer::start("CG_RAFT", fast_client(&ns, "consumer"))
        .await
        .unwrap();
    let bodies = [
        "commit-0",
        "unknown-commit-1",
        "unknown-commit-2",
        "unknown-rollback-3",
    ];
    for b in bodies {
        let r = p
            .send_message_in_transaction(Message::new("TxRaft", b))
            .await
            .unwrap();
        assert_eq!(r.send_result.message_queue.broker_name, "RaftNode00");
    }
    // commit-0's final message and op record are committed entries before the kill.
    wait_until_async(LONG, "commit-0 and its op record on the leader", || async {
        max_offset(&c, &leader, "TxRaft").await == 1
            && max_offset(&c, &leader, "RMQ_SYS_TRANS_OP_HALF_TOPIC").await == 1
    })
    .await;
    assert!(local.checks.lock().is_empty(), "checked before the kill");

    let m = members.iter_mut().find(|m| m.addr == leader).unwrap();
    drop(m.proc.take()); // kill -9
    let new_leader = wait_leader(&c, &ns, Some(&leader)).await;
    eprintln!("leader {leader} killed; new leader {new_leader}");

    let expected: BTreeSet<String> = ["commit-0", "unknown-commit-1", "unknown-commit-2"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    wait_until_async(LONG, "the check-backs of the new leader", || async {
        common::pull_bodies(&pc, "TxRaft").await.len() >= expected.len()
            && local.checks.lock().contains_key("unknown-rollback-3")
    })
    .await;
    // A few more passes: every committed message exactly once, the rollback never.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = common::pull_bodies(&pc, "TxRaft").await;
    assert_eq!(
        got,
        expected.iter().cloned().collect::<Vec<_>>(),
        "each committed message exactly once"
    );
    let checks = local.checks.lock().clone();
    assert_eq!(checks.get("commit-0"), None, "its op record was replicated");
    // The killed member comes back as a follower; nothing changes.
    let m = members.iter_mut().find(|m| m.addr == leader).unwrap();
    m.proc = Some(rmq_testkit::start_broker(&bin("mqbroker"), &m.conf).unwrap());
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(common::pull_bodies(&pc, "TxRaft").await, got);
    pc.shutdown().await;
    p.shutdown().await;
}
