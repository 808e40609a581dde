//! Unit tests of the Raft core on a hand-driven three-node group.

use super::*;

fn peers(n: usize) -> Vec<NodeId> {
    (0..n).map(|i| format!("n{i}")).collect()
}

fn cfg(id: &str, n: usize) -> NodeConfig {
    let mut c = NodeConfig::new(id, peers(n)).scaled_down(20);
    c.seed = id.bytes().map(|b| b as u64).sum();
    c
}

struct Group {
    nodes: Vec<Node>,
    logs: Vec<MemLog>,
    now: u64,
    effects: Vec<(usize, Effect)>,
}

impl Group {
    fn new(n: usize) -> Group {
        let logs: Vec<MemLog> = (0..n).map(|_| MemLog::new(1 << 20)).collect();
        let nodes = (0..n)
            .map(|i| {
                Node::new(
                    cfg(&format!("n{i}"), n),
                    PersistedState::default(),
                    -1,
                    &logs[i],
                    0,
                )
            })
            .collect();
        Group {
            nodes,
            logs,
            now: 0,
            effects: vec![],
        }
    }

    /// Delivers everything instantly, ticking every millisecond.
    fn run(&mut self, ms: u64) {
        for _ in 0..ms {
            self.now += 1;
            let mut queue = std::collections::VecDeque::new();
            for i in 0..self.nodes.len() {
                let out = self.nodes[i].tick(self.now, &mut self.logs[i]);
                self.collect(i, out, &mut queue);
            }
            while let Some(env) = queue.pop_front() {
                let i: usize = env.to[1..].parse().unwrap();
                let out = self.nodes[i].receive(self.now, env, &mut self.logs[i]);
                self.collect(i, out, &mut queue);
            }
        }
    }

    fn collect(&mut self, i: usize, out: Output, q: &mut std::collections::VecDeque<Envelope>) {
        q.extend(out.messages);
        self.effects.extend(out.effects.into_iter().map(|e| (i, e)));
    }

    fn leaders(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].role() == Role::Leader)
            .collect()
    }
}

#[test]
fn three_nodes_elect_one_leader() {
    let mut g = Group::new(3);
    g.run(2000);
    let l = g.leaders();
    assert_eq!(l.len(), 1, "one leader");
    let term = g.nodes[l[0]].term();
    for n in &g.nodes {
        assert_eq!(n.term(), term);
        assert_eq!(n.leader(), Some(format!("n{}", l[0]).as_str()));
    }
}

#[test]
fn single_node_commits_at_once() {
    let mut g = Group::new(1);
    g.run(200);
    assert_eq!(g.leaders(), vec![0]);
    let out = g.nodes[0].append(g.now, 7, Bytes::from_static(b"x"), &mut g.logs[0]);
    assert!(out.effects.iter().any(|e| matches!(
        e,
        Effect::AppendResult {
            req: 7,
            result: Ok(Appended { index: 0, .. })
        }
    )));
}

#[test]
fn appends_replicate_and_commit() {
    let mut g = Group::new(3);
    g.run(2000);
    let l = g.leaders()[0];
    for r in 0..20u64 {
        let body = Bytes::from(format!("m{r}"));
        let out = g.nodes[l].append(g.now, r, body, &mut g.logs[l]);
        g.effects.extend(out.effects.into_iter().map(|e| (l, e)));
        let mut q: std::collections::VecDeque<Envelope> = out.messages.into();
        while let Some(env) = q.pop_front() {
            let i: usize = env.to[1..].parse().unwrap();
            let out = g.nodes[i].receive(g.now, env, &mut g.logs[i]);
            g.collect(i, out, &mut q);
        }
    }
    g.run(500);
    let oks = g
        .effects
        .iter()
        .filter(|(_, e)| matches!(e, Effect::AppendResult { result: Ok(_), .. }))
        .count();
    assert_eq!(oks, 20);
    let end = g.logs[l].end_index();
    for i in 0..3 {
        assert_eq!(g.logs[i].end_index(), end);
        assert_eq!(
            g.nodes[i].committed_index(),
            end,
            "node {i} learnt the commit"
        );
        assert_eq!(g.logs[i].entries(), g.logs[l].entries());
    }
}

#[test]
fn vote_rules_in_dledger_order() {
    let logs = [MemLog::new(1 << 20)];
    let mut log = logs[0].clone();
    log.append_as_leader(1, Bytes::from_static(b"a")).unwrap();
    log.append_as_leader(2, Bytes::from_static(b"b")).unwrap();
    let mut n = Node::new(
        cfg("n0", 3),
        PersistedState {
            term: 2,
            vote_for: None,
        },
        -1,
        &log,
        0,
    );
    let req = |term, cand: &str, idx, lt| VoteRequest {
        term,
        candidate: cand.into(),
        ledger_end_index: idx,
        ledger_end_term: lt,
    };
    use crate::codes::VoteResult::*;
    assert_eq!(
        n.handle_vote(&req(3, "n9", 5, 5), false, &log).result,
        RejectUnknownLeader
    );
    assert_eq!(
        n.handle_vote(&req(3, "n0", 5, 5), false, &log).result,
        RejectUnexpectedLeader
    );
    assert_eq!(
        n.handle_vote(&req(9, "n1", 5, 1), false, &log).result,
        RejectExpiredLedgerTerm
    );
    assert_eq!(
        n.handle_vote(&req(9, "n1", 0, 2), false, &log).result,
        RejectSmallLedgerEndIndex
    );
    assert_eq!(
        n.handle_vote(&req(1, "n1", 1, 2), false, &log).result,
        RejectExpiredVoteTerm
    );
    // a newer term: not ready yet, the member becomes candidate and adopts it later
    assert_eq!(
        n.handle_vote(&req(3, "n1", 1, 2), false, &log).result,
        RejectTermNotReady
    );
    assert_eq!(n.term(), 2);
    assert_eq!(
        n.handle_vote(&req(2, "n1", 1, 2), false, &log).result,
        Accept
    );
    assert_eq!(n.vote_for(), Some("n1"));
    assert_eq!(
        n.handle_vote(&req(2, "n2", 1, 2), false, &log).result,
        RejectAlreadyVoted
    );
    assert_eq!(
        n.handle_vote(&req(2, "n1", 1, 2), false, &log).result,
        Accept
    );
}

#[test]
fn stale_follower_is_truncated_by_new_leader() {
    let mut g = Group::new(3);
    g.run(2000);
    let l = g.leaders()[0];
    let other = (l + 1) % 3;
    // give one follower junk from an old term directly in its ledger
    let t0 = g.nodes[l].term() - 1;
    for k in 0..5 {
        g.logs[other]
            .append_as_leader(t0.max(0), Bytes::from(format!("junk{k}")))
            .unwrap();
    }
    for r in 0..3u64 {
        let out = g.nodes[l].append(g.now, r, Bytes::from(format!("ok{r}")), &mut g.logs[l]);
        let mut q: std::collections::VecDeque<Envelope> = out.messages.into();
        while let Some(env) = q.pop_front() {
            let i: usize = env.to[1..].parse().unwrap();
            let out = g.nodes[i].receive(g.now, env, &mut g.logs[i]);
            g.collect(i, out, &mut q);
        }
    }
    g.run(2000);
    assert_eq!(g.logs[other].entries(), g.logs[l].entries());
}
