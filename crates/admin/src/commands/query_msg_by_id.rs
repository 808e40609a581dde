//! `mqadmin queryMsgById -i <msgId>[,<msgId>...]`: one message's headers, its
//! properties, a file holding its body, and which consumer groups have consumed it.
//!
//! An offset id names the broker and the commit-log offset, so VIEW_MESSAGE_BY_ID
//! goes straight there. A producer's unique id (what sendMessage prints) does not;
//! for those this tool falls back to a unique-key QUERY_MESSAGE on the topic given
//! with `-t` (an addition: 4.8.0's queryMsgById has no `-t` and only the separate
//! queryMsgByUniqueKey command does that), or on every topic when `-t` is absent.
//! `-s true` resends the message; `-g GROUP -d CLIENT` has that consumer consume it once more
//! (CONSUME_MESSAGE_DIRECTLY, relayed by the broker).
//! Book: Part II "Producing" (message ids).
//! Mirrors `org.apache.rocketmq.tools.command.message.QueryMsgByIdSubCommand` and
//! `DefaultMQAdminExtImpl.viewMessage(topic, msgId)` / `messageTrackDetail`.

use std::io::Write;
use std::path::PathBuf;

use rmq_remoting::codes::{request, response};
use rmq_remoting::protocol::header::ConsumeMessageDirectlyResultRequestHeader;
use rmq_remoting::protocol::{decode_body, ConsumeMessageDirectlyResult, ConsumeType};
use rmq_remoting::RemotingCommand;

use crate::admin_client::{AdminClient, AdminError};
use crate::commands::{java_bool, CommonArgs};
use crate::format::{java_map_string, socket_addr_plain, time_millis_to_human_string2};
use crate::message::MessageExt;
use rmq_client::{ClientConfig, Message, Producer, ProducerConfig};

/// The producer group of `-s true` resends (`QueryMsgByIdSubCommand.sendMsg`).
pub const RESEND_PRODUCER_GROUP: &str = "ReSendMsgById";

/// Where 4.8.0 writes message bodies (`/tmp/rocketmq/msgbodys/<msgId>`).
pub const BODY_DIR: &str = "/tmp/rocketmq/msgbodys";

/// `queryMsgById`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Message Id
    #[arg(short = 'i', long = "msgId", value_name = "arg")]
    pub msg_id: String,
    /// consumer group name
    #[arg(short = 'g', long = "consumerGroup", value_name = "arg")]
    pub consumer_group: Option<String>,
    /// The consumer's client id
    #[arg(short = 'd', long = "clientId", value_name = "arg")]
    pub client_id: Option<String>,
    /// resend message
    #[arg(short = 's', long = "sendMessage", value_name = "arg")]
    pub send_message: Option<String>,
    /// unit name
    #[arg(short = 'u', long = "unitName", value_name = "arg")]
    pub unit_name: Option<String>,
    /// topic of a unique (client) message id; not in 4.8.0, see the module docs
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: Option<String>,
}

/// Runs `queryMsgById` and prints what 4.8.0's `QueryMsgByIdSubCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let ids: Vec<&str> = args
        .msg_id
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if let (Some(group), Some(client)) = (&args.consumer_group, &args.client_id) {
        for id in ids {
            push_msg(
                &admin,
                group.trim(),
                client.trim(),
                id,
                args.topic.as_deref(),
                out,
            )
            .await?;
        }
        return Ok(());
    }
    if let Some(resend) = args.send_message.as_deref() {
        if java_bool(resend) {
            for id in ids {
                let client = args.common.client_config()?;
                resend_msg(&admin, id, args.topic.as_deref(), client, out).await?;
            }
        }
        return Ok(());
    }
    for id in ids {
        let msg = view_message(&admin, id, args.topic.as_deref()).await?;
        print_msg(&admin, &msg, out).await?;
    }
    Ok(())
}

/// `-g GROUP -d CLIENT`: CONSUME_MESSAGE_DIRECTLY to the broker that stores the message, which
/// relays it to that consumer; prints the consumer's `ConsumeMessageDirectlyResult`. A failure
/// is printed and the next id is tried, as 4.8.0's `pushMsg` does.
pub async fn push_msg(
    admin: &AdminClient,
    group: &str,
    client: &str,
    msg_id: &str,
    topic: Option<&str>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let msg = match view_message(admin, msg_id, topic).await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e:#}");
            return Ok(());
        }
    };
    let cmd = RemotingCommand::new_request(request::CONSUME_MESSAGE_DIRECTLY).with_header(
        &ConsumeMessageDirectlyResultRequestHeader {
            consumer_group: group.to_string(),
            client_id: Some(client.to_string()),
            msg_id: Some(msg.offset_msg_id()),
            broker_name: None,
        },
    );
    // 4.8.0 gives this call three times the usual timeout.
    let addr = socket_addr_plain(msg.store_host);
    let resp = admin.invoke(&addr, cmd, admin.timeout() * 3).await?;
    if resp.code != response::SUCCESS {
        eprintln!(
            "org.apache.rocketmq.client.exception.MQClientException: CODE: {}  DESC: {}",
            resp.code,
            resp.remark.unwrap_or_default()
        );
        return Ok(());
    }
    let r: ConsumeMessageDirectlyResult = decode_body(resp.body_bytes())?;
    let result = r
        .consume_result
        .and_then(|c| serde_json::to_value(c).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "null".into());
    // ConsumeMessageDirectlyResult.toString(), printed without a line break by 4.8.0.
    writeln!(
        out,
        "ConsumeMessageDirectlyResult [order={}, autoCommit={}, consumeResult={result}, remark={}, spentTimeMills={}]",
        r.order,
        r.auto_commit,
        r.remark.as_deref().unwrap_or("null"),
        r.spent_time_mills
    )?;
    Ok(())
}

// ANCHOR: view_message
/// Offset id first; unique-key lookup when that fails.
pub async fn view_message(
    admin: &AdminClient,
    msg_id: &str,
    topic: Option<&str>,
) -> anyhow::Result<MessageExt> {
    let first_err = match admin.view_message(msg_id).await {
        Ok(m) => return Ok(m),
        Err(e) => e,
    };
    tracing::debug!(msg_id, error = %first_err, "not an offset id here; trying it as a unique key");
    let topics: Vec<String> = match topic {
        Some(t) => vec![t.trim().to_string()],
        None => admin
            .fetch_all_topic_list()
            .await?
            .topic_list
            .into_iter()
            .collect(),
    };
    for t in &topics {
        match admin.query_message_by_uniq_key(t, msg_id).await {
            Ok(m) => return Ok(m),
            Err(e) if e.code() == Some(response::NO_MESSAGE) => {}
            Err(e) => tracing::debug!(topic = %t, error = %e, "unique-key query failed"),
        }
    }
    Err(AdminError::Client {
        code: response::NO_MESSAGE,
        desc: format!("query message by id finished, but no message. ({first_err})"),
    }
    .into())
}
// ANCHOR_END: view_message

fn write_body_file(msg: &MessageExt) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(BODY_DIR)?;
    let path = PathBuf::from(BODY_DIR).join(body_file_name(&msg.msg_id()));
    std::fs::write(&path, &msg.body)?;
    Ok(path)
}

/// The message id as a file name: the id may be a producer's UNIQ_KEY, so anything but
/// letters, digits, `-` and `_` becomes `_` (no `/`, no `..`: the file stays in BODY_DIR).
fn body_file_name(msg_id: &str) -> String {
    let name: String = msg_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "_".to_string()
    } else {
        name
    }
}

/// `QueryMsgByIdSubCommand.printMsg`: the message's fields, its body file and its track.
pub async fn print_msg(
    admin: &AdminClient,
    msg: &MessageExt,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    print_msg_fields(admin, msg, true, out).await
}

/// The fields of one message and which groups consumed it; `with_offset_id` adds the first
/// `OffsetID:` line, which `queryMsgById` prints and `queryMsgByUniqueKey` does not.
pub async fn print_msg_fields(
    admin: &AdminClient,
    msg: &MessageExt,
    with_offset_id: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let body_path = write_body_file(msg)?;
    let line = |out: &mut dyn Write, k: &str, v: String| writeln!(out, "{k:<20} {v}");
    // Java: "%-20s %s%n" / "%-20s %d%n" for each field.
    if with_offset_id {
        line(out, "OffsetID:", msg.offset_msg_id())?;
    }
    line(out, "Topic:", msg.topic.clone())?;
    line(out, "Tags:", format!("[{}]", msg.tags().unwrap_or("null")))?;
    line(out, "Keys:", format!("[{}]", msg.keys().unwrap_or("null")))?;
    line(out, "Queue ID:", msg.queue_id.to_string())?;
    line(out, "Queue Offset:", msg.queue_offset.to_string())?;
    line(out, "CommitLog Offset:", msg.commit_log_offset.to_string())?;
    line(out, "Reconsume Times:", msg.reconsume_times.to_string())?;
    line(
        out,
        "Born Timestamp:",
        time_millis_to_human_string2(msg.born_timestamp),
    )?;
    line(
        out,
        "Store Timestamp:",
        time_millis_to_human_string2(msg.store_timestamp),
    )?;
    line(out, "Born Host:", socket_addr_plain(msg.born_host))?;
    line(out, "Store Host:", socket_addr_plain(msg.store_host))?;
    line(out, "System Flag:", msg.sys_flag.to_string())?;
    line(out, "Properties:", java_map_string(&msg.properties))?;
    line(out, "Message Body Path:", body_path.display().to_string())?;
    match track(admin, msg).await {
        Ok(tracks) if tracks.is_empty() => writeln!(out, "\n\nWARN: No Consumer")?,
        Ok(tracks) => {
            write!(out, "\n\n")?;
            for t in tracks {
                writeln!(out, "{t}")?;
            }
        }
        Err(e) => eprintln!("message track failed: {e}"),
    }
    Ok(())
}

/// `messageTrackDetail`: for each group consuming the topic, whether it is online,
/// pulls by itself, or has (not yet) consumed this message.
async fn track(admin: &AdminClient, msg: &MessageExt) -> Result<Vec<String>, AdminError> {
    let groups = admin.query_topic_consume_by_who(&msg.topic).await?;
    let mut out = Vec::new();
    for group in groups {
        let (kind, desc) = match admin.examine_consumer_connection_info(&group).await {
            Err(e) => {
                let kind = if e.code() == Some(response::CONSUMER_NOT_ONLINE) {
                    "NOT_ONLINE"
                } else {
                    "UNKNOWN"
                };
                (kind, describe(&e))
            }
            Ok(cc) => match cc.consume_type {
                Some(ConsumeType::ConsumeActively) => ("PULL", "null".to_string()),
                Some(ConsumeType::ConsumePassively) => match consumed(admin, msg, &group).await {
                    Ok(true) => {
                        let filtered = cc.subscription_table.get(&msg.topic).is_some_and(|sd| {
                            let tags = &sd.tags_set;
                            !(tags.is_empty()
                                || tags.iter().any(|t| t == "*")
                                || msg.tags().is_some_and(|mt| tags.iter().any(|t| t == mt)))
                        });
                        let kind = if filtered {
                            "CONSUMED_BUT_FILTERED"
                        } else {
                            "CONSUMED"
                        };
                        (kind, "null".to_string())
                    }
                    Ok(false) => ("NOT_CONSUME_YET", "null".to_string()),
                    Err(e) => {
                        let kind = if e.code() == Some(response::CONSUMER_NOT_ONLINE) {
                            "NOT_ONLINE"
                        } else {
                            "UNKNOWN"
                        };
                        (kind, describe(&e))
                    }
                },
                None => ("UNKNOWN", "null".to_string()),
            },
        };
        out.push(format!(
            "MessageTrack [consumerGroup={group}, trackType={kind}, exceptionDesc={desc}]"
        ));
    }
    Ok(out)
}

fn describe(e: &AdminError) -> String {
    match e {
        AdminError::Server { code, remark, .. } => format!("CODE:{code} DESC:{remark}"),
        AdminError::Client { code, desc } => format!("CODE:{code} DESC:{desc}"),
        other => other.to_string(),
    }
}

/// Whether `group`'s offset on the message's queue (on the master that stored it)
/// is past the message.
async fn consumed(admin: &AdminClient, msg: &MessageExt, group: &str) -> Result<bool, AdminError> {
    let stats = admin.examine_consume_stats(group).await?;
    let info = admin.examine_broker_cluster_info().await?;
    let store = socket_addr_plain(msg.store_host);
    Ok(stats.offset_table.0.iter().any(|(mq, ow)| {
        mq.topic == msg.topic
            && mq.queue_id == msg.queue_id
            && info
                .broker_addr_table
                .get(&mq.broker_name)
                .and_then(|bd| bd.master_addr())
                == Some(store.as_str())
            && ow.consumer_offset > msg.queue_offset
    }))
}

/// `-s true`: sends the message again, as a new message with the same topic, tags, keys
/// and body, and prints the `SendResult`.
async fn resend_msg(
    admin: &AdminClient,
    msg_id: &str,
    topic: Option<&str>,
    client_config: ClientConfig,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let msg = match view_message(admin, msg_id, topic).await {
        Ok(m) => m,
        Err(_) => {
            write!(out, "no message. msgId={msg_id}")?;
            return Ok(());
        }
    };
    write!(out, "prepare resend msg. originalMsgId={msg_id}")?;
    // `new Message(topic, tags, keys, body)` sent by a producer of group ReSendMsgById.
    let mut resent = Message::new(msg.topic.clone(), msg.body.clone());
    if let Some(tags) = msg.tags() {
        resent = resent.with_tags(tags);
    }
    if let Some(keys) = msg.keys() {
        resent = resent.with_keys(keys);
    }
    let mut config = ProducerConfig::new(RESEND_PRODUCER_GROUP, String::new());
    config.client = client_config;
    let producer = Producer::start(config).await?;
    let sent = producer.send(resent).await;
    producer.shutdown().await;
    let r = sent?;
    writeln!(out, "{}", crate::format::send_result_string(&r))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::body_file_name;

    #[test]
    fn body_file_names_cannot_leave_the_body_folder() {
        assert_eq!(
            body_file_name("7F00000100002A9F0000000000000000"),
            "7F00000100002A9F0000000000000000"
        );
        assert_eq!(body_file_name("../../etc/passwd"), "______etc_passwd");
        assert_eq!(body_file_name(""), "_");
    }
}
