//! `cloud.png`: the ensemble at a few snapshot times — stored path positions as dots, the mean marked and
//! the 1σ and 2σ covariance ellipses of the first two coordinates, one colour per dynamics.

use super::frame::{self, Frame};
use super::style::{self, CAPTION, FONT, LABEL, SIZE, SUBCAPTION, TICK, out_err};
use super::{report_dim, var_name};
use crate::error::Result;
use crate::report::{MomentRow, Report};
use plotters::prelude::*;
use std::path::Path;

/// Dynamics index, mean, 1σ and 2σ ellipse outlines.
type Ellipses = (usize, [f64; 2], Vec<(f64, f64)>, Vec<(f64, f64)>);

/// At most this many snapshot times (panels).
pub const MAX_PANELS: usize = 4;

/// Renders the figure to `path`. Returns `Ok(false)` when d < 2 or no moment row has a finite 2-D mean.
pub fn render(report: &Report, path: &Path) -> Result<bool> {
    let d = report_dim(report);
    if d < 2 {
        return Ok(false);
    }
    let rows: Vec<&MomentRow> = report
        .moments
        .iter()
        .filter(|m| m.t.is_finite() && m.mean.len() >= 2 && m.mean[0].is_finite() && m.mean[1].is_finite())
        .collect();
    if rows.is_empty() {
        return Ok(false);
    }
    let times = pick_times(&rows);

    style::register_fonts();
    let e = out_err(path);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let root = root
        .titled(
            &format!(
                "{}: ensemble cloud with 1σ and 2σ covariance ellipses",
                report.summary.model
            ),
            (FONT, CAPTION),
        )
        .map_err(&e)?;
    let panels = match times.len() {
        1 => root.split_evenly((1, 1)),
        2 => root.split_evenly((1, 2)),
        _ => root.split_evenly((2, 2)),
    };
    let tol = |t: f64, s: f64| (t - s).abs() <= 1e-9 * t.abs().max(s.abs()).max(1.0);
    for (k, (&t, area)) in times.iter().zip(panels.iter()).enumerate() {
        let at_t: Vec<&&MomentRow> = rows.iter().filter(|r| tol(r.t, t)).collect();
        let ells: Vec<Ellipses> = at_t
            .iter()
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
            .filter(|p| tol(p.t, t) && p.x.len() >= 2 && p.x[0].is_finite() && p.x[1].is_finite())
            .map(|p| (style::dynamics_index(report, &p.label), p.x[0], p.x[1]))
            .collect();
        let xr = frame::linear(
            ells.iter()
                .flat_map(|e| e.3.iter().map(|p| p.0).chain([e.1[0]]))
                .chain(dots.iter().map(|p| p.1)),
            0.06,
        );
        let yr = frame::linear(
            ells.iter()
                .flat_map(|e| e.3.iter().map(|p| p.1).chain([e.1[1]]))
                .chain(dots.iter().map(|p| p.2)),
            0.06,
        );
        let fr = Frame::linear(xr, yr);
        let (xr, yr) = (fr.x, fr.y);
        let mut chart = ChartBuilder::on(area)
            .caption(format!("t = {}", style::num(t)), (FONT, SUBCAPTION))
            .margin(12)
            .x_label_area_size(55)
            .y_label_area_size(80)
            .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
            .map_err(&e)?;
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
            .map_err(&e)?;
        chart
            .draw_series(
                dots.iter()
                    .filter(|p| fr.contains((p.1, p.2)))
                    .map(|&(i, x, y)| Circle::new((x, y), 2, style::color(i).mix(0.45).filled())),
            )
            .map_err(&e)?;
        for (i, m, e1, e2) in &ells {
            let c = style::color(*i);
            if e1.len() > 2 {
                let fill: Vec<(f64, f64)> = e1.iter().map(|p| fr.clamp(*p)).collect();
                chart
                    .draw_series(std::iter::once(Polygon::new(fill, c.mix(0.12).filled())))
                    .map_err(&e)?;
            }
            let s = chart
                .draw_series(style::segments(&fr, e1.iter().copied(), c.stroke_width(3)))
                .map_err(&e)?;
            if k == 0 {
                let label = style::legend_label(
                    report,
                    &at_t
                        .iter()
                        .find(|r| style::dynamics_index(report, &r.label) == *i)
                        .map(|r| r.label.clone())
                        .unwrap_or_default(),
                );
                s.label(label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
            }
            for run in fr.polyline(e2.iter().copied()) {
                chart
                    .draw_series(DashedLineSeries::new(run, 10, 6, c.stroke_width(2)))
                    .map_err(&e)?;
            }
            if fr.contains((m[0], m[1])) {
                chart
                    .draw_series(std::iter::once(Cross::new((m[0], m[1]), 9, BLACK.stroke_width(3))))
                    .map_err(&e)?;
                chart
                    .draw_series(std::iter::once(Cross::new((m[0], m[1]), 7, c.stroke_width(2))))
                    .map_err(&e)?;
            }
        }
        if k == 0 {
            chart
                .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
                .map_err(&e)?
                .label("1σ solid, 2σ dashed, × mean")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.mix(0.0)));
            chart
                .configure_series_labels()
                .label_font((FONT, TICK))
                .border_style(BLACK)
                .background_style(WHITE.mix(0.85))
                .position(style::quiet_corner(
                    dots.iter()
                        .map(|p| (p.1, p.2))
                        .chain(ells.iter().flat_map(|e| e.3.iter().copied())),
                    xr,
                    yr,
                ))
                .draw()
                .map_err(&e)?;
        }
    }
    root.present().map_err(&e)?;
    Ok(true)
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
