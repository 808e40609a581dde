//! Three DLedger servers on 127.0.0.1 ephemeral ports: elect a leader, append 1000
//! entries, kill the leader, elect a new one, keep appending, lose nothing committed,
//! and let the old leader rejoin from its files.
//! Book: Part IV "Cluster modes and DLedger" (try it).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rmq_dledger::core::Role;
use rmq_dledger::server::{DLedgerError, DLedgerServer, ServerConfig};
use rmq_remoting::RemotingServer;

fn config(id: &str, peers: &str, dir: &Path) -> ServerConfig {
    let mut c = ServerConfig::new("RaftNode00", id, peers, dir).unwrap();
    c.node = c.node.scaled_down(10);
    c.data_file_size = 1024 * 1024;
    c.index_file_size = 32 * 4096;
    c.rpc_timeout_ms = 1000;
    c
}

async fn wait_leader(servers: &[Option<Arc<DLedgerServer>>]) -> usize {
    for _ in 0..400 {
        let leaders: Vec<usize> = servers
            .iter()
            .enumerate()
            .filter(|(_, s)| s.as_ref().is_some_and(|s| s.role() == Role::Leader))
            .map(|(i, _)| i)
            .collect();
        if leaders.len() == 1 {
            let l = leaders[0];
            let term = servers[l].as_ref().unwrap().term();
            let agreed = servers.iter().flatten().all(|s| {
                s.leader_id().as_deref() == Some(servers[l].as_ref().unwrap().self_id())
                    && s.term() == term
            });
            if agreed {
                return l;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no leader elected");
}

/// Appends `n` bodies through `leader`, 20 at a time; returns index → body of the acked ones.
async fn append_many(leader: &Arc<DLedgerServer>, from: usize, n: usize) -> BTreeMap<i64, Vec<u8>> {
    let mut acked = BTreeMap::new();
    for chunk in (from..from + n).collect::<Vec<_>>().chunks(20) {
        let mut tasks = Vec::new();
        for &k in chunk {
            let s = leader.clone();
            tasks.push(tokio::spawn(async move {
                let body = format!("message-{k}").into_bytes();
                (s.append(body.clone()).await, body)
            }));
        }
        for t in tasks {
            let (r, body) = t.await.unwrap();
            let a = r.unwrap_or_else(|e| panic!("append failed: {e}"));
            acked.insert(a.index, body);
        }
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_survive_losing_the_leader() {
    let dir = tempfile::tempdir().unwrap();
    let mut listeners = Vec::new();
    for _ in 0..3 {
        listeners.push(RemotingServer::bind("127.0.0.1:0").await.unwrap());
    }
    let addrs: Vec<String> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().to_string())
        .collect();
    let peers = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| format!("n{i}-{a}"))
        .collect::<Vec<_>>()
        .join(";");
    let mut servers: Vec<Option<Arc<DLedgerServer>>> = Vec::new();
    for (i, l) in listeners.into_iter().enumerate() {
        let s = DLedgerServer::start_on(config(&format!("n{i}"), &peers, dir.path()), l)
            .await
            .unwrap();
        servers.push(Some(Arc::new(s)));
    }
    let l = wait_leader(&servers).await;
    let leader = servers[l].clone().unwrap();
    let mut watch = servers[(l + 1) % 3].as_ref().unwrap().watch_role();
    // followers refuse appends and name the leader
    let follower = servers[(l + 1) % 3].clone().unwrap();
    match follower.append(b"nope".to_vec()).await {
        Err(DLedgerError::Append {
            leader: Some(name), ..
        }) => assert_eq!(name, leader.self_id()),
        other => panic!("expected NOT_LEADER, got {other:?}"),
    }

    let mut acked = append_many(&leader, 0, 1000).await;
    assert_eq!(acked.len(), 1000);
    assert!(leader.committed_index() >= *acked.keys().last().unwrap());

    // kill the leader
    let old_id = leader.self_id().to_string();
    leader.shutdown().await;
    drop(leader);
    servers[l] = None;

    let l2 = wait_leader(&servers).await;
    assert_ne!(l2, l);
    let leader2 = servers[l2].clone().unwrap();
    // the survivor we watched saw the change
    let seen = watch.borrow_and_update().clone();
    assert_eq!(seen.leader_id.as_deref(), Some(leader2.self_id()));
    acked.extend(append_many(&leader2, 1000, 200).await);

    // nothing committed was lost on either survivor
    let top = *acked.keys().last().unwrap();
    for s in servers.iter().flatten() {
        // the committed-index watch wakes waiters on leader and follower alike
        let mut committed = s.watch_committed();
        let _ =
            tokio::time::timeout(Duration::from_secs(5), committed.wait_for(|&c| c >= top)).await;
        assert!(
            *committed.borrow() >= top,
            "{} watch shows {}",
            s.self_id(),
            *committed.borrow()
        );
        assert!(
            s.committed_index() >= top,
            "{} committed {}",
            s.self_id(),
            s.committed_index()
        );
        for (i, body) in &acked {
            assert_eq!(
                &s.get(*i).unwrap().body[..],
                &body[..],
                "{} entry {i}",
                s.self_id()
            );
        }
    }

    // the old leader comes back from its files and catches up
    let listener = RemotingServer::bind(addrs[l].as_str()).await.unwrap();
    let back = Arc::new(
        DLedgerServer::start_on(config(&old_id, &peers, dir.path()), listener)
            .await
            .unwrap(),
    );
    servers[l] = Some(back.clone());
    for _ in 0..400 {
        if back.end_index() >= top && back.committed_index() >= top {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(back.role(), Role::Follower);
    for (i, body) in &acked {
        assert_eq!(
            &back.get(*i).unwrap().body[..],
            &body[..],
            "rejoined entry {i}"
        );
    }
    for s in servers.iter().flatten() {
        s.shutdown().await;
    }
}

/// A DLedger client's view: APPEND, GET and METADATA as JSON bodies over remoting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_rpcs_speak_dledger_json() {
    let dir = tempfile::tempdir().unwrap();
    let l = RemotingServer::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let peers = format!("n0-{addr}");
    let s = Arc::new(
        DLedgerServer::start_on(config("n0", &peers, dir.path()), l)
            .await
            .unwrap(),
    );
    let group = [Some(s.clone())];
    assert_eq!(wait_leader(&group).await, 0);
    let client = rmq_remoting::RemotingClient::new();
    let ask = |code: i32, body: &str| {
        let client = client.clone();
        let addr = addr.clone();
        let body = body.to_string();
        async move {
            let cmd = rmq_remoting::RemotingCommand::new_request(code).with_body(body.into_bytes());
            let resp = client
                .invoke(&addr, cmd, Duration::from_secs(3))
                .await
                .unwrap();
            assert_eq!(resp.code, 200);
            serde_json::from_slice::<serde_json::Value>(resp.body_bytes()).unwrap()
        }
    };
    // "hello" in base64
    let r = ask(
        50001,
        r#"{"body":"aGVsbG8=","group":"RaftNode00","remoteId":"n0"}"#,
    )
    .await;
    assert_eq!(r["code"], 200, "{r}");
    let index = r["index"].as_i64().unwrap();
    assert!(index >= 0);
    let r = ask(
        50002,
        &format!(r#"{{"beginIndex":{index},"group":"RaftNode00","remoteId":"n0"}}"#),
    )
    .await;
    assert_eq!(r["entries"][0]["body"], "aGVsbG8=", "{r}");
    assert_eq!(r["entries"][0]["index"], index);
    let r = ask(50000, r#"{"group":"RaftNode00","remoteId":"n0"}"#).await;
    assert_eq!(r["leaderId"], "n0");
    assert_eq!(r["peers"]["n0"], addr.as_str());
    // wrong group / member: answered with DLedger codes inside the body
    let r = ask(
        50001,
        r#"{"body":"aGVsbG8=","group":"other","remoteId":"n0"}"#,
    )
    .await;
    assert_eq!(r["code"], 400);
    let r = ask(
        51002,
        r#"{"group":"RaftNode00","remoteId":"n9","leaderId":"n1","term":1}"#,
    )
    .await;
    assert_eq!(r["code"], 401);
    client.shutdown();
    s.shutdown().await;
}

/// The append hook sees each entry's position before it is written (RocketMQ patches
/// PHYSICALOFFSET = pos + 48 there); `submit` keeps order; `read_at` reads by position.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_hook_and_reads_by_position() {
    use rmq_dledger::store::AppendHook;
    let dir = tempfile::tempdir().unwrap();
    let l = RemotingServer::bind("127.0.0.1:0").await.unwrap();
    let peers = format!("n0-{}", l.local_addr().unwrap());
    let mut c = config("n0", &peers, dir.path());
    c.append_hook = Some(AppendHook(Arc::new(|_index, pos, body: &mut [u8]| {
        if body.len() >= 8 {
            body[..8].copy_from_slice(&(pos + 48).to_be_bytes());
        }
    })));
    let s = Arc::new(DLedgerServer::start_on(c, l).await.unwrap());
    assert_eq!(wait_leader(&[Some(s.clone())]).await, 0);
    let pending: Vec<_> = (0..50u8)
        .map(|k| {
            s.submit(vec![0u8; 8].into_iter().chain([k; 20]).collect::<Vec<u8>>())
                .unwrap()
        })
        .collect();
    let mut last = -1;
    for (k, p) in pending.into_iter().enumerate() {
        let a = p.wait().await.unwrap();
        assert!(a.index > last, "submit order is entry order");
        last = a.index;
        let raw = s.read_at(a.pos + 48, 28).unwrap();
        assert_eq!(&raw[..8], &(a.pos + 48).to_be_bytes());
        assert_eq!(&raw[8..], &[k as u8; 20]);
        assert_eq!(&s.get(a.index).unwrap().body[..], &raw[..]);
    }
    assert!(s.committed_pos() >= s.get(last).unwrap().pos + 48 + 28);
    let batch = s
        .append_batch(vec![
            bytes::Bytes::from_static(b"a"),
            bytes::Bytes::from_static(b"b"),
        ])
        .await
        .unwrap();
    assert_eq!(batch[1].index, batch[0].index + 1);
    s.shutdown().await;
}
