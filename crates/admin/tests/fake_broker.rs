//! mqadmin's broker-side paths (send, pull, query by key and unique id, view by
//! offset id, topic create/delete/stats, runtime info) against a minimal in-test
//! broker speaking real RocketMQ remoting over TCP and registered with the real
//! `mqnamesrv`. It keeps messages in memory as 4.8.0 commit-log records, so the
//! tool's record decoding, id handling and output are exercised end to end
//! independently of the real broker (tested in broker_commands.rs).

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use futures::future::BoxFuture;
use futures::FutureExt;
use rmq_common::message::keys;
use rmq_remoting::codes::{request, response};
use rmq_remoting::protocol::header::{
    CreateTopicRequestHeader, DeleteTopicRequestHeader, GetMaxOffsetRequestHeader,
    GetMaxOffsetResponseHeader, GetMinOffsetResponseHeader, GetTopicStatsInfoRequestHeader,
    PullMessageRequestHeader, PullMessageResponseHeader, QueryMessageRequestHeader,
    QueryMessageResponseHeader, RegisterBrokerRequestHeader, SendMessageRequestHeader,
    SendMessageResponseHeader, ViewMessageRequestHeader,
};
use rmq_remoting::protocol::{
    encode_body, KVTable, MessageQueue, RegisterBrokerBody, TopicConfig, TopicOffset,
    TopicStatsTable,
};
use rmq_remoting::{
    Connection, HeaderError, RemotingClient, RemotingCommand, RemotingServer, RequestProcessor,
};

const NAME: &str = "broker-fake";
const CLUSTER: &str = "FakeCluster";

struct Stored {
    topic: String,
    queue_id: i32,
    queue_offset: i64,
    phy: i64,
    props: String,
    record: Vec<u8>,
}

#[derive(Default)]
struct State {
    topics: BTreeMap<String, TopicConfig>,
    log: Vec<Stored>,
    next_phy: i64,
    version: i64,
}

struct FakeBroker {
    addr: String,
    namesrv: String,
    state: Mutex<State>,
    client: RemotingClient,
}

fn prop<'a>(props: &'a str, key: &str) -> Option<&'a str> {
    props.split('\u{2}').find_map(|p| {
        let (k, v) = p.split_once('\u{1}')?;
        (k == key).then_some(v)
    })
}

#[allow(clippy::too_many_arguments)]
fn record(
    topic: &str,
    qid: i32,
    qoff: i64,
    phy: i64,
    born: i64,
    store_port: u16,
    body: &[u8],
    props: &str,
) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend_from_slice(&0i32.to_be_bytes());
    r.extend_from_slice(&(0xDAA3_20A7_u32 as i32).to_be_bytes());
    r.extend_from_slice(&0i32.to_be_bytes()); // body crc (unchecked by clients)
    r.extend_from_slice(&qid.to_be_bytes());
    r.extend_from_slice(&0i32.to_be_bytes()); // flag
    r.extend_from_slice(&qoff.to_be_bytes());
    r.extend_from_slice(&phy.to_be_bytes());
    r.extend_from_slice(&0i32.to_be_bytes()); // sysFlag
    r.extend_from_slice(&born.to_be_bytes());
    r.extend_from_slice(&[127, 0, 0, 1]);
    r.extend_from_slice(&40000i32.to_be_bytes());
    r.extend_from_slice(&(born + 1).to_be_bytes());
    r.extend_from_slice(&[127, 0, 0, 1]);
    r.extend_from_slice(&(store_port as i32).to_be_bytes());
    r.extend_from_slice(&0i32.to_be_bytes()); // reconsume
    r.extend_from_slice(&0i64.to_be_bytes()); // prepared tx offset
    r.extend_from_slice(&(body.len() as i32).to_be_bytes());
    r.extend_from_slice(body);
    r.push(topic.len() as u8);
    r.extend_from_slice(topic.as_bytes());
    r.extend_from_slice(&(props.len() as i16).to_be_bytes());
    r.extend_from_slice(props.as_bytes());
    let n = r.len() as i32;
    r[..4].copy_from_slice(&n.to_be_bytes());
    r
}

impl FakeBroker {
    async fn register(&self) {
        let mut body = RegisterBrokerBody::default();
        {
            let mut st = self.state.lock().unwrap();
            // The name server only takes topic configs whose data version changed.
            st.version += 1;
            body.topic_config_serialize_wrapper.topic_config_table = st.topics.clone();
            body.topic_config_serialize_wrapper.data_version.counter = st.version;
        }
        let cmd = RemotingCommand::new_request(request::REGISTER_BROKER)
            .with_header(&RegisterBrokerRequestHeader {
                broker_name: NAME.into(),
                broker_addr: self.addr.clone(),
                cluster_name: CLUSTER.into(),
                ha_server_addr: Some(self.addr.clone()),
                broker_id: 0,
                compressed: false,
                body_crc32: 0,
            })
            .with_body(body.encode(false).unwrap());
        let r = self
            .client
            .invoke(&self.namesrv, cmd, Duration::from_secs(3))
            .await
            .unwrap();
        assert_eq!(r.code, response::SUCCESS);
    }

    fn port(&self) -> u16 {
        self.addr.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// Serves one request; a header that does not decode is answered like 4.8.0's
    /// `RemotingCommandException` (SYSTEM_ERROR with the reason).
    async fn handle(self: Arc<Self>, req: RemotingCommand) -> RemotingCommand {
        match self.serve(&req).await {
            Ok(r) => r,
            Err(e) => RemotingCommand::new_response(response::SYSTEM_ERROR, e.to_string()),
        }
    }

    async fn serve(self: Arc<Self>, req: &RemotingCommand) -> Result<RemotingCommand, HeaderError> {
        let ok = || RemotingCommand::new_response(response::SUCCESS, None);
        Ok(match req.code {
            request::UPDATE_AND_CREATE_TOPIC => {
                let h: CreateTopicRequestHeader = req.decode_header()?;
                let mut tc = TopicConfig::new(h.topic);
                tc.read_queue_nums = h.read_queue_nums.unwrap_or(0);
                tc.write_queue_nums = h.write_queue_nums.unwrap_or(0);
                tc.perm = h.perm.unwrap_or(0);
                self.state
                    .lock()
                    .unwrap()
                    .topics
                    .insert(tc.topic_name.clone(), tc);
                self.register().await;
                ok()
            }
            request::DELETE_TOPIC_IN_BROKER => {
                let h: DeleteTopicRequestHeader = req.decode_header()?;
                self.state.lock().unwrap().topics.remove(&h.topic);
                ok()
            }
            request::GET_BROKER_RUNTIME_INFO => {
                let mut kv = KVTable::default();
                for (k, v) in [
                    ("brokerVersionDesc", "V4_8_0"),
                    ("putTps", "2.5 1.0 0.1"),
                    ("getTransferedTps", "0.0 0.0 0.0"),
                    ("sendThreadPoolQueueSize", "0"),
                    ("sendThreadPoolQueueHeadWaitTimeMills", "0"),
                    ("pullThreadPoolQueueSize", "0"),
                    ("pullThreadPoolQueueHeadWaitTimeMills", "0"),
                    ("pageCacheLockTimeMills", "0"),
                    ("commitLogDiskRatio", "0.25"),
                ] {
                    kv.table.insert(k.into(), v.into());
                }
                ok().with_body(encode_body(&kv).unwrap())
            }
            request::GET_TOPIC_STATS_INFO => {
                let h: GetTopicStatsInfoRequestHeader = req.decode_header()?;
                let st = self.state.lock().unwrap();
                let Some(tc) = st.topics.get(&h.topic) else {
                    return Ok(RemotingCommand::new_response(
                        response::TOPIC_NOT_EXIST,
                        "topic not exist",
                    ));
                };
                let mut t = TopicStatsTable::default();
                for q in 0..tc.write_queue_nums {
                    let msgs: Vec<&Stored> = st
                        .log
                        .iter()
                        .filter(|m| m.topic == tc.topic_name && m.queue_id == q)
                        .collect();
                    t.offset_table.0.push((
                        MessageQueue {
                            broker_name: NAME.into(),
                            queue_id: q,
                            topic: tc.topic_name.clone(),
                        },
                        TopicOffset {
                            last_update_timestamp: 0,
                            max_offset: msgs.len() as i64,
                            min_offset: 0,
                        },
                    ));
                }
                ok().with_body(encode_body(&t).unwrap())
            }
            request::SEND_MESSAGE_V2 => {
                let h = SendMessageRequestHeader::from_request(req)?;
                let topic = h.topic;
                let qid = h.queue_id;
                let props = h.properties.unwrap_or_default();
                let born = h.born_timestamp.unwrap_or(0);
                let body = req.body_bytes().to_vec();
                let mut st = self.state.lock().unwrap();
                let qoff = st
                    .log
                    .iter()
                    .filter(|m| m.topic == topic && m.queue_id == qid)
                    .count() as i64;
                let phy = st.next_phy;
                let rec = record(&topic, qid, qoff, phy, born, self.port(), &body, &props);
                st.next_phy += rec.len() as i64;
                let msg_id = format!("7F000001{:08X}{:016X}", self.port() as i32, phy);
                st.log.push(Stored {
                    topic,
                    queue_id: qid,
                    queue_offset: qoff,
                    phy,
                    props,
                    record: rec,
                });
                ok().with_header(&SendMessageResponseHeader {
                    msg_id,
                    queue_id: qid,
                    queue_offset: qoff,
                    transaction_id: None,
                })
            }
            request::GET_MAX_OFFSET => {
                let h: GetMaxOffsetRequestHeader = req.decode_header()?;
                let st = self.state.lock().unwrap();
                let n = st
                    .log
                    .iter()
                    .filter(|m| m.topic == h.topic && m.queue_id == h.queue_id)
                    .count();
                ok().with_header(&GetMaxOffsetResponseHeader { offset: n as i64 })
            }
            request::GET_MIN_OFFSET => ok().with_header(&GetMinOffsetResponseHeader { offset: 0 }),
            request::PULL_MESSAGE => {
                let h: PullMessageRequestHeader = req.decode_header()?;
                let in_queue = |m: &&Stored| m.topic == h.topic && m.queue_id == h.queue_id;
                let st = self.state.lock().unwrap();
                let msgs: Vec<&Stored> = st
                    .log
                    .iter()
                    .filter(in_queue)
                    .filter(|m| m.queue_offset >= h.queue_offset)
                    .take(h.max_msg_nums.max(0) as usize)
                    .collect();
                let max = st.log.iter().filter(in_queue).count() as i64;
                let next = h.queue_offset + msgs.len() as i64;
                let code = if msgs.is_empty() {
                    response::PULL_NOT_FOUND
                } else {
                    response::SUCCESS
                };
                let body: Vec<u8> = msgs.iter().flat_map(|m| m.record.clone()).collect();
                let mut r = RemotingCommand::new_response(code, None).with_header(
                    &PullMessageResponseHeader {
                        suggest_which_broker_id: 0,
                        next_begin_offset: next,
                        min_offset: 0,
                        max_offset: max,
                    },
                );
                if !body.is_empty() {
                    r = r.with_body(body);
                }
                r
            }
            request::QUERY_MESSAGE => {
                let h: QueryMessageRequestHeader = req.decode_header()?;
                let st = self.state.lock().unwrap();
                let key = h.key;
                let body: Vec<u8> = st
                    .log
                    .iter()
                    .filter(|m| m.topic == h.topic)
                    .filter(|m| {
                        prop(&m.props, keys::UNIQ_KEY) == Some(key.as_str())
                            || prop(&m.props, keys::KEYS)
                                .is_some_and(|ks| ks.split(keys::KEY_SEPARATOR).any(|k| k == key))
                    })
                    .flat_map(|m| m.record.clone())
                    .collect();
                if body.is_empty() {
                    return Ok(RemotingCommand::new_response(
                        response::QUERY_NOT_FOUND,
                        "can not find message, maybe time range not correct",
                    ));
                }
                ok().with_header(&QueryMessageResponseHeader {
                    index_last_update_timestamp: 0,
                    index_last_update_phyoffset: 0,
                })
                .with_body(body)
            }
            request::VIEW_MESSAGE_BY_ID => {
                let h: ViewMessageRequestHeader = req.decode_header()?;
                let st = self.state.lock().unwrap();
                match st.log.iter().find(|m| m.phy == h.offset) {
                    Some(m) => ok().with_body(m.record.clone()),
                    None => RemotingCommand::new_response(
                        response::SYSTEM_ERROR,
                        format!("can not find message by the offset, {}", h.offset),
                    ),
                }
            }
            request::QUERY_TOPIC_CONSUME_BY_WHO => ok().with_body(&b"{\"groupList\":[]}"[..]),
            other => RemotingCommand::new_response(
                response::REQUEST_CODE_NOT_SUPPORTED,
                format!(" request type {other} not supported"),
            ),
        })
    }
}

struct Processor(Arc<FakeBroker>);

impl RequestProcessor for Processor {
    fn process(
        &self,
        _ctx: Arc<Connection>,
        req: RemotingCommand,
    ) -> BoxFuture<'static, Option<RemotingCommand>> {
        let b = self.0.clone();
        async move { Some(b.handle(req).await) }.boxed()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_paths_against_an_in_memory_broker() {
    let ns = NameSrv::start();
    let server = RemotingServer::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap().to_string();
    let fake = Arc::new(FakeBroker {
        addr: addr.clone(),
        namesrv: ns.addr.clone(),
        state: Mutex::new(State::default()),
        client: RemotingClient::new(),
    });
    tokio::spawn(server.serve(Arc::new(Processor(fake.clone()))));
    fake.register().await;
    let n = ns.addr.clone();
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            ok(&a)
        })
    };
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    let cl = run(v(&["clusterList", "-n", &n])).await.unwrap();
    let row = cl.lines().nth(1).unwrap();
    assert!(row.contains(&addr) && row.contains("V4_8_0"), "{row}");
    assert!(row.contains("     2.50(0,0ms)"), "{row}");
    assert!(row.ends_with("0.2500"), "{row}");

    let out = run(v(&[
        "updateTopic",
        "-n",
        &n,
        "-b",
        &addr,
        "-t",
        "FakeT",
        "-r",
        "2",
        "-w",
        "2",
    ]))
    .await
    .unwrap();
    assert!(
        out.starts_with(&format!("create topic to {addr} success.\n")),
        "{out}"
    );

    let sent = run(v(&[
        "sendMessage",
        "-n",
        &n,
        "-t",
        "FakeT",
        "-p",
        "payload-1",
        "-k",
        "k1 k2",
        "-c",
        "TagZ",
        "-b",
        NAME,
        "-i",
        "1",
    ]))
    .await
    .unwrap();
    let cols: Vec<String> = sent
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect();
    assert_eq!(cols[..3], [NAME.to_string(), "1".into(), "SEND_OK".into()]);
    let uniq = cols[3].clone();

    let status = run(v(&["topicStatus", "-n", &n, "-t", "FakeT"]))
        .await
        .unwrap();
    let rows: Vec<Vec<&str>> = status
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        vec![vec![NAME, "0", "0", "0"], vec![NAME, "1", "0", "1"]]
    );

    let by_key = run(v(&["queryMsgByKey", "-n", &n, "-t", "FakeT", "-k", "k2"]))
        .await
        .unwrap();
    assert_eq!(
        by_key.lines().nth(1).unwrap(),
        format!("{:<50} {:>4} {:>40}", uniq, 1, 0)
    );

    let by_uniq = run(v(&["queryMsgById", "-n", &n, "-i", &uniq]))
        .await
        .unwrap();
    assert!(
        by_uniq.contains("Tags:                [TagZ]\n"),
        "{by_uniq}"
    );
    assert!(
        by_uniq.contains("Keys:                [k1 k2]\n"),
        "{by_uniq}"
    );
    assert!(
        by_uniq.contains(&format!("Store Host:          {addr}\n")),
        "{by_uniq}"
    );
    assert!(by_uniq.contains("WARN: No Consumer"), "{by_uniq}");
    let offset_id = by_uniq
        .lines()
        .find_map(|l| l.strip_prefix("OffsetID:"))
        .unwrap()
        .trim()
        .to_string();
    let path = by_uniq
        .lines()
        .find_map(|l| l.strip_prefix("Message Body Path:"))
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "payload-1");
    let by_offset = run(v(&["queryMsgById", "-n", &n, "-i", &offset_id]))
        .await
        .unwrap();
    assert!(
        by_offset.contains(&format!("OffsetID:            {offset_id}\n")),
        "{by_offset}"
    );
    assert!(by_offset.contains("UNIQ_KEY="), "{by_offset}");

    let consumed = run(v(&["consumeMessage", "-n", &n, "-t", "FakeT"]))
        .await
        .unwrap();
    let line = consumed
        .lines()
        .find(|l| l.starts_with("MSGID:"))
        .unwrap_or_else(|| panic!("{consumed}"));
    assert!(
        line.starts_with(&format!(
            "MSGID: {uniq} MessageExt [brokerName=null, queueId=1, "
        )),
        "{line}"
    );
    assert!(
        line.contains("MIN_OFFSET=0") && line.contains("MAX_OFFSET=1"),
        "{line}"
    );
    assert!(line.ends_with("BODY: payload-1"), "{line}");
    assert!(consumed.contains(&format!("MessageQueue [topic=FakeT, brokerName={NAME}, queueId=0] print msg finished. status=NO_NEW_MSG, offset=0")), "{consumed}");

    let out = run(v(&["deleteTopic", "-n", &n, "-c", CLUSTER, "-t", "FakeT"]))
        .await
        .unwrap();
    assert!(
        out.ends_with("delete topic [FakeT] from NameServer success.\n"),
        "{out}"
    );
}
