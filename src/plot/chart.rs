//! The one line / point chart of the project: a [`Figure`] of [`Series`] (lines, dashed closed forms, points,
//! measured curves with error bars), drawn in the shared style (embedded font; a series' `color` indexes the
//! palette, so a dynamics keeps its colour across figures; closed forms are dashed in the colour of the
//! dynamics they describe). The sweep figures and the paper's figures are built on it.

use super::frame::{self, Frame};
use super::style::{self, CAPTION, FONT, LABEL, SIZE, TICK, out_err};
use crate::error::Result;
use plotters::prelude::*;
use std::path::Path;

/// A measured point: (x, y, lower bound, upper bound).
pub type MeasuredPoint = (f64, f64, f64, f64);

/// A legend stroke: its points in pixels relative to the legend anchor.
type Stroke = Vec<(i32, i32)>;

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Solid line.
    Line,
    /// Dashed line (closed forms).
    Dashed,
    /// Filled circles.
    Points,
    /// Filled circles joined by a thin line.
    LinePoints,
    /// A measured curve: filled circles joined by a thick line, with the error bars (one per point, aligned
    /// with `points`) centred on the points.
    Measured,
}

/// One series.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// Palette index.
    pub color: usize,
    /// How it is drawn.
    pub mark: Mark,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
    /// Optional error bars (x, lo, hi); for [`Mark::Measured`] one per point (non-finite bounds: no bar).
    pub bars: Vec<(f64, f64, f64)>,
}

impl Series {
    /// A series without error bars.
    pub fn new(label: impl Into<String>, color: usize, mark: Mark, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            color,
            mark,
            points,
            bars: Vec::new(),
        }
    }
    /// Adds error bars (x, lo, hi).
    pub fn with_bars(mut self, bars: Vec<(f64, f64, f64)>) -> Self {
        self.bars = bars;
        self
    }
    /// A [`Mark::Measured`] curve from points (x, y, lo, hi): points with a non-finite x or y are dropped,
    /// the rest sorted by x; non-finite bounds draw no bar.
    pub fn measured(label: impl Into<String>, color: usize, points: &[MeasuredPoint]) -> Self {
        let mut p: Vec<MeasuredPoint> = points
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        p.sort_by(|a, b| a.0.total_cmp(&b.0));
        Series {
            label: label.into(),
            color,
            mark: Mark::Measured,
            points: p.iter().map(|q| (q.0, q.1)).collect(),
            bars: p.iter().map(|q| (q.0, q.2, q.3)).collect(),
        }
    }
}

/// A chart.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Title.
    pub title: String,
    /// x-axis description.
    pub x_label: String,
    /// y-axis description.
    pub y_label: String,
    /// Fixed x range (else from the data).
    pub x_range: Option<(f64, f64)>,
    /// Fixed y range (else from the data).
    pub y_range: Option<(f64, f64)>,
    /// Padding of a range taken from the data, as a fraction of its width: (x, y). Default: (0.03, 0.06).
    pub pad: (f64, f64),
    /// Dashed grey vertical lines.
    pub vlines: Vec<f64>,
    /// Dashed grey horizontal lines.
    pub hlines: Vec<f64>,
    /// The series.
    pub series: Vec<Series>,
    /// Draw y on a log₁₀ scale (values ≤ 0 are not drawn; ticks are labelled with the values). Default: false.
    pub log_y: bool,
}

impl Default for Figure {
    fn default() -> Self {
        Figure {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            x_range: None,
            y_range: None,
            pad: (0.03, 0.06),
            vlines: Vec::new(),
            hlines: Vec::new(),
            series: Vec::new(),
            log_y: false,
        }
    }
}

impl Figure {
    /// The same figure with every y value (points, bar ends, horizontal lines, the fixed range) replaced by
    /// its log₁₀ (NaN for values ≤ 0, which are then not drawn).
    fn log10_y(&self) -> Figure {
        let l = |v: f64| if v > 0.0 { v.log10() } else { f64::NAN };
        Figure {
            y_range: self.y_range.map(|(a, b)| (l(a), l(b))),
            hlines: self.hlines.iter().map(|&h| l(h)).collect(),
            series: self
                .series
                .iter()
                .map(|s| Series {
                    points: s.points.iter().map(|&(x, y)| (x, l(y))).collect(),
                    bars: s.bars.iter().map(|&(x, lo, hi)| (x, l(lo), l(hi))).collect(),
                    ..s.clone()
                })
                .collect(),
            log_y: false,
            ..self.clone()
        }
    }
}

/// Renders `fig` as a 1200×800 PNG at `path`. Points outside a fixed range are dropped. The legend goes to
/// the corner with the fewest points (and ends of measured error bars).
pub fn render(fig: &Figure, path: &Path) -> Result<()> {
    if fig.log_y {
        draw(&fig.log10_y(), path, true)
    } else {
        draw(fig, path, false)
    }
}

/// Draws `fig`; with `log_y` its y values are already log₁₀ and the ticks show 10^v.
fn draw(fig: &Figure, path: &Path, log_y: bool) -> Result<()> {
    let xr = fig.x_range.map_or_else(
        || frame::linear(fig.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)), fig.pad.0),
        frame::sane_linear,
    );
    let yr = fig.y_range.map_or_else(
        || {
            frame::linear(
                fig.series.iter().flat_map(|s| {
                    s.points
                        .iter()
                        .map(|p| p.1)
                        .chain(s.bars.iter().flat_map(|b| [b.1, b.2]))
                }),
                fig.pad.1,
            )
        },
        frame::sane_linear,
    );
    let fr = Frame::linear(xr, yr);
    let (xr, yr) = (fr.x, fr.y);
    let inside = |p: &(f64, f64)| fr.contains(*p);
    style::register_fonts();
    let e = out_err(path);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(&e)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&fig.title, (FONT, CAPTION))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(100)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
        .map_err(&e)?;
    let fx = style::tick(xr.1 - xr.0);
    let lin = style::tick(yr.1 - yr.0);
    let fy = |v: &f64| if log_y { style::num(10f64.powf(*v)) } else { lin(v) };
    chart
        .configure_mesh()
        .x_desc(&fig.x_label)
        .y_desc(&fig.y_label)
        .label_style((FONT, TICK))
        .axis_desc_style((FONT, LABEL))
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .light_line_style(BLACK.mix(0.05))
        .draw()
        .map_err(&e)?;
    let grey = RGBColor(110, 110, 110).stroke_width(2);
    for &v in fig.vlines.iter().filter(|v| fr.has_x(**v)) {
        chart
            .draw_series(DashedLineSeries::new(vec![(v, yr.0), (v, yr.1)], 12, 8, grey))
            .map_err(&e)?;
    }
    for &h in fig.hlines.iter().filter(|h| fr.has_y(**h)) {
        chart
            .draw_series(DashedLineSeries::new(vec![(xr.0, h), (xr.1, h)], 12, 8, grey))
            .map_err(&e)?;
    }
    for s in &fig.series {
        let c = style::color(s.color);
        let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(inside).collect();
        if s.mark == Mark::Measured {
            chart
                .draw_series(
                    s.points
                        .iter()
                        .zip(&s.bars)
                        .filter(|(p, b)| inside(p) && !b.1.is_nan() && !b.2.is_nan())
                        .map(|(p, b)| {
                            let (lo, hi) = (fr.clamp_y(b.1.min(p.1)), fr.clamp_y(b.2.max(p.1)));
                            ErrorBar::new_vertical(p.0, lo, p.1, hi, c.stroke_width(2), 12)
                        }),
                )
                .map_err(&e)?;
        } else if !s.bars.is_empty() {
            chart
                .draw_series(
                    s.bars
                        .iter()
                        .filter(|b| fr.has_x(b.0) && !b.1.is_nan() && !b.2.is_nan())
                        .map(|b| {
                            let (lo, hi) = (fr.clamp_y(b.1.min(b.2)), fr.clamp_y(b.2.max(b.1)));
                            ErrorBar::new_vertical(b.0, lo, 0.5 * (lo + hi), hi, c.stroke_width(2), 12)
                        }),
                )
                .map_err(&e)?;
        }
        // Legend: stroke(s) and a dot in the series' colour; a measured curve is a thick stroke through a dot,
        // as it is drawn (its second stroke is empty).
        let (seg1, seg2, dot): (Stroke, Stroke, i32) = match s.mark {
            Mark::Points => (vec![(0, 0), (0, 0)], vec![(0, 0), (0, 0)], 5),
            Mark::Dashed => (vec![(0, 0), (8, 0)], vec![(14, 0), (22, 0)], 0),
            Mark::Line | Mark::LinePoints => (vec![(0, 0), (24, 0)], vec![(24, 0), (24, 0)], 0),
            Mark::Measured => (vec![(0, 0), (24, 0)], vec![], 5),
        };
        let measured = s.mark == Mark::Measured;
        let legend = move |(x, y): (i32, i32)| {
            EmptyElement::at((x, y))
                + PathElement::new(seg1.clone(), c.stroke_width(3))
                + PathElement::new(seg2.clone(), c.stroke_width(3))
                + Circle::new((12, 0), dot, c.filled())
        };
        let anno = match s.mark {
            Mark::Line => chart
                .draw_series(style::segments(&fr, s.points.iter().copied(), c.stroke_width(2)))
                .map_err(&e)?,
            Mark::Dashed => {
                let runs = fr.polyline(s.points.iter().copied());
                for run in runs.iter().skip(1) {
                    chart
                        .draw_series(DashedLineSeries::new(run.iter().copied(), 14, 8, c.stroke_width(3)))
                        .map_err(&e)?;
                }
                chart
                    .draw_series(DashedLineSeries::new(
                        runs.into_iter().next().unwrap_or_default(),
                        14,
                        8,
                        c.stroke_width(3),
                    ))
                    .map_err(&e)?
            }
            Mark::Points => chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 6, c.filled())))
                .map_err(&e)?,
            Mark::LinePoints => {
                chart
                    .draw_series(style::segments(&fr, s.points.iter().copied(), c.stroke_width(2)))
                    .map_err(&e)?;
                chart
                    .draw_series(pts.iter().map(|p| Circle::new(*p, 5, c.filled())))
                    .map_err(&e)?
            }
            Mark::Measured => chart
                .draw_series(style::segments(&fr, s.points.iter().copied(), c.stroke_width(3)))
                .map_err(&e)?,
        };
        if !s.label.is_empty() {
            anno.label(s.label.clone()).legend(legend);
        }
        if measured {
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 5, c.filled())))
                .map_err(&e)?;
        }
    }
    if fig.series.iter().any(|s| !s.label.is_empty()) {
        chart
            .configure_series_labels()
            .label_font((FONT, TICK))
            .border_style(BLACK)
            .background_style(WHITE.mix(0.85))
            .position(style::quiet_corner(
                fig.series.iter().flat_map(|s| {
                    let ends = s
                        .points
                        .iter()
                        .zip(&s.bars)
                        .filter(|_| s.mark == Mark::Measured)
                        .flat_map(|(p, b)| [(p.0, p.1), (b.0, b.1), (b.0, b.2)]);
                    let plain = s.points.iter().copied().filter(|_| s.mark != Mark::Measured);
                    plain.chain(ends)
                }),
                xr,
                yr,
            ))
            .draw()
            .map_err(&e)?;
    }
    root.present().map_err(&e)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log-y figure is drawn as the linear figure of the log₁₀ values: points, bar ends, horizontal lines
    /// and the fixed range all map, values ≤ 0 become NaN (not drawn), x and everything else are untouched.
    #[test]
    fn log_y_maps_every_y_value_to_its_log10() {
        let fig = Figure {
            y_range: Some((1e-2, 1e6)),
            hlines: vec![1e3, 0.0],
            series: vec![
                Series::new("s", 0, Mark::Points, vec![(1.5, 1e5), (2.5, -1.0)]).with_bars(vec![(1.5, 1e4, 1e6)]),
            ],
            log_y: true,
            ..Figure::default()
        };
        let l = fig.log10_y();
        assert!(!l.log_y);
        assert_eq!(l.y_range, Some((-2.0, 6.0)));
        assert_eq!(l.hlines[0], 3.0);
        assert!(l.hlines[1].is_nan());
        let s = &l.series[0];
        assert_eq!(s.points[0], (1.5, 5.0));
        assert_eq!(s.points[1].0, 2.5);
        assert!(s.points[1].1.is_nan());
        assert_eq!(s.bars[0], (1.5, 4.0, 6.0));
    }
}
