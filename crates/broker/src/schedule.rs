//! The delay queue: messages sent with a delay level wait in `SCHEDULE_TOPIC_XXXX` (queue =
//! level - 1) and one loop per level moves each of them back to its real topic when its time
//! has come. The position of every loop is kept in `config/delayOffset.json`, so a restart
//! neither re-delivers what was delivered nor skips what was not.
//!
//! Why one queue per level: all messages of a level have the same delay, so in store order
//! they are also in delivery order; a loop only ever looks at the head of its queue and sleeps
//! until that head is due. Arbitrary delays would need a sorted structure instead.
//! Book: Part II, "Delay queue, retry and DLQ". Mirrors `ScheduleMessageService` (4.8.0 keeps it
//! in the store module; here it lives in the broker because it only needs the store's public
//! get/put calls and the broker's send path).

use crate::broker::Broker;
use crate::persist;
use crate::processor::{get_prop, set_prop};
use crate::topic::SCHEDULE_TOPIC;
use parking_lot::Mutex;
use rmq_common::message::{
    decode_record, keys, tags_code, MessageExt, BORNHOST_V6_FLAG, STOREHOST_V6_FLAG,
};
use rmq_common::MessageExtBrokerInner;
use rmq_store::GetMessageStatus;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// 4.8.0's default `messageDelayLevel`.
pub const DEFAULT_DELAY_LEVELS: &str = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h";

/// Why a `messageDelayLevel` value was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DelayLevelError {
    /// A level that does not parse.
    #[error("messageDelayLevel: {0}; each level is a number followed by s, m, h or d (e.g. \"1s 5s 1m\")")]
    BadLevel(String),
    /// No level at all.
    #[error("messageDelayLevel is empty")]
    Empty,
}

// ANCHOR: delay_levels
/// The delay of each level in milliseconds; level 1 is the first entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayLevels(Vec<i64>);

impl DelayLevels {
    /// Parses `"1s 5s 10s ..."` with the store's parser (the store needs the same levels to
    /// compute delivery times at dispatch), refusing an empty list.
    pub fn parse(text: &str) -> Result<DelayLevels, DelayLevelError> {
        let levels =
            rmq_store::record::parse_delay_levels(text).map_err(DelayLevelError::BadLevel)?;
        if levels.is_empty() {
            return Err(DelayLevelError::Empty);
        }
        Ok(DelayLevels(levels))
    }

    /// The highest level (the number of levels).
    pub fn max_level(&self) -> i32 {
        self.0.len() as i32
    }

    /// The delay of `level`, clamped to the last level (an unknown level waits 1 s, as the
    /// dispatcher in 4.8.0 does).
    pub fn delay_ms(&self, level: i32) -> i64 {
        if level < 1 {
            return 1_000;
        }
        let i = (level.min(self.max_level()) - 1) as usize;
        self.0[i]
    }
}
// ANCHOR_END: delay_levels

/// The per-level delivery loops and their persisted positions.
pub struct ScheduleService {
    /// The delay of each level.
    pub levels: DelayLevels,
    offsets: Mutex<BTreeMap<i32, i64>>,
    path: PathBuf,
    /// One signal per level (index level - 1): a record arrived in the level's queue.
    arrivals: DelayArrivals,
}

/// The signals the dispatcher gives the delivery loops: "a record arrived in queue q of
/// SCHEDULE_TOPIC_XXXX". A loop whose queue is drained waits for one instead of polling the
/// queue every 100 ms as 4.8.0's timer does. `Notify` keeps a signal given while nobody waits,
/// so an arrival between a loop's read and its wait is not lost.
#[derive(Clone)]
pub struct DelayArrivals(Arc<Vec<tokio::sync::Notify>>);

impl DelayArrivals {
    fn new(levels: i32) -> DelayArrivals {
        DelayArrivals(Arc::new(
            (0..levels.max(0))
                .map(|_| tokio::sync::Notify::new())
                .collect(),
        ))
    }

    /// Called by the dispatcher for every record it adds to queue `queue_id` of the topic.
    pub fn arrived(&self, queue_id: i32) {
        if let Some(n) = usize::try_from(queue_id).ok().and_then(|q| self.0.get(q)) {
            n.notify_one();
        }
    }

    /// Waits until a record arrives in `level`'s queue, or `at_most` passes.
    async fn wait(&self, level: i32, at_most: Duration) {
        if let Some(n) = usize::try_from(level - 1).ok().and_then(|q| self.0.get(q)) {
            let _ = tokio::time::timeout(at_most, n.notified()).await;
        } else {
            tokio::time::sleep(at_most).await;
        }
    }
}

/// How long a drained level waits for an arrival signal before it looks at its queue anyway
/// (a safety net: every dispatched record signals).
const DRAINED_LEVEL_WAIT: Duration = Duration::from_secs(10);

/// `DelayOffsetSerializeWrapper`: the file and the GET_ALL_DELAY_OFFSET body.
#[derive(serde::Deserialize)]
struct DelayOffsetFile {
    #[serde(rename = "offsetTable", default)]
    offset_table: BTreeMap<i32, i64>,
}

fn parse_delay_offsets(text: &str) -> Result<BTreeMap<i32, i64>, serde_json::Error> {
    rmq_remoting::protocol::fastjson::from_str::<DelayOffsetFile>(text).map(|f| f.offset_table)
}

impl ScheduleService {
    /// Loads `delayOffset.json` (fastjson form: `{"offsetTable":{1:5,2:0}}`).
    pub fn load(config_dir: &Path, levels: DelayLevels) -> anyhow::Result<ScheduleService> {
        let path = config_dir.join("delayOffset.json");
        let mut offsets = BTreeMap::new();
        if let Some(text) = persist::read_with_backup(&path) {
            offsets = parse_delay_offsets(&text)
                .map_err(|e| anyhow::anyhow!("{} is not valid: {e}", path.display()))?;
        }
        let arrivals = DelayArrivals::new(levels.max_level());
        Ok(ScheduleService {
            levels,
            offsets: Mutex::new(offsets),
            path,
            arrivals,
        })
    }

    /// The arrival signals, for the dispatcher's listener.
    pub fn arrivals(&self) -> DelayArrivals {
        self.arrivals.clone()
    }

    /// How far level `level`'s queue has been delivered (0 at first).
    pub fn offset(&self, level: i32) -> i64 {
        self.offsets.lock().get(&level).copied().unwrap_or(0)
    }

    fn set_offset(&self, level: i32, offset: i64) {
        self.offsets.lock().insert(level, offset);
    }

    /// Writes `delayOffset.json` the way 4.8.0 does (tabs, bare integer keys).
    pub fn persist(&self) {
        let text = self.encode(true);
        if let Err(e) = persist::write_atomic(&self.path, &text) {
            tracing::warn!("cannot write {}: {e}", self.path.display());
        }
    }

    /// `{"offsetTable":{1:5,2:7}}`: compact for GET_ALL_DELAY_OFFSET, with 4.8.0's line breaks
    /// and tabs for the file.
    pub fn encode(&self, pretty: bool) -> String {
        let table = self.offsets.lock().clone();
        let (open, close) = if pretty {
            ("{\n\t\"offsetTable\":{", "}\n}")
        } else {
            ("{\"offsetTable\":{", "}}")
        };
        let mut text = String::from(open);
        for (i, (level, off)) in table.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = write!(text, "{sep}{level}:{off}");
        }
        text.push_str(close);
        text
    }

    /// A slave's copy of its master's positions (`SlaveSynchronize.syncDelayOffset`): the
    /// body goes verbatim to `delayOffset.json`, as in 4.8.0, and (our addition) replaces the
    /// positions in memory, so a follower that becomes master resumes where its master was.
    pub fn replace_from_master(&self, body: &str) -> anyhow::Result<()> {
        let theirs = parse_delay_offsets(body)?;
        persist::write_atomic(&self.path, body)?;
        *self.offsets.lock() = theirs;
        Ok(())
    }
}

/// Starts one delivery loop per level plus the 10-second persister; they run until aborted.
pub fn start(b: &Arc<Broker>) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks: Vec<_> = (1..=b.schedule().levels.max_level())
        .map(|level| tokio::spawn(deliver_level(b.clone(), level)))
        .collect();
    let persister = b.clone();
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        tick.tick().await;
        loop {
            tick.tick().await;
            persister.schedule().persist();
        }
    }));
    tasks
}

// ANCHOR: deliver_level
/// What a delivery loop does after a pass.
enum Pause {
    /// Sleep this many ms: the head of the queue is due then (or a put failed, or the offset
    /// was repaired).
    Ms(i64),
    /// The queue is drained: wait for the next arrival.
    UntilArrival,
}

/// One level's loop: read from the saved offset, move every due message to its real topic,
/// and sleep until the head of the queue is due, or, once the queue is drained, until the
/// dispatcher signals a new record.
async fn deliver_level(b: Arc<Broker>, level: i32) {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let queue_id = level - 1;
    let delay = b.schedule().levels.delay_ms(level);
    loop {
        if !b.is_master() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let offset = b.schedule().offset(level);
        let store = b.store().clone();
        let got = tokio::task::spawn_blocking(move || {
            store.get_message(
                "SCHEDULE_MESSAGE_SERVICE",
                SCHEDULE_TOPIC,
                queue_id,
                offset,
                32,
                &|_| true,
            )
        })
        .await;
        let Ok(got) = got else { return };
        let pause = match got.status {
            GetMessageStatus::Found | GetMessageStatus::NoMatchedMessage => {
                match deliver_batch(&b, level, delay, &got.messages).await {
                    Some(wait) => Pause::Ms(wait),
                    None => {
                        b.schedule().set_offset(level, got.next_begin_offset);
                        // More entries wait behind this batch: go on at once, as 4.8.0 walks
                        // all it can read from the consume queue before pausing.
                        if got.next_begin_offset < got.max_offset {
                            Pause::Ms(0)
                        } else {
                            Pause::UntilArrival
                        }
                    }
                }
            }
            GetMessageStatus::OffsetTooSmall => {
                b.schedule().set_offset(level, got.min_offset);
                Pause::Ms(100)
            }
            GetMessageStatus::OffsetOverflowBadly => {
                b.schedule().set_offset(level, got.next_begin_offset);
                Pause::Ms(100)
            }
            // Nothing (yet) in the queue: the next record's arrival is signalled.
            GetMessageStatus::OffsetOverflowOne
            | GetMessageStatus::NoMessageInQueue
            | GetMessageStatus::NoMatchedLogicQueue => Pause::UntilArrival,
            // A file being removed, or a hole: look again soon.
            GetMessageStatus::MessageWasRemoving | GetMessageStatus::OffsetFoundNull => {
                Pause::Ms(100)
            }
        };
        match pause {
            Pause::Ms(ms) => tokio::time::sleep(Duration::from_millis(ms.max(1) as u64)).await,
            Pause::UntilArrival => b.schedule().arrivals.wait(level, DRAINED_LEVEL_WAIT).await,
        }
    }
}
// ANCHOR_END: deliver_level

// ANCHOR: deliver_batch
/// Delivers the due prefix of `records`. Returns `Some(ms to wait)` when it stopped early
/// (the next record is not due yet, or a put failed), with the level offset left on the
/// record that must be tried next; `None` when every record was handled.
async fn deliver_batch(
    b: &Arc<Broker>,
    level: i32,
    delay: i64,
    records: &[bytes::Bytes],
) -> Option<i64> {
    for raw in records {
        let (old, _) = match decode_record(raw) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("schedule level {level}: skipping an undecodable record: {e}");
                continue;
            }
        };
        let now = rmq_store::now_ms();
        // The delivery time the 4.8.0 dispatcher stores as the consume queue's tagsCode; a
        // time further away than one full delay means the clock moved back: deliver now.
        let mut deliver_at = old.store_timestamp + delay;
        if deliver_at > now + delay {
            deliver_at = now;
        }
        if deliver_at > now {
            b.schedule().set_offset(level, old.queue_offset);
            return Some(deliver_at - now);
        }
        let Some((msg, props)) = rebuild(&old, b) else {
            tracing::warn!(
                "schedule level {level}: record at {} has no REAL_TOPIC/REAL_QID, skipped",
                old.commit_log_offset
            );
            continue;
        };
        if msg.topic == crate::transaction::HALF_TOPIC {
            continue;
        }
        let ok = matches!(
            crate::processor::put_message(b, msg, props, &crate::flow_control::SendSlot::default())
                .await,
            Ok((rmq_store::PutMessageStatus::PutOk, _))
        );
        if !ok {
            tracing::warn!(
                "schedule level {level}: re-putting queue offset {} failed, retrying in 10 s",
                old.queue_offset
            );
            b.schedule().set_offset(level, old.queue_offset);
            return Some(10_000);
        }
        b.schedule().set_offset(level, old.queue_offset + 1);
    }
    None
}
// ANCHOR_END: deliver_batch

// ANCHOR: rebuild
/// The message as it goes back to its real topic: same body, flags, hosts and reconsume
/// count; DELAY removed so it is not delayed again; WAIT=false; tags code from TAGS.
fn rebuild(old: &MessageExt, b: &Broker) -> Option<(MessageExtBrokerInner, Vec<(String, String)>)> {
    let mut props = old.properties.clone();
    let topic = get_prop(&props, keys::REAL_TOPIC)?.to_string();
    let queue_id: i32 = get_prop(&props, keys::REAL_QID)?.parse().ok()?;
    props.retain(|(k, _)| k != keys::DELAY);
    set_prop(&mut props, keys::WAIT, "false");
    let msg = MessageExtBrokerInner {
        topic,
        queue_id,
        flag: old.flag,
        body: old.body.clone(),
        properties: String::new(),
        tags_code: tags_code(get_prop(&props, keys::TAGS)),
        // the record encoder sets the IPv6 flags again from the hosts it writes
        sys_flag: old.sys_flag & !(BORNHOST_V6_FLAG | STOREHOST_V6_FLAG),
        born_timestamp: old.born_timestamp,
        born_host: old.born_host,
        store_host: b.store_host(),
        reconsume_times: old.reconsume_times,
        prepared_transaction_offset: 0,
    };
    Some((msg, props))
}
// ANCHOR_END: rebuild

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_default_and_custom_levels() {
        let d = DelayLevels::parse(DEFAULT_DELAY_LEVELS).unwrap();
        assert_eq!(d.max_level(), 18);
        assert_eq!(d.delay_ms(1), 1_000);
        assert_eq!(d.delay_ms(3), 10_000);
        assert_eq!(d.delay_ms(18), 7_200_000);
        assert_eq!(d.delay_ms(40), 7_200_000);
        let c = DelayLevels::parse("1s 2s 1d").unwrap();
        assert_eq!(c.delay_ms(3), 86_400_000);
        assert!(matches!(
            DelayLevels::parse("1x"),
            Err(DelayLevelError::BadLevel(_))
        ));
        assert!(matches!(
            DelayLevels::parse("s"),
            Err(DelayLevelError::BadLevel(_))
        ));
        assert!(matches!(
            DelayLevels::parse("1é"),
            Err(DelayLevelError::BadLevel(_))
        ));
        assert_eq!(DelayLevels::parse("  "), Err(DelayLevelError::Empty));
    }

    #[test]
    fn offsets_persist_in_fastjson_form() {
        let dir = tempfile::tempdir().unwrap();
        let levels = DelayLevels::parse("1s 2s").unwrap();
        let s = ScheduleService::load(dir.path(), levels.clone()).unwrap();
        s.set_offset(1, 5);
        s.set_offset(2, 7);
        s.persist();
        let text = std::fs::read_to_string(dir.path().join("delayOffset.json")).unwrap();
        assert!(text.contains("\"offsetTable\":{1:5,2:7}"), "{text}");
        let again = ScheduleService::load(dir.path(), levels).unwrap();
        assert_eq!(again.offset(1), 5);
        assert_eq!(again.offset(2), 7);
        assert_eq!(again.offset(3), 0);
        // GET_ALL_DELAY_OFFSET's body, and what a slave does with it.
        let body = again.encode(false);
        assert_eq!(body, r#"{"offsetTable":{1:5,2:7}}"#);
        let slave_dir = dir.path().join("slave");
        let slave =
            ScheduleService::load(&slave_dir, DelayLevels::parse("1s 2s").unwrap()).unwrap();
        slave.replace_from_master(&body).unwrap();
        assert_eq!((slave.offset(1), slave.offset(2)), (5, 7));
        let file = std::fs::read_to_string(slave_dir.join("delayOffset.json")).unwrap();
        assert_eq!(file, body);
        assert!(slave.replace_from_master("{\"offsetTable\":[").is_err());
        assert_eq!(slave.offset(1), 5);
    }
}
