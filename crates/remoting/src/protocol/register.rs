//! The REGISTER_BROKER body: `RegisterBrokerBody`, `TopicConfigSerializeWrapper`,
//! `TopicConfig` and `DataVersion`, in both the JSON form and the optional
//! zlib-compressed binary form (`compressed=true` in the request header).
//!
//! `TopicConfig`/`DataVersion` are small private copies of the rmq-common types the
//! contract names there (common was not available when this crate was written);
//! their JSON is identical, so converting is a field-by-field copy.
//! Book: Part III "Name server". Mirrors `RegisterBrokerBody`,
//! `TopicConfigSerializeWrapper`, `TopicConfig`, `DataVersion`.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use serde::{Deserialize, Serialize};

use super::fastjson;
use crate::error::RemotingError;

/// Upper bound on an inflated compressed body (defends against zip bombs).
const MAX_INFLATED: u64 = 64 * 1024 * 1024;

/// A version stamp of a broker's topic configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct DataVersion {
    /// Incremented on every change.
    pub counter: i64,
    /// When the version was made (ms since the epoch).
    pub timestamp: i64,
}

impl DataVersion {
    /// A fresh version stamped now (counter 0), as `new DataVersion()`.
    pub fn now() -> Self {
        DataVersion {
            counter: 0,
            timestamp: now_millis(),
        }
    }

    /// `nextVersion()`: timestamp = now, counter + 1.
    pub fn next_version(&mut self) {
        self.timestamp = now_millis();
        self.counter += 1;
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn default_queue_nums() -> i32 {
    16
}

fn default_perm() -> i32 {
    6
}

fn default_filter_type() -> String {
    "SINGLE_TAG".to_string()
}

/// One topic as a broker registers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicConfig {
    /// The topic is ordered.
    #[serde(default)]
    pub order: bool,
    /// Permission bits (`PermName`: 2 read, 4 write, 1 inherit; default 6).
    #[serde(default = "default_perm")]
    pub perm: i32,
    /// Number of read queues (default 16).
    #[serde(rename = "readQueueNums", default = "default_queue_nums")]
    pub read_queue_nums: i32,
    /// `SINGLE_TAG` (default) or `MULTI_TAG`.
    #[serde(rename = "topicFilterType", default = "default_filter_type")]
    pub topic_filter_type: String,
    /// The topic's name.
    #[serde(rename = "topicName", default)]
    pub topic_name: String,
    /// `TopicSysFlag` bits (unit topics).
    #[serde(rename = "topicSysFlag", default)]
    pub topic_sys_flag: i32,
    /// Number of write queues (default 16).
    #[serde(rename = "writeQueueNums", default = "default_queue_nums")]
    pub write_queue_nums: i32,
}

impl TopicConfig {
    /// A topic with 4.8.0's defaults (16/16 queues, perm 6, SINGLE_TAG).
    pub fn new(topic_name: impl Into<String>) -> Self {
        TopicConfig {
            order: false,
            perm: default_perm(),
            read_queue_nums: default_queue_nums(),
            topic_filter_type: default_filter_type(),
            topic_name: topic_name.into(),
            topic_sys_flag: 0,
            write_queue_nums: default_queue_nums(),
        }
    }

    /// The compressed-register text form: `"<name> <read> <write> <perm> <filterType>"`.
    pub fn encode_compact(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.topic_name,
            self.read_queue_nums,
            self.write_queue_nums,
            self.perm,
            self.topic_filter_type
        )
    }

    /// Parses `encode_compact` output; `None` unless there are exactly five fields.
    pub fn decode_compact(text: &str) -> Option<TopicConfig> {
        let parts: Vec<&str> = text.split(' ').collect();
        let [name, read, write, perm, filter] = parts.as_slice() else {
            return None;
        };
        Some(TopicConfig {
            order: false,
            perm: perm.parse().ok()?,
            read_queue_nums: read.parse().ok()?,
            topic_filter_type: filter.to_string(),
            topic_name: name.to_string(),
            topic_sys_flag: 0,
            write_queue_nums: write.parse().ok()?,
        })
    }
}

/// A broker's topic table with its version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TopicConfigSerializeWrapper {
    /// The version of the topic table.
    #[serde(rename = "dataVersion")]
    pub data_version: DataVersion,
    /// The topics, by name.
    #[serde(rename = "topicConfigTable")]
    pub topic_config_table: BTreeMap<String, TopicConfig>,
}

/// The body of REGISTER_BROKER.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegisterBrokerBody {
    /// Addresses of the broker's filter servers.
    #[serde(rename = "filterServerList")]
    pub filter_server_list: Vec<String>,
    /// The broker's topics and their version.
    #[serde(rename = "topicConfigSerializeWrapper")]
    pub topic_config_serialize_wrapper: TopicConfigSerializeWrapper,
}

impl RegisterBrokerBody {
    /// Encodes as JSON, or in the zlib form when `compressed` (which drops
    /// `topicSysFlag` and `order`, exactly like Java).
    pub fn encode(&self, compressed: bool) -> Result<Vec<u8>, RemotingError> {
        if !compressed {
            return Ok(fastjson::to_vec(self)?);
        }
        let mut plain = Vec::new();
        let wrapper = &self.topic_config_serialize_wrapper;
        put_chunk(&mut plain, &fastjson::to_vec(&wrapper.data_version)?);
        plain.extend_from_slice(&(wrapper.topic_config_table.len() as i32).to_be_bytes());
        for tc in wrapper.topic_config_table.values() {
            put_chunk(&mut plain, tc.encode_compact().as_bytes());
        }
        put_chunk(&mut plain, &fastjson::to_vec(&self.filter_server_list)?);
        let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
        z.write_all(&plain)?;
        Ok(z.finish()?)
    }

    /// Decodes either form.
    pub fn decode(body: &[u8], compressed: bool) -> Result<RegisterBrokerBody, RemotingError> {
        if !compressed {
            return Ok(fastjson::from_slice(body)?);
        }
        let mut plain = Vec::new();
        ZlibDecoder::new(body)
            .take(MAX_INFLATED)
            .read_to_end(&mut plain)
            .map_err(|e| RemotingError::MalformedBody(format!("inflate: {e}")))?;
        let mut cursor = &plain[..];
        let dv = take_chunk(&mut cursor, "dataVersion")?;
        let mut out = RegisterBrokerBody::default();
        out.topic_config_serialize_wrapper.data_version = fastjson::from_slice(dv)?;
        let count = take_i32(&mut cursor, "topic count")?;
        for _ in 0..count.max(0) {
            let raw = take_chunk(&mut cursor, "topic config")?;
            let text = std::str::from_utf8(raw)
                .map_err(|_| RemotingError::MalformedBody("topic config is not UTF-8".into()))?;
            let tc = TopicConfig::decode_compact(text).ok_or_else(|| {
                RemotingError::MalformedBody(format!("bad topic config entry {text:?}"))
            })?;
            out.topic_config_serialize_wrapper
                .topic_config_table
                .insert(tc.topic_name.clone(), tc);
        }
        let filters = take_chunk(&mut cursor, "filter server list")?;
        // Java logs and continues with an empty list when this part is bad.
        out.filter_server_list = fastjson::from_slice(filters).unwrap_or_default();
        Ok(out)
    }
}

fn put_chunk(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn take_i32(cursor: &mut &[u8], what: &str) -> Result<i32, RemotingError> {
    if cursor.len() < 4 {
        return Err(RemotingError::MalformedBody(format!("truncated at {what}")));
    }
    let (head, rest) = cursor.split_at(4);
    *cursor = rest;
    Ok(i32::from_be_bytes([head[0], head[1], head[2], head[3]]))
}

fn take_chunk<'a>(cursor: &mut &'a [u8], what: &str) -> Result<&'a [u8], RemotingError> {
    let len = take_i32(cursor, what)?;
    if len < 0 || len as usize > cursor.len() {
        return Err(RemotingError::MalformedBody(format!(
            "{what} length {len} exceeds the {} bytes left",
            cursor.len()
        )));
    }
    let (chunk, rest) = cursor.split_at(len as usize);
    *cursor = rest;
    Ok(chunk)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RegisterBrokerBody {
        let mut body = RegisterBrokerBody::default();
        body.topic_config_serialize_wrapper.data_version = DataVersion {
            counter: 3,
            timestamp: 1_600_000_000_000,
        };
        let mut tc = TopicConfig::new("TopicTest");
        tc.read_queue_nums = 4;
        tc.write_queue_nums = 4;
        body.topic_config_serialize_wrapper
            .topic_config_table
            .insert(tc.topic_name.clone(), tc);
        body
    }

    #[test]
    fn json_form_matches_the_spec_example() {
        let text = String::from_utf8(sample().encode(false).unwrap()).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":3,"timestamp":1600000000000},"#,
                r#""topicConfigTable":{"TopicTest":{"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","#,
                r#""topicName":"TopicTest","topicSysFlag":0,"writeQueueNums":4}}}}"#
            )
        );
        assert_eq!(
            RegisterBrokerBody::decode(text.as_bytes(), false).unwrap(),
            sample()
        );
    }

    #[test]
    fn compressed_form_round_trips() {
        let bytes = sample().encode(true).unwrap();
        assert_eq!(bytes[0], 0x78, "zlib header");
        assert_eq!(RegisterBrokerBody::decode(&bytes, true).unwrap(), sample());
        assert!(RegisterBrokerBody::decode(&bytes[..bytes.len() / 2], true).is_err());
        assert!(RegisterBrokerBody::decode(b"garbage", true).is_err());
    }
}
