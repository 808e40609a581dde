//! `mqadmin clusterList`: every broker of every cluster with its version, TPS,
//! queue pressure, hours of retained messages and disk use (or, with `-m`, the
//! message counts of yesterday and today).
//!
//! One GET_BROKER_CLUSTER_INFO to the name server, then GET_BROKER_RUNTIME_INFO to
//! each broker address. Book: Part III "Name server" (Try it).
//! Mirrors `org.apache.rocketmq.tools.command.cluster.ClusterListSubCommand`.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use crate::admin_client::AdminClient;
use crate::commands::CommonArgs;

/// `clusterList`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print more stats
    #[arg(short = 'm', long = "moreStats")]
    pub more_stats: bool,
    /// specify intervals numbers, it is in seconds
    #[arg(short = 'i', long = "interval", value_name = "arg")]
    pub interval: Option<u64>,
}

/// Runs `clusterList` and prints what 4.8.0's `ClusterListSubCommand` prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let mut first = true;
    loop {
        if !first {
            let secs = args.interval.unwrap_or(1);
            tokio::time::sleep(Duration::from_secs(secs)).await;
        }
        first = false;
        if args.more_stats {
            print_more_stats(&admin, out).await?;
        } else {
            print_base_info(&admin, out).await?;
        }
        out.flush()?;
        if args.interval.is_none() {
            return Ok(());
        }
    }
}

/// Every (cluster, broker name, broker id, address), brokers sorted by name
/// within a cluster as 4.8.0 does with a TreeSet.
async fn brokers(admin: &AdminClient) -> anyhow::Result<Vec<(String, String, i64, String)>> {
    let info = admin.examine_broker_cluster_info().await?;
    let mut rows = Vec::new();
    for (cluster, names) in &info.cluster_addr_table {
        for name in names {
            if let Some(bd) = info.broker_addr_table.get(name) {
                for (id, addr) in &bd.broker_addrs {
                    rows.push((cluster.clone(), name.clone(), *id, addr.clone()));
                }
            }
        }
    }
    Ok(rows)
}

async fn runtime_stats(admin: &AdminClient, addr: &str) -> BTreeMap<String, String> {
    match admin.fetch_broker_runtime_stats(addr).await {
        Ok(kv) => kv.table,
        Err(e) => {
            // 4.8.0 prints the stack trace and still prints the row.
            eprintln!("fetch runtime stats of {addr} failed: {e}");
            BTreeMap::new()
        }
    }
}

/// The first space-separated number of a TPS triple ("10s 60s 600s").
fn first_tps(v: Option<&String>) -> f64 {
    v.and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(0.0)
}

async fn print_base_info(admin: &AdminClient, out: &mut dyn Write) -> anyhow::Result<()> {
    // Java: "%-16s  %-22s  %-4s  %-22s %-16s %19s %19s %10s %5s %6s%n"
    writeln!(
        out,
        "{:<16}  {:<22}  {:<4}  {:<22} {:<16} {:>19} {:>19} {:>10} {:>5} {:>6}",
        "#Cluster Name",
        "#Broker Name",
        "#BID",
        "#Addr",
        "#Version",
        "#InTPS(LOAD)",
        "#OutTPS(LOAD)",
        "#PCWait(ms)",
        "#Hour",
        "#SPACE"
    )?;
    let now = chrono::Utc::now().timestamp_millis();
    for (cluster, name, id, addr) in brokers(admin).await? {
        let kv = runtime_stats(admin, &addr).await;
        let get = |k: &str| kv.get(k).cloned().unwrap_or_default();
        let tps_in = first_tps(kv.get("putTps"));
        let tps_out = first_tps(kv.get("getTransferedTps"));
        let hour = kv
            .get("earliestMessageTimeStamp")
            .and_then(|s| s.parse::<i64>().ok())
            .map(|ts| (now - ts) as f64 / 1000.0 / 60.0 / 60.0)
            .unwrap_or(0.0);
        let space = kv
            .get("commitLogDiskRatio")
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
        writeln!(
            out,
            "{:<16}  {:<22}  {:<4}  {:<22} {:<16} {:>19} {:>19} {:>10} {:>5} {:>6}",
            cluster,
            name,
            id,
            addr,
            get("brokerVersionDesc"),
            // Java: String.format("%9.2f(%s,%sms)", ...)
            format!(
                "{:9.2}({},{}ms)",
                tps_in,
                get("sendThreadPoolQueueSize"),
                get("sendThreadPoolQueueHeadWaitTimeMills")
            ),
            format!(
                "{:9.2}({},{}ms)",
                tps_out,
                get("pullThreadPoolQueueSize"),
                get("pullThreadPoolQueueHeadWaitTimeMills")
            ),
            get("pageCacheLockTimeMills"),
            format!("{hour:2.2}"),
            format!("{space:.4}")
        )?;
    }
    Ok(())
}

async fn print_more_stats(admin: &AdminClient, out: &mut dyn Write) -> anyhow::Result<()> {
    // Java: "%-16s  %-32s %14s %14s %14s %14s%n"
    writeln!(
        out,
        "{:<16}  {:<32} {:>14} {:>14} {:>14} {:>14}",
        "#Cluster Name",
        "#Broker Name",
        "#InTotalYest",
        "#OutTotalYest",
        "#InTotalToday",
        "#OutTotalToday"
    )?;
    for (cluster, name, _id, addr) in brokers(admin).await? {
        let kv = runtime_stats(admin, &addr).await;
        let n = |k: &str| kv.get(k).and_then(|s| s.parse::<i64>().ok());
        // 4.8.0 leaves all four at 0 when any value is missing.
        let totals = (|| {
            Some((
                n("msgPutTotalTodayMorning")?.saturating_sub(n("msgPutTotalYesterdayMorning")?),
                n("msgGetTotalTodayMorning")?.saturating_sub(n("msgGetTotalYesterdayMorning")?),
                n("msgPutTotalTodayNow")?.saturating_sub(n("msgPutTotalTodayMorning")?),
                n("msgGetTotalTodayNow")?.saturating_sub(n("msgGetTotalTodayMorning")?),
            ))
        })()
        .unwrap_or((0, 0, 0, 0));
        writeln!(
            out,
            "{:<16}  {:<32} {:>14} {:>14} {:>14} {:>14}",
            cluster, name, totals.0, totals.1, totals.2, totals.3
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tps_takes_the_first_window() {
        assert_eq!(first_tps(Some(&"12.5 3.0 1.0".to_string())), 12.5);
        assert_eq!(first_tps(Some(&"garbage".to_string())), 0.0);
        assert_eq!(first_tps(None), 0.0);
    }

    #[test]
    fn columns_line_up_like_java() {
        let header = format!(
            "{:<16}  {:<22}  {:<4}  {:<22} {:<16} {:>19} {:>19} {:>10} {:>5} {:>6}",
            "#Cluster Name",
            "#Broker Name",
            "#BID",
            "#Addr",
            "#Version",
            "#InTPS(LOAD)",
            "#OutTPS(LOAD)",
            "#PCWait(ms)",
            "#Hour",
            "#SPACE"
        );
        // Same string Java's printf produces for this header.
        assert_eq!(
            header,
            "#Cluster Name     #Broker Name            #BID  #Addr                  #Version                #InTPS(LOAD)       #OutTPS(LOAD) #PCWait(ms) #Hour #SPACE"
        );
        assert_eq!(format!("{:9.2}({},{}ms)", 1.5, 0, 0), "     1.50(0,0ms)");
        assert_eq!(format!("{:2.2}", 0.0), "0.00");
    }
}
