//! Shared look of every figure: the embedded font, the figure size, text sizes, the palette (one colour per
//! dynamics, the same in every figure), number formatting and clipped polylines.

use super::frame::Frame;
use crate::report::Report;
use plotters::element::PathElement;
use plotters::style::{RGBColor, ShapeStyle};
use std::sync::Once;

/// DejaVu Sans, embedded so that text renders on machines without system fonts.
pub static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Figure size in pixels (width, height).
pub const SIZE: (u32, u32) = (1200, 800);
/// Point size of figure titles.
pub const CAPTION: u32 = 28;
/// Point size of panel titles.
pub const SUBCAPTION: u32 = 24;
/// Point size of axis descriptions.
pub const LABEL: u32 = 22;
/// Point size of tick labels and legends.
pub const TICK: u32 = 18;
/// Font family used everywhere (registered by [`register_fonts`]).
pub const FONT: &str = "sans-serif";

/// Okabe–Ito colour-blind-safe palette (without yellow, which is unreadable on white), then a few extras.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(120, 80, 40),   // brown
    RGBColor(90, 90, 90),    // grey
    RGBColor(150, 30, 60),   // wine
    RGBColor(60, 60, 160),   // indigo
];

static FONTS: Once = Once::new();

/// Registers the embedded DejaVu Sans under the family names plotters asks for ("sans-serif", "serif",
/// "monospace") in every style. Idempotent; call before drawing text.
pub fn register_fonts() {
    FONTS.call_once(|| {
        use plotters::style::{FontStyle, register_font};
        for family in ["sans-serif", "serif", "monospace"] {
            for style in [
                FontStyle::Normal,
                FontStyle::Bold,
                FontStyle::Italic,
                FontStyle::Oblique,
            ] {
                // The font is embedded and known to parse; a failure would only lose text, never panic.
                let _ = register_font(family, style, DEJAVU_SANS);
            }
        }
    });
}

/// The `i`-th palette colour (cycling).
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A darker shade of `c` (65 % of each channel): closed forms are dashed in it over data drawn in `c`, so
/// the data shows through the gaps and the two stay distinguishable where they coincide.
pub fn darker(c: RGBColor) -> RGBColor {
    let d = |v: u8| (v as f64 * 0.65).round() as u8;
    RGBColor(d(c.0), d(c.1), d(c.2))
}

/// The colour of the dynamics labelled `label`: its position in `summary.dynamics` indexes the palette, so
/// a dynamics has the same colour in every figure. Unknown labels get colours after the known ones.
pub fn dynamics_color(report: &Report, label: &str) -> RGBColor {
    color(dynamics_index(report, label))
}

/// Position of `label` in `summary.dynamics`; unknown labels are numbered after the known ones in order of
/// first appearance in the rows.
pub fn dynamics_index(report: &Report, label: &str) -> usize {
    if let Some(i) = report.summary.dynamics.iter().position(|d| d.label == label) {
        return i;
    }
    let n = report.summary.dynamics.len();
    let extra = labels_in_rows(report);
    let extra: Vec<&String> = extra
        .iter()
        .filter(|l| !report.summary.dynamics.iter().any(|d| &d.label == *l))
        .collect();
    n + extra.iter().position(|l| l.as_str() == label).unwrap_or(0)
}

fn labels_in_rows(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let all = report
        .moments
        .iter()
        .map(|r| &r.label)
        .chain(report.survival.iter().map(|r| &r.label))
        .chain(report.basins.iter().map(|r| &r.label))
        .chain(report.paths.iter().map(|r| &r.label));
    for l in all {
        if !out.contains(l) {
            out.push(l.clone());
        }
    }
    out
}

/// Every dynamics label, in `summary.dynamics` order, followed by labels found only in the rows.
pub fn all_labels(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = report.summary.dynamics.iter().map(|d| d.label.clone()).collect();
    for l in labels_in_rows(report) {
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

/// Compact number formatting for labels and ticks (4 significant digits, scientific when large or small).
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.2e}");
        // 1.00e-3 → 1e-3
        if let Some((m, e)) = s.split_once('e') {
            let m = m.trim_end_matches('0').trim_end_matches('.');
            return format!("{m}e{e}");
        }
        return s;
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// A polyline as separate two-point segments, clipped to `frame` (broken at points it cannot draw, see
/// [`Frame::polyline`]). plotters joins thick polylines with unbounded miters, which draws long spikes at
/// sharp turns of noisy data; separate segments have no joins.
pub fn segments(
    frame: &Frame,
    points: impl IntoIterator<Item = (f64, f64)>,
    style: ShapeStyle,
) -> impl Iterator<Item = PathElement<(f64, f64)>> {
    frame
        .polyline(points)
        .into_iter()
        .flat_map(move |run| (1..run.len()).map(move |k| PathElement::new(vec![run[k - 1], run[k]], style)))
}

/// Tick-label formatter for an axis spanning `span`: [`num`], with round-off residue near zero shown as 0.
pub fn tick(span: f64) -> impl Fn(&f64) -> String {
    move |v: &f64| {
        if v.abs() <= 1e-9 * span.abs() {
            "0".to_string()
        } else {
            num(*v)
        }
    }
}
