//! The two benchmark modes: `THREADS` send loops sharing one producer, or one
//! push consumer whose listener counts messages and their store-to-consume
//! latency.
//!
//! Book: Part II "Producing" / "Consuming" (measuring). Mirrors 4.8.0's
//! `benchmark/Producer.java` and `benchmark/Consumer.java`.

use std::time::{Duration, Instant};

use anyhow::Context;
use rmq_client::consumer::{
    ConsumeConcurrentlyStatus, MessageListener, PushConsumer, PushConsumerConfig,
};
use rmq_client::{Message, Producer, ProducerConfig};
use tokio_util::sync::CancellationToken;

use crate::stats::{report_loop, Stats, Summary};
use crate::Common;

fn stop_token(opts: &Common) -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    let duration = opts.duration;
    tokio::spawn(async move {
        if duration > 0 {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(duration)) => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        } else {
            let _ = tokio::signal::ctrl_c().await;
        }
        t.cancel();
    });
    token
}

fn summary(
    mode: &str,
    opts: &Common,
    stats: &Stats,
    per_second: Vec<crate::stats::Second>,
    start: Instant,
    elapsed: Duration,
) -> Summary {
    let (messages, failures, latency_us) = stats.totals();
    let (first_message_s, last_message_s) = stats.span(start);
    let secs = elapsed.as_secs_f64().max(1e-3);
    Summary {
        mode: mode.to_string(),
        namesrv: opts.namesrv.clone(),
        topic: opts.topic.clone(),
        size: opts.size,
        threads: opts.threads,
        batch: opts.batch,
        duration_s: secs,
        messages,
        failures,
        tps_avg: messages as f64 / secs,
        latency_us,
        per_second,
        first_message_s,
        last_message_s,
    }
}

/// Microseconds since the Unix epoch (the clock `--stamp` writes and reads).
fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// The send-to-receive time of a body stamped by `--stamp`, if it carries one.
fn stamped_latency(body: &[u8]) -> Option<Duration> {
    let stamp = u64::from_le_bytes(body.get(..8)?.try_into().ok()?);
    Some(Duration::from_micros(now_us().saturating_sub(stamp)))
}

fn duration_of(opts: &Common) -> Option<Duration> {
    (opts.duration > 0).then(|| Duration::from_secs(opts.duration))
}

/// Sends until stopped.
pub async fn producer(opts: &Common) -> anyhow::Result<Summary> {
    let mut cfg = ProducerConfig::new(
        opts.group
            .clone()
            .unwrap_or_else(|| "benchmark_producer".into()),
        opts.namesrv.clone(),
    );
    cfg.send_latency_fault_enable = opts.fault_avoidance;
    let producer = Producer::start(cfg)
        .await
        .context("starting the producer")?;
    // One probe send (counted) so route problems fail loudly instead of as a
    // wall of failures.
    let stats = Stats::new()?;
    let body = bytes::Bytes::from(vec![b'a'; opts.size]);
    let start = Instant::now();
    let begin = Instant::now();
    producer
        .send(make(opts, &body))
        .await
        .context("first send")?;
    stats.record(1, begin.elapsed());
    let stop = stop_token(opts);
    let mut workers = Vec::new();
    for _ in 0..opts.threads {
        let (p, s, stop, body, opts) = (
            producer.clone(),
            stats.clone(),
            stop.clone(),
            body.clone(),
            opts.clone(),
        );
        // With --rate, each sender sends its share of the rate, one request per tick (a
        // sender that fell behind catches up, so the rate holds on average).
        let mut pace = (opts.rate > 0).then(|| {
            let per_request = (opts.threads * opts.batch) as f64 / opts.rate as f64;
            let mut t = tokio::time::interval(Duration::from_secs_f64(per_request.max(1e-6)));
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            t
        });
        workers.push(tokio::spawn(async move {
            while !stop.is_cancelled() {
                if opts.messages > 0 && s.count() >= opts.messages {
                    stop.cancel();
                    break;
                }
                if let Some(t) = pace.as_mut() {
                    tokio::select! {
                        _ = t.tick() => {}
                        _ = stop.cancelled() => break,
                    }
                }
                let begin = Instant::now();
                let ok = if opts.batch > 1 {
                    let msgs = (0..opts.batch).map(|_| make(&opts, &body)).collect();
                    p.send_batch(msgs).await.is_ok()
                } else {
                    p.send(make(&opts, &body)).await.is_ok()
                };
                if ok {
                    s.record(opts.batch as u64, begin.elapsed());
                } else {
                    s.failure();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }));
    }
    let (per_second, elapsed) = report_loop(&stats, duration_of(opts), stop.clone()).await;
    stop.cancel();
    for w in workers {
        let _ = w.await;
    }
    producer.shutdown().await;
    Ok(summary(
        "producer", opts, &stats, per_second, start, elapsed,
    ))
}

fn make(opts: &Common, body: &bytes::Bytes) -> Message {
    let body = if opts.stamp {
        let mut b = body.to_vec();
        b[..8].copy_from_slice(&now_us().to_le_bytes());
        bytes::Bytes::from(b)
    } else {
        body.clone()
    };
    let m = Message::new(opts.topic.clone(), body);
    match &opts.tags {
        Some(t) => m.with_tags(t.clone()),
        None => m,
    }
}

/// Consumes until stopped.
pub async fn consumer(opts: &Common) -> anyhow::Result<Summary> {
    let mut cfg = PushConsumerConfig::new(
        opts.group
            .clone()
            .unwrap_or_else(|| "benchmark_consumer".into()),
        opts.namesrv.clone(),
    );
    cfg.consume_thread_max = opts.threads;
    let stats = Stats::new()?;
    let s = stats.clone();
    let stop = stop_token(opts);
    let (limit, stamp, done) = (opts.messages, opts.stamp, stop.clone());
    let listener = MessageListener::concurrently(move |msgs, _| {
        let now = rmq_client::util::now_ms();
        for m in msgs {
            let latency = match stamp.then(|| stamped_latency(&m.body)).flatten() {
                Some(d) => d,
                None => Duration::from_millis((now - m.store_timestamp).max(0) as u64),
            };
            s.record(1, latency);
        }
        if limit > 0 && s.count() >= limit {
            done.cancel();
        }
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    let start = Instant::now();
    let expr = opts.tags.clone().unwrap_or_else(|| "*".into());
    let consumer = PushConsumer::start(cfg, &[(opts.topic.as_str(), expr.as_str())], listener)
        .await
        .context("starting the consumer")?;
    let (per_second, elapsed) = report_loop(&stats, duration_of(opts), stop.clone()).await;
    consumer.shutdown().await;
    Ok(summary(
        "consumer", opts, &stats, per_second, start, elapsed,
    ))
}
