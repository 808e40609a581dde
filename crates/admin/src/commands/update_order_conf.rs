//! `mqadmin updateOrderConf -t <topic> -m (get|put|delete) [-v <brokerName:num;...>]`: read,
//! set or remove a topic's ordered-queue layout, the ORDER_TOPIC_CONFIG item that producers
//! and consumers of a globally ordered topic take their queues from.
//!
//! GET_KV_CONFIG, PUT_KV_CONFIG (to every name server) or DELETE_KV_CONFIG in namespace
//! `ORDER_TOPIC_CONFIG`. Any other `-m` prints the usage, as 4.8.0.
//! Book: Part III "Operating a cluster with mqadmin" (configuration).
//! Mirrors `org.apache.rocketmq.tools.command.topic.UpdateOrderConfCommand`.

use std::io::Write;

use crate::admin_client::NAMESPACE_ORDER_TOPIC_CONFIG;
use crate::commands::flags::NsTopic;
use crate::commands::print_usage;

/// `updateOrderConf`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` and `-t`.
    #[command(flatten)]
    pub target: NsTopic,
    /// set order conf [eg. brokerName1:num;brokerName2:num]
    #[arg(short = 'v', long = "orderConf", value_name = "arg")]
    pub order_conf: Option<String>,
    /// option type [eg. put|get|delete
    #[arg(short = 'm', long = "method", value_name = "arg")]
    pub method: String,
}

/// Runs `updateOrderConf` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let topic = args.target.topic();
    match args.method.trim() {
        "get" => {
            let admin = args.target.common.admin().await?;
            let conf = admin
                .get_kv_config(NAMESPACE_ORDER_TOPIC_CONFIG, topic)
                .await?;
            let Some(conf) = conf else {
                anyhow::bail!("CODE: 22  DESC: No config item, Namespace: {NAMESPACE_ORDER_TOPIC_CONFIG} Key: {topic}");
            };
            writeln!(
                out,
                "get orderConf success. topic=[{topic}], orderConf=[{conf}] "
            )?;
        }
        "put" => {
            let conf = args.order_conf.as_deref().map(str::trim).unwrap_or("");
            if conf.is_empty() {
                anyhow::bail!("please set orderConf with option -v.");
            }
            let admin = args.target.common.admin().await?;
            admin.create_or_update_order_conf(topic, conf, true).await?;
            writeln!(
                out,
                "update orderConf success. topic=[{topic}], orderConf=[{conf}]"
            )?;
        }
        "delete" => {
            let admin = args.target.common.admin().await?;
            admin
                .delete_kv_config(NAMESPACE_ORDER_TOPIC_CONFIG, topic)
                .await?;
            writeln!(out, "delete orderConf success. topic=[{topic}]")?;
        }
        _ => print_usage("updateOrderConf", out)?,
    }
    Ok(())
}
