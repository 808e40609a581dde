//! The leader timeline chart of the failover experiments: acknowledged sends per second over
//! time, on a background coloured by the node the name server lists as brokerId 0, with
//! vertical lines for the events the harness caused (kills, restarts, pauses).
//!
//! Shared by `failover` (a group of our brokers) and `mixed-group` (Java 4.8.0 brokers and
//! ours in one DLedger group), so both charts read the same way. Book: Part IV, "Failover,
//! measured" and "Replacing a Java node, live". No RocketMQ counterpart.

use std::collections::HashSet;
use std::path::Path;

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor;

use crate::chart::err;

/// One sample of the timeline (the experiments sample every 100 ms).
pub struct TimelineRow {
    /// Seconds since the start of the load.
    pub t_s: f64,
    /// Acknowledged sends per second in this sample.
    pub acked_per_s: f64,
    /// Who is brokerId 0: a key the caller's `band_style` understands (a node name such as
    /// "n0"), or "-" when the name server lists none.
    pub leader: String,
}

/// What kind of line an event draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A kill -9: a thick red line, labelled at the top.
    Kill,
    /// A restart: a thin grey line, labelled a little lower.
    Restart,
    /// Anything else the harness did (a pause, a replacement): a dashed-looking purple line,
    /// labelled lower still.
    Note,
}

/// One vertical line on the chart.
pub struct TimelineEvent {
    /// When the event happened, in seconds since the run started.
    pub at_s: f64,
    /// How the line is drawn.
    pub kind: EventKind,
    /// The text written next to the line.
    pub label: String,
}

/// The fixed colour of a node, so that one node has one colour in every chart.
pub fn node_color(name: &str) -> RGBColor {
    match name {
        "n0" => RGBColor(31, 119, 180),
        "n1" => RGBColor(255, 127, 14),
        "n2" => RGBColor(44, 160, 44),
        _ => RGBColor(160, 160, 160),
    }
}

/// Draws the chart into `path` (SVG). `band_style` gives the colour and the legend text of a
/// leader key (for example `|n| (node_color(n), n.to_string())`).
pub fn leader_timeline_chart(
    path: &Path,
    title: &str,
    rows: &[TimelineRow],
    events: &[TimelineEvent],
    band_style: &dyn Fn(&str) -> (RGBColor, String),
) -> Result<()> {
    let t_end = rows.last().map(|r| r.t_s + 0.1).unwrap_or(1.0);
    let ymax = rows.iter().map(|r| r.acked_per_s).fold(1.0f64, f64::max) * 1.3;
    let root = SVGBackend::new(path, (960, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..t_end, 0f64..ymax)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("time (s)")
        .y_desc("acked sends/s (100 ms buckets)")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(err)?;

    // Leader bands: runs of equal brokerId 0.
    let mut runs: Vec<(f64, f64, String)> = Vec::new();
    for r in rows {
        match runs.last_mut() {
            Some(last) if last.2 == r.leader => last.1 = r.t_s + 0.1,
            _ => runs.push((r.t_s, r.t_s + 0.1, r.leader.clone())),
        }
    }
    let mut seen = HashSet::new();
    for (a, b, name) in &runs {
        let (col, text) = if name == "-" {
            (node_color("-"), "no brokerId 0".to_string())
        } else {
            band_style(name)
        };
        let anno = chart
            .draw_series(std::iter::once(Rectangle::new(
                [(*a, 0.0), (*b, ymax)],
                col.mix(0.15).filled(),
            )))
            .map_err(err)?;
        if seen.insert(name.clone()) {
            anno.label(text).legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 12, y + 5)], col.mix(0.35).filled())
            });
        }
    }
    let label_style = |c: RGBColor| {
        ("sans-serif", 12)
            .into_font()
            .color(&c)
            .pos(text_anchor::Pos::new(
                text_anchor::HPos::Left,
                text_anchor::VPos::Top,
            ))
    };
    for e in events {
        let (col, width, top) = match e.kind {
            EventKind::Kill => (RGBColor(214, 39, 40), 2, 0.98),
            EventKind::Restart => (RGBColor(90, 90, 90), 1, 0.91),
            EventKind::Note => (RGBColor(148, 103, 189), 1, 0.84),
        };
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(e.at_s, 0.0), (e.at_s, ymax * top)],
                col.stroke_width(width),
            )))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                e.label.clone(),
                (e.at_s + t_end * 0.004, ymax * top),
                label_style(col),
            )))
            .map_err(err)?;
    }
    chart
        .draw_series(LineSeries::new(
            rows.iter().map(|r| (r.t_s, r.acked_per_s)),
            BLACK.stroke_width(1),
        ))
        .map_err(err)?
        .label("acked sends/s")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_bands_events_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.svg");
        let rows: Vec<TimelineRow> = (0..50)
            .map(|i| TimelineRow {
                t_s: i as f64 * 0.1,
                acked_per_s: if i < 20 { 100.0 } else { 0.0 },
                leader: if i < 20 { "n0".into() } else { "-".into() },
            })
            .collect();
        let events = [TimelineEvent {
            at_s: 2.0,
            kind: EventKind::Kill,
            label: "kill -9 n0".into(),
        }];
        leader_timeline_chart(&path, "test", &rows, &events, &|n| {
            (node_color(n), format!("brokerId 0 = {n} (x)"))
        })
        .unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("kill -9 n0"));
        assert!(svg.contains("brokerId 0 = n0 (x)"));
        assert!(svg.contains("no brokerId 0"));
    }
}
