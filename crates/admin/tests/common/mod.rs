//! Shared harness for mqadmin's integration tests: start the real `mqnamesrv` and
//! `mqbroker` binaries on ephemeral 127.0.0.1 ports with temporary directories,
//! run the real `mqadmin`, and kill every child on drop.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A binary of another package, found next to this test executable
/// (`<target>/debug/deps/<test>` -> `<target>/debug/<name>`).
pub fn sibling_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    for dir in exe.ancestors().skip(1) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "binary `{name}` not found next to {}; run `cargo build --workspace --bins` first (make test does)",
        exe.display()
    );
}

/// A child process killed (and reaped) on drop.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running name server.
pub struct NameSrv {
    pub addr: String,
    _child: Guard,
    _dir: tempfile::TempDir,
}

impl NameSrv {
    pub fn start() -> NameSrv {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("namesrv.conf");
        std::fs::write(
            &conf,
            format!(
                "kvConfigPath={}\n",
                dir.path().join("kvConfig.json").display()
            ),
        )
        .expect("write namesrv.conf");
        let mut child = Command::new(sibling_bin("mqnamesrv"))
            .arg("-c")
            .arg(&conf)
            .args(["-p", "0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mqnamesrv");
        let stdout = child.stdout.take().expect("stdout");
        let guard = Guard(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listen=").nth(1) {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("mqnamesrv did not print its boot line");
        NameSrv {
            addr,
            _child: guard,
            _dir: dir,
        }
    }
}

/// A port p with p-2 (the VIP channel) and p+1 (HA) free too, on 127.0.0.1.
pub fn free_broker_port() -> u16 {
    for _ in 0..200 {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let p = l.local_addr().expect("addr").port();
        drop(l);
        if !(1100..=65000).contains(&p) {
            continue;
        }
        if [p - 2, p + 1, p]
            .iter()
            .all(|q| TcpListener::bind(("127.0.0.1", *q)).is_ok())
        {
            return p;
        }
    }
    panic!("no free port triple found");
}

/// A running single-master broker.
pub struct Broker {
    pub addr: String,
    pub name: String,
    pub cluster: String,
    _child: Guard,
    pub dir: tempfile::TempDir,
}

impl Broker {
    pub fn start(namesrv: &str, cluster: &str, name: &str) -> Broker {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_broker_port();
        let store = dir.path().join("store");
        let conf = dir.path().join("broker.conf");
        std::fs::write(
            &conf,
            format!(
                "brokerClusterName={cluster}\nbrokerName={name}\nbrokerId=0\nlistenPort={port}\n\
                 namesrvAddr={namesrv}\nstorePathRootDir={}\nstorePathCommitLog={}\n\
                 brokerIP1=127.0.0.1\nautoCreateTopicEnable=true\nautoCreateSubscriptionGroup=true\n\
                 mappedFileSizeCommitLog=10485760\nmappedFileSizeConsumeQueue=60000\n\
                 flushDiskType=ASYNC_FLUSH\nbrokerRole=ASYNC_MASTER\n",
                store.display(),
                store.join("commitlog").display()
            ),
        )
        .expect("write broker.conf");
        let child = Command::new(sibling_bin("mqbroker"))
            .arg("-c")
            .arg(&conf)
            .env("RUST_LOG", "warn")
            .env("HOME", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mqbroker");
        Broker {
            addr: format!("127.0.0.1:{port}"),
            name: name.to_string(),
            cluster: cluster.to_string(),
            _child: Guard(child),
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
    let o = mqadmin(args);
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
