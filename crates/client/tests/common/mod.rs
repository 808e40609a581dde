//! Test harness: the real `mqnamesrv` and `mqbroker` binaries on ephemeral
//! 127.0.0.1 ports (build them first: `cargo build -p rmq-namesrv -p rmq-broker --bins`),
//! killed on drop, plus topic creation and wait helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rmq_client::api::MqClientApi;
use rmq_client::ClientConfig;
use rmq_remoting::RemotingClient;

pub const T: Duration = Duration::from_secs(10);

pub struct Proc {
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sibling_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    for dir in exe.ancestors().skip(1) {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} not found: run `cargo build -p rmq-namesrv -p rmq-broker --bins` first");
}

fn spawn_wait(mut cmd: Command, needle: &str) -> (Proc, String) {
    let mut child = cmd
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
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
        .unwrap_or_else(|_| panic!("no boot line containing {needle:?}"));
    (Proc { child }, line)
}

fn free_port_pair() -> u16 {
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let p = l.local_addr().unwrap().port();
        if p < 1100 {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", p - 2)).is_ok() {
            return p;
        }
    }
}

/// One name server and one broker.
pub struct Cluster {
    pub ns: String,
    pub broker: String,
    pub dir: tempfile::TempDir,
    _procs: Vec<Proc>,
    broker_conf: PathBuf,
}

impl Cluster {
    pub async fn start() -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("namesrv.conf");
        std::fs::write(
            &conf,
            format!("kvConfigPath={}\n", dir.path().join("kv.json").display()),
        )
        .unwrap();
        let mut cmd = Command::new(sibling_bin("mqnamesrv"));
        cmd.arg("-c").arg(&conf).args(["-p", "0"]);
        let (ns_proc, line) = spawn_wait(cmd, "listen=");
        let ns = line.split("listen=").nth(1).unwrap().trim().to_string();
        let port = free_port_pair();
        let broker_conf = dir.path().join("broker.conf");
        std::fs::write(
            &broker_conf,
            format!(
                "brokerClusterName=TestCluster\nbrokerName=broker-a\nbrokerId=0\nlistenPort={port}\n\
                 namesrvAddr={ns}\nstorePathRootDir={}\nflushConsumerOffsetInterval=200\n\
                 messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s\n",
                dir.path().join("store").display()
            ),
        )
        .unwrap();
        let mut c = Cluster {
            ns,
            broker: format!("127.0.0.1:{port}"),
            dir,
            _procs: vec![ns_proc],
            broker_conf,
        };
        c.start_broker();
        c.wait_route("TBW102").await;
        c
    }

    fn start_broker(&mut self) {
        let mut cmd = Command::new(sibling_bin("mqbroker"));
        cmd.arg("-c").arg(&self.broker_conf);
        let (p, _) = spawn_wait(cmd, "boot success");
        self._procs.push(p);
    }

    /// Starts another master named `name`; returns its address and process
    /// (drop the process to kill the broker).
    pub fn add_broker(&self, name: &str) -> (String, Proc) {
        let port = free_port_pair();
        let conf = self.dir.path().join(format!("{name}.conf"));
        std::fs::write(
            &conf,
            format!(
                "brokerClusterName=TestCluster\nbrokerName={name}\nbrokerId=0\nlistenPort={port}\n\
                 namesrvAddr={}\nstorePathRootDir={}\n",
                self.ns,
                self.dir.path().join(format!("store-{name}")).display()
            ),
        )
        .unwrap();
        let mut cmd = Command::new(sibling_bin("mqbroker"));
        cmd.arg("-c").arg(&conf);
        let (p, _) = spawn_wait(cmd, "boot success");
        (format!("127.0.0.1:{port}"), p)
    }

    /// Creates a topic on one broker (no waiting for the route).
    pub async fn create_topic_on(&self, broker: &str, topic: &str, queues: i32) {
        let api = MqClientApi::new(RemotingClient::new());
        api.create_topic(broker, topic, queues, 6, false, T)
            .await
            .unwrap();
        api.remoting.shutdown();
    }

    pub fn client_config(&self, instance: &str) -> ClientConfig {
        let mut c = ClientConfig::new(self.ns.clone());
        c.instance_name = Some(instance.to_string());
        c
    }

    /// Creates a topic on the broker and waits for the name server to route it.
    pub async fn create_topic(&self, topic: &str, queues: i32) {
        let api = MqClientApi::new(RemotingClient::new());
        api.create_topic(&self.broker, topic, queues, 6, false, T)
            .await
            .unwrap();
        self.wait_route(topic).await;
        api.remoting.shutdown();
    }

    pub async fn wait_route(&self, topic: &str) {
        self.wait_route_brokers(topic, 1).await
    }

    /// Waits until the name server routes `topic` to at least `brokers` brokers.
    pub async fn wait_route_brokers(&self, topic: &str, brokers: usize) {
        let api = MqClientApi::new(RemotingClient::new());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(r)) = api.get_topic_route(&self.ns, topic, T).await {
                if r.queue_datas.len() >= brokers {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "no route for {topic}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        api.remoting.shutdown();
    }

    /// The broker's max offset of one queue.
    pub async fn max_offset(&self, topic: &str, queue_id: i32) -> i64 {
        let api = MqClientApi::new(RemotingClient::new());
        let mq = rmq_client::MessageQueue {
            broker_name: "broker-a".into(),
            queue_id,
            topic: topic.into(),
        };
        let o = api.get_max_offset(&self.broker, &mq, T).await.unwrap();
        api.remoting.shutdown();
        o
    }
}

/// Polls `cond` every 100 ms until it holds or `within` passes.
pub async fn wait_until<F: FnMut() -> bool>(within: Duration, what: &str, mut cond: F) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn path_exists(p: &Path) -> bool {
    p.exists()
}
