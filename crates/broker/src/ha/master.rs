//! The master's side of replication: accepts slaves on the HA port and, per slave, reads its
//! 8-byte offset reports and streams commit-log bytes from where it asked.
//!
//! A slave reporting 0 (empty store) gets the master's last commit-log file onwards, as in
//! 4.8.0, not the whole history. Book: Part IV, "Cluster modes". Mirrors
//! `HAService.AcceptSocketService` and `HAConnection` (`ReadSocketService`,
//! `WriteSocketService`).

use super::{HaService, HEADER_SIZE};
use rmq_store::DefaultMessageStore;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How long a transfer loop sleeps when nothing new is readable (`allWaitForRunning(100)`).
const IDLE_WAIT: Duration = Duration::from_millis(100);

/// Accepts slave connections until aborted.
pub async fn accept_loop(
    listener: TcpListener,
    store: Arc<DefaultMessageStore>,
    ha: Arc<HaService>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tracing::info!("HAService receive new connection, {peer}");
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, peer, store.clone(), ha.clone()));
            }
            Err(e) => {
                tracing::warn!("HA accept failed: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Counts a connection while it lives.
struct Counted(Arc<HaService>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One slave: the read and write halves run until either fails.
async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    store: Arc<DefaultMessageStore>,
    ha: Arc<HaService>,
) {
    ha.connections.fetch_add(1, Ordering::AcqRel);
    let _counted = Counted(ha.clone());
    let (rd, wr) = stream.into_split();
    // the offset the slave asked for first (`slaveRequestOffset`), -1 until it reported
    let (req_tx, req_rx) = watch::channel(-1i64);
    let outcome = tokio::select! {
        r = read_reports(rd, &ha, req_tx) => r,
        r = transfer(wr, &store, &ha, req_rx) => r,
    };
    if let Err(e) = outcome {
        tracing::info!("HA connection {peer} closed: {e}");
    }
}

/// Reads the slave's 8-byte offset reports (`ReadSocketService.processReadEvent`).
async fn read_reports(
    mut rd: OwnedReadHalf,
    ha: &HaService,
    req_tx: watch::Sender<i64>,
) -> anyhow::Result<()> {
    let mut buf = [0u8; 8];
    loop {
        tokio::time::timeout(ha.cfg.housekeeping_interval, rd.read_exact(&mut buf))
            .await
            .map_err(|_| {
                anyhow::anyhow!("slave silent for {:?}", ha.cfg.housekeeping_interval)
            })??;
        let offset = i64::from_be_bytes(buf);
        if *req_tx.borrow() < 0 {
            tracing::info!("slave requested offset {offset}");
            let _ = req_tx.send(offset.max(0));
        }
        ha.notify_transfer_some(offset);
    }
}

// ANCHOR: master_transfer
/// Streams commit-log bytes to the slave from the offset it asked for, in chunks of at most
/// `haTransferBatchSize`, and an empty header as heartbeat when idle
/// (`WriteSocketService.run`).
async fn transfer(
    mut wr: OwnedWriteHalf,
    store: &Arc<DefaultMessageStore>,
    ha: &HaService,
    mut req_rx: watch::Receiver<i64>,
) -> anyhow::Result<()> {
    let requested = *req_rx.wait_for(|v| *v >= 0).await?;
    let mut next = if requested == 0 {
        // an empty slave starts at the beginning of the master's last file
        let max = store.get_max_phy_offset();
        (max - max % ha.cfg.commit_log_file_size).max(0)
    } else {
        requested
    };
    tracing::info!("master transfer data from {next} to slave, and slave request {requested}");
    let mut last_write = Instant::now();
    loop {
        let wake = ha.new_data.notified();
        let from = next;
        let batch = ha.cfg.transfer_batch_size;
        let s = store.clone();
        let chunk = tokio::task::spawn_blocking(move || s.commit_log_data(from, batch)).await?;
        match chunk {
            Some(body) => {
                let mut frame = Vec::with_capacity(HEADER_SIZE + body.len());
                frame.extend_from_slice(&next.to_be_bytes());
                frame.extend_from_slice(&(body.len() as i32).to_be_bytes());
                frame.extend_from_slice(&body);
                wr.write_all(&frame).await?;
                next += body.len() as i64;
                last_write = Instant::now();
            }
            None => {
                if last_write.elapsed() >= ha.cfg.heartbeat_interval {
                    let mut header = [0u8; HEADER_SIZE];
                    header[..8].copy_from_slice(&next.to_be_bytes());
                    wr.write_all(&header).await?;
                    last_write = Instant::now();
                }
                let _ = tokio::time::timeout(IDLE_WAIT, wake).await;
            }
        }
    }
}
// ANCHOR_END: master_transfer
