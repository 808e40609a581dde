//! What fastjson 1.2.69 accepts when it reads a body into a Java bean, as one serde
//! `Deserializer` that every body type goes through (`fastjson::from_str`/`from_slice`).
//!
//! Why: 4.8.0 parses every request body with fastjson, and fastjson converts rather than
//! refuses. Clients rely on that. The C++ core (rocketmq-client-cpp, under the Python,
//! Node.js and cgo Go clients) writes its HEART_BEAT body with jsoncpp: enums as ordinals
//! (`"consumeType":1`), `subVersion` as a string, booleans as `"0"`/`"1"`, empty sets left
//! out, and a trailing newline. The Go client sends tag hash codes as strings. A strict
//! parser answers all of those with SYSTEM_ERROR, so the client can produce but never
//! consume. Here the rules live once, keyed by the type the Rust field asks for, instead
//! of one `deserialize_with` per field:
//!
//! | the field wants | accepted (besides its own JSON type) |
//! |---|---|
//! | integer | a string holding an integer (`"1796569014615"`), `true`/`false` (1/0), a float (truncated, as Java's `intValue`), `null` or `""` (0) |
//! | float | a string holding a number, `null` (0) |
//! | bool | `1`/`0`, `"true"`/`"false"`/`"1"`/`"0"` in any case, `null` or `""` (false) |
//! | string | a number or bool (its text), `null` (empty) |
//! | enum (unit variants) | the constant's name, or its ordinal as a number or numeric string (`MessageModel` 1 = CLUSTERING) |
//! | list, set, map, bean | `null` (empty, every field at its default) |
//! | bean field names | an exact match first, else fastjson's *smartMatch*: case and `_`/`-` ignored (`clientId` fills `clientID`) |
//!
//! Missing fields take their defaults through each struct's `#[serde(default)]` (a Java
//! bean's field initialisers); unknown fields are ignored, as fastjson ignores them.
//! Anything else is still refused, with a JSONPath-like location in the message
//! (`$.consumerDataSet[0].consumeType: ...`) so the broker's log names the field.
//! Book: Appendix "Wire protocol". Mirrors fastjson's `JavaBeanDeserializer`,
//! `TypeUtils.castTo*` and `EnumDeserializer`.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess,
    Visitor,
};
use serde_json::{Map, Value};

type Error = serde_json::Error;

/// Reads `value` into `T` with fastjson's conversions.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, Error> {
    T::deserialize(Lenient(value))
}

/// A JSON value read the way fastjson reads it into a bean field.
pub struct Lenient(pub Value);

/// Prefixes an error with where it happened (`$.key`, `$[3]`).
fn at(segment: &str, e: Error) -> Error {
    let msg = e.to_string();
    match msg.strip_prefix('$') {
        Some(rest) => de::Error::custom(format!("${segment}{rest}")),
        None => de::Error::custom(format!("${segment}: {msg}")),
    }
}

fn invalid(v: &Value, expected: &str) -> Error {
    de::Error::custom(format!("cannot read {v} as {expected}"))
}

/// An integer as fastjson's `TypeUtils.castToLong` finds one; `None` for null and "".
fn integer(v: &Value) -> Result<Option<i128>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(i128::from(*b))),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i128::from(i)))
            } else if let Some(u) = n.as_u64() {
                Ok(Some(i128::from(u)))
            } else {
                float_to_int(n.as_f64().unwrap_or(f64::NAN), v)
            }
        }
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() || t == "null" {
                return Ok(None);
            }
            match t.parse::<i128>() {
                Ok(i) => Ok(Some(i)),
                Err(_) => float_to_int(t.parse::<f64>().map_err(|_| invalid(v, "an integer"))?, v),
            }
        }
        _ => Err(invalid(v, "an integer")),
    }
}

fn float_to_int(f: f64, v: &Value) -> Result<Option<i128>, Error> {
    if f.is_finite() && f.abs() < 1e38 {
        Ok(Some(f.trunc() as i128))
    } else {
        Err(invalid(v, "an integer"))
    }
}

fn float(v: &Value) -> Result<f64, Error> {
    match v {
        Value::Null => Ok(0.0),
        Value::Number(n) => n.as_f64().ok_or_else(|| invalid(v, "a number")),
        Value::String(s) if s.trim().is_empty() => Ok(0.0),
        Value::String(s) => s.trim().parse().map_err(|_| invalid(v, "a number")),
        _ => Err(invalid(v, "a number")),
    }
}

/// fastjson's boolean reading: JSON booleans, 1/0, "true"/"false"/"1"/"0".
fn boolean(v: &Value) -> Result<bool, Error> {
    match v {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        Value::Number(n) => Ok(n.as_f64().is_some_and(|f| f == 1.0)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "y" | "t" => Ok(true),
            "false" | "0" | "n" | "f" | "" | "null" => Ok(false),
            _ => Err(invalid(v, "a boolean")),
        },
        _ => Err(invalid(v, "a boolean")),
    }
}

/// Visits an integer with the narrowest serde call that holds it; the visitor of the
/// target type checks its own range (an `i32` field refuses 2^40).
fn visit_integer<'de, V: Visitor<'de>>(v: Value, visitor: V) -> Result<V::Value, Error> {
    let n = integer(&v)?.unwrap_or(0);
    if let Ok(i) = i64::try_from(n) {
        visitor.visit_i64(i)
    } else if let Ok(u) = u64::try_from(n) {
        visitor.visit_u64(u)
    } else {
        Err(invalid(&v, "a 64-bit integer"))
    }
}

macro_rules! integers {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            visit_integer(self.0, visitor)
        })*
    };
}

/// fastjson's `smartMatch`: a key that names no field exactly is matched ignoring case,
/// `_` and `-` (`client_id`, `ClientId` and `clientId` all fill `clientID`).
fn smart_match(fields: &'static [&'static str], mut obj: Map<String, Value>) -> Map<String, Value> {
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let strays: Vec<String> = obj
        .keys()
        .filter(|k| !fields.contains(&k.as_str()))
        .cloned()
        .collect();
    for key in strays {
        let folded = fold(&key);
        let Some(field) = fields.iter().find(|f| fold(f) == folded) else {
            continue; // unknown property: ignored, as fastjson does
        };
        if let Some(v) = obj.remove(&key) {
            // An exact key wins over a smart match.
            obj.entry(field.to_string()).or_insert(v);
        }
    }
    obj
}

impl<'de> Deserializer<'de> for Lenient {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_any(visitor)
    }

    integers!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
              deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_f64(float(&self.0)?)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_f64(float(&self.0)?)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_bool(boolean(&self.0)?)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            Value::Null => visitor.visit_string(String::new()),
            Value::Number(n) => visitor.visit_string(n.to_string()),
            Value::Bool(b) => visitor.visit_string(b.to_string()),
            other => visitor.visit_string(other.to_string()),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_bytes(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_byte_buf(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            v => visitor.visit_some(Lenient(v)),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Seq {
                items: items.into_iter(),
                index: 0,
            }),
            Value::Null => visitor.visit_seq(Seq {
                items: Vec::new().into_iter(),
                index: 0,
            }),
            other => Err(invalid(&other, "a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(obj) => visitor.visit_map(Entries::new(obj)),
            Value::Null => visitor.visit_map(Entries::new(Map::new())),
            other => Err(invalid(&other, "an object")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(obj) => visitor.visit_map(Entries::new(smart_match(fields, obj))),
            Value::Null => visitor.visit_map(Entries::new(Map::new())),
            other => Err(invalid(&other, "an object")),
        }
    }

    /// A Java enum constant by name, or by ordinal (fastjson's `EnumDeserializer` maps an
    /// integer to `values()[n]`); `variants` is in declaration order, like Java's.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let ordinal = |v: &Value| -> Result<&'static str, Error> {
            integer(v)?
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| variants.get(i).copied())
                .ok_or_else(|| invalid(v, &format!("one of {variants:?} or its ordinal")))
        };
        match self.0 {
            Value::String(s) if variants.contains(&s.as_str()) => {
                visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(s))
            }
            v @ (Value::String(_) | Value::Number(_)) => {
                let name = ordinal(&v)?;
                visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(name))
            }
            // {"Variant": value}: serde's own form for data-carrying variants.
            v @ Value::Object(_) => v.deserialize_enum(_name, variants, visitor),
            v => Err(invalid(&v, &format!("one of {variants:?}"))),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.0.deserialize_identifier(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

struct Seq {
    items: std::vec::IntoIter<Value>,
    index: usize,
}

impl<'de> SeqAccess<'de> for Seq {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(v) = self.items.next() else {
            return Ok(None);
        };
        let i = self.index;
        self.index += 1;
        seed.deserialize(Lenient(v))
            .map(Some)
            .map_err(|e| at(&format!("[{i}]"), e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// An object's entries; keys go through [`Lenient`] too, so `{"0":5}` fills a map keyed
/// by integers (fastjson's bare `{0:5}` keys were quoted by `normalize` before).
struct Entries {
    entries: serde_json::map::IntoIter,
    pending: Option<(String, Value)>,
}

impl Entries {
    fn new(obj: Map<String, Value>) -> Entries {
        Entries {
            entries: obj.into_iter(),
            pending: None,
        }
    }
}

impl<'de> MapAccess<'de> for Entries {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((k, v)) = self.entries.next() else {
            return Ok(None);
        };
        let key = seed
            .deserialize(Lenient(Value::String(k.clone())))
            .map_err(|e| at(&format!(".{k}"), e))?;
        self.pending = Some((k, v));
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (k, v) = self
            .pending
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("value asked before its key"))?;
        seed.deserialize(Lenient(v))
            .map_err(|e| at(&format!(".{k}"), e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Default, PartialEq, Deserialize)]
    #[serde(default)]
    struct Bean {
        #[serde(rename = "clientID")]
        client_id: String,
        count: i32,
        total: i64,
        ratio: f64,
        on: bool,
        tags: Vec<String>,
        table: BTreeMap<i32, i64>,
        note: Option<String>,
        mode: Mode,
    }

    #[derive(Debug, Default, PartialEq, Deserialize)]
    enum Mode {
        #[default]
        #[serde(rename = "BROADCASTING")]
        Broadcasting,
        #[serde(rename = "CLUSTERING")]
        Clustering,
    }

    fn read(text: &str) -> Result<Bean, Error> {
        from_value(serde_json::from_str(text).unwrap())
    }

    #[test]
    fn scalars_convert_as_fastjson_does() {
        let b = read(
            r#"{"clientID":42,"count":"7","total":" 1796569014615 ","ratio":"0.5","on":"1",
                "note":null,"mode":"1","table":{"3":"9"}}"#,
        )
        .unwrap();
        assert_eq!(b.client_id, "42");
        assert_eq!(
            (b.count, b.total, b.ratio, b.on),
            (7, 1_796_569_014_615, 0.5, true)
        );
        assert_eq!(b.note, None);
        assert_eq!(b.mode, Mode::Clustering);
        assert_eq!(b.table[&3], 9);
        for (text, on) in [
            ("true", true),
            ("0", false),
            ("\"FALSE\"", false),
            ("1", true),
            ("\"\"", false),
            ("null", false),
        ] {
            assert_eq!(
                read(&format!(r#"{{"on":{text}}}"#)).unwrap().on,
                on,
                "{text}"
            );
        }
        assert_eq!(read(r#"{"count":2.9,"total":true}"#).unwrap().count, 2);
        assert_eq!(read(r#"{"total":true}"#).unwrap().total, 1);
        assert_eq!(
            read(r#"{"count":"","total":null}"#).unwrap(),
            Bean::default()
        );
    }

    #[test]
    fn nulls_and_missing_fields_take_defaults() {
        let b = read(r#"{"tags":null,"table":null,"clientID":null}"#).unwrap();
        assert_eq!(b, Bean::default());
        assert_eq!(read("{}").unwrap(), Bean::default());
    }

    #[test]
    fn smart_match_prefers_exact_keys() {
        assert_eq!(read(r#"{"clientId":"a"}"#).unwrap().client_id, "a");
        assert_eq!(read(r#"{"client_id":"b"}"#).unwrap().client_id, "b");
        assert_eq!(
            read(r#"{"clientId":"x","clientID":"exact"}"#)
                .unwrap()
                .client_id,
            "exact"
        );
        assert_eq!(read(r#"{"unknownKey":1}"#).unwrap(), Bean::default());
    }

    #[test]
    fn refusals_say_where() {
        let e = read(r#"{"count":"seven"}"#).unwrap_err().to_string();
        assert!(e.starts_with("$.count: "), "{e}");
        let e = read(r#"{"count":4294967296}"#).unwrap_err().to_string();
        assert!(e.starts_with("$.count: "), "{e}");
        let e = read(r#"{"mode":2}"#).unwrap_err().to_string();
        assert!(e.starts_with("$.mode: ") && e.contains("CLUSTERING"), "{e}");
        let e = read(r#"{"tags":["a",{"b":1},"c"],"on":"maybe"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("$.on: ") || e.starts_with("$.tags[1]"), "{e}");
        let e = read(r#"{"tags":"a"}"#).unwrap_err().to_string();
        assert!(e.starts_with("$.tags: "), "{e}");
    }
}
