//! Log replication as DLedger 0.2.2 does it (`DLedgerEntryPusher`), in three parts as its
//! three inner classes: one dispatcher per follower on the leader (`dispatcher.rs`:
//! COMPARE → TRUNCATE → APPEND, with COMMIT when idle), the follower-side handler that
//! applies pushes in index order (`handler.rs`), and the quorum checker that advances the
//! committed index and answers waiting client appends (`quorum.rs`). This file holds what
//! ties them together: entering and leaving leadership and the per-step pump.
//!
//! Unlike textbook Raft there is no `prevLogIndex` check on every append: a new
//! leader first *compares* one entry at a time, walking back from its end until the
//! follower holds an equal entry, then *truncates* the follower right after (or at) that
//! point and streams entries in order. Appends from the same leader in the same term are
//! then safe to accept without checks.
//! Book: Part IV "Cluster modes and DLedger" (replication). Mirrors
//! `DLedgerEntryPusher.java` of DLedger 0.2.2.

mod dispatcher;
mod handler;
mod quorum;

pub(super) use dispatcher::Dispatcher;

use super::*;

impl Node {
    /// Sets up dispatchers and watermarks for a fresh term as leader.
    pub(in crate::core) fn become_leader_pusher(&mut self, log: &mut dyn LogStore) {
        self.dispatchers.clear();
        self.watermarks.clear();
        for p in self.cfg.peers.clone() {
            self.watermarks.insert(p.clone(), -1);
            if p != self.cfg.self_id {
                self.dispatchers.insert(p, Dispatcher::new(self.now));
            }
        }
        let me = self.cfg.self_id.clone();
        self.watermarks.insert(me, log.end_index());
        if self.cfg.noop_on_election && log.end_index() > self.committed {
            let body = self
                .cfg
                .noop_body
                .as_ref()
                .map_or_else(Bytes::new, |make| (make.0)());
            self.client_append(None, body, false, log);
        }
    }
    /// Leaving leadership: fail waiting appends and drop push state.
    pub(in crate::core) fn step_down_cleanup(&mut self) {
        let leader = self.leader.clone();
        for (_, p) in std::mem::take(&mut self.pending) {
            if let Some(req) = p.req {
                self.out.effects.push(Effect::AppendResult {
                    req,
                    result: Err(AppendError {
                        code: ResponseCode::TermChanged,
                        leader: leader.clone(),
                    }),
                });
            }
        }
        self.dispatchers.clear();
        self.watermarks.clear();
        self.hb_round = None;
    }
    /// Runs every dispatcher and the quorum checker (leader) or the follower's
    /// out-of-order check.
    pub(in crate::core) fn pump(&mut self, log: &mut dyn LogStore) {
        if self.held {
            return;
        }
        match self.role {
            Role::Leader => {
                for peer in self.dispatchers.keys().cloned().collect::<Vec<_>>() {
                    self.run_dispatcher(&peer, log);
                }
                self.check_quorum(log);
                self.drive_transfer(log);
            }
            Role::Follower => self.check_abnormal_pushes(log),
            Role::Candidate => self.drive_transfer(log),
        }
    }
}
