//! `mqadmin getAccessConfigSubCommand (-b <broker> | -c <cluster>)`: every account of
//! plain_acl.yml (secrets included) and the global white list (GET_BROKER_CLUSTER_ACL_CONFIG,
//! code 54). 4.8.0 names this command after its class, `getAccessConfigSubCommand`.
//! Book: Part II, "Who may do what: ACL".
//! Mirrors `org.apache.rocketmq.tools.command.acl.GetAccessConfigSubCommand`.

use std::io::Write;

use crate::acl_calls::{AclConfig, AclTarget};
use crate::commands::CommonArgs;

/// `getAccessConfigSubCommand`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `-b` or `-c`.
    #[command(flatten)]
    pub target: AclTarget,
}

/// Java's `List.toString`: `[a, b]`.
fn java_list(l: &[String]) -> String {
    format!("[{}]", l.join(", "))
}

/// The block 4.8.0 prints for one broker: the white list, then each account's fields in
/// `PlainAccessConfig`'s declaration order (`%-1s %-18s: %s`, a missing value blank).
pub fn render(c: &AclConfig) -> String {
    let mut s = String::new();
    s.push('\n');
    s.push_str(&format!(
        "{:<20}: {}\n",
        "globalWhiteRemoteAddresses",
        java_list(&c.global_white_addrs)
    ));
    s.push('\n');
    s.push_str("accounts:\n");
    for a in &c.plain_access_configs {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let list = |v: &Option<Vec<String>>| v.as_deref().map(java_list).unwrap_or_default();
        for (name, value) in [
            ("accessKey", opt(&a.access_key)),
            ("secretKey", opt(&a.secret_key)),
            ("whiteRemoteAddress", opt(&a.white_remote_address)),
            ("admin", a.admin.to_string()),
            ("defaultTopicPerm", opt(&a.default_topic_perm)),
            ("defaultGroupPerm", opt(&a.default_group_perm)),
            ("topicPerms", list(&a.topic_perms)),
            ("groupPerms", list(&a.group_perms)),
        ] {
            s.push_str(&format!("{:<1} {:<18}: {}\n", "", name, value));
        }
        s.push('\n');
    }
    s
}

/// Runs `getAccessConfigSubCommand` and prints what 4.8.0's command prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let admin = args.common.admin().await?;
    let targets = args.target.addrs(&admin).await;
    let result = async {
        for addr in targets? {
            let c = admin.examine_broker_cluster_acl_config(&addr).await?;
            write!(out, "{}", render(&c))?;
        }
        anyhow::Ok(())
    }
    .await;
    admin.shutdown();
    result
}
