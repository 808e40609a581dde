//! GET_BROKER_CONFIG (26) and UPDATE_BROKER_CONFIG (25) against a real `mqbroker`: the body
//! lists every key of the table with the value in force; an update changes the keys that take
//! effect at once (a new `brokerPermission` re-registers, so the name server's route and the
//! pull path follow it), writes every known key to the `-c` file for the next start, ignores
//! unknown keys as 4.8.0 does, and refuses a bad value with its key named, changing nothing.

use rmq_broker::config::{all_keys, parse_properties, BrokerConfig};
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::header::{
    CreateTopicRequestHeader, GetBrokerConfigResponseHeader, GetRouteInfoRequestHeader,
};
use rmq_remoting::protocol::{decode_body, fastjson, DataVersion, TopicRouteData};
use rmq_remoting::{RemotingClient, RemotingCommand};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

mod common;
use common::*;

/// GET_BROKER_CONFIG: the properties and the configuration's data version.
async fn get_config(c: &RemotingClient, addr: &str) -> (BTreeMap<String, String>, DataVersion) {
    let r = c
        .invoke(addr, RemotingCommand::new_request(rq::GET_BROKER_CONFIG), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let version: GetBrokerConfigResponseHeader = r.decode_header().unwrap();
    let version: DataVersion = fastjson::from_str(&version.version).unwrap();
    let text = String::from_utf8(r.body_bytes().to_vec()).unwrap();
    (parse_properties(&text), version)
}

async fn update_config(c: &RemotingClient, addr: &str, text: &str) -> (i32, Option<String>) {
    let req =
        RemotingCommand::new_request(rq::UPDATE_BROKER_CONFIG).with_body(text.as_bytes().to_vec());
    let r = c.invoke(addr, req, T).await.unwrap();
    (r.code, r.remark)
}

/// The permission of `topic` in the name server's route, once the route has `want`.
async fn wait_route_perm(c: &RemotingClient, ns: &str, topic: &str, want: i32) {
    let start = Instant::now();
    loop {
        let req = RemotingCommand::new_request(rq::GET_ROUTEINFO_BY_TOPIC).with_header(
            &GetRouteInfoRequestHeader {
                topic: topic.into(),
            },
        );
        let r = c.invoke(ns, req, T).await.unwrap();
        let perm = (r.code == rs::SUCCESS)
            .then(|| decode_body::<TopicRouteData>(r.body_bytes()).unwrap())
            .and_then(|route| route.queue_datas.first().map(|q| q.perm));
        if perm == Some(want) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "route of {topic} still has perm {perm:?}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn get_lists_every_key_and_update_changes_live_keys_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "");
    let broker = start_broker(&setup);
    let c = RemotingClient::new();

    let (props, v0) = get_config(&c, &setup.addr).await;
    // Every key with a value; only optional keys without a default may be missing.
    let defaults = BrokerConfig::default();
    for (section, i) in all_keys() {
        let key = (section.info)(i).key;
        let unset_by_default = (section.get)(&defaults, i).is_none();
        assert!(
            props.contains_key(key) || unset_by_default,
            "GET_BROKER_CONFIG lacks {key}"
        );
    }
    assert_eq!(props["brokerName"], "broker-t");
    assert_eq!(props["listenPort"], setup.addr.rsplit(':').next().unwrap());
    assert_eq!(props["flushConsumerOffsetInterval"], "200", "from the file");
    assert_eq!(props["brokerPermission"], "6");

    let create = RemotingCommand::new_request(rq::UPDATE_AND_CREATE_TOPIC).with_header(
        &CreateTopicRequestHeader {
            topic: "Cfg".into(),
            read_queue_nums: Some(1),
            write_queue_nums: Some(1),
            perm: Some(6),
            ..Default::default()
        },
    );
    assert_eq!(
        c.invoke(&setup.addr, create, T).await.unwrap().code,
        rs::SUCCESS
    );
    wait_route_perm(&c, &ns, "Cfg", 6).await;

    // One key that takes effect at once, one for the next start, one nobody knows.
    let (code, remark) = update_config(
        &c,
        &setup.addr,
        "brokerPermission=2\nflushConsumerOffsetInterval=1234\nnoSuchKey=1\n",
    )
    .await;
    assert_eq!((code, remark), (rs::SUCCESS, None));
    let (props, v1) = get_config(&c, &setup.addr).await;
    assert_eq!(props["brokerPermission"], "2");
    assert_eq!(
        props["flushConsumerOffsetInterval"], "200",
        "in force until a restart"
    );
    assert!(!props.contains_key("noSuchKey"));
    assert!(v1.counter > v0.counter, "{v0:?} -> {v1:?}");
    // The broker re-registered at once: routes and the pull path follow the permission.
    wait_route_perm(&c, &ns, "Cfg", 2).await;
    let r = c
        .invoke(&setup.addr, pull("Cfg", 0, 0x4, 0), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::NO_PERMISSION, "{:?}", r.remark);
    // Every known key went to the -c file, with the new values.
    let file = parse_properties(&std::fs::read_to_string(&setup.conf).unwrap());
    assert_eq!(file["brokerPermission"], "2");
    assert_eq!(file["flushConsumerOffsetInterval"], "1234");
    assert_eq!(file["brokerName"], "broker-t");
    assert!(!file.contains_key("noSuchKey"));

    // A value that does not parse: refused with its key, nothing changes.
    let (code, remark) = update_config(
        &c,
        &setup.addr,
        "brokerPermission=6\nlongPollingEnable=maybe\n",
    )
    .await;
    assert_eq!(code, rs::SYSTEM_ERROR);
    assert!(
        remark
            .as_deref()
            .unwrap_or("")
            .contains("longPollingEnable"),
        "{remark:?}"
    );
    let (props, v2) = get_config(&c, &setup.addr).await;
    assert_eq!(
        (
            props["brokerPermission"].as_str(),
            props["longPollingEnable"].as_str()
        ),
        ("2", "true")
    );
    assert_eq!(v2.counter, v1.counter);

    // The next start reads the file the update wrote.
    let broker = kill_and_restart(broker, &c, &setup);
    let (props, _) = get_config(&c, &setup.addr).await;
    assert_eq!(props["flushConsumerOffsetInterval"], "1234");
    assert_eq!(props["brokerPermission"], "2");
    drop(broker);
}
