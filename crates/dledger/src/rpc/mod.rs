//! DLedger's RPC: JSON bodies over RocketMQ remoting frames.
//!
//! Book: Appendix "Wire protocol" and Part IV "Cluster modes and DLedger". Mirrors
//! `DLedgerRpcNettyService.java` and `protocol/*.java` of DLedger 0.2.2.

pub mod wire;
