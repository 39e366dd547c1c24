//! `width.png`: the diffusion width over time — tr C(t) (solid) and MSD(t) = E‖x − d‖² (solid with dots)
//! per dynamics, ± one standard error as translucent bands, and the closed forms (O1) dashed in the same
//! colour. The y axis is logarithmic when the positive values span more than two decades.

use super::style::{self, CAPTION, FONT, LABEL, SIZE, TICK, finite_range, log_range, out_err, padded};
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
    let xr = padded(finite_range(ts), 0.02);
    let ys = || {
        series.iter().flat_map(|s| {
            s.trace
                .iter()
                .chain(&s.msd)
                .flat_map(|p| [p.1 - p.2, p.1, p.1 + p.2])
                .chain(s.theory_trace.iter().chain(&s.theory_msd).map(|p| p.1))
        })
    };
    let pos = finite_range(series.iter().flat_map(|s| {
        s.trace
            .iter()
            .chain(&s.msd)
            .map(|p| p.1)
            .chain(s.theory_trace.iter().chain(&s.theory_msd).map(|p| p.1))
            .filter(|v| *v > 0.0)
    }));
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
        let yr = log_range(finite_range(ys().filter(|v| *v > 0.0)));
        let mut chart = builder
            .build_cartesian_2d(xr.0..xr.1, (yr.0..yr.1).log_scale())
            .map_err(&e)?;
        let pts = points().filter(|p| p.1 > 0.0).map(|p| (p.0, p.1.log10()));
        let corner = style::quiet_corner(pts, xr, (yr.0.log10(), yr.1.log10()));
        draw(&mut chart, report, &series, ydesc, yr.0, corner).map_err(&e)?;
    } else {
        let yr = padded(finite_range(ys()).map(|(lo, hi)| (lo.min(0.0), hi)), 0.05);
        let mut chart = builder.build_cartesian_2d(xr.0..xr.1, yr.0..yr.1).map_err(&e)?;
        let corner = style::quiet_corner(points(), xr, yr);
        draw(&mut chart, report, &series, ydesc, f64::NEG_INFINITY, corner).map_err(&e)?;
    }
    root.present().map_err(&e)?;
    Ok(true)
}

type DrawError = DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>;

/// Draws mesh, bands, curves and legend; band lower edges are clamped at `floor` (the log axis minimum).
fn draw<'a, Y>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, Cartesian2d<RangedCoordf64, Y>>,
    report: &Report,
    series: &[Series],
    ydesc: &str,
    floor: f64,
    corner: SeriesLabelPosition,
) -> std::result::Result<(), DrawError>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let fmt = |v: &f64| style::num(*v);
    let xr = chart.x_range();
    let fx = style::tick(xr.end - xr.start);
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
            if curve.len() >= 2 {
                let mut band: Vec<(f64, f64)> = curve.iter().map(|p| (p.0, (p.1 + p.2).max(floor))).collect();
                band.extend(curve.iter().rev().map(|p| (p.0, (p.1 - p.2).max(floor))));
                chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.18).filled())))?;
            }
        }
        // On a log axis (floor > −∞) non-positive values cannot be drawn and are left out.
        let keep = |p: &&(f64, f64, f64)| p.1 > floor || floor == f64::NEG_INFINITY;
        let xy = |p: &(f64, f64, f64)| (p.0, p.1);
        chart
            .draw_series(style::segments(s.trace.iter().filter(keep).map(xy), c.stroke_width(3)))?
            .label(style::legend_label(report, &s.label))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        chart.draw_series(style::segments(s.msd.iter().filter(keep).map(xy), c.stroke_width(2)))?;
        chart.draw_series(s.msd.iter().filter(keep).map(|p| Circle::new(xy(p), 4, c.filled())))?;
        for th in [&s.theory_trace, &s.theory_msd] {
            if th.len() >= 2 {
                chart.draw_series(DashedLineSeries::new(
                    th.iter().copied().filter(|p| p.1 > floor || floor == f64::NEG_INFINITY),
                    12,
                    8,
                    c.stroke_width(2),
                ))?;
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
