//! One DLedger log entry and its two byte layouts: the 48-byte-header record in the
//! data files and the 32-byte record in the index files.
//!
//! The header is big-endian, like Java's `ByteBuffer`: magic(4) size(4) index(8)
//! term(8) pos(8) channel(4) chainCrc(4) bodyCrc(4) bodySize(4), then the body.
//! DLedger 0.2.2 never computes the two CRC fields; they stay 0. `pos` is the entry's
//! absolute byte position in the chain of data files, so every replica must lay its
//! files out identically: [`place`] is the one placement rule all stores share.
//! Book: Part IV "Cluster modes and DLedger" (the DLedger files). Mirrors
//! `entry/DLedgerEntry.java`, `entry/DLedgerEntryCoder.java` and
//! `MmapFileList.preAppend` of DLedger 0.2.2.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use thiserror::Error;

/// `DLedgerMmapFileStore.MAGIC_1` (= `CURRENT_MAGIC`).
pub const MAGIC_1: i32 = 1;
/// Start of the `pos` field inside the header (`DLedgerEntry.POS_OFFSET`).
pub const POS_OFFSET: usize = 24;
/// Bytes before `bodySize` (`DLedgerEntry.HEADER_SIZE`).
pub const HEADER_SIZE: usize = 44;
/// Start of the body (`DLedgerEntry.BODY_OFFSET`): the whole fixed header.
pub const BODY_OFFSET: usize = 48;
/// One index record (`DLedgerMmapFileStore.INDEX_UNIT_SIZE`).
pub const INDEX_UNIT_SIZE: usize = 32;
/// Marker written at the end of a data file that could not take the next entry
/// (`MmapFileList.BLANK_MAGIC_CODE`).
pub const BLANK_MAGIC_CODE: i32 = -1;
/// Room an append must leave for the blank marker (`MmapFileList.MIN_BLANK_LEN`).
pub const MIN_BLANK_LEN: i64 = 8;

/// A log entry as DLedger keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The record's magic code ([`MAGIC_1`]).
    pub magic: i32,
    /// The entry's index in the log, from 0.
    pub index: i64,
    /// The leader's term when the entry was appended.
    pub term: i64,
    /// The entry's absolute byte position in the chain of data files.
    pub pos: i64,
    /// DLedger's channel field (0 in the entries this crate writes).
    pub channel: i32,
    /// The chain CRC field (`chainCrc`); 0.2.2 leaves it 0.
    pub chain_crc: i32,
    /// The body CRC field (`bodyCrc`); 0.2.2 leaves it 0.
    pub body_crc: i32,
    /// The entry's payload (for RocketMQ, one commit-log message record).
    pub body: Bytes,
}

impl Entry {
    /// A fresh entry; index, term and pos are filled in by the store.
    pub fn new(body: Bytes) -> Entry {
        Entry {
            magic: MAGIC_1,
            index: -1,
            term: -1,
            pos: -1,
            channel: 0,
            chain_crc: 0,
            body_crc: 0,
            body,
        }
    }

    /// Whole record size: header plus body (`computSizeInBytes`).
    pub fn size(&self) -> i32 {
        (BODY_OFFSET + self.body.len()) as i32
    }

    /// DLedger's `equals`: size, magic, index, term, channel, pos and body must agree
    /// (the CRC fields are not compared).
    pub fn same_as(&self, other: &Entry) -> bool {
        self.size() == other.size()
            && self.magic == other.magic
            && self.index == other.index
            && self.term == other.term
            && self.channel == other.channel
            && self.pos == other.pos
            && self.body == other.body
    }

    /// Encodes the data-file record.
    pub fn encode(&self) -> BytesMut {
        let mut b = BytesMut::with_capacity(self.size() as usize);
        self.encode_into(&mut b);
        b
    }

    // ANCHOR: entry_encode
    /// Appends the data-file record to `b`.
    pub fn encode_into(&self, b: &mut BytesMut) {
        b.put_i32(self.magic);
        b.put_i32(self.size());
        b.put_i64(self.index);
        b.put_i64(self.term);
        b.put_i64(self.pos);
        b.put_i32(self.channel);
        b.put_i32(self.chain_crc);
        b.put_i32(self.body_crc);
        b.put_i32(self.body.len() as i32);
        b.put_slice(&self.body);
    }
    // ANCHOR_END: entry_encode

    /// Decodes one data-file record from the start of `buf`.
    pub fn decode(buf: &[u8]) -> Result<Entry, CodecError> {
        let h = EntryHeader::decode(buf)?;
        h.check()?;
        let end = BODY_OFFSET + h.body_size as usize;
        if buf.len() < end {
            return Err(CodecError::Short {
                need: end,
                have: buf.len(),
            });
        }
        Ok(Entry {
            magic: h.magic,
            index: h.index,
            term: h.term,
            pos: h.pos,
            channel: h.channel,
            chain_crc: h.chain_crc,
            body_crc: h.body_crc,
            body: Bytes::copy_from_slice(&buf[BODY_OFFSET..end]),
        })
    }
}

/// The fixed 48-byte header of a data-file record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryHeader {
    /// The magic code.
    pub magic: i32,
    /// The whole record's size, header included, in bytes.
    pub size: i32,
    /// The entry's index.
    pub index: i64,
    /// The entry's term.
    pub term: i64,
    /// The entry's byte position in the data chain.
    pub pos: i64,
    /// The channel field.
    pub channel: i32,
    /// The chain CRC field (`chainCrc`).
    pub chain_crc: i32,
    /// The body CRC field (`bodyCrc`).
    pub body_crc: i32,
    /// The body's length in bytes (`bodySize`).
    pub body_size: i32,
}

impl EntryHeader {
    /// Reads the header fields (no consistency checks).
    pub fn decode(mut buf: &[u8]) -> Result<EntryHeader, CodecError> {
        if buf.len() < BODY_OFFSET {
            return Err(CodecError::Short {
                need: BODY_OFFSET,
                have: buf.len(),
            });
        }
        Ok(EntryHeader {
            magic: buf.get_i32(),
            size: buf.get_i32(),
            index: buf.get_i64(),
            term: buf.get_i64(),
            pos: buf.get_i64(),
            channel: buf.get_i32(),
            chain_crc: buf.get_i32(),
            body_crc: buf.get_i32(),
            body_size: buf.get_i32(),
        })
    }

    /// The self-consistency checks recovery applies to one header.
    pub fn check(&self) -> Result<(), CodecError> {
        if self.magic != MAGIC_1 {
            return Err(CodecError::BadMagic(self.magic));
        }
        if self.index < 0 || self.term < 0 || self.pos < 0 || self.index > i64::MAX / 64 {
            return Err(CodecError::BadField {
                index: self.index,
                term: self.term,
                pos: self.pos,
            });
        }
        if self.body_size < 0 || self.size as i64 != self.body_size as i64 + BODY_OFFSET as i64 {
            return Err(CodecError::BadSize {
                size: self.size,
                body_size: self.body_size,
            });
        }
        Ok(())
    }
}

/// One 32-byte index record: magic(4) pos(8) size(4) index(8) term(8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexRecord {
    /// The magic code of the entry.
    pub magic: i32,
    /// The entry's byte position in the data chain.
    pub pos: i64,
    /// The entry's whole record size, in bytes.
    pub size: i32,
    /// The entry's index.
    pub index: i64,
    /// The entry's term.
    pub term: i64,
}

impl IndexRecord {
    // ANCHOR: index_encode
    /// Encodes to exactly [`INDEX_UNIT_SIZE`] bytes (`DLedgerEntryCoder.encodeIndex`).
    pub fn encode(&self) -> [u8; INDEX_UNIT_SIZE] {
        let mut out = [0u8; INDEX_UNIT_SIZE];
        let mut b = &mut out[..];
        b.put_i32(self.magic);
        b.put_i64(self.pos);
        b.put_i32(self.size);
        b.put_i64(self.index);
        b.put_i64(self.term);
        out
    }
    // ANCHOR_END: index_encode

    /// Decodes from the start of `buf`.
    pub fn decode(mut buf: &[u8]) -> Result<IndexRecord, CodecError> {
        if buf.len() < INDEX_UNIT_SIZE {
            return Err(CodecError::Short {
                need: INDEX_UNIT_SIZE,
                have: buf.len(),
            });
        }
        Ok(IndexRecord {
            magic: buf.get_i32(),
            pos: buf.get_i64(),
            size: buf.get_i32(),
            index: buf.get_i64(),
            term: buf.get_i64(),
        })
    }

    /// The index record describing `e`.
    pub fn of(e: &Entry) -> IndexRecord {
        IndexRecord {
            magic: e.magic,
            pos: e.pos,
            size: e.size(),
            index: e.index,
            term: e.term,
        }
    }
}

/// Decoding problems; recovery treats any of them as "the log ends here".
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CodecError {
    /// The buffer ends before the record does.
    #[error("record too short: need {need} bytes, have {have}")]
    Short {
        /// Bytes the record needs.
        need: usize,
        /// Bytes the buffer has.
        have: usize,
    },
    /// The magic code is not [`MAGIC_1`] (the code found).
    #[error("unknown magic {0}")]
    BadMagic(i32),
    /// The index, term or position is negative or impossibly large.
    #[error("impossible header fields: index {index}, term {term}, pos {pos}")]
    BadField {
        /// The index field.
        index: i64,
        /// The term field.
        term: i64,
        /// The position field.
        pos: i64,
    },
    /// The size field does not equal the body size plus the 48-byte header.
    #[error("size {size} != bodySize {body_size} + 48")]
    BadSize {
        /// The size field, in bytes.
        size: i32,
        /// The body size field, in bytes.
        body_size: i32,
    },
}

/// Where an entry of `len` bytes goes when the data chain is written up to
/// `write_pos` and every file holds `file_size` bytes: at `write_pos` if the current
/// file keeps at least [`MIN_BLANK_LEN`] bytes free after it, otherwise at the start of
/// the next file (the rest of the current one becomes a blank). `None` if the entry
/// can never fit in one file.
pub fn place(write_pos: i64, len: i64, file_size: i64) -> Option<i64> {
    if file_size <= 0 || len + MIN_BLANK_LEN > file_size {
        return None;
    }
    let file_start = write_pos - write_pos.rem_euclid(file_size);
    let free = file_start + file_size - write_pos;
    if len + MIN_BLANK_LEN > free {
        Some(file_start + file_size)
    } else {
        Some(write_pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_matches_dledger() {
        let mut e = Entry::new(Bytes::from_static(b"hello"));
        e.index = 7;
        e.term = 3;
        e.pos = 1000;
        let b = e.encode();
        assert_eq!(b.len(), 53);
        assert_eq!(&b[0..4], &1i32.to_be_bytes());
        assert_eq!(&b[4..8], &53i32.to_be_bytes());
        assert_eq!(&b[8..16], &7i64.to_be_bytes());
        assert_eq!(&b[16..24], &3i64.to_be_bytes());
        assert_eq!(&b[POS_OFFSET..32], &1000i64.to_be_bytes());
        assert_eq!(&b[32..44], &[0u8; 12]);
        assert_eq!(&b[HEADER_SIZE..48], &5i32.to_be_bytes());
        assert_eq!(&b[BODY_OFFSET..], b"hello");
        assert_eq!(Entry::decode(&b).unwrap(), e);
    }

    #[test]
    fn index_layout_matches_dledger() {
        let r = IndexRecord {
            magic: 1,
            pos: 4096,
            size: 60,
            index: 9,
            term: 2,
        };
        let b = r.encode();
        assert_eq!(&b[0..4], &1i32.to_be_bytes());
        assert_eq!(&b[4..12], &4096i64.to_be_bytes());
        assert_eq!(&b[12..16], &60i32.to_be_bytes());
        assert_eq!(&b[16..24], &9i64.to_be_bytes());
        assert_eq!(&b[24..32], &2i64.to_be_bytes());
        assert_eq!(IndexRecord::decode(&b).unwrap(), r);
    }

    #[test]
    fn placement_rolls_to_next_file() {
        assert_eq!(place(0, 100, 1024), Some(0));
        assert_eq!(place(916, 100, 1024), Some(916)); // 916+100+8 = 1024 exactly
        assert_eq!(place(917, 100, 1024), Some(1024));
        assert_eq!(place(1024, 100, 1024), Some(1024));
        assert_eq!(place(0, 1020, 1024), None);
    }

    #[test]
    fn bad_headers_are_rejected() {
        let mut good = Entry::new(Bytes::from_static(b"x"));
        good.index = 0;
        good.term = 0;
        good.pos = 0;
        let mut e = good.encode();
        e[3] = 2;
        assert_eq!(Entry::decode(&e), Err(CodecError::BadMagic(2)));
        let mut e = good.encode();
        e[7] = 99;
        assert!(matches!(Entry::decode(&e), Err(CodecError::BadSize { .. })));
        // a fresh entry has no index yet
        let e = Entry::new(Bytes::from_static(b"x")).encode();
        assert!(matches!(
            Entry::decode(&e),
            Err(CodecError::BadField { .. })
        ));
        assert!(matches!(
            Entry::decode(&[0u8; 10]),
            Err(CodecError::Short { .. })
        ));
    }
}
