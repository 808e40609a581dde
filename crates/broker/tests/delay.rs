//! The delay queue end to end: messages sent with a DELAY level reach their real topic no
//! earlier than the level's delay, and a broker restart in the middle neither re-delivers
//! what was delivered nor skips what was still waiting (delayOffset.json).

use rmq_common::message::decode_records;
use rmq_remoting::codes::response as rs;
use rmq_remoting::RemotingClient;
use std::time::{Duration, Instant};

mod common;
use common::*;

/// Pulls everything in `topic` queue 0 from offset 0 (up to 32 messages).
async fn pull_all(c: &RemotingClient, addr: &str, topic: &str) -> Vec<rmq_common::MessageExt> {
    match c.invoke(addr, pull(topic, 0, 0x4, 0), T).await {
        Ok(r) if r.code == rs::SUCCESS => decode_records(r.body_bytes()).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Waits until `topic` holds `n` messages; returns them and when that was first seen.
async fn wait_for(
    c: &RemotingClient,
    addr: &str,
    topic: &str,
    n: usize,
    limit: Duration,
) -> Vec<rmq_common::MessageExt> {
    let start = Instant::now();
    loop {
        let got = pull_all(c, addr, topic).await;
        if got.len() >= n || start.elapsed() > limit {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sigterm(p: &mut Proc) {
    let _ = std::process::Command::new("kill")
        .arg(p.child.id().to_string())
        .status();
    let _ = p.child.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn delayed_messages_arrive_after_their_level_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "messageDelayLevel=1s 2s 3s");
    let _broker = start_broker(&setup);
    let c = RemotingClient::new();
    let sent = Instant::now();
    for (level, body) in [("2", "two"), ("1", "one")] {
        let r = c
            .invoke(
                &setup.addr,
                send_v2(
                    "DelayT",
                    body.as_bytes(),
                    &[("DELAY", level), ("TAGS", "tg"), ("KEYS", body)],
                ),
                T,
            )
            .await
            .unwrap();
        assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    }
    // Nothing is visible in the real topic right away.
    assert!(pull_all(&c, &setup.addr, "DelayT").await.is_empty());
    let first = wait_for(&c, &setup.addr, "DelayT", 1, Duration::from_secs(10)).await;
    let t1 = sent.elapsed();
    assert_eq!(first.len(), 1, "level-1 message never arrived");
    assert_eq!(&first[0].body[..], b"one");
    assert!(
        t1 >= Duration::from_millis(1000),
        "level 1 delivered after {t1:?}"
    );
    let both = wait_for(&c, &setup.addr, "DelayT", 2, Duration::from_secs(10)).await;
    let t2 = sent.elapsed();
    assert_eq!(both.len(), 2, "level-2 message never arrived");
    assert!(
        t2 >= Duration::from_millis(2000),
        "level 2 delivered after {t2:?}"
    );
    let two = &both[1];
    assert_eq!(&two.body[..], b"two");
    assert_eq!(two.tags(), Some("tg"));
    assert_eq!(two.keys(), Some("two"));
    assert_eq!(two.property("REAL_TOPIC"), Some("DelayT"));
    assert_eq!(
        two.property("DELAY"),
        None,
        "DELAY must be removed on delivery"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_neither_redelivers_nor_skips() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "messageDelayLevel=1s 4s");
    let mut broker = start_broker(&setup);
    let c = RemotingClient::new();
    for (level, body) in [("1", "early"), ("2", "late")] {
        let r = c
            .invoke(
                &setup.addr,
                send_v2("DelayR", body.as_bytes(), &[("DELAY", level)]),
                T,
            )
            .await
            .unwrap();
        assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    }
    let got = wait_for(&c, &setup.addr, "DelayR", 1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1);
    // Stop cleanly while "late" is still waiting, then start again on the same store.
    sigterm(&mut broker);
    let delay_offsets =
        std::fs::read_to_string(dir.path().join("store/config/delayOffset.json")).unwrap();
    assert!(
        delay_offsets.contains("1:1"),
        "level-1 progress not saved: {delay_offsets}"
    );
    let _broker = start_broker(&setup);
    let got = wait_for(&c, &setup.addr, "DelayR", 2, Duration::from_secs(15)).await;
    let bodies: Vec<&[u8]> = got.iter().map(|m| &m.body[..]).collect();
    assert_eq!(bodies, vec![&b"early"[..], &b"late"[..]]);
    // Give a wrongly restarted loop time to re-deliver, then check nothing was duplicated.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(pull_all(&c, &setup.addr, "DelayR").await.len(), 2);
}

/// Reads the record at commit-log `offset` through VIEW_MESSAGE_BY_ID.
async fn view(c: &RemotingClient, addr: &str, offset: i64) -> rmq_common::MessageExt {
    let req = rmq_remoting::RemotingCommand::new_request(
        rmq_remoting::codes::request::VIEW_MESSAGE_BY_ID,
    )
    .with_header(&rmq_remoting::protocol::header::ViewMessageRequestHeader { offset });
    let r = c.invoke(addr, req, T).await.unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    decode_records(r.body_bytes()).unwrap().remove(0)
}

/// The commit-log offset of the message a send response names (its offset msgId).
fn stored_offset(r: &rmq_remoting::RemotingCommand) -> i64 {
    rmq_common::msgid::decode_offset_msg_id(&sent(r).msg_id)
        .unwrap()
        .1
}

/// The tagsCode of entry `index` of a consume-queue file (20-byte entries: phy, size, tags).
fn cq_tags_code(store: &std::path::Path, topic: &str, queue_id: i32, index: usize) -> i64 {
    let path = store.join(format!(
        "consumequeue/{topic}/{queue_id}/00000000000000000000"
    ));
    let bytes = std::fs::read(&path).unwrap();
    let at = index * 20 + 12;
    i64::from_be_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// `CommitLog.putMessage`: a level above the highest configured one (18 by default) is stored
/// as the highest, in the queue id, in the DELAY property and in the delivery time the
/// dispatcher writes as tagsCode; `rmq-inspect verify` accepts the store.
#[tokio::test(flavor = "multi_thread")]
async fn a_level_above_the_highest_is_stored_as_the_highest() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "");
    let mut broker = start_broker(&setup);
    let c = RemotingClient::new();
    let req = send_v2("DelayMax", b"later", &[("DELAY", "40"), ("TAGS", "tg")]);
    let offset = stored_offset(&send_ok(&c, &setup.addr, req).await);
    wait_dispatched(&c, &setup.addr, "SCHEDULE_TOPIC_XXXX", 17, 1).await;
    let parked = view(&c, &setup.addr, offset).await;
    assert_eq!(parked.topic, "SCHEDULE_TOPIC_XXXX");
    assert_eq!(parked.queue_id, 17, "level 18 -> queue 17");
    assert_eq!(parked.property("DELAY"), Some("18"), "DELAY rewritten");
    assert_eq!(parked.property("REAL_TOPIC"), Some("DelayMax"));
    // A level within range is stored as the producer wrote it (parseInt reads "+2" as 2).
    let req = send_v2("DelayMax", b"soon", &[("DELAY", "+2")]);
    let offset = stored_offset(&send_ok(&c, &setup.addr, req).await);
    let parked2 = view(&c, &setup.addr, offset).await;
    assert_eq!(
        (parked2.queue_id, parked2.property("DELAY")),
        (1, Some("+2"))
    );
    wait_dispatched(&c, &setup.addr, "SCHEDULE_TOPIC_XXXX", 1, 1).await;
    sigterm(&mut broker);
    let store = dir.path().join("store");
    assert_eq!(
        cq_tags_code(&store, "SCHEDULE_TOPIC_XXXX", 17, 0),
        parked.store_timestamp + 2 * 3_600_000,
        "deliver time = store time + 2 h"
    );
    let report = rmq_inspect::verify_store(&store, &rmq_inspect::Options::default()).unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(report.messages, 2, "{}", report.summary());
}

/// Stops the broker cleanly and checks that `rmq-inspect verify` accepts its store, which
/// holds `messages` records.
fn stop_and_verify(broker: &mut Proc, store: &std::path::Path, messages: usize) {
    sigterm(broker);
    let report = rmq_inspect::verify_store(store, &rmq_inspect::Options::default()).unwrap();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(report.messages, messages, "{}", report.summary());
}

/// `Message.getDelayTimeLevel` is `Integer.parseInt(DELAY)`: a value that is not a 32-bit
/// decimal number throws, and 4.8.0 answers SYSTEM_ERROR without storing anything; 0 and
/// negative levels are stored in the real topic as they are, not delayed.
#[tokio::test(flavor = "multi_thread")]
async fn a_delay_that_is_not_a_number_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "");
    let mut broker = start_broker(&setup);
    let c = RemotingClient::new();
    for bad in ["abc", "1.5", "99999999999", " 3", "-"] {
        let r = c
            .invoke(&setup.addr, send_v2("DelayBad", b"x", &[("DELAY", bad)]), T)
            .await
            .unwrap();
        assert_eq!(r.code, rs::SYSTEM_ERROR, "DELAY {bad:?}: {:?}", r.remark);
        let want = format!("java.lang.NumberFormatException: For input string: \"{bad}\"");
        assert_eq!(r.remark.as_deref(), Some(want.as_str()), "DELAY {bad:?}");
    }
    for level in ["-1", "0"] {
        send_ok(
            &c,
            &setup.addr,
            send_v2("DelayBad", level.as_bytes(), &[("DELAY", level)]),
        )
        .await;
    }
    wait_dispatched(&c, &setup.addr, "DelayBad", 0, 2).await;
    let got = pull_all(&c, &setup.addr, "DelayBad").await;
    let delays: Vec<_> = got.iter().map(|m| m.property("DELAY")).collect();
    assert_eq!(
        delays,
        vec![Some("-1"), Some("0")],
        "stored as sent, not delayed"
    );
    stop_and_verify(&mut broker, &dir.path().join("store"), 2);
}

/// A batch entry for [`send_batch`]: body and properties.
type BatchEntry<'a> = (&'a [u8], &'a [(&'a str, &'a str)]);

/// One SEND_BATCH_MESSAGE entry: totalSize, magic, bodyCRC, flag, body, properties (i16 length).
fn batch_entry(out: &mut Vec<u8>, body: &[u8], props: &[(&str, &str)]) {
    let props: Vec<(String, String)> = props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let props = rmq_common::message::encode_properties(&props);
    let total = 22 + body.len() + props.len();
    out.extend_from_slice(&(total as i32).to_be_bytes());
    out.extend_from_slice(&[0; 12]); // magic, CRC, flag
    out.extend_from_slice(&(body.len() as i32).to_be_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&(props.len() as i16).to_be_bytes());
    out.extend_from_slice(props.as_bytes());
}

fn send_batch(
    topic: &str,
    header: &[(&str, &str)],
    entries: &[BatchEntry],
) -> rmq_remoting::RemotingCommand {
    let mut body = Vec::new();
    for (b, p) in entries {
        batch_entry(&mut body, b, p);
    }
    let batch = rmq_remoting::protocol::header::SendMessageRequestHeader {
        batch: true,
        ..send_header(topic, header)
    };
    let mut req = send_v2_of(batch, &body);
    req.code = rmq_remoting::codes::request::SEND_BATCH_MESSAGE;
    req
}

/// 4.8.0 `putMessages`: a DELAY among the batch's own properties makes the batch illegal (or
/// a SYSTEM_ERROR when it is not a number); an entry's DELAY is stored as it is and the entry
/// is not delayed; where the batch and an entry both set a property, the batch's value wins
/// (4.8.0 appends the batch's properties after the entry's). Returns the broker.
async fn check_batch_delays(dir: &std::path::Path, ns: &str, extra_conf: &str) -> Proc {
    let setup = write_broker_conf(dir, ns, extra_conf);
    let broker = start_broker(&setup);
    let c = RemotingClient::new();
    wait_writable(&c, ns).await;
    let one: &[BatchEntry] = &[(b"e", &[])];
    for (delay, code) in [("2", rs::MESSAGE_ILLEGAL), ("x", rs::SYSTEM_ERROR)] {
        let req = send_batch("DelayBatch", &[("DELAY", delay)], one);
        let r = c.invoke(&setup.addr, req, T).await.unwrap();
        assert_eq!(r.code, code, "batch DELAY {delay}: {:?}", r.remark);
    }
    let entries: &[BatchEntry] = &[
        (b"d2", &[("DELAY", "2"), ("TAGS", "a")]),
        (b"dx", &[("DELAY", "abc"), ("TAGS", "a")]),
    ];
    send_ok(
        &c,
        &setup.addr,
        send_batch("DelayBatch", &[("TAGS", "b")], entries),
    )
    .await;
    wait_dispatched(&c, &setup.addr, "DelayBatch", 0, 2).await;
    let got = pull_all(&c, &setup.addr, "DelayBatch").await;
    assert_eq!(got.len(), 2, "both entries at once in the real topic");
    assert_eq!(got[0].property("DELAY"), Some("2"));
    assert_eq!(got[1].property("DELAY"), Some("abc"));
    assert!(
        got.iter().all(|m| m.tags() == Some("b")),
        "the batch's TAGS wins"
    );
    broker
}

/// Waits until the name server lists a brokerId 0 (a DLedger broker takes writes only then).
async fn wait_writable(c: &RemotingClient, ns: &str) {
    use rmq_remoting::protocol::{decode_body, ClusterInfo};
    let start = Instant::now();
    loop {
        let req = rmq_remoting::RemotingCommand::new_request(
            rmq_remoting::codes::request::GET_BROKER_CLUSTER_INFO,
        );
        if let Ok(r) = c.invoke(ns, req, T).await {
            let masters = decode_body::<ClusterInfo>(r.body_bytes())
                .map(|ci| {
                    ci.broker_addr_table
                        .values()
                        .any(|bd| bd.broker_addrs.contains_key(&0))
                })
                .unwrap_or(false);
            if masters {
                return;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no writable broker"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn batches_ignore_entry_delays_and_refuse_a_batch_delay() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let mut broker = check_batch_delays(dir.path(), &ns, "").await;
    let store = dir.path().join("store");
    stop_and_verify(&mut broker, &store, 2);
    let b_hash = i64::from(rmq_common::message::java_string_hash("b"));
    assert_eq!(cq_tags_code(&store, "DelayBatch", 0, 1), b_hash);
}

/// The same on a one-node DLedger group, where a batch is replicated entry by entry.
#[tokio::test(flavor = "multi_thread")]
async fn dledger_batches_ignore_entry_delays_and_refuse_a_batch_delay() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let port = rmq_testkit::free_port().unwrap();
    let conf = format!(
        "enableDLegerCommitLog=true\ndLegerGroup=broker-t\ndLegerPeers=n0-127.0.0.1:{port}\n\
         dLegerSelfId=n0\nmappedFileSizeCommitLog=4194304"
    );
    let mut broker = check_batch_delays(dir.path(), &ns, &conf).await;
    sigterm(&mut broker);
}
