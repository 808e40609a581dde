//! Classic master/slave replication with real binaries: a slave (brokerRole=SLAVE,
//! brokerId=1) copies its master's commit log over the HA port (listenPort+1) byte for byte,
//! catches up after a restart, refuses producers, and a SYNC_MASTER acknowledges a send only
//! once a slave has it (SLAVE_NOT_AVAILABLE when none is connected).

use rmq_common::message::decode_records;
use rmq_common::MessageExt;
use rmq_remoting::codes::response as rs;
use rmq_remoting::RemotingClient;
use std::path::Path;
use std::time::{Duration, Instant};

mod common;
use common::*;

/// Everything in `topic` queue 0 from offset 0 (pulls in pages of 32).
async fn pull_all(c: &RemotingClient, addr: &str, topic: &str) -> Vec<MessageExt> {
    let mut out = Vec::new();
    loop {
        let r = match c
            .invoke(addr, pull(topic, out.len() as i64, 0x4, 0), T)
            .await
        {
            Ok(r) if r.code == rs::SUCCESS => r,
            _ => return out,
        };
        let got = decode_records(r.body_bytes()).unwrap_or_default();
        if got.is_empty() {
            return out;
        }
        out.extend(got);
    }
}

/// Waits until the slave serves at least `n` messages of `topic`.
async fn wait_on_slave(c: &RemotingClient, addr: &str, topic: &str, n: usize) -> Vec<MessageExt> {
    let start = Instant::now();
    loop {
        let got = pull_all(c, addr, topic).await;
        if got.len() >= n {
            return got;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let r = c
                .invoke(addr, pull(topic, got.len() as i64, 0x4, 0), T)
                .await;
            panic!(
                "slave has {} of {n} messages; last pull: {:?}",
                got.len(),
                r.map(|r| (r.code, r.remark))
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends one message to queue 0; returns (code, msgId).
async fn send(c: &RemotingClient, addr: &str, topic: &str, body: &str) -> (i32, String) {
    let r = c
        .invoke(addr, send_v2(topic, body.as_bytes(), &[]), T)
        .await
        .unwrap();
    let msg_id = r
        .decode_header::<rmq_remoting::protocol::header::SendMessageResponseHeader>()
        .map(|h| h.msg_id)
        .unwrap_or_default();
    (r.code, msg_id)
}

fn pair(dir: &Path, ns: &str, master_role: &str) -> (BrokerSetup, BrokerSetup) {
    let md = dir.join("master");
    let sd = dir.join("slave");
    std::fs::create_dir_all(&md).unwrap();
    std::fs::create_dir_all(&sd).unwrap();
    let m = write_broker_conf(&md, ns, &format!("brokerRole={master_role}"));
    let s = write_broker_conf(&sd, ns, "brokerId=1\nbrokerRole=SLAVE");
    (m, s)
}

/// Same records at the same commit-log and queue offsets on both sides.
fn assert_same(master: &[MessageExt], slave: &[MessageExt]) {
    assert_eq!(master.len(), slave.len());
    for (m, s) in master.iter().zip(slave) {
        assert_eq!(m.commit_log_offset, s.commit_log_offset);
        assert_eq!(m.queue_offset, s.queue_offset);
        assert_eq!(m.offset_msg_id(), s.offset_msg_id());
        assert_eq!(m.store_timestamp, s.store_timestamp);
        assert_eq!(m.body, s.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn async_master_replicates_and_slave_catches_up_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let (ms, ss) = pair(dir.path(), &ns, "ASYNC_MASTER");
    let _master = start_broker(&ms);
    let mut slave = start_broker(&ss);
    let c = RemotingClient::new();

    let mut ids = Vec::new();
    for i in 0..20 {
        let (code, id) = send(&c, &ms.addr, "HaT", &format!("m{i}")).await;
        assert_eq!(code, rs::SUCCESS);
        ids.push(id);
    }
    let on_slave = wait_on_slave(&c, &ss.addr, "HaT", 20).await;
    let on_master = pull_all(&c, &ms.addr, "HaT").await;
    assert_same(&on_master, &on_slave);
    // the offset msgIds the master handed out name the slave's copies too (same offsets)
    let slave_ids: Vec<String> = on_slave.iter().map(|m| m.offset_msg_id()).collect();
    assert_eq!(slave_ids, ids);

    // a slave refuses producers: SERVICE_NOT_AVAILABLE, as 4.8.0's store does
    let (code, _) = send(&c, &ss.addr, "HaT", "to-slave").await;
    assert_eq!(code, rs::SERVICE_NOT_AVAILABLE);

    // the slave is down while the master takes more; on restart it catches up
    drop(slave);
    for i in 20..50 {
        let (code, _) = send(&c, &ms.addr, "HaT", &format!("m{i}")).await;
        assert_eq!(code, rs::SUCCESS);
    }
    slave = start_broker(&ss);
    let on_slave = wait_on_slave(&c, &ss.addr, "HaT", 50).await;
    let on_master = pull_all(&c, &ms.addr, "HaT").await;
    assert_eq!(on_master.len(), 50);
    assert_same(&on_master, &on_slave);
    drop(slave);
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_master_acknowledges_only_replicated_sends() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let (ms, ss) = pair(dir.path(), &ns, "SYNC_MASTER");
    let _master = start_broker(&ms);

    // no slave yet: stored on the master, but the producer hears SLAVE_NOT_AVAILABLE (11)
    let (code, id) = send(&c_new(), &ms.addr, "SyncT", "alone").await;
    assert_eq!(code, rs::SLAVE_NOT_AVAILABLE);
    assert!(
        !id.is_empty(),
        "the reply still carries the stored message's id"
    );

    let slave = start_broker(&ss);
    let c = RemotingClient::new();
    // once the slave is connected, sends succeed; each SUCCESS means a slave acknowledged it
    let start = Instant::now();
    let mut ok = 0;
    // every SLAVE_NOT_AVAILABLE reply still stored its message on the master
    let mut unreplicated = 1;
    while ok < 10 {
        let (code, _) = send(&c, &ms.addr, "SyncT", &format!("s{ok}")).await;
        match code {
            rs::SUCCESS => ok += 1,
            rs::SLAVE_NOT_AVAILABLE => {
                assert_eq!(ok, 0, "the slave dropped out");
                unreplicated += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => panic!("unexpected send code {other}"),
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "slave never connected"
        );
    }
    let sent = wait_on_slave(&c, &ms.addr, "SyncT", unreplicated + 10).await;
    assert_eq!(
        sent.len(),
        unreplicated + 10,
        "the unreplicated messages and ten replicated ones"
    );
    let on_slave = wait_on_slave(&c, &ss.addr, "SyncT", sent.len()).await;
    assert_same(&sent, &on_slave);

    // the slave goes away: the master notices the closed connection and answers 11 again
    drop(slave);
    let start = Instant::now();
    loop {
        let (code, _) = send(&c, &ms.addr, "SyncT", "late").await;
        if code == rs::SLAVE_NOT_AVAILABLE {
            break;
        }
        // a send racing the disconnect may time out waiting for the ack instead
        assert!(
            code == rs::FLUSH_SLAVE_TIMEOUT || code == rs::SUCCESS,
            "code {code}"
        );
        assert!(start.elapsed() < Duration::from_secs(30));
    }
}

fn c_new() -> RemotingClient {
    RemotingClient::new()
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_master_times_out_when_the_slave_never_acknowledges() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let ms = write_broker_conf(
        dir.path(),
        &ns,
        "brokerRole=SYNC_MASTER\nsyncFlushTimeout=500",
    );
    let _master = start_broker(&ms);
    let port: u16 = ms.addr.rsplit(':').next().unwrap().parse().unwrap();
    // a "slave" that connects to the HA port (listenPort+1) but never reports an offset
    let mute = tokio::net::TcpStream::connect(("127.0.0.1", port + 1))
        .await
        .unwrap();
    let c = RemotingClient::new();
    let start = Instant::now();
    loop {
        let (code, id) = send(&c, &ms.addr, "MuteT", "waits").await;
        if code == rs::FLUSH_SLAVE_TIMEOUT {
            assert!(!id.is_empty());
            break;
        }
        // until the master has registered the connection it answers 11
        assert_eq!(code, rs::SLAVE_NOT_AVAILABLE);
        assert!(start.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(mute);
}
