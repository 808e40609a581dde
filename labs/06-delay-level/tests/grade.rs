//! Grades lab 6 (delay levels): parsing `messageDelayLevel`, the redirect to
//! SCHEDULE_TOPIC_XXXX, the deliver time and its correction; then the lab against rmq_store
//! and rmq_inspect, including the tagsCode the store's dispatcher really writes.

use lab06_delay_level::{
    parse_delay_levels, DelayLevelTable, ScheduleTarget, DEFAULT_MESSAGE_DELAY_LEVEL,
    SCHEDULE_TOPIC,
};
use lab_grader::{why, Rng};

const CHAPTER: &str = "part2/delay-queue.md";
const LAB: &str = "part2/delay-queue.md#lab";

fn table(text: &str) -> DelayLevelTable {
    parse_delay_levels(text).unwrap_or_else(|e| panic!("{text:?} must parse, got {e}"))
}

#[test]
fn the_default_levels_in_milliseconds() {
    let t = table(DEFAULT_MESSAGE_DELAY_LEVEL);
    let rule = why(
        "level n is the n-th item of messageDelayLevel (level 1 first), in milliseconds",
        CHAPTER,
    );
    assert_eq!(t.max_delay_level(), 18, "number of levels{rule}");
    for (level, ms) in [
        (1, 1_000),
        (3, 10_000),
        (5, 60_000),
        (14, 600_000),
        (17, 3_600_000),
        (18, 7_200_000),
    ] {
        assert_eq!(
            t.delays_ms.get(level - 1).copied(),
            Some(ms),
            "level {level}{rule}"
        );
    }
}

#[test]
fn the_four_units() {
    assert_eq!(
        table("2s 3m 4h 1d").delays_ms,
        vec![2_000, 180_000, 14_400_000, 86_400_000],
        "{}",
        why(
            "the last character is the unit: s, m, h or d; the rest is the number",
            LAB
        )
    );
    assert_eq!(
        table("1s 5s ").delays_ms,
        vec![1_000, 5_000],
        "{}",
        why(
            "4.8.0 splits on \" \" with Java's String.split, which drops empty pieces at the end",
            LAB
        )
    );
}

#[test]
fn values_4_8_0_refuses() {
    for bad in ["1x", "s", "1S", "1.5s", "5é", "", "1s  5s", "5s 1w 2h"] {
        assert!(
            parse_delay_levels(bad).is_err(),
            "{bad:?} must be refused{}",
            why(
                "a unit other than s/m/h/d (lower case, one character), a missing or non-integer number, an \
                 empty value or an empty piece between two spaces make parseDelayLevel fail",
                LAB
            )
        );
    }
}

#[test]
fn a_delayed_message_goes_to_queue_level_minus_one_with_the_level_capped() {
    let t = table(DEFAULT_MESSAGE_DELAY_LEVEL);
    let rule = why(
        "level <= 0 is not delayed; a level above maxDelayLevel is lowered to it; the queue \
         of SCHEDULE_TOPIC_XXXX is level - 1",
        CHAPTER,
    );
    let target = |level, queue_id| Some(ScheduleTarget { level, queue_id });
    for (asked, want) in [
        (0, None),
        (-1, None),
        (1, target(1, 0)),
        (3, target(3, 2)),
        (18, target(18, 17)),
        (19, target(18, 17)),
        (100, target(18, 17)),
    ] {
        assert_eq!(t.schedule_target(asked), want, "delay level {asked}{rule}");
    }
    assert_eq!(SCHEDULE_TOPIC, "SCHEDULE_TOPIC_XXXX");
}

#[test]
fn deliver_time_is_store_time_plus_the_level_delay() {
    let t = table(DEFAULT_MESSAGE_DELAY_LEVEL);
    let store = 1_700_000_000_000;
    let rule = why(
        "computeDeliverTimestamp: store time + the level's delay, or store time + 1 s for a \
         level the table does not have (it does not cap the level itself)",
        CHAPTER,
    );
    for (level, want) in [
        (1, store + 1_000),
        (3, store + 10_000),
        (18, store + 7_200_000),
        (0, store + 1_000),
        (19, store + 1_000),
        (-4, store + 1_000),
    ] {
        assert_eq!(
            t.compute_deliver_timestamp(level, store),
            want,
            "level {level}{rule}"
        );
    }
}

#[test]
fn the_schedule_queue_stores_the_deliver_time_as_tags_code() {
    let t = table(DEFAULT_MESSAGE_DELAY_LEVEL);
    let (store, tag_hash) = (1_700_000_000_000, 2_598_919);
    let rule = why(
        "in SCHEDULE_TOPIC_XXXX the dispatcher caps the DELAY level at maxDelayLevel and, if it \
         is positive, stores the deliver time instead of the tag hash",
        CHAPTER,
    );
    assert_eq!(
        t.schedule_tags_code(3, store, tag_hash),
        store + 10_000,
        "level 3{rule}"
    );
    assert_eq!(
        t.schedule_tags_code(40, store, tag_hash),
        store + 7_200_000,
        "level 40 (capped at 18){rule}"
    );
    assert_eq!(
        t.schedule_tags_code(0, store, tag_hash),
        tag_hash,
        "level 0{rule}"
    );
    assert_eq!(
        t.schedule_tags_code(-2, store, tag_hash),
        tag_hash,
        "level -2{rule}"
    );
}

#[test]
fn a_deliver_time_too_far_ahead_means_the_clock_moved_back() {
    let t = table(DEFAULT_MESSAGE_DELAY_LEVEL);
    let now = 1_700_000_000_000;
    let rule = why(
        "a deliver time more than one level delay after now cannot be right (the clock was \
         set back since the message was stored): the loop delivers it now",
        CHAPTER,
    );
    for (deliver, want) in [
        (now - 5, now - 5),
        (now + 4_000, now + 4_000),
        (now + 10_000, now + 10_000),
        (now + 10_001, now),
        (now + 3_600_000, now),
    ] {
        assert_eq!(
            t.correct_deliver_timestamp(3, now, deliver),
            want,
            "level 3 (10 s), deliver time now{:+} ms{rule}",
            deliver - now
        );
    }
}

fn random_levels(rng: &mut Rng) -> String {
    let n = rng.range(1, 20);
    (0..n)
        .map(|_| format!("{}{}", rng.range(0, 99), rng.pick(&["s", "m", "h", "d"])))
        .collect::<Vec<_>>()
        .join(" ")
}

/// rmq_store (the broker's store) and rmq_inspect (the independent verifier) read the same
/// level lists to the same table, and compute the same deliver times.
#[test]
fn agrees_with_rmq_store_and_rmq_inspect_on_random_level_lists() {
    let mut rng = Rng::new(0x0606);
    for round in 0..400 {
        let text = random_levels(&mut rng);
        let case = format!("round {round} (LAB_SEED={}), {text:?}", rng.seed);
        let ours = table(&text);
        let store = rmq_store::record::parse_delay_levels(&text).expect("store parses it");
        let inspect = rmq_inspect::consume_queue::DelayLevels::parse(&text).expect("inspect");
        let rule = why("the same table as the store and the verifier", LAB);
        assert_eq!(ours.delays_ms, store, "{case}{rule}");
        assert_eq!(ours.delays_ms, inspect.0, "{case}{rule}");
        let store_ts = rng.range(0, 2_000_000_000_000);
        for level in -2..=ours.max_delay_level() + 3 {
            let want = rmq_store::record::compute_deliver_timestamp(&store, level as i64, store_ts);
            assert_eq!(
                ours.compute_deliver_timestamp(level, store_ts),
                want,
                "level {level}, {case}{}",
                why("the deliver time rmq_store computes", CHAPTER)
            );
        }
    }
}

/// End to end: records parked in SCHEDULE_TOPIC_XXXX by a real store carry, in their consume
/// queue entries, the tagsCode this lab computes.
#[test]
fn the_store_dispatcher_writes_the_same_tags_code() {
    use rmq_common::message::{encode_properties, tags_code};
    use rmq_store::{DefaultMessageStore, MessageStoreConfig};

    let levels = "1s 3s 1m 2h 1d";
    let t = table(levels);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = MessageStoreConfig {
        mapped_file_size_commit_log: 64 * 1024,
        mapped_file_size_consume_queue: 20 * 64,
        message_delay_level: levels.to_string(),
        ..MessageStoreConfig::with_root(dir.path())
    };
    let store = DefaultMessageStore::open(config).expect("store opens");
    let mut parked = Vec::new();
    for level in 1..=t.max_delay_level() {
        let target = t
            .schedule_target(level)
            .expect("a positive level is delayed");
        let props = encode_properties(&[
            ("TAGS".to_string(), "TagA".to_string()),
            ("DELAY".to_string(), target.level.to_string()),
            ("REAL_TOPIC".to_string(), "Orders".to_string()),
            ("REAL_QID".to_string(), "0".to_string()),
        ]);
        let mut msg =
            lab_fixtures::message(SCHEDULE_TOPIC, target.queue_id, format!("level {level}"));
        msg.properties = props;
        msg.tags_code = tags_code(Some("TagA"));
        let r = store.put_message(msg);
        let append = r.append.expect("the store appended the record");
        parked.push((level, target.queue_id, append.store_timestamp));
    }
    lab_fixtures::wait_dispatched(&store);
    for (level, queue_id, store_ts) in parked {
        let entry = store
            .find_consume_queue(SCHEDULE_TOPIC, queue_id)
            .get_entry(0)
            .expect("the dispatcher wrote the entry");
        assert_eq!(
            t.schedule_tags_code(level, store_ts, tags_code(Some("TagA"))),
            entry.tags_code,
            "level {level} in queue {queue_id}{}",
            why(
                "the consume queue of SCHEDULE_TOPIC_XXXX holds the deliver time",
                CHAPTER
            )
        );
    }
    store.shutdown();
}
