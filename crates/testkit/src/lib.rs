//! Test support shared by the integration tests of `rmq-namesrv`, `rmq-broker`, `rmq-client`
//! and `rmq-admin`, and by the experiments: find our built binaries, spawn them with piped
//! stdout, wait for their boot line, hand out free ports on 127.0.0.1, write a `broker.conf`,
//! and kill (and reap) every child when its guard is dropped.
//!
//! Why: each test crate used to carry its own copy of this plumbing; one version keeps the
//! port rules (the broker's `listenPort-2` VIP channel and `listenPort+1` HA port) and the
//! error messages in one place.
//!
//! Book chapter: none (test support). RocketMQ 4.8.0 counterpart: the `IntegrationTestBase`
//! of its `test` module, which starts a name server and brokers in-process for its tests.

#![warn(missing_docs)]

mod book_section;
mod error;
mod ports;
mod process;
mod servers;

pub use book_section::check_generated_section;
pub use error::{Error, Result};
pub use ports::{free_broker_port, free_port, free_ports};
pub use process::{sibling_bin, spawn_wait, Proc, BOOT_TIMEOUT};
pub use servers::{
    dledger_conf, start_broker, start_namesrv, BrokerConf, BROKER_BOOT_LINE, NAMESRV_LISTEN_MARK,
};
