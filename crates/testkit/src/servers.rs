//! Our two servers as a test starts them: `mqnamesrv -p 0` with its KV file in a scratch
//! folder (its address read from the boot line), and `mqbroker -c broker.conf` with a conf
//! written from [`BrokerConf`] on a free broker port.
//! Book chapter: none (test support). RocketMQ 4.8.0 counterpart: the name server and broker
//! start-up of `IntegrationTestBase` (`createAndStartNamesrv`, `createAndStartBroker`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};
use crate::ports::free_broker_port;
use crate::process::{spawn_wait, Proc, BOOT_TIMEOUT};

/// Printed by `mqnamesrv` once listening, followed by its address.
pub const NAMESRV_LISTEN_MARK: &str = "listen=";
/// Part of the line `mqbroker` prints once it serves requests.
pub const BROKER_BOOT_LINE: &str = "boot success";

/// Starts the name server `exe` on an ephemeral port with `dir/namesrv.conf`
/// (`kvConfigPath=dir/kvConfig.json`, then the lines of `extra`); returns it and its address.
pub fn start_namesrv(exe: &Path, dir: &Path, extra: &str) -> Result<(Proc, String)> {
    let conf = dir.join("namesrv.conf");
    let text = format!(
        "kvConfigPath={}\n{extra}\n",
        dir.join("kvConfig.json").display()
    );
    std::fs::write(&conf, text).map_err(Error::io(format!("writing {}", conf.display())))?;
    let mut cmd = Command::new(exe);
    cmd.arg("-c").arg(&conf).args(["-p", "0"]);
    let (proc, line) = spawn_wait(cmd, NAMESRV_LISTEN_MARK, BOOT_TIMEOUT)?;
    let addr = line
        .split(NAMESRV_LISTEN_MARK)
        .nth(1)
        .map(|a| a.trim().to_string())
        .ok_or_else(|| Error::no_boot_line(&exe.display().to_string(), &line, None))?;
    Ok((proc, addr))
}

/// The keys every test broker needs; anything else goes into `extra` (later lines win, so
/// `extra` may also override, e.g. `brokerId=1`).
#[derive(Debug, Clone)]
pub struct BrokerConf {
    /// The cluster name (`brokerClusterName`).
    pub cluster: String,
    /// The broker name (`brokerName`).
    pub name: String,
    /// The client-facing TCP port (`listenPort`); `port - 2` and `port + 1` must be free too.
    pub port: u16,
    /// Name server addresses, `;`-separated (`namesrvAddr`).
    pub namesrv: String,
    /// The store's root directory (`storePathRootDir`).
    pub store: PathBuf,
    /// More `key=value` lines, written after the fields above.
    pub extra: String,
}

impl BrokerConf {
    /// Master `name` of cluster `TestCluster` on a free broker port, storing under `store`.
    pub fn new(name: &str, namesrv: &str, store: &Path) -> Result<BrokerConf> {
        Ok(BrokerConf {
            cluster: "TestCluster".into(),
            name: name.into(),
            port: free_broker_port()?,
            namesrv: namesrv.into(),
            store: store.to_path_buf(),
            extra: String::new(),
        })
    }

    /// Appends `key=value` lines.
    pub fn with_extra(mut self, lines: &str) -> BrokerConf {
        self.extra.push_str(lines);
        self.extra.push('\n');
        self
    }

    /// The address clients use: `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The `.properties` text of this broker.
    pub fn render(&self) -> String {
        format!(
            "brokerClusterName={}\nbrokerName={}\nbrokerId=0\nlistenPort={}\nnamesrvAddr={}\n\
             storePathRootDir={}\n{}",
            self.cluster,
            self.name,
            self.port,
            self.namesrv,
            self.store.display(),
            self.extra
        )
    }

    /// Writes [`BrokerConf::render`] to `path`.
    pub fn write(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.render())
            .map_err(Error::io(format!("writing {}", path.display())))
    }
}

/// The broker.conf lines that make a broker member `n<index>` of the DLedger group `group`
/// whose members' peer ports are `peer_ports` (`dLegerPeers` as DLedger 0.2.2 reads it:
/// `n0-127.0.0.1:p0;n1-127.0.0.1:p1;...`).
pub fn dledger_conf(group: &str, peer_ports: &[u16], index: usize) -> String {
    let peers: Vec<String> = peer_ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("n{i}-127.0.0.1:{p}"))
        .collect();
    format!(
        "brokerName={group}\nenableDLegerCommitLog=true\ndLegerGroup={group}\n\
         dLegerPeers={}\ndLegerSelfId=n{index}\n",
        peers.join(";")
    )
}

/// Starts the broker `exe` with `-c conf` and waits for its boot line.
pub fn start_broker(exe: &Path, conf: &Path) -> Result<Proc> {
    let mut cmd = Command::new(exe);
    cmd.arg("-c").arg(conf);
    Ok(spawn_wait(cmd, BROKER_BOOT_LINE, BOOT_TIMEOUT)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_conf_renders_required_keys_then_extra() {
        let mut c = BrokerConf::new("b", "127.0.0.1:9876", Path::new("/tmp/s"))
            .unwrap()
            .with_extra("brokerId=1");
        c.port = 20911;
        assert_eq!(
            c.render(),
            "brokerClusterName=TestCluster\nbrokerName=b\nbrokerId=0\nlistenPort=20911\n\
             namesrvAddr=127.0.0.1:9876\nstorePathRootDir=/tmp/s\nbrokerId=1\n"
        );
        assert_eq!(c.addr(), "127.0.0.1:20911");
        assert_eq!(
            dledger_conf("G", &[1, 2], 1),
            "brokerName=G\nenableDLegerCommitLog=true\ndLegerGroup=G\n\
             dLegerPeers=n0-127.0.0.1:1;n1-127.0.0.1:2\ndLegerSelfId=n1\n"
        );
    }
}
