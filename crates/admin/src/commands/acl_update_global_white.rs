//! `mqadmin updateGlobalWhiteAddr -g <addr,addr> (-b <broker> | -c <cluster>)`: replaces
//! `globalWhiteRemoteAddresses` in plain_acl.yml (UPDATE_GLOBAL_WHITE_ADDRS_CONFIG, code 53).
//! Book: Part II, "Who may do what: ACL".
//! Mirrors `org.apache.rocketmq.tools.command.acl.UpdateGlobalWhiteAddrSubCommand`.

use std::io::Write;

use crate::acl_calls::AclTarget;
use crate::commands::CommonArgs;

/// `updateGlobalWhiteAddr`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `-b` or `-c`.
    #[command(flatten)]
    pub target: AclTarget,
    /// set globalWhiteRemoteAddress list,eg: 10.10.103.*,192.168.0.*
    #[arg(short = 'g', long = "globalWhiteRemoteAddresses", value_name = "arg")]
    pub global_white_remote_addresses: String,
}

/// Runs `updateGlobalWhiteAddr` and prints what 4.8.0's command prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let addrs = args.global_white_remote_addresses.trim();
    let admin = args.common.admin().await?;
    let targets = args.target.addrs(&admin).await;
    let result = async {
        for addr in targets? {
            admin.update_global_white_addr_config(&addr, addrs).await?;
            writeln!(
                out,
                "update global white remote addresses to {addr} success."
            )?;
        }
        anyhow::Ok(())
    }
    .await;
    admin.shutdown();
    result
}
