//! Leadership transfer in a DLedger group of three real `mqbroker` processes: a leader stopped
//! with SIGTERM hands leadership to a follower before it exits, and a LEADERSHIP_TRANSFER
//! request (DLedger 0.2.2's code 51005, as its admin tool sends it) moves leadership at once.
//! The members are configured so that no follower ever times out its leader
//! (`dLegerMaxHeartBeatLeak=100000`): a new leader can only come from a transfer.

use rmq_remoting::codes::response as rs;
use rmq_remoting::RemotingClient;
use rmq_remoting::RemotingCommand;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

mod common;
use common::*;

const NO_TIMEOUT: &str = "dLegerMaxHeartBeatLeak=100000\n";

/// The member's DLedger id and peer address, from its broker.conf.
fn peer_of(m: &Member, index: usize) -> (String, String) {
    let text = std::fs::read_to_string(&m.setup.conf).unwrap();
    let peers = text
        .lines()
        .find_map(|l| l.strip_prefix("dLegerPeers="))
        .unwrap();
    let id = format!("n{index}");
    let addr = peers
        .split(';')
        .find_map(|p| p.strip_prefix(&format!("{id}-")))
        .unwrap()
        .to_string();
    (id, addr)
}

/// Sends one keyed message to the group's brokerId 0 (asked of the name server each time);
/// returns the body if it was acknowledged.
async fn send_one(c: &RemotingClient, ns: &str, body: &str) -> Option<String> {
    let leader = addrs(c, ns).await.get(&0).cloned()?;
    let r = c
        .invoke(
            &leader,
            send_v2("RaftTopic", body.as_bytes(), &[("KEYS", body)]),
            T,
        )
        .await
        .ok()?;
    (r.code == rs::SUCCESS).then(|| body.to_string())
}

/// Waits until the name server lists a brokerId 0 other than `not`.
async fn wait_other_leader(c: &RemotingClient, ns: &str, not: &str) -> String {
    let start = Instant::now();
    loop {
        if let Some(a) = addrs(c, ns).await.get(&0) {
            if a != not {
                return a.clone();
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no other leader than {not} was listed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_and_transfer_request_hand_leadership_over() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let mut members = group_with(dir.path(), &ns, NO_TIMEOUT);
    let c = RemotingClient::new();
    let first = wait_leader(&c, &ns, None).await.0;
    let mut acked = BTreeSet::new();
    for i in 0..20 {
        acked.extend(send_one(&c, &ns, &format!("before-{i}")).await);
    }
    assert!(!acked.is_empty(), "the first leader took writes");

    // 1. An admin's LEADERSHIP_TRANSFER to the leader's DLedger port.
    let li = members
        .iter()
        .position(|m| m.setup.addr == first)
        .expect("the leader is one of ours");
    let (leader_id, leader_peer) = peer_of(&members[li], li);
    let ti = (li + 1) % 3;
    let (transferee_id, _) = peer_of(&members[ti], ti);
    let meta = c
        .invoke(
            &leader_peer,
            RemotingCommand::new_request(50000).with_body(
                serde_json::json!({"group": "RaftNode00", "remoteId": leader_id})
                    .to_string()
                    .into_bytes(),
            ),
            T,
        )
        .await
        .unwrap();
    let meta: serde_json::Value = serde_json::from_slice(meta.body_bytes()).unwrap();
    let term = meta["term"].as_i64().unwrap();
    let body = serde_json::json!({
        "group": "RaftNode00", "localId": "admin", "remoteId": leader_id, "term": term,
        "transferId": leader_id, "transfereeId": transferee_id,
    });
    let r = c
        .invoke(
            &leader_peer,
            RemotingCommand::new_request(51005).with_body(body.to_string().into_bytes()),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(r.body_bytes()).unwrap();
    assert_eq!(answer["code"], 200, "transfer answer: {answer}");
    let second = wait_other_leader(&c, &ns, &first).await;
    assert_eq!(second, members[ti].setup.addr, "the transferee leads");
    for i in 0..20 {
        acked.extend(send_one(&c, &ns, &format!("middle-{i}")).await);
    }

    // 2. SIGTERM of the leader: it hands over, then exits cleanly.
    let m = &mut members[ti];
    let mut proc = m.proc.take().unwrap();
    let pid = proc.child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let third = wait_other_leader(&c, &ns, &second).await;
    let status = proc.child.wait().unwrap();
    assert!(status.success(), "the stopped leader exits 0: {status:?}");
    for i in 0..20 {
        acked.extend(send_one(&c, &ns, &format!("after-{i}")).await);
    }
    assert!(
        acked.iter().any(|b| b.starts_with("after-")),
        "the third leader {third} took writes"
    );
    // Nothing acknowledged is lost across both hand-overs.
    let start = Instant::now();
    loop {
        let have = stored(&c, &third).await;
        let missing: Vec<_> = acked.difference(&have).collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "acknowledged but missing on {third}: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
