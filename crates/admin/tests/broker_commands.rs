//! mqadmin against a real `mqnamesrv` + `mqbroker` pair: the topic life cycle
//! (updateTopic, topicRoute, topicStatus, deleteTopic), a message's round trip
//! (sendMessage, then queryMsgById by both ids, queryMsgByKey, consumeMessage),
//! and the consumer-group views (consumerProgress, consumerConnection) for a group
//! this test makes visible with a heartbeat and an offset commit.

mod common;

use std::time::Duration;

use common::*;
use rmq_remoting::codes::{request, response};
use rmq_remoting::protocol::header::{PullMessageRequestHeader, UpdateConsumerOffsetRequestHeader};
use rmq_remoting::protocol::{
    encode_body, ConsumeFromWhere, ConsumeType, ConsumerData, HeartbeatData, MessageModel,
    SubscriptionData,
};
use rmq_remoting::{RemotingClient, RemotingCommand};

const CLUSTER: &str = "AdminCluster";
const BROKER: &str = "broker-admin";

/// Waits until clusterList shows the broker, and returns that output.
fn wait_registered(ns: &str, broker_addr: &str) -> String {
    eventually(60, || {
        let o = mqadmin(&["clusterList", "-n", ns]);
        let out = stdout(&o);
        (o.status.success() && out.contains(broker_addr)).then_some(out)
    })
    .unwrap_or_else(|| panic!("broker {broker_addr} never showed up in clusterList"))
}

/// The value after `label` on the line that starts with it (queryMsgById output).
fn field<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{out}"))
}

#[test]
fn topic_life_cycle() {
    let ns = NameSrv::start();
    let broker = Broker::start(&ns.addr, CLUSTER, BROKER);
    let n = ns.addr.as_str();
    let listing = wait_registered(n, &broker.addr);
    let row = listing
        .lines()
        .find(|l| l.contains(&broker.addr))
        .expect("row");
    assert!(
        row.starts_with(&format!("{CLUSTER:<16}  {BROKER:<22}  0     ")),
        "{row:?}"
    );
    assert!(row.contains("V4_8_0"), "{row:?}");

    // updateTopic on every master of the cluster: 3 read and 5 write queues.
    let out = ok(&[
        "updateTopic",
        "-n",
        n,
        "-c",
        CLUSTER,
        "-t",
        "AdminLife",
        "-r",
        "3",
        "-w",
        "5",
    ]);
    assert!(
        out.contains(&format!("create topic to {} success.", broker.addr)),
        "{out}"
    );
    assert!(
        out.contains("TopicConfig [topicName=AdminLife, readQueueNums=3, writeQueueNums=5, perm=RW-, topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false]"),
        "{out}"
    );

    // The broker registers the topic with the name server right away.
    let route = eventually(20, || {
        let o = mqadmin(&["topicRoute", "-n", n, "-t", "AdminLife"]);
        o.status.success().then(|| stdout(&o))
    })
    .expect("route of AdminLife");
    assert!(route.contains("\"readQueueNums\":3"), "{route}");
    assert!(route.contains("\"writeQueueNums\":5"), "{route}");
    assert!(route.contains(&format!("0:\"{}\"", broker.addr)), "{route}");

    // topicStatus: one row per queue, empty queues.
    let status = ok(&["topicStatus", "-n", n, "-t", "AdminLife"]);
    let mut lines = status.lines();
    assert_eq!(
        lines.next().unwrap(),
        "#Broker Name                      #QID  #Min Offset           #Max Offset             #Last Updated"
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() == 5 || rows.len() == 3, "{status}");
    for (i, r) in rows.iter().enumerate() {
        let cols: Vec<&str> = r.split_whitespace().collect();
        assert_eq!(cols[0], BROKER);
        assert_eq!(cols[1], i.to_string());
        assert_eq!((cols[2], cols[3]), ("0", "0"), "{r}");
    }

    // brokerStatus: sorted "key: value" lines of the runtime table.
    let bs = ok(&["brokerStatus", "-n", n, "-b", &broker.addr]);
    let version_line = bs
        .lines()
        .find(|l| l.starts_with("brokerVersionDesc"))
        .expect("brokerVersionDesc");
    assert_eq!(version_line, format!("{:<32}: V4_8_0", "brokerVersionDesc"));
    let keys: Vec<&str> = bs
        .lines()
        .map(|l| l.split(':').next().unwrap().trim())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let by_cluster = ok(&["brokerStatus", "-n", n, "-c", CLUSTER]);
    assert!(by_cluster
        .lines()
        .all(|l| l.starts_with(&format!("{:<24} ", broker.addr))));

    // deleteTopic: gone from the broker and the name server.
    let out = ok(&["deleteTopic", "-n", n, "-c", CLUSTER, "-t", "AdminLife"]);
    assert_eq!(
        out,
        format!(
            "delete topic [AdminLife] from cluster [{CLUSTER}] success.\ndelete topic [AdminLife] from NameServer success.\n"
        )
    );
    let o = mqadmin(&["topicRoute", "-n", n, "-t", "AdminLife"]);
    assert!(!o.status.success(), "route still there: {}", stdout(&o));
    assert!(!ok(&["topicList", "-n", n])
        .lines()
        .any(|l| l == "AdminLife"));
}

#[test]
fn message_round_trip_and_group_views() {
    let ns = NameSrv::start();
    let broker = Broker::start(&ns.addr, CLUSTER, BROKER);
    let n = ns.addr.as_str();
    wait_registered(n, &broker.addr);
    ok(&[
        "updateTopic",
        "-n",
        n,
        "-b",
        &broker.addr,
        "-t",
        "AdminMsg",
        "-r",
        "2",
        "-w",
        "2",
    ]);
    eventually(20, || {
        mqadmin(&["topicRoute", "-n", n, "-t", "AdminMsg"])
            .status
            .success()
            .then_some(())
    })
    .expect("route of AdminMsg");

    // sendMessage: one row with SEND_OK and the producer's unique id.
    let body = "hello from mqadmin";
    let out = ok(&[
        "sendMessage",
        "-n",
        n,
        "-t",
        "AdminMsg",
        "-p",
        body,
        "-k",
        "order-42",
        "-c",
        "TagA",
    ]);
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap(),
        "#Broker Name                      #QID  #Send Result            #MsgId"
    );
    let cols: Vec<&str> = lines
        .next()
        .expect("result row")
        .split_whitespace()
        .collect();
    assert_eq!(cols[0], BROKER);
    let qid: i32 = cols[1].parse().unwrap();
    assert_eq!(cols[2], "SEND_OK");
    let uniq_id = cols[3].to_string();
    assert_eq!(uniq_id.len(), 32);

    // queryMsgById with the unique id (index lookup; the index may lag a moment).
    let by_uniq = eventually(20, || {
        let o = mqadmin(&["queryMsgById", "-n", n, "-i", &uniq_id, "-t", "AdminMsg"]);
        o.status.success().then(|| stdout(&o))
    })
    .expect("queryMsgById by unique id");
    assert_eq!(field(&by_uniq, "Topic:"), "AdminMsg");
    assert_eq!(field(&by_uniq, "Tags:"), "[TagA]");
    assert_eq!(field(&by_uniq, "Keys:"), "[order-42]");
    assert_eq!(field(&by_uniq, "Queue ID:"), qid.to_string());
    assert_eq!(field(&by_uniq, "Store Host:"), broker.addr);
    let body_path = field(&by_uniq, "Message Body Path:").to_string();
    assert_eq!(std::fs::read_to_string(&body_path).unwrap(), body);
    assert!(body_path.ends_with(&uniq_id));

    // ... and with the offset id it printed (VIEW_MESSAGE_BY_ID straight to the broker).
    let offset_id = field(&by_uniq, "OffsetID:").to_string();
    let by_offset = ok(&["queryMsgById", "-n", n, "-i", &offset_id]);
    assert_eq!(field(&by_offset, "OffsetID:"), offset_id);
    assert_eq!(
        field(&by_offset, "CommitLog Offset:"),
        field(&by_uniq, "CommitLog Offset:")
    );
    assert_eq!(
        std::fs::read_to_string(field(&by_offset, "Message Body Path:")).unwrap(),
        body
    );

    // queryMsgByKey: one row, the unique id, its queue and offset 0.
    let by_key = ok(&["queryMsgByKey", "-n", n, "-t", "AdminMsg", "-k", "order-42"]);
    let mut lines = by_key.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!("{:<50} {:>4} {:>40}", "#Message ID", "#QID", "#Offset")
    );
    assert_eq!(
        lines.next().unwrap(),
        format!("{:<50} {:>4} {:>40}", uniq_id, qid, 0)
    );
    let o = mqadmin(&[
        "queryMsgByKey",
        "-n",
        n,
        "-t",
        "AdminMsg",
        "-k",
        "no-such-key",
    ]);
    assert!(!o.status.success());

    // consumeMessage: the body comes back.
    let consumed = ok(&["consumeMessage", "-n", n, "-t", "AdminMsg"]);
    assert!(consumed.contains("Consume ok"), "{consumed}");
    let line = consumed
        .lines()
        .find(|l| l.starts_with("MSGID: "))
        .expect("a message line");
    assert!(
        line.starts_with(&format!(
            "MSGID: {uniq_id} MessageExt [brokerName=null, queueId={qid}, "
        )),
        "{line}"
    );
    assert!(line.ends_with(&format!("BODY: {body}")), "{line}");
    assert!(
        consumed.contains("print msg finished. status=NO_NEW_MSG"),
        "{consumed}"
    );
    // brokerStatus counts messages, as 4.8.0's store stats do: one put, one message handed
    // out (the empty pulls of the other queue and the NO_NEW_MSG pulls do not count).
    let bs = ok(&["brokerStatus", "-n", n, "-b", &broker.addr]);
    let stat = |key: &str| -> String {
        bs.lines()
            .find(|l| l.starts_with(&format!("{key:<32}:")))
            .map(|l| l[33..].trim().to_string())
            .unwrap_or_else(|| panic!("no {key} in {bs}"))
    };
    assert_eq!(stat("msgPutTotalTodayNow"), "1");
    assert_eq!(stat("msgGetTotalTodayNow"), "1");
    // By queue and offset: offset 1 is past the only message.
    let none = ok(&[
        "consumeMessage",
        "-n",
        n,
        "-t",
        "AdminMsg",
        "-b",
        BROKER,
        "-i",
        &qid.to_string(),
        "-o",
        "1",
    ]);
    assert!(!none.contains("MSGID:"), "{none}");

    // topicStatus now shows the message.
    let status = ok(&["topicStatus", "-n", n, "-t", "AdminMsg"]);
    let row = status
        .lines()
        .skip(1)
        .find(|l| l.split_whitespace().nth(1) == Some(&qid.to_string()[..]))
        .expect("row of the queue");
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!((cols[2], cols[3]), ("0", "1"), "{row}");
    assert_eq!(cols.len(), 6, "last-updated date and time present: {row}");

    // A consumer group: heartbeat (creates %RETRY%AdminGroup) and an offset.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = RemotingClient::new();
    rt.block_on(async {
        let hb = HeartbeatData {
            client_id: "127.0.0.1@admin-test".into(),
            consumer_data_set: vec![ConsumerData {
                consume_from_where: ConsumeFromWhere::ConsumeFromFirstOffset,
                consume_type: ConsumeType::ConsumePassively,
                group_name: "AdminGroup".into(),
                message_model: MessageModel::Clustering,
                subscription_data_set: vec![SubscriptionData {
                    class_filter_mode: false,
                    code_set: Default::default(),
                    expression_type: "TAG".into(),
                    sub_string: "*".into(),
                    sub_version: 1,
                    tags_set: Default::default(),
                    topic: "AdminMsg".into(),
                }],
                unit_mode: false,
            }],
            producer_data_set: vec![],
        };
        let cmd =
            RemotingCommand::new_request(request::HEART_BEAT).with_body(encode_body(&hb).unwrap());
        let r = client
            .invoke(&broker.addr, cmd, Duration::from_secs(3))
            .await
            .unwrap();
        assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
        let cmd = RemotingCommand::new_request(request::UPDATE_CONSUMER_OFFSET).with_header(
            &UpdateConsumerOffsetRequestHeader {
                consumer_group: "AdminGroup".into(),
                topic: "AdminMsg".into(),
                queue_id: qid,
                commit_offset: 0,
            },
        );
        let r = client
            .invoke(&broker.addr, cmd, Duration::from_secs(3))
            .await
            .unwrap();
        assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
        // The group pulls the message: its consume TPS (messages handed out over the last
        // minute, 4.8.0 GROUP_GET_NUMS) becomes positive once the broker has sampled it.
        let pull = RemotingCommand::new_request(request::PULL_MESSAGE).with_header(
            &PullMessageRequestHeader {
                consumer_group: "AdminGroup".into(),
                topic: "AdminMsg".into(),
                queue_id: qid,
                queue_offset: 0,
                max_msg_nums: 32,
                sys_flag: 0,
                commit_offset: Some(0),
                suspend_timeout_millis: Some(0),
                subscription: Some("*".into()),
                sub_version: Some(0),
                expression_type: None,
            },
        );
        let r = client
            .invoke(&broker.addr, pull, Duration::from_secs(3))
            .await
            .unwrap();
        assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
        tokio::time::sleep(Duration::from_millis(1500)).await;
    });
    // The broker registers %RETRY%AdminGroup with the name server.
    let progress = eventually(30, || {
        let o = mqadmin(&["consumerProgress", "-n", n, "-g", "AdminGroup"]);
        o.status.success().then(|| stdout(&o))
    })
    .expect("consumerProgress -g");
    let mut lines = progress.lines();
    assert_eq!(
        lines.next().unwrap(),
        "#Topic                            #Broker Name                      #QID  #Broker Offset        #Consumer Offset      #Client IP           #Diff                 #LastTime"
    );
    let row = progress
        .lines()
        .find(|l| {
            l.starts_with("AdminMsg ") && l.split_whitespace().nth(2) == Some(&qid.to_string()[..])
        })
        .unwrap_or_else(|| panic!("no row for the queue:\n{progress}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &cols[..7],
        ["AdminMsg", BROKER, &qid.to_string(), "1", "0", "N/A", "1"],
        "{row}"
    );
    let tps: f64 = progress
        .lines()
        .find_map(|l| l.strip_prefix("Consume TPS: "))
        .unwrap_or_else(|| panic!("no Consume TPS line:\n{progress}"))
        .trim()
        .parse()
        .unwrap();
    assert!(
        tps > 0.0,
        "one message pulled in the last minute:\n{progress}"
    );
    assert!(
        progress.lines().any(|l| l.starts_with("Diff Total: ")),
        "{progress}"
    );

    // The summary view lists the group as online (its heartbeat connection is open).
    let all = ok(&["consumerProgress", "-n", n]);
    assert!(
        all.starts_with("#Group                            #Count  #Version"),
        "{all}"
    );
    let row = all
        .lines()
        .find(|l| l.starts_with("AdminGroup "))
        .unwrap_or_else(|| panic!("no AdminGroup row:\n{all}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[1], "1", "{row}");
    assert_eq!(cols[3], "PUSH", "{row}");
    assert_eq!(cols[4], "CLUSTERING", "{row}");

    // consumerConnection: our client and its subscription.
    let cc = ok(&["consumerConnection", "-n", n, "-g", "AdminGroup"]);
    assert!(cc.starts_with("001  127.0.0.1@admin-test "), "{cc}");
    assert!(
        cc.contains("Below is subscription:001  Topic: AdminMsg "),
        "{cc}"
    );
    assert!(cc.contains("ConsumeType: CONSUME_PASSIVELY\n"), "{cc}");
    assert!(cc.contains("MessageModel: CLUSTERING\n"), "{cc}");
    assert!(
        cc.contains("ConsumeFromWhere: CONSUME_FROM_FIRST_OFFSET\n"),
        "{cc}"
    );

    // updateSubGroup on the broker.
    let out = ok(&[
        "updateSubGroup",
        "-n",
        n,
        "-b",
        &broker.addr,
        "-g",
        "AdminGroup2",
        "-r",
        "3",
    ]);
    assert!(
        out.starts_with(&format!(
            "create subscription group to {} success.\n",
            broker.addr
        )),
        "{out}"
    );
    assert!(out.contains("retryMaxTimes=3"), "{out}");
    drop(client);
}
