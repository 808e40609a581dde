//! Message trace: a traced producer or push consumer records, for every message, when it was
//! sent and by whom, and when and how each consumer group handled it. The records are
//! ordinary messages in a trace topic (default `RMQ_SYS_TRACE_TOPIC`), indexed by message id,
//! so any client can read a message's history back with QUERY_MESSAGE.
//!
//! * [`record`]: the trace line format (encode and decode), byte for byte as 4.8.0's.
//! * [`view`]: the lines about one message id, as rows to print (`mqadmin
//!   QueryMsgTraceById`, the console).
//! * [`dispatcher`]: batches events and sends them with an inner producer.
//! * [`hooks`]: the events a traced producer and consumer record.
//!
//! Turn it on with `enable_msg_trace` (and optionally `customized_trace_topic`) in
//! [`ProducerConfig`](crate::producer::ProducerConfig) or
//! [`PushConsumerConfig`](crate::consumer::PushConsumerConfig), as 4.8.0's
//! `new DefaultMQProducer(group, enableMsgTrace, customizedTraceTopic)`.
//! Book: Part II "Consuming" (section "Message trace"). Mirrors the `trace` package of
//! 4.8.0's client (`org.apache.rocketmq.client.trace`).

pub mod dispatcher;
pub mod hooks;
pub mod record;
pub mod view;

pub use dispatcher::{TraceDispatcher, TraceRole, RMQ_SYS_TRACE_TOPIC};
pub use record::{
    decode, encode, ConsumeReturnType, MessageType, TraceBean, TraceContext, TraceDecodeError,
    TraceTransfer, TraceType,
};
pub use view::{views_for, TraceView};
