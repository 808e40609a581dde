//! Child processes for tests: locate a built binary next to the running executable, spawn it
//! with piped stdout, wait for its boot line, and kill + reap it when the guard is dropped.
//! Book chapter: none (test support). RocketMQ 4.8.0 counterpart: none (its
//! `IntegrationTestBase` starts servers in-process; ours are separate binaries).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use crate::error::{Error, Result};

/// How long a server may take to print its boot line.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(30);

/// A child process killed (SIGKILL) and reaped when dropped.
#[derive(Debug)]
pub struct Proc {
    /// The guarded child; its stdout may already have been taken by [`spawn_wait`].
    pub child: Child,
}

impl Proc {
    /// Guards an already spawned child.
    pub fn new(child: Child) -> Proc {
        Proc { child }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The cargo command that builds the binary `name` of this workspace.
fn build_hint(name: &str) -> String {
    match name {
        "mqnamesrv" | "mqbroker" => "cargo build -p rmq-namesrv -p rmq-broker --bins".into(),
        "mqadmin" => "cargo build -p rmq-admin --bins".into(),
        "mqbench" | "rmq-example" => "cargo build -p rmq-bench --bins".into(),
        _ => "cargo build --workspace --bins".into(),
    }
}

/// The executable `name` of another package, found next to the running executable or in a
/// folder above it (`<target>/debug/deps/<test>` -> `<target>/debug/<name>`).
pub fn sibling_bin(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(Error::io("locating the running executable"))?;
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    exe.ancestors()
        .skip(1)
        .map(|dir| dir.join(&file))
        .find(|p| p.is_file())
        .ok_or_else(|| Error::BinNotFound {
            name: name.to_string(),
            exe: exe.clone(),
            build: build_hint(name),
        })
}

/// Spawns `cmd` with piped stdout (stderr discarded) and waits up to `timeout` for a stdout
/// line containing `needle`; returns the guarded child and that line. `RUST_LOG=info` and
/// `NO_COLOR=1` are set unless `cmd` sets them. Stdout keeps being drained afterwards so the
/// child never blocks on a full pipe.
pub fn spawn_wait(mut cmd: Command, needle: &str, timeout: Duration) -> Result<(Proc, String)> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    for (key, value) in [("RUST_LOG", "info"), ("NO_COLOR", "1")] {
        if !cmd.get_envs().any(|(k, _)| k == key) {
            cmd.env(key, value);
        }
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(Error::io(format!("starting {program}")))?;
    let stdout = child.stdout.take();
    let proc = Proc::new(child);
    let stdout = stdout.ok_or_else(|| Error::no_boot_line(&program, needle, None))?;
    let (tx, rx) = mpsc::channel();
    let wanted = needle.to_string();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            if line.contains(&wanted) {
                let _ = tx.send(line);
            }
        }
    });
    match rx.recv_timeout(timeout) {
        Ok(line) => Ok((proc, line)),
        Err(RecvTimeoutError::Timeout) => Err(Error::no_boot_line(&program, needle, Some(timeout))),
        Err(RecvTimeoutError::Disconnected) => Err(Error::no_boot_line(&program, needle, None)),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    #[test]
    fn returns_the_boot_line_and_kills_on_drop() {
        let (proc, line) = spawn_wait(
            sh("echo starting; echo ready at 1; sleep 30"),
            "ready",
            BOOT_TIMEOUT,
        )
        .unwrap();
        assert_eq!(line, "ready at 1");
        let pid = proc.child.id();
        drop(proc);
        let alive = Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!alive.success(), "child {pid} survived its guard");
    }

    #[test]
    fn a_child_that_exits_without_the_line_is_an_error() {
        let err = spawn_wait(sh("echo nope"), "ready", BOOT_TIMEOUT).unwrap_err();
        assert!(err.to_string().contains("\"ready\""), "{err}");
    }

    #[test]
    fn a_missing_binary_names_the_build_command() {
        let err = sibling_bin("mqbroker-that-does-not-exist").unwrap_err();
        assert!(err.to_string().contains("cargo build"), "{err}");
    }
}
