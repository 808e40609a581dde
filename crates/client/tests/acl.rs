//! The Rust client with ACL credentials against the real `mqbroker` with `aclEnable=true`: a
//! producer and a push consumer signed with an application account send and receive (their
//! heartbeats, pulls and offset commits all pass the checks); a producer with a wrong secret is
//! refused with 4.8.0's text. Book: Part II, "Who may do what: ACL".

mod common;

use common::*;
use parking_lot::Mutex;
use rmq_client::acl::{AclSigner, Credentials};
use rmq_client::api::MqClientApi;
use rmq_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, MessageListener, PushConsumer, PushConsumerConfig,
};
use rmq_client::producer::{Producer, ProducerConfig};
use rmq_client::Message;
use rmq_remoting::RemotingClient;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ACL_YML: &str = "\
accounts:
- accessKey: appuser1
  secretKey: appsecret1
  defaultTopicPerm: DENY
  defaultGroupPerm: DENY
  topicPerms:
  - AclT=PUB|SUB
  groupPerms:
  - AppGroup=SUB
- accessKey: admin001
  secretKey: adminsecret
  admin: true
";

#[tokio::test]
async fn signed_producer_and_push_consumer_work_and_a_wrong_secret_is_refused() {
    let acl_dir = tempfile::tempdir().unwrap();
    let acl_file = acl_dir.path().join("plain_acl.yml");
    std::fs::write(&acl_file, ACL_YML).unwrap();
    let c = Cluster::start_with(&format!(
        "aclEnable=true\naclPlainFile={}",
        acl_file.display()
    ))
    .await;

    // the admin creates the topic (UPDATE_AND_CREATE_TOPIC needs admin)
    let admin = RemotingClient::new();
    admin.set_rpc_hook(Arc::new(AclSigner::new(Credentials::new(
        "admin001",
        "adminsecret",
    ))));
    let api = MqClientApi::new(admin);
    api.create_topic(&c.broker, &topic_config("AclT", 2), T)
        .await
        .unwrap();
    c.wait_route("AclT").await;

    let app = Credentials::new("appuser1", "appsecret1");
    let mut pc = ProducerConfig::new("AppProducers", c.ns.clone());
    pc.client = c.client_config("acl-producer");
    pc.client.credentials = Some(app.clone());
    let producer = Producer::start(pc).await.unwrap();
    for i in 0..10 {
        producer
            .send(Message::new("AclT", format!("m{i}").into_bytes()))
            .await
            .unwrap();
    }

    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let s = seen.clone();
    let mut cc = PushConsumerConfig::new("AppGroup", c.ns.clone());
    cc.client = c.client_config("acl-consumer");
    cc.client.credentials = Some(app);
    cc.client.rebalance_interval = Duration::from_secs(1);
    cc.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let consumer = PushConsumer::start(
        cc,
        &[("AclT", "*")],
        MessageListener::concurrently(move |msgs, _| {
            for m in msgs {
                s.lock().push(String::from_utf8_lossy(&m.body).into_owned());
            }
            ConsumeConcurrentlyStatus::ConsumeSuccess
        }),
    )
    .await
    .unwrap();
    let t0 = Instant::now();
    while seen.lock().len() < 10 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "received {:?}",
            seen.lock()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut got = seen.lock().clone();
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 10);
    consumer.shutdown().await;
    producer.shutdown().await;

    let mut bad = ProducerConfig::new("AppProducers", c.ns.clone());
    bad.client = c.client_config("acl-bad");
    bad.client.credentials = Some(Credentials::new("appuser1", "not-the-secret"));
    bad.retry_times_when_send_failed = 0;
    let producer = Producer::start(bad).await.unwrap();
    let err = producer
        .send(Message::new("AclT", b"x".to_vec()))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Check signature failed for accessKey=appuser1"),
        "{err}"
    );
    producer.shutdown().await;
}
