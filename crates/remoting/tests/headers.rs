//! Tests of the typed custom headers (`protocol::header`): every request code has a row
//! in the code table, every header round-trips through extFields, decoding follows
//! 4.8.0's `decodeCommandCustomHeader` (required fields, `parseInt`, `parseBoolean`,
//! `checkFields`), encoding writes the keys and values the Java client writes, and a
//! header survives a real TCP round trip.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use proptest::prelude::*;
use rmq_remoting::codes::{request, response};
use rmq_remoting::protocol::header::*;
use rmq_remoting::{
    Connection, HeaderError, RemotingClient, RemotingCommand, RemotingServer, RequestProcessor,
};

fn map(pairs: &[(&str, &str)]) -> ExtFields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The request codes declared in `src/codes.rs` (module `request`), read from the source
/// so that a code added there without a table row fails this test.
fn declared_request_codes() -> Vec<(String, i32)> {
    let src = include_str!("../src/codes.rs");
    let start = src.find("pub mod request {").expect("request module");
    let body = &src[start..];
    let body = &body[..body.find("\n}").expect("end of request module")];
    body.lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("pub const ")?;
            let (name, value) = rest.split_once(": i32 = ")?;
            Some((name.to_string(), value.trim_end_matches(';').parse().ok()?))
        })
        .collect()
}

#[test]
fn every_request_code_has_exactly_one_row_in_code_order() {
    let declared = declared_request_codes();
    assert_eq!(declared.len(), 93, "4.8.0 defines 93 request codes");
    let mut expected: Vec<(String, i32)> = declared;
    expected.sort_by_key(|(_, code)| *code);
    let rows: Vec<(String, i32)> = REQUEST_CODES
        .iter()
        .map(|r| (r.name.to_string(), r.code))
        .collect();
    assert_eq!(rows, expected);
}

#[test]
fn a_code_without_a_request_header_says_why() {
    for row in REQUEST_CODES {
        if row.request.is_none() {
            assert!(!row.note.is_empty(), "{} needs a note", row.name);
        }
    }
    let without: Vec<&str> = REQUEST_CODES
        .iter()
        .filter(|r| r.request.is_none())
        .map(|r| r.name)
        .collect();
    assert_eq!(without.len(), 35, "{without:?}");
    assert!(without.contains(&"HEART_BEAT"));
    assert!(without.contains(&"GET_BROKER_CLUSTER_INFO"));
    assert_eq!(
        headers_of(request::GET_BROKER_CONFIG)
            .and_then(|r| r.response)
            .map(|h| h.java_class),
        Some("GetBrokerConfigResponseHeader")
    );
}

/// Header names declared through `command_header!` in the source files.
fn declared_headers() -> Vec<String> {
    let sources = [
        include_str!("../src/protocol/header/acl.rs"),
        include_str!("../src/protocol/header/admin.rs"),
        include_str!("../src/protocol/header/client_call.rs"),
        include_str!("../src/protocol/header/consumer.rs"),
        include_str!("../src/protocol/header/filtersrv.rs"),
        include_str!("../src/protocol/header/namesrv.rs"),
        include_str!("../src/protocol/header/query.rs"),
        include_str!("../src/protocol/header/send.rs"),
        include_str!("../src/protocol/header/transaction.rs"),
    ];
    let mut names = Vec::new();
    for src in sources {
        for line in src.lines() {
            // Declarations are indented by exactly four spaces inside the macro call
            // and open their field list on the same line (`{`, or `{}` when empty).
            let Some(decl) = line.strip_prefix("    ") else {
                continue;
            };
            if decl.starts_with(char::is_whitespace) {
                continue;
            }
            let first = decl.split_whitespace().next().unwrap_or("");
            let decl = decl.trim_end();
            let is_decl = first.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && first.contains("Header")
                && (decl.ends_with('{') || decl.ends_with("{}"));
            if is_decl {
                names.push(first.to_string());
            }
        }
    }
    names
}

#[test]
fn every_declared_header_is_listed_once_and_every_used_header_is_declared() {
    let declared: Vec<String> = declared_headers();
    let declared_set: BTreeSet<&str> = declared.iter().map(String::as_str).collect();
    assert_eq!(
        declared.len(),
        declared_set.len(),
        "a header declared twice"
    );
    // 4.8.0 has 77 classes implementing CommandCustomHeader in protocol.header.
    assert_eq!(declared.len(), 77, "{declared:?}");
    let listed: Vec<&str> = ALL_HEADERS.iter().map(|h| h.java_class).collect();
    let listed_set: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(
        listed.len(),
        listed_set.len(),
        "ALL_HEADERS lists one twice"
    );
    assert_eq!(listed_set, declared_set);
    for row in REQUEST_CODES {
        for h in row.request.iter().chain(row.response.iter()) {
            assert!(listed_set.contains(h.java_class), "{}", h.java_class);
        }
    }
}

/// Test-only values for fields whose `checkFields` restricts them.
fn constrained(key: &str, pick: i64) -> Option<&'static str> {
    let i = pick.unsigned_abs() as usize;
    match key {
        "commitOrRollback" => Some(["8", "12"][i % 2]),
        "topicFilterType" => Some(["SINGLE_TAG", "MULTI_TAG"][i % 2]),
        _ => None,
    }
}

/// One random value per field: (present, number, boolean, text).
type Seed = (bool, i64, bool, String);

/// A map as a Java peer would write it for `info`, from the seeds, and the map a decode
/// then encode must give back (absent defaulted fields come back with their default).
fn java_shaped(info: &HeaderInfo, seeds: &[Seed]) -> (ExtFields, ExtFields) {
    let mut sent = ExtFields::new();
    let mut back = ExtFields::new();
    for (field, (present, number, flag, text)) in info.fields.iter().zip(seeds) {
        let present = *present || field.presence == Presence::Required;
        if !present {
            if let Presence::Default(default) = field.presence {
                back.insert(field.key.to_string(), default.to_string());
            }
            continue;
        }
        let value = match (constrained(field.key, *number), field.java_type) {
            (Some(v), _) => v.to_string(),
            (None, "int") => (*number as i32).to_string(),
            (None, "long") => number.to_string(),
            (None, "boolean") => flag.to_string(),
            (None, _) => text.clone(),
        };
        sent.insert(field.key.to_string(), value.clone());
        back.insert(field.key.to_string(), value);
    }
    // Keys a header does not declare are ignored (ACL and client extras).
    sent.insert("Signature".into(), "c2ln".into());
    sent.insert("AccessKey".into(), "ak".into());
    (sent, back)
}

fn seeds() -> impl Strategy<Value = Vec<Seed>> {
    proptest::collection::vec(
        (any::<bool>(), any::<i64>(), any::<bool>(), "\\PC{0,16}"),
        16,
    )
}

proptest! {
    /// decode then encode gives the Java-shaped map back, and doing it again changes
    /// nothing. Because encoding is injective (each field writes its own key, and the
    /// writers are injective), this also proves decode(encode(h)) == h for every h that
    /// comes from such a map.
    #[test]
    fn every_header_round_trips(index in 0..ALL_HEADERS.len(), seeds in seeds()) {
        let info = &ALL_HEADERS[index];
        prop_assert!(info.fields.len() <= 16);
        let (sent, expected) = java_shaped(info, &seeds);
        let once = (info.reencode)(&sent);
        prop_assert_eq!(once.as_ref(), Ok(&expected), "{}", info.java_class);
        let twice = (info.reencode)(&expected);
        prop_assert_eq!(twice, Ok(expected), "{}", info.java_class);
    }

    /// The typed round trip for the headers clients send most.
    #[test]
    fn pull_and_send_headers_round_trip_as_values(
        group in "\\PC{0,12}", queue_id in any::<i32>(), offset in any::<i64>(),
        sub in proptest::option::of("\\PC{0,20}"), batch in any::<bool>(),
        max_reconsume in proptest::option::of(any::<i32>()),
    ) {
        let pull = PullMessageRequestHeader {
            consumer_group: group.clone(),
            topic: "T".into(),
            queue_id,
            queue_offset: offset,
            max_msg_nums: 32,
            sys_flag: 3,
            commit_offset: Some(offset),
            suspend_timeout_millis: Some(15_000),
            subscription: sub.clone(),
            sub_version: Some(offset),
            expression_type: sub.as_ref().map(|_| "TAG".to_string()),
        };
        let cmd = RemotingCommand::new_request(request::PULL_MESSAGE).with_header(&pull);
        prop_assert_eq!(cmd.decode_header::<PullMessageRequestHeader>(), Ok(pull));

        let send = SendMessageRequestHeader {
            producer_group: Some(group),
            topic: "T".into(),
            default_topic: Some("TBW102".into()),
            default_topic_queue_nums: Some(4),
            queue_id,
            sys_flag: Some(0),
            born_timestamp: Some(offset),
            flag: Some(0),
            properties: sub,
            reconsume_times: max_reconsume,
            unit_mode: false,
            batch,
            max_reconsume_times: max_reconsume,
        };
        let v2 = SendMessageRequestHeaderV2::from(send.clone());
        let cmd = RemotingCommand::new_request(request::SEND_MESSAGE_V2).with_header(&v2);
        prop_assert_eq!(SendMessageRequestHeader::from_request(&cmd), Ok(send.clone()));
        let cmd = RemotingCommand::new_request(request::SEND_MESSAGE).with_header(&send);
        prop_assert_eq!(SendMessageRequestHeader::from_request(&cmd), Ok(send));
    }
}

#[test]
fn a_missing_required_field_is_refused_with_4_8_0_s_text() {
    for info in ALL_HEADERS {
        let seeds: Vec<Seed> = vec![(true, 1, true, "x".into()); 16];
        let (full, _) = java_shaped(info, &seeds);
        assert!((info.reencode)(&full).is_ok(), "{}", info.java_class);
        for field in info.fields {
            let mut without = full.clone();
            without.remove(field.key);
            let result = (info.reencode)(&without);
            match field.presence {
                Presence::Required => {
                    let err = result.expect_err(field.key);
                    assert_eq!(err, HeaderError::Missing(field.key.to_string()));
                    assert_eq!(
                        err.to_string(),
                        format!("the custom field <{}> is null", field.key)
                    );
                }
                Presence::Optional => {
                    let back = result.expect("optional may be absent");
                    assert!(!back.contains_key(field.key), "None is not written");
                }
                Presence::Default(default) => {
                    let back = result.expect("defaulted may be absent");
                    assert_eq!(back.get(field.key).map(String::as_str), Some(default));
                }
            }
        }
    }
}

#[test]
fn key_of_names_the_wire_key_of_a_rust_field() {
    let info = SendMessageRequestHeaderV2::INFO;
    assert_eq!(info.key_of("producer_group"), Some("a"));
    assert_eq!(info.key_of("batch"), Some("m"));
    assert_eq!(info.key_of("no_such_field"), None);
    // Every field of every header: its key, found by its Rust name.
    for h in ALL_HEADERS {
        for f in h.fields {
            assert_eq!(h.key_of(f.name), Some(f.key), "{}.{}", h.java_class, f.name);
        }
    }
}

#[test]
fn values_that_do_not_convert_follow_4_8_0() {
    // A required number: an error naming the field and the value.
    let mut ext = map(&[("consumerGroup", "g"), ("topic", "T"), ("queueId", "one")]);
    let err = QueryConsumerOffsetRequestHeader::from_ext_fields(&ext).unwrap_err();
    assert_eq!(
        err,
        HeaderError::Invalid {
            field: "queueId".into(),
            value: "one".into(),
            expected: "int"
        }
    );
    assert_eq!(
        err.to_string(),
        "the custom field <queueId> is not a valid int: \"one\""
    );
    // Overflow is a NumberFormatException in Java too.
    ext.insert("queueId".into(), "2147483648".into());
    assert!(QueryConsumerOffsetRequestHeader::from_ext_fields(&ext).is_err());
    // Blanks around a number are tolerated, a sign is fine.
    ext.insert("queueId".into(), " +3 ".into());
    assert_eq!(
        QueryConsumerOffsetRequestHeader::from_ext_fields(&ext).map(|h| h.queue_id),
        Ok(3)
    );

    // An optional number that does not convert stays unset, as in 4.8.0 (the Go client
    // sends "" for fields it does not use).
    let h = UnregisterClientRequestHeader::from_ext_fields(&map(&[("clientID", "c")])).unwrap();
    assert_eq!(h.producer_group, None);
    let h = ConsumerSendMsgBackRequestHeader::from_ext_fields(&map(&[
        ("offset", "100"),
        ("group", "g"),
        ("delayLevel", "0"),
        ("maxReconsumeTimes", ""),
        ("unitMode", "yes"),
    ]))
    .unwrap();
    assert_eq!(h.max_reconsume_times, None);
    assert!(!h.unit_mode, "parseBoolean(\"yes\") is false");

    // A defaulted number that does not convert keeps its default.
    let h = RegisterBrokerRequestHeader::from_ext_fields(&map(&[
        ("brokerName", "b"),
        ("brokerAddr", "127.0.0.1:10911"),
        ("clusterName", "C"),
        ("brokerId", "0"),
        ("bodyCrc32", "abc"),
        ("compressed", "1"),
    ]))
    .unwrap();
    assert_eq!(h.body_crc32, 0);
    assert!(!h.compressed, "parseBoolean(\"1\") is false, as in 4.8.0");
    assert_eq!(h.ha_server_addr, None);
}

#[test]
fn check_fields_refuses_what_4_8_0_refuses() {
    let end = |commit: &str| {
        EndTransactionRequestHeader::from_ext_fields(&map(&[
            ("producerGroup", "pg"),
            ("tranStateTableOffset", "5"),
            ("commitLogOffset", "1024"),
            ("commitOrRollback", commit),
            ("msgId", "id"),
        ]))
    };
    assert_eq!(
        end("8").map(|h| h.commit_or_rollback),
        Ok(TRANSACTION_COMMIT_TYPE)
    );
    assert_eq!(
        end("12").map(|h| h.commit_or_rollback),
        Ok(TRANSACTION_ROLLBACK_TYPE)
    );
    assert_eq!(end("0").map(|h| h.from_transaction_check), Ok(false));
    let err = end("4").unwrap_err();
    assert_eq!(err.to_string(), "commitOrRollback field wrong");

    let create = |filter: &str| {
        CreateTopicRequestHeader::from_ext_fields(&map(&[
            ("topic", "T"),
            ("defaultTopic", "TBW102"),
            ("readQueueNums", "8"),
            ("writeQueueNums", "8"),
            ("perm", "6"),
            ("topicFilterType", filter),
        ]))
    };
    assert_eq!(create("MULTI_TAG").map(|h| h.order), Ok(false));
    assert_eq!(
        create("single_tag").unwrap_err().to_string(),
        "topicFilterType = [single_tag] value invalid"
    );
    // Absent or empty is accepted (our broker reads it as SINGLE_TAG; 4.8.0 refuses
    // `[null]`), so a create without it works.
    assert_eq!(
        create("").map(|h| h.topic_filter_type),
        Ok(Some(String::new()))
    );
    let bare = CreateTopicRequestHeader::from_ext_fields(&map(&[("topic", "T")])).unwrap();
    assert_eq!((bare.topic_filter_type, bare.perm), (None, None));
    let state = CheckTransactionStateResponseHeader {
        producer_group: "pg".into(),
        tran_state_table_offset: 1,
        commit_log_offset: 2,
        commit_or_rollback: TRANSACTION_NOT_TYPE,
    };
    assert_eq!(
        CheckTransactionStateResponseHeader::from_ext_fields(&state.to_ext_fields()),
        Err(HeaderError::Check("commitOrRollback field wrong".into()))
    );
}

#[test]
fn decodes_the_maps_official_clients_send() {
    // PULL_MESSAGE from the Java client 4.8.0 (a push consumer, tag subscription).
    let pull = PullMessageRequestHeader::from_ext_fields(&map(&[
        ("consumerGroup", "please_rename_unique_group_name_4"),
        ("topic", "TopicTest"),
        ("queueId", "2"),
        ("queueOffset", "0"),
        ("maxMsgNums", "32"),
        ("sysFlag", "3"),
        ("commitOffset", "0"),
        ("suspendTimeoutMillis", "15000"),
        ("subscription", "*"),
        ("subVersion", "1700000000123"),
        ("expressionType", "TAG"),
    ]))
    .unwrap();
    assert_eq!(pull.queue_id, 2);
    assert_eq!(pull.sub_version, Some(1_700_000_000_123));
    assert_eq!(pull.subscription.as_deref(), Some("*"));

    // SEND_MESSAGE_V2 from the Go client v2 (no `l`, `k`/`m` as strings).
    let cmd = RemotingCommand {
        code: request::SEND_MESSAGE_V2,
        ext_fields: map(&[
            ("a", "p"),
            ("b", "TopicTest"),
            ("c", "TBW102"),
            ("d", "4"),
            ("e", "1"),
            ("f", "0"),
            ("g", "1700000000000"),
            ("h", "0"),
            ("i", "TAGS\u{1}TagA\u{2}UNIQ_KEY\u{1}0A0B\u{2}"),
            ("j", "0"),
            ("k", "false"),
            ("m", "false"),
        ]),
        ..RemotingCommand::default()
    };
    let send = SendMessageRequestHeader::from_request(&cmd).unwrap();
    assert_eq!(send.topic, "TopicTest");
    assert_eq!(send.queue_id, 1);
    assert_eq!(send.max_reconsume_times, None);
    assert!(!send.batch);

    // REGISTER_BROKER from a 4.8.0 broker.
    let reg = RegisterBrokerRequestHeader::from_ext_fields(&map(&[
        ("brokerName", "broker-a"),
        ("brokerAddr", "192.168.0.2:10911"),
        ("clusterName", "DefaultCluster"),
        ("haServerAddr", "192.168.0.2:10912"),
        ("brokerId", "0"),
        ("compressed", "false"),
        ("bodyCrc32", "1613443372"),
    ]))
    .unwrap();
    assert_eq!(reg.body_crc32, 1_613_443_372);
    assert_eq!(reg.ha_server_addr.as_deref(), Some("192.168.0.2:10912"));
}

#[test]
fn encodes_the_keys_and_values_the_java_client_writes() {
    let header = SendMessageRequestHeaderV2 {
        producer_group: Some("p".into()),
        topic: "T".into(),
        default_topic: Some("TBW102".into()),
        default_topic_queue_nums: Some(4),
        queue_id: 0,
        sys_flag: Some(0),
        born_timestamp: Some(1_700_000_000_000),
        flag: Some(0),
        properties: Some("KEYS\u{1}k\u{2}".into()),
        reconsume_times: None,
        unit_mode: false,
        max_reconsume_times: None,
        batch: true,
    };
    assert_eq!(
        header.to_ext_fields(),
        map(&[
            ("a", "p"),
            ("b", "T"),
            ("c", "TBW102"),
            ("d", "4"),
            ("e", "0"),
            ("f", "0"),
            ("g", "1700000000000"),
            ("h", "0"),
            ("i", "KEYS\u{1}k\u{2}"),
            ("k", "false"),
            ("m", "true"),
        ])
    );
    let response = RemotingCommand::new_response(response::SUCCESS, None)
        .with_ext("MSG_REGION", "DefaultRegion")
        .with_header(&SendMessageResponseHeader {
            msg_id: "7F00000100002A9F0000000000000000".into(),
            queue_id: 3,
            queue_offset: -1,
            transaction_id: None,
        });
    assert_eq!(
        response.ext_fields,
        map(&[
            ("MSG_REGION", "DefaultRegion"),
            ("msgId", "7F00000100002A9F0000000000000000"),
            ("queueId", "3"),
            ("queueOffset", "-1"),
        ])
    );
}

/// A server that reads a QUERY_CONSUMER_OFFSET header and answers with the queue id
/// times ten as the offset, or with SYSTEM_ERROR and the header error as the remark.
struct OffsetServer;

impl RequestProcessor for OffsetServer {
    fn process(
        &self,
        _ctx: Arc<Connection>,
        req: RemotingCommand,
    ) -> BoxFuture<'static, Option<RemotingCommand>> {
        let reply = match req.decode_header::<QueryConsumerOffsetRequestHeader>() {
            Ok(h) => RemotingCommand::new_response(response::SUCCESS, None).with_header(
                &QueryConsumerOffsetResponseHeader {
                    offset: i64::from(h.queue_id) * 10,
                },
            ),
            Err(e) => RemotingCommand::new_response(response::SYSTEM_ERROR, e.to_string()),
        };
        futures::future::ready(Some(reply)).boxed()
    }
}

#[tokio::test]
async fn a_header_crosses_a_real_connection_in_both_encodings() {
    let server = RemotingServer::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap().to_string();
    tokio::spawn(server.serve(Arc::new(OffsetServer)));
    let client = RemotingClient::new();
    let header = QueryConsumerOffsetRequestHeader {
        consumer_group: "g".into(),
        topic: "T".into(),
        queue_id: 7,
    };
    for serialize_type in [
        rmq_remoting::SerializeType::Json,
        rmq_remoting::SerializeType::RocketMq,
    ] {
        let mut req =
            RemotingCommand::new_request(request::QUERY_CONSUMER_OFFSET).with_header(&header);
        req.serialize_type = serialize_type;
        let resp = client
            .invoke(&addr, req, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(resp.code, response::SUCCESS);
        let offset: QueryConsumerOffsetResponseHeader = resp.decode_header().unwrap();
        assert_eq!(offset.offset, 70);
    }
    let incomplete =
        RemotingCommand::new_request(request::QUERY_CONSUMER_OFFSET).with_ext("topic", "T");
    let resp = client
        .invoke(&addr, incomplete, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(resp.code, response::SYSTEM_ERROR);
    assert_eq!(
        resp.remark.as_deref(),
        Some("the custom field <consumerGroup> is null")
    );
    client.shutdown();
}

/// Renders the two tables of the book's "Custom headers, code by code" section.
fn appendix_tables() -> String {
    let mut out = String::from("\n");
    out.push_str("| code | name | request header | response header | body and notes |\n");
    out.push_str("|---|---|---|---|---|\n");
    let name = |h: &Option<HeaderInfo>| match h {
        Some(h) => format!("`{}`", h.java_class),
        None => "—".to_string(),
    };
    for row in REQUEST_CODES {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            row.code,
            row.name,
            name(&row.request),
            name(&row.response),
            row.note
        ));
    }
    out.push_str("\n*Table A-1. Every request code of 4.8.0 and the custom headers it uses.*\n\n");
    out.push_str("| header | fields (extFields keys, in Java declaration order) |\n");
    out.push_str("|---|---|\n");
    for info in ALL_HEADERS {
        let fields: Vec<String> = info
            .fields
            .iter()
            .map(|f| match f.presence {
                Presence::Required => format!("`{}: {}`", f.key, f.java_type),
                Presence::Optional => format!("`{}?: {}`", f.key, f.java_type),
                Presence::Default(d) => format!("`{}: {} = {}`", f.key, f.java_type, d),
            })
            .collect();
        let fields = if fields.is_empty() {
            "(no fields)".to_string()
        } else {
            fields.join(", ")
        };
        out.push_str(&format!("| `{}` | {} |\n", info.java_class, fields));
    }
    out.push_str("\n*Table A-2. The fields of every custom header.*\n\n");
    out
}

const BEGIN: &str = "<!-- header tables: generated by crates/remoting/tests/headers.rs -->\n";
const END: &str = "<!-- end of header tables -->";

/// The book prints the tables this crate defines. To refresh the book after a change:
/// `RMQ_BLESS_BOOK=1 cargo test -p rmq-remoting --test headers`.
#[test]
fn the_book_appendix_prints_this_table() {
    let page = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../book/src/appendix/wire-protocol.md"
    );
    rmq_testkit::check_generated_section(
        std::path::Path::new(page),
        BEGIN,
        END,
        &appendix_tables(),
        "RMQ_BLESS_BOOK=1 cargo test -p rmq-remoting --test headers",
    );
}

#[test]
fn every_field_is_documented() {
    for info in ALL_HEADERS {
        for field in info.fields {
            assert!(
                !field.doc.trim().is_empty(),
                "{}.{}",
                info.java_class,
                field.key
            );
        }
    }
}
