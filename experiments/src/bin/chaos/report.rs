//! The chaos experiment's output: the raw tables (CSV), the summary (JSON), the timeline chart
//! (acknowledged sends per second of each group, with every fault as a shaded span) and the
//! outage chart (one dot per fault, by kind).
//!
//! Book: Part IV, "Breaking it on purpose" (the figures). No RocketMQ counterpart.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::text_anchor;

use super::checker::{FaultRecord, KindStats};
use super::cluster::GROUPS;
use super::nemesis::FaultKind;
use super::workload::{Delivery, Outcome, SendRecord};
use experiments::write_csv;

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("chart: {e:?}")
}

const BUCKET_S: f64 = 0.5;

/// One timeline bucket.
pub struct Bucket {
    /// Start of the bucket, s.
    pub t_s: f64,
    /// Acknowledged sends per second, per group.
    pub acked_per_s: [f64; 2],
    /// Deliveries per second, per group.
    pub delivered_per_s: [f64; 2],
    /// Who led each group at the bucket's start ("-": none listed).
    pub leader: [String; 2],
}

/// Buckets the records for the timeline.
pub fn buckets(
    sends: &[SendRecord],
    deliveries: &[Delivery],
    leaders: &[(f64, [String; 2])],
    end_ms: f64,
) -> Vec<Bucket> {
    let n = (end_ms / 1000.0 / BUCKET_S).ceil() as usize + 1;
    let mut out: Vec<Bucket> = (0..n)
        .map(|i| Bucket {
            t_s: i as f64 * BUCKET_S,
            acked_per_s: [0.0; 2],
            delivered_per_s: [0.0; 2],
            leader: [String::from("-"), String::from("-")],
        })
        .collect();
    let idx = |ms: f64| ((ms / 1000.0 / BUCKET_S) as usize).min(n - 1);
    let g = |b: &str| GROUPS.iter().position(|x| *x == b);
    for s in sends {
        if let Outcome::Acked { broker, .. } = &s.outcome {
            if let Some(g) = g(broker) {
                out[idx(s.end_ms)].acked_per_s[g] += 1.0 / BUCKET_S;
            }
        }
    }
    for d in deliveries {
        if let Some(g) = g(&d.broker) {
            out[idx(d.at_ms)].delivered_per_s[g] += 1.0 / BUCKET_S;
        }
    }
    let mut li = 0;
    for b in out.iter_mut() {
        while li + 1 < leaders.len() && leaders[li + 1].0 <= b.t_s * 1000.0 {
            li += 1;
        }
        if let Some((_, l)) = leaders.get(li) {
            b.leader = l.clone();
        }
    }
    out
}

/// `timeline.csv`.
pub fn write_timeline_csv(path: &Path, rows: &[Bucket]) -> Result<()> {
    let data: Vec<Vec<String>> = rows
        .iter()
        .map(|b| {
            vec![
                format!("{:.1}", b.t_s),
                format!("{:.0}", b.acked_per_s[0]),
                format!("{:.0}", b.acked_per_s[1]),
                format!("{:.0}", b.delivered_per_s[0]),
                format!("{:.0}", b.delivered_per_s[1]),
                b.leader[0].clone(),
                b.leader[1].clone(),
            ]
        })
        .collect();
    write_csv(
        path,
        &[
            "t_s",
            "acked_per_s_g0",
            "acked_per_s_g1",
            "delivered_per_s_g0",
            "delivered_per_s_g1",
            "leader_g0",
            "leader_g1",
        ],
        &data,
    )
}

/// `faults.csv`.
pub fn write_faults_csv(path: &Path, faults: &[FaultRecord]) -> Result<()> {
    let data: Vec<Vec<String>> = faults
        .iter()
        .map(|f| {
            vec![
                f.n.to_string(),
                f.kind.name().to_string(),
                f.group
                    .map(|g| GROUPS[g].to_string())
                    .unwrap_or_else(|| "all".into()),
                f.detail.clone(),
                f.leader_before.clone(),
                format!("{:.1}", f.start_ms / 1000.0),
                format!("{:.1}", f.heal_ms / 1000.0),
                format!("{:.0}", f.write_outage_ms),
                format!("{:.0}", f.read_outage_ms),
                f.redeliveries.to_string(),
                f.failed_sends.to_string(),
                f.restarted.join(" "),
            ]
        })
        .collect();
    write_csv(
        path,
        &[
            "n",
            "kind",
            "group",
            "detail",
            "leader_before",
            "start_s",
            "heal_s",
            "write_outage_ms",
            "read_outage_ms",
            "redeliveries",
            "failed_sends",
            "restarted",
        ],
        &data,
    )
}

/// `by_kind.csv`.
pub fn write_kinds_csv(path: &Path, kinds: &[KindStats]) -> Result<()> {
    let data: Vec<Vec<String>> = kinds
        .iter()
        .map(|k| {
            vec![
                k.kind.name().to_string(),
                k.count.to_string(),
                format!("{:.0}", k.write_p50_ms),
                format!("{:.0}", k.write_p90_ms),
                format!("{:.0}", k.write_max_ms),
                format!("{:.0}", k.read_p50_ms),
                format!("{:.0}", k.read_max_ms),
                k.redeliveries.to_string(),
            ]
        })
        .collect();
    write_csv(
        path,
        &[
            "kind",
            "faults",
            "write_outage_p50_ms",
            "write_outage_p90_ms",
            "write_outage_max_ms",
            "read_outage_p50_ms",
            "read_outage_max_ms",
            "redeliveries",
        ],
        &data,
    )
}

fn kind_color(k: FaultKind) -> RGBColor {
    const C: [RGBColor; 10] = [
        RGBColor(214, 39, 40),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(44, 160, 44),
        RGBColor(31, 119, 180),
        RGBColor(23, 190, 207),
        RGBColor(188, 189, 34),
        RGBColor(140, 86, 75),
        RGBColor(127, 127, 127),
        RGBColor(227, 119, 194),
    ];
    let i = FaultKind::ALL.iter().position(|x| *x == k).unwrap_or(0);
    C[i]
}

/// `timeline.svg`: one panel per group, acknowledged sends/s (black) and deliveries/s (blue);
/// faults aimed at the group (or at the whole cluster) as coloured spans from start to heal.
pub fn timeline_chart(path: &Path, rows: &[Bucket], faults: &[FaultRecord]) -> Result<()> {
    let t_end = rows.last().map(|r| r.t_s + BUCKET_S).unwrap_or(1.0);
    let width = (960.0_f64).max((t_end * 2.0).min(4000.0)) as u32;
    let root = SVGBackend::new(path, (width, 620)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let panels = root.split_evenly((2, 1));
    for (g, area) in panels.iter().enumerate() {
        let ymax = rows
            .iter()
            .map(|r| r.acked_per_s[g].max(r.delivered_per_s[g]))
            .fold(1.0f64, f64::max)
            * 1.25;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!(
                    "{}: acked sends/s (black), deliveries/s (blue), faults shaded",
                    GROUPS[g]
                ),
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..t_end, 0f64..ymax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("time (s)")
            .y_desc("per second")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(err)?;
        let mut labelled = std::collections::HashSet::new();
        for f in faults.iter().filter(|f| f.group.is_none_or(|x| x == g)) {
            let col = kind_color(f.kind);
            let (a, b) = (
                f.start_ms / 1000.0,
                (f.heal_ms / 1000.0).max(f.start_ms / 1000.0 + 0.2),
            );
            let anno = chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(a, 0.0), (b, ymax)],
                    col.mix(0.25).filled(),
                )))
                .map_err(err)?;
            if labelled.insert(f.kind) {
                anno.label(f.kind.name()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], col.mix(0.5).filled())
                });
            }
            chart
                .draw_series(std::iter::once(Text::new(
                    f.n.to_string(),
                    (a, ymax * 0.97),
                    ("sans-serif", 10)
                        .into_font()
                        .color(&col)
                        .pos(text_anchor::Pos::new(
                            text_anchor::HPos::Left,
                            text_anchor::VPos::Top,
                        )),
                )))
                .map_err(err)?;
        }
        chart
            .draw_series(LineSeries::new(
                rows.iter().map(|r| (r.t_s, r.delivered_per_s[g])),
                RGBColor(31, 119, 180).stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                rows.iter().map(|r| (r.t_s, r.acked_per_s[g])),
                BLACK.stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// `outages.svg`: for each fault kind, one dot per fault at its write outage (filled) and read
/// outage (hollow), on a log scale.
pub fn outage_chart(path: &Path, faults: &[FaultRecord]) -> Result<()> {
    let kinds: Vec<FaultKind> = FaultKind::ALL
        .iter()
        .copied()
        .filter(|k| faults.iter().any(|f| f.kind == *k))
        .collect();
    let ymax = faults
        .iter()
        .map(|f| f.write_outage_ms.max(f.read_outage_ms))
        .fold(1000.0f64, f64::max)
        * 1.5;
    let root = SVGBackend::new(path, (960, 460)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let n = kinds.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Outage per fault: writes (filled) and reads (hollow)",
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (5f64..ymax).log_scale())
        .map_err(err)?;
    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 0.01 && i >= 0.0 && (i as usize) < names.len() {
                names[i as usize].to_string()
            } else {
                String::new()
            }
        })
        .y_desc("longest stretch without an ack / a delivery (ms, log)")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(err)?;
    for (x, k) in kinds.iter().enumerate() {
        let col = kind_color(*k);
        let of: Vec<&FaultRecord> = faults.iter().filter(|f| f.kind == *k).collect();
        for (j, f) in of.iter().enumerate() {
            // spread the dots a little so equal values stay visible
            let dx = (j as f64 / of.len().max(1) as f64 - 0.5) * 0.5;
            chart
                .draw_series(std::iter::once(Circle::new(
                    (x as f64 + dx - 0.05, f.write_outage_ms.max(5.0)),
                    3,
                    col.filled(),
                )))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Circle::new(
                    (x as f64 + dx + 0.05, f.read_outage_ms.max(5.0)),
                    3,
                    col.stroke_width(1),
                )))
                .map_err(err)?;
        }
    }
    // the goal line: writes back within 1 s
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(-0.5, 1000.0), (n as f64 - 0.5, 1000.0)],
            RGBColor(90, 90, 90).stroke_width(1),
        )))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}
