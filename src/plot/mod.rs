//! Figures (PNG, or SVG with `--format svg`): drawn from a [`Report`] (a run's, written with it or read back
//! by `samsde plot`) or a [`crate::sweep::SweepTable`], never from the simulation's internals, so a folder's
//! figures can always be re-rendered from its files. [`chart`] is the one line chart (the sweep and paper
//! figures use it), [`phase`] the heat map; each run figure has its own file.
//!
//! Every figure is a [`canvas::Picture`] drawn on a page ([`canvas::page_with_legend`]): the title on top,
//! the legend in a column to the right of the plot (it never covers data), notes under the plot that say
//! what a reader needs (what a class means, censoring, a closed form leaving the plot, axes not to scale).
//! Names in titles and legends are readable ([`names`]). Text uses the embedded DejaVu Sans (plotters'
//! `ab_glyph` feature, see [`style::register_fonts`]), so PNGs do not depend on system fonts. Every dynamics
//! has one colour in all figures: its position in `summary.dynamics` indexes [`style::PALETTE`].
//! Non-finite values are skipped; empty data skips a figure (or a series) instead of failing. Every axis
//! range comes from [`frame`] and every line, band and marker is clipped to its [`frame::Frame`], so no value
//! (NaN, ±∞, 0 on a log axis, 1e300) can hang plotters.
//!
//! | file | function | shows |
//! |---|---|---|
//! | `trajectories.png` | [`trajectories::render`] | sample paths over f (colour bar), exit region, saddle, minima |
//! | `cloud.png` | [`cloud::render`] | the cloud at a few times, 1σ/2σ covariance ellipses |
//! | `width.png` | [`width::render`] | tr C(t) and MSD(t) with standard-error bands and closed forms |
//! | `exit_times.png` | [`exit::render`] | Kaplan–Meier survival S(t), (restricted) mean exit times, histogram |
//! | `basins.png` | [`basins::render`] | basin probabilities with 95 % intervals |
//!
//! Sweep figures: [`sweep::render_all`].

pub mod basins;
pub mod canvas;
pub mod chart;
pub mod cloud;
pub mod colorbar;
pub mod exit;
pub mod frame;
pub mod legend;
pub mod names;
pub mod phase;
pub mod style;
pub mod sweep;
pub mod trajectories;
pub mod width;

use crate::error::{Error, Result};
use crate::model::landscape::Landscape;
use crate::report::Report;
pub use canvas::Format;
use std::path::{Path, PathBuf};

/// Renders every figure that applies to `report` into `dir` (created if missing) as PNG and returns the
/// paths written: `trajectories.png` (d ≥ 2 and stored paths), `cloud.png` (d ≥ 2 and moments),
/// `width.png` (moments), `exit_times.png` (survival rows), `basins.png` (basin rows). The landscape, when
/// given and 2-D, adds the contour plot under the trajectories.
pub fn render_all(report: &Report, landscape: Option<&dyn Landscape>, dir: &Path) -> Result<Vec<PathBuf>> {
    render_all_as(report, landscape, dir, Format::Png)
}

/// [`render_all`] in `format` (`trajectories.svg`, … for SVG).
pub fn render_all_as(
    report: &Report,
    landscape: Option<&dyn Landscape>,
    dir: &Path,
    format: Format,
) -> Result<Vec<PathBuf>> {
    use rayon::prelude::*;
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    type Render<'a> = &'a (dyn Fn(&Path) -> Result<bool> + Sync);
    let figures: [(&str, Render); 5] = [
        ("trajectories", &|p| trajectories::render(report, landscape, p)),
        ("cloud", &|p| cloud::render(report, p)),
        ("width", &|p| width::render(report, p)),
        ("exit_times", &|p| exit::render(report, p)),
        ("basins", &|p| basins::render(report, p)),
    ];
    // Rendered in parallel (each figure is independent); written in this order, the first error reported.
    let done: Vec<Result<Option<PathBuf>>> = figures
        .par_iter()
        .map(|(name, render)| {
            let path = format.path(dir, name);
            Ok(render(&path)?.then_some(path))
        })
        .collect();
    done.into_iter().filter_map(Result::transpose).collect()
}

/// Dimension of the state in `report`: the number of variables, or the length of the stored vectors.
pub(crate) fn report_dim(report: &Report) -> usize {
    if !report.summary.variables.is_empty() {
        return report.summary.variables.len();
    }
    report
        .moments
        .iter()
        .map(|m| m.mean.len())
        .chain(report.paths.iter().map(|p| p.x.len()))
        .max()
        .unwrap_or(report.summary.saddle.len())
}

/// Name of coordinate `i` (from the summary, else x, y / x0, x1, …).
pub(crate) fn var_name(report: &Report, i: usize) -> String {
    report.summary.variables.get(i).cloned().unwrap_or_else(|| {
        let names = crate::model::landscape::default_names(report_dim(report).max(i + 1).max(2));
        names.get(i).cloned().unwrap_or_else(|| format!("x{i}"))
    })
}
