//! The chaos experiment's official Java producers: rocketmq-client 4.8.0 `DefaultMQProducer`s
//! (`java/ChaosProducer.java` beside this file) sending keyed messages synchronously next to
//! our producers, so the checker holds the Java client's acknowledgements to the same
//! properties as ours.
//!
//! Before the experiment enters its private namespace, [`prepare`] fetches the 4.8.0 jars
//! (`experiments/peers/java-cluster.sh fetch`, Maven Central, once) and compiles the program
//! beside the experiment's binary. Inside, [`JavaProducers`] runs one JVM in the experiment's
//! own network namespace (where our clients live, 127.0.1.254 on the bridge), one producer
//! thread per name, each with its own client instance. The JVM writes one line per send into
//! a file per producer; after the stop file appears, [`JavaProducers::stop`] turns those
//! lines into the same [`SendRecord`]s our producers return.
//!
//! `CHAOS_JAVA=0` (or `--no-java`) leaves the Java producers out; without that, a missing JDK
//! or missing jars stop the experiment with the reason.
//!
//! Book: Part IV, "Breaking it on purpose". Mirrors no RocketMQ class; it drives
//! `org.apache.rocketmq.client.producer.DefaultMQProducer` of 4.8.0.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::workload::{Client, Outcome, SendRecord, Shared, TOPIC};
use experiments::workspace_root;

/// The environment variable that carries the classpath into the private namespace.
const CP_ENV: &str = "CHAOS_JAVA_CP";

/// Whether the Java producers take part: not with `--no-java` or `CHAOS_JAVA=0`.
pub fn enabled(no_java_flag: bool) -> bool {
    !no_java_flag && std::env::var("CHAOS_JAVA").map_or(true, |v| v != "0")
}

/// Runs `cmd -version`; the reason it cannot run, if it cannot.
fn missing_tool(cmd: &str) -> Option<String> {
    match Command::new(cmd)
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => None,
        Ok(s) => Some(format!("`{cmd} -version` exited with {s}")),
        Err(e) => Some(format!("`{cmd}` cannot be run ({e})")),
    }
}

/// Fetches the jars and compiles `ChaosProducer.java` into `classes`; returns the classpath.
/// Needs the network the first time, so it runs before the private namespace.
pub fn prepare(classes: &Path) -> Result<String> {
    for tool in ["java", "javac"] {
        if let Some(why) = missing_tool(tool) {
            bail!("{why}: a JDK (17) is needed");
        }
    }
    let script = workspace_root().join("experiments/peers/java-cluster.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("fetch")
        .stderr(Stdio::inherit())
        .output()
        .context("running java-cluster.sh fetch")?;
    if !out.status.success() {
        bail!(
            "java-cluster.sh fetch could not get the 4.8.0 jars (Maven is needed the first time)"
        );
    }
    let cache = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !Path::new(&cache)
        .join("rocketmq-client-4.8.0.jar")
        .is_file()
    {
        bail!("rocketmq-client-4.8.0.jar is not in {cache}");
    }
    std::fs::create_dir_all(classes).with_context(|| format!("creating {}", classes.display()))?;
    let src = workspace_root().join("experiments/src/bin/chaos/java/ChaosProducer.java");
    let ok = Command::new("javac")
        .args(["-nowarn", "-encoding", "UTF-8", "-d"])
        .arg(classes)
        .arg("-cp")
        .arg(format!("{cache}/*"))
        .arg(&src)
        .status()
        .context("running javac")?
        .success();
    if !ok {
        bail!("javac of {} failed", src.display());
    }
    Ok(format!("{}:{cache}/*", classes.display()))
}

/// Prepares the Java producers (when enabled) and hands the classpath to the re-run inside
/// the namespace; fails with what is missing and how to run without them.
pub fn prepare_for_rerun(no_java_flag: bool, classes: &Path) -> Result<()> {
    if !enabled(no_java_flag) {
        eprintln!("chaos: CHAOS_JAVA=0 or --no-java: the official Java producer is left out");
        return Ok(());
    }
    match prepare(classes) {
        Ok(cp) => {
            std::env::set_var(CP_ENV, cp);
            Ok(())
        }
        Err(e) => bail!(
            "chaos runs the official Java 4.8.0 producer next to ours, and it cannot: {e:#}. \
             Install a JDK and Maven, or run without it: CHAOS_JAVA=0 (or --no-java)"
        ),
    }
}

/// The classpath [`prepare_for_rerun`] left for the run inside the namespace.
pub fn classpath() -> Result<String> {
    std::env::var(CP_ENV).with_context(|| {
        format!("{CP_ENV} is not set: the Java producers were not prepared before the namespace")
    })
}

/// A running JVM with one producer thread per name; killed on drop unless stopped.
pub struct JavaProducers {
    child: Option<Child>,
    dir: PathBuf,
    names: Vec<String>,
    stop_file: PathBuf,
}

impl JavaProducers {
    /// Starts the JVM: producers `names` send to [`TOPIC`] through the name servers `ns`.
    pub fn start(
        cp: &str,
        dir: &Path,
        ns: &str,
        names: Vec<String>,
        pause: Duration,
        body_bytes: usize,
    ) -> Result<JavaProducers> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let stop_file = dir.join("stop");
        let out = std::fs::File::create(dir.join("stdout.log"))?;
        let err = std::fs::File::create(dir.join("stderr.log"))?;
        let child = Command::new("java")
            .args([
                "-Xms64m",
                "-Xmx192m",
                "-XX:+UseSerialGC",
                "--add-opens",
                "java.base/java.nio=ALL-UNNAMED",
                "--add-opens",
                "java.base/sun.nio.ch=ALL-UNNAMED",
                "--add-opens",
                "java.base/java.lang=ALL-UNNAMED",
            ])
            .arg(format!("-Duser.home={}", dir.display()))
            .arg(format!("-Drocketmq.client.logRoot={}/logs", dir.display()))
            .arg("-Drocketmq.client.logLevel=WARN")
            .arg("-cp")
            .arg(cp)
            .arg("ChaosProducer")
            .arg(ns)
            .arg(TOPIC)
            .arg(dir)
            .arg(&stop_file)
            .arg(pause.as_millis().to_string())
            .arg(body_bytes.to_string())
            .args(&names)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .context("starting java (the Java producers)")?;
        Ok(JavaProducers {
            child: Some(child),
            dir: dir.to_path_buf(),
            names,
            stop_file,
        })
    }

    fn sends_file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.sends"))
    }

    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Waits until every producer has had a send acknowledged (or fails after `within`, or
    /// when the JVM exits).
    pub fn wait_acked(&mut self, within: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            let ready = self.names.iter().all(|n| {
                std::fs::read_to_string(self.sends_file(n))
                    .map(|t| t.lines().any(|l| l.split(' ').nth(1) == Some("SEND_OK")))
                    .unwrap_or(false)
            });
            if ready {
                return Ok(());
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    self.child = None;
                    bail!(
                        "the Java producers exited ({status}) before their first acknowledgement:\n{}",
                        self.stderr_tail()
                    );
                }
            }
            if start.elapsed() > within {
                bail!(
                    "the Java producers had no acknowledgement within {} s:\n{}",
                    within.as_secs(),
                    self.stderr_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Tells the producers to stop, waits for the JVM (at most `within`), and returns every
    /// send as a [`SendRecord`] (times relative to the run's t0) with the JVM's summary lines.
    pub fn stop(mut self, sh: &Shared, within: Duration) -> Result<(Vec<SendRecord>, Vec<String>)> {
        std::fs::write(&self.stop_file, b"")
            .with_context(|| format!("writing {}", self.stop_file.display()))?;
        let start = Instant::now();
        let status = loop {
            let Some(c) = self.child.as_mut() else {
                bail!("the Java producers are not running");
            };
            if let Some(s) = c.try_wait().context("waiting for the JVM")? {
                self.child = None;
                break s;
            }
            if start.elapsed() > within {
                bail!(
                    "the Java producers did not stop within {} s of the stop file",
                    within.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if !status.success() {
            bail!(
                "the Java producers exited with {status}:\n{}",
                self.stderr_tail()
            );
        }
        let mut out = Vec::new();
        for name in &self.names {
            let path = self.sends_file(name);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            for line in text.lines() {
                out.push(
                    parse_line(name, line, sh.t0_unix_ms)
                        .with_context(|| format!("{}: unreadable line {line:?}", path.display()))?,
                );
            }
        }
        let summary = std::fs::read_to_string(self.dir.join("stdout.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(" summary: "))
            .map(str::to_string)
            .collect();
        Ok((out, summary))
    }
}

impl Drop for JavaProducers {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One line of a `.sends` file:
/// `<endMillis> <status> <brokerName> <queueId> <queueOffset> <msgId> <body> [<reason>]`.
fn parse_line(name: &str, line: &str, t0_unix_ms: f64) -> Result<SendRecord> {
    let f: Vec<&str> = line.splitn(8, ' ').collect();
    if f.len() < 7 {
        bail!("fewer than 7 fields");
    }
    let end_unix_ms: f64 = f[0].parse().context("time")?;
    let outcome = if f[1] == "SEND_OK" {
        Outcome::Acked {
            broker: f[2].to_string(),
            queue: f[3].parse().context("queue id")?,
            offset: f[4].parse().context("queue offset")?,
        }
    } else {
        Outcome::Failed
    };
    Ok(SendRecord {
        producer: name.to_string(),
        client: Client::Java,
        body: f[6].to_string(),
        end_ms: end_unix_ms - t0_unix_ms,
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_acknowledged_and_failed_lines() {
        let ok = parse_line(
            "j0",
            "1700000001500 SEND_OK RaftNode01 3 17 7F000001ABCD j0-00000004-xx",
            1_700_000_000_000.0,
        )
        .expect("ok line");
        assert_eq!(ok.end_ms, 1500.0);
        assert_eq!(ok.body, "j0-00000004-xx");
        assert!(matches!(
            ok.outcome,
            Outcome::Acked { ref broker, queue: 3, offset: 17 } if broker == "RaftNode01"
        ));
        let failed = parse_line(
            "j0",
            "1700000002000 ERROR - -1 -1 - j0-00000005-xx MQClientException: No route info",
            1_700_000_000_000.0,
        )
        .expect("error line");
        assert!(matches!(failed.outcome, Outcome::Failed));
        assert_eq!(failed.body, "j0-00000005-xx");
        assert!(parse_line("j0", "17 SEND_OK", 0.0).is_err());
    }
}
