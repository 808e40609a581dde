//! Headers of transactional messages: END_TRANSACTION (37) from the producer,
//! CHECK_TRANSACTION_STATE (39) from the broker back to the producer, and
//! RESUME_CHECK_HALF_MESSAGE (323) from an admin tool.
//!
//! The commit-or-rollback value is a `MessageSysFlag` transaction type; both headers that
//! carry one check it as 4.8.0's `checkFields` does, with 4.8.0's message.
//! Book: Appendix "Wire protocol" (transactions have no chapter yet). Mirrors `EndTransactionRequestHeader`,
//! `EndTransactionResponseHeader`, `CheckTransactionStateRequestHeader`,
//! `CheckTransactionStateResponseHeader`, `ResumeCheckHalfMessageRequestHeader`.

use crate::error::HeaderError;

/// `MessageSysFlag.TRANSACTION_NOT_TYPE`: an ordinary message (no transaction).
pub const TRANSACTION_NOT_TYPE: i32 = 0;
/// `MessageSysFlag.TRANSACTION_COMMIT_TYPE`: commit the half message.
pub const TRANSACTION_COMMIT_TYPE: i32 = 0x2 << 2;
/// `MessageSysFlag.TRANSACTION_ROLLBACK_TYPE`: roll the half message back.
pub const TRANSACTION_ROLLBACK_TYPE: i32 = 0x3 << 2;

/// The text of the `RemotingCommandException` both `checkFields` throw.
const COMMIT_OR_ROLLBACK_WRONG: &str = "commitOrRollback field wrong";

command_header! {
    /// END_TRANSACTION (37): the producer's verdict on a half message, sent oneway after
    /// the local transaction ran, or in answer to a check.
    EndTransactionRequestHeader check end_transaction_check {
        /// The producer group of the half message.
        producer_group: String = "producerGroup", required;
        /// The half message's offset in its consume queue (`RMQ_SYS_TRANS_HALF_TOPIC`).
        tran_state_table_offset: i64 = "tranStateTableOffset", required;
        /// The half message's commit-log offset.
        commit_log_offset: i64 = "commitLogOffset", required;
        /// [`TRANSACTION_COMMIT_TYPE`], [`TRANSACTION_ROLLBACK_TYPE`] or
        /// [`TRANSACTION_NOT_TYPE`] (unknown: the broker asks again later).
        commit_or_rollback: i32 = "commitOrRollback", required;
        /// The verdict answers a CHECK_TRANSACTION_STATE rather than the first send.
        from_transaction_check: bool = "fromTransactionCheck", default false;
        /// The message id the producer knows (its unique key).
        msg_id: String = "msgId", required;
        /// The transaction id.
        transaction_id: String = "transactionId", optional;
    }

    /// The response header of END_TRANSACTION. It has no fields, and 4.8.0's broker
    /// answers END_TRANSACTION without it.
    EndTransactionResponseHeader {}

    /// CHECK_TRANSACTION_STATE (39): a broker asks a producer of the group how a half
    /// message's transaction ended. The half message itself is the body.
    CheckTransactionStateRequestHeader {
        /// The half message's offset in its consume queue.
        tran_state_table_offset: i64 = "tranStateTableOffset", required;
        /// The half message's commit-log offset.
        commit_log_offset: i64 = "commitLogOffset", required;
        /// The message id the producer knows (its unique key).
        msg_id: String = "msgId", optional;
        /// The transaction id.
        transaction_id: String = "transactionId", optional;
        /// The offset message id of the half message.
        offset_msg_id: String = "offsetMsgId", optional;
    }

    /// A header for the producer's answer to a check, defined by 4.8.0 but not used by
    /// it (producers answer with END_TRANSACTION instead).
    CheckTransactionStateResponseHeader check check_state_response_check {
        /// The producer group.
        producer_group: String = "producerGroup", required;
        /// The half message's offset in its consume queue.
        tran_state_table_offset: i64 = "tranStateTableOffset", required;
        /// The half message's commit-log offset.
        commit_log_offset: i64 = "commitLogOffset", required;
        /// [`TRANSACTION_COMMIT_TYPE`] or [`TRANSACTION_ROLLBACK_TYPE`].
        commit_or_rollback: i32 = "commitOrRollback", required;
    }

    /// RESUME_CHECK_HALF_MESSAGE (323): an admin asks the broker to check a half message
    /// again although its check count ran out.
    ResumeCheckHalfMessageRequestHeader {
        /// The half message's offset message id.
        msg_id: String = "msgId", optional;
    }
}

/// `EndTransactionRequestHeader.checkFields`: not, commit or rollback.
fn end_transaction_check(h: &EndTransactionRequestHeader) -> Result<(), HeaderError> {
    match h.commit_or_rollback {
        TRANSACTION_NOT_TYPE | TRANSACTION_COMMIT_TYPE | TRANSACTION_ROLLBACK_TYPE => Ok(()),
        _ => Err(HeaderError::Check(COMMIT_OR_ROLLBACK_WRONG.to_string())),
    }
}

/// `CheckTransactionStateResponseHeader.checkFields`: commit or rollback only.
fn check_state_response_check(h: &CheckTransactionStateResponseHeader) -> Result<(), HeaderError> {
    match h.commit_or_rollback {
        TRANSACTION_COMMIT_TYPE | TRANSACTION_ROLLBACK_TYPE => Ok(()),
        _ => Err(HeaderError::Check(COMMIT_OR_ROLLBACK_WRONG.to_string())),
    }
}
