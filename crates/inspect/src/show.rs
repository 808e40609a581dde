//! `rmq-inspect store`: readable tables of everything in a store directory.
//!
//! Sections: commit-log files (records and END_OF_FILE filler per file), messages, consume
//! queue entries with what each points at, index files (header, slots used, and the chain
//! walk for one `topic#key`), checkpoint, abort/lock markers and `config/`. It is the
//! "look inside" half of the inspector; [`crate::verify`] is the "check" half.
//! Book: Part I "Storage files" (every chapter's "Try it").

use std::fmt::Write as _;

use chrono::{Local, TimeZone};

use crate::consume_queue::{check_entry, EntryCheck};
use crate::index::index_key_hash;
use crate::store::StoreImage;
use crate::table::Table;

/// What to print.
#[derive(Debug, Clone, Default)]
pub struct ShowOptions {
    /// Only messages and consume queues of this topic.
    pub topic: Option<String>,
    /// At most this many messages and entries per consume queue (None = all).
    pub limit: Option<usize>,
    /// A `topic#key` whose index chain to walk.
    pub key: Option<String>,
}

/// `yyyy-MM-dd HH:mm:ss.SSS` in local time, or the raw number if it is not a time.
pub fn human_time(ms: i64) -> String {
    match Local.timestamp_millis_opt(ms).single() {
        Some(t) if ms > 0 => t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        _ => ms.to_string(),
    }
}

/// The whole report as text.
pub fn render(image: &StoreImage, opts: &ShowOptions) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "store {}", image.root.display());
    match &image.dledger {
        Some(d) => dledger_files(image, d, opts, &mut out),
        None => commit_log_files(image, &mut out),
    }
    messages(image, opts, &mut out);
    consume_queues(image, opts, &mut out);
    consume_queue_exts(image, opts, &mut out);
    index_files(image, opts, &mut out);
    markers(image, &mut out);
    out
}

fn commit_log_files(image: &StoreImage, out: &mut String) {
    let log = &image.commit_log;
    let _ = writeln!(
        out,
        "\n== commitlog ({} files, offsets {}..{})",
        log.files.len(),
        log.min_offset(),
        log.max_offset()
    );
    let mut t = Table::new(&[
        "file",
        "size",
        "records",
        "data bytes",
        "END_OF_FILE filler",
    ]);
    for f in &log.files {
        t.row(vec![
            f.name.clone(),
            f.size.to_string(),
            f.records.to_string(),
            f.data_end.to_string(),
            f.filler.map_or("-".into(), |n| format!("{n} bytes")),
        ]);
    }
    out.push_str(&t.render());
}

fn dledger_files(
    image: &StoreImage,
    d: &crate::dledger::DLedgerImage,
    opts: &ShowOptions,
    out: &mut String,
) {
    let _ = writeln!(
        out,
        "\n== {}/data: the commit log (DLedger; {} files, {} entries, offsets {}..{})",
        d.dir,
        d.files.len(),
        d.entries.len(),
        image.commit_log.min_offset(),
        image.commit_log.max_offset()
    );
    let mut t = Table::new(&["file", "size", "entries", "data bytes", "blank at the end"]);
    for f in &d.files {
        t.row(vec![
            f.name.clone(),
            f.size.to_string(),
            f.entries.to_string(),
            f.data_end.to_string(),
            f.blank.map_or("-".into(), |n| format!("{n} bytes")),
        ]);
    }
    out.push_str(&t.render());
    let show = |o: Option<i64>| o.map_or("-".to_string(), |v| v.to_string());
    let (end, committed) = d.checkpoint.unwrap_or((None, None));
    let (term, vote) = d.currterm.clone().unwrap_or_default();
    let _ = writeln!(
        out,
        "checkpoint: endIndex {} committedIndex {}; currterm: currTerm {} voteLeader {}",
        show(end),
        show(committed),
        if term.is_empty() { "-" } else { &term },
        if vote.is_empty() { "-" } else { &vote }
    );
    let shown = opts.limit.unwrap_or(usize::MAX).min(d.entries.len());
    let _ = writeln!(
        out,
        "\n== {} entries ({} of {}; a message's physical offset is entry pos + 48)",
        d.dir,
        shown,
        d.entries.len()
    );
    let mut t = Table::new(&["index", "term", "pos", "size", "phy offset", "message"]);
    for e in d.entries.iter().take(shown) {
        let phy = e.pos + crate::dledger::HEADER as i64;
        let msg = image
            .commit_log
            .record_at(phy)
            .map_or("-".to_string(), |r| {
                format!("{} q{} #{}", r.topic, r.queue_id, r.queue_offset)
            });
        t.row(vec![
            e.index.to_string(),
            e.term.to_string(),
            e.pos.to_string(),
            e.size.to_string(),
            phy.to_string(),
            msg,
        ]);
    }
    out.push_str(&t.render());
}

fn messages(image: &StoreImage, opts: &ShowOptions, out: &mut String) {
    let recs: Vec<_> = image
        .commit_log
        .records
        .iter()
        .filter(|r| opts.topic.as_deref().is_none_or(|t| r.topic == t))
        .collect();
    let shown = opts.limit.unwrap_or(usize::MAX).min(recs.len());
    let _ = writeln!(out, "\n== messages ({} of {})", shown, recs.len());
    let mut t = Table::new(&[
        "phy offset",
        "size",
        "topic",
        "queue",
        "queue offset",
        "store time",
        "tags",
        "keys",
        "body",
    ]);
    for r in recs.iter().take(shown) {
        t.row(vec![
            r.phy.to_string(),
            r.size.to_string(),
            r.topic.clone(),
            r.queue_id.to_string(),
            r.queue_offset.to_string(),
            human_time(r.store_timestamp),
            r.tags.clone().unwrap_or_default(),
            r.keys.clone().unwrap_or_default(),
            format!("{} B {:?}", r.body_len, r.body_preview),
        ]);
    }
    out.push_str(&t.render());
}

fn consume_queue_exts(image: &StoreImage, opts: &ShowOptions, out: &mut String) {
    for q in image
        .consume_queue_exts
        .iter()
        .filter(|q| opts.topic.as_deref().is_none_or(|t| q.topic == t))
    {
        let _ = writeln!(
            out,
            "\n== consumequeue_ext {}/{} ({} units)",
            q.topic,
            q.queue_id,
            q.units.len()
        );
        let mut t = Table::new(&["offset", "tagsCode", "msgStoreTime", "bit map"]);
        for (off, u) in q.units.iter().take(opts.limit.unwrap_or(usize::MAX)) {
            let bits: String = u.bit_map.iter().map(|b| format!("{b:02x}")).collect();
            t.row(vec![
                off.to_string(),
                u.tags_code.to_string(),
                u.msg_store_time.to_string(),
                if bits.is_empty() { "-".into() } else { bits },
            ]);
        }
        out.push_str(&t.render());
    }
}

fn consume_queues(image: &StoreImage, opts: &ShowOptions, out: &mut String) {
    for cq in image
        .consume_queues
        .iter()
        .filter(|q| opts.topic.as_deref().is_none_or(|t| q.topic == t))
    {
        let _ = writeln!(
            out,
            "\n== consumequeue {}/{} ({} files of {} bytes, {} entries, {} placeholders, max offset {})",
            cq.topic,
            cq.queue_id,
            cq.files.len(),
            cq.file_size,
            cq.entries.len(),
            cq.placeholders,
            cq.max_offset()
        );
        let mut t = Table::new(&["offset", "phy offset", "size", "tagsCode", "points at"]);
        for e in cq.entries.iter().take(opts.limit.unwrap_or(usize::MAX)) {
            let mut scratch = crate::violation::Violations::default();
            let resolved =
                crate::consume_queue_ext::resolved_entry(image, cq, e, &mut scratch).unwrap_or(*e);
            let verdict = match check_entry(
                &cq.topic,
                cq.queue_id,
                &resolved,
                &image.commit_log,
                &image.delay_levels,
            ) {
                EntryCheck::Ok => "ok".to_string(),
                EntryCheck::Expired => "expired (below the commit log)".to_string(),
                EntryCheck::Wrong(kind, why) => format!("{kind:?}: {why}"),
            };
            t.row(vec![
                e.offset.to_string(),
                e.phy.to_string(),
                e.size.to_string(),
                e.tags_code.to_string(),
                verdict,
            ]);
        }
        out.push_str(&t.render());
    }
}

fn index_files(image: &StoreImage, opts: &ShowOptions, out: &mut String) {
    let _ = writeln!(out, "\n== index ({} files)", image.index_files.len());
    let mut t = Table::new(&[
        "file",
        "begin time",
        "end time",
        "begin phy",
        "end phy",
        "hashSlotCount",
        "indexCount",
        "slots used",
        "slots/max entries",
    ]);
    for f in &image.index_files {
        let h = f.header;
        t.row(vec![
            f.name.clone(),
            human_time(h.begin_timestamp),
            human_time(h.end_timestamp),
            h.begin_phy_offset.to_string(),
            h.end_phy_offset.to_string(),
            h.hash_slot_count.to_string(),
            h.index_count.to_string(),
            f.used_slots().to_string(),
            format!("{}/{}", f.geometry.slots, f.geometry.max_index),
        ]);
    }
    out.push_str(&t.render());
    let Some(key) = &opts.key else {
        return;
    };
    let hash = index_key_hash(key);
    for f in &image.index_files {
        let slot = f.slot_of(hash);
        let walk = f.walk_chain(slot);
        let _ = writeln!(
            out,
            "\n-- index/{}: key {key:?} hash {hash} slot {slot} (slot value {}, chain of {})",
            f.name,
            f.slot(slot),
            walk.entries.len()
        );
        let mut t = Table::new(&[
            "entry",
            "keyHash",
            "phy offset",
            "timeDiff s",
            "prevIndex",
            "match",
            "record",
        ]);
        for e in &walk.entries {
            let rec = image
                .commit_log
                .record_at(e.phy_offset)
                .map_or("-".to_string(), |r| {
                    format!(
                        "{} q{} #{} keys={:?}",
                        r.topic,
                        r.queue_id,
                        r.queue_offset,
                        r.keys.as_deref().unwrap_or("")
                    )
                });
            t.row(vec![
                e.number.to_string(),
                e.key_hash.to_string(),
                e.phy_offset.to_string(),
                e.time_diff.to_string(),
                e.prev_index.to_string(),
                if e.key_hash == hash {
                    "yes"
                } else {
                    "other key"
                }
                .to_string(),
                rec,
            ]);
        }
        out.push_str(&t.render());
        if let Some(fault) = walk.fault {
            let _ = writeln!(out, "chain fault: {fault}");
        }
    }
}

fn markers(image: &StoreImage, out: &mut String) {
    let _ = writeln!(out, "\n== checkpoint");
    match &image.checkpoint {
        Some(cp) => {
            let mut t = Table::new(&["field", "ms", "time"]);
            for (name, ts) in [
                ("physicMsgTimestamp", cp.physic_msg_timestamp),
                ("logicsMsgTimestamp", cp.logics_msg_timestamp),
                ("indexMsgTimestamp", cp.index_msg_timestamp),
            ] {
                t.row(vec![name.into(), ts.to_string(), human_time(ts)]);
            }
            out.push_str(&t.render());
        }
        None => out.push_str("(no checkpoint file)\n"),
    }
    let _ = writeln!(
        out,
        "\nabort file: {}\nlock file: {}",
        if image.abort_present {
            "present (running, or the last shutdown was not clean)"
        } else {
            "absent (clean shutdown)"
        },
        if image.lock_present {
            "present"
        } else {
            "absent"
        }
    );
    let _ = writeln!(out, "\n== config ({} files)", image.config_files.len());
    let mut t = Table::new(&["file", "size", "top-level keys"]);
    for c in &image.config_files {
        t.row(vec![
            c.name.clone(),
            c.size.to_string(),
            c.top_keys
                .as_ref()
                .map_or("(not plain JSON)".into(), |k| k.join(", ")),
        ]);
    }
    out.push_str(&t.render());
    for d in &image.other_dirs {
        let _ = writeln!(out, "directory {d}/ (not inspected)");
    }
    for n in &image.notes {
        let _ = writeln!(out, "note: {n}");
    }
}
