//! `width.png`: the diffusion width over time — tr C(t) (solid) and MSD(t) = E‖x − d‖² (solid with dots)
//! per dynamics, ± one standard error as translucent bands, and the closed forms (O1) dashed in the same
//! colour. The y axis is logarithmic when the positive values span more than two decades.

use super::frame::{self, Frame};
use super::style::{self, CAPTION, FONT, LABEL, SIZE, TICK, out_err};
use crate::error::Result;
use crate::report::{MomentRow, Report};
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
            rows.iter()
                .filter_map(|r| v(r).filter(|y| y.is_finite()).map(|y| (r.t, y)))
                .collect()
        };
        let s = Series {
            index: style::dynamics_index(report, &label),
            trace: curve(&|r| (r.trace, r.trace_stderr)),
            msd: curve(&|r| (r.msd, r.msd_stderr)),
            theory_trace: theory(&|r| r.theory_trace),
            theory_msd: theory(&|r| r.theory_msd),
            label,
        };
        if !(s.trace.is_empty() && s.msd.is_empty()) {
            series.push(s);
        }
    }
    if series.is_empty() {
        return Ok(false);
    }
    let ts = series.iter().flat_map(|s| s.trace.iter().chain(&s.msd).map(|p| p.0));
    let xr = frame::linear(ts, 0.02);
    // The y range follows the measured curves and their bands; a closed form is included only where it stays
    // within a factor 10 (log axis) or one range width (linear axis) of them, and is clipped beyond.
    let measured = || {
        series
            .iter()
            .flat_map(|s| s.trace.iter().chain(&s.msd).flat_map(|p| [p.1 - p.2, p.1, p.1 + p.2]))
    };
    let theory = || {
        series
            .iter()
            .flat_map(|s| s.theory_trace.iter().chain(&s.theory_msd).map(|p| p.1))
    };
    let centres = || series.iter().flat_map(|s| s.trace.iter().chain(&s.msd).map(|p| p.1));
    let pos = frame::positive_range(centres());
    let points = || {
        series
            .iter()
            .flat_map(|s| s.trace.iter().chain(&s.msd).map(|p| (p.0, p.1)))
    };
    let log = matches!(pos, Some((lo, hi)) if hi / lo > 100.0);
    style::register_fonts();
    let e = out_err(path);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let title = format!("{}: diffusion width tr C(t) and MSD(t)", report.summary.model);
    let ydesc = if log {
        "tr C(t), E‖x(t) − d‖²  (log scale)"
    } else {
        "tr C(t), E‖x(t) − d‖²"
    };
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(title, (FONT, CAPTION))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(100);
    if log {
        let (lo, hi) = frame::positive_range(measured().chain(centres())).unwrap_or((1e-3, 1.0));
        let near = theory().filter(|v| *v >= lo / 10.0 && *v <= hi * 10.0);
        let yr = frame::log(measured().chain(centres()).filter(|v| *v >= lo).chain(near)).unwrap_or((1e-3, 1.0));
        let fr = Frame::log_y(xr, yr);
        let mut chart = builder
            .build_cartesian_2d(fr.x.0..fr.x.1, (fr.y.0..fr.y.1).log_scale())
            .map_err(&e)?;
        let pts = points().filter(|p| fr.contains(*p)).map(|p| (p.0, p.1.log10()));
        let corner = style::quiet_corner(pts, fr.x, (fr.y.0.log10(), fr.y.1.log10()));
        draw(&mut chart, report, &series, ydesc, &fr, corner).map_err(&e)?;
    } else {
        let (lo, hi) = frame::finite_range(measured().chain([0.0])).unwrap_or((0.0, 1.0));
        let w = (hi - lo).max(1e-300);
        let near = theory().filter(|v| *v >= lo - w && *v <= hi + w);
        let yr = frame::linear(measured().chain([0.0]).chain(near), 0.05);
        let fr = Frame::linear(xr, yr);
        let mut chart = builder.build_cartesian_2d(fr.x.0..fr.x.1, fr.y.0..fr.y.1).map_err(&e)?;
        let corner = style::quiet_corner(points(), fr.x, fr.y);
        draw(&mut chart, report, &series, ydesc, &fr, corner).map_err(&e)?;
    }
    root.present().map_err(&e)?;
    Ok(true)
}

type DrawError = DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;

/// Draws mesh, bands, curves and legend, everything clipped to `fr` (on a log axis, values ≤ 0 are left out
/// of lines and bands: no line from log 0).
fn draw<'a, Y>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<RangedCoordf64, Y>>,
    report: &Report,
    series: &[Series],
    ydesc: &str,
    fr: &Frame,
    corner: SeriesLabelPosition,
) -> std::result::Result<(), DrawError>
where
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
        .draw()?;
    for s in series {
        let c = style::color(s.index);
        for curve in [&s.trace, &s.msd] {
            chart.draw_series(
                bands(curve, fr)
                    .into_iter()
                    .map(|band| Polygon::new(band, c.mix(0.18).filled())),
            )?;
        }
        let xy = |p: &(f64, f64, f64)| (p.0, p.1);
        chart
            .draw_series(style::segments(fr, s.trace.iter().map(xy), c.stroke_width(3)))?
            .label(style::legend_label(report, &s.label))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        chart.draw_series(style::segments(fr, s.msd.iter().map(xy), c.stroke_width(2)))?;
        chart.draw_series(
            s.msd
                .iter()
                .map(xy)
                .filter(|p| fr.contains(*p))
                .map(|p| Circle::new(p, 4, c.filled())),
        )?;
        for th in [&s.theory_trace, &s.theory_msd] {
            for run in fr.polyline(th.iter().copied()) {
                chart.draw_series(DashedLineSeries::new(run, 12, 8, c.stroke_width(2)))?;
            }
        }
    }
    // Line-style key, in black.
    let k = BLACK;
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
        .label("tr C(t)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], k.stroke_width(3)));
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
        .label("MSD E‖x − d‖²")
        .legend(move |(x, y)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (24, 0)], k.stroke_width(2))
                + Circle::new((12, 0), 4, k.filled())
        });
    if series
        .iter()
        .any(|s| s.theory_trace.len() >= 2 || s.theory_msd.len() >= 2)
    {
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label("closed form (O1), dashed")
            .legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (9, 0)], k.stroke_width(2))
                    + PathElement::new(vec![(15, 0), (24, 0)], k.stroke_width(2))
            });
    }
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
        .label("± 1 standard error")
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], k.mix(0.18).filled()));
    chart
        .configure_series_labels()
        .label_font((FONT, TICK))
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .position(corner)
        .draw()?;
    Ok(())
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
