//! mqadmin's ACL commands against a real `mqbroker` with `aclEnable=true`: credentials come
//! from `$ROCKETMQ_HOME/conf/tools.yml` as in 4.8.0 (without them every command is
//! refused with the broker's `AclException`); updateAclConfig, getAccessConfigSubCommand,
//! clusterAclConfigVersion, updateGlobalWhiteAddr and deleteAccessConfig print 4.8.0's
//! lines and change plain_acl.yml; a producer with an account's keys can send once
//! updateAclConfig created the account.

mod common;

use common::*;
use rmq_testkit::{spawn_wait, BrokerConf, BOOT_TIMEOUT, BROKER_BOOT_LINE};
use std::path::Path;
use std::process::{Command, Output};

const CLUSTER: &str = "AclCluster";

const ACL_YML: &str = "\
globalWhiteRemoteAddresses:
- 10.10.103.*
accounts:
- accessKey: rocketmq2
  secretKey: '12345678'
  admin: true
";

fn mqadmin_home(home: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mqadmin"));
    cmd.args(args)
        .env_remove("NAMESRV_ADDR")
        .env_remove("RMQ_TOOLS_YML")
        .env("RUST_LOG", "warn");
    match home {
        Some(h) => cmd.env("ROCKETMQ_HOME", h),
        None => cmd.env_remove("ROCKETMQ_HOME"),
    };
    cmd.output().expect("run mqadmin")
}

fn ok_home(home: &Path, args: &[&str]) -> String {
    let o = mqadmin_home(Some(home), args);
    assert!(
        o.status.success(),
        "mqadmin {args:?} failed\nstdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

#[test]
fn acl_commands_drive_plain_acl_yml() {
    let ns = NameSrv::start();
    let dir = tempfile::tempdir().unwrap();
    let acl_file = dir.path().join("plain_acl.yml");
    std::fs::write(&acl_file, ACL_YML).unwrap();
    let mut conf = BrokerConf::new("broker-acl", &ns.addr, &dir.path().join("store"))
        .unwrap()
        .with_extra(&format!(
            "aclEnable=true\naclPlainFile={}\nautoCreateTopicEnable=true",
            acl_file.display()
        ));
    conf.cluster = CLUSTER.into();
    let conf_path = dir.path().join("broker.conf");
    conf.write(&conf_path).unwrap();
    let mut cmd = Command::new(sibling_bin("mqbroker"));
    cmd.arg("-c").arg(&conf_path);
    let (_broker, _) = spawn_wait(cmd, BROKER_BOOT_LINE, BOOT_TIMEOUT).unwrap();
    let b = conf.addr();
    let n = ns.addr.as_str();

    // tools.yml under $ROCKETMQ_HOME/conf, as 4.8.0's mqadmin reads it
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join("conf")).unwrap();
    std::fs::write(
        home.join("conf/tools.yml"),
        "accessKey: rocketmq2\nsecretKey: 12345678\n",
    )
    .unwrap();

    // without credentials: refused by the broker's ACL
    let o = mqadmin_home(None, &["getAccessConfigSubCommand", "-n", n, "-b", &b]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("No accessKey is configured"),
        "{}",
        stderr(&o)
    );

    // updateAclConfig: a new account; printed as 4.8.0 prints it
    let out = ok_home(
        &home,
        &[
            "updateAclConfig",
            "-n",
            n,
            "-c",
            CLUSTER,
            "-a",
            "produser",
            "-s",
            "prodsecret",
            "-i",
            "DENY",
            "-u",
            "SUB",
            "-t",
            "AclTopic=PUB,Other=DENY",
            "-m",
            "false",
        ],
    );
    assert!(
        out.starts_with(&format!(
            "create or update plain access config to {b} success.\n"
        )),
        "{out}"
    );
    assert!(
        out.contains("org.apache.rocketmq.common.PlainAccessConfig@"),
        "{out}"
    );
    let text = std::fs::read_to_string(&acl_file).unwrap();
    assert!(
        text.contains("produser") && text.contains("AclTopic=PUB"),
        "{text}"
    );

    // getAccessConfigSubCommand: the white list and every account's fields
    let out = ok_home(&home, &["getAccessConfigSubCommand", "-n", n, "-b", &b]);
    assert!(
        out.contains("globalWhiteRemoteAddresses: [10.10.103.*]\n"),
        "{out}"
    );
    assert!(out.contains("  accessKey         : produser\n"), "{out}");
    assert!(
        out.contains("  topicPerms        : [AclTopic=PUB, Other=DENY]\n"),
        "{out}"
    );
    assert!(out.contains("  whiteRemoteAddress: \n"), "{out}");

    // clusterAclConfigVersion: one change so far
    let out = ok_home(&home, &["clusterAclConfigVersion", "-n", n, "-c", CLUSTER]);
    let row = out.lines().find(|l| l.contains(&b)).expect("a row");
    assert!(
        row.starts_with(&format!("{CLUSTER:<16}  {:<22}  {b:<22}  1 ", "broker-acl")),
        "{row:?}"
    );
    assert!(
        out.ends_with("get cluster's plain access config version success.\n"),
        "{out}"
    );

    // the new account sends to its topic with sendMessage (RMQ_TOOLS_YML points at its keys)
    let prod_yml = dir.path().join("prod.yml");
    std::fs::write(&prod_yml, "accessKey: produser\nsecretKey: prodsecret\n").unwrap();
    let send = |topic: &str| {
        Command::new(env!("CARGO_BIN_EXE_mqadmin"))
            .args(["sendMessage", "-n", n, "-t", topic, "-p", "hello"])
            .env_remove("ROCKETMQ_HOME")
            .env("RMQ_TOOLS_YML", &prod_yml)
            .output()
            .unwrap()
    };
    ok_home(
        &home,
        &["updateTopic", "-n", n, "-c", CLUSTER, "-t", "AclTopic"],
    );
    ok_home(
        &home,
        &["updateTopic", "-n", n, "-c", CLUSTER, "-t", "Other"],
    );
    let o = eventually(20, || {
        let o = send("AclTopic");
        o.status.success().then_some(o)
    })
    .unwrap_or_else(|| panic!("produser could not send: {}", stderr(&send("AclTopic"))));
    assert!(stdout(&o).contains("SEND_OK"), "{}", stdout(&o));
    let o = send("Other");
    assert!(!o.status.success());
    let err = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        err.contains("No default permission for topic:Other"),
        "{err}"
    );

    // updateGlobalWhiteAddr, then deleteAccessConfig
    let out = ok_home(
        &home,
        &[
            "updateGlobalWhiteAddr",
            "-n",
            n,
            "-b",
            &b,
            "-g",
            "10.10.103.*,192.168.0.*",
        ],
    );
    assert_eq!(
        out,
        format!("update global white remote addresses to {b} success.\n")
    );
    let out = ok_home(
        &home,
        &[
            "deleteAccessConfig",
            "-n",
            n,
            "-c",
            CLUSTER,
            "-a",
            "produser",
        ],
    );
    assert_eq!(
        out,
        format!(
            "delete plain access config account to {b} success.\naccount's accesskey is:produser"
        )
    );
    let text = std::fs::read_to_string(&acl_file).unwrap();
    assert!(
        !text.contains("produser") && text.contains("192.168.0.*"),
        "{text}"
    );
    let out = ok_home(&home, &["clusterAclConfigVersion", "-n", n, "-b", &b]);
    assert!(out.contains(&format!("{b:<22}  3 ")), "{out}");
    assert!(
        out.ends_with("get broker's plain access config version success.\n"),
        "{out}"
    );
}
