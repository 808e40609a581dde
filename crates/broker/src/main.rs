//! `mqbroker -c broker.conf [-n namesrvAddr]`: loads the config, opens the broker, serves
//! until SIGTERM/SIGINT, then unregisters, flushes and exits 0. Mirrors `BrokerStartup`.
//! Book: Part II, "Starting a broker".

use anyhow::Context;
use clap::Parser;
use rmq_broker::broker::Broker;
use rmq_broker::config::BrokerConfig;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "mqbroker", about = "RocketMQ 4.8.0-compatible broker")]
struct Args {
    /// Broker config file (RocketMQ .properties)
    #[arg(short = 'c', long = "configFile")]
    config: Option<PathBuf>,
    /// Name server address list, "host:port;host:port"
    #[arg(short = 'n', long = "namesrvAddr")]
    namesrv: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let args = Args::parse();
    let (mut cfg, unknown) = match &args.config {
        Some(p) => BrokerConfig::load(p).with_context(|| format!("loading {}", p.display()))?,
        None => (BrokerConfig::default(), vec![]),
    };
    for k in unknown {
        tracing::warn!("unknown config key {k} ignored");
    }
    if let Some(n) = args.namesrv {
        cfg.namesrv_addr = Some(n);
    }
    let broker = Broker::open(cfg, args.config.clone())?;
    broker
        .run(async {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!("cannot listen for SIGTERM: {e}");
                        let _ = tokio::signal::ctrl_c().await;
                        return;
                    }
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        })
        .await?;
    tracing::info!("broker stopped cleanly");
    Ok(())
}
