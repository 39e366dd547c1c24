//! `exit_times.png`: top, the Kaplan–Meier survival curves S(t) = P(τ > t) per dynamics with the estimated
//! mean exit time (solid vertical line) and the closed-form mean (O5/O6, dashed vertical line); bottom, the
//! exit-time histogram (density) derived from the drops of S.

use super::frame::{self, Frame, finite_range};
use super::style::{self, CAPTION, FONT, LABEL, SIZE, SUBCAPTION, TICK, out_err};
use crate::error::Result;
use crate::report::Report;
use plotters::prelude::*;
use std::path::Path;

/// Number of histogram bins.
pub const BINS: usize = 30;

struct Curve {
    index: usize,
    label: String,
    /// (t, S(t)) sorted by t, starting with (t₀, 1) at t₀ = min(0, first t).
    s: Vec<(f64, f64)>,
    mean: Option<f64>,
    theory: Option<f64>,
}

/// Renders the figure to `path`. Returns `Ok(false)` when there are no finite survival rows.
pub fn render(report: &Report, path: &Path) -> Result<bool> {
    let mut curves = Vec::new();
    for label in style::all_labels(report) {
        let mut s: Vec<(f64, f64)> = report
            .survival
            .iter()
            .filter(|r| r.label == label && r.t.is_finite() && r.survival.is_finite())
            .map(|r| (r.t, r.survival.clamp(0.0, 1.0)))
            .collect();
        if s.is_empty() {
            continue;
        }
        s.sort_by(|a, b| a.0.total_cmp(&b.0));
        if s[0].0 > 0.0 {
            s.insert(0, (0.0, 1.0));
        }
        let d = report.summary.dynamics.iter().find(|d| d.label == label);
        curves.push(Curve {
            index: style::dynamics_index(report, &label),
            mean: d
                .and_then(|d| d.exit.as_ref())
                .and_then(|x| x.headline().0)
                .filter(|v| v.is_finite()),
            // Beside a restricted mean, the restricted closed form E[min(τ, T)].
            theory: d
                .and_then(|d| {
                    let th = d.theory.as_ref()?;
                    if d.exit.as_ref().is_some_and(|x| x.censored > 0) {
                        th.exit_restricted_mean_time
                    } else {
                        th.exit_mean_time
                    }
                })
                .filter(|v| v.is_finite()),
            label,
            s,
        });
    }
    if curves.is_empty() {
        return Ok(false);
    }
    let t_data = finite_range(curves.iter().flat_map(|c| c.s.iter().map(|p| p.0)));
    // The time axis covers the survival data and 0; a mean drawn as a vertical line widens it only up to
    // 1.5 × the last time (a closed form far beyond T is left out rather than squeezing the curves).
    let t_max = t_data.map_or(f64::INFINITY, |r| r.1.max(0.0));
    let marks = curves
        .iter()
        .flat_map(|c| c.mean.into_iter().chain(c.theory))
        .filter(|m| *m <= 1.5 * t_max || !t_max.is_finite());
    let t_all = finite_range(
        curves
            .iter()
            .flat_map(|c| c.s.iter().map(|p| p.0))
            .chain(marks)
            .chain([0.0]),
    );
    let xr = frame::linear(t_all.map_or(vec![], |r| vec![r.0, r.1]), 0.02);
    let xr = (xr.0.max(t_all.map_or(0.0, |r| r.0) - 1e-12), xr.1);
    let upper = Frame::linear(xr, (0.0, 1.05));
    let xr = upper.x;

    style::register_fonts();
    let e = out_err(path);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let root = root
        .titled(
            &format!("{}: exit times τ from the saddle region", report.summary.model),
            (FONT, CAPTION),
        )
        .map_err(&e)?;
    let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 * 11 / 20);

    // Survival panel.
    let mut chart = ChartBuilder::on(&top)
        .caption("Kaplan–Meier survival S(t) = P(τ > t)", (FONT, SUBCAPTION))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(90)
        .build_cartesian_2d(xr.0..xr.1, 0.0..1.05)
        .map_err(&e)?;
    let fmt = style::tick(xr.1 - xr.0);
    let fmt_y = |v: &f64| style::num(*v);
    chart
        .configure_mesh()
        .x_desc("time t")
        .y_desc("S(t)")
        .label_style((FONT, TICK))
        .axis_desc_style((FONT, LABEL))
        .x_label_formatter(&fmt)
        .light_line_style(BLACK.mix(0.05))
        .draw()
        .map_err(&e)?;
    for c in &curves {
        let col = style::color(c.index);
        let mut steps = Vec::with_capacity(2 * c.s.len());
        for (k, p) in c.s.iter().enumerate() {
            if k > 0 {
                steps.push((p.0, c.s[k - 1].1));
            }
            steps.push(*p);
        }
        chart
            .draw_series(style::segments(&upper, steps, col.stroke_width(3)))
            .map_err(&e)?
            .label(style::legend_label(report, &c.label))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], col.stroke_width(3)));
        if let Some(m) = c.mean.filter(|m| upper.has_x(*m)) {
            chart
                .draw_series(LineSeries::new([(m, 0.0), (m, 1.05)], col.stroke_width(2)))
                .map_err(&e)?;
        }
        if let Some(m) = c.theory.filter(|m| upper.has_x(*m)) {
            chart
                .draw_series(DashedLineSeries::new([(m, 0.0), (m, 1.05)], 10, 7, col.stroke_width(2)))
                .map_err(&e)?;
        }
    }
    let k = BLACK;
    // With censored paths the estimate is the restricted mean E[min(τ, T)], a lower bound of E[τ].
    let censored = report
        .summary
        .dynamics
        .iter()
        .any(|d| d.exit.as_ref().is_some_and(|x| x.censored > 0));
    if curves.iter().any(|c| c.mean.is_some()) {
        let label = if censored {
            "E[min(τ, T)], restricted mean (solid |)"
        } else {
            "mean exit time E[τ] (solid |)"
        };
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(&e)?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x + 12, y - 8), (x + 12, y + 8)], k.stroke_width(2)));
    }
    if curves.iter().any(|c| c.theory.is_some()) {
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(&e)?
            .label(if censored {
                "closed-form E[min(τ, T)] (dashed ¦)"
            } else {
                "closed-form E[τ] (dashed ¦)"
            })
            .legend(move |(x, y)| {
                EmptyElement::at((x + 12, y))
                    + PathElement::new(vec![(0, -9), (0, -3)], k.stroke_width(2))
                    + PathElement::new(vec![(0, 3), (0, 9)], k.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .label_font((FONT, TICK))
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .position(style::quiet_corner(
            curves.iter().flat_map(|c| c.s.iter().copied()),
            xr,
            (0.0, 1.05),
        ))
        .draw()
        .map_err(&e)?;

    // Histogram panel: density of τ per bin from the drops of S (mass beyond the last time is censored).
    let (t0, t1) = frame::sane_linear(match t_data {
        Some((a, b)) if b > a => (a.min(0.0), b),
        Some((a, _)) => (a.min(0.0), a.min(0.0) + 1.0),
        None => (0.0, 1.0),
    });
    let w = (t1 - t0) / BINS as f64;
    let hists: Vec<(usize, Vec<f64>)> = curves
        .iter()
        .map(|c| {
            let mut h = vec![0.0; BINS];
            for k in 1..c.s.len() {
                let drop = (c.s[k - 1].1 - c.s[k].1).max(0.0);
                let b = (c.s[k].0 - t0) / w;
                if b.is_finite() && drop.is_finite() {
                    h[(b.floor().max(0.0) as usize).min(BINS - 1)] += drop / w;
                }
            }
            (c.index, h)
        })
        .collect();
    let ymax = finite_range(hists.iter().flat_map(|h| h.1.iter().copied()))
        .map_or(1.0, |r| r.1)
        .max(1e-12)
        * 1.1;
    let low = Frame::linear(xr, (0.0, ymax));
    let ymax = low.y.1;
    let mut chart = ChartBuilder::on(&bottom)
        .caption("exit-time histogram (from the drops of S)", (FONT, SUBCAPTION))
        .margin(15)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(xr.0..xr.1, 0.0..ymax)
        .map_err(&e)?;
    chart
        .configure_mesh()
        .x_desc("exit time τ")
        .y_desc("density of τ")
        .label_style((FONT, TICK))
        .axis_desc_style((FONT, LABEL))
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt_y)
        .light_line_style(BLACK.mix(0.05))
        .draw()
        .map_err(&e)?;
    let n = hists.len().max(1) as f64;
    for (j, (i, h)) in hists.iter().enumerate() {
        let col = style::color(*i);
        // Side-by-side bars inside each bin.
        let bw = 0.9 * w / n;
        chart
            .draw_series(h.iter().enumerate().filter(|(_, v)| **v > 0.0).map(|(b, v)| {
                let x0 = t0 + b as f64 * w + 0.05 * w + j as f64 * bw;
                Rectangle::new([low.clamp((x0, 0.0)), low.clamp((x0 + bw, *v))], col.mix(0.75).filled())
            }))
            .map_err(&e)?;
    }
    root.present().map_err(&e)?;
    Ok(true)
}
