//! The one line / point chart of the project: a [`Figure`] of [`Series`] (lines, dashed closed forms, points,
//! measured curves with error bars, shaded bands), drawn in the shared style (embedded font; a series'
//! `color` indexes the palette, so a dynamics keeps its colour across figures; closed forms are dashed in the
//! colour of the dynamics they describe). The sweep figures and the paper's figures are built on it.
//!
//! Drawing order: reference lines, bands, data, then closed forms (dashed, in a darker shade) on top so a
//! theory line is never hidden under the data it is compared with, and the data shows through its gaps. The legend is outside the plot, on the
//! right; notes (caption text) go under the plot. Everything is clipped to the axes ([`super::frame`]).

use super::canvas::{self, Picture, de};
use super::frame::{self, Frame};
use super::legend::{Entry, Shape};
use super::style::{self, FONT, LABEL, TICK};
use crate::error::Result;
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::path::Path;

/// A measured point: (x, y, lower bound, upper bound).
pub type MeasuredPoint = (f64, f64, f64, f64);

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Solid line.
    Line,
    /// Dashed line (closed forms), drawn on top of the data.
    Dashed,
    /// Filled circles.
    Points,
    /// Filled circles joined by a thin line.
    LinePoints,
    /// A measured curve: filled circles joined by a thick line, with the error bars (one per point, aligned
    /// with `points`) centred on the points.
    Measured,
    /// A shaded band between the bars' bounds (x, lo, hi), with `points` as a thin line through it.
    Band,
}

/// One series.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text (empty: not in the legend).
    pub label: String,
    /// Palette index.
    pub color: usize,
    /// How it is drawn.
    pub mark: Mark,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
    /// Optional error bars (x, lo, hi); for [`Mark::Measured`] one per point (non-finite bounds: no bar);
    /// for [`Mark::Band`] the band.
    pub bars: Vec<(f64, f64, f64)>,
    /// Points drawn as open markers on top (e.g. estimates with censored paths).
    pub open: Vec<(f64, f64)>,
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
            open: Vec::new(),
        }
    }
    /// Adds error bars (x, lo, hi).
    pub fn with_bars(mut self, bars: Vec<(f64, f64, f64)>) -> Self {
        self.bars = bars;
        self
    }
    /// Marks `open` points (drawn as open circles over the series).
    pub fn with_open(mut self, open: Vec<(f64, f64)>) -> Self {
        self.open = open;
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
            open: Vec::new(),
        }
    }
    /// A [`Mark::Band`] from (x, lo, hi) with the centre line `points`.
    pub fn band(label: impl Into<String>, color: usize, band: Vec<(f64, f64, f64)>, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            color,
            mark: Mark::Band,
            points,
            bars: band,
            open: Vec::new(),
        }
    }
}

/// A labelled reference line (a threshold, a boundary), dashed, in the legend.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Vertical (x = at) or horizontal (y = at).
    pub vertical: bool,
    /// Position.
    pub at: f64,
    /// Legend text.
    pub label: String,
}

impl Rule {
    /// x = `at`.
    pub fn x(at: f64, label: impl Into<String>) -> Self {
        Rule {
            vertical: true,
            at,
            label: label.into(),
        }
    }
    /// y = `at`.
    pub fn y(at: f64, label: impl Into<String>) -> Self {
        Rule {
            vertical: false,
            at,
            label: label.into(),
        }
    }
}

/// Colour of labelled reference lines.
pub const RULE: RGBColor = RGBColor(150, 20, 40);

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
    /// Logarithmic y axis (only positive values are drawn).
    pub log_y: bool,
    /// A plane figure (x and y in the same units): one unit takes as many pixels on both axes when their
    /// ranges are within a factor 10, else a note says they are not to scale.
    pub equal_aspect: bool,
    /// Dashed grey vertical lines (axes, unlabelled).
    pub vlines: Vec<f64>,
    /// Dashed grey horizontal lines (axes, unlabelled).
    pub hlines: Vec<f64>,
    /// Labelled reference lines.
    pub rules: Vec<Rule>,
    /// The series.
    pub series: Vec<Series>,
    /// Legend lines after the series' (explanations).
    pub legend: Vec<Entry>,
    /// Notes printed under the plot.
    pub notes: Vec<String>,
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
            log_y: false,
            equal_aspect: false,
            vlines: Vec::new(),
            hlines: Vec::new(),
            rules: Vec::new(),
            series: Vec::new(),
            legend: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// Renders `fig` at `path` (PNG, or SVG for a `.svg` name), 1200×800.
pub fn render(fig: &Figure, path: &Path) -> Result<()> {
    canvas::save(path, fig)
}

impl Figure {
    /// The legend: one line per labelled series, then the labelled rules, then the extra lines.
    pub fn entries(&self) -> Vec<Entry> {
        let mut out: Vec<Entry> = self
            .series
            .iter()
            .filter(|s| !s.label.is_empty())
            .map(|s| {
                let c = style::color(s.color);
                match s.mark {
                    Mark::Line => Entry::line(&s.label, c, 3),
                    Mark::Dashed => Entry::dashed(&s.label, style::darker(c)),
                    Mark::Points => Entry::marker(&s.label, c, Shape::Circle),
                    Mark::LinePoints => Entry::line_dot(&s.label, c, 2),
                    Mark::Measured => Entry::line_dot(&s.label, c, 3),
                    Mark::Band => Entry::fill(&s.label, c, 0.35),
                }
            })
            .collect();
        out.extend(
            self.rules
                .iter()
                .filter(|r| !r.label.is_empty())
                .map(|r| Entry::dashed(&r.label, RULE)),
        );
        out.extend(self.legend.iter().cloned());
        out
    }

    /// The plotted box: fixed ranges made drawable, others from the data (and bars) with padding.
    pub fn frame(&self) -> Frame {
        let xs = || self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        let ys = || {
            self.series.iter().flat_map(|s| {
                s.points
                    .iter()
                    .map(|p| p.1)
                    .chain(s.bars.iter().flat_map(|b| [b.1, b.2]))
            })
        };
        let x = self
            .x_range
            .map_or_else(|| frame::linear(xs(), self.pad.0), frame::sane_linear);
        if self.log_y {
            let y = self
                .y_range
                .map_or_else(|| frame::log(ys()).unwrap_or((1e-3, 1.0)), frame::sane_log);
            Frame::log_y(x, y)
        } else {
            let y = self
                .y_range
                .map_or_else(|| frame::linear(ys(), self.pad.1), frame::sane_linear);
            Frame::linear(x, y)
        }
    }
}

impl Figure {
    /// Whether some error bar inside `fr` is shorter than about a marker (2.5 % of the y axis: a marker is
    /// 12 px across, the y axis about 500–600 px).
    fn bars_hidden(&self, fr: &Frame) -> bool {
        let span = |lo: f64, hi: f64| {
            let (lo, hi) = (fr.clamp_y(lo), fr.clamp_y(hi));
            if fr.log_y {
                (hi / lo).log10() / (fr.y.1 / fr.y.0).log10()
            } else {
                (hi - lo) / (fr.y.1 - fr.y.0)
            }
        };
        self.series
            .iter()
            .filter(|s| !matches!(s.mark, Mark::Band | Mark::Line | Mark::Dashed))
            .flat_map(|s| &s.bars)
            .filter(|b| fr.has_x(b.0) && b.1.is_finite() && b.2.is_finite())
            .any(|b| span(b.1.min(b.2), b.2.max(b.1)) < 0.025)
    }
}

impl Picture for Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let mut fr = self.frame();
        let plane = self.equal_aspect && !fr.log_y;
        let mut notes = self.notes.clone();
        if plane && !frame::comparable(fr.x, fr.y) {
            notes.push(format!(
                "{} and {} are not drawn to the same scale (their ranges differ by more than 10×).",
                self.x_label, self.y_label
            ));
        }
        if self.bars_hidden(&fr) {
            notes.push("Error bars shorter than the markers are hidden behind them.".into());
        }
        let page = canvas::page_with_legend(root, &self.title, &notes, &self.entries(), 0)?;
        let builder = || {
            let mut b = ChartBuilder::on(&page.plot);
            b.margin(20)
                .margin_right(30)
                .x_label_area_size(60)
                .y_label_area_size(100);
            b
        };
        if plane && frame::comparable(fr.x, fr.y) {
            let px = builder()
                .build_cartesian_2d(fr.x.0..fr.x.1, fr.y.0..fr.y.1)
                .map_err(de)?
                .plotting_area()
                .dim_in_pixel();
            let (x, y) = frame::equal_aspect(fr.x, fr.y, px);
            fr = Frame::linear(x, y);
        }
        let mut builder = builder();
        if fr.log_y {
            let chart = builder
                .build_cartesian_2d(fr.x.0..fr.x.1, (fr.y.0..fr.y.1).log_scale())
                .map_err(de)?;
            draw_chart(self, chart, &fr)
        } else {
            let chart = builder.build_cartesian_2d(fr.x.0..fr.x.1, fr.y.0..fr.y.1).map_err(de)?;
            draw_chart(self, chart, &fr)
        }
    }
}

/// Mesh, reference lines and series of `fig` on `chart`, clipped to `fr`.
fn draw_chart<'a, DB, Y>(
    fig: &Figure,
    mut chart: ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    fr: &Frame,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let fx = style::tick(fr.x.1 - fr.x.0);
    let fy = style::tick(fr.y.1 - fr.y.0);
    let fy_log = |v: &f64| style::num(*v);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(&fig.x_label)
        .y_desc(&fig.y_label)
        .label_style((FONT, TICK))
        .axis_desc_style((FONT, LABEL))
        .x_label_formatter(&fx)
        .light_line_style(BLACK.mix(0.05));
    if fr.log_y {
        mesh.y_label_formatter(&fy_log);
    } else {
        mesh.y_label_formatter(&fy);
    }
    mesh.draw().map_err(de)?;
    let grey = RGBColor(110, 110, 110).stroke_width(2);
    for &v in fig.vlines.iter().filter(|v| fr.has_x(**v)) {
        chart
            .draw_series(DashedLineSeries::new(vec![(v, fr.y.0), (v, fr.y.1)], 12, 8, grey))
            .map_err(de)?;
    }
    for &h in fig.hlines.iter().filter(|h| fr.has_y(**h)) {
        chart
            .draw_series(DashedLineSeries::new(vec![(fr.x.0, h), (fr.x.1, h)], 12, 8, grey))
            .map_err(de)?;
    }
    for r in &fig.rules {
        let line = if r.vertical && fr.has_x(r.at) {
            vec![(r.at, fr.y.0), (r.at, fr.y.1)]
        } else if !r.vertical && fr.has_y(r.at) {
            vec![(fr.x.0, r.at), (fr.x.1, r.at)]
        } else {
            continue;
        };
        chart
            .draw_series(DashedLineSeries::new(line, 14, 8, RULE.stroke_width(3)))
            .map_err(de)?;
    }
    // Bands first, then the data, then the closed forms on top.
    for s in fig.series.iter().filter(|s| s.mark == Mark::Band) {
        let c = style::color(s.color);
        for poly in band_polygons(&s.bars, fr) {
            chart
                .draw_series(std::iter::once(Polygon::new(poly, c.mix(0.35).filled())))
                .map_err(de)?;
        }
        chart
            .draw_series(style::segments(fr, s.points.iter().copied(), c.stroke_width(1)))
            .map_err(de)?;
    }
    for s in fig
        .series
        .iter()
        .filter(|s| !matches!(s.mark, Mark::Band | Mark::Dashed))
    {
        let c = style::color(s.color);
        let inside: Vec<(f64, f64)> = s.points.iter().copied().filter(|p| fr.contains(*p)).collect();
        let bar = |x: f64, lo: f64, mid: f64, hi: f64| {
            let (lo, hi) = (fr.clamp_y(lo.min(hi)), fr.clamp_y(hi.max(lo)));
            ErrorBar::new_vertical(x, lo, fr.clamp_y(mid).clamp(lo, hi), hi, c.stroke_width(2), 12)
        };
        if s.mark == Mark::Measured {
            chart
                .draw_series(
                    s.points
                        .iter()
                        .zip(&s.bars)
                        .filter(|(p, b)| fr.contains(**p) && !b.1.is_nan() && !b.2.is_nan())
                        .map(|(p, b)| bar(p.0, b.1.min(p.1), p.1, b.2.max(p.1))),
                )
                .map_err(de)?;
        } else if !s.bars.is_empty() {
            chart
                .draw_series(
                    s.bars
                        .iter()
                        .filter(|b| fr.has_x(b.0) && !b.1.is_nan() && !b.2.is_nan())
                        .map(|b| bar(b.0, b.1, 0.5 * (b.1 + b.2), b.2)),
                )
                .map_err(de)?;
        }
        let width = match s.mark {
            Mark::Measured | Mark::Line => 3,
            _ => 2,
        };
        if s.mark != Mark::Points {
            chart
                .draw_series(style::segments(fr, s.points.iter().copied(), c.stroke_width(width)))
                .map_err(de)?;
        }
        if matches!(s.mark, Mark::Points | Mark::LinePoints | Mark::Measured) {
            let r = if s.mark == Mark::Points { 6 } else { 5 };
            chart
                .draw_series(inside.iter().map(|p| Circle::new(*p, r, c.filled())))
                .map_err(de)?;
        }
        let open: Vec<(f64, f64)> = s.open.iter().copied().filter(|p| fr.contains(*p)).collect();
        chart
            .draw_series(open.iter().map(|p| Circle::new(*p, 6, WHITE.filled())))
            .map_err(de)?;
        chart
            .draw_series(open.iter().map(|p| Circle::new(*p, 6, c.stroke_width(2))))
            .map_err(de)?;
    }
    for s in fig.series.iter().filter(|s| s.mark == Mark::Dashed) {
        let c = style::color(s.color);
        for run in fr.polyline(s.points.iter().copied()) {
            chart
                .draw_series(DashedLineSeries::new(run, 14, 9, style::darker(c).stroke_width(3)))
                .map_err(de)?;
        }
    }
    Ok(())
}

/// The band between the bounds of `bars` (x, lo, hi) as polygons clamped into `fr`, one per run of
/// consecutive entries with finite x and bounds.
pub fn band_polygons(bars: &[(f64, f64, f64)], fr: &Frame) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut run: Vec<(f64, f64, f64)> = Vec::new();
    let mut flush = |run: &mut Vec<(f64, f64, f64)>| {
        if run.len() >= 2 {
            let mut poly: Vec<(f64, f64)> = run.iter().map(|b| fr.clamp((b.0, b.2))).collect();
            poly.extend(run.iter().rev().map(|b| fr.clamp((b.0, b.1))));
            out.push(poly);
        }
        run.clear();
    };
    for b in bars {
        if b.0.is_finite() && !b.1.is_nan() && !b.2.is_nan() {
            run.push(*b);
        } else {
            flush(&mut run);
        }
    }
    flush(&mut run);
    out
}
