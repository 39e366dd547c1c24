//! The report of one run: what `summary.json` and the CSV files of an output folder hold (the public
//! results schema, documented in the README). Figures are rendered from a [`Report`] read back from a
//! folder, so `samsde plot DIR` never simulates.
//!
//! Files: `summary.json` ([`Summary`]), `moments.csv` ([`MomentRow`]), `exit_times.csv` ([`SurvivalRow`]),
//! `basins.csv` ([`BasinRow`]), `paths.csv` ([`PathRow`]), `config.resolved.toml`, and the PNG figures.

use crate::ensemble::Region;
use crate::stats::{BasinEstimate, ExitEstimate};
use serde::{Deserialize, Serialize};

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Version of samsde that wrote it.
    pub samsde_version: String,
    /// The model's `name`.
    pub model: String,
    /// Master seed.
    pub seed: u64,
    /// Number of paths per dynamics.
    pub paths: u64,
    /// Worker threads used (results do not depend on it).
    pub threads: usize,
    /// Wall-clock seconds of the simulation.
    pub wall_seconds: f64,
    /// Landscape kind and its coordinate names.
    pub landscape: String,
    /// Coordinate names (x, y, …).
    pub variables: Vec<String>,
    /// Noise model, described.
    pub noise: String,
    /// The saddle d the analysis is centred on.
    pub saddle: Vec<f64>,
    /// Eigenvalues of ∇²f(d), ascending.
    pub saddle_eigenvalues: Vec<f64>,
    /// Horizon T.
    pub t_end: f64,
    /// Exit region, if any.
    pub exit_region: Option<Region>,
    /// Per dynamics, in model-file order.
    pub dynamics: Vec<DynamicsSummary>,
}

/// One dynamics in `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicsSummary {
    /// Label from the model file.
    pub label: String,
    /// Kind (sgd, usam, …).
    pub kind: String,
    /// Learning rate η.
    pub lr: f64,
    /// Radius ρ.
    pub rho: f64,
    /// Momentum μ.
    pub momentum: f64,
    /// Time per step (dt, or η for discrete optimizers).
    pub dt: f64,
    /// Solver name, or "discrete".
    pub solver: String,
    /// Strong order of the solver on this SDE (null for discrete optimizers).
    pub strong_order: Option<f64>,
    /// Noise structure (additive, diagonal, commutative, general; null for discrete).
    pub structure: Option<String>,
    /// Remarks: regularisation, approximations, fast path.
    pub notes: Vec<String>,
    /// Moments at t_end.
    #[serde(rename = "final")]
    pub final_moments: FinalMoments,
    /// Width of the cloud at t_end.
    pub width: Width,
    /// Exit-time statistics (null without an exit region).
    pub exit: Option<ExitSummary>,
    /// Basin classes (attractors, trapped, unresolved, diverged).
    pub basins: Vec<BasinEstimate>,
    /// Paths that diverged (non-finite or beyond the blow-up bound).
    pub diverged: u64,
    /// Paired differences against the first dynamics (null for the first).
    pub paired: Option<PairedSummary>,
    /// Closed-form predictions that apply (null if none).
    pub theory: Option<Theory>,
}

/// Mean and covariance at t_end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalMoments {
    /// Time.
    pub t: f64,
    /// Paths observed.
    pub n: u64,
    /// Mean.
    pub mean: Vec<f64>,
    /// Covariance rows.
    pub cov: Vec<Vec<f64>>,
    /// Standard error of the mean.
    pub mean_stderr: Vec<f64>,
}

/// Width of the cloud.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Width {
    /// tr C.
    pub trace: f64,
    /// Its standard error (Gaussian approximation).
    pub trace_stderr: f64,
    /// Eigenvalues of C, ascending.
    pub eigenvalues: Vec<f64>,
    /// E‖x − d‖².
    pub msd: f64,
    /// Its standard error.
    pub msd_stderr: f64,
}

/// Exit-time statistics: the estimator's output ([`ExitEstimate`], flattened into the same JSON object) and
/// the monitoring correction used. Derefs to the estimate, so `exit.mean_time` etc. read directly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExitSummary {
    /// exited, censored, mean_time, mean_time_stderr, ci95, median_time, quantiles, estimator.
    #[serde(flatten)]
    pub estimate: ExitEstimate,
    /// "brownian_bridge" or "none".
    pub correction: String,
}

impl std::ops::Deref for ExitSummary {
    type Target = ExitEstimate;
    fn deref(&self) -> &ExitEstimate {
        &self.estimate
    }
}

/// Paired differences against the reference (first) dynamics, path by path with common random numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedSummary {
    /// Label of the reference dynamics.
    pub reference: String,
    /// MSD(this) − MSD(reference) at t_end.
    pub msd_difference: f64,
    /// Its standard error.
    pub msd_difference_stderr: f64,
    /// E[min(τ,T)](this) − E[min(τ,T)](reference), if exit times are measured.
    pub exit_difference: Option<f64>,
    /// Its standard error.
    pub exit_difference_stderr: Option<f64>,
    /// tr C(this) / tr C(reference) at t_end.
    pub width_ratio: f64,
}

/// Closed forms beside the simulated numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Theory {
    /// O1: OU mean at t_end of the linearisation at the saddle (linear dynamics only).
    pub mean: Option<Vec<f64>>,
    /// O1: its covariance.
    pub cov: Option<Vec<Vec<f64>>>,
    /// O1: trace of the covariance.
    pub trace: Option<f64>,
    /// O1: MSD E‖x − d‖².
    pub msd: Option<f64>,
    /// O5/O6: exact 1-D mean exit time along the unstable direction.
    pub exit_mean_time: Option<f64>,
    /// O5/O7: asymptotic formula for the same.
    pub exit_mean_time_asymptotic: Option<f64>,
    /// O3: the radius above which USAM is attracted to the saddle (1/|λ₋|).
    pub attraction_threshold_rho: Option<f64>,
    /// O3: whether this dynamics' linearisation attracts at its ρ.
    pub attracting: Option<bool>,
    /// What the numbers assume.
    pub notes: Vec<String>,
}

/// A row of `moments.csv`: one dynamics at one snapshot time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MomentRow {
    /// Dynamics label.
    pub label: String,
    /// Time.
    pub t: f64,
    /// Paths observed.
    pub n: u64,
    /// Mean (d).
    pub mean: Vec<f64>,
    /// Covariance, row-major (d×d).
    pub cov: Vec<f64>,
    /// tr C.
    pub trace: f64,
    /// Its standard error.
    pub trace_stderr: f64,
    /// Eigenvalues of C, ascending (d).
    pub eigenvalues: Vec<f64>,
    /// MSD.
    pub msd: f64,
    /// Its standard error.
    pub msd_stderr: f64,
    /// O1 trace at this time (linear dynamics), if known.
    pub theory_trace: Option<f64>,
    /// O1 MSD at this time, if known.
    pub theory_msd: Option<f64>,
    /// tr C / tr C of the first (reference) dynamics at this time (None for the reference itself).
    pub width_ratio: Option<f64>,
    /// Paired MSD − MSD of the reference, path by path with common random numbers.
    pub msd_difference: Option<f64>,
    /// Its standard error.
    pub msd_difference_stderr: Option<f64>,
}

/// A row of `exit_times.csv`: the Kaplan–Meier survival curve of one dynamics at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurvivalRow {
    /// Dynamics label.
    pub label: String,
    /// Time.
    pub t: f64,
    /// S(t) = P(τ > t).
    pub survival: f64,
    /// Paths still inside just after t.
    pub at_risk: u64,
}

/// A row of `basins.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BasinRow {
    /// Dynamics label.
    pub label: String,
    /// Class (attractor label, trapped, unresolved, diverged).
    pub class: String,
    /// Paths.
    pub count: u64,
    /// Probability.
    pub probability: f64,
    /// Clopper–Pearson 95 % lower bound.
    pub ci_lo: f64,
    /// Upper bound.
    pub ci_hi: f64,
}

/// A row of `paths.csv`: one stored sample path at one snapshot time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathRow {
    /// Dynamics label.
    pub label: String,
    /// Path index.
    pub path: u64,
    /// Time.
    pub t: f64,
    /// Position (d).
    pub x: Vec<f64>,
}

/// Everything in an output folder but the figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `summary.json`.
    pub summary: Summary,
    /// `moments.csv`.
    pub moments: Vec<MomentRow>,
    /// `exit_times.csv`.
    pub survival: Vec<SurvivalRow>,
    /// `basins.csv`.
    pub basins: Vec<BasinRow>,
    /// `paths.csv`.
    pub paths: Vec<PathRow>,
}

fn io_err(path: &std::path::Path, source: std::io::Error) -> crate::Error {
    crate::Error::Io {
        path: path.display().to_string(),
        source,
    }
}

fn csv_err(path: &std::path::Path, e: impl std::fmt::Display) -> crate::Error {
    crate::Error::Output(format!("{}: {e}", path.display()))
}

/// A number as written to CSV: the shortest text that parses back to the same f64.
fn num(v: f64) -> String {
    format!("{v}")
}

fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

/// Reads CSV rows as (header → column) maps.
struct Table {
    path: std::path::PathBuf,
    headers: Vec<String>,
    rows: Vec<csv::StringRecord>,
}

impl Table {
    fn read(path: &std::path::Path) -> crate::Result<Self> {
        let mut r = csv::Reader::from_path(path).map_err(|e| csv_err(path, e))?;
        let headers = r
            .headers()
            .map_err(|e| csv_err(path, e))?
            .iter()
            .map(String::from)
            .collect();
        let rows = r
            .records()
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| csv_err(path, e))?;
        Ok(Table {
            path: path.to_path_buf(),
            headers,
            rows,
        })
    }
    fn col(&self, name: &str) -> crate::Result<usize> {
        self.headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| csv_err(&self.path, format!("missing column `{name}`")))
    }
    fn str(&self, row: &csv::StringRecord, name: &str) -> crate::Result<String> {
        Ok(row.get(self.col(name)?).unwrap_or_default().to_string())
    }
    fn f(&self, row: &csv::StringRecord, name: &str) -> crate::Result<f64> {
        let s = self.str(row, name)?;
        s.parse()
            .map_err(|_| csv_err(&self.path, format!("column `{name}`: not a number: {s:?}")))
    }
    fn u(&self, row: &csv::StringRecord, name: &str) -> crate::Result<u64> {
        let s = self.str(row, name)?;
        s.parse()
            .map_err(|_| csv_err(&self.path, format!("column `{name}`: not a count: {s:?}")))
    }
    fn of(&self, row: &csv::StringRecord, name: &str) -> crate::Result<Option<f64>> {
        if self.str(row, name)?.is_empty() {
            Ok(None)
        } else {
            self.f(row, name).map(Some)
        }
    }
    fn fs(&self, row: &csv::StringRecord, names: &[String]) -> crate::Result<Vec<f64>> {
        names.iter().map(|n| self.f(row, n)).collect()
    }
}

/// Column names of the vector fields for coordinate names `v`.
struct Columns {
    mean: Vec<String>,
    cov: Vec<String>,
    eig: Vec<String>,
    x: Vec<String>,
}

impl Columns {
    fn new(v: &[String]) -> Self {
        Columns {
            mean: v.iter().map(|a| format!("mean_{a}")).collect(),
            cov: v
                .iter()
                .flat_map(|a| v.iter().map(move |b| format!("cov_{a}_{b}")))
                .collect(),
            eig: (0..v.len()).map(|i| format!("eig_{i}")).collect(),
            x: v.to_vec(),
        }
    }
}

impl Report {
    /// Writes `summary.json`, `moments.csv`, `exit_times.csv`, `basins.csv` and `paths.csv` into `dir`
    /// (which must exist). Vector fields become one column per coordinate, named by the variables:
    /// `mean_x, mean_y, cov_x_x, cov_x_y, …, eig_0, eig_1` in moments.csv and `x, y` in paths.csv.
    pub fn write_dir(&self, dir: &std::path::Path) -> crate::Result<()> {
        let p = dir.join("summary.json");
        let json = serde_json::to_string_pretty(&self.summary).map_err(|e| csv_err(&p, e))?;
        std::fs::write(&p, json + "\n").map_err(|e| io_err(&p, e))?;
        let c = Columns::new(&self.summary.variables);
        let write = |name: &str, header: Vec<String>, rows: Vec<Vec<String>>| -> crate::Result<()> {
            let p = dir.join(name);
            let mut w = csv::Writer::from_path(&p).map_err(|e| csv_err(&p, e))?;
            w.write_record(&header).map_err(|e| csv_err(&p, e))?;
            for r in rows {
                w.write_record(&r).map_err(|e| csv_err(&p, e))?;
            }
            w.flush().map_err(|e| io_err(&p, e))
        };
        let mut h: Vec<String> = vec!["label".into(), "t".into(), "n".into()];
        h.extend(c.mean.iter().cloned());
        h.extend(c.cov.iter().cloned());
        h.extend(["trace", "trace_stderr"].map(String::from));
        h.extend(c.eig.iter().cloned());
        h.extend(
            [
                "msd",
                "msd_stderr",
                "theory_trace",
                "theory_msd",
                "width_ratio",
                "msd_difference",
                "msd_difference_stderr",
            ]
            .map(String::from),
        );
        let rows = self
            .moments
            .iter()
            .map(|m| {
                let mut r = vec![m.label.clone(), num(m.t), m.n.to_string()];
                r.extend(m.mean.iter().map(|v| num(*v)));
                r.extend(m.cov.iter().map(|v| num(*v)));
                r.extend([num(m.trace), num(m.trace_stderr)]);
                r.extend(m.eigenvalues.iter().map(|v| num(*v)));
                r.extend([num(m.msd), num(m.msd_stderr), opt(m.theory_trace), opt(m.theory_msd)]);
                r.extend([opt(m.width_ratio), opt(m.msd_difference), opt(m.msd_difference_stderr)]);
                r
            })
            .collect();
        write("moments.csv", h, rows)?;
        let rows = self
            .survival
            .iter()
            .map(|s| vec![s.label.clone(), num(s.t), num(s.survival), s.at_risk.to_string()])
            .collect();
        write(
            "exit_times.csv",
            ["label", "t", "survival", "at_risk"].map(String::from).to_vec(),
            rows,
        )?;
        let rows = self
            .basins
            .iter()
            .map(|b| {
                vec![
                    b.label.clone(),
                    b.class.clone(),
                    b.count.to_string(),
                    num(b.probability),
                    num(b.ci_lo),
                    num(b.ci_hi),
                ]
            })
            .collect();
        let h = ["label", "class", "count", "probability", "ci_lo", "ci_hi"]
            .map(String::from)
            .to_vec();
        write("basins.csv", h, rows)?;
        let mut h: Vec<String> = vec!["label".into(), "path".into(), "t".into()];
        h.extend(c.x.iter().cloned());
        let rows = self
            .paths
            .iter()
            .map(|p| {
                let mut r = vec![p.label.clone(), p.path.to_string(), num(p.t)];
                r.extend(p.x.iter().map(|v| num(*v)));
                r
            })
            .collect();
        write("paths.csv", h, rows)
    }

    /// Reads back what [`Report::write_dir`] wrote.
    pub fn read_dir(dir: &std::path::Path) -> crate::Result<Report> {
        let p = dir.join("summary.json");
        let text = std::fs::read_to_string(&p).map_err(|e| io_err(&p, e))?;
        let summary: Summary = serde_json::from_str(&text).map_err(|e| csv_err(&p, e))?;
        let c = Columns::new(&summary.variables);
        let t = Table::read(&dir.join("moments.csv"))?;
        let moments = t
            .rows
            .iter()
            .map(|r| {
                Ok(MomentRow {
                    label: t.str(r, "label")?,
                    t: t.f(r, "t")?,
                    n: t.u(r, "n")?,
                    mean: t.fs(r, &c.mean)?,
                    cov: t.fs(r, &c.cov)?,
                    trace: t.f(r, "trace")?,
                    trace_stderr: t.f(r, "trace_stderr")?,
                    eigenvalues: t.fs(r, &c.eig)?,
                    msd: t.f(r, "msd")?,
                    msd_stderr: t.f(r, "msd_stderr")?,
                    theory_trace: t.of(r, "theory_trace")?,
                    theory_msd: t.of(r, "theory_msd")?,
                    width_ratio: t.of(r, "width_ratio")?,
                    msd_difference: t.of(r, "msd_difference")?,
                    msd_difference_stderr: t.of(r, "msd_difference_stderr")?,
                })
            })
            .collect::<crate::Result<Vec<_>>>()?;
        let t = Table::read(&dir.join("exit_times.csv"))?;
        let survival = t
            .rows
            .iter()
            .map(|r| {
                Ok(SurvivalRow {
                    label: t.str(r, "label")?,
                    t: t.f(r, "t")?,
                    survival: t.f(r, "survival")?,
                    at_risk: t.u(r, "at_risk")?,
                })
            })
            .collect::<crate::Result<Vec<_>>>()?;
        let t = Table::read(&dir.join("basins.csv"))?;
        let basins = t
            .rows
            .iter()
            .map(|r| {
                Ok(BasinRow {
                    label: t.str(r, "label")?,
                    class: t.str(r, "class")?,
                    count: t.u(r, "count")?,
                    probability: t.f(r, "probability")?,
                    ci_lo: t.f(r, "ci_lo")?,
                    ci_hi: t.f(r, "ci_hi")?,
                })
            })
            .collect::<crate::Result<Vec<_>>>()?;
        let t = Table::read(&dir.join("paths.csv"))?;
        let paths = t
            .rows
            .iter()
            .map(|r| {
                Ok(PathRow {
                    label: t.str(r, "label")?,
                    path: t.u(r, "path")?,
                    t: t.f(r, "t")?,
                    x: t.fs(r, &c.x)?,
                })
            })
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(Report {
            summary,
            moments,
            survival,
            basins,
            paths,
        })
    }
}
