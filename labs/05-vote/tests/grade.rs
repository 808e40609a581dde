//! Grades lab 5 (the DLedger vote decision): one test per rule of `handleVote`, in 0.2.2's
//! order, then the lab against `rmq_dledger`'s Raft core on random voters and requests.

use lab05_vote::{Member, Role, VoteRequest, VoteResponse, VoteResult};
use lab_grader::{why, Rng};

const CHAPTER: &str = "part4/dledger.md#terms-and-votes";
const LAB: &str = "part4/dledger.md#lab";

/// Member n0 of {n0, n1, n2} in `term`, ledger ending at (`end_term`, `end_index`).
fn voter(term: i64, end_term: i64, end_index: i64) -> Member {
    let mut m = Member::new("n0", &["n0", "n1", "n2"]);
    m.curr_term = term;
    m.ledger_end_term = end_term;
    m.ledger_end_index = end_index;
    m
}

fn ask(term: i64, candidate: &str, end_term: i64, end_index: i64) -> VoteRequest {
    VoteRequest {
        term,
        leader_id: candidate.to_string(),
        ledger_end_term: end_term,
        ledger_end_index: end_index,
    }
}

fn answer(term: i64, result: VoteResult) -> VoteResponse {
    VoteResponse { term, result }
}

#[test]
fn a_candidate_with_an_equal_ledger_in_the_same_term_gets_the_vote() {
    let mut m = voter(3, 2, 10);
    let got = m.handle_vote(&ask(3, "n1", 2, 10), false);
    assert_eq!(
        got,
        answer(3, VoteResult::Accept),
        "{}",
        why(
            "same term, no vote yet, ledger as new as ours: ACCEPT with our current term",
            CHAPTER
        )
    );
    assert_eq!(
        m.curr_vote_for.as_deref(),
        Some("n1"),
        "{}",
        why("an ACCEPT records the vote (currVoteFor)", CHAPTER)
    );
    let again = m.handle_vote(&ask(3, "n1", 2, 10), false);
    assert_eq!(
        again,
        answer(3, VoteResult::Accept),
        "{}",
        why(
            "asking again for the member we already voted for is accepted again",
            CHAPTER
        )
    );
}

#[test]
fn one_vote_per_term() {
    let mut m = voter(3, 2, 10);
    m.curr_vote_for = Some("n1".into());
    assert_eq!(
        m.handle_vote(&ask(3, "n2", 2, 10), false),
        answer(3, VoteResult::RejectAlreadyVoted),
        "{}",
        why("we voted for n1 in term 3, so n2 is refused", CHAPTER)
    );
    m.leader_id = Some("n1".into());
    m.role = Role::Follower;
    assert_eq!(
        m.handle_vote(&ask(3, "n2", 2, 10), false),
        answer(3, VoteResult::RejectAlreadyHasLeader),
        "{}",
        why(
            "the same refusal is REJECT_ALREADY_HAS_LEADER once the term has a known leader",
            CHAPTER
        )
    );
    assert_eq!(
        m.curr_vote_for.as_deref(),
        Some("n1"),
        "{}",
        why("a refusal changes nothing", CHAPTER)
    );
}

#[test]
fn the_ledger_is_checked_before_the_term() {
    let mut m = voter(3, 2, 10);
    let before = m.clone();
    assert_eq!(
        m.handle_vote(&ask(9, "n1", 1, 50), false),
        answer(3, VoteResult::RejectExpiredLedgerTerm),
        "{}",
        why(
            "the candidate's last entry has term 1 < our 2: refused before its (higher) term \
             is even looked at, so a stale candidate cannot push terms up",
            CHAPTER
        )
    );
    assert_eq!(
        m,
        before,
        "{}",
        why(
            "a ledger refusal does not step the voter down, even for a newer term",
            CHAPTER
        )
    );
    assert_eq!(
        m.handle_vote(&ask(9, "n1", 2, 9), false),
        answer(3, VoteResult::RejectSmallLedgerEndIndex),
        "{}",
        why(
            "same last term but a shorter ledger (index 9 < 10): REJECT_SMALL_LEDGER_END_INDEX",
            CHAPTER
        )
    );
    assert_eq!(m, before, "{}", why("a refusal changes nothing", CHAPTER));
}

#[test]
fn an_old_term_is_refused() {
    let mut m = voter(5, 2, 10);
    assert_eq!(
        m.handle_vote(&ask(4, "n1", 2, 10), false),
        answer(5, VoteResult::RejectExpiredVoteTerm),
        "{}",
        why("the request's term 4 is below ours (5)", CHAPTER)
    );
}

#[test]
fn a_newer_term_steps_the_voter_down_but_is_not_granted_yet() {
    let mut m = voter(3, 2, 10);
    m.role = Role::Follower;
    m.leader_id = Some("n2".into());
    m.curr_vote_for = Some("n2".into());
    let got = m.handle_vote(&ask(7, "n1", 2, 10), false);
    let rule = why(
        "a newer term makes the voter a CANDIDATE that remembers term 7 as the known maximum \
         and asks for an immediate new round; it answers REJECT_TERM_NOT_READY with its old \
         term, and the candidate asks again once the voter has caught up",
        CHAPTER,
    );
    assert_eq!(got, answer(3, VoteResult::RejectTermNotReady), "{rule}");
    assert_eq!(m.role, Role::Candidate, "role{rule}");
    assert_eq!(m.leader_id, None, "leader{rule}");
    assert_eq!(m.known_max_term_in_group, 7, "knownMaxTermInGroup{rule}");
    assert!(
        m.need_increase_term_immediately,
        "needIncreaseTermImmediately{rule}"
    );
    assert_eq!(m.curr_term, 3, "currTerm is adopted later, not here{rule}");
    assert_eq!(
        m.curr_vote_for.as_deref(),
        Some("n2"),
        "the vote stays until the next term{rule}"
    );
}

#[test]
fn a_term_below_our_last_entry_is_refused_with_that_entry_term() {
    // currTerm behind the ledger happens when the currterm file is older than the data.
    let mut m = voter(3, 4, 10);
    assert_eq!(
        m.handle_vote(&ask(3, "n1", 4, 10), false),
        answer(4, VoteResult::RejectTermSmallThanLedger),
        "{}",
        why(
            "a candidate whose term is below our last entry's term cannot lead; the answer \
             carries our ledger end term, the one result that does not report currTerm",
            LAB
        )
    );
    assert_eq!(m.curr_vote_for, None, "{}", why("no vote recorded", LAB));
}

#[test]
fn strangers_and_impostors_are_refused_first() {
    let mut m = voter(3, 2, 10);
    assert_eq!(
        m.handle_vote(&ask(3, "n9", 2, 10), false),
        answer(3, VoteResult::RejectUnknownLeader),
        "{}",
        why("n9 is not a member of the group", LAB)
    );
    assert_eq!(
        m.handle_vote(&ask(3, "n0", 2, 10), false),
        answer(3, VoteResult::RejectUnexpectedLeader),
        "{}",
        why(
            "a request from another member that names us as the candidate is a bug",
            LAB
        )
    );
    assert_eq!(
        m.handle_vote(&ask(3, "n0", 2, 10), true),
        answer(3, VoteResult::Accept),
        "{}",
        why(
            "a candidate votes for itself through the same checks (is_self = true)",
            LAB
        )
    );
    assert_eq!(m.curr_vote_for.as_deref(), Some("n0"));
}

#[test]
fn a_member_taking_leadership_refuses_equal_ledgers() {
    let mut m = voter(3, 2, 10);
    m.taking_leadership = true;
    assert_eq!(
        m.handle_vote(&ask(3, "n1", 2, 10), false),
        answer(3, VoteResult::RejectTakingLeadership),
        "{}",
        why(
            "the preferred leader (or the target of a leadership transfer) keeps its own \
             chance: it refuses candidates whose ledger is not ahead of its own",
            LAB
        )
    );
    assert_eq!(
        m.handle_vote(&ask(3, "n1", 2, 11), false),
        answer(3, VoteResult::Accept),
        "{}",
        why("a candidate with a longer ledger is still accepted", LAB)
    );
}

/// A voter as the Raft core builds it: term and vote from the `currterm` file, a ledger with
/// the given end, and (if `leader` is set) a heartbeat from that leader in the current term.
struct Production {
    node: rmq_dledger::core::Node,
    log: rmq_dledger::core::MemLog,
}

impl Production {
    fn new(m: &Member) -> Production {
        use rmq_dledger::core::{LogStore, MemLog, Node, NodeConfig, PersistedState};
        let peers: Vec<String> = m.peers.clone();
        let mut log = MemLog::new(1 << 20);
        for i in 0..=m.ledger_end_index {
            let term = if i == m.ledger_end_index {
                m.ledger_end_term
            } else {
                0
            };
            log.append_as_leader(term, bytes::Bytes::from_static(b"x"))
                .expect("in-memory append");
        }
        let persisted = PersistedState {
            term: m.curr_term,
            vote_for: m.curr_vote_for.clone(),
        };
        let node = Node::new(
            NodeConfig::new(m.self_id.clone(), peers),
            persisted,
            -1,
            &log,
            0,
        );
        let mut p = Production { node, log };
        if let Some(leader) = &m.leader_id {
            let hb = rmq_dledger::core::Request::HeartBeat(rmq_dledger::core::HeartBeatRequest {
                term: m.curr_term,
                leader: leader.clone(),
            });
            p.request(leader, hb);
        }
        p
    }

    fn request(
        &mut self,
        from: &str,
        req: rmq_dledger::core::Request,
    ) -> Option<rmq_dledger::core::Response> {
        use rmq_dledger::core::{Envelope, Rpc};
        let env = Envelope {
            from: from.to_string(),
            to: self.node.id().to_string(),
            rpc: Rpc::Request { id: 1, req },
        };
        let out = self.node.receive(1, env, &mut self.log);
        out.messages.into_iter().find_map(|m| match m.rpc {
            Rpc::Response { resp, .. } => Some(resp),
            Rpc::Request { .. } => None,
        })
    }
}

/// The lab and the Raft core the brokers run must answer every request alike and leave the
/// voter in the same role, term and vote. (The core never takes leadership over, so
/// `taking_leadership` stays false here.)
#[test]
fn agrees_with_rmq_dledger_on_random_votes() {
    let mut rng = Rng::new(0x0505);
    let names = ["n0", "n1", "n2", "n9"];
    let mut seen = std::collections::HashSet::new();
    for round in 0..3000 {
        let term = rng.range(0, 4);
        let (end_term, end_index) = if rng.chance(15) {
            (-1, -1)
        } else {
            (rng.range(0, term + 1), rng.range(0, 4))
        };
        let mut m = voter(term, end_term, end_index);
        m.curr_vote_for = rng.chance(50).then(|| rng.pick(&names[..3]).to_string());
        if rng.chance(30) {
            m.leader_id = Some(rng.pick(&names[1..3]).to_string());
            m.role = Role::Follower;
        }
        let req_end = if rng.chance(15) {
            (-1, -1)
        } else {
            (rng.range(0, 5), rng.range(0, 5))
        };
        let candidate = *rng.pick(&names);
        let req = ask(rng.range(0, 5), candidate, req_end.0, req_end.1);

        let mut prod = Production::new(&m);
        let from = if m.is_peer_member(&req.leader_id) {
            req.leader_id.clone()
        } else {
            "n1".to_string()
        };
        let prod_req = rmq_dledger::core::Request::Vote(rmq_dledger::core::VoteRequest {
            term: req.term,
            candidate: req.leader_id.clone(),
            ledger_end_index: req.ledger_end_index,
            ledger_end_term: req.ledger_end_term,
        });
        let Some(rmq_dledger::core::Response::Vote(theirs)) = prod.request(&from, prod_req) else {
            panic!("rmq_dledger did not answer the vote request of round {round}");
        };
        let before = m.clone();
        let ours = m.handle_vote(&req, false);
        seen.insert(ours.result);
        let case = format!(
            "round {round} (LAB_SEED={}): voter {before:?}, request {req:?}",
            rng.seed
        );
        let rule = why(
            "the answer must be the one DLedger 0.2.2 (and rmq_dledger) gives",
            CHAPTER,
        );
        assert_eq!(
            (ours.result, ours.term),
            (theirs.result, theirs.term),
            "{case}{rule}"
        );
        assert_eq!(
            (
                m.role,
                m.curr_term,
                m.curr_vote_for.as_deref(),
                m.leader_id.as_deref()
            ),
            (
                match prod.node.role() {
                    rmq_dledger::core::Role::Candidate => Role::Candidate,
                    rmq_dledger::core::Role::Leader => Role::Leader,
                    rmq_dledger::core::Role::Follower => Role::Follower,
                },
                prod.node.term(),
                prod.node.vote_for(),
                prod.node.leader()
            ),
            "state after the vote: (role, term, vote, leader); {case}{rule}"
        );
    }
    assert!(
        seen.len() >= 9,
        "the random rounds should reach at least 9 different results, saw {seen:?}"
    );
}
