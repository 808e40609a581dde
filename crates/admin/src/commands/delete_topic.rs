//! `mqadmin deleteTopic -t <topic> -c <cluster>`: remove a topic from every broker
//! (masters and slaves) of a cluster, then from every name server.
//!
//! DELETE_TOPIC_IN_BROKER per broker, then DELETE_TOPIC_IN_NAMESRV per name server.
//! Book: Part II "Topics and queues".
//! Mirrors `org.apache.rocketmq.tools.command.topic.DeleteTopicSubCommand`.

use std::io::Write;

use crate::admin_client::AdminClient;
use crate::commands::{CommonArgs, CLUSTER_ERROR_MESSAGE};

/// `deleteTopic`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// topic name
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
    /// delete topic from which cluster
    #[arg(short = 'c', long = "clusterName", value_name = "arg")]
    pub cluster_name: String,
}

/// Runs `deleteTopic` and prints what 4.8.0's `DeleteTopicSubCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    delete_in_cluster(&admin, args.cluster_name.trim(), args.topic.trim(), out).await
}

/// `DeleteTopicSubCommand.deleteTopic`: the topic off every broker (masters and slaves) of
/// `cluster`, then off every name server; `deleteSubGroup -c` reuses it for a group's retry and
/// dead-letter topics.
pub async fn delete_in_cluster(
    admin: &AdminClient,
    cluster: &str,
    topic: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let Some(addrs) = admin.all_addrs_of_cluster(cluster).await? else {
        writeln!(out, "[error] {CLUSTER_ERROR_MESSAGE}")?;
        anyhow::bail!("cluster {cluster} not found");
    };
    for addr in &addrs {
        admin.delete_topic_in_broker(addr, topic).await?;
    }
    writeln!(
        out,
        "delete topic [{topic}] from cluster [{cluster}] success."
    )?;
    for addr in admin.namesrv_addrs() {
        admin.delete_topic_in_namesrv(addr, topic).await?;
    }
    writeln!(out, "delete topic [{topic}] from NameServer success.")?;
    Ok(())
}
