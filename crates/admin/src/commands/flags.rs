//! Flag groups several subcommands share, flattened into their clap `Args` so each option is
//! declared once: the `-b brokerAddr` / `-c clusterName` target pair that most broker-side
//! operations take, and the name-server target of the namesrv-config commands.
//!
//! 4.8.0 declares these options again in every `SubCommand.buildCommandlineOptions`; the short
//! and long names are the same everywhere, only the one-line descriptions vary.
//! Book: Part III "Operating a cluster with mqadmin". Mirrors the repeated `Option("b",
//! "brokerAddr", ...)` / `Option("c", "clusterName", ...)` declarations of 4.8.0's commands.

/// `-b <brokerAddr>` or `-c <clusterName>`: one broker, or every master of a cluster.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BrokerOrCluster {
    /// broker address (host:port)
    #[arg(short = 'b', long = "brokerAddr", value_name = "arg")]
    pub broker_addr: Option<String>,
    /// cluster name (every master of it)
    #[arg(short = 'c', long = "clusterName", value_name = "arg")]
    pub cluster_name: Option<String>,
}

impl BrokerOrCluster {
    /// `-b`, trimmed as 4.8.0 trims it.
    pub fn broker(&self) -> Option<&str> {
        self.broker_addr.as_deref().map(str::trim)
    }

    /// `-c`, trimmed.
    pub fn cluster(&self) -> Option<&str> {
        self.cluster_name.as_deref().map(str::trim)
    }
}

/// `-n` and `-t <topic>`: the name servers and one topic, what most topic-level commands start
/// with.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NsTopic {
    /// `-n` (else `$NAMESRV_ADDR`).
    #[command(flatten)]
    pub common: super::CommonArgs,
    /// topic name
    #[arg(short = 't', long = "topic", value_name = "arg")]
    pub topic: String,
}

impl NsTopic {
    /// `-t`, trimmed as 4.8.0 trims it.
    pub fn topic(&self) -> &str {
        self.topic.trim()
    }
}
