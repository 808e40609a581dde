//! Three transactional messages against a running cluster (the book's Try-it of Part II,
//! "Transactional messages"; RocketMQ 4.8.0's example package `transaction` does the same
//! with `TransactionMQProducer`):
//!
//! * key `tx-commit`: the local transaction commits at once, the message becomes visible;
//! * key `tx-rollback`: it rolls back at once, the message never becomes visible;
//! * key `tx-unknown`: it answers UNKNOW; the broker asks again (a check-back) once the half
//!   message is older than `transactionTimeOut`, and this program answers COMMIT then.
//!
//! The program prints each send and each check-back and exits once the check-back came (or
//! after `--wait-s` seconds with status 1).
//!
//! ```text
//! cargo run --release -p rmq-client --example transaction -- -n 127.0.0.1:9876 -t TxDemo
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use parking_lot::Mutex;
use rmq_client::{
    LocalTransactionState, Message, MessageExt, ProducerConfig, TransactionListener,
    TransactionProducer,
};

#[derive(Parser)]
#[command(about = "Sends a committed, a rolled-back and an UNKNOW-then-checked transaction")]
struct Args {
    /// Name server address(es), `host:port;host:port`.
    #[arg(short = 'n', long, default_value = "127.0.0.1:9876")]
    namesrv: String,
    /// The topic (it must exist).
    #[arg(short = 't', long, default_value = "TxDemo")]
    topic: String,
    /// How long to wait for the check-back.
    #[arg(long, default_value_t = 120)]
    wait_s: u64,
}

/// The application's side: decides by the message key; remembers when a check-back came.
struct Demo {
    started: Instant,
    checked: Mutex<Vec<String>>,
}

impl TransactionListener for Demo {
    fn execute_local_transaction(&self, msg: &Message, _id: &str) -> LocalTransactionState {
        match msg.keys() {
            Some("tx-commit") => LocalTransactionState::CommitMessage,
            Some("tx-rollback") => LocalTransactionState::RollbackMessage,
            _ => LocalTransactionState::Unknow,
        }
    }

    fn check_local_transaction(&self, msg: &MessageExt) -> LocalTransactionState {
        let key = msg.keys().unwrap_or("").to_string();
        let answer = match key.as_str() {
            "tx-rollback" => LocalTransactionState::RollbackMessage,
            _ => LocalTransactionState::CommitMessage,
        };
        println!(
            "check {key:<12} asked by the broker after {:.1} s, answered {}",
            self.started.elapsed().as_secs_f64(),
            answer.name()
        );
        self.checked.lock().push(key);
        answer
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let args = Args::parse();
    let demo = Arc::new(Demo {
        started: Instant::now(),
        checked: Mutex::new(Vec::new()),
    });
    let listener: Arc<dyn TransactionListener> = demo.clone();
    let producer = TransactionProducer::start(
        ProducerConfig::new("tx_demo_pg", args.namesrv.clone()),
        listener,
    )
    .await?;
    for key in ["tx-commit", "tx-rollback", "tx-unknown"] {
        let msg = Message::new(&args.topic, format!("{key} body"))
            .with_tags("demo")
            .with_keys(key);
        let r = producer.send_message_in_transaction(msg).await?;
        println!(
            "half  {key:<12} {}  local {:<16} transaction {}",
            r.send_result.send_status.name(),
            r.local_transaction_state.name(),
            r.transaction_id
        );
    }
    let deadline = Instant::now() + Duration::from_secs(args.wait_s);
    while !demo.checked.lock().iter().any(|k| k == "tx-unknown") {
        if Instant::now() > deadline {
            producer.shutdown().await;
            anyhow::bail!("no check-back within {} s", args.wait_s);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The answer is oneway: give it a moment on the wire before the connection closes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    producer.shutdown().await;
    Ok(())
}
