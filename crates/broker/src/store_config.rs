//! The store half of `broker.conf`: 4.8.0 keeps store settings (`MessageStoreConfig`) in the
//! same properties file as the broker's, so this module picks the store keys out of the parsed
//! file and builds rmq-store's config, with the same key names and units as 4.8.0. A bad value is
//! an error naming the key. Book: Part II, "Starting a broker". Mirrors the
//! `MixAll.properties2Object(properties, messageStoreConfig)` step of `BrokerStartup`.

use crate::config::{BrokerConfig, BrokerRole, ConfigError, FlushDiskType};
use rmq_store::MessageStoreConfig;
use std::path::PathBuf;
use std::str::FromStr;

fn get<T: FromStr>(cfg: &BrokerConfig, key: &str, into: &mut T) -> Result<(), ConfigError>
where
    T::Err: std::fmt::Display,
{
    if let Some(v) = cfg.raw.get(key) {
        *into = v.trim().parse::<T>().map_err(|e| ConfigError::BadValue {
            key: key.into(),
            value: v.clone(),
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

/// The store keys the broker accepts without interpreting them itself.
pub const STORE_KEYS: &[&str] = &[
    "storePathCommitLog",
    "mappedFileSizeCommitLog",
    "mappedFileSizeConsumeQueue",
    "flushIntervalCommitLog",
    "flushCommitLogLeastPages",
    "flushCommitLogThoroughInterval",
    "flushCommitLogTimed",
    "flushIntervalConsumeQueue",
    "flushConsumeQueueLeastPages",
    "syncFlushTimeout",
    "warmMapedFileEnable",
    "fileReservedTime",
    "deleteWhen",
    "diskMaxUsedSpaceRatio",
    "cleanResourceInterval",
    "checkCRCOnRecover",
    "messageIndexEnable",
    "maxHashSlotNum",
    "maxIndexNum",
    "messageDelayLevel",
    "enableConsumeQueueExt",
    "mappedFileSizeConsumeQueueExt",
    "bitMapLengthConsumeQueueExt",
];

// ANCHOR: store_config
/// Builds the store's config from the broker's: root dir, flush type and role come from the
/// broker fields, everything else from the raw store keys.
pub fn store_config(cfg: &BrokerConfig) -> Result<MessageStoreConfig, ConfigError> {
    let mut s = MessageStoreConfig::with_root(cfg.store_path_root_dir.clone());
    if let Some(p) = cfg.raw.get("storePathCommitLog") {
        s.store_path_commit_log = Some(PathBuf::from(p));
    }
    s.flush_disk_type = match cfg.flush_disk_type {
        FlushDiskType::AsyncFlush => rmq_store::FlushDiskType::AsyncFlush,
        FlushDiskType::SyncFlush => rmq_store::FlushDiskType::SyncFlush,
    };
    s.broker_role = match cfg.broker_role {
        BrokerRole::AsyncMaster => rmq_store::BrokerRole::AsyncMaster,
        BrokerRole::SyncMaster => rmq_store::BrokerRole::SyncMaster,
        BrokerRole::Slave => rmq_store::BrokerRole::Slave,
    };
    s.max_message_size = cfg.max_message_size;
    s.os_page_cache_busy_timeout_ms = cfg.os_page_cache_busy_time_out_mills.max(0) as u64;
    get(
        cfg,
        "mappedFileSizeCommitLog",
        &mut s.mapped_file_size_commit_log,
    )?;
    get(
        cfg,
        "mappedFileSizeConsumeQueue",
        &mut s.mapped_file_size_consume_queue,
    )?;
    get(
        cfg,
        "flushIntervalCommitLog",
        &mut s.flush_interval_commit_log_ms,
    )?;
    get(
        cfg,
        "flushCommitLogLeastPages",
        &mut s.flush_commit_log_least_pages,
    )?;
    get(
        cfg,
        "flushCommitLogThoroughInterval",
        &mut s.flush_commit_log_thorough_interval_ms,
    )?;
    get(cfg, "flushCommitLogTimed", &mut s.flush_commit_log_timed)?;
    get(
        cfg,
        "flushIntervalConsumeQueue",
        &mut s.flush_interval_consume_queue_ms,
    )?;
    get(
        cfg,
        "flushConsumeQueueLeastPages",
        &mut s.flush_consume_queue_least_pages,
    )?;
    get(cfg, "syncFlushTimeout", &mut s.sync_flush_timeout_ms)?;
    get(cfg, "warmMapedFileEnable", &mut s.warm_mapped_file_enable)?;
    get(cfg, "fileReservedTime", &mut s.file_reserved_time_hours)?;
    get(cfg, "deleteWhen", &mut s.delete_when)?;
    get(
        cfg,
        "diskMaxUsedSpaceRatio",
        &mut s.disk_max_used_space_ratio,
    )?;
    get(
        cfg,
        "cleanResourceInterval",
        &mut s.clean_resource_interval_ms,
    )?;
    get(cfg, "checkCRCOnRecover", &mut s.check_crc_on_recover)?;
    get(cfg, "messageIndexEnable", &mut s.message_index_enable)?;
    get(cfg, "maxHashSlotNum", &mut s.max_hash_slot_num)?;
    get(cfg, "maxIndexNum", &mut s.max_index_num)?;
    get(cfg, "messageDelayLevel", &mut s.message_delay_level)?;
    get(
        cfg,
        "enableConsumeQueueExt",
        &mut s.enable_consume_queue_ext,
    )?;
    get(
        cfg,
        "mappedFileSizeConsumeQueueExt",
        &mut s.mapped_file_size_consume_queue_ext,
    )?;
    get(
        cfg,
        "bitMapLengthConsumeQueueExt",
        &mut s.bit_map_length_consume_queue_ext,
    )?;
    Ok(s)
}
// ANCHOR_END: store_config

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_keys_are_read_and_bad_values_named() {
        let props = crate::config::parse_properties(
            "storePathRootDir=/tmp/x\nmappedFileSizeCommitLog=1048576\nflushDiskType=SYNC_FLUSH\nwarmMapedFileEnable=true\n",
        );
        let (cfg, unknown) = BrokerConfig::from_properties(&props).unwrap();
        assert!(unknown.is_empty(), "{unknown:?}");
        let s = store_config(&cfg).unwrap();
        assert_eq!(s.mapped_file_size_commit_log, 1_048_576);
        assert_eq!(s.flush_disk_type, rmq_store::FlushDiskType::SyncFlush);
        assert!(s.warm_mapped_file_enable);
        assert_eq!(s.commit_log_dir(), PathBuf::from("/tmp/x/commitlog"));
        let props = crate::config::parse_properties("maxIndexNum=lots\n");
        let (cfg, _) = BrokerConfig::from_properties(&props).unwrap();
        let err = store_config(&cfg).unwrap_err().to_string();
        assert!(err.contains("maxIndexNum"), "{err}");
    }
}
