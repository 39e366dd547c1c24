//! The phase diagram: a heat map of a probability over two swept parameters, with a colour bar and an
//! optional theoretical boundary ([`phase_diagram`]).

use super::frame::{Frame, finite_range};
use super::style::{self, CAPTION, FONT, LABEL, SIZE, TICK, out_err};
use crate::error::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

/// Heat map of `values[iy][ix]` ∈ [0, 1] over the grid `xs` × `ys` (cell centres; cells extend halfway to
/// the neighbours), viridis-coloured with a colour bar, and the theoretical `boundary` y(x), when given,
/// drawn as a line. Missing or non-finite values are grey; values outside [0, 1] are clamped. Writes a
/// 1200×800 PNG to `path`.
#[allow(clippy::too_many_arguments)]
pub fn phase_diagram(
    path: &Path,
    x_label: &str,
    y_label: &str,
    xs: &[f64],
    ys: &[f64],
    values: &[Vec<f64>],
    boundary: Option<&dyn Fn(f64) -> f64>,
    title: &str,
) -> Result<()> {
    if xs.is_empty() || ys.is_empty() {
        return Err(Error::Output(format!(
            "{}: phase diagram needs at least one x and one y value (got {} × {})",
            path.display(),
            xs.len(),
            ys.len()
        )));
    }
    let xe = edges(xs);
    let ye = edges(ys);
    let fr = Frame::linear(
        finite_range(xe.iter().flat_map(|e| [e.0, e.1])).unwrap_or((0.0, 1.0)),
        finite_range(ye.iter().flat_map(|e| [e.0, e.1])).unwrap_or((0.0, 1.0)),
    );
    let (xr, yr) = (fr.x, fr.y);

    style::register_fonts();
    let e = out_err(path);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let root = root.titled(title, (FONT, CAPTION)).map_err(&e)?;
    let (main, bar) = root.split_horizontally(root.dim_in_pixel().0 - 150);
    let mut chart = ChartBuilder::on(&main)
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(100)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
        .map_err(&e)?;
    let (fx, fy) = (style::tick(xr.1 - xr.0), style::tick(yr.1 - yr.0));
    let fmt = style::tick(1.0);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style((FONT, TICK))
        .axis_desc_style((FONT, LABEL))
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .draw()
        .map_err(&e)?;
    chart
        .draw_series(ys.iter().enumerate().flat_map(|(iy, _)| {
            let row = values.get(iy);
            let (xe, ye) = (&xe, &ye);
            xs.iter().enumerate().filter_map(move |(ix, _)| {
                let (x0, x1) = xe[ix];
                let (y0, y1) = ye[iy];
                if !(x0.is_finite() && x1.is_finite() && y0.is_finite() && y1.is_finite()) {
                    return None;
                }
                let v = row.and_then(|r| r.get(ix)).copied().unwrap_or(f64::NAN);
                Some(Rectangle::new(
                    [fr.clamp((x0, y0)), fr.clamp((x1, y1))],
                    colormap(v).filled(),
                ))
            })
        }))
        .map_err(&e)?;
    if let Some(f) = boundary {
        // Sample y(x) and break the line where it leaves the plotted box or is not finite.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for k in 0..=400 {
            let x = xr.0 + (xr.1 - xr.0) * k as f64 / 400.0;
            let y = f(x);
            if y.is_finite() && y >= yr.0 && y <= yr.1 {
                if let Some(r) = runs.last_mut() {
                    r.push((x, y));
                }
            } else if runs.last().is_some_and(|r| !r.is_empty()) {
                runs.push(Vec::new());
            }
        }
        let mut first = true;
        for run in runs.into_iter().filter(|r| r.len() >= 2) {
            chart
                .draw_series(LineSeries::new(run.iter().copied(), WHITE.stroke_width(6)))
                .map_err(&e)?;
            let s = chart
                .draw_series(LineSeries::new(run, RGBColor(200, 30, 30).stroke_width(3)))
                .map_err(&e)?;
            if first {
                s.label("theoretical boundary").legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], RGBColor(200, 30, 30).stroke_width(3))
                });
                first = false;
            }
        }
        if !first {
            chart
                .configure_series_labels()
                .label_font((FONT, TICK))
                .border_style(BLACK)
                .background_style(WHITE.mix(0.85))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(&e)?;
        }
    }
    // Colour bar.
    let mut cb = ChartBuilder::on(&bar)
        .margin_top(20)
        .margin_bottom(80)
        .margin_right(10)
        .right_y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)
        .map_err(&e)?;
    cb.draw_series((0..200).map(|k| {
        let v0 = k as f64 / 200.0;
        Rectangle::new([(0.0, v0), (1.0, v0 + 1.0 / 200.0)], colormap(v0 + 0.0025).filled())
    }))
    .map_err(&e)?;
    cb.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .y_label_formatter(&fmt)
        .label_style((FONT, TICK))
        .draw()
        .map_err(&e)?;
    cb.draw_series(std::iter::once(Rectangle::new(
        [(0.0, 0.0), (1.0, 1.0)],
        BLACK.stroke_width(1),
    )))
    .map_err(&e)?;
    root.present().map_err(&e)?;
    Ok(())
}

/// Cell extents (lo, hi) around each centre: halfway to the neighbours in sorted order; a single centre
/// gets ±10 % (or ±0.5 at zero).
fn edges(c: &[f64]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..c.len()).filter(|&i| c[i].is_finite()).collect();
    order.sort_by(|&a, &b| c[a].total_cmp(&c[b]));
    let mut out = vec![(f64::NAN, f64::NAN); c.len()];
    let n = order.len();
    for (k, &i) in order.iter().enumerate() {
        let lo_gap = if k > 0 { c[i] - c[order[k - 1]] } else { f64::NAN };
        let hi_gap = if k + 1 < n { c[order[k + 1]] - c[i] } else { f64::NAN };
        let fallback = if c[i] != 0.0 { 0.2 * c[i].abs() } else { 1.0 };
        let lo_gap = if lo_gap.is_finite() {
            lo_gap
        } else if hi_gap.is_finite() {
            hi_gap
        } else {
            fallback
        };
        let hi_gap = if hi_gap.is_finite() { hi_gap } else { lo_gap };
        out[i] = (c[i] - 0.5 * lo_gap, c[i] + 0.5 * hi_gap);
    }
    out
}

/// Viridis colour of v ∈ [0, 1] (clamped); NaN → grey.
fn colormap(v: f64) -> RGBColor {
    if !v.is_finite() {
        return RGBColor(190, 190, 190);
    }
    ViridisRGB::get_color(v.clamp(0.0, 1.0))
}
