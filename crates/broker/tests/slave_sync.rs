//! Replicated consumer state with real brokers (`SlaveSynchronize`): DLedger followers and a
//! classic slave copy their master's topic configs, consumer offsets, delay offsets and
//! subscription groups every 10 s and write them to `config/*.json`; after a `kill -9` of the
//! master, the broker that takes over answers consumerProgress (GET_CONSUME_STATS) with the
//! copied offsets, so a consumer re-reads at most what it committed in the last sync window.

use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::admin::{ConsumeStats, SubscriptionGroupConfig};
use rmq_remoting::protocol::header::{
    CreateTopicRequestHeader, GetConsumeStatsRequestHeader, QueryConsumerOffsetRequestHeader,
    QueryConsumerOffsetResponseHeader, UpdateConsumerOffsetRequestHeader,
};
use rmq_remoting::protocol::{decode_body, encode_body};
use rmq_remoting::{RemotingClient, RemotingCommand};
use std::path::Path;
use std::time::{Duration, Instant};

mod common;
use common::*;

const TOPIC: &str = "SyncTopic";
const GROUP: &str = "SyncGroup";
/// 4.8.0's schedule: 3 s to the first copy, then every 10 s; plus slack for a busy machine.
const SYNC_WAIT: Duration = Duration::from_secs(40);

async fn call(c: &RemotingClient, addr: &str, req: RemotingCommand) -> RemotingCommand {
    c.invoke(addr, req, T).await.unwrap()
}

async fn create_topic(c: &RemotingClient, addr: &str) {
    let req = RemotingCommand::new_request(rq::UPDATE_AND_CREATE_TOPIC).with_header(
        &CreateTopicRequestHeader {
            topic: TOPIC.into(),
            read_queue_nums: Some(1),
            write_queue_nums: Some(1),
            perm: Some(6),
            ..Default::default()
        },
    );
    assert_eq!(call(c, addr, req).await.code, rs::SUCCESS);
}

/// A group whose settings differ from the defaults, so a copy is recognisable.
async fn create_group(c: &RemotingClient, addr: &str) {
    let g = SubscriptionGroupConfig {
        group_name: GROUP.into(),
        retry_max_times: 5,
        ..Default::default()
    };
    let req = RemotingCommand::new_request(rq::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP)
        .with_body(encode_body(&g).unwrap());
    assert_eq!(call(c, addr, req).await.code, rs::SUCCESS);
}

async fn commit(c: &RemotingClient, addr: &str, offset: i64) {
    let req = RemotingCommand::new_request(rq::UPDATE_CONSUMER_OFFSET).with_header(
        &UpdateConsumerOffsetRequestHeader {
            consumer_group: GROUP.into(),
            topic: TOPIC.into(),
            queue_id: 0,
            commit_offset: offset,
        },
    );
    assert_eq!(call(c, addr, req).await.code, rs::SUCCESS);
}

/// QUERY_CONSUMER_OFFSET: the offset a restarting consumer resumes from (None: not found).
async fn committed(c: &RemotingClient, addr: &str) -> Option<i64> {
    let req = RemotingCommand::new_request(rq::QUERY_CONSUMER_OFFSET).with_header(
        &QueryConsumerOffsetRequestHeader {
            consumer_group: GROUP.into(),
            topic: TOPIC.into(),
            queue_id: 0,
        },
    );
    let r = call(c, addr, req).await;
    (r.code == rs::SUCCESS).then(|| {
        r.decode_header::<QueryConsumerOffsetResponseHeader>()
            .unwrap()
            .offset
    })
}

/// What `mqadmin consumerProgress -g GROUP` asks: (brokerOffset, consumerOffset) of queue 0.
async fn progress(c: &RemotingClient, addr: &str) -> Option<(i64, i64)> {
    let req = RemotingCommand::new_request(rq::GET_CONSUME_STATS).with_header(
        &GetConsumeStatsRequestHeader {
            consumer_group: GROUP.into(),
            topic: None,
        },
    );
    let r = call(c, addr, req).await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let stats: ConsumeStats = decode_body(r.body_bytes()).unwrap();
    stats
        .offset_table
        .0
        .iter()
        .find(|(mq, _)| mq.topic == TOPIC && mq.queue_id == 0)
        .map(|(_, o)| (o.broker_offset, o.consumer_offset))
}

/// Waits until `addr` holds the committed offset `offset` (copied from its master).
async fn wait_copied(c: &RemotingClient, addr: &str, offset: i64) -> Duration {
    let start = Instant::now();
    loop {
        if committed(c, addr).await == Some(offset) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < SYNC_WAIT,
            "{addr} never copied offset {offset}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn config_file(setup: &BrokerSetup, name: &str) -> String {
    let root = Path::new(&setup.conf).parent().unwrap();
    std::fs::read_to_string(root.join("store/config").join(name)).unwrap_or_default()
}

/// What is still missing from the four tables a follower copied, as it persisted them
/// (`None`: all there).
fn missing_from_copied_files(setup: &BrokerSetup, offset: i64) -> Option<String> {
    let offsets = config_file(setup, "consumerOffset.json");
    if !offsets.contains(&format!("\"{TOPIC}@{GROUP}\":{{0:{offset}}}")) {
        return Some(format!("consumerOffset.json: {offsets}"));
    }
    let topics = config_file(setup, "topics.json");
    if !topics.contains(&format!("\"{TOPIC}\"")) {
        return Some(format!("topics.json: {topics}"));
    }
    let groups = config_file(setup, "subscriptionGroup.json");
    let Some(g) = groups.find(&format!("\"groupName\":\"{GROUP}\"")) else {
        return Some(format!("subscriptionGroup.json has no {GROUP}: {groups}"));
    };
    let entry = &groups[g..groups[g..].find('}').map_or(groups.len(), |e| g + e)];
    if !entry.contains("\"retryMaxTimes\":5") {
        return Some(format!("subscriptionGroup.json: {entry}"));
    }
    None
}

/// Waits until the follower's files hold all four copied tables. One sync round copies
/// topics, offsets, delay offsets and groups one after the other, and each table is
/// persisted after it is replaced, so the offset a query already sees can come before the
/// group in `subscriptionGroup.json`.
async fn wait_copied_files(setup: &BrokerSetup, offset: i64) {
    let start = Instant::now();
    while let Some(missing) = missing_from_copied_files(setup, offset) {
        assert!(
            start.elapsed() < SYNC_WAIT,
            "{} never persisted the copied state: {missing}",
            setup.addr
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn send_n(c: &RemotingClient, addr: &str, n: usize) {
    for i in 0..n {
        send_ok(c, addr, send_v2(TOPIC, format!("m{i}").as_bytes(), &[])).await;
    }
}

/// A delayed message (level 1, 1 s) moves the master's level-1 position to 1.
async fn delay_one(c: &RemotingClient, addr: &str) {
    send_ok(c, addr, send_v2(TOPIC, b"later", &[("DELAY", "1")])).await;
    let start = Instant::now();
    while !delay_offsets(c, addr).await.contains("1:1") {
        assert!(start.elapsed() < Duration::from_secs(20), "never delivered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn delay_offsets(c: &RemotingClient, addr: &str) -> String {
    let r = call(
        c,
        addr,
        RemotingCommand::new_request(rq::GET_ALL_DELAY_OFFSET),
    )
    .await;
    assert_eq!(r.code, rs::SUCCESS);
    String::from_utf8_lossy(r.body_bytes()).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn dledger_new_leader_starts_from_the_copied_consumer_state() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let mut members = group(dir.path(), &ns);
    let c = RemotingClient::new();
    let leader = wait_leader(&c, &ns, None).await.0;
    // All three on the leader only: the followers learn them from the copy.
    create_topic(&c, &leader).await;
    create_group(&c, &leader).await;
    send_n(&c, &leader, 40).await;
    delay_one(&c, &leader).await;
    // A consumer read 25 messages and committed; a sync window later, both followers hold it.
    commit(&c, &leader, 25).await;
    let followers: Vec<&Member> = members.iter().filter(|m| m.setup.addr != leader).collect();
    for f in &followers {
        let took = wait_copied(&c, &f.setup.addr, 25).await;
        eprintln!("{} copied offset 25 after {took:?}", f.setup.addr);
        wait_copied_files(&f.setup, 25).await;
        // the delay offsets come in the same round, right after the consumer offsets
        let start = Instant::now();
        while !(delay_offsets(&c, &f.setup.addr).await.contains("1:1")
            && config_file(&f.setup, "delayOffset.json").contains("1:1"))
        {
            assert!(
                start.elapsed() < SYNC_WAIT,
                "{} never copied the delay offsets",
                f.setup.addr
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    // It reads 5 more and commits; the leader dies before or after the next copy.
    commit(&c, &leader, 30).await;
    let m = members.iter_mut().find(|m| m.setup.addr == leader).unwrap();
    drop(m.proc.take());
    let (new_leader, took) = wait_leader(&c, &ns, Some(&leader)).await;
    eprintln!("new leader {new_leader} after {took:?}");

    // consumerProgress on the new leader shows the group: 41 messages (40 + the delayed one
    // delivered), consumed up to the last copy.
    let start = Instant::now();
    let (broker_offset, consumer_offset) = loop {
        match progress(&c, &new_leader).await {
            Some(p) if p.0 == 41 => break p,
            other => assert!(
                start.elapsed() < Duration::from_secs(20),
                "progress on {new_leader}: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(broker_offset, 41);
    assert!(
        consumer_offset == 25 || consumer_offset == 30,
        "consumer offset {consumer_offset}"
    );
    // A restarting consumer resumes there: it re-reads at most the 5 messages it consumed in
    // the last window, and skips nothing.
    let resume = committed(&c, &new_leader).await.unwrap();
    assert!((25..=30).contains(&resume), "resumes at {resume}");
    // The group's settings came along, and the new leader serves them.
    let r = call(
        &c,
        &new_leader,
        RemotingCommand::new_request(rq::GET_ALL_SUBSCRIPTIONGROUP_CONFIG),
    )
    .await;
    assert!(String::from_utf8_lossy(r.body_bytes()).contains("\"retryMaxTimes\":5"));
    // The new leader resumes the delay level where the old one was: the delivered message
    // is not delivered again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(progress(&c, &new_leader).await.unwrap().0, 41);
    assert!(delay_offsets(&c, &new_leader).await.contains("1:1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn slave_serves_the_copied_offsets_after_a_master_kill() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let (md, sd) = (dir.path().join("master"), dir.path().join("slave"));
    std::fs::create_dir_all(&md).unwrap();
    std::fs::create_dir_all(&sd).unwrap();
    let ms = write_broker_conf(&md, &ns, "brokerRole=ASYNC_MASTER");
    let ss = write_broker_conf(&sd, &ns, "brokerId=1\nbrokerRole=SLAVE");
    let mut master = Some(start_broker(&ms));
    let slave = start_broker(&ss);
    let c = RemotingClient::new();
    create_topic(&c, &ms.addr).await;
    create_group(&c, &ms.addr).await;
    send_n(&c, &ms.addr, 20).await;
    commit(&c, &ms.addr, 12).await;
    // Nothing committed on the slave itself: the offset can only come from the copy.
    let took = wait_copied(&c, &ss.addr, 12).await;
    eprintln!("slave copied offset 12 after {took:?}");
    wait_copied_files(&ss, 12).await;

    // kill -9 of the master: the slave still answers consumerProgress and offset queries.
    drop(master.take());
    c.close_connection(&ms.addr);
    let start = Instant::now();
    let (broker_offset, consumer_offset) = loop {
        // The slave's commit log catches up through HA; its offsets came through the copy.
        match progress(&c, &ss.addr).await {
            Some(p) if p.0 == 20 => break p,
            other => assert!(
                start.elapsed() < Duration::from_secs(20),
                "progress on the slave: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!((broker_offset, consumer_offset), (20, 12));
    assert_eq!(committed(&c, &ss.addr).await, Some(12));
    // The copy is on disk: a slave restarted after a crash still has it.
    let slave = kill_and_restart(slave, &c, &ss);
    assert_eq!(committed(&c, &ss.addr).await, Some(12));
    drop(slave);
}
