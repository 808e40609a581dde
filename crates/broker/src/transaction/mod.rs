//! Transactional messages: a producer stores a *half* message that no consumer can see, runs
//! its local transaction, and then tells the broker to commit (the message moves to its real
//! topic) or to roll back (it never appears). When the producer goes silent, the broker asks
//! it (a *check-back*) until it gets an answer or gives up.
//!
//! Everything lives in the store, so it survives a restart and, in DLedger mode, a leader
//! change:
//!
//! | what | where |
//! |---|---|
//! | half messages | topic `RMQ_SYS_TRANS_HALF_TOPIC`, queue 0; `REAL_TOPIC` / `REAL_QID` say where they go on commit |
//! | "resolved" marks | topic `RMQ_SYS_TRANS_OP_HALF_TOPIC`, queue 0: tag `d`, body = the half's queue offset |
//! | check cursors | consumer offsets of group `CID_RMQ_SYS_TRANS` on both queues (`consumerOffset.json`) |
//! | given-up halves | topic `TRANS_CHECK_MAX_TIME_TOPIC` |
//!
//! The modules: [`bridge`] builds the records (half, final, op, renewed copies), [`end`]
//! serves END_TRANSACTION and RESUME_CHECK_HALF_MESSAGE, [`check`] is the check service.
//! Book: Part II, "Transactional messages". Mirrors the 4.8.0 package
//! `org.apache.rocketmq.broker.transaction` (`TransactionalMessageServiceImpl`,
//! `TransactionalMessageBridge`, `TransactionalMessageCheckService`) and
//! `EndTransactionProcessor`.

pub mod bridge;
pub mod check;
pub mod end;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The transaction settings of broker.conf (declared in the key table, read live).
pub use crate::config::TransactionConfig;

/// Half messages wait here (`TopicValidator.RMQ_SYS_TRANS_HALF_TOPIC`), always in queue 0.
pub const HALF_TOPIC: &str = "RMQ_SYS_TRANS_HALF_TOPIC";
/// One op record per resolved half (`RMQ_SYS_TRANS_OP_HALF_TOPIC`), same queue id as the half.
pub const OP_TOPIC: &str = "RMQ_SYS_TRANS_OP_HALF_TOPIC";
/// Halves checked `transactionCheckMax` times end here (`RMQ_SYS_TRANS_CHECK_MAX_TIME_TOPIC`).
pub const CHECK_MAX_TIME_TOPIC: &str = "TRANS_CHECK_MAX_TIME_TOPIC";
/// The group whose consumer offsets are the check service's cursors (`MixAll.CID_SYS_RMQ_TRANS`).
pub const CHECK_GROUP: &str = "CID_RMQ_SYS_TRANS";
/// The tag of an op record (`TransactionalMessageUtil.REMOVETAG`).
pub const REMOVE_TAG: &str = "d";

pub use rmq_common::message::{
    TRANSACTION_COMMIT_TYPE, TRANSACTION_PREPARED_TYPE, TRANSACTION_ROLLBACK_TYPE,
};
/// sysFlag transaction bits (`MessageSysFlag`): none (the other three are rmq-common's).
pub const TRANSACTION_NOT_TYPE: i32 = 0;
/// The two sysFlag bits that hold the transaction type.
pub const TRANSACTION_TYPE_MASK: i32 = 0xC;

/// The broker's transaction state that is neither in the store nor in the configuration:
/// the counter that spreads check-backs over a group's producer connections.
#[derive(Default)]
pub struct TransactionService {
    /// `ProducerManager.positiveAtomicCounter`: one counter for every group.
    channel_counter: AtomicUsize,
}

impl TransactionService {
    // ANCHOR: available_channel
    /// A live connection of a producer of `group` (`ProducerManager.getAvailableChannel`):
    /// start at the next counter value and take the first of up to three connections that
    /// is still open.
    pub fn available_channel(
        &self,
        producers: &crate::client::producer_manager::ProducerManager,
        group: &str,
    ) -> Option<Arc<rmq_remoting::Connection>> {
        let mut channels = producers.channels(group);
        if channels.is_empty() {
            return None;
        }
        channels.sort_by_key(|c| c.conn.id());
        let n = channels.len();
        let start = self
            .channel_counter
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1)
            % n;
        (0..3.min(n))
            .map(|k| &channels[(start + k) % n])
            .find(|c| !c.conn.is_closed())
            .map(|c| c.conn.clone())
    }
    // ANCHOR_END: available_channel
}

/// Whether a send is the half message of a transaction: `TRAN_MSG` reads as true
/// (`Boolean.parseBoolean`). A retry copy of a committed transactional message still carries
/// `TRAN_MSG`; when an old client sends it back as an ordinary send (reconsume times > 0 and
/// a delay level), it is not a half message (4.8.0 `SendMessageProcessor.sendMessage`).
pub fn is_half_send(props: &[(String, String)], reconsume_times: i32) -> bool {
    let get = |k: &str| {
        props
            .iter()
            .find(|(pk, _)| pk == k)
            .map(|(_, v)| v.as_str())
    };
    let tran =
        get(rmq_common::message::keys::TRAN_MSG).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let delay: i32 = get(rmq_common::message::keys::DELAY)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    tran && !(reconsume_times > 0 && delay > 0)
}

/// A half message as the store returns it, for the unit tests of this module: queue offset 4
/// at commit-log offset 1000, group PG, real queue T/3, compressed body, flag 7.
#[cfg(test)]
pub(crate) fn test_half() -> rmq_common::message::MessageExt {
    rmq_common::message::MessageExt {
        store_size: 0,
        body_crc: 9,
        queue_id: 0,
        flag: 7,
        queue_offset: 4,
        commit_log_offset: 1000,
        sys_flag: 0x1, // compressed
        born_timestamp: 1_600_000_000_000,
        born_host: "127.0.0.1:50000".parse().unwrap(),
        store_timestamp: 1_600_000_000_010,
        store_host: "127.0.0.1:10911".parse().unwrap(),
        reconsume_times: 2,
        prepared_transaction_offset: 0,
        body: bytes::Bytes::from_static(b"zzz"),
        topic: HALF_TOPIC.into(),
        properties: [
            ("TRAN_MSG", "true"),
            ("PGROUP", "PG"),
            ("TAGS", "TagA"),
            ("UNIQ_KEY", "ABC"),
            ("WAIT", "true"),
            ("REAL_TOPIC", "T"),
            ("REAL_QID", "3"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn half_sends_are_recognised_as_4_8_0_does() {
        assert!(is_half_send(&props(&[("TRAN_MSG", "true")]), 0));
        assert!(is_half_send(&props(&[("TRAN_MSG", "TRUE")]), 0));
        assert!(!is_half_send(&props(&[("TRAN_MSG", "yes")]), 0));
        assert!(!is_half_send(&props(&[("TAGS", "a")]), 0));
        // an old client's retry copy of a committed message
        assert!(!is_half_send(
            &props(&[("TRAN_MSG", "true"), ("DELAY", "3")]),
            1
        ));
        assert!(is_half_send(
            &props(&[("TRAN_MSG", "true"), ("DELAY", "3")]),
            0
        ));
    }
}
