//! Reading store files: read-only memory maps, directory listings and the offset-named file
//! chains that the commit log and every consume queue use.
//!
//! A 4.8.0 `MappedFileQueue` names each file after the absolute offset of its first byte,
//! zero-padded to 20 digits (`UtilAll.offset2FileName`), and every file of a queue has the
//! same size, so file i+1 starts exactly where file i ends. [`check_chain`] checks that.
//! Book: Part I "MappedFile and MappedFileQueue". Mirrors `MappedFileQueue.load`.

use std::fs::File;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::InspectError;
use crate::violation::{ViolationKind, Violations};

/// A whole file's bytes, memory-mapped read-only (empty files are not mapped).
pub enum FileBytes {
    /// The file's bytes, mapped read-only.
    Mapped(Mmap),
    /// A zero-length file, which cannot be mapped.
    Empty,
}

impl Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Empty => &[],
        }
    }
}

/// Maps `path` read-only.
pub fn map_file(path: &Path) -> Result<FileBytes, InspectError> {
    let file = File::open(path).map_err(|e| InspectError::io(path, e))?;
    let len = file
        .metadata()
        .map_err(|e| InspectError::io(path, e))?
        .len();
    if len == 0 {
        return Ok(FileBytes::Empty);
    }
    // SAFETY: the map is read-only and private to this process. The inspector is meant for
    // stores at rest; if a broker appends to the file meanwhile, bytes may change under us,
    // which can only make a check see newer data, never break memory safety of the slice
    // bounds (the mapping length is fixed at map time).
    let map = unsafe { Mmap::map(&file) }.map_err(|e| InspectError::io(path, e))?;
    Ok(FileBytes::Mapped(map))
}

/// Regular files in `dir`, sorted by name; a missing directory is an empty list.
pub fn list_files(dir: &Path) -> Result<Vec<PathBuf>, InspectError> {
    list(dir, false)
}

/// Sub-directories of `dir`, sorted by name; a missing directory is an empty list.
pub fn list_dirs(dir: &Path) -> Result<Vec<PathBuf>, InspectError> {
    list(dir, true)
}

fn list(dir: &Path, dirs: bool) -> Result<Vec<PathBuf>, InspectError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(InspectError::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| InspectError::io(dir, e))?;
        let ft = entry
            .file_type()
            .map_err(|e| InspectError::io(entry.path(), e))?;
        if ft.is_dir() == dirs && (dirs || ft.is_file()) {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// The file's name as text (lossy).
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The start offset a 20-digit file name stands for, if it is one.
pub fn offset_from_name(name: &str) -> Option<i64> {
    if name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse().ok()
    } else {
        None
    }
}

/// `UtilAll.offset2FileName`.
pub fn offset_to_name(offset: i64) -> String {
    format!("{offset:020}")
}

/// One member of an offset-named file chain.
pub struct ChainFile {
    /// The file's full path.
    pub path: PathBuf,
    /// The file name: its start offset as 20 digits.
    pub name: String,
    /// The file's first byte as an offset in the chain (parsed from the name).
    pub start: i64,
    /// The file's length in bytes.
    pub size: u64,
}

/// Reads the names and sizes of an offset-named file chain (commit log or one consume
/// queue) and checks 4.8.0's rules: 20-digit names, one common size, no gaps. Files whose
/// name is not an offset are reported and left out. `unit` is the size every file must be a
/// multiple of (20 for consume queues, 1 otherwise).
pub fn read_chain(
    dir: &Path,
    unit: u64,
    v: &mut Violations,
) -> Result<Vec<ChainFile>, InspectError> {
    let mut out = Vec::new();
    for path in list_files(dir)? {
        let name = file_name(&path);
        let size = std::fs::metadata(&path)
            .map_err(|e| InspectError::io(&path, e))?
            .len();
        match offset_from_name(&name) {
            Some(start) => out.push(ChainFile {
                path,
                name,
                start,
                size,
            }),
            None => v.push(
                ViolationKind::FileName,
                path.display().to_string(),
                "file name is not a 20-digit start offset",
            ),
        }
    }
    check_chain(dir, &out, unit, v);
    Ok(out)
}

/// The chain rules on already listed files.
pub fn check_chain(dir: &Path, files: &[ChainFile], unit: u64, v: &mut Violations) {
    let Some(first) = files.first() else {
        return;
    };
    let size = first.size;
    for f in files {
        if f.size != size {
            v.push(
                ViolationKind::FileSize,
                f.path.display().to_string(),
                format!("size {} differs from the queue's file size {size}", f.size),
            );
        } else if unit > 1 && f.size % unit != 0 {
            v.push(
                ViolationKind::FileSize,
                f.path.display().to_string(),
                format!("size {} is not a multiple of {unit}", f.size),
            );
        }
        if size > 0 && !(f.start as u64).is_multiple_of(size) {
            v.push(
                ViolationKind::FileName,
                f.path.display().to_string(),
                format!(
                    "start offset {} is not a multiple of the file size {size}",
                    f.start
                ),
            );
        }
    }
    for pair in files.windows(2) {
        let expected = pair[0].start + pair[0].size as i64;
        if pair[1].start != expected {
            v.push(
                ViolationKind::FileGap,
                dir.display().to_string(),
                format!(
                    "{} follows {} but the next file should be {}",
                    pair[1].name,
                    pair[0].name,
                    offset_to_name(expected)
                ),
            );
        }
    }
}
