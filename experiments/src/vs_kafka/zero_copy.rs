//! The zero-copy workload of `vs-kafka`: what does `sendfile` save when a batch of messages
//! goes from the log to a consumer's TCP socket?
//!
//! One queue (partition) holds a backlog of N messages, in the page cache. A sender thread
//! delivers the whole backlog, batch after batch, to a real TCP connection on 127.0.0.1; a
//! receiver thread on the other end reads into a 256 KiB buffer and throws the bytes away.
//! Four ways to deliver, each batch the same number of messages (32 of 1 KiB, or as many as
//! fit into the store's 256 KiB transfer limit):
//!
//! * `store-copy`: the store's `get_message` copies every message out of the mapped commit
//!   log, the messages are concatenated into one response body, and the body is written to
//!   the socket. That is what our broker's pull processor does, and what 4.8.0 does with its
//!   default `transferMsgByHeap=true`.
//! * `store-map`: the consume-queue entries give the messages' places in the commit log, and
//!   one `writev` hands the socket slices of the memory map itself, with no copy in the
//!   program (4.8.0's `transferMsgByHeap=false` path, `ManyMessageTransfer`).
//! * `kafkalog-copy`: kafkalog's `send_to` with the socket as its destination. Rust's
//!   `io::copy` refuses `sendfile` from a file to a socket (a later change to the file could
//!   show in bytes already queued), so the range goes through an 8 KiB buffer: the Kafka
//!   layout without zero copy.
//! * `kafkalog-sendfile`: the same byte range (`fetch_range`) handed to `sendfile(2)`, which is
//!   what Kafka's `FileRecords.writeTo` does through `FileChannel.transferTo`.
//!
//! Reported per way and body size: bytes/s and messages/s end to end (until the receiver has
//! everything), CPU time of the sender thread (user and kernel) per message and per KiB, and
//! the receiver's CPU per message. On loopback, the kernel usually runs the receiving side's
//! TCP processing on the sender's thread, so the sender's kernel time includes some receive
//! work; every way pays it alike.
//!
//! Output: `zero-copy.csv`, `zero-copy.json`, `zero-copy-cpu.svg`, `zero-copy-throughput.svg`.
//! Book: Part V "RocketMQ vs Kafka", "The read path, measured".

use std::io::{IoSlice, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use rmq_kafkalog::PartitionLog;
use rmq_store::{DefaultMessageStore, GetMessageStatus};
use serde::Serialize;

use super::contender::{KafkaSide, StoreSide};
use super::{Batch, Contender, SideConfig, GROUP, TOPIC};
use crate::chart::{grouped_bar_chart, Series};
use crate::thread_usage::ThreadUsage;
use crate::{write_csv, write_json, QuickArgs};

/// The sizes and counts of the zero-copy workload.
#[derive(Debug, Clone, Serialize)]
pub struct ZeroCopyParams {
    /// Message body sizes; one backlog per size.
    pub body_bytes: Vec<usize>,
    /// Messages in the backlog, one number per body size.
    pub messages: Vec<usize>,
    /// How many times each delivery is repeated; the median round is kept.
    pub rounds: usize,
}

impl ZeroCopyParams {
    /// The parameters for a quick or a full run.
    pub fn new(q: QuickArgs) -> ZeroCopyParams {
        ZeroCopyParams {
            body_bytes: vec![1024, 16 * 1024],
            messages: q.pick(vec![10_000, 1_000], vec![100_000, 8_000]),
            rounds: q.pick(1, 5),
        }
    }
}

/// How a batch reaches the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Delivery {
    /// rmq-store: copy the records out of the map, then write them.
    #[serde(rename = "store-copy")]
    StoreCopy,
    /// rmq-store: `writev` straight from the mapped commit log.
    #[serde(rename = "store-map")]
    StoreMap,
    /// kafkalog: `send_to`, in 8 KiB copies.
    #[serde(rename = "kafkalog-copy")]
    KafkaCopy,
    /// kafkalog: `sendfile` from the segment file.
    #[serde(rename = "kafkalog-sendfile")]
    KafkaSendfile,
}

impl Delivery {
    /// Every delivery, in the order charts list them.
    pub const ALL: [Delivery; 4] = [
        Delivery::StoreCopy,
        Delivery::StoreMap,
        Delivery::KafkaCopy,
        Delivery::KafkaSendfile,
    ];

    /// The delivery's name in CSV and JSON files.
    pub fn name(self) -> &'static str {
        match self {
            Delivery::StoreCopy => "store-copy",
            Delivery::StoreMap => "store-map",
            Delivery::KafkaCopy => "kafkalog-copy",
            Delivery::KafkaSendfile => "kafkalog-sendfile",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Delivery::StoreCopy => "rmq-store: copy, then write",
            Delivery::StoreMap => "rmq-store: writev from the map",
            Delivery::KafkaCopy => "kafkalog: send_to (8 KiB copies)",
            Delivery::KafkaSendfile => "kafkalog: sendfile",
        }
    }
}

/// One delivery of a whole backlog.
#[derive(Debug, Clone, Serialize)]
pub struct ZeroCopyRun {
    /// How the batches reached the socket.
    pub delivery: Delivery,
    /// Size of one message body, in bytes.
    pub body_bytes: usize,
    /// Messages delivered.
    pub messages: usize,
    /// Bytes that crossed the socket (the records as stored).
    pub wire_bytes: u64,
    /// Batches sent.
    pub batches: u64,
    /// Wall-clock time of the delivery, until the receiver had every byte, in seconds.
    pub seconds: f64,
    /// Messages delivered per second.
    pub msgs_per_s: f64,
    /// Wire bytes per second, in MB (10^6 bytes).
    pub mb_per_s: f64,
    /// CPU the sending thread used.
    pub sender: ThreadUsage,
    /// CPU the receiving thread used.
    pub receiver: ThreadUsage,
    /// Sender CPU (user + system) per message, in µs.
    pub sender_us_per_msg: f64,
    /// Sender user CPU per message, in µs.
    pub sender_user_us_per_msg: f64,
    /// Sender system CPU per message, in µs.
    pub sender_sys_us_per_msg: f64,
    /// Sender CPU per KiB on the wire: comparable across body sizes.
    pub sender_ns_per_kib: f64,
    /// Receiver CPU (user + system) per message, in µs.
    pub receiver_us_per_msg: f64,
}

/// Writes every byte of `parts` with as few `writev` calls as the socket allows.
fn write_all_vectored(sock: &mut TcpStream, parts: &[&[u8]]) -> std::io::Result<()> {
    let (mut i, mut off) = (0usize, 0usize);
    loop {
        while i < parts.len() && off == parts[i].len() {
            i += 1;
            off = 0;
        }
        if i == parts.len() {
            return Ok(());
        }
        let slices: Vec<IoSlice<'_>> = std::iter::once(IoSlice::new(&parts[i][off..]))
            .chain(parts[i + 1..].iter().map(|p| IoSlice::new(p)))
            .collect();
        let mut n = sock.write_vectored(&slices)?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while i < parts.len() && n >= parts[i].len() - off {
            n -= parts[i].len() - off;
            i += 1;
            off = 0;
        }
        off += n;
    }
}

/// `store-copy`: one pull as our broker serves it: `get_message` copies each message out of
/// the map, the copies are concatenated into the response body, the body is written.
fn store_copy(
    store: &DefaultMessageStore,
    offset: i64,
    max: usize,
    body: &mut Vec<u8>,
    sock: &mut TcpStream,
) -> Result<Batch> {
    let r = store.get_message(GROUP, TOPIC, 0, offset, max as i32, &|_| true);
    ensure!(
        r.status == GetMessageStatus::Found,
        "get_message at {offset}: {:?}",
        r.status
    );
    body.clear();
    for m in &r.messages {
        body.extend_from_slice(m);
    }
    sock.write_all(body)?;
    Ok(Batch {
        messages: r.messages.len(),
        bytes: body.len() as u64,
        next_offset: r.next_begin_offset,
    })
}

// ANCHOR: store_map
/// `store-map`: the same messages, handed to the socket as slices of the mapped commit log
/// (one `writev`, no copy in the program), as 4.8.0's `ManyMessageTransfer` does.
fn store_map(
    store: &DefaultMessageStore,
    offset: i64,
    max: usize,
    sock: &mut TcpStream,
) -> Result<Batch> {
    let entries = store.find_consume_queue(TOPIC, 0).get_entries(offset, max);
    ensure!(!entries.is_empty(), "no consume-queue entry at {offset}");
    let mut held = Vec::with_capacity(entries.len());
    for e in &entries {
        let (file, pos, _) = store
            .commit_log()
            .local()
            .and_then(|l| l.get_data(e.phy_offset))
            .with_context(|| format!("commit-log offset {}", e.phy_offset))?;
        held.push((file, pos, e.size as usize));
    }
    let parts = held
        .iter()
        .map(|(f, pos, size)| {
            f.slice(*pos, *size)
                .context("record past the read position")
        })
        .collect::<Result<Vec<&[u8]>>>()?;
    write_all_vectored(sock, &parts)?;
    Ok(Batch {
        messages: parts.len(),
        bytes: parts.iter().map(|p| p.len() as u64).sum(),
        next_offset: offset + parts.len() as i64,
    })
}
// ANCHOR_END: store_map

/// `kafkalog-copy`: kafkalog's `send_to` with the socket as the destination. The standard
/// library's `io::copy` does not use `sendfile` towards a socket: it reads the range into an
/// 8 KiB buffer and writes it, piece by piece. Every record has the same size, so the count
/// follows from the bytes.
fn kafka_copy(
    part: &PartitionLog,
    offset: i64,
    max_bytes: u64,
    record_bytes: u64,
    sock: &mut TcpStream,
) -> Result<Batch> {
    let bytes = part.send_to(offset, max_bytes, sock)?;
    whole_records(offset, bytes, record_bytes)
}

fn whole_records(offset: i64, bytes: u64, record_bytes: u64) -> Result<Batch> {
    ensure!(
        bytes % record_bytes == 0,
        "sent {bytes} bytes, not whole records"
    );
    let messages = (bytes / record_bytes) as usize;
    Ok(Batch {
        messages,
        bytes,
        next_offset: offset + messages as i64,
    })
}

// ANCHOR: kafka_sendfile
/// `kafkalog-sendfile`: the same byte range, found with `fetch_range`, handed to `sendfile`:
/// the kernel moves page-cache pages to the socket, and the records never enter the program.
fn kafka_sendfile(
    part: &PartitionLog,
    offset: i64,
    max_bytes: u64,
    record_bytes: u64,
    sock: &mut TcpStream,
) -> Result<Batch> {
    let Some((segment, position, len)) = part.fetch_range(offset, max_bytes)? else {
        return Ok(Batch {
            messages: 0,
            bytes: 0,
            next_offset: offset,
        });
    };
    sendfile_all(sock, segment.log_file(), position, len)?;
    whole_records(offset, len, record_bytes)
}

/// `sendfile(2)` until `len` bytes from `position` of `file` are in the socket.
#[cfg(target_os = "linux")]
fn sendfile_all(sock: &TcpStream, file: &std::fs::File, position: u64, len: u64) -> Result<()> {
    use std::os::unix::io::AsRawFd;
    let mut off = position as libc::off_t;
    let end = (position + len) as libc::off_t;
    while off < end {
        // SAFETY: both descriptors are open for the whole call; `off` is ours and the kernel
        // advances it by the bytes sent.
        let n = unsafe {
            libc::sendfile(
                sock.as_raw_fd(),
                file.as_raw_fd(),
                &mut off,
                (end - off) as usize,
            )
        };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e).context("sendfile");
        }
        ensure!(n > 0, "sendfile sent nothing at {off} of {end}");
    }
    Ok(())
}
// ANCHOR_END: kafka_sendfile

#[cfg(not(target_os = "linux"))]
fn sendfile_all(_: &TcpStream, _: &std::fs::File, _: u64, _: u64) -> Result<()> {
    bail!("the sendfile delivery is implemented for Linux only")
}

/// The receiving end: reads until the sender shuts its side down. Returns the bytes read
/// (kept only when `keep`), their count and the thread's usage.
fn receive(listener: TcpListener, keep: bool) -> Result<(u64, Vec<u8>, ThreadUsage)> {
    let (mut s, _) = listener.accept().context("accepting the sender")?;
    let before = ThreadUsage::now();
    let mut buf = vec![0u8; 256 << 10];
    let (mut total, mut kept) = (0u64, Vec::new());
    loop {
        let n = s.read(&mut buf).context("receiving")?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if keep {
            kept.extend_from_slice(&buf[..n]);
        }
    }
    Ok((total, kept, ThreadUsage::since(before)))
}

/// The backlog both sides hold, and the batch size every delivery uses.
pub struct Backlog {
    store: StoreSide,
    kafka: KafkaSide,
    /// Size of one message body, in bytes.
    pub body_bytes: usize,
    /// Messages in the backlog.
    pub messages: usize,
    /// Messages per batch: 32, or fewer when 32 records exceed the store's transfer limit.
    pub batch: usize,
}

impl Backlog {
    /// Writes `messages` messages of `body_bytes` into a fresh store and a fresh kafkalog
    /// under `dir` (queue / partition 0).
    pub fn write(
        dir: &Path,
        c: &SideConfig,
        body_bytes: usize,
        messages: usize,
    ) -> Result<Backlog> {
        let c = SideConfig { body_bytes, ..*c };
        let mut store = StoreSide::open(&dir.join("store"), &c, 1)?;
        let mut kafka = KafkaSide::open(&dir.join("kafka"), &c)?;
        for _ in 0..messages {
            store.append(0)?;
            kafka.append(0)?;
        }
        store.wait_readable()?;
        let record = (store.store().commit_log().max_offset() as usize / messages.max(1)).max(1);
        let cfg = store.store().config();
        let batch = cfg
            .max_transfer_count_on_message_in_memory
            .min(cfg.max_transfer_bytes_on_message_in_memory / record)
            .clamp(1, 32);
        Ok(Backlog {
            store,
            kafka,
            body_bytes,
            messages,
            batch,
        })
    }

    /// Delivers the whole backlog `how` to a fresh loopback connection. With `keep`, also
    /// returns the bytes the receiver got.
    pub fn deliver(&self, how: Delivery, keep: bool) -> Result<(ZeroCopyRun, Vec<u8>)> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the receiver")?;
        let addr = listener.local_addr()?;
        let receiver = std::thread::spawn(move || receive(listener, keep));
        let mut sock = TcpStream::connect(addr).context("connecting to the receiver")?;
        sock.set_nodelay(true)?;
        let part = self
            .kafka
            .log()
            .get(TOPIC, 0)
            .context("kafkalog partition 0 is missing")?;
        let rb = self.kafka.record_bytes();
        let max_bytes = self.batch as u64 * rb;
        let store = self.store.store();
        let mut buf = Vec::new();
        let (mut offset, mut batches, mut wire) = (0i64, 0u64, 0u64);
        let before = ThreadUsage::now();
        let t = Instant::now();
        while (offset as usize) < self.messages {
            let b = match how {
                Delivery::StoreCopy => store_copy(store, offset, self.batch, &mut buf, &mut sock)?,
                Delivery::StoreMap => store_map(store, offset, self.batch, &mut sock)?,
                Delivery::KafkaCopy => kafka_copy(part, offset, max_bytes, rb, &mut sock)?,
                Delivery::KafkaSendfile => kafka_sendfile(part, offset, max_bytes, rb, &mut sock)?,
            };
            if b.messages == 0 {
                bail!("{how:?}: nothing at offset {offset}");
            }
            offset = b.next_offset;
            wire += b.bytes;
            batches += 1;
        }
        sock.shutdown(Shutdown::Write)?;
        let sender = ThreadUsage::since(before);
        let (received, kept, receiver) = receiver
            .join()
            .map_err(|_| anyhow::anyhow!("the receiver thread panicked"))??;
        let seconds = t.elapsed().as_secs_f64();
        ensure!(
            received == wire,
            "{how:?}: sent {wire} bytes, received {received}"
        );
        ensure!(
            offset as usize == self.messages,
            "{how:?}: delivered {offset} messages"
        );
        let n = self.messages as f64;
        Ok((
            ZeroCopyRun {
                delivery: how,
                body_bytes: self.body_bytes,
                messages: self.messages,
                wire_bytes: wire,
                batches,
                seconds,
                msgs_per_s: (n / seconds).round(),
                mb_per_s: wire as f64 / seconds / 1e6,
                sender,
                receiver,
                sender_us_per_msg: sender.cpu_s() * 1e6 / n,
                sender_user_us_per_msg: sender.user_s * 1e6 / n,
                sender_sys_us_per_msg: sender.sys_s * 1e6 / n,
                sender_ns_per_kib: sender.cpu_s() * 1e9 / (wire as f64 / 1024.0),
                receiver_us_per_msg: receiver.cpu_s() * 1e6 / n,
            },
            kept,
        ))
    }

    /// Stops the store.
    pub fn finish(self) -> Result<()> {
        Box::new(self.store).finish()?;
        Box::new(self.kafka).finish()
    }
}

/// Every run: per body size a fresh backlog, then per round the four deliveries, their
/// order rotating from round to round.
pub fn measure(
    scratch: &Path,
    c: &SideConfig,
    p: &ZeroCopyParams,
    tick: &dyn Fn(),
) -> Result<Vec<ZeroCopyRun>> {
    let mut runs = Vec::new();
    for (&body, &n) in p.body_bytes.iter().zip(&p.messages) {
        let dir = scratch.join(format!("zero-copy-{body}"));
        let backlog = Backlog::write(&dir, c, body, n)?;
        for round in 0..p.rounds {
            for i in 0..Delivery::ALL.len() {
                let how = Delivery::ALL[(i + round) % Delivery::ALL.len()];
                runs.push(backlog.deliver(how, false)?.0);
                tick();
            }
        }
        backlog.finish()?;
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    Ok(runs)
}

/// How many times [`measure`] calls `tick`.
pub fn run_count(p: &ZeroCopyParams) -> usize {
    p.body_bytes.len() * p.rounds * Delivery::ALL.len()
}

/// The median round (by sender CPU per message) of each (delivery, body size).
pub fn medians(runs: &[ZeroCopyRun]) -> Vec<ZeroCopyRun> {
    super::medians(
        runs,
        |x| (x.delivery, x.body_bytes),
        |x| x.sender_us_per_msg,
    )
}

fn size_name(body: usize) -> String {
    if body % 1024 == 0 {
        format!("{} KiB bodies", body / 1024)
    } else {
        format!("{body} B bodies")
    }
}

/// Prints the table and writes the CSV, the JSON and the two charts into `out`.
pub fn report(out: &Path, p: &ZeroCopyParams, runs: &[ZeroCopyRun]) -> Result<()> {
    let rows = medians(runs);
    println!(
        "zero copy to a loopback socket (median of {} rounds by sender CPU)",
        p.rounds
    );
    println!(
        "{:>18} {:>6} | {:>8} {:>10} | {:>8} {:>8} {:>8} {:>8} | {:>8}",
        "delivery", "body", "MB/s", "msg/s", "cpu µs", "user µs", "sys µs", "ns/KiB", "recv µs"
    );
    let mut csv = Vec::new();
    for &body in &p.body_bytes {
        for how in Delivery::ALL {
            let Some(r) = rows
                .iter()
                .find(|r| r.delivery == how && r.body_bytes == body)
            else {
                continue;
            };
            println!(
                "{:>18} {:>6} | {:>8.0} {:>10.0} | {:>8.2} {:>8.2} {:>8.2} {:>8.0} | {:>8.2}",
                how.name(),
                body,
                r.mb_per_s,
                r.msgs_per_s,
                r.sender_us_per_msg,
                r.sender_user_us_per_msg,
                r.sender_sys_us_per_msg,
                r.sender_ns_per_kib,
                r.receiver_us_per_msg
            );
            csv.push(vec![
                how.name().to_string(),
                body.to_string(),
                r.messages.to_string(),
                r.wire_bytes.to_string(),
                format!("{:.1}", r.mb_per_s),
                format!("{:.0}", r.msgs_per_s),
                format!("{:.3}", r.sender_us_per_msg),
                format!("{:.3}", r.sender_user_us_per_msg),
                format!("{:.3}", r.sender_sys_us_per_msg),
                format!("{:.0}", r.sender_ns_per_kib),
                format!("{:.3}", r.receiver_us_per_msg),
            ]);
        }
    }
    println!("cpu/user/sys µs = sender thread CPU per message; recv µs = receiver CPU per message");
    write_csv(
        &out.join("zero-copy.csv"),
        &[
            "delivery",
            "body_bytes",
            "messages",
            "wire_bytes",
            "mb_per_s",
            "msgs_per_s",
            "sender_cpu_us_per_msg",
            "sender_user_us_per_msg",
            "sender_sys_us_per_msg",
            "sender_ns_per_kib",
            "receiver_cpu_us_per_msg",
        ],
        &csv,
    )?;
    write_json(
        &out.join("zero-copy.json"),
        &serde_json::json!({ "params": p, "medians": &rows, "runs": runs }),
    )?;
    let groups: Vec<String> = p.body_bytes.iter().map(|&b| size_name(b)).collect();
    let series = |f: &dyn Fn(&ZeroCopyRun) -> f64| -> Vec<Series> {
        Delivery::ALL
            .into_iter()
            .map(|how| Series {
                name: how.label().into(),
                values: p
                    .body_bytes
                    .iter()
                    .map(|&b| {
                        rows.iter()
                            .find(|r| r.delivery == how && r.body_bytes == b)
                            .map_or(0.0, f)
                    })
                    .collect(),
            })
            .collect()
    };
    grouped_bar_chart(
        &out.join("zero-copy-cpu.svg"),
        "Sender CPU per KiB delivered to a loopback socket (ns)",
        "ns per KiB",
        &groups,
        &series(&|r| r.sender_ns_per_kib),
        &|v| format!("{v:.0}"),
    )?;
    grouped_bar_chart(
        &out.join("zero-copy-throughput.svg"),
        "Delivery to a loopback socket (MB/s)",
        "MB/s",
        &groups,
        &series(&|r| r.mb_per_s),
        &|v| format!("{v:.0}"),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vs_kafka::contender::count_records;

    #[test]
    fn the_four_ways_deliver_the_records_as_stored() {
        let root = crate::workspace_root().join("target/experiments");
        std::fs::create_dir_all(&root).unwrap();
        let tmp = tempfile::tempdir_in(root).unwrap();
        let c = SideConfig {
            body_bytes: 0,
            commit_log_file_bytes: 16 << 20,
            kafka_segment_bytes: 64 << 20,
            kafka_index_interval_bytes: 4096,
        };
        // 16 KiB bodies: 32 records would pass the store's 256 KiB limit, so batches are smaller.
        let b = Backlog::write(tmp.path(), &c, 16 * 1024, 100).unwrap();
        assert!(b.batch < 32 && b.batch >= 10, "batch {}", b.batch);
        let mut got = Vec::new();
        for how in Delivery::ALL {
            let (run, bytes) = b.deliver(how, true).unwrap();
            assert_eq!(run.messages, 100);
            assert_eq!(run.batches, 100u64.div_ceil(b.batch as u64), "{how:?}");
            assert_eq!(bytes.len() as u64, run.wire_bytes);
            assert!(run.sender.cpu_s() > 0.0 || run.seconds > 0.0);
            got.push(bytes);
        }
        // The store's two ways send the same commit-log records; kafkalog's two ways the
        // same segment bytes.
        assert_eq!(got[0], got[1]);
        assert_eq!(got[2], got[3]);
        assert_eq!(count_records(&got[3], 0).unwrap(), (100, 100));
        b.finish().unwrap();

        let p = ZeroCopyParams {
            body_bytes: vec![1000],
            messages: vec![300],
            rounds: 1,
        };
        let runs = measure(tmp.path(), &c, &p, &|| {}).unwrap();
        assert_eq!(runs.len(), 4);
        let out = tmp.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        report(&out, &p, &runs).unwrap();
        assert!(out.join("zero-copy-cpu.svg").is_file());
    }

    #[test]
    fn vectored_writes_send_every_part_in_order() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let r = std::thread::spawn(move || receive(listener, true).unwrap());
        let mut s = TcpStream::connect(addr).unwrap();
        let big = vec![7u8; 3 << 20];
        let parts: Vec<&[u8]> = vec![b"ab", &[], &big, b"c"];
        write_all_vectored(&mut s, &parts).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let (n, bytes, _) = r.join().unwrap();
        assert_eq!(n as usize, 3 + big.len());
        assert_eq!(&bytes[..2], b"ab");
        assert_eq!(bytes[bytes.len() - 1], b'c');
    }
}
