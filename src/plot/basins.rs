//! `basins.png`: the probability of ending in each basin class (attractors, trapped, unresolved, diverged),
//! grouped by class with one bar per dynamics, and Clopper–Pearson 95 % intervals as whiskers. The
//! probability axis is [0, 1]; the caption says what each class means.

use super::canvas::{self, Picture, de};
use super::legend::Entry;
use super::names;
use super::style::{self, FONT, LABEL, TICK};
use crate::error::Result;
use crate::report::{BasinRow, Report};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

struct Basins<'a> {
    report: &'a Report,
    rows: Vec<&'a BasinRow>,
    classes: Vec<String>,
    labels: Vec<String>,
}

/// Renders the figure to `path`. Returns `Ok(false)` when there are no basin rows.
pub fn render(report: &Report, path: &Path) -> Result<bool> {
    let rows: Vec<&BasinRow> = report.basins.iter().filter(|b| b.probability.is_finite()).collect();
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
    canvas::save(
        path,
        &Basins {
            report,
            rows,
            classes,
            labels,
        },
    )?;
    Ok(true)
}

impl Basins<'_> {
    /// Readable name of class `c`, with the attractor's coordinates when the summary has them.
    fn class_name(&self, c: &str) -> String {
        let point = self
            .report
            .summary
            .dynamics
            .iter()
            .flat_map(|d| &d.basins)
            .find(|b| b.label == c)
            .and_then(|b| b.point.as_deref());
        names::basin(c, point)
    }
}

impl Picture for Basins<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let r = self.report;
        let entries: Vec<Entry> = self
            .labels
            .iter()
            .map(|l| Entry::fill(names::legend(r, l), style::dynamics_color(r, l), 0.85))
            .chain([Entry::text("whiskers: Clopper–Pearson 95 % intervals")])
            .collect();
        let mut notes = vec![names::CLASSES_NOTE.to_string()];
        notes.extend(names::shared_parameters(r));
        let title = format!(
            "{}: where the paths end at T (basin probabilities)",
            names::model(&r.summary.model)
        );
        let page = canvas::page_with_legend(root, &title, &notes, &entries, 0)?;
        let (nc, nd) = (self.classes.len(), self.labels.len().max(1));
        let mut chart = ChartBuilder::on(&page.plot)
            .margin(20)
            .margin_right(30)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d(-0.5..(nc as f64 - 0.5), 0.0..1.0)
            .map_err(de)?;
        let names: Vec<String> = self.classes.iter().map(|c| self.class_name(c)).collect();
        let xfmt = |v: &f64| {
            let k = v.round();
            if (v - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < nc {
                names[k as usize].clone()
            } else {
                String::new()
            }
        };
        let yfmt = |v: &f64| style::num(*v);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(nc + 1)
            .y_labels(11)
            .x_label_formatter(&xfmt)
            .y_label_formatter(&yfmt)
            .x_desc("basin class at t = T")
            .y_desc("probability")
            .label_style((FONT, TICK))
            .axis_desc_style((FONT, LABEL))
            .light_line_style(BLACK.mix(0.05))
            .draw()
            .map_err(de)?;
        let group = 0.8;
        let bw = group / nd as f64;
        for (j, label) in self.labels.iter().enumerate() {
            let col = style::dynamics_color(r, label);
            let mine: Vec<(f64, f64, f64, f64)> = self
                .rows
                .iter()
                .filter(|b| &b.label == label)
                .filter_map(|b| {
                    let c = self.classes.iter().position(|c| c == &b.class)? as f64;
                    let x = c - group / 2.0 + (j as f64 + 0.5) * bw;
                    let p = b.probability.clamp(0.0, 1.0);
                    let lo = if b.ci_lo.is_nan() { p } else { b.ci_lo.clamp(0.0, 1.0) };
                    let hi = if b.ci_hi.is_nan() { p } else { b.ci_hi.clamp(0.0, 1.0) };
                    Some((x, p, lo.min(p), hi.max(p)))
                })
                .collect();
            chart
                .draw_series(mine.iter().map(|&(x, p, _, _)| {
                    Rectangle::new([(x - 0.45 * bw, 0.0), (x + 0.45 * bw, p)], col.mix(0.85).filled())
                }))
                .map_err(de)?;
            // Whiskers: a vertical line with caps (no marker at the estimate, which is the bar's top).
            let cap = 0.12 * bw;
            chart
                .draw_series(mine.iter().flat_map(|&(x, _, lo, hi)| {
                    let st = BLACK.stroke_width(2);
                    [
                        PathElement::new(vec![(x, lo), (x, hi)], st),
                        PathElement::new(vec![(x - cap, lo), (x + cap, lo)], st),
                        PathElement::new(vec![(x - cap, hi), (x + cap, hi)], st),
                    ]
                }))
                .map_err(de)?;
            // Values: above the whisker, or inside the bar (white) when the whisker reaches the top.
            chart
                .draw_series(mine.iter().map(|&(x, p, _, hi)| {
                    let text = style::num((p * 1000.0).round() / 1000.0);
                    if hi < 0.9 {
                        EmptyElement::at((x, hi))
                            + Text::new(text, (0, -6), (FONT, 15).into_font().color(&BLACK).pos(centre_bottom()))
                    } else {
                        EmptyElement::at((x, 0.5 * p))
                            + Text::new(text, (0, 0), (FONT, 15).into_font().color(&WHITE).pos(centre_bottom()))
                    }
                }))
                .map_err(de)?;
        }
        Ok(())
    }
}

fn centre_bottom() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Center, VPos::Bottom)
}
