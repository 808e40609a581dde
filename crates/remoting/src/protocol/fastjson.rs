//! JSON the way fastjson 1.2.69 writes it, and a reader for what fastjson accepts.
//!
//! RocketMQ's Java side serializes bodies with fastjson, which writes non-string map
//! keys *bare*: `{"brokerAddrs":{0:"a:10911"}}`, and object keys as the object itself:
//! `{{"brokerName":"b","queueId":0,"topic":"T"}:{...}}`. That is not RFC 8259 JSON, yet
//! clients depend on it (the Go client hand-parses `brokerAddrs` and only understands
//! bare integer keys). Writing: a serde_json `Formatter` that leaves integer and
//! boolean map keys unquoted and writes `ObjectKey` keys raw. Reading: `normalize`
//! quotes bare keys so serde_json can parse, after which integer keys deserialize into
//! integer map keys as usual. Pretty output uses fastjson's style (tabs, no space after
//! the colon) for the JSON files we persist. After that, every body is read through
//! [`lenient`], which accepts what fastjson converts (enum ordinals, numbers in strings,
//! `1`/`0` booleans, missing and null fields): the C++ core's heartbeat needs all of it.
//! Book: Appendix "Wire protocol". Mirrors `RemotingSerializable` (fastjson `JSON.toJSONString`).

use std::io::{self, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

pub mod lenient;
pub use lenient::Lenient;

/// Marks a map key whose text is raw JSON to be written unquoted.
const RAW_KEY_SENTINEL: char = '\u{1}';

/// Compact fastjson-style JSON (network bodies).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    write(value, false)
}

/// Compact fastjson-style JSON as bytes.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    write(value, false).map(String::into_bytes)
}

/// Pretty fastjson-style JSON (config files: tabs, `"key":value`).
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    write(value, true)
}

fn write<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, FastjsonFormatter::new(pretty));
    value.serialize(&mut ser)?;
    // The formatter only ever writes UTF-8 taken from &str input.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// Reads a body as 4.8.0 does: the bytes decoded as UTF-8 with bad sequences replaced
/// (Java's `new String(bytes, UTF_8)`), then [`from_str`].
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    from_str(&String::from_utf8_lossy(bytes))
}

/// Parses what fastjson parses: bare integer or object map keys ([`normalize`]), then the
/// value is read into `T` with fastjson's conversions ([`lenient`]). Whitespace around the
/// value (jsoncpp's trailing newline) is fine.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    // Most bodies are strict JSON already (quoted keys): parse them as they are, and pay
    // for the rewrite only when that fails. Both paths accept the same texts.
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => serde_json::from_str(&normalize(text))?,
    };
    lenient::from_value(value)
}

/// Defines a Java enum that serializes as its constant name (as fastjson writes enums) and
/// reads back from the name or the ordinal (fastjson's `EnumDeserializer`; the C++ core
/// sends ordinals). Variants must be listed in the Java declaration order.
macro_rules! java_enum {
    ($(#[$doc:meta])* $name:ident {
        $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(
                $(#[$vdoc])*
                #[doc = concat!("\n\nJava: `", $text, "`.")]
                $variant
            ),+
        }

        impl $name {
            const ALL: &'static [$name] = &[$($name::$variant),+];
            const NAMES: &'static [&'static str] = &[$($text),+];

            /// The Java enum constant name.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a Java enum name.
            pub fn from_name(name: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.name() == name)
            }

            /// Parses a Java ordinal.
            pub fn from_ordinal(ordinal: i64) -> Option<$name> {
                usize::try_from(ordinal).ok().and_then(|i| Self::ALL.get(i).copied())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        write!(f, "a {} name or ordinal", stringify!($name))
                    }
                    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<$name, E> {
                        $name::from_name(s)
                            .or_else(|| s.trim().parse::<i64>().ok().and_then($name::from_ordinal))
                            .ok_or_else(|| E::custom(format!(
                                "invalid {} {s:?}", stringify!($name))))
                    }
                    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<$name, E> {
                        $name::from_ordinal(n).ok_or_else(|| E::custom(format!(
                            "invalid {} ordinal {n}", stringify!($name))))
                    }
                    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<$name, E> {
                        self.visit_i64(i64::try_from(n).unwrap_or(i64::MAX))
                    }
                    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, a: A) -> Result<$name, A::Error> {
                        use serde::de::VariantAccess;
                        let (name, rest): (String, _) = a.variant()?;
                        rest.unit_variant()?;
                        self.visit_str(&name)
                    }
                }
                d.deserialize_enum(stringify!($name), $name::NAMES, V)
            }
        }
    };
}
pub(crate) use java_enum;

// ANCHOR: bare_keys
/// serde_json formatter producing fastjson's quirks.
///
/// Map keys pass through `begin_string` .. `end_string`; we buffer them, and on
/// `end_string` decide: a key that was written as a number or boolean stays bare,
/// a key starting with the raw sentinel is written verbatim, anything else is quoted.
struct FastjsonFormatter {
    pretty: bool,
    indent: usize,
    has_value: bool,
    in_key: bool,
    /// The key as it will appear when quoted (escaped form).
    key_escaped: Vec<u8>,
    /// The key's raw characters (to recognize and emit raw keys).
    key_raw: String,
    key_bare: bool,
}
// ANCHOR_END: bare_keys

impl FastjsonFormatter {
    fn new(pretty: bool) -> Self {
        FastjsonFormatter {
            pretty,
            indent: 0,
            has_value: false,
            in_key: false,
            key_escaped: Vec::new(),
            key_raw: String::new(),
            key_bare: false,
        }
    }

    fn newline<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.indent {
            w.write_all(b"\t")?;
        }
        Ok(())
    }

    /// Numbers and booleans inside a key are written bare.
    fn key_scalar<W: ?Sized + Write>(&mut self, w: &mut W, text: &str) -> io::Result<()> {
        if self.in_key {
            self.key_bare = true;
            self.key_escaped.extend_from_slice(text.as_bytes());
            self.key_raw.push_str(text);
            Ok(())
        } else {
            w.write_all(text.as_bytes())
        }
    }
}

macro_rules! scalar {
    ($name:ident, $t:ty) => {
        fn $name<W: ?Sized + Write>(&mut self, w: &mut W, value: $t) -> io::Result<()> {
            let mut buf = Vec::new();
            CompactFormatter.$name(&mut buf, value)?;
            let text = String::from_utf8_lossy(&buf).into_owned();
            self.key_scalar(w, &text)
        }
    };
}

impl Formatter for FastjsonFormatter {
    scalar!(write_bool, bool);
    scalar!(write_i8, i8);
    scalar!(write_i16, i16);
    scalar!(write_i32, i32);
    scalar!(write_i64, i64);
    scalar!(write_i128, i128);
    scalar!(write_u8, u8);
    scalar!(write_u16, u16);
    scalar!(write_u32, u32);
    scalar!(write_u64, u64);
    scalar!(write_u128, u128);
    scalar!(write_f32, f32);
    scalar!(write_f64, f64);

    fn begin_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.in_key {
            self.key_escaped.clear();
            self.key_raw.clear();
            self.key_bare = false;
            Ok(())
        } else {
            w.write_all(b"\"")
        }
    }

    fn end_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if !self.in_key {
            return w.write_all(b"\"");
        }
        if self.key_bare {
            w.write_all(&self.key_escaped)
        } else if let Some(raw) = self.key_raw.strip_prefix(RAW_KEY_SENTINEL) {
            w.write_all(raw.as_bytes())
        } else {
            w.write_all(b"\"")?;
            w.write_all(&self.key_escaped)?;
            w.write_all(b"\"")
        }
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if self.in_key {
            self.key_escaped.extend_from_slice(fragment.as_bytes());
            self.key_raw.push_str(fragment);
            Ok(())
        } else {
            w.write_all(fragment.as_bytes())
        }
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        if self.in_key {
            let raw = match escape {
                CharEscape::Quote => '"',
                CharEscape::ReverseSolidus => '\\',
                CharEscape::Solidus => '/',
                CharEscape::Backspace => '\u{8}',
                CharEscape::FormFeed => '\u{c}',
                CharEscape::LineFeed => '\n',
                CharEscape::CarriageReturn => '\r',
                CharEscape::Tab => '\t',
                CharEscape::AsciiControl(b) => b as char,
            };
            self.key_raw.push(raw);
            CompactFormatter.write_char_escape(&mut self.key_escaped, escape)
        } else {
            CompactFormatter.write_char_escape(w, escape)
        }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.in_key = true;
        if !first {
            w.write_all(b",")?;
        }
        if self.pretty {
            self.newline(w)?;
        }
        Ok(())
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.in_key = false;
        Ok(())
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b":")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.indent += 1;
        self.has_value = false;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.indent = self.indent.saturating_sub(1);
        if self.pretty && self.has_value {
            self.newline(w)?;
        }
        w.write_all(b"}")
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.indent += 1;
        self.has_value = false;
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.indent = self.indent.saturating_sub(1);
        if self.pretty && self.has_value {
            self.newline(w)?;
        }
        w.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        if self.pretty {
            self.newline(w)?;
        }
        Ok(())
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

// ANCHOR: normalize
/// Rewrites fastjson's bare map keys (`{0:"a"}`, `{{"k":1}:"v"}`) into quoted
/// keys (`{"0":"a"}`, `{"{\"k\":1}":"v"}`) so a strict JSON parser accepts them.
/// Anything else passes through unchanged; malformed text stays malformed (the
/// parser reports it), and no input makes this panic.
pub fn normalize(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let mut stack: Vec<u8> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let in_object = stack.last() == Some(&b'{');
        if c == b'"' {
            let end = string_end(bytes, i);
            out.push_str(text.get(i..end).unwrap_or(""));
            i = end;
            expect_key = false;
            continue;
        }
        if c.is_ascii_whitespace() {
            push_char_at(&mut out, text, &mut i);
            continue;
        }
        if expect_key && in_object && c != b'}' {
            // A bare key: an object/array key or a scalar up to the colon.
            let end = if c == b'{' || c == b'[' {
                balanced_end(bytes, i)
            } else {
                bytes[i..]
                    .iter()
                    .position(|&b| b == b':' || b == b',' || b == b'}')
                    .map_or(bytes.len(), |p| i + p)
            };
            let key = text.get(i..end).unwrap_or("").trim();
            match serde_json::to_string(key) {
                Ok(quoted) => out.push_str(&quoted),
                Err(_) => out.push_str(key),
            }
            expect_key = false;
            i = end;
            continue;
        }
        match c {
            b'{' => {
                stack.push(c);
                expect_key = true;
            }
            b'[' => {
                stack.push(c);
                expect_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => expect_key = in_object,
            b':' => expect_key = false,
            _ => {}
        }
        push_char_at(&mut out, text, &mut i);
    }
    out
}

/// Copies the character starting at byte `*i` (ASCII or not) and advances past it.
fn push_char_at(out: &mut String, text: &str, i: &mut usize) {
    match text.get(*i..).and_then(|rest| rest.chars().next()) {
        Some(ch) => {
            out.push(ch);
            *i += ch.len_utf8();
        }
        // Not on a char boundary (cannot happen for &str input walked char by char).
        None => *i += 1,
    }
}
// ANCHOR_END: normalize

/// Index just past the string literal starting at `start` (a `"`).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Index just past the balanced `{...}` / `[...]` starting at `start`.
fn balanced_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// A map whose keys are objects, written the fastjson way
/// (`{{"brokerName":"b","queueId":0,"topic":"T"}:{...}}`), e.g. ConsumeStats.offsetTable.
/// Only `fastjson::to_*` writes the raw keys; plain serde_json would quote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectKeyMap<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for ObjectKeyMap<K, V> {
    fn default() -> Self {
        ObjectKeyMap(Vec::new())
    }
}

impl<K: Serialize, V: Serialize> Serialize for ObjectKeyMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            let key_json = to_string(k).map_err(serde::ser::Error::custom)?;
            map.serialize_entry(&format!("{RAW_KEY_SENTINEL}{key_json}"), v)?;
        }
        map.end()
    }
}

impl<'de, K: DeserializeOwned, V: Deserialize<'de>> Deserialize<'de> for ObjectKeyMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // After `normalize`, object keys arrive as strings holding their JSON text.
        let entries: Vec<(String, V)> =
            deserializer.deserialize_map(PairsVisitor(Default::default()))?;
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let key: K = from_str(&k).map_err(serde::de::Error::custom)?;
            out.push((key, v));
        }
        Ok(ObjectKeyMap(out))
    }
}

struct PairsVisitor<V>(std::marker::PhantomData<V>);

impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for PairsVisitor<V> {
    type Value = Vec<(String, V)>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(entry) = map.next_entry::<String, V>()? {
            out.push(entry);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    #[test]
    fn integer_keys_are_bare_string_keys_quoted() {
        let mut ids: BTreeMap<i64, String> = BTreeMap::new();
        ids.insert(0, "a:1".into());
        ids.insert(1, "b:\"2".into());
        assert_eq!(to_string(&ids).unwrap(), r#"{0:"a:1",1:"b:\"2"}"#);
        let mut names: BTreeMap<String, i32> = BTreeMap::new();
        names.insert("x\"y".into(), 1);
        names.insert(String::new(), 2);
        assert_eq!(to_string(&names).unwrap(), r#"{"":2,"x\"y":1}"#);
    }

    #[test]
    fn reads_back_bare_keys() {
        let ids: HashMap<i64, String> = from_str(r#"{0:"a:1", 1 :"b"}"#).unwrap();
        assert_eq!(ids[&0], "a:1");
        assert_eq!(ids[&1], "b");
        let quoted: HashMap<i64, String> = from_str(r#"{"0":"a"}"#).unwrap();
        assert_eq!(quoted[&0], "a");
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Mq {
        #[serde(rename = "brokerName")]
        broker_name: String,
        #[serde(rename = "queueId")]
        queue_id: i32,
        topic: String,
    }

    #[test]
    fn object_keys_round_trip() {
        let map = ObjectKeyMap(vec![(
            Mq {
                broker_name: "b".into(),
                queue_id: 0,
                topic: "T".into(),
            },
            5i64,
        )]);
        let text = to_string(&map).unwrap();
        assert_eq!(text, r#"{{"brokerName":"b","queueId":0,"topic":"T"}:5}"#);
        let back: ObjectKeyMap<Mq, i64> = from_str(&text).unwrap();
        assert_eq!(back, map);
    }

    #[test]
    fn pretty_uses_tabs_and_no_space() {
        let mut inner = BTreeMap::new();
        inner.insert("k", "v");
        let mut outer = BTreeMap::new();
        outer.insert("ns", inner);
        assert_eq!(
            to_string_pretty(&outer).unwrap(),
            "{\n\t\"ns\":{\n\t\t\"k\":\"v\"\n\t}\n}"
        );
        let back: BTreeMap<String, BTreeMap<String, String>> =
            from_str(&to_string_pretty(&outer).unwrap()).unwrap();
        assert_eq!(back["ns"]["k"], "v");
    }

    #[test]
    fn normalize_leaves_strings_alone() {
        let text = r#"{"a":"{0:1}","b":[1,{2:3}]}"#;
        assert_eq!(normalize(text), r#"{"a":"{0:1}","b":[1,{"2":3}]}"#);
    }
}
