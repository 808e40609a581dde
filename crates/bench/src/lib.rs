//! rmq-bench: the programs built on rmq-client, `mqbench` (the load generator, 4.8.0's
//! `example/benchmark`) and `rmq-example` (4.8.0's example programs). This library holds the
//! little they share.
//!
//! Book: Part V "Side by side with Java RocketMQ and rocketmq-rust" (mqbench) and Part II
//! "Request-reply" (rmq-example). Mirrors the `rocketmq-example` module of 4.8.0.

#![warn(missing_docs)]

/// Logs to stderr (stdout carries the program's own output), at `warn` unless `RUST_LOG`
/// says otherwise.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}
