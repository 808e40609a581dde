//! mqbench: a load generator for RocketMQ 4.x built on rmq-client (crate `rmq-bench`, so the
//! client itself does not carry clap, indicatif and hdrhistogram).
//!
//! `mqbench producer -n ADDR -t TOPIC -s SIZE -w THREADS [--batch N]` sends as
//! fast as `THREADS` concurrent senders can; `mqbench consumer -n ADDR -t TOPIC
//! -w THREADS` consumes with a push consumer. Both print TPS and latency
//! percentiles (send round trip, or store-to-consume for consumers) every
//! second under a progress bar, and can write a JSON summary.
//! Book: Part II "Producing" and "Consuming, long polling and rebalancing"
//! (measuring throughput). Mirrors 4.8.0's `benchmark/Producer.java` and
//! `benchmark/Consumer.java`.

mod run;
mod stats;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "mqbench", about = "RocketMQ producer/consumer benchmark")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Send messages as fast as possible.
    Producer(Common),
    /// Consume messages with a push consumer.
    Consumer(Common),
}

/// Options shared by both modes.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Name server address(es), `host:port;host:port`.
    #[arg(short = 'n', long = "namesrv", default_value = "127.0.0.1:9876")]
    pub namesrv: String,
    /// Topic.
    #[arg(short = 't', long = "topic", default_value = "BenchmarkTest")]
    pub topic: String,
    /// Message body size in bytes (producer).
    #[arg(short = 's', long = "size", default_value_t = 128)]
    pub size: usize,
    /// Concurrent senders (producer) or listener threads (consumer).
    #[arg(short = 'w', long = "threads", default_value_t = 16)]
    pub threads: usize,
    /// Messages per batch send (producer; 1 = single sends).
    #[arg(long = "batch", default_value_t = 1)]
    pub batch: usize,
    /// Run time in seconds (0 = until Ctrl-C).
    #[arg(long = "duration", default_value_t = 0)]
    pub duration: u64,
    /// Write a JSON summary here.
    #[arg(long = "json")]
    pub json: Option<PathBuf>,
    /// Producer or consumer group.
    #[arg(short = 'g', long = "group")]
    pub group: Option<String>,
    /// Tag of sent messages / tag expression of the consumer.
    #[arg(long = "tags")]
    pub tags: Option<String>,
    /// Enable latency fault avoidance (producer).
    #[arg(long = "fault-avoidance")]
    pub fault_avoidance: bool,
    /// Stop after this many messages (producer: sent; consumer: received; 0 = no limit).
    #[arg(long = "messages", default_value_t = 0)]
    pub messages: u64,
    /// Send at most this many messages per second in total (producer; 0 = as fast as possible).
    #[arg(long = "rate", default_value_t = 0)]
    pub rate: u64,
    /// Producer: write the send time (microseconds since the epoch) into the first 8 bytes of
    /// each body. Consumer: report send-to-receive latency from that stamp instead of
    /// store-to-receive from the store timestamp (milliseconds).
    #[arg(long = "stamp")]
    pub stamp: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    rmq_bench::init_logging();
    let cli = Cli::parse();
    let (mode, opts) = match cli.cmd {
        Cmd::Producer(o) => ("producer", o),
        Cmd::Consumer(o) => ("consumer", o),
    };
    anyhow::ensure!(opts.threads > 0, "--threads must be at least 1");
    anyhow::ensure!(opts.batch > 0, "--batch must be at least 1");
    anyhow::ensure!(opts.size > 0, "--size must be at least 1");
    anyhow::ensure!(
        !opts.stamp || opts.size >= 8,
        "--stamp needs --size of at least 8"
    );
    let summary = match mode {
        "producer" => run::producer(&opts).await?,
        _ => run::consumer(&opts).await?,
    };
    // Before the summary line, which stays the last line of the output (scripts `tail -n 1` it).
    if let (Some(first), Some(last)) = (summary.first_message_s, summary.last_message_s) {
        println!(
            "{mode}: first message at {first:.3} s, last at {last:.3} s, {:.0} msg/s between them",
            summary.busy_rate()
        );
    }
    println!(
        "{mode}: {} messages in {:.1} s, {:.0} msg/s avg, {} failures; latency p50 {:.3} ms p99 {:.3} ms p999 {:.3} ms max {:.3} ms",
        summary.messages,
        summary.duration_s,
        summary.tps_avg,
        summary.failures,
        summary.latency_us.p50 as f64 / 1000.0,
        summary.latency_us.p99 as f64 / 1000.0,
        summary.latency_us.p999 as f64 / 1000.0,
        summary.latency_us.max as f64 / 1000.0,
    );
    if let Some(path) = &opts.json {
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)?;
        println!("summary written to {}", path.display());
    }
    Ok(())
}
