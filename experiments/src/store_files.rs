//! Classifies the files of a store directory into the kinds Part I describes (commit log,
//! consume queue, index, checkpoint, config, and the lock/abort markers) and totals them.
//!
//! Book: Part I index page ("a tour of the store directory"). Mirrors the directory layout
//! of 4.8.0's `StorePathConfigHelper` and `BrokerPathConfigHelper`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

/// The kinds in the order charts and tables list them.
pub const KINDS: [&str; 6] = [
    "commitlog",
    "consumequeue",
    "index",
    "checkpoint",
    "config",
    "other",
];

/// One file of the store.
#[derive(Debug, Clone, Serialize)]
pub struct StoreFile {
    /// The file's kind, one of [`KINDS`].
    pub kind: &'static str,
    /// Path relative to the store root, with `/` separators.
    pub path: String,
    /// The file's length (mapped files are created at full size).
    pub bytes: u64,
    /// What the file system really allocated (sparse files use less).
    pub allocated_bytes: u64,
}

/// The kind of a file given its path relative to the store root.
pub fn kind_of(rel: &Path) -> &'static str {
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .unwrap_or_default();
    match first.as_str() {
        "commitlog" => "commitlog",
        "consumequeue" => "consumequeue",
        "index" => "index",
        "checkpoint" => "checkpoint",
        "config" => "config",
        _ => "other",
    }
}

#[cfg(unix)]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.blocks() * 512
}

#[cfg(not(unix))]
fn allocated(meta: &std::fs::Metadata) -> u64 {
    meta.len()
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<StoreFile>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for p in entries {
        let meta = std::fs::metadata(&p).with_context(|| format!("stat {}", p.display()))?;
        if meta.is_dir() {
            walk(root, &p, out)?;
        } else {
            let rel = p.strip_prefix(root).unwrap_or(&p).to_path_buf();
            out.push(StoreFile {
                kind: kind_of(&rel),
                path: rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().to_string())
                    .collect::<Vec<_>>()
                    .join("/"),
                bytes: meta.len(),
                allocated_bytes: allocated(&meta),
            });
        }
    }
    Ok(())
}

/// Every file under `root`, sorted by path.
pub fn list(root: &Path) -> Result<Vec<StoreFile>> {
    let mut out = Vec::new();
    walk(root, root, &mut out)?;
    Ok(out)
}

/// Files, bytes and allocated bytes of one kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KindTotal {
    /// The kind, one of [`KINDS`].
    pub kind: &'static str,
    /// How many files of this kind.
    pub files: usize,
    /// Their total length, in bytes.
    pub bytes: u64,
    /// What the file system allocated for them, in bytes.
    pub allocated_bytes: u64,
}

/// Totals per kind, in [`KINDS`] order (kinds without files included, as zeros).
pub fn totals(files: &[StoreFile]) -> Vec<KindTotal> {
    KINDS
        .iter()
        .map(|k| {
            let of: Vec<&StoreFile> = files.iter().filter(|f| f.kind == *k).collect();
            KindTotal {
                kind: k,
                files: of.len(),
                bytes: of.iter().map(|f| f.bytes).sum(),
                allocated_bytes: of.iter().map(|f| f.allocated_bytes).sum(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_sorted_into_kinds() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        for (p, n) in [
            ("commitlog/00000000000000000000", 100),
            ("commitlog/00000000000000000100", 100),
            ("consumequeue/T/0/00000000000000000000", 40),
            ("index/20240101000000000", 10),
            ("checkpoint", 4096),
            ("config/topics.json", 5),
            ("lock", 4),
        ] {
            let f = r.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(&f, vec![1u8; n]).unwrap();
        }
        let files = list(r).unwrap();
        assert_eq!(files.len(), 7);
        assert_eq!(files[0].path, "checkpoint");
        let t = totals(&files);
        let get = |k: &str| t.iter().find(|x| x.kind == k).unwrap().clone();
        assert_eq!(get("commitlog").files, 2);
        assert_eq!(get("commitlog").bytes, 200);
        assert_eq!(get("consumequeue").bytes, 40);
        assert_eq!(get("other").files, 1);
        assert_eq!(get("config").files, 1);
        assert_eq!(t.len(), KINDS.len());
    }
}
