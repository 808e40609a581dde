//! Experiment `chaos`: the real cluster under kill loops, pauses, partitions, a dead name
//! server and a full disk, with a checker that every acknowledged message is delivered.
//!
//! It re-runs itself inside a private user + network + mount namespace, builds a bridge there
//! and gives each server (2 name servers, 2 DLedger groups of 3 brokers) a network namespace
//! of its own ([`net`], [`cluster`]), so links between any two servers can be cut. Producers
//! of rmq-client and of the official Java client 4.8.0 ([`java`]) send keyed messages
//! synchronously to a topic with 4 queues on each group; two push consumers of one group read
//! it ([`workload`]). The nemesis ([`nemesis`]) then
//! plays faults one after another: kill -9 of a leader or a random broker, SIGSTOP of a leader
//! for longer than the election timeout, SIGTERM of a leader (a graceful stop), the leader
//! isolated from its group, the cluster split in halves, a bridge, a ring, a name server
//! killed, a leader's store filled to the last byte. Each fault is held, healed, and left to
//! settle. At the end the producers stop, the consumers drain, and the checker ([`checker`])
//! says whether any acknowledged message was lost, any message appeared that was never sent,
//! any acknowledged position delivered something else, and whether per-queue order held; it
//! counts duplicates and, per fault, the longest time without writes and without reads. The
//! Java producers' acknowledgements are checked exactly like ours, and the counts are also
//! given per producer and per client library. The process exits non-zero on any violation.
//! The Java producers need a JDK and the 4.8.0 jars (Maven fetches them once); `CHAOS_JAVA=0`
//! or `--no-java` runs without them.
//!
//! Full mode: 100 faults, about 15 minutes. `--quick` (CI): 5 faults, about a minute and a
//! half. Output in `book/src/figures/chaos/` (quick: under `target/`): `faults.csv`,
//! `by_kind.csv`, `timeline.csv`, `summary.json`, `timeline.svg`, `outages.svg`, `meta.json`.
//!
//! Book: Part IV, "Breaking it on purpose". Exercises crates/broker (DLedger mode, graceful
//! stop), rmq-dledger (election, leadership transfer) and rmq-client (route refresh after a
//! failed send). No RocketMQ counterpart; OpenMessaging-Chaos does this for 4.x clusters.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rmq_client::api::MqClientApi;
use rmq_remoting::protocol::MessageQueue;
use rmq_remoting::RemotingClient;
use serde::Serialize;

use experiments::servers::{broker_ids, build_servers, create_topic};
use experiments::{figures_dir_for, write_json, write_meta, QuickArgs};

#[path = "../../peers/procs.rs"]
mod procs;

#[path = "chaos/checker.rs"]
mod checker;
#[path = "chaos/cluster.rs"]
mod cluster;
#[path = "chaos/java.rs"]
mod java;
#[path = "chaos/nemesis.rs"]
mod nemesis;
#[path = "chaos/net.rs"]
mod net;
#[path = "chaos/report.rs"]
mod report;
#[path = "chaos/workload.rs"]
mod workload;

use checker::FaultRecord;
use cluster::{Cluster, GROUPS};
use nemesis::FaultKind;
use workload::{Shared, CONSUMER_GROUP, TOPIC};

const EXPERIMENT: &str = "chaos";
const QUEUES: i32 = 4;
const RPC: Duration = Duration::from_secs(3);

#[derive(Parser)]
#[command(
    about = "Faults of many kinds against two DLedger groups; checks that nothing acked is lost"
)]
struct Cli {
    #[command(flatten)]
    quick: QuickArgs,
    /// Seed of the fault schedule (kinds, groups, hold times, partitions).
    #[arg(long, default_value_t = 14)]
    seed: u64,
    /// Number of faults (full mode; quick mode plays a fixed five).
    #[arg(long, default_value_t = 100)]
    faults: usize,
    /// Leave out the official Java producers (as `CHAOS_JAVA=0` does).
    #[arg(long)]
    no_java: bool,
}

/// The run's parameters, recorded in meta.json and summary.json.
#[derive(Debug, Clone, Serialize)]
struct Params {
    seed: u64,
    faults: usize,
    /// Producers of rmq-client (`p0`, `p1`, ...).
    producers: usize,
    /// Producers of the official Java client (`j0`, ...), all in one JVM.
    java_producers: usize,
    /// The Java client's settings (4.8.0's defaults).
    java_client: String,
    consumers: usize,
    /// Pause of a producer after an acknowledged send.
    producer_pause_ms: u64,
    body_bytes: usize,
    queues_per_group: i32,
    warmup_s: u64,
    /// A fault is held this long (a random value in the range).
    hold_min_ms: u64,
    hold_max_ms: u64,
    /// After a heal, this long before the next fault.
    settle_ms: u64,
    tail_s: u64,
    /// The longest wait for the consumers to receive every acknowledged message.
    drain_max_s: u64,
    /// The consumers' `pollNameServerInterval` (the producers keep 4.8.0's 30 s; ours also
    /// refresh a route after a failed send, the Java client does not).
    consumer_route_poll_ms: u64,
    store_tmpfs_mib: u64,
    /// The brokers' DLedger timing (their defaults).
    heartbeat_ms: u64,
    heartbeat_leak: u64,
    vote_interval_ms: (u64, u64),
}

impl Params {
    fn new(cli: &Cli) -> Params {
        let q = cli.quick;
        Params {
            seed: cli.seed,
            faults: q.pick(5, cli.faults),
            producers: q.pick(3, 4),
            java_producers: if java::enabled(cli.no_java) {
                q.pick(1, 2)
            } else {
                0
            },
            java_client:
                "rocketmq-client 4.8.0 DefaultMQProducer, defaults: sendMsgTimeout 3000 ms, \
                          retryTimesWhenSendFailed 2, pollNameServerInterval 30000 ms"
                    .into(),
            consumers: 2,
            producer_pause_ms: 5,
            body_bytes: 100,
            queues_per_group: QUEUES,
            warmup_s: q.pick(6, 8),
            hold_min_ms: q.pick(2500, 2000),
            hold_max_ms: q.pick(2500, 4000),
            settle_ms: q.pick(3000, 2500),
            tail_s: q.pick(3, 5),
            drain_max_s: q.pick(40, 90),
            consumer_route_poll_ms: 1000,
            store_tmpfs_mib: q.pick(192, 384),
            heartbeat_ms: 100,
            heartbeat_leak: 5,
            vote_interval_ms: (50, 200),
        }
    }
}

/// The plan: (kind, group) per fault.
fn schedule(p: &Params, quick: bool, rng: &mut StdRng) -> Vec<(FaultKind, usize)> {
    if quick {
        return vec![
            (FaultKind::KillLeader, 0),
            (FaultKind::PauseLeader, 1),
            (FaultKind::IsolateLeader, 0),
            (FaultKind::StopLeader, 1),
            (FaultKind::KillNameServer, 0),
        ];
    }
    let mut kinds = Vec::new();
    while kinds.len() < p.faults {
        let mut round = FaultKind::ALL.to_vec();
        round.shuffle(rng);
        kinds.extend(round);
    }
    kinds.truncate(p.faults);
    kinds
        .into_iter()
        .map(|k| (k, rng.gen_range(0..GROUPS.len())))
        .collect()
}

/// Everything the run produced.
#[derive(Serialize)]
struct Summary {
    params: Params,
    duration_s: f64,
    verdict: checker::Verdict,
    /// Consumer offsets on each group's final leader behind the queue's end after the drain
    /// (0: the group's offsets were kept through every failover and caught up).
    offsets_behind: i64,
    /// Faults after which the consumers received more again than they had consumed in the
    /// 15 s before (offset sync window + persist interval).
    faults_redelivering_more_than_window: usize,
    by_kind: Vec<checker::KindStats>,
    faults: Vec<FaultRecord>,
    /// How the run ended ("drained", or why not).
    drain: String,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if !procs::inside_private_netns() {
        // Build outside the namespace, then run there.
        build_servers()?;
        if let Some(why) = procs::netns_unavailable() {
            bail!("chaos needs a private network namespace: {why}");
        }
        java::prepare_for_rerun(cli.no_java, &procs::bin_dir()?.join("chaos-java"))?;
        std::process::exit(procs::rerun_in_private_netns()?);
    }
    let params = Params::new(&cli);
    let started = Instant::now();
    let bin = procs::bin_dir()?;
    let tmp = tempfile::Builder::new().prefix("rmq-chaos-").tempdir()?;
    // CHAOS_KEEP=1 keeps the servers' logs and stores for a look afterwards.
    let keep = std::env::var_os("CHAOS_KEEP").is_some();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()?;
    let summary = rt.block_on(run(&cli, &params, &bin, tmp.path()))?;
    rt.shutdown_timeout(Duration::from_secs(2));
    if keep {
        eprintln!("chaos: servers' logs kept in {}", tmp.keep().display());
    }
    let summary = Summary {
        duration_s: started.elapsed().as_secs_f64().round(),
        ..summary
    };
    let dir = figures_dir_for(EXPERIMENT, cli.quick.quick)?;
    write_json(&dir.join("summary.json"), &summary)?;
    write_meta(
        &dir,
        EXPERIMENT,
        cli.quick.mode(),
        started.elapsed(),
        &params,
    )?;
    print_table(&summary);
    println!("figures in {}", dir.display());
    let v = &summary.verdict;
    if !v.ok() || summary.offsets_behind != 0 {
        bail!(
            "chaos check failed: lost {}, phantoms {}, misplaced {}, order violations {}, offsets behind {} (examples: {:?} {:?})",
            v.lost,
            v.phantoms,
            v.misplaced,
            v.order_violations,
            summary.offsets_behind,
            v.lost_examples,
            v.misplaced_examples
        );
    }
    Ok(())
}

fn print_table(s: &Summary) {
    let v = &s.verdict;
    println!(
        "faults {} | sends {} acked {} failed {} | delivered {} distinct {} | lost {} phantoms {} misplaced {} order-violations {} | duplicates {} unacked-but-delivered {} | offsets behind {}",
        s.faults.len(),
        v.sends,
        v.acked,
        v.failed,
        v.deliveries,
        v.delivered_distinct,
        v.lost,
        v.phantoms,
        v.misplaced,
        v.order_violations,
        v.duplicates,
        v.unacked_delivered,
        s.offsets_behind
    );
    println!(
        "{:<8} {:<6} {:>7} {:>7} {:>6} {:>5} {:>9} {:>16} {:>10} {:>21}",
        "producer",
        "client",
        "sends",
        "acked",
        "failed",
        "lost",
        "misplaced",
        "order-violations",
        "duplicates",
        "unacked-but-delivered"
    );
    let rows = v
        .by_producer
        .iter()
        .map(|c| (c.name.as_str(), c))
        .chain(v.by_client.iter().map(|c| ("all", c)));
    for (name, c) in rows {
        println!(
            "{:<8} {:<6} {:>7} {:>7} {:>6} {:>5} {:>9} {:>16} {:>10} {:>21}",
            name,
            c.client.name(),
            c.sends,
            c.acked,
            c.failed,
            c.lost,
            c.misplaced,
            c.order_violations,
            c.duplicates,
            c.unacked_delivered
        );
    }
    println!(
        "{:<16} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8}",
        "kind", "faults", "write p50", "write p90", "write max", "read p50", "read max", "redeliv"
    );
    for k in &s.by_kind {
        println!(
            "{:<16} {:>6} {:>8.0}ms {:>8.0}ms {:>8.0}ms {:>8.0}ms {:>8.0}ms {:>8}",
            k.kind.name(),
            k.count,
            k.write_p50_ms,
            k.write_p90_ms,
            k.write_max_ms,
            k.read_p50_ms,
            k.read_max_ms,
            k.redeliveries
        );
    }
}

/// Waits until every group lists a brokerId 0 and all three members.
async fn wait_groups(c: &RemotingClient, ns: &str) -> Result<()> {
    let start = Instant::now();
    loop {
        let mut ready = 0;
        for g in GROUPS {
            let ids = broker_ids(c, ns, g, RPC).await;
            if ids.len() >= 3 && ids.contains_key(&0) {
                ready += 1;
            }
        }
        if ready == GROUPS.len() {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(90) {
            bail!("the groups did not form within 90 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn run(cli: &Cli, p: &Params, bin: &Path, dir: &Path) -> Result<Summary> {
    let mut rng = StdRng::seed_from_u64(p.seed);
    let plan = schedule(p, cli.quick.quick, &mut rng);
    let mut network = net::Net::create()?;
    let mut cl = Cluster::create(&mut network, bin, dir, p.store_tmpfs_mib)?;
    eprintln!("chaos: starting 2 name servers and 6 brokers in their namespaces");
    for i in 0..cl.nodes.len() {
        tokio::task::block_in_place(|| cl.start(i))?;
    }
    let ns = cl.namesrv();
    let first_ns = cl.nodes[0].addr();
    let c = RemotingClient::new();
    wait_groups(&c, &first_ns).await?;
    for i in 2..cl.nodes.len() {
        create_topic(&c, &cl.nodes[i].addr(), TOPIC, QUEUES, RPC).await?;
    }
    // followers serve the topic too once they have it; give the routes a moment
    tokio::time::sleep(Duration::from_secs(1)).await;

    let sh = Shared::new();
    let names: HashMap<String, String> = cl
        .nodes
        .iter()
        .map(|n| (n.addr(), n.name.clone()))
        .collect();
    let ns_addrs: Vec<String> = cl.nodes[..2].iter().map(|n| n.addr()).collect();
    let monitor = tokio::spawn(workload::monitor(ns_addrs, names, sh.clone()));
    let mut consumers = Vec::new();
    for id in 0..p.consumers {
        consumers.push(
            workload::consumer(
                &ns,
                id,
                Duration::from_millis(p.consumer_route_poll_ms),
                sh.clone(),
            )
            .await?,
        );
    }
    let java_names: Vec<String> = (0..p.java_producers).map(|i| format!("j{i}")).collect();
    let mut java_producers = if java_names.is_empty() {
        None
    } else {
        Some(java::JavaProducers::start(
            &java::classpath()?,
            &dir.join("java"),
            &ns,
            java_names.clone(),
            Duration::from_millis(p.producer_pause_ms),
            p.body_bytes,
        )?)
    };
    let mut producers = Vec::new();
    for id in 0..p.producers {
        producers.push(tokio::spawn(workload::producer(
            ns.clone(),
            id,
            Duration::from_millis(p.producer_pause_ms),
            p.body_bytes,
            sh.clone(),
        )));
    }
    let ours: Vec<String> = (0..p.producers).map(|i| format!("p{i}")).collect();
    let java_part = if java_names.is_empty() {
        String::new()
    } else {
        format!(", {} (Java 4.8.0)", java_names.join(" "))
    };
    eprintln!(
        "chaos: load running: producers {} (ours){java_part}; {} faults follow after {} s",
        ours.join(" "),
        plan.len(),
        p.warmup_s
    );
    tokio::time::sleep(Duration::from_secs(p.warmup_s)).await;
    if let Some(j) = java_producers.as_mut() {
        // The JVM starts in a few seconds; no fault before its first acknowledgement.
        tokio::task::block_in_place(|| j.wait_acked(Duration::from_secs(60)))?;
    }

    let mut faults: Vec<FaultRecord> = Vec::new();
    for (n, (kind, g)) in plan.iter().enumerate() {
        let leader = cl.leader(&c, *g).await;
        let leader_before = leader
            .map(|i| cl.nodes[i].name.clone())
            .unwrap_or_else(|| "-".into());
        let start_ms = sh.now_ms();
        let start_unix_ms = chrono::Utc::now().timestamp_millis();
        let active = match nemesis::apply(*kind, *g, leader, &mut cl, &mut network, &mut rng) {
            Ok(a) => a,
            Err(e) => {
                eprintln!(
                    "chaos: fault {} ({}) could not be applied: {e:#}",
                    n + 1,
                    kind.name()
                );
                continue;
            }
        };
        let detail = active.detail.clone();
        let hold = rng.gen_range(p.hold_min_ms..=p.hold_max_ms);
        tokio::time::sleep(Duration::from_millis(hold)).await;
        let heal_ms = sh.now_ms();
        let restarted =
            tokio::task::block_in_place(|| nemesis::heal(active, &mut cl, &mut network))
                .with_context(|| format!("healing fault {} ({})", n + 1, kind.name()))?;
        eprintln!(
            "chaos: fault {:>3}/{} {:<15} {:<40} held {hold} ms, restarted {:?}",
            n + 1,
            plan.len(),
            kind.name(),
            detail,
            restarted
        );
        faults.push(FaultRecord {
            n: n + 1,
            kind: *kind,
            group: kind.per_group().then_some(*g),
            detail,
            leader_before,
            start_ms,
            start_unix_ms,
            heal_ms,
            end_ms: 0.0,
            restarted,
            write_outage_ms: 0.0,
            read_outage_ms: 0.0,
            redeliveries: 0,
            failed_sends: 0,
        });
        tokio::time::sleep(Duration::from_millis(p.settle_ms)).await;
    }
    tokio::time::sleep(Duration::from_secs(p.tail_s)).await;
    sh.stop_producers.store(true, Ordering::Relaxed);
    let mut sends = Vec::new();
    if let Some(j) = java_producers.take() {
        // A send in flight may take its whole 3 s timeout, and shutdown() a moment more.
        let (js, summary) = tokio::task::block_in_place(|| j.stop(&sh, Duration::from_secs(30)))?;
        for line in summary {
            eprintln!("chaos: java {line}");
        }
        sends.extend(js);
    }
    for h in producers {
        sends.extend(h.await.context("producer task")??);
    }
    let end_ms = sh.now_ms();
    for i in 0..faults.len() {
        faults[i].end_ms = faults.get(i + 1).map(|f| f.start_ms).unwrap_or(end_ms);
    }

    // Drain: until every acknowledged body was delivered, or no progress for a while.
    let acked: HashSet<String> = sends
        .iter()
        .filter(|s| matches!(s.outcome, workload::Outcome::Acked { .. }))
        .map(|s| s.body.clone())
        .collect();
    let drain_start = Instant::now();
    let drain = loop {
        let missing = {
            let d = sh
                .deliveries
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?;
            let got: HashSet<&str> = d.iter().map(|x| x.body.as_str()).collect();
            acked.iter().filter(|b| !got.contains(b.as_str())).count()
        };
        // Then until the consumers also reached every queue's end: a send that failed on the
        // client side may still have been stored, and the offsets check below expects it
        // consumed too.
        let tails = if missing == 0 {
            undelivered_tails(&c, &cl, &sh).await?
        } else {
            0
        };
        if missing == 0 && tails == 0 {
            break "drained".to_string();
        }
        if drain_start.elapsed() > Duration::from_secs(p.drain_max_s) {
            break if missing > 0 {
                format!(
                    "{missing} acknowledged not delivered after {} s",
                    p.drain_max_s
                )
            } else {
                format!(
                    "every acknowledged message delivered, but {tails} stored beyond the last delivery after {} s",
                    p.drain_max_s
                )
            };
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    eprintln!("chaos: drain: {drain}");
    for consumer in &consumers {
        consumer.shutdown().await;
    }
    let offsets_behind = offsets_behind(&c, &cl).await;
    sh.stop_monitor.store(true, Ordering::Relaxed);
    let _ = monitor.await;
    cl.kill_all();

    let deliveries = sh
        .deliveries
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    let leaders = sh
        .leaders
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .clone();
    let verdict = checker::verdict(&sends, &deliveries);
    checker::per_fault(&mut faults, &sends, &deliveries, p.settle_ms as f64);
    let over_window = redelivery_over_window(&faults, &deliveries);
    let by_kind = checker::by_kind(&faults);

    let out = figures_dir_for(EXPERIMENT, cli.quick.quick)?;
    let rows = report::buckets(&sends, &deliveries, &leaders, end_ms);
    report::write_timeline_csv(&out.join("timeline.csv"), &rows)?;
    report::write_faults_csv(&out.join("faults.csv"), &faults)?;
    report::write_kinds_csv(&out.join("by_kind.csv"), &by_kind)?;
    report::timeline_chart(&out.join("timeline.svg"), &rows, &faults)?;
    report::outage_chart(&out.join("outages.svg"), &faults)?;
    Ok(Summary {
        params: p.clone(),
        duration_s: 0.0,
        verdict,
        offsets_behind,
        faults_redelivering_more_than_window: over_window,
        by_kind,
        faults,
        drain,
    })
}

/// How many messages each group's leader holds beyond the highest offset delivered from its
/// queue (summed over the queues; a queue whose end is unknown counts 1).
async fn undelivered_tails(c: &RemotingClient, cl: &Cluster, sh: &Shared) -> Result<i64> {
    let mut next: HashMap<(String, i32), i64> = HashMap::new();
    {
        let d = sh
            .deliveries
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        for x in d.iter() {
            let e = next.entry((x.broker.clone(), x.queue)).or_insert(0);
            *e = (*e).max(x.offset + 1);
        }
    }
    let api = MqClientApi::new(c.clone());
    let mut tails = 0;
    for (g, group) in GROUPS.iter().enumerate() {
        let Some(leader) = cl.leader(c, g).await else {
            tails += 1;
            continue;
        };
        let addr = cl.nodes[leader].addr();
        for q in 0..QUEUES {
            let mq = MessageQueue {
                topic: TOPIC.to_string(),
                broker_name: group.to_string(),
                queue_id: q,
            };
            match api.get_max_offset(&addr, &mq, RPC).await {
                Ok(max) => {
                    let got = next.get(&(group.to_string(), q)).copied().unwrap_or(0);
                    tails += (max - got).max(0);
                }
                Err(_) => tails += 1,
            }
        }
    }
    Ok(tails)
}

/// After the drain: how far the consumer group's committed offsets on each group's leader
/// are behind the queues' ends (summed).
async fn offsets_behind(c: &RemotingClient, cl: &Cluster) -> i64 {
    let api = MqClientApi::new(c.clone());
    let mut behind = 0;
    for (g, group) in GROUPS.iter().enumerate() {
        let Some(leader) = cl.leader(c, g).await else {
            eprintln!("chaos: no leader of {group} listed at the end");
            behind += 1;
            continue;
        };
        let addr = cl.nodes[leader].addr();
        for q in 0..QUEUES {
            let mq = MessageQueue {
                topic: TOPIC.to_string(),
                broker_name: group.to_string(),
                queue_id: q,
            };
            let max = api.get_max_offset(&addr, &mq, RPC).await.unwrap_or(-1);
            let committed = api
                .query_consumer_offset(&addr, CONSUMER_GROUP, &mq, RPC)
                .await
                .ok()
                .flatten()
                .unwrap_or(-1);
            if committed < max {
                eprintln!("chaos: {group}/{q}: committed offset {committed} < max offset {max}");
                behind += max - committed;
            }
        }
    }
    behind
}

/// Faults after which more was received again than the group had consumed from the affected
/// groups in the 15 s before the fault (what a failover may legitimately rewind).
fn redelivery_over_window(faults: &[FaultRecord], deliveries: &[workload::Delivery]) -> usize {
    let mut firsts: BTreeMap<u64, u64> = BTreeMap::new();
    let mut seen = HashSet::new();
    let mut ordered: Vec<&workload::Delivery> = deliveries.iter().collect();
    ordered.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    for d in ordered {
        if seen.insert(d.body.as_str()) {
            *firsts.entry(d.at_ms as u64).or_default() += 1;
        }
    }
    faults
        .iter()
        .filter(|f| {
            let from = (f.start_ms - 15_000.0).max(0.0) as u64;
            let window: u64 = firsts.range(from..f.start_ms as u64).map(|(_, n)| n).sum();
            f.redeliveries > window
        })
        .count()
}
