//! `rmq-console`: starts the web console.
//!
//! `rmq-console [-n "a:9876;b:9877"] [--listen 127.0.0.1:8080] [--timeout-ms 3000]
//! [--sample-ms 5000] [--user NAME --password PW] [--access-key AK --secret-key SK]`
//! binds the listen address (a non-loopback address only with a login, see `auth`),
//! signs every request with the ACL keys when given (rocketmq-console's
//! `rocketmq.config.accessKey` / `secretKey`), prints `rmq-console listening on http://<addr>` (the
//! line scripts wait for) and serves until Ctrl-C. The name server list defaults
//! to `$NAMESRV_ADDR`, then to 127.0.0.1:9876.
//! Book: Part III "The web console" (Try it).
//! Mirrors rocketmq-console's `App` (Spring Boot main) and its
//! `rocketmq.config.namesrvAddr` / `server.port` settings.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use rmq_client::acl::Credentials;
use rmq_console::auth::login_for;
use rmq_console::{router, AppState};

#[derive(Debug, Parser)]
#[command(
    name = "rmq-console",
    about = "RocketMQ web console (cluster, topics, consumers, messages, live TPS)"
)]
struct Args {
    /// Name server address list, eg: 127.0.0.1:9876;127.0.0.1:9877 (default: $NAMESRV_ADDR, else 127.0.0.1:9876)
    #[arg(short = 'n', long = "namesrv", value_name = "addrs")]
    namesrv: Option<String>,
    /// Address to serve HTTP on (use port 0 for any free port)
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Timeout of each remoting call to a name server or broker, in milliseconds
    #[arg(long = "timeout-ms", default_value_t = 3000)]
    timeout_ms: u64,
    /// Time between the dashboard's samples of broker and topic TPS, in milliseconds
    #[arg(long = "sample-ms", default_value_t = rmq_console::dashboard::DEFAULT_SAMPLE_MS)]
    sample_ms: u64,
    /// ACL access key to sign every request with, when the brokers run with aclEnable=true
    #[arg(long = "access-key", value_name = "key")]
    access_key: Option<String>,
    /// ACL secret key (default: $RMQ_CONSOLE_SECRET_KEY, which keeps it out of `ps`)
    #[arg(long = "secret-key", value_name = "key")]
    secret_key: Option<String>,
    /// Login user; required (with a password) to listen on a non-loopback address
    #[arg(long, value_name = "name")]
    user: Option<String>,
    /// Login password (default: $RMQ_CONSOLE_PASSWORD, which keeps it out of `ps`)
    #[arg(long, value_name = "pw")]
    password: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr so stdout carries only the boot line; RUST_LOG overrides "warn".
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .init();
    let args = Args::parse();
    let namesrv = args
        .namesrv
        .or_else(|| std::env::var("NAMESRV_ADDR").ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "127.0.0.1:9876".to_string());
    let password = args
        .password
        .or_else(|| std::env::var("RMQ_CONSOLE_PASSWORD").ok());
    let login = login_for(args.listen, args.user.as_deref(), password.as_deref())?;
    let secret_key = args
        .secret_key
        .or_else(|| std::env::var("RMQ_CONSOLE_SECRET_KEY").ok())
        .filter(|s| !s.is_empty());
    let credentials = match (args.access_key.filter(|s| !s.is_empty()), secret_key) {
        (Some(ak), Some(sk)) => Some(Credentials::new(ak, sk)),
        (None, None) => None,
        _ => anyhow::bail!(
            "ACL credentials need both --access-key and --secret-key (or $RMQ_CONSOLE_SECRET_KEY)"
        ),
    };
    let state = AppState::new(
        &namesrv,
        Duration::from_millis(args.timeout_ms),
        Duration::from_millis(args.sample_ms.max(100)),
        credentials,
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    println!("rmq-console listening on http://{addr} (name servers {namesrv})");
    std::io::stdout().flush()?;
    axum::serve(listener, router(state, login))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("http server failed")?;
    Ok(())
}
