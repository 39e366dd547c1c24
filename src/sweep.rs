//! Parameter sweeps: a grid of parameter values → one run per point (same seed) → a table (`sweep.csv`,
//! `sweep.json`) → figures. `samsde sweep` builds a [`Sweep`] from `--vary` arguments ([`Axis::parse`]),
//! runs it into a [`SweepTable`] and writes the table with [`SweepTable::write_dir`]; `samsde plot` on a
//! sweep folder re-renders the figures from `sweep.json` alone ([`SweepTable::read_dir`], [`render_figures`]).
//!
//! Figures (PNG, via [`crate::plot::sweep`]), each skipped when it does not apply:
//!
//! | varied keys | file | shows |
//! |---|---|---|
//! | 1 | `sweep_msd.png` | MSD at t_end per dynamics, ±1.96 standard errors |
//! | 1 | `sweep_exit_time.png` | mean exit time with its 95 % interval (exit region only) |
//! | 1 | `sweep_trapped.png` | probability of the `trapped` basin class, Clopper–Pearson 95 % |
//! | 1 | `sweep_escape.png` | exited fraction (exit region) or 1 − trapped, Clopper–Pearson 95 % |
//! | 2 | `phase_<label>.png` | trapping probability over the two parameters, one per dynamics, with the O3 / O12 boundary |

use crate::config::{Source, parse_value};
use crate::error::{Error, Result};
use crate::experiment::Experiment;
use crate::plot::sweep::{SweepPoint as LinePoint, phase_diagram, sweep_line};
use crate::stats::basins::clopper_pearson;
use crate::theory::attraction::{minibatch_sam_threshold, usam_threshold};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One varied parameter: its dotted key and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Dotted key, e.g. `dynamics.SAM.rho`.
    pub key: String,
    /// Values in grid order.
    pub values: Vec<toml::Value>,
}

impl Axis {
    /// Parses `KEY=START:STOP:COUNT` (a linear grid) or `KEY=A,B,C` (a list).
    pub fn parse(v: &str) -> Result<Axis> {
        let bad = |m: &str| Error::Usage(format!("--vary {v}: {m}; use KEY=START:STOP:COUNT or KEY=A,B,C"));
        let (key, spec) = v.split_once('=').ok_or_else(|| bad("missing `=`"))?;
        let parts: Vec<&str> = spec.split(':').collect();
        let values = if parts.len() == 3 {
            let a: f64 = parts[0].trim().parse().map_err(|_| bad("START is not a number"))?;
            let b: f64 = parts[1].trim().parse().map_err(|_| bad("STOP is not a number"))?;
            let n: usize = parts[2]
                .trim()
                .parse()
                .map_err(|_| bad("COUNT is not a whole number"))?;
            if n == 0 || !a.is_finite() || !b.is_finite() {
                return Err(bad("COUNT must be ≥ 1 and the bounds finite"));
            }
            (0..n)
                .map(|i| {
                    let t = if n == 1 { 0.0 } else { i as f64 / (n - 1) as f64 };
                    toml::Value::Float(a + (b - a) * t)
                })
                .collect()
        } else if parts.len() == 1 {
            spec.split(',').map(|s| parse_value(s.trim())).collect()
        } else {
            return Err(bad("malformed grid"));
        };
        Ok(Axis {
            key: key.trim().to_string(),
            values,
        })
    }
}

/// A TOML value as written in the table (strings unquoted).
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A validated sweep: the cartesian product of the axes (last axis fastest), one experiment per point.
pub struct Sweep {
    axes: Vec<Axis>,
    grid: Vec<Vec<usize>>,
    exps: Vec<Experiment>,
}

impl Sweep {
    /// Builds and validates every grid point of `base` with the axes applied (nothing is run).
    pub fn new(base: &Source, axes: Vec<Axis>) -> Result<Sweep> {
        let mut grid: Vec<Vec<usize>> = vec![vec![]];
        for a in &axes {
            grid = grid
                .into_iter()
                .flat_map(|p| {
                    (0..a.values.len()).map(move |i| {
                        let mut q = p.clone();
                        q.push(i);
                        q
                    })
                })
                .collect();
        }
        let mut exps = Vec::with_capacity(grid.len());
        for idx in &grid {
            let mut src = base.clone();
            for (a, &i) in axes.iter().zip(idx) {
                src.set(&format!("{}={}", a.key, a.values[i]))?;
            }
            exps.push(Experiment::load(&src)?);
        }
        Ok(Sweep { axes, grid, exps })
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        self.exps.first().map(|e| e.config.name.as_str()).unwrap_or_default()
    }

    /// Number of grid points.
    pub fn points(&self) -> usize {
        self.grid.len()
    }

    /// Runs every point on `threads` workers (0: all cores), reporting progress on stderr.
    pub fn run(&self, threads: usize) -> Result<SweepTable> {
        let mut points = Vec::with_capacity(self.grid.len());
        let mut eigenvalues = Vec::new();
        let mut t_end = None;
        for (p, (idx, exp)) in self.grid.iter().zip(&self.exps).enumerate() {
            let r = exp.run(threads, false)?;
            if p == 0 {
                eigenvalues = r.summary.saddle_eigenvalues.clone();
                t_end = Some(r.summary.t_end);
            }
            let values = self
                .axes
                .iter()
                .zip(idx)
                .map(|(a, &i)| (a.key.clone(), value_text(&a.values[i])))
                .collect();
            let n = &exp.config.noise;
            points.push(SweepPoint {
                point: p,
                values,
                dynamics: r.summary.dynamics.iter().map(SweepDynamics::from_summary).collect(),
                noise: Some(SweepNoise {
                    kind: n.kind.clone(),
                    sigma: n.sigma,
                    batch_size: n.batch_size,
                }),
            });
            eprintln!("sweep point {}/{} done", p + 1, self.grid.len());
        }
        let first = self.exps.first();
        Ok(SweepTable {
            model: self.name().to_string(),
            seed: first.map(|e| e.config.ensemble.seed),
            paths: first.map(|e| e.config.ensemble.paths),
            vary: self
                .axes
                .iter()
                .map(|a| (a.key.clone(), a.values.iter().map(value_text).collect()))
                .collect(),
            axes: self.axes.iter().map(|a| a.key.clone()).collect(),
            saddle_eigenvalues: eigenvalues,
            t_end,
            points,
        })
    }
}

/// `sweep.json`: the whole sweep. Fields added after the first version default when missing, so older
/// files still load (with fewer figures).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepTable {
    /// The model's name.
    pub model: String,
    /// Master seed (the same at every point).
    pub seed: Option<u64>,
    /// Paths per dynamics.
    pub paths: Option<u64>,
    /// Values of each varied key, as written in the table.
    pub vary: BTreeMap<String, Vec<String>>,
    /// The varied keys in `--vary` order (the first varies slowest).
    #[serde(default)]
    pub axes: Vec<String>,
    /// Eigenvalues of ∇²f at the saddle, ascending (at the first point).
    #[serde(default)]
    pub saddle_eigenvalues: Vec<f64>,
    /// Horizon T (at the first point).
    #[serde(default)]
    pub t_end: Option<f64>,
    /// One entry per grid point.
    pub points: Vec<SweepPoint>,
}

/// One grid point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Index in grid order.
    pub point: usize,
    /// Value of each varied key.
    pub values: BTreeMap<String, String>,
    /// Results per dynamics, in model-file order.
    pub dynamics: Vec<SweepDynamics>,
    /// The noise model at this point.
    #[serde(default)]
    pub noise: Option<SweepNoise>,
}

/// The noise parameters of one point (those the theoretical boundaries need).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepNoise {
    /// isotropic | hessian | finite_sum | linear.
    pub kind: String,
    /// σ₁ (isotropic).
    pub sigma: f64,
    /// Batch size B.
    pub batch_size: f64,
}

/// One dynamics at one grid point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepDynamics {
    /// Label from the model file.
    pub label: String,
    /// Kind (sgd, usam, sam, …).
    #[serde(default)]
    pub kind: String,
    /// Radius ρ.
    #[serde(default)]
    pub rho: Option<f64>,
    /// MSD E‖x − d‖² at t_end.
    #[serde(deserialize_with = "nan_if_null")]
    pub msd: f64,
    /// Its standard error.
    #[serde(deserialize_with = "nan_if_null")]
    pub msd_stderr: f64,
    /// tr C at t_end.
    #[serde(deserialize_with = "nan_if_null")]
    pub trace: f64,
    /// Mean (or restricted mean) exit time.
    pub exit_mean_time: Option<f64>,
    /// Its standard error.
    pub exit_mean_time_stderr: Option<f64>,
    /// Its 95 % interval (from the run's exit summary).
    #[serde(default)]
    pub exit_mean_time_ci95: Option<[f64; 2]>,
    /// Paths that exited by t_end.
    pub exited: Option<u64>,
    /// Paths censored at t_end.
    pub censored: Option<u64>,
    /// Probability per basin class.
    pub basins: BTreeMap<String, f64>,
    /// Clopper–Pearson 95 % interval per basin class.
    #[serde(default)]
    pub basins_ci95: BTreeMap<String, [f64; 2]>,
    /// Paths that diverged.
    pub diverged: u64,
}

impl SweepDynamics {
    fn from_summary(d: &crate::report::DynamicsSummary) -> SweepDynamics {
        let total: u64 = d.basins.iter().map(|b| b.count).sum();
        SweepDynamics {
            label: d.label.clone(),
            kind: d.kind.clone(),
            rho: Some(d.rho),
            msd: d.width.msd,
            msd_stderr: d.width.msd_stderr,
            trace: d.width.trace,
            exit_mean_time: d.exit.as_ref().and_then(|e| e.mean_time),
            exit_mean_time_stderr: d.exit.as_ref().and_then(|e| e.mean_time_stderr),
            exit_mean_time_ci95: d.exit.as_ref().and_then(|e| e.ci95),
            exited: d.exit.as_ref().map(|e| e.exited),
            censored: d.exit.as_ref().map(|e| e.censored),
            basins: d.basins.iter().map(|b| (b.label.clone(), b.probability)).collect(),
            basins_ci95: d
                .basins
                .iter()
                .map(|b| (b.label.clone(), clopper_pearson(b.count, total)))
                .collect(),
            diverged: d.diverged,
        }
    }

    /// Exited fraction with its Clopper–Pearson 95 % interval (exit region only).
    fn exited_fraction(&self) -> Option<(f64, [f64; 2])> {
        let (k, c) = (self.exited?, self.censored?);
        let n = k + c;
        (n > 0).then(|| (k as f64 / n as f64, clopper_pearson(k, n)))
    }
}

impl SweepTable {
    /// The varied keys in grid order (older files without `axes`: the keys of `vary`).
    pub fn axis_keys(&self) -> Vec<String> {
        if self.axes.is_empty() {
            self.vary.keys().cloned().collect()
        } else {
            self.axes.clone()
        }
    }

    /// Header and rows of `sweep.csv`: one row per point; per dynamics `label.msd`, …, `label.p_<class>`,
    /// then (appended after every original column) the 95 % intervals `label.exit_mean_time_ci_lo/hi` and
    /// `label.p_<class>_ci_lo/hi`.
    pub fn csv(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let keys = self.axis_keys();
        let mut header: Vec<String> = vec!["point".into()];
        header.extend(keys.iter().cloned());
        let labels: Vec<String> = self
            .points
            .first()
            .map(|p| p.dynamics.iter().map(|d| d.label.clone()).collect())
            .unwrap_or_default();
        let classes: Vec<Vec<String>> = (0..labels.len())
            .map(|k| {
                let mut cl: Vec<String> = self
                    .points
                    .iter()
                    .filter_map(|p| p.dynamics.get(k))
                    .flat_map(|d| d.basins.keys().cloned())
                    .collect();
                cl.sort();
                cl.dedup();
                cl
            })
            .collect();
        for (l, cl) in labels.iter().zip(&classes) {
            for f in [
                "msd",
                "msd_stderr",
                "trace",
                "exit_mean_time",
                "exit_mean_time_stderr",
                "exited",
                "censored",
                "diverged",
            ] {
                header.push(format!("{l}.{f}"));
            }
            header.extend(cl.iter().map(|c| format!("{l}.p_{c}")));
        }
        for (l, cl) in labels.iter().zip(&classes) {
            header.push(format!("{l}.exit_mean_time_ci_lo"));
            header.push(format!("{l}.exit_mean_time_ci_hi"));
            for c in cl {
                header.push(format!("{l}.p_{c}_ci_lo"));
                header.push(format!("{l}.p_{c}_ci_hi"));
            }
        }
        let o = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        let ou = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or_default();
        let rows = self
            .points
            .iter()
            .map(|p| {
                let mut r = vec![p.point.to_string()];
                r.extend(keys.iter().map(|k| p.values.get(k).cloned().unwrap_or_default()));
                for (d, cl) in p.dynamics.iter().zip(&classes) {
                    r.extend([
                        d.msd.to_string(),
                        d.msd_stderr.to_string(),
                        d.trace.to_string(),
                        o(d.exit_mean_time),
                        o(d.exit_mean_time_stderr),
                        ou(d.exited),
                        ou(d.censored),
                        d.diverged.to_string(),
                    ]);
                    r.extend(cl.iter().map(|c| o(d.basins.get(c).copied())));
                }
                for (d, cl) in p.dynamics.iter().zip(&classes) {
                    let ci = d.exit_mean_time_ci95;
                    r.push(o(ci.map(|c| c[0])));
                    r.push(o(ci.map(|c| c[1])));
                    for c in cl {
                        let ci = d.basins_ci95.get(c);
                        r.push(o(ci.map(|c| c[0])));
                        r.push(o(ci.map(|c| c[1])));
                    }
                }
                r
            })
            .collect();
        (header, rows)
    }

    /// Writes `sweep.csv`, `sweep.json` and the figures into `dir` (which must exist); returns the figures.
    pub fn write_dir(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let p = dir.join("sweep.csv");
        let err = |e: csv::Error| Error::Output(format!("{}: {e}", p.display()));
        let mut w = csv::Writer::from_path(&p).map_err(err)?;
        let (header, rows) = self.csv();
        w.write_record(&header).map_err(err)?;
        for r in &rows {
            w.write_record(r).map_err(err)?;
        }
        w.flush().map_err(io(&p))?;
        let j = dir.join("sweep.json");
        let json = serde_json::to_string_pretty(self).map_err(|e| Error::Output(e.to_string()))?;
        std::fs::write(&j, json + "\n").map_err(io(&j))?;
        render_figures(self, dir)
    }

    /// Reads `DIR/sweep.json`.
    pub fn read_dir(dir: &Path) -> Result<SweepTable> {
        let j = dir.join("sweep.json");
        let text = std::fs::read_to_string(&j).map_err(io(&j))?;
        serde_json::from_str(&text).map_err(|e| Error::Output(format!("{}: {e}", j.display())))
    }

    /// Numeric values of axis `key` per point (NaN where not a number).
    fn axis_values(&self, key: &str) -> Vec<f64> {
        self.points
            .iter()
            .map(|p| p.values.get(key).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN))
            .collect()
    }

    fn labels(&self) -> Vec<String> {
        self.points
            .first()
            .map(|p| p.dynamics.iter().map(|d| d.label.clone()).collect())
            .unwrap_or_default()
    }

    /// One series per dynamics over a 1-axis sweep: `f` gives (y, lo, hi) or None.
    fn series(&self, f: impl Fn(&SweepDynamics) -> Option<(f64, f64, f64)>) -> Vec<(String, Vec<LinePoint>)> {
        let key = self.axis_keys().into_iter().next().unwrap_or_default();
        let xs = self.axis_values(&key);
        self.labels()
            .into_iter()
            .enumerate()
            .map(|(k, l)| {
                let pts = self
                    .points
                    .iter()
                    .zip(&xs)
                    .filter_map(|(p, &x)| {
                        let (y, lo, hi) = f(p.dynamics.get(k)?)?;
                        Some((x, y, lo, hi))
                    })
                    .collect();
                (l, pts)
            })
            .collect()
    }
}

/// A number that JSON may hold as null (serde_json writes NaN as null).
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn io(p: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: p.display().to_string(),
        source,
    }
}

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
pub fn render_figures(t: &SweepTable, dir: &Path) -> Result<Vec<PathBuf>> {
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

/// Draws a line figure if any series has a point.
fn line(
    t: &SweepTable,
    dir: &Path,
    file: &str,
    s: &[(String, Vec<LinePoint>)],
    y: &str,
    title: &str,
) -> Result<Option<PathBuf>> {
    if s.iter().all(|(_, p)| p.is_empty()) {
        return Ok(None);
    }
    let path = dir.join(file);
    let x = axis_label(&t.axis_keys()[0]);
    sweep_line(&path, &x, s, y, &format!("{}: {title}", t.model))?;
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

/// `sweep_exit_time.png`: mean exit time with its 95 % interval.
fn fig_exit_time(t: &SweepTable, dir: &Path) -> Result<Option<PathBuf>> {
    let s = t.series(|d| {
        let m = d.exit_mean_time?;
        let [lo, hi] = d.exit_mean_time_ci95.unwrap_or([f64::NAN, f64::NAN]);
        Some((m, lo, hi))
    });
    line(
        t,
        dir,
        "sweep_exit_time.png",
        &s,
        "mean exit time",
        "mean exit time (95 % CI)",
    )
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
/// usam / sam / kim: O3, ρ* = 1/|λ₋| (any x); sam_discrete with isotropic noise and x = batch size or
/// σ₁: O12, σ_B = √(2/π) ρ |λ₋| with σ_B = σ₁/√B, i.e. ρ* = σ_B / (√(2/π)|λ₋|).
fn boundary(t: &SweepTable, k: usize, kx: &str, ky: &str) -> Option<Box<dyn Fn(f64) -> f64>> {
    if !is_rho_of(t, k, ky) {
        return None;
    }
    let kind = t.points.first()?.dynamics.get(k)?.kind.as_str();
    let lmin = t.saddle_eigenvalues.iter().copied().fold(f64::INFINITY, f64::min);
    match kind {
        "usam" | "sam" | "kim" => {
            let r = usam_threshold(&t.saddle_eigenvalues)?;
            Some(Box::new(move |_| r))
        }
        "sam_discrete" => {
            let noise = t.points.first()?.noise.clone()?;
            if noise.kind != "isotropic" || lmin >= 0.0 {
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
