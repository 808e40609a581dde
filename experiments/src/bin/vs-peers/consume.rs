//! The read path of vs-peers: the same push consumer (mqbench on rmq-client, 4.8.0's
//! `DefaultMQPushConsumer` defaults: pullBatchSize 32, consumeMessageBatchMaxSize 1,
//! pullThresholdForQueue 1 000, 20 listener threads) against our broker and against 4.8.0's,
//! in the same run, so that the broker is what differs.
//!
//! Two workloads. **Drain**: a backlog of N messages (1 KiB, 8 queues) is sent first with
//! batches of 32 from 4 threads, then a new consumer group reads it from offset 0; the rate is
//! the messages between the first and the last one received over that time. **Tail**: a
//! consumer waits on an empty topic while one sender sends at a fixed modest rate, each body
//! stamped with its send time; the latency is send to receive, end to end. Book: Part V,
//! "Side by side with Java RocketMQ and rocketmq-rust" (section "Reading"). Mirrors 4.8.0's
//! `benchmark/Consumer.java`.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::procs;
use crate::systems::{mqbench_with, Bench, System};
use experiments::chart::{grouped_bar_chart, Series};

/// The settings of both read workloads.
#[derive(Debug, Clone, Serialize)]
pub struct Params {
    /// Messages in the backlog the drain reads.
    pub backlog: u64,
    pub size: usize,
    pub queues: i32,
    /// The backlog is sent with batches of `backlog_batch` from `backlog_threads` senders.
    pub backlog_threads: usize,
    pub backlog_batch: usize,
    /// Listener threads of the push consumer.
    pub consumer_threads: usize,
    /// The drain gives up after this long.
    pub drain_timeout_s: u64,
    /// Tail: one synchronous sender at this many messages per second, for `tail_s`.
    pub tail_rate: u64,
    pub tail_s: u64,
    /// Tail: the consumer starts this long before the sender (start-up and rebalance).
    pub tail_lead_s: u64,
}

impl Params {
    pub fn new(quick: bool) -> Params {
        Params {
            backlog: if quick { 50_000 } else { 1_000_000 },
            size: 1024,
            queues: 8,
            backlog_threads: 4,
            backlog_batch: 32,
            consumer_threads: 20,
            drain_timeout_s: if quick { 20 } else { 120 },
            tail_rate: 1000,
            tail_s: if quick { 2 } else { 15 },
            tail_lead_s: if quick { 2 } else { 4 },
        }
    }
}

/// One read run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub system: String,
    /// "drain" or "tail".
    pub workload: String,
    pub round: usize,
    /// Messages received.
    pub messages: u64,
    /// Messages per second between the first and the last message received.
    pub msgs_per_s: f64,
    /// Drain: store to receive (ms resolution); tail: send to receive.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// CPU of the name server + broker per message received, in µs.
    pub server_cpu_us_per_msg: f64,
    /// CPU of the consumer process (mqbench, the same client for every system) per message
    /// received, in µs.
    pub client_cpu_us_per_msg: f64,
    pub error: Option<String>,
}

impl Run {
    fn new(sys: &System, workload: &str, round: usize) -> Run {
        Run {
            system: sys.key.clone(),
            workload: workload.into(),
            round,
            messages: 0,
            msgs_per_s: 0.0,
            p50_ms: 0.0,
            p99_ms: 0.0,
            p999_ms: 0.0,
            max_ms: 0.0,
            server_cpu_us_per_msg: 0.0,
            client_cpu_us_per_msg: 0.0,
            error: None,
        }
    }

    fn fill(&mut self, got: &crate::systems::BenchSummary, cpu_s: f64, client_cpu_s: f64) {
        let ms = |us: u64| us as f64 / 1000.0;
        self.messages = got.messages;
        self.p50_ms = ms(got.latency_us.p50);
        self.p99_ms = ms(got.latency_us.p99);
        self.p999_ms = ms(got.latency_us.p999);
        self.max_ms = ms(got.latency_us.max);
        self.msgs_per_s = match (got.first_message_s, got.last_message_s) {
            (Some(a), Some(b)) if b > a && got.messages > 1 => (got.messages - 1) as f64 / (b - a),
            _ => got.tps_avg,
        };
        if got.messages > 0 {
            self.server_cpu_us_per_msg = cpu_s / got.messages as f64 * 1e6;
            self.client_cpu_us_per_msg = client_cpu_s / got.messages as f64 * 1e6;
        }
    }
}

fn create_topic(sys: &System, topic: &str, queues: i32) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = rmq_remoting::RemotingClient::new();
    rt.block_on(experiments::servers::create_topic(
        &client,
        &sys.broker_addr,
        topic,
        queues,
        Duration::from_secs(10),
    ))?;
    // Creating a topic registers the broker with the name server again: give it a moment.
    std::thread::sleep(Duration::from_millis(500));
    Ok(())
}

/// CPU seconds (user + system) of the child processes this process has waited for.
fn children_cpu_s() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) } != 0 {
        return 0.0;
    }
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    s(u.ru_utime) + s(u.ru_stime)
}

/// Server CPU seconds spent while `f` runs.
fn server_cpu<T>(sys: &System, f: impl FnOnce() -> T) -> (T, f64) {
    let before: Vec<_> = sys.procs.iter().map(|p| procs::sample(p.2)).collect();
    let out = f();
    let after: Vec<_> = sys.procs.iter().map(|p| procs::sample(p.2)).collect();
    (out, procs::cpu_seconds(&before, &after))
}

fn group_of(sys: &System, what: &str, round: usize) -> String {
    format!("read_{what}_{}_{round}", sys.key.replace('-', "_"))
}

// ANCHOR: drain
/// Sends a backlog of `p.backlog` messages, then drains it with a new consumer group.
pub fn drain(sys: &System, p: &Params, round: usize, scratch: &Path) -> Run {
    let mut run = Run::new(sys, "drain", round);
    let topic = format!("PeersDrain_{round}");
    let result = (|| -> Result<()> {
        create_topic(sys, &topic, p.queues)?;
        let fill = Bench {
            mode: "producer",
            topic: &topic,
            size: p.size,
            threads: p.backlog_threads,
            batch: p.backlog_batch,
            secs: p.drain_timeout_s,
            group: group_of(sys, "fill", round),
        };
        let n = ["--messages".to_string(), p.backlog.to_string()];
        let sent = mqbench_with(sys, &fill, &n, scratch).context("sending the backlog")?;
        let read = Bench {
            mode: "consumer",
            threads: p.consumer_threads,
            batch: 1,
            group: group_of(sys, "drain", round),
            ..fill
        };
        let n = ["--messages".to_string(), sent.messages.to_string()];
        // The servers run until the end, so the children waited for meanwhile are the one
        // mqbench consumer: its CPU is the difference.
        let client_before = children_cpu_s();
        let (got, cpu) = server_cpu(sys, || mqbench_with(sys, &read, &n, scratch));
        let client_cpu = children_cpu_s() - client_before;
        let got = got.context("draining")?;
        run.fill(&got, cpu, client_cpu);
        if got.messages < sent.messages {
            anyhow::bail!(
                "drained {} of {} messages in {} s",
                got.messages,
                sent.messages,
                p.drain_timeout_s
            );
        }
        Ok(())
    })();
    if let Err(e) = result {
        run.error = Some(format!("{e:#}"));
    }
    run
}
// ANCHOR_END: drain

/// A consumer waits on an empty topic; one sender sends `p.tail_rate` stamped messages a
/// second; the consumer reports send-to-receive latency.
pub fn tail(sys: &System, p: &Params, round: usize, scratch: &Path) -> Run {
    let mut run = Run::new(sys, "tail", round);
    let topic = format!("PeersTail_{round}");
    let result = (|| -> Result<()> {
        create_topic(sys, &topic, p.queues)?;
        let read = Bench {
            mode: "consumer",
            topic: &topic,
            size: p.size,
            threads: p.consumer_threads,
            batch: 1,
            secs: p.tail_lead_s + p.tail_s + 1,
            group: group_of(sys, "tail", round),
        };
        let send = Bench {
            mode: "producer",
            topic: &topic,
            size: p.size,
            threads: 1,
            batch: 1,
            secs: p.tail_s,
            group: group_of(sys, "tail_send", round),
        };
        let stamp = ["--stamp".to_string()];
        let rate = [
            "--stamp".to_string(),
            "--rate".to_string(),
            p.tail_rate.to_string(),
        ];
        let ((got, sent), cpu) = server_cpu(sys, || {
            std::thread::scope(|s| {
                let consumer = s.spawn(|| mqbench_with(sys, &read, &stamp, scratch));
                std::thread::sleep(Duration::from_secs(p.tail_lead_s));
                let sent = mqbench_with(sys, &send, &rate, scratch);
                let got = consumer
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("consumer thread panicked")));
                (got, sent)
            })
        });
        let sent = sent.context("sending")?;
        let got = got.context("consuming")?;
        run.fill(&got, cpu, 0.0);
        if got.messages < sent.messages {
            anyhow::bail!("received {} of {} messages", got.messages, sent.messages);
        }
        Ok(())
    })();
    if let Err(e) = result {
        run.error = Some(format!("{e:#}"));
    }
    run
}

/// The best round per (workload, system): the fastest drain, the lowest tail p99.
pub fn best(runs: &[Run], systems: &[String]) -> Vec<Run> {
    let mut out = Vec::new();
    for w in ["drain", "tail"] {
        for s in systems {
            let ok = runs
                .iter()
                .filter(|r| r.workload == w && &r.system == s && r.error.is_none());
            let pick = if w == "drain" {
                ok.max_by(|a, b| a.msgs_per_s.total_cmp(&b.msgs_per_s))
            } else {
                ok.min_by(|a, b| a.p99_ms.total_cmp(&b.p99_ms))
            };
            if let Some(r) = pick {
                out.push(r.clone());
            }
        }
    }
    out
}

const COLUMNS: [&str; 13] = [
    "system",
    "workload",
    "round",
    "messages",
    "msgs_per_s",
    "p50_ms",
    "p99_ms",
    "p999_ms",
    "max_ms",
    "server_cpu_us_per_msg",
    "client_cpu_us_per_msg",
    "error",
    "best",
];

/// consume.csv (every run), consume.md (the table the chapter includes), consume-drain.svg
/// and consume-tail.svg.
pub fn write(
    out: &Path,
    p: &Params,
    runs: &[Run],
    systems: &[String],
    label: fn(&str) -> &str,
) -> Result<()> {
    if runs.is_empty() {
        return Ok(());
    }
    let best = best(runs, systems);
    let is_best = |r: &Run| {
        best.iter()
            .any(|b| b.system == r.system && b.workload == r.workload && b.round == r.round)
    };
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.system.clone(),
                r.workload.clone(),
                r.round.to_string(),
                r.messages.to_string(),
                format!("{:.0}", r.msgs_per_s),
                format!("{:.3}", r.p50_ms),
                format!("{:.3}", r.p99_ms),
                format!("{:.3}", r.p999_ms),
                format!("{:.3}", r.max_ms),
                format!("{:.2}", r.server_cpu_us_per_msg),
                format!("{:.2}", r.client_cpu_us_per_msg),
                r.error
                    .clone()
                    .map(|e| format!("\"{}\"", e.replace('"', "'")))
                    .unwrap_or_default(),
                is_best(r).to_string(),
            ]
        })
        .collect();
    experiments::write_csv(&out.join("consume.csv"), &COLUMNS, &rows)?;
    let get = |w: &str, s: &str| best.iter().find(|r| r.workload == w && r.system == s);
    std::fs::write(out.join("consume.md"), table(p, systems, label, &best))?;
    let names: Vec<String> = systems.iter().map(|s| label(s).to_string()).collect();
    let series = |w: &str, f: &dyn Fn(&Run) -> f64| -> Vec<Series> {
        systems
            .iter()
            .zip(&names)
            .map(|(s, n)| Series {
                name: n.clone(),
                values: vec![get(w, s).map(f).unwrap_or(0.0)],
            })
            .collect()
    };
    grouped_bar_chart(
        &out.join("consume-drain.svg"),
        &format!(
            "Draining a backlog of {} messages of {} B, {} queues (msg/s, higher is better)",
            p.backlog, p.size, p.queues
        ),
        "messages per second",
        &["push consumer, 20 listener threads".to_string()],
        &series("drain", &|r| r.msgs_per_s),
        &|v| format!("{v:.0}"),
    )?;
    let groups = vec!["p50".to_string(), "p99".to_string(), "p99.9".to_string()];
    let tail_series: Vec<Series> = systems
        .iter()
        .zip(&names)
        .map(|(s, n)| Series {
            name: n.clone(),
            values: get("tail", s)
                .map(|r| vec![r.p50_ms, r.p99_ms, r.p999_ms])
                .unwrap_or_else(|| vec![0.0; 3]),
        })
        .collect();
    grouped_bar_chart(
        &out.join("consume-tail.svg"),
        &format!(
            "Send to receive at {} msg/s, end to end (ms, lower is better)",
            p.tail_rate
        ),
        "milliseconds",
        &groups,
        &tail_series,
        &|v| format!("{v:.2}"),
    )
}

/// One row of consume.md: workload, row name, the value, whether higher is better.
type TableRow<'a> = (&'a str, &'a str, fn(&Run) -> f64, bool);

fn table(p: &Params, systems: &[String], label: fn(&str) -> &str, best: &[Run]) -> String {
    let get = |w: &str, s: &str| best.iter().find(|r| r.workload == w && r.system == s);
    let peers: Vec<&String> = systems.iter().filter(|s| s.as_str() != "ours").collect();
    let mut md = String::from("| read workload |");
    for s in systems {
        md.push_str(&format!(" {} |", label(s)));
    }
    for s in &peers {
        md.push_str(&format!(" ours / {} |", label(s)));
    }
    md.push_str("\n|---|");
    md.push_str(&"---:|".repeat(systems.len() + peers.len()));
    md.push('\n');
    let drain = format!("drain {} × {} B, msg/s", p.backlog, p.size);
    let rows: [TableRow; 5] = [
        ("drain", drain.as_str(), |r| r.msgs_per_s, true),
        (
            "drain",
            "drain, server CPU µs per message",
            |r| r.server_cpu_us_per_msg,
            false,
        ),
        (
            "drain",
            "drain, consumer CPU µs per message",
            |r| r.client_cpu_us_per_msg,
            false,
        ),
        ("tail", "tail, send to receive p50 ms", |r| r.p50_ms, false),
        ("tail", "tail, send to receive p99 ms", |r| r.p99_ms, false),
    ];
    for (w, name, f, higher_better) in rows {
        md.push_str(&format!("| {name} |"));
        for s in systems {
            let v = get(w, s).map(|r| {
                let v = f(r);
                if v >= 100.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.2}")
                }
            });
            md.push_str(&format!(" {} |", v.unwrap_or_else(|| "–".into())));
        }
        for peer in &peers {
            // Ours over theirs for rates, theirs over ours for costs and latencies: above 1
            // always means ours is better.
            let (a, b) = (get(w, "ours").map(f), get(w, peer).map(f));
            let r = match (a, b) {
                (Some(a), Some(b)) if higher_better && b > 0.0 => format!("**{:.2}**", a / b),
                (Some(a), Some(b)) if !higher_better && a > 0.0 => format!("{:.2}", b / a),
                _ => "–".into(),
            };
            md.push_str(&format!(" {r} |"));
        }
        md.push('\n');
    }
    md.push_str(
        "\nRatios: above 1 means ours is better (msg/s: ours / theirs; CPU and latency: theirs / ours).\n",
    );
    md
}
