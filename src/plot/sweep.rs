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

use super::chart::{self, Figure, Series};
use super::phase::phase_diagram;
use crate::error::Result;
use crate::setup::DynamicsKind;
use crate::setup::schema::NoiseKind;
use crate::sweep::{SeriesPoint, SweepTable};
use crate::theory::attraction::{minibatch_sam_threshold, usam_threshold};
use std::path::{Path, PathBuf};

/// Axis label of a varied key: its symbol where known, then the key, e.g. `ρ  (dynamics.SAM.rho)`.
pub fn axis_label(key: &str) -> String {
    let sym = match key.rsplit('.').next().unwrap_or(key) {
        "rho" => "ρ",
        "momentum" => "μ",
        "batch_size" => "B",
        "lr" => "η",
        "sigma" => "σ₁",
        _ => return key.to_string(),
    };
    format!("{sym}  ({key})")
}

/// Renders every sweep figure that applies into `dir`; returns the paths written.
pub fn render_all(t: &SweepTable, dir: &Path) -> Result<Vec<PathBuf>> {
    let keys = t.axis_keys();
    let mut out = Vec::new();
    let mut keep = |p: Option<PathBuf>| out.extend(p);
    match keys.as_slice() {
        [x] if t.axis_values(x).iter().all(|v| v.is_finite()) => {
            keep(fig_msd(t, dir)?);
            keep(fig_exit_time(t, dir)?);
            keep(fig_trapped(t, dir)?);
            keep(fig_escape(t, dir)?);
        }
        [x, y] if t.axis_values(x).iter().chain(&t.axis_values(y)).all(|v| v.is_finite()) => {
            for k in 0..t.labels().len() {
                keep(fig_phase(t, k, dir)?);
            }
        }
        _ => {}
    }
    Ok(out)
}

/// Draws a line figure of measured curves (one per dynamics, in palette order) if any has a point.
fn line(
    t: &SweepTable,
    dir: &Path,
    file: &str,
    s: &[(String, Vec<SeriesPoint>)],
    y: &str,
    title: &str,
) -> Result<Option<PathBuf>> {
    if s.iter().all(|(_, p)| p.is_empty()) {
        return Ok(None);
    }
    let path = dir.join(file);
    let fig = Figure {
        title: format!("{}: {title}", t.model),
        x_label: axis_label(&t.axis_keys()[0]),
        y_label: y.into(),
        pad: (0.05, 0.08),
        series: s
            .iter()
            .enumerate()
            .map(|(i, (label, pts))| Series::measured(label.clone(), i, pts))
            .collect(),
        ..Figure::default()
    };
    chart::render(&fig, &path)?;
    Ok(Some(path))
}

/// `sweep_msd.png`: MSD at t_end ± 1.96 SE.
fn fig_msd(t: &SweepTable, dir: &Path) -> Result<Option<PathBuf>> {
    let s = t.series(|d| Some((d.msd, d.msd - 1.96 * d.msd_stderr, d.msd + 1.96 * d.msd_stderr)));
    let title = match t.t_end {
        Some(te) => format!("MSD at t = {te} (±1.96 SE)"),
        None => "MSD at t_end (±1.96 SE)".into(),
    };
    line(t, dir, "sweep_msd.png", &s, "E‖x − d‖²", &title)
}

/// `sweep_exit_time.png`: mean exit time with its 95 % interval, or the restricted mean E[min(τ, T)] when
/// any point censored a path (then the axis says so).
fn fig_exit_time(t: &SweepTable, dir: &Path) -> Result<Option<PathBuf>> {
    let restricted = t
        .points
        .iter()
        .flat_map(|p| &p.dynamics)
        .any(|d| d.exit_time().is_some_and(|e| e.2));
    let s = t.series(|d| {
        let (m, [lo, hi], _) = d.exit_time()?;
        Some((m, lo, hi))
    });
    let (y, title) = if restricted {
        (
            "restricted mean E[min(τ, T)]",
            "restricted mean exit time E[min(τ, T)] (95 % CI)",
        )
    } else {
        ("mean exit time", "mean exit time (95 % CI)")
    };
    line(t, dir, "sweep_exit_time.png", &s, y, title)
}

/// `sweep_trapped.png`: probability of the `trapped` class, Clopper–Pearson 95 %.
fn fig_trapped(t: &SweepTable, dir: &Path) -> Result<Option<PathBuf>> {
    let s = t.series(|d| {
        let p = *d.basins.get("trapped")?;
        let [lo, hi] = d.basins_ci95.get("trapped").copied().unwrap_or([f64::NAN, f64::NAN]);
        Some((p, lo, hi))
    });
    line(
        t,
        dir,
        "sweep_trapped.png",
        &s,
        "P(trapped)",
        "trapping probability (95 % CI)",
    )
}

/// `sweep_escape.png`: exited fraction (with an exit region) or 1 − P(trapped), Clopper–Pearson 95 %.
fn fig_escape(t: &SweepTable, dir: &Path) -> Result<Option<PathBuf>> {
    let has_exit = t.points.iter().flat_map(|p| &p.dynamics).any(|d| d.exited.is_some());
    let (s, y) = if has_exit {
        let s = t.series(|d| d.exited_fraction().map(|(p, [lo, hi])| (p, lo, hi)));
        (s, "P(exited by t_end)")
    } else {
        let s = t.series(|d| {
            let p = *d.basins.get("trapped")?;
            let [lo, hi] = d.basins_ci95.get("trapped").copied().unwrap_or([f64::NAN, f64::NAN]);
            Some((1.0 - p, 1.0 - hi, 1.0 - lo))
        });
        (s, "1 − P(trapped)")
    };
    line(t, dir, "sweep_escape.png", &s, y, "escape probability (95 % CI)")
}

/// `phase_<label>.png`: P(trapped) of dynamics `k` over the two varied keys. When one key is this
/// dynamics' ρ it goes on the y axis so that the theoretical boundary is a curve ρ*(x). A batch-size axis
/// spanning a factor ≥ 8 is drawn as log₂ B.
fn fig_phase(t: &SweepTable, k: usize, dir: &Path) -> Result<Option<PathBuf>> {
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
    let (mut xs, ys) = (grid(ax), grid(ay));
    let mut x_label = axis_label(&keys[ax]);
    let mut bound = boundary(t, k, &keys[ax], &keys[ay]);
    // Batch sizes spanning a factor ≥ 8 (e.g. 1, 2, 4, …, 64) read better on a log₂ axis.
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
    if keys[ax].ends_with("batch_size") && lo > 0.0 && hi >= 8.0 * lo {
        xs.iter_mut().for_each(|x| *x = x.log2());
        x_label = format!("log₂ {x_label}");
        bound = bound.map(|f| Box::new(move |x: f64| f(x.exp2())) as Box<dyn Fn(f64) -> f64>);
    }
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
    let path = dir.join(format!("phase_{}.png", file_label(&first.label)));
    let title = format!("{}: P(trapped), {} ({})", t.model, first.label, first.kind);
    phase_diagram(
        &path,
        &x_label,
        &axis_label(&keys[ay]),
        &xs,
        &ys,
        &values,
        bound.as_deref(),
        &title,
    )?;
    Ok(Some(path))
}

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
fn boundary(t: &SweepTable, k: usize, kx: &str, ky: &str) -> Option<Box<dyn Fn(f64) -> f64>> {
    if !is_rho_of(t, k, ky) {
        return None;
    }
    let kind = DynamicsKind::from_name(&t.points.first()?.dynamics.get(k)?.kind)?;
    let lmin = t.saddle_eigenvalues.iter().copied().fold(f64::INFINITY, f64::min);
    match kind {
        DynamicsKind::Usam | DynamicsKind::SamFullbatch | DynamicsKind::Kim => {
            let r = usam_threshold(&t.saddle_eigenvalues)?;
            Some(Box::new(move |_| r))
        }
        DynamicsKind::Sam | DynamicsKind::SamDiscrete => {
            let noise = t.points.first()?.noise.clone()?;
            if NoiseKind::from_name(&noise.kind) != Some(NoiseKind::Isotropic) || lmin >= 0.0 {
                return None;
            }
            // σ_B at ρ = 1 on the boundary: ρ* = σ_B / that.
            let per_rho = minibatch_sam_threshold(lmin.abs(), 1.0).ok()?;
            match kx.rsplit('.').next()? {
                "batch_size" => Some(Box::new(move |b: f64| noise.sigma / b.sqrt() / per_rho)),
                "sigma" => Some(Box::new(move |s: f64| s / noise.batch_size.sqrt() / per_rho)),
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
