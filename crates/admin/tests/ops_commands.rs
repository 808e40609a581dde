//! mqadmin's cluster-operations subcommands against a real `mqnamesrv` + `mqbroker` pair, each
//! checked by its effect on the servers (their config files, their answers to other
//! requests), not only by the tool's exit status.
//!
//! Book: Part III "Operating a cluster with mqadmin". 4.8.0 counterpart: the tools module's
//! command classes (`DeleteSubscriptionGroupCommand`, ...).

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use rmq_remoting::codes::{request, response};
use rmq_remoting::protocol::header::{
    QueryConsumerOffsetRequestHeader, QueryConsumerOffsetResponseHeader,
    UpdateConsumerOffsetRequestHeader,
};
use rmq_remoting::{RemotingClient, RemotingCommand};

const CLUSTER: &str = "OpsCluster";

/// One request to one server, on a runtime of its own (in a thread of its own, so async tests
/// may call it too).
fn call(addr: &str, cmd: RemotingCommand) -> RemotingCommand {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            rt.block_on(async {
                let client = RemotingClient::new();
                client
                    .invoke(addr, cmd, Duration::from_secs(5))
                    .await
                    .expect("request")
            })
        })
        .join()
        .expect("request thread")
    })
}

/// Waits until clusterList shows the broker.
fn wait_registered(ns: &str, broker_addr: &str) {
    eventually(60, || {
        let o = mqadmin(&["clusterList", "-n", ns]);
        (o.status.success() && stdout(&o).contains(broker_addr)).then_some(())
    })
    .unwrap_or_else(|| panic!("broker {broker_addr} never showed up in clusterList"));
}

/// The group names in the broker's `config/subscriptionGroup.json`.
fn groups_on_disk(store: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(store.join("config/subscriptionGroup.json"))
        .expect("subscriptionGroup.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["subscriptionGroupTable"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn commit_offset(addr: &str, group: &str, topic: &str, offset: i64) {
    let cmd = RemotingCommand::new_request(request::UPDATE_CONSUMER_OFFSET).with_header(
        &UpdateConsumerOffsetRequestHeader {
            consumer_group: group.into(),
            topic: topic.into(),
            queue_id: 0,
            commit_offset: offset,
        },
    );
    let r = call(addr, cmd);
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
}

fn stored_offset(addr: &str, group: &str, topic: &str) -> Option<i64> {
    let cmd = RemotingCommand::new_request(request::QUERY_CONSUMER_OFFSET).with_header(
        &QueryConsumerOffsetRequestHeader {
            consumer_group: group.into(),
            topic: topic.into(),
            queue_id: 0,
        },
    );
    let r = call(addr, cmd);
    (r.code == response::SUCCESS).then(|| {
        r.decode_header::<QueryConsumerOffsetResponseHeader>()
            .expect("offset header")
            .offset
    })
}

#[test]
fn delete_sub_group_removes_the_config_and_keeps_offsets() {
    let ns = NameSrv::start();
    let broker = Broker::start(&ns.addr, CLUSTER, "broker-ops");
    let n = ns.addr.as_str();
    let store = broker.dir.path().join("store");
    wait_registered(n, &broker.addr);

    ok(&["updateTopic", "-n", n, "-b", &broker.addr, "-t", "OpsTopic"]);
    ok(&[
        "updateSubGroup",
        "-n",
        n,
        "-b",
        &broker.addr,
        "-g",
        "OpsGroup",
    ]);
    assert!(groups_on_disk(&store).contains(&"OpsGroup".to_string()));
    commit_offset(&broker.addr, "OpsGroup", "OpsTopic", 5);

    // -b: the group's config goes, its offset stays (4.8.0 has no cleanOffset).
    let out = ok(&[
        "deleteSubGroup",
        "-n",
        n,
        "-b",
        &broker.addr,
        "-g",
        "OpsGroup",
    ]);
    assert_eq!(
        out,
        format!(
            "delete subscription group [OpsGroup] from broker [{}] success.\n",
            broker.addr
        )
    );
    assert!(!groups_on_disk(&store).contains(&"OpsGroup".to_string()));
    assert_eq!(stored_offset(&broker.addr, "OpsGroup", "OpsTopic"), Some(5));

    // -c: every master of the cluster, then the retry and dead-letter topics.
    ok(&["updateSubGroup", "-n", n, "-c", CLUSTER, "-g", "OpsGroup2"]);
    ok(&[
        "updateTopic",
        "-n",
        n,
        "-c",
        CLUSTER,
        "-t",
        "%RETRY%OpsGroup2",
    ]);
    let listed = eventually(30, || {
        let out = ok(&["topicList", "-n", n]);
        out.contains("%RETRY%OpsGroup2").then_some(())
    });
    assert!(
        listed.is_some(),
        "the retry topic never reached the name server"
    );
    let out = ok(&["deleteSubGroup", "-n", n, "-c", CLUSTER, "-g", "OpsGroup2"]);
    assert!(
        out.starts_with(&format!(
            "delete subscription group [OpsGroup2] from broker [{}] in cluster [{CLUSTER}] success.\n",
            broker.addr
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "delete topic [%RETRY%OpsGroup2] from cluster [{CLUSTER}] success.\n\
             delete topic [%RETRY%OpsGroup2] from NameServer success.\n\
             delete topic [%DLQ%OpsGroup2] from cluster [{CLUSTER}] success.\n"
        )),
        "{out}"
    );
    assert!(!groups_on_disk(&store).contains(&"OpsGroup2".to_string()));
    assert!(!ok(&["topicList", "-n", n]).contains("%RETRY%OpsGroup2"));

    // Neither -b nor -c: the usage, and nothing deleted.
    ok(&[
        "updateSubGroup",
        "-n",
        n,
        "-b",
        &broker.addr,
        "-g",
        "OpsGroup3",
    ]);
    let usage = ok(&["deleteSubGroup", "-n", n, "-g", "OpsGroup3"]);
    assert!(usage.contains("--groupName"), "{usage}");
    assert!(groups_on_disk(&store).contains(&"OpsGroup3".to_string()));
}

/// The value after `key` in getBrokerConfig / getNamesrvConfig output (`key<pad>=  value`).
fn config_value(out: &str, key: &str) -> Option<String> {
    out.lines().find_map(|l| {
        let (k, v) = l.split_once("=  ")?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

/// The perm of the broker's queue data in `topicRoute` output.
fn route_perm(ns: &str, topic: &str) -> Option<i64> {
    // fastjson's text has bare integer keys (brokerAddrs), so it is searched, not parsed.
    let o = mqadmin(&["topicRoute", "-n", ns, "-t", topic]);
    let text = stdout(&o);
    let rest = text.split("\"perm\":").nth(1)?;
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[test]
fn configuration_permission_and_cleanup_commands() {
    let ns = NameSrv::start();
    let broker = Broker::start(&ns.addr, CLUSTER, "broker-cfg");
    let n = ns.addr.as_str();
    let b = broker.addr.as_str();
    wait_registered(n, b);
    ok(&[
        "updateTopic",
        "-n",
        n,
        "-b",
        b,
        "-t",
        "CfgTopic",
        "-r",
        "4",
        "-w",
        "4",
    ]);
    eventually(30, || route_perm(n, "CfgTopic")).expect("route of CfgTopic");

    // updateBrokerConfig / getBrokerConfig: a live key, read back.
    let out = ok(&[
        "updateBrokerConfig",
        "-n",
        n,
        "-b",
        b,
        "-k",
        "brokerPermission",
        "-v",
        "4",
    ]);
    assert_eq!(out, format!("update broker config success, {b}\n"));
    let cfg = ok(&["getBrokerConfig", "-n", n, "-b", b]);
    assert!(
        cfg.starts_with(&format!("============{b}============\n")),
        "{cfg}"
    );
    assert_eq!(config_value(&cfg, "brokerPermission").as_deref(), Some("4"));
    let cfg = ok(&["getBrokerConfig", "-n", n, "-c", CLUSTER]);
    assert!(
        cfg.contains(&format!("============Master: {b}============")),
        "{cfg}"
    );
    ok(&[
        "updateBrokerConfig",
        "-n",
        n,
        "-c",
        CLUSTER,
        "-k",
        "brokerPermission",
        "-v",
        "6",
    ]);
    assert_eq!(
        config_value(
            &ok(&["getBrokerConfig", "-n", n, "-b", b]),
            "brokerPermission"
        )
        .as_deref(),
        Some("6")
    );

    // updateTopicPerm: the route shows the new permission.
    let perm_on_b = |p: &str| {
        ok(&[
            "updateTopicPerm",
            "-n",
            n,
            "-b",
            b,
            "-t",
            "CfgTopic",
            "-p",
            p,
        ])
    };
    let out = perm_on_b("4");
    assert!(
        out.starts_with(&format!("update topic perm from 6 to 4 in {b} success.\n")),
        "{out}"
    );
    assert!(out.contains("perm=R--"), "{out}");
    eventually(30, || (route_perm(n, "CfgTopic") == Some(4)).then_some(()))
        .expect("the route shows perm 4");
    let out = perm_on_b("4");
    assert_eq!(out, "new perm equals to the old one!\n");
    let out = ok(&[
        "updateTopicPerm",
        "-n",
        n,
        "-c",
        CLUSTER,
        "-t",
        "CfgTopic",
        "-p",
        "6",
    ]);
    assert_eq!(
        out,
        format!("update topic perm from 4 to 6 in {b} success.\n")
    );

    // topicClusterList
    assert_eq!(
        ok(&["topicClusterList", "-n", n, "-t", "CfgTopic"]),
        format!("{CLUSTER}\n")
    );

    // wipeWritePerm: the name server's route loses the write bit (the broker's next
    // registration restores it).
    let out = ok(&["wipeWritePerm", "-n", n, "-b", "broker-cfg"]);
    assert!(
        out.starts_with(&format!(
            "wipe write perm of broker[broker-cfg] in name server[{n}] OK, "
        )),
        "{out}"
    );
    let wiped: i64 = out.trim().rsplit(' ').next().unwrap().parse().unwrap();
    assert!(wiped >= 1, "{out}");
    assert_eq!(route_perm(n, "CfgTopic").map(|p| p & 2), Some(0));

    // updateKvConfig / deleteKvConfig / updateOrderConf: the name server's KV table.
    let out = ok(&[
        "updateKvConfig",
        "-n",
        n,
        "-s",
        "OpsSpace",
        "-k",
        "k1",
        "-v",
        "v1",
    ]);
    assert_eq!(out, "create or update kv config to namespace success.\n");
    let kv = std::fs::read_to_string(ns_kv_path(&ns)).unwrap_or_default();
    assert!(kv.contains("OpsSpace") && kv.contains("v1"), "{kv}");
    assert_eq!(
        ok(&["deleteKvConfig", "-n", n, "-s", "OpsSpace", "-k", "k1"]),
        "delete kv config from namespace success.\n"
    );
    let kv = std::fs::read_to_string(ns_kv_path(&ns)).unwrap_or_default();
    assert!(!kv.contains("v1"), "{kv}");
    ok(&[
        "updateOrderConf",
        "-n",
        n,
        "-t",
        "CfgTopic",
        "-m",
        "put",
        "-v",
        "broker-cfg:4",
    ]);
    assert_eq!(
        ok(&["updateOrderConf", "-n", n, "-t", "CfgTopic", "-m", "get"]),
        "get orderConf success. topic=[CfgTopic], orderConf=[broker-cfg:4] \n"
    );
    ok(&["updateOrderConf", "-n", n, "-t", "CfgTopic", "-m", "delete"]);
    assert!(
        !mqadmin(&["updateOrderConf", "-n", n, "-t", "CfgTopic", "-m", "get"])
            .status
            .success()
    );

    // getNamesrvConfig / updateNamesrvConfig
    let out = ok(&[
        "updateNamesrvConfig",
        "-n",
        n,
        "-k",
        "orderMessageEnable",
        "-v",
        "true",
    ]);
    assert_eq!(
        out,
        format!("update name server config success![{n}]\norderMessageEnable : true\n")
    );
    let cfg = ok(&["getNamesrvConfig", "-n", n]);
    assert!(
        cfg.starts_with(&format!("============{n}============\n")),
        "{cfg}"
    );
    assert_eq!(
        config_value(&cfg, "orderMessageEnable").as_deref(),
        Some("true")
    );

    // allocateMQ: four queues shared by two consumer ids.
    let out = ok(&[
        "allocateMQ",
        "-n",
        n,
        "-t",
        "CfgTopic",
        "-i",
        "10.0.0.1,10.0.0.2",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        v["result"]["10.0.0.1"].as_array().map(Vec::len),
        Some(2),
        "{out}"
    );
    assert_eq!(v["result"]["10.0.0.2"][0]["queueId"], 2, "{out}");

    // queryCq: one message, then its consume-queue entry.
    ok(&[
        "sendMessage",
        "-n",
        n,
        "-t",
        "CfgTopic",
        "-p",
        "cq",
        "-b",
        "broker-cfg",
        "-i",
        "1",
    ]);
    let out = ok(&[
        "queryCq", "-n", n, "-t", "CfgTopic", "-q", "1", "-i", "0", "-c", "5",
    ]);
    assert!(out.contains("Queue data: \nmax: 1, min: 0\n"), "{out}");
    assert!(
        out.contains("idx: 0\nConsumeQueueData{physicOffset="),
        "{out}"
    );

    // cleanUnusedTopic: a consume queue whose topic is gone from the broker's table goes.
    let cq_dir = broker.dir.path().join("store/consumequeue/CfgTopic");
    assert!(cq_dir.exists());
    ok(&["cleanExpiredCQ", "-n", n, "-b", b]); // nothing expired: keeps CfgTopic
    assert!(cq_dir.exists());
    assert_eq!(ok(&["cleanExpiredCQ", "-n", n, "-c", CLUSTER]), "success\n");
    assert!(cq_dir.exists(), "a live queue is not expired");
    assert_eq!(ok(&["cleanUnusedTopic", "-n", n, "-b", b]), "success\n");
    assert!(cq_dir.exists(), "CfgTopic is still a topic");
}

/// The name server's KV file (the testkit starts it with kvConfigPath under its temp dir).
fn ns_kv_path(ns: &NameSrv) -> std::path::PathBuf {
    ns.dir().join("kvConfig.json")
}

/// Runs mqadmin for a command that never ends by itself (clusterRT, startMonitoring) until its
/// output contains `needle`, then kills it; returns the output so far.
fn run_until(args: &[&str], needle: &str, secs: u64) -> String {
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mqadmin"))
        .args(args)
        .env_remove("NAMESRV_ADDR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn mqadmin");
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let mut out = Vec::new();
    while std::time::Instant::now() < deadline {
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) {
            out.extend(chunk);
        }
        if String::from_utf8_lossy(&out).contains(needle) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn message_stats_and_client_commands() {
    use rmq_client::consumer::{
        ConsumeConcurrentlyStatus, ConsumeFromWhere, MessageListener, PushConsumer,
        PushConsumerConfig,
    };
    use rmq_client::{Message, Producer, ProducerConfig};

    let ns = NameSrv::start();
    let broker = Broker::start(&ns.addr, CLUSTER, "broker-msg");
    let n = ns.addr.clone();
    let b = broker.addr.clone();
    let n = n.as_str();
    let b = b.as_str();
    wait_registered(n, b);
    ok(&[
        "updateTopic",
        "-n",
        n,
        "-c",
        CLUSTER,
        "-t",
        "MsgTopic",
        "-r",
        "2",
        "-w",
        "2",
    ]);
    eventually(30, || route_perm(n, "MsgTopic")).expect("route");

    // A live producer (group OpsProducer) sends six messages, three per tag.
    let mut pc = ProducerConfig::new("OpsProducer", n.to_string());
    pc.client.instance_name = Some("ops-producer".into());
    let producer = Producer::start(pc).await.expect("producer");
    let mut uniq = String::new();
    for i in 0..6 {
        let tag = if i % 2 == 0 { "TagA" } else { "TagB" };
        let msg = Message::new("MsgTopic", format!("body-{i}").into_bytes())
            .with_tags(tag)
            .with_keys(format!("key-{i}"));
        let r = producer.send(msg).await.expect("send");
        uniq = r.msg_id.clone();
    }

    // queryMsgByUniqueKey: the last message, without an OffsetID line.
    let out = ok(&[
        "queryMsgByUniqueKey",
        "-n",
        n,
        "-t",
        "MsgTopic",
        "-i",
        &uniq,
    ]);
    assert!(out.starts_with("Topic:               MsgTopic\n"), "{out}");
    assert!(out.contains("Keys:                [key-5]"), "{out}");

    // queryMsgByOffset: queue 0 offset 0 holds one of the messages.
    let out = ok(&[
        "queryMsgByOffset",
        "-n",
        n,
        "-t",
        "MsgTopic",
        "-b",
        "broker-msg",
        "-i",
        "0",
        "-o",
        "0",
    ]);
    assert!(out.starts_with("OffsetID:"), "{out}");
    assert!(out.contains("Queue Offset:        0\n"), "{out}");

    // printMsg: every message, bodies printed.
    let out = ok(&["printMsg", "-n", n, "-t", "MsgTopic"]);
    assert_eq!(out.matches("MSGID: ").count(), 6, "{out}");
    assert!(out.contains("BODY: body-3"), "{out}");
    assert!(out.contains("minOffset=0, maxOffset="), "{out}");
    let out = ok(&["printMsg", "-n", n, "-t", "MsgTopic", "-d", "false"]);
    assert_eq!(out.matches("BODY: NOT PRINT BODY").count(), 6, "{out}");

    // printMsgByQueue -f: the tags of both queues add up to three each.
    let mut counts = std::collections::BTreeMap::new();
    for q in ["0", "1"] {
        let out = ok(&[
            "printMsgByQueue",
            "-n",
            n,
            "-t",
            "MsgTopic",
            "-a",
            "broker-msg",
            "-i",
            q,
            "-f",
            "true",
        ]);
        for l in out.lines() {
            let (tag, count) = l
                .strip_prefix("Tag: ")
                .and_then(|r| r.split_once(" Count: "))
                .expect("a tag line");
            *counts.entry(tag.trim().to_string()).or_insert(0) += count.parse::<i32>().unwrap();
        }
    }
    assert_eq!(counts.get("TagA"), Some(&3), "{counts:?}");
    assert_eq!(counts.get("TagB"), Some(&3), "{counts:?}");

    // producerConnection: the live producer.
    // (the broker learns of the producer from its heartbeat, sent every few seconds)
    let out = eventually(40, || {
        let o = mqadmin(&[
            "producerConnection",
            "-n",
            n,
            "-g",
            "OpsProducer",
            "-t",
            "MsgTopic",
        ]);
        o.status.success().then(|| stdout(&o))
    })
    .expect("producerConnection lists OpsProducer");
    assert!(out.starts_with("0001  "), "{out}");
    assert!(
        out.contains("ops-producer") && out.contains("V4_8_0"),
        "{out}"
    );

    // sendMsgStatus and checkMsgSendRT: sends that land (the broker's own topic grows).
    let out = ok(&[
        "sendMsgStatus",
        "-n",
        n,
        "-b",
        "broker-msg",
        "-c",
        "3",
        "-s",
        "20",
    ]);
    assert_eq!(
        out.matches("SendResult [sendStatus=SEND_OK").count(),
        3,
        "{out}"
    );
    let out = ok(&[
        "checkMsgSendRT",
        "-n",
        n,
        "-t",
        "MsgTopic",
        "-a",
        "4",
        "-s",
        "10",
    ]);
    assert_eq!(
        out.lines().filter(|l| l.contains("  true  ")).count(),
        4,
        "{out}"
    );
    assert!(out.contains("Avg RT: "), "{out}");

    // A live push consumer of group OpsConsumer reads everything.
    let mut cc = PushConsumerConfig::new("OpsConsumer", n.to_string());
    cc.client.instance_name = Some("ops-consumer".into());
    cc.client.persist_consumer_offset_interval = Duration::from_millis(500);
    cc.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cc.offset_store_dir = Some(broker.dir.path().join("client-offsets"));
    let consumed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = consumed.clone();
    let listener = MessageListener::concurrently(move |msgs, _| {
        seen.fetch_add(msgs.len(), std::sync::atomic::Ordering::SeqCst);
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    let consumer = PushConsumer::start(cc, &[("MsgTopic", "*")], listener)
        .await
        .expect("consumer");
    // Committed offsets reach the broker: brokerConsumeStats shows the group with no lag.
    let stats = eventually(40, || {
        let out = ok(&["brokerConsumeStats", "-n", n, "-b", b]);
        (out.contains("OpsConsumer") && out.contains("Diff Total: 0")).then_some(out)
    })
    .expect("brokerConsumeStats shows OpsConsumer caught up");
    assert!(stats.starts_with("#Topic"), "{stats}");

    // consumerStatus: the consumer's own report, relayed by the broker.
    // (without -i it saves each report as <now>/<clientId> in the working directory)
    let reports = tempfile::tempdir().expect("tempdir");
    let out = ok_in(
        reports.path(),
        &["consumerStatus", "-n", n, "-g", "OpsConsumer"],
    );
    assert!(out.starts_with("001  "), "{out}");
    let saved = out.split_whitespace().nth(3).expect("report path");
    let report = std::fs::read_to_string(reports.path().join(saved)).expect("saved report");
    assert!(report.starts_with("#Consumer Properties#"), "{report}");
    assert!(
        out.contains("Same subscription in the same group of consumer"),
        "{out}"
    );
    assert!(out.contains("Rebalance OK"), "{out}");
    let client_id = out
        .split_whitespace()
        .nth(1)
        .expect("client id")
        .to_string();
    let out = ok(&[
        "consumerStatus",
        "-n",
        n,
        "-g",
        "OpsConsumer",
        "-i",
        &client_id,
    ]);
    assert!(out.starts_with("#Consumer Properties#\n"), "{out}");
    assert!(out.contains("#Consumer Offset#"), "{out}");

    // statsAll: six messages put today, six read by OpsConsumer.
    // (ten put: six above and four by checkMsgSendRT; the broker samples its counters once
    // a second, so the row is read until it shows them.)
    let row = |out: &str| -> Option<Vec<String>> {
        let l = out.lines().find(|l| l.contains("OpsConsumer"))?;
        Some(l.split_whitespace().map(String::from).collect())
    };
    let out = eventually(20, || {
        let out = ok(&["statsAll", "-n", n, "-t", "MsgTopic"]);
        let r = row(&out)?;
        (r[5] == "10" && r[6] == "10").then_some(out)
    })
    .expect("statsAll shows 10 in and 10 out");
    let r = row(&out).unwrap();
    assert_eq!((r[0].as_str(), r[2].as_str()), ("MsgTopic", "0"), "{out}");

    // cloneGroupOffset: the new group starts at the end of every queue.
    let out = ok(&[
        "cloneGroupOffset",
        "-n",
        n,
        "-s",
        "OpsConsumer",
        "-d",
        "OpsClone",
        "-t",
        "MsgTopic",
    ]);
    assert_eq!(
        out,
        "clone group offset success. srcGroup[OpsConsumer], destGroup=[OpsClone], topic[MsgTopic]\n"
    );
    let total: i64 = (0..2)
        .map(|q| {
            let cmd = RemotingCommand::new_request(request::QUERY_CONSUMER_OFFSET).with_header(
                &QueryConsumerOffsetRequestHeader {
                    consumer_group: "OpsClone".into(),
                    topic: "MsgTopic".into(),
                    queue_id: q,
                },
            );
            let r = call(b, cmd);
            r.decode_header::<QueryConsumerOffsetResponseHeader>()
                .expect("offset")
                .offset
        })
        .sum();
    assert_eq!(total, 10, "4 from checkMsgSendRT + 6");

    // startMonitoring: one round reports the consumer group's backlog.
    let out = run_until(&["startMonitoring", "-n", n], "endRound", 30);
    assert!(
        out.contains("[MONITOR] =========================================beginRound"),
        "{out}"
    );
    assert!(out.contains("reportUndoneMsgs: UndoneMsgs [consumerGroup=OpsConsumer, topic=MsgTopic, undoneMsgsTotal=0"), "{out}");

    // clusterRT: one line per broker with its average send time, then it repeats.
    let out = run_until(
        &["clusterRT", "-n", n, "-a", "3", "-s", "16", "-i", "1"],
        "broker-msg",
        30,
    );
    let row = out
        .lines()
        .find(|l| l.contains("broker-msg"))
        .expect("a broker row");
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!((cols[0], cols[3], cols[4]), (CLUSTER, "3", "0"), "{row}");

    consumer.shutdown().await;
    producer.shutdown().await;
}
