//! A real Apache Kafka 4.1.1 broker for the `brokers` workload of vs-kafka: one KRaft node
//! (broker and controller in one JVM) on 127.0.0.1, and Kafka's own load tools,
//! `ProducerPerformance` and `ConsumerPerformance`, whose summary lines are parsed here.
//!
//! The jars come from Maven Central through `experiments/peers/kafka/kafka.sh fetch` (`make
//! kafka-jars`). Book: Part V, "RocketMQ vs Kafka: one log or many". Kafka's counterparts are
//! `bin/kafka-storage.sh format`, `bin/kafka-server-start.sh`, `bin/kafka-topics.sh`,
//! `bin/kafka-producer-perf-test.sh` and `bin/kafka-consumer-perf-test.sh`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use crate::procs::{self, Server, Watched};
use experiments::workspace_root;

/// `experiments/peers/kafka/kafka.sh`.
pub fn script() -> PathBuf {
    workspace_root().join("experiments/peers/kafka/kafka.sh")
}

/// Downloads the Kafka jars if they are not cached; false (with Maven's error printed) when
/// that fails.
pub fn fetch() -> bool {
    Command::new("bash")
        .arg(script())
        .arg("fetch")
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A running single-node Kafka (killed on drop).
pub struct KafkaNode {
    /// `127.0.0.1:<port>` of the PLAINTEXT listener.
    pub bootstrap: String,
    server: Server,
}

/// `server.properties` of one KRaft node that is broker and controller at once, listening on
/// loopback only. `flush_messages`: Kafka's `log.flush.interval.messages` (None keeps Kafka's
/// default, Long.MAX_VALUE: the page cache and the OS decide when data reaches the disk).
// ANCHOR: server-properties
pub fn server_properties(
    dir: &Path,
    port: u16,
    ctl_port: u16,
    flush_messages: Option<u64>,
) -> String {
    let mut p = format!(
        "process.roles=broker,controller\nnode.id=1\n\
         controller.quorum.voters=1@127.0.0.1:{ctl_port}\n\
         listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{ctl_port}\n\
         advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
         controller.listener.names=CONTROLLER\ninter.broker.listener.name=PLAINTEXT\n\
         listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n\
         log.dirs={}\nnum.partitions=1\nauto.create.topics.enable=false\n\
         offsets.topic.replication.factor=1\ntransaction.state.log.replication.factor=1\n\
         transaction.state.log.min.isr=1\ngroup.initial.rebalance.delay.ms=0\n",
        dir.join("data").display()
    );
    if let Some(n) = flush_messages {
        p.push_str(&format!("log.flush.interval.messages={n}\n"));
    }
    p
}
// ANCHOR_END: server-properties

impl KafkaNode {
    /// Formats `dir/data` (the storage tool, with a fixed cluster id) and starts the node;
    /// returns when its PLAINTEXT port accepts connections.
    pub fn start(dir: &Path, heap: &str, flush_messages: Option<u64>) -> Result<KafkaNode> {
        std::fs::create_dir_all(dir)?;
        let port = procs::free_broker_port()?;
        let ctl_port = procs::free_broker_port()?;
        let conf = dir.join("server.properties");
        std::fs::write(
            &conf,
            server_properties(dir, port, ctl_port, flush_messages),
        )?;
        let conf_s = conf.display().to_string();
        // A cluster id is 16 random bytes in URL-safe base64 (22 characters); any such
        // string will do for a cluster of one node that lives for one run.
        let out = run_class(
            &[
                "kafka.tools.StorageTool",
                "format",
                "-t",
                "VsKafkaWorkbookClust0A",
                "-c",
                &conf_s,
            ],
            dir,
        )?;
        if !out.contains("Formatting") {
            bail!("kafka-storage format printed no \"Formatting\": {out}");
        }
        let mut cmd = Command::new("bash");
        cmd.arg(script())
            .arg("run-server")
            .arg(&conf)
            .env("RMQ_KAFKA_HEAP", heap)
            .current_dir(dir);
        let (mut server, _) = Server::spawn(
            "kafka",
            cmd,
            None,
            &dir.join("kafka.log"),
            Duration::from_secs(60),
        )?;
        procs::wait_port(&mut server, port, Duration::from_secs(90))?;
        Ok(KafkaNode {
            bootstrap: format!("127.0.0.1:{port}"),
            server,
        })
    }

    /// The process to watch for CPU.
    pub fn watched(&self, key: &str) -> Watched {
        (key.into(), "broker".into(), self.server.pid())
    }

    /// Creates `topic` with `partitions` partitions (replication factor 1).
    pub fn create_topic(&self, topic: &str, partitions: usize, dir: &Path) -> Result<()> {
        let parts = partitions.to_string();
        let out = run_class(
            &[
                "org.apache.kafka.tools.TopicCommand",
                "--bootstrap-server",
                &self.bootstrap,
                "--create",
                "--topic",
                topic,
                "--partitions",
                &parts,
                "--replication-factor",
                "1",
            ],
            dir,
        )?;
        if !out.contains("Created topic") {
            bail!("kafka-topics --create {topic}: {out}");
        }
        Ok(())
    }
}

/// Runs one class with the Kafka jars and returns its stdout + stderr (SLF4J's notice that no
/// logger is bound is dropped).
pub fn run_class(args: &[&str], dir: &Path) -> Result<String> {
    let out = Command::new("bash")
        .arg(script())
        .arg("run-class")
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("running {}", args.first().copied().unwrap_or("?")))?;
    let text: String = String::from_utf8_lossy(&out.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&out.stderr).lines())
        .filter(|l| !l.starts_with("SLF4J:"))
        .map(|l| format!("{l}\n"))
        .collect();
    if !out.status.success() {
        bail!("{} failed ({}): {text}", args[0], out.status);
    }
    Ok(text)
}

/// The summary `ProducerPerformance` prints last.
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerResult {
    pub records: u64,
    pub records_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Parses "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency,
/// a ms 50th, b ms 95th, c ms 99th, d ms 99.9th." (the last such line of the output).
pub fn parse_producer(out: &str) -> Result<ProducerResult> {
    let line = out
        .lines()
        .rev()
        .find(|l| l.contains("99.9th"))
        .ok_or_else(|| anyhow!("ProducerPerformance printed no summary: {out}"))?;
    let num_before = |suffix: &str| -> Result<f64> {
        line.split(',')
            .find(|part| part.trim_end_matches('.').trim().ends_with(suffix))
            .and_then(|part| part.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .ok_or_else(|| anyhow!("no {suffix:?} in {line:?}"))
    };
    Ok(ProducerResult {
        records: num_before("records sent")? as u64,
        records_per_s: line
            .split(',')
            .nth(1)
            .and_then(|p| p.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| anyhow!("no records/sec in {line:?}"))?,
        p50_ms: num_before("ms 50th")?,
        p99_ms: num_before("ms 99th")?,
    })
}

/// From `ConsumerPerformance`'s CSV line: messages read and messages per second while
/// fetching (`fetch.nMsg.sec`: the time of the group's join and rebalance left out).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerResult {
    pub messages: u64,
    pub fetch_msgs_per_s: f64,
}

/// Parses the header + values lines ConsumerPerformance prints.
pub fn parse_consumer(out: &str) -> Result<ConsumerResult> {
    let lines: Vec<&str> = out.lines().collect();
    let h = lines
        .iter()
        .position(|l| l.starts_with("start.time"))
        .ok_or_else(|| anyhow!("ConsumerPerformance printed no header: {out}"))?;
    let header: Vec<&str> = lines[h].split(',').map(str::trim).collect();
    let values: Vec<&str> = lines
        .get(h + 1)
        .ok_or_else(|| anyhow!("ConsumerPerformance printed no values: {out}"))?
        .split(',')
        .map(str::trim)
        .collect();
    let field = |name: &str| -> Result<f64> {
        header
            .iter()
            .position(|c| *c == name)
            .and_then(|i| values.get(i))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow!("no {name} in {out}"))
    };
    Ok(ConsumerResult {
        messages: field("data.consumed.in.nMsg")? as u64,
        fetch_msgs_per_s: field("fetch.nMsg.sec")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_producer_summary_line_is_parsed() {
        let out = "85440 records sent, 17067.5 records/sec (16.67 MB/sec), 2079.1 ms avg latency, 4303.0 ms max latency.\n\
                   300000 records sent, 18753.5 records/sec (18.31 MB/sec), 1374.22 ms avg latency, 4303.00 ms max latency, 1289 ms 50th, 3075 ms 95th, 3569 ms 99th, 3970 ms 99.9th.\n";
        let r = parse_producer(out).unwrap();
        assert_eq!(r.records, 300_000);
        assert_eq!(r.records_per_s, 18753.5);
        assert_eq!(r.p50_ms, 1289.0);
        assert_eq!(r.p99_ms, 3569.0);
    }

    #[test]
    fn the_consumer_csv_is_parsed_by_column_name() {
        let out = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n\
                   2026-12-06 23:05:01:034, 2026-12-06 23:05:07:848, 292.9688, 42.9951, 300000, 44027.0032, 2496, 4318, 67.8483, 69476.6095\n";
        let r = parse_consumer(out).unwrap();
        assert_eq!(r.messages, 300_000);
        assert_eq!(r.fetch_msgs_per_s, 69476.6095);
        assert!(parse_consumer("nothing").is_err());
    }

    #[test]
    fn the_flush_setting_appears_only_when_asked_for() {
        let d = Path::new("/tmp/k");
        assert!(!server_properties(d, 1, 2, None).contains("flush"));
        assert!(server_properties(d, 1, 2, Some(1)).contains("log.flush.interval.messages=1\n"));
        assert!(server_properties(d, 1, 2, None).contains("PLAINTEXT://127.0.0.1:1"));
    }
}
