//! Helpers shared by the broker's integration tests: the real `mqnamesrv`/`mqbroker` binaries
//! on ephemeral 127.0.0.1 ports (started through `rmq-testkit`, killed on drop), and
//! SEND_MESSAGE_V2 / PULL_MESSAGE requests built from rmq-remoting's typed headers.
//! Book chapter: none (test support). RocketMQ 4.8.0 counterpart: `IntegrationTestBase`
//! (test module), which starts a name server and a broker for each test.
#![allow(dead_code)]

use rmq_common::message::encode_properties;
use rmq_remoting::codes::request as rq;
use rmq_remoting::protocol::header::{
    GetMaxOffsetRequestHeader, GetMaxOffsetResponseHeader, PullMessageRequestHeader,
    SendMessageRequestHeader, SendMessageRequestHeaderV2, SendMessageResponseHeader,
};
use rmq_remoting::RemotingCommand;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use rmq_testkit::Proc;

pub const T: Duration = Duration::from_secs(10);

/// Starts `mqnamesrv` with its files under `dir`; returns it and its address.
pub fn start_namesrv(dir: &Path) -> (Proc, String) {
    let exe = rmq_testkit::sibling_bin("mqnamesrv").unwrap_or_else(|e| panic!("{e}"));
    rmq_testkit::start_namesrv(&exe, dir, "").unwrap_or_else(|e| panic!("{e}"))
}

pub struct BrokerSetup {
    pub conf: PathBuf,
    pub addr: String,
}

/// Writes `dir/broker.conf` for master `broker-t` of `TestCluster` on a free broker port,
/// storing under `dir/store`; `extra` lines come last and may override.
pub fn write_broker_conf(dir: &Path, ns: &str, extra: &str) -> BrokerSetup {
    let conf = rmq_testkit::BrokerConf::new("broker-t", ns, &dir.join("store"))
        .unwrap_or_else(|e| panic!("{e}"))
        .with_extra("flushConsumerOffsetInterval=200\nsomeUnknownKey=1")
        .with_extra(extra);
    let path = dir.join("broker.conf");
    conf.write(&path).unwrap_or_else(|e| panic!("{e}"));
    BrokerSetup {
        conf: path,
        addr: conf.addr(),
    }
}

pub fn start_broker(s: &BrokerSetup) -> Proc {
    rmq_testkit::start_broker(env!("CARGO_BIN_EXE_mqbroker").as_ref(), &s.conf)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Sends `req`, asserts SEND_OK and returns the response.
pub async fn send_ok(
    c: &rmq_remoting::RemotingClient,
    addr: &str,
    req: RemotingCommand,
) -> RemotingCommand {
    let r = c.invoke(addr, req, T).await.unwrap();
    assert_eq!(
        r.code,
        rmq_remoting::codes::response::SUCCESS,
        "{:?}",
        r.remark
    );
    r
}

/// kill -9 of `broker`, then the same broker.conf again on the same store (the client's
/// connection to the dead process is dropped first).
pub fn kill_and_restart(
    mut broker: Proc,
    c: &rmq_remoting::RemotingClient,
    s: &BrokerSetup,
) -> Proc {
    broker.child.kill().unwrap();
    broker.child.wait().unwrap();
    c.close_connection(&s.addr);
    start_broker(s)
}

/// The send header of producer group PG for `topic` queue 0 with `props`.
pub fn send_header(topic: &str, props: &[(&str, &str)]) -> SendMessageRequestHeader {
    let props: Vec<(String, String)> = props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    SendMessageRequestHeader {
        producer_group: Some("PG".into()),
        topic: topic.into(),
        default_topic: Some("TBW102".into()),
        default_topic_queue_nums: Some(4),
        queue_id: 0,
        sys_flag: Some(0),
        born_timestamp: Some(1),
        flag: Some(0),
        properties: Some(encode_properties(&props)),
        reconsume_times: Some(0),
        unit_mode: false,
        batch: false,
        max_reconsume_times: None,
    }
}

/// SEND_MESSAGE_V2 (one-letter keys) of `header` with `body`.
pub fn send_v2_of(header: SendMessageRequestHeader, body: &[u8]) -> RemotingCommand {
    RemotingCommand::new_request(rq::SEND_MESSAGE_V2)
        .with_header(&SendMessageRequestHeaderV2::from(header))
        .with_body(body.to_vec())
}

/// SEND_MESSAGE_V2 of [`send_header`].
pub fn send_v2(topic: &str, body: &[u8], props: &[(&str, &str)]) -> RemotingCommand {
    send_v2_of(send_header(topic, props), body)
}

/// The send response header (panics when the reply has none).
pub fn sent(r: &RemotingCommand) -> SendMessageResponseHeader {
    r.decode_header()
        .unwrap_or_else(|e| panic!("no send result ({e}): {:?}", r.remark))
}

/// The pull header of group CG for `topic` queue 0 from `offset`, with subscription `*`.
pub fn pull_header(
    topic: &str,
    offset: i64,
    sys_flag: i32,
    suspend_ms: i64,
) -> PullMessageRequestHeader {
    PullMessageRequestHeader {
        consumer_group: "CG".into(),
        topic: topic.into(),
        queue_id: 0,
        queue_offset: offset,
        max_msg_nums: 32,
        sys_flag,
        commit_offset: Some(0),
        suspend_timeout_millis: Some(suspend_ms),
        subscription: Some("*".into()),
        sub_version: Some(0),
        expression_type: None,
    }
}

/// PULL_MESSAGE of [`pull_header`].
pub fn pull(topic: &str, offset: i64, sys_flag: i32, suspend_ms: i64) -> RemotingCommand {
    RemotingCommand::new_request(rq::PULL_MESSAGE)
        .with_header(&pull_header(topic, offset, sys_flag, suspend_ms))
}

/// Waits until the broker reports at least `n` messages in `topic`/`queue_id` (GET_MAX_OFFSET).
/// Dispatch into the consume queue is asynchronous, as in 4.8.0, so a pull sent right after a
/// send reply may not see the message yet.
pub async fn wait_dispatched(
    c: &rmq_remoting::RemotingClient,
    addr: &str,
    topic: &str,
    queue_id: i32,
    n: i64,
) {
    let start = std::time::Instant::now();
    loop {
        let req = RemotingCommand::new_request(rq::GET_MAX_OFFSET).with_header(
            &GetMaxOffsetRequestHeader {
                topic: topic.into(),
                queue_id,
            },
        );
        if let Ok(r) = c.invoke(addr, req, T).await {
            let max = r
                .decode_header::<GetMaxOffsetResponseHeader>()
                .map_or(0, |h| h.offset);
            if max >= n {
                return;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{topic}/{queue_id} never reached {n} messages"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One member of a DLedger group started by [`group`].
pub struct Member {
    pub setup: BrokerSetup,
    /// The running process (None while killed).
    pub proc: Option<Proc>,
}

/// Starts DLedger group `RaftNode00` of three brokers (n0..n2) under `dir`.
pub fn group(dir: &Path, ns: &str) -> Vec<Member> {
    group_with(dir, ns, "")
}

/// [`group`] with more `key=value` lines for every member.
pub fn group_with(dir: &Path, ns: &str, extra: &str) -> Vec<Member> {
    let peer_ports = rmq_testkit::free_ports(3).unwrap();
    (0..3)
        .map(|i| {
            let d = dir.join(format!("n{i}"));
            std::fs::create_dir_all(&d).unwrap();
            let setup = write_broker_conf(
                &d,
                ns,
                &format!(
                    "{}mappedFileSizeCommitLog=4194304\nautoCreateTopicEnable=true\n{extra}",
                    rmq_testkit::dledger_conf("RaftNode00", &peer_ports, i)
                ),
            );
            let proc = Some(start_broker(&setup));
            Member { setup, proc }
        })
        .collect()
}

/// brokerId -> address for `brokerName` as the name server sees it.
pub async fn broker_addrs(
    c: &rmq_remoting::RemotingClient,
    ns: &str,
    broker_name: &str,
) -> std::collections::BTreeMap<i64, String> {
    let r = c
        .invoke(
            ns,
            RemotingCommand::new_request(rq::GET_BROKER_CLUSTER_INFO),
            T,
        )
        .await
        .unwrap();
    rmq_remoting::protocol::decode_body::<rmq_remoting::protocol::ClusterInfo>(r.body_bytes())
        .ok()
        .and_then(|ci| ci.broker_addr_table.get(broker_name).cloned())
        .map(|bd| bd.broker_addrs)
        .unwrap_or_default()
}

/// brokerId -> address for RaftNode00 as the name server sees it.
pub async fn addrs(
    c: &rmq_remoting::RemotingClient,
    ns: &str,
) -> std::collections::BTreeMap<i64, String> {
    broker_addrs(c, ns, "RaftNode00").await
}

/// Waits for a brokerId 0 that is not `not`; returns its address and how long it took.
pub async fn wait_leader(
    c: &rmq_remoting::RemotingClient,
    ns: &str,
    not: Option<&str>,
) -> (String, Duration) {
    let start = std::time::Instant::now();
    loop {
        if let Some(a) = addrs(c, ns).await.get(&0) {
            if Some(a.as_str()) != not {
                return (a.clone(), start.elapsed());
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no leader elected"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every body stored in RaftTopic queue 0 on `addr`.
pub async fn stored(
    c: &rmq_remoting::RemotingClient,
    addr: &str,
) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut offset = 0;
    loop {
        let r = match c.invoke(addr, pull("RaftTopic", offset, 0x4, 0), T).await {
            Ok(r) if r.code == rmq_remoting::codes::response::SUCCESS => r,
            _ => return out,
        };
        let msgs = rmq_common::message::decode_records(r.body_bytes()).unwrap();
        if msgs.is_empty() {
            return out;
        }
        offset += msgs.len() as i64;
        out.extend(
            msgs.iter()
                .map(|m| String::from_utf8_lossy(&m.body).into_owned()),
        );
    }
}
