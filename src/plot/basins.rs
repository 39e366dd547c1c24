//! `basins.png`: the probability of ending in each basin class (attractors, trapped, unresolved, diverged),
//! grouped by class with one bar per dynamics, and Clopper–Pearson 95 % intervals as whiskers.

use super::style::{self, CAPTION, FONT, LABEL, SIZE, TICK, out_err};
use crate::error::Result;
use crate::report::Report;
use plotters::prelude::*;
use std::path::Path;

/// Renders the figure to `path`. Returns `Ok(false)` when there are no basin rows.
pub fn render(report: &Report, path: &Path) -> Result<bool> {
    let rows: Vec<_> = report.basins.iter().filter(|b| b.probability.is_finite()).collect();
    if rows.is_empty() {
        return Ok(false);
    }
    let mut classes: Vec<String> = Vec::new();
    for r in &rows {
        if !classes.contains(&r.class) {
            classes.push(r.class.clone());
        }
    }
    let labels: Vec<String> = style::all_labels(report)
        .into_iter()
        .filter(|l| rows.iter().any(|r| &r.label == l))
        .collect();
    let (nc, nd) = (classes.len(), labels.len().max(1));
    let ytop = rows
        .iter()
        .flat_map(|r| [r.probability, r.ci_hi])
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let ytop = if ytop > 0.85 { 1.08 } else { (ytop * 1.2).max(0.05) };

    style::register_fonts();
    let e = out_err(path);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{}: basin probabilities with 95 % intervals", report.summary.model),
            (FONT, CAPTION),
        )
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(-0.5..(nc as f64 - 0.5), 0.0..ytop)
        .map_err(&e)?;
    let xfmt = |v: &f64| {
        let r = v.round();
        if (v - r).abs() < 1e-6 && r >= 0.0 && (r as usize) < nc {
            classes[r as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(nc + 1)
        .x_label_formatter(&xfmt)
        .x_desc("basin class (where the path ends at t = T)")
        .y_desc("probability")
        .label_style((FONT, LABEL))
        .axis_desc_style((FONT, LABEL))
        .light_line_style(BLACK.mix(0.05))
        .draw()
        .map_err(&e)?;
    let group = 0.8;
    let bw = group / nd as f64;
    for (j, label) in labels.iter().enumerate() {
        let col = style::dynamics_color(report, label);
        let mine: Vec<(f64, f64, f64, f64)> = rows
            .iter()
            .filter(|r| &r.label == label)
            .filter_map(|r| {
                let c = classes.iter().position(|c| c == &r.class)? as f64;
                let x = c - group / 2.0 + (j as f64 + 0.5) * bw;
                let lo = if r.ci_lo.is_finite() { r.ci_lo } else { r.probability };
                let hi = if r.ci_hi.is_finite() { r.ci_hi } else { r.probability };
                Some((x, r.probability.clamp(0.0, 1.0), lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0)))
            })
            .collect();
        chart
            .draw_series(mine.iter().map(|&(x, p, _, _)| {
                Rectangle::new([(x - 0.45 * bw, 0.0), (x + 0.45 * bw, p)], col.mix(0.85).filled())
            }))
            .map_err(&e)?
            .label(style::legend_label(report, label))
            .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 24, y + 7)], col.mix(0.85).filled()));
        chart
            .draw_series(
                mine.iter().map(|&(x, p, lo, hi)| {
                    ErrorBar::new_vertical(x, lo.min(p), p, hi.max(p), BLACK.stroke_width(2), 12)
                }),
            )
            .map_err(&e)?;
        chart
            .draw_series(mine.iter().map(|&(x, p, _, hi)| {
                Text::new(
                    style::num((p * 1000.0).round() / 1000.0),
                    (x, hi.max(p) + 0.01 * ytop),
                    (FONT, 15).into_font().color(&BLACK).pos(centre_bottom()),
                )
            }))
            .map_err(&e)?;
    }
    chart
        .configure_series_labels()
        .label_font((FONT, TICK))
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(true)
}

fn centre_bottom() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Center, VPos::Bottom)
}
