//! The `rmq-inspect` binary: exit codes, the summary line and the readable tables.

mod common;

use std::process::Command;

use common::{flip, sample_store};

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rmq-inspect"))
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn verify_exits_zero_with_the_summary_line() {
    let b = sample_store();
    let root = b.finish();
    let (code, text) = run(&["verify", root.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    let keys: usize = b.puts.iter().map(|p| p.keys.len()).sum();
    assert!(
        text.contains(&format!(
            "verified: 20 messages, 20 consume queue entries, {keys} index entries, 0 violations"
        )),
        "{text}"
    );
}

#[test]
fn verify_exits_non_zero_listing_the_violation() {
    let b = sample_store();
    let root = b.finish();
    let (path, pos) = b.locate(b.puts[4].phy);
    flip(&path, pos + 90, 0x20);
    let (code, text) = run(&["verify", root.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("VIOLATION [BodyCrc] commitlog/"), "{text}");
    assert!(text.contains(", 1 violations"), "{text}");
}

#[test]
fn verify_of_a_missing_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = run(&["verify", dir.path().join("nope").to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(text.contains("not a store directory"), "{text}");
}

#[test]
fn store_prints_every_section() {
    let b = sample_store();
    let root = b.finish();
    let (code, text) = run(&["store", root.to_str().unwrap(), "--key", "TopicB#shared"]);
    assert_eq!(code, 0, "{text}");
    for needle in [
        "== commitlog",
        "END_OF_FILE filler",
        "== messages (20 of 20)",
        "order-1 shared",
        "== consumequeue TopicA/0",
        "== index (1 files)",
        "key \"TopicB#shared\"",
        "== checkpoint",
        "physicMsgTimestamp",
        "abort file: absent",
        "topics.json",
        "(not plain JSON)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // Every shared-key message of TopicB shows up in the chain walk.
    let shared_b = b
        .puts
        .iter()
        .filter(|p| p.topic == "TopicB" && p.keys.iter().any(|k| k == "shared"))
        .count();
    let matches = text
        .lines()
        .filter(|l| l.contains(" yes ") && l.contains("TopicB"))
        .count();
    assert_eq!(matches, shared_b, "{text}");
}

#[test]
fn store_filters_by_topic_and_limit() {
    let b = sample_store();
    let root = b.finish();
    let (code, text) = run(&[
        "store",
        root.to_str().unwrap(),
        "--topic",
        "TopicA",
        "--limit",
        "2",
    ]);
    assert_eq!(code, 0, "{text}");
    let a = b.puts.iter().filter(|p| p.topic == "TopicA").count();
    assert!(text.contains(&format!("== messages (2 of {a})")), "{text}");
    assert!(!text.contains("== consumequeue TopicB"), "{text}");
}
