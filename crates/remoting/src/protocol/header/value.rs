//! How one extFields string becomes a typed header field and back: the lenient rules of
//! 4.8.0's `RemotingCommand.decodeCommandCustomHeader`, in one place.
//!
//! Every custom-header value travels as a string (`"queueId":"3"`). 4.8.0 reads it back by
//! the Java field's declared type, and it is forgiving in a particular way: a value that
//! does not convert is logged and skipped, so the field keeps its initial value (`null`, or
//! the initialiser such as `unitMode = false`). The rules, per Rust type:
//!
//! | Rust type | Java type | read with | a value that does not convert |
//! |---|---|---|---|
//! | `String` | `String` | as is (an empty string stays empty) | — |
//! | `i32` | `int` / `Integer` | `Integer.parseInt` (we also trim blanks) | the field stays unset |
//! | `i64` | `long` / `Long` | `Long.parseLong` (we also trim blanks) | the field stays unset |
//! | `bool` | `boolean` / `Boolean` | `Boolean.parseBoolean`: `true` in any case is true, anything else false | never happens |
//!
//! What "stays unset" means depends on how the header declares the field (see
//! [`super::Presence`]): an optional field becomes `None`, a field with a default keeps the
//! default, and a required (`@CFNotNull`) field is an error, because 4.8.0 carries on with
//! a null there and fails later with a NullPointerException.
//!
//! Writing is Java's `toString()`: decimal numbers, `true`/`false`.
//! Book: Appendix "Wire protocol" (Custom headers). Mirrors the type switch in
//! `RemotingCommand.decodeCommandCustomHeader` and `makeCustomHeaderToNet`.

/// A type a custom-header field can have.
pub trait HeaderValue: Sized {
    /// The Java type name shown in documentation (`int`, `long`, `boolean`, `String`).
    const JAVA_TYPE: &'static str;

    /// Reads an extFields value the way 4.8.0 does; `None` when 4.8.0 could not convert
    /// it (its `NumberFormatException`).
    fn parse(raw: &str) -> Option<Self>;

    /// Writes the value the way the Java client does (`toString()`).
    fn write(&self) -> String;
}

impl HeaderValue for String {
    const JAVA_TYPE: &'static str = "String";

    fn parse(raw: &str) -> Option<Self> {
        Some(raw.to_string())
    }

    fn write(&self) -> String {
        self.clone()
    }
}

/// `int` and `long`: Rust's parser, like `Integer.parseInt`/`Long.parseLong`, takes an
/// optional sign and decimal digits and refuses overflow; the trim is ours (no client pads,
/// but it costs nothing).
macro_rules! java_number {
    ($($ty:ty => $java:literal),*) => {$(
        impl HeaderValue for $ty {
            const JAVA_TYPE: &'static str = $java;

            fn parse(raw: &str) -> Option<Self> {
                raw.trim().parse().ok()
            }

            fn write(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

java_number!(i32 => "int", i64 => "long");

// ANCHOR: parse_boolean
impl HeaderValue for bool {
    const JAVA_TYPE: &'static str = "boolean";

    fn parse(raw: &str) -> Option<Self> {
        // Boolean.parseBoolean: exactly "true", ignoring case. "1", " true" and "" are false.
        Some(raw.eq_ignore_ascii_case("true"))
    }

    fn write(&self) -> String {
        self.to_string()
    }
}
// ANCHOR_END: parse_boolean

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_parse_int_and_parse_long() {
        assert_eq!(i32::parse("3"), Some(3));
        assert_eq!(i32::parse("-1"), Some(-1));
        assert_eq!(i32::parse("+7"), Some(7));
        assert_eq!(i32::parse(" 12 "), Some(12), "blanks are trimmed");
        assert_eq!(i32::parse(""), None);
        assert_eq!(i32::parse("1.5"), None);
        assert_eq!(i32::parse("2147483648"), None, "overflow refused");
        assert_eq!(i64::parse("2147483648"), Some(2_147_483_648));
        assert_eq!(i64::parse("0x10"), None);
    }

    #[test]
    fn booleans_follow_parse_boolean() {
        assert_eq!(bool::parse("true"), Some(true));
        assert_eq!(bool::parse("TRUE"), Some(true));
        assert_eq!(bool::parse("TrUe"), Some(true));
        for falsy in ["false", "1", "0", "", " true", "yes"] {
            assert_eq!(bool::parse(falsy), Some(false), "{falsy:?}");
        }
        assert_eq!(true.write(), "true");
        assert_eq!(false.write(), "false");
    }

    #[test]
    fn strings_are_taken_as_they_are() {
        assert_eq!(String::parse(""), Some(String::new()));
        assert_eq!(String::parse(" a b "), Some(" a b ".to_string()));
        assert_eq!(i64::MIN.write(), "-9223372036854775808");
    }
}
