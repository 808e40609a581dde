//! `mqadmin updateTopic`: create or change a topic on one broker (`-b`) or on every
//! master of a cluster (`-c`), with read/write queue counts, permission and the
//! order flag.
//!
//! UPDATE_AND_CREATE_TOPIC to each broker; with `-o true` also the
//! ORDER_TOPIC_CONFIG KV item on the name servers.
//! Book: Part II "Topics and queues" (read vs write queue counts).
//! Mirrors `org.apache.rocketmq.tools.command.topic.UpdateTopicSubCommand`.

use std::io::Write;

use rmq_remoting::protocol::TopicConfig;

use crate::commands::{java_bool, CommonArgs, CLUSTER_ERROR_MESSAGE};
use crate::format::topic_config_string;

/// `updateTopic`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["broker_addr", "cluster_name"])))]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// create topic to which broker
    #[arg(short = 'b', long = "brokerAddr", value_name = "arg")]
    pub broker_addr: Option<String>,
    /// create topic to which cluster
    #[arg(short = 'c', long = "clusterName", value_name = "arg")]
    pub cluster_name: Option<String>,
    /// topic name
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
    /// set read queue nums
    #[arg(short = 'r', long = "readQueueNums", value_name = "arg")]
    pub read_queue_nums: Option<i32>,
    /// set write queue nums
    #[arg(short = 'w', long = "writeQueueNums", value_name = "arg")]
    pub write_queue_nums: Option<i32>,
    /// set topic's permission(2|4|6), intro[2:W 4:R; 6:RW]
    #[arg(short = 'p', long = "perm", value_name = "arg")]
    pub perm: Option<i32>,
    /// set topic's order(true|false)
    #[arg(short = 'o', long = "order", value_name = "arg")]
    pub order: Option<String>,
    /// is unit topic (true|false)
    #[arg(short = 'u', long = "unit", value_name = "arg")]
    pub unit: Option<String>,
    /// has unit sub (true|false)
    #[arg(short = 's', long = "hasUnitSub", value_name = "arg")]
    pub has_unit_sub: Option<String>,
}

/// `TopicSysFlag.buildSysFlag(unit, hasUnitSub)`.
fn topic_sys_flag(unit: bool, has_unit_sub: bool) -> i32 {
    (unit as i32) | ((has_unit_sub as i32) << 1)
}

/// The TopicConfig the flags describe (8 read and 8 write queues by default).
pub fn topic_config(args: &Args) -> TopicConfig {
    let mut tc = TopicConfig::new(args.topic.trim());
    tc.read_queue_nums = args.read_queue_nums.unwrap_or(8);
    tc.write_queue_nums = args.write_queue_nums.unwrap_or(8);
    if let Some(p) = args.perm {
        tc.perm = p;
    }
    tc.topic_sys_flag = topic_sys_flag(
        args.unit.as_deref().is_some_and(java_bool),
        args.has_unit_sub.as_deref().is_some_and(java_bool),
    );
    tc.order = args.order.as_deref().is_some_and(java_bool);
    tc
}

// ANCHOR: update_topic_run
/// Runs `updateTopic` and prints what 4.8.0's `UpdateTopicSubCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let tc = topic_config(&args);
    if let Some(addr) = args.broker_addr.as_deref().map(str::trim) {
        admin.create_and_update_topic_config(addr, &tc).await?;
        if tc.order {
            let name = admin
                .broker_name_by_addr(addr)
                .await?
                .ok_or_else(|| anyhow::anyhow!(CLUSTER_ERROR_MESSAGE))?;
            let conf = format!("{name}:{}", tc.write_queue_nums);
            admin
                .create_or_update_order_conf(&tc.topic_name, &conf, false)
                .await?;
            write!(
                out,
                "set broker orderConf. isOrder={}, orderConf=[{conf}]",
                tc.order
            )?;
        }
        writeln!(out, "create topic to {addr} success.")?;
        writeln!(out, "{}", topic_config_string(&tc))?;
        return Ok(());
    }
    let cluster = args
        .cluster_name
        .as_deref()
        .map(str::trim)
        .unwrap_or_default();
    let Some(masters) = admin.master_addrs_of_cluster(cluster).await? else {
        writeln!(out, "[error] {CLUSTER_ERROR_MESSAGE}")?;
        anyhow::bail!("cluster {cluster} not found");
    };
    for addr in &masters {
        admin.create_and_update_topic_config(addr, &tc).await?;
        writeln!(out, "create topic to {addr} success.")?;
    }
    if tc.order {
        let names = admin
            .broker_names_of_cluster(cluster)
            .await?
            .unwrap_or_default();
        let conf = names
            .iter()
            .map(|n| format!("{n}:{}", tc.write_queue_nums))
            .collect::<Vec<_>>()
            .join(";");
        admin
            .create_or_update_order_conf(&tc.topic_name, &conf, true)
            .await?;
        write!(
            out,
            "set cluster orderConf. isOrder={}, orderConf=[{conf}]",
            tc.order
        )?;
    }
    writeln!(out, "{}", topic_config_string(&tc))?;
    Ok(())
}
// ANCHOR_END: update_topic_run

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn defaults_and_flags() {
        let a = Args::parse_from([
            "x", "-c", "C", "-t", " T ", "-u", "true", "-s", "TRUE", "-o", "yes",
        ]);
        let tc = topic_config(&a);
        assert_eq!(tc.topic_name, "T");
        assert_eq!(
            (tc.read_queue_nums, tc.write_queue_nums, tc.perm),
            (8, 8, 6)
        );
        assert_eq!(tc.topic_sys_flag, 3);
        assert!(
            !tc.order,
            "only \"true\" is true, like Boolean.parseBoolean"
        );
    }
}
