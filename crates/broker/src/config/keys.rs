//! The table of every broker.conf key: one declaration per key, grouped by the 4.8.0 class
//! that holds it. Each line says the Rust field, its type, the key, its unit, when a change
//! takes effect (`Restart`, `Live` or `Ignored`, see [`super::table::Effect`]) and its
//! default; the doc comment above it is what the key means. Parsing broker.conf,
//! GET_BROKER_CONFIG, UPDATE_BROKER_CONFIG and the book's configuration reference
//! (`RMQ_BLESS_BOOK=1 cargo test -p rmq-broker --test config_reference`) all read it.
//!
//! A new key is one line here; the store's keys are fields of rmq-store's
//! `MessageStoreConfig`, whose defaults are that crate's.
//! Book: Part II, "Starting a broker", and Appendix "Configuration reference". Mirrors
//! `BrokerConfig`, `MessageStoreConfig` and `NettyServerConfig.listenPort` (4.8.0).

use super::table::KeyInfo;
use rmq_store::MessageStoreConfig;

/// `$NAMESRV_ADDR`, as 4.8.0's default of `namesrvAddr` reads it.
fn namesrv_addr_from_env() -> Option<String> {
    std::env::var("NAMESRV_ADDR").ok().filter(|a| !a.is_empty())
}

// ANCHOR: config_defaults
config_section! {
    /// The broker's own settings (4.8.0 `BrokerConfig`, plus `listenPort`), and the other
    /// sections of broker.conf.
    pub struct BrokerConfig {
        /// The cluster the broker belongs to; the name server groups brokers by it.
        broker_cluster_name: String = "brokerClusterName", None, Restart,
            default "DefaultCluster".into();
        /// The replica group: a master and its slaves (or a DLedger group) share it.
        broker_name: String = "brokerName", None, Restart, default "broker-a".into();
        /// 0 for a master, above 0 for a slave (a DLedger member's id follows its role).
        broker_id: i64 = "brokerId", None, Restart, default 0;
        /// The address registered with the name servers: what clients connect to.
        broker_ip1: String = "brokerIP1", None, Restart, default "127.0.0.1".into();
        /// 4.8.0's address for slaves to replicate from; the HA listener here uses `brokerIP1`.
        broker_ip2: Option<String> = "brokerIP2", None, Ignored, default None,
            shown "= brokerIP1";
        /// The client port; `listenPort - 2` (the VIP channel) and `listenPort + 1` (HA) are
        /// used too.
        listen_port: u16 = "listenPort", None, Restart, default 10911;
        /// The largest frame (length field included) the client ports accept; a longer one
        /// closes the connection with a log line naming the peer. 4.8.0 reads it from the
        /// `com.rocketmq.remoting.frameMaxLength` system property.
        frame_max_length: usize = "frameMaxLength", Bytes, Restart,
            default rmq_remoting::codec::DEFAULT_MAX_FRAME_LEN;
        /// The name servers, `;`-separated; registration reads it every time.
        namesrv_addr: Option<String> = "namesrvAddr", None, Live,
            default namesrv_addr_from_env(), shown "$NAMESRV_ADDR";
        /// Permission bits of the whole broker (4 read, 2 write): without write, routes steer
        /// producers away; without read, consumers. A change re-registers at once.
        broker_permission: i32 = "brokerPermission", None, Live, default 6;
        /// Queue count of the `TBW102` template topic.
        default_topic_queue_nums: i32 = "defaultTopicQueueNums", None, Restart, default 8;
        /// Keep the `TBW102` template, so a send to an unknown topic creates it.
        auto_create_topic_enable: bool = "autoCreateTopicEnable", None, Restart, default true;
        /// Create the topic named like the cluster (readable and writable).
        cluster_topic_enable: bool = "clusterTopicEnable", None, Restart, default true;
        /// Create the topic named like the broker (readable and writable).
        broker_topic_enable: bool = "brokerTopicEnable", None, Restart, default true;
        /// Accept consumer groups nobody created.
        auto_create_subscription_group: bool = "autoCreateSubscriptionGroup", None, Restart,
            default true;
        /// The message-trace topic's name.
        msg_trace_topic_name: String = "msgTraceTopicName", None, Restart,
            default "RMQ_SYS_TRACE_TOPIC".into();
        /// Create the message-trace topic.
        trace_topic_enable: bool = "traceTopicEnable", None, Restart, default false;
        /// Send workers: sends that append at the same time.
        send_message_thread_pool_nums: usize = "sendMessageThreadPoolNums", None, Restart,
            default 1;
        /// 4.8.0's pull thread count; pulls here run as tasks, without a pool of their own.
        pull_message_thread_pool_nums: usize = "pullMessageThreadPoolNums", None, Ignored,
            default 20, shown "16 + 2 × cores";
        /// Sends that may wait for a worker before `[OVERLOAD]`.
        send_thread_pool_queue_capacity: usize = "sendThreadPoolQueueCapacity", None, Restart,
            default 10_000;
        /// How long a send may wait for a worker before `[TIMEOUT_CLEAN_QUEUE]`.
        wait_time_in_send_queue_ms: u64 = "waitTimeMillsInSendQueue", Ms, Restart, default 200;
        /// How often consumer offsets are written to `consumerOffset.json`.
        flush_consumer_offset_interval_ms: u64 = "flushConsumerOffsetInterval", Ms, Restart,
            default 5_000;
        /// Hold a pull that finds nothing until a message arrives (long polling).
        long_polling_enable: bool = "longPollingEnable", None, Live, default true;
        /// How long a pull is held when long polling is off.
        short_polling_time_ms: u64 = "shortPollingTimeMills", Ms, Live, default 1_000;
        /// The region every send reply names (`MSG_REGION`).
        region_id: String = "regionId", None, Live, default "DefaultRegion".into();
        /// How long one registration may take.
        register_broker_timeout_ms: u64 = "registerBrokerTimeoutMills", Ms, Live,
            default 6_000;
        /// How often the broker registers with the name servers.
        register_name_server_period_ms: u64 = "registerNameServerPeriod", Ms, Restart,
            default 30_000;
        /// Compress the registration body.
        compressed_register: bool = "compressedRegister", None, Live, default false;
        /// 4.8.0 may skip a registration the name server already has; this broker always
        /// sends it.
        force_register: bool = "forceRegister", None, Ignored, default true;
        /// Store request-reply replies in the reply topic too.
        store_reply_message_enable: bool = "storeReplyMessageEnable", None, Live, default true;
        /// 4.8.0's off-heap write buffers (a `MessageStoreConfig` key); appends here always go
        /// to the mapped file.
        transient_store_pool_enable: bool = "transientStorePoolEnable", None, Ignored,
            default false;
        /// 4.8.0's choice of put lock (a `MessageStoreConfig` key); the store here has one.
        use_reentrant_lock_when_put_message: bool = "useReentrantLockWhenPutMessage", None,
            Ignored, default false;
    }
    nested {
        /// The store's keys (4.8.0 `MessageStoreConfig`): files, flushing, retention, role.
        store: MessageStoreConfig,
        /// Master/slave replication (the `ha*` keys).
        ha: HaKeys,
        /// DLedger mode (the `dLeger*` keys).
        dledger: DLedgerKeys,
        /// Transactional messages.
        transaction: TransactionConfig,
        /// SQL92 filtering.
        filter: FilterConfig,
        /// Access control (ACL).
        acl: AclKeys,
    }
}
// ANCHOR_END: config_defaults

config_keys_of! {
    /// The store's keys: fields of rmq-store's `MessageStoreConfig`, with its defaults.
    pub static STORE_KEYS: MessageStoreConfig {
        /// Holds `commitlog/`, `consumequeue/`, `index/`, `config/`, `checkpoint`, `abort`.
        store_path_root_dir: std::path::PathBuf = "storePathRootDir", None, Restart,
            shown "$HOME/store";
        /// The commit log's directory.
        store_path_commit_log: Option<std::path::PathBuf> = "storePathCommitLog", None,
            Restart, shown "<storePathRootDir>/commitlog";
        /// Bytes per commit-log file.
        mapped_file_size_commit_log: u64 = "mappedFileSizeCommitLog", Bytes, Restart;
        /// Bytes per consume-queue file (300 000 entries of 20 bytes).
        mapped_file_size_consume_queue: u64 = "mappedFileSizeConsumeQueue", Bytes, Restart;
        /// When appended bytes reach the disk: `SYNC_FLUSH` answers a send after its flush.
        flush_disk_type: rmq_store::FlushDiskType = "flushDiskType", None, Restart;
        /// The master/slave role: a `SYNC_MASTER` waits for a slave, a `SLAVE` refuses sends
        /// (in DLedger mode elections decide the role).
        broker_role: rmq_store::BrokerRole = "brokerRole", None, Restart;
        /// How often the commit log is flushed with `ASYNC_FLUSH`.
        flush_interval_commit_log_ms: u64 = "flushIntervalCommitLog", Ms, Restart;
        /// Flush only when this many pages are dirty.
        flush_commit_log_least_pages: u32 = "flushCommitLogLeastPages", Pages, Restart;
        /// Flush everything at least this often.
        flush_commit_log_thorough_interval_ms: u64 = "flushCommitLogThoroughInterval", Ms,
            Restart;
        /// Sleep between flushes instead of being woken by puts.
        flush_commit_log_timed: bool = "flushCommitLogTimed", None, Restart;
        /// How often consume queues are flushed.
        flush_interval_consume_queue_ms: u64 = "flushIntervalConsumeQueue", Ms, Restart;
        /// Flush a consume queue only when this many pages are dirty.
        flush_consume_queue_least_pages: u32 = "flushConsumeQueueLeastPages", Pages, Restart;
        /// Flush consume queues (and write the checkpoint) at least this often.
        flush_consume_queue_thorough_interval_ms: u64 = "flushConsumeQueueThoroughInterval",
            Ms, Restart;
        /// How long a `SYNC_FLUSH` send waits for its flush, and a `SYNC_MASTER` send for its
        /// slave.
        sync_flush_timeout_ms: u64 = "syncFlushTimeout", Ms, Restart;
        /// Touch every page of a new commit-log file before using it.
        warm_mapped_file_enable: bool = "warmMapedFileEnable", None, Restart;
        /// While warming with `SYNC_FLUSH`, flush every this many pages.
        flush_least_pages_when_warm_mapped_file: u32 = "flushLeastPagesWhenWarmMapedFile",
            Pages, Restart;
        /// How long a commit-log file is kept.
        file_reserved_time_hours: u32 = "fileReservedTime", Hours, Restart;
        /// Hours of the day (`04`, `01;13`) at which expired files are deleted.
        delete_when: String = "deleteWhen", None, Restart;
        /// Above this disk usage files are deleted at any hour.
        disk_max_used_space_ratio: u32 = "diskMaxUsedSpaceRatio", Percent, Restart;
        /// How often retention is checked.
        clean_resource_interval_ms: u64 = "cleanResourceInterval", Ms, Restart;
        /// Pause between two deleted commit-log files.
        delete_commit_log_files_interval_ms: u64 = "deleteCommitLogFilesInterval", Ms, Restart;
        /// Pause between two deleted consume-queue files.
        delete_consume_queue_files_interval_ms: u64 = "deleteConsumeQueueFilesInterval", Ms,
            Restart;
        /// 4.8.0 forces a file still in use closed after this long; files here are unmapped
        /// when their last reader drops them.
        destroy_mapped_file_interval_forcibly_ms: u64 = "destroyMapedFileIntervalForcibly", Ms,
            Ignored;
        /// Delete files because of disk pressure even outside `deleteWhen`.
        clean_file_forcibly_enable: bool = "cleanFileForciblyEnable", None, Restart;
        /// The largest message accepted.
        max_message_size: usize = "maxMessageSize", Bytes, Restart;
        /// Check body CRCs while recovering.
        check_crc_on_recover: bool = "checkCRCOnRecover", None, Restart;
        /// Build index files (lookups by key and by unique key).
        message_index_enable: bool = "messageIndexEnable", None, Restart;
        /// Abnormal recovery also goes back to the index checkpoint.
        message_index_safe: bool = "messageIndexSafe", None, Restart;
        /// Hash slots per index file.
        max_hash_slot_num: u32 = "maxHashSlotNum", None, Restart;
        /// Entries per index file.
        max_index_num: u32 = "maxIndexNum", None, Restart;
        /// The most messages one key query returns.
        max_msgs_num_batch: usize = "maxMsgsNumBatch", None, Restart;
        /// Bytes one pull returns when its messages are in memory.
        max_transfer_bytes_on_message_in_memory: usize = "maxTransferBytesOnMessageInMemory",
            Bytes, Restart;
        /// Messages one pull returns when they are in memory.
        max_transfer_count_on_message_in_memory: usize = "maxTransferCountOnMessageInMemory",
            None, Restart;
        /// Bytes one pull returns when its messages are on disk.
        max_transfer_bytes_on_message_in_disk: usize = "maxTransferBytesOnMessageInDisk",
            Bytes, Restart;
        /// Messages one pull returns when they are on disk.
        max_transfer_count_on_message_in_disk: usize = "maxTransferCountOnMessageInDisk",
            None, Restart;
        /// Share of physical memory within which reads count as "in memory".
        access_message_in_memory_max_ratio: u32 = "accessMessageInMemoryMaxRatio", Percent,
            Restart;
        /// An append holding the put lock longer than this makes sends busy
        /// (`[REJECTREQUEST]`, `[PC_SYNCHRONIZED]`).
        os_page_cache_busy_timeout_ms: u64 = "osPageCacheBusyTimeOutMills", Ms, Restart;
        /// 4.8.0 keeps the confirm offset at the end for duplication; the store here does not
        /// use it.
        duplication_enable: bool = "duplicationEnable", None, Ignored;
        /// The delay of each delay level, from level 1 (`1s 5s 10s ... 2h`).
        message_delay_level: String = "messageDelayLevel", None, Restart;
        /// Write ConsumeQueueExt units (tags code, store time, filter bit map).
        enable_consume_queue_ext: bool = "enableConsumeQueueExt", None, Restart;
        /// Bytes per consume-queue-ext file.
        mapped_file_size_consume_queue_ext: u64 = "mappedFileSizeConsumeQueueExt", Bytes,
            Restart;
        /// Bits of the filter bit map (the broker sets it to the bloom filter's size).
        bit_map_length_consume_queue_ext: u32 = "bitMapLengthConsumeQueueExt", None, Restart;
    }
}

config_section! {
    /// The master/slave replication keys (4.8.0 `MessageStoreConfig.ha*`).
    pub struct HaKeys {
        /// 4.8.0's startup overrides it with `listenPort + 1`, and so does this broker.
        listen_port: u16 = "haListenPort", None, Ignored, default 10912,
            shown "listenPort + 1";
        /// How often a slave reports its offset to the master.
        send_heartbeat_interval_ms: u64 = "haSendHeartbeatInterval", Ms, Restart,
            default 5_000;
        /// A peer silent this long is dropped.
        housekeeping_interval_ms: u64 = "haHousekeepingInterval", Ms, Restart,
            default 20_000;
        /// Bytes of commit log per transfer frame.
        transfer_batch_size: usize = "haTransferBatchSize", Bytes, Restart,
            default 32 * 1024;
        /// A slave further behind does not count for a `SYNC_MASTER` send.
        slave_fallbehind_max: i64 = "haSlaveFallbehindMax", Bytes, Restart,
            default 256 * 1024 * 1024;
        /// A slave's fixed master HA address (`ip:port`), instead of the one the name server
        /// gives.
        master_address: Option<String> = "haMasterAddress", None, Restart, default None;
    }
}

config_section! {
    /// The DLedger keys (4.8.0 `MessageStoreConfig.dLeger*` and `preferredLeaderId`, plus
    /// timing keys of ours that 4.8.0 does not read).
    pub struct DLedgerKeys {
        /// Replicate through a DLedger (Raft) group instead of master/slave.
        enable_commit_log: bool = "enableDLegerCommitLog", None, Restart, default false;
        /// The DLedger group's name.
        group: Option<String> = "dLegerGroup", None, Restart, default None,
            shown "= brokerName";
        /// The members, `n0-host:port;n1-host:port;...` (needed in DLedger mode).
        peers: Option<String> = "dLegerPeers", None, Restart, default None;
        /// This member's id among the peers, `n<k>` (needed in DLedger mode).
        self_id: Option<String> = "dLegerSelfId", None, Restart, default None;
        /// The member that should lead whenever it is up to date (4.8.0 key): a leader that
        /// is not it hands leadership over to it.
        preferred_leader_id: Option<String> = "preferredLeaderId", None, Restart, default None;
        /// How often the leader beats (our key; DLedger 0.2.2 beats every 2 s).
        heartbeat_interval_ms: u64 = "dLegerHeartBeatTimeIntervalMs", Ms, Restart,
            default 100;
        /// Missed beats after which a follower suspects the leader (our key; 0.2.2: 3).
        max_heartbeat_leak: u64 = "dLegerMaxHeartBeatLeak", None, Restart, default 5;
        /// Shortest random pause before a vote round (our key; 0.2.2 `minVoteIntervalMs`: 300).
        min_vote_interval_ms: u64 = "dLegerMinVoteIntervalMs", Ms, Restart, default 50;
        /// Longest random pause before a vote round (our key; 0.2.2 `maxVoteIntervalMs`: 1000).
        max_vote_interval_ms: u64 = "dLegerMaxVoteIntervalMs", Ms, Restart, default 200;
        /// Pause before a leader compares logs with a follower again after a failed COMPARE
        /// or TRUNCATE, e.g. one that does not know the new leader yet (our key; 0.2.2 sleeps
        /// 500 ms).
        push_retry_ms: u64 = "dLegerPushRetryMs", Ms, Restart, default 100;
        /// A leader stopped by SIGTERM first hands leadership to its most up-to-date
        /// follower (our key; 4.8.0 just stops).
        transfer_leadership_on_shutdown: bool = "dLegerTransferLeadershipOnShutdown", None,
            Restart, default true;
        /// The leader pushes several entries per request to its followers (4.8.0 key,
        /// passed to DLedger 0.2.2's `isEnableBatchPush`). Every member of a group needs the
        /// same value: a 4.8.0 follower reads only the form its own key selects.
        batch_push: bool = "enableBatchPush", None, Restart, default false;
    }
}

// ANCHOR: transaction_config
config_section! {
    /// The transaction settings of broker.conf, with 4.8.0's key names and defaults.
    pub struct TransactionConfig {
        /// The pause between two check passes.
        check_interval_ms: u64 = "transactionCheckInterval", Ms, Live, default 60_000;
        /// A half younger than this is not checked yet.
        timeout_ms: i64 = "transactionTimeOut", Ms, Live, default 6_000;
        /// Checks before a half is given up.
        check_max: i32 = "transactionCheckMax", None, Live, default 15;
        /// Refuse half messages with NO_PERMISSION.
        reject: bool = "rejectTransactionMessage", None, Live, default false;
        /// 4.8.0's END_TRANSACTION thread count; verdicts here run as tasks.
        end_transaction_thread_pool_nums: usize = "endTransactionThreadPoolNums", None,
            Ignored, default 12, shown "8 + 2 × cores";
        /// 4.8.0's END_TRANSACTION queue length; verdicts here are not queued.
        end_transaction_pool_queue_capacity: usize = "endTransactionPoolQueueCapacity", None,
            Ignored, default 100_000;
    }
}
// ANCHOR_END: transaction_config

config_section! {
    /// The SQL92 filter's switches, with 4.8.0's defaults (`BrokerConfig`).
    pub struct FilterConfig {
        /// Accept SQL92 subscriptions at all.
        enable_property_filter: bool = "enablePropertyFilter", None, Live, default false;
        /// Compute each message's bloom bit map at dispatch.
        enable_calc_filter_bit_map: bool = "enableCalcFilterBitMap", None, Restart,
            default false;
        /// Filter `%RETRY%` queues with the original topic's SQL.
        filter_support_retry: bool = "filterSupportRetry", None, Live, default false;
        /// Groups per topic the bloom filter is sized for.
        expect_consumer_num_use_filter: i32 = "expectConsumerNumUseFilter", None, Restart,
            default 32;
        /// The bloom filter's false-positive rate.
        max_error_rate_of_bloom_filter: i32 = "maxErrorRateOfBloomFilter", Percent, Restart,
            default 20;
        /// How long dead filter data is kept.
        filter_data_clean_time_span_ms: i64 = "filterDataCleanTimeSpan", Ms, Restart,
            default 24 * 3600 * 1000;
    }
}

config_section! {
    /// Access control (4.8.0 `BrokerConfig.aclEnable`, plus where plain_acl.yml is).
    pub struct AclKeys {
        /// Check every request against plain_acl.yml (accounts, signatures, permissions).
        enable: bool = "aclEnable", None, Restart, default false;
        /// The ACL file (our key: 4.8.0 always reads `$ROCKETMQ_HOME/conf/plain_acl.yml`).
        plain_file: Option<std::path::PathBuf> = "aclPlainFile", None, Restart, default None,
            shown "$ROCKETMQ_HOME/conf/plain_acl.yml";
        /// The account this broker signs its own requests to other brokers with (a
        /// follower copying the leader's tables). Our key: 4.8.0 brokers send unsigned, so
        /// their addresses must be on `globalWhiteRemoteAddresses`.
        access_key: Option<String> = "aclAccessKey", None, Restart, default None;
        /// The secret key that goes with `aclAccessKey`.
        secret_key: Option<String> = "aclSecretKey", None, Restart, default None;
    }
}

/// One section of the table as every caller sees it: its keys, read and written on a whole
/// [`BrokerConfig`].
pub struct Section {
    /// The reference page's heading.
    pub title: &'static str,
    /// The 4.8.0 class these keys belong to.
    pub java_class: &'static str,
    /// How many keys it has.
    pub len: usize,
    /// The description of key `i`.
    pub info: fn(usize) -> &'static KeyInfo,
    /// Key `i`'s value in a config.
    pub get: fn(&BrokerConfig, usize) -> Option<String>,
    /// Sets key `i` in a config.
    pub set: fn(&mut BrokerConfig, usize, &str) -> Result<(), String>,
}

impl Section {
    /// The descriptions of every key of the section.
    pub fn keys(&'static self) -> impl Iterator<Item = &'static KeyInfo> {
        (0..self.len).map(|i| (self.info)(i))
    }
}

/// A [`Section`] over `$keys`, found at `$path` in a `BrokerConfig` named `$c`.
macro_rules! section {
    ($title:literal, $java:literal, $keys:expr, |$c:ident| $path:expr) => {
        Section {
            title: $title,
            java_class: $java,
            len: $keys.len(),
            info: |i| &$keys[i].info,
            get: |$c: &BrokerConfig, i| ($keys[i].get)(&$path),
            set: |$c: &mut BrokerConfig, i, v| ($keys[i].set)(&mut $path, v),
        }
    };
}

/// The whole table, in the order of the reference page and of GET_BROKER_CONFIG.
pub static SECTIONS: &[Section] = &[
    section!("Broker", "BrokerConfig", BrokerConfig::KEYS, |c| *c),
    section!("Store", "MessageStoreConfig", STORE_KEYS, |c| c.store),
    section!(
        "Master/slave replication",
        "MessageStoreConfig",
        HaKeys::KEYS,
        |c| c.ha
    ),
    section!("DLedger", "MessageStoreConfig", DLedgerKeys::KEYS, |c| c
        .dledger),
    section!(
        "Transactions",
        "BrokerConfig",
        TransactionConfig::KEYS,
        |c| c.transaction
    ),
    section!("SQL92 filtering", "BrokerConfig", FilterConfig::KEYS, |c| c
        .filter),
    section!("Access control (ACL)", "BrokerConfig", AclKeys::KEYS, |c| c
        .acl),
];

/// Every key of the table with its section.
pub fn all_keys() -> impl Iterator<Item = (&'static Section, usize)> {
    SECTIONS
        .iter()
        .flat_map(|s| (0..s.len).map(move |i| (s, i)))
}

/// The section and index of `key`, if the table has it.
pub fn find(key: &str) -> Option<(&'static Section, usize)> {
    all_keys().find(|(s, i)| (s.info)(*i).key == key)
}
