//! Typed custom headers: one struct per 4.8.0 `*RequestHeader` / `*ResponseHeader` class,
//! each converted to and from a command's extFields by code that one macro generates.
//!
//! Why: on the wire a request's parameters are a flat map of strings (`"queueId":"3"`).
//! Without types, every sender and every receiver spells the keys and parses the values
//! again, and the spellings drift apart. Here each header is declared once, with its keys
//! as the Java field names, the Rust type of each field, and whether 4.8.0 requires it
//! (`@CFNotNull`), allows it to be absent (`@CFNullable` or no annotation), or gives it a
//! default (a Java primitive or an initialiser). `command_header!` turns that declaration
//! into the struct, its `Default`, its [`CommandHeader`] impl and a [`HeaderInfo`]
//! describing it; [`value`] holds the conversion rules for every field type; [`table`]
//! says which header each request code uses.
//!
//! Reading a header (`RemotingCommand::decode_header`) mirrors 4.8.0's
//! `decodeCommandCustomHeader` followed by `checkFields`; writing one
//! (`RemotingCommand::with_header`) mirrors `makeCustomHeaderToNet`: every field that
//! holds a value is written with Java's `toString()`, absent optional fields are left out.
//! Keys a header does not declare (`AccessKey`, `Signature`, `MSG_REGION`, ...) are ignored
//! on reading and left alone on writing.
//!
//! ```
//! use rmq_remoting::codes::{request, response};
//! use rmq_remoting::protocol::header::{QueryConsumerOffsetRequestHeader as Query,
//!     QueryConsumerOffsetResponseHeader as Offset};
//! use rmq_remoting::{HeaderError, RemotingCommand};
//!
//! // A client builds the request ...
//! let req = RemotingCommand::new_request(request::QUERY_CONSUMER_OFFSET).with_header(&Query {
//!     consumer_group: "g".into(),
//!     topic: "T".into(),
//!     queue_id: 3,
//! });
//! assert_eq!(req.ext("queueId"), Some("3"));
//! // ... a server reads it and answers with a typed response header ...
//! let query: Query = req.decode_header()?;
//! assert_eq!(query.queue_id, 3);
//! let resp = RemotingCommand::new_response(response::SUCCESS, None)
//!     .with_header(&Offset { offset: 42 });
//! // ... and the client reads the answer.
//! assert_eq!(resp.decode_header::<Offset>()?.offset, 42);
//! // A missing required key is an error whose text a server sends back as the remark.
//! let bad = RemotingCommand::new_request(request::QUERY_CONSUMER_OFFSET).with_ext("topic", "T");
//! let err = bad.decode_header::<Query>().unwrap_err();
//! assert_eq!(err.to_string(), "the custom field <consumerGroup> is null");
//! # Ok::<(), HeaderError>(())
//! ```
//!
//! Book: Appendix "Wire protocol" (Custom headers). Mirrors
//! `org.apache.rocketmq.common.protocol.header` (and its `namesrv` and `filtersrv`
//! subpackages), `CommandCustomHeader`, `@CFNotNull`/`@CFNullable`.

use std::collections::HashMap;

use crate::command::RemotingCommand;
use crate::error::HeaderError;

/// A command's extFields, as `RemotingCommand::ext_fields` holds them.
pub type ExtFields = HashMap<String, String>;

/// How 4.8.0 treats a field that is absent (or does not convert).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// `@CFNotNull` on a wrapper type: absent is an error ([`HeaderError::Missing`]).
    Required,
    /// `@CFNullable` or no annotation: absent is `None`, and `None` is not written.
    Optional,
    /// A Java primitive or a field with an initialiser: absent keeps this value (shown
    /// as Rust source text), and the field is always written.
    Default(&'static str),
}

/// One field of a header, for documentation and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderField {
    /// The extFields key: the Java field name.
    pub key: &'static str,
    /// The Rust field name.
    pub name: &'static str,
    /// The Java type (`int`, `long`, `boolean`, `String`).
    pub java_type: &'static str,
    /// What happens when the key is absent.
    pub presence: Presence,
    /// The first line of the field's documentation.
    pub doc: &'static str,
}

/// A description of one header type: its Java class and fields, and a function that
/// decodes a map into the header and writes it back (what a 4.8.0 peer that parses the
/// header and sends it on would produce).
#[derive(Debug, Clone, Copy)]
pub struct HeaderInfo {
    /// The 4.8.0 class name (the Rust struct has the same name).
    pub java_class: &'static str,
    /// The fields in Java declaration order.
    pub fields: &'static [HeaderField],
    /// Decodes `ext` into the header, then encodes it into a fresh map.
    pub reencode: fn(&ExtFields) -> Result<ExtFields, HeaderError>,
}

impl HeaderInfo {
    /// The extFields key of the field whose Rust name is `field` (`None` if there is no
    /// such field). For code that must write a map by hand, such as a test that sends a
    /// header with one field missing or malformed.
    pub fn key_of(&self, field: &str) -> Option<&'static str> {
        self.fields.iter().find(|f| f.name == field).map(|f| f.key)
    }
}

/// A typed custom header (Java's `CommandCustomHeader`). Implemented by
/// `command_header!` only.
pub trait CommandHeader: Sized {
    /// The Java class name and the fields.
    const INFO: HeaderInfo;

    /// Writes every field that holds a value into `ext` (`makeCustomHeaderToNet`).
    fn write_ext_fields(&self, ext: &mut ExtFields);

    /// Reads the header from `ext` (`decodeCommandCustomHeader` + `checkFields`).
    fn from_ext_fields(ext: &ExtFields) -> Result<Self, HeaderError>;

    /// The extFields of this header alone.
    fn to_ext_fields(&self) -> ExtFields {
        let mut ext = ExtFields::new();
        self.write_ext_fields(&mut ext);
        ext
    }
}

impl RemotingCommand {
    /// Builder: writes `header` into the extFields (keeps keys already there unless the
    /// header sets them).
    pub fn with_header<H: CommandHeader>(mut self, header: &H) -> Self {
        header.write_ext_fields(&mut self.ext_fields);
        self
    }

    /// Writes `header` into the extFields in place.
    pub fn put_header<H: CommandHeader>(&mut self, header: &H) {
        header.write_ext_fields(&mut self.ext_fields);
    }

    /// Reads the custom header `H` from the extFields, with 4.8.0's conversions.
    pub fn decode_header<H: CommandHeader>(&self) -> Result<H, HeaderError> {
        H::from_ext_fields(&self.ext_fields)
    }
}

/// Declares header structs. For each struct: its doc comment, its name (the Java class
/// name), an optional `check` function (Java's `checkFields`), and its fields in Java
/// declaration order, each as
///
/// ```text
/// /// What the field means.
/// rust_name: Type = "javaKey", required;        // @CFNotNull wrapper: Type
/// rust_name: Type = "javaKey", optional;        // may be absent:      Option<Type>
/// rust_name: Type = "javaKey", default EXPR;    // primitive/initialiser: Type
/// ```
///
/// `Type` is one of the [`value::HeaderValue`] types (`String`, `i32`, `i64`, `bool`).
macro_rules! command_header {
    ($(
        $(#[doc = $sdoc:literal])*
        $name:ident $(check $check:path)? {
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident : $ty:ty = $key:literal, $mode:ident $($default:expr)?;
            )*
        }
    )*) => {$(
        $(#[doc = $sdoc])*
        #[doc = ""]
        #[doc = concat!("Java: `", stringify!($name), "`.")]
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $(
                $(#[doc = $fdoc])*
                #[doc = ""]
                #[doc = concat!(
                    "Key `", $key, "`, ",
                    header_presence_doc!($mode $($default)?), "."
                )]
                pub $field: header_field_type!($mode $ty),
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    $($field: header_field_default!($mode $($default)?),)*
                }
            }
        }

        impl $crate::protocol::header::CommandHeader for $name {
            const INFO: $crate::protocol::header::HeaderInfo =
                $crate::protocol::header::HeaderInfo {
                    java_class: stringify!($name),
                    fields: &[$(
                        $crate::protocol::header::HeaderField {
                            key: $key,
                            name: stringify!($field),
                            java_type:
                                <$ty as $crate::protocol::header::value::HeaderValue>::JAVA_TYPE,
                            presence: header_presence!($mode $($default)?),
                            doc: header_first_doc!($($fdoc)*),
                        },
                    )*],
                    reencode: |ext| {
                        <$name as $crate::protocol::header::CommandHeader>::from_ext_fields(ext)
                            .map(|h| $crate::protocol::header::CommandHeader::to_ext_fields(&h))
                    },
                };

            #[allow(unused_variables)]
            fn write_ext_fields(&self, ext: &mut $crate::protocol::header::ExtFields) {
                $(header_write!($mode ext, $key, self.$field);)*
            }

            #[allow(unused_variables)]
            fn from_ext_fields(
                ext: &$crate::protocol::header::ExtFields,
            ) -> Result<Self, $crate::error::HeaderError> {
                let header = $name {
                    $($field: header_read!($mode ext, $key, $ty $(, $default)?),)*
                };
                $($check(&header)?;)?
                Ok(header)
            }
        }
    )*};
}

macro_rules! header_field_type {
    (required $ty:ty) => { $ty };
    (optional $ty:ty) => { Option<$ty> };
    (default $ty:ty) => { $ty };
}

macro_rules! header_field_default {
    (required) => {
        Default::default()
    };
    (optional) => {
        None
    };
    (default $default:expr) => {
        $default
    };
}

macro_rules! header_presence {
    (required) => {
        $crate::protocol::header::Presence::Required
    };
    (optional) => {
        $crate::protocol::header::Presence::Optional
    };
    (default $default:expr) => {
        $crate::protocol::header::Presence::Default(stringify!($default))
    };
}

macro_rules! header_presence_doc {
    (required) => {
        "required (`@CFNotNull`): a request without it is refused"
    };
    (optional) => {
        "optional: absent is `None`, and `None` is not sent"
    };
    (default $default:expr) => {
        concat!("absent means `", stringify!($default), "`; always sent")
    };
}

macro_rules! header_first_doc {
    () => {
        ""
    };
    ($first:literal $($rest:literal)*) => {
        $first
    };
}

macro_rules! header_write {
    (optional $ext:ident, $key:literal, $value:expr) => {
        if let Some(v) = &$value {
            $ext.insert(
                $key.to_string(),
                $crate::protocol::header::value::HeaderValue::write(v),
            );
        }
    };
    ($mode:ident $ext:ident, $key:literal, $value:expr) => {
        $ext.insert(
            $key.to_string(),
            $crate::protocol::header::value::HeaderValue::write(&$value),
        );
    };
}

macro_rules! header_read {
    (required $ext:ident, $key:literal, $ty:ty) => {
        match $ext.get($key) {
            None => return Err($crate::error::HeaderError::Missing($key.to_string())),
            Some(raw) => match <$ty as $crate::protocol::header::value::HeaderValue>::parse(raw) {
                Some(v) => v,
                None => {
                    return Err($crate::error::HeaderError::Invalid {
                        field: $key.to_string(),
                        value: raw.clone(),
                        expected: <$ty as $crate::protocol::header::value::HeaderValue>::JAVA_TYPE,
                    })
                }
            },
        }
    };
    (optional $ext:ident, $key:literal, $ty:ty) => {
        $ext.get($key)
            .and_then(|raw| <$ty as $crate::protocol::header::value::HeaderValue>::parse(raw))
    };
    (default $ext:ident, $key:literal, $ty:ty, $default:expr) => {
        $ext.get($key)
            .and_then(|raw| <$ty as $crate::protocol::header::value::HeaderValue>::parse(raw))
            .unwrap_or($default)
    };
}

pub mod value;

pub mod acl;
pub mod admin;
pub mod client_call;
pub mod consumer;
pub mod filtersrv;
pub mod namesrv;
pub mod query;
pub mod send;
pub mod table;
pub mod transaction;

pub use acl::*;
pub use admin::*;
pub use client_call::*;
pub use consumer::*;
pub use filtersrv::*;
pub use namesrv::*;
pub use query::*;
pub use send::*;
pub use table::{headers_of, RequestCodeHeaders, ALL_HEADERS, REQUEST_CODES};
pub use transaction::*;
