//! The phase diagram: a heat map of a probability over two swept parameters, with a labelled colour bar and
//! an optional theoretical boundary ([`Phase`], [`phase_diagram`]).

use super::canvas::{self, Picture, de};
use super::colorbar;
use super::frame::{Frame, finite_range};
use super::legend::Entry;
use super::style::{self, FONT, LABEL, TICK};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Colour of the theoretical boundary.
pub const BOUNDARY: RGBColor = RGBColor(200, 30, 30);

/// A heat map of `values[iy][ix]` ∈ [0, 1] over the grid `xs` × `ys`.
pub struct Phase<'a> {
    /// Title.
    pub title: &'a str,
    /// x-axis description.
    pub x_label: &'a str,
    /// y-axis description.
    pub y_label: &'a str,
    /// Cell centres along x.
    pub xs: &'a [f64],
    /// Cell centres along y.
    pub ys: &'a [f64],
    /// Values, one row per y.
    pub values: &'a [Vec<f64>],
    /// What the colour shows (the colour bar's label), e.g. "P(trapped)".
    pub value_label: &'a str,
    /// The theoretical boundary y(x) and its legend text.
    pub boundary: Option<(&'a dyn Fn(f64) -> f64, &'a str)>,
    /// Notes under the plot.
    pub notes: Vec<String>,
}

/// Heat map of `values[iy][ix]` ∈ [0, 1] over the grid `xs` × `ys`, coloured "probability", with the
/// boundary labelled "theoretical boundary" (see [`Phase`] for the labelled form).
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
    Phase {
        title,
        x_label,
        y_label,
        xs,
        ys,
        values,
        value_label: "probability",
        boundary: boundary.map(|b| (b, "theoretical boundary")),
        notes: Vec::new(),
    }
    .render(path)
}

impl Phase<'_> {
    /// Writes the figure to `path` (PNG, or SVG for a `.svg` name). Cells extend halfway to their
    /// neighbours; missing or non-finite values are grey (and said so); values outside [0, 1] are clamped.
    pub fn render(&self, path: &Path) -> Result<()> {
        if self.xs.is_empty() || self.ys.is_empty() {
            return Err(Error::Output(format!(
                "{}: phase diagram needs at least one x and one y value (got {} × {})",
                path.display(),
                self.xs.len(),
                self.ys.len()
            )));
        }
        canvas::save(path, self)
    }

    fn missing(&self) -> bool {
        (0..self.ys.len()).any(|iy| {
            (0..self.xs.len()).any(|ix| {
                !self
                    .values
                    .get(iy)
                    .and_then(|r| r.get(ix))
                    .is_some_and(|v| v.is_finite())
            })
        })
    }
}

impl Picture for Phase<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let xe = edges(self.xs);
        let ye = edges(self.ys);
        let fr = Frame::linear(
            finite_range(xe.iter().flat_map(|e| [e.0, e.1])).unwrap_or((0.0, 1.0)),
            finite_range(ye.iter().flat_map(|e| [e.0, e.1])).unwrap_or((0.0, 1.0)),
        );
        let (xr, yr) = (fr.x, fr.y);
        // The boundary's pieces inside the plot (broken where it leaves it or is not finite).
        let runs: Vec<Vec<(f64, f64)>> = match self.boundary {
            Some((f, _)) => fr.polyline((0..=400).map(|k| {
                let x = xr.0 + (xr.1 - xr.0) * k as f64 / 400.0;
                (x, f(x))
            })),
            None => Vec::new(),
        };
        let mut entries = Vec::new();
        if let Some((_, label)) = self.boundary.filter(|_| !runs.is_empty()) {
            entries.push(Entry::line(label, BOUNDARY, 3));
        }
        if self.missing() {
            entries.push(Entry::fill("no value", RGBColor(190, 190, 190), 1.0));
        }
        let page = canvas::page_with_legend(root, self.title, &self.notes, &entries, colorbar::WIDTH)?;
        let mut chart = ChartBuilder::on(&page.plot)
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(100)
            .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
            .map_err(de)?;
        let (fx, fy) = (style::tick(xr.1 - xr.0), style::tick(yr.1 - yr.0));
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .label_style((FONT, TICK))
            .axis_desc_style((FONT, LABEL))
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .draw()
            .map_err(de)?;
        let (xe, ye) = (&xe, &ye);
        chart
            .draw_series(self.ys.iter().enumerate().flat_map(|(iy, _)| {
                let row = self.values.get(iy);
                self.xs.iter().enumerate().filter_map(move |(ix, _)| {
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
            .map_err(de)?;
        for run in runs {
            chart
                .draw_series(std::iter::once(PathElement::new(run.clone(), WHITE.stroke_width(7))))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(PathElement::new(run, BOUNDARY.stroke_width(3))))
                .map_err(de)?;
        }
        if let Some(col) = &page.side {
            colorbar::draw(col, self.value_label, (0.0, 1.0), &colormap, 420)?;
        }
        Ok(())
    }
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
pub fn colormap(v: f64) -> RGBColor {
    if !v.is_finite() {
        return RGBColor(190, 190, 190);
    }
    ViridisRGB::get_color(v.clamp(0.0, 1.0))
}
