//! The sweep figures, drawn from a [`SweepTable`] (so `samsde plot` re-renders them from `sweep.json`), each
//! skipped when it does not apply:
//!
//! | varied keys | file | shows |
//! |---|---|---|
//! | 1 | `sweep_msd.png` | MSD at t_end per dynamics, ±1.96 standard errors |
//! | 1 | `sweep_exit_time.png` | mean exit time with its 95 % interval (exit region only) |
//! | 1 | `sweep_trapped.png` | probability of the `trapped` basin class, Clopper–Pearson 95 % |
//! | 1 | `sweep_escape.png` | exited fraction (exit region) or 1 − trapped, Clopper–Pearson 95 % |
//! | 2 | `phase_<label>.png` | trapping probability over the two parameters, one per dynamics, with the O3 / O12 boundary |

use super::canvas::Format;
use super::chart::{self, Figure, Series};
use super::legend::{Entry, Shape, Swatch};
use super::names;
use super::phase::Phase;
use crate::error::Result;
use crate::setup::DynamicsKind;
use crate::setup::schema::NoiseKind;
use crate::sweep::{SeriesPoint, SweepTable};
use crate::theory::attraction::{minibatch_sam_threshold, usam_threshold};
use std::path::{Path, PathBuf};

/// Axis label of a varied key: its symbol where known, then the key, e.g. `ρ  (dynamics.SAM.rho)`.
pub fn axis_label(key: &str) -> String {
    names::axis(key)
}

/// Renders every sweep figure that applies into `dir` as PNG; returns the paths written.
pub fn render_all(t: &SweepTable, dir: &Path) -> Result<Vec<PathBuf>> {
    render_all_as(t, dir, Format::Png)
}

/// Renders every sweep figure that applies into `dir` in `format`; returns the paths written.
pub fn render_all_as(t: &SweepTable, dir: &Path, format: Format) -> Result<Vec<PathBuf>> {
    let keys = t.axis_keys();
    let mut out = Vec::new();
    let mut keep = |p: Option<PathBuf>| out.extend(p);
    match keys.as_slice() {
        [x] if t.axis_values(x).iter().all(|v| v.is_finite()) => {
            keep(fig_msd(t, dir, format)?);
            keep(fig_exit_time(t, dir, format)?);
            keep(fig_trapped(t, dir, format)?);
            keep(fig_escape(t, dir, format)?);
        }
        [x, y] if t.axis_values(x).iter().chain(&t.axis_values(y)).all(|v| v.is_finite()) => {
            for k in 0..t.labels().len() {
                keep(fig_phase(t, k, dir, format)?);
            }
        }
        _ => {}
    }
    Ok(out)
}

/// Legend name of dynamics `k` of the table: its readable name, and its kind when that differs.
fn dyn_name(t: &SweepTable, k: usize) -> String {
    let Some(d) = t.points.first().and_then(|p| p.dynamics.get(k)) else {
        return String::new();
    };
    names::dynamics(&d.label, &d.kind)
}

/// A line figure of measured curves (one per dynamics, in palette order), if any has a point.
struct Line<'a> {
    file: &'a str,
    series: Vec<(String, Vec<SeriesPoint>)>,
    y_label: &'a str,
    title: String,
    /// Probability axis: [0, 1].
    probability: bool,
    notes: Vec<String>,
}

fn line(
    t: &SweepTable,
    dir: &Path,
    format: Format,
    l: Line,
    edit: impl FnOnce(&mut Figure),
) -> Result<Option<PathBuf>> {
    if l.series.iter().all(|(_, p)| p.is_empty()) {
        return Ok(None);
    }
    let path = format.path(dir, l.file);
    let mut notes = l.notes;
    if let Some(te) = t.t_end.filter(|v| v.is_finite()) {
        notes.push(format!(
            "T = {}; {} paths per point, the same seed at every point.",
            te,
            t.paths.map_or("?".into(), |p| p.to_string())
        ));
    }
    let mut fig = Figure {
        title: format!("{}: {}", names::model(&t.model), l.title),
        x_label: axis_label(&t.axis_keys()[0]),
        y_label: l.y_label.into(),
        pad: (0.05, 0.08),
        y_range: l.probability.then_some((0.0, 1.0)),
        series: l
            .series
            .iter()
            .enumerate()
            .map(|(i, (_, pts))| Series::measured(dyn_name(t, i), i, pts))
            .collect(),
        notes,
        ..Figure::default()
    };
    edit(&mut fig);
    chart::render(&fig, &path)?;
    Ok(Some(path))
}

/// `sweep_msd.png`: MSD at t_end ± 1.96 SE.
fn fig_msd(t: &SweepTable, dir: &Path, format: Format) -> Result<Option<PathBuf>> {
    let series = t.series(|d| Some((d.msd, d.msd - 1.96 * d.msd_stderr, d.msd + 1.96 * d.msd_stderr)));
    let title = match t.t_end.filter(|v| v.is_finite()) {
        Some(te) => format!("MSD at t = {te} (±1.96 SE)"),
        None => "MSD at t_end (±1.96 SE)".into(),
    };
    let l = Line {
        file: "sweep_msd",
        series,
        y_label: "E‖x(T) − d‖²",
        title,
        probability: false,
        notes: vec!["MSD: mean squared distance from the saddle d at T; bars ±1.96 standard errors.".into()],
    };
    line(t, dir, format, l, |_| {})
}

/// `sweep_exit_time.png`: mean exit time with its 95 % interval, or, when any point censored a path, the
/// restricted mean E[min(τ, T)] (the axis and title say so; points with censored paths are drawn open).
fn fig_exit_time(t: &SweepTable, dir: &Path, format: Format) -> Result<Option<PathBuf>> {
    let series = t.series(|d| {
        let (m, [lo, hi], _) = d.exit_time()?;
        Some((m, lo, hi))
    });
    let key = t.axis_keys().into_iter().next().unwrap_or_default();
    let xs = t.axis_values(&key);
    // Points with censored paths, per dynamics.
    let open: Vec<Vec<(f64, f64)>> = (0..t.labels().len())
        .map(|k| {
            t.points
                .iter()
                .zip(&xs)
                .filter_map(|(p, &x)| {
                    let d = p.dynamics.get(k)?;
                    let (m, _, restricted) = d.exit_time()?;
                    restricted.then_some((x, m))
                })
                .collect()
        })
        .collect();
    let restricted = open.iter().any(|o| !o.is_empty());
    let (y, title) = if restricted {
        (
            "restricted mean E[min(τ, T)]",
            "restricted mean exit time E[min(τ, T)] (95 % CI)",
        )
    } else {
        ("mean exit time E[τ]", "mean exit time E[τ] (95 % CI)")
    };
    let mut notes = Vec::new();
    if restricted {
        notes.push(
            "Open markers: some paths had not left the exit region by T (censored); there the estimate is \
             the restricted mean E[min(τ, T)], a lower bound of E[τ]; filled markers: every path exited, the \
             mean E[τ]."
                .to_string(),
        );
    }
    let l = Line {
        file: "sweep_exit_time",
        series,
        y_label: y,
        title: title.into(),
        probability: false,
        notes,
    };
    line(t, dir, format, l, |fig| {
        for (s, o) in fig.series.iter_mut().zip(open) {
            s.open = o;
        }
        if restricted {
            fig.legend.push(Entry::new(
                "censored paths at T (restricted mean)",
                Swatch::Marker {
                    color: plotters::style::BLACK,
                    shape: Shape::Circle,
                    open: true,
                },
            ));
        }
    })
}

/// `sweep_trapped.png`: probability of the `trapped` class, Clopper–Pearson 95 %.
fn fig_trapped(t: &SweepTable, dir: &Path, format: Format) -> Result<Option<PathBuf>> {
    let series = t.series(|d| {
        let p = *d.basins.get("trapped")?;
        let [lo, hi] = d.basins_ci95.get("trapped").copied().unwrap_or([f64::NAN, f64::NAN]);
        Some((p, lo, hi))
    });
    let l = Line {
        file: "sweep_trapped",
        series,
        y_label: "P(trapped)",
        title: "trapping probability (95 % CI)".into(),
        probability: true,
        notes: vec![
            "Trapped: reached no minimum and still inside the saddle's neighbourhood at T (the exit region, or \
             the basin-radius ball around the saddle). Bars: Clopper–Pearson 95 % intervals."
                .into(),
        ],
    };
    line(t, dir, format, l, |_| {})
}

/// `sweep_escape.png`: exited fraction (with an exit region) or 1 − P(trapped), Clopper–Pearson 95 %.
fn fig_escape(t: &SweepTable, dir: &Path, format: Format) -> Result<Option<PathBuf>> {
    let has_exit = t.points.iter().flat_map(|p| &p.dynamics).any(|d| d.exited.is_some());
    let (series, y, note) = if has_exit {
        let s = t.series(|d| d.exited_fraction().map(|(p, [lo, hi])| (p, lo, hi)));
        (s, "P(exited by T)", "Escape: the path left the exit region by T.")
    } else {
        let s = t.series(|d| {
            let p = *d.basins.get("trapped")?;
            let [lo, hi] = d.basins_ci95.get("trapped").copied().unwrap_or([f64::NAN, f64::NAN]);
            Some((1.0 - p, 1.0 - hi, 1.0 - lo))
        });
        (
            s,
            "1 − P(trapped)",
            "Escape: not trapped at T (no exit region in this model).",
        )
    };
    let l = Line {
        file: "sweep_escape",
        series,
        y_label: y,
        title: "escape probability (95 % CI)".into(),
        probability: true,
        notes: vec![format!("{note} Bars: Clopper–Pearson 95 % intervals.")],
    };
    line(t, dir, format, l, |_| {})
}

/// `phase_<label>.png`: P(trapped) of dynamics `k` over the two varied keys. When one key is this
/// dynamics' ρ it goes on the y axis so that the theoretical boundary is a curve ρ*(x). An unevenly spaced
/// grid (a list such as ρ = 0.01, 0.1, 0.3, or batch sizes 1, 2, 4, 8) gets one cell per value
/// ([`Phase`] draws it by grid index, a geometric one as a log axis).
fn fig_phase(t: &SweepTable, k: usize, dir: &Path, format: Format) -> Result<Option<PathBuf>> {
    let keys = t.axis_keys();
    let Some(first) = t.points.first().and_then(|p| p.dynamics.get(k)) else {
        return Ok(None);
    };
    if !t
        .points
        .iter()
        .any(|p| p.dynamics.get(k).is_some_and(|d| d.basins.contains_key("trapped")))
    {
        return Ok(None);
    }
    let (mut ax, mut ay) = (0, 1);
    if is_rho_of(t, k, &keys[0]) && !is_rho_of(t, k, &keys[1]) {
        (ax, ay) = (1, 0);
    }
    let grid = |a: usize| -> Vec<f64> {
        t.vary
            .get(&keys[a])
            .map(|v| v.iter().map(|s| s.parse().unwrap_or(f64::NAN)).collect())
            .unwrap_or_default()
    };
    let (xs, ys) = (grid(ax), grid(ay));
    let x_label = axis_label(&keys[ax]);
    let (bound, bound_label) = match boundary(t, k, &keys[ax], &keys[ay]) {
        Some((f, l)) => (Some(f), l),
        None => (None, String::new()),
    };
    let mut values = vec![vec![f64::NAN; xs.len()]; ys.len()];
    let n1 = grid(1).len().max(1);
    for p in &t.points {
        let idx = [p.point / n1, p.point % n1];
        let v = p.dynamics.get(k).and_then(|d| d.basins.get("trapped")).copied();
        if let (Some(row), Some(v)) = (values.get_mut(idx[ay]), v)
            && let Some(c) = row.get_mut(idx[ax])
        {
            *c = v;
        }
    }
    let path = format.path(dir, &format!("phase_{}", file_label(&first.label)));
    let title = format!(
        "{}: trapping probability of {}",
        names::model(&t.model),
        names::dynamics(&first.label, &first.kind)
    );
    let y_label = axis_label(&keys[ay]);
    let mut notes = vec![
        "Colour: P(trapped), the fraction of paths that reached no minimum and are still inside the saddle's \
         neighbourhood at T; grey: no value."
            .to_string(),
    ];
    if let Some(te) = t.t_end.filter(|v| v.is_finite()) {
        notes.push(format!(
            "T = {te}; {} paths per cell.",
            t.paths.map_or("?".into(), |p| p.to_string())
        ));
    }
    Phase {
        title: &title,
        x_label: &x_label,
        y_label: &y_label,
        xs: &xs,
        ys: &ys,
        values: &values,
        value_label: "P(trapped)",
        boundary: bound.as_deref().map(|f| (f, bound_label.as_str())),
        notes,
    }
    .render(&path)?;
    Ok(Some(path))
}

/// A boundary curve y(x).
type Curve = Box<dyn Fn(f64) -> f64>;

/// Whether axis `key` is the ρ of dynamics `k`: its last segment is `rho` and, when the table records ρ, it
/// equals that dynamics' ρ at every point (else the key names the label: `dynamics.<label>.rho`).
fn is_rho_of(t: &SweepTable, k: usize, key: &str) -> bool {
    if !key.ends_with("rho") {
        return false;
    }
    let matches = t.points.iter().all(|p| {
        let v: Option<f64> = p.values.get(key).and_then(|v| v.parse().ok());
        match (p.dynamics.get(k).and_then(|d| d.rho), v) {
            (Some(r), Some(v)) => (r - v).abs() <= 1e-12 * v.abs().max(1.0),
            _ => false,
        }
    });
    let recorded = t
        .points
        .iter()
        .all(|p| p.dynamics.get(k).is_some_and(|d| d.rho.is_some()));
    if recorded {
        matches
    } else {
        t.points
            .first()
            .and_then(|p| p.dynamics.get(k))
            .is_some_and(|d| key == format!("dynamics.{}.rho", d.label))
    }
}

/// The theoretical attraction boundary ρ*(x) for dynamics `k` with x on `kx` and its ρ on `ky`:
/// usam / sam_fullbatch / kim: O3, ρ* = 1/|λ₋| (any x); sam and sam_discrete with isotropic noise and
/// x = batch size or σ₁: O12, σ_B = √(2/π) ρ |λ₋| with σ_B = σ₁/√B, i.e. ρ* = σ_B / (√(2/π)|λ₋|).
fn boundary(t: &SweepTable, k: usize, kx: &str, ky: &str) -> Option<(Curve, String)> {
    if !is_rho_of(t, k, ky) {
        return None;
    }
    let kind = DynamicsKind::from_name(&t.points.first()?.dynamics.get(k)?.kind)?;
    let lmin = t.saddle_eigenvalues.iter().copied().fold(f64::INFINITY, f64::min);
    match kind {
        DynamicsKind::Usam | DynamicsKind::SamFullbatch | DynamicsKind::Kim => {
            let r = usam_threshold(&t.saddle_eigenvalues)?;
            Some((Box::new(move |_| r), "O3 threshold ρ* = 1/|λ₋|".into()))
        }
        DynamicsKind::Sam | DynamicsKind::SamDiscrete => {
            let noise = t.points.first()?.noise.clone()?;
            if NoiseKind::from_name(&noise.kind) != Some(NoiseKind::Isotropic) || lmin >= 0.0 {
                return None;
            }
            // σ_B at ρ = 1 on the boundary: ρ* = σ_B / that.
            let per_rho = minibatch_sam_threshold(lmin.abs(), 1.0).ok()?;
            let label = "O12 boundary σ_B = √(2/π) ρ |λ₋|".to_string();
            match kx.rsplit('.').next()? {
                "batch_size" => Some((Box::new(move |b: f64| noise.sigma / b.sqrt() / per_rho), label)),
                "sigma" => Some((Box::new(move |s: f64| s / noise.batch_size.sqrt() / per_rho), label)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A label made safe for a file name.
fn file_label(l: &str) -> String {
    l.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
