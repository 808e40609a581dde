//! Headers of the calls that reach a client: NOTIFY_CONSUMER_IDS_CHANGED (40),
//! RESET_CONSUMER_CLIENT_OFFSET (220) and INVOKE_BROKER_TO_RESET_OFFSET (222),
//! GET_CONSUMER_STATUS_FROM_CLIENT (221) and INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223),
//! GET_CONSUMER_RUNNING_INFO (307) and CONSUME_MESSAGE_DIRECTLY (309).
//!
//! Clients dial brokers and nobody dials clients, so an admin tool asks a broker, and
//! the broker sends the request down the client's own connection, usually with the
//! same header. Their bodies (`ResetOffsetBody`, `GetConsumerStatusBody`,
//! `ConsumerRunningInfo`, `ConsumeMessageDirectlyResult`) are JSON documents.
//! Book: Part II "Consumer offsets" (Resetting offsets). Mirrors
//! `NotifyConsumerIdsChangedRequestHeader`, `ResetOffsetRequestHeader`,
//! `GetConsumerStatusRequestHeader`, `GetConsumerRunningInfoRequestHeader`,
//! `ConsumeMessageDirectlyResultRequestHeader`.

command_header! {
    /// NOTIFY_CONSUMER_IDS_CHANGED (40, oneway, broker to consumer): the members of a
    /// consumer group changed; rebalance now.
    NotifyConsumerIdsChangedRequestHeader {
        /// The consumer group whose members changed.
        consumer_group: String = "consumerGroup", required;
    }

    /// INVOKE_BROKER_TO_RESET_OFFSET (222, admin to broker) and
    /// RESET_CONSUMER_CLIENT_OFFSET (220, broker to consumer): move a group's offsets in
    /// a topic to a point in time.
    ResetOffsetRequestHeader {
        /// The topic.
        topic: String = "topic", required;
        /// The consumer group.
        group: String = "group", required;
        /// The time to go back (or forward) to, in ms since the epoch.
        timestamp: i64 = "timestamp", default 0;
        /// Reset even when the new offset is ahead of the consumed one.
        is_force: bool = "isForce", default false;
    }

    /// INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223, admin to broker) and
    /// GET_CONSUMER_STATUS_FROM_CLIENT (221, broker to consumer): each client's offsets
    /// of a topic.
    GetConsumerStatusRequestHeader {
        /// The topic.
        topic: String = "topic", required;
        /// The consumer group.
        group: String = "group", required;
        /// Only this client (`ip:port`); absent or empty means all.
        client_addr: String = "clientAddr", optional;
    }

    /// GET_CONSUMER_RUNNING_INFO (307): the state of one consumer (subscriptions, queues,
    /// rates, optionally a thread dump), asked through the broker.
    GetConsumerRunningInfoRequestHeader {
        /// The consumer group.
        consumer_group: String = "consumerGroup", required;
        /// The client id of the consumer.
        client_id: String = "clientId", required;
        /// Include a Java thread dump.
        jstack_enable: bool = "jstackEnable", default false;
    }

    /// CONSUME_MESSAGE_DIRECTLY (309): have one consumer consume one stored message now
    /// and report the result (`mqadmin consumeMessage`).
    ConsumeMessageDirectlyResultRequestHeader {
        /// The consumer group.
        consumer_group: String = "consumerGroup", required;
        /// The client id of the consumer.
        client_id: String = "clientId", optional;
        /// The offset message id of the message.
        msg_id: String = "msgId", optional;
        /// The broker that stores the message.
        broker_name: String = "brokerName", optional;
    }
}
