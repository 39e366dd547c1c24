//! `trajectories.png`: stored sample paths in the plane of the first two coordinates, over a filled contour
//! plot of f (when a 2-D landscape is given) with iso-lines, the saddle and the minima marked.

use super::frame::{self, Frame};
use super::style::{self, CAPTION, FONT, LABEL, SIZE, TICK, out_err};
use super::{report_dim, var_name};
use crate::error::Result;
use crate::model::landscape::Landscape;
use crate::report::Report;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// A dynamics label and its path's (t, x, y) points.
type LabelledPath = (String, Vec<(f64, f64, f64)>);

/// At most this many paths per dynamics are drawn.
pub const MAX_PATHS: usize = 25;
const GRID: (usize, usize) = (240, 160);

/// Renders the figure to `path`. Returns `Ok(false)` (nothing written) when d < 2 or no path has two finite
/// coordinates.
pub fn render(report: &Report, landscape: Option<&dyn Landscape>, path: &Path) -> Result<bool> {
    let d = report_dim(report);
    if d < 2 {
        return Ok(false);
    }
    // (label, path) → [(t, x, y)] sorted by t.
    let mut paths: BTreeMap<(usize, u64), LabelledPath> = BTreeMap::new();
    for r in &report.paths {
        if r.x.len() < 2 || !(r.x[0].is_finite() && r.x[1].is_finite()) {
            continue;
        }
        let key = (style::dynamics_index(report, &r.label), r.path);
        let e = paths.entry(key).or_insert_with(|| (r.label.clone(), Vec::new()));
        e.1.push((r.t, r.x[0], r.x[1]));
    }
    // Keep the first MAX_PATHS paths of each dynamics.
    let mut per: BTreeMap<usize, usize> = BTreeMap::new();
    paths.retain(|(i, _), _| {
        let c = per.entry(*i).or_default();
        *c += 1;
        *c <= MAX_PATHS
    });
    if paths.is_empty() {
        return Ok(false);
    }
    for (_, pts) in paths.values_mut() {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let saddle = (report.summary.saddle.len() >= 2).then(|| (report.summary.saddle[0], report.summary.saddle[1]));
    let minima = minima(report);

    let xs = paths.values().flat_map(|(_, p)| p.iter().map(|q| q.1));
    let ys = paths.values().flat_map(|(_, p)| p.iter().map(|q| q.2));
    let xr = frame::linear(xs.chain(saddle.map(|s| s.0)).chain(minima.iter().map(|m| m.1)), 0.08);
    let yr = frame::linear(ys.chain(saddle.map(|s| s.1)).chain(minima.iter().map(|m| m.2)), 0.08);
    let fr = Frame::linear(xr, yr);
    let (xr, yr) = (fr.x, fr.y);

    style::register_fonts();
    let e = out_err(path);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let contours = landscape.filter(|l| l.dim() == 2 && d == 2);
    let title = if contours.is_some() {
        format!("{}: sample paths on the landscape f", report.summary.model)
    } else {
        format!("{}: sample paths (first two coordinates)", report.summary.model)
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, CAPTION))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
        .map_err(&e)?;

    if let Some(l) = contours {
        draw_contours(&mut chart, l, xr, yr, saddle).map_err(&e)?;
    }
    let (fx, fy) = (style::tick(xr.1 - xr.0), style::tick(yr.1 - yr.0));
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .x_desc(var_name(report, 0))
        .y_desc(var_name(report, 1))
        .label_style((FONT, TICK))
        .axis_desc_style((FONT, LABEL))
        .draw()
        .map_err(&e)?;

    let mut labelled = std::collections::BTreeSet::new();
    for ((i, _), (label, pts)) in &paths {
        let c = style::color(*i);
        let line = chart
            .draw_series(style::segments(
                &fr,
                pts.iter().map(|p| (p.1, p.2)),
                c.mix(0.75).stroke_width(2),
            ))
            .map_err(&e)?;
        if labelled.insert(*i) {
            line.label(style::legend_label(report, label))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3)));
        }
        if let Some(last) = pts.last().filter(|l| fr.contains((l.1, l.2))) {
            chart
                .draw_series(std::iter::once(Circle::new((last.1, last.2), 4, c.filled())))
                .map_err(&e)?;
        }
    }
    if let Some((sx, sy)) = saddle.filter(|s| fr.contains(*s)) {
        chart
            .draw_series(std::iter::once(Cross::new((sx, sy), 10, BLACK.stroke_width(4))))
            .map_err(&e)?
            .label("saddle")
            .legend(|(x, y)| Cross::new((x + 12, y), 7, BLACK.stroke_width(3)));
        chart
            .draw_series(std::iter::once(Text::new(
                "saddle".to_string(),
                (sx, sy),
                (FONT, TICK).into_font().color(&BLACK).pos(text_offset()),
            )))
            .map_err(&e)?;
    }
    let minima: Vec<_> = minima.into_iter().filter(|m| fr.contains((m.1, m.2))).collect();
    if !minima.is_empty() {
        chart
            .draw_series(
                minima
                    .iter()
                    .map(|m| TriangleMarker::new((m.1, m.2), 10, BLACK.filled())),
            )
            .map_err(&e)?
            .label("minimum")
            .legend(|(x, y)| TriangleMarker::new((x + 12, y), 8, BLACK.filled()));
        chart
            .draw_series(minima.iter().map(|m| {
                Text::new(
                    m.0.clone(),
                    (m.1, m.2),
                    (FONT, TICK).into_font().color(&BLACK).pos(text_offset()),
                )
            }))
            .map_err(&e)?;
    }
    chart
        .configure_series_labels()
        .label_font((FONT, TICK))
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .position(style::quiet_corner(
            paths.values().flat_map(|(_, p)| p.iter().map(|q| (q.1, q.2))),
            xr,
            yr,
        ))
        .draw()
        .map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(true)
}

fn text_offset() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Left, VPos::Bottom)
}

/// Attractor labels and centres (first two coordinates), deduplicated, from the summary's basin classes.
fn minima(report: &Report) -> Vec<(String, f64, f64)> {
    let mut out: Vec<(String, f64, f64)> = Vec::new();
    for b in report.summary.dynamics.iter().flat_map(|d| &d.basins) {
        if let Some(p) = b.point.as_ref().filter(|p| p.len() >= 2)
            && !out.iter().any(|m| m.0 == b.label || (m.1 == p[0] && m.2 == p[1]))
        {
            out.push((b.label.clone(), p[0], p[1]));
        }
    }
    out
}

type Chart<'a, 'b> = ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
type DrawResult = std::result::Result<(), DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>>;

/// Filled contour (diverging colours centred on f(saddle): blue below, orange above) and iso-lines.
fn draw_contours(
    chart: &mut Chart<'_, '_>,
    l: &dyn Landscape,
    xr: (f64, f64),
    yr: (f64, f64),
    saddle: Option<(f64, f64)>,
) -> DrawResult {
    let (nx, ny) = GRID;
    let dx = (xr.1 - xr.0) / nx as f64;
    let dy = (yr.1 - yr.0) / ny as f64;
    // Values at cell corners: (nx+1) × (ny+1).
    let mut v = vec![f64::NAN; (nx + 1) * (ny + 1)];
    for j in 0..=ny {
        for i in 0..=nx {
            v[j * (nx + 1) + i] = l.value(&[xr.0 + i as f64 * dx, yr.0 + j as f64 * dy]);
        }
    }
    let mut sorted: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if sorted.is_empty() {
        return Ok(());
    }
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
    let centre = saddle
        .map(|s| l.value(&[s.0, s.1]))
        .filter(|c| c.is_finite() && *c >= q(0.0) && *c <= q(1.0))
        .unwrap_or_else(|| q(0.5));
    let mut scale = (q(0.98) - centre).abs().max((centre - q(0.02)).abs());
    if !(scale.is_finite() && scale > 0.0) {
        scale = 1.0;
    }
    let at = |i: usize, j: usize| v[j * (nx + 1) + i];
    chart.draw_series((0..ny).flat_map(|j| {
        (0..nx).map(move |i| {
            let m = 0.25 * (at(i, j) + at(i + 1, j) + at(i, j + 1) + at(i + 1, j + 1));
            let x0 = xr.0 + i as f64 * dx;
            let y0 = yr.0 + j as f64 * dy;
            Rectangle::new([(x0, y0), (x0 + dx, y0 + dy)], diverging((m - centre) / scale).filled())
        })
    }))?;
    // Iso-lines at centre + k·scale/4, k = −4..4; the saddle level (k = 0) bold.
    for k in -4i32..=4 {
        let level = centre + k as f64 * scale / 4.0;
        let segs = march(&v, nx, ny, level);
        let style = if k == 0 {
            RGBColor(40, 40, 40).stroke_width(2)
        } else {
            RGBColor(90, 90, 90).mix(0.6).stroke_width(1)
        };
        chart.draw_series(segs.into_iter().map(|((a, b), (c, d))| {
            PathElement::new(
                vec![(xr.0 + a * dx, yr.0 + b * dy), (xr.0 + c * dx, yr.0 + d * dy)],
                style,
            )
        }))?;
    }
    Ok(())
}

/// Light diverging colour for t ∈ [−1, 1]: blue (low) – white – orange (high). NaN → light grey.
fn diverging(t: f64) -> RGBColor {
    if !t.is_finite() {
        return RGBColor(220, 220, 220);
    }
    let t = t.clamp(-1.0, 1.0);
    let s = t.abs().sqrt();
    let (r, g, b) = if t < 0.0 {
        (120.0, 160.0, 215.0)
    } else {
        (240.0, 165.0, 110.0)
    };
    let mix = |c: f64| (255.0 + (c - 255.0) * s).round() as u8;
    RGBColor(mix(r), mix(g), mix(b))
}

/// Marching squares: segments of the iso-line f = level, in grid-index coordinates.
#[allow(clippy::type_complexity)]
fn march(v: &[f64], nx: usize, ny: usize, level: f64) -> Vec<((f64, f64), (f64, f64))> {
    let at = |i: usize, j: usize| v[j * (nx + 1) + i];
    let mut out = Vec::new();
    for j in 0..ny {
        for i in 0..nx {
            let c = [
                (i as f64, j as f64, at(i, j)),
                (i as f64 + 1.0, j as f64, at(i + 1, j)),
                (i as f64 + 1.0, j as f64 + 1.0, at(i + 1, j + 1)),
                (i as f64, j as f64 + 1.0, at(i, j + 1)),
            ];
            if c.iter().any(|p| !p.2.is_finite()) {
                continue;
            }
            let mut pts = Vec::with_capacity(4);
            for k in 0..4 {
                let (a, b) = (c[k], c[(k + 1) % 4]);
                if (a.2 < level) != (b.2 < level) {
                    let s = (level - a.2) / (b.2 - a.2);
                    pts.push((a.0 + s * (b.0 - a.0), a.1 + s * (b.1 - a.1)));
                }
            }
            if pts.len() >= 2 {
                out.push((pts[0], pts[1]));
            }
            if pts.len() == 4 {
                out.push((pts[2], pts[3]));
            }
        }
    }
    out
}
