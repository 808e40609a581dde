//! Config-file persistence shared by the managers: write `<file>.tmp`, keep the old file as
//! `<file>.bak`, rename into place — the same sequence as 4.8.0's `MixAll.string2File`, so a crash
//! leaves either the old or the new file. On load, fall back to `.bak` when the main file is
//! missing or unreadable (`ConfigManager.load`). Book: Part II, "Broker metadata files".

use std::path::{Path, PathBuf};

/// `path` with `suffix` appended to its file name (`topics.json` -> `topics.json.bak`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Atomically replaces `path` with `text`.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = with_suffix(path, ".tmp");
    let bak = with_suffix(path, ".bak");
    std::fs::write(&tmp, text)?;
    if path.exists() {
        std::fs::copy(path, &bak)?;
    }
    std::fs::rename(&tmp, path)
}

/// Reads `path` (or its `.bak`), or `None` if neither exists.
pub fn read_with_backup(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| std::fs::read_to_string(with_suffix(path, ".bak")).ok())
}
