//! Example `filter`: RocketMQ 4.8.0's example package `filter` (TagFilterProducer/Consumer and
//! SqlFilterProducer/Consumer) in one program on rmq-client.
//!
//! It sends `--count` messages to `--topic`, tagged TagA, TagB, TagC in turn and with the user
//! property `a` = 0, 1, 2, ..., then consumes them with a fresh group through the selector you
//! give (`--sql EXPR` or `--tags EXPR`) and prints what arrived, one line per message, until
//! nothing new came for 3 s. A broker that refuses the selector (no `enablePropertyFilter`, a
//! bad expression) makes it print the broker's code and remark and exit with status 1.
//!
//! ```text
//! cargo run --release -p rmq-client --example filter -- -n 127.0.0.1:9876 -t SqlFilterTest \
//!     --sql "(TAGS is not null and TAGS in ('TagA', 'TagB')) and (a is not null and a between 0 and 3)"
//! ```
//! Book: Part II, "Filtering: tags, SQL92 and the bit map" (Try it).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rmq_client::consumer::{
    ConsumeConcurrentlyStatus, ConsumeFromWhere, MessageListener, MessageSelector, PushConsumer,
    PushConsumerConfig,
};
use rmq_client::{Message, Producer, ProducerConfig};

struct Args {
    namesrv: String,
    topic: String,
    count: usize,
    selector: MessageSelector,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        namesrv: "127.0.0.1:9876".into(),
        topic: "SqlFilterTest".into(),
        count: 10,
        selector: MessageSelector::tag("*"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "-n" | "--namesrv" => a.namesrv = value()?,
            "-t" | "--topic" => a.topic = value()?,
            "-c" | "--count" => a.count = value()?.parse().map_err(|e| format!("--count: {e}"))?,
            "--sql" => a.selector = MessageSelector::sql(value()?),
            "--tags" => a.selector = MessageSelector::tag(value()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "{e}\nusage: filter [-n NAMESRV] [-t TOPIC] [-c COUNT] [--sql EXPR | --tags EXPR]"
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = run(a).await {
        println!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(a: Args) -> Result<(), Box<dyn std::error::Error>> {
    let run_id = rmq_client::util::now_ms();
    let received: Arc<Mutex<BTreeMap<i64, String>>> = Arc::default();
    let mut cfg = PushConsumerConfig::new(format!("filter_example_{run_id}"), a.namesrv.clone());
    cfg.consume_from_where = ConsumeFromWhere::ConsumeFromFirstOffset;
    let sink = received.clone();
    let listener = MessageListener::concurrently(move |msgs, _| {
        for m in msgs {
            let a_value = m
                .properties
                .iter()
                .find(|(k, _)| k == "a")
                .and_then(|(_, v)| v.parse::<i64>().ok())
                .unwrap_or(-1);
            sink.lock()
                .insert(a_value, m.tags().unwrap_or("").to_string());
        }
        ConsumeConcurrentlyStatus::ConsumeSuccess
    });
    println!("consumer selector: {:?}", a.selector);
    let consumer =
        PushConsumer::start_with_selectors(cfg, &[(a.topic.as_str(), a.selector)], listener)
            .await?;

    let producer = Producer::start(ProducerConfig::new(
        format!("filter_example_pg_{run_id}"),
        a.namesrv.clone(),
    ))
    .await?;
    let tags = ["TagA", "TagB", "TagC"];
    for i in 0..a.count {
        let m = Message::new(a.topic.clone(), format!("Hello RocketMQ {i}").into_bytes())
            .with_tags(tags[i % 3])
            .with_property("a", i.to_string());
        producer.send(m).await?;
    }
    producer.shutdown().await;
    println!(
        "sent {} messages: a = 0..{}, tags TagA, TagB, TagC in turn",
        a.count,
        a.count - 1
    );

    // wait until something arrived and then nothing more for 3 s (15 s at most)
    let started = Instant::now();
    let (mut seen, mut quiet_since) = (0, Instant::now());
    while started.elapsed() < Duration::from_secs(15)
        && (seen == 0 || quiet_since.elapsed() < Duration::from_secs(3))
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let n = received.lock().len();
        if n != seen {
            (seen, quiet_since) = (n, Instant::now());
        }
    }
    consumer.shutdown().await;
    for (a_value, tag) in received.lock().iter() {
        println!("received a={a_value} tags={tag}");
    }
    println!("received {seen} of {} messages", a.count);
    Ok(())
}
