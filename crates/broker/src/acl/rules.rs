//! plain_acl.yml: its accounts as 4.8.0 reads them ([`PlainAccessConfig`]), and the rules a
//! broker checks requests against ([`Rules`]), built from the whole file at once so a file
//! that fails anywhere changes nothing.
//!
//! The file is YAML; 4.8.0 reads it with SnakeYAML into fastjson objects, so values are
//! lenient: an access key written as a number is its decimal text, `admin` may be a boolean
//! or the text `true`/`false` (YAML 1.1's `yes`/`no`/`on`/`off` too, which SnakeYAML reads
//! as booleans), a missing list is empty.
//!
//! ```yaml
//! globalWhiteRemoteAddresses: [10.10.103.*]      # clients that skip every check
//! accounts:
//! - accessKey: RocketMQ                          # longer than 6 characters
//!   secretKey: "12345678"                        # the HMAC key, longer than 6
//!   whiteRemoteAddress:                          # clients that skip signature and perms
//!   admin: false                                 # may send the admin-only codes
//!   defaultTopicPerm: DENY                       # topics not listed below
//!   defaultGroupPerm: SUB                        # groups not listed below
//!   topicPerms: [topicA=DENY, topicB=PUB|SUB]
//!   groupPerms: [groupA=DENY, groupB=PUB|SUB]
//! dataVersion: [{counter: 1, timestamp: 1700000000000}]   # written by the admin codes
//! ```
//! Book: Part II, "Who may do what: ACL". Mirrors `PlainPermissionManager.load` /
//! `buildPlainAccessResource`, `Permission.parsePermFromString` / `parseResourcePerms`,
//! `PlainAccessConfig` (4.8.0).

use super::address::AddressPattern;
use rmq_remoting::protocol::DataVersion;
use serde::Serialize;
use serde_yaml::Value;
use std::collections::HashMap;

/// `Permission.DENY`.
pub const DENY: u8 = 1;
/// `Permission.ANY`.
pub const ANY: u8 = 1 << 1;
/// `Permission.PUB`.
pub const PUB: u8 = 1 << 2;
/// `Permission.SUB`.
pub const SUB: u8 = 1 << 3;

/// `MixAll.RETRY_GROUP_TOPIC_PREFIX`: a group's permissions are kept under its retry topic.
pub const RETRY_PREFIX: &str = "%RETRY%";

// ANCHOR: acl_perm
/// `Permission.parsePermFromString`: `PUB`, `SUB`, `PUB|SUB` (or `SUB|PUB`), `DENY`;
/// anything else, and nothing, is DENY.
pub fn parse_perm(s: Option<&str>) -> u8 {
    match s.map(str::trim) {
        Some("PUB") => PUB,
        Some("SUB") => SUB,
        Some("PUB|SUB") | Some("SUB|PUB") => PUB | SUB,
        _ => DENY,
    }
}

/// `Permission.checkPermission`: an owned DENY refuses; a needed ANY is PUB or SUB; else
/// the needed bit must be owned.
pub fn check_perm(needed: u8, owned: u8) -> bool {
    if owned & DENY != 0 {
        return false;
    }
    if needed & ANY != 0 {
        return owned & (PUB | SUB) != 0;
    }
    needed & owned != 0
}
// ANCHOR_END: acl_perm

/// One account as the file (and GET_BROKER_CLUSTER_ACL_CONFIG) spells it
/// (`PlainAccessConfig`). Serialised with fastjson's alphabetical keys; absent values are
/// left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlainAccessConfig {
    /// The access key (`accessKey`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    /// Whether the account may send admin-only codes (`admin`).
    pub admin: bool,
    /// Permission on groups not listed (`defaultGroupPerm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_group_perm: Option<String>,
    /// Permission on topics not listed (`defaultTopicPerm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_topic_perm: Option<String>,
    /// `group=PERM` items (`groupPerms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_perms: Option<Vec<String>>,
    /// The HMAC key (`secretKey`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<String>,
    /// `topic=PERM` items (`topicPerms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_perms: Option<Vec<String>>,
    /// Addresses that skip signature and permission checks (`whiteRemoteAddress`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub white_remote_address: Option<String>,
}

/// One account compiled for checking (`PlainAccessResource` as the manager keeps it).
#[derive(Debug, Clone)]
pub struct Account {
    /// The access key.
    pub access_key: String,
    /// The HMAC key.
    pub secret_key: String,
    /// Clients of this account from these addresses skip signature and permission checks.
    pub white: AddressPattern,
    /// May send the admin-only codes; with no per-resource perms at all it passes every
    /// resource check.
    pub admin: bool,
    /// Permission bits on topics not listed.
    pub default_topic_perm: u8,
    /// Permission bits on groups not listed.
    pub default_group_perm: u8,
    /// Listed resources: topic names, and groups as `%RETRY%<group>`. `None` when the
    /// account lists none (4.8.0's null map, which lets an admin pass).
    pub perms: Option<HashMap<String, u8>>,
}

/// Everything a broker checks against: the file as last loaded successfully.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// `globalWhiteRemoteAddresses`, compiled.
    pub global_white: Vec<AddressPattern>,
    /// Accounts by access key.
    pub accounts: HashMap<String, Account>,
    /// The file's `dataVersion`, if it has one.
    pub data_version: Option<DataVersion>,
}

/// Why a file is refused; the text is 4.8.0's exception message where it has one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BadFile(pub String);

/// A YAML scalar as fastjson turns it into a `String` (numbers and booleans as text).
pub fn yaml_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A YAML value as fastjson turns it into a `boolean` (missing or null: false).
fn yaml_bool(v: Option<&Value>, what: &str) -> Result<bool, BadFile> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) => Ok(n.as_i64() == Some(1)),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "y" | "t" | "1" | "yes" | "on" => Ok(true),
            "false" | "n" | "f" | "0" | "no" | "off" | "" => Ok(false),
            _ => Err(BadFile(format!("can not cast to boolean, {what}: {s}"))),
        },
        Some(other) => Err(BadFile(format!(
            "can not cast to boolean, {what}: {other:?}"
        ))),
    }
}

/// A YAML list of scalars (missing or null: `None`).
fn yaml_list(v: Option<&Value>, what: &str) -> Result<Option<Vec<String>>, BadFile> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|i| {
                yaml_string(i).ok_or_else(|| BadFile(format!("{what}: {i:?} is not a string")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(BadFile(format!("{what} is not a list: {other:?}"))),
    }
}

impl PlainAccessConfig {
    /// One entry of `accounts`, read leniently as fastjson's `toJavaList` does.
    pub fn from_yaml(v: &Value) -> Result<Self, BadFile> {
        let map = v
            .as_mapping()
            .ok_or_else(|| BadFile(format!("an account is not a mapping: {v:?}")))?;
        let s = |k: &str| map.get(k).and_then(yaml_string);
        Ok(PlainAccessConfig {
            access_key: s("accessKey"),
            secret_key: s("secretKey"),
            white_remote_address: s("whiteRemoteAddress"),
            admin: yaml_bool(map.get("admin"), "admin")?,
            default_topic_perm: s("defaultTopicPerm"),
            default_group_perm: s("defaultGroupPerm"),
            topic_perms: yaml_list(map.get("topicPerms"), "topicPerms")?,
            group_perms: yaml_list(map.get("groupPerms"), "groupPerms")?,
        })
    }

    /// Compiles the account (`buildPlainAccessResource`).
    pub fn compile(&self) -> Result<Account, BadFile> {
        let (ak, sk) = match (&self.access_key, &self.secret_key) {
            (Some(ak), Some(sk)) if ak.chars().count() > 6 && sk.chars().count() > 6 => (ak, sk),
            _ => {
                return Err(BadFile(format!(
                "The accessKey={} and secretKey={} cannot be null and length should longer than 6",
                java_str(&self.access_key),
                java_str(&self.secret_key)
            )))
            }
        };
        let mut perms: Option<HashMap<String, u8>> = None;
        for (is_topic, list) in [(false, &self.group_perms), (true, &self.topic_perms)] {
            for item in list.iter().flatten() {
                // StringUtils.split drops empty pieces: "a==PUB" is two items, "=PUB" one
                let parts: Vec<&str> = item.split('=').filter(|p| !p.is_empty()).collect();
                if parts.len() != 2 {
                    return Err(BadFile(format!(
                        "Parse resource permission failed for {}:{item}",
                        if is_topic { "topic" } else { "group" }
                    )));
                }
                let name = parts[0].trim();
                let resource = if is_topic {
                    name.to_string()
                } else {
                    format!("{RETRY_PREFIX}{name}")
                };
                perms
                    .get_or_insert_with(HashMap::new)
                    .insert(resource, parse_perm(Some(parts[1])));
            }
        }
        Ok(Account {
            access_key: ak.clone(),
            secret_key: sk.clone(),
            white: AddressPattern::parse(self.white_remote_address.as_deref())
                .map_err(|e| BadFile(e.0))?,
            admin: self.admin,
            default_topic_perm: parse_perm(self.default_topic_perm.as_deref()),
            default_group_perm: parse_perm(self.default_group_perm.as_deref()),
            perms,
        })
    }
}

/// How Java's `String.format("%s", null)` prints a missing value.
fn java_str(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("null")
}

/// The file's top-level mapping; `None` when the file holds no data (empty, a comment, or a
/// scalar), which 4.8.0 reports as `<path> file is not data`.
pub fn parse_document(text: &str) -> Result<Option<serde_yaml::Mapping>, BadFile> {
    let doc: Value = serde_yaml::from_str(text).map_err(|e| BadFile(e.to_string()))?;
    match doc {
        Value::Null => Ok(None),
        Value::Mapping(m) if m.is_empty() => Ok(None),
        Value::Mapping(m) => Ok(Some(m)),
        other => Err(BadFile(format!(
            "the file is not a YAML mapping but {other:?}"
        ))),
    }
}

impl Rules {
    /// Builds the rules from the file's text; `path` only names the file in errors.
    pub fn from_yaml(text: &str, path: &str) -> Result<Rules, BadFile> {
        let doc =
            parse_document(text)?.ok_or_else(|| BadFile(format!("{path} file is not data")))?;
        let mut rules = Rules::default();
        for p in yaml_list(
            doc.get("globalWhiteRemoteAddresses"),
            "globalWhiteRemoteAddresses",
        )?
        .unwrap_or_default()
        {
            rules
                .global_white
                .push(AddressPattern::parse(Some(&p)).map_err(|e| BadFile(e.0))?);
        }
        match doc.get("accounts") {
            None | Some(Value::Null) => {}
            Some(Value::Sequence(items)) => {
                for item in items {
                    let account = PlainAccessConfig::from_yaml(item)?.compile()?;
                    rules.accounts.insert(account.access_key.clone(), account);
                }
            }
            Some(other) => return Err(BadFile(format!("accounts is not a list: {other:?}"))),
        }
        if let Some(Value::Sequence(v)) = doc.get("dataVersion") {
            if let Some(Value::Mapping(first)) = v.first() {
                let n = |k: &str| {
                    first
                        .get(k)
                        .and_then(yaml_string)
                        .and_then(|s| s.parse().ok())
                };
                rules.data_version = Some(DataVersion {
                    counter: n("counter").unwrap_or(0),
                    timestamp: n("timestamp").unwrap_or(0),
                });
            }
        }
        Ok(rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 4.8.0's distribution/conf/plain_acl.yml, as shipped (comments left out).
    const SAMPLE: &str = "globalWhiteRemoteAddresses:\n- 10.10.103.*\n- 192.168.0.*\n\naccounts:\n- accessKey: RocketMQ\n  secretKey: 12345678\n  whiteRemoteAddress:\n  admin: false\n  defaultTopicPerm: DENY\n  defaultGroupPerm: SUB\n  topicPerms:\n  - topicA=DENY\n  - topicB=PUB|SUB\n  - topicC=SUB\n  groupPerms:\n  - groupA=DENY\n  - groupB=PUB|SUB\n  - groupC=SUB\n\n- accessKey: rocketmq2\n  secretKey: 12345678\n  whiteRemoteAddress: 192.168.1.*\n  admin: true\n";

    #[test]
    fn the_sample_file_loads_as_4_8_0_reads_it() {
        let r = Rules::from_yaml(SAMPLE, "plain_acl.yml").unwrap();
        assert_eq!(r.global_white.len(), 2);
        let a = &r.accounts["RocketMQ"];
        assert_eq!(a.secret_key, "12345678", "a number becomes its text");
        assert!(!a.admin);
        assert_eq!(a.default_topic_perm, DENY);
        assert_eq!(a.default_group_perm, SUB);
        let perms = a.perms.as_ref().unwrap();
        assert_eq!(perms["topicB"], PUB | SUB);
        assert_eq!(perms["%RETRY%groupA"], DENY);
        let admin = &r.accounts["rocketmq2"];
        assert!(admin.admin && admin.perms.is_none());
        assert_eq!(admin.default_topic_perm, DENY, "missing perm is DENY");
    }

    #[test]
    fn perm_strings_and_checks_follow_permission_java() {
        assert_eq!(parse_perm(Some(" SUB|PUB ")), PUB | SUB);
        assert_eq!(parse_perm(Some("pub")), DENY);
        assert_eq!(parse_perm(None), DENY);
        assert!(check_perm(PUB, PUB | SUB));
        assert!(!check_perm(SUB, PUB));
        assert!(!check_perm(PUB, DENY | PUB));
        assert!(check_perm(ANY, SUB));
    }

    #[test]
    fn bad_files_say_what_4_8_0_says() {
        let short = "accounts:\n- accessKey: abc\n  secretKey: 12345678\n";
        assert_eq!(
            Rules::from_yaml(short, "f").unwrap_err().0,
            "The accessKey=abc and secretKey=12345678 cannot be null and length should longer than 6"
        );
        let item =
            "accounts:\n- accessKey: abcdefg\n  secretKey: 12345678\n  topicPerms: [topicA]\n";
        assert_eq!(
            Rules::from_yaml(item, "f").unwrap_err().0,
            "Parse resource permission failed for topic:topicA"
        );
        assert_eq!(
            Rules::from_yaml("# nothing\n", "/x/conf/plain_acl.yml")
                .unwrap_err()
                .0,
            "/x/conf/plain_acl.yml file is not data"
        );
        assert!(Rules::from_yaml("accounts: [\n", "f").is_err());
        assert!(Rules::from_yaml("globalWhiteRemoteAddresses: [10.0.0.300]\n", "f").is_err());
    }
}
