//! `exit_times.png`: top, the Kaplan–Meier survival curves S(t) = P(τ > t) per dynamics with the estimated
//! mean exit time (solid vertical line: the restricted mean E[min(τ, T)] when paths are censored at T) and
//! the closed form of the same mean (O5/O6, dashed vertical line: the restricted closed form beside a
//! restricted mean); a curve that ends above 0 is censored at T, marked ×.
//! Bottom, the exit-time histogram (density) derived from the drops of S.

use super::canvas::{self, Picture, de};
use super::frame::{self, Frame, finite_range};
use super::legend::{Entry, Shape, Swatch};
use super::names;
use super::style::{self, FONT, LABEL, SUBCAPTION, TICK};
use crate::error::Result;
use crate::model::Region;
use crate::report::Report;
use plotters::coord::Shift;
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
    /// Paths censored at T (None: unknown).
    censored: Option<(u64, u64)>,
    /// The unrestricted closed-form E[τ] when `theory` is the restricted one (for the notes).
    unrestricted: Option<f64>,
}

struct Exit<'a> {
    report: &'a Report,
    curves: Vec<Curve>,
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
        let exit = d.and_then(|d| d.exit.as_ref());
        let restricted = exit.is_some_and(|x| x.censored > 0);
        curves.push(Curve {
            index: style::dynamics_index(report, &label),
            // The headline: the mean, or the restricted mean E[min(τ, T)] when paths were censored.
            mean: exit.and_then(|x| x.headline().0).filter(|v| v.is_finite()),
            // Beside a restricted mean, the restricted closed form E[min(τ, T)].
            theory: d
                .and_then(|d| d.theory.as_ref())
                .and_then(|x| {
                    if restricted {
                        x.exit_restricted_mean_time
                    } else {
                        x.exit_mean_time
                    }
                })
                .filter(|v| v.is_finite()),
            unrestricted: d
                .and_then(|d| d.theory.as_ref())
                .and_then(|x| x.exit_mean_time)
                .filter(|v| v.is_finite() && restricted),
            censored: exit.map(|x| (x.censored, x.exited + x.censored)),
            label,
            s,
        });
    }
    if curves.is_empty() {
        return Ok(false);
    }
    canvas::save(path, &Exit { report, curves })?;
    Ok(true)
}

impl Exit<'_> {
    fn any_censored(&self) -> bool {
        self.curves
            .iter()
            .any(|c| c.censored.is_some_and(|(k, _)| k > 0) || c.s.last().is_some_and(|p| p.1 > 0.0))
    }

    /// Time axis: the survival data and 0; a mean drawn as a vertical line widens it only up to 1.5 × the
    /// last time (a closed form far beyond T is left out, and said so, rather than squeezing the curves).
    fn time_range(&self) -> (f64, f64) {
        let t_data = finite_range(self.curves.iter().flat_map(|c| c.s.iter().map(|p| p.0)));
        let t_max = t_data.map_or(f64::INFINITY, |r| r.1.max(0.0));
        let marks = self
            .curves
            .iter()
            .flat_map(|c| c.mean.into_iter().chain(c.theory))
            .filter(|m| *m <= 1.5 * t_max || !t_max.is_finite());
        let t_all = finite_range(
            self.curves
                .iter()
                .flat_map(|c| c.s.iter().map(|p| p.0))
                .chain(marks)
                .chain([0.0]),
        );
        let xr = frame::linear(t_all.map_or(vec![], |r| vec![r.0, r.1]), 0.02);
        frame::sane_linear((xr.0.max(t_all.map_or(0.0, |r| r.0) - 1e-12), xr.1))
    }

    fn notes(&self, xr: (f64, f64)) -> Vec<String> {
        let r = self.report;
        let mut notes = Vec::new();
        let region = match &r.summary.exit_region {
            Some(Region::Ball { radius, .. }) => format!("the ball ‖x − d‖ < {}", style::num(*radius)),
            Some(Region::Box { half_widths, .. }) => format!(
                "the box |xᵢ − dᵢ| < ({})",
                half_widths
                    .iter()
                    .map(|h| style::num(*h))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(Region::Slab { half_width, .. }) => format!("the slab |v·(x − d)| < {}", style::num(*half_width)),
            None => "the saddle region".into(),
        };
        notes.push(format!(
            "τ: first time a path leaves {region} around the saddle d; S(t): Kaplan–Meier estimate of P(τ > t)."
        ));
        let censored: Vec<String> = self
            .curves
            .iter()
            .filter_map(|c| {
                let (k, n) = c.censored?;
                (k > 0 && n > 0).then(|| format!("{} {:.1} %", names::legend(r, &c.label), 100.0 * k as f64 / n as f64))
            })
            .collect();
        if self.any_censored() {
            let t = if r.summary.t_end.is_finite() {
                format!("T = {}", style::num(r.summary.t_end))
            } else {
                "T".into()
            };
            let who = if censored.is_empty() {
                String::new()
            } else {
                format!(" ({})", censored.join(", "))
            };
            let theory = if self.curves.iter().any(|c| c.theory.is_some()) {
                "; the dashed closed form beside it is then the restricted one, E[min(τ, T)] of the 1-D model"
            } else {
                ""
            };
            notes.push(format!(
                "Paths still inside at {t} are censored{who}, marked ×: the solid line is then the restricted \
                 mean E[min(τ, T)], a lower bound of E[τ]{theory}."
            ));
        }
        for c in &self.curves {
            let name = names::legend(r, &c.label);
            if let Some(m) = c.theory.filter(|m| *m > xr.1) {
                notes.push(format!(
                    "{name}: the closed form {} lies beyond the plotted range.",
                    style::num(m)
                ));
            }
            if let Some(m) = c.unrestricted {
                notes.push(format!(
                    "{name}: unrestricted closed-form E[τ] = {}.",
                    style::num(names::round_sig(m, 4))
                ));
            }
        }
        notes.extend(names::shared_parameters(r));
        notes
    }

    fn entries(&self) -> Vec<Entry> {
        let mut out: Vec<Entry> = self
            .curves
            .iter()
            .map(|c| Entry::line(names::legend(self.report, &c.label), style::color(c.index), 3))
            .collect();
        let censored = self.any_censored();
        if self.curves.iter().any(|c| c.mean.is_some()) {
            let label = if censored {
                "restricted mean E[min(τ, T)] (solid |)"
            } else {
                "mean exit time E[τ] (solid |)"
            };
            out.push(Entry::new(
                label,
                Swatch::Line {
                    color: BLACK,
                    width: 2,
                    dashed: false,
                    dot: false,
                },
            ));
        }
        if self.curves.iter().any(|c| c.theory.is_some()) {
            let label = if censored {
                "closed form of the same mean (dashed |)"
            } else {
                "closed-form E[τ] (dashed |)"
            };
            out.push(Entry::dashed(label, BLACK));
        }
        if censored {
            out.push(Entry::marker("censored at T", BLACK, Shape::Cross));
        }
        out
    }
}

impl Picture for Exit<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let xr = self.time_range();
        let title = format!(
            "{}: exit times τ from the saddle region",
            names::model(&self.report.summary.model)
        );
        let page = canvas::page_with_legend(root, &title, &self.notes(xr), &self.entries(), 0)?;
        let h = page.plot.dim_in_pixel().1;
        let (top, bottom) = page.plot.split_vertically(h * 11 / 20);
        let upper = Frame::linear(xr, (0.0, 1.05));
        let xr = upper.x;

        // Survival panel.
        let mut chart = ChartBuilder::on(&top)
            .caption("Kaplan–Meier survival S(t) = P(τ > t)", (FONT, SUBCAPTION))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(xr.0..xr.1, 0.0..1.05)
            .map_err(de)?;
        let fmt = style::tick(xr.1 - xr.0);
        let fmt_y = |v: &f64| style::num(*v);
        chart
            .configure_mesh()
            .x_desc("time t")
            .y_desc("S(t)")
            .label_style((FONT, TICK))
            .axis_desc_style((FONT, LABEL))
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt_y)
            .light_line_style(BLACK.mix(0.05))
            .draw()
            .map_err(de)?;
        for c in &self.curves {
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
                .map_err(de)?;
            if let Some(&last) = c.s.last().filter(|p| p.1 > 0.0 && upper.contains(**p)) {
                chart
                    .draw_series(std::iter::once(Cross::new(last, 8, col.stroke_width(3))))
                    .map_err(de)?;
            }
        }
        for c in &self.curves {
            let col = style::color(c.index);
            if let Some(m) = c.mean.filter(|m| upper.has_x(*m)) {
                chart
                    .draw_series(LineSeries::new([(m, 0.0), (m, 1.05)], col.stroke_width(2)))
                    .map_err(de)?;
            }
            if let Some(m) = c.theory.filter(|m| upper.has_x(*m)) {
                chart
                    .draw_series(DashedLineSeries::new(
                        [(m, 0.0), (m, 1.05)],
                        10,
                        7,
                        style::darker(col).stroke_width(2),
                    ))
                    .map_err(de)?;
            }
        }

        // Histogram panel: density of τ per bin from the drops of S (mass beyond the last time is censored).
        let t_data = finite_range(self.curves.iter().flat_map(|c| c.s.iter().map(|p| p.0)));
        let (t0, t1) = frame::sane_linear(match t_data {
            Some((a, b)) if b > a => (a.min(0.0), b),
            Some((a, _)) => (a.min(0.0), a.min(0.0) + 1.0),
            None => (0.0, 1.0),
        });
        let w = (t1 - t0) / BINS as f64;
        let hists: Vec<(usize, Vec<f64>)> = self
            .curves
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
            .map_err(de)?;
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
            .map_err(de)?;
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
                .map_err(de)?;
        }
        Ok(())
    }
}
