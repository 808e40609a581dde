//! The admin client's ACL calls (codes 50-54 on one broker) and where mqadmin finds its own
//! credentials.
//!
//! Credentials: 4.8.0's `MQAdminStartup` reads `accessKey` and `secretKey` from
//! `${rocketmq.home.dir}/conf/tools.yml` (`$ROCKETMQ_HOME` when the property is unset) and
//! signs every request with them; without the file, or with a blank key, it sends
//! unsigned requests. Ours reads the same file, or the file named by `$RMQ_TOOLS_YML`
//! when that is set (handy for a second identity without a second home).
//! Book: Part II, "Who may do what: ACL". Mirrors `DefaultMQAdminExt`'s
//! `createAndUpdatePlainAccessConfig`, `deletePlainAccessConfig`,
//! `updateGlobalWhiteAddrConfig`, `examineBrokerClusterAclVersionInfo`,
//! `examineBrokerClusterAclConfig`, and `AclUtils.getAclRPCHook` (4.8.0).

use crate::admin_client::{AdminClient, AdminError, Result};
use anyhow::Context;
use rmq_client::acl::Credentials;
use rmq_remoting::codes::request;
use rmq_remoting::protocol::header::{
    CreateAccessConfigRequestHeader, DeleteAccessConfigRequestHeader,
    GetBrokerAclConfigResponseHeader, UpdateGlobalWhiteAddrsConfigRequestHeader,
};
use rmq_remoting::protocol::DataVersion;
use rmq_remoting::RemotingCommand;
use serde::Deserialize;
use std::path::PathBuf;

/// `$RMQ_TOOLS_YML`: a tools.yml to use instead of `$ROCKETMQ_HOME/conf/tools.yml`.
pub const TOOLS_YML_ENV: &str = "RMQ_TOOLS_YML";

/// The tools.yml mqadmin reads, if any: `$RMQ_TOOLS_YML`, else
/// `$ROCKETMQ_HOME/conf/tools.yml`.
pub fn tools_yml_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(TOOLS_YML_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("ROCKETMQ_HOME")
        .filter(|p| !p.is_empty())
        .map(|home| PathBuf::from(home).join("conf").join("tools.yml"))
}

/// mqadmin's credentials: from [`tools_yml_path`]; `None` (unsigned requests) when there
/// is no such file or a key is blank, as in 4.8.0.
pub fn tools_credentials() -> anyhow::Result<Option<Credentials>> {
    let Some(path) = tools_yml_path() else {
        return Ok(None);
    };
    Credentials::from_tools_yml(&path).with_context(|| format!("reading {}", path.display()))
}

/// One account as mqadmin sends it (`PlainAccessConfig`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PlainAccessConfig {
    /// The access key.
    pub access_key: Option<String>,
    /// The secret key.
    pub secret_key: Option<String>,
    /// The account's white list.
    pub white_remote_address: Option<String>,
    /// Admin flag.
    pub admin: bool,
    /// Permission on topics not listed.
    pub default_topic_perm: Option<String>,
    /// Permission on groups not listed.
    pub default_group_perm: Option<String>,
    /// `topic=PERM` items.
    pub topic_perms: Option<Vec<String>>,
    /// `group=PERM` items.
    pub group_perms: Option<Vec<String>>,
}

/// A broker's whole ACL configuration (`AclConfig`, GET_BROKER_CLUSTER_ACL_CONFIG).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AclConfig {
    /// `globalWhiteRemoteAddresses`.
    pub global_white_addrs: Vec<String>,
    /// The accounts.
    pub plain_access_configs: Vec<PlainAccessConfig>,
}

/// What GET_BROKER_CLUSTER_ACL_INFO tells (`ClusterAclVersionInfo`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterAclVersionInfo {
    /// The broker's cluster.
    pub cluster_name: String,
    /// The broker's name.
    pub broker_name: String,
    /// The broker's address.
    pub broker_addr: String,
    /// The ACL configuration's version.
    pub version: DataVersion,
}

impl AdminClient {
    /// UPDATE_AND_CREATE_ACL_CONFIG (50): lists are joined with `,` as 4.8.0's client does.
    pub async fn create_and_update_plain_access_config(
        &self,
        addr: &str,
        c: &PlainAccessConfig,
    ) -> Result<()> {
        let join = |l: &Option<Vec<String>>| l.as_ref().map(|l| l.join(","));
        let header = CreateAccessConfigRequestHeader {
            access_key: c.access_key.clone().unwrap_or_default(),
            secret_key: c.secret_key.clone(),
            white_remote_address: c.white_remote_address.clone(),
            admin: c.admin,
            default_topic_perm: c.default_topic_perm.clone(),
            default_group_perm: c.default_group_perm.clone(),
            topic_perms: join(&c.topic_perms),
            group_perms: join(&c.group_perms),
        };
        let cmd = RemotingCommand::new_request(request::UPDATE_AND_CREATE_ACL_CONFIG)
            .with_header(&header);
        self.acl_call(addr, cmd).await.map(|_| ())
    }

    /// DELETE_ACL_CONFIG (51).
    pub async fn delete_plain_access_config(&self, addr: &str, access_key: &str) -> Result<()> {
        let cmd = RemotingCommand::new_request(request::DELETE_ACL_CONFIG).with_header(
            &DeleteAccessConfigRequestHeader {
                access_key: access_key.to_string(),
            },
        );
        self.acl_call(addr, cmd).await.map(|_| ())
    }

    /// UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53).
    pub async fn update_global_white_addr_config(&self, addr: &str, addrs: &str) -> Result<()> {
        let cmd = RemotingCommand::new_request(request::UPDATE_GLOBAL_WHITE_ADDRS_CONFIG)
            .with_header(&UpdateGlobalWhiteAddrsConfigRequestHeader {
                global_white_addrs: addrs.to_string(),
            });
        self.acl_call(addr, cmd).await.map(|_| ())
    }

    /// GET_BROKER_CLUSTER_ACL_INFO (52).
    pub async fn examine_broker_cluster_acl_version_info(
        &self,
        addr: &str,
    ) -> Result<ClusterAclVersionInfo> {
        let cmd = RemotingCommand::new_request(request::GET_BROKER_CLUSTER_ACL_INFO);
        let resp = self.acl_call(addr, cmd).await?;
        let h: GetBrokerAclConfigResponseHeader =
            resp.decode_header().map_err(|e| AdminError::Client {
                code: resp.code,
                desc: e.to_string(),
            })?;
        let version = rmq_remoting::protocol::fastjson::from_str(&h.version).map_err(|e| {
            AdminError::Body {
                addr: addr.to_string(),
                source: e.into(),
            }
        })?;
        Ok(ClusterAclVersionInfo {
            cluster_name: h.cluster_name,
            broker_name: h.broker_name,
            broker_addr: h.broker_addr,
            version,
        })
    }

    /// GET_BROKER_CLUSTER_ACL_CONFIG (54).
    pub async fn examine_broker_cluster_acl_config(&self, addr: &str) -> Result<AclConfig> {
        let cmd = RemotingCommand::new_request(request::GET_BROKER_CLUSTER_ACL_CONFIG);
        let resp = self.acl_call(addr, cmd).await?;
        rmq_remoting::protocol::decode_body(resp.body_bytes()).map_err(|source| AdminError::Body {
            addr: addr.to_string(),
            source,
        })
    }

    async fn acl_call(&self, addr: &str, cmd: RemotingCommand) -> Result<RemotingCommand> {
        let resp = self.invoke(addr, cmd, self.timeout()).await?;
        if resp.code == rmq_remoting::codes::response::SUCCESS {
            Ok(resp)
        } else {
            Err(AdminError::Server {
                code: resp.code,
                remark: resp.remark.clone().unwrap_or_else(|| "null".into()),
                addr: Some(addr.to_string()),
            })
        }
    }
}

/// The `-b`/`-c` pair every ACL command of mqadmin has: one of them, not both.
#[derive(Debug, Clone, clap::Args)]
#[group(id = "target", required = true, multiple = false)]
pub struct AclTarget {
    /// the broker to send it to (host:port)
    #[arg(short = 'b', long = "brokerAddr", value_name = "arg")]
    pub broker_addr: Option<String>,
    /// send it to every master of this cluster
    #[arg(short = 'c', long = "clusterName", value_name = "arg")]
    pub cluster_name: Option<String>,
}

impl AclTarget {
    /// The brokers addressed: `-b`, or every master of `-c`
    /// (`CommandUtil.fetchMasterAddrByClusterName`).
    pub async fn addrs(&self, admin: &AdminClient) -> anyhow::Result<Vec<String>> {
        if let Some(b) = &self.broker_addr {
            return Ok(vec![b.trim().to_string()]);
        }
        let cluster = self.cluster_name.as_deref().unwrap_or_default().trim();
        match admin.master_addrs_of_cluster(cluster).await? {
            Some(set) => Ok(set.into_iter().collect()),
            None => anyhow::bail!("{}", crate::commands::CLUSTER_ERROR_MESSAGE),
        }
    }
}
