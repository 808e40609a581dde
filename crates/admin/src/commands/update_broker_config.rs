//! `mqadmin updateBrokerConfig -k <key> -v <value> (-b <addr> | -c <cluster>)`: change one
//! setting of a running broker, or of every master of a cluster.
//!
//! UPDATE_BROKER_CONFIG with the `key=value` properties text as body; the broker applies what
//! takes effect at once and writes the key to its config file.
//! Book: Part III "Operating a cluster with mqadmin" (configuration).
//! Mirrors `org.apache.rocketmq.tools.command.broker.UpdateBrokerConfigSubCommand`.

use std::io::Write;

use crate::commands::flags::BrokerOrCluster;
use crate::commands::{print_usage, CommonArgs, CLUSTER_ERROR_MESSAGE};

/// `updateBrokerConfig`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `-b` or `-c`: which brokers to update.
    #[command(flatten)]
    pub target: BrokerOrCluster,
    /// config key
    #[arg(short = 'k', long = "key", value_name = "arg")]
    pub key: String,
    /// config value
    #[arg(short = 'v', long = "value", value_name = "arg")]
    pub value: String,
}

/// Runs `updateBrokerConfig` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let (key, value) = (args.key.trim(), args.value.trim());
    let props = [(key.to_string(), value.to_string())];
    if let Some(addr) = args.target.broker() {
        let admin = args.common.admin().await?;
        admin.update_broker_config(addr, &props).await?;
        writeln!(out, "update broker config success, {addr}")?;
        return Ok(());
    }
    let Some(cluster) = args.target.cluster() else {
        return print_usage("updateBrokerConfig", out);
    };
    let admin = args.common.admin().await?;
    let Some(masters) = admin.master_addrs_of_cluster(cluster).await? else {
        writeln!(out, "[error] {CLUSTER_ERROR_MESSAGE}")?;
        anyhow::bail!("cluster {cluster} not found");
    };
    let mut failed = 0;
    for addr in &masters {
        // 4.8.0 prints a failing master's exception and carries on.
        match admin.update_broker_config(addr, &props).await {
            Ok(()) => writeln!(out, "update broker config success, {addr}")?,
            Err(e) => {
                failed += 1;
                eprintln!("update broker config of {addr} failed: {e}");
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} masters failed", masters.len());
    }
    Ok(())
}
