//! `mqadmin topicList`: every topic the name servers know, or with `-c` one row
//! per (cluster, topic, consumer group).
//!
//! GET_ALL_TOPIC_LIST_FROM_NAMESERVER; `-c` adds the cluster map, each topic's
//! route and QUERY_TOPIC_CONSUME_BY_WHO. Book: Part III "Name server" (Try it).
//! Mirrors `org.apache.rocketmq.tools.command.topic.TopicListSubCommand`.

use std::io::Write;

use rmq_remoting::protocol::ClusterInfo;

use crate::admin_client::{AdminClient, DLQ_GROUP_TOPIC_PREFIX, RETRY_GROUP_TOPIC_PREFIX};
use crate::commands::CommonArgs;
use crate::format::front_string_at_least;

/// `topicList`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// clusterModel
    #[arg(short = 'c', long = "clusterModel")]
    pub cluster_model: bool,
}

/// Runs `topicList` and prints what 4.8.0's `TopicListSubCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    if !args.cluster_model {
        for topic in admin.fetch_all_topic_list().await?.topic_list {
            writeln!(out, "{topic}")?;
        }
        return Ok(());
    }
    let info = admin.examine_broker_cluster_info().await?;
    // Java: "%-20s  %-48s  %-48s%n"
    writeln!(
        out,
        "{:<20}  {:<48}  {:<48}",
        "#Cluster Name", "#Topic", "#Consumer Group"
    )?;
    for topic in admin.fetch_all_topic_list().await?.topic_list {
        if topic.starts_with(RETRY_GROUP_TOPIC_PREFIX) || topic.starts_with(DLQ_GROUP_TOPIC_PREFIX)
        {
            continue;
        }
        let (cluster, mut groups) = match cluster_of(&admin, &info, &topic).await {
            Ok(cluster) => {
                let groups = admin
                    .query_topic_consume_by_who(&topic)
                    .await
                    .map(|g| g.into_iter().collect::<Vec<_>>())
                    .unwrap_or_default();
                (cluster, groups)
            }
            Err(_) => (String::new(), Vec::new()),
        };
        if groups.is_empty() {
            groups.push(String::new());
        }
        for group in groups {
            writeln!(
                out,
                "{:<20}  {:<48}  {:<48}",
                front_string_at_least(&cluster, 20),
                front_string_at_least(&topic, 48),
                front_string_at_least(&group, 48)
            )?;
        }
    }
    Ok(())
}

/// The cluster holding the first broker of the topic's route ("null" when none
/// does, which is what 4.8.0 prints for its null).
async fn cluster_of(
    admin: &AdminClient,
    info: &ClusterInfo,
    topic: &str,
) -> anyhow::Result<String> {
    let route = admin.examine_topic_route_info(topic).await?;
    let first = route
        .broker_datas
        .first()
        .ok_or_else(|| anyhow::anyhow!("empty route"))?;
    Ok(info
        .cluster_addr_table
        .iter()
        .find(|(_, names)| names.contains(&first.broker_name))
        .map(|(c, _)| c.clone())
        .unwrap_or_else(|| "null".to_string()))
}
