//! `mqadmin cleanExpiredCQ [-b <addr> | -c <cluster>]` and `mqadmin cleanUnusedTopic [-b
//! <addr> | -c <cluster>]`: have brokers delete consume queues that point at nothing, those
//! whose messages retention already deleted, or those of topics the broker no longer has.
//!
//! CLEAN_EXPIRED_CONSUMEQUEUE / CLEAN_UNUSED_TOPIC to the broker of `-b`, else to every broker
//! (masters and slaves) of the cluster of `-c`, else of every cluster. Prints `success` or
//! `false`, without a line break, as 4.8.0.
//! Book: Part III "Operating a cluster with mqadmin" (cleanup).
//! Mirrors `org.apache.rocketmq.tools.command.broker.CleanExpiredCQSubCommand` and
//! `CleanUnusedTopicCommand`.
//!
//! Deviation: `cleanUnusedTopic -c` cleans the cluster's brokers; 4.8.0 passes the cluster
//! name where an address belongs (`cleanUnusedTopicByAddr(cluster)`) and fails to connect.

use std::io::Write;

use crate::admin_client::AdminClient;
use crate::commands::CommonArgs;

/// `-b brokerAddr` / `-c cluster` (these two commands spell the long cluster option
/// `cluster`, not `clusterName`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Target {
    /// Broker address
    #[arg(short = 'b', long = "brokerAddr", value_name = "arg")]
    pub broker_addr: Option<String>,
    /// cluster name
    #[arg(short = 'c', long = "cluster", value_name = "arg")]
    pub cluster: Option<String>,
}

/// The options of both commands.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `-b` or `-c`.
    #[command(flatten)]
    pub target: Target,
}

/// Which cleanup to run.
#[derive(Debug, Clone, Copy)]
pub enum Cleanup {
    /// CLEAN_EXPIRED_CONSUMEQUEUE.
    ExpiredConsumeQueues,
    /// CLEAN_UNUSED_TOPIC.
    UnusedTopics,
}

async fn clean_one(admin: &AdminClient, addr: &str, what: Cleanup) -> anyhow::Result<bool> {
    Ok(match what {
        Cleanup::ExpiredConsumeQueues => admin.clean_expired_consume_queue(addr).await?,
        Cleanup::UnusedTopics => admin.clean_unused_topic(addr).await?,
    })
}

/// Runs either cleanup and prints `success` or `false`. Like 4.8.0 the result is that of the
/// last broker asked.
pub async fn run(args: Args, what: Cleanup, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let mut result = false;
    if let Some(addr) = args.target.broker_addr.as_deref().map(str::trim) {
        result = clean_one(&admin, addr, what).await?;
    } else {
        let cluster = args
            .target
            .cluster
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        for addr in admin.broker_addrs(cluster).await? {
            result = clean_one(&admin, &addr, what).await?;
        }
    }
    writeln!(out, "{}", if result { "success" } else { "false" })?;
    Ok(())
}

/// `cleanExpiredCQ`.
pub async fn run_expired(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    run(args, Cleanup::ExpiredConsumeQueues, out).await
}

/// `cleanUnusedTopic`.
pub async fn run_unused(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    run(args, Cleanup::UnusedTopics, out).await
}
