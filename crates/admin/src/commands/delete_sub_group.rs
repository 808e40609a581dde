//! `mqadmin deleteSubGroup -g <group> (-b <addr> | -c <cluster>)`: delete a consumer group's
//! configuration from one broker, or from every master of a cluster together with the group's
//! retry (`%RETRY%<group>`) and dead-letter (`%DLQ%<group>`) topics.
//!
//! DELETE_SUBSCRIPTIONGROUP per broker; with `-c`, then the two topics as `deleteTopic` removes
//! them. The group's committed offsets stay on the brokers (4.8.0 has no flag to clean them).
//! Without `-b` or `-c` it prints its usage, as 4.8.0 does.
//! Book: Part III "Operating a cluster with mqadmin".
//! Mirrors `org.apache.rocketmq.tools.command.consumer.DeleteSubscriptionGroupCommand`.

use std::io::Write;

use crate::admin_client::{DLQ_GROUP_TOPIC_PREFIX, RETRY_GROUP_TOPIC_PREFIX};
use crate::commands::flags::BrokerOrCluster;
use crate::commands::{delete_topic, print_usage, CommonArgs, CLUSTER_ERROR_MESSAGE};

/// `deleteSubGroup`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `-b` or `-c`: where to delete the group.
    #[command(flatten)]
    pub target: BrokerOrCluster,
    /// subscription group name
    #[arg(short = 'g', long = "groupName", value_name = "arg")]
    pub group_name: String,
}

/// Runs `deleteSubGroup` and prints what 4.8.0's `DeleteSubscriptionGroupCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let group = args.group_name.trim();
    if let Some(addr) = args.target.broker() {
        let admin = args.common.admin().await?;
        admin.delete_subscription_group(addr, group).await?;
        writeln!(
            out,
            "delete subscription group [{group}] from broker [{addr}] success."
        )?;
        return Ok(());
    }
    let Some(cluster) = args.target.cluster() else {
        return print_usage("deleteSubGroup", out);
    };
    let admin = args.common.admin().await?;
    let Some(masters) = admin.master_addrs_of_cluster(cluster).await? else {
        writeln!(out, "[error] {CLUSTER_ERROR_MESSAGE}")?;
        anyhow::bail!("cluster {cluster} not found");
    };
    for master in &masters {
        admin.delete_subscription_group(master, group).await?;
        writeln!(
            out,
            "delete subscription group [{group}] from broker [{master}] in cluster [{cluster}] success."
        )?;
    }
    // 4.8.0 reports a failure to delete the two topics and still succeeds.
    for prefix in [RETRY_GROUP_TOPIC_PREFIX, DLQ_GROUP_TOPIC_PREFIX] {
        let topic = format!("{prefix}{group}");
        if let Err(e) = delete_topic::delete_in_cluster(&admin, cluster, &topic, out).await {
            eprintln!("deleting topic {topic} failed: {e:#}");
        }
    }
    Ok(())
}
