//! Registration with the name servers: at start, every registerNameServerPeriod (30 s) and at
//! once when topics change; unregistration on clean shutdown. Mirrors
//! `BrokerController.registerBrokerAll` and `BrokerOuterAPI.registerBrokerAll/unregisterBrokerAll`.
//! Book: Part III, "How brokers announce themselves".

use crate::broker::Broker;
use rmq_remoting::codes::{request, response};
use rmq_remoting::protocol::header::{
    RegisterBrokerRequestHeader, RegisterBrokerResponseHeader, UnRegisterBrokerRequestHeader,
};
use rmq_remoting::protocol::{RegisterBrokerBody, TopicConfig, TopicConfigSerializeWrapper};
use rmq_remoting::RemotingCommand;
use std::sync::Arc;
use std::time::Duration;

// ANCHOR: register_all
/// Registers with every configured name server once; returns how many accepted.
pub async fn register_all(broker: &Broker) -> usize {
    let cfg = &broker.config();
    let body = RegisterBrokerBody {
        filter_server_list: vec![],
        topic_config_serialize_wrapper: announced_topics(
            broker.topics().snapshot(),
            cfg.broker_permission,
        ),
    };
    let bytes = match body.encode(cfg.compressed_register) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("encoding register body failed: {e}");
            return 0;
        }
    };
    let header = RegisterBrokerRequestHeader {
        broker_name: cfg.broker_name.clone(),
        broker_addr: cfg.broker_addr(),
        cluster_name: cfg.broker_cluster_name.clone(),
        ha_server_addr: Some(format!("{}:{}", cfg.broker_ip1, cfg.listen_port + 1)),
        broker_id: broker.broker_id(),
        compressed: cfg.compressed_register,
        // UtilAll.crc32: the name server checks a non-zero value against the body.
        body_crc32: (crc32fast::hash(&bytes) & 0x7FFF_FFFF) as i32,
    };
    // 4.8.0 registers with every name server at once (one task each, then a latch): a name
    // server that is down or cut off costs its timeout without delaying the others, which
    // matters when a new DLedger leader announces itself.
    let timeout = Duration::from_millis(cfg.register_broker_timeout_ms);
    let calls = cfg.namesrv_list().into_iter().map(|ns| {
        let cmd = RemotingCommand::new_request(request::REGISTER_BROKER)
            .with_header(&header)
            .with_body(bytes.clone());
        async move { (broker.client().invoke(&ns, cmd, timeout).await, ns) }
    });
    let replies = futures::future::join_all(calls).await;
    let mut ok = 0;
    let mut first_reply = true;
    for (reply, ns) in replies {
        match reply {
            Ok(r) if r.code == response::SUCCESS => {
                ok += 1;
                // Every field is optional, so this cannot fail.
                let reply: RegisterBrokerResponseHeader = r.decode_header().unwrap_or_default();
                // 4.8.0 doRegisterBrokerAll: the first reply's masterAddr (absent: unknown) is
                // where a slave copies its config tables from.
                if std::mem::take(&mut first_reply) {
                    broker
                        .slave_sync()
                        .set_master_addr(reply.master_addr.as_deref());
                }
                // A slave may learn where to replicate from (4.8.0 registerBrokerAll).
                broker.replication().on_registered(&reply);
            }
            Ok(r) => tracing::warn!("register to {ns} refused: {} {:?}", r.code, r.remark),
            Err(e) => tracing::warn!("register to {ns} failed: {e}"),
        }
    }
    ok
}
// ANCHOR_END: register_all

/// The topics as the name servers get them. A broker that is not both readable and writable
/// (`brokerPermission` 4, 2 or 0) announces every topic with its own permission instead of the
/// topic's, so routes steer producers (no write bit) or consumers (no read bit) away from it,
/// while topics.json keeps the topics' own permissions. Like 4.8.0's `registerBrokerAll`, the
/// announced config is a fresh one with only name, queue counts and permission: the order flag,
/// filter type and topic sys flag go back to their defaults.
pub fn announced_topics(
    mut wrapper: TopicConfigSerializeWrapper,
    broker_permission: i32,
) -> TopicConfigSerializeWrapper {
    let read_write = crate::topic::PERM_READ | crate::topic::PERM_WRITE;
    if broker_permission & read_write == read_write {
        return wrapper;
    }
    for tc in wrapper.topic_config_table.values_mut() {
        *tc = TopicConfig {
            read_queue_nums: tc.read_queue_nums,
            write_queue_nums: tc.write_queue_nums,
            perm: broker_permission,
            ..TopicConfig::new(std::mem::take(&mut tc.topic_name))
        };
    }
    wrapper
}

// ANCHOR: register_loop
/// Re-registers periodically and whenever `broker.register_now` is notified (topic changes).
pub async fn register_loop(broker: Arc<Broker>) {
    let period = Duration::from_millis(broker.config().register_name_server_period_ms.max(1000));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = broker.registration_requested() => {}
        }
        register_all(&broker).await;
    }
}
// ANCHOR_END: register_loop

/// The address the name servers list as brokerId 0 of this broker's group (another member).
pub async fn find_master_addr(broker: &Broker) -> Option<String> {
    let me = broker.config().broker_addr();
    for ns in broker.config().namesrv_list() {
        let cmd = RemotingCommand::new_request(request::GET_BROKER_CLUSTER_INFO);
        let Ok(r) = broker
            .client()
            .invoke(&ns, cmd, Duration::from_secs(3))
            .await
        else {
            continue;
        };
        let Ok(info) = rmq_remoting::protocol::decode_body::<rmq_remoting::protocol::ClusterInfo>(
            r.body_bytes(),
        ) else {
            continue;
        };
        if let Some(addr) = info
            .broker_addr_table
            .get(&broker.config().broker_name)
            .and_then(|bd| bd.broker_addrs.get(&0))
            .filter(|a| **a != me)
        {
            return Some(addr.clone());
        }
    }
    None
}

/// Tells every name server this broker is leaving.
pub async fn unregister_all(broker: &Broker) {
    let cfg = &broker.config();
    let header = UnRegisterBrokerRequestHeader {
        broker_name: cfg.broker_name.clone(),
        broker_addr: cfg.broker_addr(),
        cluster_name: cfg.broker_cluster_name.clone(),
        broker_id: broker.broker_id(),
    };
    for ns in cfg.namesrv_list() {
        let cmd = RemotingCommand::new_request(request::UNREGISTER_BROKER).with_header(&header);
        if let Err(e) = broker
            .client()
            .invoke(&ns, cmd, Duration::from_secs(3))
            .await
        {
            tracing::warn!("unregister from {ns} failed: {e}");
        }
    }
}
