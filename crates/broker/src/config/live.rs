//! The configuration of a running broker: the values in force, which UPDATE_BROKER_CONFIG
//! (25) may change for the keys marked `Live` in the table, and the file that keeps every
//! change for the next start.
//!
//! 4.8.0 (`Configuration.update` + `persist`) sets every known key in its config objects,
//! bumps the configuration's `DataVersion` (the `version` of GET_BROKER_CONFIG) and writes all
//! of its keys back to the file the broker was started with (`-c`), or to
//! `$HOME/store/config/broker.properties`. Which change takes effect at once depends on
//! whether the code reads the field again; `brokerPermission` does, and a change of it
//! re-registers the broker. Here the table says it ([`super::Effect`]): `Live` keys change
//! the running broker, the others only the file. The deviations: a value that does not parse
//! refuses the whole update with its key named (4.8.0 skips it silently), a restart-only key
//! does not pretend to have changed in GET_BROKER_CONFIG, and without `-c` the file is
//! `<storePathRootDir>/config/broker.properties`, so brokers that share a home directory do
//! not share it.
//! Book: Appendix "Configuration reference". Mirrors `org.apache.rocketmq.common.Configuration`
//! and `AdminBrokerProcessor.updateBrokerConfig`.

use super::{BrokerConfig, ConfigError, Update};
use parking_lot::{Mutex, RwLock};
use rmq_remoting::protocol::DataVersion;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The configuration in force and the file that keeps it.
pub struct LiveConfig {
    /// What the broker uses now.
    current: RwLock<Arc<BrokerConfig>>,
    /// What the file says: the current values plus the changes that wait for a restart.
    /// Its lock also serialises updates.
    file: Mutex<BrokerConfig>,
    /// Where updates are written.
    path: PathBuf,
    /// Bumped by every update (GET_BROKER_CONFIG's `version`).
    version: Mutex<DataVersion>,
}

impl LiveConfig {
    /// The configuration read at start; updates go to `path`.
    pub fn new(cfg: BrokerConfig, path: PathBuf) -> LiveConfig {
        LiveConfig {
            file: Mutex::new(cfg.clone()),
            current: RwLock::new(Arc::new(cfg)),
            path,
            version: Mutex::new(DataVersion::now()),
        }
    }

    /// The configuration in force.
    pub fn current(&self) -> Arc<BrokerConfig> {
        self.current.read().clone()
    }

    /// The configuration's data version as JSON (GET_BROKER_CONFIG's `version`).
    pub fn version_json(&self) -> String {
        rmq_remoting::protocol::fastjson::to_string(&*self.version.lock()).unwrap_or_default()
    }

    /// The file updates are written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies `props` (see [`BrokerConfig::update`]), writes the file, then puts the new
    /// values in force and bumps the version. Nothing changes when a value is bad or the file
    /// cannot be written.
    pub fn update(&self, props: &BTreeMap<String, String>) -> Result<Update, ConfigError> {
        let mut file = self.file.lock();
        let mut current = (*self.current()).clone();
        let mut next_file = file.clone();
        let update = current.update(&mut next_file, props)?;
        crate::persist::write_atomic(&self.path, &next_file.to_properties_text()).map_err(
            |source| ConfigError::Io {
                path: self.path.display().to_string(),
                source,
            },
        )?;
        *file = next_file;
        *self.current.write() = Arc::new(current);
        self.version.lock().next_version();
        Ok(update)
    }
}
