//! Client credentials for a broker with ACL on: an access key and a secret key (and an
//! optional security token) that sign every request this client sends.
//!
//! ```text
//! let mut cfg = ProducerConfig::new("group", "127.0.0.1:9876");
//! cfg.client.credentials = Some(Credentials::new("RocketMQ", "12345678"));
//! ```
//!
//! [`AclSigner`] is the hook a client instance installs on its remoting client when its
//! [`crate::ClientConfig`] has credentials: before each request goes out it adds
//! `AccessKey` (and `SecurityToken`) and the `Signature` over the request's header fields
//! and body (see `rmq_remoting::acl` for what exactly is signed). Requests to name servers
//! are signed too, as the Java client signs them; a name server ignores the extra keys.
//! [`Credentials::from_tools_yml`] reads the file 4.8.0's mqadmin reads (`conf/tools.yml`).
//! Book: Part II, "Who may do what: ACL". Mirrors `SessionCredentials`, `AclClientRPCHook`
//! and `AclUtils.getAclRPCHook` (4.8.0).

use rmq_remoting::{RemotingCommand, RpcHook};
use std::path::Path;

/// An account's keys, as plain_acl.yml on the broker lists them.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The account (`AccessKey`).
    pub access_key: String,
    /// The HMAC-SHA1 key the signature is made with; never sent.
    pub secret_key: String,
    /// Sent as `SecurityToken` and signed when set (4.8.0's brokers do not check it).
    pub security_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // the secret stays out of logs
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"***")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

/// Why a credentials file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not YAML, or lacks a key.
    #[error("{path}: {reason}")]
    Bad {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl Credentials {
    /// Credentials without a security token.
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Credentials {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            security_token: None,
        }
    }

    /// Reads `accessKey` and `secretKey` from a YAML file such as 4.8.0's `conf/tools.yml`.
    /// `Ok(None)` when the file does not exist or either key is blank: 4.8.0's tools then
    /// run without ACL, and so do ours.
    pub fn from_tools_yml(path: &Path) -> Result<Option<Self>, CredentialsError> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(CredentialsError::Read {
                    path: shown,
                    source,
                })
            }
        };
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&text).map_err(|e| CredentialsError::Bad {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
        let key = |k: &str| -> Option<String> {
            match doc.get(k)? {
                serde_yaml::Value::String(s) => Some(s.trim().to_string()),
                serde_yaml::Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
            .filter(|s| !s.is_empty())
        };
        Ok(match (key("accessKey"), key("secretKey")) {
            (Some(ak), Some(sk)) => Some(Credentials::new(ak, sk)),
            _ => None,
        })
    }
}

/// The request signer a client installs when it has [`Credentials`] (`AclClientRPCHook`).
#[derive(Debug, Clone)]
pub struct AclSigner {
    credentials: Credentials,
}

impl AclSigner {
    /// A signer for `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        AclSigner { credentials }
    }

    /// The credentials it signs with.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Signs one request.
    pub fn sign(&self, cmd: &mut RemotingCommand) {
        let c = &self.credentials;
        rmq_remoting::acl::sign_request(
            cmd,
            &c.access_key,
            &c.secret_key,
            c.security_token.as_deref(),
        );
    }
}

impl RpcHook for AclSigner {
    fn before_request(&self, _remote_addr: &str, cmd: &mut RemotingCommand) {
        self.sign(cmd);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_yml_is_read_like_4_8_0() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tools.yml");
        std::fs::write(&p, "accessKey: rocketmq2\nsecretKey: 12345678\n").unwrap();
        let c = Credentials::from_tools_yml(&p).unwrap().unwrap();
        assert_eq!(c.access_key, "rocketmq2");
        assert_eq!(c.secret_key, "12345678", "a YAML number is its text");
        std::fs::write(&p, "accessKey: rocketmq2\nsecretKey:\n").unwrap();
        assert!(Credentials::from_tools_yml(&p).unwrap().is_none());
        assert!(Credentials::from_tools_yml(&dir.path().join("none.yml"))
            .unwrap()
            .is_none());
        assert!(
            !format!("{c:?}").contains("12345678"),
            "secret not in Debug"
        );
    }
}
