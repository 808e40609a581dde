//! Lab 3: your code goes here. Replace each `panic!` with your implementation.
//! Read labs/03-index-file/README.md first; `make labs LAB=03` grades this file.

use crate::IndexFile;

const NOT_DONE: &str = "lab not done yet: see book chapter Part I \"IndexFile\", section Lab (book/src/part1/indexfile.md#lab) and labs/03-index-file/README.md";

/// The hash an entry stores for `key` (`indexKeyHashMethod`): never negative.
pub fn index_key_hash(key: &str) -> i32 {
    // LAB 3, part 1.
    let _ = key;
    panic!("{NOT_DONE}");
}

impl IndexFile {
    /// Byte position of the slot a key hash falls into.
    pub fn slot_position(&self, key_hash: i32) -> usize {
        // LAB 3, part 1.
        let _ = key_hash;
        panic!("{NOT_DONE}");
    }

    /// Byte position of entry number `index`.
    pub fn entry_position(&self, index: i32) -> usize {
        // LAB 3, part 1.
        let _ = index;
        panic!("{NOT_DONE}");
    }

    /// Indexes `key` -> `phy_offset` for a message stored at `store_timestamp`
    /// (`IndexFile.putKey`): the new entry becomes the newest of its slot and links to the
    /// previous newest; the header counts it. Returns false, changing nothing, when the file
    /// has no room left.
    pub fn put_key(&mut self, key: &str, phy_offset: i64, store_timestamp: i64) -> bool {
        // LAB 3, part 2.
        let _ = (key, phy_offset, store_timestamp);
        panic!("{NOT_DONE}");
    }

    /// The commit-log offsets of up to `max_num` entries for `key` stored between `begin` and
    /// `end` (ms, both included), newest first (`IndexFile.selectPhyOffset`).
    pub fn select_phy_offsets(&self, key: &str, max_num: usize, begin: i64, end: i64) -> Vec<i64> {
        // LAB 3, part 3.
        let _ = (key, max_num, begin, end);
        panic!("{NOT_DONE}");
    }
}
