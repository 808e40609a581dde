//! `mqadmin updateTopicPerm -t <topic> -p <perm> (-b <addr> | -c <cluster>)`: change a
//! topic's permission (2 write only, 4 read only, 6 read and write) on one master or on every
//! master of a cluster, keeping its queue counts.
//!
//! The topic's route gives the current queue counts and permission; then
//! UPDATE_AND_CREATE_TOPIC with the new permission. A broker registers the change with the
//! name servers at once, so producers and consumers see it at their next route refresh.
//! Book: Part III "Operating a cluster with mqadmin" (permissions).
//! Mirrors `org.apache.rocketmq.tools.command.topic.UpdateTopicPermSubCommand`.

use std::io::Write;

use rmq_remoting::protocol::TopicConfig;

use crate::commands::flags::BrokerOrCluster;
use crate::commands::flags::NsTopic;
use crate::commands::{print_usage, CLUSTER_ERROR_MESSAGE};
use crate::format::topic_config_string;

/// `updateTopicPerm`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` and `-t`.
    #[command(flatten)]
    pub topic: NsTopic,
    /// `-b` or `-c`: where to change the topic.
    #[command(flatten)]
    pub target: BrokerOrCluster,
    /// set topic's permission(2|4|6), intro[2:W; 4:R; 6:RW]
    #[arg(short = 'p', long = "perm", value_name = "arg")]
    pub perm: String,
}

/// Runs `updateTopicPerm` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let topic = args.topic.topic();
    let admin = args.topic.common.admin().await?;
    let route = admin.examine_topic_route_info(topic).await?;
    let Some(first) = route.queue_datas.first() else {
        anyhow::bail!("the route of topic {topic} has no queues");
    };
    let perm: i32 = args
        .perm
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("For input string: \"{}\"", args.perm.trim()))?;
    let mut tc = TopicConfig::new(topic);
    tc.write_queue_nums = first.write_queue_nums;
    tc.read_queue_nums = first.read_queue_nums;
    tc.topic_sys_flag = first.topic_syn_flag;
    tc.perm = perm;
    // ANCHOR: topic_perm_broker
    if let Some(addr) = args.target.broker() {
        // Only a master named in the route may be changed.
        let broker_name = route
            .broker_datas
            .iter()
            .find_map(|bd| (bd.master_addr() == Some(addr)).then(|| bd.broker_name.clone()));
        let Some(broker_name) = broker_name else {
            writeln!(
                out,
                "updateTopicPerm error broker not exit or broker is not master!."
            )?;
            return Ok(());
        };
        let old = route
            .queue_datas
            .iter()
            .find(|q| q.broker_name == broker_name)
            .map(|q| q.perm)
            .unwrap_or(0);
        if old == perm {
            writeln!(out, "new perm equals to the old one!")?;
            return Ok(());
        }
        admin.create_and_update_topic_config(addr, &tc).await?;
        writeln!(
            out,
            "update topic perm from {old} to {perm} in {addr} success."
        )?;
        writeln!(out, "{}.", topic_config_string(&tc))?;
        return Ok(());
    }
    // ANCHOR_END: topic_perm_broker
    let Some(cluster) = args.target.cluster() else {
        return print_usage("updateTopicPerm", out);
    };
    let Some(masters) = admin.master_addrs_of_cluster(cluster).await? else {
        writeln!(out, "[error] {CLUSTER_ERROR_MESSAGE}")?;
        anyhow::bail!("cluster {cluster} not found");
    };
    for addr in &masters {
        admin.create_and_update_topic_config(addr, &tc).await?;
        writeln!(
            out,
            "update topic perm from {} to {perm} in {addr} success.",
            first.perm
        )?;
    }
    Ok(())
}
