//! `mqadmin wipeWritePerm -b <brokerName>`: take write permission away from a broker in every
//! topic route of every name server, so producers stop sending to it while consumers drain it
//! (the first step of taking a broker out of service).
//!
//! WIPE_WRITE_PERM_OF_BROKER to each name server; each answers how many routes it changed. The
//! broker itself is not told: its next registration (every 30 s) restores the permission, so
//! an operator stops the broker, or sets `brokerPermission`, before that.
//! Book: Part III "Operating a cluster with mqadmin" (permissions).
//! Mirrors `org.apache.rocketmq.tools.command.namesrv.WipeWritePermSubCommand`.

use std::io::Write;

use crate::commands::CommonArgs;

/// `wipeWritePerm`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// broker name
    #[arg(short = 'b', long = "brokerName", value_name = "arg")]
    pub broker_name: String,
}

/// Runs `wipeWritePerm` and prints what 4.8.0 prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let broker = args.broker_name.trim();
    for ns in admin.namesrv_addrs() {
        match admin.wipe_write_perm_of_broker(ns, broker).await {
            Ok(n) => writeln!(
                out,
                "wipe write perm of broker[{broker}] in name server[{ns}] OK, {n}"
            )?,
            Err(e) => {
                writeln!(
                    out,
                    "wipe write perm of broker[{broker}] in name server[{ns}] Failed"
                )?;
                eprintln!("{e}");
            }
        }
    }
    Ok(())
}
