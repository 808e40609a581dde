//! Headers of the filter servers (`mqfiltersrv`, class-based filtering, deprecated in
//! 4.x): REGISTER_FILTER_SERVER (301) from a filter server to its broker, and
//! REGISTER_MESSAGE_FILTER_CLASS (302) from a consumer to a filter server.
//! Book: Appendix "Wire protocol" only. Mirrors
//! `org.apache.rocketmq.common.protocol.header.filtersrv`.

command_header! {
    /// REGISTER_FILTER_SERVER (301): a filter server on the broker's host announces
    /// itself.
    RegisterFilterServerRequestHeader {
        /// The filter server's address, `ip:port`.
        filter_server_addr: String = "filterServerAddr", required;
    }

    /// The response header of REGISTER_FILTER_SERVER.
    RegisterFilterServerResponseHeader {
        /// The broker's name.
        broker_name: String = "brokerName", required;
        /// The broker's id.
        broker_id: i64 = "brokerId", default 0;
    }

    /// REGISTER_MESSAGE_FILTER_CLASS (302): a consumer uploads the Java source of its
    /// filter class (the body) to a filter server.
    RegisterMessageFilterClassRequestHeader {
        /// The consumer group.
        consumer_group: String = "consumerGroup", required;
        /// The topic the filter applies to.
        topic: String = "topic", required;
        /// The filter class's name.
        class_name: String = "className", required;
        /// CRC32 of the class source.
        class_crc: i32 = "classCRC", required;
    }
}
