//! `mqadmin deleteAccessConfig -a <accessKey> (-b <broker> | -c <cluster>)`: removes one
//! account from plain_acl.yml (DELETE_ACL_CONFIG, code 51).
//! Book: Part II, "Who may do what: ACL".
//! Mirrors `org.apache.rocketmq.tools.command.acl.DeleteAccessConfigSubCommand`.

use std::io::Write;

use crate::acl_calls::AclTarget;
use crate::commands::CommonArgs;

/// `deleteAccessConfig`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `-b` or `-c`.
    #[command(flatten)]
    pub target: AclTarget,
    /// set accessKey in acl config file for deleting which account
    #[arg(short = 'a', long = "accessKey", value_name = "arg")]
    pub access_key: String,
}

/// Runs `deleteAccessConfig` and prints what 4.8.0's command prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let ak = args.access_key.trim();
    let admin = args.common.admin().await?;
    let targets = args.target.addrs(&admin).await;
    let result = async {
        for addr in targets? {
            admin.delete_plain_access_config(&addr, ak).await?;
            writeln!(out, "delete plain access config account to {addr} success.")?;
        }
        write!(out, "account's accesskey is:{ak}")?;
        anyhow::Ok(())
    }
    .await;
    admin.shutdown();
    result
}
