//! `mqadmin updateSubGroup -g <group> (-b <addr> | -c <cluster>)`: create or change
//! a consumer group's settings (consume enable, broadcast, retry queues and times,
//! which broker to read from).
//!
//! UPDATE_AND_CREATE_SUBSCRIPTIONGROUP with a SubscriptionGroupConfig JSON body.
//! Book: Part II "Consuming" (groups and retry).
//! Mirrors `org.apache.rocketmq.tools.command.consumer.UpdateSubGroupSubCommand`.

use std::io::Write;

use rmq_remoting::protocol::SubscriptionGroupConfig;

use crate::commands::{java_bool, CommonArgs, CLUSTER_ERROR_MESSAGE};
use crate::format::subscription_group_string;

/// `updateSubGroup`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// create subscription group to which broker
    #[arg(short = 'b', long = "brokerAddr", value_name = "arg")]
    pub broker_addr: Option<String>,
    /// create subscription group to which cluster
    #[arg(short = 'c', long = "clusterName", value_name = "arg")]
    pub cluster_name: Option<String>,
    /// consumer group name
    #[arg(short = 'g', long = "groupName", value_name = "arg")]
    pub group_name: String,
    /// consume enable
    #[arg(short = 's', long = "consumeEnable", value_name = "arg")]
    pub consume_enable: Option<String>,
    /// from min offset
    #[arg(short = 'm', long = "consumeFromMinEnable", value_name = "arg")]
    pub consume_from_min_enable: Option<String>,
    /// broadcast
    #[arg(short = 'd', long = "consumeBroadcastEnable", value_name = "arg")]
    pub consume_broadcast_enable: Option<String>,
    /// retry queue nums
    #[arg(short = 'q', long = "retryQueueNums", value_name = "arg")]
    pub retry_queue_nums: Option<i32>,
    /// retry max times
    #[arg(short = 'r', long = "retryMaxTimes", value_name = "arg")]
    pub retry_max_times: Option<i32>,
    /// consumer from which broker id
    #[arg(short = 'i', long = "brokerId", value_name = "arg")]
    pub broker_id: Option<i64>,
    /// which broker id when consume slowly
    #[arg(short = 'w', long = "whichBrokerWhenConsumeSlowly", value_name = "arg")]
    pub which_broker_when_consume_slowly: Option<i64>,
    /// notify consumerId changed
    #[arg(short = 'a', long = "notifyConsumerIdsChanged", value_name = "arg")]
    pub notify_consumer_ids_changed: Option<String>,
}

/// The config the flags describe; note 4.8.0 turns broadcast and from-min off
/// unless asked for, unlike the class defaults.
pub fn group_config(args: &Args) -> SubscriptionGroupConfig {
    let mut c = SubscriptionGroupConfig {
        group_name: args.group_name.trim().to_string(),
        consume_broadcast_enable: false,
        consume_from_min_enable: false,
        ..Default::default()
    };
    if let Some(v) = &args.consume_enable {
        c.consume_enable = java_bool(v);
    }
    if let Some(v) = &args.consume_from_min_enable {
        c.consume_from_min_enable = java_bool(v);
    }
    if let Some(v) = &args.consume_broadcast_enable {
        c.consume_broadcast_enable = java_bool(v);
    }
    if let Some(v) = args.retry_queue_nums {
        c.retry_queue_nums = v;
    }
    if let Some(v) = args.retry_max_times {
        c.retry_max_times = v;
    }
    if let Some(v) = args.broker_id {
        c.broker_id = v;
    }
    if let Some(v) = args.which_broker_when_consume_slowly {
        c.which_broker_when_consume_slowly = v;
    }
    if let Some(v) = &args.notify_consumer_ids_changed {
        c.notify_consumer_ids_changed_enable = java_bool(v);
    }
    c
}

/// Runs `updateSubGroup` and prints what 4.8.0's `UpdateSubGroupSubCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let config = group_config(&args);
    if let Some(addr) = args.broker_addr.as_deref().map(str::trim) {
        admin
            .create_and_update_subscription_group_config(addr, &config)
            .await?;
        writeln!(out, "create subscription group to {addr} success.")?;
        writeln!(out, "{}", subscription_group_string(&config))?;
        return Ok(());
    }
    let Some(cluster) = args.cluster_name.as_deref().map(str::trim) else {
        anyhow::bail!("updateSubGroup needs -b <brokerAddr> or -c <clusterName>");
    };
    let Some(masters) = admin.master_addrs_of_cluster(cluster).await? else {
        writeln!(out, "[error] {CLUSTER_ERROR_MESSAGE}")?;
        anyhow::bail!("cluster {cluster} not found");
    };
    let mut failed = 0;
    for addr in &masters {
        // 4.8.0 reports a failing master and carries on with the others.
        match admin
            .create_and_update_subscription_group_config(addr, &config)
            .await
        {
            Ok(()) => writeln!(out, "create subscription group to {addr} success.")?,
            Err(e) => {
                failed += 1;
                eprintln!("create subscription group to {addr} failed: {e}");
            }
        }
    }
    writeln!(out, "{}", subscription_group_string(&config))?;
    if failed > 0 {
        anyhow::bail!("{failed} of {} masters failed", masters.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn defaults_match_4_8_0() {
        let a = Args::parse_from(["x", "-g", "G", "-b", "a:1", "-q", "2", "-a", "false"]);
        let c = group_config(&a);
        assert_eq!(
            subscription_group_string(&c),
            "SubscriptionGroupConfig [groupName=G, consumeEnable=true, consumeFromMinEnable=false, consumeBroadcastEnable=false, retryQueueNums=2, retryMaxTimes=16, brokerId=0, whichBrokerWhenConsumeSlowly=1, notifyConsumerIdsChangedEnable=false]"
        );
    }
}
