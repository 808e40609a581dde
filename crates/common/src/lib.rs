//! rmq-common: what every other crate shares — the message model and its byte encodings
//! (the 4.8.0 commit-log record, properties, tag hashes), message ids, and the `.properties`
//! config reader.
//!
//! It exists so that the store (writer), the broker, the client, mqadmin and the store
//! inspector (readers) agree on one definition of the record instead of several copies.
//! Book: used throughout; the record layout is explained in Part I "CommitLog".
//! Mirrors the 4.8.0 `rocketmq-common` module (`MessageDecoder`, `MessageExt`,
//! `MessageExtBrokerInner`, `MessageClientIDSetter`, `MixAll.properties2Object`).
//!
//! API summary:
//! - [`message`] — `MessageExt`, `decode_record(s)`, `encode_record`, `encode_properties`,
//!   `decode_properties`, `tags_code`, `java_string_hash`, magic codes, sysflag bits, `keys::*`.
//! - [`inner`] — `MessageExtBrokerInner`, `inner_record_size`, `encode_inner_record_into`.
//! - [`msgid`] — `offset_msg_id`, `decode_offset_msg_id`, `UniqIdGenerator`.
//! - [`properties`] — `parse_properties`.

#![warn(missing_docs)]

pub mod inner;
pub mod message;
pub mod msgid;
pub mod properties;

pub use inner::MessageExtBrokerInner;
pub use message::{decode_record, decode_records, DecodeError, MessageExt};
