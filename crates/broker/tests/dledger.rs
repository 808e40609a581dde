//! A DLedger group of three real `mqbroker` processes: one becomes brokerId 0 in the name
//! server, acknowledged messages survive `kill -9` of the leader, a new brokerId 0 appears and
//! takes writes, and the kill loop repeats that several times without losing anything.

use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::{decode_body, KVTable};
use rmq_remoting::RemotingClient;
use rmq_remoting::RemotingCommand;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

mod common;
use common::*;

/// Sends `bodies` to the leader, retrying on errors (a leader may step down meanwhile);
/// returns the bodies that were acknowledged.
async fn send_all(c: &RemotingClient, leader: &str, bodies: &[String]) -> Vec<String> {
    let mut acked = Vec::new();
    for b in bodies {
        let r = c
            .invoke(
                leader,
                send_v2("RaftTopic", b.as_bytes(), &[("KEYS", b)]),
                T,
            )
            .await;
        if matches!(r, Ok(ref r) if r.code == rs::SUCCESS) {
            acked.push(b.clone());
        }
    }
    acked
}

/// `msgPutTotalTodayNow` of the broker at `addr` (GET_BROKER_RUNTIME_INFO).
async fn msg_put_total(c: &RemotingClient, addr: &str) -> u64 {
    let r = c
        .invoke(
            addr,
            RemotingCommand::new_request(rq::GET_BROKER_RUNTIME_INFO),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    let kv: KVTable = decode_body(r.body_bytes()).unwrap();
    kv.table["msgPutTotalTodayNow"].parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn leader_failover_keeps_every_acknowledged_message() {
    failover_keeps_every_acknowledged_message("").await;
}

/// The same with `enableBatchPush=true`: the leader pushes several entries per request, and
/// a killed member catches up through batches.
#[tokio::test(flavor = "multi_thread")]
async fn leader_failover_with_batch_push_keeps_every_acknowledged_message() {
    failover_keeps_every_acknowledged_message("enableBatchPush=true\n").await;
}

/// Three rounds of 30 sends, each ended by `kill -9` of the leader; `extra` is added to
/// every member's broker.conf.
async fn failover_keeps_every_acknowledged_message(extra: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let mut members = group_with(dir.path(), &ns, extra);
    let c = RemotingClient::new();
    let mut acked = BTreeSet::new();
    let mut leader = wait_leader(&c, &ns, None).await.0;
    let ids = addrs(&c, &ns).await;
    assert_eq!(ids.len(), 3, "all members register: {ids:?}");
    for round in 0..3 {
        let bodies: Vec<String> = (0..30).map(|i| format!("r{round}-m{i}")).collect();
        let ok = send_all(&c, &leader, &bodies).await;
        assert!(
            !ok.is_empty(),
            "round {round}: the leader {leader} took no writes"
        );
        acked.extend(ok);
        // kill -9 the leader, wait for another brokerId 0.
        let m = members
            .iter_mut()
            .find(|m| m.setup.addr == leader)
            .expect("leader is one of ours");
        drop(m.proc.take());
        let (new_leader, took) = wait_leader(&c, &ns, Some(&leader)).await;
        eprintln!("round {round}: new leader {new_leader} after {took:?}");
        // Bring the killed member back so the group keeps a majority for the next round.
        m.proc = Some(start_broker(&m.setup));
        leader = new_leader;
    }
    let last: Vec<String> = (0..10).map(|i| format!("final-{i}")).collect();
    let last_acked = send_all(&c, &leader, &last).await;
    acked.extend(last_acked.iter().cloned());
    // Puts are counted where they were accepted, as DLedgerCommitLog.putMessage does: every
    // leader above was killed and restarted, so only the final sends count on the current
    // leader, and the followers (which apply the same entries) report none.
    for (id, addr) in addrs(&c, &ns).await {
        let puts = msg_put_total(&c, &addr).await;
        if id == 0 {
            assert_eq!(puts, last_acked.len() as u64, "leader {addr}");
        } else {
            assert_eq!(puts, 0, "follower {addr} (brokerId {id})");
        }
    }
    // Every acknowledged message is on the current leader.
    let start = Instant::now();
    loop {
        let have = stored(&c, &leader).await;
        let missing: Vec<_> = acked.difference(&have).collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "acknowledged but missing on {leader}: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
