//! `brokerPermission` as the name servers see it: a broker that is not both readable and
//! writable registers every topic with its own permission (4.8.0
//! `BrokerController.registerBrokerAll`), so routes steer clients away from it, while the
//! broker's own topic table keeps each topic's permission.

use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::header::{CreateTopicRequestHeader, GetRouteInfoRequestHeader};
use rmq_remoting::protocol::{decode_body, TopicRouteData};
use rmq_remoting::{RemotingClient, RemotingCommand};
use std::time::Duration;

mod common;
use common::*;

/// The route of `topic` from the name server at `ns`, once it lists `topic`.
async fn route(c: &RemotingClient, ns: &str, topic: &str) -> TopicRouteData {
    for _ in 0..100 {
        let req = RemotingCommand::new_request(rq::GET_ROUTEINFO_BY_TOPIC).with_header(
            &GetRouteInfoRequestHeader {
                topic: topic.into(),
            },
        );
        let r = c.invoke(ns, req, T).await.unwrap();
        if r.code == rs::SUCCESS {
            return decode_body::<TopicRouteData>(r.body_bytes()).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no route for {topic}");
}

/// Creates `topic` (perm 6, 2 queues) on the broker at `addr`.
async fn create_topic(c: &RemotingClient, addr: &str, topic: &str) {
    let create = RemotingCommand::new_request(rq::UPDATE_AND_CREATE_TOPIC).with_header(
        &CreateTopicRequestHeader {
            topic: topic.into(),
            read_queue_nums: Some(2),
            write_queue_nums: Some(2),
            perm: Some(6),
            ..Default::default()
        },
    );
    let r = c.invoke(addr, create, T).await.unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
}

/// The broker's own config of `topic` (GET_ALL_TOPIC_CONFIG).
async fn own_perm(c: &RemotingClient, addr: &str, topic: &str) -> i32 {
    let r = c
        .invoke(
            addr,
            RemotingCommand::new_request(rq::GET_ALL_TOPIC_CONFIG),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let all: serde_json::Value = serde_json::from_slice(r.body_bytes()).unwrap();
    all["topicConfigTable"][topic]["perm"].as_i64().unwrap() as i32
}

/// Starts a name server and a broker with `extra_conf`, creates `topic` with perm 6 and
/// returns (the perm the name server's route gives, the perm in the broker's own table).
async fn perms(extra_conf: &str, topic: &str) -> (i32, i32) {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, extra_conf);
    let _broker = start_broker(&setup);
    let c = RemotingClient::new();
    create_topic(&c, &setup.addr, topic).await;
    let r = route(&c, &ns, topic).await;
    assert_eq!(r.queue_datas.len(), 1, "{r:?}");
    assert_eq!(r.queue_datas[0].write_queue_nums, 2);
    (
        r.queue_datas[0].perm,
        own_perm(&c, &setup.addr, topic).await,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_broker_announces_its_topics_read_only() {
    // announced with the broker's permission; topics.json keeps the topic's own
    assert_eq!(perms("brokerPermission=4", "ReadOnlyT").await, (4, 6));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_write_broker_announces_each_topics_own_permission() {
    assert_eq!(perms("", "ReadWriteT").await, (6, 6));
}
