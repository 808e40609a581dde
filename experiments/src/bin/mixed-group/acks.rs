//! What the Java producers report: their acknowledgement files and their failed sends.
//!
//! The producers are `interop/dledger/java/Failover.java` (rocketmq-client 4.8.0, synchronous
//! sends). Each acknowledged send is one line `<ackMillis> <body>` in its ack file, flushed at
//! once, and every body ends with the time its send began (`java-<run>-<seq>-<sendStartMillis>`).
//! A failed send is a stdout line `java: send error at <millis>: <reason>`.

use std::path::Path;

/// One acknowledged send.
#[derive(Debug, Clone)]
pub struct Ack {
    /// When the acknowledgement arrived (epoch ms).
    pub at_ms: u64,
    /// When the send began (epoch ms), from the body.
    pub sent_ms: u64,
    pub body: String,
}

/// Every acknowledgement in the ack files so far (a file that does not exist yet has none).
/// A torn last line (the producer is still writing) is skipped.
pub fn read_acks(files: &[impl AsRef<Path>]) -> Vec<Ack> {
    let mut acks = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for line in text.lines() {
            let Some((at, body)) = line.split_once(' ') else {
                continue;
            };
            let (Ok(at_ms), Some(sent_ms)) = (at.parse(), sent_ms_of(body)) else {
                continue;
            };
            acks.push(Ack {
                at_ms,
                sent_ms,
                body: body.to_string(),
            });
        }
    }
    acks
}

/// The send start time a body ends with.
fn sent_ms_of(body: &str) -> Option<u64> {
    body.rsplit_once('-').and_then(|(_, t)| t.parse().ok())
}

/// The times (epoch ms) of the failed sends in the producers' logs.
pub fn read_errors(logs: &[impl AsRef<Path>]) -> Vec<u64> {
    let mut out = Vec::new();
    for f in logs {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("java: send error at ") {
                if let Some(ms) = rest.split(':').next().and_then(|v| v.trim().parse().ok()) {
                    out.push(ms);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_acks_errors_and_skips_torn_lines() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("acked.txt");
        std::fs::write(&a, "1000 java-r-0-990\n1010 java-r-1-1001\n1020 java-r-2-").unwrap();
        let acks = read_acks(&[&a, &dir.path().join("missing.txt")]);
        assert_eq!(acks.len(), 2);
        assert_eq!((acks[1].at_ms, acks[1].sent_ms), (1010, 1001));
        assert_eq!(acks[0].body, "java-r-0-990");
        let l = dir.path().join("p.log");
        std::fs::write(
            &l,
            "java: send error at 1500: MQClientException: no route\nother\njava: send error at 1600: x\n",
        )
        .unwrap();
        assert_eq!(read_errors(&[l]), vec![1500, 1600]);
    }
}
