//! `mqadmin topicClusterList -t <topic>`: the clusters that hold a topic, one per line.
//!
//! The topic's route names its brokers; the cluster map says which cluster each belongs to.
//! Book: Part III "Operating a cluster with mqadmin".
//! Mirrors `org.apache.rocketmq.tools.command.topic.TopicClusterSubCommand`
//! (`DefaultMQAdminExtImpl.getTopicClusterList`).

use std::io::Write;

use crate::commands::flags::NsTopic;

/// `topicClusterList`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` and `-t`.
    #[command(flatten)]
    pub target: NsTopic,
}

/// Runs `topicClusterList` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.target.common.admin().await?;
    for cluster in admin.topic_cluster_list(args.target.topic()).await? {
        writeln!(out, "{cluster}")?;
    }
    Ok(())
}
