//! `rmq-inspect`: an independent reader and verifier of a RocketMQ 4.8.0 store directory.
//!
//! It exists so that the files our `rmq-store` writes (and the files a real Java 4.8.0 broker
//! writes) can be read and checked by code that shares nothing with the writer except the
//! record layout in `rmq-common`. Every file format is parsed here from the bytes: the commit
//! log (`CommitLog`), the consume queues (`ConsumeQueue`), the index files (`IndexFile`,
//! `IndexHeader`) and the checkpoint (`StoreCheckpoint`).
//!
//! Book: Part I "Storage files" — each chapter's "Try it" runs `rmq-inspect store` on the
//! store it just wrote, and `rmq-inspect verify` is the chapter's checklist in code.
//!
//! Layout of the crate: one module per file kind ([`commitlog`], [`consume_queue`], [`index`],
//! [`checkpoint`], [`consume_queue_ext`] for the SQL92 filter's extension files, and
//! [`dledger`] for a DLedger store, whose data files are the commit log), [`store`] loads a
//! whole directory, [`verify`] runs every cross-check and [`show`] prints the readable tables.

#![warn(missing_docs)]

pub mod checkpoint;
pub mod commitlog;
pub mod consume_queue;
pub mod consume_queue_ext;
pub mod dledger;
pub mod error;
pub mod files;
pub mod index;
pub mod record;
pub mod show;
pub mod store;
pub mod table;
pub mod verify;
pub mod violation;

pub use error::InspectError;
pub use store::{Options, StoreImage};
pub use verify::{verify_store, VerifyReport};
pub use violation::{Violation, ViolationKind};
