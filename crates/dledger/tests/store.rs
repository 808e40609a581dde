//! The DLedger file store: 0.2.2's byte layout, reopen, truncation, and recovery from
//! torn tails and corruption at random points.
//! Book: Part IV "Cluster modes and DLedger" (the DLedger files).

use std::fs;
use std::path::Path;

use bytes::Bytes;
use proptest::prelude::*;
use rmq_dledger::core::{LogError, LogStore, PersistedState};
use rmq_dledger::entry::{Entry, IndexRecord, BODY_OFFSET};
use rmq_dledger::store::{DLedgerStore, StoreConfig, StoreError};

const DATA: i64 = 1024;
const INDEX: i64 = 32 * 8;

fn cfg(dir: &Path) -> StoreConfig {
    let mut c = StoreConfig::new(dir, "n0");
    c.data_file_size = DATA;
    c.index_file_size = INDEX;
    c
}

fn body(i: u64) -> Bytes {
    Bytes::from(format!("body-{i}-{}", "x".repeat((i * 37 % 90) as usize)))
}

/// Writes `n` entries (terms rising every 7) and returns them.
fn fill(dir: &Path, n: u64) -> Vec<Entry> {
    let (mut s, _) = DLedgerStore::open(cfg(dir)).unwrap();
    let mut out = vec![];
    for i in 0..n {
        out.push(s.append_as_leader(1 + (i / 7) as i64, body(i)).unwrap());
    }
    s.flush().unwrap();
    out
}

fn data_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir.join("dledger-n0/data"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn layout_is_dledger_022() {
    let dir = tempfile::tempdir().unwrap();
    let entries = fill(dir.path(), 40);
    let files = data_files(dir.path());
    assert!(files.len() > 1);
    assert_eq!(
        files[1].file_name().unwrap().to_str().unwrap(),
        "00000000000000001024"
    );
    let raw = fs::read(&files[0]).unwrap();
    assert_eq!(raw.len() as i64, DATA);
    let e0 = &entries[0];
    assert_eq!(&raw[0..4], &1i32.to_be_bytes());
    assert_eq!(&raw[4..8], &e0.size().to_be_bytes());
    assert_eq!(&raw[8..16], &0i64.to_be_bytes());
    assert_eq!(&raw[16..24], &1i64.to_be_bytes());
    assert_eq!(&raw[24..32], &0i64.to_be_bytes());
    assert_eq!(&raw[44..48], &(e0.body.len() as i32).to_be_bytes());
    assert_eq!(&raw[BODY_OFFSET..e0.size() as usize], &e0.body[..]);
    // the blank at the end of the first file
    let last_in_first = entries.iter().filter(|e| e.pos < DATA).last().unwrap();
    let end = (last_in_first.pos + last_in_first.size() as i64) as usize;
    assert_eq!(&raw[end..end + 4], &(-1i32).to_be_bytes());
    assert_eq!(
        &raw[end + 4..end + 8],
        &((DATA as usize - end) as i32).to_be_bytes()
    );
    // index record of entry 9 lives at 9*32, in the second 256-byte index file
    let ix = fs::read(dir.path().join("dledger-n0/index/00000000000000000256")).unwrap();
    let r = IndexRecord::decode(&ix[(9 * 32 - 256)..]).unwrap();
    assert_eq!(r, IndexRecord::of(&entries[9]));
}

#[test]
fn reopen_reads_everything_back() {
    let dir = tempfile::tempdir().unwrap();
    let entries = fill(dir.path(), 60);
    let (s, rec) = DLedgerStore::open(cfg(dir.path())).unwrap();
    assert!(!rec.torn_tail);
    assert_eq!((rec.begin_index, rec.end_index, rec.end_term), (0, 59, 9));
    for e in &entries {
        assert_eq!(&s.get(e.index).unwrap(), e);
    }
    assert!(matches!(s.get(60), Err(LogError::OutOfRange { .. })));
}

#[test]
fn term_and_checkpoint_files_are_properties() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 5);
    let (mut s, _) = DLedgerStore::open(cfg(dir.path())).unwrap();
    s.persist_term(&PersistedState {
        term: 7,
        vote_for: Some("n2".into()),
    })
    .unwrap();
    s.set_committed(3);
    s.persist_checkpoint().unwrap();
    let root = dir.path().join("dledger-n0");
    let term = fs::read_to_string(root.join("currterm")).unwrap();
    assert_eq!(term, "currTerm=7\nvoteLeader=n2\n");
    let cp = fs::read_to_string(root.join("checkpoint")).unwrap();
    assert_eq!(cp, "endIndex=4\ncommittedIndex=3\n");
    drop(s);
    let (s, rec) = DLedgerStore::open(cfg(dir.path())).unwrap();
    assert_eq!(rec.committed_index, 3);
    assert_eq!(s.load_term().term, 7);
    assert_eq!(s.load_term().vote_for.as_deref(), Some("n2"));
    let e3 = s.get(3).unwrap();
    assert_eq!(s.committed_pos(), e3.pos + e3.size() as i64);
}

#[test]
fn follower_truncation_replaces_the_tail_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let entries = fill(dir.path(), 30);
    let (mut s, _) = DLedgerStore::open(cfg(dir.path())).unwrap();
    // the leader's entry 20 differs (newer term, other body) but sits at the same pos
    let mut e = Entry::new(Bytes::from_static(b"leader-20"));
    e.index = 20;
    e.term = 99;
    e.pos = entries[20].pos;
    assert_eq!(s.truncate(&e).unwrap(), 20);
    assert_eq!(s.end_index(), 20);
    assert_eq!(s.end_term(), 99);
    // keeping an equal entry cuts only what follows it
    assert_eq!(s.truncate(&entries[10]).unwrap(), 10);
    assert_eq!(s.end_index(), 10);
    s.set_committed(8);
    assert!(matches!(
        s.truncate(&Entry {
            index: 5,
            term: 50,
            ..entries[5].clone()
        }),
        Err(LogError::BelowCommitted { .. })
    ));
    let next = s
        .append_as_leader(100, Bytes::from_static(b"after"))
        .unwrap();
    assert_eq!(next.index, 11);
    s.flush().unwrap();
    drop(s);
    let (s, rec) = DLedgerStore::open(cfg(dir.path())).unwrap();
    assert!(!rec.torn_tail);
    assert_eq!(rec.end_index, 11);
    assert_eq!(s.get(11).unwrap(), next);
    for i in 0..=10 {
        assert_eq!(s.get(i).unwrap(), entries[i as usize]);
    }
}

#[test]
fn a_truncate_push_no_index_file_can_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let entries = fill(dir.path(), 5);
    let (mut s, _) = DLedgerStore::open(cfg(dir.path())).unwrap();
    for (index, pos) in [(i64::MAX, 0), (-3, 0), (2, -1)] {
        let e = Entry {
            index,
            pos,
            ..entries[2].clone()
        };
        assert!(
            matches!(s.truncate(&e), Err(LogError::OutOfRange { .. })),
            "index {index}, pos {pos}"
        );
    }
    assert_eq!(s.end_index(), 4, "nothing was cut");
    assert_eq!(s.get(4).unwrap(), entries[4]);
}

#[test]
fn truncating_everything_restarts_at_the_leaders_position() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 12);
    let (mut s, _) = DLedgerStore::open(cfg(dir.path())).unwrap();
    let mut e = Entry::new(Bytes::from_static(b"fresh"));
    e.index = 0;
    e.term = 5;
    e.pos = 0;
    assert_eq!(s.truncate(&e).unwrap(), 0);
    assert_eq!((s.begin_index(), s.end_index()), (0, 0));
    assert_eq!(s.get(0).unwrap(), e);
}

#[test]
fn a_shortened_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 12);
    let f = data_files(dir.path()).pop().unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&f)
        .unwrap()
        .set_len(100)
        .unwrap();
    assert!(matches!(
        DLedgerStore::open(cfg(dir.path())),
        Err(StoreError::FileSize { .. })
    ));
}

#[test]
fn lost_index_files_are_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let entries = fill(dir.path(), 50);
    fs::remove_dir_all(dir.path().join("dledger-n0/index")).unwrap();
    let (s, rec) = DLedgerStore::open(cfg(dir.path())).unwrap();
    assert_eq!(rec.end_index, 49);
    assert_eq!(rec.rebuilt_index_records, 50);
    for e in &entries {
        assert_eq!(&s.get(e.index).unwrap(), e);
    }
}

/// Overwrites bytes of the data chain at absolute position `pos`.
fn scribble(dir: &Path, pos: i64, bytes: &[u8]) {
    let files = data_files(dir);
    let f = &files[(pos / DATA) as usize];
    let mut raw = fs::read(f).unwrap();
    let rel = (pos % DATA) as usize;
    let n = bytes.len().min(raw.len() - rel);
    raw[rel..rel + n].copy_from_slice(&bytes[..n]);
    fs::write(f, raw).unwrap();
}

/// Zeroes the data chain from `pos` to the end, as a crash losing unflushed pages does.
fn zero_from(dir: &Path, pos: i64) {
    for (i, f) in data_files(dir).iter().enumerate() {
        let start = i as i64 * DATA;
        if start + DATA <= pos {
            continue;
        }
        let mut raw = fs::read(f).unwrap();
        let rel = (pos - start).max(0) as usize;
        raw[rel..].fill(0);
        fs::write(f, raw).unwrap();
    }
}

fn containing(entries: &[Entry], pos: i64) -> Option<&Entry> {
    entries
        .iter()
        .find(|e| e.pos <= pos && pos < e.pos + e.size() as i64)
}

#[test]
fn torn_tail_is_cut_with_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let entries = fill(dir.path(), 40);
    let last = entries.last().unwrap();
    // half of the last record survived
    zero_from(dir.path(), last.pos + 20);
    let (mut s, rec) = DLedgerStore::open(cfg(dir.path())).unwrap();
    assert!(rec.torn_tail);
    assert_eq!(rec.end_index, 38);
    let again = s.append_as_leader(9, Bytes::from_static(b"again")).unwrap();
    assert_eq!((again.index, again.pos), (39, last.pos));
    s.flush().unwrap();
    drop(s);
    let (_, rec) = DLedgerStore::open(cfg(dir.path())).unwrap();
    assert!(!rec.torn_tail);
    assert_eq!(rec.end_index, 39);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A crash that loses everything after a random point leaves exactly the records
    /// that were wholly before it.
    #[test]
    fn zeroed_tail_keeps_whole_records(n in 1u64..80, cut_frac in 0.0f64..1.0) {
        let dir = tempfile::tempdir().unwrap();
        let entries = fill(dir.path(), n);
        let end_pos = entries.last().map(|e| e.pos + e.size() as i64).unwrap();
        let cut = (end_pos as f64 * cut_frac) as i64;
        zero_from(dir.path(), cut);
        let (s, rec) = DLedgerStore::open(cfg(dir.path())).unwrap();
        // 0.2.2 has no body CRC: a record whose header survived is kept even if the
        // tail of its body was lost.
        let kept = entries.iter().filter(|e| e.pos + BODY_OFFSET as i64 <= cut).count() as i64;
        prop_assert_eq!(rec.end_index, kept - 1);
        for i in 0..kept {
            let (got, want) = (s.get(i).unwrap(), &entries[i as usize]);
            prop_assert_eq!((got.index, got.term, got.pos), (want.index, want.term, want.pos));
            if want.pos + want.size() as i64 <= cut {
                prop_assert_eq!(&got.body, &want.body);
            }
        }
    }

    /// Garbage at a random point never panics recovery; every record before the one
    /// hit survives intact, and where recovery looked, data and index agree.
    #[test]
    fn scribbled_bytes_never_break_recovery(
        n in 1u64..60,
        at_frac in 0.0f64..1.0,
        junk in proptest::collection::vec(any::<u8>(), 1..16),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let entries = fill(dir.path(), n);
        let end_pos = entries.last().map(|e| e.pos + e.size() as i64).unwrap();
        let at = (end_pos as f64 * at_frac) as i64;
        scribble(dir.path(), at, &junk);
        let (s, rec) = DLedgerStore::open(cfg(dir.path())).unwrap();
        // A scribble in the blank tail of a data file can break its marker: recovery
        // then stops there, as 0.2.2's does, and the next record counts as hit.
        let hit = containing(&entries, at)
            .or_else(|| entries.iter().find(|e| e.pos > at))
            .map(|e| e.index)
            .unwrap_or(n as i64);
        prop_assert!(rec.end_index >= hit - 1, "kept {} but only {} was hit", rec.end_index, hit);
        if rec.end_index >= 0 {
            prop_assert_eq!(rec.begin_index, 0);
        }
        // Like 0.2.2, recovery only re-reads the last three data files; damage in
        // older ones shows up later as a typed error from `get`.
        let files = data_files(dir.path()).len() as i64;
        let scanned = at >= (files - 3).max(0) * DATA;
        for i in 0..=rec.end_index {
            let got = s.get(i);
            if i < hit {
                prop_assert_eq!(&got.unwrap(), &entries[i as usize]);
            } else if scanned {
                prop_assert!(got.is_ok(), "entry {} unreadable: {:?}", i, got);
            }
        }
    }
}
