//! A labelled vertical colour bar: the colour scale of a heat map or a filled contour plot, with ticks and
//! the quantity's name.

use super::canvas::{self, de};
use super::frame;
use super::style::{self, FONT, LABEL, TICK};
use crate::error::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Width of the column a colour bar is drawn in, in pixels (bar, tick labels up to about 7 characters and
/// the rotated label).
pub const WIDTH: u32 = 160;

/// Draws a colour bar for values `range` (lo < hi after [`frame::sane_linear`]) coloured by `color`, with
/// `label` along it, into the top of `area` (at most `max_height` pixels tall).
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
    range: (f64, f64),
    color: &dyn Fn(f64) -> RGBColor,
    max_height: u32,
) -> Result<()> {
    let (lo, hi) = frame::sane_linear(range);
    let (w, h) = area.dim_in_pixel();
    let h = h.min(max_height).max(80);
    let (bar, _) = area.split_vertically(h);
    let fmt = style::tick(hi - lo);
    // The label area holds the tick labels (as wide as the widest of them), the tick marks and the rotated
    // description, so that they never overlap; with the 36 px bar it is centred in the column.
    let widest = (0..=10)
        .map(|k| canvas::text_width(area, &fmt(&(lo + (hi - lo) * k as f64 / 10.0)), TICK as f64))
        .max()
        .unwrap_or(0);
    let labels = widest as i32 + 18 + (LABEL as f64 * 1.4) as i32;
    let left = ((w as i32 - labels - 36) / 2).max(4);
    let right = (w as i32 - left - labels - 36).max(4);
    let mut cb = ChartBuilder::on(&bar)
        .margin_top(10)
        .margin_bottom(10)
        .margin_left(left)
        .margin_right(right)
        .y_label_area_size(labels)
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .map_err(de)?;
    let n = 200;
    cb.draw_series((0..n).map(|k| {
        let a = lo + (hi - lo) * k as f64 / n as f64;
        let b = lo + (hi - lo) * (k + 1) as f64 / n as f64;
        Rectangle::new([(0.0, a), (1.0, b)], color(0.5 * (a + b)).filled())
    }))
    .map_err(de)?;
    cb.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .y_label_formatter(&fmt)
        .y_desc(label)
        .label_style((FONT, TICK))
        .axis_desc_style((FONT, LABEL))
        .draw()
        .map_err(de)?;
    cb.draw_series(std::iter::once(Rectangle::new(
        [(0.0, lo), (1.0, hi)],
        BLACK.stroke_width(1),
    )))
    .map_err(de)?;
    Ok(())
}
