//! The ACL request signature, computed the same way on both sides of a connection: a client
//! signs a request with its secret key, a broker with ACL on recomputes the signature with
//! the secret key it has for the request's `AccessKey` and compares.
//!
//! What is signed: the extFields of the request (the custom header's fields, plus
//! `AccessKey` and `SecurityToken`), sorted by key in Java `String` order, their **values**
//! concatenated (keys are not part of it), then the raw body bytes. Two keys never count:
//! `Signature` itself and `_UNIQUE_KEY_QUERY`, which the Java client adds outside the header
//! and so never signs. The signature is Base64 (standard alphabet, padded) of
//! HMAC-SHA1(key = secret key in UTF-8, data = that content).
//!
//! One module serves both sides so they cannot drift: rmq-client's `acl::AclSigner` calls
//! [`sign_request`], the broker's validator calls [`content`] and [`signature`].
//! Book: Part II, "Who may do what: ACL". Mirrors `AclClientRPCHook.doBeforeRequest`,
//! `AclUtils.combineRequestContent`, `AclSigner.calSignature` and the content part of
//! `PlainAccessValidator.parse` (4.8.0).

use crate::command::RemotingCommand;
use base64::Engine;
use hmac::{Hmac, Mac};
use std::cmp::Ordering;
use std::collections::HashMap;

/// extFields key of the access key (`SessionCredentials.ACCESS_KEY`).
pub const ACCESS_KEY: &str = "AccessKey";
/// extFields key of the signature (`SessionCredentials.SIGNATURE`).
pub const SIGNATURE: &str = "Signature";
/// extFields key of the optional security token (`SessionCredentials.SECURITY_TOKEN`).
pub const SECURITY_TOKEN: &str = "SecurityToken";
/// The one extFields key a 4.8.0 client sends unsigned (`MixAll.UNIQUE_MSG_QUERY_FLAG`).
pub const UNSIGNED_UNIQUE_KEY_QUERY: &str = "_UNIQUE_KEY_QUERY";

/// Java's `String.compareTo`: UTF-16 code units, not bytes (they differ only above U+FFFF
/// against U+E000..U+FFFF, but a `TreeMap` on the other side orders that way).
pub fn java_string_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

// ANCHOR: acl_content
/// The bytes that are signed: the values of `ext_fields` (without `Signature` and
/// `_UNIQUE_KEY_QUERY`) in Java key order, concatenated, then `body`.
pub fn content(ext_fields: &HashMap<String, String>, body: &[u8]) -> Vec<u8> {
    let mut fields: Vec<(&String, &String)> = ext_fields
        .iter()
        .filter(|(k, _)| k.as_str() != SIGNATURE && k.as_str() != UNSIGNED_UNIQUE_KEY_QUERY)
        .collect();
    fields.sort_by(|a, b| java_string_cmp(a.0, b.0));
    let mut out = Vec::with_capacity(body.len() + 64 * fields.len());
    for (_, v) in fields {
        out.extend_from_slice(v.as_bytes());
    }
    out.extend_from_slice(body);
    out
}

/// Base64(HMAC-SHA1(secret_key, content)).
pub fn signature(content: &[u8], secret_key: &str) -> String {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret_key.as_bytes())
        .expect("HMAC accepts any key length");
    mac.update(content);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}
// ANCHOR_END: acl_content

// ANCHOR: acl_sign_request
/// Signs `cmd` as `AclClientRPCHook` does: puts `AccessKey` (and `SecurityToken` when
/// given), then `Signature` over the header fields, those keys and the body.
pub fn sign_request(
    cmd: &mut RemotingCommand,
    access_key: &str,
    secret_key: &str,
    security_token: Option<&str>,
) {
    cmd.ext_fields.remove(SIGNATURE);
    cmd.ext_fields
        .insert(ACCESS_KEY.to_string(), access_key.to_string());
    if let Some(t) = security_token {
        cmd.ext_fields
            .insert(SECURITY_TOKEN.to_string(), t.to_string());
    }
    let body = cmd.body.as_deref().unwrap_or(&[]);
    let sig = signature(&content(&cmd.ext_fields, body), secret_key);
    cmd.ext_fields.insert(SIGNATURE.to_string(), sig);
}
// ANCHOR_END: acl_sign_request

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha1_matches_rfc_2202_case_2() {
        // RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?",
        // digest effcdf6ae5eb2fa2d27416d5f184df9c259a7c79.
        assert_eq!(
            signature(b"what do ya want for nothing?", "Jefe"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
    }

    #[test]
    fn content_is_values_in_key_order_then_body_without_signature_and_unique_flag() {
        let mut ext = HashMap::new();
        ext.insert("topic".to_string(), "T".to_string());
        ext.insert("AccessKey".to_string(), "ak".to_string());
        ext.insert("b".to_string(), "B".to_string());
        ext.insert(SIGNATURE.to_string(), "x".to_string());
        ext.insert(UNSIGNED_UNIQUE_KEY_QUERY.to_string(), "true".to_string());
        // Java order: uppercase before lowercase
        assert_eq!(content(&ext, b"!"), b"akBT!".to_vec());
    }

    #[test]
    fn java_order_is_utf16_order() {
        // U+FF61 sorts before U+10000 in UTF-16 (0xFF61 < 0xD800 is false: 0xD800 < 0xFF61),
        // so the supplementary character comes first, unlike byte order.
        assert_eq!(java_string_cmp("\u{10000}", "\u{FF61}"), Ordering::Less);
        assert_eq!("\u{10000}".cmp("\u{FF61}"), Ordering::Greater);
    }

    #[test]
    fn a_signed_request_verifies_and_a_changed_field_does_not() {
        let mut cmd = RemotingCommand::new_request(10)
            .with_ext("topic", "T")
            .with_body(bytes::Bytes::from_static(b"hello"));
        sign_request(&mut cmd, "RocketMQ", "12345678", None);
        let sig = cmd.ext_fields[SIGNATURE].clone();
        let again = signature(&content(&cmd.ext_fields, b"hello"), "12345678");
        assert_eq!(sig, again);
        cmd.ext_fields.insert("topic".into(), "U".into());
        assert_ne!(
            sig,
            signature(&content(&cmd.ext_fields, b"hello"), "12345678")
        );
    }
}
