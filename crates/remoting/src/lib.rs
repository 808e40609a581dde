//! rmq-remoting: RocketMQ 4.x remoting in Rust — the frame codec, `RemotingCommand`,
//! request/response codes, a tokio server and client with opaque matching, and the
//! JSON bodies name servers, brokers and tools exchange.
//!
//! Book: Appendix "Wire protocol" (frame layout, header encodings, opaque matching)
//! and Part III "Name server" (route bodies). Mirrors the `rocketmq-remoting` module
//! of 4.8.0 plus the body classes of `rocketmq-common` (`protocol.route`, `protocol.body`).
//!
//! # Public API (stable; additions only)
//!
//! ```text
//! command::RemotingCommand { code, language, version, opaque, flag, remark: Option<String>,
//!     ext_fields: HashMap<String,String>, body: Option<Bytes>, serialize_type }
//!   new_request(code) / new_response(code, remark: impl IntoRemark /* None, &str, String, Option<String> */)
//!   is_response() is_oneway() mark_oneway() mark_response()
//!   with_ext(k, v: impl ToString) with_body(b) with_remark(s) with_opaque(o) put_ext(k, v)
//!   ext(&str) -> Option<&str>; required_ext(&str) -> Result<&str, HeaderError>
//!   ext_i32/ext_i64/ext_bool(&str) -> Result<Option<_>, HeaderError>   (blank = None; "1"/"0" are booleans)
//!   required_i32/required_i64/required_bool(&str) -> Result<_, HeaderError>
//!   body_bytes() -> &[u8]
//! codes::{VERSION (=373), request::*, response::*}          Java names, i32
//! language::{LanguageCode, SerializeType}
//! codec::{RemotingCodec::new(max_frame_len), DEFAULT_MAX_FRAME_LEN (16 MiB), encode_frame(cmd), decode_frame_body}
//! connection::{Connection, RequestProcessor, next_opaque}
//!   trait RequestProcessor { fn process(&self, Arc<Connection>, RemotingCommand)
//!       -> BoxFuture<'static, Option<RemotingCommand>>;  fn on_close(&self, &Connection) {} }
//!   Connection { pub id, pub remote_addr, pub local_addr }
//!     invoke(cmd, timeout).await -> Result<RemotingCommand, RemotingError>
//!     send_oneway(cmd).await, send(cmd).await, close(), is_closed(), closed().await
//! server::RemotingServer::bind(addr).await?  .with_max_frame_len(n)  .with_idle_timeout(Option<Duration>)
//!     .local_addr()?      (idle default 120 s like serverChannelMaxIdleTimeSeconds)
//!     .serve(Arc<dyn RequestProcessor>).await  /  .serve_until(processor, shutdown_future).await
//! client::RemotingClient::new() / with_processor(p) / build(p, connect_timeout, max_frame_len)
//!     invoke(addr, cmd, timeout).await, invoke_oneway(addr, cmd).await, connection(addr).await,
//!     close_connection(addr), shutdown(), set_rpc_hook(Arc<dyn RpcHook>), apply_rpc_hook(addr, &mut cmd)
//!   trait RpcHook { fn before_request(&self, remote_addr: &str, cmd: &mut RemotingCommand) }
//! acl::{content(ext_fields, body), signature(content, secret_key), sign_request(cmd, ak, sk, token),
//!     java_string_cmp, ACCESS_KEY, SIGNATURE, SECURITY_TOKEN, UNSIGNED_UNIQUE_KEY_QUERY}
//! protocol::{encode_body, decode_body, fastjson::{to_string, to_vec, to_string_pretty, from_str,
//!     from_slice, normalize, ObjectKeyMap}, TopicRouteData, QueueData, BrokerData, ClusterInfo,
//!     RegisterBrokerBody{encode(compressed), decode(bytes, compressed)}, TopicConfigSerializeWrapper,
//!     TopicConfig, DataVersion, KVTable, TopicList,
//!     heartbeat::{HeartbeatData, ProducerData, ConsumerData, SubscriptionData, ConsumeType,
//!         MessageModel, ConsumeFromWhere}   (lenient: Go string codeSet, C++ integer enums)
//!     admin::{MessageQueue, ConsumeStats, OffsetWrapper, TopicStatsTable, TopicOffset,
//!         ClientConnection, ConsumerConnection, ProducerConnection, LockBatchRequestBody,
//!         UnlockBatchRequestBody, LockBatchResponseBody, GetConsumerListByGroupResponseBody,
//!         SubscriptionGroupConfig}          (MessageQueue-keyed maps via fastjson::ObjectKeyMap)}
//!     header::{CommandHeader, ExtFields, HeaderInfo, HeaderField, Presence, value::HeaderValue,
//!         REQUEST_CODES (code -> request/response header), ALL_HEADERS, headers_of(code),
//!         one struct per 4.8.0 `*RequestHeader`/`*ResponseHeader`: SendMessageRequestHeader,
//!         SendMessageRequestHeaderV2, PullMessageRequestHeader, RegisterBrokerRequestHeader, ...}
//!   RemotingCommand::with_header(&h) / put_header(&h) / decode_header::<H>() -> Result<H, HeaderError>
//!   SendMessageRequestHeader::from_request(&cmd)   (V1 or V2 by request code)
//! error::{RemotingError, HeaderError{Missing, Invalid, Check}}
//! ```
//!
//! Behaviour worth knowing:
//! * Responses are built in JSON (`new_response` defaults to `SerializeType::Json`), as a
//!   4.8.0 server does; every extFields value is written as a JSON string. Requests in
//!   either encoding are accepted.
//! * The server fills a response's opaque and response flag; oneway requests get no reply.
//!   A processor returning `None` sends nothing (4.8.0's behaviour for unknown codes).
//! * Custom headers are read as 4.8.0's `decodeCommandCustomHeader` reads them
//!   (`Integer.parseInt`, `Boolean.parseBoolean`, `@CFNotNull`), except that a missing
//!   required field is refused at once (`the custom field <x> is null`) instead of failing
//!   later with a NullPointerException. See `protocol::header`.
//! * A frame larger than the maximum, or one whose header does not parse, closes the
//!   connection with a `warn!` line; nothing panics on input.
//! * Deviation from the contract: `TopicConfig`/`DataVersion` live in `protocol::register`
//!   (rmq-common had none yet); their JSON equals the common ones.

#![warn(missing_docs)]

pub mod acl;
pub mod client;
pub mod codec;
pub mod codes;
pub mod command;
pub mod connection;
pub mod error;
pub mod header_binary;
pub mod header_json;
pub mod language;
pub mod protocol;
pub mod server;

pub use client::{RemotingClient, RpcHook};
pub use codec::RemotingCodec;
pub use command::{IntoRemark, RemotingCommand};
pub use connection::{Connection, RequestProcessor};
pub use error::{HeaderError, RemotingError};
pub use language::{LanguageCode, SerializeType};
pub use server::RemotingServer;
