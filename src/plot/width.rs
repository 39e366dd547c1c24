//! `width.png`: the diffusion width over time — tr C(t) (solid) and MSD(t) = E‖x − d‖² (thin, with dots)
//! per dynamics, ± one standard error as shaded bands, and the closed forms (O1) dashed in the same colour,
//! drawn on top. The y axis is logarithmic when the positive values span more than two decades.
//!
//! Rows without paths (n = 0: every path diverged or stopped) are left out and said so; a closed form that
//! leaves the range of the measured curves (it can overflow to 1e300 and NaN for long horizons) is clipped,
//! and the note says from when.

use super::canvas::{self, Picture, de};
use super::frame::{self, Frame};
use super::legend::{Entry, Swatch};
use super::names;
use super::style::{self, FONT, LABEL, TICK};
use crate::error::Result;
use crate::report::{MomentRow, Report};
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::path::Path;

/// One curve: time, value, standard error (points with a non-finite value are dropped).
type Curve = Vec<(f64, f64, f64)>;

struct Series {
    index: usize,
    label: String,
    trace: Curve,
    msd: Curve,
    theory_trace: Vec<(f64, f64)>,
    theory_msd: Vec<(f64, f64)>,
    /// First time at which no path is left (n = 0), if any.
    empty_from: Option<f64>,
    /// First time at which paths run but tr C or the MSD is missing (withheld after divergences, or not
    /// estimable), if any.
    missing_from: Option<f64>,
}

struct Width<'a> {
    report: &'a Report,
    series: Vec<Series>,
}

/// Renders the figure to `path`. Returns `Ok(false)` when there is no finite trace or MSD.
pub fn render(report: &Report, path: &Path) -> Result<bool> {
    let mut series = Vec::new();
    for label in style::all_labels(report) {
        let mut rows: Vec<&MomentRow> = report
            .moments
            .iter()
            .filter(|m| m.label == label && m.t.is_finite())
            .collect();
        rows.sort_by(|a, b| a.t.total_cmp(&b.t));
        let empty_from = rows.iter().find(|r| r.n == 0).map(|r| r.t);
        let rows: Vec<&MomentRow> = rows.into_iter().filter(|r| r.n > 0).collect();
        let missing_from = rows
            .iter()
            .find(|r| !(r.trace.is_finite() && r.msd.is_finite()))
            .map(|r| r.t);
        let curve = |v: &dyn Fn(&MomentRow) -> (f64, f64)| -> Curve {
            rows.iter()
                .filter_map(|r| {
                    let (y, s) = v(r);
                    y.is_finite()
                        .then_some((r.t, y, if s.is_finite() { s.abs() } else { 0.0 }))
                })
                .collect()
        };
        let theory = |v: &dyn Fn(&MomentRow) -> Option<f64>| -> Vec<(f64, f64)> {
            rows.iter().filter_map(|r| v(r).map(|y| (r.t, y))).collect()
        };
        let s = Series {
            index: style::dynamics_index(report, &label),
            trace: curve(&|r| (r.trace, r.trace_stderr)),
            msd: curve(&|r| (r.msd, r.msd_stderr)),
            theory_trace: theory(&|r| r.theory_trace),
            theory_msd: theory(&|r| r.theory_msd),
            empty_from,
            missing_from,
            label,
        };
        if !(s.trace.is_empty() && s.msd.is_empty()) {
            series.push(s);
        }
    }
    if series.is_empty() {
        return Ok(false);
    }
    canvas::save(path, &Width { report, series })?;
    Ok(true)
}

impl Width<'_> {
    fn measured(&self) -> impl Iterator<Item = f64> + '_ {
        self.series
            .iter()
            .flat_map(|s| s.trace.iter().chain(&s.msd).flat_map(|p| [p.1 - p.2, p.1, p.1 + p.2]))
    }
    fn centres(&self) -> impl Iterator<Item = f64> + '_ {
        self.series
            .iter()
            .flat_map(|s| s.trace.iter().chain(&s.msd).map(|p| p.1))
    }
    fn theory(&self) -> impl Iterator<Item = &(f64, f64)> + '_ {
        self.series
            .iter()
            .flat_map(|s| s.theory_trace.iter().chain(&s.theory_msd))
    }

    /// The plotted box: time over the data; y over the measured curves and their bands, plus the closed
    /// forms where they stay within a factor 10 (log axis) or one range width (linear) of them.
    fn frame(&self) -> Frame {
        let x = frame::linear(
            self.series
                .iter()
                .flat_map(|s| s.trace.iter().chain(&s.msd).map(|p| p.0)),
            0.02,
        );
        let pos = frame::positive_range(self.centres());
        let log = matches!(pos, Some((lo, hi)) if hi / lo > 100.0);
        if log {
            let (lo, hi) = frame::positive_range(self.measured().chain(self.centres())).unwrap_or((1e-3, 1.0));
            // Lower band edges far below the smallest centre would stretch the axis: cut at centre / 100.
            let floor = pos.map_or(lo, |p| p.0 / 100.0);
            let near = self
                .theory()
                .map(|p| p.1)
                .filter(|v| *v >= lo / 10.0 && *v <= hi * 10.0);
            let y = frame::log(
                self.measured()
                    .chain(self.centres())
                    .filter(|v| *v >= floor)
                    .chain(near),
            )
            .unwrap_or((1e-3, 1.0));
            Frame::log_y(x, y)
        } else {
            let (lo, hi) = frame::finite_range(self.measured().chain([0.0])).unwrap_or((0.0, 1.0));
            let w = (hi - lo).max(1e-300);
            let near = self.theory().map(|p| p.1).filter(|v| *v >= lo - w && *v <= hi + w);
            Frame::linear(x, frame::linear(self.measured().chain([0.0]).chain(near), 0.05))
        }
    }

    fn notes(&self, fr: &Frame) -> Vec<String> {
        let mut notes = Vec::new();
        notes.extend(names::shared_parameters(self.report));
        let has_theory = self.theory().any(|p| p.1.is_finite());
        if has_theory {
            notes.push("Dashed: the closed form (O1) of the linearisation at the saddle, drawn over the data.".into());
        }
        for s in &self.series {
            let mut said: Vec<String> = Vec::new();
            let mut leaves: Vec<(&str, String)> = Vec::new();
            for (what, th) in [("tr C", &s.theory_trace), ("MSD", &s.theory_msd)] {
                if !th.iter().any(|p| p.1.is_finite()) {
                    continue;
                }
                // First time, after it was first inside the plot, that the closed form leaves it (above,
                // below, or overflowing to ∞ / NaN).
                let Some(first) = th.iter().position(|p| fr.contains(*p)) else {
                    leaves.push((what, "lie outside the plotted range".into()));
                    continue;
                };
                if let Some(p) = th[first..].iter().find(|p| p.0.is_finite() && !fr.has_y(p.1)) {
                    let how = if p.1.is_nan() || p.1.is_infinite() {
                        "overflow"
                    } else if p.1 > fr.y.1 {
                        "leave the plot above"
                    } else {
                        "leave the plot below"
                    };
                    leaves.push((what, format!("{how} from t = {}", style::num(p.0))));
                }
            }
            // Verbs are stored in the plural form; one closed form takes the singular.
            let singular = |x: &str| {
                x.replacen("overflow", "overflows", 1)
                    .replacen("leave ", "leaves ", 1)
                    .replacen("lie ", "lies ", 1)
            };
            match leaves.as_slice() {
                [(a, x), (b, y)] if x == y => said.push(format!("the closed forms of {a} and {b} {x}")),
                _ => said.extend(
                    leaves
                        .iter()
                        .map(|(w, x)| format!("the closed form of {w} {}", singular(x))),
                ),
            }
            if let Some(t) = s.missing_from {
                said.push(format!(
                    "tr C or the MSD is missing from t = {} (withheld once more than 1 % of the paths diverged, \
                     or not estimable)",
                    style::num(t)
                ));
            }
            if let Some(t) = s.empty_from {
                said.push(format!(
                    "no path is left from t = {} (all diverged or stopped), the curves end there",
                    style::num(t)
                ));
            }
            if !said.is_empty() {
                notes.push(format!(
                    "{}: {}.",
                    names::legend(self.report, &s.label),
                    said.join("; ")
                ));
            }
        }
        // Are the ±1 SE bands visible at all? Compare the widest band with the plot's height.
        let widest = self
            .series
            .iter()
            .flat_map(|s| s.trace.iter().chain(&s.msd))
            .filter(|p| fr.has_y(p.1))
            .map(|p| {
                if fr.log_y {
                    let lo = (p.1 - p.2).max(fr.y.0);
                    ((p.1 + p.2) / lo).log10() / (fr.y.1 / fr.y.0).log10()
                } else {
                    2.0 * p.2 / (fr.y.1 - fr.y.0)
                }
            })
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        if widest < 0.006 {
            notes.push("The ±1 standard-error bands are narrower than the lines everywhere.".into());
        }
        notes
    }

    fn entries(&self) -> Vec<Entry> {
        let mut out: Vec<Entry> = self
            .series
            .iter()
            .map(|s| Entry::line(names::legend(self.report, &s.label), style::color(s.index), 3))
            .collect();
        let k = BLACK;
        out.push(Entry::line("tr C(t)", k, 3));
        out.push(Entry::line_dot("MSD E‖x − d‖²", k, 1));
        if self.theory().any(|p| p.1.is_finite()) {
            out.push(Entry::dashed("closed form (O1)", k));
        }
        out.push(Entry::new("± 1 standard error", Swatch::Fill { color: k, alpha: 0.25 }));
        out
    }
}

impl Picture for Width<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let fr = self.frame();
        let title = format!(
            "{}: diffusion width tr C(t) and MSD(t)",
            names::model(&self.report.summary.model)
        );
        let page = canvas::page_with_legend(root, &title, &self.notes(&fr), &self.entries(), 0)?;
        let mut builder = ChartBuilder::on(&page.plot);
        builder.margin(20).x_label_area_size(60).y_label_area_size(100);
        if fr.log_y {
            let chart = builder
                .build_cartesian_2d(fr.x.0..fr.x.1, (fr.y.0..fr.y.1).log_scale())
                .map_err(de)?;
            self.draw_on(chart, &fr, "tr C(t), E‖x(t) − d‖²  (log scale)")
        } else {
            let chart = builder.build_cartesian_2d(fr.x.0..fr.x.1, fr.y.0..fr.y.1).map_err(de)?;
            self.draw_on(chart, &fr, "tr C(t), E‖x(t) − d‖²")
        }
    }
}

impl Width<'_> {
    /// Mesh, bands, curves, then the closed forms on top; everything clipped to `fr` (on a log axis, values
    /// ≤ 0 are left out of lines and bands: no line from log 0).
    fn draw_on<'a, DB, Y>(
        &self,
        mut chart: ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
        fr: &Frame,
        ydesc: &str,
    ) -> Result<()>
    where
        DB: DrawingBackend + 'a,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let fmt = |v: &f64| style::num(*v);
        let fx = style::tick(fr.x.1 - fr.x.0);
        chart
            .configure_mesh()
            .x_desc("time t")
            .y_desc(ydesc)
            .label_style((FONT, TICK))
            .axis_desc_style((FONT, LABEL))
            .y_label_formatter(&fmt)
            .x_label_formatter(&fx)
            .light_line_style(BLACK.mix(0.05))
            .draw()
            .map_err(de)?;
        for s in &self.series {
            let c = style::color(s.index);
            for curve in [&s.trace, &s.msd] {
                for band in bands(curve, fr) {
                    chart
                        .draw_series(std::iter::once(Polygon::new(band, c.mix(0.25).filled())))
                        .map_err(de)?;
                }
            }
        }
        let xy = |p: &(f64, f64, f64)| (p.0, p.1);
        for s in &self.series {
            let c = style::color(s.index);
            chart
                .draw_series(style::segments(fr, s.trace.iter().map(xy), c.stroke_width(3)))
                .map_err(de)?;
            chart
                .draw_series(style::segments(fr, s.msd.iter().map(xy), c.stroke_width(1)))
                .map_err(de)?;
            chart
                .draw_series(
                    s.msd
                        .iter()
                        .map(xy)
                        .filter(|p| fr.contains(*p))
                        .map(|p| Circle::new(p, 3, c.filled())),
                )
                .map_err(de)?;
        }
        for s in &self.series {
            let c = style::color(s.index);
            for th in [&s.theory_trace, &s.theory_msd] {
                for run in fr.polyline(th.iter().copied()) {
                    chart
                        .draw_series(DashedLineSeries::new(run, 12, 9, style::darker(c).stroke_width(2)))
                        .map_err(de)?;
                }
            }
        }
        Ok(())
    }
}

/// The ±1 SE band of `curve` as polygons clamped into `fr`, one per run of consecutive drawable points
/// (finite, and positive on a log axis); a band's lower edge below the axis is drawn at the axis.
fn bands(curve: &Curve, fr: &Frame) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut run: Vec<&(f64, f64, f64)> = Vec::new();
    let mut flush = |run: &mut Vec<&(f64, f64, f64)>| {
        if run.len() >= 2 {
            let mut band: Vec<(f64, f64)> = run.iter().map(|p| fr.clamp((p.0, p.1 + p.2))).collect();
            band.extend(run.iter().rev().map(|p| fr.clamp((p.0, p.1 - p.2))));
            out.push(band);
        }
        run.clear();
    };
    for p in curve {
        if fr.drawable((p.0, p.1)) && p.2.is_finite() {
            run.push(p);
        } else {
            flush(&mut run);
        }
    }
    flush(&mut run);
    out
}
