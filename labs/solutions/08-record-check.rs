//! Lab 8, reference solution. Built instead of src/lab.rs with `--features reference`.
//! Try the lab before reading this.

use crate::{
    crc32, FileScan, RecordCheck, RecordInfo, BLANK_MAGIC_CODE, BORNHOST_V6_FLAG,
    MESSAGE_MAGIC_CODE, STOREHOST_V6_FLAG,
};

pub fn body_crc(body: &[u8]) -> i32 {
    (crc32(body) & 0x7FFF_FFFF) as i32
}

fn host_len(sys_flag: i32, v6_flag: i32) -> usize {
    if sys_flag & v6_flag != 0 {
        16 + 4
    } else {
        4 + 4
    }
}

pub fn cal_msg_length(
    sys_flag: i32,
    body_len: usize,
    topic_len: usize,
    properties_len: usize,
) -> usize {
    let fixed = 4 // TOTALSIZE
        + 4 // MAGICCODE
        + 4 // BODYCRC
        + 4 // QUEUEID
        + 4 // FLAG
        + 8 // QUEUEOFFSET
        + 8 // PHYSICALOFFSET
        + 4 // SYSFLAG
        + 8 // BORNTIMESTAMP
        + 8 // STORETIMESTAMP
        + 4 // RECONSUMETIMES
        + 8; // PREPARED TRANSACTION OFFSET
    fixed
        + host_len(sys_flag, BORNHOST_V6_FLAG)
        + host_len(sys_flag, STOREHOST_V6_FLAG)
        + 4
        + body_len
        + 1
        + topic_len
        + 2
        + properties_len
}

/// Reads big-endian fields one after the other; `None` once a field runs past the end.
struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let out = self.buf.get(self.at..end)?;
        self.at = end;
        Some(out)
    }
    fn int<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N)?.try_into().ok()
    }
}

enum Fault {
    /// The fields run past TOTALSIZE, or do not add up to it.
    Mismatch,
    /// The body does not match its CRC.
    Crc,
}

pub fn check_record(buf: &[u8], check_crc: bool) -> RecordCheck {
    let mut r = Reader { buf, at: 0 };
    let (Some(total), Some(magic)) = (r.int::<4>(), r.int::<4>()) else {
        return RecordCheck::Invalid(format!("only {} bytes left", buf.len()));
    };
    let (total, magic) = (i32::from_be_bytes(total), i32::from_be_bytes(magic));
    match magic {
        BLANK_MAGIC_CODE => return RecordCheck::EndOfFile,
        MESSAGE_MAGIC_CODE => {}
        other => return RecordCheck::Invalid(format!("magic code {other:#010x}")),
    }
    if total <= 0 || total as usize > buf.len() {
        return RecordCheck::Invalid(format!("TOTALSIZE {total} with {} bytes left", buf.len()));
    }
    match fields(&buf[..total as usize], check_crc) {
        Ok(info) => RecordCheck::Message(info),
        Err(Fault::Mismatch) => RecordCheck::SizeMismatch { size: total },
        Err(Fault::Crc) => RecordCheck::Invalid("body CRC does not match".into()),
    }
}

/// Parses the fields of one record of exactly TOTALSIZE bytes.
fn fields(rec: &[u8], check_crc: bool) -> Result<RecordInfo, Fault> {
    let mut r = Reader { buf: rec, at: 8 };
    let stored_crc = i32::from_be_bytes(r.int().ok_or(Fault::Mismatch)?);
    let queue_id = i32::from_be_bytes(r.int().ok_or(Fault::Mismatch)?);
    r.bytes(4).ok_or(Fault::Mismatch)?; // FLAG
    let queue_offset = i64::from_be_bytes(r.int().ok_or(Fault::Mismatch)?);
    let physical_offset = i64::from_be_bytes(r.int().ok_or(Fault::Mismatch)?);
    let sys_flag = i32::from_be_bytes(r.int().ok_or(Fault::Mismatch)?);
    r.bytes(8).ok_or(Fault::Mismatch)?; // BORNTIMESTAMP
    r.bytes(host_len(sys_flag, BORNHOST_V6_FLAG))
        .ok_or(Fault::Mismatch)?;
    let store_timestamp = i64::from_be_bytes(r.int().ok_or(Fault::Mismatch)?);
    r.bytes(host_len(sys_flag, STOREHOST_V6_FLAG))
        .ok_or(Fault::Mismatch)?;
    r.bytes(4 + 8).ok_or(Fault::Mismatch)?; // RECONSUMETIMES, PREPARED TRANSACTION OFFSET
    let body_len = i32::from_be_bytes(r.int().ok_or(Fault::Mismatch)?);
    let body_len = usize::try_from(body_len).map_err(|_| Fault::Mismatch)?;
    let body = r.bytes(body_len).ok_or(Fault::Mismatch)?;
    if check_crc && body_crc(body) != stored_crc {
        return Err(Fault::Crc);
    }
    let topic_len = r.int::<1>().ok_or(Fault::Mismatch)?[0] as usize;
    let topic = r.bytes(topic_len).ok_or(Fault::Mismatch)?;
    let props_len = u16::from_be_bytes(r.int().ok_or(Fault::Mismatch)?) as usize;
    r.bytes(props_len).ok_or(Fault::Mismatch)?;
    if cal_msg_length(sys_flag, body_len, topic_len, props_len) != rec.len() {
        return Err(Fault::Mismatch);
    }
    Ok(RecordInfo {
        size: rec.len() as i32,
        topic: String::from_utf8_lossy(topic).into_owned(),
        queue_id,
        queue_offset,
        physical_offset,
        store_timestamp,
    })
}

pub fn scan_file(file: &[u8], check_crc: bool) -> FileScan {
    let mut scan = FileScan {
        records: 0,
        end: 0,
        end_of_file: false,
    };
    loop {
        match check_record(&file[scan.end..], check_crc) {
            RecordCheck::Message(info) => {
                scan.records += 1;
                scan.end += info.size as usize;
            }
            RecordCheck::EndOfFile => {
                scan.end_of_file = true;
                return scan;
            }
            RecordCheck::SizeMismatch { .. } | RecordCheck::Invalid(_) => return scan,
        }
    }
}
