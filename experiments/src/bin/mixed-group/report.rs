//! What a mixed-group run found, and how it is written: the per-kill records, the leaderships
//! as the name server showed them, the verdict, the 100 ms timeline, the CSV/JSON files and the
//! chart.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Result};
use plotters::style::RGBColor;
use serde::Serialize;

use experiments::timeline::{leader_timeline_chart, TimelineEvent, TimelineRow};
use experiments::{write_csv, write_json};

use crate::acks::Ack;
use crate::members::Kind;
use crate::Params;

/// One kill and what followed.
#[derive(Debug, Clone, Serialize)]
pub struct KillRecord {
    pub n: usize,
    pub killed: String,
    pub killed_kind: Kind,
    /// The follower killed just before the leader and restarted after it (steering), if any.
    pub steered_down: Option<String>,
    /// The member the harness wanted to win (steering), if any.
    pub wanted: Option<String>,
    pub new_leader: String,
    pub new_leader_kind: Kind,
    pub kill_at_s: f64,
    pub restart_at_s: f64,
    /// Kill -> the name server lists the new brokerId 0.
    pub new_leader_visible_ms: f64,
    /// When the kill happened (epoch ms).
    #[serde(skip)]
    pub kill_ms: u64,
    /// The killed leader's address.
    #[serde(skip)]
    pub killed_addr: String,
    /// Kill -> first acknowledgement of a send begun after the kill.
    pub writes_back_ms: f64,
    /// Failed sends between the kill and that first acknowledgement.
    pub failed_sends: usize,
    /// Messages acknowledged before the kill.
    pub acked_before: usize,
    /// ... that the new leader did not serve (must be 0).
    pub missing_on_new_leader: usize,
    /// Time from "new leader listed" until a read from it had them all.
    pub new_leader_complete_ms: f64,
}

impl KillRecord {
    /// Fills in what only the producers' files tell: when writes came back, and how many
    /// sends failed until then. Sends begun after the kill can only be stored by the new
    /// leader.
    pub fn account(&mut self, acked: &[Ack], errors: &[u64]) {
        let first_after = acked
            .iter()
            .filter(|a| a.sent_ms > self.kill_ms)
            .map(|a| a.at_ms)
            .min();
        self.writes_back_ms = first_after
            .map(|t| t.saturating_sub(self.kill_ms) as f64)
            .unwrap_or(f64::NAN);
        let until = first_after.unwrap_or(u64::MAX);
        self.failed_sends = errors
            .iter()
            .filter(|e| **e >= self.kill_ms && **e <= until)
            .count();
    }
}

impl KillRecord {
    /// Replaces the controller's own measure of "new leader listed" by the monitor's, which
    /// polls every 100 ms even while the controller waits for a restart.
    pub fn visible_from(&mut self, seen: &[Option<String>], sample_ms: u64) {
        let from = (self.kill_at_s * 1000.0 / sample_ms as f64) as usize;
        let first =
            (from..seen.len()).find(|b| matches!(&seen[*b], Some(a) if *a != self.killed_addr));
        if let Some(b) = first {
            self.new_leader_visible_ms =
                ((b as u64 * sample_ms) as f64 - self.kill_at_s * 1000.0).max(0.0);
        }
    }
}

/// One leadership as the name server showed it.
#[derive(Debug, Clone, Serialize)]
pub struct Leadership {
    pub node: String,
    pub kind: Kind,
    pub from_s: f64,
    pub to_s: f64,
    /// Sends acknowledged while it was brokerId 0.
    pub acked: usize,
}

/// The live replacement of a Java member by ours.
#[derive(Debug, Clone, Serialize)]
pub struct Replacement {
    pub node: String,
    pub at_s: f64,
    /// SIGTERM to the Java broker -> our broker listed by the name server again.
    pub rejoined_after_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub params: Params,
    pub duration_s: f64,
    pub acked: usize,
    pub failed_sends: usize,
    /// Where the official Java pull consumer read at the end.
    pub final_leader: String,
    /// Its summary line (`verify: read=… missing=…`).
    pub verify_line: String,
    pub stored_read: u64,
    pub stored_distinct: u64,
    /// Acknowledged but not read on the final leader: must be 0.
    pub lost: u64,
    pub replacement: Option<Replacement>,
    pub kills: Vec<KillRecord>,
    pub leaderships: Vec<Leadership>,
    pub led_by_java: usize,
    pub led_by_ours: usize,
    /// Acknowledged sends per second before the harness did anything.
    pub mean_acked_per_s: f64,
}

impl Summary {
    /// Fails the run if an acknowledged message is missing anywhere, or if not both kinds led.
    pub fn verdict(&self) -> Result<()> {
        if self.lost > 0 || self.verify_line.is_empty() {
            bail!(
                "{} acknowledged messages missing on the final leader ({})",
                self.lost,
                self.verify_line
            );
        }
        if let Some(k) = self.kills.iter().find(|k| k.missing_on_new_leader > 0) {
            bail!(
                "kill {}: new leader {} did not serve {} messages acknowledged before the kill",
                k.n,
                k.new_leader,
                k.missing_on_new_leader
            );
        }
        if self.led_by_java == 0 || (self.led_by_ours == 0 && !self.params.all_java) {
            bail!(
                "leaders: {} Java, {} ours; both kinds must lead at some point",
                self.led_by_java,
                self.led_by_ours
            );
        }
        Ok(())
    }

    pub fn print(&self) {
        println!(
            "acked {} | lost {} | failed sends {} | final leader {} | {}",
            self.acked, self.lost, self.failed_sends, self.final_leader, self.verify_line
        );
        if let Some(r) = &self.replacement {
            println!(
                "replaced {} at {:.1}s: ours listed {:.1} s after the Java broker's SIGTERM",
                r.node,
                r.at_s,
                r.rejoined_after_ms / 1000.0
            );
        }
        for k in &self.kills {
            println!(
                "kill {} at {:.1}s: {} -> {} (listed after {:.1} s, writes back after {:.1} s); \
                 it served {}/{} messages acknowledged before the kill",
                k.n,
                k.kill_at_s,
                k.killed,
                k.new_leader,
                k.new_leader_visible_ms / 1000.0,
                k.writes_back_ms / 1000.0,
                k.acked_before - k.missing_on_new_leader,
                k.acked_before
            );
        }
        println!(
            "leaderships: {} by Java 4.8.0, {} by ours",
            self.led_by_java, self.led_by_ours
        );
    }
}

/// One 100 ms sample of the run.
pub struct Row {
    pub t_s: f64,
    pub acked_per_s: f64,
    pub failed_per_s: f64,
    /// Node name of brokerId 0, or "-".
    pub leader: String,
    /// "java", "ours" or "-".
    pub leader_kind: String,
}

/// What a run recorded: the monitor's view and the producers' files.
pub struct Observed<'a> {
    /// brokerId 0's address per bucket (None: the name server listed none).
    pub leaders: &'a [Option<String>],
    pub buckets: usize,
    pub sample_ms: u64,
    /// Epoch ms of bucket 0.
    pub t0_ms: u64,
    pub acked: &'a [Ack],
    /// Epoch ms of each failed send.
    pub errors: &'a [u64],
}

/// Builds the 100 ms rows from what was observed. `kind_at(addr, t_s)` says which
/// implementation ran at that address then (the replaced member changes).
pub fn timeline(
    o: &Observed,
    name_of: &HashMap<String, String>,
    kind_at: &dyn Fn(&str, f64) -> Kind,
) -> Vec<Row> {
    let (buckets, sample_ms, leaders) = (o.buckets, o.sample_ms, o.leaders);
    let bucket_of = |ms: u64| (ms.saturating_sub(o.t0_ms) / sample_ms) as usize;
    let mut acks = vec![0usize; buckets];
    for a in o.acked {
        if let Some(c) = acks.get_mut(bucket_of(a.at_ms)) {
            *c += 1;
        }
    }
    let mut errs = vec![0usize; buckets];
    for e in o.errors {
        if let Some(c) = errs.get_mut(bucket_of(*e)) {
            *c += 1;
        }
    }
    let rate = 1000.0 / sample_ms as f64;
    let mut last: Option<String> = None;
    (0..buckets)
        .map(|b| {
            let t = (b as u64 * sample_ms) as f64 / 1000.0;
            match leaders.get(b) {
                Some(Some(a)) => last = Some(a.clone()),
                Some(None) => last = None,
                None => {}
            }
            let (leader, leader_kind) = match &last {
                Some(a) => (
                    name_of.get(a).cloned().unwrap_or_else(|| a.clone()),
                    kind_name(kind_at(a, t)).to_string(),
                ),
                None => ("-".to_string(), "-".to_string()),
            };
            Row {
                t_s: t,
                acked_per_s: acks[b] as f64 * rate,
                failed_per_s: errs[b] as f64 * rate,
                leader,
                leader_kind,
            }
        })
        .collect()
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Java => "java",
        Kind::Ours => "ours",
    }
}

/// Runs of equal brokerId 0 (gaps of "-" end a run).
pub fn leaderships(rows: &[Row], sample_ms: u64) -> Vec<Leadership> {
    let step = sample_ms as f64 / 1000.0;
    let mut out: Vec<Leadership> = Vec::new();
    for r in rows.iter().filter(|r| r.leader != "-") {
        let acked = (r.acked_per_s * step).round() as usize;
        match out.last_mut() {
            Some(l) if l.node == r.leader && r.t_s - l.to_s < step * 1.5 => {
                l.to_s = r.t_s + step;
                l.acked += acked;
            }
            _ => out.push(Leadership {
                node: r.leader.clone(),
                kind: if r.leader_kind == "ours" {
                    Kind::Ours
                } else {
                    Kind::Java
                },
                from_s: r.t_s,
                to_s: r.t_s + step,
                acked,
            }),
        }
    }
    out
}

/// Colour and legend of a timeline band ("n0 java", "n2 ours"): Java members in blues and
/// purple, ours in green whatever its node.
fn band_style(key: &str) -> (RGBColor, String) {
    let (node, kind) = key.split_once(' ').unwrap_or((key, ""));
    let color = match (node, kind) {
        (_, "ours") => RGBColor(44, 160, 44),
        ("n0", _) => RGBColor(31, 119, 180),
        ("n1", _) => RGBColor(23, 190, 207),
        _ => RGBColor(148, 103, 189),
    };
    let who = if kind == "ours" { "ours" } else { "Java 4.8.0" };
    (color, format!("brokerId 0 = {node} ({who})"))
}

/// timeline.csv, kills.csv, leaders.csv, summary.json and timeline.svg into `dir`.
pub fn write_outputs(
    dir: &Path,
    s: &Summary,
    rows: &[Row],
    events: &[TimelineEvent],
) -> Result<()> {
    write_csv(
        &dir.join("timeline.csv"),
        &[
            "t_s",
            "acked_per_s",
            "failed_per_s",
            "broker_id_0",
            "broker_id_0_kind",
        ],
        &rows
            .iter()
            .map(|r| {
                vec![
                    format!("{:.1}", r.t_s),
                    format!("{:.0}", r.acked_per_s),
                    format!("{:.0}", r.failed_per_s),
                    r.leader.clone(),
                    r.leader_kind.clone(),
                ]
            })
            .collect::<Vec<_>>(),
    )?;
    write_csv(
        &dir.join("kills.csv"),
        &[
            "kill",
            "killed",
            "steered_down",
            "new_leader",
            "kill_at_s",
            "new_leader_visible_ms",
            "writes_back_ms",
            "failed_sends",
            "acked_before",
            "missing_on_new_leader",
            "restart_at_s",
        ],
        &s.kills
            .iter()
            .map(|k| {
                vec![
                    k.n.to_string(),
                    k.killed.clone(),
                    k.steered_down.clone().unwrap_or_default(),
                    k.new_leader.clone(),
                    format!("{:.1}", k.kill_at_s),
                    format!("{:.0}", k.new_leader_visible_ms),
                    format!("{:.0}", k.writes_back_ms),
                    k.failed_sends.to_string(),
                    k.acked_before.to_string(),
                    k.missing_on_new_leader.to_string(),
                    format!("{:.1}", k.restart_at_s),
                ]
            })
            .collect::<Vec<_>>(),
    )?;
    write_csv(
        &dir.join("leaders.csv"),
        &["node", "kind", "from_s", "to_s", "acked"],
        &s.leaderships
            .iter()
            .map(|l| {
                vec![
                    l.node.clone(),
                    kind_name(l.kind).to_string(),
                    format!("{:.1}", l.from_s),
                    format!("{:.1}", l.to_s),
                    l.acked.to_string(),
                ]
            })
            .collect::<Vec<_>>(),
    )?;
    write_json(&dir.join("summary.json"), s)?;
    let chart_rows: Vec<TimelineRow> = rows
        .iter()
        .map(|r| TimelineRow {
            t_s: r.t_s,
            acked_per_s: r.acked_per_s,
            leader: if r.leader == "-" {
                "-".to_string()
            } else {
                format!("{} {}", r.leader, r.leader_kind)
            },
        })
        .collect();
    leader_timeline_chart(
        &dir.join("timeline.svg"),
        &format!(
            "Java 4.8.0 and ours in one DLedger group: {} acked, {} lost",
            s.acked, s.lost
        ),
        &chart_rows,
        events,
        &band_style,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_buckets_acks_and_follows_the_leader() {
        let acked: Vec<Ack> = [1_050u64, 1_060, 1_250]
            .iter()
            .map(|t| Ack {
                at_ms: *t,
                sent_ms: t - 5,
                body: format!("b{t}"),
            })
            .collect();
        let leaders = vec![
            Some("a:1".to_string()),
            None,
            Some("a:2".to_string()),
            Some("a:2".to_string()),
        ];
        let names: HashMap<String, String> = [("a:1", "n0"), ("a:2", "n2")]
            .iter()
            .map(|(a, n)| (a.to_string(), n.to_string()))
            .collect();
        let kind = |a: &str, _t: f64| if a == "a:2" { Kind::Ours } else { Kind::Java };
        let o = Observed {
            leaders: &leaders,
            buckets: 4,
            sample_ms: 100,
            t0_ms: 1_000,
            acked: &acked,
            errors: &[1_150],
        };
        let rows = timeline(&o, &names, &kind);
        assert_eq!(rows[0].acked_per_s, 20.0);
        assert_eq!(rows[1].failed_per_s, 10.0);
        assert_eq!(
            (rows[1].leader.as_str(), rows[2].leader_kind.as_str()),
            ("-", "ours")
        );
        let ls = leaderships(&rows, 100);
        assert_eq!(ls.len(), 2);
        assert_eq!(
            (ls[1].node.as_str(), ls[1].kind, ls[1].acked),
            ("n2", Kind::Ours, 1)
        );
    }

    #[test]
    fn a_kill_is_accounted_from_sends_begun_after_it() {
        let mut k = KillRecord {
            n: 1,
            killed: "n0 (Java 4.8.0)".into(),
            killed_kind: Kind::Java,
            steered_down: None,
            wanted: None,
            new_leader: "n2 (ours)".into(),
            new_leader_kind: Kind::Ours,
            kill_at_s: 1.0,
            restart_at_s: 2.0,
            new_leader_visible_ms: 100.0,
            kill_ms: 10_000,
            killed_addr: "a:1".into(),
            writes_back_ms: f64::NAN,
            failed_sends: 0,
            acked_before: 0,
            missing_on_new_leader: 0,
            new_leader_complete_ms: 0.0,
        };
        let ack = |sent_ms, at_ms| Ack {
            at_ms,
            sent_ms,
            body: String::new(),
        };
        // The first ack after the kill belongs to a send begun before it: not counted.
        k.account(
            &[ack(9_990, 10_020), ack(16_000, 16_500)],
            &[10_100, 12_000, 17_000],
        );
        assert_eq!(k.writes_back_ms, 6_500.0);
        assert_eq!(k.failed_sends, 2);
        // Killed at 1.0 s; the monitor lists the old leader, nothing, then another one.
        let seen: Vec<Option<String>> = (0..30)
            .map(|b| match b {
                0..=11 => Some("a:1".to_string()),
                12..=24 => None,
                _ => Some("a:2".to_string()),
            })
            .collect();
        k.visible_from(&seen, 100);
        assert_eq!(k.new_leader_visible_ms, 1_500.0);
    }
}
