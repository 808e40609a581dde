//! End-to-end tests: the real `mqnamesrv` and `mqbroker` binaries on 127.0.0.1, driven over
//! real TCP with rmq-remoting's client. Run `cargo build --workspace --bins` first (or at least
//! `cargo build -p rmq-namesrv --bins`) so `mqnamesrv` sits next to the test executable.

use rmq_common::message::{decode_record, decode_records, keys};
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::admin::{LockBatchRequestBody, LockBatchResponseBody, MessageQueue};
use rmq_remoting::protocol::header::{
    ConsumerSendMsgBackRequestHeader, CreateTopicRequestHeader,
    GetConsumerListByGroupRequestHeader, GetRouteInfoRequestHeader, PullMessageResponseHeader,
    QueryConsumerOffsetRequestHeader, QueryConsumerOffsetResponseHeader, QueryMessageRequestHeader,
    UpdateConsumerOffsetRequestHeader, ViewMessageRequestHeader,
};
use rmq_remoting::protocol::{decode_body, TopicRouteData};
use rmq_remoting::{RemotingClient, RemotingCommand};
use std::io::Write;
use std::process::Command;
use std::time::Duration;

mod common;
use common::*;

/// The pull reply's `nextBeginOffset`.
fn next_begin_offset(r: &RemotingCommand) -> i64 {
    r.decode_header::<PullMessageResponseHeader>()
        .unwrap()
        .next_begin_offset
}

#[tokio::test(flavor = "multi_thread")]
async fn send_pull_route_and_offsets_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "");
    let mut broker = start_broker(&setup);
    let c = RemotingClient::new();

    // v2 send auto-creates the topic.
    let r = c
        .invoke(
            &setup.addr,
            send_v2("TopicA", b"hello-v2", &[("TAGS", "x"), ("KEYS", "k1")]),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    assert_eq!(sent(&r).queue_offset, 0);
    assert_eq!(r.ext(keys::MSG_REGION), Some("DefaultRegion"));
    let msg_id = sent(&r).msg_id;
    assert_eq!(msg_id.len(), 32);

    // v1 send with long header names.
    let v1 = RemotingCommand::new_request(rq::SEND_MESSAGE)
        .with_header(&rmq_remoting::protocol::header::SendMessageRequestHeader {
            born_timestamp: Some(2),
            reconsume_times: None,
            ..send_header("TopicA", &[("TAGS", "y")])
        })
        .with_body(b"hello-v1".to_vec());
    let r = c.invoke(&setup.addr, v1, T).await.unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    assert_eq!(sent(&r).queue_offset, 1);

    // The route is visible in the name server (registration happens at once on topic change).
    let mut route = None;
    for _ in 0..50 {
        let r = c
            .invoke(
                &ns,
                RemotingCommand::new_request(rq::GET_ROUTEINFO_BY_TOPIC).with_header(
                    &GetRouteInfoRequestHeader {
                        topic: "TopicA".into(),
                    },
                ),
                T,
            )
            .await
            .unwrap();
        if r.code == rs::SUCCESS {
            route = Some(decode_body::<TopicRouteData>(r.body_bytes()).unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let route = route.expect("route for TopicA");
    assert_eq!(route.broker_datas[0].broker_name, "broker-t");

    wait_dispatched(&c, &setup.addr, "TopicA", 0, 2).await;
    // Pull both back with the properties intact, CLUSTER added.
    let r = c
        .invoke(&setup.addr, pull("TopicA", 0, 0x4, 0), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    assert_eq!(next_begin_offset(&r), 2);
    let body = r.body_bytes();
    let (m1, n) = decode_record(body).unwrap();
    let (m2, _) = decode_record(&body[n..]).unwrap();
    assert_eq!(&m1.body[..], b"hello-v2");
    assert_eq!(&m2.body[..], b"hello-v1");
    assert!(m1
        .properties
        .contains(&("CLUSTER".into(), "TestCluster".into())));
    assert!(m1.properties.contains(&("KEYS".into(), "k1".into())));

    // At the end: PULL_NOT_FOUND with nextBeginOffset = offset.
    let r = c
        .invoke(&setup.addr, pull("TopicA", 2, 0x4, 0), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::PULL_NOT_FOUND);
    assert_eq!(next_begin_offset(&r), 2);
    let r = c
        .invoke(&setup.addr, pull("TopicA", 9, 0x4, 0), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::PULL_OFFSET_MOVED);

    // View by offset msg id and query by key.
    let phy = rmq_common::msgid::decode_offset_msg_id(&msg_id).unwrap().1;
    let r = c
        .invoke(
            &setup.addr,
            RemotingCommand::new_request(rq::VIEW_MESSAGE_BY_ID)
                .with_header(&ViewMessageRequestHeader { offset: phy }),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(
        &decode_record(r.body_bytes()).unwrap().0.body[..],
        b"hello-v2"
    );
    let q =
        RemotingCommand::new_request(rq::QUERY_MESSAGE).with_header(&QueryMessageRequestHeader {
            topic: "TopicA".into(),
            key: "k1".into(),
            max_num: Some(32),
            begin_timestamp: Some(0),
            end_timestamp: Some(i64::MAX),
        });
    let r = c.invoke(&setup.addr, q, T).await.unwrap();
    assert_eq!(r.code, rs::SUCCESS);

    // Offsets: none yet -> 0 for a queue starting at 0; commit; survives a clean restart.
    let query = || {
        RemotingCommand::new_request(rq::QUERY_CONSUMER_OFFSET).with_header(
            &QueryConsumerOffsetRequestHeader {
                consumer_group: "CG".into(),
                topic: "TopicA".into(),
                queue_id: 0,
            },
        )
    };
    let offset = |r: &RemotingCommand| {
        r.decode_header::<QueryConsumerOffsetResponseHeader>()
            .unwrap()
            .offset
    };
    let r = c.invoke(&setup.addr, query(), T).await.unwrap();
    assert_eq!((r.code, offset(&r)), (rs::SUCCESS, 0));
    let upd = RemotingCommand::new_request(rq::UPDATE_CONSUMER_OFFSET).with_header(
        &UpdateConsumerOffsetRequestHeader {
            consumer_group: "CG".into(),
            topic: "TopicA".into(),
            queue_id: 0,
            commit_offset: 2,
        },
    );
    assert_eq!(
        c.invoke(&setup.addr, upd, T).await.unwrap().code,
        rs::SUCCESS
    );
    let r = c.invoke(&setup.addr, query(), T).await.unwrap();
    assert_eq!(offset(&r), 2);

    // Clean shutdown (SIGTERM) flushes consumerOffset.json with bare integer keys.
    let pid = broker.child.id();
    Command::new("kill").arg(pid.to_string()).status().unwrap();
    let status = broker.child.wait().unwrap();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let text =
        std::fs::read_to_string(dir.path().join("store/config/consumerOffset.json")).unwrap();
    assert!(text.contains("\"TopicA@CG\":{0:2}"), "{text}");
    c.close_connection(&setup.addr);
    broker = start_broker(&setup);
    let r = c.invoke(&setup.addr, query(), T).await.unwrap();
    assert_eq!(offset(&r), 2);
    let r = c
        .invoke(&setup.addr, pull("TopicA", 0, 0x4, 0), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS, "messages survive restart");
    drop(broker);
}

#[tokio::test(flavor = "multi_thread")]
async fn long_polling_returns_when_a_message_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "");
    let _broker = start_broker(&setup);
    let c = RemotingClient::new();
    let r = c
        .invoke(&setup.addr, send_v2("LP", b"first", &[]), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    wait_dispatched(&c, &setup.addr, "LP", 0, 1).await;
    let addr = setup.addr.clone();
    let c2 = c.clone();
    let waiter = tokio::spawn(async move {
        let started = std::time::Instant::now();
        let r = c2
            .invoke(
                &addr,
                pull("LP", 1, 0x4 | 0x2, 20_000),
                Duration::from_secs(30),
            )
            .await
            .unwrap();
        (r, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    if waiter.is_finished() {
        let (r, _) = waiter.await.unwrap();
        panic!(
            "the pull must stay parked while the queue is empty, got {} {:?}",
            r.code, r.remark
        );
    }
    let r = c
        .invoke(&setup.addr, send_v2("LP", b"second", &[]), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    let (r, elapsed) = waiter.await.unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(
        &decode_record(r.body_bytes()).unwrap().0.body[..],
        b"second"
    );
    assert!(
        elapsed < Duration::from_secs(20),
        "woken by the arrival, not the timeout"
    );

    // Suspend timeout without a message: PULL_NOT_FOUND after the hold.
    let r = c
        .invoke(&setup.addr, pull("LP", 2, 0x4 | 0x2, 300), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::PULL_NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn heartbeat_consumer_list_and_locks() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "");
    let _broker = start_broker(&setup);
    let c = RemotingClient::new();
    let hb = serde_json::json!({
        "clientID": "client-1",
        "consumerDataSet": [{
            "groupName": "CG", "consumeType": "CONSUME_PASSIVELY", "messageModel": "CLUSTERING",
            "consumeFromWhere": "CONSUME_FROM_LAST_OFFSET", "unitMode": false,
            "subscriptionDataSet": [{"topic": "TopicH", "subString": "*", "tagsSet": [], "codeSet": [],
                "subVersion": 1, "classFilterMode": false, "expressionType": "TAG"}]
        }],
        "producerDataSet": [{"groupName": "PG"}]
    });
    let r = c
        .invoke(
            &setup.addr,
            RemotingCommand::new_request(rq::HEART_BEAT).with_body(hb.to_string().into_bytes()),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    let r = c
        .invoke(
            &setup.addr,
            RemotingCommand::new_request(rq::GET_CONSUMER_LIST_BY_GROUP).with_header(
                &GetConsumerListByGroupRequestHeader {
                    consumer_group: "CG".into(),
                },
            ),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    assert!(String::from_utf8_lossy(r.body_bytes()).contains("client-1"));
    let mq = MessageQueue {
        broker_name: "broker-t".into(),
        queue_id: 0,
        topic: "TopicH".into(),
    };
    let lock = |client: &str| {
        let body = LockBatchRequestBody {
            client_id: client.into(),
            consumer_group: "CG".into(),
            mq_set: vec![mq.clone()],
        };
        RemotingCommand::new_request(rq::LOCK_BATCH_MQ)
            .with_body(rmq_remoting::protocol::encode_body(&body).unwrap())
    };
    let r = c.invoke(&setup.addr, lock("client-1"), T).await.unwrap();
    let ok: LockBatchResponseBody = decode_body(r.body_bytes()).unwrap();
    assert_eq!(ok.lock_ok_mq_set, vec![mq.clone()]);
    let r = c.invoke(&setup.addr, lock("client-2"), T).await.unwrap();
    let ok: LockBatchResponseBody = decode_body(r.body_bytes()).unwrap();
    assert!(ok.lock_ok_mq_set.is_empty(), "held by client-1");
    // The retry topic of the group was created by the heartbeat.
    let r = c
        .invoke(
            &setup.addr,
            RemotingCommand::new_request(rq::GET_ALL_TOPIC_CONFIG),
            T,
        )
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(r.body_bytes()).contains("%RETRY%CG"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_codes_and_the_broker_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(
        dir.path(),
        &ns,
        "autoCreateTopicEnable=false\nmaxMessageSize=1024",
    );
    let _broker = start_broker(&setup);
    let c = RemotingClient::new();
    let r = c
        .invoke(&setup.addr, RemotingCommand::new_request(9999), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::REQUEST_CODE_NOT_SUPPORTED);
    assert_eq!(
        r.remark.as_deref(),
        Some(" request type 9999 not supported")
    );
    let r = c
        .invoke(&setup.addr, send_v2("Nope", b"x", &[]), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::TOPIC_NOT_EXIST);
    // Only what our broker needs: no defaultTopic, no topicFilterType.
    let create = RemotingCommand::new_request(rq::UPDATE_AND_CREATE_TOPIC).with_header(
        &CreateTopicRequestHeader {
            topic: "Small".into(),
            read_queue_nums: Some(2),
            write_queue_nums: Some(2),
            perm: Some(6),
            ..Default::default()
        },
    );
    assert_eq!(
        c.invoke(&setup.addr, create, T).await.unwrap().code,
        rs::SUCCESS
    );
    // A filter type TopicFilterType does not know: refused as 4.8.0's checkFields refuses it.
    let bogus = RemotingCommand::new_request(rq::UPDATE_AND_CREATE_TOPIC).with_header(
        &CreateTopicRequestHeader {
            topic: "Bogus".into(),
            topic_filter_type: Some("BOGUS_TAG".into()),
            ..Default::default()
        },
    );
    let r = c.invoke(&setup.addr, bogus, T).await.unwrap();
    assert_eq!(
        (r.code, r.remark.as_deref()),
        (
            rs::SYSTEM_ERROR,
            Some("topicFilterType = [BOGUS_TAG] value invalid")
        )
    );
    let r = c
        .invoke(&setup.addr, send_v2("Small", &vec![7u8; 4096], &[]), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::MESSAGE_ILLEGAL);
    let bad_qid = send_v2_of(
        rmq_remoting::protocol::header::SendMessageRequestHeader {
            queue_id: 5,
            ..send_header("Small", &[])
        },
        b"x",
    );
    assert_eq!(
        c.invoke(&setup.addr, bad_qid, T).await.unwrap().code,
        rs::SYSTEM_ERROR
    );
    // Garbage on a raw socket: the broker closes that connection and keeps serving.
    let mut s = std::net::TcpStream::connect(&setup.addr).unwrap();
    let _ = s.write_all(&[0, 0, 0, 12, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8]);
    drop(s);
    let r = c
        .invoke(&setup.addr, send_v2("Small", b"ok", &[]), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS);
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_messages_survive_kill_9_with_sync_flush() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "flushDiskType=SYNC_FLUSH");
    let broker = start_broker(&setup);
    let c = RemotingClient::new();
    for i in 0..20 {
        let m = send_v2("Durable", format!("m{i}").as_bytes(), &[]);
        send_ok(&c, &setup.addr, m).await;
    }
    let _broker2 = kill_and_restart(broker, &c, &setup);
    let r = c
        .invoke(&setup.addr, pull("Durable", 0, 0x4, 0), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(next_begin_offset(&r), 20);
}

/// A producer's sysFlag may claim IPv6 hosts (0x10 born host, 0x20 store host) on an IPv4
/// connection. The stored record must still describe itself truthfully: otherwise it is
/// never dispatched, and recovery after a crash cuts the log there, losing every later message.
#[tokio::test(flavor = "multi_thread")]
async fn ipv6_host_flags_from_an_ipv4_producer_hide_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "");
    let broker = start_broker(&setup);
    let c = RemotingClient::new();
    let lying = send_v2_of(
        rmq_remoting::protocol::header::SendMessageRequestHeader {
            sys_flag: Some(0x30),
            ..send_header("FlagTopic", &[])
        },
        b"lying-flags",
    );
    send_ok(&c, &setup.addr, lying).await;
    for i in 0..5 {
        let m = send_v2("FlagTopic", format!("after-{i}").as_bytes(), &[]);
        send_ok(&c, &setup.addr, m).await;
    }
    let bodies = |r: &RemotingCommand| -> Vec<String> {
        decode_records(r.body_bytes())
            .expect("served records decode")
            .iter()
            .map(|m| String::from_utf8_lossy(&m.body).into_owned())
            .collect()
    };
    let expected: Vec<String> = std::iter::once("lying-flags".to_string())
        .chain((0..5).map(|i| format!("after-{i}")))
        .collect();
    wait_dispatched(&c, &setup.addr, "FlagTopic", 0, 6).await;
    let r = c
        .invoke(&setup.addr, pull("FlagTopic", 0, 0x4, 0), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(bodies(&r), expected);
    // a crash makes recovery re-check every record since the checkpoint
    let _broker2 = kill_and_restart(broker, &c, &setup);
    wait_dispatched(&c, &setup.addr, "FlagTopic", 0, 6).await;
    let r = c
        .invoke(&setup.addr, pull("FlagTopic", 0, 0x4, 0), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(bodies(&r), expected, "nothing lost by the restart");
}

#[tokio::test(flavor = "multi_thread")]
async fn send_back_goes_to_schedule_topic_with_retry_target() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "");
    let _broker = start_broker(&setup);
    let c = RemotingClient::new();
    let r = c
        .invoke(&setup.addr, send_v2("SB", b"fail-me", &[("TAGS", "t")]), T)
        .await
        .unwrap();
    let phy = rmq_common::msgid::decode_offset_msg_id(&sent(&r).msg_id)
        .unwrap()
        .1;
    let back = RemotingCommand::new_request(rq::CONSUMER_SEND_MSG_BACK).with_header(
        &ConsumerSendMsgBackRequestHeader {
            offset: phy,
            group: "CG".into(),
            delay_level: Some(0),
            origin_topic: Some("SB".into()),
            max_reconsume_times: Some(16),
            ..Default::default()
        },
    );
    let r = c.invoke(&setup.addr, back, T).await.unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    wait_dispatched(&c, &setup.addr, "SCHEDULE_TOPIC_XXXX", 2, 1).await;
    // Level 3 + reconsumeTimes(0) = 3 -> SCHEDULE_TOPIC_XXXX queue 2.
    let p = RemotingCommand::new_request(rq::PULL_MESSAGE).with_header(
        &rmq_remoting::protocol::header::PullMessageRequestHeader {
            queue_id: 2,
            ..pull_header("SCHEDULE_TOPIC_XXXX", 0, 0x4, 0)
        },
    );
    let r = c.invoke(&setup.addr, p, T).await.unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let (m, _) = decode_record(r.body_bytes()).unwrap();
    assert_eq!(&m.body[..], b"fail-me");
    assert_eq!(m.reconsume_times, 1);
    let get = |k: &str| {
        m.properties
            .iter()
            .find(|(pk, _)| pk == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("REAL_TOPIC").as_deref(), Some("%RETRY%CG"));
    assert_eq!(get("RETRY_TOPIC").as_deref(), Some("SB"));
    assert_eq!(get("DELAY").as_deref(), Some("3"));
    assert!(get("ORIGIN_MESSAGE_ID").is_some());
}

#[test]
fn incomplete_dledger_settings_and_bad_values_are_refused_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let setup = write_broker_conf(dir.path(), "127.0.0.1:1", "enableDLegerCommitLog=true");
    let out = Command::new(env!("CARGO_BIN_EXE_mqbroker"))
        .arg("-c")
        .arg(&setup.conf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dLegerPeers"), "{err}");
    let setup = write_broker_conf(
        dir.path(),
        "127.0.0.1:1",
        "enableDLegerCommitLog=true\ndLegerPeers=n0-127.0.0.1:1\ndLegerSelfId=x0",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mqbroker"))
        .arg("-c")
        .arg(&setup.conf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("dLegerSelfId"));
    let setup = write_broker_conf(dir.path(), "127.0.0.1:1", "flushDiskType=SOMETIMES");
    let out = Command::new(env!("CARGO_BIN_EXE_mqbroker"))
        .arg("-c")
        .arg(&setup.conf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("flushDiskType"));
}
