//! ConsumeQueueExt files: `consumequeue_ext/<topic>/<queueId>/`, written when a broker runs
//! with `enableConsumeQueueExt=true`. Each consume-queue entry's tagsCode field then holds an
//! *address* (file offset + `Long.MIN_VALUE`, so at most `Integer.MIN_VALUE - 1`) of a unit
//! `[size i16][tagsCode i64][msgStoreTime i64][bitMapSize i16][bitMap]`, size = 20 + bitMapSize;
//! a short -1 ends a file whose free tail was too small for the next unit.
//!
//! This parser is written from that layout alone (it shares no code with rmq-store); verify
//! resolves every address through it and checks the unit against the record: same tags code,
//! same store time. Book: Part II "Filtering" (ConsumeQueueExt). Mirrors 4.8.0's
//! `ConsumeQueueExt` (`isExtAddr`, `CqExtUnit.read`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::InspectError;
use crate::files::{file_name, list_dirs, map_file, read_chain};
use crate::record::{be_i64, Record};
use crate::violation::{ViolationKind as K, Violations};

/// `ConsumeQueueExt.MAX_ADDR`: tags codes at or below it are extension addresses.
pub const MAX_ADDR: i64 = i32::MIN as i64 - 1;

/// Whether a tagsCode field holds an extension address.
pub fn is_ext_addr(tags_code: i64) -> bool {
    tags_code <= MAX_ADDR
}

/// The file offset an address stands for.
pub fn ext_offset(address: i64) -> i64 {
    address.wrapping_sub(i64::MIN)
}

/// One unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtUnit {
    /// The tag hash (`tagsCode`).
    pub tags_code: i64,
    /// When the message was stored, in ms since the epoch (`msgStoreTime`).
    pub msg_store_time: i64,
    /// The SQL92/bloom filter bit map, possibly empty (`filterBitMap`).
    pub bit_map: Vec<u8>,
}

/// The units of one `consumequeue_ext/<topic>/<queueId>/`, by file offset.
#[derive(Debug, Clone, Default)]
pub struct ExtQueue {
    /// The topic (the parent directory's name).
    pub topic: String,
    /// The queue id (the directory's name).
    pub queue_id: i32,
    /// The units, keyed by their byte offset in the queue's files.
    pub units: BTreeMap<i64, ExtUnit>,
}

/// Reads every extension queue under `root` (the `consumequeue_ext/` directory).
pub fn read_consume_queue_exts(
    root: &Path,
    v: &mut Violations,
) -> Result<Vec<ExtQueue>, InspectError> {
    let mut out = Vec::new();
    for topic_dir in list_dirs(root)? {
        for q in list_dirs(&topic_dir)? {
            let Ok(queue_id) = file_name(&q).parse::<i32>() else {
                continue;
            };
            let mut eq = ExtQueue {
                topic: file_name(&topic_dir),
                queue_id,
                units: BTreeMap::new(),
            };
            for cf in read_chain(&q, 1, v)? {
                let bytes = map_file(&cf.path)?;
                let mut pos = 0usize;
                while pos + 2 <= bytes.len() {
                    let size = i16::from_be_bytes([bytes[pos], bytes[pos + 1]]);
                    if size < 1 {
                        break; // zeros after the last unit, or the -1 end mark
                    }
                    let size = size as usize;
                    let unit = (size >= 20 && pos + size <= bytes.len())
                        .then(|| {
                            let n = i16::from_be_bytes([bytes[pos + 18], bytes[pos + 19]]);
                            let n = usize::try_from(n).unwrap_or(0);
                            (20 + n == size).then(|| ExtUnit {
                                tags_code: be_i64(&bytes, pos + 2).unwrap_or(0),
                                msg_store_time: be_i64(&bytes, pos + 10).unwrap_or(0),
                                bit_map: bytes[pos + 20..pos + size].to_vec(),
                            })
                        })
                        .flatten();
                    let Some(unit) = unit else {
                        v.push(
                            K::CqFile,
                            format!("{} @{pos}", cf.path.display()),
                            format!("extension unit of size {size} does not fit its fields"),
                        );
                        break;
                    };
                    eq.units.insert(cf.start + pos as i64, unit);
                    pos += size;
                }
            }
            out.push(eq);
        }
    }
    Ok(out)
}

/// Resolves a consume-queue entry's tagsCode: a plain code as it is; an address to its
/// unit, checked against the record (`None` and a violation when it does not resolve or
/// disagrees).
pub fn resolve_tags_code(
    place: &str,
    tags_code: i64,
    rec: &Record,
    ext: Option<&ExtQueue>,
    v: &mut Violations,
) -> Option<i64> {
    if !is_ext_addr(tags_code) {
        return Some(tags_code);
    }
    let offset = ext_offset(tags_code);
    let Some(unit) = ext.and_then(|q| q.units.get(&offset)) else {
        v.push(
            K::CqTagsCode,
            place,
            format!("tagsCode is the extension address of offset {offset}, which holds no unit"),
        );
        return None;
    };
    if unit.msg_store_time != rec.store_timestamp {
        v.push(
            K::CqTagsCode,
            place,
            format!(
                "extension unit at {offset} has store time {} but the record {}",
                unit.msg_store_time, rec.store_timestamp
            ),
        );
    }
    Some(unit.tags_code)
}

/// The entry with an extension address replaced by its unit's tags code, ready for
/// `check_entry`; `None` (and a violation) when the address does not resolve.
pub fn resolved_entry(
    image: &crate::StoreImage,
    cq: &crate::consume_queue::ConsumeQueue,
    e: &crate::consume_queue::CqEntry,
    v: &mut Violations,
) -> Option<crate::consume_queue::CqEntry> {
    if !is_ext_addr(e.tags_code) {
        return Some(*e);
    }
    let Some(rec) = image.commit_log.record_at(e.phy) else {
        return Some(*e); // check_entry reports the dangling entry
    };
    let ext = image
        .consume_queue_exts
        .iter()
        .find(|x| x.topic == cq.topic && x.queue_id == cq.queue_id);
    let place = format!(
        "consumequeue/{}/{} offset {}",
        cq.topic, cq.queue_id, e.offset
    );
    let code = resolve_tags_code(&place, e.tags_code, rec, ext, v)?;
    Some(crate::consume_queue::CqEntry {
        tags_code: code,
        ..*e
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_told_from_tags_codes_by_value() {
        assert!(is_ext_addr(i64::MIN));
        assert_eq!(ext_offset(i64::MIN + 34), 34);
        assert!(!is_ext_addr(i32::MIN as i64));
        assert!(!is_ext_addr(1_700_000_000_000));
    }

    #[test]
    fn reads_units_and_stops_at_the_end_mark() {
        let dir = tempfile::tempdir().unwrap();
        let q = dir.path().join("T/0");
        std::fs::create_dir_all(&q).unwrap();
        let mut file = vec![0u8; 64];
        let mut unit = Vec::new();
        unit.extend_from_slice(&22i16.to_be_bytes());
        unit.extend_from_slice(&7i64.to_be_bytes());
        unit.extend_from_slice(&123i64.to_be_bytes());
        unit.extend_from_slice(&2i16.to_be_bytes());
        unit.extend_from_slice(&[0xA5, 0x01]);
        file[..22].copy_from_slice(&unit);
        file[22..24].copy_from_slice(&(-1i16).to_be_bytes());
        std::fs::write(q.join("00000000000000000000"), &file).unwrap();
        let mut v = Violations::default();
        let exts = read_consume_queue_exts(dir.path(), &mut v).unwrap();
        assert_eq!(exts.len(), 1);
        let u = &exts[0].units[&0];
        assert_eq!((u.tags_code, u.msg_store_time), (7, 123));
        assert_eq!(u.bit_map, vec![0xA5, 0x01]);
        assert_eq!(exts[0].units.len(), 1);
    }
}
