//! Grades lab 3 (the IndexFile): the key hash, slot and entry positions, put_key (entry,
//! chain, header), the query walk with its time range and stop rules; then the lab against
//! rmq_store's IndexFile (byte-identical files, same answers) and rmq_inspect's chain walker.

use lab03_index_file::{build_key, index_key_hash, java_string_hash, IndexFile, IndexHeader};
use lab_grader::{why, Rng};

const TABLE: &str = "part1/indexfile.md#a-hash-table-in-a-file";
const LOOKUP: &str = "part1/indexfile.md#looking-a-key-up";
const LAB: &str = "part1/indexfile.md#lab";

const T0: i64 = 1_700_000_000_000;

/// Fields of entry `n`: (keyHash, phyOffset, timeDiff, prevIndex).
fn entry(f: &IndexFile, n: usize) -> (i32, i64, i32, i32) {
    let at = 40 + f.hash_slot_num as usize * 4 + n * 20;
    (
        f.get_i32(at),
        f.get_i64(at + 4),
        f.get_i32(at + 12),
        f.get_i32(at + 16),
    )
}

fn slot(f: &IndexFile, i: usize) -> i32 {
    f.get_i32(40 + i * 4)
}

#[test]
fn the_key_hash_is_the_absolute_java_hash_code() {
    let rule = why(
        "indexKeyHashMethod = Math.abs(key.hashCode()), and 0 for the one hash (i32::MIN) whose \
         absolute value is still negative",
        TABLE,
    );
    assert_eq!(
        index_key_hash("Orders#order-42"),
        494_940_443,
        "a positive hash{rule}"
    );
    assert_eq!(
        index_key_hash("TopicTest#KEY1"),
        1_656_969_516,
        "\"TopicTest#KEY1\".hashCode() = -1656969516{rule}"
    );
    assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
    assert_eq!(index_key_hash("polygenelubricants"), 0, "i32::MIN{rule}");
    assert_eq!(build_key("Orders", "order-42"), "Orders#order-42");
}

#[test]
fn slots_follow_the_header_and_entries_follow_the_slots() {
    let f = IndexFile::create(4, 10, 0, 0);
    let rule = why(
        "header 40 bytes, then hashSlotNum slots of 4 bytes (slot = keyHash % hashSlotNum), \
         then entries of 20 bytes, entry n at n x 20 of the entry area",
        TABLE,
    );
    assert_eq!(f.slot_position(0), 40, "slot of hash 0{rule}");
    assert_eq!(f.slot_position(6), 48, "hash 6 -> slot 2{rule}");
    assert_eq!(
        f.slot_position(i32::MAX),
        40 + 3 * 4,
        "hash i32::MAX -> slot 3{rule}"
    );
    assert_eq!(f.entry_position(0), 56, "entry 0{rule}");
    assert_eq!(f.entry_position(1), 76, "entry 1{rule}");
    assert_eq!(f.entry_position(9), 56 + 180, "entry 9{rule}");
}

#[test]
fn the_first_key_goes_to_entry_1_and_fills_the_header() {
    let mut f = IndexFile::create(4, 10, 0, 0);
    assert!(
        f.put_key("T#k1", 4096, T0),
        "{}",
        why("an empty file has room", LAB)
    );
    let hash = index_key_hash("T#k1");
    let rule = why(
        "entry 0 is never used: the first entry is number 1 (indexCount starts at 1), its slot \
         now holds 1, its prevIndex is 0 (none) and its timeDiff 0; the header takes the first \
         message's offset and time as begin and end, one slot used, indexCount 2",
        TABLE,
    );
    assert_eq!(
        entry(&f, 1),
        (hash, 4096, 0, 0),
        "entry 1 (keyHash, phyOffset, timeDiff, prevIndex){rule}"
    );
    assert_eq!(slot(&f, (hash % 4) as usize), 1, "the key's slot{rule}");
    assert_eq!(
        f.header(),
        IndexHeader {
            begin_timestamp: T0,
            end_timestamp: T0,
            begin_phy_offset: 4096,
            end_phy_offset: 4096,
            hash_slot_count: 1,
            index_count: 2,
        },
        "header{rule}"
    );
}

#[test]
fn keys_of_one_slot_form_a_chain_newest_first() {
    // 1 slot: every key collides.
    let mut f = IndexFile::create(1, 10, 0, 0);
    f.put_key("T#a", 100, T0);
    f.put_key("T#b", 200, T0 + 2_500);
    f.put_key("T#a", 300, T0 + 61_000);
    let rule = why(
        "each new entry links (prevIndex) to the slot's previous newest entry and becomes the \
         slot's newest; timeDiff is whole seconds since the file's begin time",
        TABLE,
    );
    assert_eq!(slot(&f, 0), 3, "the slot holds the newest entry{rule}");
    assert_eq!(
        entry(&f, 2),
        (index_key_hash("T#b"), 200, 2, 1),
        "entry 2{rule}"
    );
    assert_eq!(
        entry(&f, 3),
        (index_key_hash("T#a"), 300, 61, 2),
        "entry 3{rule}"
    );
    let h = f.header();
    assert_eq!(
        (h.hash_slot_count, h.index_count),
        (1, 4),
        "one slot used, 3 entries{rule}"
    );
    assert_eq!(
        (h.end_phy_offset, h.end_timestamp),
        (300, T0 + 61_000),
        "header end{rule}"
    );
    assert_eq!(
        (h.begin_phy_offset, h.begin_timestamp),
        (100, T0),
        "header begin stays{rule}"
    );
}

#[test]
fn time_diff_is_clamped_and_zero_without_a_begin_time() {
    let mut f = IndexFile::create(4, 10, 0, 0);
    f.put_key("T#a", 1, T0);
    f.put_key("T#b", 2, T0 - 5_000);
    assert_eq!(
        entry(&f, 2).2,
        0,
        "{}",
        why(
            "a store time before the begin time gives timeDiff 0, not a negative number",
            LAB
        )
    );
    let mut g = IndexFile::create(4, 10, 0, 0);
    let mut h = g.header();
    h.index_count = 2; // pretend entry 1 exists but the begin time was never set
    g.set_header(&h);
    g.put_key("T#a", 1, T0);
    assert_eq!(
        entry(&g, 2).2,
        0,
        "{}",
        why("with no begin time (<= 0) timeDiff is 0", LAB)
    );
}

#[test]
fn a_full_file_refuses_and_stays_unchanged() {
    let mut f = IndexFile::create(4, 3, 0, 0);
    assert!(f.put_key("T#a", 1, T0));
    assert!(f.put_key("T#b", 2, T0));
    let before = f.clone();
    assert!(
        !f.put_key("T#c", 3, T0),
        "{}",
        why(
            "with indexNum 3 only entries 1 and 2 exist: indexCount 3 >= indexNum means full",
            LAB
        )
    );
    assert_eq!(f, before, "{}", why("a refused put writes nothing", LAB));
}

#[test]
fn a_slot_pointing_past_index_count_counts_as_empty() {
    let mut f = IndexFile::create(1, 10, 0, 0);
    f.put_i32(40, 99); // garbage in the only slot (a torn write)
    f.put_key("T#a", 7, T0);
    assert_eq!(
        entry(&f, 1).3,
        0,
        "{}",
        why(
            "a slot value <= 0 or > indexCount is not trusted: the new entry's prevIndex is 0",
            LAB
        )
    );
    assert_eq!(
        f.header().hash_slot_count,
        1,
        "{}",
        why("and the slot counts as newly used", LAB)
    );
}

#[test]
fn a_query_walks_the_chain_keeps_matching_keys_and_times() {
    let mut f = IndexFile::create(1, 20, 0, 0);
    // k1 at 0 s, 10 s, 20 s, 30 s; k2 in between (same slot).
    for i in 0..4i64 {
        f.put_key("T#k1", 1000 + i, T0 + i * 10_000);
        f.put_key("T#k2", 2000 + i, T0 + i * 10_000 + 5_000);
    }
    let all = i64::MAX;
    let rule = why(
        "start at the key's slot, follow prevIndex newest first, keep entries whose keyHash is \
         the key's and whose time (begin + timeDiff s) is within [begin, end]",
        LOOKUP,
    );
    assert_eq!(
        f.select_phy_offsets("T#k1", 10, 0, all),
        vec![1003, 1002, 1001, 1000],
        "all of k1{rule}"
    );
    assert_eq!(
        f.select_phy_offsets("T#k2", 2, 0, all),
        vec![2003, 2002],
        "max 2{rule}"
    );
    assert_eq!(
        f.select_phy_offsets("T#k1", 10, T0 + 10_000, T0 + 20_000),
        vec![1002, 1001],
        "k1 from 10 s to 20 s{rule}"
    );
    assert_eq!(
        f.select_phy_offsets("T#nope", 10, 0, all),
        Vec::<i64>::new(),
        "a key never put{rule}"
    );
    let empty = IndexFile::create(4, 10, 0, 0);
    assert_eq!(
        empty.select_phy_offsets("T#k1", 10, 0, all),
        Vec::<i64>::new(),
        "empty file{rule}"
    );
}

#[test]
fn a_query_stops_at_the_first_entry_older_than_begin() {
    let mut f = IndexFile::create(1, 20, 0, 0);
    f.put_key("T#k", 1, T0);
    f.put_key("T#k", 2, T0 + 30_000);
    f.put_key("T#k", 3, T0 + 10_000); // stored out of time order
    f.put_key("T#k", 4, T0 + 40_000);
    let rule = why(
        "the walk ends at the first entry older than `begin` (entries are assumed newest \
         first): entry 3 (10 s) ends it, so entry 2 (30 s) is never reached",
        LOOKUP,
    );
    assert_eq!(
        f.select_phy_offsets("T#k", 10, T0 + 20_000, i64::MAX),
        vec![4],
        "query from 20 s{rule}"
    );
}

fn random_key(rng: &mut Rng) -> String {
    let topic = *rng.pick(&["Orders", "Payments"]);
    build_key(topic, &format!("k{}", rng.below(40)))
}

/// The same puts into the lab and into rmq_store's IndexFile (8 slots, so chains are long):
/// the files are byte-identical after every put, and every query answers alike.
#[test]
fn same_bytes_and_answers_as_rmq_store() {
    let mut rng = Rng::new(0x0303);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("20240101000000000");
    let (slots, num) = (8u32, 200u32);
    let theirs = rmq_store::index_file::IndexFile::create(&path, slots, num, 4096, T0 - 1_000)
        .expect("store index file");
    let mut ours = IndexFile::create(slots, num, 4096, T0 - 1_000);
    let mut t = T0;
    let mut keys = Vec::new();
    for i in 0..num + 5 {
        let key = random_key(&mut rng);
        t += rng.range(-2_000, 5_000);
        let phy = 4096 + i as i64 * 300;
        let (a, b) = (ours.put_key(&key, phy, t), theirs.put_key(&key, phy, t));
        assert_eq!(
            a,
            b,
            "put {i} of {key}: accepted? (LAB_SEED={}){}",
            rng.seed,
            why("room left", LAB)
        );
        keys.push(key);
    }
    theirs.flush();
    let disk = std::fs::read(&path).expect("read the store's file");
    if let Some(at) = disk.iter().zip(&ours.bytes).position(|(a, b)| a != b) {
        let area = if at < 40 {
            "header"
        } else if at < 40 + 4 * slots as usize {
            "slots"
        } else {
            "entries"
        };
        panic!(
            "the lab's file differs from rmq_store's at byte {at} ({area}): store {:#04x}, lab {:#04x} (LAB_SEED={}){}",
            disk[at],
            ours.bytes[at],
            rng.seed,
            why("the same entries, slots and header as 4.8.0's putKey writes", TABLE)
        );
    }
    for round in 0..300 {
        let key = if rng.chance(90) {
            rng.pick(&keys).clone()
        } else {
            random_key(&mut rng)
        };
        let begin = T0 + rng.range(-5_000, 400_000);
        let end = begin + rng.range(0, 400_000);
        let max = rng.range(1, 40) as usize;
        let mut want = Vec::new();
        theirs.select_phy_offsets(&mut want, &key, max, begin, end);
        assert_eq!(
            ours.select_phy_offsets(&key, max, begin, end),
            want,
            "query {round}: {key} in [{begin}, {end}], max {max} (LAB_SEED={}){}",
            rng.seed,
            why("the offsets rmq_store's selectPhyOffset finds", LOOKUP)
        );
    }
}

/// rmq_inspect, which shares no code with the store, walks every chain of the lab's saved
/// file without a fault and finds each key's entries.
#[test]
fn rmq_inspect_walks_the_saved_file() {
    let mut rng = Rng::new(0x0313);
    let (slots, num) = (16u32, 64u32);
    let mut ours = IndexFile::create(slots, num, 0, 0);
    let mut puts: Vec<(String, i64)> = Vec::new();
    for i in 0..50 {
        let key = random_key(&mut rng);
        let phy = i * 100;
        assert!(ours.put_key(&key, phy, T0 + i * 1_000));
        puts.push((key, phy));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("20240101000000000");
    ours.save(&path).expect("save");
    let f = rmq_inspect::index::IndexFile::open(&path, Some(slots as usize), Some(num as usize))
        .expect("rmq_inspect opens it");
    assert_eq!(f.header.index_count, 51, "indexCount rmq_inspect reads");
    for s in 0..slots as usize {
        let walk = f.walk_chain(s);
        assert!(
            walk.fault.is_none(),
            "slot {s}: {:?} (LAB_SEED={}){}",
            walk.fault,
            rng.seed,
            why(
                "every link goes back to an older entry and 0 ends the chain",
                TABLE
            )
        );
    }
    for (key, _) in &puts {
        let got: Vec<i64> = f.lookup(key).entries.iter().map(|e| e.phy_offset).collect();
        // A lookup compares hashes only: a key that collides with this one is found too.
        let same_hash: Vec<i64> = puts
            .iter()
            .filter(|(k, _)| index_key_hash(k) == index_key_hash(key))
            .map(|(_, p)| *p)
            .rev()
            .collect();
        assert_eq!(
            got,
            same_hash,
            "rmq_inspect's lookup of {key} (LAB_SEED={}){}",
            rng.seed,
            why(
                "the chain holds every entry of the key, newest first",
                LOOKUP
            )
        );
    }
}
