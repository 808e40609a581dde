//! The subcommand table and dispatcher of `mqadmin`.
//!
//! Every subcommand lives in its own file with a clap `Args` struct that uses
//! 4.8.0's short and long option names, and an async `run` that prints to the
//! given writer with 4.8.0's column layouts. `mqadmin` with no arguments lists the
//! table the way `MQAdminStartup.printHelp` does; names match case-insensitively.
//! Book: Part II "Topics and queues" ("Try it" uses these commands).
//! Mirrors `org.apache.rocketmq.tools.command.MQAdminStartup`, `SubCommand`,
//! `CommandUtil` and `srvutil.ServerUtil.buildCommandlineOptions` (-h, -n).

use std::io::Write;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches};

use rmq_client::{ClientConfig, ClientError};

use crate::admin_client::{AdminClient, AdminError, DEFAULT_TIMEOUT};

pub mod acl_config_version;
pub mod acl_delete_config;
pub mod acl_get_config;
pub mod acl_update_config;
pub mod acl_update_global_white;
pub mod allocate_mq;
pub mod broker_consume_stats;
pub mod broker_status;
pub mod clean_cq;
pub mod clone_group_offset;
pub mod cluster_list;
pub mod consume_message;
pub mod consumer_connection;
pub mod consumer_progress;
pub mod consumer_status;
pub mod delete_sub_group;
pub mod delete_topic;
pub mod flags;
pub mod get_broker_config;
pub mod kv_config;
pub mod namesrv_config;
pub mod print_msg;
pub mod print_msg_by_queue;
pub mod producer_connection;
pub mod query_cq;
pub mod query_msg_by_id;
pub mod query_msg_by_key;
pub mod query_msg_by_offset;
pub mod query_msg_by_unique_key;
pub mod query_msg_trace_by_id;
pub mod reset_offset_by_time;
pub mod send_message;
pub mod send_msg_status;
pub mod send_rt;
pub mod start_monitoring;
pub mod stats_all;
pub mod topic_cluster_list;
pub mod topic_list;
pub mod topic_route;
pub mod topic_status;
pub mod update_broker_config;
pub mod update_order_conf;
pub mod update_sub_group;
pub mod update_topic;
pub mod update_topic_perm;
pub mod wipe_write_perm;

/// `MixAll.NAMESRV_ADDR_ENV`: where 4.8.0 looks when `-n` is absent.
pub const NAMESRV_ADDR_ENV: &str = "NAMESRV_ADDR";

/// `CommandUtil.ERROR_MESSAGE`, printed when a cluster name is unknown.
pub const CLUSTER_ERROR_MESSAGE: &str =
    "Make sure the specified clusterName exists or the name server connected to is correct.";

/// The options every subcommand has (`ServerUtil.buildCommandlineOptions`; clap
/// supplies -h/--help).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CommonArgs {
    /// Name server address list, eg: 192.168.0.1:9876;192.168.0.2:9876
    #[arg(short = 'n', long = "namesrvAddr", value_name = "arg")]
    pub namesrv_addr: Option<String>,
}

impl CommonArgs {
    /// `-n`, else `$NAMESRV_ADDR`.
    pub fn namesrv(&self) -> Option<String> {
        self.namesrv_addr
            .clone()
            .or_else(|| std::env::var(NAMESRV_ADDR_ENV).ok())
            .filter(|s| !s.trim().is_empty())
    }

    /// An admin client for the chosen name servers.
    pub async fn admin(&self) -> anyhow::Result<AdminClient> {
        let addrs = self.namesrv().unwrap_or_default();
        let credentials = crate::acl_calls::tools_credentials()?;
        Ok(AdminClient::start_with_credentials(&addrs, DEFAULT_TIMEOUT, credentials).await?)
    }

    /// The rmq-client settings for a producer or consumer these options point at
    /// (`-n`, else `$NAMESRV_ADDR`), named after the current time as 4.8.0's commands
    /// name theirs.
    pub fn client_config(&self) -> anyhow::Result<ClientConfig> {
        let mut config = ClientConfig::new(self.namesrv().unwrap_or_default());
        if config.namesrv_list().is_empty() {
            return Err(AdminError::NoNameServer.into());
        }
        config.instance_name = Some(rmq_client::util::now_ms().to_string());
        config.credentials = crate::acl_calls::tools_credentials()?;
        Ok(config)
    }
}

/// One row of the command table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubCommandInfo {
    /// The name typed after `mqadmin` (matched ignoring case).
    pub name: &'static str,
    /// The one-line description `mqadmin` lists.
    pub desc: &'static str,
    /// The 4.8.0 class name, used in "... command failed" messages.
    pub class: &'static str,
}

/// Our subcommands, in the order `MQAdminStartup.initCommand` registers them.
pub const SUB_COMMANDS: &[SubCommandInfo] = &[
    SubCommandInfo {
        name: "updateTopic",
        desc: "Update or create topic",
        class: "UpdateTopicSubCommand",
    },
    SubCommandInfo {
        name: "deleteTopic",
        desc: "Delete topic from broker and NameServer.",
        class: "DeleteTopicSubCommand",
    },
    SubCommandInfo {
        name: "updateSubGroup",
        desc: "Update or create subscription group",
        class: "UpdateSubGroupSubCommand",
    },
    SubCommandInfo {
        name: "deleteSubGroup",
        desc: "Delete subscription group from broker.",
        class: "DeleteSubscriptionGroupCommand",
    },
    SubCommandInfo {
        name: "updateBrokerConfig",
        desc: "Update broker's config",
        class: "UpdateBrokerConfigSubCommand",
    },
    SubCommandInfo {
        name: "updateTopicPerm",
        desc: "Update topic perm",
        class: "UpdateTopicPermSubCommand",
    },
    SubCommandInfo {
        name: "topicRoute",
        desc: "Examine topic route info",
        class: "TopicRouteSubCommand",
    },
    SubCommandInfo {
        name: "topicStatus",
        desc: "Examine topic Status info",
        class: "TopicStatusSubCommand",
    },
    SubCommandInfo {
        name: "topicClusterList",
        desc: "get cluster info for topic",
        class: "TopicClusterSubCommand",
    },
    SubCommandInfo {
        name: "brokerStatus",
        desc: "Fetch broker runtime status data",
        class: "BrokerStatusSubCommand",
    },
    SubCommandInfo {
        name: "queryMsgById",
        desc: "Query Message by Id",
        class: "QueryMsgByIdSubCommand",
    },
    SubCommandInfo {
        name: "queryMsgByKey",
        desc: "Query Message by Key",
        class: "QueryMsgByKeySubCommand",
    },
    SubCommandInfo {
        name: "queryMsgByUniqueKey",
        desc: "Query Message by Unique key",
        class: "QueryMsgByUniqueKeySubCommand",
    },
    SubCommandInfo {
        name: "queryMsgByOffset",
        desc: "Query Message by offset",
        class: "QueryMsgByOffsetSubCommand",
    },
    SubCommandInfo {
        name: "QueryMsgTraceById",
        desc: "query a message trace",
        class: "QueryMsgTraceByIdSubCommand",
    },
    SubCommandInfo {
        name: "printMsg",
        desc: "Print Message Detail",
        class: "PrintMessageSubCommand",
    },
    SubCommandInfo {
        name: "printMsgByQueue",
        desc: "Print Message Detail",
        class: "PrintMessageByQueueCommand",
    },
    SubCommandInfo {
        name: "sendMsgStatus",
        desc: "send msg to broker.",
        class: "SendMsgStatusCommand",
    },
    SubCommandInfo {
        name: "brokerConsumeStats",
        desc: "Fetch broker consume stats data",
        class: "BrokerConsumeStatsSubCommad",
    },
    SubCommandInfo {
        name: "producerConnection",
        desc: "Query producer's socket connection and client version",
        class: "ProducerConnectionSubCommand",
    },
    SubCommandInfo {
        name: "consumerConnection",
        desc: "Query consumer's socket connection, client version and subscription",
        class: "ConsumerConnectionSubCommand",
    },
    SubCommandInfo {
        name: "consumerProgress",
        desc: "Query consumers's progress, speed",
        class: "ConsumerProgressSubCommand",
    },
    SubCommandInfo {
        name: "consumerStatus",
        desc: "Query consumer's internal data structure",
        class: "ConsumerStatusSubCommand",
    },
    SubCommandInfo {
        name: "cloneGroupOffset",
        desc: "clone offset from other group.",
        class: "CloneGroupOffsetCommand",
    },
    SubCommandInfo {
        name: "clusterList",
        desc: "List all of clusters",
        class: "ClusterListSubCommand",
    },
    SubCommandInfo {
        name: "topicList",
        desc: "Fetch all topic list from name server",
        class: "TopicListSubCommand",
    },
    SubCommandInfo {
        name: "updateKvConfig",
        desc: "Create or update KV config.",
        class: "UpdateKvConfigCommand",
    },
    SubCommandInfo {
        name: "deleteKvConfig",
        desc: "Delete KV config.",
        class: "DeleteKvConfigCommand",
    },
    SubCommandInfo {
        name: "wipeWritePerm",
        desc: "Wipe write perm of broker in all name server",
        class: "WipeWritePermSubCommand",
    },
    SubCommandInfo {
        name: "resetOffsetByTime",
        desc: "Reset consumer offset by timestamp(without client restart).",
        class: "ResetOffsetByTimeCommand",
    },
    SubCommandInfo {
        name: "updateOrderConf",
        desc: "Create or update or delete order conf",
        class: "UpdateOrderConfCommand",
    },
    SubCommandInfo {
        name: "cleanExpiredCQ",
        desc: "Clean expired ConsumeQueue on broker.",
        class: "CleanExpiredCQSubCommand",
    },
    SubCommandInfo {
        name: "cleanUnusedTopic",
        desc: "Clean unused topic on broker.",
        class: "CleanUnusedTopicCommand",
    },
    SubCommandInfo {
        name: "startMonitoring",
        desc: "Start Monitoring",
        class: "StartMonitoringSubCommand",
    },
    SubCommandInfo {
        name: "statsAll",
        desc: "Topic and Consumer tps stats",
        class: "StatsAllSubCommand",
    },
    SubCommandInfo {
        name: "allocateMQ",
        desc: "Allocate MQ",
        class: "AllocateMQSubCommand",
    },
    SubCommandInfo {
        name: "checkMsgSendRT",
        desc: "check message send response time",
        class: "CheckMsgSendRTCommand",
    },
    SubCommandInfo {
        name: "clusterRT",
        desc: "List All clusters Message Send RT",
        class: "CLusterSendMsgRTCommand",
    },
    SubCommandInfo {
        name: "getNamesrvConfig",
        desc: "Get configs of name server.",
        class: "GetNamesrvConfigCommand",
    },
    SubCommandInfo {
        name: "updateNamesrvConfig",
        desc: "Update configs of name server.",
        class: "UpdateNamesrvConfigCommand",
    },
    SubCommandInfo {
        name: "getBrokerConfig",
        desc: "Get broker config by cluster or special broker!",
        class: "GetBrokerConfigCommand",
    },
    SubCommandInfo {
        name: "queryCq",
        desc: "Query cq command.",
        class: "QueryConsumeQueueCommand",
    },
    SubCommandInfo {
        name: "sendMessage",
        desc: "Send a message",
        class: "SendMessageCommand",
    },
    SubCommandInfo {
        name: "consumeMessage",
        desc: "Consume message",
        class: "ConsumeMessageCommand",
    },
    SubCommandInfo {
        name: "updateAclConfig",
        desc: "Update acl config yaml file in broker",
        class: "UpdateAccessConfigSubCommand",
    },
    SubCommandInfo {
        name: "deleteAccessConfig",
        desc: "Delete Acl Config Account in broker",
        class: "DeleteAccessConfigSubCommand",
    },
    SubCommandInfo {
        name: "clusterAclConfigVersion",
        desc: "List all of acl config version information in cluster",
        class: "ClusterAclConfigVersionListSubCommand",
    },
    SubCommandInfo {
        name: "updateGlobalWhiteAddr",
        desc: "Update global white address for acl Config File in broker",
        class: "UpdateGlobalWhiteAddrSubCommand",
    },
    SubCommandInfo {
        name: "getAccessConfigSubCommand",
        desc: "List all of acl config information in cluster",
        class: "GetAccessConfigSubCommand",
    },
];

/// Looks a subcommand up by name, ignoring case like 4.8.0.
pub fn find(name: &str) -> Option<&'static SubCommandInfo> {
    SUB_COMMANDS
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
}

/// `mqadmin` without arguments.
pub fn print_help(out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "The most commonly used mqadmin commands are:")?;
    for c in SUB_COMMANDS {
        // Java: "   %-20s %s%n"
        writeln!(out, "   {:<20} {}", c.name, c.desc)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "See 'mqadmin help <command>' for more information on a specific command."
    )
}

/// The clap parser of one subcommand, named `mqadmin <name>`.
fn clap_command<T: CommandFactory>(info: &SubCommandInfo) -> clap::Command {
    T::command()
        .name(info.name)
        .bin_name(format!("mqadmin {}", info.name))
        .about(info.desc)
        .no_binary_name(true)
}

fn parse<T: CommandFactory + FromArgMatches>(
    info: &SubCommandInfo,
    argv: &[String],
) -> Result<T, clap::Error> {
    let matches = clap_command::<T>(info).try_get_matches_from(argv)?;
    T::from_arg_matches(&matches)
}

/// What running a subcommand can end in.
#[derive(Debug)]
pub enum Outcome {
    /// The command ran (its own output is already written).
    Done,
    /// The arguments did not parse (or help was asked for); clap's message.
    Usage(clap::Error),
}

/// Writes `mqadmin help <name>`.
pub fn print_command_help(info: &SubCommandInfo, out: &mut dyn Write) -> std::io::Result<()> {
    let mut cmd = with_parser(info.name, |c| c).unwrap_or_else(|| clap::Command::new(info.name));
    write!(out, "{}", cmd.render_help())
}

/// Writes the usage of the named subcommand, as 4.8.0's `ServerUtil.printCommandLineHelp` does
/// when a command gets neither of the options it needs one of.
pub fn print_usage(name: &str, out: &mut dyn Write) -> anyhow::Result<()> {
    let info = find(name).ok_or_else(|| anyhow::anyhow!("The sub command {name} not exist."))?;
    print_command_help(info, out)?;
    Ok(())
}

/// Applies `f` to the clap command of the named subcommand.
fn with_parser(
    name: &str,
    f: impl FnOnce(clap::Command) -> clap::Command,
) -> Option<clap::Command> {
    let info = find(name)?;
    let c = match info.name {
        "updateTopic" => clap_command::<update_topic::Args>(info),
        "deleteTopic" => clap_command::<delete_topic::Args>(info),
        "updateSubGroup" => clap_command::<update_sub_group::Args>(info),
        "deleteSubGroup" => clap_command::<delete_sub_group::Args>(info),
        "updateBrokerConfig" => clap_command::<update_broker_config::Args>(info),
        "updateTopicPerm" => clap_command::<update_topic_perm::Args>(info),
        "topicRoute" => clap_command::<topic_route::Args>(info),
        "topicStatus" => clap_command::<topic_status::Args>(info),
        "topicClusterList" => clap_command::<topic_cluster_list::Args>(info),
        "brokerStatus" => clap_command::<broker_status::Args>(info),
        "queryMsgById" => clap_command::<query_msg_by_id::Args>(info),
        "queryMsgByKey" => clap_command::<query_msg_by_key::Args>(info),
        "queryMsgByUniqueKey" => clap_command::<query_msg_by_unique_key::Args>(info),
        "queryMsgByOffset" => clap_command::<query_msg_by_offset::Args>(info),
        "printMsg" => clap_command::<print_msg::Args>(info),
        "printMsgByQueue" => clap_command::<print_msg_by_queue::Args>(info),
        "sendMsgStatus" => clap_command::<send_msg_status::Args>(info),
        "brokerConsumeStats" => clap_command::<broker_consume_stats::Args>(info),
        "producerConnection" => clap_command::<producer_connection::Args>(info),
        "QueryMsgTraceById" => clap_command::<query_msg_trace_by_id::Args>(info),
        "consumerConnection" => clap_command::<consumer_connection::Args>(info),
        "consumerProgress" => clap_command::<consumer_progress::Args>(info),
        "consumerStatus" => clap_command::<consumer_status::Args>(info),
        "cloneGroupOffset" => clap_command::<clone_group_offset::Args>(info),
        "clusterList" => clap_command::<cluster_list::Args>(info),
        "topicList" => clap_command::<topic_list::Args>(info),
        "updateKvConfig" => clap_command::<kv_config::UpdateArgs>(info),
        "deleteKvConfig" => clap_command::<kv_config::DeleteArgs>(info),
        "wipeWritePerm" => clap_command::<wipe_write_perm::Args>(info),
        "resetOffsetByTime" => clap_command::<reset_offset_by_time::Args>(info),
        "updateOrderConf" => clap_command::<update_order_conf::Args>(info),
        "cleanExpiredCQ" => clap_command::<clean_cq::Args>(info),
        "cleanUnusedTopic" => clap_command::<clean_cq::Args>(info),
        "startMonitoring" => clap_command::<start_monitoring::Args>(info),
        "statsAll" => clap_command::<stats_all::Args>(info),
        "allocateMQ" => clap_command::<allocate_mq::Args>(info),
        "checkMsgSendRT" => clap_command::<send_rt::CheckArgs>(info),
        "clusterRT" => clap_command::<send_rt::ClusterArgs>(info),
        "getNamesrvConfig" => clap_command::<namesrv_config::GetArgs>(info),
        "updateNamesrvConfig" => clap_command::<namesrv_config::UpdateArgs>(info),
        "queryCq" => clap_command::<query_cq::Args>(info),
        "sendMessage" => clap_command::<send_message::Args>(info),
        "consumeMessage" => clap_command::<consume_message::Args>(info),
        "getBrokerConfig" => clap_command::<get_broker_config::Args>(info),
        "updateAclConfig" => clap_command::<acl_update_config::Args>(info),
        "deleteAccessConfig" => clap_command::<acl_delete_config::Args>(info),
        "clusterAclConfigVersion" => clap_command::<acl_config_version::Args>(info),
        "updateGlobalWhiteAddr" => clap_command::<acl_update_global_white::Args>(info),
        "getAccessConfigSubCommand" => clap_command::<acl_get_config::Args>(info),
        _ => return None,
    };
    Some(f(c))
}

/// Parses `argv` (the words after the subcommand name) and runs the subcommand.
pub async fn execute(
    info: &SubCommandInfo,
    argv: &[String],
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    macro_rules! run {
        ($module:ident) => {
            run!($module, Args, run)
        };
        ($module:ident, $args:ident, $run:ident) => {
            match parse::<$module::$args>(info, argv) {
                Ok(args) => $module::$run(args, out).await.map(|_| Outcome::Done),
                Err(e) => Ok(Outcome::Usage(e)),
            }
        };
    }
    let result = match info.name {
        "updateTopic" => run!(update_topic),
        "deleteTopic" => run!(delete_topic),
        "updateSubGroup" => run!(update_sub_group),
        "deleteSubGroup" => run!(delete_sub_group),
        "updateBrokerConfig" => run!(update_broker_config),
        "updateTopicPerm" => run!(update_topic_perm),
        "topicRoute" => run!(topic_route),
        "topicStatus" => run!(topic_status),
        "topicClusterList" => run!(topic_cluster_list),
        "brokerStatus" => run!(broker_status),
        "queryMsgById" => run!(query_msg_by_id),
        "queryMsgByKey" => run!(query_msg_by_key),
        "queryMsgByUniqueKey" => run!(query_msg_by_unique_key),
        "queryMsgByOffset" => run!(query_msg_by_offset),
        "printMsg" => run!(print_msg),
        "printMsgByQueue" => run!(print_msg_by_queue),
        "sendMsgStatus" => run!(send_msg_status),
        "brokerConsumeStats" => run!(broker_consume_stats),
        "producerConnection" => run!(producer_connection),
        "QueryMsgTraceById" => run!(query_msg_trace_by_id),
        "consumerConnection" => run!(consumer_connection),
        "consumerProgress" => run!(consumer_progress),
        "consumerStatus" => run!(consumer_status),
        "cloneGroupOffset" => run!(clone_group_offset),
        "clusterList" => run!(cluster_list),
        "topicList" => run!(topic_list),
        "updateKvConfig" => run!(kv_config, UpdateArgs, run_update),
        "deleteKvConfig" => run!(kv_config, DeleteArgs, run_delete),
        "wipeWritePerm" => run!(wipe_write_perm),
        "resetOffsetByTime" => run!(reset_offset_by_time),
        "updateOrderConf" => run!(update_order_conf),
        "cleanExpiredCQ" => run!(clean_cq, Args, run_expired),
        "cleanUnusedTopic" => run!(clean_cq, Args, run_unused),
        "startMonitoring" => run!(start_monitoring),
        "statsAll" => run!(stats_all),
        "allocateMQ" => run!(allocate_mq),
        "checkMsgSendRT" => run!(send_rt, CheckArgs, run_check),
        "clusterRT" => run!(send_rt, ClusterArgs, run_cluster),
        "getNamesrvConfig" => run!(namesrv_config, GetArgs, run_get),
        "updateNamesrvConfig" => run!(namesrv_config, UpdateArgs, run_update),
        "queryCq" => run!(query_cq),
        "sendMessage" => run!(send_message),
        "consumeMessage" => run!(consume_message),
        "getBrokerConfig" => run!(get_broker_config),
        "updateAclConfig" => run!(acl_update_config),
        "deleteAccessConfig" => run!(acl_delete_config),
        "clusterAclConfigVersion" => run!(acl_config_version),
        "updateGlobalWhiteAddr" => run!(acl_update_global_white),
        "getAccessConfigSubCommand" => run!(acl_get_config),
        other => Err(anyhow::anyhow!("The sub command {other} not exist.")),
    };
    out.flush().ok();
    result
        .map_err(in_admin_terms)
        .with_context(|| format!("{} command failed", info.class))
}

/// A failure of rmq-client's producer or pull consumer, reported as the admin client
/// reports its own (`CODE: n  DESC: remark BROKER: addr`, the admin's error kinds), so a
/// command's failure text does not depend on which of the two sent the request.
fn in_admin_terms(e: anyhow::Error) -> anyhow::Error {
    match e.downcast::<ClientError>() {
        Ok(client) => AdminError::from(client).into(),
        Err(other) => other,
    }
}

/// Java's `Boolean.parseBoolean`: true only for "true", ignoring case.
pub fn java_bool(s: &str) -> bool {
    s.trim().eq_ignore_ascii_case("true")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn help_lists_every_command_like_4_8_0() {
        let mut out = Vec::new();
        print_help(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("The most commonly used mqadmin commands are:\n"));
        assert!(text.contains("\n   clusterList          List all of clusters\n"));
        assert!(text.ends_with(
            "See 'mqadmin help <command>' for more information on a specific command.\n"
        ));
        assert_eq!(
            text.lines().filter(|l| l.starts_with("   ")).count(),
            SUB_COMMANDS.len()
        );
    }

    #[test]
    fn names_are_case_insensitive() {
        assert_eq!(find("CLUSTERLIST").unwrap().name, "clusterList");
        assert_eq!(find("topicstatus").unwrap().class, "TopicStatusSubCommand");
        assert!(find("nope").is_none());
    }

    #[test]
    fn every_command_has_a_parser_and_help() {
        for c in SUB_COMMANDS {
            let mut out = Vec::new();
            print_command_help(c, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains("--namesrvAddr"), "{}: {text}", c.name);
        }
    }

    #[test]
    fn update_topic_flags_follow_4_8_0() {
        let info = find("updateTopic").unwrap();
        let a: update_topic::Args = parse(
            info,
            &argv("-n 127.0.0.1:9876 -c DefaultCluster -t T -r 3 -w 5 -p 6 -o true"),
        )
        .unwrap();
        assert_eq!(a.common.namesrv_addr.as_deref(), Some("127.0.0.1:9876"));
        assert_eq!(a.cluster_name.as_deref(), Some("DefaultCluster"));
        assert_eq!(
            (a.read_queue_nums, a.write_queue_nums, a.perm),
            (Some(3), Some(5), Some(6))
        );
        assert_eq!(a.order.as_deref(), Some("true"));
        // -b or -c is required, and only one of them.
        assert!(parse::<update_topic::Args>(info, &argv("-t T")).is_err());
        assert!(parse::<update_topic::Args>(info, &argv("-t T -b a:1 -c c")).is_err());
        // long names work too
        let a: update_topic::Args = parse(
            info,
            &argv("--brokerAddr 127.0.0.1:10911 --topic T --readQueueNums 2 --writeQueueNums 2 --perm 4"),
        )
        .unwrap();
        assert_eq!(a.broker_addr.as_deref(), Some("127.0.0.1:10911"));
    }

    #[test]
    fn message_command_flags_follow_4_8_0() {
        let a: send_message::Args = parse(
            find("sendMessage").unwrap(),
            &argv("-t T -p hello -k k1 -c tagA -b broker-a -i 1"),
        )
        .unwrap();
        assert_eq!(a.body, "hello");
        assert_eq!(a.tags.as_deref(), Some("tagA"));
        assert_eq!(a.qid, Some(1));
        let a: consume_message::Args = parse(
            find("consumeMessage").unwrap(),
            &argv("-t T -b broker-a -i 0 -o 3 -g G -c 10 -s 1600000000000"),
        )
        .unwrap();
        assert_eq!(a.offset, Some(3));
        assert_eq!(a.message_number, Some(10));
        let a: query_msg_by_key::Args =
            parse(find("queryMsgByKey").unwrap(), &argv("-t T -k key1")).unwrap();
        assert_eq!(a.msg_key, "key1");
        assert!(
            parse::<query_msg_by_key::Args>(find("queryMsgByKey").unwrap(), &argv("-t T")).is_err()
        );
        let a: cluster_list::Args = parse(find("clusterList").unwrap(), &argv("-m -i 2")).unwrap();
        assert!(a.more_stats);
        assert_eq!(a.interval, Some(2));
        let a: topic_list::Args = parse(find("topicList").unwrap(), &argv("-c")).unwrap();
        assert!(a.cluster_model);
    }

    #[test]
    fn reset_offset_by_time_flags_follow_4_8_0() {
        let info = find("resetOffsetByTime").unwrap();
        let a: reset_offset_by_time::Args =
            parse(info, &argv("-g G -t T -s 1600000000000 -f false -c")).unwrap();
        assert_eq!((a.group.as_str(), a.topic.as_str()), ("G", "T"));
        assert_eq!(a.timestamp, "1600000000000");
        assert_eq!(a.force.as_deref(), Some("false"));
        assert!(a.cplus);
        let a: reset_offset_by_time::Args = parse(info, &argv("-g G -t T -s -1")).unwrap();
        assert_eq!(a.timestamp, "-1");
        assert!(a.force.is_none() && !a.cplus);
        assert!(parse::<reset_offset_by_time::Args>(info, &argv("-g G -t T")).is_err());
    }

    #[test]
    fn client_failures_read_like_admin_failures() {
        let refused = anyhow::Error::from(ClientError::Broker {
            code: 2,
            remark: "[TIMEOUT_CLEAN_QUEUE]broker busy".into(),
            addr: "127.0.0.1:10911".into(),
        });
        assert_eq!(
            in_admin_terms(refused).to_string(),
            "CODE: 2  DESC: [TIMEOUT_CLEAN_QUEUE]broker busy BROKER: 127.0.0.1:10911"
        );
        let other = anyhow::anyhow!("Please set queueId before offset!");
        assert_eq!(
            in_admin_terms(other).to_string(),
            "Please set queueId before offset!"
        );
    }

    #[test]
    fn namesrv_falls_back_to_the_environment() {
        let with_flag = CommonArgs {
            namesrv_addr: Some("1.2.3.4:9876".into()),
        };
        assert_eq!(with_flag.namesrv().as_deref(), Some("1.2.3.4:9876"));
        assert!(java_bool("TRUE"));
        assert!(!java_bool("1"));
    }
}
