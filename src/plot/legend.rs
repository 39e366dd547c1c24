//! Legends drawn outside the plot, in the column to its right ([`super::canvas::page_with_legend`]), so
//! they never cover data: one [`Entry`] per line, a swatch drawn as the data is (line, dashed closed form,
//! marker, band) and the text wrapped to the column.

use super::canvas::{de, text_width, wrap};
use super::style::{FONT, TICK};
use crate::error::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Widest legend text before it wraps, in pixels.
pub const MAX_TEXT: u32 = 320;
const SWATCH: i32 = 34;
const PAD: i32 = 14;

/// A marker shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Filled circle (open: white inside).
    Circle,
    /// Cross (×).
    Cross,
    /// Filled triangle.
    Triangle,
}

/// How an entry's sample is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Swatch {
    /// A line of `width` pixels, dashed or solid, optionally with a dot in the middle.
    Line {
        /// Colour.
        color: RGBColor,
        /// Stroke width.
        width: u32,
        /// Dashed (closed forms).
        dashed: bool,
        /// A dot in the middle (line with markers).
        dot: bool,
    },
    /// A marker.
    Marker {
        /// Colour.
        color: RGBColor,
        /// Shape.
        shape: Shape,
        /// Drawn open (white inside).
        open: bool,
    },
    /// A filled box (bars, bands) of the colour at `alpha`.
    Fill {
        /// Colour.
        color: RGBColor,
        /// Opacity.
        alpha: f64,
    },
    /// A grey dashed reference line.
    Rule,
    /// No sample: the text explains something.
    Text,
}

/// One legend line.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Text.
    pub label: String,
    /// Sample.
    pub swatch: Swatch,
}

impl Entry {
    /// An entry.
    pub fn new(label: impl Into<String>, swatch: Swatch) -> Self {
        Entry {
            label: label.into(),
            swatch,
        }
    }
    /// A solid line.
    pub fn line(label: impl Into<String>, color: RGBColor, width: u32) -> Self {
        Self::new(
            label,
            Swatch::Line {
                color,
                width,
                dashed: false,
                dot: false,
            },
        )
    }
    /// A dashed line (a closed form).
    pub fn dashed(label: impl Into<String>, color: RGBColor) -> Self {
        Self::new(
            label,
            Swatch::Line {
                color,
                width: 3,
                dashed: true,
                dot: false,
            },
        )
    }
    /// A line with a dot.
    pub fn line_dot(label: impl Into<String>, color: RGBColor, width: u32) -> Self {
        Self::new(
            label,
            Swatch::Line {
                color,
                width,
                dashed: false,
                dot: true,
            },
        )
    }
    /// A marker.
    pub fn marker(label: impl Into<String>, color: RGBColor, shape: Shape) -> Self {
        Self::new(
            label,
            Swatch::Marker {
                color,
                shape,
                open: false,
            },
        )
    }
    /// A filled box.
    pub fn fill(label: impl Into<String>, color: RGBColor, alpha: f64) -> Self {
        Self::new(label, Swatch::Fill { color, alpha })
    }
    /// Text only.
    pub fn text(label: impl Into<String>) -> Self {
        Self::new(label, Swatch::Text)
    }
}

/// Column width that fits `entries` (text up to [`MAX_TEXT`] pixels, then wrapped).
pub fn width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry]) -> u32 {
    let text = entries
        .iter()
        .map(|e| text_width(area, &e.label, TICK as f64) * 21 / 20)
        .max()
        .unwrap_or(0)
        .min(MAX_TEXT);
    text + (SWATCH + 4 * PAD) as u32
}

/// Draws `entries` from the top of `col`; returns the part of `col` below them.
pub fn draw<DB: DrawingBackend>(col: &DrawingArea<DB, Shift>, entries: &[Entry]) -> Result<DrawingArea<DB, Shift>> {
    let (w, h) = col.dim_in_pixel();
    let text_w = (w as i32 - SWATCH - 4 * PAD).max(40) as u32;
    let line_h = (TICK as f64 * 1.3).round() as i32;
    let font = (FONT, TICK).into_font().color(&BLACK);
    let mut y = 12;
    for e in entries {
        let lines = wrap(col, &e.label, TICK as f64, text_w);
        let mid = y + line_h / 2;
        swatch(col, e.swatch, (PAD, mid))?;
        let tx = if e.swatch == Swatch::Text {
            PAD
        } else {
            PAD + SWATCH + PAD / 2
        };
        for (k, l) in lines.iter().enumerate() {
            let pos = (tx, y + k as i32 * line_h + line_h / 2);
            col.draw_text(l, &font.pos(centre_left()), pos).map_err(de)?;
        }
        y += line_h * lines.len().max(1) as i32 + 6;
    }
    let used = (y + 8).clamp(0, h as i32);
    Ok(col.split_vertically(used).1)
}

fn centre_left() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Left, VPos::Center)
}

/// Draws a swatch whose left end is at `at` (pixels in `col`).
fn swatch<DB: DrawingBackend>(col: &DrawingArea<DB, Shift>, s: Swatch, at: (i32, i32)) -> Result<()> {
    let (x, y) = at;
    let mid = (x + SWATCH / 2, y);
    match s {
        Swatch::Line {
            color,
            width,
            dashed,
            dot,
        } => {
            let st = color.stroke_width(width);
            if dashed {
                for k in 0..3 {
                    let a = x + k * 13;
                    col.draw(&PathElement::new(vec![(a, y), ((a + 8).min(x + SWATCH), y)], st))
                        .map_err(de)?;
                }
            } else {
                col.draw(&PathElement::new(vec![(x, y), (x + SWATCH, y)], st))
                    .map_err(de)?;
            }
            if dot {
                col.draw(&Circle::new(mid, 5, color.filled())).map_err(de)?;
            }
        }
        Swatch::Marker { color, shape, open } => match shape {
            Shape::Circle => {
                if open {
                    col.draw(&Circle::new(mid, 6, WHITE.filled())).map_err(de)?;
                    col.draw(&Circle::new(mid, 6, color.stroke_width(2))).map_err(de)?;
                } else {
                    col.draw(&Circle::new(mid, 6, color.filled())).map_err(de)?;
                }
            }
            Shape::Cross => {
                col.draw(&Cross::new(mid, 7, color.stroke_width(3))).map_err(de)?;
            }
            Shape::Triangle => {
                col.draw(&TriangleMarker::new(mid, 8, color.filled())).map_err(de)?;
            }
        },
        Swatch::Fill { color, alpha } => {
            col.draw(&Rectangle::new(
                [(x, y - 8), (x + SWATCH, y + 8)],
                color.mix(alpha).filled(),
            ))
            .map_err(de)?;
        }
        Swatch::Rule => {
            let st = RGBColor(110, 110, 110).stroke_width(2);
            for k in 0..3 {
                let a = x + k * 13;
                col.draw(&PathElement::new(vec![(a, y), ((a + 8).min(x + SWATCH), y)], st))
                    .map_err(de)?;
            }
        }
        Swatch::Text => {}
    }
    Ok(())
}
