//! The filter against 4.8.0 itself: `vectors.json` holds what the real rocketmq-filter 4.8.0
//! (`SqlFilter`) answered for ~2 000 expressions — hand-written edge cases, random grammatical
//! conditions and random token soup — compiled (the error text is the broker's remark) and
//! evaluated on ten property maps, plus bloom positions. Regenerate with
//! interop/filter-vectors/generate.sh.

use rmq_filter::{BloomFilter, Value};
use serde_json::Value as Json;
use std::collections::HashMap;

fn vectors() -> Json {
    let text = include_str!("vectors.json");
    serde_json::from_str(text).expect("vectors.json parses")
}

fn property_sets(v: &Json) -> Vec<HashMap<String, String>> {
    v["property_sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| {
            let kv: Vec<String> = kv
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            kv.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
        })
        .collect()
}

#[test]
fn compile_and_evaluate_like_4_8_0() {
    let v = vectors();
    let sets = property_sets(&v);
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() > 1500);
    let mut failures = Vec::new();
    let (mut compiled, mut refused) = (0, 0);
    for c in cases {
        let expr = c["expr"].as_str().unwrap();
        let ours = rmq_filter::compile("SQL92", expr);
        match (&ours, c.get("error")) {
            (Err(e), Some(want)) => {
                refused += 1;
                let want = want.as_str().unwrap_or("<null>");
                if e.remark().as_deref() != Some(want) {
                    failures.push(format!("{expr:?}: error\n  ours: {e}\n  java: {want}"));
                }
            }
            (Ok(_), Some(want)) => {
                failures.push(format!("{expr:?}: we compile, 4.8.0 says {want}"))
            }
            (Err(e), None) => failures.push(format!("{expr:?}: 4.8.0 compiles, we say {e}")),
            (Ok(x), None) => {
                compiled += 1;
                for (i, want) in c["results"].as_array().unwrap().iter().enumerate() {
                    let got = match x.evaluate(&sets[i]) {
                        Ok(Value::Bool(true)) => "TRUE".to_string(),
                        Ok(Value::Bool(false)) => "FALSE".to_string(),
                        Ok(Value::Null) => "NULL".to_string(),
                        Ok(other) => format!("OTHER:{other:?}"),
                        Err(_) => "ERROR".to_string(),
                    };
                    if got != want.as_str().unwrap() {
                        failures.push(format!(
                            "{expr:?} on set {i} {:?}: ours {got}, java {want}",
                            sets[i]
                        ));
                    }
                }
            }
        }
    }
    assert!(
        compiled > 500 && refused > 300,
        "{compiled} compiled, {refused} refused"
    );
    assert!(
        failures.is_empty(),
        "{} mismatches (of {} cases):\n{}",
        failures.len(),
        cases.len(),
        failures[..failures.len().min(25)].join("\n")
    );
}

#[test]
fn bloom_positions_like_4_8_0() {
    let v = vectors();
    for b in v["bloom"].as_array().unwrap() {
        let f = BloomFilter::create_by_fn(
            b["f"].as_i64().unwrap() as i32,
            b["n"].as_i64().unwrap() as i32,
        )
        .unwrap();
        assert_eq!(f.k as i64, b["k"].as_i64().unwrap());
        assert_eq!(f.m as i64, b["m"].as_i64().unwrap());
        let want: Vec<i32> = b["bitPos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_i64().unwrap() as i32)
            .collect();
        assert_eq!(f.bit_positions(b["key"].as_str().unwrap()), want, "{b}");
    }
}
