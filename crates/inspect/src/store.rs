//! A whole store directory loaded into memory: commit log, consume queues, index files,
//! checkpoint, abort/lock markers and the `config/` listing.
//!
//! Loading already checks everything that a single file can tell on its own (file names,
//! record framing, CRCs); [`crate::verify`] then runs the checks that need two files.
//! Book: Part I "Storage files" (directory tree). Mirrors what `DefaultMessageStore.load`
//! opens, and `StorePathConfigHelper` for the paths.

use std::path::{Path, PathBuf};

use rmq_common::properties::parse_properties;

use crate::checkpoint::{read_checkpoint, Checkpoint};
use crate::commitlog::{read_commit_log, CommitLog};
use crate::consume_queue::{read_consume_queues, ConsumeQueue, DelayLevels};
use crate::dledger::{read_dledger, DLedgerImage};
use crate::error::InspectError;
use crate::files::{file_name, list_dirs, list_files};
use crate::index::IndexFile;
use crate::violation::{ViolationKind as K, Violations};

/// How to read a store whose settings the files do not record.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `storePathCommitLog` when it is not `<root>/commitlog`.
    pub commit_log_dir: Option<PathBuf>,
    /// `maxHashSlotNum` of the index files.
    pub index_slots: Option<usize>,
    /// `maxIndexNum` of the index files.
    pub index_num: Option<usize>,
    /// `messageDelayLevel`; else `config/broker.properties`'s, else 4.8.0's default.
    pub delay_levels: Option<String>,
}

/// One file of `config/`.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The file name.
    pub name: String,
    /// The file's length in bytes.
    pub size: u64,
    /// Top-level keys when the file is plain JSON (fastjson writes bare integer map keys in
    /// consumerOffset.json and delayOffset.json, which plain JSON parsers refuse).
    pub top_keys: Option<Vec<String>>,
}

/// Everything the inspector read.
pub struct StoreImage {
    /// The store directory read (`storePathRootDir`).
    pub root: PathBuf,
    /// The commit log (`commitlog/`, or a DLedger member's data files).
    pub commit_log: CommitLog,
    /// Every `consumequeue/<topic>/<queueId>/` directory.
    pub consume_queues: Vec<ConsumeQueue>,
    /// `consumequeue_ext/` (brokers with `enableConsumeQueueExt=true`).
    pub consume_queue_exts: Vec<crate::consume_queue_ext::ExtQueue>,
    /// Every file of `index/`, in name order.
    pub index_files: Vec<IndexFile>,
    /// The `checkpoint` file, when present.
    pub checkpoint: Option<Checkpoint>,
    /// Whether the `abort` file exists (the broker is running or did not shut down cleanly).
    pub abort_present: bool,
    /// Whether the `lock` file exists.
    pub lock_present: bool,
    /// The files of `config/`.
    pub config_files: Vec<ConfigFile>,
    /// The delay levels used to read SCHEDULE_TOPIC_XXXX's queues.
    pub delay_levels: DelayLevels,
    /// Other directories found, which the inspector does not read.
    pub other_dirs: Vec<String>,
    /// A DLedger store (`enableDLegerCommitLog=true`): the member's data files are the
    /// commit log, and `commit_log` holds their records.
    pub dledger: Option<DLedgerImage>,
    /// Things worth knowing about the layout that are not violations.
    pub notes: Vec<String>,
}

impl StoreImage {
    /// Loads the store at `root`, collecting single-file violations into `v`.
    pub fn load(
        root: &Path,
        opts: &Options,
        v: &mut Violations,
    ) -> Result<StoreImage, InspectError> {
        let cl_dir = opts
            .commit_log_dir
            .clone()
            .unwrap_or_else(|| root.join("commitlog"));
        let dledger_dir = crate::dledger::find(root)?;
        let mut notes = Vec::new();
        let (commit_log, dledger) = match &dledger_dir {
            Some(dir) => {
                let mut log = CommitLog::default();
                let image = read_dledger(root, dir, &mut log, v)?;
                if !list_files(&cl_dir)?.is_empty() {
                    notes.push(format!(
                        "{} holds files next to the DLedger data files (a classic log before a                          switch to DLedger, or a copy an earlier rmq-broker kept); not inspected",
                        cl_dir.display()
                    ));
                }
                (log, Some(image))
            }
            None if cl_dir.is_dir() => (read_commit_log(&cl_dir, v)?, None),
            None => return Err(InspectError::NotAStore(root.to_path_buf())),
        };
        let consume_queues = read_consume_queues(&root.join("consumequeue"), v)?;
        let consume_queue_exts =
            crate::consume_queue_ext::read_consume_queue_exts(&root.join("consumequeue_ext"), v)?;
        let mut index_files = Vec::new();
        for path in list_files(&root.join("index"))? {
            let name = file_name(&path);
            if name.len() != 17 || !name.bytes().all(|b| b.is_ascii_digit()) {
                v.push(
                    K::FileName,
                    path.display().to_string(),
                    "index file name is not yyyyMMddHHmmssSSS",
                );
            }
            match IndexFile::open(&path, opts.index_slots, opts.index_num) {
                Ok(f) => index_files.push(f),
                Err(e @ InspectError::IndexGeometry { .. }) => {
                    v.push(K::IndexHeader, path.display().to_string(), e.to_string())
                }
                Err(e) => return Err(e),
            }
        }
        let config_dir = root.join("config");
        let config_files = read_config_dir(&config_dir)?;
        let delay_text = match &opts.delay_levels {
            Some(t) => Some(t.clone()),
            None => broker_delay_levels(&config_dir.join("broker.properties")),
        };
        let delay_levels = match delay_text {
            Some(t) => DelayLevels::parse(&t)
                .ok_or_else(|| InspectError::BadOption(format!("messageDelayLevel {t:?}")))?,
            None => DelayLevels::default(),
        };
        let known = [
            "commitlog",
            "consumequeue",
            "consumequeue_ext",
            "index",
            "config",
        ];
        let other_dirs = list_dirs(root)?
            .iter()
            .map(|p| file_name(p))
            .filter(|n| !known.contains(&n.as_str()) && Some(n) != dledger_dir.as_ref())
            .collect();
        Ok(StoreImage {
            root: root.to_path_buf(),
            commit_log,
            consume_queues,
            consume_queue_exts,
            index_files,
            checkpoint: read_checkpoint(&root.join("checkpoint"))?,
            abort_present: root.join("abort").exists(),
            lock_present: root.join("lock").exists(),
            config_files,
            delay_levels,
            other_dirs,
            dledger,
            notes,
        })
    }
}

fn read_config_dir(dir: &Path) -> Result<Vec<ConfigFile>, InspectError> {
    let mut out = Vec::new();
    for path in list_files(dir)? {
        let text = std::fs::read(&path).map_err(|e| InspectError::io(&path, e))?;
        let top_keys = serde_json::from_slice::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()));
        out.push(ConfigFile {
            name: file_name(&path),
            size: text.len() as u64,
            top_keys,
        });
    }
    Ok(out)
}

fn broker_delay_levels(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    parse_properties(&text)
        .into_iter()
        .rev()
        .find(|(k, _)| k == "messageDelayLevel")
        .map(|(_, v)| v)
}
