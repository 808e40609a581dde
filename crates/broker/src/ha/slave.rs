//! The slave's side of replication: connects to the master's HA port, reports its commit-log
//! end, appends what the master sends at exactly the offsets it names and reports again.
//!
//! The master's HA address comes from `haMasterAddress`, from the REGISTER_BROKER reply
//! (`HaService::update_master_address`), or else from the name server's cluster info: the
//! group's brokerId 0 address with port+1 (4.8.0 always sets haListenPort = listenPort+1).
//! A frame whose offset is not this store's end closes the connection, as in 4.8.0. Book:
//! Part IV, "Cluster modes". Mirrors `HAService.HAClient`.

use super::{HaService, HEADER_SIZE};
use crate::broker::Broker;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Pause between connection attempts (`waitForRunning(1000 * 5)`).
const RETRY: Duration = Duration::from_secs(5);

/// Largest body accepted in one frame; the master sends at most `haTransferBatchSize`.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Keeps a slave connected to its master until aborted.
pub async fn client_loop(b: Arc<Broker>, ha: Arc<HaService>) {
    loop {
        match master_ha_addr(&b, &ha).await {
            Some(addr) => match TcpStream::connect(&addr).await {
                Ok(stream) => {
                    tracing::info!("HAClient connected to master {addr}");
                    let _ = stream.set_nodelay(true);
                    if let Err(e) = run_connection(stream, &b, &ha).await {
                        tracing::warn!("HAClient connection to {addr} closed: {e}");
                    }
                }
                Err(e) => tracing::debug!("HAClient cannot connect to {addr}: {e}"),
            },
            None => tracing::debug!("HAClient: master address unknown yet"),
        }
        tokio::time::sleep(RETRY).await;
    }
}

async fn master_ha_addr(b: &Broker, ha: &HaService) -> Option<String> {
    if let Some(a) = ha.master_address() {
        return Some(a);
    }
    let master = crate::register::find_master_addr(b).await?;
    let sa: std::net::SocketAddr = master.parse().ok()?;
    Some(format!("{}:{}", sa.ip(), sa.port().checked_add(1)?))
}

/// One connection: the reader appends and publishes the new end, the writer reports it.
async fn run_connection(stream: TcpStream, b: &Arc<Broker>, ha: &HaService) -> anyhow::Result<()> {
    let (rd, wr) = stream.into_split();
    let start = b.store().get_max_phy_offset();
    let (end_tx, end_rx) = watch::channel(start);
    tokio::select! {
        r = read_and_append(rd, b, ha, end_tx) => r,
        r = report(wr, ha, end_rx, start) => r,
    }
}

// ANCHOR: slave_report
/// Sends the 8-byte max physical offset on connect, whenever appends moved it and every
/// `haSendHeartbeatInterval` (`reportSlaveMaxOffset` / `reportSlaveMaxOffsetPlus`). 4.8.0
/// sends its first report only after one heartbeat interval; reporting at once just saves
/// those seconds and changes nothing on the wire.
async fn report(
    mut wr: OwnedWriteHalf,
    ha: &HaService,
    mut end_rx: watch::Receiver<i64>,
    start: i64,
) -> anyhow::Result<()> {
    let mut reported = start;
    wr.write_all(&reported.to_be_bytes()).await?;
    let mut tick = tokio::time::interval(ha.cfg.heartbeat_interval);
    tick.tick().await;
    loop {
        tokio::select! {
            changed = end_rx.changed() => {
                changed?;
                let end = *end_rx.borrow_and_update();
                if end > reported {
                    reported = end;
                    wr.write_all(&reported.to_be_bytes()).await?;
                }
            }
            _ = tick.tick() => wr.write_all(&reported.to_be_bytes()).await?,
        }
    }
}
// ANCHOR_END: slave_report

/// Reads `[offset i64][size i32][body]` frames and appends each body at `offset`, which must
/// be this store's end unless the store is empty (`dispatchReadRequest`).
async fn read_and_append(
    mut rd: OwnedReadHalf,
    b: &Arc<Broker>,
    ha: &HaService,
    end_tx: watch::Sender<i64>,
) -> anyhow::Result<()> {
    let mut header = [0u8; HEADER_SIZE];
    loop {
        tokio::time::timeout(ha.cfg.housekeeping_interval, rd.read_exact(&mut header))
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "master not responding for {:?}",
                    ha.cfg.housekeeping_interval
                )
            })??;
        let master_offset = i64::from_be_bytes(header[..8].try_into()?);
        let size = i32::from_be_bytes(header[8..].try_into()?);
        let size = usize::try_from(size)
            .ok()
            .filter(|s| *s <= MAX_BODY)
            .ok_or_else(|| anyhow::anyhow!("bad body size {size} from master"))?;
        let mut body = vec![0u8; size];
        rd.read_exact(&mut body).await?;
        let slave_offset = b.store().get_max_phy_offset();
        if slave_offset != 0 && slave_offset != master_offset {
            anyhow::bail!(
                "master pushed offset not equal the max phy offset in slave, SLAVE: {slave_offset} MASTER: {master_offset}"
            );
        }
        if body.is_empty() {
            continue; // heartbeat
        }
        let store = b.store().clone();
        let ok =
            tokio::task::spawn_blocking(move || store.append_to_commit_log(master_offset, &body))
                .await??;
        if !ok {
            anyhow::bail!("appending {size} bytes at {master_offset} failed");
        }
        end_tx.send_replace(b.store().get_max_phy_offset());
    }
}
