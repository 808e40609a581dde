//! `mqadmin clusterAclConfigVersion (-b <broker> | -c <cluster>)`: the ACL configuration
//! version of each broker (GET_BROKER_CLUSTER_ACL_INFO, code 52), one row per broker.
//! Book: Part II, "Who may do what: ACL".
//! Mirrors `org.apache.rocketmq.tools.command.acl.ClusterAclConfigVersionListSubCommand`.

use std::io::Write;

use crate::acl_calls::{AclTarget, ClusterAclVersionInfo};
use crate::admin_client::AdminClient;
use crate::commands::CommonArgs;

/// `clusterAclConfigVersion`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `-b` or `-c`.
    #[command(flatten)]
    pub target: AclTarget,
}

/// One row: `%-16s  %-22s  %-22s  %-20s  %-22s` (the time as `yyyy-MM-dd HH:mm:ss`, local).
pub fn row(i: &ClusterAclVersionInfo) -> String {
    let time = chrono::DateTime::from_timestamp_millis(i.version.timestamp)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default();
    format!(
        "{:<16}  {:<22}  {:<22}  {:<20}  {:<22}",
        i.cluster_name, i.broker_name, i.broker_addr, i.version.counter, time
    )
}

async fn print(admin: &AdminClient, addr: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let info = admin.examine_broker_cluster_acl_version_info(addr).await?;
    writeln!(out, "{}", row(&info))?;
    Ok(())
}

/// Runs `clusterAclConfigVersion` and prints what 4.8.0's command prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let result = async {
        if let Some(b) = &args.target.broker_addr {
            print(&admin, b.trim(), out).await?;
            writeln!(out, "get broker's plain access config version success.")?;
            return anyhow::Ok(());
        }
        let targets = args.target.addrs(&admin).await?;
        writeln!(
            out,
            "{:<16}  {:<22}  {:<22}  {:<20}  {:<22}",
            "#Cluster Name",
            "#Broker Name",
            "#Broker Addr",
            "#AclConfigVersionNum",
            "#AclLastUpdateTime"
        )?;
        for addr in targets {
            print(&admin, &addr, out).await?;
        }
        writeln!(out, "get cluster's plain access config version success.")?;
        Ok(())
    }
    .await;
    admin.shutdown();
    result
}
