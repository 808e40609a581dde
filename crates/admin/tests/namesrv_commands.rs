//! mqadmin against a real `mqnamesrv` only: the test registers a broker itself
//! (REGISTER_BROKER over TCP, kept alive by its open connection), then runs the
//! real `mqadmin` binary for the name-server commands and checks the 4.8.0 output.

mod common;

use std::time::Duration;

use common::*;
use rmq_remoting::codes::{request, response};
use rmq_remoting::protocol::header::RegisterBrokerRequestHeader;
use rmq_remoting::protocol::{RegisterBrokerBody, TopicConfig};
use rmq_remoting::{RemotingClient, RemotingCommand};

/// Registers "broker-x" of cluster "ClusterX" at an address where nothing listens,
/// with topic `topic` of `queues` queues. The returned client must stay alive:
/// the name server forgets a broker whose connection closes.
async fn register_fake_broker(ns: &str, topic: &str, queues: i32) -> RemotingClient {
    let mut body = RegisterBrokerBody::default();
    let mut tc = TopicConfig::new(topic);
    tc.read_queue_nums = queues;
    tc.write_queue_nums = queues;
    body.topic_config_serialize_wrapper
        .topic_config_table
        .insert(topic.to_string(), tc);
    let client = RemotingClient::new();
    let cmd = RemotingCommand::new_request(request::REGISTER_BROKER)
        .with_header(&RegisterBrokerRequestHeader {
            broker_name: "broker-x".into(),
            broker_addr: "127.0.0.1:1".into(),
            cluster_name: "ClusterX".into(),
            ha_server_addr: Some("127.0.0.1:2".into()),
            broker_id: 0,
            compressed: false,
            body_crc32: 0,
        })
        .with_body(body.encode(false).expect("encode"));
    let r = client
        .invoke(ns, cmd, Duration::from_secs(3))
        .await
        .expect("register");
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    client
}

#[tokio::test(flavor = "multi_thread")]
async fn name_server_commands_print_4_8_0_output() {
    let ns = NameSrv::start();
    let _keep = register_fake_broker(&ns.addr, "AdminTopic", 3).await;
    let n = ns.addr.as_str();

    // No arguments: the command list.
    let help = ok(&[]);
    assert!(help.starts_with("The most commonly used mqadmin commands are:"));
    assert!(help.contains("   topicStatus          Examine topic Status info"));

    // clusterList: the row is printed even though the broker's runtime info
    // cannot be fetched (nothing listens at 127.0.0.1:1), as 4.8.0 does.
    let out = tokio::task::spawn_blocking({
        let n = n.to_string();
        move || ok(&["clusterList", "-n", &n])
    })
    .await
    .unwrap();
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap(),
        "#Cluster Name     #Broker Name            #BID  #Addr                  #Version                #InTPS(LOAD)       #OutTPS(LOAD) #PCWait(ms) #Hour #SPACE"
    );
    let row = lines.next().expect("one broker row");
    assert!(
        row.starts_with("ClusterX          broker-x                0     127.0.0.1:1  "),
        "{row:?}"
    );

    // topicList, via NAMESRV_ADDR instead of -n.
    let o = mqadmin_env(&["topicList"], Some(n));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).lines().any(|l| l == "AdminTopic"),
        "{}",
        stdout(&o)
    );

    // topicRoute: pretty fastjson with the bare integer broker id.
    let route = ok(&["topicRoute", "-n", n, "-t", "AdminTopic"]);
    assert!(route.contains("\"brokerName\":\"broker-x\""), "{route}");
    assert!(route.contains("\"readQueueNums\":3"), "{route}");
    assert!(route.contains("0:\"127.0.0.1:1\""), "{route}");

    // An unknown topic: 4.8.0's failure text on stderr and a non-zero exit.
    let o = mqadmin(&["topicRoute", "-n", n, "-t", "NoSuchTopic"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("SubCommandException: TopicRouteSubCommand command failed"),
        "{err}"
    );
    assert!(err.contains("CODE: 17  DESC: No topic route info"), "{err}");

    // Unknown cluster for updateTopic: 4.8.0's [error] line, and a failure.
    let o = mqadmin(&["updateTopic", "-n", n, "-c", "NoCluster", "-t", "T"]);
    assert!(!o.status.success());
    assert!(stdout(&o).contains("[error] Make sure the specified clusterName exists"));

    // Missing required option: usage error, non-zero.
    let o = mqadmin(&["topicStatus", "-n", n]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--topic"), "{}", stderr(&o));

    // No name server anywhere.
    let o = mqadmin(&["topicList"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no name server address"),
        "{}",
        stderr(&o)
    );

    // Unknown subcommand, any case for known ones.
    let o = mqadmin(&["nope"]);
    assert_eq!(stdout(&o), "The sub command nope not exist.\n");
    assert!(ok(&["TOPICLIST", "-n", n]).contains("AdminTopic"));
}
