//! Headers of the name server's requests: KV configuration (100-102, 219), broker
//! registration (103, 104, 322), routes (105, 224), WIPE_WRITE_PERM_OF_BROKER (205) and
//! DELETE_TOPIC_IN_NAMESRV (216).
//! Book: Part III "Name server". Mirrors the classes of
//! `org.apache.rocketmq.common.protocol.header.namesrv` and `GetTopicsByClusterRequestHeader`.

command_header! {
    /// PUT_KV_CONFIG (100): store one value in the name server's KV configuration.
    PutKVConfigRequestHeader {
        /// The namespace (`ORDER_TOPIC_CONFIG` holds the order-topic settings).
        namespace: String = "namespace", required;
        /// The key within the namespace.
        key: String = "key", required;
        /// The value.
        value: String = "value", required;
    }

    /// GET_KV_CONFIG (101): read one value.
    GetKVConfigRequestHeader {
        /// The namespace.
        namespace: String = "namespace", required;
        /// The key within the namespace.
        key: String = "key", required;
    }

    /// The response header of GET_KV_CONFIG.
    GetKVConfigResponseHeader {
        /// The value (absent when not found, with QUERY_NOT_FOUND).
        value: String = "value", optional;
    }

    /// DELETE_KV_CONFIG (102): delete one value.
    DeleteKVConfigRequestHeader {
        /// The namespace.
        namespace: String = "namespace", required;
        /// The key within the namespace.
        key: String = "key", required;
    }

    /// GET_KVLIST_BY_NAMESPACE (219): every key and value of a namespace.
    GetKVListByNamespaceRequestHeader {
        /// The namespace.
        namespace: String = "namespace", required;
    }

    /// REGISTER_BROKER (103): a broker announces itself and its topics (the body) every
    /// 30 s to every name server.
    RegisterBrokerRequestHeader {
        /// The broker's name (shared by a master and its slaves).
        broker_name: String = "brokerName", required;
        /// The broker's address, `ip:port`.
        broker_addr: String = "brokerAddr", required;
        /// The broker's cluster.
        cluster_name: String = "clusterName", required;
        /// The address slaves replicate from (`ip:haListenPort`). `@CFNotNull` in 4.8.0,
        /// but 4.8.0 registers a broker without one (it stores a null), so absence is
        /// accepted here too.
        ha_server_addr: String = "haServerAddr", optional;
        /// 0 for the master, above 0 for a slave.
        broker_id: i64 = "brokerId", required;
        /// The body is zlib-compressed (`compressedRegister`).
        compressed: bool = "compressed", default false;
        /// CRC32 of the body (masked to 31 bits); 0 means "not sent".
        body_crc32: i32 = "bodyCrc32", default 0;
    }

    /// The response header of REGISTER_BROKER, read by a slave.
    RegisterBrokerResponseHeader {
        /// The master's HA address.
        ha_server_addr: String = "haServerAddr", optional;
        /// The master's address.
        master_addr: String = "masterAddr", optional;
    }

    /// UNREGISTER_BROKER (104): a broker that shuts down leaves the route table.
    UnRegisterBrokerRequestHeader {
        /// The broker's name.
        broker_name: String = "brokerName", required;
        /// The broker's address.
        broker_addr: String = "brokerAddr", required;
        /// The broker's cluster.
        cluster_name: String = "clusterName", required;
        /// The broker's id.
        broker_id: i64 = "brokerId", required;
    }

    /// QUERY_DATA_VERSION (322): has the name server got the broker's current topic
    /// configuration? (The broker's `DataVersion` is the body.)
    QueryDataVersionRequestHeader {
        /// The broker's name.
        broker_name: String = "brokerName", required;
        /// The broker's address (the only field the name server reads).
        broker_addr: String = "brokerAddr", required;
        /// The broker's cluster.
        cluster_name: String = "clusterName", required;
        /// The broker's id.
        broker_id: i64 = "brokerId", required;
    }

    /// The response header of QUERY_DATA_VERSION.
    QueryDataVersionResponseHeader {
        /// The name server's copy differs from the broker's.
        changed: bool = "changed", required;
    }

    /// GET_ROUTEINFO_BY_TOPIC (105): the queues and brokers of a topic.
    GetRouteInfoRequestHeader {
        /// The topic.
        topic: String = "topic", required;
    }

    /// GET_TOPICS_BY_CLUSTER (224): the topics on a cluster's brokers.
    GetTopicsByClusterRequestHeader {
        /// The cluster name.
        cluster: String = "cluster", required;
    }

    /// WIPE_WRITE_PERM_OF_BROKER (205): take write permission away from a broker in every
    /// route (`mqadmin wipeWritePerm`), so producers move elsewhere.
    WipeWritePermOfBrokerRequestHeader {
        /// The broker name.
        broker_name: String = "brokerName", required;
    }

    /// The response header of WIPE_WRITE_PERM_OF_BROKER.
    WipeWritePermOfBrokerResponseHeader {
        /// How many topic routes changed.
        wipe_topic_count: i32 = "wipeTopicCount", required;
    }

    /// DELETE_TOPIC_IN_NAMESRV (216): forget a topic's routes.
    DeleteTopicInNamesrvRequestHeader {
        /// The topic.
        topic: String = "topic", required;
    }

    /// A header defined by 4.8.0 for registering order-topic settings; no request code
    /// uses it (PUT_KV_CONFIG in namespace `ORDER_TOPIC_CONFIG` does the job).
    RegisterOrderTopicRequestHeader {
        /// The topic.
        topic: String = "topic", required;
        /// The order configuration, `brokerName:queueNums;...`.
        order_topic_string: String = "orderTopicString", required;
    }
}
