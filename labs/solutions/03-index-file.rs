//! Lab 3, reference solution. Built instead of src/lab.rs with `--features reference`.
//! Try the lab before reading this.

use crate::{
    java_string_hash, IndexFile, HASH_SLOT_SIZE, INDEX_ENTRY_SIZE, INDEX_HEADER_SIZE, INVALID_INDEX,
};

pub fn index_key_hash(key: &str) -> i32 {
    // Math.abs(Integer.MIN_VALUE) is still negative in Java; 4.8.0 maps it to 0.
    java_string_hash(key).checked_abs().unwrap_or(0)
}

/// One entry's four fields.
struct Entry {
    key_hash: i32,
    phy_offset: i64,
    time_diff_s: i32,
    prev_index: i32,
}

impl IndexFile {
    pub fn slot_position(&self, key_hash: i32) -> usize {
        let slot = key_hash as u32 % self.hash_slot_num;
        INDEX_HEADER_SIZE + slot as usize * HASH_SLOT_SIZE
    }

    pub fn entry_position(&self, index: i32) -> usize {
        INDEX_HEADER_SIZE
            + self.hash_slot_num as usize * HASH_SLOT_SIZE
            + index as usize * INDEX_ENTRY_SIZE
    }

    fn entry(&self, index: i32) -> Entry {
        let at = self.entry_position(index);
        Entry {
            key_hash: self.get_i32(at),
            phy_offset: self.get_i64(at + 4),
            time_diff_s: self.get_i32(at + 12),
            prev_index: self.get_i32(at + 16),
        }
    }

    pub fn put_key(&mut self, key: &str, phy_offset: i64, store_timestamp: i64) -> bool {
        let mut h = self.header();
        if h.index_count as u32 >= self.index_num {
            return false;
        }
        let key_hash = index_key_hash(key);
        let slot_at = self.slot_position(key_hash);
        let mut newest = self.get_i32(slot_at);
        if newest <= INVALID_INDEX || newest > h.index_count {
            newest = INVALID_INDEX; // empty, or garbage from a torn write
        }
        let time_diff_s = if h.begin_timestamp <= 0 {
            0
        } else {
            ((store_timestamp - h.begin_timestamp) / 1000).clamp(0, i32::MAX as i64) as i32
        };
        let at = self.entry_position(h.index_count);
        self.put_i32(at, key_hash);
        self.put_i64(at + 4, phy_offset);
        self.put_i32(at + 12, time_diff_s);
        self.put_i32(at + 16, newest);
        self.put_i32(slot_at, h.index_count);
        if h.index_count <= 1 {
            h.begin_phy_offset = phy_offset;
            h.begin_timestamp = store_timestamp;
        }
        if newest == INVALID_INDEX {
            h.hash_slot_count += 1;
        }
        h.index_count += 1;
        h.end_phy_offset = phy_offset;
        h.end_timestamp = store_timestamp;
        self.set_header(&h);
        true
    }

    pub fn select_phy_offsets(&self, key: &str, max_num: usize, begin: i64, end: i64) -> Vec<i64> {
        let mut found = Vec::new();
        let h = self.header();
        let key_hash = index_key_hash(key);
        let mut next = self.get_i32(self.slot_position(key_hash));
        if next <= INVALID_INDEX || next > h.index_count || h.index_count <= 1 {
            return found;
        }
        while found.len() < max_num {
            let e = self.entry(next);
            if e.time_diff_s < 0 {
                break;
            }
            let stored_at = h.begin_timestamp + e.time_diff_s as i64 * 1000;
            if e.key_hash == key_hash && (begin..=end).contains(&stored_at) {
                found.push(e.phy_offset);
            }
            let prev = e.prev_index;
            if prev <= INVALID_INDEX || prev > h.index_count || prev == next || stored_at < begin {
                break;
            }
            next = prev;
        }
        found
    }
}
