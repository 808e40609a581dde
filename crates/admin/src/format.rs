//! Text helpers that make mqadmin's output match 4.8.0 character for character:
//! column truncation, the two date formats, permission strings, version names,
//! and the `toString()` shapes of the Java objects mqadmin prints
//! (`TopicConfig`, `SubscriptionGroupConfig`, `MessageExt`, `MessageQueue`, a
//! `HashMap` of properties in Java's iteration order).
//!
//! The printf column layouts themselves live next to the command that prints
//! them, written as Rust format strings with the original Java pattern in a
//! comment above each.
//! Book: Part II "Topics and queues" ("Try it" sections show this output).
//! Mirrors `UtilAll` (frontStringAtLeast, timeMillisToHumanString2, formatDate),
//! `PermName.perm2String`, `MQVersion.getVersionDesc` and several `toString()`s.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use chrono::{Local, TimeZone};
use rmq_remoting::protocol::{MessageQueue, SubscriptionGroupConfig, TopicConfig};

use crate::message::MessageExt;

/// Permission bits (`PermName`), rmq-client's.
pub use rmq_client::route::perm::{
    INHERIT as PERM_INHERIT, PRIORITY as PERM_PRIORITY, READ as PERM_READ, WRITE as PERM_WRITE,
};

/// `UtilAll.frontStringAtLeast`: cut to at most `size` characters (the name is
/// Java's, the behaviour is "at most").
pub fn front_string_at_least(s: &str, size: usize) -> &str {
    match s.char_indices().nth(size) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn local(ms: i64) -> chrono::DateTime<Local> {
    Local
        .timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(|| Local.timestamp_millis_opt(0).single().unwrap_or_default())
}

/// `UtilAll.timeMillisToHumanString2`: `yyyy-MM-dd HH:mm:ss,SSS` in local time.
pub fn time_millis_to_human_string2(ms: i64) -> String {
    local(ms).format("%Y-%m-%d %H:%M:%S,%3f").to_string()
}

/// `UtilAll.formatDate(date, YYYY_MM_DD_HH_MM_SS)`: `yyyy-MM-dd HH:mm:ss` local.
pub fn format_date(ms: i64) -> String {
    local(ms).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Parses consumeMessage's `-s`/`-e` values: epoch ms, or
/// `yyyy-MM-dd#HH:mm:ss:SSS` (`UtilAll.YYYY_MM_DD_HH_MM_SS_SSS`) in local time.
pub fn parse_timestamp(value: &str) -> Option<i64> {
    if let Ok(ms) = value.parse::<i64>() {
        return Some(ms);
    }
    let naive = chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d#%H:%M:%S:%3f").ok()?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_millis())
}

/// `PermName.perm2String`: `R`, `W`, `X` (inherit) or `-` per position.
pub fn perm_to_string(perm: i32) -> String {
    let mut s = String::with_capacity(3);
    s.push(if perm & PERM_READ != 0 { 'R' } else { '-' });
    s.push(if perm & PERM_WRITE != 0 { 'W' } else { '-' });
    s.push(if perm & PERM_INHERIT != 0 { 'X' } else { '-' });
    s
}

/// `MQVersion.getVersionDesc` (shared with the broker, which names versions in remarks).
pub use rmq_remoting::codes::version_desc;

/// `java.lang.String.hashCode` over UTF-16 code units (rmq-common's, the one copy).
pub use rmq_common::message::java_string_hash;

/// Orders entries the way a `java.util.HashMap<String, _>` built by inserting them
/// in this order iterates: by bucket (`(h ^ h >>> 16) & (capacity - 1)`), then by
/// insertion within a bucket. Java 8+ resizes keep that relative order, so only the
/// final capacity matters (16, doubled while size > 0.75 × capacity).
pub fn java_hashmap_order<V: Clone>(entries: &[(String, V)]) -> Vec<(String, V)> {
    let mut cap: usize = 16;
    while entries.len() * 4 > cap * 3 {
        cap *= 2;
    }
    let mut keyed: Vec<(usize, usize, &(String, V))> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let h = java_string_hash(&e.0) as u32;
            let spread = h ^ (h >> 16);
            ((spread as usize) & (cap - 1), i, e)
        })
        .collect();
    keyed.sort_by_key(|(bucket, i, _)| (*bucket, *i));
    keyed.into_iter().map(|(_, _, e)| e.clone()).collect()
}

/// `AbstractMap.toString()` of a `HashMap<String,String>`: `{k=v, k2=v2}`.
pub fn java_map_string(entries: &[(String, String)]) -> String {
    let ordered = java_hashmap_order(entries);
    let mut s = String::from("{");
    for (i, (k, v)) in ordered.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{k}={v}");
    }
    s.push('}');
    s
}

/// `InetSocketAddress.toString()` of an address without a host name: `/ip:port`.
pub fn java_socket_addr(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(ip) => format!("/{ip}:{}", addr.port()),
        IpAddr::V6(ip) => {
            // Java prints every group, unabbreviated, in lower-case hex.
            let groups: Vec<String> = ip.segments().iter().map(|g| format!("{g:x}")).collect();
            format!("/{}:{}", groups.join(":"), addr.port())
        }
    }
}

/// `RemotingHelper.parseSocketAddressAddr`: the same without the leading slash.
pub fn socket_addr_plain(addr: SocketAddr) -> String {
    java_socket_addr(addr)[1..].to_string()
}

/// `Arrays.toString(byte[])`: signed decimal bytes, `[104, -61, ...]`.
pub fn java_byte_array(bytes: &[u8]) -> String {
    let mut s = String::from("[");
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{}", *b as i8);
    }
    s.push(']');
    s
}

/// `TopicConfig.toString()`.
pub fn topic_config_string(tc: &TopicConfig) -> String {
    format!(
        "TopicConfig [topicName={}, readQueueNums={}, writeQueueNums={}, perm={}, topicFilterType={}, topicSysFlag={}, order={}]",
        tc.topic_name,
        tc.read_queue_nums,
        tc.write_queue_nums,
        perm_to_string(tc.perm),
        tc.topic_filter_type,
        tc.topic_sys_flag,
        tc.order
    )
}

/// `SubscriptionGroupConfig.toString()`.
pub fn subscription_group_string(c: &SubscriptionGroupConfig) -> String {
    format!(
        "SubscriptionGroupConfig [groupName={}, consumeEnable={}, consumeFromMinEnable={}, consumeBroadcastEnable={}, retryQueueNums={}, retryMaxTimes={}, brokerId={}, whichBrokerWhenConsumeSlowly={}, notifyConsumerIdsChangedEnable={}]",
        c.group_name,
        c.consume_enable,
        c.consume_from_min_enable,
        c.consume_broadcast_enable,
        c.retry_queue_nums,
        c.retry_max_times,
        c.broker_id,
        c.which_broker_when_consume_slowly,
        c.notify_consumer_ids_changed_enable
    )
}

/// `SendResult.toString()`.
pub fn send_result_string(r: &rmq_client::api::SendResult) -> String {
    format!(
        "SendResult [sendStatus={}, msgId={}, offsetMsgId={}, messageQueue={}, queueOffset={}]",
        r.send_status.name(),
        r.msg_id,
        r.offset_msg_id,
        message_queue_string(&r.message_queue),
        r.queue_offset
    )
}

/// `MessageQueue.toString()`.
pub fn message_queue_string(mq: &MessageQueue) -> String {
    format!(
        "MessageQueue [topic={}, brokerName={}, queueId={}]",
        mq.topic, mq.broker_name, mq.queue_id
    )
}

/// `MessageExt.toString()` of a client-decoded message (4.8.0 leaves `brokerName`
/// and `transactionId` null on pulled messages; `msgId` is the offset id).
pub fn message_ext_string(m: &MessageExt) -> String {
    format!(
        "MessageExt [brokerName=null, queueId={}, storeSize={}, queueOffset={}, sysFlag={}, bornTimestamp={}, bornHost={}, storeTimestamp={}, storeHost={}, msgId={}, commitLogOffset={}, bodyCRC={}, reconsumeTimes={}, preparedTransactionOffset={}, toString()=Message{{topic='{}', flag={}, properties={}, body={}, transactionId='null'}}]",
        m.queue_id,
        m.store_size,
        m.queue_offset,
        m.sys_flag,
        m.born_timestamp,
        java_socket_addr(m.born_host),
        m.store_timestamp,
        java_socket_addr(m.store_host),
        m.offset_msg_id(),
        m.commit_log_offset,
        m.body_crc,
        m.reconsume_times,
        m.prepared_transaction_offset,
        m.topic,
        m.flag,
        java_map_string(&m.properties),
        java_byte_array(&m.body)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::keys;

    #[test]
    fn front_string_cuts() {
        assert_eq!(front_string_at_least("abcdef", 3), "abc");
        assert_eq!(front_string_at_least("ab", 3), "ab");
        assert_eq!(front_string_at_least("日本語です", 2), "日本");
    }

    #[test]
    fn perm_strings() {
        assert_eq!(perm_to_string(6), "RW-");
        assert_eq!(perm_to_string(7), "RWX");
        assert_eq!(perm_to_string(4), "R--");
        assert_eq!(perm_to_string(2), "-W-");
        assert_eq!(perm_to_string(0), "---");
    }

    #[test]
    fn java_hash_and_map_order() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash(keys::TAGS), 2_567_193);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        // Buckets of 16: MIN_OFFSET 0, MAX_OFFSET 6, KEYS 7, UNIQ_KEY 12,
        // CLUSTER 12 (after UNIQ_KEY: inserted later), WAIT 13, TAGS 14.
        let props: Vec<(String, String)> = [
            keys::TAGS,
            keys::KEYS,
            keys::WAIT,
            keys::CLUSTER,
            keys::UNIQ_KEY,
            keys::MIN_OFFSET,
            keys::MAX_OFFSET,
        ]
        .iter()
        .map(|k| (k.to_string(), "v".to_string()))
        .collect();
        let mut props = props;
        // UNIQ_KEY before CLUSTER in insertion order this time.
        props.swap(3, 4);
        assert_eq!(
            java_map_string(&props),
            "{MIN_OFFSET=v, MAX_OFFSET=v, KEYS=v, UNIQ_KEY=v, CLUSTER=v, WAIT=v, TAGS=v}"
        );
        assert_eq!(java_map_string(&[]), "{}");
    }

    #[test]
    fn java_shapes() {
        assert_eq!(java_byte_array(&[104, 0xC3]), "[104, -61]");
        assert_eq!(
            java_socket_addr("127.0.0.1:10911".parse().unwrap()),
            "/127.0.0.1:10911"
        );
        assert_eq!(
            java_socket_addr("[::1]:5".parse().unwrap()),
            "/0:0:0:0:0:0:0:1:5"
        );
        assert_eq!(
            socket_addr_plain("127.0.0.1:1".parse().unwrap()),
            "127.0.0.1:1"
        );
        let mut tc = TopicConfig::new("T");
        tc.read_queue_nums = 8;
        tc.write_queue_nums = 8;
        tc.perm = 6;
        assert_eq!(
            topic_config_string(&tc),
            "TopicConfig [topicName=T, readQueueNums=8, writeQueueNums=8, perm=RW-, topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false]"
        );
        let mq = MessageQueue {
            broker_name: "b".into(),
            queue_id: 1,
            topic: "T".into(),
        };
        assert_eq!(
            message_queue_string(&mq),
            "MessageQueue [topic=T, brokerName=b, queueId=1]"
        );
    }

    #[test]
    fn dates_round_trip_through_the_consume_message_format() {
        let ms = parse_timestamp("2020-09-13#12:26:40:123").unwrap();
        assert_eq!(time_millis_to_human_string2(ms), "2020-09-13 12:26:40,123");
        assert_eq!(format_date(ms), "2020-09-13 12:26:40");
        assert_eq!(parse_timestamp("1600000000000"), Some(1_600_000_000_000));
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}
