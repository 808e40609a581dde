//! Request dispatch: one `RequestProcessor` for both listeners that routes each request code
//! to its handler module and answers unknown codes as 4.8.0 does. Store calls that may wait on
//! the disk run on the blocking pool so the reactor never waits on it; an ASYNC_FLUSH put, a
//! copy into the mapped file, runs in place (see [`run_put`]). Mirrors `BrokerController.registerProcessor`
//! and `NettyRemotingAbstract.processRequestCommand`. Book: Part II, "Inside a broker".

pub mod admin;
pub mod broker2client;
pub mod client;
pub mod consumer;
pub mod ops;
pub mod pull;
pub mod query;
pub mod reply_message;
pub mod send;
pub mod store_stats;

use crate::broker::Broker;
use crate::flow_control::SendSlot;
use futures::future::BoxFuture;
use rmq_common::message::{encode_properties, keys};
use rmq_common::MessageExtBrokerInner;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::{Connection, HeaderError, RemotingCommand, RemotingError, RequestProcessor};
use rmq_store::{AppendMessageResult, DefaultMessageStore, PutMessageStatus};
use std::sync::Arc;

/// Appended to several 4.8.0 remarks.
pub const FAQ_SUFFIX: &str = "\nSee http://rocketmq.apache.org/docs/faq/ for further details.";

/// The broker's request dispatcher: one per broker, shared by every connection.
pub struct BrokerProcessor {
    broker: Arc<Broker>,
}

impl BrokerProcessor {
    /// The dispatcher of `broker`.
    pub fn new(broker: Arc<Broker>) -> Self {
        BrokerProcessor { broker }
    }
}

/// Why a request could not be served. The dispatcher answers each with SYSTEM_ERROR and
/// the error's text as the remark, and logs it with the peer and the request code (4.8.0
/// answers an exception the same way, with the exception as the remark).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A custom header that cannot be read (a missing or unparsable field, or a value the
    /// header's check refuses).
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// A body that cannot be read.
    #[error(transparent)]
    Body(#[from] RemotingError),
    /// Anything else that went wrong while serving (a store task that failed, a value
    /// 4.8.0 answers with an exception such as a bad `DELAY` property).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<tokio::task::JoinError> for Failure {
    fn from(e: tokio::task::JoinError) -> Self {
        Failure::Internal(e.into())
    }
}

impl Failure {
    /// What the log line calls it.
    fn kind(&self) -> &'static str {
        match self {
            Failure::Header(_) => "bad request header",
            Failure::Body(_) => "bad request body",
            Failure::Internal(_) => "request failed",
        }
    }
}

/// What a handler returns: the reply, or why there is none but SYSTEM_ERROR.
pub type Outcome = Result<RemotingCommand, Failure>;

/// Shorthand for an error reply.
pub fn reply(code: i32, remark: impl Into<String>) -> RemotingCommand {
    RemotingCommand::new_response(code, remark.into())
}

/// An empty SUCCESS response.
pub fn ok() -> RemotingCommand {
    RemotingCommand::new_response(rs::SUCCESS, None)
}

impl RequestProcessor for BrokerProcessor {
    fn process(
        &self,
        ctx: Arc<Connection>,
        req: RemotingCommand,
    ) -> BoxFuture<'static, Option<RemotingCommand>> {
        let b = self.broker.clone();
        Box::pin(async move {
            let code = req.code;
            // ACL (aclEnable=true): 4.8.0's server RPC hook, before any processor
            if let Some(refusal) = b
                .acl()
                .and_then(|a| crate::acl::gate(a, &ctx.remote_addr(), &req))
            {
                return refusal;
            }
            // ANCHOR: broker_dispatch
            let res = match code {
                rq::SEND_MESSAGE | rq::SEND_MESSAGE_V2 | rq::SEND_BATCH_MESSAGE => {
                    send::process(&b, &ctx, req).await
                }
                rq::CONSUMER_SEND_MSG_BACK => send::send_back(&b, req).await,
                rq::SEND_REPLY_MESSAGE | rq::SEND_REPLY_MESSAGE_V2 => {
                    reply_message::process(&b, &ctx, req).await
                }
                code if broker2client::handles(code) => broker2client::process(&b, &ctx, req).await,
                code if ops::handles(code) => ops::process(&b, &ctx, req).await,
                code if crate::acl::admin::handles(code) => {
                    crate::acl::admin::process(&b, &ctx, req).await?
                }
                rq::PULL_MESSAGE => pull::process(&b, &ctx, req).await,
                rmq_remoting::codes::workbook::GET_STORE_STATS => store_stats::process(&b).await,
                // An "unknown" verdict gets no reply, as in 4.8.0.
                rq::END_TRANSACTION => match crate::transaction::end::process(&b, &ctx, &req).await
                {
                    Ok(None) => return None,
                    Ok(Some(r)) => Ok(r),
                    Err(e) => Err(e),
                },
                rq::RESUME_CHECK_HALF_MESSAGE => {
                    crate::transaction::end::resume_check_half_message(&b, &req).await
                }
                rq::QUERY_CONSUMER_OFFSET
                | rq::UPDATE_CONSUMER_OFFSET
                | rq::GET_CONSUMER_LIST_BY_GROUP => consumer::process(&b, &ctx, req).await,
                rq::HEART_BEAT
                | rq::UNREGISTER_CLIENT
                | rq::CHECK_CLIENT_CONFIG
                | rq::LOCK_BATCH_MQ
                | rq::UNLOCK_BATCH_MQ => client::process(&b, &ctx, req).await,
                rq::GET_MAX_OFFSET
                | rq::GET_MIN_OFFSET
                | rq::GET_EARLIEST_MSG_STORETIME
                | rq::SEARCH_OFFSET_BY_TIMESTAMP
                | rq::QUERY_MESSAGE
                | rq::VIEW_MESSAGE_BY_ID => query::process(&b, &ctx, req).await,
                _ => match admin::process(&b, &ctx, req).await {
                    Some(r) => r,
                    None => {
                        tracing::warn!(peer = %ctx.remote_addr(), code, "request code not supported");
                        Ok(reply(
                            rs::REQUEST_CODE_NOT_SUPPORTED,
                            format!(" request type {code} not supported"),
                        ))
                    }
                },
            };
            // ANCHOR_END: broker_dispatch
            // A refused request names its code, the peer and the reason (a body or header
            // that even fastjson's rules cannot read ends here).
            Some(res.unwrap_or_else(|e| {
                tracing::warn!(peer = %ctx.remote_addr(), code, "request refused ({}): {e:#}", e.kind());
                reply(rs::SYSTEM_ERROR, e.to_string())
            }))
        })
    }

    fn on_close(&self, ctx: &Connection) {
        let changed = self.broker.consumers().channel_closed(ctx.id());
        self.broker.producers().channel_closed(ctx.id());
        for g in changed {
            self.broker.consumers().notify_ids_changed(&g);
            crate::filter::on_group_maybe_gone(&self.broker, &g);
        }
    }
}

/// A message's properties as pairs plus helpers to edit them before the append.
pub fn set_prop(props: &mut Vec<(String, String)>, k: &str, v: impl Into<String>) {
    let v = v.into();
    match props.iter_mut().find(|(pk, _)| pk == k) {
        Some(p) => p.1 = v,
        None => props.push((k.to_string(), v)),
    }
}

/// The value of property `k` in a decoded property list.
pub fn get_prop<'a>(props: &'a [(String, String)], k: &str) -> Option<&'a str> {
    props
        .iter()
        .find(|(pk, _)| pk == k)
        .map(|(_, v)| v.as_str())
}

/// The DELAY level as 4.8.0's `Message.getDelayTimeLevel` reads it: 0 when absent, else
/// `Integer.parseInt` of the value (an optional sign and decimal digits within i32), whose
/// `NumberFormatException` the broker answers with SYSTEM_ERROR and the exception as remark.
pub fn delay_level(props: &[(String, String)]) -> anyhow::Result<i32> {
    match get_prop(props, keys::DELAY) {
        None => Ok(0),
        Some(v) => v.parse().map_err(|_| {
            anyhow::anyhow!("java.lang.NumberFormatException: For input string: \"{v}\"")
        }),
    }
}

// ANCHOR: delay_redirect
/// Stores one message (through [`run_put`]). A DELAY property (level > 0) redirects it to
/// SCHEDULE_TOPIC_XXXX queue level-1 with REAL_TOPIC/REAL_QID, exactly as 4.8.0's
/// `CommitLog.putMessage` does before appending. A level above the highest configured one
/// becomes the highest, in the queue and in the stored DELAY.
pub async fn put_message(
    b: &Arc<Broker>,
    mut msg: MessageExtBrokerInner,
    mut props: Vec<(String, String)>,
    slot: &SendSlot,
) -> anyhow::Result<(PutMessageStatus, Option<AppendMessageResult>)> {
    let tx_type = msg.sys_flag & 0xC;
    // Only plain and commit messages read DELAY; a bad value refuses the message.
    let level = match tx_type {
        0 | 0x8 => delay_level(&props).inspect_err(|e| {
            tracing::warn!("message to {} from {}: {e}", msg.topic, msg.born_host)
        })?,
        _ => 0,
    };
    if level > 0 {
        let max = b.schedule().levels.max_level();
        let level = if level > max {
            // setDelayTimeLevel(max): the only case where 4.8.0 rewrites DELAY ("+2" stays)
            set_prop(&mut props, keys::DELAY, max.to_string());
            max
        } else {
            level
        };
        set_prop(&mut props, keys::REAL_TOPIC, msg.topic.clone());
        set_prop(&mut props, keys::REAL_QID, msg.queue_id.to_string());
        msg.topic = crate::topic::SCHEDULE_TOPIC.to_string();
        msg.queue_id = level - 1;
        // The consume-queue entry's due time (in its tagsCode slot) is not set here: the
        // dispatcher computes it from the stored record's store time and DELAY.
    }
    msg.properties = encode_properties(&props);
    // ANCHOR_END: delay_redirect
    // Where it goes and what it waits for depends on the cluster mode.
    let wait = get_prop(&props, keys::WAIT) != Some("false");
    b.replication().put(b, msg, wait, slot).await
}

// ANCHOR: run_put
/// Runs a store submit. With ASYNC_FLUSH (and no file warming) a local put copies the record
/// into the mapped file under the put lock and wakes nothing it has to wait for: microseconds,
/// so it runs right here, sparing a hand-off to the blocking pool and back per message (4.8.0
/// runs it on the send thread); so does a DLedger put, which only queues the entries for the
/// member. A SYNC_FLUSH put waits for the group commit's fsync and goes to the blocking pool;
/// the put's `appended` callback has released the send worker by then ([`SendSlot`]), so
/// other sends append and join the same group commit. What the submit returns is finished
/// (DLedger: the quorum wait) with `finish_put`, on the async side.
pub async fn run_put<T: Send + 'static>(
    store: &Arc<DefaultMessageStore>,
    submit: impl FnOnce(&DefaultMessageStore) -> T + Send + 'static,
) -> anyhow::Result<T> {
    if !store.submit_may_block() {
        return Ok(submit(store));
    }
    let store = store.clone();
    Ok(tokio::task::spawn_blocking(move || submit(&store)).await?)
}
// ANCHOR_END: run_put

// ANCHOR: put_status_reply
/// Maps a store status to 4.8.0's response code and remark.
pub fn put_status_reply(status: PutMessageStatus) -> (i32, Option<String>) {
    match status {
        PutMessageStatus::PutOk => (rs::SUCCESS, None),
        // The message is stored; only the durability promise was not kept in time.
        PutMessageStatus::FlushDiskTimeout => (rs::FLUSH_DISK_TIMEOUT, None),
        PutMessageStatus::FlushSlaveTimeout => (rs::FLUSH_SLAVE_TIMEOUT, None),
        PutMessageStatus::SlaveNotAvailable => (rs::SLAVE_NOT_AVAILABLE, None),
        PutMessageStatus::CreateMappedFileFailed => (rs::SYSTEM_ERROR, Some("create mapped file failed, server is busy or broken.".into())),
        PutMessageStatus::MessageIllegal | PutMessageStatus::PropertiesSizeExceeded => (rs::MESSAGE_ILLEGAL, Some("the message is illegal, maybe msg body or properties length not matched. msg body length limit 128k, msg properties length limit 32k.".into())),
        PutMessageStatus::ServiceNotAvailable => (rs::SERVICE_NOT_AVAILABLE, Some("service not available now. It may be caused by one of the following reasons: the broker's disk is full, messages are put to the slave, message store has been shut down, etc.".into())),
        PutMessageStatus::OsPageCacheBusy => (rs::SYSTEM_ERROR, Some("[PC_SYNCHRONIZED]broker busy, start flow control for a while".into())),
        PutMessageStatus::UnknownError => (rs::SYSTEM_ERROR, Some("UNKNOWN_ERROR".into())),
    }
}
// ANCHOR_END: put_status_reply
