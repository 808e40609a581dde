//! The leader's push state machine for one follower (`EntryDispatcher`): find where the
//! follower's log agrees (COMPARE, walking back from the leader's end), cut it there
//! (TRUNCATE), then stream entries in order (APPEND, at most `max_pending_push` in flight;
//! with `batch_push` several entries per request, up to `max_batch_push_size` bytes), and
//! tell it the committed index when nothing else goes out (COMMIT).
//! Book: Part IV "Cluster modes and DLedger" (replication). Mirrors
//! `DLedgerEntryPusher.EntryDispatcher` of DLedger 0.2.2.

use crate::core::*;
use crate::entry::Entry;

/// The leader's push state for one follower (`EntryDispatcher`).
#[derive(Debug, Clone)]
pub(in crate::core) struct Dispatcher {
    kind: PushType,
    compare_index: i64,
    write_index: i64,
    /// APPEND pushes in flight: first index → (send time, last index). A single push
    /// carries one entry (first = last); a batch push several (0.2.2 `batchPendingMap`).
    pending: BTreeMap<i64, (u64, i64)>,
    last_push_commit: u64,
    last_check_leak: u64,
    /// The COMPARE or TRUNCATE push awaiting its answer: (rpc id, deadline).
    in_flight: Option<(u64, u64)>,
    truncate_index: i64,
    retry_at: u64,
    /// The APPEND last sent again after a timeout.
    resent: Option<i64>,
    /// Highest index a COMPARE found the follower holding a *different* entry at.
    mismatch_at: Option<i64>,
}

impl Dispatcher {
    pub(in crate::core) fn new(now: u64) -> Dispatcher {
        Dispatcher {
            kind: PushType::Compare,
            compare_index: -1,
            write_index: -1,
            pending: BTreeMap::new(),
            last_push_commit: now,
            last_check_leak: now,
            in_flight: None,
            truncate_index: -1,
            retry_at: 0,
            resent: None,
            mismatch_at: None,
        }
    }
}

impl Dispatcher {
    /// When this dispatcher next acts on its own (not on an answer): a COMPARE or TRUNCATE
    /// that timed out or may be retried, an APPEND to send again, a COMMIT push.
    pub(in crate::core) fn due(&self, cfg: &NodeConfig) -> u64 {
        match self.kind {
            PushType::Compare | PushType::Truncate => match self.in_flight {
                Some((_, deadline)) => deadline,
                None => self.retry_at,
            },
            PushType::Append | PushType::Commit => {
                let commit = self.last_push_commit + cfg.commit_push_interval_ms + 1;
                let resend = self
                    .pending
                    .values()
                    .map(|(sent, _)| *sent)
                    .min()
                    .map(|sent| sent + cfg.max_push_timeout_ms + 1)
                    .unwrap_or(u64::MAX);
                commit.min(resend)
            }
        }
    }
}

/// Entries gathered for one batch push.
#[derive(Default)]
struct Batch {
    entries: Vec<Entry>,
    size: usize,
}

impl Node {
    pub(in crate::core) fn run_dispatcher(&mut self, peer: &str, log: &mut dyn LogStore) {
        // A few passes so a state change (COMPARE → APPEND) takes effect at once.
        for _ in 0..3 {
            let Some(d) = self.dispatchers.get(peer) else {
                return;
            };
            match d.kind {
                PushType::Append => {
                    self.do_append(peer, log);
                    return;
                }
                PushType::Compare | PushType::Truncate => {
                    let Some(d) = self.dispatchers.get_mut(peer) else {
                        return;
                    };
                    if let Some((_, deadline)) = d.in_flight {
                        if self.now < deadline {
                            return;
                        }
                        // No answer in time: start the comparison over after a pause.
                        d.in_flight = None;
                        d.retry_at = self.now + self.cfg.push_retry_ms;
                    }
                    if self.now < d.retry_at {
                        return;
                    }
                    if !self.do_compare(peer, log) {
                        return;
                    }
                }
                PushType::Commit => return,
            }
        }
    }
    /// `changeState`.
    pub(in crate::core) fn change_state(&mut self, peer: &str, index: i64, target: PushType) {
        let now = self.now;
        let Some(d) = self.dispatchers.get_mut(peer) else {
            return;
        };
        match target {
            PushType::Append => {
                d.compare_index = -1;
                d.write_index = index + 1;
                d.last_check_leak = now;
            }
            PushType::Compare => {
                if d.kind == PushType::Append {
                    d.compare_index = -1;
                    d.pending.clear();
                    d.mismatch_at = None;
                }
            }
            PushType::Truncate => d.compare_index = -1,
            PushType::Commit => {}
        }
        d.kind = target;
        if target == PushType::Append {
            self.update_watermark(peer, index);
        }
    }
    /// Sends a push carrying `entry` (single) or `batch` (a batch APPEND, `entry` None).
    fn send_push_of(
        &mut self,
        peer: &str,
        kind: PushType,
        entry: Option<Entry>,
        batch: Vec<Entry>,
    ) -> u64 {
        let req = Request::Push(PushRequest {
            term: self.term,
            leader: self.cfg.self_id.clone(),
            kind,
            commit_index: self.committed,
            entry,
            batch,
        });
        let what = Outstanding::Push {
            peer: peer.to_string(),
            kind,
            term: self.term,
        };
        self.send_request(peer, req, what)
    }
    pub(in crate::core) fn send_push(
        &mut self,
        peer: &str,
        kind: PushType,
        entry: Option<Entry>,
    ) -> u64 {
        self.send_push_of(peer, kind, entry, Vec::new())
    }
    /// Sends the next COMPARE (or the pending TRUNCATE); false if nothing was sent.
    pub(in crate::core) fn do_compare(&mut self, peer: &str, log: &mut dyn LogStore) -> bool {
        let (begin, end) = (log.begin_index(), log.end_index());
        let Some(d) = self.dispatchers.get_mut(peer) else {
            return false;
        };
        if d.compare_index == -1 && end == -1 {
            return false;
        }
        if d.compare_index == -1 || d.compare_index > end || d.compare_index < begin {
            d.compare_index = end;
        }
        let index = d.compare_index;
        let entry = match log.get(index) {
            Ok(e) => e,
            Err(_) => {
                if let Some(d) = self.dispatchers.get_mut(peer) {
                    d.retry_at = self.now + self.cfg.push_retry_ms;
                }
                return false;
            }
        };
        let id = self.send_push(peer, PushType::Compare, Some(entry));
        let deadline = self.now + self.cfg.push_wait_ms;
        if let Some(d) = self.dispatchers.get_mut(peer) {
            d.in_flight = Some((id, deadline));
        }
        false
    }
    // ANCHOR: compare_response
    pub(in crate::core) fn on_compare_response(
        &mut self,
        peer: &str,
        resp: &PushResponse,
        log: &mut dyn LogStore,
    ) {
        let (begin, end) = (log.begin_index(), log.end_index());
        let now = self.now;
        let retry = self.cfg.push_retry_ms;
        let Some(d) = self.dispatchers.get_mut(peer) else {
            return;
        };
        let mut truncate_index = -1;
        match resp.code {
            ResponseCode::Success => {
                let k = d.compare_index;
                if k == resp.end_index {
                    // The follower ends exactly where we agree: stream from here.
                    self.change_state(peer, k, PushType::Append);
                    return;
                }
                if !self.cfg.compare_walk_forward
                    || resp.end_index < k
                    || k == end
                    || d.mismatch_at == Some(k + 1)
                {
                    // What follows k on the follower is not ours: cut it.
                    truncate_index = k;
                } else {
                    // Not in 0.2.2, which truncates here at once. APPENDs still in
                    // flight when the comparison started may have landed after k, and
                    // their acks already count toward the quorum: truncating them could
                    // leave a committed entry on a minority. Compare further up first.
                    d.compare_index = resp.end_index.min(end);
                    return;
                }
            }
            ResponseCode::InconsistentState => {
                if resp.begin_index <= d.compare_index && d.compare_index <= resp.end_index {
                    d.mismatch_at = Some(d.compare_index);
                }
                if resp.end_index < begin || resp.begin_index > end {
                    // No overlap at all.
                    truncate_index = begin;
                } else if d.compare_index < resp.begin_index {
                    truncate_index = begin;
                } else if d.compare_index > resp.end_index {
                    // Usual case: the follower is shorter, compare at its end.
                    d.compare_index = resp.end_index;
                } else {
                    d.compare_index -= 1;
                }
                if d.compare_index < begin {
                    truncate_index = begin;
                }
            }
            _ => {
                d.retry_at = now + retry;
                return;
            }
        }
        if truncate_index != -1 {
            self.change_state(peer, truncate_index, PushType::Truncate);
            let entry = match log.get(truncate_index) {
                Ok(e) => e,
                Err(_) => {
                    if let Some(d) = self.dispatchers.get_mut(peer) {
                        d.retry_at = now + retry;
                    }
                    return;
                }
            };
            let id = self.send_push(peer, PushType::Truncate, Some(entry));
            if let Some(d) = self.dispatchers.get_mut(peer) {
                d.truncate_index = truncate_index;
                d.in_flight = Some((id, now + self.cfg.push_wait_ms));
            }
        }
    }
    // ANCHOR_END: compare_response
    // ANCHOR: do_append
    /// Streams APPEND pushes (`doAppend`, or `doBatchAppend` with `batch_push`: the entries
    /// are gathered into one request until it holds `max_batch_push_size` bytes, and what is
    /// gathered goes out when the leader has no more).
    pub(in crate::core) fn do_append(&mut self, peer: &str, log: &mut dyn LogStore) {
        let mut batch = Batch::default();
        loop {
            let now = self.now;
            let wm = self.watermarks.get(peer).copied().unwrap_or(-1);
            let max_pending = self.cfg.max_pending_push;
            let Some(d) = self.dispatchers.get_mut(peer) else {
                return;
            };
            if d.kind != PushType::Append {
                return;
            }
            if d.write_index > log.end_index() {
                self.send_batch(peer, &mut batch);
                self.do_commit(peer);
                self.do_check_append_response(peer, log);
                return;
            }
            if d.pending.len() >= max_pending || now.saturating_sub(d.last_check_leak) > 1000 {
                d.pending.retain(|_, (_, last)| *last >= wm);
                d.last_check_leak = now;
            }
            if d.pending.len() >= max_pending {
                self.send_batch(peer, &mut batch);
                self.do_check_append_response(peer, log);
                return;
            }
            let index = d.write_index;
            if self.cfg.batch_push {
                let Ok(entry) = log.get(index) else {
                    self.change_state(peer, -1, PushType::Compare);
                    return;
                };
                batch.size += entry.size().max(0) as usize;
                batch.entries.push(entry);
                if batch.size >= self.cfg.max_batch_push_size {
                    self.send_batch(peer, &mut batch);
                }
            } else {
                self.do_append_inner(peer, index, log);
            }
            if let Some(d) = self.dispatchers.get_mut(peer) {
                d.write_index += 1;
            }
        }
    }
    // ANCHOR_END: do_append
    /// Sends the gathered entries as one batch APPEND, if there are any.
    fn send_batch(&mut self, peer: &str, batch: &mut Batch) {
        let entries = std::mem::take(&mut batch.entries);
        batch.size = 0;
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
            return;
        };
        let span = (first.index, last.index);
        self.send_push_of(peer, PushType::Append, None, entries);
        let now = self.now;
        if let Some(d) = self.dispatchers.get_mut(peer) {
            d.pending.insert(span.0, (now, span.1));
            d.last_push_commit = now;
        }
    }
    pub(in crate::core) fn do_append_inner(
        &mut self,
        peer: &str,
        index: i64,
        log: &mut dyn LogStore,
    ) {
        let entry = match log.get(index) {
            Ok(e) => e,
            Err(_) => {
                self.change_state(peer, -1, PushType::Compare);
                return;
            }
        };
        self.send_push(peer, PushType::Append, Some(entry));
        let now = self.now;
        if let Some(d) = self.dispatchers.get_mut(peer) {
            d.pending.insert(index, (now, index));
            d.last_push_commit = now;
        }
    }
    pub(in crate::core) fn do_commit(&mut self, peer: &str) {
        let now = self.now;
        let interval = self.cfg.commit_push_interval_ms;
        let Some(d) = self.dispatchers.get_mut(peer) else {
            return;
        };
        if now.saturating_sub(d.last_push_commit) > interval {
            d.last_push_commit = now;
            self.send_push(peer, PushType::Commit, None);
        }
    }
    /// Re-sends the first unacknowledged APPEND (a whole batch with `batch_push`) when it
    /// is overdue.
    pub(in crate::core) fn do_check_append_response(&mut self, peer: &str, log: &mut dyn LogStore) {
        let wm = self.watermarks.get(peer).copied().unwrap_or(-1);
        let overdue = self
            .dispatchers
            .get(peer)
            .and_then(|d| d.pending.get(&(wm + 1)))
            .filter(|(sent, _)| self.now.saturating_sub(*sent) > self.cfg.max_push_timeout_ms)
            .map(|(_, last)| *last);
        let Some(last) = overdue else {
            return;
        };
        if self.cfg.batch_push {
            let mut batch = Batch::default();
            for i in wm + 1..=last {
                match log.get(i) {
                    Ok(e) => batch.entries.push(e),
                    Err(_) => {
                        self.change_state(peer, -1, PushType::Compare);
                        return;
                    }
                }
            }
            self.send_batch(peer, &mut batch);
        } else {
            self.do_append_inner(peer, wm + 1, log);
        }
        if let Some(d) = self.dispatchers.get_mut(peer) {
            d.resent = Some(last);
        }
    }
    /// An answer to one of our pushes.
    pub(in crate::core) fn on_push_response(
        &mut self,
        peer: &str,
        id: u64,
        kind: PushType,
        term: i64,
        resp: PushResponse,
        log: &mut dyn LogStore,
    ) {
        if self.role != Role::Leader || term != self.term {
            return;
        }
        match kind {
            PushType::Append => match resp.code {
                ResponseCode::Success => {
                    let mut ahead = false;
                    let (now, timeout) = (self.now, self.cfg.max_push_timeout_ms);
                    if let Some(d) = self.dispatchers.get_mut(peer) {
                        // The answer names the push's last index (0.2.2 removes a batch by
                        // that index, which only the leak check ever finds; we find the push
                        // whose range holds it).
                        let acked = d
                            .pending
                            .range(..=resp.index)
                            .next_back()
                            .filter(|(_, (_, last))| *last >= resp.index)
                            .map(|(first, _)| *first);
                        if let Some(first) = acked {
                            d.pending.remove(&first);
                        }
                        // Not in 0.2.2: a re-sent entry got through but more pushes are
                        // overdue, or the follower already holds more (it restarted, or
                        // answers were lost). Compare once and stream again instead of
                        // re-sending one entry per round trip all the way up.
                        let overdue = d
                            .pending
                            .values()
                            .any(|(sent, _)| now.saturating_sub(*sent) > timeout);
                        ahead = d.resent == Some(resp.index)
                            && (resp.end_index > resp.index || overdue);
                        if d.resent == Some(resp.index) {
                            d.resent = None;
                        }
                    }
                    if resp.term == self.term {
                        self.update_watermark(peer, resp.index);
                    }
                    if ahead {
                        self.change_state(peer, -1, PushType::Compare);
                    }
                    self.check_quorum(log);
                }
                ResponseCode::InconsistentState => self.change_state(peer, -1, PushType::Compare),
                _ => {}
            },
            PushType::Commit => {}
            PushType::Compare | PushType::Truncate => {
                let Some(d) = self.dispatchers.get_mut(peer) else {
                    return;
                };
                if d.in_flight.map(|(i, _)| i) != Some(id) {
                    return;
                }
                d.in_flight = None;
                if kind == PushType::Compare {
                    self.on_compare_response(peer, &resp, log);
                } else if resp.code == ResponseCode::Success {
                    let i = d.truncate_index;
                    self.change_state(peer, i, PushType::Append);
                    self.check_quorum(log);
                } else {
                    d.compare_index = -1;
                    d.mismatch_at = None;
                    d.retry_at = self.now + self.cfg.push_retry_ms;
                }
            }
        }
    }
    /// A push could not be delivered.
    pub(in crate::core) fn push_failed(&mut self, peer: &str, id: u64, kind: PushType, term: i64) {
        if self.role != Role::Leader || term != self.term {
            return;
        }
        if matches!(kind, PushType::Compare | PushType::Truncate) {
            let retry = self.now + self.cfg.push_retry_ms;
            if let Some(d) = self.dispatchers.get_mut(peer) {
                if d.in_flight.map(|(i, _)| i) == Some(id) {
                    d.in_flight = None;
                    d.compare_index = -1;
                    d.retry_at = retry;
                }
            }
        }
    }

    // ---------------------------------------------------------------- follower side
}
