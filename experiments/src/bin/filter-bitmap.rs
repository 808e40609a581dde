//! Experiment `filter-bitmap`: what does the consume-queue bit map save a SQL92 consumer?
//!
//! Two of our brokers run side by side (built with cargo, ephemeral 127.0.0.1 ports, temporary
//! stores), both with `enablePropertyFilter=true`; broker "on" also has
//! `enableConsumeQueueExt=true` and `enableCalcFilterBitMap=true`. Eight SQL92 consumer groups
//! register on both through a heartbeat (three measured ones that match 1 %, 10 % and 50 % of
//! the messages, five more that only add bits to the bloom filter, as other consumers of a
//! shared topic would). The same N messages (property `a` = i mod 100, `b` = "k" + i mod 10) go
//! to both brokers; then each measured group drains the one queue with plain PULL_MESSAGE
//! requests (no long polling), from offset 0 to the end.
//!
//! Recorded per broker and group: entries scanned per second, matched messages, pull latency
//! (HdrHistogram), the broker's CPU time while draining (/proc/<pid>/stat) and the commit-log
//! reads. Without the bit map every entry is read from the commit log (the expression needs
//! the properties); with it only the entries whose bit map has all of the group's bloom bits —
//! counted here by reading the consumequeue_ext files and testing the bits as the broker
//! does. The fill phase's broker CPU shows the price: every message is evaluated against all
//! eight expressions at dispatch.
//!
//! Full mode: 200 000 messages of 256 bytes, three drains per group (the median is charted).
//! `--quick` (under a minute, CI): 4 000 messages, one drain.
//! Output in `book/src/figures/filter-bitmap/` (`--quick`: `target/experiments/quick/...`):
//! `results.csv`, `summary.json`, `throughput.svg`, `reads.svg`, `cpu.svg`, `meta.json`.
//! Exits non-zero if the two brokers deliver different messages or a count is off.
//!
//! Book: Part II, "Filtering: tags, SQL92 and the bit map". Measures crates/broker/src/filter
//! and crates/store/src/consume_queue_ext.rs, the counterparts of 4.8.0's
//! `ExpressionMessageFilter`, `CommitLogDispatcherCalcBitMap` and `ConsumeQueueExt`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use rmq_client::api::{send_command, MqClientApi};
use rmq_client::ClientError;
use rmq_common::message::{decode_records, encode_properties, keys};
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::header::{
    PullMessageRequestHeader, PullMessageResponseHeader, SendMessageRequestHeader,
};
use rmq_remoting::protocol::heartbeat::{
    ConsumeFromWhere, ConsumeType, ConsumerData, HeartbeatData, MessageModel, SubscriptionData,
};
use rmq_remoting::protocol::{encode_body, MessageQueue};
use rmq_remoting::{RemotingClient, RemotingCommand};
use serde::Serialize;

use experiments::chart::{grouped_bar_chart, Series};
use experiments::latency::record;
use experiments::servers::{self, build_servers, Proc};
use experiments::{
    figures_dir_for, new_latency_histogram, progress_bar, write_csv, write_json, write_meta,
    LatencySummary, QuickArgs,
};

const EXPERIMENT: &str = "filter-bitmap";
const TOPIC: &str = "FilterBitmapTopic";
const T: Duration = Duration::from_secs(10);

/// The measured groups: (group, expression, share of messages it matches).
const MEASURED: [(&str, &str, f64); 3] = [
    ("cg_1pct", "a = 7", 0.01),
    ("cg_10pct", "a < 10", 0.10),
    ("cg_50pct", "a < 50", 0.50),
];
/// Groups that only put bits into the bit maps.
const BACKGROUND: [(&str, &str); 5] = [
    ("cg_bg1", "a BETWEEN 20 AND 22"),
    ("cg_bg2", "b = 'k5'"),
    ("cg_bg3", "a > 95"),
    ("cg_bg4", "b IN ('k1', 'k2')"),
    ("cg_bg5", "a = 33 OR a = 66"),
];

#[derive(Parser)]
#[command(about = "Measure what the SQL92 filter bit map (ConsumeQueueExt) saves a consumer")]
struct Cli {
    #[command(flatten)]
    quick: QuickArgs,
}

#[derive(Debug, Clone, Serialize)]
struct Params {
    messages: usize,
    body_bytes: usize,
    drains_per_group: usize,
    pull_batch: i32,
    measured_groups: Vec<String>,
    background_groups: Vec<String>,
    bloom: String,
}

/// One broker under test.
struct Broker {
    label: &'static str,
    addr: String,
    store: PathBuf,
    proc: Proc,
}

impl Broker {
    /// utime + stime of the broker process in ms (Linux; 0 elsewhere).
    fn cpu_ms(&self) -> f64 {
        let pid = self.proc.child.id();
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return 0.0;
        };
        // fields after the parenthesised command name; utime and stime are 14 and 15
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<&str> = after.split_whitespace().collect();
        let ticks: f64 = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
            + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        ticks * 1000.0 / hz
    }
}

#[derive(Debug, Clone, Serialize)]
struct Row {
    broker: String,
    group: String,
    expression: String,
    entries: u64,
    matched: u64,
    commit_log_reads: u64,
    pulls: u64,
    wall_ms: f64,
    entries_per_s: f64,
    broker_cpu_ms: f64,
    latency: LatencySummary,
}

#[derive(Serialize)]
struct Summary {
    params: Params,
    fill_broker_cpu_ms: Vec<(String, f64)>,
    ext_bytes: u64,
    rows: Vec<Row>,
}

fn subscription(group: &str, expr: &str) -> ConsumerData {
    ConsumerData {
        consume_from_where: ConsumeFromWhere::ConsumeFromFirstOffset,
        consume_type: ConsumeType::ConsumeActively,
        group_name: group.to_string(),
        message_model: MessageModel::Clustering,
        subscription_data_set: vec![SubscriptionData {
            class_filter_mode: false,
            code_set: Default::default(),
            expression_type: "SQL92".into(),
            sub_string: expr.into(),
            sub_version: 1,
            tags_set: Default::default(),
            topic: TOPIC.into(),
        }],
        unit_mode: false,
    }
}

async fn heartbeat(c: &RemotingClient, addr: &str) -> Result<()> {
    let hb = HeartbeatData {
        client_id: "127.0.0.1@filter-bitmap".into(),
        consumer_data_set: MEASURED
            .iter()
            .map(|(g, e, _)| subscription(g, e))
            .chain(BACKGROUND.iter().map(|(g, e)| subscription(g, e)))
            .collect(),
        producer_data_set: vec![],
    };
    let cmd = RemotingCommand::new_request(rq::HEART_BEAT).with_body(encode_body(&hb)?);
    let r = c.invoke(addr, cmd, T).await?;
    if r.code != rs::SUCCESS {
        bail!("heartbeat to {addr}: {} {:?}", r.code, r.remark);
    }
    Ok(())
}

fn send_request(i: usize, body: &[u8]) -> RemotingCommand {
    let props = vec![
        ("a".to_string(), (i % 100).to_string()),
        ("b".to_string(), format!("k{}", i % 10)),
        ("i".to_string(), i.to_string()),
        (keys::WAIT.to_string(), "false".to_string()),
    ];
    let header = SendMessageRequestHeader {
        producer_group: Some("PG_FILTER_BITMAP".into()),
        topic: TOPIC.into(),
        default_topic: Some("TBW102".into()),
        default_topic_queue_nums: Some(1),
        queue_id: 0,
        sys_flag: Some(0),
        born_timestamp: Some(rmq_store::now_ms()),
        flag: Some(0),
        properties: Some(encode_properties(&props)),
        reconsume_times: Some(0),
        ..Default::default()
    };
    send_command(&header, Bytes::copy_from_slice(body))
}

/// Sends messages 0..n to `addr` from 8 tasks.
async fn fill(c: &RemotingClient, addr: &str, n: usize, body_bytes: usize) -> Result<()> {
    let body = Arc::new(vec![b'x'; body_bytes]);
    let bar = progress_bar(n as u64, &format!("fill {addr}"));
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (c, addr, body, bar) = (c.clone(), addr.to_string(), body.clone(), bar.clone());
        tasks.push(tokio::spawn(async move {
            for i in (w..n).step_by(8) {
                let r = c.invoke(&addr, send_request(i, &body), T).await?;
                if r.code != rs::SUCCESS {
                    bail!("send {i}: {} {:?}", r.code, r.remark);
                }
                bar.inc(1);
            }
            Ok::<(), anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    bar.finish_and_clear();
    Ok(())
}

/// GET_MAX_OFFSET of queue 0; 0 while the broker refuses (the topic is not there yet).
async fn max_offset(c: &RemotingClient, addr: &str) -> Result<i64> {
    let mq = MessageQueue {
        broker_name: String::new(),
        queue_id: 0,
        topic: TOPIC.into(),
    };
    match MqClientApi::new(c.clone())
        .get_max_offset(addr, &mq, T)
        .await
    {
        Ok(offset) => Ok(offset),
        Err(ClientError::Broker { .. }) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// Drains queue 0 for `group`: (indices of the matched messages, pulls, latency histogram).
async fn drain(
    c: &RemotingClient,
    addr: &str,
    group: &str,
    n: i64,
    batch: i32,
) -> Result<(Vec<usize>, u64, Histogram<u64>)> {
    let mut hist = new_latency_histogram();
    let (mut offset, mut pulls, mut got) = (0i64, 0u64, Vec::new());
    while offset < n {
        // No subscription in the header: the broker filters with the group's registered
        // SQL92 expression.
        let cmd =
            RemotingCommand::new_request(rq::PULL_MESSAGE).with_header(&PullMessageRequestHeader {
                consumer_group: group.into(),
                topic: TOPIC.into(),
                queue_id: 0,
                queue_offset: offset,
                max_msg_nums: batch,
                sys_flag: 0,
                commit_offset: Some(0),
                suspend_timeout_millis: Some(0),
                subscription: None,
                sub_version: Some(1),
                expression_type: Some("SQL92".into()),
            });
        let t0 = Instant::now();
        let r = c.invoke(addr, cmd, T).await?;
        record(&mut hist, t0.elapsed());
        pulls += 1;
        let next = r
            .decode_header::<PullMessageResponseHeader>()
            .map_or(offset, |h| h.next_begin_offset);
        match r.code {
            rs::SUCCESS => {
                for m in decode_records(r.body_bytes())? {
                    let i = m
                        .properties
                        .iter()
                        .find(|(k, _)| k == "i")
                        .and_then(|(_, v)| v.parse().ok())
                        .context("a message without its index property")?;
                    got.push(i);
                }
            }
            rs::PULL_RETRY_IMMEDIATELY | rs::PULL_NOT_FOUND => {}
            code => bail!("pull {group}@{addr} at {offset}: {code} {:?}", r.remark),
        }
        if next <= offset {
            bail!(
                "pull {group}@{addr} did not advance from {offset} (code {})",
                r.code
            );
        }
        offset = next;
    }
    Ok((got, pulls, hist))
}

/// Units of the ext files whose bit map passes `group`'s bloom test: the commit-log reads of
/// the bit-map broker for that group.
fn bloom_passes(store: &Path, group: &str) -> Result<(u64, u64)> {
    let bloom = rmq_filter::BloomFilter::create_by_fn(20, 32).map_err(|e| anyhow::anyhow!(e))?;
    let pos = bloom.bit_positions(&format!("{group}#{TOPIC}"));
    let dir = store.join("consumequeue_ext").join(TOPIC).join("0");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .collect();
    files.sort_by_key(|f| f.file_name());
    let (mut pass, mut bytes) = (0u64, 0u64);
    for f in files {
        let b = std::fs::read(f.path())?;
        let mut p = 0;
        while p + 20 <= b.len() {
            let size = i16::from_be_bytes([b[p], b[p + 1]]);
            if size < 1 {
                break;
            }
            let n = i16::from_be_bytes([b[p + 18], b[p + 19]]).max(0) as usize;
            let bits = rmq_filter::BitsArray::from_bytes(b[p + 20..p + 20 + n].to_vec());
            if pos.iter().all(|x| bits.get(*x as usize)) {
                pass += 1;
            }
            p += size as usize;
            bytes += size as u64;
        }
    }
    Ok((pass, bytes))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let q = cli.quick;
    let started = Instant::now();
    let params = Params {
        messages: q.pick(4_000, 200_000),
        body_bytes: 256,
        drains_per_group: q.pick(1, 3),
        pull_batch: 32,
        measured_groups: MEASURED
            .iter()
            .map(|(g, e, _)| format!("{g}: {e}"))
            .collect(),
        background_groups: BACKGROUND
            .iter()
            .map(|(g, e)| format!("{g}: {e}"))
            .collect(),
        bloom: "maxErrorRateOfBloomFilter=20, expectConsumerNumUseFilter=32 (k=3, m=112)".into(),
    };
    let out = figures_dir_for(EXPERIMENT, q.quick)?;
    let bin = build_servers()?;
    let tmp = tempfile::tempdir()?;
    let (_ns_proc, ns) = servers::start_namesrv(&bin, tmp.path())?;
    let mut brokers = Vec::new();
    for (label, extra) in [
        ("bit map off", "enablePropertyFilter=true\n"),
        (
            "bit map on",
            "enablePropertyFilter=true\nenableConsumeQueueExt=true\nenableCalcFilterBitMap=true\n",
        ),
    ] {
        let name = if extra.contains("Ext") {
            "filter-on"
        } else {
            "filter-off"
        };
        let store = tmp.path().join(name);
        let conf = rmq_testkit::BrokerConf::new(name, &ns, &store)?.with_extra(extra);
        let path = tmp.path().join(format!("{name}.conf"));
        conf.write(&path)?;
        let proc = servers::start_broker(&bin, &path)?;
        brokers.push(Broker {
            label,
            addr: conf.addr(),
            store,
            proc,
        });
    }
    let c = RemotingClient::new();
    let n = params.messages;
    let mut fill_cpu = Vec::new();
    for b in &brokers {
        servers::create_topic(&c, &b.addr, TOPIC, 1, T).await?;
        heartbeat(&c, &b.addr).await?;
        let cpu0 = b.cpu_ms();
        fill(&c, &b.addr, n, params.body_bytes).await?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while max_offset(&c, &b.addr).await? < n as i64 {
            if Instant::now() > deadline {
                bail!("{} never dispatched {n} messages", b.addr);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        fill_cpu.push((b.label.to_string(), b.cpu_ms() - cpu0));
        println!(
            "{}: filled {n} messages, broker CPU {:.0} ms",
            b.label,
            b.cpu_ms() - cpu0
        );
    }
    let mut rows = Vec::new();
    let mut ext_bytes = 0;
    for (group, expr, share) in MEASURED {
        let want = (n as f64 * share).round() as usize;
        let mut delivered: Vec<Vec<usize>> = Vec::new();
        for b in &brokers {
            heartbeat(&c, &b.addr).await?;
            let (mut walls, mut cpus, mut pulls_v) = (Vec::new(), Vec::new(), Vec::new());
            let mut hist_all = new_latency_histogram();
            let mut got = Vec::new();
            for _ in 0..params.drains_per_group {
                let cpu0 = b.cpu_ms();
                let t0 = Instant::now();
                let (g, pulls, hist) =
                    drain(&c, &b.addr, group, n as i64, params.pull_batch).await?;
                walls.push(t0.elapsed().as_secs_f64() * 1000.0);
                cpus.push(b.cpu_ms() - cpu0);
                pulls_v.push(pulls as f64);
                hist_all.add(&hist)?;
                got = g;
            }
            if got.len() != want {
                bail!(
                    "{} {group}: {} messages matched, expected {want}",
                    b.label,
                    got.len()
                );
            }
            let reads = if b.label == "bit map on" {
                let (pass, bytes) = bloom_passes(&b.store, group)?;
                ext_bytes = bytes;
                pass
            } else {
                n as u64
            };
            let wall = median(walls);
            let row = Row {
                broker: b.label.into(),
                group: group.into(),
                expression: expr.into(),
                entries: n as u64,
                matched: got.len() as u64,
                commit_log_reads: reads,
                pulls: median(pulls_v) as u64,
                wall_ms: (wall * 10.0).round() / 10.0,
                entries_per_s: (n as f64 / (wall / 1000.0)).round(),
                broker_cpu_ms: median(cpus),
                latency: LatencySummary::of(&hist_all),
            };
            println!(
                "{:>11} {:<9} {:>9.0} entries/s  reads {:>7}  CPU {:>6.0} ms  p50 {:>7.1} us",
                row.broker, group, row.entries_per_s, reads, row.broker_cpu_ms, row.latency.p50_us
            );
            rows.push(row);
            got.sort_unstable();
            delivered.push(got);
        }
        if delivered[0] != delivered[1] {
            bail!("{group}: the two brokers delivered different messages");
        }
    }

    let header = [
        "broker",
        "group",
        "expression",
        "entries",
        "matched",
        "commit_log_reads",
        "pulls",
        "wall_ms",
        "entries_per_s",
        "broker_cpu_ms",
        "pull_p50_us",
        "pull_p99_us",
    ];
    let csv: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.broker.replace(' ', "_"),
                r.group.clone(),
                format!("\"{}\"", r.expression),
                r.entries.to_string(),
                r.matched.to_string(),
                r.commit_log_reads.to_string(),
                r.pulls.to_string(),
                format!("{:.1}", r.wall_ms),
                format!("{:.0}", r.entries_per_s),
                format!("{:.0}", r.broker_cpu_ms),
                format!("{:.1}", r.latency.p50_us),
                format!("{:.1}", r.latency.p99_us),
            ]
        })
        .collect();
    write_csv(&out.join("results.csv"), &header, &csv)?;
    let groups: Vec<String> = MEASURED
        .iter()
        .map(|(_, e, s)| format!("{e} ({:.0} %)", s * 100.0))
        .collect();
    let series = |f: &dyn Fn(&Row) -> f64| -> Vec<Series> {
        ["bit map off", "bit map on"]
            .iter()
            .map(|label| Series {
                name: label.to_string(),
                values: rows.iter().filter(|r| r.broker == *label).map(f).collect(),
            })
            .collect()
    };
    grouped_bar_chart(
        &out.join("throughput.svg"),
        "Draining the queue: entries scanned per second",
        "entries / s",
        &groups,
        &series(&|r| r.entries_per_s),
        &|v| format!("{:.0}k", v / 1000.0),
    )?;
    grouped_bar_chart(
        &out.join("reads.svg"),
        "Commit-log reads per 1000 queue entries",
        "reads / 1000 entries",
        &groups,
        &series(&|r| r.commit_log_reads as f64 * 1000.0 / r.entries as f64),
        &|v| format!("{v:.0}"),
    )?;
    grouped_bar_chart(
        &out.join("cpu.svg"),
        "Broker CPU time to drain the queue once",
        "ms",
        &groups,
        &series(&|r| r.broker_cpu_ms),
        &|v| format!("{v:.0}"),
    )?;
    write_json(
        &out.join("summary.json"),
        &Summary {
            params: params.clone(),
            fill_broker_cpu_ms: fill_cpu,
            ext_bytes,
            rows,
        },
    )?;
    write_meta(&out, EXPERIMENT, q.mode(), started.elapsed(), &params)?;
    println!("wrote {}", out.display());
    drop(brokers);
    Ok(())
}
