//! `mqadmin getNamesrvConfig` and `mqadmin updateNamesrvConfig -k <key> -v <value>`: read or
//! change the settings of the name servers named by `-n`.
//!
//! GET_NAMESRV_CONFIG / UPDATE_NAMESRV_CONFIG (body: `key=value` properties text) to each name
//! server of `-n` in turn.
//! Book: Part III "Operating a cluster with mqadmin" (configuration).
//! Mirrors `org.apache.rocketmq.tools.command.namesrv.GetNamesrvConfigCommand` and
//! `UpdateNamesrvConfigCommand`.
//!
//! Deviation: keys are printed sorted (4.8.0: `Properties` hash order).

use std::io::Write;

use crate::commands::CommonArgs;

/// `getNamesrvConfig`'s options: only `-n`.
#[derive(Debug, clap::Parser)]
pub struct GetArgs {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `updateNamesrvConfig`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct UpdateArgs {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// config key
    #[arg(short = 'k', long = "key", value_name = "arg")]
    pub key: String,
    /// config value
    #[arg(short = 'v', long = "value", value_name = "arg")]
    pub value: String,
}

/// Runs `getNamesrvConfig` and prints what 4.8.0 prints.
pub async fn run_get(args: GetArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let addrs = admin.namesrv_addrs().to_vec();
    for (server, props) in admin.get_namesrv_config(&addrs).await? {
        writeln!(out, "============{server}============")?;
        for (k, v) in props {
            writeln!(out, "{k:<50}=  {v}")?;
        }
    }
    Ok(())
}

/// Runs `updateNamesrvConfig` and prints what 4.8.0 prints.
pub async fn run_update(args: UpdateArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let addrs = admin.namesrv_addrs().to_vec();
    let (key, value) = (args.key.trim(), args.value.trim());
    admin
        .update_namesrv_config(&addrs, &[(key.to_string(), value.to_string())])
        .await?;
    // Java prints the list as `[a, b]` (List.toString).
    writeln!(
        out,
        "update name server config success![{}]\n{key} : {value}",
        addrs.join(", ")
    )?;
    Ok(())
}
