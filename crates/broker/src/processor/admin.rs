//! Admin requests mqadmin and the console send to a broker: topic create/delete/list/stats,
//! consumer/producer connections, consume stats, runtime info, subscription groups, all
//! offsets, broker config and who consumes a topic (the calls that reach a consumer client
//! live in `broker2client`). Returns `None` for codes it does not know.
//! Mirrors `AdminBrokerProcessor`. Book: Part II, "Administering a broker".

use super::{reply, Outcome};
use crate::broker::Broker;
use crate::processor::send::validate_topic;
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::admin::{
    ClientConnection, ConsumeStats, ConsumerConnection, MessageQueue, OffsetWrapper,
    ProducerConnection, SubscriptionGroupConfig, TopicOffset, TopicStatsTable,
};
use rmq_remoting::protocol::fastjson;
use rmq_remoting::protocol::header::{
    CreateTopicRequestHeader, DeleteTopicRequestHeader, GetBrokerConfigResponseHeader,
    GetConsumeStatsRequestHeader, GetConsumerConnectionListRequestHeader,
    GetProducerConnectionListRequestHeader, GetTopicStatsInfoRequestHeader,
    QueryTopicConsumeByWhoRequestHeader,
};
use rmq_remoting::protocol::{decode_body, encode_body, KVTable, TopicConfig};
use rmq_remoting::{Connection, RemotingCommand};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Serves the admin codes this module knows; `None` for any other code.
pub async fn process(
    b: &Arc<Broker>,
    ctx: &Arc<Connection>,
    req: RemotingCommand,
) -> Option<Outcome> {
    let r = match req.code {
        rq::UPDATE_AND_CREATE_TOPIC => update_topic(b, &req),
        rq::DELETE_TOPIC_IN_BROKER => delete_topic(b, &req).await,
        rq::GET_ALL_TOPIC_CONFIG => {
            let w = b.topics().snapshot();
            if w.topic_config_table.is_empty() {
                Ok(reply(rs::SYSTEM_ERROR, "No topic in this broker"))
            } else {
                encode_body(&w)
                    .map(|body| super::ok().with_body(body))
                    .map_err(Into::into)
            }
        }
        rq::GET_TOPIC_STATS_INFO => topic_stats(b, &req),
        rq::GET_CONSUMER_CONNECTION_LIST => consumer_connections(b, &req),
        rq::GET_PRODUCER_CONNECTION_LIST => producer_connections(b, &req),
        rq::GET_CONSUME_STATS => consume_stats(b, &req),
        rq::GET_BROKER_RUNTIME_INFO => runtime_info(b),
        rq::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP => {
            decode_body::<SubscriptionGroupConfig>(req.body_bytes())
                .map(|c| {
                    b.subscriptions().update(c);
                    super::ok()
                })
                .map_err(Into::into)
        }
        rq::GET_ALL_SUBSCRIPTIONGROUP_CONFIG => fastjson::to_string(&b.subscriptions().snapshot())
            .map(|s| super::ok().with_body(s.into_bytes()))
            .map_err(|e| anyhow::Error::from(e).into()),
        // The three below are what a slave copies (see slave_sync).
        rq::GET_ALL_CONSUMER_OFFSET => {
            Ok(super::ok().with_body(b.offsets().encode_compact().into_bytes()))
        }
        rq::GET_ALL_DELAY_OFFSET => {
            Ok(super::ok().with_body(b.schedule().encode(false).into_bytes()))
        }
        rq::GET_BROKER_CONFIG => Ok(super::ok()
            .with_header(&GetBrokerConfigResponseHeader {
                version: b.config_version(),
            })
            .with_body(b.config().to_properties_text().into_bytes())),
        rq::UPDATE_BROKER_CONFIG => Ok(update_broker_config(b, ctx, &req)),
        rq::QUERY_TOPIC_CONSUME_BY_WHO => consumed_by_who(b, &req),
        _ => return None,
    };
    Some(r)
}

/// UPDATE_BROKER_CONFIG (25): the body is properties text; keys that take effect at once
/// change the running broker, every known key goes to the config file, unknown keys are
/// ignored (see `config::live`). A value that does not parse is refused with its key named.
fn update_broker_config(b: &Broker, ctx: &Connection, req: &RemotingCommand) -> RemotingCommand {
    tracing::info!(peer = %ctx.remote_addr(), "updateBrokerConfig called");
    let Some(body) = &req.body else {
        return super::ok();
    };
    let Ok(text) = std::str::from_utf8(body) else {
        tracing::warn!(peer = %ctx.remote_addr(), "updateBrokerConfig: the body is not UTF-8");
        return reply(rs::SYSTEM_ERROR, "string2Properties error");
    };
    match b.update_config(&crate::config::parse_properties(text)) {
        Ok(_) => super::ok(),
        Err(e) => {
            tracing::warn!(peer = %ctx.remote_addr(), "updateBrokerConfig refused: {e}");
            reply(rs::SYSTEM_ERROR, e.to_string())
        }
    }
}

/// QUERY_TOPIC_CONSUME_BY_WHO: the groups online for the topic or with an offset in it.
fn consumed_by_who(b: &Broker, req: &RemotingCommand) -> Outcome {
    let h: QueryTopicConsumeByWhoRequestHeader = req.decode_header()?;
    let topic = h.topic.as_deref().unwrap_or("");
    let mut groups = b.consumers().groups_by_topic(topic);
    groups.extend(b.offsets().groups_of_topic(topic));
    groups.sort();
    groups.dedup();
    // 4.8.0's `GroupList` body.
    let body = serde_json::json!({ "groupList": groups });
    Ok(super::ok().with_body(body.to_string().into_bytes()))
}

/// The defaults of an UPDATE_AND_CREATE_TOPIC field the request leaves out (4.8.0
/// requires them; `mqadmin updateTopic` sends 8/8/6).
const CREATE_TOPIC_QUEUE_NUMS: i32 = 16;
const CREATE_TOPIC_PERM: i32 = crate::topic::PERM_READ | crate::topic::PERM_WRITE;

// ANCHOR: update_topic
fn update_topic(b: &Arc<Broker>, req: &RemotingCommand) -> Outcome {
    // The header's check refuses an unknown topicFilterType as 4.8.0's checkFields does.
    let h: CreateTopicRequestHeader = req.decode_header()?;
    let topic = h.topic.as_str();
    if let Err(remark) = validate_topic(topic) {
        return Ok(reply(rs::SYSTEM_ERROR, remark));
    }
    if topic == b.config().broker_cluster_name || topic == crate::topic::SCHEDULE_TOPIC {
        return Ok(reply(
            rs::SYSTEM_ERROR,
            format!("The topic[{topic}] is conflict with system topic."),
        ));
    }
    let mut tc = TopicConfig::new(topic);
    tc.read_queue_nums = h.read_queue_nums.unwrap_or(CREATE_TOPIC_QUEUE_NUMS);
    tc.write_queue_nums = h.write_queue_nums.unwrap_or(CREATE_TOPIC_QUEUE_NUMS);
    tc.perm = h.perm.unwrap_or(CREATE_TOPIC_PERM);
    tc.topic_sys_flag = h.topic_sys_flag.unwrap_or(0);
    if let Some(f) = h.topic_filter_type.filter(|s| !s.is_empty()) {
        tc.topic_filter_type = f;
    }
    b.topics().update(tc);
    b.register_now();
    Ok(super::ok())
}
// ANCHOR_END: update_topic

async fn delete_topic(b: &Arc<Broker>, req: &RemotingCommand) -> Outcome {
    let topic = req.decode_header::<DeleteTopicRequestHeader>()?.topic;
    b.topics().delete(&topic);
    let store = b.store().clone();
    tokio::task::spawn_blocking(move || store.delete_topics(&[topic])).await?;
    b.register_now();
    Ok(super::ok())
}

fn mq(b: &Broker, topic: &str, q: i32) -> MessageQueue {
    MessageQueue {
        broker_name: b.config().broker_name.clone(),
        queue_id: q,
        topic: topic.to_string(),
    }
}

fn topic_stats(b: &Arc<Broker>, req: &RemotingCommand) -> Outcome {
    let h: GetTopicStatsInfoRequestHeader = req.decode_header()?;
    let topic = h.topic.as_str();
    let Some(tc) = b.topics().get(topic) else {
        return Ok(reply(
            rs::TOPIC_NOT_EXIST,
            format!("topic[{topic}] not exist"),
        ));
    };
    let mut table = TopicStatsTable::default();
    for q in 0..tc.write_queue_nums {
        let max = b.store().get_max_offset_in_queue(topic, q);
        let last = if max > 0 {
            b.store()
                .get_message_store_timestamp(topic, q, max - 1)
                .max(0)
        } else {
            0
        };
        table.offset_table.0.push((
            mq(b, topic, q),
            TopicOffset {
                last_update_timestamp: last,
                max_offset: max,
                min_offset: b.store().get_min_offset_in_queue(topic, q).max(0),
            },
        ));
    }
    Ok(super::ok().with_body(encode_body(&table)?))
}

fn client_conn(c: &crate::client::consumer_manager::ClientChannel) -> ClientConnection {
    ClientConnection {
        client_addr: c.conn.remote_addr().to_string(),
        client_id: c.client_id.clone(),
        language: c.language.clone(),
        version: c.version,
    }
}

fn consumer_connections(b: &Arc<Broker>, req: &RemotingCommand) -> Outcome {
    let h: GetConsumerConnectionListRequestHeader = req.decode_header()?;
    let group = h.consumer_group.as_str();
    let Some(info) = b.consumers().group(group) else {
        return Ok(reply(
            rs::CONSUMER_NOT_ONLINE,
            format!("the consumer group[{group}] not online"),
        ));
    };
    let body = ConsumerConnection {
        connection_set: info.channels.values().map(client_conn).collect(),
        consume_from_where: Some(info.consume_from_where),
        consume_type: Some(info.consume_type),
        message_model: Some(info.message_model),
        subscription_table: info.subscriptions.clone(),
    };
    Ok(super::ok().with_body(encode_body(&body)?))
}

fn producer_connections(b: &Arc<Broker>, req: &RemotingCommand) -> Outcome {
    let h: GetProducerConnectionListRequestHeader = req.decode_header()?;
    let group = h.producer_group.as_str();
    let chans = b.producers().channels(group);
    if chans.is_empty() {
        return Ok(reply(
            rs::SYSTEM_ERROR,
            format!("the producer group[{group}] not exist"),
        ));
    }
    let body = ProducerConnection {
        connection_set: chans.iter().map(client_conn).collect(),
    };
    Ok(super::ok().with_body(encode_body(&body)?))
}

fn consume_stats(b: &Arc<Broker>, req: &RemotingCommand) -> Outcome {
    let h: GetConsumeStatsRequestHeader = req.decode_header()?;
    let group = h.consumer_group.as_str();
    let topics = match h.topic.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => vec![t.to_string()],
        None => b.offsets().topics_of_group(group),
    };
    let mut stats = ConsumeStats::default();
    for topic in topics {
        let Some(tc) = b.topics().get(&topic) else {
            continue;
        };
        stats.consume_tps += b.stats().group_gets.tps(&topic, group);
        for q in 0..tc.read_queue_nums {
            let broker_offset = b.store().get_max_offset_in_queue(&topic, q).max(0);
            let consumer_offset = b.offsets().query(group, &topic, q).max(0);
            let last = if consumer_offset > 0 {
                b.store()
                    .get_message_store_timestamp(&topic, q, consumer_offset - 1)
                    .max(0)
            } else {
                0
            };
            stats.offset_table.0.push((
                mq(b, &topic, q),
                OffsetWrapper {
                    broker_offset,
                    consumer_offset,
                    last_timestamp: last,
                },
            ));
        }
    }
    Ok(super::ok().with_body(encode_body(&stats)?))
}

fn runtime_info(b: &Arc<Broker>) -> Outcome {
    let puts = b.store().put_times.load(Ordering::Relaxed);
    let gets = b.store().get_times.load(Ordering::Relaxed);
    let boot_ms = rmq_store::now_ms() - b.boot_time().elapsed().as_millis() as i64;
    let mut t = KVTable::default();
    let mut put = |k: &str, v: String| {
        t.table.insert(k.to_string(), v);
    };
    put("brokerVersionDesc", "V4_8_0".into());
    put("brokerVersion", rmq_remoting::codes::VERSION.to_string());
    put("msgPutTotalTodayNow", puts.to_string());
    put("msgGetTotalTodayNow", gets.to_string());
    let daily = b.stats().daily.snapshot();
    put(
        "msgPutTotalYesterdayMorning",
        daily.put_yesterday_morning.to_string(),
    );
    put(
        "msgGetTotalYesterdayMorning",
        daily.get_yesterday_morning.to_string(),
    );
    put(
        "msgPutTotalTodayMorning",
        daily.put_today_morning.to_string(),
    );
    put(
        "msgGetTotalTodayMorning",
        daily.get_today_morning.to_string(),
    );
    put("putTps", b.stats().tps.rates(false));
    put("getTransferedTps", b.stats().tps.rates(true));
    put("bootTimestamp", boot_ms.to_string());
    put(
        "commitLogMaxOffset",
        b.store().get_max_phy_offset().to_string(),
    );
    put(
        "commitLogMinOffset",
        b.store().get_min_phy_offset().max(0).to_string(),
    );
    put(
        "dispatchBehindBytes",
        b.store().dispatch_behind_bytes().to_string(),
    );
    put("pageCacheLockTimeMills", "0".into());
    put("commitLogDiskRatio", "0.0".into());
    put("consumeQueueDiskRatio", "0.0".into());
    put(
        "earliestMessageTimeStamp",
        b.store()
            .get_earliest_message_time_in_store()
            .max(0)
            .to_string(),
    );
    put("sendThreadPoolQueueSize", "0".into());
    put("sendThreadPoolQueueHeadWaitTimeMills", "0".into());
    put("pullThreadPoolQueueHeadWaitTimeMills", "0".into());
    put(
        "sendThreadPoolQueueCapacity",
        b.config().send_thread_pool_queue_capacity.to_string(),
    );
    put("pullThreadPoolQueueSize", "0".into());
    put("pullThreadPoolQueueCapacity", "100000".into());
    put(
        "runtime",
        format!(
            "[ {} days, {} hours, {} minutes, {} seconds ]",
            0,
            0,
            b.boot_time().elapsed().as_secs() / 60,
            b.boot_time().elapsed().as_secs() % 60
        ),
    );
    Ok(super::ok().with_body(encode_body(&t)?))
}
