//! Makes files "cold" without root, and checks how much of a file is in the page cache.
//!
//! The page cache is the kernel's copy of file data in memory. A read of a cached page costs a
//! memory copy; a read of an uncached page waits for the disk. Dropping the whole cache needs
//! root (`/proc/sys/vm/drop_caches`), so the experiments drop only their own files:
//!
//! 1. pages the process has mapped are unmapped first (`madvise(MADV_DONTNEED)` on the
//!    mapping), because the kernel never evicts a page that is still mapped;
//! 2. the file is synced (`fdatasync`), because only clean pages can be dropped;
//! 3. `posix_fadvise(POSIX_FADV_DONTNEED)` asks the kernel to drop the file's cached pages.
//!
//! [`resident_bytes`] then checks the result with `mincore` on a fresh read-only mapping.
//! On a virtual machine the host may still cache the disk image: "cold" means cold in this
//! machine's page cache. Linux only; elsewhere [`evict_file`] and [`evict_mapped`] report that
//! they cannot evict.
//!
//! Book: Part V "RocketMQ vs Kafka" (backlog reads from a cold cache). No RocketMQ counterpart.

use std::path::Path;

use anyhow::{Context, Result};

/// The system's page size in bytes.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}

/// Whether this build can drop pages from the page cache ([`evict_file`] works).
pub const CAN_EVICT: bool = cfg!(target_os = "linux");

/// Syncs `path` and asks the kernel to drop its cached pages. Pages that some process still
/// maps stay cached: unmap them first (see [`evict_mapped`]).
#[cfg(target_os = "linux")]
pub fn evict_file(path: &Path) -> Result<()> {
    use std::os::unix::io::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("opening {} to evict it", path.display()))?;
    f.sync_data()
        .with_context(|| format!("syncing {}", path.display()))?;
    // SAFETY: fadvise on our own open descriptor; offset 0 and length 0 mean the whole file.
    let rc = unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    if rc != 0 {
        return Err(std::io::Error::from_raw_os_error(rc))
            .with_context(|| format!("posix_fadvise(DONTNEED) on {}", path.display()));
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
pub fn evict_file(path: &Path) -> Result<()> {
    anyhow::bail!(
        "cannot drop {} from the page cache: posix_fadvise is Linux-only here",
        path.display()
    )
}

/// Unmaps the pages of `mapped` (a prefix of a shared, file-backed memory map of `path`) from
/// this process, then evicts `path` with [`evict_file`].
///
/// The bytes stay valid: after `MADV_DONTNEED` on a shared file mapping, the next access
/// maps the page again from the file, with the same contents (the file was just synced and
/// nothing writes to it). `mapped` must start on a page boundary, as a mapping does.
#[cfg(target_os = "linux")]
pub fn evict_mapped(mapped: &[u8], path: &Path) -> Result<()> {
    let page = page_size();
    let start = mapped.as_ptr() as usize;
    anyhow::ensure!(
        start % page == 0,
        "mapping of {} does not start on a page boundary",
        path.display()
    );
    if !mapped.is_empty() {
        let len = mapped.len().div_ceil(page) * page;
        // SAFETY: the range lies inside a live shared file mapping (rounded up to whole
        // pages, which the mapping also covers); MADV_DONTNEED only drops this process's
        // page-table entries, and later reads fault the same file bytes back in.
        let rc = unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("madvise(DONTNEED) on the map of {}", path.display()));
        }
    }
    evict_file(path)
}

#[cfg(not(target_os = "linux"))]
pub fn evict_mapped(_mapped: &[u8], path: &Path) -> Result<()> {
    evict_file(path)
}

/// The readahead window, in KiB, of the block device that holds `path`
/// (`/sys/dev/block/<major>:<minor>/queue/read_ahead_kb`, or its parent's for a partition).
/// The kernel reads up to this much around a page fault in a mapped file, and grows its
/// readahead for sequential reads up to it, so cold-read results depend on it.
pub fn read_ahead_kb(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let dev = std::fs::metadata(path).ok()?.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    let sys = std::path::PathBuf::from(format!("/sys/dev/block/{major}:{minor}"));
    [
        sys.join("queue/read_ahead_kb"),
        sys.join("../queue/read_ahead_kb"),
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .and_then(|s| s.trim().parse().ok())
}

/// How many of the first `len` bytes of `path` are in the page cache, in whole pages
/// (`mincore` on a fresh read-only mapping, which does not itself read anything).
pub fn resident_bytes(path: &Path, len: u64) -> Result<u64> {
    let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let len = len.min(
        f.metadata()
            .with_context(|| format!("stat {}", path.display()))?
            .len(),
    ) as usize;
    if len == 0 {
        return Ok(0);
    }
    // SAFETY: a read-only private view that is never read here; only mincore looks at it.
    let map = unsafe { memmap2::MmapOptions::new().len(len).map(&f) }
        .with_context(|| format!("mapping {}", path.display()))?;
    let page = page_size();
    let pages = len.div_ceil(page);
    let mut vec = vec![0u8; pages];
    // SAFETY: the mapping is `len` bytes long and `vec` has one byte per page of it.
    let rc = unsafe {
        libc::mincore(
            map.as_ptr() as *mut libc::c_void,
            len,
            vec.as_mut_ptr() as *mut _,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("mincore on {}", path.display()));
    }
    let resident = vec.iter().filter(|b| **b & 1 == 1).count() as u64;
    Ok((resident * page as u64).min(len as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    // Under target/, not /tmp: tmpfs keeps everything in memory and ignores the eviction.
    fn scratch() -> tempfile::TempDir {
        let dir = crate::workspace_root().join("target/experiments");
        std::fs::create_dir_all(&dir).unwrap();
        tempfile::tempdir_in(dir).unwrap()
    }

    #[test]
    fn evicted_files_leave_the_page_cache_and_read_back_unchanged() {
        let d = scratch();
        let path = d.path().join("data");
        let bytes: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&bytes).unwrap();
        drop(f);
        let len = bytes.len() as u64;
        assert!(resident_bytes(&path, len).unwrap() > len / 2);
        if !CAN_EVICT {
            return;
        }
        evict_file(&path).unwrap();
        assert!(resident_bytes(&path, len).unwrap() < len / 4);
        let mut back = Vec::new();
        std::fs::File::open(&path)
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, bytes);
        assert!(resident_bytes(&path, len).unwrap() > len / 2);
    }

    #[test]
    fn the_readahead_window_of_a_real_disk_is_known() {
        use std::os::unix::fs::MetadataExt;
        let d = scratch();
        let dev = std::fs::metadata(d.path()).unwrap().dev();
        let sys = format!("/sys/dev/block/{}:{}", libc::major(dev), libc::minor(dev));
        // Only a file system on a block device has a readahead window (not tmpfs or overlay).
        if Path::new(&sys).exists() {
            let kb = read_ahead_kb(d.path()).expect("a block device has read_ahead_kb");
            assert!(kb <= 1 << 20, "{kb} KiB");
        }
    }

    #[test]
    fn mapped_pages_are_evicted_only_after_unmapping() {
        if !CAN_EVICT {
            return;
        }
        let d = scratch();
        let path = d.path().join("mapped");
        let len = 2usize << 20;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        f.set_len(len as u64).unwrap();
        let mut map = unsafe { memmap2::MmapMut::map_mut(&f) }.unwrap();
        for (i, b) in map.iter_mut().enumerate() {
            *b = (i % 253) as u8;
        }
        // Still mapped: fadvise alone leaves the pages where they are.
        evict_file(&path).unwrap();
        assert!(resident_bytes(&path, len as u64).unwrap() > len as u64 / 2);
        evict_mapped(&map[..], &path).unwrap();
        assert!(resident_bytes(&path, len as u64).unwrap() < len as u64 / 4);
        assert!(map.iter().enumerate().all(|(i, b)| *b == (i % 253) as u8));
    }
}
