//! The errors of the test kit: a binary that is not built yet, a child that never printed
//! its boot line, no free port, or an I/O failure with what was being done.
//! Book chapter: none (test support). RocketMQ 4.8.0 counterpart: none.

use std::path::PathBuf;
use std::time::Duration;

/// What can go wrong while starting servers for a test or an experiment.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The executable is not next to the running one (nor in a folder above it).
    #[error("binary `{name}` not found next to {exe} or in its parent folders; build it first: `{build}`")]
    BinNotFound {
        /// The binary's file name (e.g. `mqnamesrv`).
        name: String,
        /// The running executable whose folder was searched.
        exe: PathBuf,
        /// The cargo command that builds the missing binary.
        build: String,
    },
    /// The child did not print a line containing `needle` in time, or exited first.
    #[error("{program}: no stdout line containing {needle:?} {why}")]
    NoBootLine {
        /// The program that was started.
        program: String,
        /// The text the boot line should contain.
        needle: String,
        /// How waiting ended: "within `<timeout>`" or "before it closed stdout".
        why: String,
    },
    /// No port (set) that satisfies the request could be found on 127.0.0.1.
    #[error("no free {0} on 127.0.0.1")]
    NoFreePort(&'static str),
    /// An I/O failure, with what was being done.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, with the path (e.g. "writing /tmp/x/broker.conf").
        what: String,
        /// The error from the operating system.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }

    pub(crate) fn no_boot_line(program: &str, needle: &str, timeout: Option<Duration>) -> Error {
        Error::NoBootLine {
            program: program.to_string(),
            needle: needle.to_string(),
            why: match timeout {
                Some(t) => format!("within {t:?}"),
                None => "before it closed stdout (did it exit?)".to_string(),
            },
        }
    }
}

/// `Result` with the test kit's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
