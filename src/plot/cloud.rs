//! `cloud.png`: the ensemble at a few snapshot times — stored path positions as dots, the mean marked and
//! the 1σ and 2σ covariance ellipses of the first two coordinates, one colour per dynamics; the exit region
//! (thick grey) where it crosses a panel.

use super::canvas::{self, Picture, de};
use super::frame::{self, Frame};
use super::legend::{Entry, Shape};
use super::names;
use super::style::{self, FONT, LABEL, SUBCAPTION, TICK};
use super::trajectories::{region_outline, region_text};
use super::{report_dim, var_name};
use crate::error::Result;
use crate::report::{MomentRow, Report};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Dynamics index, mean, 1σ and 2σ ellipse outlines.
type Ellipses = (usize, [f64; 2], Vec<(f64, f64)>, Vec<(f64, f64)>);

/// Colour of the exit region's outline (grey, so that it does not read as a dynamics' ellipse).
const REGION: RGBColor = RGBColor(150, 150, 150);

/// At most this many snapshot times (panels).
pub const MAX_PANELS: usize = 4;

struct Cloud<'a> {
    report: &'a Report,
    rows: Vec<&'a MomentRow>,
    times: Vec<f64>,
}

/// One panel's data: the ellipses and the dots at time `t`, and its provisional ranges.
struct Panel {
    t: f64,
    ells: Vec<Ellipses>,
    dots: Vec<(usize, f64, f64)>,
    x: (f64, f64),
    y: (f64, f64),
}

/// Renders the figure to `path`. Returns `Ok(false)` when d < 2 or no moment row has a finite 2-D mean.
pub fn render(report: &Report, path: &Path) -> Result<bool> {
    let d = report_dim(report);
    if d < 2 {
        return Ok(false);
    }
    let rows: Vec<&MomentRow> = report
        .moments
        .iter()
        .filter(|m| m.n > 0 && m.t.is_finite() && m.mean.len() >= 2 && m.mean[0].is_finite() && m.mean[1].is_finite())
        .collect();
    if rows.is_empty() {
        return Ok(false);
    }
    let times = pick_times(&rows);
    canvas::save(path, &Cloud { report, rows, times })?;
    Ok(true)
}

fn same_time(t: f64, s: f64) -> bool {
    (t - s).abs() <= 1e-9 * t.abs().max(s.abs()).max(1.0)
}

impl Cloud<'_> {
    fn panel(&self, t: f64) -> Panel {
        let report = self.report;
        let d = report_dim(report);
        let ells: Vec<Ellipses> = self
            .rows
            .iter()
            .filter(|r| same_time(r.t, t))
            .map(|r| {
                let i = style::dynamics_index(report, &r.label);
                let m = [r.mean[0], r.mean[1]];
                let c = cov2(r, d);
                (i, m, ellipse(m, c, 1.0), ellipse(m, c, 2.0))
            })
            .collect();
        let dots: Vec<(usize, f64, f64)> = report
            .paths
            .iter()
            .filter(|p| same_time(p.t, t) && p.x.len() >= 2 && p.x[0].is_finite() && p.x[1].is_finite())
            .map(|p| (style::dynamics_index(report, &p.label), p.x[0], p.x[1]))
            .collect();
        let x = frame::linear(
            ells.iter()
                .flat_map(|e| e.3.iter().map(|p| p.0).chain([e.1[0]]))
                .chain(dots.iter().map(|p| p.1)),
            0.06,
        );
        let y = frame::linear(
            ells.iter()
                .flat_map(|e| e.3.iter().map(|p| p.1).chain([e.1[1]]))
                .chain(dots.iter().map(|p| p.2)),
            0.06,
        );
        Panel { t, ells, dots, x, y }
    }

    fn entries(&self) -> Vec<Entry> {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for r in &self.rows {
            let i = style::dynamics_index(self.report, &r.label);
            if !seen.contains(&i) {
                seen.push(i);
                out.push(Entry::line(names::legend(self.report, &r.label), style::color(i), 3));
            }
        }
        out.push(Entry::line("1σ ellipse", BLACK, 3));
        out.push(Entry::dashed("2σ ellipse", BLACK));
        out.push(Entry::marker("mean", BLACK, Shape::Cross));
        if region_outline(self.report).is_some() {
            out.push(Entry::line(
                format!("exit region ({})", region_text(self.report)),
                REGION,
                4,
            ));
        }
        out.push(Entry::marker(
            "paths (stored sample)",
            RGBColor(120, 120, 120),
            Shape::Circle,
        ));
        out
    }
}

impl Picture for Cloud<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let report = self.report;
        let panels: Vec<Panel> = self.times.iter().map(|&t| self.panel(t)).collect();
        let mut notes = Vec::new();
        let skewed: Vec<String> = panels
            .iter()
            .filter(|p| !frame::comparable(p.x, p.y))
            .map(|p| format!("t = {}", style::num(p.t)))
            .collect();
        if !skewed.is_empty() {
            notes.push(format!(
                "{} and {} are drawn to the same scale except at {} (their ranges differ by more than 10×).",
                var_name(report, 0),
                var_name(report, 1),
                skewed.join(", ")
            ));
        }
        notes.push(
            "Ellipses: 1σ and 2σ contours of the Gaussian with the ensemble's mean and covariance (first two \
             coordinates)."
                .into(),
        );
        notes.extend(names::shared_parameters(report));
        let title = format!("{}: the ensemble cloud over time", names::model(&report.summary.model));
        let page = canvas::page_with_legend(root, &title, &notes, &self.entries(), 0)?;
        let areas = match panels.len() {
            1 => page.plot.split_evenly((1, 1)),
            2 => page.plot.split_evenly((1, 2)),
            _ => page.plot.split_evenly((2, 2)),
        };
        for (p, area) in panels.iter().zip(areas.iter()) {
            draw_panel(report, p, area)?;
        }
        Ok(())
    }
}

fn draw_panel<DB: DrawingBackend>(report: &Report, p: &Panel, area: &DrawingArea<DB, Shift>) -> Result<()> {
    let area = area
        .titled(&format!("t = {}", style::num(p.t)), (FONT, SUBCAPTION))
        .map_err(de)?;
    let build = |x: (f64, f64), y: (f64, f64)| {
        ChartBuilder::on(&area)
            .margin(12)
            .x_label_area_size(55)
            .y_label_area_size(80)
            .build_cartesian_2d(x.0..x.1, y.0..y.1)
            .map_err(de)
    };
    let (mut x, mut y) = (p.x, p.y);
    if frame::comparable(x, y) {
        // Measure the plotting area on a scratch chart of the same layout (building one draws nothing).
        let px = build(x, y)?.plotting_area().dim_in_pixel();
        (x, y) = frame::equal_aspect(x, y, px);
    }
    let fr = Frame::linear(x, y);
    let (xr, yr) = (fr.x, fr.y);
    let mut chart = build(xr, yr)?;
    let (fx, fy) = (style::tick(xr.1 - xr.0), style::tick(yr.1 - yr.0));
    chart
        .configure_mesh()
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .x_desc(var_name(report, 0))
        .y_desc(var_name(report, 1))
        .x_labels(6)
        .y_labels(6)
        .label_style((FONT, TICK))
        .axis_desc_style((FONT, LABEL))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(de)?;
    // The exit region where it crosses the panel (a panel's range is the cloud's, not the region's).
    if let Some(outline) = region_outline(report) {
        for run in fr.polyline(outline.iter().copied()) {
            chart
                .draw_series(std::iter::once(PathElement::new(run, REGION.stroke_width(4))))
                .map_err(de)?;
        }
    }
    chart
        .draw_series(
            p.dots
                .iter()
                .filter(|q| fr.contains((q.1, q.2)))
                .map(|&(i, x, y)| Circle::new((x, y), 2, style::color(i).mix(0.45).filled())),
        )
        .map_err(de)?;
    for (i, m, e1, e2) in &p.ells {
        let c = style::color(*i);
        if e1.len() > 2 {
            let fill: Vec<(f64, f64)> = e1.iter().map(|q| fr.clamp(*q)).collect();
            chart
                .draw_series(std::iter::once(Polygon::new(fill, c.mix(0.12).filled())))
                .map_err(de)?;
        }
        chart
            .draw_series(style::segments(&fr, e1.iter().copied(), c.stroke_width(3)))
            .map_err(de)?;
        for run in fr.polyline(e2.iter().copied()) {
            chart
                .draw_series(DashedLineSeries::new(run, 10, 6, c.stroke_width(2)))
                .map_err(de)?;
        }
        if fr.contains((m[0], m[1])) {
            chart
                .draw_series(std::iter::once(Cross::new((m[0], m[1]), 9, BLACK.stroke_width(3))))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(Cross::new((m[0], m[1]), 7, c.stroke_width(2))))
                .map_err(de)?;
        }
    }
    Ok(())
}

/// Up to [`MAX_PANELS`] distinct times, evenly spread; times at which every covariance vanishes (the start)
/// are skipped when there are later ones.
fn pick_times(rows: &[&MomentRow]) -> Vec<f64> {
    let mut all: Vec<f64> = rows.iter().map(|r| r.t).collect();
    all.sort_by(f64::total_cmp);
    all.dedup();
    let spread: Vec<f64> = all
        .iter()
        .copied()
        .filter(|&t| rows.iter().any(|r| r.t == t && r.trace.is_finite() && r.trace > 0.0))
        .collect();
    let src = if spread.is_empty() { all } else { spread };
    let n = src.len();
    if n <= MAX_PANELS {
        return src;
    }
    let mut out: Vec<f64> = (0..MAX_PANELS)
        .map(|k| src[((k as f64) * (n - 1) as f64 / (MAX_PANELS - 1) as f64).round() as usize])
        .collect();
    out.dedup();
    out
}

/// Upper-left 2×2 block [c00, c01, c11] of the row-major d×d covariance; non-finite → 0.
fn cov2(r: &MomentRow, d: usize) -> [f64; 3] {
    let d = if r.cov.len() == d * d {
        d
    } else {
        (r.cov.len() as f64).sqrt() as usize
    };
    let g = |k: usize| r.cov.get(k).copied().filter(|v| v.is_finite()).unwrap_or(0.0);
    if d < 2 {
        return [0.0; 3];
    }
    [g(0), 0.5 * (g(1) + g(d)), g(d + 1)]
}

/// Points of the k-σ ellipse {m + k·C^{1/2} u : ‖u‖ = 1}.
fn ellipse(m: [f64; 2], c: [f64; 3], k: f64) -> Vec<(f64, f64)> {
    let (a, b, d) = (c[0], c[1], c[2]);
    let half = 0.5 * (a + d);
    let disc = (0.25 * (a - d) * (a - d) + b * b).sqrt();
    let l1 = (half + disc).max(0.0);
    let l2 = (half - disc).max(0.0);
    let th = 0.5 * (2.0 * b).atan2(a - d);
    let (s1, s2) = (k * l1.sqrt(), k * l2.sqrt());
    if !(s1.is_finite() && s2.is_finite() && th.is_finite()) || s1 == 0.0 {
        return Vec::new();
    }
    (0..=96)
        .map(|i| {
            let p = i as f64 / 96.0 * std::f64::consts::TAU;
            let (u, v) = (s1 * p.cos(), s2 * p.sin());
            (m[0] + u * th.cos() - v * th.sin(), m[1] + u * th.sin() + v * th.cos())
        })
        .collect()
}
