//! Replication at the byte level: a slave store that appends the master's commit-log chunks
//! at the master's offsets ends up with the same records, queue entries and offsets; a chunk
//! that does not continue the slave's log is refused.
mod common;

use common::{all, body, msg, small_config};
use rmq_store::{BrokerRole, DefaultMessageStore, FlushDiskType, GetMessageStatus};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn wait_dispatched(s: &DefaultMessageStore) {
    let start = Instant::now();
    while s.dispatch_behind_bytes() > 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "dispatch stuck");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A fresh master store and a fresh slave store (broker role `SLAVE`), each in its own
/// temporary directory; keep the directories alive as long as the stores.
fn master_and_slave() -> (
    [tempfile::TempDir; 2],
    Arc<DefaultMessageStore>,
    Arc<DefaultMessageStore>,
) {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let master =
        DefaultMessageStore::open(small_config(dirs[0].path(), FlushDiskType::AsyncFlush)).unwrap();
    let mut scfg = small_config(dirs[1].path(), FlushDiskType::AsyncFlush);
    scfg.broker_role = BrokerRole::Slave;
    let slave = DefaultMessageStore::open(scfg).unwrap();
    (dirs, master, slave)
}

#[test]
fn slave_replays_master_chunks_at_identical_offsets() {
    let (_dirs, master, slave) = master_and_slave();
    // 200 messages roll several 16 KiB files
    for i in 0..200 {
        let r = master.put_message(msg("T", (i % 2) as i32, &body(i), "", "", ""));
        assert!(r.is_ok());
    }
    // a slave refuses producers
    let r = slave.put_message(msg("T", 0, b"x", "", "", ""));
    assert_eq!(r.status, rmq_store::PutMessageStatus::ServiceNotAvailable);

    // wrong offset: refused, nothing written
    let chunk = master.commit_log_data(100, 1000).unwrap();
    assert!(!slave.append_to_commit_log(100, &chunk).unwrap());
    assert_eq!(slave.get_max_phy_offset(), 0);

    let mut at = 0i64;
    while let Some(chunk) = master.commit_log_data(at, 4096) {
        assert!(chunk.len() <= 4096);
        assert!(slave.append_to_commit_log(at, &chunk).unwrap());
        at += chunk.len() as i64;
    }
    assert_eq!(at, master.get_max_phy_offset());
    assert_eq!(slave.get_max_phy_offset(), master.get_max_phy_offset());
    wait_dispatched(&master);
    wait_dispatched(&slave);
    for q in 0..2 {
        assert_eq!(master.get_max_offset_in_queue("T", q), 100);
        let mut off = 0;
        while off < 100 {
            let a = master.get_message("g", "T", q, off, 32, &all);
            let b = slave.get_message("g", "T", q, off, 32, &all);
            assert_eq!(a.status, GetMessageStatus::Found);
            assert_eq!(a.messages.len(), b.messages.len(), "q{q} off {off}");
            assert!(a.messages == b.messages, "records differ at q{q} off {off}");
            assert_eq!(a.message_queue_offsets, b.message_queue_offsets);
            assert_eq!(a.next_begin_offset, b.next_begin_offset);
            off = a.next_begin_offset;
        }
        assert_eq!(
            slave.get_max_offset_in_queue("T", q),
            master.get_max_offset_in_queue("T", q)
        );
    }
}

#[test]
fn empty_slave_can_start_at_a_later_file() {
    let (_dirs, master, slave) = master_and_slave();
    for i in 0..200 {
        assert!(master
            .put_message(msg("T", 0, &body(i), "", "", ""))
            .is_ok());
    }
    // 4.8.0: a slave reporting 0 gets the master's last file onwards
    let size = 16 * 1024i64;
    let mut at = master.get_max_phy_offset() / size * size;
    assert!(at > 0);
    while let Some(chunk) = master.commit_log_data(at, 32 * 1024) {
        assert!(slave.append_to_commit_log(at, &chunk).unwrap());
        at += chunk.len() as i64;
    }
    wait_dispatched(&slave);
    assert_eq!(
        slave.get_min_phy_offset(),
        master.get_max_phy_offset() / size * size
    );
    assert_eq!(slave.get_max_phy_offset(), master.get_max_phy_offset());
    assert!(slave.get_max_offset_in_queue("T", 0) > 0);
}
