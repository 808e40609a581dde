//! Frame size against the real `mqbroker` over TCP: a 5 MiB message fits in a frame (4.8.0
//! accepts frames up to 16 MiB, `frameMaxLength`) and is refused by the store's
//! `maxMessageSize` (4 MiB) with MESSAGE_ILLEGAL and 4.8.0's remark, not with a closed
//! connection; a frame that announces 17 MiB closes that connection only, with a log line
//! naming the peer. Book: Appendix "Wire protocol". 4.8.0: `NettyDecoder`,
//! `SendMessageProcessor.handlePutMessageResult`.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rmq_remoting::codes::response as rs;
use rmq_remoting::RemotingClient;

/// 4.8.0's remark for MESSAGE_ILLEGAL (SendMessageProcessor).
const ILLEGAL_REMARK: &str = "the message is illegal, maybe msg body or properties length not \
matched. msg body length limit 128k, msg properties length limit 32k.";

/// Starts the broker with its log in `log`, waiting for the boot line there.
fn start_broker_logged(setup: &BrokerSetup, log: &std::path::Path) -> Proc {
    let out = File::create(log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_mqbroker"))
        .arg("-c")
        .arg(&setup.conf)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let proc = Proc::new(child);
    wait_for_log(log, rmq_testkit::BROKER_BOOT_LINE);
    proc
}

/// Waits until `log` contains `needle`; returns the log.
fn wait_for_log(log: &std::path::Path, needle: &str) -> String {
    let deadline = Instant::now() + rmq_testkit::BOOT_TIMEOUT;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in the broker log:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn five_mib_is_message_illegal_and_seventeen_mib_closes_only_that_connection() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    // Defaults: maxMessageSize 4 MiB, frameMaxLength 16 MiB.
    let setup = write_broker_conf(dir.path(), &ns, "");
    let log = dir.path().join("broker.log");
    let _broker = start_broker_logged(&setup, &log);
    let c = RemotingClient::new();

    send_ok(&c, &setup.addr, send_v2("Big", b"warm-up", &[])).await;
    let r = c
        .invoke(&setup.addr, send_v2("Big", &vec![7u8; 5 << 20], &[]), T)
        .await
        .unwrap();
    assert_eq!(
        (r.code, r.remark.as_deref()),
        (rs::MESSAGE_ILLEGAL, Some(ILLEGAL_REMARK))
    );
    // Just under 4 MiB of body still fits.
    send_ok(
        &c,
        &setup.addr,
        send_v2("Big", &vec![8u8; (4 << 20) - 1024], &[]),
    )
    .await;

    // A raw peer announces 17 MiB and sends nothing more: the broker closes it at once.
    let mut raw = std::net::TcpStream::connect(&setup.addr).unwrap();
    let peer = raw.local_addr().unwrap().to_string();
    raw.write_all(&(17u32 << 20).to_be_bytes()).unwrap();
    raw.set_read_timeout(Some(T)).unwrap();
    let mut buf = [0u8; 16];
    let n = raw.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the broker closes the connection");
    let text = wait_for_log(&log, &peer);
    let line = text.lines().find(|l| l.contains(&peer)).unwrap();
    assert!(line.contains("bad frame"), "{line}");
    assert!(line.contains(&(16 << 20).to_string()), "{line}");

    // The other client's connection and new ones keep working.
    send_ok(&c, &setup.addr, send_v2("Big", b"still here", &[])).await;
    let fresh = RemotingClient::new();
    send_ok(&fresh, &setup.addr, send_v2("Big", b"new peer", &[])).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn frame_max_length_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "frameMaxLength=1048576");
    let log = dir.path().join("broker.log");
    let _broker = start_broker_logged(&setup, &log);
    let c = RemotingClient::new();
    send_ok(&c, &setup.addr, send_v2("Small", b"fits", &[])).await;
    // 2 MiB no longer fits a frame: the connection closes, the invoke fails.
    let err = c
        .invoke(&setup.addr, send_v2("Small", &vec![1u8; 2 << 20], &[]), T)
        .await
        .unwrap_err();
    assert!(
        !matches!(err, rmq_remoting::RemotingError::Timeout { .. }),
        "{err}"
    );
    wait_for_log(&log, "bad frame");
    send_ok(&c, &setup.addr, send_v2("Small", b"again", &[])).await;
}
