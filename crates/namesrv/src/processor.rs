//! The request processor: one match over the request code, like 4.8.0's single
//! `DefaultRequestProcessor`. Unknown codes are logged and get *no reply*, because a
//! 4.8.0 name server's default processor returns null for them (the caller times out).
//! Every handler reads its request through the typed header of `rmq_remoting::protocol::header`;
//! a missing or unparsable field gets SYSTEM_ERROR with a remark naming it (4.8.0 would
//! carry on with a null and fail later; a clear error is kinder and no client relies on it).
//! Book: Part III "Name server". Mirrors `org.apache.rocketmq.namesrv.processor.DefaultRequestProcessor`.

use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};
use rmq_remoting::codes::{request as req, response as resp};
use rmq_remoting::protocol::header::{
    DeleteKVConfigRequestHeader, DeleteTopicInNamesrvRequestHeader, GetKVConfigRequestHeader,
    GetKVConfigResponseHeader, GetKVListByNamespaceRequestHeader, GetRouteInfoRequestHeader,
    GetTopicsByClusterRequestHeader, PutKVConfigRequestHeader, QueryDataVersionRequestHeader,
    QueryDataVersionResponseHeader, RegisterBrokerRequestHeader, RegisterBrokerResponseHeader,
    UnRegisterBrokerRequestHeader, WipeWritePermOfBrokerRequestHeader,
    WipeWritePermOfBrokerResponseHeader,
};
use rmq_remoting::protocol::{
    encode_body, fastjson, DataVersion, RegisterBrokerBody, TopicConfigSerializeWrapper,
};
use rmq_remoting::{Connection, HeaderError, RemotingCommand, RemotingError, RequestProcessor};
use tracing::{debug, info, warn};

use crate::config::parse_properties;
use crate::kv_config::NAMESPACE_ORDER_TOPIC_CONFIG;
use crate::route_table::BrokerRegistration;
use crate::NameServerState;

/// Request versions below this use the legacy register body (TopicConfigSerializeWrapper).
const V3_0_11: i32 = 37;

/// `FAQUrl.suggestTodo(FAQUrl.APPLY_TOPIC_URL)`.
const APPLY_TOPIC_FAQ: &str = "\nSee http://rocketmq.apache.org/docs/faq/ for further details.";

/// Serves every name-server request code.
pub struct NamesrvProcessor {
    state: Arc<NameServerState>,
}

/// Why a request could not be served.
enum Failure {
    Header(HeaderError),
    Body(RemotingError),
}

impl From<HeaderError> for Failure {
    fn from(e: HeaderError) -> Self {
        Failure::Header(e)
    }
}

impl From<RemotingError> for Failure {
    fn from(e: RemotingError) -> Self {
        Failure::Body(e)
    }
}

type Outcome = Result<Option<RemotingCommand>, Failure>;

fn success() -> RemotingCommand {
    RemotingCommand::new_response(resp::SUCCESS, None)
}

impl NamesrvProcessor {
    /// A processor that answers requests against `state`.
    pub fn new(state: Arc<NameServerState>) -> Self {
        NamesrvProcessor { state }
    }

    // ANCHOR: dispatch
    fn handle(&self, ctx: &Arc<Connection>, request: &RemotingCommand) -> Outcome {
        match request.code {
            req::PUT_KV_CONFIG => self.put_kv_config(request),
            req::GET_KV_CONFIG => self.get_kv_config(request),
            req::DELETE_KV_CONFIG => self.delete_kv_config(request),
            req::QUERY_DATA_VERSION => self.query_data_version(request),
            req::REGISTER_BROKER => self.register_broker(ctx, request),
            req::UNREGISTER_BROKER => self.unregister_broker(request),
            req::GET_ROUTEINFO_BY_TOPIC => self.route_by_topic(request),
            req::GET_BROKER_CLUSTER_INFO => body_reply(&self.state.routes.cluster_info()),
            req::WIPE_WRITE_PERM_OF_BROKER => self.wipe_write_perm(ctx, request),
            req::GET_ALL_TOPIC_LIST_FROM_NAMESERVER => {
                body_reply(&self.state.routes.all_topic_list())
            }
            req::DELETE_TOPIC_IN_NAMESRV => {
                let h: DeleteTopicInNamesrvRequestHeader = request.decode_header()?;
                self.state.routes.delete_topic(&h.topic);
                Ok(Some(success()))
            }
            req::GET_KVLIST_BY_NAMESPACE => self.kv_list(request),
            req::GET_TOPICS_BY_CLUSTER => {
                let h: GetTopicsByClusterRequestHeader = request.decode_header()?;
                body_reply(&self.state.routes.topics_by_cluster(&h.cluster))
            }
            req::GET_SYSTEM_TOPIC_LIST_FROM_NS => {
                body_reply(&self.state.routes.system_topic_list())
            }
            req::GET_UNIT_TOPIC_LIST => body_reply(&self.state.routes.unit_topics()),
            req::GET_HAS_UNIT_SUB_TOPIC_LIST => {
                body_reply(&self.state.routes.has_unit_sub_topics())
            }
            req::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST => {
                body_reply(&self.state.routes.has_unit_sub_ununit_topics())
            }
            req::UPDATE_NAMESRV_CONFIG => self.update_config(ctx, request),
            req::GET_NAMESRV_CONFIG => {
                let text = self.state.config.read().to_properties();
                Ok(Some(success().with_body(text.into_bytes())))
            }
            code => {
                warn!(peer = %ctx.remote_addr, code, "request code not supported by the name server; no reply (as 4.8.0)");
                Ok(None)
            }
        }
    }
    // ANCHOR_END: dispatch

    fn put_kv_config(&self, r: &RemotingCommand) -> Outcome {
        let h: PutKVConfigRequestHeader = r.decode_header()?;
        Ok(Some(
            match self.state.kv.put(&h.namespace, &h.key, &h.value) {
                Ok(()) => success(),
                Err(e) => persist_failed(e),
            },
        ))
    }

    fn get_kv_config(&self, r: &RemotingCommand) -> Outcome {
        let h: GetKVConfigRequestHeader = r.decode_header()?;
        Ok(Some(match self.state.kv.get(&h.namespace, &h.key) {
            Some(value) => success().with_header(&GetKVConfigResponseHeader { value: Some(value) }),
            None => RemotingCommand::new_response(
                resp::QUERY_NOT_FOUND,
                format!("No config item, Namespace: {} Key: {}", h.namespace, h.key),
            ),
        }))
    }

    fn delete_kv_config(&self, r: &RemotingCommand) -> Outcome {
        let h: DeleteKVConfigRequestHeader = r.decode_header()?;
        Ok(Some(match self.state.kv.delete(&h.namespace, &h.key) {
            Ok(()) => success(),
            Err(e) => persist_failed(e),
        }))
    }

    fn kv_list(&self, r: &RemotingCommand) -> Outcome {
        let h: GetKVListByNamespaceRequestHeader = r.decode_header()?;
        let ns = &h.namespace;
        match self.state.kv.namespace(ns) {
            Some(table) => body_reply(&table),
            None => Ok(Some(RemotingCommand::new_response(
                resp::QUERY_NOT_FOUND,
                format!("No config item, Namespace: {ns}"),
            ))),
        }
    }

    fn query_data_version(&self, r: &RemotingCommand) -> Outcome {
        let h: QueryDataVersionRequestHeader = r.decode_header()?;
        let addr = h.broker_addr.as_str();
        let version: DataVersion =
            fastjson::from_slice(r.body_bytes()).map_err(RemotingError::from)?;
        let routes = &self.state.routes;
        let changed = routes.is_broker_topic_config_changed(addr, &version);
        if !changed {
            routes.touch_broker(addr);
        }
        let mut reply = success().with_header(&QueryDataVersionResponseHeader { changed });
        if let Some(ours) = routes.query_broker_data_version(addr) {
            reply = reply.with_body(encode_body(&ours)?);
        }
        Ok(Some(reply))
    }

    // ANCHOR: register
    fn register_broker(&self, ctx: &Arc<Connection>, r: &RemotingCommand) -> Outcome {
        let h: RegisterBrokerRequestHeader = r.decode_header()?;
        if h.body_crc32 != 0 {
            let actual = (crc32fast::hash(r.body_bytes()) & 0x7FFF_FFFF) as i32;
            if actual != h.body_crc32 {
                warn!(peer = %ctx.remote_addr, "receive registerBroker request, crc32 not match");
                return Ok(Some(RemotingCommand::new_response(
                    resp::SYSTEM_ERROR,
                    "crc32 not match".to_string(),
                )));
            }
        }
        let (wrapper, filters) = match &r.body {
            None => (TopicConfigSerializeWrapper::default(), None),
            Some(body) if r.version >= V3_0_11 => {
                let b = RegisterBrokerBody::decode(body, h.compressed)?;
                (b.topic_config_serialize_wrapper, Some(b.filter_server_list))
            }
            Some(body) => (
                fastjson::from_slice(body).map_err(RemotingError::from)?,
                None,
            ),
        };
        let registration = BrokerRegistration {
            cluster_name: h.cluster_name,
            broker_addr: h.broker_addr,
            broker_name: h.broker_name,
            broker_id: h.broker_id,
            ha_server_addr: h.ha_server_addr.unwrap_or_default(),
            topic_config_wrapper: wrapper,
            filter_server_list: filters,
            conn: Some(ctx.clone()),
        };
        let result = self.state.routes.register_broker(registration);
        let mut reply = success().with_header(&RegisterBrokerResponseHeader {
            ha_server_addr: result.ha_server_addr,
            master_addr: result.master_addr,
        });
        if let Some(order) = self.state.kv.namespace(NAMESPACE_ORDER_TOPIC_CONFIG) {
            reply.body = Some(encode_body(&order)?);
        }
        Ok(Some(reply))
    }
    // ANCHOR_END: register

    fn unregister_broker(&self, r: &RemotingCommand) -> Outcome {
        let h: UnRegisterBrokerRequestHeader = r.decode_header()?;
        self.state.routes.unregister_broker(
            &h.cluster_name,
            &h.broker_addr,
            &h.broker_name,
            h.broker_id,
        );
        Ok(Some(success()))
    }

    // ANCHOR: route_by_topic
    fn route_by_topic(&self, r: &RemotingCommand) -> Outcome {
        let h: GetRouteInfoRequestHeader = r.decode_header()?;
        let topic = h.topic.as_str();
        let Some(mut route) = self.state.routes.pickup_topic_route_data(topic) else {
            return Ok(Some(RemotingCommand::new_response(
                resp::TOPIC_NOT_EXIST,
                format!(
                    "No topic route info in name server for the topic: {topic}{APPLY_TOPIC_FAQ}"
                ),
            )));
        };
        if self.state.config.read().order_message_enable {
            route.order_topic_conf = self.state.kv.get(NAMESPACE_ORDER_TOPIC_CONFIG, topic);
        }
        body_reply(&route)
    }
    // ANCHOR_END: route_by_topic

    fn wipe_write_perm(&self, ctx: &Arc<Connection>, r: &RemotingCommand) -> Outcome {
        let h: WipeWritePermOfBrokerRequestHeader = r.decode_header()?;
        let count = self.state.routes.wipe_write_perm_of_broker(&h.broker_name);
        info!(broker = %h.broker_name, client = %ctx.remote_addr, count, "wipe write perm of broker");
        Ok(Some(success().with_header(
            &WipeWritePermOfBrokerResponseHeader {
                wipe_topic_count: count,
            },
        )))
    }

    fn update_config(&self, ctx: &Arc<Connection>, r: &RemotingCommand) -> Outcome {
        info!(client = %ctx.remote_addr, "updateConfig called");
        let Ok(text) = std::str::from_utf8(r.body_bytes()) else {
            return Ok(Some(RemotingCommand::new_response(
                resp::SYSTEM_ERROR,
                "string2Properties error".to_string(),
            )));
        };
        let mut config = self.state.config.write();
        // Only settings that can change at runtime take effect; the port does not move.
        let mut updated = config.clone();
        match updated.apply(&parse_properties(text)) {
            Ok(unknown) => {
                for key in unknown {
                    warn!(key, "updateConfig: unknown key ignored");
                }
                config.order_message_enable = updated.order_message_enable;
                config.broker_channel_expired_time = updated.broker_channel_expired_time;
                Ok(Some(success()))
            }
            Err(e) => Ok(Some(RemotingCommand::new_response(
                resp::SYSTEM_ERROR,
                e.to_string(),
            ))),
        }
    }
}

fn body_reply<T: serde::Serialize>(body: &T) -> Outcome {
    Ok(Some(success().with_body(encode_body(body)?)))
}

fn persist_failed(e: crate::kv_config::KvConfigError) -> RemotingCommand {
    warn!(error = %e, "kv config not persisted");
    RemotingCommand::new_response(resp::SYSTEM_ERROR, e.to_string())
}

impl RequestProcessor for NamesrvProcessor {
    fn process(
        &self,
        ctx: Arc<Connection>,
        request: RemotingCommand,
    ) -> BoxFuture<'static, Option<RemotingCommand>> {
        debug!(peer = %ctx.remote_addr, code = request.code, "receive request");
        // Every operation is a quick in-memory update (plus a tiny file write for KV),
        // so it runs right here, in frame order; the future is already complete.
        let reply = match self.handle(&ctx, &request) {
            Ok(reply) => reply,
            Err(Failure::Header(e)) => {
                warn!(peer = %ctx.remote_addr, code = request.code, error = %e, "bad request header");
                Some(RemotingCommand::new_response(
                    resp::SYSTEM_ERROR,
                    e.to_string(),
                ))
            }
            Err(Failure::Body(e)) => {
                warn!(peer = %ctx.remote_addr, code = request.code, error = %e, "bad request body");
                Some(RemotingCommand::new_response(
                    resp::SYSTEM_ERROR,
                    e.to_string(),
                ))
            }
        };
        futures::future::ready(reply).boxed()
    }

    // ANCHOR: on_close
    fn on_close(&self, ctx: &Connection) {
        self.state.routes.on_connection_closed(ctx.id);
    }
    // ANCHOR_END: on_close
}
