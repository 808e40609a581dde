//! The rule "no header key string literal outside rmq-remoting" (issue 12), checked.
//!
//! Every request header is a typed struct in `rmq_remoting::protocol::header`, and its
//! extFields keys are spelled once, in the `command_header!` declaration. A crate that wrote
//! `ext.insert("consumerGroup".into(), ..)` or `ext.get("queueId")` would bypass the types:
//! the compiler could not follow a renamed or added field, and the lenient decoding rules
//! would be written a second time. This test reads every `.rs` file of the workspace outside
//! `crates/remoting` and fails on a string literal that is exactly a key of a request header
//! of the code table ([`REQUEST_CODES`]).
//!
//! What does not count:
//! - keys shorter than four characters (`SendMessageRequestHeaderV2`'s `a`..`n`, which are
//!   everywhere in ordinary code);
//! - comments (where the book and the docs name keys on purpose);
//! - a literal followed by `:`, such as `json!({"topic": t})`: a JSON body field (4.8.0's
//!   bodies and the console's API share many names with the headers);
//! - a literal after `rename =` or `alias =`: a serde attribute naming a JSON field;
//! - a literal inside a raw string (`r#"{"topic":"t"}"#`): JSON text, not a key.
//!
//! - the places in [`NOT_HEADERS`]: files where the same names mean something else (a
//!   broker.conf key, a field of a JSON file or of a properties body), each with its reason.
//!
//! A test that must send a header with one field missing on purpose takes the key from the
//! table: `PullMessageRequestHeader::INFO.key_of("queue_id")`.

use rmq_remoting::protocol::header::REQUEST_CODES;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Files whose literals share a name with a header key but are not header keys: the file
/// (from the repository root), the names, and why. A listed name the file no longer holds
/// fails the test, so the list cannot go stale.
const NOT_HEADERS: &[(&str, &[&str], &str)] = &[
    (
        "crates/broker/src/config/keys.rs",
        &["brokerName", "brokerId", "defaultTopicQueueNums"],
        "broker.conf keys (4.8.0 BrokerConfig field names)",
    ),
    (
        "crates/broker/src/config/mod.rs",
        &["defaultTopicQueueNums"],
        "a broker.conf key named in a config error",
    ),
    (
        "crates/broker/src/filter/manager.rs",
        &["consumerGroup", "expressionType"],
        "fields of consumerFilter.json (4.8.0 ConsumerFilterData)",
    ),
    (
        "crates/client/src/consumer/push/relayed.rs",
        &["consumerGroup", "maxReconsumeTimes", "unitMode"],
        "ConsumerRunningInfo properties (DefaultMQPushConsumer field names)",
    ),
    (
        "crates/broker/src/acl/rules.rs",
        &[
            "accessKey",
            "secretKey",
            "whiteRemoteAddress",
            "defaultTopicPerm",
            "defaultGroupPerm",
            "topicPerms",
            "groupPerms",
        ],
        "fields of an account in plain_acl.yml (4.8.0 PlainAccessConfig, read by SnakeYAML)",
    ),
    (
        "crates/admin/src/commands/acl_get_config.rs",
        &[
            "accessKey",
            "secretKey",
            "whiteRemoteAddress",
            "defaultTopicPerm",
            "defaultGroupPerm",
            "topicPerms",
            "groupPerms",
        ],
        "row labels of getAccessConfigSubCommand's output (4.8.0 prints the field names)",
    ),
    (
        "crates/broker/src/acl/admin.rs",
        &[
            "accessKey",
            "secretKey",
            "whiteRemoteAddress",
            "defaultTopicPerm",
            "defaultGroupPerm",
            "topicPerms",
            "groupPerms",
        ],
        "fields of an account written into plain_acl.yml (codes 50-54 edit the file)",
    ),
    (
        "crates/broker/src/acl/resource.rs",
        &["originTopic", "consumerGroup"],
        "4.8.0's PlainAccessValidator.parse reads raw extFields by name, before any header is decoded",
    ),
    (
        "crates/client/src/acl.rs",
        &["accessKey", "secretKey"],
        "keys of conf/tools.yml (4.8.0 MQAdminStartup reads them with SnakeYAML)",
    ),
];

/// The extFields keys of every request header that are compound camelCase names.
fn request_header_keys() -> BTreeSet<&'static str> {
    REQUEST_CODES
        .iter()
        .filter_map(|row| row.request.as_ref())
        .flat_map(|info| info.fields.iter().map(|f| f.key))
        .filter(|k| k.chars().any(|c| c.is_ascii_uppercase()))
        .collect()
}

/// One string literal of a source file: its text, its line, and what stands around it.
struct Literal {
    text: String,
    line: usize,
    /// The source just before the opening quote (same line).
    before: String,
    /// The first character after the closing quote that is not a space.
    after: Option<char>,
}

/// The ordinary (not raw) string literals of Rust source `src`, comments skipped.
fn string_literals(src: &str) -> Vec<Literal> {
    let chars: Vec<char> = src.chars().collect();
    let (mut out, mut i, mut line, mut line_start) = (Vec::new(), 0, 1, 0);
    let newline = |c: char, i: usize, line: &mut usize, line_start: &mut usize| {
        if c == '\n' {
            *line += 1;
            *line_start = i + 1;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                newline(chars[i], i, &mut line, &mut line_start);
                i += 1;
            }
            i += 2;
        } else if c == 'r' && matches!(next, Some('"') | Some('#')) && !ident_before(&chars, i) {
            // raw string: r"..", r#".."#, br#".."#
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                i += 1;
                continue;
            }
            j += 1;
            loop {
                match chars.get(j) {
                    None => break,
                    Some('"') if (1..=hashes).all(|h| chars.get(j + h) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    Some(&ch) => {
                        newline(ch, j, &mut line, &mut line_start);
                        j += 1;
                    }
                }
            }
            i = j;
        } else if c == '"' {
            let (start_line, before) = (line, chars[line_start..i].iter().collect());
            let mut j = i + 1;
            let mut text = String::new();
            while let Some(&ch) = chars.get(j) {
                match ch {
                    '\\' => {
                        text.push(ch);
                        if let Some(&esc) = chars.get(j + 1) {
                            text.push(esc);
                            newline(esc, j + 1, &mut line, &mut line_start);
                        }
                        j += 2;
                    }
                    '"' => break,
                    _ => {
                        text.push(ch);
                        newline(ch, j, &mut line, &mut line_start);
                        j += 1;
                    }
                }
            }
            let after = chars[(j + 1).min(chars.len())..]
                .iter()
                .copied()
                .find(|c| !c.is_whitespace());
            out.push(Literal {
                text,
                line: start_line,
                before,
                after,
            });
            i = j + 1;
        } else if c == '\'' {
            // a char literal ('x', '\n', '"') or a lifetime ('a)
            i += match (next, chars.get(i + 2)) {
                (Some('\\'), _) => {
                    let mut j = i + 2;
                    while j < chars.len() && chars[j] != '\'' {
                        j += 1;
                    }
                    j + 1 - i
                }
                (Some(_), Some('\'')) => 3,
                _ => 1,
            };
        } else {
            newline(c, i, &mut line, &mut line_start);
            i += 1;
        }
    }
    out
}

/// Whether the character before `i` continues an identifier (so `r` is not a raw prefix).
fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && {
        let p = chars[i - 1];
        (p.is_alphanumeric() || p == '_') && p != 'b'
    }
}

/// Whether a literal names a JSON field rather than a header key (see the module doc).
fn is_json_field(lit: &Literal) -> bool {
    let before = lit.before.trim_end();
    lit.after == Some(':')
        || (before.ends_with('[') && lit.after == Some(']'))
        || ["rename =", "alias =", "long ="]
            .iter()
            .any(|attr| before.ends_with(attr))
}

/// Every `.rs` file under `dir`, `target/` directories skipped.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && !name.to_string_lossy().starts_with('.') {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_lexer_finds_keys_and_skips_comments_raw_strings_and_json_fields() {
    let src = "// \"topic\"\nlet a = \"consumerGroup\"; /* \"queueId\" */ let c = 'x';\n\
               let j = json!({\"topic\": t}); let r = r#\"{\"topic\":1}\"#;\n\
               #[serde(rename = \"queueId\")] let s = \"a\\\"b\"; 'l: loop {}\n";
    let lits = string_literals(src);
    let texts: Vec<&str> = lits.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["consumerGroup", "topic", "queueId", "a\\\"b"]);
    assert_eq!(lits[0].line, 2);
    let keys: Vec<&str> = lits
        .iter()
        .filter(|l| !is_json_field(l))
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(keys, ["consumerGroup", "a\\\"b"]);
}

#[test]
fn no_request_header_key_is_spelled_outside_rmq_remoting() {
    let keys = request_header_keys();
    assert!(keys.contains("consumerGroup") && keys.contains("queueId"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let remoting = root.join("crates/remoting").canonicalize().unwrap();
    let mut files = Vec::new();
    for dir in ["crates", "experiments", "labs"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 50, "found {} files", files.len());
    let mut found = Vec::new();
    let mut exempt_used = BTreeSet::new();
    for file in files {
        let file = file.canonicalize().unwrap();
        if file.starts_with(&remoting) {
            continue;
        }
        let src = std::fs::read_to_string(&file).unwrap();
        let shown = file.strip_prefix(root.canonicalize().unwrap()).unwrap();
        let exempt = NOT_HEADERS
            .iter()
            .find(|(path, _, _)| Path::new(path) == shown);
        for lit in string_literals(&src) {
            if !keys.contains(lit.text.as_str()) || is_json_field(&lit) {
                continue;
            }
            if let Some((path, names, _)) = exempt.filter(|e| e.1.contains(&lit.text.as_str())) {
                exempt_used.insert((*path, names.iter().position(|n| *n == lit.text)));
            } else {
                found.push(format!(
                    "{}:{}: \"{}\"",
                    shown.display(),
                    lit.line,
                    lit.text
                ));
            }
        }
    }
    for (path, names, why) in NOT_HEADERS {
        for (i, name) in names.iter().enumerate() {
            assert!(
                exempt_used.contains(&(*path, Some(i))),
                "NOT_HEADERS lists \"{name}\" in {path} ({why}), which no longer holds it"
            );
        }
    }
    assert!(
        found.is_empty(),
        "request header keys spelled outside rmq-remoting (use the typed headers of \
         rmq_remoting::protocol::header, or HeaderInfo::key_of):\n{}",
        found.join("\n")
    );
}
