//! Experiment `delay-accuracy`: how exactly does the delay queue keep its promise?
//!
//! It starts our `mqnamesrv` and `mqbroker` (built with cargo, ephemeral 127.0.0.1 ports, a
//! temporary store), then sends messages with a delay level (`DELAY` property) at random moments
//! and a long-polling PULL consumer records when each one reaches its real topic. For every
//! message it notes the requested delay (the level's value in `messageDelayLevel`) and the
//! observed one (arrival minus born timestamp); the difference, the lateness, goes into one
//! HdrHistogram per level. A burst of messages on one level at the same instant shows the cost of
//! the per-level loop re-putting messages one after another.
//!
//! Full mode: 4.8.0's default levels 1-5 (1 s, 5 s, 10 s, 30 s, 1 m), plus a burst on level 2.
//! `--quick` (under a minute, CI): `messageDelayLevel=1s 2s 3s`, few messages, small burst.
//! Output in `book/src/figures/delay-accuracy/` (`--quick`: `target/experiments/quick/delay-accuracy/`,
//! so CI leaves the book's figures alone): `messages.csv` (requested and observed delay of
//! every message), `summary.json`, `lateness.svg` (percentiles per level),
//! `lateness-per-message.svg`, `meta.json`. Exits non-zero if any message
//! arrives early, twice or never.
//!
//! Book: Part II, "Delay queue, retry and DLQ". Measures our `ScheduleService`
//! (crates/broker/src/schedule.rs), the counterpart of 4.8.0's `ScheduleMessageService`.
//! The client is a few lines of blocking remoting (SEND_MESSAGE_V2, PULL_MESSAGE) so that
//! nothing but the broker sits between the send and the arrival.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use plotters::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};
use rmq_client::api::send_command;
use rmq_common::message::{decode_records, encode_properties, keys};
use rmq_remoting::codec::{decode_frame_body, encode_frame};
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::header::{
    PullMessageRequestHeader, PullMessageResponseHeader, SendMessageRequestHeader,
};
use rmq_remoting::RemotingCommand;
use serde::Serialize;

use experiments::chart::{grouped_bar_chart, Series};
use experiments::latency::record;
use experiments::servers::{self, build_servers, Proc};
use experiments::{
    figures_dir_for, new_latency_histogram, progress_bar, write_csv, write_json, write_meta,
    LatencySummary, QuickArgs,
};

const EXPERIMENT: &str = "delay-accuracy";
const TOPIC: &str = "DelayAccuracy";
const GROUP: &str = "delay_accuracy_cg";
/// PULL sysFlag: suspend (long polling) + subscription carried in the request.
const PULL_SUSPEND_AND_SUB: i32 = 0x2 | 0x4;

#[derive(Parser)]
#[command(about = "Measure how late delayed messages reach their topic, per delay level")]
struct Cli {
    #[command(flatten)]
    quick: QuickArgs,
}

/// The run's parameters, recorded in meta.json and summary.json.
#[derive(Debug, Clone, Serialize)]
struct Params {
    message_delay_level: String,
    levels: Vec<i32>,
    messages_per_level: usize,
    send_window_ms: u64,
    burst_level: i32,
    burst_messages: usize,
    seed: u64,
}

impl Params {
    fn new(q: QuickArgs) -> Params {
        Params {
            message_delay_level: q
                .pick(
                    "1s 2s 3s",
                    "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h",
                )
                .to_string(),
            levels: q.pick(vec![1, 2, 3], vec![1, 2, 3, 4, 5]),
            messages_per_level: q.pick(10, 60),
            send_window_ms: q.pick(3_000, 20_000),
            burst_level: 2,
            burst_messages: q.pick(200, 2_000),
            seed: 5,
        }
    }

    /// Delay of `level` in ms, from `message_delay_level` (s/m/h/d units as the broker parses).
    fn delay_ms(&self, level: i32) -> Result<u64> {
        let item = self
            .message_delay_level
            .split(' ')
            .nth((level - 1) as usize)
            .ok_or_else(|| anyhow!("no level {level}"))?;
        let (n, unit) = item.split_at(item.len() - 1);
        let unit = match unit {
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            u => bail!("unknown unit {u}"),
        };
        Ok(n.parse::<u64>()? * unit)
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// The servers.

struct Servers {
    _namesrv: Proc,
    _broker: Proc,
    broker_addr: String,
}

fn start_servers(bin: &Path, dir: &Path, levels: &str) -> Result<Servers> {
    let (namesrv, ns) = servers::start_namesrv(bin, dir)?;
    let mut conf = rmq_testkit::BrokerConf::new("delay-broker", &ns, &dir.join("store"))?
        .with_extra(&format!("brokerIP1=127.0.0.1\nmessageDelayLevel={levels}"));
    conf.cluster = "DelayCluster".into();
    let path = dir.join("broker.conf");
    conf.write(&path)?;
    let broker = servers::start_broker(bin, &path)?;
    Ok(Servers {
        _namesrv: namesrv,
        _broker: broker,
        broker_addr: conf.addr(),
    })
}

// ---------------------------------------------------------------------------------------------
// A blocking remoting connection: one request at a time, so opaque matching is trivial.

struct Conn {
    stream: TcpStream,
    next_opaque: i32,
}

impl Conn {
    fn open(addr: &str) -> Result<Conn> {
        let stream = TcpStream::connect(addr).with_context(|| format!("connecting {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            next_opaque: 1,
        })
    }

    /// Writes a request; returns its opaque.
    fn write(&mut self, cmd: RemotingCommand) -> Result<i32> {
        let opaque = self.next_opaque;
        self.next_opaque += 1;
        let frame = encode_frame(cmd.with_opaque(opaque))?;
        self.stream.write_all(&frame)?;
        Ok(opaque)
    }

    /// Reads the next response frame.
    fn read_reply(&mut self, timeout: Duration) -> Result<RemotingCommand> {
        self.stream.set_read_timeout(Some(timeout))?;
        loop {
            let mut len = [0u8; 4];
            self.stream.read_exact(&mut len)?;
            let n = u32::from_be_bytes(len) as usize;
            if n > 64 * 1024 * 1024 {
                bail!("frame of {n} bytes");
            }
            let mut body = vec![0u8; n];
            self.stream.read_exact(&mut body)?;
            let reply = decode_frame_body(Bytes::from(body))?;
            if reply.is_response() {
                return Ok(reply);
            }
        }
    }

    fn invoke(&mut self, cmd: RemotingCommand, timeout: Duration) -> Result<RemotingCommand> {
        let opaque = self.write(cmd)?;
        loop {
            let reply = self.read_reply(timeout)?;
            if reply.opaque == opaque {
                return Ok(reply);
            }
        }
    }
}

fn send_request(body: &[u8], level: i32, born_ms: i64) -> RemotingCommand {
    let mut props = vec![(keys::WAIT.to_string(), "true".to_string())];
    if level > 0 {
        props.push((keys::DELAY.to_string(), level.to_string()));
    }
    let header = SendMessageRequestHeader {
        producer_group: Some("delay_accuracy_pg".into()),
        topic: TOPIC.into(),
        default_topic: Some("TBW102".into()),
        default_topic_queue_nums: Some(4),
        queue_id: 0,
        sys_flag: Some(0),
        born_timestamp: Some(born_ms),
        flag: Some(0),
        properties: Some(encode_properties(&props)),
        reconsume_times: Some(0),
        ..Default::default()
    };
    send_command(&header, Bytes::copy_from_slice(body))
}

fn pull_request(offset: i64, suspend_ms: i64) -> RemotingCommand {
    RemotingCommand::new_request(rq::PULL_MESSAGE).with_header(&PullMessageRequestHeader {
        consumer_group: GROUP.into(),
        topic: TOPIC.into(),
        queue_id: 0,
        queue_offset: offset,
        max_msg_nums: 32,
        sys_flag: PULL_SUSPEND_AND_SUB,
        commit_offset: Some(0),
        suspend_timeout_millis: Some(suspend_ms),
        subscription: Some("*".into()),
        sub_version: Some(0),
        expression_type: None,
    })
}

// ---------------------------------------------------------------------------------------------
// The measurement.

/// One message's plan and fate.
#[derive(Clone)]
struct Msg {
    id: usize,
    level: i32,
    burst: bool,
    /// When to send, from the start of the send phase.
    at: Duration,
    born_ms: i64,
    born_us: i64,
    /// Arrival at the consumer (µs since the epoch), store time of the re-put record (ms).
    arrived_us: Option<i64>,
    stored_ms: Option<i64>,
    deliveries: u32,
}

/// Sends one message with a synchronous request, noting its born time.
fn send_one(conn: &mut Conn, m: &mut Msg) -> Result<()> {
    m.born_us = now_us();
    m.born_ms = m.born_us / 1000;
    let body = format!("m-{}", m.id);
    let r = conn.invoke(
        send_request(body.as_bytes(), m.level, m.born_ms),
        Duration::from_secs(10),
    )?;
    if r.code != rs::SUCCESS {
        bail!("send of {body} failed: {} {:?}", r.code, r.remark);
    }
    Ok(())
}

/// Sends a burst: requests written back to back (64 in flight), all with the same born time,
/// so they land in the level's queue together. A request the broker refuses (flow control,
/// SYSTEM_BUSY) is sent again on its own, with a new born time.
fn send_burst(conn: &mut Conn, burst: &mut [Msg]) -> Result<()> {
    let born_us = now_us();
    let mut refused = Vec::new();
    for chunk in burst.chunks_mut(64) {
        let mut by_opaque = HashMap::new();
        for (k, m) in chunk.iter_mut().enumerate() {
            m.born_us = born_us;
            m.born_ms = born_us / 1000;
            let body = format!("m-{}", m.id);
            let opaque = conn.write(send_request(body.as_bytes(), m.level, m.born_ms))?;
            by_opaque.insert(opaque, k);
        }
        while !by_opaque.is_empty() {
            let r = conn.read_reply(Duration::from_secs(10))?;
            if let Some(k) = by_opaque.remove(&r.opaque) {
                if r.code != rs::SUCCESS {
                    refused.push(chunk[k].id);
                }
            }
        }
    }
    if !refused.is_empty() {
        eprintln!(
            "{} burst sends refused by the broker (flow control); sending them again",
            refused.len()
        );
        for m in burst.iter_mut().filter(|m| refused.contains(&m.id)) {
            send_one(conn, m)?;
        }
    }
    Ok(())
}

/// Pulls `TOPIC` queue 0 with long polling until `expected` distinct messages arrived or the
/// deadline passed; returns `(body, arrival µs, store ms)` for every delivery.
fn consume(addr: String, expected: usize, deadline: Instant) -> Result<Vec<(String, i64, i64)>> {
    let mut conn = Conn::open(&addr)?;
    let mut offset = 0i64;
    let mut out = Vec::new();
    let mut distinct = std::collections::HashSet::new();
    while distinct.len() < expected && Instant::now() < deadline {
        let reply = conn.invoke(pull_request(offset, 5_000), Duration::from_secs(15))?;
        let arrived = now_us();
        match reply.code {
            rs::SUCCESS => {
                for m in decode_records(reply.body_bytes())? {
                    let body = String::from_utf8_lossy(&m.body).to_string();
                    distinct.insert(body.clone());
                    out.push((body, arrived, m.store_timestamp));
                }
            }
            rs::PULL_NOT_FOUND | rs::PULL_RETRY_IMMEDIATELY | rs::PULL_OFFSET_MOVED => {}
            c => bail!("pull answered {c}: {:?}", reply.remark),
        }
        if let Ok(h) = reply.decode_header::<PullMessageResponseHeader>() {
            offset = h.next_begin_offset;
        }
    }
    Ok(out)
}

#[derive(Serialize)]
struct LevelSummary {
    series: String,
    level: i32,
    requested_ms: u64,
    messages: usize,
    arrived: usize,
    early: usize,
    duplicated: usize,
    /// Lateness = arrival - born - requested delay, at the consumer.
    lateness: Option<LatencySummary>,
    /// The same measured at the broker: store time of the re-put record - born - delay (ms).
    broker_lateness_max_ms: Option<i64>,
}

#[derive(Serialize)]
struct Summary {
    params: Params,
    levels: Vec<LevelSummary>,
    early: usize,
    missing: usize,
    duplicated: usize,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let params = Params::new(cli.quick);
    let out_dir = figures_dir_for(EXPERIMENT, cli.quick.quick)?;
    eprintln!(
        "delay-accuracy ({} mode): building servers",
        cli.quick.mode()
    );
    let bin = build_servers()?;
    let started = Instant::now();
    let tmp = tempfile::tempdir()?;
    let servers = start_servers(&bin, tmp.path(), &params.message_delay_level)?;
    let addr = servers.broker_addr.clone();

    // Create the topic (auto-creation from TBW102) and wait until a pull sees it.
    let mut sender = Conn::open(&addr)?;
    let warm = sender.invoke(
        send_request(b"warm-up", 0, now_ms()),
        Duration::from_secs(10),
    )?;
    if warm.code != rs::SUCCESS {
        bail!("warm-up send failed: {} {:?}", warm.code, warm.remark);
    }

    // The plan: paced messages at random moments of the send window, then one burst.
    let mut rng = StdRng::seed_from_u64(params.seed);
    let mut plan = Vec::new();
    for &level in &params.levels {
        for _ in 0..params.messages_per_level {
            let at = Duration::from_millis(rng.gen_range(0..params.send_window_ms));
            plan.push((level, false, at));
        }
    }
    let burst_at = Duration::from_millis(params.send_window_ms / 2);
    for _ in 0..params.burst_messages {
        plan.push((params.burst_level, true, burst_at));
    }
    let mut msgs: Vec<Msg> = plan
        .into_iter()
        .enumerate()
        .map(|(id, (level, burst, at))| Msg {
            id,
            level,
            burst,
            at,
            born_ms: 0,
            born_us: 0,
            arrived_us: None,
            stored_ms: None,
            deliveries: 0,
        })
        .collect();
    msgs.sort_by_key(|m| (m.at, m.id));

    let longest = params
        .levels
        .iter()
        .map(|l| params.delay_ms(*l))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .max()
        .unwrap_or(1_000);
    let deadline = Instant::now()
        + Duration::from_millis(params.send_window_ms + longest)
        + Duration::from_secs(30);
    let expected = msgs.len() + 1; // + the warm-up message
    let consumer_addr = addr.clone();
    let consumer = std::thread::spawn(move || consume(consumer_addr, expected, deadline));

    let bar = progress_bar(msgs.len() as u64, "sending");
    let t0 = Instant::now();
    let mut i = 0;
    while i < msgs.len() {
        if let Some(wait) = msgs[i].at.checked_sub(t0.elapsed()) {
            std::thread::sleep(wait);
        }
        if msgs[i].burst {
            let end = i + msgs[i..].iter().take_while(|m| m.burst).count();
            send_burst(&mut sender, &mut msgs[i..end])?;
            bar.inc((end - i) as u64);
            i = end;
        } else {
            send_one(&mut sender, &mut msgs[i])?;
            bar.inc(1);
            i += 1;
        }
    }
    bar.finish_and_clear();
    eprintln!(
        "sent {} messages; waiting up to {} s for the last ones",
        msgs.len(),
        deadline.saturating_duration_since(Instant::now()).as_secs()
    );
    let deliveries = consumer
        .join()
        .map_err(|_| anyhow!("consumer thread panicked"))??;
    drop(servers);

    let index: HashMap<String, usize> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| (format!("m-{}", m.id), i))
        .collect();
    for (body, arrived_us, stored_ms) in deliveries {
        if let Some(&i) = index.get(&body) {
            let m = &mut msgs[i];
            m.deliveries += 1;
            if m.arrived_us.is_none() {
                m.arrived_us = Some(arrived_us);
                m.stored_ms = Some(stored_ms);
            }
        }
    }
    report(&params, &msgs, &out_dir, cli.quick, started)
}

fn report(
    params: &Params,
    msgs: &[Msg],
    out_dir: &Path,
    quick: QuickArgs,
    started: Instant,
) -> Result<()> {
    let mut rows = Vec::new();
    let mut per: Vec<(String, i32, bool, Histogram<u64>, LevelSummary)> = Vec::new();
    for &level in &params.levels {
        for burst in [false, true] {
            if burst && level != params.burst_level {
                continue;
            }
            let name = if burst {
                format!("L{level} burst")
            } else {
                format!("L{level}")
            };
            per.push((
                name.clone(),
                level,
                burst,
                new_latency_histogram(),
                LevelSummary {
                    series: name,
                    level,
                    requested_ms: params.delay_ms(level)?,
                    messages: 0,
                    arrived: 0,
                    early: 0,
                    duplicated: 0,
                    lateness: None,
                    broker_lateness_max_ms: None,
                },
            ));
        }
    }
    let mut scatter: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    let first_born_us = msgs.iter().map(|m| m.born_us).min().unwrap_or(0);
    for m in msgs {
        let requested = params.delay_ms(m.level)? as i64;
        let Some(slot) = per.iter_mut().find(|p| p.1 == m.level && p.2 == m.burst) else {
            continue;
        };
        slot.4.messages += 1;
        if m.deliveries > 1 {
            slot.4.duplicated += 1;
        }
        let (observed_ms, lateness_ms, broker_ms) = match (m.arrived_us, m.stored_ms) {
            (Some(a), Some(s)) => {
                slot.4.arrived += 1;
                // Early is judged in whole milliseconds, as the broker's clock works.
                if a / 1000 - m.born_ms < requested || s - m.born_ms < requested {
                    slot.4.early += 1;
                }
                let late_us = a - m.born_us - requested * 1000;
                record(&mut slot.3, Duration::from_micros(late_us.max(0) as u64));
                let b = s - m.born_ms - requested;
                slot.4.broker_lateness_max_ms =
                    Some(slot.4.broker_lateness_max_ms.map_or(b, |x: i64| x.max(b)));
                let observed = (a - m.born_us) as f64 / 1000.0;
                // x: when the message was due (s into the run); y: how late it came (ms).
                let due_s = (m.born_us + requested * 1000 - first_born_us) as f64 / 1e6;
                let point = (due_s, late_us as f64 / 1000.0);
                match scatter.iter_mut().find(|(n, _)| *n == slot.0) {
                    Some((_, pts)) => pts.push(point),
                    None => scatter.push((slot.0.clone(), vec![point])),
                }
                (
                    format!("{observed:.3}"),
                    format!("{:.3}", late_us as f64 / 1000.0),
                    b.to_string(),
                )
            }
            _ => (String::new(), String::new(), String::new()),
        };
        rows.push(vec![
            m.id.to_string(),
            m.level.to_string(),
            (m.burst as u8).to_string(),
            requested.to_string(),
            m.born_ms.to_string(),
            observed_ms,
            lateness_ms,
            broker_ms,
            m.deliveries.to_string(),
        ]);
    }
    for p in per.iter_mut() {
        if !p.3.is_empty() {
            p.4.lateness = Some(LatencySummary::of(&p.3));
        }
    }
    write_csv(
        &out_dir.join("messages.csv"),
        &[
            "id",
            "level",
            "burst",
            "requested_ms",
            "born_ms",
            "observed_ms",
            "lateness_ms",
            "broker_lateness_ms",
            "deliveries",
        ],
        &rows,
    )?;

    let early: usize = per.iter().map(|p| p.4.early).sum();
    let missing: usize = per.iter().map(|p| p.4.messages - p.4.arrived).sum();
    let duplicated: usize = per.iter().map(|p| p.4.duplicated).sum();
    let groups: Vec<String> = per.iter().map(|p| p.0.clone()).collect();
    let pick = |f: &dyn Fn(&LatencySummary) -> f64| -> Vec<f64> {
        per.iter()
            .map(|p| p.4.lateness.as_ref().map_or(0.0, |s| f(s) / 1000.0))
            .collect()
    };
    grouped_bar_chart(
        &out_dir.join("lateness.svg"),
        "Lateness per level (arrival - born - delay)",
        "ms",
        &groups,
        &[
            Series {
                name: "p50".into(),
                values: pick(&|s| s.p50_us),
            },
            Series {
                name: "p99".into(),
                values: pick(&|s| s.p99_us),
            },
            Series {
                name: "max".into(),
                values: pick(&|s| s.max_us),
            },
        ],
        &|v| format!("{v:.1}"),
    )?;
    scatter.sort_by(|a, b| a.0.cmp(&b.0));
    scatter_chart(&out_dir.join("lateness-per-message.svg"), &scatter)?;

    for p in &per {
        let s = p.4.lateness.as_ref();
        eprintln!(
            "{:>9}: {:>4} sent, {:>4} arrived, early {}, twice {}; lateness ms p50 {:.1} p99 {:.1} max {:.1}; broker max {} ms",
            p.0,
            p.4.messages,
            p.4.arrived,
            p.4.early,
            p.4.duplicated,
            s.map_or(0.0, |s| s.p50_us / 1000.0),
            s.map_or(0.0, |s| s.p99_us / 1000.0),
            s.map_or(0.0, |s| s.max_us / 1000.0),
            p.4.broker_lateness_max_ms.unwrap_or(0),
        );
    }
    let summary = Summary {
        params: params.clone(),
        levels: per.into_iter().map(|p| p.4).collect(),
        early,
        missing,
        duplicated,
    };
    write_json(&out_dir.join("summary.json"), &summary)?;
    write_meta(out_dir, EXPERIMENT, quick.mode(), started.elapsed(), params)?;
    eprintln!("wrote {}", out_dir.display());
    if early + missing + duplicated > 0 {
        bail!(
            "{early} messages arrived early, {missing} never arrived, {duplicated} arrived twice"
        );
    }
    Ok(())
}

/// One dot per message: when it was due (x, seconds into the run) and how late it reached the
/// consumer (y, ms). Every dot must be at or above 0; a burst shows as a rising line.
fn scatter_chart(path: &Path, series: &[(String, Vec<(f64, f64)>)]) -> Result<()> {
    let err = |e: &dyn std::fmt::Debug| anyhow!("chart: {e:?}");
    let (xmax, ymax) = series
        .iter()
        .flat_map(|(_, pts)| pts.iter())
        .fold((1.0f64, 1.0f64), |(x, y), p| (x.max(p.0), y.max(p.1)));
    let root = SVGBackend::new(path, (720, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Observed minus requested delay, per message",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..xmax * 1.05, 0f64..ymax * 1.15)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("due time (s into the run)")
        .y_desc("lateness (ms)")
        .draw()
        .map_err(|e| err(&e))?;
    let palette = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    for (i, (name, pts)) in series.iter().enumerate() {
        let c = palette[i % palette.len()];
        chart
            .draw_series(pts.iter().map(|p| Circle::new(*p, 3, c.filled())))
            .map_err(|e| err(&e))?
            .label(name.clone())
            .legend(move |(x, y)| Circle::new((x + 6, y), 3, c.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
