//! Access control (ACL): with `aclEnable=true` every request on both listeners passes
//! [`AclValidator::check`] before its handler runs. A request is allowed when the client's
//! address is on the global white list, or when it names an account (`AccessKey`) whose
//! white list holds the address, or whose secret key reproduces the request's `Signature`
//! and whose permissions cover what the request touches. Anything else is refused the way
//! 4.8.0 refuses it: SYSTEM_ERROR (code 1) whose remark is the `AclException` as
//! `RemotingHelper.exceptionSimpleDesc` prints it, class, message and the first stack frame
//! (no reply at all to a oneway request).
//!
//! The rules come from `plain_acl.yml` ([`rules`]); a watcher reloads the file within
//! 500 ms of a change, and a file that does not load leaves the rules in force as they were
//! (the log says why). Codes 50-54 rewrite the file ([`admin`]).
//!
//! The name server has no ACL in 4.8.0 and has none here: a signed request reaches it
//! with extra extFields it ignores.
//! Book: Part II, "Who may do what: ACL". Mirrors `PlainAccessValidator`,
//! `PlainPermissionManager` and `BrokerController.initialAcl` (4.8.0).

pub mod address;
pub mod admin;
pub mod resource;
pub mod rules;

use parking_lot::{Mutex, RwLock};
use rmq_remoting::acl::{ACCESS_KEY, SIGNATURE};
use rmq_remoting::protocol::DataVersion;
use rmq_remoting::RemotingCommand;
use rules::{check_perm, Rules, RETRY_PREFIX};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How often the file is looked at (`FileWatchService.WATCH_INTERVAL`).
pub const WATCH_INTERVAL_MS: u64 = 500;

/// The class name an `AclException` prints as.
const ACL_EXCEPTION: &str = "org.apache.rocketmq.acl.common.AclException";

// ANCHOR: acl_frames
/// Where in 4.8.0 each refusal is thrown: the first stack frame `exceptionSimpleDesc`
/// appends to the remark (line numbers of the rocketmq-acl 4.8.0 jar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// A header or body `parse` could not read.
    Parse,
    /// `No accessKey is configured`.
    NoAccessKey,
    /// `No acl config for <ak>`.
    UnknownKey,
    /// `Check signature failed for accessKey=<ak>`.
    Signature,
    /// `Need admin permission for request code=<code>, but accessKey=<ak> is not`.
    Admin,
    /// `No default permission for ...` from a default permission.
    DefaultPerm,
    /// `No default permission for ...` from a listed permission.
    ListedPerm,
}

impl Site {
    /// The stack frame as Java prints it.
    pub fn frame(self) -> &'static str {
        match self {
            Site::Parse => {
                "org.apache.rocketmq.acl.plain.PlainAccessValidator.parse(PlainAccessValidator.java:123)"
            }
            Site::NoAccessKey => {
                "org.apache.rocketmq.acl.plain.PlainPermissionManager.validate(PlainPermissionManager.java:393)"
            }
            Site::UnknownKey => {
                "org.apache.rocketmq.acl.plain.PlainPermissionManager.validate(PlainPermissionManager.java:397)"
            }
            Site::Signature => {
                "org.apache.rocketmq.acl.plain.PlainPermissionManager.validate(PlainPermissionManager.java:409)"
            }
            Site::Admin => {
                "org.apache.rocketmq.acl.plain.PlainPermissionManager.checkPerm(PlainPermissionManager.java:315)"
            }
            Site::DefaultPerm => {
                "org.apache.rocketmq.acl.plain.PlainPermissionManager.checkPerm(PlainPermissionManager.java:340)"
            }
            Site::ListedPerm => {
                "org.apache.rocketmq.acl.plain.PlainPermissionManager.checkPerm(PlainPermissionManager.java:345)"
            }
        }
    }
}
// ANCHOR_END: acl_frames

/// A refused request: 4.8.0's `AclException` message and where it is thrown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The exception's message (`None` prints the class name alone, as Java does).
    pub message: Option<String>,
    /// Where 4.8.0 throws it.
    pub site: Site,
}

impl Denied {
    fn new(site: Site, message: String) -> Self {
        Denied {
            message: Some(message),
            site,
        }
    }

    /// The remark of the SYSTEM_ERROR reply: `RemotingHelper.exceptionSimpleDesc(e)`.
    pub fn remark(&self) -> String {
        match &self.message {
            Some(m) => format!("{ACL_EXCEPTION}: {m}, {}", self.site.frame()),
            None => format!("{ACL_EXCEPTION}, {}", self.site.frame()),
        }
    }
}

/// The client IP as 4.8.0 matches it: the remote address up to its last `:`.
pub fn client_ip(remote: &std::net::SocketAddr) -> IpAddr {
    match remote.ip() {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Why the ACL file could not be used at start.
#[derive(Debug, thiserror::Error)]
pub enum AclError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file was read but refused.
    #[error("{path}: {reason}")]
    Bad {
        /// The file.
        path: PathBuf,
        /// Why (4.8.0's message where it has one).
        reason: String,
    },
}

/// The validator of one broker: the rules in force, the file they came from, and the
/// configuration's data version (GET_BROKER_CLUSTER_ACL_INFO).
pub struct AclValidator {
    path: PathBuf,
    rules: RwLock<Arc<Rules>>,
    /// The version counter: the file's `dataVersion` when it has one, bumped by codes
    /// 50/51/53 (`PlainPermissionManager.dataVersion`).
    version: Mutex<DataVersion>,
    /// The bytes of the file as last seen by the watcher.
    seen: Mutex<Vec<u8>>,
    /// Codes 50/51/53 read, edit and write the file one at a time (4.8.0: `synchronized`).
    pub(crate) write_lock: tokio::sync::Mutex<()>,
}

impl AclValidator {
    /// Loads `path`; an unreadable or invalid file is an error (the broker does not start,
    /// as 4.8.0's does not).
    pub fn load(path: &Path) -> Result<Arc<AclValidator>, AclError> {
        let bytes = std::fs::read(path).map_err(|source| AclError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let rules = Self::parse(path, &bytes).map_err(|reason| AclError::Bad {
            path: path.to_path_buf(),
            reason,
        })?;
        let mut version = DataVersion::now();
        if let Some(v) = rules.data_version {
            version = v;
        }
        tracing::info!(
            file = %path.display(),
            accounts = rules.accounts.len(),
            global_white = rules.global_white.len(),
            "ACL enabled"
        );
        Ok(Arc::new(AclValidator {
            path: path.to_path_buf(),
            rules: RwLock::new(Arc::new(rules)),
            version: Mutex::new(version),
            seen: Mutex::new(bytes),
            write_lock: tokio::sync::Mutex::new(()),
        }))
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<Rules, String> {
        let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
        Rules::from_yaml(text, &path.display().to_string()).map_err(|e| e.0)
    }

    /// The file this validator reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The rules in force now.
    pub fn rules(&self) -> Arc<Rules> {
        self.rules.read().clone()
    }

    /// The data version as GET_BROKER_CLUSTER_ACL_INFO returns it (JSON).
    pub fn version_json(&self) -> String {
        let v = *self.version.lock();
        format!(
            "{{\"counter\":{},\"timestamp\":{}}}",
            v.counter, v.timestamp
        )
    }

    /// Bumps the data version (`nextVersion`) and returns it.
    pub(crate) fn next_version(&self) -> DataVersion {
        let mut v = self.version.lock();
        v.next_version();
        *v
    }

    /// Reads the file again if its bytes changed since the last look; a file that does not
    /// load keeps the rules in force and is logged with the reason. Returns whether new
    /// rules are in force.
    pub fn reload_if_changed(&self) -> bool {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) => {
                // 4.8.0 skips a file it cannot hash and tries again next round
                tracing::debug!(file = %self.path.display(), "ACL file not readable: {e}");
                return false;
            }
        };
        {
            let mut seen = self.seen.lock();
            if *seen == bytes {
                return false;
            }
            *seen = bytes.clone();
        }
        tracing::info!(file = %self.path.display(), "The plain acl yml changed, reload the context");
        match Self::parse(&self.path, &bytes) {
            Ok(rules) => {
                if let Some(v) = rules.data_version {
                    *self.version.lock() = v;
                }
                *self.rules.write() = Arc::new(rules);
                true
            }
            Err(reason) => {
                tracing::warn!(
                    file = %self.path.display(),
                    "ACL file not loaded, the previous rules stay in force: {reason}"
                );
                false
            }
        }
    }

    /// Watches the file until the task is aborted (`FileWatchService`).
    pub async fn watch(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_millis(WATCH_INTERVAL_MS));
        loop {
            tick.tick().await;
            let me = self.clone();
            let _ = tokio::task::spawn_blocking(move || me.reload_if_changed()).await;
        }
    }

    // ANCHOR: acl_check
    /// `validate(parse(request, remoteAddr))`: `Ok` lets the request through.
    pub fn check(&self, ip: &IpAddr, req: &RemotingCommand) -> Result<(), Denied> {
        let resources = resource::resources_of(req).map_err(|m| Denied {
            message: Some(m),
            site: Site::Parse,
        })?;
        let rules = self.rules();
        if rules.global_white.iter().any(|p| p.matches(ip)) {
            return Ok(());
        }
        let ak = req
            .ext_fields
            .get(ACCESS_KEY)
            .ok_or_else(|| Denied::new(Site::NoAccessKey, "No accessKey is configured".into()))?;
        let account = rules
            .accounts
            .get(ak)
            .ok_or_else(|| Denied::new(Site::UnknownKey, format!("No acl config for {ak}")))?;
        if account.white.matches(ip) {
            return Ok(());
        }
        let content = rmq_remoting::acl::content(&req.ext_fields, req.body_bytes());
        let expected = rmq_remoting::acl::signature(&content, &account.secret_key);
        if req.ext_fields.get(SIGNATURE) != Some(&expected) {
            return Err(Denied::new(
                Site::Signature,
                format!("Check signature failed for accessKey={ak}"),
            ));
        }
        if is_admin_code(req.code) && !account.admin {
            return Err(Denied::new(
                Site::Admin,
                format!(
                    "Need admin permission for request code={}, but accessKey={ak} is not",
                    req.code
                ),
            ));
        }
        if resources.is_empty() || (account.perms.is_none() && account.admin) {
            return Ok(());
        }
        for (name, needed) in resources.in_java_order() {
            let is_group = name.starts_with(RETRY_PREFIX);
            let listed = account.perms.as_ref().and_then(|m| m.get(name));
            let (owned, site) = match listed {
                Some(p) => (*p, Site::ListedPerm),
                None if is_group => (account.default_group_perm, Site::DefaultPerm),
                None => (account.default_topic_perm, Site::DefaultPerm),
            };
            if !check_perm(needed, owned) {
                let what = match name.strip_prefix(RETRY_PREFIX) {
                    Some(group) => format!("group:{group}"),
                    None => format!("topic:{name}"),
                };
                return Err(Denied::new(
                    site,
                    format!("No default permission for {what}"),
                ));
            }
        }
        Ok(())
    }
    // ANCHOR_END: acl_check
}

/// The validator `cfg` asks for: `None` with `aclEnable=false`; with it, the file of
/// `aclPlainFile`, else `$ROCKETMQ_HOME/conf/plain_acl.yml`. A file that does not load stops
/// the broker from starting (4.8.0's startup fails too).
pub fn open(cfg: &crate::config::BrokerConfig) -> anyhow::Result<Option<Arc<AclValidator>>> {
    if !cfg.acl.enable {
        tracing::info!("The broker does not enable acl");
        return Ok(None);
    }
    let path = match (&cfg.acl.plain_file, std::env::var_os("ROCKETMQ_HOME")) {
        (Some(p), _) => p.clone(),
        (None, Some(home)) => PathBuf::from(home).join("conf").join("plain_acl.yml"),
        (None, None) => anyhow::bail!(
            "aclEnable=true, but neither aclPlainFile nor $ROCKETMQ_HOME says where plain_acl.yml is"
        ),
    };
    Ok(Some(AclValidator::load(&path)?))
}

/// Signs what `cfg` names as this broker's own account (`aclAccessKey`/`aclSecretKey`) into
/// every request `client` sends, so brokers of one ACL cluster can call each other.
pub fn sign_own_requests(cfg: &crate::config::BrokerConfig, client: &rmq_remoting::RemotingClient) {
    if let (Some(ak), Some(sk)) = (&cfg.acl.access_key, &cfg.acl.secret_key) {
        client.set_rpc_hook(Arc::new(OwnSigner {
            access_key: ak.clone(),
            secret_key: sk.clone(),
        }));
    }
}

struct OwnSigner {
    access_key: String,
    secret_key: String,
}

impl rmq_remoting::RpcHook for OwnSigner {
    fn before_request(&self, _remote_addr: &str, cmd: &mut RemotingCommand) {
        rmq_remoting::acl::sign_request(cmd, &self.access_key, &self.secret_key, None);
    }
}

/// `Permission.ADMIN_CODE`: UPDATE_AND_CREATE_TOPIC (17), UPDATE_BROKER_CONFIG (25),
/// DELETE_TOPIC_IN_BROKER (215), UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200),
/// DELETE_SUBSCRIPTIONGROUP (207). The ACL codes 50-54 are not among them.
pub fn is_admin_code(code: i32) -> bool {
    use rmq_remoting::codes::request as rq;
    matches!(
        code,
        rq::UPDATE_AND_CREATE_TOPIC
            | rq::UPDATE_BROKER_CONFIG
            | rq::DELETE_TOPIC_IN_BROKER
            | rq::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP
            | rq::DELETE_SUBSCRIPTIONGROUP
    )
}

/// The dispatcher's hook: `None` lets `req` through; `Some(reply)` is the refusal to send
/// (`Some(None)`: refused, but the request was oneway, so nothing is sent).
pub fn gate(
    validator: &AclValidator,
    remote: &std::net::SocketAddr,
    req: &RemotingCommand,
) -> Option<Option<RemotingCommand>> {
    let denied = validator.check(&client_ip(remote), req).err()?;
    let remark = denied.remark();
    tracing::warn!(peer = %remote, code = req.code, "ACL refused the request: {remark}");
    if req.is_oneway() {
        return Some(None);
    }
    Some(Some(RemotingCommand::new_response(
        rmq_remoting::codes::response::SYSTEM_ERROR,
        remark,
    )))
}
