//! `mqadmin cloneGroupOffset -s <srcGroup> -d <destGroup> -t <topic> [-o <offline>]`: give a
//! new consumer group a starting point taken from an existing one.
//!
//! As 4.8.0's command does it: the source group's consume stats name its queues; for each, the
//! destination group's offset is set (UPDATE_CONSUMER_OFFSET on the broker that `-t`'s route
//! names for the queue's broker) to the queue's *broker* offset, its end. So the new group
//! starts after everything already stored, not where the source group stands. (The broker's
//! CLONE_GROUP_OFFSET request, which copies the source group's own offsets, is not what 4.8.0's
//! command sends.)
//! Book: Part III "Operating a cluster with mqadmin" (offsets).
//! Mirrors `org.apache.rocketmq.tools.command.offset.CloneGroupOffsetCommand`.

use std::io::Write;

use crate::commands::CommonArgs;

/// `cloneGroupOffset`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// set source consumer group
    #[arg(short = 's', long = "srcGroup", value_name = "arg")]
    pub src_group: String,
    /// set destination consumer group
    #[arg(short = 'd', long = "destGroup", value_name = "arg")]
    pub dest_group: String,
    /// set the topic
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
    /// the group or the topic is offline
    #[arg(short = 'o', long = "offline", value_name = "arg")]
    pub offline: Option<String>,
}

/// Runs `cloneGroupOffset` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let (src, dest, topic) = (
        args.src_group.trim(),
        args.dest_group.trim(),
        args.topic.trim(),
    );
    let stats = admin.examine_consume_stats(src).await?;
    if !stats.offset_table.0.is_empty() {
        let route = admin.examine_topic_route_info(topic).await?;
        for (mq, ow) in &stats.offset_table.0 {
            let addr = route
                .broker_datas
                .iter()
                .find(|bd| bd.broker_name == mq.broker_name)
                .and_then(|bd| bd.select_broker_addr());
            let Some(addr) = addr else {
                anyhow::bail!(
                    "no address of broker {} in the route of {topic}",
                    mq.broker_name
                );
            };
            if ow.broker_offset >= 0 {
                admin
                    .update_consume_offset(addr, dest, mq, ow.broker_offset)
                    .await?;
            }
        }
    }
    writeln!(
        out,
        "clone group offset success. srcGroup[{src}], destGroup=[{dest}], topic[{topic}]"
    )?;
    Ok(())
}
