//! Real-TCP tests of the server, the client and the connection machinery.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use rmq_remoting::codes::response;
use rmq_remoting::{
    Connection, RemotingClient, RemotingCommand, RemotingError, RemotingServer, RequestProcessor,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Echo server: code 1 echoes ext "v" back; code 2 never answers; code 3 asks the
/// caller back (server -> client invoke) and returns what the client said;
/// code 4 panics.
struct Echo {
    closed: Arc<AtomicUsize>,
}

impl RequestProcessor for Echo {
    fn process(
        &self,
        ctx: Arc<Connection>,
        req: RemotingCommand,
    ) -> BoxFuture<'static, Option<RemotingCommand>> {
        async move {
            match req.code {
                1 => Some(
                    RemotingCommand::new_response(response::SUCCESS, None)
                        .with_ext("v", req.ext("v").unwrap_or(""))
                        .with_body(req.body.clone().unwrap_or_default()),
                ),
                2 => None,
                3 => {
                    let back = ctx
                        .invoke(RemotingCommand::new_request(40), Duration::from_secs(3))
                        .await
                        .ok()?;
                    Some(RemotingCommand::new_response(
                        response::SUCCESS,
                        back.remark,
                    ))
                }
                4 => panic!("handler failure"),
                _ => Some(RemotingCommand::new_response(
                    response::REQUEST_CODE_NOT_SUPPORTED,
                    None,
                )),
            }
        }
        .boxed()
    }

    fn on_close(&self, _ctx: &Connection) {
        self.closed.fetch_add(1, Ordering::SeqCst);
    }
}

/// What the client serves when the server calls it back.
struct ClientSide;

impl RequestProcessor for ClientSide {
    fn process(
        &self,
        _ctx: Arc<Connection>,
        req: RemotingCommand,
    ) -> BoxFuture<'static, Option<RemotingCommand>> {
        async move {
            Some(RemotingCommand::new_response(
                response::SUCCESS,
                format!("client saw {}", req.code),
            ))
        }
        .boxed()
    }
}

async fn start(max_frame: usize) -> (String, Arc<AtomicUsize>) {
    start_with_idle(max_frame, None).await
}

async fn start_with_idle(max_frame: usize, idle: Option<Duration>) -> (String, Arc<AtomicUsize>) {
    let closed = Arc::new(AtomicUsize::new(0));
    let server = RemotingServer::bind("127.0.0.1:0")
        .await
        .unwrap()
        .with_max_frame_len(max_frame)
        .with_idle_timeout(idle);
    let addr = server.local_addr().unwrap().to_string();
    let processor = Arc::new(Echo {
        closed: closed.clone(),
    });
    tokio::spawn(server.serve(processor));
    (addr, closed)
}

#[tokio::test]
async fn invoke_matches_responses_by_opaque_under_concurrency() {
    let (addr, _) = start(1 << 20).await;
    let client = RemotingClient::new();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let client = client.clone();
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let req = RemotingCommand::new_request(1)
                .with_ext("v", i)
                .with_body(vec![i as u8; i]);
            let resp = client
                .invoke(&addr, req, Duration::from_secs(5))
                .await
                .unwrap();
            assert!(resp.is_response());
            assert_eq!(resp.ext("v"), Some(i.to_string().as_str()));
            assert_eq!(resp.body_bytes().len(), i);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn no_reply_times_out_and_connection_survives() {
    let (addr, _) = start(1 << 20).await;
    let client = RemotingClient::new();
    let err = client
        .invoke(
            &addr,
            RemotingCommand::new_request(2),
            Duration::from_millis(200),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, RemotingError::Timeout { .. }), "{err}");
    let ok = client
        .invoke(
            &addr,
            RemotingCommand::new_request(1).with_ext("v", "x"),
            Duration::from_secs(3),
        )
        .await
        .unwrap();
    assert_eq!(ok.ext("v"), Some("x"));
}

#[tokio::test]
async fn handler_panic_becomes_system_error() {
    let (addr, _) = start(1 << 20).await;
    let client = RemotingClient::new();
    let resp = client
        .invoke(
            &addr,
            RemotingCommand::new_request(4),
            Duration::from_secs(3),
        )
        .await
        .unwrap();
    assert_eq!(resp.code, response::SYSTEM_ERROR);
}

#[tokio::test]
async fn server_can_call_the_client_back() {
    let (addr, _) = start(1 << 20).await;
    let client = RemotingClient::with_processor(Arc::new(ClientSide));
    let resp = client
        .invoke(
            &addr,
            RemotingCommand::new_request(3),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(resp.remark.as_deref(), Some("client saw 40"));
}

#[tokio::test]
async fn oversized_frame_closes_only_that_connection() {
    let (addr, closed) = start(1024).await;
    let mut raw = TcpStream::connect(&addr).await.unwrap();
    // Announce a 1 MiB frame.
    raw.write_all(&(1u32 << 20).to_be_bytes()).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "server closes the connection");
    // Other connections keep working.
    let client = RemotingClient::new();
    let ok = client
        .invoke(
            &addr,
            RemotingCommand::new_request(1).with_ext("v", "y"),
            Duration::from_secs(3),
        )
        .await
        .unwrap();
    assert_eq!(ok.ext("v"), Some("y"));
    for _ in 0..50 {
        if closed.load(Ordering::SeqCst) >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(closed.load(Ordering::SeqCst) >= 1, "on_close was called");
}

#[tokio::test]
async fn malformed_header_closes_the_connection() {
    let (addr, _) = start(1 << 20).await;
    let mut raw = TcpStream::connect(&addr).await.unwrap();
    let header = b"{not json";
    raw.write_all(&((4 + header.len()) as u32).to_be_bytes())
        .await
        .unwrap();
    raw.write_all(&(header.len() as u32).to_be_bytes())
        .await
        .unwrap();
    raw.write_all(header).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn client_reconnects_after_server_side_close() {
    let (addr, _) = start(1 << 20).await;
    let client = RemotingClient::new();
    let conn = client.connection(&addr).await.unwrap();
    conn.close();
    conn.closed().await;
    let ok = client
        .invoke(
            &addr,
            RemotingCommand::new_request(1).with_ext("v", "z"),
            Duration::from_secs(3),
        )
        .await
        .unwrap();
    assert_eq!(ok.ext("v"), Some("z"));
    assert!(client
        .invoke(
            "127.0.0.1:1",
            RemotingCommand::new_request(1),
            Duration::from_secs(1)
        )
        .await
        .is_err());
}

#[tokio::test]
async fn oneway_gets_no_reply_and_response_is_json() {
    let (addr, _) = start(1 << 20).await;
    let mut raw = TcpStream::connect(&addr).await.unwrap();
    // A binary-header oneway request, then a binary-header normal request.
    let mut oneway = RemotingCommand::new_request(1)
        .with_ext("v", "1")
        .with_opaque(7);
    oneway.serialize_type = rmq_remoting::SerializeType::RocketMq;
    oneway.mark_oneway();
    let mut normal = RemotingCommand::new_request(1)
        .with_ext("v", "2")
        .with_opaque(8);
    normal.serialize_type = rmq_remoting::SerializeType::RocketMq;
    raw.write_all(&rmq_remoting::codec::encode_frame(oneway).unwrap())
        .await
        .unwrap();
    raw.write_all(&rmq_remoting::codec::encode_frame(normal).unwrap())
        .await
        .unwrap();
    let mut len = [0u8; 4];
    raw.read_exact(&mut len).await.unwrap();
    let mut frame = vec![0u8; u32::from_be_bytes(len) as usize];
    raw.read_exact(&mut frame).await.unwrap();
    assert_eq!(frame[0], 0, "reply header is JSON");
    let resp = rmq_remoting::codec::decode_frame_body(frame.into()).unwrap();
    assert_eq!(resp.opaque, 8, "only the normal request was answered");
    assert_eq!(resp.ext("v"), Some("2"));
}

#[tokio::test]
async fn idle_connections_are_closed_busy_ones_are_not() {
    let (addr, closed) = start_with_idle(1 << 20, Some(Duration::from_millis(400))).await;
    let busy = RemotingClient::new();
    let idle = RemotingClient::new();
    let idle_conn = idle.connection(&addr).await.unwrap();
    let busy_id = busy.connection(&addr).await.unwrap().id;
    for _ in 0..8 {
        let resp = busy
            .invoke(
                &addr,
                RemotingCommand::new_request(1).with_ext("v", "k"),
                Duration::from_secs(3),
            )
            .await
            .unwrap();
        assert_eq!(resp.ext("v"), Some("k"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        busy.connection(&addr).await.unwrap().id,
        busy_id,
        "busy connection kept"
    );
    tokio::time::timeout(Duration::from_secs(5), idle_conn.closed())
        .await
        .expect("idle connection closed by the server");
    assert!(closed.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn in_flight_invoke_fails_fast_when_the_connection_closes() {
    let (addr, _) = start(1 << 20).await;
    let client = RemotingClient::new();
    let conn = client.connection(&addr).await.unwrap();
    let waiting = {
        let conn = conn.clone();
        tokio::spawn(async move {
            // Code 2 is never answered; only the close can end this early.
            conn.invoke(RemotingCommand::new_request(2), Duration::from_secs(30))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    conn.close();
    let outcome = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("invoke returns promptly")
        .unwrap();
    assert!(
        matches!(outcome, Err(RemotingError::ConnectionClosed(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn default_limit_takes_a_6_mib_frame_and_closes_on_17_mib() {
    let (addr, _) = start(rmq_remoting::codec::DEFAULT_MAX_FRAME_LEN).await;
    let client = RemotingClient::new();
    let resp = client
        .invoke(
            &addr,
            RemotingCommand::new_request(1).with_body(vec![6u8; 6 << 20]),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(resp.body_bytes().len(), 6 << 20);
    let mut raw = TcpStream::connect(&addr).await.unwrap();
    raw.write_all(&(17u32 << 20).to_be_bytes()).await.unwrap();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(5), raw.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0, "a 17 MiB frame closes the connection");
    let ok = client
        .invoke(
            &addr,
            RemotingCommand::new_request(1).with_ext("v", "z"),
            Duration::from_secs(3),
        )
        .await
        .unwrap();
    assert_eq!(ok.ext("v"), Some("z"));
}
