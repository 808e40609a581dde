//! The chaos experiment's checker: what the records of every send and every delivery say
//! about the cluster after all the faults.
//!
//! * **lost**: acknowledged (SEND_OK) but never delivered. Must be 0.
//! * **phantoms**: delivered but never sent by anyone. Must be 0.
//! * **misplaced**: acknowledged at (group, queue, offset) but never delivered from that
//!   position (a new leader that renumbered a queue would show here). Must be 0.
//! * **order**: for every producer and queue, acknowledged offsets rise with the producer's
//!   sequence (sync sends, so each was acknowledged before the next began). Must hold.
//! * **duplicates / re-deliveries**: deliveries beyond the first of a body (allowed: push
//!   consumers are at-least-once), counted per fault.
//! * **unacknowledged but delivered**: a send that failed on the client side (a timeout, a
//!   leader change) after the group had stored it. Allowed, counted.
//! * per fault, the longest time without an acknowledgement (writes) and without a delivery
//!   (reads) from the affected group, from the fault's start until it is healed and settled.
//!
//! Every producer counts alike, ours and the official Java client's: the verdict also splits
//! the counts per producer and per client library.
//!
//! Book: Part IV, "Breaking it on purpose". Mirrors the checker of OpenMessaging-Chaos
//! (lost, duplicated, out-of-order messages).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::cluster::GROUPS;
use super::nemesis::FaultKind;
use super::workload::{Client, Delivery, Outcome, SendRecord};

/// One fault as it happened.
#[derive(Debug, Clone, Serialize)]
pub struct FaultRecord {
    /// 1, 2, ...
    pub n: usize,
    /// What kind.
    pub kind: FaultKind,
    /// The group it aimed at (None: the whole cluster).
    pub group: Option<usize>,
    /// What exactly was done.
    pub detail: String,
    /// Who led the group (or "-") when it started.
    pub leader_before: String,
    /// Start, heal and end (the next fault's start) in ms since t0.
    pub start_ms: f64,
    /// The start as wall-clock time (ms since the Unix epoch), to find it in server logs.
    pub start_unix_ms: i64,
    /// When it was healed.
    pub heal_ms: f64,
    /// When the next fault started (or the run ended).
    pub end_ms: f64,
    /// Servers started again at heal.
    pub restarted: Vec<String>,
    /// Longest stretch without an acknowledged send to the affected group(s), ms.
    pub write_outage_ms: f64,
    /// Longest stretch without a delivery from the affected group(s), ms.
    pub read_outage_ms: f64,
    /// Deliveries of already delivered bodies between this fault's start and the next one.
    pub redeliveries: u64,
    /// Sends that failed (after the client's retries) in that span.
    pub failed_sends: u64,
}

/// The verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// Sends attempted.
    pub sends: usize,
    /// Acknowledged with SEND_OK.
    pub acked: usize,
    /// Failed (error or another status).
    pub failed: usize,
    /// Deliveries in all.
    pub deliveries: usize,
    /// Distinct bodies delivered.
    pub delivered_distinct: usize,
    /// Acknowledged but never delivered: must be 0.
    pub lost: usize,
    /// Up to 20 of them.
    pub lost_examples: Vec<String>,
    /// Delivered but never sent: must be 0.
    pub phantoms: usize,
    /// Acknowledged at a position that never delivered it: must be 0.
    pub misplaced: usize,
    /// Up to 20 of them: body and acknowledged position.
    pub misplaced_examples: Vec<String>,
    /// Acknowledged offsets of a producer that went down within a queue: must be 0.
    pub order_violations: usize,
    /// Deliveries beyond the first of a body.
    pub duplicates: usize,
    /// Failed sends whose body was delivered anyway.
    pub unacked_delivered: usize,
    /// The same counts per client library (ours first).
    pub by_client: Vec<Counts>,
    /// The same counts per producer (ours first, then by name).
    pub by_producer: Vec<Counts>,
}

/// What the checker counted for one producer, or for all producers of one client library.
#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    /// The producer's name (`p0`, `j0`), or the client library's (`ours`, `java`).
    pub name: String,
    /// The client library.
    pub client: Client,
    /// Producers counted (1 for one producer).
    pub producers: usize,
    /// Sends attempted.
    pub sends: usize,
    /// Acknowledged with SEND_OK.
    pub acked: usize,
    /// Failed (error or another status).
    pub failed: usize,
    /// Acknowledged but never delivered.
    pub lost: usize,
    /// Acknowledged at a position that never delivered it.
    pub misplaced: usize,
    /// Acknowledged offsets that went down within a queue.
    pub order_violations: usize,
    /// Deliveries beyond the first of its bodies.
    pub duplicates: usize,
    /// Failed sends whose body was delivered anyway.
    pub unacked_delivered: usize,
}

impl Counts {
    fn new(name: &str, client: Client) -> Counts {
        Counts {
            name: name.to_string(),
            client,
            producers: 1,
            sends: 0,
            acked: 0,
            failed: 0,
            lost: 0,
            misplaced: 0,
            order_violations: 0,
            duplicates: 0,
            unacked_delivered: 0,
        }
    }

    fn add(&mut self, o: &Counts) {
        self.producers += o.producers;
        self.sends += o.sends;
        self.acked += o.acked;
        self.failed += o.failed;
        self.lost += o.lost;
        self.misplaced += o.misplaced;
        self.order_violations += o.order_violations;
        self.duplicates += o.duplicates;
        self.unacked_delivered += o.unacked_delivered;
    }
}

impl Verdict {
    /// Whether every safety property holds.
    pub fn ok(&self) -> bool {
        self.lost == 0 && self.phantoms == 0 && self.misplaced == 0 && self.order_violations == 0
    }
}

// ANCHOR: verdict
/// Checks the records.
pub fn verdict(sends: &[SendRecord], deliveries: &[Delivery]) -> Verdict {
    let sent: HashSet<&str> = sends.iter().map(|s| s.body.as_str()).collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    let mut positions: HashSet<(&str, &str, i32, i64)> = HashSet::new();
    for d in deliveries {
        *count.entry(d.body.as_str()).or_default() += 1;
        positions.insert((d.body.as_str(), d.broker.as_str(), d.queue, d.offset));
    }
    let mut v = Verdict {
        sends: sends.len(),
        acked: 0,
        failed: 0,
        deliveries: deliveries.len(),
        delivered_distinct: count.len(),
        lost: 0,
        lost_examples: Vec::new(),
        phantoms: count.keys().filter(|b| !sent.contains(*b)).count(),
        misplaced: 0,
        misplaced_examples: Vec::new(),
        order_violations: 0,
        duplicates: count.values().map(|c| c - 1).sum(),
        unacked_delivered: 0,
        by_client: Vec::new(),
        by_producer: Vec::new(),
    };
    // (producer, group, queue) -> last acknowledged offset
    let mut last: HashMap<(&str, &str, i32), i64> = HashMap::new();
    let mut per: BTreeMap<(Client, &str), Counts> = BTreeMap::new();
    for s in sends {
        let body = s.body.as_str();
        let p = per
            .entry((s.client, s.producer.as_str()))
            .or_insert_with(|| Counts::new(&s.producer, s.client));
        p.sends += 1;
        p.duplicates += count.get(body).map_or(0, |c| c - 1);
        match &s.outcome {
            Outcome::Acked {
                broker,
                queue,
                offset,
            } => {
                p.acked += 1;
                if !count.contains_key(body) {
                    p.lost += 1;
                    if v.lost_examples.len() < 20 {
                        v.lost_examples.push(body[..body.len().min(16)].to_string());
                    }
                } else if !positions.contains(&(body, broker.as_str(), *queue, *offset)) {
                    p.misplaced += 1;
                    if v.misplaced_examples.len() < 20 {
                        v.misplaced_examples.push(format!(
                            "{} at {broker}/{queue}/{offset}",
                            &body[..body.len().min(16)]
                        ));
                    }
                }
                let key = (s.producer.as_str(), broker.as_str(), *queue);
                if let Some(prev) = last.insert(key, *offset) {
                    if *offset <= prev {
                        p.order_violations += 1;
                    }
                }
            }
            Outcome::Failed => {
                p.failed += 1;
                if count.contains_key(body) {
                    p.unacked_delivered += 1;
                }
            }
        }
    }
    totals(&mut v, per);
    v
}
// ANCHOR_END: verdict

/// Fills in the verdict's totals from the per-producer counts.
fn totals(v: &mut Verdict, per: BTreeMap<(Client, &str), Counts>) {
    let mut by_client: BTreeMap<Client, Counts> = BTreeMap::new();
    for ((client, _), p) in &per {
        let c = by_client.entry(*client).or_insert_with(|| {
            let mut c = Counts::new(client.name(), *client);
            c.producers = 0;
            c
        });
        c.add(p);
    }
    v.acked = per.values().map(|p| p.acked).sum();
    v.failed = per.values().map(|p| p.failed).sum();
    v.lost = per.values().map(|p| p.lost).sum();
    v.misplaced = per.values().map(|p| p.misplaced).sum();
    v.order_violations = per.values().map(|p| p.order_violations).sum();
    v.unacked_delivered = per.values().map(|p| p.unacked_delivered).sum();
    v.by_client = by_client.into_values().collect();
    v.by_producer = per.into_values().collect();
}

/// The longest gap between consecutive times in `times` (sorted) that begins within
/// `[from, to]`, counting from `from` to the first time after it. A gap that begins in the
/// window runs until the next time, even past `to`; with no time after it, until `to`.
fn longest_gap(times: &[f64], from: f64, to: f64) -> f64 {
    let start = times.partition_point(|t| *t < from);
    let mut prev = from;
    let mut worst = 0.0f64;
    for &t in &times[start..] {
        worst = worst.max(t - prev);
        if t > to {
            return worst;
        }
        prev = t;
    }
    worst.max(to - prev)
}

/// Fills in each fault's outages, re-deliveries and failed sends. `settle_ms` after the heal
/// still counts (a group may come back only then).
pub fn per_fault(
    faults: &mut [FaultRecord],
    sends: &[SendRecord],
    deliveries: &[Delivery],
    settle_ms: f64,
) {
    // per group: sorted ack times and delivery times
    let mut acks: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for s in sends {
        if let Outcome::Acked { broker, .. } = &s.outcome {
            acks.entry(broker.as_str()).or_default().push(s.end_ms);
        }
    }
    let mut reads: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut repeats: Vec<f64> = Vec::new();
    let mut ordered: Vec<&Delivery> = deliveries.iter().collect();
    ordered.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    for d in ordered {
        reads.entry(d.broker.as_str()).or_default().push(d.at_ms);
        if !seen.insert(d.body.as_str()) {
            repeats.push(d.at_ms);
        }
    }
    for v in acks.values_mut() {
        v.sort_by(f64::total_cmp);
    }
    let mut failed: Vec<f64> = sends
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed))
        .map(|s| s.end_ms)
        .collect();
    failed.sort_by(f64::total_cmp);
    let count_in = |v: &[f64], a: f64, b: f64| {
        (v.partition_point(|t| *t < b) - v.partition_point(|t| *t < a)) as u64
    };
    for f in faults.iter_mut() {
        let groups: Vec<&str> = match f.group {
            Some(g) => vec![GROUPS[g]],
            None => GROUPS.to_vec(),
        };
        let to = (f.heal_ms + settle_ms).min(f.end_ms);
        let empty = Vec::new();
        f.write_outage_ms = groups
            .iter()
            .map(|g| longest_gap(acks.get(g).unwrap_or(&empty), f.start_ms, to))
            .fold(0.0, f64::max)
            .round();
        f.read_outage_ms = groups
            .iter()
            .map(|g| longest_gap(reads.get(g).unwrap_or(&empty), f.start_ms, to))
            .fold(0.0, f64::max)
            .round();
        f.redeliveries = count_in(&repeats, f.start_ms, f.end_ms);
        f.failed_sends = count_in(&failed, f.start_ms, f.end_ms);
    }
}

/// Outage statistics of one fault kind.
#[derive(Debug, Clone, Serialize)]
pub struct KindStats {
    /// The kind.
    pub kind: FaultKind,
    /// How many faults of it.
    pub count: usize,
    /// Write outage: median, 90th percentile and maximum, ms.
    pub write_p50_ms: f64,
    /// 90th percentile.
    pub write_p90_ms: f64,
    /// Maximum.
    pub write_max_ms: f64,
    /// Read outage: median, ms.
    pub read_p50_ms: f64,
    /// Read outage: maximum, ms.
    pub read_max_ms: f64,
    /// Re-deliveries in all.
    pub redeliveries: u64,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Per kind statistics, in [`FaultKind::ALL`] order (kinds that did not occur left out).
pub fn by_kind(faults: &[FaultRecord]) -> Vec<KindStats> {
    FaultKind::ALL
        .iter()
        .filter_map(|k| {
            let of: Vec<&FaultRecord> = faults.iter().filter(|f| f.kind == *k).collect();
            if of.is_empty() {
                return None;
            }
            let mut w: Vec<f64> = of.iter().map(|f| f.write_outage_ms).collect();
            let mut r: Vec<f64> = of.iter().map(|f| f.read_outage_ms).collect();
            w.sort_by(f64::total_cmp);
            r.sort_by(f64::total_cmp);
            Some(KindStats {
                kind: *k,
                count: of.len(),
                write_p50_ms: pct(&w, 0.5),
                write_p90_ms: pct(&w, 0.9),
                write_max_ms: pct(&w, 1.0),
                read_p50_ms: pct(&r, 0.5),
                read_max_ms: pct(&r, 1.0),
                redeliveries: of.iter().map(|f| f.redeliveries).sum(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(p: usize, seq: u64, acked: Option<(i32, i64)>) -> SendRecord {
        SendRecord {
            producer: format!("p{p}"),
            client: Client::Ours,
            body: format!("p{p}-{seq:08}"),
            end_ms: seq as f64 + 1.0,
            outcome: match acked {
                Some((queue, offset)) => Outcome::Acked {
                    broker: "RaftNode00".into(),
                    queue,
                    offset,
                },
                None => Outcome::Failed,
            },
        }
    }

    fn got(body: &str, queue: i32, offset: i64) -> Delivery {
        Delivery {
            body: body.into(),
            broker: "RaftNode00".into(),
            queue,
            offset,
            at_ms: 0.0,
        }
    }

    #[test]
    fn finds_loss_phantoms_misplacement_and_disorder() {
        let sends = vec![
            send(0, 0, Some((0, 5))),
            send(0, 1, Some((0, 4))), // went down: disorder
            send(0, 2, Some((1, 0))), // never delivered: lost
            send(0, 3, None),         // failed, delivered anyway
            send(0, 4, Some((1, 1))), // delivered elsewhere: misplaced
        ];
        let deliveries = vec![
            got("p0-00000000", 0, 5),
            got("p0-00000000", 0, 5),
            got("p0-00000001", 0, 4),
            got("p0-00000003", 2, 0),
            got("p0-00000004", 1, 7),
            got("never-sent", 3, 0),
        ];
        let v = verdict(&sends, &deliveries);
        assert_eq!((v.acked, v.failed), (4, 1));
        assert_eq!(v.lost, 1);
        assert_eq!(v.phantoms, 1);
        assert_eq!(v.misplaced, 1);
        assert_eq!(v.order_violations, 1);
        assert_eq!(v.duplicates, 1);
        assert_eq!(v.unacked_delivered, 1);
        assert!(!v.ok());
    }

    #[test]
    fn counts_java_producers_like_ours() {
        let mut j = send(0, 1, Some((0, 6)));
        j.producer = "j0".into();
        j.client = Client::Java;
        j.body = "j0-00000001".into();
        let mut j_lost = send(0, 2, Some((1, 3)));
        j_lost.producer = "j0".into();
        j_lost.client = Client::Java;
        j_lost.body = "j0-00000002".into();
        // the same queue as p0, a lower offset: order holds per producer
        let sends = vec![send(0, 0, Some((0, 7))), j, j_lost, send(1, 0, None)];
        let deliveries = vec![got("p0-00000000", 0, 7), got("j0-00000001", 0, 6)];
        let v = verdict(&sends, &deliveries);
        assert_eq!((v.sends, v.acked, v.failed, v.lost), (4, 3, 1, 1));
        assert_eq!(v.order_violations, 0);
        let names: Vec<&str> = v.by_producer.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["p0", "p1", "j0"]);
        assert_eq!(v.by_client.len(), 2);
        let (ours, java) = (&v.by_client[0], &v.by_client[1]);
        assert_eq!(
            (ours.client, ours.producers, ours.sends, ours.acked),
            (Client::Ours, 2, 2, 1)
        );
        assert_eq!(
            (java.client, java.producers, java.acked, java.lost),
            (Client::Java, 1, 2, 1)
        );
        assert_eq!(v.lost_examples, ["j0-00000002"]);
    }

    #[test]
    fn longest_gap_counts_from_the_fault_start() {
        let t = [0.0, 10.0, 20.0, 900.0, 910.0, 2000.0];
        // 910 -> 2000 begins inside the window
        assert_eq!(longest_gap(&t, 15.0, 1000.0), 1090.0);
        assert_eq!(longest_gap(&t, 0.0, 15.0), 10.0);
        assert_eq!(longest_gap(&t, 950.0, 1000.0), 1050.0);
        // nothing after the window start: until its end
        assert_eq!(longest_gap(&t, 2100.0, 2500.0), 400.0);
    }
}
