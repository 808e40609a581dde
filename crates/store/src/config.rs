//! Configuration of the message store, with RocketMQ 4.8.0's defaults.
//!
//! Book: Part I, "CommitLog" (sizes, flushing) and "Crash recovery" (CRC check, index safety).
//! Mirrors `org.apache.rocketmq.store.config.MessageStoreConfig`, `FlushDiskType`, `BrokerRole`
//! and `StorePathConfigHelper`. Field names are the 4.8.0 property keys in snake_case; time
//! values carry their unit as a suffix (`_ms`, `_hours`).

use std::path::PathBuf;

/// When appended bytes reach the disk (`flushDiskType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlushDiskType {
    /// A background thread flushes every `flush_interval_commit_log_ms`.
    #[default]
    AsyncFlush,
    /// `put_message` returns only after an fsync covering the message (group commit).
    SyncFlush,
}

impl std::str::FromStr for FlushDiskType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ASYNC_FLUSH" => Ok(FlushDiskType::AsyncFlush),
            "SYNC_FLUSH" => Ok(FlushDiskType::SyncFlush),
            other => Err(format!(
                "unknown flushDiskType {other:?} (ASYNC_FLUSH or SYNC_FLUSH)"
            )),
        }
    }
}

/// The broker's replication role (`brokerRole`); the store uses it for slave read hints and
/// to refuse writes on a slave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BrokerRole {
    #[default]
    /// An asynchronously replicating master (`ASYNC_MASTER`).
    AsyncMaster,
    /// A master that waits for a slave (`SYNC_MASTER`).
    SyncMaster,
    /// A slave: replicates, takes no puts (`SLAVE`).
    Slave,
}

impl std::str::FromStr for BrokerRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ASYNC_MASTER" => Ok(BrokerRole::AsyncMaster),
            "SYNC_MASTER" => Ok(BrokerRole::SyncMaster),
            "SLAVE" => Ok(BrokerRole::Slave),
            other => Err(format!(
                "unknown brokerRole {other:?} (ASYNC_MASTER, SYNC_MASTER or SLAVE)"
            )),
        }
    }
}

/// All knobs of the store. `Default` gives 4.8.0's values with the root at `$HOME/store`.
#[derive(Debug, Clone)]
pub struct MessageStoreConfig {
    /// `storePathRootDir`: holds consumequeue/, index/, checkpoint, abort, lock.
    pub store_path_root_dir: PathBuf,
    /// `storePathCommitLog`; `None` means `<root>/commitlog`.
    pub store_path_commit_log: Option<PathBuf>,
    /// `mappedFileSizeCommitLog`: bytes per commit-log file (1 GiB).
    pub mapped_file_size_commit_log: u64,
    /// `mappedFileSizeConsumeQueue`: bytes per consume-queue file (300 000 entries x 20).
    pub mapped_file_size_consume_queue: u64,
    /// `flushDiskType`.
    pub flush_disk_type: FlushDiskType,
    /// `flushIntervalCommitLog` (ms) for ASYNC_FLUSH.
    pub flush_interval_commit_log_ms: u64,
    /// `flushCommitLogLeastPages`: flush only when this many 4 KiB pages are dirty.
    pub flush_commit_log_least_pages: u32,
    /// `flushCommitLogThoroughInterval` (ms): flush everything at least this often.
    pub flush_commit_log_thorough_interval_ms: u64,
    /// `flushCommitLogTimed`: sleep instead of waiting to be woken by puts.
    pub flush_commit_log_timed: bool,
    /// `flushIntervalConsumeQueue` (ms). The checkpoint file is written only on the thorough
    /// flush (`flushConsumeQueueThoroughInterval`), at shutdown and when an index file fills.
    pub flush_interval_consume_queue_ms: u64,
    /// `flushConsumeQueueLeastPages`.
    pub flush_consume_queue_least_pages: u32,
    /// `flushConsumeQueueThoroughInterval` (ms).
    pub flush_consume_queue_thorough_interval_ms: u64,
    /// `syncFlushTimeout` (ms): SYNC_FLUSH puts give up with FLUSH_DISK_TIMEOUT after this.
    pub sync_flush_timeout_ms: u64,
    /// `warmMapedFileEnable`: pre-touch every page of a new commit-log file.
    pub warm_mapped_file_enable: bool,
    /// `flushLeastPagesWhenWarmMapedFile`: with SYNC_FLUSH, msync every this many pages while warming.
    pub flush_least_pages_when_warm_mapped_file: u32,
    /// `fileReservedTime` (hours) before a commit-log file may be deleted.
    pub file_reserved_time_hours: u32,
    /// `deleteWhen`: hours of the day ("04", "01;13") when expired files are deleted.
    pub delete_when: String,
    /// `diskMaxUsedSpaceRatio` (%): above it files are deleted regardless of time.
    pub disk_max_used_space_ratio: u32,
    /// `cleanResourceInterval` (ms): period of the retention check.
    pub clean_resource_interval_ms: u64,
    /// `deleteCommitLogFilesInterval` (ms): pause between two deleted commit-log files.
    pub delete_commit_log_files_interval_ms: u64,
    /// `deleteConsumeQueueFilesInterval` (ms).
    pub delete_consume_queue_files_interval_ms: u64,
    /// `destroyMapedFileIntervalForcibly` (ms).
    pub destroy_mapped_file_interval_forcibly_ms: u64,
    /// `cleanFileForciblyEnable`: delete by disk pressure even outside `deleteWhen`.
    pub clean_file_forcibly_enable: bool,
    /// `maxMessageSize`: largest record accepted (4 MiB).
    pub max_message_size: usize,
    /// `checkCRCOnRecover`: verify body CRCs while recovering.
    pub check_crc_on_recover: bool,
    /// `messageIndexEnable`: build index files.
    pub message_index_enable: bool,
    /// `messageIndexSafe`: abnormal recovery also covers the index checkpoint.
    pub message_index_safe: bool,
    /// `maxHashSlotNum` per index file.
    pub max_hash_slot_num: u32,
    /// `maxIndexNum` per index file.
    pub max_index_num: u32,
    /// `maxMsgsNumBatch`: cap for one key query.
    pub max_msgs_num_batch: usize,
    /// `maxTransferBytesOnMessageInMemory`.
    pub max_transfer_bytes_on_message_in_memory: usize,
    /// `maxTransferCountOnMessageInMemory`.
    pub max_transfer_count_on_message_in_memory: usize,
    /// `maxTransferBytesOnMessageInDisk`.
    pub max_transfer_bytes_on_message_in_disk: usize,
    /// `maxTransferCountOnMessageInDisk`.
    pub max_transfer_count_on_message_in_disk: usize,
    /// `accessMessageInMemoryMaxRatio` (% of physical RAM) above which reads count as "from disk".
    pub access_message_in_memory_max_ratio: u32,
    /// `osPageCacheBusyTimeOutMills`: an append holding the lock longer means "page cache busy".
    pub os_page_cache_busy_timeout_ms: u64,
    /// `brokerRole`.
    pub broker_role: BrokerRole,
    /// `duplicationEnable`: keep the consume-queue confirm offset at the max offset.
    pub duplication_enable: bool,
    /// `messageDelayLevel`: delays of levels 1.. (the schedule topic's tagsCode is the
    /// delivery time computed from it).
    pub message_delay_level: String,
    /// `enableConsumeQueueExt`: write ConsumeQueueExt units (tags code, store time, filter
    /// bit map) and keep their addresses in the consume queue's tags-code field.
    pub enable_consume_queue_ext: bool,
    /// `mappedFileSizeConsumeQueueExt`: bytes per consumequeue_ext file (48 MiB).
    pub mapped_file_size_consume_queue_ext: u64,
    /// `bitMapLengthConsumeQueueExt` (bits): 64 by default; the broker sets it to the bloom
    /// filter's bit count (112) at start, as 4.8.0's ConsumerFilterManager does.
    pub bit_map_length_consume_queue_ext: u32,
}

impl Default for MessageStoreConfig {
    fn default() -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        MessageStoreConfig {
            store_path_root_dir: home.join("store"),
            store_path_commit_log: None,
            mapped_file_size_commit_log: 1024 * 1024 * 1024,
            mapped_file_size_consume_queue: 300_000 * 20,
            flush_disk_type: FlushDiskType::AsyncFlush,
            flush_interval_commit_log_ms: 500,
            flush_commit_log_least_pages: 4,
            flush_commit_log_thorough_interval_ms: 10_000,
            flush_commit_log_timed: false,
            flush_interval_consume_queue_ms: 1000,
            flush_consume_queue_least_pages: 2,
            flush_consume_queue_thorough_interval_ms: 60_000,
            sync_flush_timeout_ms: 5000,
            warm_mapped_file_enable: false,
            flush_least_pages_when_warm_mapped_file: 1024 / 4 * 16,
            file_reserved_time_hours: 72,
            delete_when: "04".to_string(),
            disk_max_used_space_ratio: 75,
            clean_resource_interval_ms: 10_000,
            delete_commit_log_files_interval_ms: 100,
            delete_consume_queue_files_interval_ms: 100,
            destroy_mapped_file_interval_forcibly_ms: 120_000,
            clean_file_forcibly_enable: true,
            max_message_size: 4 * 1024 * 1024,
            check_crc_on_recover: true,
            message_index_enable: true,
            message_index_safe: false,
            max_hash_slot_num: 5_000_000,
            max_index_num: 5_000_000 * 4,
            max_msgs_num_batch: 64,
            max_transfer_bytes_on_message_in_memory: 256 * 1024,
            max_transfer_count_on_message_in_memory: 32,
            max_transfer_bytes_on_message_in_disk: 64 * 1024,
            max_transfer_count_on_message_in_disk: 8,
            access_message_in_memory_max_ratio: 40,
            os_page_cache_busy_timeout_ms: 1000,
            broker_role: BrokerRole::AsyncMaster,
            duplication_enable: false,
            message_delay_level: "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"
                .to_string(),
            enable_consume_queue_ext: false,
            mapped_file_size_consume_queue_ext: 48 * 1024 * 1024,
            bit_map_length_consume_queue_ext: 64,
        }
    }
}

impl MessageStoreConfig {
    /// A default config rooted at `root`.
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        MessageStoreConfig {
            store_path_root_dir: root.into(),
            ..Default::default()
        }
    }

    /// `<storePathCommitLog>` or `<root>/commitlog`.
    pub fn commit_log_dir(&self) -> PathBuf {
        self.store_path_commit_log
            .clone()
            .unwrap_or_else(|| self.store_path_root_dir.join("commitlog"))
    }

    /// `<root>/consumequeue`.
    pub fn consume_queue_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("consumequeue")
    }

    /// `<root>/consumequeue_ext`.
    pub fn consume_queue_ext_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("consumequeue_ext")
    }

    /// `<root>/index`.
    pub fn index_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("index")
    }

    /// `<root>/checkpoint`.
    pub fn checkpoint_path(&self) -> PathBuf {
        self.store_path_root_dir.join("checkpoint")
    }

    /// `<root>/abort`.
    pub fn abort_path(&self) -> PathBuf {
        self.store_path_root_dir.join("abort")
    }

    /// `<root>/lock`.
    pub fn lock_path(&self) -> PathBuf {
        self.store_path_root_dir.join("lock")
    }

    /// The consume-queue file size rounded up to whole 20-byte entries (as 4.8.0 does).
    pub fn consume_queue_file_size(&self) -> u64 {
        let unit = 20u64;
        self.mapped_file_size_consume_queue
            .div_ceil(unit)
            .saturating_mul(unit)
    }

    /// Rejects values the store cannot work with.
    pub fn validate(&self) -> Result<(), crate::StoreError> {
        let bad = |m: &str| Err(crate::StoreError::Config(m.to_string()));
        if self.mapped_file_size_commit_log < 4096 {
            return bad("mappedFileSizeCommitLog must be at least 4096");
        }
        if self.mapped_file_size_commit_log > i32::MAX as u64 + 1 {
            return bad("mappedFileSizeCommitLog must fit an int (<= 2 GiB)");
        }
        if self.mapped_file_size_consume_queue < 20 {
            return bad("mappedFileSizeConsumeQueue must hold at least one entry");
        }
        if self.enable_consume_queue_ext && self.mapped_file_size_consume_queue_ext < 64 {
            return bad("mappedFileSizeConsumeQueueExt must hold at least one unit");
        }
        if self.max_hash_slot_num == 0 || self.max_index_num < 2 {
            return bad("maxHashSlotNum must be > 0 and maxIndexNum >= 2");
        }
        if self.max_message_size < 128 {
            return bad("maxMessageSize is too small");
        }
        if let Err(e) = crate::record::parse_delay_levels(&self.message_delay_level) {
            return Err(crate::StoreError::Config(format!("messageDelayLevel: {e}")));
        }
        if self.disk_max_used_space_ratio == 0 || self.disk_max_used_space_ratio > 100 {
            return bad("diskMaxUsedSpaceRatio must be within 1..=100");
        }
        Ok(())
    }
}
