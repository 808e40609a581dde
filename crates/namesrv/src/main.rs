//! `mqnamesrv`: start a name server from a RocketMQ `.properties` file.
//!
//! `mqnamesrv [-c namesrv.conf] [-p PORT]`; prints
//! `The Name Server boot success. serializeType=JSON listen=<addr>` once listening,
//! so scripts and tests can wait for that line (with `-p 0` it reveals the port).
//! Book: Part III "Name server". Mirrors `org.apache.rocketmq.namesrv.NamesrvStartup`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use rmq_namesrv::{NameServer, NamesrvConfig};
use tracing::{info, warn};

#[derive(Parser, Debug)]
#[command(name = "mqnamesrv", about = "RocketMQ-compatible name server")]
struct Args {
    /// Name server config file (RocketMQ .properties)
    #[arg(short = 'c', long = "configFile")]
    config_file: Option<PathBuf>,
    /// Listen port (overrides listenPort; 0 picks a free port)
    #[arg(short = 'p', long = "port")]
    port: Option<u16>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    let args = Args::parse();
    let mut config = NamesrvConfig::default();
    if let Some(path) = &args.config_file {
        let (loaded, unknown) = NamesrvConfig::load(path)
            .with_context(|| format!("loading name server config {}", path.display()))?;
        for key in unknown {
            warn!(key, file = %path.display(), "unknown config key ignored");
        }
        config = loaded;
        info!(file = %path.display(), "load config properties file OK");
    }
    if let Some(port) = args.port {
        config.listen_port = port;
    }
    let mut server = NameServer::start(config)
        .await
        .context("starting the name server")?;
    let addr = server.local_addr();
    println!("The Name Server boot success. serializeType=JSON listen={addr}");
    std::io::stdout().flush().ok();
    tokio::select! {
        result = server.wait() => result.context("name server stopped")?,
        _ = tokio::signal::ctrl_c() => info!("shutdown requested"),
    }
    server.shutdown().await;
    Ok(())
}
