//! `mqadmin updateAclConfig -a <accessKey> (-b <broker> | -c <cluster>) [-s -w -i -u -t -g -m]`:
//! adds or changes one account in plain_acl.yml of one broker or of every master of a
//! cluster (UPDATE_AND_CREATE_ACL_CONFIG, code 50).
//! Book: Part II, "Who may do what: ACL".
//! Mirrors `org.apache.rocketmq.tools.command.acl.UpdateAccessConfigSubCommand`.

use std::io::Write;

use crate::acl_calls::{AclTarget, PlainAccessConfig};
use crate::commands::{java_bool, CommonArgs};

/// `updateAclConfig`'s options, with 4.8.0's short and long names.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: CommonArgs,
    /// `-b` or `-c`.
    #[command(flatten)]
    pub target: AclTarget,
    /// set accessKey in acl config file
    #[arg(short = 'a', long = "accessKey", value_name = "arg")]
    pub access_key: String,
    /// set secretKey in acl config file
    #[arg(short = 's', long = "secretKey", value_name = "arg")]
    pub secret_key: Option<String>,
    /// set white ip Address for account in acl config file
    #[arg(short = 'w', long = "whiteRemoteAddress", value_name = "arg")]
    pub white_remote_address: Option<String>,
    /// set default topicPerm in acl config file
    #[arg(short = 'i', long = "defaultTopicPerm", value_name = "arg")]
    pub default_topic_perm: Option<String>,
    /// set default GroupPerm in acl config file
    #[arg(short = 'u', long = "defaultGroupPerm", value_name = "arg")]
    pub default_group_perm: Option<String>,
    /// set topicPerms list,eg: topicA=DENY,topicD=SUB
    #[arg(short = 't', long = "topicPerms", value_name = "arg")]
    pub topic_perms: Option<String>,
    /// set groupPerms list,eg: groupD=DENY,groupD=SUB
    #[arg(short = 'g', long = "groupPerms", value_name = "arg")]
    pub group_perms: Option<String>,
    /// set admin flag in acl config file
    #[arg(short = 'm', long = "admin", value_name = "arg")]
    pub admin: Option<String>,
}

impl Args {
    /// The account as 4.8.0 builds it from the options (values trimmed, lists split on `,`).
    pub fn access_config(&self) -> PlainAccessConfig {
        let t = |v: &Option<String>| v.as_deref().map(|s| s.trim().to_string());
        let list = |v: &Option<String>| {
            v.as_deref()
                .map(|s| s.trim().split(',').map(str::to_string).collect::<Vec<_>>())
        };
        PlainAccessConfig {
            access_key: Some(self.access_key.trim().to_string()),
            secret_key: t(&self.secret_key),
            white_remote_address: t(&self.white_remote_address),
            admin: self.admin.as_deref().is_some_and(java_bool),
            default_topic_perm: t(&self.default_topic_perm),
            default_group_perm: t(&self.default_group_perm),
            topic_perms: list(&self.topic_perms),
            group_perms: list(&self.group_perms),
        }
    }
}

/// How Java's `Object.toString` prints the account (the command prints the object itself):
/// the class name and a hash.
pub fn object_to_string(c: &PlainAccessConfig) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{c:?}").hash(&mut h);
    format!(
        "org.apache.rocketmq.common.PlainAccessConfig@{:x}",
        h.finish() as u32
    )
}

/// Runs `updateAclConfig` and prints what 4.8.0's command prints.
pub async fn run(args: Args, out: &mut dyn Write) -> anyhow::Result<()> {
    let config = args.access_config();
    let admin = args.common.admin().await?;
    let targets = args.target.addrs(&admin).await;
    let result = async {
        for addr in targets? {
            admin
                .create_and_update_plain_access_config(&addr, &config)
                .await?;
            writeln!(
                out,
                "create or update plain access config to {addr} success."
            )?;
        }
        write!(out, "{}", object_to_string(&config))?;
        anyhow::Ok(())
    }
    .await;
    admin.shutdown();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn flags_follow_4_8_0_and_lists_split_on_commas() {
        let a = Args::try_parse_from([
            "updateAclConfig",
            "-c",
            "C",
            "-a",
            " RocketMQ ",
            "-t",
            "a=PUB,b=SUB",
            "-m",
            "TRUE",
        ])
        .unwrap();
        let c = a.access_config();
        assert_eq!(c.access_key.as_deref(), Some("RocketMQ"));
        assert_eq!(c.topic_perms.unwrap(), vec!["a=PUB", "b=SUB"]);
        assert!(c.admin, "Boolean.parseBoolean ignores case");
        assert!(c.group_perms.is_none());
        // -b or -c, exactly one; -a is required
        assert!(Args::try_parse_from(["x", "-a", "RocketMQ"]).is_err());
        assert!(Args::try_parse_from(["x", "-b", "h:1", "-c", "C", "-a", "RocketMQ"]).is_err());
        assert!(Args::try_parse_from(["x", "-b", "h:1"]).is_err());
    }
}
