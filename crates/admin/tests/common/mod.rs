//! Shared harness for mqadmin's integration tests: start the real `mqnamesrv` and
//! `mqbroker` binaries on ephemeral 127.0.0.1 ports with temporary directories,
//! run the real `mqadmin`, and kill every child on drop (process plumbing from `rmq-testkit`).
//! Book chapter: none (test support). RocketMQ 4.8.0 counterpart: `IntegrationTestBase`
//! (test module).

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use rmq_testkit::{spawn_wait, BrokerConf, Proc, BOOT_TIMEOUT, BROKER_BOOT_LINE};

/// A binary of another package, found next to this test executable
/// (`<target>/debug/deps/<test>` -> `<target>/debug/<name>`); panics naming the cargo
/// command that builds it.
pub fn sibling_bin(name: &str) -> PathBuf {
    rmq_testkit::sibling_bin(name).unwrap_or_else(|e| panic!("{e}"))
}

/// A running name server.
pub struct NameSrv {
    pub addr: String,
    _child: Proc,
    _dir: tempfile::TempDir,
}

impl NameSrv {
    pub fn start() -> NameSrv {
        let dir = tempfile::tempdir().expect("tempdir");
        let (child, addr) = rmq_testkit::start_namesrv(&sibling_bin("mqnamesrv"), dir.path(), "")
            .unwrap_or_else(|e| panic!("{e}"));
        NameSrv {
            addr,
            _child: child,
            _dir: dir,
        }
    }

    /// The name server's temporary directory (its config and `kvConfig.json`).
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }
}

/// A running single-master broker.
pub struct Broker {
    pub addr: String,
    pub name: String,
    pub cluster: String,
    _child: Proc,
    pub dir: tempfile::TempDir,
}

impl Broker {
    /// Starts master `name` of `cluster` (auto-creating topics and groups, small files) and
    /// waits for its boot line.
    pub fn start(namesrv: &str, cluster: &str, name: &str) -> Broker {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("store");
        let mut conf = BrokerConf::new(name, namesrv, &store)
            .unwrap_or_else(|e| panic!("{e}"))
            .with_extra(&format!(
                "storePathCommitLog={}\nbrokerIP1=127.0.0.1\nautoCreateTopicEnable=true\n\
                 autoCreateSubscriptionGroup=true\nmappedFileSizeCommitLog=10485760\n\
                 mappedFileSizeConsumeQueue=60000\nflushDiskType=ASYNC_FLUSH\n\
                 brokerRole=ASYNC_MASTER",
                store.join("commitlog").display()
            ));
        conf.cluster = cluster.to_string();
        let path = dir.path().join("broker.conf");
        conf.write(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut cmd = Command::new(sibling_bin("mqbroker"));
        cmd.arg("-c").arg(&path).env("HOME", dir.path());
        let (child, _) =
            spawn_wait(cmd, BROKER_BOOT_LINE, BOOT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
        Broker {
            addr: conf.addr(),
            name: name.to_string(),
            cluster: cluster.to_string(),
            _child: child,
            dir,
        }
    }
}

/// Runs the real `mqadmin` with `args` (NAMESRV_ADDR cleared unless given).
pub fn mqadmin(args: &[&str]) -> Output {
    mqadmin_env(args, None)
}

pub fn mqadmin_env(args: &[&str], namesrv_env: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mqadmin"));
    cmd.args(args)
        .env_remove("NAMESRV_ADDR")
        .env("RUST_LOG", "warn");
    if let Some(ns) = namesrv_env {
        cmd.env("NAMESRV_ADDR", ns);
    }
    cmd.output().expect("run mqadmin")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs mqadmin and insists on success, returning stdout.
pub fn ok(args: &[&str]) -> String {
    ok_in(std::path::Path::new("."), args)
}

/// Runs mqadmin in `dir` (for subcommands that write files into the working directory, such
/// as consumerStatus) and insists on success, returning stdout.
pub fn ok_in(dir: &std::path::Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_mqadmin"))
        .args(args)
        .current_dir(dir)
        .env_remove("NAMESRV_ADDR")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run mqadmin");
    assert!(
        o.status.success(),
        "mqadmin {args:?} failed\nstdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

/// Retries `f` until it returns Some, for up to `secs` seconds.
pub fn eventually<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}
