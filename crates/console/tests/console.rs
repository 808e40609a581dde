//! End-to-end test of the console: real `mqnamesrv` + `mqbroker` + `rmq-console` on
//! ephemeral 127.0.0.1 ports (killed on drop), a topic created and a keyed message sent
//! with rmq-client, then the JSON API read over plain HTTP/1.1 on a TCP socket.
//! Book chapter: Part III "The web console". Mirrors no 4.8.0 test (rocketmq-console's
//! own tests mock `MQAdminExt`; these talk to real servers).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rmq_admin::AdminClient;
use rmq_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, MessageListener, PushConsumer, PushConsumerConfig,
};
use rmq_client::producer::{Producer, ProducerConfig};
use rmq_client::Message;
use rmq_remoting::protocol::TopicConfig;
use rmq_testkit::{sibling_bin, spawn_wait, BrokerConf, Proc};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BOOT: Duration = Duration::from_secs(30);

/// Starts `rmq-console -n <namesrv> --listen 127.0.0.1:0`; returns it and its base URL authority.
fn start_console(namesrv: &str) -> (Proc, String) {
    start_console_with(namesrv, &[])
}

/// Same, with more arguments.
fn start_console_with(namesrv: &str, extra: &[&str]) -> (Proc, String) {
    start_console_env(namesrv, extra, &[])
}

/// Same, with more arguments and environment variables.
fn start_console_env(namesrv: &str, extra: &[&str], env: &[(&str, &str)]) -> (Proc, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rmq-console"));
    cmd.envs(env.iter().copied());
    cmd.args([
        "-n",
        namesrv,
        "--listen",
        "127.0.0.1:0",
        "--timeout-ms",
        "2000",
    ]);
    cmd.args(extra);
    let (proc, line) = spawn_wait(cmd, "rmq-console listening on http://", BOOT).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string();
    (proc, addr)
}

/// One GET over a fresh connection: (status, body).
async fn get(addr: &str, path: &str) -> (u16, String) {
    get_with(addr, path, "").await
}

/// One GET with extra header lines (each ending in CRLF): (status, body).
async fn get_with(addr: &str, path: &str, headers: &str) -> (u16, String) {
    request(addr, "GET", path, headers, "").await
}

/// One request with a JSON body: (status, body as JSON).
async fn send_json(addr: &str, method: &str, path: &str, body: &str) -> (u16, Value) {
    let headers = format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    let (status, text) = request(addr, method, path, &headers, body).await;
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
    (status, v)
}

/// One request over a fresh connection: (status, body).
async fn request(addr: &str, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n{body}"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(!head.to_ascii_lowercase().contains("chunked"), "{head}");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

async fn get_json(addr: &str, path: &str) -> (u16, Value) {
    let (status, body) = get(addr, path).await;
    let v = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, v)
}

/// The elements of the array `v[list]` (none when it is not an array).
fn items<'a>(v: &'a Value, list: &str) -> impl Iterator<Item = &'a Value> {
    v[list].as_array().into_iter().flatten()
}

/// The element of `v[list]` whose `key` is `name`.
fn find<'a>(v: &'a Value, list: &str, key: &str, name: &str) -> &'a Value {
    items(v, list)
        .find(|r| r[key] == name)
        .unwrap_or_else(|| panic!("no {key}={name} in {list}: {v}"))
}

/// Polls `path` until `ok` holds for the JSON (200 responses only), up to 30 s.
async fn eventually(addr: &str, path: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, v) = get_json(addr, path).await;
        if status == 200 && ok(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never satisfied the check; last: {status} {v}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

struct Cluster {
    namesrv: String,
    broker_addr: String,
    _procs: Vec<Proc>,
    _dir: tempfile::TempDir,
}

fn start_cluster() -> Cluster {
    start_cluster_with("")
}

/// A cluster whose broker has `extra` broker.conf lines.
fn start_cluster_with(extra: &str) -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let ns_dir = dir.path().join("ns");
    std::fs::create_dir_all(&ns_dir).unwrap();
    let (ns, namesrv) =
        rmq_testkit::start_namesrv(&sibling_bin("mqnamesrv").unwrap(), &ns_dir, "").unwrap();
    let conf = BrokerConf::new("broker-c", &namesrv, &dir.path().join("store"))
        .unwrap()
        .with_extra("brokerIP1=127.0.0.1\nmappedFileSizeCommitLog=10485760\nmappedFileSizeConsumeQueue=60000")
        .with_extra(extra);
    let conf_path = dir.path().join("broker.conf");
    conf.write(&conf_path).unwrap();
    let broker =
        rmq_testkit::start_broker(&sibling_bin("mqbroker").unwrap(), Path::new(&conf_path))
            .unwrap();
    Cluster {
        namesrv,
        broker_addr: conf.addr(),
        _procs: vec![broker, ns],
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_shows_cluster_topics_and_messages() {
    let cluster = start_cluster();
    let (_console, http) = start_console(&cluster.namesrv);

    // The page itself is served, and declares an inline icon; /favicon.ico is no 404.
    let (status, page) = get(&http, "/").await;
    assert_eq!(status, 200);
    assert!(page.contains("RocketMQ Workbook console"));
    assert!(page.contains(r#"<link rel="icon" href="data:,">"#));
    assert_eq!(get(&http, "/favicon.ico").await.0, 204);

    // Cluster: our broker, as master 0 of TestCluster, with its version.
    let c = eventually(&http, "/api/cluster", |v| {
        v["clusters"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    let node = &c["clusters"][0]["brokerGroups"][0]["nodes"][0];
    assert_eq!(c["clusters"][0]["name"], "TestCluster");
    assert_eq!(
        c["clusters"][0]["brokerGroups"][0]["brokerName"],
        "broker-c"
    );
    assert_eq!(node["brokerId"], 0);
    assert_eq!(node["addr"], cluster.broker_addr.as_str());
    assert!(
        node["version"].as_str().is_some_and(|s| !s.is_empty()),
        "{node}"
    );
    assert!(node["error"].is_null(), "{node}");

    // A topic with 4 queues, then one keyed message.
    let admin = AdminClient::start(&cluster.namesrv, rmq_admin::admin_client::DEFAULT_TIMEOUT)
        .await
        .unwrap();
    let mut tc = TopicConfig::new("ConsoleTopic");
    tc.read_queue_nums = 4;
    tc.write_queue_nums = 4;
    admin
        .create_and_update_topic_config(&cluster.broker_addr, &tc)
        .await
        .unwrap();
    let producer = Producer::start(ProducerConfig::new("console_pg", cluster.namesrv.as_str()))
        .await
        .unwrap();
    let sent = producer
        .send(
            Message::new("ConsoleTopic", "hello console")
                .with_tags("TagA")
                .with_keys("order-42"),
        )
        .await
        .unwrap();
    producer.shutdown().await;

    // Topics: ConsoleTopic is a normal topic with 4 queues and max offset >= 1.
    let t = eventually(&http, "/api/topics", |v| {
        items(v, "topics")
            .any(|t| t["topic"] == "ConsoleTopic" && t["maxOffsetTotal"].as_i64() >= Some(1))
    })
    .await;
    let row = find(&t, "topics", "topic", "ConsoleTopic");
    assert_eq!(row["kind"], "normal");
    assert_eq!(items(row, "queues").count(), 4);
    assert_eq!(find(&t, "topics", "topic", "TBW102")["kind"], "system");

    // Route of the topic.
    let (status, route) = get_json(&http, "/api/topics/ConsoleTopic/route").await;
    assert_eq!(status, 200, "{route}");
    assert_eq!(route["queueDatas"][0]["writeQueueNums"], 4);
    let (status, err) = get_json(&http, "/api/topics/NoSuchTopic/route").await;
    assert_eq!(status, 404, "{err}");
    assert!(
        err["error"]
            .as_str()
            .is_some_and(|e| e.contains("NoSuchTopic")),
        "{err}"
    );

    // By key (the index is built by the dispatcher shortly after the send).
    let m = eventually(
        &http,
        "/api/messages?topic=ConsoleTopic&key=order-42",
        |v| v["messages"].as_array().is_some_and(|a| !a.is_empty()),
    )
    .await;
    let msg = &m["messages"][0];
    assert_eq!(msg["msgId"], sent.msg_id.as_str());
    assert_eq!(msg["body"], "hello console");
    assert_eq!(msg["tags"], "TagA");
    let (status, err) = get_json(&http, "/api/messages?topic=ConsoleTopic&key=nobody").await;
    assert_eq!(status, 404, "{err}");
    let (status, err) = get_json(&http, "/api/messages?key=order-42").await;
    assert_eq!(status, 400, "{err}");

    // By id: the broker's offset id, and the producer's unique id with its topic.
    let (status, by_offset) =
        get_json(&http, &format!("/api/messages/{}", sent.offset_msg_id)).await;
    assert_eq!(status, 200, "{by_offset}");
    assert_eq!(by_offset["keys"], "order-42");
    let (status, by_uniq) = get_json(
        &http,
        &format!("/api/messages/{}?topic=ConsoleTopic", sent.msg_id),
    )
    .await;
    assert_eq!(status, 200, "{by_uniq}");
    assert_eq!(by_uniq["offsetMsgId"], by_offset["offsetMsgId"]);

    // Unknown ids: well-formed but absent -> 404, malformed -> 400; JSON either way.
    let unknown = format!("7F000001{:08X}{:016X}", 1, 123_456_789u64);
    let (status, err) = get_json(
        &http,
        &format!("/api/messages/{unknown}?topic=ConsoleTopic"),
    )
    .await;
    assert_eq!(status, 404, "{err}");
    assert!(err["error"].is_string());
    let (status, err) = get_json(&http, "/api/messages/not-an-id").await;
    assert_eq!(status, 400, "{err}");

    // Consumers: a push consumer reads the message; its group shows up online with no backlog.
    let mut cfg = PushConsumerConfig::new("console_cg", cluster.namesrv.as_str());
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cfg.client.persist_consumer_offset_interval = Duration::from_millis(300);
    cfg.offset_store_dir = Some(cluster._dir.path().join("offsets"));
    let consumer = PushConsumer::start(
        cfg,
        &[("ConsoleTopic", "*")],
        MessageListener::concurrently(|_, _| ConsumeConcurrentlyStatus::ConsumeSuccess),
    )
    .await
    .unwrap();
    let groups = eventually(&http, "/api/consumers", |v| {
        items(v, "groups").any(|g| {
            g["group"] == "console_cg" && g["clients"].as_u64() >= Some(1) && g["diffTotal"] == 0
        })
    })
    .await;
    let g = find(&groups, "groups", "group", "console_cg");
    assert_eq!(g["consumeType"], "CONSUME_PASSIVELY", "{g}");
    assert_eq!(g["messageModel"], "CLUSTERING", "{g}");
    let detail = eventually(&http, "/api/consumers/console_cg", |v| {
        items(v, "queues")
            .any(|q| q["topic"] == "ConsoleTopic" && q["consumerOffset"].as_i64() >= Some(1))
    })
    .await;
    assert!(
        detail["connection"]["subscriptionTable"]["ConsoleTopic"].is_object(),
        "{detail}"
    );
    consumer.shutdown().await;
    let (status, err) = get_json(&http, "/api/consumers/ghost_group").await;
    assert_eq!(status, 404, "{err}");

    // Anything else is a JSON 404 too.
    let (status, err) = get_json(&http, "/api/nothing").await;
    assert_eq!(status, 404, "{err}");
}

#[tokio::test]
async fn name_server_down_is_a_clear_error_not_a_hang() {
    let port = rmq_testkit::free_port().unwrap();
    let (_console, http) = start_console(&format!("127.0.0.1:{port}"));
    let started = Instant::now();
    let (status, err) = get_json(&http, "/api/cluster").await;
    assert_eq!(status, 502, "{err}");
    assert!(
        err["error"]
            .as_str()
            .is_some_and(|e| e.contains("unreachable")),
        "{err}"
    );
    // Not a timing assertion on speed, only that it did not hang past the deadline.
    assert!(started.elapsed() < Duration::from_secs(60));
    // The OPS page still answers, with the dead name server and its error in its row.
    let (status, ops) = get_json(&http, "/api/ops").await;
    assert_eq!(status, 200, "{ops}");
    assert_eq!(ops["nameServers"][0]["addr"], format!("127.0.0.1:{port}"));
    assert!(ops["nameServers"][0]["error"].is_string(), "{ops}");
    assert!(ops["nameServers"][0]["brokers"].is_null(), "{ops}");
}

#[test]
fn refuses_a_non_loopback_address_without_a_login() {
    // It refuses before binding anything, so no socket outside 127.0.0.0/8 is opened.
    let out = Command::new(env!("CARGO_BIN_EXE_rmq-console"))
        .args(["-n", "127.0.0.1:1", "--listen", "0.0.0.0:0"])
        .env_remove("RMQ_CONSOLE_PASSWORD")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without a login"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_rmq-console"))
        .args([
            "-n",
            "127.0.0.1:1",
            "--listen",
            "0.0.0.0:0",
            "--user",
            "admin",
        ])
        .env_remove("RMQ_CONSOLE_PASSWORD")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs both"), "{err}");
}

/// One request over a fresh connection: (status, head, body).
async fn exchange(addr: &str, req: String) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_string(), body.to_string())
}

/// POSTs the login form; returns (status, head, body).
async fn post_login(addr: &str, form: &str) -> (u16, String, String) {
    exchange(
        addr,
        format!(
            "POST /login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    )
    .await
}

/// The value of header `name` in a response head.
fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test]
async fn a_configured_login_guards_the_page_and_the_api() {
    let port = rmq_testkit::free_port().unwrap();
    let (_console, http) = start_console_with(
        &format!("127.0.0.1:{port}"),
        &["--user", "admin", "--password", "s3cret"],
    );
    // Without a session: the API answers 401 in JSON, a page sends the browser to /login.
    for path in ["/api/cluster", "/api/session", "/api/topics"] {
        let (status, body) = get(&http, path).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert!(body.contains("login required"), "{body}");
    }
    for path in ["/", "/index.html", "/favicon.ico"] {
        let (status, head, _) = exchange(
            &http,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status, 303, "{path}: {head}");
        assert_eq!(header_value(&head, "location"), Some("/login"), "{head}");
    }
    let (status, page) = get(&http, "/login").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"action="/login""#) && page.contains(r#"name="password""#),
        "{page}"
    );
    // A wrong password: the form again, with the error, and no cookie.
    let (status, head, page) = post_login(&http, "user=admin&password=wrong").await;
    assert_eq!(status, 401, "{head}");
    assert!(page.contains("wrong user name or password"), "{page}");
    assert!(header_value(&head, "set-cookie").is_none(), "{head}");
    let (status, _, _) = post_login(&http, "user=root&password=s3cret").await;
    assert_eq!(status, 401);
    // The right one: a session cookie, HttpOnly and SameSite=Strict, and off to the console.
    let (status, head, _) = post_login(&http, "user=admin&password=s3cret").await;
    assert_eq!(status, 303, "{head}");
    assert_eq!(header_value(&head, "location"), Some("/"));
    let cookie = header_value(&head, "set-cookie").unwrap().to_string();
    assert!(cookie.starts_with("rmq_console_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    let with = format!("Cookie: theme=dark; {pair}\r\n");
    let (status, page) = get_with(&http, "/", &with).await;
    assert_eq!(status, 200);
    assert!(page.contains("RocketMQ Workbook console"));
    let (status, body) = get_with(&http, "/api/session", &with).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["loginRequired"], true);
    assert_eq!(v["user"], "admin");
    // Past the login, the API answers (here: the name server is down, so a 502 JSON error).
    let (status, body) = get_with(&http, "/api/cluster", &with).await;
    assert_eq!(status, 502, "{body}");
    // A made-up token is no session.
    let forged = format!("Cookie: rmq_console_session={}\r\n", "0".repeat(64));
    assert_eq!(get_with(&http, "/api/cluster", &forged).await.0, 401);
    // Logging out ends the session: the same cookie no longer works.
    let (status, head, _) = exchange(&http, format!("POST /logout HTTP/1.1\r\nHost: x\r\n{with}Content-Length: 0\r\nConnection: close\r\n\r\n")).await;
    assert_eq!(status, 303, "{head}");
    assert!(
        header_value(&head, "set-cookie")
            .unwrap()
            .contains("Max-Age=0"),
        "{head}"
    );
    assert_eq!(get_with(&http, "/api/cluster", &with).await.0, 401);
}

#[tokio::test]
async fn without_a_login_there_is_nothing_to_log_into() {
    let port = rmq_testkit::free_port().unwrap();
    let (_console, http) = start_console(&format!("127.0.0.1:{port}"));
    let (status, body) = get(&http, "/api/session").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""loginRequired":false"#), "{body}");
    let (status, head, _) = exchange(
        &http,
        "GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(),
    )
    .await;
    assert_eq!(status, 303, "{head}");
    assert_eq!(header_value(&head, "location"), Some("/"));
}

#[tokio::test]
async fn bad_input_is_refused_before_the_cluster_is_asked() {
    // No name server listens here: every answer below comes from the console's own checks.
    let port = rmq_testkit::free_port().unwrap();
    let (_console, http) = start_console(&format!("127.0.0.1:{port}"));
    let cases = [
        (
            "POST",
            "/api/topics",
            r#"{"topic":"bad topic!"}"#,
            "illegal characters",
        ),
        ("POST", "/api/topics", r#"{"topic":"T","perm":3}"#, "perm"),
        (
            "POST",
            "/api/topics",
            r#"{"topic":"T","writeQueueNums":0}"#,
            "queue numbers",
        ),
        ("POST", "/api/topics", "not json", "bad request body"),
        ("POST", "/api/topics/T/messages", r#"{"body":""}"#, "empty"),
        (
            "POST",
            "/api/consumers/g/reset",
            r#"{"topic":" ","timestamp":0}"#,
            "topic",
        ),
        (
            "POST",
            "/api/consumers/g/reset",
            r#"{"topic":"T"}"#,
            "bad request body",
        ),
    ];
    for (method, path, body, says) in cases {
        let (status, err) = send_json(&http, method, path, body).await;
        assert_eq!(status, 400, "{method} {path} {body}: {err}");
        assert!(
            err["error"].as_str().is_some_and(|e| e.contains(says)),
            "{method} {path} {body}: {err}"
        );
    }
    for path in [
        "/api/producers?topic=T",
        "/api/brokers/not-an-address",
        "/api/brokers/not-an-address/storage",
        "/api/messages?topic=T&begin=20&end=10",
        "/api/messages/not-an-id/tracks",
    ] {
        let (status, err) = get_json(&http, path).await;
        assert_eq!(status, 400, "{path}: {err}");
    }
}

/// An ACL account file: one admin, and one application account that may do nothing.
const ACL_YML: &str = "\
accounts:
- accessKey: console_admin
  secretKey: console-secret
  admin: true
- accessKey: appuser1
  secretKey: app-secret
  defaultTopicPerm: DENY
  defaultGroupPerm: DENY
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_acl_on_the_console_signs_with_its_configured_keys() {
    let acl_dir = tempfile::tempdir().unwrap();
    let acl_file = acl_dir.path().join("plain_acl.yml");
    std::fs::write(&acl_file, ACL_YML).unwrap();
    let cluster = start_cluster_with(&format!(
        "aclEnable=true\naclPlainFile={}",
        acl_file.display()
    ));
    let create = r#"{"topic":"AclConsoleTopic","writeQueueNums":2,"readQueueNums":2}"#;
    // Without keys the broker refuses to create a topic (an admin request).
    let (_plain, plain) = start_console(&cluster.namesrv);
    eventually(&plain, "/api/cluster", |v| {
        v["clusters"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    let (status, v) = send_json(&plain, "POST", "/api/topics", create).await;
    assert_eq!(status, 502, "{v}");
    // With an account that is not an admin: refused too, with the broker's reason.
    let (_app, app) = start_console_with(
        &cluster.namesrv,
        &["--access-key", "appuser1", "--secret-key", "app-secret"],
    );
    let (status, v) = send_json(&app, "POST", "/api/topics", create).await;
    assert_eq!(status, 502, "{v}");
    // With the admin's keys (the secret from the environment), the topic is created.
    let (_admin, admin) = start_console_env(
        &cluster.namesrv,
        &["--access-key", "console_admin"],
        &[("RMQ_CONSOLE_SECRET_KEY", "console-secret")],
    );
    let (status, v) = send_json(&admin, "POST", "/api/topics", create).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["brokers"][0], cluster.broker_addr.as_str());
    let route = eventually(&admin, "/api/topics/AclConsoleTopic/route", |v| {
        v["queueDatas"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_eq!(route["queueDatas"][0]["writeQueueNums"], 2, "{route}");
    // Half a key pair is refused at start.
    let out = Command::new(env!("CARGO_BIN_EXE_rmq-console"))
        .args([
            "-n",
            &cluster.namesrv,
            "--listen",
            "127.0.0.1:0",
            "--access-key",
            "console_admin",
        ])
        .env_remove("RMQ_CONSOLE_SECRET_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("need both"));
}
