//! The `brokers` workload of vs-kafka: whole brokers over TCP, side by side in one run. A real
//! Apache Kafka 4.1.1 (one KRaft node, driven by its own ProducerPerformance and
//! ConsumerPerformance), our mqbroker and the real RocketMQ 4.8.0 broker (both driven by
//! mqbench), for 1 to 1 024 partitions or queues: produce throughput and p99, then consume
//! throughput of what was produced; first with the page cache alone deciding when data
//! reaches the disk, then with an fsync before every acknowledgement.
//!
//! Equal durability: Kafka's `log.flush.interval.messages=1` makes the append path flush the
//! partition before the produce request is answered; RocketMQ's `flushDiskType=SYNC_FLUSH`
//! makes the broker wait for a group commit that covers the message. Book: Part V, "RocketMQ
//! vs Kafka: one log or many". Tests the claim of the original notes that Kafka slows down
//! with many partitions and RocketMQ does not.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::kafka::{self, KafkaNode};
use crate::procs::{self, Watched};
use crate::systems::{self, Bench, Flush, System};
use experiments::chart::{log_log_chart, Line};
use experiments::machine::load_average;
use experiments::{write_csv, write_json, QuickArgs};

/// The three systems, in chart order.
pub const OURS: &str = "ours";
pub const JAVA: &str = "rocketmq-4.8.0";
pub const KAFKA: &str = "kafka-4.1.1";

/// Everything a run of the workload is set to (written into the metadata).
// ANCHOR: params
#[derive(Debug, Clone, Serialize)]
pub struct BrokersParams {
    /// Partitions (Kafka) or queues (RocketMQ) of the one topic a point writes to.
    pub partitions: Vec<usize>,
    /// `ASYNC_FLUSH` (Kafka: no flush setting) and `SYNC_FLUSH` (Kafka: flush every message).
    pub durabilities: Vec<Flush>,
    pub record_bytes: usize,
    /// mqbench producer: seconds, sender threads, messages per batch.
    pub rocketmq_produce_s: u64,
    pub rocketmq_threads: usize,
    pub rocketmq_batch: usize,
    /// mqbench push consumer: listener threads and the time allowed to drain the backlog.
    pub rocketmq_consumer_threads: usize,
    pub rocketmq_consume_s: u64,
    /// ProducerPerformance takes a record count, not a time: each point sends what the
    /// warm-up's rate fills in `rocketmq_produce_s` seconds, within these bounds.
    pub kafka_records_min: u64,
    pub kafka_records_max: u64,
    pub kafka_producer_props: Vec<String>,
    /// Warm-up before the first point of each mode (JIT of the JVMs, page cache, routes): an
    /// mqbench producer for `warmup_s` seconds, ProducerPerformance with this many records.
    pub warmup_s: u64,
    pub kafka_warmup_records: u64,
    /// `log.flush.interval.messages` in the fsync mode.
    pub kafka_flush_interval_messages: u64,
    pub heap: String,
    /// Which systems ran (Java 4.8.0 needs a private network namespace).
    pub systems: Vec<String>,
    pub skipped: Vec<String>,
    /// Load average (1, 5, 15 min) before and after each durability mode.
    pub load_average: Vec<String>,
}
// ANCHOR_END: params

impl BrokersParams {
    pub fn new(q: QuickArgs) -> BrokersParams {
        BrokersParams {
            partitions: q.pick(vec![8], vec![1, 8, 64, 256, 1024]),
            durabilities: q.pick(vec![Flush::Async], vec![Flush::Async, Flush::Sync]),
            record_bytes: 1024,
            rocketmq_produce_s: q.pick(2, 8),
            rocketmq_threads: 4,
            rocketmq_batch: 32,
            rocketmq_consumer_threads: 4,
            rocketmq_consume_s: q.pick(4, 15),
            kafka_records_min: q.pick(10_000, 20_000),
            kafka_records_max: q.pick(30_000, 1_000_000),
            warmup_s: q.pick(1, 5),
            kafka_warmup_records: q.pick(10_000, 100_000),
            kafka_producer_props: ["acks=1", "linger.ms=5", "batch.size=32768"]
                .map(String::from)
                .to_vec(),
            kafka_flush_interval_messages: 1,
            heap: "1g".into(),
            systems: Vec::new(),
            skipped: Vec::new(),
            load_average: Vec::new(),
        }
    }
}

/// One measured point.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub system: String,
    pub durability: Flush,
    pub partitions: usize,
    pub produced: u64,
    pub produce_per_s: f64,
    pub produce_p50_ms: f64,
    pub produce_p99_ms: f64,
    pub consumed: u64,
    pub consume_per_s: f64,
    /// CPU of the server processes (name server + broker, or the Kafka node) per message
    /// produced, in microseconds.
    pub server_cpu_us_per_msg: f64,
    pub error: Option<String>,
}

impl Point {
    fn new(system: &str, durability: Flush, partitions: usize) -> Point {
        Point {
            system: system.into(),
            durability,
            partitions,
            produced: 0,
            produce_per_s: 0.0,
            produce_p50_ms: 0.0,
            produce_p99_ms: 0.0,
            consumed: 0,
            consume_per_s: 0.0,
            server_cpu_us_per_msg: 0.0,
            error: None,
        }
    }
}

/// Runs every durability mode; `java` says whether Java 4.8.0 may run (private namespace).
pub fn measure(work: &Path, p: &mut BrokersParams, java: bool, tick: &dyn Fn()) -> Vec<Point> {
    let mut points = Vec::new();
    let mut systems_seen: Vec<String> = Vec::new();
    for flush in p.durabilities.clone() {
        let before = load_average().unwrap_or_else(|| "unknown".into());
        let dir = work.join(format!("brokers-{}", flush.conf_value()));
        match run_mode(&dir, p, flush, java, tick, &mut points) {
            Ok(names) => {
                for n in names {
                    if !systems_seen.contains(&n) {
                        systems_seen.push(n);
                    }
                }
            }
            Err(e) => p.skipped.push(format!("{}: {e:#}", flush.conf_value())),
        }
        let _ = std::fs::remove_dir_all(&dir);
        p.load_average.push(format!(
            "{}: before {before}, after {}",
            flush.conf_value(),
            load_average().unwrap_or_else(|| "unknown".into())
        ));
    }
    p.systems = systems_seen;
    points
}

fn run_mode(
    dir: &Path,
    p: &mut BrokersParams,
    flush: Flush,
    java: bool,
    tick: &dyn Fn(),
    points: &mut Vec<Point>,
) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let ours = systems::start_ours(dir, OURS, flush).context("starting our broker")?;
    let java_sys = if java {
        match systems::start_java(dir, JAVA, &p.heap, flush) {
            Ok(s) => Some(s),
            Err(e) => {
                p.skipped
                    .push(format!("{JAVA} ({}): {e:#}", flush.conf_value()));
                None
            }
        }
    } else {
        None
    };
    let flush_messages = (flush == Flush::Sync).then_some(p.kafka_flush_interval_messages);
    let kafka =
        KafkaNode::start(&dir.join(KAFKA), &p.heap, flush_messages).context("starting Kafka")?;
    let mut rocketmqs: Vec<&System> = vec![&ours];
    if let Some(j) = &java_sys {
        rocketmqs.push(j);
    }
    let mut names: Vec<String> = rocketmqs.iter().map(|s| s.key.clone()).collect();
    names.push(KAFKA.into());
    // Name servers learn the brokers' routes from a heartbeat; give the first one time.
    std::thread::sleep(Duration::from_secs(3));
    let kafka_rate = warm_up(&rocketmqs, &kafka, p, dir)?;
    let kafka_records = ((kafka_rate * p.rocketmq_produce_s as f64) as u64)
        .clamp(p.kafka_records_min, p.kafka_records_max);
    for &parts in &p.partitions {
        let topic = format!("VsKafka{parts}");
        for sys in &rocketmqs {
            let mut pt = Point::new(&sys.key, flush, parts);
            if let Err(e) = rocketmq_point(&rt, sys, &topic, p, &mut pt, dir) {
                pt.error = Some(format!("{e:#}"));
            }
            points.push(pt);
            tick();
        }
        let mut pt = Point::new(KAFKA, flush, parts);
        let k = kafka_point(&kafka, &topic, p, kafka_records, &mut pt, dir);
        if let Err(e) = k {
            pt.error = Some(format!("{e:#}"));
        }
        points.push(pt);
        tick();
    }
    Ok(names)
}

/// One unmeasured run per system, so that the measured points do not pay for JIT compilation
/// (both JVMs), first page faults and route discovery. Returns Kafka's warm-up rate (records/s).
fn warm_up(rocketmqs: &[&System], kafka: &KafkaNode, p: &BrokersParams, dir: &Path) -> Result<f64> {
    for sys in rocketmqs {
        let b = Bench {
            mode: "producer",
            topic: "VsKafkaWarmup",
            size: p.record_bytes,
            threads: p.rocketmq_threads,
            batch: p.rocketmq_batch,
            secs: p.warmup_s,
            group: "vs_kafka_warmup".into(),
        };
        systems::mqbench(sys, &b, dir).with_context(|| format!("warming up {}", sys.key))?;
    }
    kafka.create_topic("VsKafkaWarmup", 8, dir)?;
    let out = producer_performance(kafka, "VsKafkaWarmup", p.kafka_warmup_records, p, dir)
        .context("warming up Kafka")?;
    Ok(kafka::parse_producer(&out)?.records_per_s)
}

/// Runs Kafka's ProducerPerformance: `records` records of `record_bytes`, as fast as it can
/// (`--throughput -1`), with the producer settings of `p`; returns its output.
fn producer_performance(
    node: &KafkaNode,
    topic: &str,
    records: u64,
    p: &BrokersParams,
    dir: &Path,
) -> Result<String> {
    let (n, size) = (records.to_string(), p.record_bytes.to_string());
    let bootstrap = format!("bootstrap.servers={}", node.bootstrap);
    let mut args = vec![
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        &n,
        "--record-size",
        &size,
        "--throughput",
        "-1",
        "--producer-props",
        &bootstrap,
    ];
    args.extend(p.kafka_producer_props.iter().map(String::as_str));
    kafka::run_class(&args, dir)
}

fn server_cpu(procs_: &[Watched], f: impl FnOnce() -> Result<()>) -> Result<f64> {
    let before: Vec<_> = procs_.iter().map(|p| procs::sample(p.2)).collect();
    f()?;
    let after: Vec<_> = procs_.iter().map(|p| procs::sample(p.2)).collect();
    Ok(procs::cpu_seconds(&before, &after))
}

// ANCHOR: rocketmq-point
fn rocketmq_point(
    rt: &tokio::runtime::Runtime,
    sys: &System,
    topic: &str,
    p: &BrokersParams,
    pt: &mut Point,
    scratch: &Path,
) -> Result<()> {
    let client = rmq_remoting::RemotingClient::new();
    rt.block_on(experiments::servers::create_topic(
        &client,
        &sys.broker_addr,
        topic,
        pt.partitions as i32,
        Duration::from_secs(10),
    ))?;
    // The producer finds the new queues through the name server, which hears of them with
    // the broker's next heartbeat (30 s apart): register them now.
    std::thread::sleep(Duration::from_millis(500));
    let produce = Bench {
        mode: "producer",
        topic,
        size: p.record_bytes,
        threads: p.rocketmq_threads,
        batch: p.rocketmq_batch,
        secs: p.rocketmq_produce_s,
        group: format!("vs_kafka_{}", sys.key.replace(['-', '.'], "_")),
    };
    let mut sent = None;
    let cpu = server_cpu(&sys.procs, || {
        sent = Some(systems::mqbench(sys, &produce, scratch)?);
        Ok(())
    })?;
    let sent = sent.context("mqbench producer")?;
    pt.produced = sent.messages;
    pt.produce_per_s = sent.tps_avg;
    pt.produce_p50_ms = sent.latency_us.p50 as f64 / 1000.0;
    pt.produce_p99_ms = sent.latency_us.p99 as f64 / 1000.0;
    if sent.messages > 0 {
        pt.server_cpu_us_per_msg = cpu / sent.messages as f64 * 1e6;
    }
    let consume = Bench {
        mode: "consumer",
        threads: p.rocketmq_consumer_threads,
        batch: 1,
        secs: p.rocketmq_consume_s,
        group: format!("vs_kafka_readers_{}", topic.to_lowercase()),
        ..produce
    };
    let got = systems::mqbench(sys, &consume, scratch)?;
    pt.consumed = got.messages;
    pt.consume_per_s = got.busy_rate();
    Ok(())
}
// ANCHOR_END: rocketmq-point

// ANCHOR: kafka-point
fn kafka_point(
    node: &KafkaNode,
    topic: &str,
    p: &BrokersParams,
    records: u64,
    pt: &mut Point,
    scratch: &Path,
) -> Result<()> {
    node.create_topic(topic, pt.partitions, scratch)?;
    let mut out = String::new();
    let watched = [node.watched(KAFKA)];
    let cpu = server_cpu(&watched, || {
        out = producer_performance(node, topic, records, p, scratch)?;
        Ok(())
    })?;
    let sent = kafka::parse_producer(&out)?;
    pt.produced = sent.records;
    pt.produce_per_s = sent.records_per_s;
    pt.produce_p50_ms = sent.p50_ms;
    pt.produce_p99_ms = sent.p99_ms;
    if sent.records > 0 {
        pt.server_cpu_us_per_msg = cpu / sent.records as f64 * 1e6;
    }
    let group = format!("vs-kafka-readers-{topic}");
    let out = kafka::run_class(
        &[
            "org.apache.kafka.tools.ConsumerPerformance",
            "--bootstrap-server",
            &node.bootstrap,
            "--topic",
            topic,
            "--group",
            &group,
            "--messages",
            &records.to_string(),
            "--timeout",
            "60000",
        ],
        scratch,
    )?;
    let got = kafka::parse_consumer(&out)?;
    pt.consumed = got.messages;
    pt.consume_per_s = got.fetch_msgs_per_s;
    Ok(())
}
// ANCHOR_END: kafka-point

/// Number of points a run measures (for the progress bar), with `systems` RocketMQ systems.
pub fn run_count(p: &BrokersParams, rocketmq_systems: usize) -> usize {
    p.durabilities.len() * p.partitions.len() * (rocketmq_systems + 1)
}

/// CSV, JSON, three charts and the ratio table.
pub fn report(out: &Path, p: &BrokersParams, points: &[Point]) -> Result<()> {
    write_json(&out.join("brokers.json"), &points)?;
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|r| {
            vec![
                r.system.clone(),
                r.durability.conf_value().into(),
                r.partitions.to_string(),
                r.produced.to_string(),
                format!("{:.0}", r.produce_per_s),
                format!("{:.2}", r.produce_p50_ms),
                format!("{:.2}", r.produce_p99_ms),
                r.consumed.to_string(),
                format!("{:.0}", r.consume_per_s),
                format!("{:.2}", r.server_cpu_us_per_msg),
                r.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    write_csv(
        &out.join("brokers.csv"),
        &[
            "system",
            "durability",
            "partitions",
            "produced",
            "produce_per_s",
            "produce_p50_ms",
            "produce_p99_ms",
            "consumed",
            "consume_per_s",
            "server_cpu_us_per_msg",
            "error",
        ],
        &rows,
    )?;
    let lines = |value: &dyn Fn(&Point) -> f64| -> Vec<Line> {
        let mut v = Vec::new();
        for (ci, sys) in [OURS, JAVA, KAFKA].iter().enumerate() {
            for flush in &p.durabilities {
                let pts: Vec<(f64, f64)> = points
                    .iter()
                    .filter(|r| r.system == *sys && r.durability == *flush && r.error.is_none())
                    .map(|r| (r.partitions as f64, value(r)))
                    .filter(|(_, y)| *y > 0.0)
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                let mode = match flush {
                    Flush::Async => "page cache",
                    Flush::Sync => "fsync per ack",
                };
                v.push(Line {
                    name: format!("{sys}, {mode}"),
                    points: pts,
                    color: ci,
                    bold: *flush == Flush::Async,
                });
            }
        }
        v
    };
    let charts: [(&str, &str, &str, &dyn Fn(&Point) -> f64); 3] = [
        (
            "brokers-produce.svg",
            "Produce, 1 KiB records: real brokers over TCP",
            "messages/s",
            &|r| r.produce_per_s,
        ),
        (
            "brokers-produce-p99.svg",
            "Produce p99 (mqbench: per batch; Kafka: per record)",
            "p99 latency (ms)",
            &|r| r.produce_p99_ms,
        ),
        (
            "brokers-consume.svg",
            "Consume the produced backlog",
            "messages/s",
            &|r| r.consume_per_s,
        ),
    ];
    for (file, title, y, f) in charts {
        let l = lines(f);
        if !l.is_empty() {
            log_log_chart(&out.join(file), title, "partitions / queues", y, &l)?;
        }
    }
    std::fs::write(out.join("brokers-ratios.md"), ratio_table(p, points))?;
    Ok(())
}

/// A Markdown table: ours / Kafka and ours / Java 4.8.0 for every point (the book includes it).
pub fn ratio_table(p: &BrokersParams, points: &[Point]) -> String {
    let get = |sys: &str, f: Flush, n: usize| {
        points.iter().find(|r| {
            r.system == sys && r.durability == f && r.partitions == n && r.error.is_none()
        })
    };
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "–".into(),
    };
    let mut s = String::from(
        "| durability | partitions | ours msg/s | 4.8.0 msg/s | Kafka msg/s | ours / Kafka | ours / 4.8.0 | consume: ours / Kafka |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for f in &p.durabilities {
        for &n in &p.partitions {
            let o = get(OURS, *f, n);
            let j = get(JAVA, *f, n);
            let k = get(KAFKA, *f, n);
            let tps = |x: Option<&Point>| {
                x.map(|r| format!("{:.0}", r.produce_per_s))
                    .unwrap_or("–".into())
            };
            s.push_str(&format!(
                "| {} | {n} | {} | {} | {} | {} | {} | {} |\n",
                f.conf_value(),
                tps(o),
                tps(j),
                tps(k),
                ratio(o.map(|r| r.produce_per_s), k.map(|r| r.produce_per_s)),
                ratio(o.map(|r| r.produce_per_s), j.map(|r| r.produce_per_s)),
                ratio(o.map(|r| r.consume_per_s), k.map(|r| r.consume_per_s)),
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(system: &str, n: usize, tps: f64) -> Point {
        Point {
            produce_per_s: tps,
            consume_per_s: tps * 2.0,
            ..Point::new(system, Flush::Async, n)
        }
    }

    #[test]
    fn the_ratio_table_divides_ours_by_each_peer_at_the_same_point() {
        let mut p = BrokersParams::new(QuickArgs { quick: true });
        p.partitions = vec![8];
        let t = ratio_table(&p, &[point(OURS, 8, 300.0), point(KAFKA, 8, 100.0)]);
        assert!(
            t.contains("| ASYNC_FLUSH | 8 | 300 | – | 100 | 3.00 | – | 3.00 |"),
            "{t}"
        );
    }
}
