//! rmq-example: RocketMQ 4.8.0's example programs that need a running client, as one
//! command line tool on rmq-client (the book's "Try it" sections and the interop suite run
//! them). It sits in the `rmq-bench` crate next to `mqbench`, as 4.8.0's `rocketmq-example`
//! module holds both the `benchmark` package and the example programs.
//!
//! * `rmq-example request -n NS -t TOPIC [-m BODY] [-c COUNT] [--timeout-ms MS] [--async]`:
//!   sends requests and prints each reply (`example/rpc/RequestProducer`,
//!   `AsyncRequestProducer`).
//! * `rmq-example respond -n NS -t TOPIC [-g GROUP] [--seconds S]`: answers every request
//!   with `reply:<request body>` built by `create_reply_message` (`example/rpc/ResponseConsumer`).
//! * `rmq-example consume -n NS -t TOPIC -g GROUP [--seconds S]`: a push consumer that prints
//!   every message it gets, `<topic> <queueId> <queueOffset> <body>` (`example/quickstart/Consumer`).
//!
//! * `rmq-example produce -n NS -t TOPIC [-g GROUP] [-c COUNT] [-m BODY] [--tags T] [--keys K]
//!   [--trace] [--trace-topic T]`: sends messages and prints `SEND_OK <msgId>` per message
//!   (`example/quickstart/Producer`; with `--trace`, `example/tracemessage/TraceProducer`).
//! * `rmq-example lite-pull -n NS -t TOPIC -g GROUP [--count N] [--seconds S]`: a lite pull
//!   consumer that subscribes, polls until it has N messages (or the time is up), prints
//!   `<topic> <queueId> <queueOffset> <body>` per message, commits, and prints
//!   `COMMITTED <brokerName> <queueId> <offset>` per queue (`example/simple/LitePullConsumerSubscribe`).
//! * `consume ... [--trace] [--trace-topic T]`: the consumer with message trace on
//!   (`example/tracemessage/TraceConsumer`); `--allocate avg|circle|consistent-hash` picks the
//!   queue allocation strategy.
//!
//! `respond` and `consume` print `READY <clientId>` once they own queues, and run until the
//! time is up, Ctrl-C or SIGTERM. Output is one line per event, flushed at once, so other
//! programs can read it through a pipe.
//! Book: Part II "Request-reply" and "Consumer offsets". Mirrors the `rpc` and `quickstart`
//! packages of 4.8.0's `rocketmq-example`.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use rmq_client::consumer::{
    AllocateStrategy, ConsumeConcurrentlyStatus, ConsumeFromWhere, LitePullConsumer,
    LitePullConsumerConfig, MessageListener, PushConsumer, PushConsumerConfig,
};
use rmq_client::{create_reply_message, Message, Producer, ProducerConfig};

#[derive(Parser, Debug)]
#[command(
    name = "rmq-example",
    about = "RocketMQ 4.8.0's example programs on rmq-client"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Send requests and print the replies (RequestProducer).
    Request(RequestArgs),
    /// Answer requests (ResponseConsumer).
    Respond(ConsumerArgs),
    /// Print every message a push consumer gets (quickstart Consumer).
    Consume(ConsumerArgs),
    /// Send messages and print their ids (quickstart Producer, TraceProducer).
    Produce(ProduceArgs),
    /// Poll with a lite pull consumer, then commit (LitePullConsumerSubscribe).
    LitePull(LitePullArgs),
}

#[derive(Args, Debug)]
struct LitePullArgs {
    #[command(flatten)]
    target: Target,
    /// Stop after this many messages (0: no limit).
    #[arg(long = "count", default_value_t = 0)]
    count: usize,
    /// Stop after this many seconds.
    #[arg(long = "seconds", default_value_t = 30)]
    seconds: u64,
}

/// Message trace switches (`enableMsgTrace`, `customizedTraceTopic`).
#[derive(Args, Debug)]
struct TraceArgs {
    /// Record message trace (Pub, or SubBefore/SubAfter) in the trace topic.
    #[arg(long = "trace")]
    trace: bool,
    /// The trace topic (default RMQ_SYS_TRACE_TOPIC).
    #[arg(long = "trace-topic")]
    trace_topic: Option<String>,
}

#[derive(Args, Debug)]
struct ProduceArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    trace: TraceArgs,
    /// Message body (a sequence number is appended when sending several).
    #[arg(short = 'm', long = "message", default_value = "Hello RocketMQ")]
    message: String,
    /// How many messages.
    #[arg(short = 'c', long = "count", default_value_t = 1)]
    count: u32,
    /// Tags of every message.
    #[arg(long = "tags")]
    tags: Option<String>,
    /// Keys of every message (space-separated).
    #[arg(long = "keys")]
    keys: Option<String>,
}

/// Where a program connects, and which topic and group it uses.
#[derive(Args, Debug)]
struct Target {
    /// Name server address(es), `host:port;host:port`.
    #[arg(short = 'n', long = "namesrv", default_value = "127.0.0.1:9876")]
    namesrv: String,
    /// The topic requests go to (request, respond) or that is consumed (consume).
    #[arg(short = 't', long = "topic", default_value = "RequestTopic")]
    topic: String,
    /// Producer group (request) or consumer group (respond, consume).
    #[arg(
        short = 'g',
        long = "group",
        default_value = "please_rename_unique_group_name"
    )]
    group: String,
}

#[derive(Args, Debug)]
struct RequestArgs {
    #[command(flatten)]
    target: Target,
    /// Request body (a sequence number is appended when sending several).
    #[arg(short = 'm', long = "message", default_value = "Hello world")]
    message: String,
    /// How many requests, one after the other.
    #[arg(short = 'c', long = "count", default_value_t = 1)]
    count: u32,
    /// How long each request waits for its reply.
    #[arg(long = "timeout-ms", default_value_t = 3000)]
    timeout_ms: u64,
    /// Use the callback form (`request_async`).
    #[arg(long = "async")]
    use_async: bool,
}

#[derive(Args, Debug)]
struct ConsumerArgs {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    trace: TraceArgs,
    /// Stop after this many seconds (0: run until Ctrl-C or SIGTERM).
    #[arg(long = "seconds", default_value_t = 0)]
    seconds: u64,
    /// Queue allocation strategy: avg, circle or consistent-hash.
    #[arg(long = "allocate", default_value = "avg")]
    allocate: String,
}

/// Prints one line and flushes it (stdout may be a pipe).
fn say(line: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line.as_ref());
    let _ = out.flush();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    rmq_bench::init_logging();
    match Cli::parse().cmd {
        Cmd::Request(a) => request(a).await,
        Cmd::Respond(a) => consumer(a, true).await,
        Cmd::Consume(a) => consumer(a, false).await,
        Cmd::Produce(a) => produce(a).await,
        Cmd::LitePull(a) => lite_pull(a).await,
    }
}

async fn request(a: RequestArgs) -> anyhow::Result<()> {
    let t = &a.target;
    let producer = Producer::start(ProducerConfig::new(t.group.clone(), t.namesrv.clone()))
        .await
        .context("starting the producer")?;
    let timeout = Duration::from_millis(a.timeout_ms);
    let mut failures = 0;
    for i in 0..a.count {
        let body = if a.count == 1 {
            a.message.clone()
        } else {
            format!("{}-{i}", a.message)
        };
        let began = Instant::now();
        let reply = if a.use_async {
            let (tx, rx) = tokio::sync::oneshot::channel();
            producer.request_async(Message::new(&t.topic, body), timeout, move |r| {
                let _ = tx.send(r);
            });
            rx.await
                .context("the request task ended without an answer")?
        } else {
            producer
                .request(Message::new(&t.topic, body), timeout)
                .await
        };
        match reply {
            Ok(m) => say(format!(
                "reply {i}: {} ({} ms)",
                String::from_utf8_lossy(&m.body),
                began.elapsed().as_millis()
            )),
            Err(e) => {
                failures += 1;
                say(format!("request {i} failed: {e}"));
            }
        }
    }
    producer.shutdown().await;
    if failures > 0 {
        // A plain line and exit status 1 (an error value would add a backtrace when
        // RUST_BACKTRACE is set).
        eprintln!("{failures} of {} requests failed", a.count);
        std::process::exit(1);
    }
    Ok(())
}

async fn produce(a: ProduceArgs) -> anyhow::Result<()> {
    let t = &a.target;
    let mut cfg = ProducerConfig::new(t.group.clone(), t.namesrv.clone());
    cfg.enable_msg_trace = a.trace.trace;
    cfg.customized_trace_topic = a.trace.trace_topic.clone();
    let producer = Producer::start(cfg)
        .await
        .context("starting the producer")?;
    let mut failures = 0;
    for i in 0..a.count {
        let body = if a.count == 1 {
            a.message.clone()
        } else {
            format!("{}-{i}", a.message)
        };
        let mut msg = Message::new(&t.topic, body);
        if let Some(tags) = &a.tags {
            msg = msg.with_tags(tags.clone());
        }
        if let Some(keys) = &a.keys {
            msg = msg.with_keys(keys.clone());
        }
        match producer.send(msg).await {
            Ok(r) => say(format!("{} {}", r.send_status.name(), r.msg_id)),
            Err(e) => {
                failures += 1;
                say(format!("send {i} failed: {e}"));
            }
        }
    }
    // Shutting down sends the trace events still queued.
    producer.shutdown().await;
    if failures > 0 {
        eprintln!("{failures} of {} sends failed", a.count);
        std::process::exit(1);
    }
    Ok(())
}

async fn lite_pull(a: LitePullArgs) -> anyhow::Result<()> {
    let t = &a.target;
    let mut cfg = LitePullConsumerConfig::new(t.group.clone(), t.namesrv.clone());
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let consumer = LitePullConsumer::start(cfg)
        .await
        .context("starting the lite pull consumer")?;
    consumer
        .subscribe(&t.topic, "*")
        .await
        .context("subscribing")?;
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let mut seen = 0;
    while (a.count == 0 || seen < a.count) && Instant::now() < deadline {
        for m in consumer.poll_timeout(Duration::from_millis(500)).await? {
            seen += 1;
            say(format!(
                "{} {} {} {}",
                m.topic,
                m.queue_id,
                m.queue_offset,
                String::from_utf8_lossy(&m.body)
            ));
        }
    }
    consumer.commit_sync().await;
    for mq in consumer.assignment() {
        say(format!(
            "COMMITTED {} {} {}",
            mq.broker_name,
            mq.queue_id,
            consumer.committed(&mq).await
        ));
    }
    consumer.shutdown().await;
    Ok(())
}

/// The listener of `respond`: answer each request through `replier`.
fn responder(replier: Producer) -> MessageListener {
    MessageListener::concurrently(move |msgs, _| {
        for m in msgs {
            let body = format!("reply:{}", String::from_utf8_lossy(&m.body));
            let reply = match create_reply_message(m, body.clone()) {
                Ok(r) => r,
                Err(e) => {
                    // Not a request (no CLUSTER property): nothing to answer.
                    say(format!("SKIPPED {}: {e}", m.msg_id()));
                    continue;
                }
            };
            // Listeners run on the blocking pool, so waiting for the send here is fine.
            match tokio::runtime::Handle::current().block_on(replier.send(reply)) {
                Ok(r) => say(format!(
                    "REPLIED {} -> {body} {}",
                    String::from_utf8_lossy(&m.body),
                    r.send_status.name()
                )),
                Err(e) => say(format!("REPLY FAILED {}: {e}", m.msg_id())),
            }
        }
        ConsumeConcurrentlyStatus::ConsumeSuccess
    })
}

fn printer() -> MessageListener {
    MessageListener::concurrently(|msgs, _| {
        for m in msgs {
            say(format!(
                "{} {} {} {}",
                m.topic,
                m.queue_id,
                m.queue_offset,
                String::from_utf8_lossy(&m.body)
            ));
        }
        ConsumeConcurrentlyStatus::ConsumeSuccess
    })
}

async fn consumer(a: ConsumerArgs, respond: bool) -> anyhow::Result<()> {
    let t = &a.target;
    let replier = if respond {
        let cfg = ProducerConfig::new(format!("{}_replier", t.group), t.namesrv.clone());
        Some(
            Producer::start(cfg)
                .await
                .context("starting the reply producer")?,
        )
    } else {
        None
    };
    let listener = match &replier {
        Some(p) => responder(p.clone()),
        None => printer(),
    };
    let mut cfg = PushConsumerConfig::new(t.group.clone(), t.namesrv.clone());
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    cfg.enable_msg_trace = a.trace.trace;
    cfg.customized_trace_topic = a.trace.trace_topic.clone();
    cfg.allocate_strategy = match a.allocate.as_str() {
        "avg" => AllocateStrategy::Averagely,
        "circle" => AllocateStrategy::AveragelyByCircle,
        "consistent-hash" => AllocateStrategy::consistent_hash(),
        other => anyhow::bail!("unknown --allocate {other:?}: avg, circle or consistent-hash"),
    };
    let consumer = PushConsumer::start(cfg, &[(t.topic.as_str(), "*")], listener)
        .await
        .context("starting the push consumer")?;
    {
        let (consumer, topic) = (consumer.clone(), t.topic.clone());
        tokio::spawn(async move {
            while !consumer.assigned_queues().iter().any(|q| q.topic == topic) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            say(format!("READY {}", consumer.client_id()));
        });
    }
    let run_for = async {
        if a.seconds == 0 {
            std::future::pending::<()>().await
        } else {
            tokio::time::sleep(Duration::from_secs(a.seconds)).await
        }
    };
    tokio::select! {
        _ = run_for => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = sigterm() => {}
    }
    consumer.shutdown().await;
    if let Some(p) = replier {
        p.shutdown().await;
    }
    Ok(())
}

#[cfg(unix)]
async fn sigterm() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}

#[cfg(not(unix))]
async fn sigterm() {
    std::future::pending::<()>().await
}
