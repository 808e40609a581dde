//! Namespaces: several tenants share one cluster by prefixing their topics and groups with
//! `<namespace>%`. A client configured with a namespace wraps every topic and group it sends
//! to the broker (`Orders` -> `shop%Orders`, the retry topic of group `cg` ->
//! `%RETRY%shop%cg`) and unwraps what it hands to the application, so the application keeps
//! using the short names. System topics and groups (`TBW102`, `RMQ_SYS_TRACE_TOPIC`,
//! `rmq_sys_*`, `CID_RMQ_SYS_*`, ...) are never wrapped.
//! Book: Part II "Clients and rebalancing" (namespaces). Mirrors 4.8.0's
//! `common.protocol.NamespaceUtil` and `ClientConfig.withNamespace`/`withoutNamespace`.

use rmq_remoting::protocol::MessageQueue;

use crate::util::{DLQ_GROUP_TOPIC_PREFIX, RETRY_GROUP_TOPIC_PREFIX};

/// `NamespaceUtil.NAMESPACE_SEPARATOR`.
pub const NAMESPACE_SEPARATOR: char = '%';
/// `TopicValidator.SYSTEM_TOPIC_PREFIX` (lower case, as 4.8.0 compares it).
const SYSTEM_TOPIC_PREFIX: &str = "rmq_sys_";
/// `MixAll.CID_RMQ_SYS_PREFIX`: system consumer groups.
const CID_RMQ_SYS_PREFIX: &str = "CID_RMQ_SYS_";
/// `TopicValidator`'s system topics.
const SYSTEM_TOPICS: &[&str] = &[
    "TBW102",
    "SCHEDULE_TOPIC_XXXX",
    "BenchmarkTest",
    "RMQ_SYS_TRANS_HALF_TOPIC",
    "RMQ_SYS_TRACE_TOPIC",
    "RMQ_SYS_TRANS_OP_HALF_TOPIC",
    "TRANS_CHECK_MAX_TIME_TOPIC",
    "SELF_TEST_TOPIC",
    "OFFSET_MOVED_EVENT",
];

fn is_system_resource(resource: &str) -> bool {
    SYSTEM_TOPICS.contains(&resource)
        || resource.starts_with(SYSTEM_TOPIC_PREFIX)
        || resource.starts_with(CID_RMQ_SYS_PREFIX)
}

/// The `%RETRY%`/`%DLQ%` prefix of `resource`, if any, and the rest.
fn split_retry_dlq(resource: &str) -> (&'static str, &str) {
    if let Some(rest) = resource.strip_prefix(RETRY_GROUP_TOPIC_PREFIX) {
        (RETRY_GROUP_TOPIC_PREFIX, rest)
    } else if let Some(rest) = resource.strip_prefix(DLQ_GROUP_TOPIC_PREFIX) {
        (DLQ_GROUP_TOPIC_PREFIX, rest)
    } else {
        ("", resource)
    }
}

/// `wrapNamespace`: `resource` inside `namespace` (`Orders` -> `shop%Orders`,
/// `%RETRY%cg` -> `%RETRY%shop%cg`); unchanged when the namespace is empty, the resource is
/// a system one or already wrapped.
pub fn wrap_namespace(namespace: &str, resource: &str) -> String {
    if namespace.is_empty()
        || resource.is_empty()
        || is_system_resource(resource)
        || is_already_with_namespace(resource, namespace)
    {
        return resource.to_string();
    }
    let (prefix, rest) = split_retry_dlq(resource);
    format!("{prefix}{namespace}{NAMESPACE_SEPARATOR}{rest}")
}

/// `withoutNamespace(resource)`: drops whatever namespace `resource` carries.
pub fn without_namespace(resource: &str) -> String {
    if resource.is_empty() || is_system_resource(resource) {
        return resource.to_string();
    }
    let (prefix, rest) = split_retry_dlq(resource);
    match rest.find(NAMESPACE_SEPARATOR) {
        Some(i) if i > 0 => format!("{prefix}{}", &rest[i + 1..]),
        _ => resource.to_string(),
    }
}

/// `withoutNamespace(resource, namespace)`: drops `namespace` only.
pub fn without_namespace_of(resource: &str, namespace: &str) -> String {
    if resource.is_empty() || namespace.is_empty() {
        return resource.to_string();
    }
    let (_, rest) = split_retry_dlq(resource);
    if rest.starts_with(&format!("{namespace}{NAMESPACE_SEPARATOR}")) {
        without_namespace(resource)
    } else {
        resource.to_string()
    }
}

/// `isAlreadyWithNamespace`.
pub fn is_already_with_namespace(resource: &str, namespace: &str) -> bool {
    if namespace.is_empty() || resource.is_empty() || is_system_resource(resource) {
        return false;
    }
    let (_, rest) = split_retry_dlq(resource);
    rest.starts_with(&format!("{namespace}{NAMESPACE_SEPARATOR}"))
}

/// `wrapNamespaceAndRetry`: the retry topic of `group` inside `namespace`.
pub fn wrap_namespace_and_retry(namespace: &str, group: &str) -> Option<String> {
    (!group.is_empty()).then(|| {
        format!(
            "{RETRY_GROUP_TOPIC_PREFIX}{}",
            wrap_namespace(namespace, group)
        )
    })
}

/// `getNamespaceFromResource`: the namespace `resource` carries ("" when none).
pub fn namespace_from_resource(resource: &str) -> String {
    if resource.is_empty() || is_system_resource(resource) {
        return String::new();
    }
    let (_, rest) = split_retry_dlq(resource);
    match rest.find(NAMESPACE_SEPARATOR) {
        Some(i) if i > 0 => rest[..i].to_string(),
        _ => String::new(),
    }
}

/// `queueWithNamespace`: the queue with its topic wrapped.
pub fn queue_with_namespace(namespace: &str, mq: &MessageQueue) -> MessageQueue {
    MessageQueue {
        topic: wrap_namespace(namespace, &mq.topic),
        ..mq.clone()
    }
}

/// The queue with its topic unwrapped (as `queueWithoutNamespace` does for send results).
pub fn queue_without_namespace(namespace: &str, mq: &MessageQueue) -> MessageQueue {
    MessageQueue {
        topic: without_namespace_of(&mq.topic, namespace),
        ..mq.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_and_unwrap_follow_namespace_util() {
        assert_eq!(wrap_namespace("shop", "Orders"), "shop%Orders");
        assert_eq!(wrap_namespace("shop", "%RETRY%cg"), "%RETRY%shop%cg");
        assert_eq!(wrap_namespace("shop", "%DLQ%cg"), "%DLQ%shop%cg");
        // Idempotent, and never for system resources or without a namespace.
        assert_eq!(wrap_namespace("shop", "shop%Orders"), "shop%Orders");
        assert_eq!(wrap_namespace("shop", "%RETRY%shop%cg"), "%RETRY%shop%cg");
        assert_eq!(wrap_namespace("shop", "TBW102"), "TBW102");
        assert_eq!(
            wrap_namespace("shop", "RMQ_SYS_TRACE_TOPIC"),
            "RMQ_SYS_TRACE_TOPIC"
        );
        assert_eq!(
            wrap_namespace("shop", "rmq_sys_anything"),
            "rmq_sys_anything"
        );
        assert_eq!(wrap_namespace("shop", "CID_RMQ_SYS_x"), "CID_RMQ_SYS_x");
        assert_eq!(wrap_namespace("", "Orders"), "Orders");
        // Another namespace is not "already wrapped": 4.8.0 wraps again.
        assert_eq!(wrap_namespace("shop", "bank%Orders"), "shop%bank%Orders");

        assert_eq!(without_namespace("shop%Orders"), "Orders");
        assert_eq!(without_namespace("%RETRY%shop%cg"), "%RETRY%cg");
        assert_eq!(without_namespace("%DLQ%shop%cg"), "%DLQ%cg");
        assert_eq!(without_namespace("Orders"), "Orders");
        // A leading separator is not a namespace (index > 0).
        assert_eq!(without_namespace("%Orders"), "%Orders");
        assert_eq!(without_namespace_of("shop%Orders", "shop"), "Orders");
        assert_eq!(without_namespace_of("bank%Orders", "shop"), "bank%Orders");
        assert_eq!(without_namespace_of("%RETRY%shop%cg", "shop"), "%RETRY%cg");

        assert_eq!(
            wrap_namespace_and_retry("shop", "cg").as_deref(),
            Some("%RETRY%shop%cg")
        );
        assert_eq!(wrap_namespace_and_retry("shop", ""), None);
        assert_eq!(namespace_from_resource("%DLQ%shop%cg"), "shop");
        assert_eq!(namespace_from_resource("Orders"), "");
        assert!(is_already_with_namespace("%RETRY%shop%cg", "shop"));
        assert!(!is_already_with_namespace("RMQ_SYS_TRACE_TOPIC", "RMQ"));

        let mq = MessageQueue {
            topic: "Orders".into(),
            broker_name: "b".into(),
            queue_id: 1,
        };
        let wrapped = queue_with_namespace("shop", &mq);
        assert_eq!(wrapped.topic, "shop%Orders");
        assert_eq!(queue_without_namespace("shop", &wrapped), mq);
    }
}
