//! Grades lab 4 (AllocateMessageQueueAveragely): hand-made cases with the rule each one checks,
//! then the same function against `rmq_client`'s allocation on random groups.

use lab04_allocate::{allocate_averagely, sort_for_allocation, AllocateError, MessageQueue};
use lab_grader::{why, Rng};

const CHAPTER: &str = "part2/rebalancing.md#the-idea";

fn queues(broker: &str, n: i32) -> Vec<MessageQueue> {
    (0..n).map(|q| MessageQueue::new("T", broker, q)).collect()
}

fn cids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("c{i}")).collect()
}

fn ids(v: &[MessageQueue]) -> Vec<i32> {
    v.iter().map(|m| m.queue_id).collect()
}

fn share(cid: &str, mqs: &[MessageQueue], cids: &[String]) -> Vec<i32> {
    ids(&allocate_averagely(cid, mqs, cids).expect("valid arguments must not be refused"))
}

#[test]
fn eight_queues_three_consumers_first_ones_get_one_more() {
    let (m, c) = (queues("b", 8), cids(3));
    let rule = why(
        "8 % 3 = 2, so the first two consumers take 8 / 3 + 1 = 3 queues and the third takes 2; \
         each share is a contiguous block of the sorted list",
        CHAPTER,
    );
    assert_eq!(share("c0", &m, &c), vec![0, 1, 2], "c0's share{rule}");
    assert_eq!(share("c1", &m, &c), vec![3, 4, 5], "c1's share{rule}");
    assert_eq!(share("c2", &m, &c), vec![6, 7], "c2's share{rule}");
}

#[test]
fn more_consumers_than_queues_leaves_the_last_ones_idle() {
    let (m, c) = (queues("b", 3), cids(5));
    let rule = why(
        "with no more queues than consumers every block is 1 queue long; consumer i starts at \
         i (i < 3 % 5 = 3) and the consumers whose start is past the end get nothing",
        CHAPTER,
    );
    for (cid, want) in [
        ("c0", vec![0]),
        ("c1", vec![1]),
        ("c2", vec![2]),
        ("c3", vec![]),
        ("c4", vec![]),
    ] {
        assert_eq!(share(cid, &m, &c), want, "{cid}'s share{rule}");
    }
}

#[test]
fn equal_counts_give_one_queue_each() {
    let (m, c) = (queues("b", 4), cids(4));
    for (i, cid) in c.iter().enumerate() {
        assert_eq!(
            share(cid, &m, &c),
            vec![i as i32],
            "{cid}'s share{}",
            why("4 queues, 4 consumers: consumer i takes queue i", CHAPTER)
        );
    }
}

#[test]
fn a_consumer_missing_from_the_list_takes_nothing() {
    let (m, c) = (queues("b", 4), cids(2));
    assert_eq!(
        allocate_averagely("stranger", &m, &c),
        Ok(vec![]),
        "{}",
        why(
            "a consumer that is not (yet) in cidAll allocates itself nothing and waits for the \
             next rebalance; 4.8.0 logs \"[BUG] ... not in cidAll\" but does not fail",
            CHAPTER
        )
    );
}

#[test]
fn empty_arguments_are_refused_like_4_8_0() {
    let (m, c) = (queues("b", 4), cids(2));
    let rule = |what: &str| {
        why(
            format!("4.8.0 throws IllegalArgumentException when {what}"),
            "part2/rebalancing.md#lab",
        )
    };
    assert_eq!(
        allocate_averagely("", &m, &c),
        Err(AllocateError::EmptyCurrentCid),
        "{}",
        rule("currentCID is empty")
    );
    assert_eq!(
        allocate_averagely("c0", &[], &c),
        Err(AllocateError::EmptyMqAll),
        "{}",
        rule("mqAll is empty")
    );
    assert_eq!(
        allocate_averagely("c0", &m, &[]),
        Err(AllocateError::EmptyCidAll),
        "{}",
        rule("cidAll is empty")
    );
}

#[test]
fn every_queue_has_exactly_one_owner_and_shares_differ_by_at_most_one() {
    for n_mq in 1..=20 {
        for n_cid in 1..=9 {
            let (m, c) = (queues("b", n_mq), cids(n_cid));
            let shares: Vec<Vec<i32>> = c.iter().map(|cid| share(cid, &m, &c)).collect();
            let mut all: Vec<i32> = shares.concat();
            all.sort();
            assert_eq!(
                all,
                (0..n_mq).collect::<Vec<_>>(),
                "{n_mq} queues, {n_cid} consumers: shares {shares:?}{}",
                why(
                    "every queue is read by exactly one member of the group",
                    CHAPTER
                )
            );
            let sizes: Vec<usize> = shares.iter().map(Vec::len).collect();
            assert!(
                sizes.windows(2).all(|w| w[0] >= w[1] && w[0] - w[1] <= 1),
                "{n_mq} queues, {n_cid} consumers: share sizes {sizes:?}{}",
                why(
                    "sizes never grow down the consumer list and differ by at most one",
                    CHAPTER
                )
            );
        }
    }
}

#[test]
fn queues_sort_by_topic_then_broker_then_numeric_queue_id() {
    let mut m = vec![
        MessageQueue::new("T", "RaftNode01", 0),
        MessageQueue::new("T", "RaftNode00", 10),
        MessageQueue::new("T", "RaftNode00", 2),
        MessageQueue::new("A", "RaftNode01", 5),
    ];
    let mut c = vec!["c10".to_string(), "c9".to_string(), "c1".to_string()];
    sort_for_allocation(&mut m, &mut c);
    let got: Vec<String> = m.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "A/RaftNode01/5",
            "T/RaftNode00/2",
            "T/RaftNode00/10",
            "T/RaftNode01/0"
        ],
        "{}",
        why(
            "MessageQueue.compareTo orders by topic, then broker name, then queue id as a \
             number (2 before 10)",
            "part2/rebalancing.md#lab"
        )
    );
    assert_eq!(
        c,
        ["c1", "c10", "c9"],
        "{}",
        why(
            "client ids sort as strings (String.compareTo), so \"c10\" comes before \"c9\"",
            "part2/rebalancing.md#lab"
        )
    );
}

#[test]
fn two_brokers_three_consumers_like_the_book() {
    // The book's `Even` topic: 2 queues on each of 2 brokers, consumers c1 < c2 < c3.
    let mut m = [queues("N01", 2), queues("N00", 2)].concat();
    let mut c = vec!["c3".to_string(), "c1".to_string(), "c2".to_string()];
    sort_for_allocation(&mut m, &mut c);
    let mine = |cid: &str| -> Vec<String> {
        allocate_averagely(cid, &m, &c)
            .expect("valid arguments")
            .iter()
            .map(|q| format!("{}/{}", q.broker_name, q.queue_id))
            .collect()
    };
    let rule = why(
        "sorted queues N00/0 N00/1 N01/0 N01/1; 4 % 3 = 1 so c1 takes two, c2 and c3 one each",
        CHAPTER,
    );
    assert_eq!(mine("c1"), ["N00/0", "N00/1"], "c1{rule}");
    assert_eq!(mine("c2"), ["N01/0"], "c2{rule}");
    assert_eq!(mine("c3"), ["N01/1"], "c3{rule}");
}

/// The lab and `rmq_client` (which the book's consumers run, and which interoperates with Java
/// consumers in one group) must compute the same shares for any group.
#[test]
fn agrees_with_rmq_client_on_random_groups() {
    let mut rng = Rng::new(0x0404);
    for round in 0..500 {
        let brokers = ["RaftNode00", "RaftNode01", "broker-a", "b"];
        let n_brokers = 1 + rng.below(3) as usize;
        let mut m = Vec::new();
        for b in &brokers[..n_brokers] {
            for q in 0..rng.range(1, 16) as i32 {
                m.push(MessageQueue::new("Topic", b, q));
            }
        }
        let n_cid = 1 + rng.below(12) as usize;
        let mut c: Vec<String> = (0..n_cid)
            .map(|i| format!("127.0.0.{}@{}", rng.range(1, 20), 1000 + i))
            .collect();
        // scramble, as a route and a consumer list arrive in any order
        for i in (1..m.len()).rev() {
            m.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let mut prod_m: Vec<rmq_remoting::protocol::MessageQueue> = m
            .iter()
            .map(|q| rmq_remoting::protocol::MessageQueue {
                topic: q.topic.clone(),
                broker_name: q.broker_name.clone(),
                queue_id: q.queue_id,
            })
            .collect();
        let mut prod_c = c.clone();
        sort_for_allocation(&mut m, &mut c);
        prod_m.sort();
        prod_c.sort();
        for cid in &c {
            let ours: Vec<String> = allocate_averagely(cid, &m, &c)
                .expect("valid arguments")
                .iter()
                .map(|q| format!("{}/{}", q.broker_name, q.queue_id))
                .collect();
            let theirs: Vec<String> =
                rmq_client::consumer::allocate::allocate_averagely(cid, &prod_m, &prod_c)
                    .iter()
                    .map(|q| format!("{}/{}", q.broker_name, q.queue_id))
                    .collect();
            assert_eq!(
                ours,
                theirs,
                "round {round} (LAB_SEED={}), consumer {cid} of {c:?}, {} queues{}",
                rng.seed,
                m.len(),
                why(
                    "the share must equal what rmq_client (and 4.8.0's Java client) computes",
                    CHAPTER
                )
            );
        }
    }
}
