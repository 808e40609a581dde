//! Bit flags that switch the store read-only or unwritable when something goes wrong (disk
//! full, a consume queue or index that cannot be written).
//!
//! Book: Part I, "CommitLog" (retention and a full disk). Mirrors
//! `org.apache.rocketmq.store.RunningFlags`.

use std::sync::atomic::{AtomicU32, Ordering};

/// Reads are refused.
pub const NOT_READABLE_BIT: u32 = 1;
/// Puts are refused.
pub const NOT_WRITEABLE_BIT: u32 = 1 << 1;
/// A consume queue could not be written.
pub const WRITE_LOGICS_QUEUE_ERROR_BIT: u32 = 1 << 2;
/// An index file could not be written.
pub const WRITE_INDEX_FILE_ERROR_BIT: u32 = 1 << 3;
/// The disk is nearly full.
pub const DISK_FULL_BIT: u32 = 1 << 4;

/// See the module docs.
#[derive(Debug, Default)]
pub struct RunningFlags(AtomicU32);

impl RunningFlags {
    /// The raw bits.
    pub fn bits(&self) -> u32 {
        self.0.load(Ordering::Acquire)
    }
    /// Reads are served (`isReadable`).
    pub fn is_readable(&self) -> bool {
        self.bits() & NOT_READABLE_BIT == 0
    }
    /// Puts are accepted (`isWriteable`).
    pub fn is_writeable(&self) -> bool {
        self.bits()
            & (NOT_WRITEABLE_BIT
                | WRITE_LOGICS_QUEUE_ERROR_BIT
                | DISK_FULL_BIT
                | WRITE_INDEX_FILE_ERROR_BIT)
            == 0
    }
    /// Consume queues may be written (`isCQWriteable`).
    pub fn is_cq_writeable(&self) -> bool {
        self.bits() & (NOT_WRITEABLE_BIT | WRITE_LOGICS_QUEUE_ERROR_BIT) == 0
    }
    /// Sets `bit`.
    pub fn set(&self, bit: u32) {
        self.0.fetch_or(bit, Ordering::AcqRel);
    }
    /// Clears `bit`.
    pub fn clear(&self, bit: u32) {
        self.0.fetch_and(!bit, Ordering::AcqRel);
    }
    /// Sets DISK_FULL; returns whether it was clear before.
    pub fn get_and_make_disk_full(&self) -> bool {
        self.0.fetch_or(DISK_FULL_BIT, Ordering::AcqRel) & DISK_FULL_BIT == 0
    }
    /// Clears DISK_FULL; returns whether it was clear before.
    pub fn get_and_make_disk_ok(&self) -> bool {
        self.0.fetch_and(!DISK_FULL_BIT, Ordering::AcqRel) & DISK_FULL_BIT == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let f = RunningFlags::default();
        assert!(f.is_writeable() && f.is_readable() && f.is_cq_writeable());
        assert!(f.get_and_make_disk_full());
        assert!(!f.is_writeable());
        assert!(f.is_cq_writeable());
        assert!(!f.get_and_make_disk_ok());
        assert!(f.is_writeable());
        f.set(WRITE_LOGICS_QUEUE_ERROR_BIT);
        assert!(!f.is_cq_writeable());
    }
}
