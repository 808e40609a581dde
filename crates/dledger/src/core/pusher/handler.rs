//! The follower's side of replication (`EntryHandler`): answer COMPARE, TRUNCATE, APPEND
//! and COMMIT pushes, write APPENDs strictly in index order (holding early ones until the
//! gap fills; a batch APPEND is held by its first index and written whole), take the
//! leader's committed index, and ask the leader to compare again when the push it needs
//! never comes.
//! Book: Part IV "Cluster modes and DLedger" (replication). Mirrors
//! `DLedgerEntryPusher.EntryHandler` of DLedger 0.2.2.

use crate::core::*;

impl Node {
    /// `updateCommittedIndex` on a follower: take the leader's committed index,
    /// capped at our own ledger end.
    pub(in crate::core) fn follower_commit(
        &mut self,
        term: i64,
        index: i64,
        log: &mut dyn LogStore,
    ) {
        if index == -1 || log.end_index() == -1 || term < self.term || index <= self.committed {
            return;
        }
        if index < log.begin_index() {
            return;
        }
        self.set_committed(index.min(log.end_index()), log);
    }
    pub(in crate::core) fn push_reply(
        &self,
        req: &PushRequest,
        code: ResponseCode,
        log: &dyn LogStore,
    ) -> PushResponse {
        PushResponse {
            term: req.term,
            code,
            index: req.last_index(),
            begin_index: log.begin_index(),
            end_index: log.end_index(),
        }
    }
    pub(in crate::core) fn answer_push(
        &mut self,
        to: &str,
        id: u64,
        req: &PushRequest,
        code: ResponseCode,
        log: &dyn LogStore,
    ) {
        let resp = self.push_reply(req, code, log);
        self.send_response(to, id, Response::Push(resp));
    }
    /// `EntryHandler.handlePush` and its worker loop.
    pub(in crate::core) fn handle_push(
        &mut self,
        from: NodeId,
        id: u64,
        req: PushRequest,
        log: &mut dyn LogStore,
    ) {
        if self.role != Role::Follower {
            return self.answer_push(&from, id, &req, ResponseCode::NotFollower, log);
        }
        let batch_append = req.kind == PushType::Append && req.entry.is_none();
        if req.kind != PushType::Commit && req.entry.is_none() && !batch_append {
            return self.answer_push(&from, id, &req, ResponseCode::UnexpectedArgument, log);
        }
        // A batch must hold consecutive entries (0.2.2's leader builds it so, `addEntry`).
        let first = req.first_index();
        let consecutive = req
            .entries()
            .iter()
            .enumerate()
            .all(|(i, e)| e.index == first + i as i64);
        if batch_append && (req.batch.is_empty() || !consecutive) {
            return self.answer_push(&from, id, &req, ResponseCode::UnexpectedArgument, log);
        }
        match req.kind {
            PushType::Append => {
                let index = first;
                if self.write_requests.contains_key(&index) {
                    return self.answer_push(&from, id, &req, ResponseCode::RepeatedPush, log);
                }
                let now = self.now;
                self.write_requests.insert(
                    index,
                    BufferedPush {
                        from,
                        id,
                        req,
                        received_at: now,
                    },
                );
                self.drain_write_requests(log);
            }
            PushType::Commit => {
                self.follower_commit(req.term, req.commit_index, log);
                self.answer_push(&from, id, &req, ResponseCode::Success, log);
            }
            PushType::Compare => {
                self.write_requests.clear();
                let code = match (&req.entry, req.entry.as_ref().map(|e| log.get(e.index))) {
                    (Some(e), Some(Ok(local))) if local.same_as(e) => ResponseCode::Success,
                    _ => ResponseCode::InconsistentState,
                };
                self.answer_push(&from, id, &req, code, log);
            }
            PushType::Truncate => {
                self.write_requests.clear();
                let code = self.handle_truncate(&req, log);
                self.answer_push(&from, id, &req, code, log);
            }
        }
    }
    // ANCHOR: truncate
    /// `handleDoTruncate`: only the current term's leader may cut our ledger.
    pub(in crate::core) fn handle_truncate(
        &mut self,
        req: &PushRequest,
        log: &mut dyn LogStore,
    ) -> ResponseCode {
        let Some(entry) = &req.entry else {
            return ResponseCode::UnexpectedArgument;
        };
        if req.term != self.term || self.leader.as_deref() != Some(req.leader.as_str()) {
            return ResponseCode::InconsistentState;
        }
        match log.truncate(entry) {
            Ok(i) if i == entry.index => {
                self.follower_commit(req.term, req.commit_index, log);
                ResponseCode::Success
            }
            _ => ResponseCode::InconsistentState,
        }
    }
    // ANCHOR_END: truncate
    /// Applies buffered APPEND pushes in index order (`handleDoAppend`).
    pub(in crate::core) fn drain_write_requests(&mut self, log: &mut dyn LogStore) {
        loop {
            let next = log.end_index() + 1;
            let Some(p) = self.write_requests.remove(&next) else {
                return;
            };
            let ok = p.req.term == self.term
                && self.leader.as_deref() == Some(p.req.leader.as_str())
                && p.req
                    .entries()
                    .iter()
                    .all(|e| log.append_as_follower(e).is_ok());
            if ok {
                self.answer_push(&p.from, p.id, &p.req, ResponseCode::Success, log);
                self.follower_commit(p.req.term, p.req.commit_index, log);
            } else {
                self.answer_push(&p.from, p.id, &p.req, ResponseCode::InconsistentState, log);
                return;
            }
        }
    }
    /// `checkAbnormalFuture`: answers pushes we already hold, and makes the leader
    /// compare again when the push we need never came.
    pub(in crate::core) fn check_abnormal_pushes(&mut self, log: &mut dyn LogStore) {
        self.drain_write_requests(log);
        if self.now.saturating_sub(self.last_check_fast_forward) < self.cfg.follower_push_wait_ms {
            return;
        }
        self.last_check_fast_forward = self.now;
        let end = log.end_index();
        // Pushes whose entries we all hold already (an answer was lost, or we caught up).
        let behind: Vec<i64> = self
            .write_requests
            .range(..=end)
            .filter(|(_, p)| p.req.last_index() <= end)
            .map(|(i, _)| *i)
            .collect();
        for i in behind {
            if let Some(p) = self.write_requests.remove(&i) {
                let same = p
                    .req
                    .entries()
                    .iter()
                    .all(|e| matches!(log.get(e.index), Ok(local) if local.same_as(e)));
                let code = if same {
                    ResponseCode::Success
                } else {
                    ResponseCode::InconsistentState
                };
                self.answer_push(&p.from, p.id, &p.req, code, log);
            }
        }
        if self.write_requests.contains_key(&(end + 1)) {
            return;
        }
        let wait = self.cfg.follower_push_wait_ms;
        let now = self.now;
        let first_late = self
            .write_requests
            .iter()
            .find(|(_, p)| now.saturating_sub(p.received_at) >= wait)
            .map(|(i, _)| *i);
        if let Some(i) = first_late {
            if let Some(p) = self.write_requests.remove(&i) {
                self.answer_push(&p.from, p.id, &p.req, ResponseCode::InconsistentState, log);
            }
        }
    }
}
