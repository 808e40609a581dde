//! `mqadmin updateKvConfig -s <namespace> -k <key> -v <value>` and `mqadmin deleteKvConfig -s
//! <namespace> -k <key>`: write or remove one item of the name servers' KV configuration (the
//! store behind ORDER_TOPIC_CONFIG and other namespaces), on every name server given.
//!
//! PUT_KV_CONFIG / DELETE_KV_CONFIG to each name server in turn. Both commands share
//! [`KvItem`].
//! Book: Part III "Operating a cluster with mqadmin" (configuration) and Part III "Name server".
//! Mirrors `org.apache.rocketmq.tools.command.namesrv.UpdateKvConfigCommand` and
//! `DeleteKvConfigCommand`.

use std::io::Write;

use crate::commands::CommonArgs;

/// `-s namespace -k key`, the item both commands name.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KvItem {
    /// set the namespace
    #[arg(short = 's', long = "namespace", value_name = "arg")]
    pub namespace: String,
    /// set the key name
    #[arg(short = 'k', long = "key", value_name = "arg")]
    pub key: String,
}

/// `updateKvConfig`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct UpdateArgs {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `-s` and `-k`.
    #[command(flatten)]
    pub item: KvItem,
    /// set the key value
    #[arg(short = 'v', long = "value", value_name = "arg")]
    pub value: String,
}

/// `deleteKvConfig`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct DeleteArgs {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `-s` and `-k`.
    #[command(flatten)]
    pub item: KvItem,
}

/// Runs `updateKvConfig` and prints what 4.8.0 prints.
pub async fn run_update(args: UpdateArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    admin
        .put_kv_config(
            args.item.namespace.trim(),
            args.item.key.trim(),
            args.value.trim(),
        )
        .await?;
    writeln!(out, "create or update kv config to namespace success.")?;
    Ok(())
}

/// Runs `deleteKvConfig` and prints what 4.8.0 prints.
pub async fn run_delete(args: DeleteArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    admin
        .delete_kv_config(args.item.namespace.trim(), args.item.key.trim())
        .await?;
    writeln!(out, "delete kv config from namespace success.")?;
    Ok(())
}
