//! Deterministic simulation of DLedger groups under faults: message delays, drops,
//! reordering, partitions, crashes with restart, pauses. Each seed is one reproducible
//! scenario; a failure message names its seed.
//! Book: Part IV "Cluster modes and DLedger" (testing Raft).

mod sim;

use sim::{Sim, SimConfig};

/// Runs seeds `base..base+n` on two threads and sums their reports.
fn seeds(base: u64, n: u64, nodes: usize) -> sim::Report {
    let threads = 2u64;
    let parts: Vec<sim::Report> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut total = sim::Report::default();
                    for seed in (base..base + n).filter(|x| x % threads == t) {
                        total.add(&Sim::new(SimConfig::new(nodes, seed)).run());
                    }
                    total
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut total = sim::Report::default();
    for p in &parts {
        total.add(p);
    }
    total.seeds = n;
    total
}

#[test]
fn one_seed_smoke() {
    let r = Sim::new(SimConfig::new(3, 1)).run();
    eprintln!("{r:?}");
    assert!(r.acked > 0);
}

#[test]
fn three_nodes_many_seeds() {
    let r = seeds(1000, 500, 3);
    eprintln!("{r:?}");
    assert!(r.acked > 500 * 50 && r.crashes > 500);
}

#[test]
fn five_nodes_many_seeds() {
    let r = seeds(5000, 150, 5);
    eprintln!("{r:?}");
    assert!(r.acked > 150 * 50 && r.crashes > 150);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Any mix of network quality and fault rate keeps the properties.
    #[test]
    fn any_network_keeps_safety(
        seed in 0u64..1_000_000,
        five in proptest::bool::ANY,
        drop_permille in 0u64..200,
        max_delay in 1u64..40,
        fault_every in 80u64..800,
        client_every in 3u64..40,
    ) {
        let mut c = SimConfig::new(if five { 5 } else { 3 }, seed);
        c.drop_permille = drop_permille;
        c.max_delay_ms = max_delay;
        c.fault_every_ms = fault_every;
        c.client_every_ms = client_every;
        let r = Sim::new(c).try_run();
        proptest::prop_assert!(r.is_ok(), "{:?}", r.err());
    }
}

/// Replays one seed: `SIM_SEED=1085 SIM_NODES=3 cargo test -p rmq-dledger --test simulation replay -- --ignored`.
#[test]
#[ignore]
fn replay() {
    let seed = std::env::var("SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let nodes = std::env::var("SIM_NODES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let r = Sim::new(SimConfig::new(nodes, seed)).run();
    eprintln!("{r:?}");
}

/// The long run: `cargo test -p rmq-dledger --release --test simulation long -- --ignored`.
#[test]
#[ignore]
fn long_run_many_seeds() {
    let n3: u64 = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    eprintln!("{:?}", seeds(100_000, n3, 3));
    eprintln!("{:?}", seeds(200_000, n3 / 2, 5));
    for seed in 300_000..300_000 + n3 / 20 {
        let mut c = SimConfig::new(3, seed);
        c.file_store = true;
        Sim::new(c).run();
    }
}

/// Runs seeds from `base` until one breaks a property; returns that failure.
fn first_failure(base: u64, max: u64, make: impl Fn(u64) -> SimConfig) -> Option<String> {
    (base..base + max).find_map(|seed| Sim::new(make(seed)).try_run().err())
}

/// 0.2.2 truncates right after a successful COMPARE, even when APPENDs that were in
/// flight landed after the compared index and were already counted.
#[test]
fn dledger_022_compare_race_truncates_counted_entries() {
    let failure = first_failure(100_200, 3000, |seed| {
        let mut c = SimConfig::new(3, seed);
        c.compare_walk_forward = false;
        c
    });
    eprintln!("{failure:?}");
    assert!(
        failure.is_some(),
        "expected a safety violation with 0.2.2's truncation"
    );
}

/// 0.2.2's leader ignores a member's newer term while it still has a quorum, so a
/// member that raised its term but fell behind stays out of the group.
#[test]
fn dledger_022_member_with_newer_term_stays_out() {
    let failure = first_failure(1080, 3000, |seed| {
        let mut c = SimConfig::new(3, seed);
        c.step_down_on_newer_term = false;
        c
    });
    eprintln!("{failure:?}");
    assert!(failure.is_some_and(|f| f.contains("converge")));
}

/// Replays one seed with 0.2.2's heartbeat rule (`SIM_SEED=...`).
#[test]
#[ignore]
fn replay_022_heartbeat() {
    let seed = std::env::var("SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut c = SimConfig::new(3, seed);
    c.step_down_on_newer_term = false;
    eprintln!("{:?}", Sim::new(c).run());
}

/// The same scenarios on the real file store: crashes reopen the files and recover.
#[test]
fn file_store_seeds() {
    for seed in 7000..7012 {
        let mut c = SimConfig::new(3, seed);
        c.file_store = true;
        Sim::new(c).run();
    }
}

/// File-store seeds only: `SIM_SEEDS=200 cargo test ... file_store_long -- --ignored`.
#[test]
#[ignore]
fn file_store_long() {
    let n: u64 = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    for seed in 300_000..300_000 + n {
        let mut c = SimConfig::new(if seed % 3 == 0 { 5 } else { 3 }, seed);
        c.file_store = true;
        Sim::new(c).run();
    }
}
