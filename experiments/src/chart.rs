//! SVG charts with plotters: grouped bars (sizes, throughputs), lines over log-log axes
//! (a measure against the number of partitions) and latency percentile curves.
//!
//! Only the SVG backend is used, with plotters' font-free text layout: labels become SVG
//! `<text>` elements that the reader's browser renders, so no font file has to be installed
//! on the machine that runs an experiment. Widths of labels are estimated, so keep them short.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::text_anchor;

/// Series colours, readable on white and distinguishable in grey print.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A plotters error as an anyhow error (plotters' errors only implement Debug).
pub(crate) fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("chart: {e:?}")
}

/// The legend of every labelled series, at `position`, on a light box.
fn draw_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

/// One named series of values, one value per group.
pub struct Series {
    /// The series' name, shown in the legend.
    pub name: String,
    /// One value per group, in the groups' order.
    pub values: Vec<f64>,
}

/// A bar chart: for every group (x axis) one bar per series, with the value printed on top.
/// `fmt` formats those values (e.g. `|v| format!("{v:.0}")`).
pub fn grouped_bar_chart(
    path: &Path,
    title: &str,
    y_label: &str,
    groups: &[String],
    series: &[Series],
    fmt: &dyn Fn(f64) -> String,
) -> Result<()> {
    if groups.is_empty() || series.is_empty() {
        return Err(anyhow!("chart {title}: nothing to draw"));
    }
    let ymax = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let width = (160 + groups.len() * (60 + 50 * series.len())).clamp(640, 1200) as u32;
    let root = SVGBackend::new(path, (width, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let n = groups.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .margin_bottom(40)
        .x_label_area_size(10)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..n, 0f64..ymax * 1.18)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .x_label_formatter(&|_| String::new())
        .y_desc(y_label)
        .y_label_formatter(&|v| fmt(*v))
        .draw()
        .map_err(err)?;
    let slot = 0.8 / series.len() as f64;
    for (si, s) in series.iter().enumerate() {
        let c = color(si);
        let bars = s.values.iter().enumerate().map(move |(gi, v)| {
            let x0 = gi as f64 + 0.1 + si as f64 * slot;
            Rectangle::new([(x0, 0.0), (x0 + slot * 0.92, *v)], c.filled())
        });
        let anno = chart.draw_series(bars).map_err(err)?;
        if series.len() > 1 {
            anno.label(s.name.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
        }
        let labels = s.values.iter().enumerate().map(|(gi, v)| {
            let x = gi as f64 + 0.1 + (si as f64 + 0.46) * slot;
            Text::new(
                fmt(*v),
                (x, *v + ymax * 0.02),
                ("sans-serif", 12)
                    .into_font()
                    .color(&BLACK)
                    .pos(text_anchor::Pos::new(
                        text_anchor::HPos::Center,
                        text_anchor::VPos::Bottom,
                    )),
            )
        });
        chart.draw_series(labels).map_err(err)?;
    }
    if series.len() > 1 {
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    }
    // Group names under the axis, centred under their bars.
    let style = ("sans-serif", 14)
        .into_font()
        .color(&BLACK)
        .pos(text_anchor::Pos::new(
            text_anchor::HPos::Center,
            text_anchor::VPos::Top,
        ));
    for (gi, g) in groups.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(gi as f64 + 0.5, 0.0));
        root.draw(&Text::new(g.clone(), (px, py + 8), style.clone()))
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(())
}

/// One line of a [`log_log_chart`]: `(x, y)` points, a palette colour and a weight.
pub struct Line {
    /// The line's name, shown in the legend.
    pub name: String,
    /// The `(x, y)` points, in x order.
    pub points: Vec<(f64, f64)>,
    /// Index into the palette: lines that belong together (one system) share a colour.
    pub color: usize,
    /// Thick and opaque when true, thin and lighter when false (a second mode of one system).
    pub bold: bool,
}

/// Lines over a logarithmic x axis (e.g. the number of partitions) and a logarithmic y axis
/// (e.g. messages per second), with a dot on every point and a legend in the lower left.
pub fn log_log_chart(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    lines: &[Line],
) -> Result<()> {
    let all = || lines.iter().flat_map(|l| l.points.iter().copied());
    let (xmax, ylo, yhi) = all().fold((1f64, f64::MAX, 0f64), |(x, lo, hi), (px, py)| {
        (x.max(px), lo.min(py), hi.max(py))
    });
    if yhi <= 0.0 {
        return Err(anyhow!("chart {title}: nothing to draw"));
    }
    let root = SVGBackend::new(path, (820, 460)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(14)
        .margin_right(30)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(
            (0.7f64..xmax * 1.4).log_scale(),
            ((ylo / 1.5).max(1e-3)..yhi * 1.5).log_scale(),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| trim(*v))
        .draw()
        .map_err(err)?;
    for l in lines {
        let col = color(l.color);
        let style = if l.bold {
            col.stroke_width(3)
        } else {
            col.mix(0.6).stroke_width(1)
        };
        chart
            .draw_series(LineSeries::new(l.points.clone(), style))
            .map_err(err)?
            .label(l.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], style));
        chart
            .draw_series(l.points.iter().map(|&p| Circle::new(p, 3, col.filled())))
            .map_err(err)?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
    root.present().map_err(err)?;
    Ok(())
}

/// "Nines" of a percentile: 0 % -> 0, 90 % -> 1, 99 % -> 2, 99.9 % -> 3 (100 % has none: the
/// maximum is drawn just right of a curve's last finite point and labelled "max").
fn nines(p: f64) -> f64 {
    -(1.0 - p / 100.0).log10()
}

fn nines_label(v: f64) -> String {
    let k = v.round();
    if (v - k).abs() > 1e-6 || k < 0.0 {
        return String::new();
    }
    if k == 0.0 {
        return "0%".into();
    }
    let p = 100.0 * (1.0 - 10f64.powi(-(k as i32)));
    format!("{}%", trim(p))
}

fn trim(p: f64) -> String {
    let s = format!("{p:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One latency curve: `(percentile, microseconds)` points as
/// [`crate::latency::percentile_curve`] returns them.
pub struct Curve {
    /// The curve's name, shown in the legend.
    pub name: String,
    /// The `(percentile, microseconds)` points.
    pub points: Vec<(f64, f64)>,
}

/// Latency by percentile, the HdrHistogram way: x in "nines" (0 %, 90 %, 99 %, 99.9 % equally
/// spaced), y logarithmic in microseconds; one line per curve, so tails can be compared.
pub fn percentile_chart(path: &Path, title: &str, curves: &[Curve]) -> Result<()> {
    let finite = |p: f64| p < 100.0;
    let max_nines = curves
        .iter()
        .flat_map(|c| c.points.iter())
        .filter(|(p, _)| finite(*p))
        .map(|(p, _)| nines(*p))
        .fold(1.0f64, f64::max);
    // The maximum (100 %) is drawn 0.4 steps right of a curve's last finite point.
    let x_end = (max_nines + 0.4).ceil();
    let (ymin, ymax) = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|(_, v)| *v))
        .fold((f64::MAX, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if ymax <= 0.0 {
        return Err(anyhow!("chart {title}: no latency samples"));
    }
    let ymin = (ymin.max(0.01) / 1.5).max(0.01);
    let root = SVGBackend::new(path, (820, 460)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(14)
        .margin_right(36)
        .x_label_area_size(44)
        .y_label_area_size(74)
        .build_cartesian_2d(0f64..x_end, (ymin..ymax * 2.0).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels((x_end as usize * 4).max(4) + 1)
        .x_label_formatter(&|v| nines_label(*v))
        .x_desc("percentile")
        .y_desc("latency (µs, log scale)")
        .y_label_formatter(&|v| trim(*v))
        .draw()
        .map_err(err)?;
    for (i, c) in curves.iter().enumerate() {
        let col = color(i);
        let last_finite = c
            .points
            .iter()
            .filter(|(p, _)| finite(*p))
            .map(|(p, _)| nines(*p))
            .fold(0.0f64, f64::max);
        let pts: Vec<(f64, f64)> = c
            .points
            .iter()
            .map(|(p, v)| {
                let x = if finite(*p) {
                    nines(*p)
                } else {
                    last_finite + 0.4
                };
                (x, v.max(ymin))
            })
            .collect();
        if let Some(&(x, y)) = pts
            .last()
            .filter(|_| c.points.last().is_some_and(|l| !finite(l.0)))
        {
            chart
                .draw_series(std::iter::once(Text::new(
                    "max",
                    (x, y),
                    ("sans-serif", 12)
                        .into_font()
                        .color(&col)
                        .pos(text_anchor::Pos::new(
                            text_anchor::HPos::Right,
                            text_anchor::VPos::Bottom,
                        )),
                )))
                .map_err(err)?;
        }
        chart
            .draw_series(LineSeries::new(pts.clone(), col.stroke_width(2)))
            .map_err(err)?
            .label(c.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], col.stroke_width(2)));
        chart
            .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, col.filled())))
            .map_err(err)?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present().map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_labels_name_the_classic_percentiles() {
        assert_eq!(nines_label(0.0), "0%");
        assert_eq!(nines_label(1.0), "90%");
        assert_eq!(nines_label(3.0), "99.9%");
        assert_eq!(nines_label(1.5), "");
        assert!((nines(99.0) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn charts_are_svg_with_their_text() {
        let dir = tempfile::tempdir().unwrap();
        let bars = dir.path().join("b.svg");
        grouped_bar_chart(
            &bars,
            "bytes per kind",
            "bytes",
            &["commitlog".into(), "index".into()],
            &[Series {
                name: "bytes".into(),
                values: vec![3.0e6, 4.0e5],
            }],
            &|v| format!("{v:.0}"),
        )
        .unwrap();
        let svg = std::fs::read_to_string(&bars).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("commitlog") && svg.contains("bytes per kind"));

        let lat = dir.path().join("l.svg");
        let curve = |name: &str, k: f64| Curve {
            name: name.into(),
            points: vec![
                (0.0, 1.0 * k),
                (90.0, 2.0 * k),
                (99.0, 9.0 * k),
                (100.0, 30.0 * k),
            ],
        };
        percentile_chart(
            &lat,
            "append latency",
            &[curve("async", 1.0), curve("sync", 50.0)],
        )
        .unwrap();
        let svg = std::fs::read_to_string(&lat).unwrap();
        assert!(svg.contains("async") && svg.contains("sync") && svg.contains("99%"));

        let lines = dir.path().join("x.svg");
        log_log_chart(
            &lines,
            "reads by partitions",
            "partitions",
            "messages/s",
            &[Line {
                name: "store".into(),
                points: vec![(1.0, 1e5), (16.0, 2e5), (256.0, 9e4)],
                color: 0,
                bold: true,
            }],
        )
        .unwrap();
        let svg = std::fs::read_to_string(&lines).unwrap();
        assert!(svg.contains("reads by partitions") && svg.contains("store"));
    }
}
