//! `RemotingCommand`: one request or response, the unit every RocketMQ frame carries.
//!
//! A command is a small fixed header (code, language, version, opaque, flag, remark),
//! a string map called `extFields` that holds the operation's "custom header", and an
//! optional opaque body. The Java client turns its typed `*RequestHeader` classes into
//! `extFields` strings; here the same classes are the structs of `protocol::header`, read
//! with `decode_header` and written with `with_header`. The older per-key getters below
//! (`required_ext`, `ext_i32`, ...) remain for code not yet moved to the typed headers.
//! Book: Appendix "Wire protocol". Mirrors `org.apache.rocketmq.remoting.protocol.RemotingCommand`.

use std::collections::HashMap;
use std::str::FromStr;

use bytes::Bytes;

use crate::codes::VERSION;
use crate::error::HeaderError;
use crate::language::{LanguageCode, SerializeType};

// ANCHOR: flags
/// Flag bit 0: this command is a response.
pub const FLAG_RESPONSE: i32 = 0x1;
/// Flag bit 1: this request wants no response.
pub const FLAG_ONEWAY: i32 = 0x2;
// ANCHOR_END: flags

/// What `new_response` accepts as a remark.
pub trait IntoRemark {
    /// The remark to store (`None`: no remark).
    fn into_remark(self) -> Option<String>;
}

impl IntoRemark for Option<String> {
    fn into_remark(self) -> Option<String> {
        self
    }
}

impl IntoRemark for String {
    fn into_remark(self) -> Option<String> {
        Some(self)
    }
}

impl IntoRemark for &str {
    fn into_remark(self) -> Option<String> {
        Some(self.to_string())
    }
}

// ANCHOR: command_struct
/// One request or response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotingCommand {
    /// On a request the operation (`codes::request`), on a response the outcome
    /// (`codes::response`).
    pub code: i32,
    /// The sender's implementation language.
    pub language: LanguageCode,
    /// The sender's version ordinal (`MQVersion.Version`; 373 = V4_8_0).
    pub version: i32,
    /// Request id; a response carries the opaque of the request it answers.
    pub opaque: i32,
    /// Bit 0 ([`FLAG_RESPONSE`]): a response; bit 1 ([`FLAG_ONEWAY`]): no response wanted.
    pub flag: i32,
    /// Free text, usually the error message of a failed response.
    pub remark: Option<String>,
    /// The custom header as strings (`extFields`); read and write it through the typed
    /// headers of `protocol::header`.
    pub ext_fields: HashMap<String, String>,
    /// The body: a message, a JSON document, or nothing.
    pub body: Option<Bytes>,
    /// How the header is (or will be) encoded on the wire.
    pub serialize_type: SerializeType,
}
// ANCHOR_END: command_struct

impl Default for RemotingCommand {
    fn default() -> Self {
        RemotingCommand {
            code: 0,
            language: LanguageCode::Java,
            version: VERSION,
            opaque: 0,
            flag: 0,
            remark: None,
            ext_fields: HashMap::new(),
            body: None,
            serialize_type: SerializeType::Json,
        }
    }
}

impl RemotingCommand {
    /// A request with the given code; the opaque is assigned when it is sent.
    pub fn new_request(code: i32) -> Self {
        RemotingCommand {
            code,
            ..Default::default()
        }
    }

    /// A response with the given code and remark (`None`, a `&str`, a `String` or an
    /// `Option<String>`); the server fills opaque and flag.
    pub fn new_response(code: i32, remark: impl IntoRemark) -> Self {
        RemotingCommand {
            code,
            flag: FLAG_RESPONSE,
            remark: remark.into_remark(),
            ..Default::default()
        }
    }

    /// Flag bit 0 is set.
    pub fn is_response(&self) -> bool {
        self.flag & FLAG_RESPONSE != 0
    }

    /// Flag bit 1 is set.
    pub fn is_oneway(&self) -> bool {
        self.flag & FLAG_ONEWAY != 0
    }

    /// Sets flag bit 1: the receiver must not answer.
    pub fn mark_oneway(&mut self) {
        self.flag |= FLAG_ONEWAY;
    }

    /// Sets flag bit 0.
    pub fn mark_response(&mut self) {
        self.flag |= FLAG_RESPONSE;
    }

    /// Builder: add one extFields entry (any `ToString` value, stored as Java would).
    pub fn with_ext(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.ext_fields.insert(key.into(), value.to_string());
        self
    }

    /// Builder: attach a body.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Builder: set the remark.
    pub fn with_remark(mut self, remark: impl Into<String>) -> Self {
        self.remark = Some(remark.into());
        self
    }

    /// Builder: set the opaque.
    pub fn with_opaque(mut self, opaque: i32) -> Self {
        self.opaque = opaque;
        self
    }

    /// Insert one extFields entry in place.
    pub fn put_ext(&mut self, key: impl Into<String>, value: impl ToString) {
        self.ext_fields.insert(key.into(), value.to_string());
    }

    /// The raw extFields value.
    pub fn ext(&self, key: &str) -> Option<&str> {
        self.ext_fields.get(key).map(String::as_str)
    }

    /// The value, or `HeaderError::Missing` naming the field.
    pub fn required_ext(&self, key: &str) -> Result<&str, HeaderError> {
        self.ext(key)
            .ok_or_else(|| HeaderError::Missing(key.to_string()))
    }

    /// The body as a slice (empty when absent).
    pub fn body_bytes(&self) -> &[u8] {
        self.body.as_deref().unwrap_or(&[])
    }

    /// An `int` value; blank or absent is `None`, anything else that does not parse is an
    /// error.
    pub fn ext_i32(&self, key: &str) -> Result<Option<i32>, HeaderError> {
        self.ext_number(key, "int")
    }

    /// A `long` value, read like [`Self::ext_i32`].
    pub fn ext_i64(&self, key: &str) -> Result<Option<i64>, HeaderError> {
        self.ext_number(key, "long")
    }

    /// Booleans: `true`/`false` in any case, and the C++ client's `1`/`0`.
    /// (Java's `Boolean.parseBoolean` would read `"1"` as false; we follow the
    /// sender's intent instead.)
    pub fn ext_bool(&self, key: &str) -> Result<Option<bool>, HeaderError> {
        let Some(raw) = self.ext_present(key) else {
            return Ok(None);
        };
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" => Ok(Some(false)),
            _ => Err(HeaderError::Invalid {
                field: key.to_string(),
                value: raw.to_string(),
                expected: "boolean",
            }),
        }
    }

    /// [`Self::ext_i32`], with absence an error.
    pub fn required_i32(&self, key: &str) -> Result<i32, HeaderError> {
        self.ext_i32(key)?
            .ok_or_else(|| HeaderError::Missing(key.to_string()))
    }

    /// [`Self::ext_i64`], with absence an error.
    pub fn required_i64(&self, key: &str) -> Result<i64, HeaderError> {
        self.ext_i64(key)?
            .ok_or_else(|| HeaderError::Missing(key.to_string()))
    }

    /// [`Self::ext_bool`], with absence an error.
    pub fn required_bool(&self, key: &str) -> Result<bool, HeaderError> {
        self.ext_bool(key)?
            .ok_or_else(|| HeaderError::Missing(key.to_string()))
    }

    /// A present, non-blank value (clients send `""` for "unset" fields).
    fn ext_present(&self, key: &str) -> Option<&str> {
        self.ext(key).map(str::trim).filter(|v| !v.is_empty())
    }

    fn ext_number<T: FromStr>(
        &self,
        key: &str,
        expected: &'static str,
    ) -> Result<Option<T>, HeaderError> {
        let Some(raw) = self.ext_present(key) else {
            return Ok(None);
        };
        raw.parse::<T>()
            .map(Some)
            .map_err(|_| HeaderError::Invalid {
                field: key.to_string(),
                value: raw.to_string(),
                expected,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{request, response};

    #[test]
    fn flags() {
        let mut req = RemotingCommand::new_request(request::SEND_MESSAGE);
        assert!(!req.is_response() && !req.is_oneway());
        req.mark_oneway();
        assert!(req.is_oneway());
        let resp = RemotingCommand::new_response(response::SUCCESS, None);
        assert!(resp.is_response());
        assert_eq!(
            RemotingCommand::new_response(1, "x").remark.as_deref(),
            Some("x")
        );
        assert_eq!(
            RemotingCommand::new_response(1, String::from("y"))
                .remark
                .as_deref(),
            Some("y")
        );
        assert_eq!(resp.version, 373);
    }

    #[test]
    fn typed_getters_are_lenient_but_precise() {
        let cmd = RemotingCommand::new_request(10)
            .with_ext("queueId", 3)
            .with_ext("offset", " 12345678901 ")
            .with_ext("batch", "1")
            .with_ext("unitMode", "FALSE")
            .with_ext("empty", "")
            .with_ext("bad", "x1");
        assert_eq!(cmd.required_i32("queueId"), Ok(3));
        assert_eq!(cmd.required_i64("offset"), Ok(12_345_678_901));
        assert_eq!(cmd.ext_bool("batch"), Ok(Some(true)));
        assert_eq!(cmd.ext_bool("unitMode"), Ok(Some(false)));
        assert_eq!(cmd.ext_i32("empty"), Ok(None));
        assert_eq!(cmd.ext_i32("missing"), Ok(None));
        assert_eq!(
            cmd.required_i32("missing"),
            Err(HeaderError::Missing("missing".into()))
        );
        assert!(matches!(
            cmd.ext_i32("bad"),
            Err(HeaderError::Invalid { ref field, .. }) if field == "bad"
        ));
        assert!(
            cmd.ext_i32("offset").is_err(),
            "overflowing int is rejected"
        );
    }
}
