//! `mqbench` end to end: a short producer run and a short consumer run against
//! the real binaries, checked through their JSON summaries (no speed asserted).

mod common;

use common::Cluster;

fn run(args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mqbench"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("TPS"), "per-second lines: {stdout}");
    let json = args.iter().skip_while(|a| **a != "--json").nth(1).unwrap();
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_then_consumer_write_summaries() {
    let c = Cluster::start().await;
    c.create_topic("BenchT", 4).await;
    let pj = c.dir.path().join("p.json");
    let cj = c.dir.path().join("c.json");
    let (ns, pjs, cjs) = (
        c.ns.clone(),
        pj.display().to_string(),
        cj.display().to_string(),
    );
    let p = tokio::task::spawn_blocking(move || {
        run(&[
            "producer",
            "-n",
            &ns,
            "-t",
            "BenchT",
            "-s",
            "64",
            "-w",
            "2",
            "--batch",
            "4",
            "--duration",
            "2",
            "--json",
            &pjs,
        ])
    })
    .await
    .unwrap();
    assert_eq!(p["mode"], "producer");
    assert!(p["messages"].as_u64().unwrap() > 0);
    assert_eq!(p["failures"], 0);
    assert_eq!(
        p["messages"].as_u64().unwrap() % 4,
        1,
        "a probe message, then whole batches"
    );
    assert!(!p["per_second"].as_array().unwrap().is_empty());
    assert!(p["latency_us"]["p999"].as_u64().unwrap() >= p["latency_us"]["p50"].as_u64().unwrap());

    let ns = c.ns.clone();
    let cons = tokio::task::spawn_blocking(move || {
        run(&[
            "consumer",
            "-n",
            &ns,
            "-t",
            "BenchT",
            "-w",
            "4",
            "--duration",
            "4",
            "--json",
            &cjs,
        ])
    })
    .await
    .unwrap();
    assert_eq!(cons["mode"], "consumer");
    // A new group starts at offset 0 while the queues' first messages are still
    // in memory, so it sees the producer's messages.
    assert_eq!(
        cons["messages"], p["messages"],
        "consumer saw every produced message"
    );
}
