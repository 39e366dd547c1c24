//! The page every figure is drawn on: the output format (PNG, or SVG when the file name ends in `.svg`), the
//! [`Picture`] trait that lets one drawing routine serve both plotters backends, and the page layout — the
//! title on top, notes (caption text) at the bottom, the legend in a column to the right of the plot so that
//! it never covers data.

use super::legend::{self, Entry};
use super::style::{self, CAPTION, FONT, SIZE};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Image format of a figure file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Raster PNG, 1200×800 (the default).
    #[default]
    Png,
    /// Vector SVG, 1200×800 user units (text as `<text>` in the sans-serif family).
    Svg,
}

impl Format {
    /// The file extension, without the dot.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }

    /// The format of `path`: SVG when its extension is `svg` (any case), else PNG.
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("svg") => Format::Svg,
            _ => Format::Png,
        }
    }

    /// `png` or `svg` (case-insensitive).
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "png" => Some(Format::Png),
            "svg" => Some(Format::Svg),
            _ => None,
        }
    }

    /// `dir/stem.ext`.
    pub fn path(self, dir: &Path, stem: &str) -> PathBuf {
        dir.join(format!("{stem}.{}", self.ext()))
    }
}

/// A figure that can draw itself on any plotters backend.
pub trait Picture {
    /// Draws the figure on `root` (already white, [`SIZE`] pixels).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Maps a plotters error to [`Error::Output`] (the file name is added by [`save`]).
pub fn de<E: std::fmt::Display>(e: E) -> Error {
    Error::Output(format!("plotting failed: {e}"))
}

/// Draws `pic` into `path`, as SVG if the name ends in `.svg`, else as PNG.
pub fn save(path: &Path, pic: &impl Picture) -> Result<()> {
    style::register_fonts();
    let named = |e: Error| match e {
        Error::Output(m) => Error::Output(format!("{}: {m}", path.display())),
        other => other,
    };
    match Format::of(path) {
        Format::Png => {
            let root = BitMapBackend::new(path, SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(de).map_err(named)?;
            pic.draw(&root).map_err(named)?;
            root.present().map_err(de).map_err(named)
        }
        Format::Svg => {
            let root = SVGBackend::new(path, SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(de).map_err(named)?;
            pic.draw(&root).map_err(named)?;
            root.present().map_err(de).map_err(named)
        }
    }
}

/// Point size of notes (caption text under the plot).
pub const NOTE: u32 = 17;

/// The areas of a page: the plot, and the legend column when there is a legend.
pub struct Page<DB: DrawingBackend> {
    /// Where the chart goes.
    pub plot: DrawingArea<DB, Shift>,
    /// Right-hand column (legend, colour bar), if any.
    pub side: Option<DrawingArea<DB, Shift>>,
}

/// Lays out `root`: `title` on top (shrunk to fit the width), `notes` wrapped at the bottom, and a column on
/// the right `side` pixels wide (0: none). Returns the plot area and the column.
pub fn page<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    notes: &[String],
    side: u32,
) -> Result<Page<DB>> {
    let (w, _) = root.dim_in_pixel();
    let mut size = CAPTION as f64;
    while size > 16.0 && text_width(root, title, size) > w.saturating_sub(40) {
        size -= 1.0;
    }
    let body = if title.is_empty() {
        root.clone()
    } else {
        root.titled(title, (FONT, size)).map_err(de)?
    };
    let lines: Vec<String> = notes
        .iter()
        .flat_map(|n| wrap(root, n, NOTE as f64, w.saturating_sub(60)))
        .collect();
    let body = if lines.is_empty() {
        body
    } else {
        let line_h = (NOTE as f64 * 1.35).round() as u32;
        let h = body.dim_in_pixel().1;
        let foot = (lines.len() as u32 * line_h + 14).min(h / 3);
        let (top, bottom) = body.split_vertically(h - foot);
        let font = (FONT, NOTE).into_font().color(&RGBColor(50, 50, 50));
        for (k, l) in lines.iter().enumerate() {
            bottom
                .draw_text(l, &font, (30, 6 + k as i32 * line_h as i32))
                .map_err(de)?;
        }
        top
    };
    if side == 0 {
        return Ok(Page { plot: body, side: None });
    }
    let bw = body.dim_in_pixel().0;
    let side = side.min(bw / 2);
    let (plot, col) = body.split_horizontally(bw - side);
    Ok(Page { plot, side: Some(col) })
}

/// [`page`] with the legend `entries` drawn at the top of the right-hand column, which is at least
/// `min_side` pixels wide (for a colour bar below the legend; no column when both are empty / 0). Returns
/// the plot area and the part of the column below the legend.
pub fn page_with_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    notes: &[String],
    entries: &[Entry],
    min_side: u32,
) -> Result<Page<DB>> {
    let side = if entries.is_empty() {
        min_side
    } else {
        legend::width(root, entries).max(min_side)
    };
    let p = page(root, title, notes, side)?;
    let rest = match &p.side {
        Some(col) => Some(legend::draw(col, entries)?),
        None => None,
    };
    Ok(Page {
        plot: p.plot,
        side: rest,
    })
}

/// Width in pixels of `text` at `size` points in the figure font.
pub fn text_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str, size: f64) -> u32 {
    area.estimate_text_size(text, &(FONT, size).into_font().into())
        .map_or((text.chars().count() as f64 * size * 0.6) as u32, |s| s.0)
}

/// `text` broken at spaces into lines at most `width` pixels wide (a single longer word stays whole).
pub fn wrap<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, text: &str, size: f64, width: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_width(area, &candidate, size) > width {
            out.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}
