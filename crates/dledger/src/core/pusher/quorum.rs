//! The leader's quorum checker (`QuorumAckChecker`) and the client appends it answers:
//! an append is written to the leader's log and waits; every follower's acknowledged index
//! (its water mark) is recorded, and the committed index moves to the highest index a
//! majority holds, which answers the waiting appends up to it.
//! Book: Part IV "Cluster modes and DLedger" (commit). Mirrors
//! `DLedgerEntryPusher.QuorumAckChecker`, `DLedgerServer.handleAppend`,
//! `DLedgerEntryPusher.waitAck` and `DLedgerMmapFileStore.updateCommittedIndex` of DLedger
//! 0.2.2.

use crate::core::*;

impl Node {
    /// `DLedgerServer.handleAppend` + `waitAck`. `admitted`: the server already checked
    /// for a transfer when it queued the append (see [`Node::append_admitted`]).
    pub(in crate::core) fn client_append(
        &mut self,
        req: Option<u64>,
        body: Bytes,
        admitted: bool,
        log: &mut dyn LogStore,
    ) {
        let fail = |node: &mut Node, code: ResponseCode| {
            if let Some(req) = req {
                node.out.effects.push(Effect::AppendResult {
                    req,
                    result: Err(AppendError {
                        code,
                        leader: node.leader.clone(),
                    }),
                });
            }
        };
        if self.role != Role::Leader {
            return fail(self, ResponseCode::NotLeader);
        }
        if req.is_some() && !admitted && self.transferee.is_some() {
            return fail(self, ResponseCode::LeaderTransferring);
        }
        if self.pending.len() > self.cfg.max_pending_requests {
            return fail(self, ResponseCode::LeaderPendingFull);
        }
        let entry = match log.append_as_leader(self.term, body) {
            Ok(e) => e,
            Err(_) => return fail(self, ResponseCode::DiskError),
        };
        let me = self.cfg.self_id.clone();
        self.update_watermark(&me, entry.index);
        self.pending.insert(
            entry.index,
            PendingAppend {
                req,
                pos: entry.pos,
                deadline: self.now + self.cfg.max_wait_ack_ms,
            },
        );
        self.check_quorum(log);
    }
    pub(in crate::core) fn update_watermark(&mut self, peer: &str, index: i64) {
        if let Some(w) = self.watermarks.get_mut(peer) {
            if *w < index {
                *w = index;
            }
        }
    }
    // ANCHOR: commit_index
    /// `QuorumAckChecker`: the index a majority holds becomes committed, if the rule
    /// allows; waiting appends at or below it succeed, expired ones time out.
    pub(in crate::core) fn check_quorum(&mut self, log: &mut dyn LogStore) {
        if self.role != Role::Leader {
            return;
        }
        let mut marks: Vec<i64> = self.watermarks.values().copied().collect();
        marks.sort_unstable_by(|a, b| b.cmp(a));
        let quorum_index = marks.get(marks.len() / 2).copied().unwrap_or(-1);
        if quorum_index > self.committed {
            let allowed = match self.cfg.commit_rule {
                CommitRule::AnyTerm => true,
                // Raft's rule: count replicas only for an entry of our own term.
                CommitRule::CurrentTerm => log
                    .get(quorum_index)
                    .map(|e| e.term == self.term)
                    .unwrap_or(false),
            };
            if allowed {
                self.set_committed(quorum_index, log);
            }
        }
        let term = self.term;
        let done: Vec<i64> = self
            .pending
            .range(..=self.committed)
            .map(|(i, _)| *i)
            .collect();
        for i in done {
            if let Some(p) = self.pending.remove(&i) {
                if let Some(req) = p.req {
                    self.out.effects.push(Effect::AppendResult {
                        req,
                        result: Ok(Appended {
                            index: i,
                            term,
                            pos: p.pos,
                        }),
                    });
                }
            }
        }
        let now = self.now;
        // Deadlines grow with the index (same timeout, appended in order).
        let expired: Vec<i64> = self
            .pending
            .iter()
            .take_while(|(_, p)| p.deadline <= now)
            .map(|(i, _)| *i)
            .collect();
        for i in expired {
            if let Some(p) = self.pending.remove(&i) {
                if let Some(req) = p.req {
                    self.out.effects.push(Effect::AppendResult {
                        req,
                        result: Err(AppendError {
                            code: ResponseCode::WaitQuorumAckTimeout,
                            leader: self.leader.clone(),
                        }),
                    });
                }
            }
        }
    }
    // ANCHOR_END: commit_index
    pub(in crate::core) fn set_committed(&mut self, index: i64, log: &mut dyn LogStore) {
        if index > self.committed {
            self.committed = index;
            log.set_committed(index);
            self.out.effects.push(Effect::Committed { index });
        }
    }
}
