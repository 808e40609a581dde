//! END_TRANSACTION (37): the producer's verdict on a half message, sent after its local
//! transaction or in answer to a check. A commit stores the real message and then an op
//! record; a rollback stores only the op record; "unknown" (0) stores nothing and gets no
//! reply, so the check service asks again later. Also RESUME_CHECK_HALF_MESSAGE (323), which
//! puts a given-up half back into the half queue.
//!
//! The checks on the request are 4.8.0's: the half must exist at `commitLogOffset`, carry the
//! request's producer group and sit at `tranStateTableOffset` in the half queue. Nothing else
//! is remembered, so a second commit of the same half stores the message a second time, as
//! in 4.8.0 (the Java client sends one verdict per half and check).
//! Book: Part II, "Transactional messages". Mirrors `EndTransactionProcessor`,
//! `EndTransactionRequestHeader` and `AdminBrokerProcessor.resumeCheckHalfMessage`.

use super::bridge::{self, HalfError};
use super::{HALF_TOPIC, TRANSACTION_NOT_TYPE, TRANSACTION_ROLLBACK_TYPE};
use crate::broker::Broker;
use crate::config::BrokerRole;
use crate::processor::{ok, reply, Failure, Outcome};
use rmq_common::message::MessageExt;
use rmq_remoting::codes::response as rs;
use rmq_remoting::protocol::header::{
    EndTransactionRequestHeader, ResumeCheckHalfMessageRequestHeader,
};
use rmq_remoting::{Connection, RemotingCommand};
use rmq_store::PutMessageStatus;
use std::sync::Arc;

// ANCHOR: end_process
/// Serves END_TRANSACTION; `Ok(None)` means no reply (an "unknown" verdict, as in 4.8.0).
/// A header that cannot be read, or whose verdict is none of 0, 8 and 12 (4.8.0's
/// `checkFields`), is refused by the dispatcher with SYSTEM_ERROR.
pub async fn process(
    b: &Arc<Broker>,
    ctx: &Arc<Connection>,
    req: &RemotingCommand,
) -> Result<Option<RemotingCommand>, Failure> {
    let peer = ctx.remote_addr();
    let h: EndTransactionRequestHeader = req.decode_header()?;
    if b.broker_role() == BrokerRole::Slave {
        tracing::warn!("END_TRANSACTION from {peer}: this broker is a slave, refused");
        return Ok(Some(RemotingCommand::new_response(
            rs::SLAVE_NOT_AVAILABLE,
            None,
        )));
    }
    let source = if h.from_transaction_check {
        "answering a check"
    } else {
        "after its local transaction"
    };
    match h.commit_or_rollback {
        TRANSACTION_NOT_TYPE => {
            tracing::warn!(
                "producer {peer} {source}: transaction {} still unknown; nothing stored, remark {:?}",
                h.msg_id,
                req.remark
            );
            return Ok(None);
        }
        TRANSACTION_ROLLBACK_TYPE => tracing::warn!(
            "producer {peer} {source}: rollback of {}, remark {:?}",
            h.msg_id,
            req.remark
        ),
        _ if h.from_transaction_check => tracing::warn!(
            "producer {peer} {source}: commit of {}, remark {:?}",
            h.msg_id,
            req.remark
        ),
        _ => {}
    }
    let Some(half) = find_half(b, h.commit_log_offset).await else {
        // An answer to a check-back is oneway: without this line the refusal would be silent.
        tracing::warn!(
            "END_TRANSACTION from {peer} for {}: no half message at commit log offset {}",
            h.msg_id,
            h.commit_log_offset
        );
        return Ok(Some(reply(
            rs::SYSTEM_ERROR,
            "Find prepared transaction message failed",
        )));
    };
    if let Err(remark) = check_prepare_message(&half, &h) {
        tracing::warn!("END_TRANSACTION from {peer} for {}: {remark}", h.msg_id);
        return Ok(Some(reply(rs::SYSTEM_ERROR, remark)));
    }
    if h.commit_or_rollback == TRANSACTION_ROLLBACK_TYPE {
        delete_prepare_message(b, &half).await;
        return Ok(Some(ok()));
    }
    let (msg, props) = match bridge::final_message(&half, h.commit_log_offset) {
        Ok(m) => m,
        Err(e @ (HalfError::NoRealTopic | HalfError::BadRealQid(_))) => {
            tracing::error!("END_TRANSACTION from {peer}: {e}");
            return Ok(Some(reply(rs::SYSTEM_ERROR, e.to_string())));
        }
    };
    let (status, _) = bridge::put(b, msg, props).await;
    let (code, remark) = final_put_reply(status);
    if code == rs::SUCCESS {
        delete_prepare_message(b, &half).await;
    }
    Ok(Some(RemotingCommand::new_response(code, remark)))
}
// ANCHOR_END: end_process

/// The half message at `commit_log_offset`: a record of the half topic, or `None`. (4.8.0
/// takes any record there; a record of another topic then fails a later check or, without
/// `PGROUP`, throws.)
async fn find_half(b: &Arc<Broker>, commit_log_offset: i64) -> Option<MessageExt> {
    bridge::look_message(b, commit_log_offset)
        .await
        .filter(|m| m.topic == HALF_TOPIC)
}

// ANCHOR: check_prepare
/// `checkPrepareMessage`: the verdict must name the half exactly.
pub fn check_prepare_message(
    half: &MessageExt,
    h: &EndTransactionRequestHeader,
) -> Result<(), &'static str> {
    if bridge::producer_group(half) != Some(h.producer_group.as_str()) {
        return Err("The producer group wrong");
    }
    if half.queue_offset != h.tran_state_table_offset {
        return Err("The transaction state table offset wrong");
    }
    if half.commit_log_offset != h.commit_log_offset {
        return Err("The commit log offset wrong");
    }
    Ok(())
}
// ANCHOR_END: check_prepare

/// `sendFinalMessage`'s code and remark for the put of the committed message (they differ
/// from a send's).
pub fn final_put_reply(status: PutMessageStatus) -> (i32, Option<String>) {
    let fail = |code, remark: &str| (code, Some(remark.to_string()));
    match status {
        PutMessageStatus::PutOk
        | PutMessageStatus::FlushDiskTimeout
        | PutMessageStatus::FlushSlaveTimeout
        | PutMessageStatus::SlaveNotAvailable => (rs::SUCCESS, None),
        PutMessageStatus::CreateMappedFileFailed => {
            fail(rs::SYSTEM_ERROR, "Create mapped file failed.")
        }
        PutMessageStatus::MessageIllegal | PutMessageStatus::PropertiesSizeExceeded => fail(
            rs::MESSAGE_ILLEGAL,
            "The message is illegal, maybe msg body or properties length not matched. msg body length limit 128k, msg properties length limit 32k.",
        ),
        PutMessageStatus::ServiceNotAvailable => {
            fail(rs::SERVICE_NOT_AVAILABLE, "Service not available now.")
        }
        PutMessageStatus::OsPageCacheBusy => fail(
            rs::SYSTEM_ERROR,
            "OS page cache busy, please try another machine",
        ),
        PutMessageStatus::UnknownError => fail(rs::SYSTEM_ERROR, "UNKNOWN_ERROR"),
    }
}

/// Writes the op record of a resolved half (`deletePrepareMessage`); a failure is logged,
/// as in 4.8.0 (the half is then checked again later).
pub async fn delete_prepare_message(b: &Arc<Broker>, half: &MessageExt) {
    let (msg, props) = bridge::op_message(
        half.queue_id,
        half.queue_offset,
        b.store_host(),
        rmq_store::now_ms(),
    );
    let (status, _) = bridge::put(b, msg, props).await;
    if status != PutMessageStatus::PutOk {
        tracing::error!(
            "op record for half queue offset {} not written: {status:?}",
            half.queue_offset
        );
    }
}

/// RESUME_CHECK_HALF_MESSAGE: the record named by the offset message id `msgId` (normally one
/// in TRANS_CHECK_MAX_TIME_TOPIC) goes back into the half queue with its check count reset.
pub async fn resume_check_half_message(b: &Arc<Broker>, req: &RemotingCommand) -> Outcome {
    const THROWN: &str =
        "Exception was thrown when putting message back to RMQ_SYS_TRANS_HALF_TOPIC.";
    let h: ResumeCheckHalfMessageRequestHeader = req.decode_header()?;
    let offset = h
        .msg_id
        .as_deref()
        .and_then(|id| rmq_common::msgid::decode_offset_msg_id(id).ok())
        .map(|(_, offset)| offset);
    let record = match offset {
        Some(o) => bridge::look_message(b, o).await,
        None => None,
    };
    // 4.8.0 throws on an unknown id; a record that is no transaction message would be put
    // into the half queue and fail every check, so it is refused the same way.
    let Some(m) = record.filter(|m| bridge::real_queue(m).is_ok()) else {
        tracing::warn!(
            "RESUME_CHECK_HALF_MESSAGE: no transaction message at {:?}",
            h.msg_id
        );
        return Ok(reply(rs::SYSTEM_ERROR, THROWN));
    };
    let (msg, props) = bridge::resumed_half(&m);
    Ok(match bridge::put(b, msg, props).await {
        (PutMessageStatus::PutOk, _) => {
            tracing::info!(
                "put message back to {HALF_TOPIC}, real topic {:?}",
                m.property(rmq_common::message::keys::REAL_TOPIC)
            );
            ok()
        }
        _ => reply(
            rs::SYSTEM_ERROR,
            "Put message back to RMQ_SYS_TRANS_HALF_TOPIC failed.",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::TRANSACTION_COMMIT_TYPE;

    /// A commit of the test half (queue offset 4 at commit-log offset 1000, group PG).
    fn commit() -> EndTransactionRequestHeader {
        EndTransactionRequestHeader {
            producer_group: "PG".into(),
            tran_state_table_offset: 4,
            commit_log_offset: 1000,
            commit_or_rollback: TRANSACTION_COMMIT_TYPE,
            from_transaction_check: false,
            msg_id: "ABC".into(),
            transaction_id: None,
        }
    }

    #[test]
    fn verdict_must_name_the_half() {
        let h = commit();
        let mut half = crate::transaction::test_half();
        assert_eq!(check_prepare_message(&half, &h), Ok(()));
        half.queue_offset = 5;
        assert_eq!(
            check_prepare_message(&half, &h),
            Err("The transaction state table offset wrong")
        );
        half.queue_offset = 4;
        half.commit_log_offset = 1;
        assert_eq!(
            check_prepare_message(&half, &h),
            Err("The commit log offset wrong")
        );
        half.properties.clear();
        assert_eq!(
            check_prepare_message(&half, &h),
            Err("The producer group wrong")
        );
    }

    #[test]
    fn final_put_codes() {
        assert_eq!(
            final_put_reply(PutMessageStatus::FlushSlaveTimeout),
            (0, None)
        );
        assert_eq!(
            final_put_reply(PutMessageStatus::ServiceNotAvailable),
            (14, Some("Service not available now.".into()))
        );
        assert_eq!(final_put_reply(PutMessageStatus::MessageIllegal).0, 13);
    }
}
