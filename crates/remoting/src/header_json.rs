//! The JSON header encoding (serialize type 0).
//!
//! Writing: we produce what Java 4.8.0 produces (fastjson, properties in alphabetical
//! order, `remark`/`extFields` omitted when unset, `serializeTypeCurrentRPC` included,
//! every extFields value a JSON string — the C++ client accepts nothing else).
//! Reading: we accept what any client sends: unknown keys, a missing
//! `serializeTypeCurrentRPC`, numbers and booleans as extFields values (C++), numbers
//! written as strings, and language given by name or by number.
//! Book: Appendix "Wire protocol". Mirrors `RemotingSerializable` + `RemotingCommand`'s
//! JSON path (`headerEncode`/`headerDecode`).

use serde_json::{Map, Value};

use crate::command::RemotingCommand;
use crate::error::RemotingError;
use crate::language::{LanguageCode, SerializeType};

// ANCHOR: json_encode
/// Encodes the header of `cmd` as compact JSON bytes.
pub fn encode(cmd: &RemotingCommand) -> Vec<u8> {
    let mut out = String::with_capacity(128);
    out.push_str("{\"code\":");
    out.push_str(&cmd.code.to_string());
    if !cmd.ext_fields.is_empty() {
        out.push_str(",\"extFields\":{");
        // Sorted for stable output; Java's HashMap order carries no meaning.
        let mut keys: Vec<&String> = cmd.ext_fields.keys().collect();
        keys.sort();
        for (i, key) in keys.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_string(&mut out, key);
            out.push(':');
            push_json_string(&mut out, &cmd.ext_fields[key]);
        }
        out.push('}');
    }
    out.push_str(",\"flag\":");
    out.push_str(&cmd.flag.to_string());
    out.push_str(",\"language\":\"");
    out.push_str(cmd.language.name());
    out.push_str("\",\"opaque\":");
    out.push_str(&cmd.opaque.to_string());
    if let Some(remark) = &cmd.remark {
        out.push_str(",\"remark\":");
        push_json_string(&mut out, remark);
    }
    out.push_str(",\"serializeTypeCurrentRPC\":\"");
    out.push_str(SerializeType::Json.name());
    out.push_str("\",\"version\":");
    out.push_str(&cmd.version.to_string());
    out.push('}');
    out.into_bytes()
}
// ANCHOR_END: json_encode

fn push_json_string(out: &mut String, s: &str) {
    // serde_json's string escaping cannot fail for a &str.
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

/// Decodes a JSON header. The body is left empty; the codec attaches it.
pub fn decode(bytes: &[u8]) -> Result<RemotingCommand, RemotingError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| RemotingError::MalformedHeader(format!("json header: {e}")))?;
    let Value::Object(obj) = value else {
        return Err(RemotingError::MalformedHeader(
            "json header is not an object".into(),
        ));
    };
    let mut cmd = RemotingCommand {
        code: int_field(&obj, "code")?,
        version: int_field(&obj, "version")?,
        opaque: int_field(&obj, "opaque")?,
        flag: int_field(&obj, "flag")?,
        serialize_type: SerializeType::Json,
        ..Default::default()
    };
    cmd.language = match obj.get("language") {
        Some(Value::String(name)) => LanguageCode::from_name(name),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|c| u8::try_from(c).ok())
            .map(LanguageCode::from_code)
            .unwrap_or(LanguageCode::Other),
        _ => LanguageCode::Other,
    };
    cmd.remark = match obj.get("remark") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    match obj.get("extFields") {
        None | Some(Value::Null) => {}
        Some(Value::Object(ext)) => {
            for (key, value) in ext {
                if let Some(text) = ext_value_to_string(value) {
                    cmd.ext_fields.insert(key.clone(), text);
                }
            }
        }
        Some(_) => {
            return Err(RemotingError::MalformedHeader(
                "extFields is not an object".into(),
            ))
        }
    }
    Ok(cmd)
}

/// Coerces an extFields value to the string Java would have had (`null` is skipped).
fn ext_value_to_string(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// An int header field given as a number or a numeric string; absent means 0.
fn int_field(obj: &Map<String, Value>, key: &str) -> Result<i32, RemotingError> {
    let bad = |v: &Value| RemotingError::MalformedHeader(format!("header field {key}: {v}"));
    match obj.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(v @ Value::Number(n)) => n
            .as_i64()
            .and_then(|x| i32::try_from(x).ok())
            .ok_or_else(|| bad(v)),
        Some(v @ Value::String(s)) => s.trim().parse::<i32>().map_err(|_| bad(v)),
        Some(v) => Err(bad(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_java() {
        let cmd = RemotingCommand::new_request(105)
            .with_ext("topic", "TopicTest")
            .with_opaque(1);
        let text = String::from_utf8(encode(&cmd)).unwrap();
        // The spec's worked example (section 11): 131 bytes.
        assert_eq!(
            text,
            r#"{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":373}"#
        );
        assert_eq!(text.len(), 131);
    }

    #[test]
    fn decodes_cpp_style_header() {
        let text = br#"{"code":11,"language":"CPP","version":333,"opaque":7,"flag":0,"remark":"",
            "extFields":{"queueId":3,"sysFlag":0,"commitOffset":"-1","suspend":true,"x":null,"Signature":""}}"#;
        let cmd = decode(text).unwrap();
        assert_eq!(cmd.code, 11);
        assert_eq!(cmd.language, LanguageCode::Cpp);
        assert_eq!(cmd.version, 333);
        assert_eq!(cmd.opaque, 7);
        assert_eq!(cmd.remark.as_deref(), Some(""));
        assert_eq!(cmd.ext("queueId"), Some("3"));
        assert_eq!(cmd.ext("suspend"), Some("true"));
        assert_eq!(cmd.ext("commitOffset"), Some("-1"));
        assert_eq!(cmd.ext("x"), None);
        assert_eq!(cmd.ext("Signature"), Some(""));
    }

    #[test]
    fn rejects_non_objects_and_bad_numbers() {
        assert!(decode(b"[1,2]").is_err());
        assert!(decode(b"{\"code\":\"abc\"}").is_err());
        assert!(decode(b"{\"code\":99999999999}").is_err());
        assert!(decode(b"{\"code\":1,\"extFields\":3}").is_err());
        assert!(decode(b"not json").is_err());
        assert_eq!(
            decode(b"{\"code\":\"17\",\"language\":9}").unwrap().code,
            17
        );
    }
}
