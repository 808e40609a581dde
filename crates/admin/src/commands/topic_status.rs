//! `mqadmin topicStatus -t <topic>`: min/max offset and last update time of every
//! queue of a topic on every broker.
//!
//! GET_ROUTEINFO_BY_TOPIC, then GET_TOPIC_STATS_INFO per broker.
//! Book: Part II "Topics and queues" (read/write queue counts, Try it).
//! Mirrors `org.apache.rocketmq.tools.command.topic.TopicStatusSubCommand`.

use std::io::Write;

use crate::commands::CommonArgs;
use crate::format::{front_string_at_least, time_millis_to_human_string2};

/// `topicStatus`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// topic name
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
}

/// Runs `topicStatus` and prints what 4.8.0's `TopicStatusSubCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let stats = admin.examine_topic_stats(args.topic.trim()).await?;
    let mut rows = stats.offset_table.0;
    // MessageQueue orders as Java's compareTo: topic, broker name, queue id.
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    // Java: "%-32s  %-4s  %-20s  %-20s    %s%n"
    writeln!(
        out,
        "{:<32}  {:<4}  {:<20}  {:<20}    {}",
        "#Broker Name", "#QID", "#Min Offset", "#Max Offset", "#Last Updated"
    )?;
    for (mq, off) in rows {
        let human = if off.last_update_timestamp > 0 {
            time_millis_to_human_string2(off.last_update_timestamp)
        } else {
            String::new()
        };
        // Java: "%-32s  %-4d  %-20d  %-20d    %s%n"
        writeln!(
            out,
            "{:<32}  {:<4}  {:<20}  {:<20}    {}",
            front_string_at_least(&mq.broker_name, 32),
            mq.queue_id,
            off.min_offset,
            off.max_offset,
            human
        )?;
    }
    Ok(())
}
