//! The phase diagram: a heat map of a probability over two swept parameters, with a labelled colour bar and
//! an optional theoretical boundary ([`Phase`], [`phase_diagram`]).

use super::canvas::{self, Picture, de};
use super::colorbar;
use super::frame::{Frame, finite_range};
use super::legend::Entry;
use super::names;
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
        let ax = GridAxis::new(self.xs);
        let ay = GridAxis::new(self.ys);
        let xe = ax.edges();
        let ye = ay.edges();
        let fr = Frame::linear(
            finite_range(xe.iter().flat_map(|e| [e.0, e.1])).unwrap_or((0.0, 1.0)),
            finite_range(ye.iter().flat_map(|e| [e.0, e.1])).unwrap_or((0.0, 1.0)),
        );
        let (xr, yr) = (fr.x, fr.y);
        // The boundary's pieces inside the plot (broken where it leaves it or is not finite), in plot
        // coordinates (grid positions on an axis drawn by grid index).
        let runs: Vec<Vec<(f64, f64)>> = match self.boundary {
            Some((f, _)) => fr.polyline((0..=400).map(|k| {
                let u = xr.0 + (xr.1 - xr.0) * k as f64 / 400.0;
                (u, ay.to_plot(f(ax.to_value(u))))
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
        let mut notes = self.notes.clone();
        for (a, name, cells) in [(&ax, "x", "column"), (&ay, "y", "row")] {
            if a.by_index && a.log {
                notes.push(format!(
                    "The {name} values form a geometric grid: one {cell} per value, so the {name} axis is logarithmic.",
                    cell = cells
                ));
            } else if a.by_index {
                notes.push(format!(
                    "The {name} values are not evenly spaced: one {cells} per value (the tick labels), so the {name} \
                     axis is not to scale."
                ));
            }
        }
        let page = canvas::page_with_legend(root, self.title, &notes, &entries, colorbar::WIDTH)?;
        let mut chart = ChartBuilder::on(&page.plot)
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(100)
            .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
            .map_err(de)?;
        let (fx, fy) = (ax.formatter(xr), ay.formatter(yr));
        let mut mesh = chart.configure_mesh();
        mesh.disable_mesh()
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .label_style((FONT, TICK))
            .axis_desc_style((FONT, LABEL))
            .x_label_formatter(&fx)
            .y_label_formatter(&fy);
        if ax.by_index {
            mesh.x_labels(ax.centres.len() + 1);
        }
        if ay.by_index {
            mesh.y_labels(ay.centres.len() + 1);
        }
        mesh.draw().map_err(de)?;
        let cell = |ix: usize, iy: usize| -> Option<Cell> {
            let (x0, x1) = xe[ix];
            let (y0, y1) = ye[iy];
            if !(x0.is_finite() && x1.is_finite() && y0.is_finite() && y1.is_finite()) {
                return None;
            }
            let v = self.values.get(iy).and_then(|r| r.get(ix)).copied().unwrap_or(f64::NAN);
            Some((fr.clamp((x0, y0)), fr.clamp((x1, y1)), v))
        };
        let cells: Vec<_> = (0..self.ys.len())
            .flat_map(|iy| (0..self.xs.len()).map(move |ix| (ix, iy)))
            .filter_map(|(ix, iy)| cell(ix, iy))
            .collect();
        chart
            .draw_series(
                cells
                    .iter()
                    .map(|(a, b, v)| Rectangle::new([*a, *b], colormap(*v).filled())),
            )
            .map_err(de)?;
        for run in runs {
            chart
                .draw_series(std::iter::once(PathElement::new(run.clone(), WHITE.stroke_width(7))))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(PathElement::new(run, BOUNDARY.stroke_width(3))))
                .map_err(de)?;
        }
        // The value in each cell, when the cells are large enough to hold it, on a patch of the cell's own
        // colour: drawn after the boundary, so that the curve passes behind a number instead of through it.
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let px = |a: (f64, f64), b: (f64, f64)| {
            (
                (b.0 - a.0).abs() / (xr.1 - xr.0) * pw as f64,
                (b.1 - a.1).abs() / (yr.1 - yr.0) * ph as f64,
            )
        };
        if cells.iter().all(|(a, b, _)| {
            let (w, h) = px(*a, *b);
            w >= 52.0 && h >= 26.0
        }) {
            use plotters::style::text_anchor::{HPos, Pos, VPos};
            let centre = Pos::new(HPos::Center, VPos::Center);
            let half_h = (TICK as f64 * 0.7).round() as i32;
            chart
                .draw_series(cells.iter().filter(|c| c.2.is_finite()).map(|(a, b, v)| {
                    let ink = if *v < 0.55 { WHITE } else { BLACK };
                    let text = style::num(names::round_sig(*v, 2));
                    let half_w = canvas::text_width(&page.plot, &text, TICK as f64) as i32 / 2 + 4;
                    EmptyElement::at((0.5 * (a.0 + b.0), 0.5 * (a.1 + b.1)))
                        + Rectangle::new([(-half_w, -half_h), (half_w, half_h)], colormap(*v).filled())
                        + Text::new(text, (0, 0), (FONT, TICK).into_font().color(&ink).pos(centre))
                }))
                .map_err(de)?;
        }
        if let Some(col) = &page.side {
            colorbar::draw(col, self.value_label, (0.0, 1.0), &colormap, 420)?;
        }
        Ok(())
    }
}

/// A drawn cell: two opposite corners (plot coordinates) and the value.
type Cell = ((f64, f64), (f64, f64), f64);

/// One axis of the grid. An evenly spaced grid is drawn to scale, each cell extending halfway to its
/// neighbours. An uneven one (e.g. ρ ∈ {0.01, 0.1, 0.3}) is drawn by grid index — cell k spans
/// [k − ½, k + ½] and its tick reads the k-th value — so that every value gets a cell of the same size and
/// its label; a curve y(x) (the boundary) is mapped piecewise linearly between the cell centres, in log v
/// when the grid is geometric (B = 1, 2, 4, …: the index axis is then exactly a log axis).
struct GridAxis {
    /// The values in input order.
    values: Vec<f64>,
    /// The finite values, sorted ascending.
    centres: Vec<f64>,
    /// Drawn by grid index.
    by_index: bool,
    /// Drawn by grid index and geometric: interpolate in log v.
    log: bool,
}

impl GridAxis {
    fn new(values: &[f64]) -> Self {
        let mut centres: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        centres.sort_by(f64::total_cmp);
        centres.dedup();
        let gaps: Vec<f64> = centres.windows(2).map(|w| w[1] - w[0]).collect();
        let (lo, hi) = gaps
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &g| (a.min(g), b.max(g)));
        let by_index = gaps.len() >= 2 && (hi - lo) > 1e-6 * hi && (hi - lo).is_finite();
        let ratios: Vec<f64> = centres.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
        let log = by_index
            && centres[0] > 0.0
            && ratios
                .iter()
                .all(|r| r.is_finite() && (r - ratios[0]).abs() <= 1e-6 * ratios[0].abs());
        GridAxis {
            values: values.to_vec(),
            centres,
            by_index,
            log,
        }
    }

    /// Cell extents (lo, hi) of each value, in plot coordinates (NaN for non-finite values).
    fn edges(&self) -> Vec<(f64, f64)> {
        if !self.by_index {
            return edges(&self.values);
        }
        self.values
            .iter()
            .map(|v| match self.rank(*v) {
                Some(k) => (k as f64 - 0.5, k as f64 + 0.5),
                None => (f64::NAN, f64::NAN),
            })
            .collect()
    }

    fn rank(&self, v: f64) -> Option<usize> {
        v.is_finite()
            .then(|| self.centres.iter().position(|c| *c == v))
            .flatten()
    }

    /// Plot coordinate of the value `v` (piecewise linear between the centres, extended past the ends).
    fn to_plot(&self, v: f64) -> f64 {
        if !self.by_index || !v.is_finite() {
            return v;
        }
        let c = &self.centres;
        let k = c.partition_point(|x| *x <= v).clamp(1, c.len() - 1);
        if self.log {
            return (k - 1) as f64 + (v / c[k - 1]).ln() / (c[k] / c[k - 1]).ln();
        }
        (k - 1) as f64 + (v - c[k - 1]) / (c[k] - c[k - 1])
    }

    /// Value at the plot coordinate `u` (the inverse of [`GridAxis::to_plot`]).
    fn to_value(&self, u: f64) -> f64 {
        if !self.by_index || !u.is_finite() {
            return u;
        }
        let c = &self.centres;
        let k = (u.floor().max(0.0) as usize).min(c.len() - 2);
        if self.log {
            return c[k] * (c[k + 1] / c[k]).powf(u - k as f64);
        }
        c[k] + (u - k as f64) * (c[k + 1] - c[k])
    }

    /// Tick labels: numbers on a to-scale axis; the grid value at integer positions on an index axis.
    fn formatter(&self, range: (f64, f64)) -> impl Fn(&f64) -> String + '_ {
        let plain = style::tick(range.1 - range.0);
        move |u: &f64| {
            if !self.by_index {
                return plain(u);
            }
            let k = u.round();
            if (u - k).abs() > 1e-6 || k < 0.0 {
                return String::new();
            }
            self.centres
                .get(k as usize)
                .map_or_else(String::new, |v| style::num(names::round_sig(*v, 4)))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_grids_are_drawn_to_scale_and_uneven_ones_by_index() {
        let even = GridAxis::new(&[0.0, 0.1, 0.2, 0.3]);
        assert!(!even.by_index);
        let e = even.edges();
        assert!((e[0].0 + 0.05).abs() < 1e-12 && (e[3].1 - 0.35).abs() < 1e-12, "{e:?}");
        assert_eq!(even.to_plot(0.17), 0.17);

        // ρ ∈ {0.3, 0.01, 0.1} in input order: cells by rank, ticks read the values.
        let uneven = GridAxis::new(&[0.3, 0.01, 0.1]);
        assert!(uneven.by_index);
        assert_eq!(uneven.edges(), vec![(1.5, 2.5), (-0.5, 0.5), (0.5, 1.5)]);
        let f = uneven.formatter((-0.5, 2.5));
        assert_eq!([f(&0.0), f(&1.0), f(&2.0), f(&0.5)], ["0.01", "0.1", "0.3", ""]);
        // Piecewise linear between the centres (0.055 is halfway from 0.01 to 0.1), extended past the ends,
        // and to_value inverts it.
        for (v, u) in [
            (0.01, 0.0),
            (0.055, 0.5),
            (0.1, 1.0),
            (0.2, 1.5),
            (0.4, 2.5),
            (0.0, -1.0 / 9.0),
        ] {
            assert!(
                (uneven.to_plot(v) - u).abs() < 1e-12,
                "to_plot({v}) = {}",
                uneven.to_plot(v)
            );
            assert!(
                (uneven.to_value(u) - v).abs() < 1e-12,
                "to_value({u}) = {}",
                uneven.to_value(u)
            );
        }
        assert!(!uneven.log);

        // Batch sizes 1, 2, 4, 8: a geometric grid, so positions are log₂ B exactly, also between cells.
        let b = GridAxis::new(&[1.0, 2.0, 4.0, 8.0]);
        assert!(b.by_index && b.log);
        for v in [1.0, 1.5, 3.0, 8.0, 16.0, 0.5] {
            assert!(
                (b.to_plot(v) - v.log2()).abs() < 1e-12,
                "to_plot({v}) = {}",
                b.to_plot(v)
            );
            assert!((b.to_value(v.log2()) - v).abs() < 1e-12 * v);
        }
    }
}
