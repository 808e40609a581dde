//! ACL against the real `mqbroker` with `aclEnable=true`: signed requests pass, and each way
//! of failing (no key, unknown key, wrong secret, a field changed after signing, a denied
//! topic or group, a non-admin admin request) is refused with 4.8.0's code-1 answer and
//! `AclException` remark; the global and per-account white lists; hot reload, and a
//! malformed file that leaves the rules as they were; codes 50-54 rewriting plain_acl.yml.
//! Book: Part II, "Who may do what: ACL".

use rmq_remoting::acl::sign_request;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::header::{
    CreateAccessConfigRequestHeader, CreateTopicRequestHeader, DeleteAccessConfigRequestHeader,
    GetBrokerAclConfigResponseHeader, UpdateGlobalWhiteAddrsConfigRequestHeader,
};
use rmq_remoting::{RemotingClient, RemotingCommand};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::*;

const FRAME_VALIDATE: &str =
    "org.apache.rocketmq.acl.plain.PlainPermissionManager.validate(PlainPermissionManager.java:";
const FRAME_CHECK: &str =
    "org.apache.rocketmq.acl.plain.PlainPermissionManager.checkPerm(PlainPermissionManager.java:";

/// The file every test starts from: no global white list entry matches 127.0.0.1; a user
/// that may publish to TopicA/TopicB and subscribe with group GroupA, and an admin.
const ACL_YML: &str = "\
globalWhiteRemoteAddresses:
- 10.10.103.*

accounts:
- accessKey: RocketMQ
  secretKey: '12345678'
  whiteRemoteAddress:
  admin: false
  defaultTopicPerm: DENY
  defaultGroupPerm: SUB
  topicPerms:
  - TopicA=PUB|SUB
  - TopicB=PUB
  - TopicD=DENY
  groupPerms:
  - GroupD=DENY
- accessKey: rocketmq2
  secretKey: '87654321'
  admin: true
";

struct AclBroker {
    _ns: Proc,
    broker: Proc,
    addr: String,
    acl_file: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// Starts a name server and a broker with ACL on, its stdout in `broker.log`.
fn start(acl_yml: &str, acl_enable: bool) -> AclBroker {
    let dir = tempfile::tempdir().unwrap();
    let (ns, ns_addr) = start_namesrv(dir.path());
    let acl_file = dir.path().join("plain_acl.yml");
    std::fs::write(&acl_file, acl_yml).unwrap();
    let s = write_broker_conf(
        dir.path(),
        &ns_addr,
        &format!(
            "aclEnable={acl_enable}\naclPlainFile={}\nautoCreateTopicEnable=false",
            acl_file.display()
        ),
    );
    let log = dir.path().join("broker.log");
    let child = Command::new(env!("CARGO_BIN_EXE_mqbroker"))
        .arg("-c")
        .arg(&s.conf)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let broker = Proc::new(child);
    wait_for_log(&log, "boot success", Duration::from_secs(30));
    AclBroker {
        _ns: ns,
        broker,
        addr: s.addr,
        acl_file,
        log,
        _dir: dir,
    }
}

fn wait_for_log(log: &Path, needle: &str, timeout: Duration) {
    let t0 = Instant::now();
    while t0.elapsed() < timeout {
        if std::fs::read_to_string(log)
            .unwrap_or_default()
            .contains(needle)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "no {needle:?} in the log within {timeout:?}:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn signed(mut cmd: RemotingCommand, ak: &str, sk: &str) -> RemotingCommand {
    sign_request(&mut cmd, ak, sk, None);
    cmd
}

fn user(cmd: RemotingCommand) -> RemotingCommand {
    signed(cmd, "RocketMQ", "12345678")
}

fn admin(cmd: RemotingCommand) -> RemotingCommand {
    signed(cmd, "rocketmq2", "87654321")
}

fn create_topic(topic: &str) -> RemotingCommand {
    RemotingCommand::new_request(rq::UPDATE_AND_CREATE_TOPIC).with_header(
        &CreateTopicRequestHeader {
            topic: topic.into(),
            read_queue_nums: Some(1),
            write_queue_nums: Some(1),
            perm: Some(6),
            ..Default::default()
        },
    )
}

/// Asserts 4.8.0's answer to an `AclException`: code 1, `AclException: <message>, <frame>`.
fn assert_refused(r: &RemotingCommand, message: &str, frame_prefix: &str) {
    assert_eq!(r.code, rs::SYSTEM_ERROR, "{:?}", r.remark);
    let remark = r.remark.as_deref().unwrap_or_default();
    let want = format!("org.apache.rocketmq.acl.common.AclException: {message}, {frame_prefix}");
    assert!(
        remark.starts_with(&want),
        "remark {remark:?}\nwanted {want:?}..."
    );
    assert!(remark.ends_with(')'), "{remark:?}");
}

async fn call(c: &RemotingClient, addr: &str, cmd: RemotingCommand) -> RemotingCommand {
    c.invoke(addr, cmd, T).await.unwrap()
}

#[tokio::test]
async fn signed_requests_pass_and_each_refusal_is_4_8_0s() {
    let b = start(ACL_YML, true);
    let c = RemotingClient::new();
    let a = b.addr.as_str();

    // the admin account creates topics; the plain user may not
    for t in ["TopicA", "TopicD", "TopicX"] {
        let r = call(&c, a, admin(create_topic(t))).await;
        assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    }
    let r = call(&c, a, user(create_topic("TopicY"))).await;
    assert_refused(
        &r,
        "Need admin permission for request code=17, but accessKey=RocketMQ is not",
        &format!("{FRAME_CHECK}315)"),
    );

    // the right key and secret: sent and stored
    let r = call(&c, a, user(send_v2("TopicA", b"hello", &[]))).await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    assert_eq!(sent(&r).queue_offset, 0);

    // unsigned, unknown key, wrong secret
    let r = call(&c, a, send_v2("TopicA", b"x", &[])).await;
    assert_refused(
        &r,
        "No accessKey is configured",
        &format!("{FRAME_VALIDATE}393)"),
    );
    let r = call(
        &c,
        a,
        signed(send_v2("TopicA", b"x", &[]), "nobody12", "12345678"),
    )
    .await;
    assert_refused(
        &r,
        "No acl config for nobody12",
        &format!("{FRAME_VALIDATE}397)"),
    );
    let r = call(
        &c,
        a,
        signed(send_v2("TopicA", b"x", &[]), "RocketMQ", "wrong-secret"),
    )
    .await;
    assert_refused(
        &r,
        "Check signature failed for accessKey=RocketMQ",
        &format!("{FRAME_VALIDATE}409)"),
    );

    // a field changed after signing: the topic, then the body
    let mut tampered = user(send_v2("TopicA", b"x", &[]));
    tampered.ext_fields.insert("b".into(), "TopicB".into());
    let r = call(&c, a, tampered).await;
    assert_refused(
        &r,
        "Check signature failed for accessKey=RocketMQ",
        FRAME_VALIDATE,
    );
    let mut tampered = user(send_v2("TopicA", b"x", &[]));
    tampered.body = Some(bytes::Bytes::from_static(b"y"));
    let r = call(&c, a, tampered).await;
    assert_refused(
        &r,
        "Check signature failed for accessKey=RocketMQ",
        FRAME_VALIDATE,
    );

    // a listed DENY, and a topic left to defaultTopicPerm=DENY
    let r = call(&c, a, user(send_v2("TopicD", b"x", &[]))).await;
    assert_refused(
        &r,
        "No default permission for topic:TopicD",
        &format!("{FRAME_CHECK}345)"),
    );
    let r = call(&c, a, user(send_v2("TopicX", b"x", &[]))).await;
    assert_refused(
        &r,
        "No default permission for topic:TopicX",
        &format!("{FRAME_CHECK}340)"),
    );

    // pulls need SUB on the topic and on the group's retry topic
    let mut p = pull_header("TopicA", 0, 0, 0);
    p.consumer_group = "GroupD".into();
    let r = call(
        &c,
        a,
        user(RemotingCommand::new_request(rq::PULL_MESSAGE).with_header(&p)),
    )
    .await;
    assert_refused(
        &r,
        "No default permission for group:GroupD",
        &format!("{FRAME_CHECK}345)"),
    );
    p.consumer_group = "GroupA".into();
    let r = call(
        &c,
        a,
        user(RemotingCommand::new_request(rq::PULL_MESSAGE).with_header(&p)),
    )
    .await;
    // past the ACL: the pull processor answers (no heartbeat from GroupA yet)
    assert_ne!(r.code, rs::SYSTEM_ERROR, "{:?}", r.remark);
    assert!(
        r.remark
            .as_deref()
            .is_some_and(|m| m.contains("group info not exist")),
        "{:?}",
        r.remark
    );

    // a body the validator cannot read is refused from parse, and nothing crashes
    let hb = user(
        RemotingCommand::new_request(rq::HEART_BEAT)
            .with_body(bytes::Bytes::from_static(b"{not json")),
    );
    let r = call(&c, a, hb).await;
    assert_eq!(r.code, rs::SYSTEM_ERROR);
    let remark = r.remark.unwrap_or_default();
    assert!(
        remark.starts_with("org.apache.rocketmq.acl.common.AclException"),
        "{remark}"
    );
    assert!(
        remark.ends_with("org.apache.rocketmq.acl.plain.PlainAccessValidator.parse(PlainAccessValidator.java:123)"),
        "{remark}"
    );

    // a refused oneway request gets no answer; the connection and the broker live on
    let mut oneway = send_v2("TopicA", b"x", &[]);
    oneway.mark_oneway();
    c.invoke_oneway(a, oneway).await.unwrap();
    let r = call(&c, a, user(send_v2("TopicA", b"again", &[]))).await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    wait_for_log(&b.log, "ACL refused the request", Duration::from_secs(5));
    drop(b.broker);
}

#[tokio::test]
async fn white_lists_skip_the_checks() {
    let yml = ACL_YML.replace(
        "  admin: true\n",
        "  admin: true\n- accessKey: localuser\n  secretKey: '11111111'\n  whiteRemoteAddress: 127.0.0.1\n",
    );
    let b = start(&yml, true);
    let c = RemotingClient::new();
    let a = b.addr.as_str();
    let r = call(&c, a, admin(create_topic("TopicX"))).await;
    assert_eq!(r.code, rs::SUCCESS);

    // the account's white list: a wrong secret and default DENY do not matter from 127.0.0.1
    let r = call(
        &c,
        a,
        signed(send_v2("TopicX", b"x", &[]), "localuser", "wrong"),
    )
    .await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    // but its access key must be named
    let r = call(&c, a, send_v2("TopicX", b"x", &[])).await;
    assert_refused(&r, "No accessKey is configured", FRAME_VALIDATE);

    // the global white list (code 53, signed by any account): nothing is checked
    let set = RemotingCommand::new_request(rq::UPDATE_GLOBAL_WHITE_ADDRS_CONFIG).with_header(
        &UpdateGlobalWhiteAddrsConfigRequestHeader {
            global_white_addrs: "10.10.103.*,127.0.0.*".into(),
        },
    );
    let r = call(&c, a, user(set)).await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let r = call(&c, a, send_v2("TopicX", b"x", &[])).await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let text = std::fs::read_to_string(&b.acl_file).unwrap();
    assert!(
        text.contains("127.0.0.*") && text.contains("dataVersion"),
        "{text}"
    );
}

#[tokio::test]
async fn the_file_reloads_and_a_malformed_file_keeps_the_rules() {
    let b = start(ACL_YML, true);
    let c = RemotingClient::new();
    let a = b.addr.as_str();
    let r = call(&c, a, admin(create_topic("TopicX"))).await;
    assert_eq!(r.code, rs::SUCCESS);
    let r = call(&c, a, user(send_v2("TopicX", b"x", &[]))).await;
    assert_refused(&r, "No default permission for topic:TopicX", FRAME_CHECK);

    // edit the file: defaultTopicPerm PUB; the watcher picks it up within 500 ms
    std::fs::write(
        &b.acl_file,
        ACL_YML.replace("defaultTopicPerm: DENY", "defaultTopicPerm: PUB"),
    )
    .unwrap();
    let t0 = Instant::now();
    loop {
        let r = call(&c, a, user(send_v2("TopicX", b"x", &[]))).await;
        if r.code == rs::SUCCESS {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "not reloaded: {:?}",
            r.remark
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // a malformed file (bad YAML, then a too-short key): logged, the rules stay
    for bad in [
        "accounts: [\n  - accessKey: RocketMQ\n",
        "accounts:\n- accessKey: short\n  secretKey: '12345678'\n",
    ] {
        let before = std::fs::read_to_string(&b.log)
            .unwrap()
            .matches("previous rules stay in force")
            .count();
        std::fs::write(&b.acl_file, bad).unwrap();
        let t0 = Instant::now();
        while std::fs::read_to_string(&b.log)
            .unwrap()
            .matches("previous rules stay in force")
            .count()
            == before
        {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "malformed file not noticed"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let r = call(&c, a, user(send_v2("TopicX", b"x", &[]))).await;
        assert_eq!(
            r.code,
            rs::SUCCESS,
            "rules changed by a bad file: {:?}",
            r.remark
        );
        let r = call(
            &c,
            a,
            signed(send_v2("TopicX", b"x", &[]), "short", "12345678"),
        )
        .await;
        assert_refused(&r, "No acl config for short", FRAME_VALIDATE);
    }
    let log = std::fs::read_to_string(&b.log).unwrap();
    assert!(
        log.contains("cannot be null and length should longer than 6"),
        "the log says why"
    );
}

#[tokio::test]
async fn acl_admin_codes_rewrite_plain_acl_yml() {
    let b = start(ACL_YML, true);
    let c = RemotingClient::new();
    let a = b.addr.as_str();

    let r = call(
        &c,
        a,
        admin(RemotingCommand::new_request(
            rq::GET_BROKER_CLUSTER_ACL_INFO,
        )),
    )
    .await;
    assert_eq!(r.code, rs::SUCCESS);
    let h: GetBrokerAclConfigResponseHeader = r.decode_header().unwrap();
    assert_eq!(h.broker_addr, b.addr);
    assert!(h.version.starts_with("{\"counter\":0,"), "{}", h.version);

    // 50: a new account, then the new account works at once
    let create = RemotingCommand::new_request(rq::UPDATE_AND_CREATE_ACL_CONFIG).with_header(
        &CreateAccessConfigRequestHeader {
            access_key: "newuser1".into(),
            secret_key: Some("secret123".into()),
            default_topic_perm: Some("PUB".into()),
            topic_perms: Some("TopicA=SUB,TopicB=DENY".into()),
            ..Default::default()
        },
    );
    let r = call(&c, a, user(create)).await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let r = call(&c, a, admin(create_topic("TopicZ"))).await;
    assert_eq!(r.code, rs::SUCCESS);
    let r = call(
        &c,
        a,
        signed(send_v2("TopicZ", b"x", &[]), "newuser1", "secret123"),
    )
    .await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);

    // a short key: 209 with the exception's message
    let short = RemotingCommand::new_request(rq::UPDATE_AND_CREATE_ACL_CONFIG).with_header(
        &CreateAccessConfigRequestHeader {
            access_key: "abc".into(),
            ..Default::default()
        },
    );
    let r = call(&c, a, user(short)).await;
    assert_eq!(r.code, rs::UPDATE_AND_CREATE_ACL_CONFIG_FAILED);
    assert_eq!(
        r.remark.as_deref(),
        Some("The accessKey=abc cannot be null and length should longer than 6")
    );

    // 54: the whole configuration, secrets included
    let r = call(
        &c,
        a,
        admin(RemotingCommand::new_request(
            rq::GET_BROKER_CLUSTER_ACL_CONFIG,
        )),
    )
    .await;
    assert_eq!(r.code, rs::SUCCESS);
    let body: serde_json::Value = serde_json::from_slice(r.body_bytes()).unwrap();
    assert_eq!(body["globalWhiteAddrs"][0], "10.10.103.*");
    let accounts = body["plainAccessConfigs"].as_array().unwrap();
    let new = accounts
        .iter()
        .find(|x| x["accessKey"] == "newuser1")
        .unwrap();
    assert_eq!(new["secretKey"], "secret123");
    assert_eq!(new["topicPerms"][1], "TopicB=DENY");

    // 51: delete it; its key is unknown from then on; deleting again is 210
    let del = || {
        RemotingCommand::new_request(rq::DELETE_ACL_CONFIG).with_header(
            &DeleteAccessConfigRequestHeader {
                access_key: "newuser1".into(),
            },
        )
    };
    let r = call(&c, a, admin(del())).await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let r = call(
        &c,
        a,
        signed(send_v2("TopicZ", b"x", &[]), "newuser1", "secret123"),
    )
    .await;
    assert_refused(&r, "No acl config for newuser1", FRAME_VALIDATE);
    let r = call(&c, a, admin(del())).await;
    assert_eq!(r.code, rs::DELETE_ACL_CONFIG_FAILED);
    assert_eq!(
        r.remark.as_deref(),
        Some("The accesskey[newuser1] corresponding to accessConfig has been deleted failed.")
    );

    // two changes so far (50 and 51 that succeeded): the version counter says so
    let r = call(
        &c,
        a,
        admin(RemotingCommand::new_request(
            rq::GET_BROKER_CLUSTER_ACL_INFO,
        )),
    )
    .await;
    let h: GetBrokerAclConfigResponseHeader = r.decode_header().unwrap();
    assert!(h.version.starts_with("{\"counter\":2,"), "{}", h.version);
}

#[tokio::test]
async fn with_acl_off_everything_passes_and_the_acl_codes_fail_as_4_8_0() {
    let b = start(ACL_YML, false);
    let c = RemotingClient::new();
    let a = b.addr.as_str();
    let r = call(&c, a, create_topic("TopicX")).await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let r = call(&c, a, send_v2("TopicX", b"x", &[])).await;
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let del = RemotingCommand::new_request(rq::DELETE_ACL_CONFIG).with_header(
        &DeleteAccessConfigRequestHeader {
            access_key: "RocketMQ".into(),
        },
    );
    let r = call(&c, a, del).await;
    assert_eq!(r.code, rs::DELETE_ACL_CONFIG_FAILED);
    assert_eq!(r.remark, None);
    // 52 gets no reply at all
    let r = c
        .invoke(
            a,
            RemotingCommand::new_request(rq::GET_BROKER_CLUSTER_ACL_INFO),
            Duration::from_millis(800),
        )
        .await;
    assert!(r.is_err(), "{r:?}");
}

#[test]
fn a_broker_whose_acl_file_does_not_load_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let acl = dir.path().join("plain_acl.yml");
    std::fs::write(&acl, "accounts:\n- accessKey: short\n  secretKey: x\n").unwrap();
    let s = write_broker_conf(
        dir.path(),
        "127.0.0.1:1",
        &format!("aclEnable=true\naclPlainFile={}", acl.display()),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mqbroker"))
        .arg("-c")
        .arg(&s.conf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "The accessKey=short and secretKey=x cannot be null and length should longer than 6"
        ),
        "{err}"
    );
}
