//! The building blocks of the key table in [`super::keys`]: what one key is ([`KeyInfo`]),
//! how a value is read from broker.conf and written back ([`ConfigValue`]), and the two
//! macros that turn a section of the table into a struct with its defaults and its list of
//! keys (`config_section!`), or into the list of keys of a struct another crate owns
//! (`config_keys_of!`).
//!
//! Why a table: every key is declared once, with its 4.8.0 name, its Rust field, its type,
//! its unit, when a change takes effect and what it means. Parsing broker.conf,
//! GET_BROKER_CONFIG, UPDATE_BROKER_CONFIG and the book's configuration reference all read
//! the same table, so they cannot drift apart.
//!
//! The reading rules are the ones broker.conf always had here: numbers and booleans are
//! trimmed and must parse (a bad value is an error naming the key, where 4.8.0's
//! `MixAll.properties2Object` silently keeps the default); strings are taken as they are;
//! an empty value of an optional string means "not set".
//! Book: Part II, "Starting a broker", and Appendix "Configuration reference". Mirrors
//! `MixAll.properties2Object` / `object2Properties`.

use std::path::PathBuf;

/// When a changed value takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Read at start: UPDATE_BROKER_CONFIG writes it to the file, and the next start uses it.
    Restart,
    /// Read where it is used: UPDATE_BROKER_CONFIG changes it at once (and in the file).
    Live,
    /// Accepted for compatibility with 4.8.0's files, but this broker does not use it.
    Ignored,
}

impl Effect {
    /// How the reference page names it.
    pub fn describe(self) -> &'static str {
        match self {
            Effect::Restart => "restart",
            Effect::Live => "at once",
            Effect::Ignored => "not used",
        }
    }
}

/// The unit of a value. Fields holding a time carry the unit at the end of their name
/// (`_ms`, `_hours`); a test checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// No unit (names, flags, counts of things named by the key).
    None,
    /// Milliseconds.
    Ms,
    /// Hours.
    Hours,
    /// Bytes.
    Bytes,
    /// 4 KiB pages.
    Pages,
    /// Percent.
    Percent,
}

impl Unit {
    /// How the reference page names it.
    pub fn describe(self) -> &'static str {
        match self {
            Unit::None => "",
            Unit::Ms => "ms",
            Unit::Hours => "hours",
            Unit::Bytes => "bytes",
            Unit::Pages => "pages",
            Unit::Percent => "%",
        }
    }

    /// The field-name suffix a value of this unit must carry, if any.
    pub fn field_suffix(self) -> Option<&'static str> {
        match self {
            Unit::Ms => Some("_ms"),
            Unit::Hours => Some("_hours"),
            _ => None,
        }
    }
}

/// One key of broker.conf, for parsing errors, the reference page and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key as broker.conf spells it (4.8.0's field name).
    pub key: &'static str,
    /// The Rust field that holds it.
    pub field: &'static str,
    /// The value's type as the reference page shows it.
    pub value_type: &'static str,
    /// The value's unit.
    pub unit: Unit,
    /// When a change takes effect.
    pub effect: Effect,
    /// What the key means (the field's documentation).
    pub doc: &'static str,
    /// The default as the reference page shows it, where it depends on the machine (a home
    /// directory, an environment variable); `None`: the default value itself.
    pub shown_default: Option<&'static str>,
}

/// A key of a section struct `S`: its description and how to read and write it there.
pub struct ConfigKey<S> {
    /// The description.
    pub info: KeyInfo,
    /// The value as broker.conf would spell it; `None` when it is not set.
    pub get: fn(&S) -> Option<String>,
    /// Parses `value` into the field; the error says why the value is refused.
    pub set: fn(&mut S, &str) -> Result<(), String>,
}

/// A type a broker.conf value can have.
pub trait ConfigValue: Sized {
    /// The type as the reference page names it.
    const TYPE: &'static str;
    /// Reads a value from broker.conf.
    fn parse(raw: &str) -> Result<Self, String>;
    /// Writes the value as broker.conf spells it; `None` when it is not set.
    fn write(&self) -> Option<String>;
}

/// Numbers and booleans: trimmed, then Rust's parser (which, like Java's, refuses
/// overflow; booleans are `true` or `false`).
macro_rules! parsed_value {
    ($($ty:ty => $name:literal),*) => {$(
        impl ConfigValue for $ty {
            const TYPE: &'static str = $name;

            fn parse(raw: &str) -> Result<Self, String> {
                raw.trim().parse().map_err(|e| format!("{e}"))
            }

            fn write(&self) -> Option<String> {
                Some(self.to_string())
            }
        }
    )*};
}

parsed_value!(
    i32 => "integer", i64 => "integer", u16 => "integer", u32 => "integer",
    u64 => "integer", usize => "integer", bool => "boolean"
);

impl ConfigValue for String {
    const TYPE: &'static str = "string";

    fn parse(raw: &str) -> Result<Self, String> {
        Ok(raw.to_string())
    }

    fn write(&self) -> Option<String> {
        Some(self.clone())
    }
}

impl ConfigValue for PathBuf {
    const TYPE: &'static str = "path";

    fn parse(raw: &str) -> Result<Self, String> {
        Ok(PathBuf::from(raw))
    }

    fn write(&self) -> Option<String> {
        Some(self.display().to_string())
    }
}

/// An optional value: empty means "not set".
impl<T: ConfigValue> ConfigValue for Option<T> {
    const TYPE: &'static str = T::TYPE;

    fn parse(raw: &str) -> Result<Self, String> {
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            T::parse(raw).map(Some)
        }
    }

    fn write(&self) -> Option<String> {
        self.as_ref().and_then(T::write)
    }
}

impl ConfigValue for rmq_store::FlushDiskType {
    const TYPE: &'static str = "`ASYNC_FLUSH` or `SYNC_FLUSH`";

    fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "ASYNC_FLUSH" => Ok(Self::AsyncFlush),
            "SYNC_FLUSH" => Ok(Self::SyncFlush),
            _ => Err("expected ASYNC_FLUSH or SYNC_FLUSH".into()),
        }
    }

    fn write(&self) -> Option<String> {
        Some(
            match self {
                Self::AsyncFlush => "ASYNC_FLUSH",
                Self::SyncFlush => "SYNC_FLUSH",
            }
            .into(),
        )
    }
}

impl ConfigValue for rmq_store::BrokerRole {
    const TYPE: &'static str = "`ASYNC_MASTER`, `SYNC_MASTER` or `SLAVE`";

    fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "ASYNC_MASTER" => Ok(Self::AsyncMaster),
            "SYNC_MASTER" => Ok(Self::SyncMaster),
            "SLAVE" => Ok(Self::Slave),
            _ => Err("expected ASYNC_MASTER, SYNC_MASTER or SLAVE".into()),
        }
    }

    fn write(&self) -> Option<String> {
        Some(
            match self {
                Self::AsyncMaster => "ASYNC_MASTER",
                Self::SyncMaster => "SYNC_MASTER",
                Self::Slave => "SLAVE",
            }
            .into(),
        )
    }
}

/// One [`ConfigKey`] of section `$section` for field `$field`.
macro_rules! config_key {
    ($section:ty, $field:ident : $ty:ty = $key:literal, $unit:ident, $effect:ident,
     [$($doc:literal)*], $shown:expr) => {
        $crate::config::table::ConfigKey::<$section> {
            info: $crate::config::table::KeyInfo {
                key: $key,
                field: stringify!($field),
                value_type: <$ty as $crate::config::table::ConfigValue>::TYPE,
                unit: $crate::config::table::Unit::$unit,
                effect: $crate::config::table::Effect::$effect,
                doc: concat!($($doc),*),
                shown_default: $shown,
            },
            get: |c: &$section| $crate::config::table::ConfigValue::write(&c.$field),
            set: |c: &mut $section, v: &str| {
                c.$field = <$ty as $crate::config::table::ConfigValue>::parse(v)?;
                Ok(())
            },
        }
    };
}

/// Declares a section struct: its doc comment, its name, and its keys, each as
///
/// ```text
/// /// What the key means.
/// rust_field: Type = "javaKey", Unit, Effect, default EXPR [, shown "how the page shows it"];
/// ```
///
/// then, optionally, `nested { field: Type, ... }` for the sections it holds. Generates the
/// struct (every key field documented with its key), its `Default`, and
/// `KEYS`, the section's part of the table.
macro_rules! config_section {
    (
        $(#[doc = $sdoc:literal])*
        pub struct $name:ident {
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident : $ty:ty = $key:literal, $unit:ident, $effect:ident,
                    default $default:expr $(, shown $shown:literal)?;
            )*
        }
        $(nested {
            $(
                $(#[doc = $ndoc:literal])*
                $nfield:ident : $nty:ty,
            )*
        })?
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            $(
                $(#[doc = $fdoc])*
                #[doc = ""]
                #[doc = concat!("Key `", $key, "` (see the configuration reference for its default).")]
                pub $field: $ty,
            )*
            $($(
                $(#[doc = $ndoc])*
                pub $nfield: $nty,
            )*)?
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    $($field: $default,)*
                    $($($nfield: Default::default(),)*)?
                }
            }
        }

        impl $name {
            /// This section's keys, in the table's order.
            pub const KEYS: &'static [$crate::config::table::ConfigKey<$name>] = &[$(
                config_key!($name, $field: $ty = $key, $unit, $effect, [$($fdoc)*],
                    config_shown!($($shown)?))
            ),*];
        }
    };
}

/// Declares the keys of a struct another crate defines (its fields and `Default` are that
/// crate's): `pub static NAME: Struct { /// doc  field: Type = "javaKey", Unit, Effect; ... }`.
macro_rules! config_keys_of {
    (
        $(#[doc = $sdoc:literal])*
        pub static $table:ident : $name:ty {
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident : $ty:ty = $key:literal, $unit:ident, $effect:ident
                    $(, shown $shown:literal)?;
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        pub static $table: &[$crate::config::table::ConfigKey<$name>] = &[$(
            config_key!($name, $field: $ty = $key, $unit, $effect, [$($fdoc)*],
                config_shown!($($shown)?))
        ),*];
    };
}

macro_rules! config_shown {
    () => {
        None
    };
    ($shown:literal) => {
        Some($shown)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_and_write_as_broker_conf_spells_them() {
        assert_eq!(u16::parse(" 10911 "), Ok(10911));
        assert!(u16::parse("70000").is_err(), "overflow is refused");
        assert!(bool::parse("yes").is_err());
        assert_eq!(<Option<String>>::parse(""), Ok(None));
        assert_eq!(
            <Option<String>>::parse("a;b").unwrap().write().as_deref(),
            Some("a;b")
        );
        let role = rmq_store::BrokerRole::parse("SLAVE").unwrap();
        assert_eq!(role.write().as_deref(), Some("SLAVE"));
        assert_eq!(
            rmq_store::FlushDiskType::parse("SYNC").unwrap_err(),
            "expected ASYNC_FLUSH or SYNC_FLUSH"
        );
    }
}
