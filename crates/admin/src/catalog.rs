//! The catalog of 4.8.0's 49 mqadmin subcommands: what each does, which of our tests runs our
//! `mqadmin` for it, and which interop program runs the real 4.8.0 one against our servers.
//!
//! It exists so the appendix table "mqadmin subcommands" cannot drift: a test
//! (`crates/admin/tests/catalog.rs`) checks every row against the command table, the named test
//! functions and the interop sources, and writes the table into
//! `book/src/appendix/mqadmin.md` (`RMQ_BLESS_BOOK=1 cargo test -p rmq-admin --test catalog`).
//! Book: Appendix "mqadmin subcommands". Mirrors the list `MQAdminStartup.initCommand` builds.

/// Where a subcommand of ours is implemented and tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// This crate's command table; `test` is `file::function` of the integration test that runs
    /// our binary for it (file relative to the repository root).
    Here {
        /// The test that runs our `mqadmin <name>` and checks its effect.
        test: &'static str,
    },
    /// Built and tested with the ACL work (`make interop`'s ACL suite).
    AclSuite,
    /// Built and tested with the message-trace work (the trace suite).
    TraceSuite,
}

/// One 4.8.0 subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogRow {
    /// The name typed after `mqadmin`.
    pub name: &'static str,
    /// What it does, in a few words.
    pub does: &'static str,
    /// Who implements and tests it.
    pub owner: Owner,
    /// The interop program (under `interop/java/src/main/java/interop/`) that runs the real
    /// 4.8.0 subcommand against our servers; `None` for the ACL and trace rows, whose suites
    /// own it.
    pub interop: Option<&'static str>,
}

const fn here(test: &'static str) -> Owner {
    Owner::Here { test }
}

/// Every subcommand of 4.8.0's mqadmin, in `MQAdminStartup.initCommand` order.
pub const MQADMIN_4_8_0: &[CatalogRow] = &[
    row("updateTopic", "create or change a topic on a broker or a cluster", here("crates/admin/tests/broker_commands.rs::topic_life_cycle"), "Interop.java"),
    row("deleteTopic", "delete a topic from a cluster's brokers and the name servers", here("crates/admin/tests/broker_commands.rs::topic_life_cycle"), "MqAdminAll.java"),
    row("updateSubGroup", "create or change a consumer group's settings", here("crates/admin/tests/ops_commands.rs::delete_sub_group_removes_the_config_and_keeps_offsets"), "MqAdminAll.java"),
    row("deleteSubGroup", "delete a consumer group's settings (its offsets stay)", here("crates/admin/tests/ops_commands.rs::delete_sub_group_removes_the_config_and_keeps_offsets"), "MqAdminAll.java"),
    row("updateBrokerConfig", "change one setting of running brokers", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("updateTopicPerm", "change a topic's read/write permission", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("topicRoute", "print a topic's route (queues and brokers)", here("crates/admin/tests/broker_commands.rs::topic_life_cycle"), "Interop.java"),
    row("topicStatus", "min/max offsets and last update of each queue of a topic", here("crates/admin/tests/broker_commands.rs::message_round_trip_and_group_views"), "Interop.java"),
    row("topicClusterList", "the clusters that hold a topic", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("brokerStatus", "a broker's runtime figures", here("crates/admin/tests/broker_commands.rs::message_round_trip_and_group_views"), "MqAdminAll.java"),
    row("queryMsgById", "one message by its offset id (or unique id)", here("crates/admin/tests/broker_commands.rs::message_round_trip_and_group_views"), "Extras.java"),
    row("queryMsgByKey", "messages by their KEYS, through the index files", here("crates/admin/tests/broker_commands.rs::message_round_trip_and_group_views"), "Extras.java"),
    row("queryMsgByUniqueKey", "one message by its producer's unique id", here("crates/admin/tests/ops_commands.rs::message_stats_and_client_commands"), "MqAdminAll.java"),
    row("queryMsgByOffset", "the message at one queue offset", here("crates/admin/tests/ops_commands.rs::message_stats_and_client_commands"), "MqAdminAll.java"),
    CatalogRow { name: "QueryMsgTraceById", does: "the trace of one message (RMQ_SYS_TRACE_TOPIC)", owner: Owner::TraceSuite, interop: None },
    row("printMsg", "print every message of a topic, queue by queue", here("crates/admin/tests/ops_commands.rs::message_stats_and_client_commands"), "MqAdminAll.java"),
    row("printMsgByQueue", "print one queue's messages, or count them by tag", here("crates/admin/tests/ops_commands.rs::message_stats_and_client_commands"), "MqAdminAll.java"),
    row("sendMsgStatus", "timed sends to a broker's own topic", here("crates/admin/tests/ops_commands.rs::message_stats_and_client_commands"), "MqAdminAll.java"),
    row("brokerConsumeStats", "every group's lag on one broker", here("crates/admin/tests/ops_commands.rs::message_stats_and_client_commands"), "MqAdminAll.java"),
    row("producerConnection", "the clients of a producer group", here("crates/admin/tests/ops_commands.rs::message_stats_and_client_commands"), "MqAdminAll.java"),
    row("consumerConnection", "the clients of a consumer group and their subscriptions", here("crates/admin/tests/broker_commands.rs::message_round_trip_and_group_views"), "Interop.java"),
    row("consumerProgress", "a group's offsets and lag per queue", here("crates/admin/tests/broker_commands.rs::message_round_trip_and_group_views"), "Interop.java"),
    row("consumerStatus", "each consumer's own report of its queues and rates", here("crates/admin/tests/ops_commands.rs::message_stats_and_client_commands"), "ReplyInterop.java"),
    row("cloneGroupOffset", "start a new group at the end of an existing group's queues", here("crates/admin/tests/ops_commands.rs::message_stats_and_client_commands"), "MqAdminAll.java"),
    row("clusterList", "every cluster and broker, with their rates", here("crates/admin/tests/broker_commands.rs::topic_life_cycle"), "Interop.java"),
    row("topicList", "every topic the name servers know", here("crates/admin/tests/broker_commands.rs::topic_life_cycle"), "Interop.java"),
    row("updateKvConfig", "write an item of the name servers' KV configuration", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("deleteKvConfig", "remove an item of the name servers' KV configuration", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("wipeWritePerm", "take a broker's write permission out of every route", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("resetOffsetByTime", "move a group's offsets to a point in time", here("crates/client/tests/reset_offset.rs::reset_by_time_makes_a_running_consumer_read_again_from_there"), "ReplyInterop.java"),
    row("updateOrderConf", "get, put or delete a topic's ordered-queue layout", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("cleanExpiredCQ", "delete consume queues whose messages are all gone", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("cleanUnusedTopic", "delete consume queues of topics that no longer exist", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("startMonitoring", "report every group's backlog once a minute", here("crates/admin/tests/ops_commands.rs::message_stats_and_client_commands"), "MqAdminAll.java"),
    row("statsAll", "put and consume rates and day counts per topic and group", here("crates/admin/tests/ops_commands.rs::message_stats_and_client_commands"), "MqAdminAll.java"),
    row("allocateMQ", "how the averaging strategy shares a topic's queues", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("checkMsgSendRT", "the round trip of each send, queue by queue", here("crates/admin/tests/ops_commands.rs::message_stats_and_client_commands"), "MqAdminAll.java"),
    row("clusterRT", "the average send round trip of every broker, repeated", here("crates/admin/tests/ops_commands.rs::message_stats_and_client_commands"), "MqAdminAll.java"),
    row("getNamesrvConfig", "the name servers' settings", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("updateNamesrvConfig", "change a name-server setting at runtime", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("getBrokerConfig", "a broker's (or a cluster's) settings", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("queryCq", "raw consume-queue entries of a queue", here("crates/admin/tests/ops_commands.rs::configuration_permission_and_cleanup_commands"), "MqAdminAll.java"),
    row("sendMessage", "send one message", here("crates/admin/tests/broker_commands.rs::message_round_trip_and_group_views"), "MqAdminAll.java"),
    row("consumeMessage", "read messages of a topic or a queue without committing", here("crates/admin/tests/broker_commands.rs::message_round_trip_and_group_views"), "MqAdminAll.java"),
    CatalogRow { name: "updateAclConfig", does: "add or change an ACL account", owner: Owner::AclSuite, interop: None },
    CatalogRow { name: "deleteAccessConfig", does: "delete an ACL account", owner: Owner::AclSuite, interop: None },
    CatalogRow { name: "clusterAclConfigVersion", does: "the ACL configuration version of each broker", owner: Owner::AclSuite, interop: None },
    CatalogRow { name: "updateGlobalWhiteAddr", does: "replace the ACL global white list", owner: Owner::AclSuite, interop: None },
    CatalogRow { name: "getAccessConfigSubCommand", does: "the whole ACL configuration of each broker", owner: Owner::AclSuite, interop: None },
];

const fn row(
    name: &'static str,
    does: &'static str,
    owner: Owner,
    interop: &'static str,
) -> CatalogRow {
    CatalogRow {
        name,
        does,
        owner,
        interop: Some(interop),
    }
}

/// The appendix table: one Markdown row per subcommand.
pub fn appendix_table() -> String {
    let mut t = String::from(
        "| 4.8.0 subcommand | What it does | Ours, run in CI by | The real 4.8.0 one, run in CI by |\n|---|---|---|---|\n",
    );
    for r in MQADMIN_4_8_0 {
        let (ours, real) = match r.owner {
            Owner::Here { test } => {
                let (file, func) = test.split_once("::").unwrap_or((test, ""));
                let file_name = file.rsplit('/').next().unwrap_or(file);
                (
                    format!("`{file_name}` `{func}`"),
                    format!("`make interop`: `{}`", r.interop.unwrap_or("-")),
                )
            }
            Owner::AclSuite => ("the ACL suite".into(), "the ACL suite".into()),
            Owner::TraceSuite => ("the trace suite".into(), "the trace suite".into()),
        };
        t.push_str(&format!(
            "| `{}` | {} | {ours} | {real} |\n",
            r.name, r.does
        ));
    }
    t
}
