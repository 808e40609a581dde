//! Headers of the ACL administration requests: UPDATE_AND_CREATE_ACL_CONFIG (50),
//! DELETE_ACL_CONFIG (51), GET_BROKER_CLUSTER_ACL_INFO (52),
//! UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53) and GET_BROKER_CLUSTER_ACL_CONFIG (54).
//!
//! Permission strings are `DENY`, `PUB`, `SUB` or `PUB|SUB`; a list of them is
//! `name=PERM,name=PERM`.
//! Book: Appendix "Wire protocol" (no chapter covers ACL yet). Mirrors `CreateAccessConfigRequestHeader`,
//! `DeleteAccessConfigRequestHeader`, `UpdateGlobalWhiteAddrsConfigRequestHeader`,
//! `GetBrokerAclConfigResponseHeader`, `GetBrokerClusterAclConfigResponseHeader`.

command_header! {
    /// UPDATE_AND_CREATE_ACL_CONFIG (50): add or change one account in
    /// `plain_acl.yml`.
    CreateAccessConfigRequestHeader {
        /// The account's access key.
        access_key: String = "accessKey", required;
        /// The account's secret key.
        secret_key: String = "secretKey", optional;
        /// Addresses that may use the account without a signature (`192.168.0.*`).
        white_remote_address: String = "whiteRemoteAddress", optional;
        /// The account is an administrator.
        admin: bool = "admin", default false;
        /// The permission on topics not listed in `topic_perms`.
        default_topic_perm: String = "defaultTopicPerm", optional;
        /// The permission on groups not listed in `group_perms`.
        default_group_perm: String = "defaultGroupPerm", optional;
        /// Per-topic permissions, `topic=PERM,...`.
        topic_perms: String = "topicPerms", optional;
        /// Per-group permissions, `group=PERM,...`.
        group_perms: String = "groupPerms", optional;
    }

    /// DELETE_ACL_CONFIG (51): remove one account.
    DeleteAccessConfigRequestHeader {
        /// The account's access key.
        access_key: String = "accessKey", required;
    }

    /// UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53): replace the global white list.
    UpdateGlobalWhiteAddrsConfigRequestHeader {
        /// Addresses, separated by commas.
        global_white_addrs: String = "globalWhiteAddrs", required;
    }

    /// The response header of GET_BROKER_CLUSTER_ACL_INFO (52): which ACL configuration
    /// a broker runs.
    GetBrokerAclConfigResponseHeader {
        /// The ACL configuration's `DataVersion`, as JSON.
        version: String = "version", required;
        /// The broker's name.
        broker_name: String = "brokerName", required;
        /// The broker's address.
        broker_addr: String = "brokerAddr", required;
        /// The broker's cluster.
        cluster_name: String = "clusterName", required;
    }

    /// The response header of GET_BROKER_CLUSTER_ACL_CONFIG (54). Its only Java field, a
    /// list of accounts, is never set: the accounts travel in the body
    /// (`GetBrokerClusterAclConfigResponseBody`), so no key is ever sent.
    GetBrokerClusterAclConfigResponseHeader {}
}
