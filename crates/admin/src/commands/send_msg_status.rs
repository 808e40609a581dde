//! `mqadmin sendMsgStatus -b <brokerName> [-s <size>] [-c <count>]`: send `count` messages of
//! `size` bytes to the topic named after a broker (every broker has one, with one queue) and
//! print each send's round-trip time and result.
//!
//! A warm-up message of 16 bytes first, then the timed sends, one at a time, as producer group
//! `PID_SMSC`. The body repeats "hello jodie" as 4.8.0's does.
//! Book: Part III "Operating a cluster with mqadmin" (stats).
//! Mirrors `org.apache.rocketmq.tools.command.broker.SendMsgStatusCommand`.

use std::io::Write;
use std::time::Instant;

use rmq_client::{Message, Producer, ProducerConfig};

use crate::commands::CommonArgs;
use crate::format::send_result_string;

/// The producer group 4.8.0 sends as.
pub const PRODUCER_GROUP: &str = "PID_SMSC";

/// `sendMsgStatus`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Broker Name
    #[arg(short = 'b', long = "brokerName", value_name = "arg")]
    pub broker_name: String,
    /// Message Size, Default: 128
    #[arg(short = 's', long = "messageSize", value_name = "arg")]
    pub message_size: Option<usize>,
    /// send message count, Default: 50
    #[arg(short = 'c', long = "count", value_name = "arg")]
    pub count: Option<u32>,
}

/// `buildMessage`'s body: "hello jodie" repeated until it is at least `size` bytes long.
pub fn body_of_size(size: usize) -> Vec<u8> {
    "hello jodie".repeat(size.div_ceil(11)).into_bytes()
}

/// Runs `sendMsgStatus` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let topic = args.broker_name.trim().to_string();
    let size = args.message_size.unwrap_or(128);
    let count = args.count.unwrap_or(50);
    let mut config = ProducerConfig::new(PRODUCER_GROUP, String::new());
    config.client = args.common.client_config()?;
    config.client.instance_name = Some(format!("PID_SMSC_{}", rmq_client::util::now_ms()));
    let producer = Producer::start(config).await?;
    let result = async {
        producer
            .send(Message::new(topic.clone(), body_of_size(16)))
            .await?;
        for _ in 0..count {
            let begin = Instant::now();
            let r = producer
                .send(Message::new(topic.clone(), body_of_size(size)))
                .await?;
            let rt_ms = begin.elapsed().as_millis();
            writeln!(out, "rt:{rt_ms}ms, SendResult={}", send_result_string(&r))?;
        }
        anyhow::Ok(())
    }
    .await;
    producer.shutdown().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_repeat_the_phrase_like_4_8_0() {
        assert_eq!(body_of_size(16), b"hello jodiehello jodie");
        assert_eq!(body_of_size(11).len(), 11);
        assert_eq!(body_of_size(128).len(), 132);
    }
}
