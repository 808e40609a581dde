//! The broker reads the C++ core's request bodies (rocketmq-client-cpp, under the Python,
//! Node.js and cgo Go clients) as 4.8.0's fastjson does, and a body it still refuses gets
//! SYSTEM_ERROR with the reason and a log line naming the code and the peer.

use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::admin::ConsumerConnection;
use rmq_remoting::protocol::{decode_body, ConsumeType, MessageModel};
use rmq_remoting::{RemotingClient, RemotingCommand};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::*;

/// Starts the broker of `setup` with its log in `log` (the testkit discards it).
fn start_broker_logging(setup: &BrokerSetup, log: &Path) -> Proc {
    let out = std::fs::File::create(log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_mqbroker"))
        .arg("-c")
        .arg(&setup.conf)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let proc = Proc::new(child);
    wait_for_line(log, "boot success");
    proc
}

fn wait_for_line(log: &Path, needle: &str) -> String {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.contains(needle)) {
            return line.to_string();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no {needle:?} in {}:\n{text}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A push consumer's heartbeat in the C++ core's shape (spec §21): ordinals, `subVersion` as
/// a string, no `tagsSet`/`expressionType`/`unitMode`, a trailing newline.
const CPP_HEARTBEAT: &str = concat!(
    r#"{"clientID":"4242-127.0.0.1@DEFAULT","consumerDataSet":[{"consumeFromWhere":0,"consumeType":1,"#,
    r#""groupName":"cpp_cg","messageModel":1,"subscriptionDataSet":[{"subString":"*","#,
    r#""subVersion":"1796573847321","topic":"CppTopic"}]}]}"#,
    "\n"
);

#[tokio::test(flavor = "multi_thread")]
async fn cpp_heartbeat_registers_and_a_refused_body_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "");
    let log = dir.path().join("broker.log");
    let _broker = start_broker_logging(&setup, &log);
    let c = RemotingClient::new();

    let hb =
        RemotingCommand::new_request(rq::HEART_BEAT).with_body(CPP_HEARTBEAT.as_bytes().to_vec());
    let r = c.invoke(&setup.addr, hb, T).await.unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let req = RemotingCommand::new_request(rq::GET_CONSUMER_CONNECTION_LIST).with_header(
        &rmq_remoting::protocol::header::GetConsumerConnectionListRequestHeader {
            consumer_group: "cpp_cg".into(),
        },
    );
    let r = c.invoke(&setup.addr, req, T).await.unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let conn: ConsumerConnection = decode_body(r.body_bytes()).unwrap();
    assert_eq!(conn.consume_type, Some(ConsumeType::ConsumePassively));
    assert_eq!(conn.message_model, Some(MessageModel::Clustering));
    assert_eq!(conn.connection_set.len(), 1);
    assert_eq!(conn.connection_set[0].client_id, "4242-127.0.0.1@DEFAULT");
    assert_eq!(
        conn.subscription_table["CppTopic"].sub_version,
        1_796_573_847_321
    );

    // An ordinal no enum has: refused, with the field in the remark and in the log.
    let bad = CPP_HEARTBEAT.replace("\"messageModel\":1", "\"messageModel\":7");
    let hb = RemotingCommand::new_request(rq::HEART_BEAT).with_body(bad.into_bytes());
    let r = c.invoke(&setup.addr, hb, T).await.unwrap();
    assert_eq!(r.code, rs::SYSTEM_ERROR);
    let remark = r.remark.unwrap_or_default();
    assert!(
        remark.contains("$.consumerDataSet[0].messageModel"),
        "{remark}"
    );
    let line = wait_for_line(&log, "request refused");
    assert!(line.contains("code=34"), "{line}");
    assert!(line.contains("peer=127.0.0.1:"), "{line}");
    assert!(line.contains("messageModel"), "{line}");
}
