//! Transactional messages on the wire, against a real `mqbroker`: a half message is invisible
//! until END_TRANSACTION commits it; a rollback leaves only an op record; every malformed or
//! mismatched END_TRANSACTION gets 4.8.0's code and remark and loses nothing; a slave and a
//! broker with `rejectTransactionMessage` refuse as 4.8.0 does.

use rmq_common::message::{decode_record, decode_records, MessageExt};
use rmq_remoting::codes::{request as rq, response as rs};
use rmq_remoting::protocol::header::{
    CommandHeader, EndTransactionRequestHeader, GetMaxOffsetRequestHeader,
    GetMaxOffsetResponseHeader, ResumeCheckHalfMessageRequestHeader, SendMessageRequestHeader,
    ViewMessageRequestHeader,
};
use rmq_remoting::{RemotingClient, RemotingCommand};
use std::time::{Duration, Instant};

mod common;
use common::*;

const HALF: &str = "RMQ_SYS_TRANS_HALF_TOPIC";
const OP: &str = "RMQ_SYS_TRANS_OP_HALF_TOPIC";

/// A half message as the Java client sends it: TRAN_MSG, PGROUP, sysFlag PREPARED.
fn half_send(topic: &str, body: &str, group: &str) -> RemotingCommand {
    let props = [
        ("TRAN_MSG", "true"),
        ("PGROUP", group),
        ("UNIQ_KEY", body),
        ("TAGS", "TagT"),
        ("WAIT", "true"),
    ];
    let header = SendMessageRequestHeader {
        sys_flag: Some(4),
        flag: Some(7),
        ..send_header(topic, &props)
    };
    send_v2_of(header, body.as_bytes())
}

/// What END_TRANSACTION needs from a half's send reply.
#[derive(Debug, Clone, Copy)]
struct Half {
    table_offset: i64,
    commit_log_offset: i64,
}

async fn send_half(c: &RemotingClient, addr: &str, topic: &str, body: &str) -> Half {
    let r = c
        .invoke(addr, half_send(topic, body, "PG"), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let result = sent(&r);
    assert_eq!(result.queue_id, 0, "the reply names the real queue");
    Half {
        table_offset: result.queue_offset,
        commit_log_offset: rmq_common::msgid::decode_offset_msg_id(&result.msg_id)
            .unwrap()
            .1,
    }
}

fn end(group: &str, h: Half, verdict: i32) -> RemotingCommand {
    RemotingCommand::new_request(rq::END_TRANSACTION).with_header(&EndTransactionRequestHeader {
        producer_group: group.into(),
        tran_state_table_offset: h.table_offset,
        commit_log_offset: h.commit_log_offset,
        commit_or_rollback: verdict,
        from_transaction_check: false,
        msg_id: "X".into(),
        transaction_id: None,
    })
}

async fn end_reply(c: &RemotingClient, addr: &str, req: RemotingCommand) -> (i32, Option<String>) {
    let r = c.invoke(addr, req, T).await.unwrap();
    (r.code, r.remark)
}

/// Every message of `topic` queue 0.
async fn pull_all(c: &RemotingClient, addr: &str, topic: &str) -> Vec<MessageExt> {
    match c.invoke(addr, pull(topic, 0, 0x4, 0), T).await {
        Ok(r) if r.code == rs::SUCCESS => decode_records(r.body_bytes()).unwrap_or_default(),
        _ => Vec::new(),
    }
}

async fn max_offset(c: &RemotingClient, addr: &str, topic: &str) -> i64 {
    let req =
        RemotingCommand::new_request(rq::GET_MAX_OFFSET).with_header(&GetMaxOffsetRequestHeader {
            topic: topic.into(),
            queue_id: 0,
        });
    let r = c.invoke(addr, req, T).await.unwrap();
    r.decode_header::<GetMaxOffsetResponseHeader>()
        .unwrap()
        .offset
}

async fn view(c: &RemotingClient, addr: &str, offset: i64) -> MessageExt {
    let req = RemotingCommand::new_request(rq::VIEW_MESSAGE_BY_ID)
        .with_header(&ViewMessageRequestHeader { offset });
    let r = c.invoke(addr, req, T).await.unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    decode_record(r.body_bytes()).unwrap().0
}

/// Waits until `topic` queue 0 holds `n` messages.
async fn wait_count(c: &RemotingClient, addr: &str, topic: &str, n: usize) -> Vec<MessageExt> {
    let start = Instant::now();
    loop {
        let got = pull_all(c, addr, topic).await;
        if got.len() >= n {
            return got;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{topic} has {} of {n} messages",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A name server and a broker whose check service never runs during a test (one pass in 10
/// minutes), so only END_TRANSACTION decides. Dropping the first value stops the broker, then
/// the name server, then removes their files (tuple fields drop in order).
fn no_check_service() -> ((Proc, Proc, tempfile::TempDir), BrokerSetup) {
    let dir = tempfile::tempdir().unwrap();
    let (ns_proc, ns) = start_namesrv(dir.path());
    let setup = write_broker_conf(dir.path(), &ns, "transactionCheckInterval=600000");
    let broker = start_broker(&setup);
    ((broker, ns_proc, dir), setup)
}

#[tokio::test(flavor = "multi_thread")]
async fn commit_shows_the_message_rollback_never_does() {
    let (_servers, setup) = no_check_service();
    let c = RemotingClient::new();
    let a = &setup.addr;

    let h1 = send_half(&c, a, "TxT", "one").await;
    let h2 = send_half(&c, a, "TxT", "two").await;
    assert_eq!((h1.table_offset, h2.table_offset), (0, 1));
    wait_dispatched(&c, a, HALF, 0, 2).await;
    // The half is stored in the half topic with its real topic and queue, and is invisible.
    let stored = view(&c, a, h1.commit_log_offset).await;
    assert_eq!(stored.topic, HALF);
    assert_eq!(stored.property("REAL_TOPIC"), Some("TxT"));
    assert_eq!(stored.property("REAL_QID"), Some("0"));
    assert_eq!(stored.sys_flag & 0xC, 0, "dispatched as an ordinary record");
    assert!(pull_all(&c, a, "TxT").await.is_empty());

    assert_eq!(
        end_reply(&c, a, end("PG", h1, 8)).await,
        (rs::SUCCESS, None)
    );
    assert_eq!(
        end_reply(&c, a, end("PG", h2, 12)).await,
        (rs::SUCCESS, None)
    );
    let got = wait_count(&c, a, "TxT", 1).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(&m.body[..], b"one");
    assert_eq!(m.sys_flag & 0xC, 0x8, "COMMIT type");
    assert_eq!(m.prepared_transaction_offset, h1.commit_log_offset);
    assert_eq!(m.flag, 7);
    assert_eq!(m.tags(), Some("TagT"));
    assert_eq!(m.msg_id(), "one");
    // 4.8.0 keeps the half's properties string, REAL_TOPIC and TRAN_MSG included.
    assert_eq!(m.property("TRAN_MSG"), Some("true"));
    assert_eq!(m.property("PGROUP"), Some("PG"));
    // One op record per verdict (the op topic has no topic config, so it cannot be pulled;
    // the unit tests of `bridge` check the record itself).
    wait_dispatched(&c, a, OP, 0, 2).await;
    // The rollback stays invisible.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(pull_all(&c, a, "TxT").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_end_transactions_get_4_8_0_answers_and_lose_nothing() {
    let (_servers, setup) = no_check_service();
    let c = RemotingClient::new();
    let a = &setup.addr;
    // An ordinary message first, so a half is not at commit-log offset 0.
    send_ok(&c, a, send_v2("TxBad", b"plain", &[])).await;
    let plain_offset = wait_count(&c, a, "TxBad", 1).await;
    let h = send_half(&c, a, "TxBad", "half").await;
    wait_dispatched(&c, a, HALF, 0, 1).await;
    let fail = |remark: &str| (rs::SYSTEM_ERROR, Some(remark.to_string()));

    let at = |commit_log_offset| Half {
        commit_log_offset,
        ..h
    };
    let wrong_table = Half {
        table_offset: h.table_offset + 1,
        ..h
    };
    let not_found = "Find prepared transaction message failed";
    // (request, the remark 4.8.0 answers with code 1)
    let cases = [
        // unknown offsets: past the end, negative, inside a record, an ordinary message
        (end("PG", at(h.commit_log_offset + 1_000_000), 8), not_found),
        (end("PG", at(-5), 8), not_found),
        (end("PG", at(h.commit_log_offset + 3), 8), not_found),
        (
            end("PG", at(plain_offset[0].commit_log_offset), 8),
            not_found,
        ),
        // mismatches
        (end("OTHER", h, 8), "The producer group wrong"),
        (
            end("PG", wrong_table, 12),
            "The transaction state table offset wrong",
        ),
        // a malformed header
        (end("PG", h, 5), "commitOrRollback field wrong"),
    ];
    for (req, remark) in cases {
        let what = format!("{:?}", req.ext_fields);
        assert_eq!(end_reply(&c, a, req).await, fail(remark), "{what}");
    }
    let group_key = EndTransactionRequestHeader::INFO
        .key_of("producer_group")
        .unwrap();
    let mut no_group = end("PG", h, 8);
    no_group.ext_fields.remove(group_key);
    let (code, remark) = end_reply(&c, a, no_group).await;
    assert_eq!(code, rs::SYSTEM_ERROR);
    assert!(remark.unwrap().contains(group_key));
    // "Unknown" gets no reply at all, and stores nothing.
    let unknown = c
        .invoke(a, end("PG", h, 0), Duration::from_millis(500))
        .await;
    assert!(unknown.is_err(), "UNKNOW must not be answered: {unknown:?}");
    // None of that stored anything.
    assert_eq!(max_offset(&c, a, OP).await, 0);
    assert_eq!(pull_all(&c, a, "TxBad").await.len(), 1);

    // The half is still intact: a correct commit works.
    assert_eq!(end_reply(&c, a, end("PG", h, 8)).await, (rs::SUCCESS, None));
    wait_count(&c, a, "TxBad", 2).await;
    // A second commit of the resolved half stores it again, as 4.8.0 does (it keeps no
    // record of answered halves); nothing is lost.
    assert_eq!(end_reply(&c, a, end("PG", h, 8)).await, (rs::SUCCESS, None));
    let all = wait_count(&c, a, "TxBad", 3).await;
    let halves = all.iter().filter(|m| &m.body[..] == b"half").count();
    assert_eq!(halves, 2);
    // A rollback after the commit writes one more op record and removes nothing.
    assert_eq!(
        end_reply(&c, a, end("PG", h, 12)).await,
        (rs::SUCCESS, None)
    );
    wait_dispatched(&c, a, OP, 0, 3).await;
    assert_eq!(pull_all(&c, a, "TxBad").await.len(), 3);

    // RESUME_CHECK_HALF_MESSAGE with an id that names nothing.
    let resume = RemotingCommand::new_request(rq::RESUME_CHECK_HALF_MESSAGE).with_header(
        &ResumeCheckHalfMessageRequestHeader {
            msg_id: Some("7F00000100002A9F00000000FFFFFFFF".into()),
        },
    );
    assert_eq!(
        end_reply(&c, a, resume).await,
        fail("Exception was thrown when putting message back to RMQ_SYS_TRANS_HALF_TOPIC.")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slave_and_reject_settings_refuse_as_4_8_0() {
    let dir = tempfile::tempdir().unwrap();
    let (_ns, ns) = start_namesrv(dir.path());
    let d1 = dir.path().join("reject");
    std::fs::create_dir_all(&d1).unwrap();
    let rejecting = write_broker_conf(&d1, &ns, "rejectTransactionMessage=true");
    let _b1 = start_broker(&rejecting);
    let d2 = dir.path().join("slave");
    std::fs::create_dir_all(&d2).unwrap();
    let slave = write_broker_conf(
        &d2,
        &ns,
        "brokerName=broker-s\nbrokerId=1\nbrokerRole=SLAVE",
    );
    let _b2 = start_broker(&slave);
    let c = RemotingClient::new();

    let r = c
        .invoke(&rejecting.addr, half_send("TxR", "x", "PG"), T)
        .await
        .unwrap();
    assert_eq!(r.code, rs::NO_PERMISSION);
    assert_eq!(
        r.remark.as_deref(),
        Some("the broker[127.0.0.1] sending transaction message is forbidden")
    );
    // An ordinary send still works there.
    send_ok(&c, &rejecting.addr, send_v2("TxR", b"plain", &[])).await;

    let h = Half {
        table_offset: 0,
        commit_log_offset: 0,
    };
    assert_eq!(
        end_reply(&c, &slave.addr, end("PG", h, 8)).await,
        (rs::SLAVE_NOT_AVAILABLE, None)
    );
}
