//! The network side of a member: a remoting server answering DLedger RPCs from peers
//! (and DLedger clients: APPEND, GET, METADATA), and one sender task per peer that
//! keeps its requests in order on one connection and reports answers or losses back
//! to the driver.
//!
//! Book: Appendix "Wire protocol" and Part IV "Cluster modes and DLedger". Mirrors
//! `DLedgerRpcNettyService.java` of DLedger 0.2.2.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use parking_lot::Mutex;
use rmq_remoting::protocol::fastjson;
use rmq_remoting::{Connection, RemotingClient, RemotingCommand, RemotingServer, RequestProcessor};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::debug;

use super::driver::Cmd;
use super::Shared;
use crate::codes::ResponseCode;
use crate::codes::VoteResult;
use crate::core::{
    HeartBeatResponse, LogStore, PushResponse, Request, Response, Role, VoteResponse,
};
use crate::rpc::wire::{self, request_code as rc, Route, RESPONSE_FRAME_CODE};

/// remoting `SYSTEM_ERROR`, for bodies that do not parse.
const SYSTEM_ERROR: i32 = 1;

pub(crate) struct Transport {
    group: String,
    self_id: String,
    peers: Vec<(String, String)>,
    timeout: Duration,
    client: RemotingClient,
    cmds: mpsc::Sender<Cmd>,
    shared: Arc<Shared>,
    senders: Mutex<HashMap<String, mpsc::UnboundedSender<(u64, Request)>>>,
    accepted: Mutex<HashMap<u64, Arc<Connection>>>,
    closed: AtomicBool,
    cancel: CancellationToken,
}

impl Transport {
    pub fn new(
        group: String,
        self_id: String,
        peers: Vec<(String, String)>,
        timeout: Duration,
        cmds: mpsc::Sender<Cmd>,
        shared: Arc<Shared>,
    ) -> Arc<Transport> {
        let t = Arc::new(Transport {
            group,
            self_id,
            peers,
            timeout,
            client: RemotingClient::new(),
            cmds,
            shared,
            senders: Mutex::new(HashMap::new()),
            accepted: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
            cancel: CancellationToken::new(),
        });
        for (id, addr) in t.peers.clone() {
            if id == t.self_id {
                continue;
            }
            let (tx, rx) = mpsc::unbounded_channel();
            t.senders.lock().insert(id.clone(), tx);
            tokio::spawn(t.clone().peer_loop(id, addr, rx));
        }
        t
    }

    /// Starts answering RPCs on `listener` until `cancel`.
    pub fn serve(
        self: Arc<Self>,
        listener: RemotingServer,
        cancel: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let processor: Arc<dyn RequestProcessor> = Arc::new(Processor(self));
        tokio::spawn(async move {
            if let Err(e) = listener
                .serve_until(processor, cancel.cancelled_owned())
                .await
            {
                tracing::warn!(error = %e, "dledger rpc server stopped");
            }
        })
    }

    /// Queues request `id` for `peer`.
    pub fn send(&self, peer: &str, id: u64, req: Request) {
        if let Some(tx) = self.senders.lock().get(peer) {
            let _ = tx.send((id, req));
        }
    }

    /// Closes every connection, both ways, and stops the sender tasks.
    pub fn close_all(&self) {
        self.closed.store(true, Ordering::Release);
        self.cancel.cancel();
        for (_, c) in self.accepted.lock().drain() {
            c.close();
        }
        self.client.shutdown();
        self.senders.lock().clear();
    }

    fn route<'a>(&'a self, remote: &'a str) -> Route<'a> {
        Route {
            group: &self.group,
            local_id: &self.self_id,
            remote_id: remote,
        }
    }

    async fn peer_loop(
        self: Arc<Self>,
        peer: String,
        addr: String,
        mut rx: mpsc::UnboundedReceiver<(u64, Request)>,
    ) {
        let mut inflight = FuturesUnordered::new();
        loop {
            tokio::select! {
                _ = self.cancel.cancelled() => return,
                next = rx.recv() => match next {
                    Some((id, req)) => {
                        let this = self.clone();
                        let (peer, addr) = (peer.clone(), addr.clone());
                        inflight.push(async move {
                            let result = this.call(&peer, &addr, req).await;
                            (id, result)
                        });
                    }
                    None => return,
                },
                Some((id, result)) = inflight.next(), if !inflight.is_empty() => {
                    let cmd = match result {
                        Some(resp) => Cmd::Answer { from: peer.clone(), id, resp },
                        None => Cmd::Lost { peer: peer.clone(), id },
                    };
                    if self.cmds.send(cmd).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// One request to `peer`; `None` if it could not be delivered or answered.
    async fn call(&self, peer: &str, addr: &str, req: Request) -> Option<Response> {
        let r = self.route(peer);
        let (code, body) = match &req {
            Request::Vote(v) => (rc::VOTE, fastjson::to_vec(&wire::vote_request(&r, v))),
            Request::HeartBeat(h) => (
                rc::HEART_BEAT,
                fastjson::to_vec(&wire::heartbeat_request(&r, h)),
            ),
            Request::Push(p) => (rc::PUSH, fastjson::to_vec(&wire::push_request(&r, p))),
            Request::LeadershipTransfer(t) => {
                let leader = self.shared.role.borrow().leader_id.clone();
                (
                    rc::LEADERSHIP_TRANSFER,
                    fastjson::to_vec(&wire::transfer_request(&r, leader, t)),
                )
            }
        };
        let cmd = RemotingCommand::new_request(code).with_body(body.ok()?);
        let answer = match self.client.invoke(addr, cmd, self.timeout).await {
            Ok(a) => a,
            Err(e) => {
                debug!(%peer, error = %e, "dledger rpc failed");
                return None;
            }
        };
        if answer.code != RESPONSE_FRAME_CODE {
            return None;
        }
        let body = answer.body_bytes();
        match req {
            Request::Vote(_) => fastjson::from_slice::<wire::VoteResponseJson>(body)
                .ok()
                .map(|j| Response::Vote(wire::vote_response_from(&j))),
            Request::HeartBeat(_) => fastjson::from_slice::<wire::HeartBeatJson>(body)
                .ok()
                .map(|j| Response::HeartBeat(wire::heartbeat_response_from(&j))),
            Request::Push(_) => fastjson::from_slice::<wire::PushEntryResponseJson>(body)
                .ok()
                .map(|j| Response::Push(wire::push_response_from(&j))),
            Request::LeadershipTransfer(_) => fastjson::from_slice::<wire::Base>(body)
                .ok()
                .map(|j| Response::LeadershipTransfer(wire::transfer_response_from(&j))),
        }
    }

    /// Hands a peer request to the driver and waits for the core's answer.
    async fn ask(&self, from: String, req: Request) -> Option<(Response, Option<String>)> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(Cmd::Incoming {
                from,
                req,
                reply: tx,
            })
            .await
            .ok()?;
        tokio::time::timeout(self.timeout, rx).await.ok()?.ok()
    }

    /// The `DLedgerServer.handle*` precondition: addressed to us, in our group.
    fn misrouted(&self, remote: Option<&str>, group: Option<&str>) -> Option<ResponseCode> {
        if remote != Some(self.self_id.as_str()) {
            Some(ResponseCode::UnknownMember)
        } else if group != Some(self.group.as_str()) {
            Some(ResponseCode::UnknownGroup)
        } else {
            None
        }
    }

    async fn dispatch(&self, req: RemotingCommand) -> Option<RemotingCommand> {
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        let body = req.body_bytes();
        let reply = match req.code {
            rc::VOTE => self.on_vote(parse(body)?).await,
            rc::HEART_BEAT => self.on_heartbeat(parse(body)?).await,
            rc::PUSH => self.on_push(parse(body)?).await,
            rc::APPEND => self.on_append(parse(body)?).await,
            rc::GET => self.on_get(parse(body)?),
            rc::METADATA => self.on_metadata(parse(body)?),
            rc::LEADERSHIP_TRANSFER => self.on_transfer(parse(body)?).await,
            _ => return None,
        };
        Some(reply)
    }

    /// The common path of VOTE, HEART_BEAT and PUSH, as `DLedgerServer.handle*` has it:
    /// check the addressing, then the body (`req` is `None` when it did not convert),
    /// then hand the request to the core; `Err` is the code to refuse with.
    async fn peer_rpc(
        &self,
        from: &str,
        remote_id: &Option<String>,
        group: &Option<String>,
        req: Option<Request>,
    ) -> Result<(Response, Option<String>), ResponseCode> {
        if let Some(code) = self.misrouted(remote_id.as_deref(), group.as_deref()) {
            return Err(code);
        }
        let req = req.ok_or(ResponseCode::UnexpectedArgument)?;
        self.ask(from.to_string(), req)
            .await
            .ok_or(ResponseCode::Timeout)
    }

    async fn on_vote(&self, j: wire::VoteRequestJson) -> RemotingCommand {
        let from = sender(&j.local_id, &j.leader_id);
        let route = self.route(&from);
        let req = wire::vote_request_from(&j).map(Request::Vote);
        match self.peer_rpc(&from, &j.remote_id, &j.group, req).await {
            Ok((Response::Vote(resp), leader)) => {
                frame(&wire::vote_response(&route, leader, &resp))
            }
            outcome => {
                let unknown = VoteResponse {
                    term: -1,
                    result: VoteResult::Unknown,
                };
                let mut refused = wire::vote_response(&route, None, &unknown);
                refused.code = refusal(outcome).code();
                refused.vote_result = None;
                frame(&refused)
            }
        }
    }

    async fn on_heartbeat(&self, j: wire::HeartBeatJson) -> RemotingCommand {
        let from = sender(&j.local_id, &j.leader_id);
        let route = self.route(&from);
        let req = wire::heartbeat_request_from(&j).map(Request::HeartBeat);
        match self.peer_rpc(&from, &j.remote_id, &j.group, req).await {
            Ok((Response::HeartBeat(resp), leader)) => {
                frame(&wire::heartbeat_response(&route, leader, &resp))
            }
            outcome => {
                let refused = HeartBeatResponse {
                    term: -1,
                    code: refusal(outcome),
                };
                frame(&wire::heartbeat_response(&route, None, &refused))
            }
        }
    }

    async fn on_push(&self, j: wire::PushEntryRequestJson) -> RemotingCommand {
        let from = sender(&j.local_id, &j.leader_id);
        let route = self.route(&from);
        let req = wire::push_request_from(&j).map(Request::Push);
        match self.peer_rpc(&from, &j.remote_id, &j.group, req).await {
            Ok((Response::Push(resp), leader)) => {
                frame(&wire::push_response(&route, leader, &resp))
            }
            outcome => {
                let refused = PushResponse {
                    term: j.term,
                    code: refusal(outcome),
                    index: j
                        .entry
                        .as_ref()
                        .or(j.batch_entry.last())
                        .map(|e| e.index)
                        .unwrap_or(-1),
                    begin_index: -1,
                    end_index: -1,
                };
                frame(&wire::push_response(&route, None, &refused))
            }
        }
    }

    async fn on_append(&self, j: wire::AppendEntryRequestJson) -> RemotingCommand {
        let mut out = wire::AppendEntryResponseJson {
            code: 200,
            group: Some(self.group.clone()),
            index: -1,
            leader_id: self.shared.role.borrow().leader_id.clone(),
            local_id: Some(self.self_id.clone()),
            pos: -1,
            remote_id: j.local_id.clone(),
            term: self.shared.role.borrow().term,
        };
        if let Some(code) = self.misrouted(j.remote_id.as_deref(), j.group.as_deref()) {
            out.code = code.code();
            return frame(&out);
        }
        let body = match j.body.as_deref().map(crate::rpc::wire::decode_bytes) {
            Some(Some(b)) => Bytes::from(b),
            None => Bytes::new(),
            Some(None) => {
                out.code = ResponseCode::UnexpectedArgument.code();
                return frame(&out);
            }
        };
        let (tx, rx) = oneshot::channel();
        if self
            .cmds
            .send(Cmd::Append { body, reply: tx })
            .await
            .is_err()
        {
            out.code = ResponseCode::InternalError.code();
            return frame(&out);
        }
        match rx.await {
            Ok(Ok(a)) => {
                out.index = a.index;
                out.pos = a.pos;
                out.term = a.term;
            }
            Ok(Err(e)) => {
                out.code = e.code.code();
                out.leader_id = e.leader;
            }
            Err(_) => out.code = ResponseCode::InternalError.code(),
        }
        frame(&out)
    }

    /// LEADERSHIP_TRANSFER: to us as the leader (from a peer or an admin tool that is no
    /// member: then the driver's own transfer path answers), or to us as the transferee.
    async fn on_transfer(&self, j: wire::LeadershipTransferJson) -> RemotingCommand {
        let from = sender(&j.local_id, &j.leader_id);
        let route = self.route(&from);
        let req = wire::transfer_request_from(&j);
        let answer = |code: ResponseCode, term: i64, leader: Option<String>| {
            frame(&wire::transfer_response(
                &route,
                leader,
                &crate::core::LeadershipTransferResponse { term, code },
            ))
        };
        let known_peer = self.peers.iter().any(|(id, _)| *id == from);
        match req {
            Some(t) if t.transfer_id == self.self_id && !known_peer => {
                if let Some(code) = self.misrouted(j.remote_id.as_deref(), j.group.as_deref()) {
                    return answer(code, -1, None);
                }
                let (tx, rx) = oneshot::channel();
                let cmd = Cmd::Transfer {
                    transferee: Some(t.transferee_id.clone()),
                    term: Some(t.term),
                    reply: tx,
                };
                if self.cmds.send(cmd).await.is_err() {
                    return answer(ResponseCode::InternalError, -1, None);
                }
                let role = || self.shared.role.borrow().clone();
                match tokio::time::timeout(self.timeout, rx).await {
                    Ok(Ok(code)) => {
                        let r = role();
                        answer(code, r.term, r.leader_id)
                    }
                    _ => answer(ResponseCode::Timeout, role().term, role().leader_id),
                }
            }
            req => {
                let req = req.map(Request::LeadershipTransfer);
                match self.peer_rpc(&from, &j.remote_id, &j.group, req).await {
                    Ok((Response::LeadershipTransfer(resp), leader)) => {
                        frame(&wire::transfer_response(&route, leader, &resp))
                    }
                    outcome => answer(refusal(outcome), -1, None),
                }
            }
        }
    }

    fn on_get(&self, j: wire::GetEntriesRequestJson) -> RemotingCommand {
        let role = self.shared.role.borrow().clone();
        let mut out = wire::GetEntriesResponseJson {
            code: 200,
            entries: Vec::new(),
            group: Some(self.group.clone()),
            leader_id: role.leader_id.clone(),
            term: role.term,
        };
        if let Some(code) = self.misrouted(j.remote_id.as_deref(), j.group.as_deref()) {
            out.code = code.code();
        } else if role.role != Role::Leader {
            out.code = ResponseCode::NotLeader.code();
        } else {
            match j.begin_index.map(|i| self.shared.store.lock().get(i)) {
                Some(Ok(e)) => out.entries.push(wire::EntryJson::from_entry(&e)),
                Some(Err(_)) => out.code = ResponseCode::IndexOutOfRange.code(),
                None => out.code = ResponseCode::UnexpectedArgument.code(),
            }
        }
        frame(&out)
    }

    fn on_metadata(&self, j: wire::Base) -> RemotingCommand {
        let role = self.shared.role.borrow().clone();
        let mut out = wire::MetadataResponseJson {
            code: 200,
            group: Some(self.group.clone()),
            leader_id: role.leader_id,
            peers: self.peers.iter().cloned().collect::<BTreeMap<_, _>>(),
            term: role.term,
        };
        if let Some(code) = self.misrouted(j.remote_id.as_deref(), j.group.as_deref()) {
            out.code = code.code();
        }
        frame(&out)
    }
}

/// Who sent a peer request: its `localId`, else its `leaderId`.
fn sender(local_id: &Option<String>, leader_id: &Option<String>) -> String {
    local_id.clone().or(leader_id.clone()).unwrap_or_default()
}

/// The code a peer request is refused with: the precondition or conversion that failed,
/// or `TIMEOUT` when the core gave no answer (or an answer of the wrong kind).
fn refusal(outcome: Result<(Response, Option<String>), ResponseCode>) -> ResponseCode {
    outcome.err().unwrap_or(ResponseCode::Timeout)
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    fastjson::from_slice(body).ok()
}

fn frame<T: Serialize>(body: &T) -> RemotingCommand {
    match fastjson::to_vec(body) {
        Ok(b) => RemotingCommand::new_response(RESPONSE_FRAME_CODE, None).with_body(b),
        Err(e) => RemotingCommand::new_response(SYSTEM_ERROR, e.to_string()),
    }
}

struct Processor(Arc<Transport>);

impl RequestProcessor for Processor {
    fn process(
        &self,
        ctx: Arc<Connection>,
        req: RemotingCommand,
    ) -> BoxFuture<'static, Option<RemotingCommand>> {
        let t = self.0.clone();
        if t.closed.load(Ordering::Acquire) {
            ctx.close();
            return Box::pin(async { None });
        }
        t.accepted
            .lock()
            .entry(ctx.id)
            .or_insert_with(|| ctx.clone());
        Box::pin(async move {
            let code = req.code;
            match t.dispatch(req).await {
                Some(r) => Some(r),
                None if matches!(
                    code,
                    rc::VOTE
                        | rc::HEART_BEAT
                        | rc::PUSH
                        | rc::APPEND
                        | rc::GET
                        | rc::METADATA
                        | rc::LEADERSHIP_TRANSFER
                ) =>
                {
                    // The body did not parse (or we are closing): say so like a Java
                    // processor that threw.
                    if t.closed.load(Ordering::Acquire) {
                        None
                    } else {
                        Some(RemotingCommand::new_response(
                            SYSTEM_ERROR,
                            "bad DLedger request body",
                        ))
                    }
                }
                None => None,
            }
        })
    }

    fn on_close(&self, ctx: &Connection) {
        self.0.accepted.lock().remove(&ctx.id);
    }
}
