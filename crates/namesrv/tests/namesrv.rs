//! Integration tests: the real `mqnamesrv` binary on an ephemeral 127.0.0.1 port,
//! driven over TCP with the remoting client (started through `rmq-testkit`, killed on drop).
//! Book chapter: Part III (name server). RocketMQ 4.8.0 counterpart: the name server tests
//! (`DefaultRequestProcessorTest`, `RouteInfoManagerTest`) and `IntegrationTestBase`.

use std::time::{Duration, Instant};

use rmq_remoting::codes::{request, response};
use rmq_remoting::protocol::header::{
    CommandHeader, DeleteKVConfigRequestHeader, DeleteTopicInNamesrvRequestHeader,
    GetKVConfigRequestHeader, GetKVConfigResponseHeader, GetKVListByNamespaceRequestHeader,
    GetRouteInfoRequestHeader, GetTopicsByClusterRequestHeader, PutKVConfigRequestHeader,
    QueryDataVersionRequestHeader, QueryDataVersionResponseHeader, RegisterBrokerRequestHeader,
    RegisterBrokerResponseHeader, UnRegisterBrokerRequestHeader,
    WipeWritePermOfBrokerRequestHeader, WipeWritePermOfBrokerResponseHeader,
};
use rmq_remoting::protocol::{
    decode_body, ClusterInfo, DataVersion, KVTable, RegisterBrokerBody, TopicConfig, TopicList,
    TopicRouteData,
};
use rmq_remoting::{RemotingClient, RemotingCommand, RemotingError};
use rmq_testkit::Proc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const T: Duration = Duration::from_secs(3);

/// A running `mqnamesrv`; killed on drop.
struct NameSrv {
    _proc: Proc,
    addr: String,
    dir: tempfile::TempDir,
}

fn start(extra_conf: &str) -> NameSrv {
    let dir = tempfile::tempdir().unwrap();
    let (proc, addr) = rmq_testkit::start_namesrv(
        env!("CARGO_BIN_EXE_mqnamesrv").as_ref(),
        dir.path(),
        &format!("listenPort=9876\nsomeUnknownKey=1\n{extra_conf}"),
    )
    .unwrap_or_else(|e| panic!("name server boot line: {e}"));
    assert!(
        addr.starts_with("127.0.0.1:"),
        "binds loopback by default: {addr}"
    );
    NameSrv {
        _proc: proc,
        addr,
        dir,
    }
}

fn body_of(topics: &[(&str, i32)], counter: i64) -> RegisterBrokerBody {
    let mut body = RegisterBrokerBody::default();
    body.topic_config_serialize_wrapper.data_version = DataVersion {
        counter,
        timestamp: 1_600_000_000_000,
    };
    for (name, n) in topics {
        let mut tc = TopicConfig::new(*name);
        tc.read_queue_nums = *n;
        tc.write_queue_nums = *n;
        body.topic_config_serialize_wrapper
            .topic_config_table
            .insert(name.to_string(), tc);
    }
    body
}

fn register(
    name: &str,
    id: i64,
    addr: &str,
    body: &RegisterBrokerBody,
    compressed: bool,
) -> RemotingCommand {
    let bytes = body.encode(compressed).unwrap();
    let crc = (crc32fast::hash(&bytes) & 0x7FFF_FFFF) as i32;
    RemotingCommand::new_request(request::REGISTER_BROKER)
        .with_header(&RegisterBrokerRequestHeader {
            broker_name: name.to_string(),
            broker_addr: addr.to_string(),
            cluster_name: "DefaultCluster".to_string(),
            ha_server_addr: Some(format!("{addr}-ha")),
            broker_id: id,
            compressed,
            body_crc32: crc,
        })
        .with_body(bytes)
}

/// Replaces the CRC of a registration's body with `crc`.
fn with_crc(req: &mut RemotingCommand, crc: i32) {
    let mut h: RegisterBrokerRequestHeader = req.decode_header().unwrap();
    h.body_crc32 = crc;
    req.put_header(&h);
}

fn route_req(topic: &str) -> RemotingCommand {
    RemotingCommand::new_request(request::GET_ROUTEINFO_BY_TOPIC).with_header(
        &GetRouteInfoRequestHeader {
            topic: topic.to_string(),
        },
    )
}

async fn wait_until<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn register_route_and_cluster_info_shapes() {
    let ns = start("");
    let master = RemotingClient::new();
    let slave = RemotingClient::new();
    let r = master
        .invoke(
            &ns.addr,
            register(
                "broker-a",
                0,
                "127.0.0.1:10911",
                &body_of(&[("TopicTest", 4)], 1),
                false,
            ),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r.code, response::SUCCESS);
    let reply: RegisterBrokerResponseHeader = r.decode_header().unwrap();
    assert_eq!(reply.master_addr, None);
    assert_eq!(r.version, 373);
    let r = slave
        .invoke(
            &ns.addr,
            register(
                "broker-a",
                1,
                "127.0.0.1:10921",
                &body_of(&[("TopicTest", 8)], 1),
                true,
            ),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r.code, response::SUCCESS);
    assert_eq!(
        r.decode_header::<RegisterBrokerResponseHeader>().unwrap(),
        RegisterBrokerResponseHeader {
            ha_server_addr: Some("127.0.0.1:10911-ha".into()),
            master_addr: Some("127.0.0.1:10911".into()),
        }
    );

    let r = master
        .invoke(&ns.addr, route_req("TopicTest"), T)
        .await
        .unwrap();
    assert_eq!(r.code, response::SUCCESS);
    let text = String::from_utf8(r.body_bytes().to_vec()).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"broker-a","cluster":"DefaultCluster"}],"#,
            r#""filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSynFlag":0,"writeQueueNums":4}]}"#
        )
    );
    let route: TopicRouteData = decode_body(r.body_bytes()).unwrap();
    assert_eq!(route.broker_datas[0].master_addr(), Some("127.0.0.1:10911"));

    let r = master
        .invoke(&ns.addr, route_req("NoSuchTopic"), T)
        .await
        .unwrap();
    assert_eq!(r.code, response::TOPIC_NOT_EXIST);
    assert_eq!(
        r.remark.as_deref(),
        Some("No topic route info in name server for the topic: NoSuchTopic\nSee http://rocketmq.apache.org/docs/faq/ for further details.")
    );

    let r = master
        .invoke(
            &ns.addr,
            RemotingCommand::new_request(request::GET_BROKER_CLUSTER_INFO),
            T,
        )
        .await
        .unwrap();
    assert_eq!(
        std::str::from_utf8(r.body_bytes()).unwrap(),
        concat!(
            r#"{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"broker-a","cluster":"DefaultCluster"}},"#,
            r#""clusterAddrTable":{"DefaultCluster":["broker-a"]}}"#
        )
    );
    let info: ClusterInfo = decode_body(r.body_bytes()).unwrap();
    assert_eq!(info.cluster_addr_table["DefaultCluster"].len(), 1);

    let r = master
        .invoke(
            &ns.addr,
            RemotingCommand::new_request(request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r.body_bytes(), br#"{"topicList":["TopicTest"]}"#);
    let r = master
        .invoke(
            &ns.addr,
            RemotingCommand::new_request(request::GET_TOPICS_BY_CLUSTER).with_header(
                &GetTopicsByClusterRequestHeader {
                    cluster: "DefaultCluster".into(),
                },
            ),
            T,
        )
        .await
        .unwrap();
    let list: TopicList = decode_body(r.body_bytes()).unwrap();
    assert!(list.topic_list.contains("TopicTest"));

    // QUERY_DATA_VERSION: same version -> unchanged; other version -> changed.
    let q = |counter: i64| {
        RemotingCommand::new_request(request::QUERY_DATA_VERSION)
            .with_header(&QueryDataVersionRequestHeader {
                broker_name: "broker-a".into(),
                broker_addr: "127.0.0.1:10911".into(),
                cluster_name: "DefaultCluster".into(),
                broker_id: 0,
            })
            .with_body(
                rmq_remoting::protocol::encode_body(&DataVersion {
                    counter,
                    timestamp: 1_600_000_000_000,
                })
                .unwrap(),
            )
    };
    let changed = |r: RemotingCommand| {
        r.decode_header::<QueryDataVersionResponseHeader>()
            .unwrap()
            .changed
    };
    assert!(!changed(master.invoke(&ns.addr, q(1), T).await.unwrap()));
    assert!(changed(master.invoke(&ns.addr, q(2), T).await.unwrap()));

    // Wipe write permission, then delete the topic.
    let r = master
        .invoke(
            &ns.addr,
            RemotingCommand::new_request(request::WIPE_WRITE_PERM_OF_BROKER).with_header(
                &WipeWritePermOfBrokerRequestHeader {
                    broker_name: "broker-a".into(),
                },
            ),
            T,
        )
        .await
        .unwrap();
    let wiped: WipeWritePermOfBrokerResponseHeader = r.decode_header().unwrap();
    assert_eq!(wiped.wipe_topic_count, 1);
    let route: TopicRouteData = decode_body(
        master
            .invoke(&ns.addr, route_req("TopicTest"), T)
            .await
            .unwrap()
            .body_bytes(),
    )
    .unwrap();
    assert_eq!(route.queue_datas[0].perm, 4);
    let r = master
        .invoke(
            &ns.addr,
            RemotingCommand::new_request(request::DELETE_TOPIC_IN_NAMESRV).with_header(
                &DeleteTopicInNamesrvRequestHeader {
                    topic: "TopicTest".into(),
                },
            ),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r.code, response::SUCCESS);
    let r = master
        .invoke(&ns.addr, route_req("TopicTest"), T)
        .await
        .unwrap();
    assert_eq!(r.code, response::TOPIC_NOT_EXIST);
}

#[tokio::test]
async fn bad_crc_and_missing_fields_are_clear_errors() {
    let ns = start("");
    let client = RemotingClient::new();
    let mut req = register("b", 0, "127.0.0.1:1", &body_of(&[("T", 1)], 1), false);
    with_crc(&mut req, 12345);
    let r = client.invoke(&ns.addr, req, T).await.unwrap();
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert_eq!(r.remark.as_deref(), Some("crc32 not match"));
    let r = client
        .invoke(
            &ns.addr,
            RemotingCommand::new_request(request::GET_ROUTEINFO_BY_TOPIC),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r.code, response::SYSTEM_ERROR);
    // The text 4.8.0's decodeCommandCustomHeader builds for a missing @CFNotNull field.
    assert_eq!(
        r.remark.as_deref(),
        Some("the custom field <topic> is null")
    );
    // haServerAddr is @CFNotNull, but 4.8.0 registers a broker without it. (A typed header
    // always writes a required field, so these two are taken out of the map by hand.)
    let key = |field| RegisterBrokerRequestHeader::INFO.key_of(field).unwrap();
    let mut req = register("nb", 0, "127.0.0.1:2", &body_of(&[("T2", 1)], 1), false);
    req.ext_fields.remove(key("ha_server_addr"));
    let r = client.invoke(&ns.addr, req, T).await.unwrap();
    assert_eq!(r.code, response::SUCCESS, "{:?}", r.remark);
    let mut req = register("nb", 0, "127.0.0.1:2", &body_of(&[("T2", 1)], 1), false);
    req.ext_fields.remove(key("broker_id"));
    let r = client.invoke(&ns.addr, req, T).await.unwrap();
    assert_eq!(
        r.remark.as_deref(),
        Some("the custom field <brokerId> is null")
    );
    // The wire-protocol appendix's exercise 5: an empty number does not parse. No typed
    // header writes an empty number, so the exercise's brokerId is put in the map by hand.
    let mut req = RemotingCommand::new_request(request::UNREGISTER_BROKER)
        .with_header(&UnRegisterBrokerRequestHeader {
            broker_name: "b".into(),
            broker_addr: "127.0.0.1:10911".into(),
            cluster_name: "C".into(),
            broker_id: 0,
        })
        .with_ext("compressed", "1");
    let broker_id = UnRegisterBrokerRequestHeader::INFO.key_of("broker_id");
    req.ext_fields
        .insert(broker_id.unwrap().to_string(), String::new());
    let r = client.invoke(&ns.addr, req, T).await.unwrap();
    assert_eq!(r.code, response::SYSTEM_ERROR);
    assert_eq!(
        r.remark.as_deref(),
        Some("the custom field <brokerId> is not a valid long: \"\"")
    );
    let mut req = register("b", 0, "127.0.0.1:1", &body_of(&[], 1), false);
    req.body = Some(bytes::Bytes::from_static(b"{not json"));
    with_crc(&mut req, 0);
    let r = client.invoke(&ns.addr, req, T).await.unwrap();
    assert_eq!(r.code, response::SYSTEM_ERROR);
}

#[tokio::test]
async fn kv_config_round_trip_and_order_conf_in_register_reply() {
    let ns = start("orderMessageEnable=true");
    let c = RemotingClient::new();
    let put = RemotingCommand::new_request(request::PUT_KV_CONFIG).with_header(
        &PutKVConfigRequestHeader {
            namespace: "ORDER_TOPIC_CONFIG".into(),
            key: "OrderTopic".into(),
            value: "broker-a:2".into(),
        },
    );
    assert_eq!(
        c.invoke(&ns.addr, put, T).await.unwrap().code,
        response::SUCCESS
    );
    let get = |ns_: &str, key: &str| {
        RemotingCommand::new_request(request::GET_KV_CONFIG).with_header(
            &GetKVConfigRequestHeader {
                namespace: ns_.into(),
                key: key.into(),
            },
        )
    };
    let r = c
        .invoke(&ns.addr, get("ORDER_TOPIC_CONFIG", "OrderTopic"), T)
        .await
        .unwrap();
    let got: GetKVConfigResponseHeader = r.decode_header().unwrap();
    assert_eq!(got.value.as_deref(), Some("broker-a:2"));
    let r = c
        .invoke(&ns.addr, get("ORDER_TOPIC_CONFIG", "x"), T)
        .await
        .unwrap();
    assert_eq!(r.code, response::QUERY_NOT_FOUND);
    assert_eq!(
        r.remark.as_deref(),
        Some("No config item, Namespace: ORDER_TOPIC_CONFIG Key: x")
    );
    let r = c
        .invoke(
            &ns.addr,
            RemotingCommand::new_request(request::GET_KVLIST_BY_NAMESPACE).with_header(
                &GetKVListByNamespaceRequestHeader {
                    namespace: "nope".into(),
                },
            ),
            T,
        )
        .await
        .unwrap();
    assert_eq!(r.remark.as_deref(), Some("No config item, Namespace: nope"));

    let r = c
        .invoke(
            &ns.addr,
            register(
                "broker-a",
                0,
                "127.0.0.1:10911",
                &body_of(&[("OrderTopic", 2)], 1),
                false,
            ),
            T,
        )
        .await
        .unwrap();
    let table: KVTable = decode_body(r.body_bytes()).unwrap();
    assert_eq!(table.table["OrderTopic"], "broker-a:2");
    let route: TopicRouteData = decode_body(
        c.invoke(&ns.addr, route_req("OrderTopic"), T)
            .await
            .unwrap()
            .body_bytes(),
    )
    .unwrap();
    assert_eq!(route.order_topic_conf.as_deref(), Some("broker-a:2"));

    let kv_file = std::fs::read_to_string(ns.dir.path().join("kvConfig.json")).unwrap();
    assert!(
        kv_file.contains("\"OrderTopic\":\"broker-a:2\""),
        "{kv_file}"
    );
    let del = RemotingCommand::new_request(request::DELETE_KV_CONFIG).with_header(
        &DeleteKVConfigRequestHeader {
            namespace: "ORDER_TOPIC_CONFIG".into(),
            key: "OrderTopic".into(),
        },
    );
    assert_eq!(
        c.invoke(&ns.addr, del, T).await.unwrap().code,
        response::SUCCESS
    );
    let r = c
        .invoke(&ns.addr, get("ORDER_TOPIC_CONFIG", "OrderTopic"), T)
        .await
        .unwrap();
    assert_eq!(r.code, response::QUERY_NOT_FOUND);
}

#[tokio::test]
async fn broker_removed_at_once_when_its_connection_closes() {
    let ns = start("");
    let broker = RemotingClient::new();
    let tool = RemotingClient::new();
    broker
        .invoke(
            &ns.addr,
            register(
                "broker-x",
                0,
                "127.0.0.1:10931",
                &body_of(&[("Tx", 4)], 1),
                false,
            ),
            T,
        )
        .await
        .unwrap();
    assert_eq!(
        tool.invoke(&ns.addr, route_req("Tx"), T)
            .await
            .unwrap()
            .code,
        response::SUCCESS
    );
    broker.shutdown();
    let gone = wait_until(|| {
        let tool = tool.clone();
        let addr = ns.addr.clone();
        async move {
            tool.invoke(&addr, route_req("Tx"), T).await.unwrap().code == response::TOPIC_NOT_EXIST
        }
    })
    .await;
    assert!(gone, "route dropped after the broker's connection closed");
    let info: ClusterInfo = decode_body(
        tool.invoke(
            &ns.addr,
            RemotingCommand::new_request(request::GET_BROKER_CLUSTER_INFO),
            T,
        )
        .await
        .unwrap()
        .body_bytes(),
    )
    .unwrap();
    assert!(info.broker_addr_table.is_empty());
}

#[tokio::test]
async fn silent_broker_expires_and_its_connection_is_closed() {
    let ns = start("brokerChannelExpiredTime=800\nscanNotActiveBrokerInterval=100");
    let broker = RemotingClient::new();
    let tool = RemotingClient::new();
    broker
        .invoke(
            &ns.addr,
            register(
                "broker-y",
                0,
                "127.0.0.1:10941",
                &body_of(&[("Ty", 4)], 1),
                false,
            ),
            T,
        )
        .await
        .unwrap();
    let conn = broker.connection(&ns.addr).await.unwrap();
    assert_eq!(
        tool.invoke(&ns.addr, route_req("Ty"), T)
            .await
            .unwrap()
            .code,
        response::SUCCESS
    );
    tokio::time::timeout(Duration::from_secs(10), conn.closed())
        .await
        .expect("the name server closes an expired broker's connection");
    assert_eq!(
        tool.invoke(&ns.addr, route_req("Ty"), T)
            .await
            .unwrap()
            .code,
        response::TOPIC_NOT_EXIST
    );
}

#[tokio::test]
async fn garbage_oversized_and_unknown_codes_do_not_hurt_the_server() {
    let ns = start("frameMaxLength=65536");
    // Garbage: a nonsense length.
    let mut raw = TcpStream::connect(&ns.addr).await.unwrap();
    raw.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(
        tokio::time::timeout(T, raw.read(&mut buf))
            .await
            .unwrap()
            .unwrap_or(0),
        0
    );
    // Oversized: a frame above frameMaxLength.
    let mut raw = TcpStream::connect(&ns.addr).await.unwrap();
    raw.write_all(&(1u32 << 20).to_be_bytes()).await.unwrap();
    raw.write_all(&[0u8; 1024]).await.unwrap();
    assert_eq!(
        tokio::time::timeout(T, raw.read(&mut buf))
            .await
            .unwrap()
            .unwrap_or(0),
        0
    );
    // Malformed header inside a well-sized frame.
    let mut raw = TcpStream::connect(&ns.addr).await.unwrap();
    raw.write_all(&[0, 0, 0, 8, 0, 0, 0, 4, b'{', b'{', b'{', b'{'])
        .await
        .unwrap();
    assert_eq!(
        tokio::time::timeout(T, raw.read(&mut buf))
            .await
            .unwrap()
            .unwrap_or(0),
        0
    );

    // Unknown code: no reply (4.8.0), but the connection stays usable.
    let c = RemotingClient::new();
    let err = c
        .invoke(
            &ns.addr,
            RemotingCommand::new_request(9999),
            Duration::from_millis(300),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RemotingError::Timeout { .. }), "{err}");
    let before = c.connection(&ns.addr).await.unwrap().id;
    let r = c.invoke(&ns.addr, route_req("Nope"), T).await.unwrap();
    assert_eq!(r.code, response::TOPIC_NOT_EXIST);
    assert_eq!(
        c.connection(&ns.addr).await.unwrap().id,
        before,
        "same connection"
    );
}

#[tokio::test]
async fn cpp_style_request_with_numbers_and_no_serialize_type() {
    let ns = start("");
    let body = body_of(&[("Tc", 2)], 1).encode(false).unwrap();
    // The header as the C++ client writes it (JSON numbers in extFields, its own extra keys),
    // byte for byte: that shape is what is tested, so it stays a raw string.
    let header = r#"{"code":103,"language":"CPP","version":333,"opaque":5,"flag":0,"remark":"","extFields":{"brokerName":"bc","brokerAddr":"127.0.0.1:10951","clusterName":"C","haServerAddr":"","brokerId":0,"compressed":"0","bodyCrc32":0,"Signature":"","AccessKey":"","ONSChannelKey":""}}"#;
    let mut frame = Vec::new();
    frame.extend_from_slice(&((4 + header.len() + body.len()) as u32).to_be_bytes());
    frame.extend_from_slice(&(header.len() as u32).to_be_bytes());
    frame.extend_from_slice(header.as_bytes());
    frame.extend_from_slice(&body);
    let mut raw = TcpStream::connect(&ns.addr).await.unwrap();
    raw.write_all(&frame).await.unwrap();
    let mut len = [0u8; 4];
    tokio::time::timeout(T, raw.read_exact(&mut len))
        .await
        .unwrap()
        .unwrap();
    let mut rest = vec![0u8; u32::from_be_bytes(len) as usize];
    raw.read_exact(&mut rest).await.unwrap();
    assert_eq!(rest[0], 0, "JSON reply");
    let resp = rmq_remoting::codec::decode_frame_body(rest.into()).unwrap();
    assert_eq!(resp.opaque, 5);
    assert!(resp.is_response());
    assert_eq!(resp.code, response::SUCCESS);
    let c = RemotingClient::new();
    assert_eq!(
        c.invoke(&ns.addr, route_req("Tc"), T).await.unwrap().code,
        response::SUCCESS
    );
}

#[tokio::test]
async fn two_name_servers_are_independent() {
    let a = start("");
    let b = start("");
    assert_ne!(a.addr, b.addr);
    let c = RemotingClient::new();
    c.invoke(
        &a.addr,
        register(
            "broker-a",
            0,
            "127.0.0.1:10911",
            &body_of(&[("Only", 1)], 1),
            false,
        ),
        T,
    )
    .await
    .unwrap();
    assert_eq!(
        c.invoke(&a.addr, route_req("Only"), T).await.unwrap().code,
        response::SUCCESS
    );
    assert_eq!(
        c.invoke(&b.addr, route_req("Only"), T).await.unwrap().code,
        response::TOPIC_NOT_EXIST
    );
}
