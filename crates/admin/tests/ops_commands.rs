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

/// One request to one server, on a runtime of its own.
fn call(addr: &str, cmd: RemotingCommand) -> RemotingCommand {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = RemotingClient::new();
        client
            .invoke(addr, cmd, Duration::from_secs(5))
            .await
            .expect("request")
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
