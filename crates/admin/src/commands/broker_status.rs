//! `mqadmin brokerStatus -b <addr> | -c <cluster>`: a broker's runtime info table
//! (GET_BROKER_RUNTIME_INFO), keys sorted.
//!
//! Book: Part II "Flow control and system busy" (reading the queue-size keys).
//! Mirrors `org.apache.rocketmq.tools.command.broker.BrokerStatusSubCommand`.

use std::io::Write;

use crate::admin_client::AdminClient;
use crate::commands::{CommonArgs, CLUSTER_ERROR_MESSAGE};

/// `brokerStatus`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Broker address
    #[arg(short = 'b', long = "brokerAddr", value_name = "arg")]
    pub broker_addr: Option<String>,
    /// which cluster
    #[arg(short = 'c', long = "clusterName", value_name = "arg")]
    pub cluster_name: Option<String>,
}

/// Runs `brokerStatus` and prints what 4.8.0's `BrokerStatusSubCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    if let Some(addr) = args.broker_addr.as_deref().map(str::trim) {
        return print_stats(&admin, addr, false, out).await;
    }
    let Some(cluster) = args.cluster_name.as_deref().map(str::trim) else {
        anyhow::bail!("brokerStatus needs -b <brokerAddr> or -c <clusterName>");
    };
    let Some(addrs) = admin.all_addrs_of_cluster(cluster).await? else {
        writeln!(out, "[error] {CLUSTER_ERROR_MESSAGE}")?;
        anyhow::bail!("cluster {cluster} not found");
    };
    for addr in addrs {
        // 4.8.0 reports a failing broker and carries on with the next one.
        if let Err(e) = print_stats(&admin, &addr, true, out).await {
            eprintln!("{addr}: {e:#}");
        }
    }
    Ok(())
}

async fn print_stats(
    admin: &AdminClient,
    addr: &str,
    with_broker: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let kv = admin.fetch_broker_runtime_stats(addr).await?;
    for (k, v) in kv.table {
        if with_broker {
            // Java: "%-24s %-32s: %s%n"
            writeln!(out, "{addr:<24} {k:<32}: {v}")?;
        } else {
            // Java: "%-32s: %s%n"
            writeln!(out, "{k:<32}: {v}")?;
        }
    }
    Ok(())
}
