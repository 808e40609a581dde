//! Helpers shared by the broker's integration tests: start the real `mqnamesrv`/`mqbroker`
//! binaries on ephemeral 127.0.0.1 ports, wait for their boot lines, kill them on drop, and
//! build raw SEND_MESSAGE_V2 / PULL_MESSAGE requests.
#![allow(dead_code)]

use rmq_common::message::encode_properties;
use rmq_remoting::codes::request as rq;
use rmq_remoting::RemotingCommand;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const T: Duration = Duration::from_secs(10);

pub struct Proc {
    pub child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn sibling_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    for dir in exe.ancestors().skip(1) {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "{name} not found next to the test executable: run `cargo build --workspace --bins` first"
    );
}

/// Spawns a binary and waits for a stdout line containing `needle`; returns that line.
pub fn spawn_wait(mut cmd: Command, needle: &str) -> (Proc, String) {
    let mut child = cmd
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let wanted = needle.to_string();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains(&wanted) {
                let _ = tx.send(line);
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("no boot line containing {:?}", needle));
    (Proc { child }, line)
}

pub fn start_namesrv(dir: &Path) -> (Proc, String) {
    let conf = dir.join("namesrv.conf");
    std::fs::write(
        &conf,
        format!("kvConfigPath={}\n", dir.join("kv.json").display()),
    )
    .unwrap();
    let mut cmd = Command::new(sibling_bin("mqnamesrv"));
    cmd.arg("-c").arg(&conf).args(["-p", "0"]);
    let (p, line) = spawn_wait(cmd, "listen=");
    let addr = line.split("listen=").nth(1).unwrap().trim().to_string();
    (p, addr)
}

/// A port p with p and p-2 both free on 127.0.0.1.
/// A port p with p-2 (VIP channel) and p+1 (HA) free too on 127.0.0.1, never overlapping a
/// range handed out earlier in this test process (tests run in parallel threads).
pub fn free_port_pair() -> u16 {
    static TAKEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        if !(1100..65000).contains(&p) {
            continue;
        }
        let range = [p - 2, p - 1, p, p + 1];
        let mut taken = TAKEN.lock().unwrap();
        if range.iter().any(|q| taken.contains(q)) {
            continue;
        }
        let others_free = [p - 2, p + 1]
            .iter()
            .all(|q| std::net::TcpListener::bind(("127.0.0.1", *q)).is_ok());
        if others_free {
            taken.extend(range);
            return p;
        }
    }
}

pub struct BrokerSetup {
    pub conf: PathBuf,
    pub addr: String,
}

pub fn write_broker_conf(dir: &Path, ns: &str, extra: &str) -> BrokerSetup {
    let port = free_port_pair();
    let conf = dir.join("broker.conf");
    std::fs::write(
        &conf,
        format!(
            "brokerClusterName=TestCluster\nbrokerName=broker-t\nbrokerId=0\nlistenPort={port}\n\
             namesrvAddr={ns}\nstorePathRootDir={}\nflushConsumerOffsetInterval=200\n\
             someUnknownKey=1\n{extra}\n",
            dir.join("store").display()
        ),
    )
    .unwrap();
    BrokerSetup {
        conf,
        addr: format!("127.0.0.1:{port}"),
    }
}

pub fn start_broker(s: &BrokerSetup) -> Proc {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mqbroker"));
    cmd.arg("-c").arg(&s.conf);
    spawn_wait(cmd, "boot success").0
}

pub fn send_v2(topic: &str, body: &[u8], props: &[(&str, &str)]) -> RemotingCommand {
    let props: Vec<(String, String)> = props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    RemotingCommand::new_request(rq::SEND_MESSAGE_V2)
        .with_ext("a", "PG")
        .with_ext("b", topic)
        .with_ext("c", "TBW102")
        .with_ext("d", 4)
        .with_ext("e", 0)
        .with_ext("f", 0)
        .with_ext("g", 1)
        .with_ext("h", 0)
        .with_ext("i", encode_properties(&props))
        .with_ext("j", 0)
        .with_ext("k", false)
        .with_body(body.to_vec())
}

pub fn pull(topic: &str, offset: i64, sys_flag: i32, suspend_ms: i64) -> RemotingCommand {
    RemotingCommand::new_request(rq::PULL_MESSAGE)
        .with_ext("consumerGroup", "CG")
        .with_ext("topic", topic)
        .with_ext("queueId", 0)
        .with_ext("queueOffset", offset)
        .with_ext("maxMsgNums", 32)
        .with_ext("sysFlag", sys_flag)
        .with_ext("commitOffset", 0)
        .with_ext("suspendTimeoutMillis", suspend_ms)
        .with_ext("subscription", "*")
        .with_ext("subVersion", 0)
}

/// Waits until the broker reports at least `n` messages in `topic`/`queue_id` (GET_MAX_OFFSET).
/// Dispatch into the consume queue is asynchronous, as in 4.8.0, so a pull sent right after a
/// send reply may not see the message yet.
pub async fn wait_dispatched(
    c: &rmq_remoting::RemotingClient,
    addr: &str,
    topic: &str,
    queue_id: i32,
    n: i64,
) {
    let start = std::time::Instant::now();
    loop {
        let req = RemotingCommand::new_request(rq::GET_MAX_OFFSET)
            .with_ext("topic", topic)
            .with_ext("queueId", queue_id);
        if let Ok(r) = c.invoke(addr, req, T).await {
            let max: i64 = r.ext("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
            if max >= n {
                return;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{topic}/{queue_id} never reached {n} messages"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
