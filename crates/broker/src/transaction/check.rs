//! The check service: every `transactionCheckInterval` the master walks the half queue from
//! its cursor, skips halves that have an op record, and for every half older than
//! `transactionTimeOut` appends a renewed copy and asks a producer of the half's group
//! (CHECK_TRANSACTION_STATE, oneway). A half checked `transactionCheckMax` times is given up:
//! copied to `TRANS_CHECK_MAX_TIME_TOPIC` and passed over.
//!
//! Why a copy per check: the walk only ever moves forward, and the two cursors (consumer
//! offsets of `CID_RMQ_SYS_TRANS` on the half and op queues) are all the state there is. A
//! half that still needs an answer is appended again at the end, carrying its check count, so
//! the cursor can pass the old one. The producer's answer names the copy's offsets.
//!
//! A pass over one queue, as 4.8.0's `TransactionalMessageServiceImpl.check`:
//! 1. read up to 32 op records from the op cursor; an op for a half below the half cursor is
//!    "done" at once, the others go into `remove` (half offset -> op offset);
//! 2. for each half offset `i` from the half cursor: in `remove` -> resolved; else read the
//!    half, give it up if checked too often (or older than `fileReservedTime`), stop at a half
//!    stored after the pass began or younger than its immunity time, read more op records
//!    while there are any, then check it;
//! 3. move the half cursor past `i`, and the op cursor over the unbroken run of done ops.
//!
//! Runs only while this broker is the master (in DLedger mode: the leader). A new leader
//! starts from its own copy of the cursors, so it may ask again about halves the old leader
//! already asked about; the op records keep resolved halves resolved.
//! Book: Part II, "Transactional messages". Mirrors `TransactionalMessageCheckService`,
//! `TransactionalMessageServiceImpl.check` and `AbstractTransactionalMessageCheckListener`.

use super::bridge::{self, Read, ReadStatus};
use super::{CHECK_MAX_TIME_TOPIC, HALF_TOPIC, OP_TOPIC, REMOVE_TAG};
use crate::broker::Broker;
use crate::topic::{PERM_READ, PERM_WRITE};
use rmq_common::message::{keys, MessageExt};
use rmq_store::PutMessageStatus;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A pass stops working on a queue after this long (`MAX_PROCESS_TIME_LIMIT`).
const MAX_PROCESS_TIME: Duration = Duration::from_secs(60);
/// Op records read per batch.
const OP_BATCH: i32 = 32;

/// What one pass did (for logs and tests).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassStats {
    /// Halves found resolved by an op record.
    pub resolved: u32,
    /// Check-backs sent (one renewed copy each).
    pub checked: u32,
    /// Halves given up.
    pub discarded: u32,
}

/// Starts the service: a pass every `transactionCheckInterval` while this broker is master.
pub fn start(b: &Arc<Broker>) -> tokio::task::JoinHandle<()> {
    let b = b.clone();
    tokio::spawn(async move {
        loop {
            // read every round: UPDATE_BROKER_CONFIG may change it
            let interval = b.config().transaction.check_interval_ms.max(10);
            tokio::time::sleep(Duration::from_millis(interval)).await;
            if !b.is_master() {
                continue;
            }
            let begin = Instant::now();
            let stats = check_pass(&b).await;
            if stats != PassStats::default() {
                tracing::info!(
                    "transaction check pass in {:?}: {} resolved, {} checked, {} discarded",
                    begin.elapsed(),
                    stats.resolved,
                    stats.checked,
                    stats.discarded
                );
            }
        }
    })
}

/// One pass over every queue of the half topic. The half topic's config is created on the
/// first pass (1 queue, read/write), as 4.8.0's `selectTopicConfig` does.
pub async fn check_pass(b: &Arc<Broker>) -> PassStats {
    let tc = match b.topics().get(HALF_TOPIC) {
        Some(t) => t,
        None => {
            let (t, created) =
                b.topics()
                    .create_in_send_back(HALF_TOPIC, 1, PERM_READ | PERM_WRITE, 0);
            if created {
                b.register_now();
            }
            t
        }
    };
    let mut stats = PassStats::default();
    for queue_id in 0..tc.read_queue_nums {
        check_queue(b, queue_id, &mut stats).await;
    }
    stats
}

/// The op records read so far in this pass.
#[derive(Debug, Default)]
struct Ops {
    /// half queue offset -> op queue offset, for halves at or after the half cursor.
    remove: HashMap<i64, i64>,
    /// Op queue offsets whose half is known resolved.
    done: Vec<i64>,
}

// ANCHOR: check_queue
async fn check_queue(b: &Arc<Broker>, queue_id: i32, stats: &mut PassStats) {
    let cfg = b.config().transaction.clone();
    let reserved_hours = b.store().config().file_reserved_time_hours;
    let started = Instant::now();
    let start_ms = rmq_store::now_ms();
    let half_offset = bridge::cursor(b, HALF_TOPIC, queue_id);
    let op_offset = bridge::cursor(b, OP_TOPIC, queue_id);
    let mut ops = Ops::default();
    let mut op_read = fill_op_remove_map(b, queue_id, op_offset, half_offset, &mut ops).await;
    let mut misses = 0;
    let mut i = half_offset;
    let mut new_offset = half_offset;
    loop {
        if started.elapsed() > MAX_PROCESS_TIME {
            tracing::info!("half queue {queue_id}: pass time limit reached at offset {i}");
            break;
        }
        if let Some(op) = ops.remove.remove(&i) {
            ops.done.push(op);
            stats.resolved += 1;
        } else {
            let got = bridge::read(b, HALF_TOPIC, queue_id, i, 1).await;
            let Some(mut half) = got.msgs.into_iter().next() else {
                misses += 1;
                if misses > 1 || got.status == ReadStatus::NoNewMsg {
                    break;
                }
                i = got.next_begin_offset;
                new_offset = i;
                continue;
            };
            if need_discard(&mut half, cfg.check_max) || need_skip(&half, reserved_hours) {
                discard(b, &half).await;
                stats.discarded += 1;
                i += 1;
                new_offset = i;
                continue;
            }
            if half.store_timestamp >= start_ms {
                break; // stored during this pass (e.g. a copy it appended)
            }
            let age = rmq_store::now_ms() - half.born_timestamp;
            let mut immunity = cfg.timeout_ms;
            if let Some(s) = half.property(keys::CHECK_IMMUNITY_TIME_IN_SECONDS) {
                immunity = immunity_time_ms(s, cfg.timeout_ms);
                if age < immunity && check_prepare_queue_offset(b, &mut ops, &half).await {
                    i += 1;
                    new_offset = i;
                    continue;
                }
            } else if (0..immunity).contains(&age) {
                break; // too young; so is everything after it
            }
            let last_op_born = op_read.msgs.last().map(|op| op.born_timestamp);
            let need_check = match last_op_born {
                None => age > immunity,
                Some(born) => born - start_ms > cfg.timeout_ms,
            } || age <= -1;
            if !need_check {
                if op_read.msgs.is_empty() {
                    break; // no op record left to read: nothing more to learn in this pass
                }
                let from = op_read.next_begin_offset;
                op_read = fill_op_remove_map(b, queue_id, from, half_offset, &mut ops).await;
                continue;
            }
            match put_back(b, &half).await {
                Some(copy) => {
                    send_check(b, copy);
                    stats.checked += 1;
                }
                None if b.is_master() => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue; // retry this half
                }
                None => break,
            }
        }
        i += 1;
        new_offset = i;
    }
    if new_offset != half_offset {
        bridge::set_cursor(b, HALF_TOPIC, queue_id, new_offset);
    }
    let new_op_offset = calculate_op_offset(&mut ops.done, op_offset);
    if new_op_offset != op_offset {
        bridge::set_cursor(b, OP_TOPIC, queue_id, new_op_offset);
    }
}
// ANCHOR_END: check_queue

/// Reads the next op records from `from` into `ops` (`fillOpRemoveMap`). An illegal offset
/// moves the op cursor to where the store says reading can go on.
async fn fill_op_remove_map(
    b: &Arc<Broker>,
    queue_id: i32,
    from: i64,
    min_half_offset: i64,
    ops: &mut Ops,
) -> Read {
    let r = bridge::read(b, OP_TOPIC, queue_id, from, OP_BATCH).await;
    match r.status {
        ReadStatus::OffsetIllegal | ReadStatus::NoMatchedMsg => {
            tracing::warn!(
                "op queue {queue_id}: offset {from} is illegal ({:?}), moving to {}",
                r.status,
                r.next_begin_offset
            );
            bridge::set_cursor(b, OP_TOPIC, queue_id, r.next_begin_offset);
            return r;
        }
        ReadStatus::NoNewMsg | ReadStatus::Found => {}
    }
    for op in &r.msgs {
        if op.tags() != Some(REMOVE_TAG) {
            tracing::error!(
                "op queue {queue_id}: record at {} has tag {:?}, not {REMOVE_TAG:?}",
                op.queue_offset,
                op.tags()
            );
            continue;
        }
        add_op(
            ops,
            bridge::op_half_offset(op),
            op.queue_offset,
            min_half_offset,
        );
    }
    r
}

/// Files one op record: done at once when its half is below the half cursor.
fn add_op(ops: &mut Ops, half_offset: i64, op_offset: i64, min_half_offset: i64) {
    if half_offset < min_half_offset {
        ops.done.push(op_offset);
    } else {
        ops.remove.insert(half_offset, op_offset);
    }
}

// ANCHOR: need_discard
/// Counts this check in `TRANSACTION_CHECK_TIMES` (in memory; the renewed copy stores it) and
/// says whether the half has been checked `check_max` times already (`needDiscard`). An
/// unreadable count reads as -1, as 4.8.0's `getInt` does.
fn need_discard(half: &mut MessageExt, check_max: i32) -> bool {
    let mut times = 1;
    if let Some(s) = half.property(keys::TRANSACTION_CHECK_TIMES) {
        times = s.trim().parse().unwrap_or(-1);
        if times >= check_max {
            return true;
        }
        times += 1;
    }
    half.put_property(keys::TRANSACTION_CHECK_TIMES, times.to_string());
    false
}
// ANCHOR_END: need_discard

/// A half older than the store's retention (`fileReservedTime` hours) is given up too
/// (`needSkip`).
fn need_skip(half: &MessageExt, reserved_hours: u32) -> bool {
    rmq_store::now_ms() - half.born_timestamp > reserved_hours as i64 * 3_600_000
}

/// `CHECK_IMMUNITY_TIME_IN_SECONDS` in ms; -1 or unreadable means `transactionTimeOut`.
fn immunity_time_ms(seconds: &str, timeout_ms: i64) -> i64 {
    match seconds.trim().parse::<i64>() {
        Ok(-1) | Err(_) => timeout_ms,
        Ok(s) => s.saturating_mul(1000),
    }
}

/// The new op cursor: the old one moved over the unbroken run of done op offsets
/// (`calculateOpOffset`).
fn calculate_op_offset(done: &mut [i64], old: i64) -> i64 {
    done.sort_unstable();
    let mut next = old;
    for &o in done.iter() {
        if o == next {
            next += 1;
        } else if o > next {
            break;
        }
    }
    next
}

/// A half inside its immunity time (`checkPrepareQueueOffset`): resolved if the half it was
/// copied from has an op record; otherwise copied again so the cursor can move on. Returns
/// whether the cursor may pass it.
async fn check_prepare_queue_offset(b: &Arc<Broker>, ops: &mut Ops, half: &MessageExt) -> bool {
    match half.property(keys::TRAN_PREPARED_QUEUE_OFFSET) {
        None => put_immunity_copy(b, half).await,
        Some(s) => match s.trim().parse::<i64>().unwrap_or(-1) {
            -1 => false,
            original => match ops.remove.remove(&original) {
                Some(op) => {
                    ops.done.push(op);
                    true
                }
                None => put_immunity_copy(b, half).await,
            },
        },
    }
}

async fn put_immunity_copy(b: &Arc<Broker>, half: &MessageExt) -> bool {
    let (msg, props) = bridge::immunity_copy(half);
    let (status, _) = bridge::put(b, msg, props).await;
    if status != PutMessageStatus::PutOk {
        tracing::error!(
            "immunity copy of half {} failed: {status:?}",
            half.queue_offset
        );
    }
    status == PutMessageStatus::PutOk
}

// ANCHOR: put_back
/// Appends the renewed copy of `half` and returns it as the producer will be asked about it
/// (its new offsets; `None` if the put failed).
async fn put_back(b: &Arc<Broker>, half: &MessageExt) -> Option<MessageExt> {
    let (msg, props) = bridge::renewed_half(half);
    match bridge::put(b, msg, props).await {
        (PutMessageStatus::PutOk, Some(a)) => {
            let mut copy = half.clone();
            copy.queue_offset = a.logics_offset;
            copy.commit_log_offset = a.wrote_offset;
            copy.put_property(keys::WAIT, "false".into());
            Some(copy)
        }
        (status, _) => {
            tracing::error!(
                "renewed copy of half {} in {HALF_TOPIC} failed: {status:?}",
                half.queue_offset
            );
            None
        }
    }
}
// ANCHOR_END: put_back

// ANCHOR: send_check
/// Asks a producer of the half's group about `copy`, oneway, in the background
/// (`resolveHalfMsg`). Without a live producer connection the check is only logged; the
/// next pass asks again.
fn send_check(b: &Arc<Broker>, copy: MessageExt) {
    let b = b.clone();
    tokio::spawn(async move {
        let Some(group) = bridge::producer_group(&copy) else {
            tracing::warn!("half {} has no PGROUP; nobody to ask", copy.queue_offset);
            return;
        };
        let Some(conn) = b.transactions().available_channel(b.producers(), group) else {
            tracing::warn!("Check transaction failed, channel is null. groupId={group}");
            return;
        };
        let req = match bridge::check_request(&copy) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("half {}: {e}; cannot ask the producer", copy.queue_offset);
                return;
            }
        };
        if let Err(e) = conn.send_oneway(req).await {
            tracing::error!(
                "Check transaction failed because invoke producer exception. group={group}, peer={}: {e}",
                conn.remote_addr()
            );
        }
    });
}
// ANCHOR_END: send_check

/// Gives a half up: a copy goes to `TRANS_CHECK_MAX_TIME_TOPIC` (created on demand with one
/// queue, as `createTopicOfTranCheckMaxTime`), where an operator can find it and resume it.
async fn discard(b: &Arc<Broker>, half: &MessageExt) {
    tracing::error!(
        "half {} (transaction {:?}, real topic {:?}) checked too many times; moved to {CHECK_MAX_TIME_TOPIC}",
        half.queue_offset,
        half.property(keys::UNIQ_KEY),
        half.property(keys::REAL_TOPIC)
    );
    let (_, created) =
        b.topics()
            .create_in_send_back(CHECK_MAX_TIME_TOPIC, 1, PERM_READ | PERM_WRITE, 0);
    if created {
        b.register_now();
    }
    let (msg, props) = bridge::discard_copy(half);
    let (status, _) = bridge::put(b, msg, props).await;
    if status != PutMessageStatus::PutOk {
        tracing::error!("copy to {CHECK_MAX_TIME_TOPIC} failed: {status:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn half(times: Option<&str>) -> MessageExt {
        let mut m = crate::transaction::test_half();
        m.born_timestamp = rmq_store::now_ms();
        if let Some(t) = times {
            m.put_property(keys::TRANSACTION_CHECK_TIMES, t.into());
        }
        m
    }

    #[test]
    fn fifteen_checks_then_discard() {
        // The first check stamps 1; each later one increments until the copy carrying 15
        // is given up: 15 checks at most.
        let mut m = half(None);
        let mut checks = 0;
        while !need_discard(&mut m, 15) {
            checks += 1;
            assert_eq!(
                m.property(keys::TRANSACTION_CHECK_TIMES),
                Some(checks.to_string().as_str())
            );
            assert!(checks <= 15);
        }
        assert_eq!(checks, 15);
        // An unreadable count reads as -1 and restarts the count at 0.
        let mut junk = half(Some("x"));
        assert!(!need_discard(&mut junk, 15));
        assert_eq!(junk.property(keys::TRANSACTION_CHECK_TIMES), Some("0"));
    }

    #[test]
    fn immunity_and_skip() {
        assert_eq!(immunity_time_ms("3", 6000), 3000);
        assert_eq!(immunity_time_ms("-1", 6000), 6000);
        assert_eq!(immunity_time_ms("soon", 6000), 6000);
        let mut old = half(None);
        assert!(!need_skip(&old, 72));
        old.born_timestamp -= 73 * 3_600_000;
        assert!(need_skip(&old, 72));
    }

    #[test]
    fn op_cursor_moves_over_the_unbroken_run() {
        assert_eq!(calculate_op_offset(&mut [], 5), 5);
        assert_eq!(calculate_op_offset(&mut [7, 5, 6], 5), 8);
        assert_eq!(calculate_op_offset(&mut [5, 7], 5), 6, "6 is still open");
        assert_eq!(calculate_op_offset(&mut [6, 7], 5), 5, "5 is still open");
        let mut ops = Ops::default();
        add_op(&mut ops, 3, 10, 4);
        add_op(&mut ops, 4, 11, 4);
        add_op(&mut ops, 9, 12, 4);
        assert_eq!(ops.done, vec![10]);
        assert_eq!(ops.remove, HashMap::from([(4, 11), (9, 12)]));
    }
}
