//! The transaction producer: sends a half message, runs the application's local transaction,
//! and tells the broker to commit or roll back; answers the broker's check-backs for halves
//! whose outcome the broker never heard.
//!
//! ```text
//! producer                         broker
//!   | SEND_MESSAGE_V2 (TRAN_MSG=true) |  half stored, invisible
//!   |<------------- SEND_OK ----------|
//!   | execute_local_transaction       |
//!   | END_TRANSACTION 8/12/0 (oneway) |  commit: message stored in its topic
//!   |          ... silence ...        |
//!   |<--- CHECK_TRANSACTION_STATE ----|  every check interval, after the timeout
//!   | check_local_transaction         |
//!   | END_TRANSACTION (from check) -->|
//! ```
//!
//! The listener's methods are plain functions: they run on tokio's blocking pool, so a local
//! transaction may block on a database call. A panic in them counts as UNKNOW, as an
//! exception does in 4.8.0 (the broker then asks again).
//! Book: Part II, "Transactional messages". Mirrors `TransactionMQProducer`,
//! `TransactionListener`, `LocalTransactionState` and `DefaultMQProducerImpl`'s
//! `sendMessageInTransaction`, `endTransaction` and `checkTransactionState`.

use std::collections::HashSet;
use std::sync::Arc;

use parking_lot::Mutex;
use rmq_common::message::{MessageExt, TRANSACTION_COMMIT_TYPE, TRANSACTION_ROLLBACK_TYPE};
use rmq_remoting::protocol::header::{
    CheckTransactionStateRequestHeader, EndTransactionRequestHeader,
};
use rmq_remoting::Connection;
use tracing::{debug, warn};

use super::{Producer, ProducerConfig};
use crate::api::{end_transaction_command, SendResult, SendStatus};
use crate::error::{ClientError, Result};
use crate::instance::TransactionCheckHook;
use crate::message::{keys, Message};

// ANCHOR: listener
/// The outcome of a local transaction (`LocalTransactionState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalTransactionState {
    /// Make the message visible.
    CommitMessage,
    /// Drop the message.
    RollbackMessage,
    /// Not known yet: the broker asks again after `transactionTimeOut`.
    Unknow,
}

/// The application's side of a transaction (`TransactionListener`).
pub trait TransactionListener: Send + Sync + 'static {
    /// Runs the local transaction after the half message was stored. `transaction_id` is
    /// the message's `UNIQ_KEY`; a check-back names the same id.
    fn execute_local_transaction(
        &self,
        msg: &Message,
        transaction_id: &str,
    ) -> LocalTransactionState;

    /// Answers a check-back: what became of the transaction of `msg` (its `msg_id()` is the
    /// transaction id)?
    fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState;
}
// ANCHOR_END: listener

impl LocalTransactionState {
    /// The END_TRANSACTION `commitOrRollback` value.
    pub fn wire_value(self) -> i32 {
        match self {
            LocalTransactionState::CommitMessage => TRANSACTION_COMMIT_TYPE,
            LocalTransactionState::RollbackMessage => TRANSACTION_ROLLBACK_TYPE,
            LocalTransactionState::Unknow => 0,
        }
    }

    /// 4.8.0's enum constant name.
    pub fn name(self) -> &'static str {
        match self {
            LocalTransactionState::CommitMessage => "COMMIT_MESSAGE",
            LocalTransactionState::RollbackMessage => "ROLLBACK_MESSAGE",
            LocalTransactionState::Unknow => "UNKNOW",
        }
    }
}

/// What `send_message_in_transaction` returns (`TransactionSendResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionSendResult {
    /// The half message's send result.
    pub send_result: SendResult,
    /// The transaction id (the message's `UNIQ_KEY`).
    pub transaction_id: String,
    /// What the local transaction answered (ROLLBACK when the half was not stored safely).
    pub local_transaction_state: LocalTransactionState,
}

/// A producer of transactional messages (`TransactionMQProducer`); clones share everything.
#[derive(Clone)]
pub struct TransactionProducer {
    inner: Arc<TxInner>,
}

struct TxInner {
    producer: Producer,
    listener: Arc<dyn TransactionListener>,
    /// Brokers this producer has announced itself to since its last half message there.
    announced: Mutex<HashSet<String>>,
}

impl TransactionProducer {
    /// Starts the producer and registers it for its group's check-backs.
    pub async fn start(
        config: ProducerConfig,
        listener: Arc<dyn TransactionListener>,
    ) -> Result<TransactionProducer> {
        let producer = Producer::start(config).await?;
        let inner = Arc::new(TxInner {
            producer,
            listener,
            announced: Mutex::new(HashSet::new()),
        });
        let hook: Arc<dyn TransactionCheckHook> = Arc::new(CheckHook {
            inner: Arc::downgrade(&inner),
        });
        let group = inner.producer.config().group.clone();
        inner
            .producer
            .instance()
            .register_transaction_checker(&group, hook);
        Ok(TransactionProducer { inner })
    }

    /// The producer underneath (ordinary sends work too).
    pub fn producer(&self) -> &Producer {
        &self.inner.producer
    }

    // ANCHOR: send_in_transaction
    /// Sends `msg` as a half message, runs the local transaction on it, and sends the
    /// verdict (`sendMessageInTransaction`). A delay level is dropped (a transactional message
    /// cannot be delayed). Fails only when the half could not be sent; a lost verdict is
    /// logged and left to the broker's check-back.
    pub async fn send_message_in_transaction(
        &self,
        mut msg: Message,
    ) -> Result<TransactionSendResult> {
        let p = &self.inner.producer;
        msg.remove_property(keys::DELAY);
        msg.put_property(keys::TRAN_MSG, "true");
        msg.put_property(keys::PGROUP, p.config().group.clone());
        let transaction_id = p.stamp_uniq_key(&mut msg);
        let send_result = p
            .send(msg.clone())
            .await
            .map_err(|e| ClientError::InvalidArgument(format!("send message Exception: {e}")))?;
        self.announce(&send_result).await;
        let (state, error) = match send_result.send_status {
            SendStatus::SendOk => {
                let listener = self.inner.listener.clone();
                let id = transaction_id.clone();
                let ran = tokio::task::spawn_blocking(move || {
                    listener.execute_local_transaction(&msg, &id)
                })
                .await;
                match ran {
                    Ok(s) => (s, None),
                    Err(e) => (LocalTransactionState::Unknow, Some(e.to_string())),
                }
            }
            // Stored, but not as safely as asked: 4.8.0 rolls back.
            SendStatus::FlushDiskTimeout
            | SendStatus::FlushSlaveTimeout
            | SendStatus::SlaveNotAvailable => (LocalTransactionState::RollbackMessage, None),
        };
        if state != LocalTransactionState::CommitMessage {
            debug!(
                transaction_id,
                state = state.name(),
                "local transaction not committed"
            );
        }
        let remark = error.map(|e| format!("executeLocalTransactionBranch exception: {e}"));
        if let Err(e) = self.end_transaction(&send_result, state, remark).await {
            warn!(transaction_id, error = %e, "local transaction {} but END_TRANSACTION failed; the broker will check back", state.name());
        }
        Ok(TransactionSendResult {
            send_result,
            transaction_id,
            local_transaction_state: state,
        })
    }
    // ANCHOR_END: send_in_transaction

    /// END_TRANSACTION to the master of the half's broker (`endTransaction`).
    async fn end_transaction(
        &self,
        sr: &SendResult,
        state: LocalTransactionState,
        remark: Option<String>,
    ) -> Result<()> {
        let inst = self.inner.producer.instance();
        let id = if sr.offset_msg_id.is_empty() {
            &sr.msg_id
        } else {
            &sr.offset_msg_id
        };
        let (_, commit_log_offset) = rmq_common::msgid::decode_offset_msg_id(id)
            .map_err(|e| ClientError::InvalidArgument(format!("offset msg id {id:?}: {e}")))?;
        let addr = inst
            .find_broker_addr_in_publish(&sr.message_queue.broker_name)
            .ok_or_else(|| ClientError::BrokerNotFound(sr.message_queue.broker_name.clone()))?;
        let header = EndTransactionRequestHeader {
            producer_group: self.inner.producer.config().group.clone(),
            tran_state_table_offset: sr.queue_offset,
            commit_log_offset,
            commit_or_rollback: state.wire_value(),
            from_transaction_check: false,
            msg_id: sr.msg_id.clone(),
            transaction_id: sr.transaction_id.clone(),
        };
        inst.api()
            .end_transaction_oneway(&addr, &header, remark)
            .await
    }

    /// The broker learns which connection to ask from the producer's heartbeats. 4.8.0
    /// sends the first one up to 30 s after start; a check-back would find no producer until
    /// then, so a heartbeat goes out at once after the first half message to a broker.
    async fn announce(&self, sr: &SendResult) {
        let inst = self.inner.producer.instance();
        let Some(addr) = inst.find_broker_addr_in_publish(&sr.message_queue.broker_name) else {
            return;
        };
        if self.inner.announced.lock().insert(addr) {
            inst.send_heartbeat_to_all_brokers().await;
        }
    }

    /// Unregisters the group and stops the producer.
    pub async fn shutdown(&self) {
        self.inner.producer.shutdown().await;
    }
}

/// Routes the broker's checks to the listener without keeping the producer alive.
struct CheckHook {
    inner: std::sync::Weak<TxInner>,
}

// ANCHOR: check_hook
impl TransactionCheckHook for CheckHook {
    /// `checkTransactionState`: run the check listener in the background, then answer
    /// END_TRANSACTION (`fromTransactionCheck=true`) oneway on the connection the check came
    /// on, naming the offsets the check named.
    fn check_transaction_state(
        &self,
        broker: Arc<Connection>,
        check: CheckTransactionStateRequestHeader,
        msg: MessageExt,
    ) {
        let Some(inner) = self.inner.upgrade() else {
            return;
        };
        tokio::spawn(async move {
            let listener = inner.listener.clone();
            let shown = msg.clone();
            let (state, remark) =
                match tokio::task::spawn_blocking(move || listener.check_local_transaction(&shown))
                    .await
                {
                    Ok(s) => (s, None),
                    Err(e) => (
                        LocalTransactionState::Unknow,
                        Some(format!("checkLocalTransactionState Exception: {e}")),
                    ),
                };
            let header = EndTransactionRequestHeader {
                producer_group: inner.producer.config().group.clone(),
                tran_state_table_offset: check.tran_state_table_offset,
                commit_log_offset: check.commit_log_offset,
                commit_or_rollback: state.wire_value(),
                from_transaction_check: true,
                msg_id: msg.msg_id(),
                transaction_id: check.transaction_id,
            };
            if state != LocalTransactionState::CommitMessage {
                debug!(msg_id = %header.msg_id, state = state.name(), "check-back answered");
            }
            let mut cmd = end_transaction_command(&header, remark);
            inner
                .producer
                .instance()
                .api()
                .remoting
                .apply_rpc_hook(&broker.remote_addr.to_string(), &mut cmd);
            if let Err(e) = broker.send_oneway(cmd).await {
                warn!(broker = %broker.remote_addr, error = %e, "endTransactionOneway failed");
            }
        });
    }
}
// ANCHOR_END: check_hook

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_on_the_wire() {
        assert_eq!(LocalTransactionState::CommitMessage.wire_value(), 8);
        assert_eq!(LocalTransactionState::RollbackMessage.wire_value(), 12);
        assert_eq!(LocalTransactionState::Unknow.wire_value(), 0);
        let h = EndTransactionRequestHeader {
            producer_group: "PG".into(),
            tran_state_table_offset: 3,
            commit_log_offset: 99,
            commit_or_rollback: LocalTransactionState::CommitMessage.wire_value(),
            from_transaction_check: true,
            msg_id: "ID".into(),
            transaction_id: None,
        };
        let cmd = end_transaction_command(&h, Some("why".into()));
        assert_eq!(cmd.code, rmq_remoting::codes::request::END_TRANSACTION);
        // The broker reads back every field, and its checkFields accepts the verdict.
        assert_eq!(
            cmd.decode_header::<EndTransactionRequestHeader>().unwrap(),
            h
        );
        // Seven fields, the absent transaction id left out.
        assert_eq!(cmd.ext_fields.len(), 6);
        assert_eq!(cmd.remark.as_deref(), Some("why"));
    }
}
