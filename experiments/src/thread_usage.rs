//! What the calling thread has used so far: CPU time in user and kernel mode, page faults, and
//! bytes it made the kernel fetch from storage. Taking one snapshot before and one after a
//! measured stretch of work gives that work's cost ([`ThreadUsage::since`]).
//!
//! Why per thread: the experiments run a reader, a writer and the store's own background
//! threads in one process, and only the thread doing the measured work should be charged.
//! Linux gives per-thread numbers (`getrusage(RUSAGE_THREAD)`, `/proc/thread-self/io`); other
//! systems fall back to the whole process (`RUSAGE_SELF`) and report no storage bytes.
//!
//! Book: Part V "RocketMQ vs Kafka" (the read path and the zero-copy measurement). No
//! RocketMQ counterpart.

use serde::Serialize;

/// A snapshot of the calling thread's usage, or the difference of two snapshots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ThreadUsage {
    /// CPU seconds spent running the program's own code.
    pub user_s: f64,
    /// CPU seconds spent in the kernel on the thread's behalf (system calls, page faults).
    pub sys_s: f64,
    /// Page faults that had to wait for storage (a page not in the page cache).
    pub major_faults: u64,
    /// Page faults served from memory (mapping a page that is already cached).
    pub minor_faults: u64,
    /// Times the thread gave up the CPU to wait (for a disk read, a lock, a socket).
    pub voluntary_switches: u64,
    /// Times the scheduler took the CPU away to run another thread (a busy machine).
    pub involuntary_switches: u64,
    /// Bytes the thread caused to be read from storage (`read_bytes` of `/proc/thread-self/io`;
    /// readahead included, page-cache hits not). Zero where the system does not say.
    pub storage_read_bytes: u64,
}

fn seconds(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

#[cfg(target_os = "linux")]
const WHO: libc::c_int = libc::RUSAGE_THREAD;
#[cfg(not(target_os = "linux"))]
const WHO: libc::c_int = libc::RUSAGE_SELF;

fn storage_read_bytes() -> u64 {
    std::fs::read_to_string("/proc/thread-self/io")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("read_bytes:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

impl ThreadUsage {
    /// The calling thread's usage since it started.
    pub fn now() -> ThreadUsage {
        // SAFETY: getrusage writes one plain struct that we own; an all-zero rusage is valid.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: as above; `WHO` is a valid selector on this platform.
        let rc = unsafe { libc::getrusage(WHO, &mut ru) };
        if rc != 0 {
            // Cannot happen with a valid selector and pointer; zeros keep the caller going.
            return ThreadUsage::default();
        }
        ThreadUsage {
            user_s: seconds(ru.ru_utime),
            sys_s: seconds(ru.ru_stime),
            major_faults: ru.ru_majflt as u64,
            minor_faults: ru.ru_minflt as u64,
            voluntary_switches: ru.ru_nvcsw as u64,
            involuntary_switches: ru.ru_nivcsw as u64,
            storage_read_bytes: storage_read_bytes(),
        }
    }

    /// What was used between `before` and now.
    pub fn since(before: ThreadUsage) -> ThreadUsage {
        let now = ThreadUsage::now();
        ThreadUsage {
            user_s: (now.user_s - before.user_s).max(0.0),
            sys_s: (now.sys_s - before.sys_s).max(0.0),
            major_faults: now.major_faults.saturating_sub(before.major_faults),
            minor_faults: now.minor_faults.saturating_sub(before.minor_faults),
            voluntary_switches: now
                .voluntary_switches
                .saturating_sub(before.voluntary_switches),
            involuntary_switches: now
                .involuntary_switches
                .saturating_sub(before.involuntary_switches),
            storage_read_bytes: now
                .storage_read_bytes
                .saturating_sub(before.storage_read_bytes),
        }
    }

    /// User plus kernel CPU seconds.
    pub fn cpu_s(&self) -> f64 {
        self.user_s + self.sys_s
    }
}

/// Sums usages of several stretches of work (e.g. the read phases between appends).
impl std::ops::AddAssign for ThreadUsage {
    fn add_assign(&mut self, o: ThreadUsage) {
        self.user_s += o.user_s;
        self.sys_s += o.sys_s;
        self.major_faults += o.major_faults;
        self.minor_faults += o.minor_faults;
        self.voluntary_switches += o.voluntary_switches;
        self.involuntary_switches += o.involuntary_switches;
        self.storage_read_bytes += o.storage_read_bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed amount of work (not a fixed time: the machine may be busy).
    fn work() {
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        std::hint::black_box(x);
    }

    #[test]
    fn busy_work_shows_up_as_cpu_time_of_this_thread_only() {
        let before = ThreadUsage::now();
        // Another thread's work must not be charged to this one.
        std::thread::spawn(work).join().unwrap();
        let idle = ThreadUsage::since(before);
        work();
        let busy = ThreadUsage::since(before);
        assert!(busy.cpu_s() > 0.0, "{busy:?}");
        if cfg!(target_os = "linux") {
            assert!(idle.cpu_s() < busy.cpu_s() / 4.0, "{idle:?} vs {busy:?}");
        }
    }
}
