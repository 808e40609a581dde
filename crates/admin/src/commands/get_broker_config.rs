//! `mqadmin getBrokerConfig (-b <addr> | -c <cluster>)`: print a broker's effective settings,
//! or those of every master and slave of a cluster, one `key = value` line each.
//!
//! GET_BROKER_CONFIG; the body is the broker's properties text.
//! Book: Part III "Operating a cluster with mqadmin" (configuration).
//! Mirrors `org.apache.rocketmq.tools.command.broker.GetBrokerConfigCommand`.
//!
//! Deviation: the keys are printed sorted; 4.8.0 prints them in `java.util.Properties`
//! (hash table) order.

use std::io::Write;

use crate::admin_client::AdminClient;
use crate::commands::flags::BrokerOrCluster;
use crate::commands::{CommonArgs, CLUSTER_ERROR_MESSAGE};

/// `getBrokerConfig`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `-b` or `-c`: which brokers to read.
    #[command(flatten)]
    pub target: BrokerOrCluster,
}

async fn get_and_print(
    admin: &AdminClient,
    prefix: &str,
    addr: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    write!(out, "{prefix}")?;
    let props = admin.get_broker_config(addr).await?;
    if props.is_empty() {
        writeln!(out, "Broker[{addr}] has no config property!")?;
        return Ok(());
    }
    for (k, v) in &props {
        // Java: "%-50s=  %s\n"
        writeln!(out, "{k:<50}=  {v}")?;
    }
    writeln!(out)?;
    Ok(())
}

/// Runs `getBrokerConfig` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    if let Some(addr) = args.target.broker() {
        let admin = args.common.admin().await?;
        return get_and_print(
            &admin,
            &format!("============{addr}============\n"),
            addr,
            out,
        )
        .await;
    }
    let Some(cluster) = args.target.cluster() else {
        // 4.8.0 prints nothing at all here.
        return Ok(());
    };
    let admin = args.common.admin().await?;
    let Some(groups) = admin.masters_and_slaves_of_cluster(cluster).await? else {
        writeln!(out, "[error] {CLUSTER_ERROR_MESSAGE}")?;
        anyhow::bail!("cluster {cluster} not found");
    };
    for (master, slaves) in &groups {
        let prefix = format!("============Master: {master}============\n");
        get_and_print(&admin, &prefix, master, out).await?;
        for slave in slaves {
            let prefix =
                format!("============My Master: {master}=====Slave: {slave}============\n");
            get_and_print(&admin, &prefix, slave, out).await?;
        }
    }
    Ok(())
}
