//! A small line / point chart for the paper figures, in the style of [`crate::plot`] (embedded font, the
//! shared palette: a series' `color` is the index of its dynamics, so a dynamics keeps its colour across
//! figures; closed forms are dashed in the colour of the dynamics they describe).

use crate::error::Result;
use crate::plot::style::{self, CAPTION, FONT, LABEL, SIZE, TICK, finite_range, out_err, padded};
use plotters::prelude::*;
use std::path::Path;

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
    /// Optional error bars (x, lo, hi).
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
}

/// A chart.
#[derive(Debug, Clone, Default)]
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
    /// Dashed grey vertical lines.
    pub vlines: Vec<f64>,
    /// Dashed grey horizontal lines.
    pub hlines: Vec<f64>,
    /// The series.
    pub series: Vec<Series>,
}

/// Renders `fig` as a 1200×800 PNG at `path`. Points outside a fixed range are dropped.
pub fn render(fig: &Figure, path: &Path) -> Result<()> {
    let xr = fig.x_range.unwrap_or_else(|| {
        padded(
            finite_range(fig.series.iter().flat_map(|s| s.points.iter().map(|p| p.0))),
            0.03,
        )
    });
    let yr = fig.y_range.unwrap_or_else(|| {
        padded(
            finite_range(fig.series.iter().flat_map(|s| {
                s.points
                    .iter()
                    .map(|p| p.1)
                    .chain(s.bars.iter().flat_map(|b| [b.1, b.2]))
            })),
            0.06,
        )
    });
    let inside =
        |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite() && p.0 >= xr.0 && p.0 <= xr.1 && p.1 >= yr.0 && p.1 <= yr.1;
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
    let (fx, fy) = (style::tick(xr.1 - xr.0), style::tick(yr.1 - yr.0));
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
    for &v in &fig.vlines {
        chart
            .draw_series(DashedLineSeries::new(vec![(v, yr.0), (v, yr.1)], 12, 8, grey))
            .map_err(&e)?;
    }
    for &h in &fig.hlines {
        chart
            .draw_series(DashedLineSeries::new(vec![(xr.0, h), (xr.1, h)], 12, 8, grey))
            .map_err(&e)?;
    }
    for s in &fig.series {
        let c = style::color(s.color);
        let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(inside).collect();
        if !s.bars.is_empty() {
            chart
                .draw_series(
                    s.bars
                        .iter()
                        .filter(|b| b.0.is_finite() && b.1.is_finite() && b.2.is_finite())
                        .map(|b| {
                            let (lo, hi) = (b.1.max(yr.0), b.2.min(yr.1));
                            ErrorBar::new_vertical(b.0, lo, 0.5 * (lo + hi), hi, c.stroke_width(2), 12)
                        }),
                )
                .map_err(&e)?;
        }
        let (seg1, seg2, dot) = match mark_of(s.mark) {
            0 => ((0, 0), (0, 0), 5),
            1 => ((0, 8), (14, 22), 0),
            _ => ((0, 24), (24, 24), 0),
        };
        let legend = move |(x, y): (i32, i32)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(seg1.0, 0), (seg1.1, 0)], c.stroke_width(3))
                + PathElement::new(vec![(seg2.0, 0), (seg2.1, 0)], c.stroke_width(3))
                + Circle::new((12, 0), dot, c.filled())
        };
        let anno = match s.mark {
            Mark::Line => chart
                .draw_series(style::segments(pts.iter().copied(), c.stroke_width(2)))
                .map_err(&e)?,
            Mark::Dashed => chart
                .draw_series(DashedLineSeries::new(pts.iter().copied(), 14, 8, c.stroke_width(3)))
                .map_err(&e)?,
            Mark::Points => chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 6, c.filled())))
                .map_err(&e)?,
            Mark::LinePoints => {
                chart
                    .draw_series(style::segments(pts.iter().copied(), c.stroke_width(2)))
                    .map_err(&e)?;
                chart
                    .draw_series(pts.iter().map(|p| Circle::new(*p, 5, c.filled())))
                    .map_err(&e)?
            }
        };
        if !s.label.is_empty() {
            anno.label(s.label.clone()).legend(legend);
        }
    }
    if fig.series.iter().any(|s| !s.label.is_empty()) {
        chart
            .configure_series_labels()
            .label_font((FONT, TICK))
            .border_style(BLACK)
            .background_style(WHITE.mix(0.85))
            .position(style::quiet_corner(
                fig.series.iter().flat_map(|s| s.points.iter().copied()),
                xr,
                yr,
            ))
            .draw()
            .map_err(&e)?;
    }
    root.present().map_err(&e)?;
    Ok(())
}

/// Legend kind of a mark: 0 a dot, 1 a dashed stroke, 2 a solid stroke.
fn mark_of(m: Mark) -> u8 {
    match m {
        Mark::Points => 0,
        Mark::Dashed => 1,
        Mark::Line | Mark::LinePoints => 2,
    }
}
