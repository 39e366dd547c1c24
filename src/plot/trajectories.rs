//! `trajectories.png`: stored sample paths in the plane of the first two coordinates, over a filled contour
//! plot of f (when a 2-D landscape is given) with iso-lines and a labelled colour bar, the exit region, the
//! saddle and the minima marked. x and y are drawn to the same scale when their spans are within a factor
//! 10 (else the caption says they are not). Where f is not finite the background is grey and the figure
//! says so; when the chosen "saddle" is a minimum (no negative Hessian eigenvalue) the title says so.

use super::canvas::{self, Picture, de};
use super::colorbar;
use super::frame::{self, Frame};
use super::legend::{self, Entry, Shape};
use super::names;
use super::style::{self, FONT, LABEL, TICK};
use super::{report_dim, var_name};
use crate::error::Result;
use crate::model::Region;
use crate::model::landscape::Landscape;
use crate::report::Report;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// A dynamics label and its path's (t, x, y) points.
type LabelledPath = (String, Vec<(f64, f64, f64)>);

/// At most this many paths per dynamics are drawn.
pub const MAX_PATHS: usize = 25;
const GRID: (usize, usize) = (240, 160);

struct Trajectories<'a> {
    report: &'a Report,
    landscape: Option<&'a dyn Landscape>,
    paths: BTreeMap<(usize, u64), LabelledPath>,
    saddle: Option<(f64, f64)>,
    minima: Vec<(String, f64, f64)>,
    /// Provisional ranges (data, padded); widened to equal aspect once the plot's size is known.
    x: (f64, f64),
    y: (f64, f64),
}

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
    let region = region_extent(report);
    let xs = paths.values().flat_map(|(_, p)| p.iter().map(|q| q.1));
    let ys = paths.values().flat_map(|(_, p)| p.iter().map(|q| q.2));
    let x = frame::linear(
        xs.chain(saddle.map(|s| s.0))
            .chain(minima.iter().map(|m| m.1))
            .chain(region.iter().map(|p| p.0)),
        0.08,
    );
    let y = frame::linear(
        ys.chain(saddle.map(|s| s.1))
            .chain(minima.iter().map(|m| m.2))
            .chain(region.iter().map(|p| p.1)),
        0.08,
    );
    let landscape = landscape.filter(|l| l.dim() == 2 && d == 2);
    canvas::save(
        path,
        &Trajectories {
            report,
            landscape,
            paths,
            saddle,
            minima,
            x,
            y,
        },
    )?;
    Ok(true)
}

/// Whether the chosen point has no negative Hessian eigenvalue (a minimum, not a saddle).
fn is_minimum(report: &Report) -> bool {
    let e = &report.summary.saddle_eigenvalues;
    !e.is_empty() && e.iter().all(|v| *v >= 0.0)
}

impl Trajectories<'_> {
    fn entries(&self) -> Vec<Entry> {
        let r = self.report;
        let mut seen = std::collections::BTreeSet::new();
        let mut out: Vec<Entry> = self
            .paths
            .iter()
            .filter(|((i, _), _)| seen.insert(*i))
            .map(|((i, _), (label, _))| Entry::line(names::legend(r, label), style::color(*i), 3))
            .collect();
        out.push(Entry::marker(
            "position at T (or at exit)",
            RGBColor(90, 90, 90),
            Shape::Circle,
        ));
        if self.saddle.is_some() {
            let what = if is_minimum(r) {
                "chosen point (a minimum)"
            } else {
                "saddle d"
            };
            out.push(Entry::marker(what, BLACK, Shape::Cross));
        }
        if !self.minima.is_empty() {
            out.push(Entry::marker("minimum", BLACK, Shape::Triangle));
        }
        if region_outline(r).is_some() {
            out.push(Entry::dashed(format!("exit region ({})", region_text(r)), BLACK));
        }
        if self.landscape.is_some() && self.saddle.is_some() {
            out.push(Entry::line(
                "level line f = f(d) (thin: other levels)",
                RGBColor(40, 40, 40),
                2,
            ));
        }
        out
    }
}

impl Picture for Trajectories<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let r = self.report;
        let model = names::model(&r.summary.model);
        let title = if is_minimum(r) {
            format!("{model}: sample paths near a minimum (the chosen point has index 0, not a saddle)")
        } else if self.landscape.is_some() {
            format!("{model}: sample paths on the landscape f")
        } else {
            format!("{model}: sample paths (first two coordinates)")
        };
        let mut notes = Vec::new();
        let equal = frame::comparable(self.x, self.y);
        if !equal {
            let (sx, sy) = (self.x.1 - self.x.0, self.y.1 - self.y.0);
            let (big, small, k) = if sy > sx {
                ("y", "x", sy / sx)
            } else {
                ("x", "y", sx / sy)
            };
            notes.push(format!(
                "{} and {} are not drawn to the same scale: {big} spans {}× the range of {small}.",
                var_name(r, 0),
                var_name(r, 1),
                style::num(names::round_sig(k, 2))
            ));
        }
        notes.extend(names::shared_parameters(r));
        let side = if self.landscape.is_some() { colorbar::WIDTH } else { 0 };
        let page = canvas::page_with_legend(root, &title, &notes, &self.entries(), side)?;
        let build = |x: (f64, f64), y: (f64, f64)| {
            ChartBuilder::on(&page.plot)
                .margin(20)
                .x_label_area_size(60)
                .y_label_area_size(90)
                .build_cartesian_2d(x.0..x.1, y.0..y.1)
                .map_err(de)
        };
        let (mut x, mut y) = (self.x, self.y);
        if equal {
            let px = build(x, y)?.plotting_area().dim_in_pixel();
            (x, y) = frame::equal_aspect(x, y, px);
        }
        let fr = Frame::linear(x, y);
        let mut chart = build(fr.x, fr.y)?;

        let mut scale_note = None;
        if let Some(l) = self.landscape {
            let c = draw_contours(&mut chart, l, &fr, self.saddle)?;
            if let Some(col) = &page.side {
                colorbar::draw(
                    col,
                    &format!("f({}, {})", var_name(r, 0), var_name(r, 1)),
                    (c.centre - c.scale, c.centre + c.scale),
                    &|v| diverging((v - c.centre) / c.scale),
                    340,
                )?;
                let (_, below) = col.split_vertically(350);
                let mut lines = vec![format!(
                    "colours: f relative to f(d) = {} (beyond the bar: its end colour)",
                    style::num(names::round_sig(c.centre, 4))
                )];
                if c.nonfinite > 0.0 {
                    lines.push(if c.nonfinite >= 1.0 {
                        "f is not finite (NaN or ±∞) anywhere on the plotted region".to_string()
                    } else {
                        format!(
                            "grey: f is not finite (NaN or ±∞) on {} % of the plotted region",
                            style::num(names::round_sig(100.0 * c.nonfinite, 2))
                        )
                    });
                }
                let entries: Vec<Entry> = lines.into_iter().map(Entry::text).collect();
                legend::draw(&below, &entries)?;
            }
            scale_note = (c.nonfinite >= 1.0).then_some(());
        }
        let (fx, fy) = (style::tick(fr.x.1 - fr.x.0), style::tick(fr.y.1 - fr.y.0));
        chart
            .configure_mesh()
            .disable_mesh()
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .x_desc(var_name(r, 0))
            .y_desc(var_name(r, 1))
            .label_style((FONT, TICK))
            .axis_desc_style((FONT, LABEL))
            .draw()
            .map_err(de)?;
        if scale_note.is_some() {
            // The whole background is grey: say it on the plot too.
            chart
                .draw_series(std::iter::once(Text::new(
                    "f is not finite on this region",
                    (fr.x.0 + 0.03 * (fr.x.1 - fr.x.0), fr.y.1 - 0.03 * (fr.y.1 - fr.y.0)),
                    (FONT, TICK).into_font().color(&BLACK),
                )))
                .map_err(de)?;
        }
        if let Some(outline) = region_outline(r) {
            for run in fr.polyline(outline.iter().copied()) {
                chart
                    .draw_series(DashedLineSeries::new(run, 12, 8, BLACK.stroke_width(2)))
                    .map_err(de)?;
            }
        }
        for ((i, _), (_, pts)) in &self.paths {
            let c = style::color(*i);
            chart
                .draw_series(style::segments(
                    &fr,
                    pts.iter().map(|p| (p.1, p.2)),
                    c.mix(0.75).stroke_width(2),
                ))
                .map_err(de)?;
        }
        for ((i, _), (_, pts)) in &self.paths {
            let c = style::color(*i);
            if let Some(last) = pts.last().filter(|l| fr.contains((l.1, l.2))) {
                chart
                    .draw_series(std::iter::once(Circle::new((last.1, last.2), 4, c.filled())))
                    .map_err(de)?;
            }
        }
        // Markers, then their labels offset by a few pixels so that they never sit on the marker.
        let font = (FONT, TICK).into_font().color(&BLACK).pos(label_anchor());
        let mut labels: Vec<(String, (f64, f64))> = Vec::new();
        if let Some((sx, sy)) = self.saddle.filter(|s| fr.contains(*s)) {
            chart
                .draw_series(std::iter::once(Cross::new((sx, sy), 10, WHITE.stroke_width(7))))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(Cross::new((sx, sy), 10, BLACK.stroke_width(4))))
                .map_err(de)?;
            let what = if is_minimum(r) { "chosen point" } else { "saddle" };
            labels.push((format!("{what} {}", point_text(sx, sy)), (sx, sy)));
        }
        let minima: Vec<_> = self.minima.iter().filter(|m| fr.contains((m.1, m.2))).collect();
        chart
            .draw_series(
                minima
                    .iter()
                    .map(|m| TriangleMarker::new((m.1, m.2), 10, BLACK.filled())),
            )
            .map_err(de)?;
        labels.extend(minima.iter().map(|m| (m.0.clone(), (m.1, m.2))));
        let widths: Vec<i32> = labels
            .iter()
            .map(|(text, _)| canvas::text_width(&page.plot, text, TICK as f64) as i32)
            .collect();
        chart
            .draw_series(labels.iter().zip(&widths).map(|((text, p), w)| {
                EmptyElement::at(*p)
                    + Rectangle::new([(12, -32), (20 + w, -8)], WHITE.mix(0.75).filled())
                    + Text::new(text.clone(), (16, -11), font.clone())
            }))
            .map_err(de)?;
        Ok(())
    }
}

fn label_anchor() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Left, VPos::Bottom)
}

fn point_text(x: f64, y: f64) -> String {
    format!(
        "({}, {})",
        style::num(names::round_sig(x, 3)),
        style::num(names::round_sig(y, 3))
    )
}

/// Attractor names and centres (first two coordinates), deduplicated, from the summary's basin classes.
fn minima(report: &Report) -> Vec<(String, f64, f64)> {
    let mut out: Vec<(String, f64, f64)> = Vec::new();
    let mut labels: Vec<&str> = Vec::new();
    for b in report.summary.dynamics.iter().flat_map(|d| &d.basins) {
        if let Some(p) = b.point.as_ref().filter(|p| p.len() >= 2)
            && !labels.contains(&b.label.as_str())
            && !out.iter().any(|m| m.1 == p[0] && m.2 == p[1])
        {
            labels.push(&b.label);
            out.push((names::basin(&b.label, Some(&p[..2])), p[0], p[1]));
        }
    }
    out
}

/// The exit region in the plane of the first two coordinates, as a closed outline (ball: circle; box:
/// rectangle) or, for a slab in 2-D, its two boundary lines joined through a break (NaN). None if the run
/// has no exit region or it cannot be drawn in this plane.
pub(super) fn region_outline(report: &Report) -> Option<Vec<(f64, f64)>> {
    let region = report.summary.exit_region.as_ref()?;
    let c = region.center();
    if c.len() < 2 || !(c[0].is_finite() && c[1].is_finite()) {
        return None;
    }
    match region {
        Region::Ball { radius, .. } => Some(
            (0..=128)
                .map(|k| {
                    let a = k as f64 / 128.0 * std::f64::consts::TAU;
                    (c[0] + radius * a.cos(), c[1] + radius * a.sin())
                })
                .collect(),
        ),
        Region::Box { half_widths: h, .. } if h.len() >= 2 => Some(vec![
            (c[0] - h[0], c[1] - h[1]),
            (c[0] + h[0], c[1] - h[1]),
            (c[0] + h[0], c[1] + h[1]),
            (c[0] - h[0], c[1] + h[1]),
            (c[0] - h[0], c[1] - h[1]),
        ]),
        Region::Slab {
            normal: v,
            half_width: l,
            ..
        } if v.len() == 2 => {
            // Points c ± l·v on the two boundary lines, each drawn along the tangent (−v₁, v₀).
            let t = (-v[1], v[0]);
            let reach = 1e6 * l.max(1.0);
            let line = |s: f64| {
                let p = (c[0] + s * l * v[0], c[1] + s * l * v[1]);
                [
                    (p.0 - reach * t.0, p.1 - reach * t.1),
                    (p.0 + reach * t.0, p.1 + reach * t.1),
                ]
            };
            let [a, b] = line(-1.0);
            let [e, f] = line(1.0);
            Some(vec![a, b, (f64::NAN, f64::NAN), e, f])
        }
        _ => None,
    }
}

/// Points that the plot must show for the exit region to be seen: its outline (ball, box) or, for a slab,
/// the two points c ± L·v.
fn region_extent(report: &Report) -> Vec<(f64, f64)> {
    match &report.summary.exit_region {
        Some(Region::Slab {
            center: c,
            normal: v,
            half_width: l,
        }) if c.len() >= 2 && v.len() >= 2 => {
            vec![(c[0] - l * v[0], c[1] - l * v[1]), (c[0] + l * v[0], c[1] + l * v[1])]
        }
        _ => region_outline(report).unwrap_or_default(),
    }
}

/// The exit region in words, for the legend.
pub(super) fn region_text(report: &Report) -> String {
    match &report.summary.exit_region {
        Some(Region::Ball { radius, .. }) => format!("‖x − d‖ < {}", style::num(*radius)),
        Some(Region::Box { .. }) => "box around d".into(),
        Some(Region::Slab { half_width, .. }) => format!("|v·(x − d)| < {}", style::num(*half_width)),
        None => String::new(),
    }
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// What the contour plot shows: colours are diverging((f − centre)/scale); `nonfinite` is the fraction of
/// the plotted cells where f is not finite.
struct Contours {
    centre: f64,
    scale: f64,
    nonfinite: f64,
}

/// Filled contour (diverging colours centred on f(saddle): blue below, orange above; grey where f is not
/// finite) and iso-lines.
fn draw_contours<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    l: &dyn Landscape,
    fr: &Frame,
    saddle: Option<(f64, f64)>,
) -> Result<Contours> {
    let (xr, yr) = (fr.x, fr.y);
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
    let at = |i: usize, j: usize| v[j * (nx + 1) + i];
    let cell = |i: usize, j: usize| 0.25 * (at(i, j) + at(i + 1, j) + at(i, j + 1) + at(i + 1, j + 1));
    let nonfinite = (0..ny)
        .flat_map(|j| (0..nx).map(move |i| (i, j)))
        .filter(|&(i, j)| !cell(i, j).is_finite())
        .count() as f64
        / (nx * ny) as f64;
    let mut sorted: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if sorted.is_empty() {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(xr.0, yr.0), (xr.1, yr.1)],
                diverging(f64::NAN).filled(),
            )))
            .map_err(de)?;
        return Ok(Contours {
            centre: 0.0,
            scale: 1.0,
            nonfinite: 1.0,
        });
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
    chart
        .draw_series((0..ny).flat_map(|j| {
            (0..nx).map(move |i| {
                let m = cell(i, j);
                let x0 = xr.0 + i as f64 * dx;
                let y0 = yr.0 + j as f64 * dy;
                Rectangle::new([(x0, y0), (x0 + dx, y0 + dy)], diverging((m - centre) / scale).filled())
            })
        }))
        .map_err(de)?;
    // Iso-lines at centre + k·scale/4, k = −4..4; the saddle level (k = 0) bold.
    for k in -4i32..=4 {
        let level = centre + k as f64 * scale / 4.0;
        let segs = march(&v, nx, ny, level);
        let style = if k == 0 {
            RGBColor(40, 40, 40).stroke_width(2)
        } else {
            RGBColor(90, 90, 90).mix(0.6).stroke_width(1)
        };
        chart
            .draw_series(segs.into_iter().map(|((a, b), (c, d))| {
                PathElement::new(
                    vec![(xr.0 + a * dx, yr.0 + b * dy), (xr.0 + c * dx, yr.0 + d * dy)],
                    style,
                )
            }))
            .map_err(de)?;
    }
    Ok(Contours {
        centre,
        scale,
        nonfinite,
    })
}

/// Light diverging colour for t ∈ [−1, 1]: blue (low) – white – orange (high). NaN → grey.
fn diverging(t: f64) -> RGBColor {
    if !t.is_finite() {
        return RGBColor(175, 175, 175);
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
