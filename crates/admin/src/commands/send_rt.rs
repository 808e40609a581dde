//! `mqadmin checkMsgSendRT -t <topic> -s <size> [-a <amount>]` and `mqadmin clusterRT -s
//! <size> [-a <amount>] [-c <cluster>] [-p <printAsTlog>] [-m <machineRoom>] [-i
//! <interval>]`: send messages one at a time and report each send's round trip (per queue) or
//! the average per broker of every cluster.
//!
//! checkMsgSendRT sends message `i` to queue `i % queues`; clusterRT sends `amount` messages to
//! each broker's own topic (named after the broker), prints one line per broker, then repeats
//! every `interval` seconds until stopped, as 4.8.0. The first send of a run is left out of the
//! average (it pays for connecting). Bodies are `size` letters `a`.
//! Book: Part III "Operating a cluster with mqadmin" (stats).
//! Mirrors `org.apache.rocketmq.tools.command.message.CheckMsgSendRTCommand` and
//! `org.apache.rocketmq.tools.command.cluster.CLusterSendMsgRTCommand`.

use std::io::Write;
use std::time::{Duration, Instant};

use rmq_client::{Message, Producer, ProducerConfig};

use crate::commands::CommonArgs;

/// The message count and size both commands take.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Load {
    /// message amount | default 100
    #[arg(short = 'a', long = "amount", value_name = "arg")]
    pub amount: Option<u64>,
    /// message size | default 128 Byte
    #[arg(short = 's', long = "size", value_name = "arg")]
    pub size: usize,
}

/// `checkMsgSendRT`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct CheckArgs {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// topic name
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
    /// `-a` and `-s`.
    #[command(flatten)]
    pub load: Load,
}

/// `clusterRT`'s options, with 4.8.0's short names (4.8.0's long names for `-p` and `-m`
/// contain spaces and cannot be typed; these are spelled without them).
#[derive(Debug, clap::Parser)]
pub struct ClusterArgs {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `-a` and `-s`.
    #[command(flatten)]
    pub load: Load,
    /// cluster name | default display all cluster
    #[arg(short = 'c', long = "cluster", value_name = "arg")]
    pub cluster: Option<String>,
    /// print as tlog | default false
    #[arg(short = 'p', long = "printLog", value_name = "arg")]
    pub print_log: Option<String>,
    /// machine room name | default noname
    #[arg(short = 'm', long = "machineRoom", value_name = "arg")]
    pub machine_room: Option<String>,
    /// print interval | default 10 seconds
    #[arg(short = 'i', long = "interval", value_name = "arg")]
    pub interval: Option<u64>,
}

async fn producer(common: &CommonArgs) -> anyhow::Result<Producer> {
    let mut config = ProducerConfig::new(rmq_client::util::now_ms().to_string(), String::new());
    config.client = common.client_config()?;
    Ok(Producer::start(config).await?)
}

/// The average of the round trips after the first, as 4.8.0 computes it.
pub fn average_rt_ms(elapsed_after_first_ms: u128, amount: u64) -> f64 {
    elapsed_after_first_ms as f64 / (amount as f64 - 1.0)
}

/// Runs `checkMsgSendRT` and prints what 4.8.0 prints.
pub async fn run_check(args: CheckArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let amount = args.load.amount.unwrap_or(100);
    let body = "a".repeat(args.load.size).into_bytes();
    let topic = args.topic.trim().to_string();
    let producer = producer(&args.common).await?;
    let result = async {
        writeln!(
            out,
            "{:<32}  {:<4}  {:<20}    {}",
            "#Broker Name", "#QID", "#Send Result", "#RT"
        )?;
        let mut elapsed = 0u128;
        let (mut broker, mut qid) = (String::from("null"), String::from("null"));
        for i in 0..amount {
            let start = Instant::now();
            let msg = Message::new(topic.clone(), body.clone());
            let sent = producer
                .send_select(msg, |mqs, _| {
                    let mq = mqs.get((i % mqs.len().max(1) as u64) as usize)?.clone();
                    Some(mq)
                })
                .await;
            let rt = start.elapsed().as_millis();
            if let Ok(r) = &sent {
                broker = r.message_queue.broker_name.clone();
                qid = r.message_queue.queue_id.to_string();
            }
            if i != 0 {
                elapsed += rt;
            }
            writeln!(out, "{broker:<32}  {qid:<4}  {:<20}    {rt}", sent.is_ok())?;
        }
        writeln!(out, "Avg RT: {:.2}", average_rt_ms(elapsed, amount))?;
        anyhow::Ok(())
    }
    .await;
    producer.shutdown().await;
    result
}

/// Runs `clusterRT` (until stopped) and prints what 4.8.0 prints.
pub async fn run_cluster(args: ClusterArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let amount = args.load.amount.unwrap_or(50);
    let body = "a".repeat(args.load.size).into_bytes();
    let interval = Duration::from_secs(args.interval.unwrap_or(10));
    let tlog = args
        .print_log
        .as_deref()
        .is_some_and(crate::commands::java_bool);
    let room = args
        .machine_room
        .as_deref()
        .map(str::trim)
        .unwrap_or("noname")
        .to_string();
    let info = admin.examine_broker_cluster_info().await?;
    let clusters: Vec<String> = match &args.cluster {
        Some(c) => vec![c.trim().to_string()],
        None => info.cluster_addr_table.keys().cloned().collect(),
    };
    let producer = producer(&args.common).await?;
    if !tlog {
        writeln!(
            out,
            "{:<24}  {:<24}  {:<4}  {:<8}  {:<8}",
            "#Cluster Name", "#Broker Name", "#RT", "#successCount", "#failCount"
        )?;
    }
    loop {
        for cluster in &clusters {
            let Some(brokers) = info.cluster_addr_table.get(cluster) else {
                writeln!(out, "cluster [{cluster}] not exist")?;
                break;
            };
            for broker in brokers {
                let (mut ok, mut failed, mut elapsed) = (0u64, 0u64, 0u128);
                for i in 0..amount {
                    let start = Instant::now();
                    match producer
                        .send(Message::new(broker.clone(), body.clone()))
                        .await
                    {
                        Ok(_) => ok += 1,
                        Err(_) => failed += 1,
                    }
                    if i != 0 {
                        elapsed += start.elapsed().as_millis();
                    }
                }
                let rt = average_rt_ms(elapsed, amount);
                if tlog {
                    let now = chrono::Utc::now() + chrono::Duration::hours(8);
                    writeln!(
                        out,
                        "{}|{room}|{cluster}|{broker}|{:.0}",
                        now.format("%Y-%m-%d %H:%M:%S"),
                        rt
                    )?;
                } else {
                    writeln!(
                        out,
                        "{cluster:<24}  {broker:<24}  {:<8}  {ok:<16}  {failed:<16}",
                        format!("{rt:.2}")
                    )?;
                }
            }
        }
        out.flush()?;
        tokio::time::sleep(interval).await;
    }
}
