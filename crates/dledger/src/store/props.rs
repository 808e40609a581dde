//! The two small Java-properties files DLedger keeps next to its data: `currterm`
//! (`currTerm`, `voteLeader`) and `checkpoint` (`endIndex`, `committedIndex`).
//!
//! They are written the way DLedger's `IOUtils.string2File` does: the new text goes to
//! `<file>.tmp`, the old text is copied to `<file>.bak`, then the tmp file replaces the
//! original. Reading falls back to `.bak` when the main file is missing or unreadable.
//! Book: Part IV "Cluster modes and DLedger" (the DLedger files). Mirrors
//! `utils/IOUtils.java`, `MemberState.persistTerm/loadTerm` and
//! `DLedgerMmapFileStore.persistCheckPoint/loadCheckPoint` of DLedger 0.2.2.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::error::StoreError;

/// Parses `key=value` lines (also `key:value`); `#` and `!` start comments.
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let cut = line.find(['=', ':']).unwrap_or(line.len());
        let key = line[..cut].trim().to_string();
        let value = line.get(cut + 1..).unwrap_or("").trim().to_string();
        out.insert(key, value);
    }
    out
}

/// Renders `key=value` lines in the given order.
pub fn render(pairs: &[(&str, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Writes `text` to `path` through `.tmp` and `.bak` (`IOUtils.string2File`).
pub fn write_safely(path: &Path, text: &str) -> Result<(), StoreError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    }
    let tmp = with_suffix(path, ".tmp");
    fs::write(&tmp, text).map_err(|e| StoreError::io(&tmp, e))?;
    if let Ok(prev) = fs::read(path) {
        let bak = with_suffix(path, ".bak");
        fs::write(&bak, prev).map_err(|e| StoreError::io(&bak, e))?;
    }
    fs::rename(&tmp, path).map_err(|e| StoreError::io(path, e))
}

/// Reads the properties at `path`, or its `.bak`; `None` if neither exists.
pub fn read(path: &Path) -> Option<BTreeMap<String, String>> {
    fs::read_to_string(path)
        .or_else(|_| fs::read_to_string(with_suffix(path, ".bak")))
        .ok()
        .map(|t| parse(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_backup() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("currterm");
        write_safely(
            &p,
            &render(&[("currTerm", "3".into()), ("voteLeader", "".into())]),
        )
        .unwrap();
        write_safely(
            &p,
            &render(&[("currTerm", "4".into()), ("voteLeader", "n1".into())]),
        )
        .unwrap();
        let m = read(&p).unwrap();
        assert_eq!(m["currTerm"], "4");
        assert_eq!(m["voteLeader"], "n1");
        let bak = parse(&fs::read_to_string(dir.path().join("currterm.bak")).unwrap());
        assert_eq!(bak["currTerm"], "3");
        assert_eq!(bak["voteLeader"], "");
        fs::remove_file(&p).unwrap();
        assert_eq!(read(&p).unwrap()["currTerm"], "3");
    }

    #[test]
    fn parses_java_style() {
        let m = parse("#comment\n! also\nendIndex=12\ncommittedIndex : 10\nempty=\n");
        assert_eq!(m["endIndex"], "12");
        assert_eq!(m["committedIndex"], "10");
        assert_eq!(m["empty"], "");
    }
}
