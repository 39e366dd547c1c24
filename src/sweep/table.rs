//! The table of a sweep: one row per grid point with the results per dynamics (`sweep.csv`, `sweep.json`).
//! Fields added after the first version of `sweep.json` default when missing, so older files still load.

use crate::error::{Error, Result};
use crate::report::files::num;
use crate::report::{DynamicsSummary, Sharding};
use crate::stats::clopper_pearson;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A point of a sweep series: (parameter value, estimate, lower and upper 95 % bound).
pub type SeriesPoint = (f64, f64, f64, f64);

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
    /// Values of each varied key, as written in the table (numbers in JSON when they are numbers).
    #[serde(with = "numbers::vec_map")]
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
    /// How a merged sweep was split into shards (absent for a sweep run in one piece).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharding: Option<Sharding>,
}

/// One grid point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Index in grid order.
    pub point: usize,
    /// Value of each varied key (a number in JSON when it is one).
    #[serde(with = "numbers::map")]
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
    #[serde(deserialize_with = "crate::stats::nan_if_null")]
    pub msd: f64,
    /// Its standard error.
    #[serde(deserialize_with = "crate::stats::nan_if_null")]
    pub msd_stderr: f64,
    /// tr C at t_end.
    #[serde(deserialize_with = "crate::stats::nan_if_null")]
    pub trace: f64,
    /// Mean exit time E τ: only when no path was censored (null otherwise; see the restricted mean).
    pub exit_mean_time: Option<f64>,
    /// Its standard error.
    pub exit_mean_time_stderr: Option<f64>,
    /// Its 95 % interval (from the run's exit summary).
    #[serde(default)]
    pub exit_mean_time_ci95: Option<[f64; 2]>,
    /// Restricted mean exit time E[min(τ, T)] (the mean when nothing is censored).
    #[serde(default)]
    pub exit_restricted_mean_time: Option<f64>,
    /// Its standard error.
    #[serde(default)]
    pub exit_restricted_mean_time_stderr: Option<f64>,
    /// Its 95 % interval.
    #[serde(default)]
    pub exit_restricted_mean_time_ci95: Option<[f64; 2]>,
    /// Fraction of the paths censored at T (null without paths or region).
    #[serde(default)]
    pub censored_fraction: Option<f64>,
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
    /// How the mean exit time was estimated (`mean`, `restricted_mean`, `ams`, `direct_restarts`).
    #[serde(default)]
    pub exit_estimator: Option<String>,
    /// AMS: escape probability per excursion.
    #[serde(default)]
    pub escape_probability: Option<f64>,
    /// AMS: its 95 % interval.
    #[serde(default)]
    pub escape_probability_ci95: Option<[f64; 2]>,
    /// AMS: iterations summed over replicas.
    #[serde(default)]
    pub ams_iterations: Option<usize>,
}

impl SweepDynamics {
    /// The row entries of one dynamics' summary.
    pub fn from_summary(d: &DynamicsSummary) -> SweepDynamics {
        let total: u64 = d.basins.iter().map(|b| b.count).sum();
        SweepDynamics {
            label: d.label.clone(),
            kind: d.kind.clone(),
            rho: Some(d.rho),
            msd: d.width.msd.unwrap_or(f64::NAN),
            msd_stderr: d.width.msd_stderr.unwrap_or(f64::NAN),
            trace: d.width.trace.unwrap_or(f64::NAN),
            exit_mean_time: d.exit.as_ref().and_then(|e| e.mean_time),
            exit_mean_time_stderr: d.exit.as_ref().and_then(|e| e.mean_time_stderr),
            exit_mean_time_ci95: d.exit.as_ref().and_then(|e| e.ci95),
            exit_restricted_mean_time: d.exit.as_ref().and_then(|e| e.restricted_mean_time),
            exit_restricted_mean_time_stderr: d.exit.as_ref().and_then(|e| e.restricted_mean_time_stderr),
            exit_restricted_mean_time_ci95: d.exit.as_ref().and_then(|e| e.restricted_ci95),
            censored_fraction: d.exit.as_ref().and_then(|e| e.censored_fraction),
            exited: d.exit.as_ref().map(|e| e.exited),
            censored: d.exit.as_ref().map(|e| e.censored),
            basins: d.basins.iter().map(|b| (b.label.clone(), b.probability)).collect(),
            basins_ci95: d
                .basins
                .iter()
                .map(|b| (b.label.clone(), clopper_pearson(b.count, total)))
                .collect(),
            diverged: d.diverged,
            exit_estimator: d.exit.as_ref().map(|e| e.estimator.clone()),
            escape_probability: d
                .exit
                .as_ref()
                .and_then(|e| e.ams.as_ref())
                .map(|a| a.escape_probability),
            escape_probability_ci95: d
                .exit
                .as_ref()
                .and_then(|e| e.ams.as_ref())
                .and_then(|a| a.escape_probability_ci95),
            ams_iterations: d.exit.as_ref().and_then(|e| e.ams.as_ref()).map(|a| a.iterations),
        }
    }

    /// Whether the exit time is the rare-event estimator's (`[exit] estimator = "ams"`): a mean, even when
    /// the ensemble's own paths were censored.
    pub fn exit_by_ams(&self) -> bool {
        matches!(self.exit_estimator.as_deref(), Some("ams" | "direct_restarts"))
    }

    /// The exit-time estimate a figure or table shows: (value, 95 % interval, restricted). The mean when no
    /// path was censored, otherwise the restricted mean E[min(τ, T)] with `restricted` true (older files
    /// without the restricted fields: their `exit_mean_time`, restricted when any path was censored).
    pub fn exit_time(&self) -> Option<(f64, [f64; 2], bool)> {
        let censored = self.censored.unwrap_or(0) > 0 && !self.exit_by_ams();
        let nan = [f64::NAN, f64::NAN];
        match (self.exit_mean_time, self.exit_restricted_mean_time) {
            (Some(m), _) if !censored => Some((m, self.exit_mean_time_ci95.unwrap_or(nan), false)),
            (_, Some(r)) => Some((r, self.exit_restricted_mean_time_ci95.unwrap_or(nan), censored)),
            (Some(m), None) => Some((m, self.exit_mean_time_ci95.unwrap_or(nan), censored)),
            (None, None) => None,
        }
    }

    /// Exited fraction with its Clopper–Pearson 95 % interval (exit region only).
    pub fn exited_fraction(&self) -> Option<(f64, [f64; 2])> {
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

    /// Header and rows of `sweep.csv`: one row per point; per dynamics `label.msd`, `label.msd_stderr`,
    /// `label.trace`, the exit time, `label.censored_fraction`, `label.exited`, `label.censored`,
    /// `label.diverged`, `label.p_<class>`; then (after every other column) the 95 % intervals of the exit
    /// time and `label.p_<class>_ci_lo/hi`. The exit time is `label.exit_mean_time` (with `_stderr`,
    /// `_ci_lo/hi`) when no path of that dynamics was censored at any point, and
    /// `label.exit_restricted_mean_time` (E[min(τ, T)]) otherwise: a restricted mean is never called a mean
    /// (with `[exit] estimator = "ams"` the exit time is a mean whatever the ensemble censored). Last come the
    /// exit estimator and, with AMS, the escape probability per excursion with its interval and the
    /// iterations (`label.exit_estimator`, `label.escape_probability`, `label.escape_probability_ci_lo/hi`,
    /// `label.ams_iterations`). A missing value is an empty cell.
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
        // Per dynamics: whether any point censored a path (then the column is the restricted mean).
        let restricted: Vec<bool> = (0..labels.len())
            .map(|k| {
                self.points
                    .iter()
                    .filter_map(|p| p.dynamics.get(k))
                    .any(|d| d.censored.unwrap_or(0) > 0 && !d.exit_by_ams())
            })
            .collect();
        let exit_name = |r: bool| {
            if r {
                "exit_restricted_mean_time"
            } else {
                "exit_mean_time"
            }
        };
        for ((l, cl), &r) in labels.iter().zip(&classes).zip(&restricted) {
            let e = exit_name(r);
            for f in [
                "msd",
                "msd_stderr",
                "trace",
                e,
                &format!("{e}_stderr"),
                "censored_fraction",
                "exited",
                "censored",
                "diverged",
            ] {
                header.push(format!("{l}.{f}"));
            }
            header.extend(cl.iter().map(|c| format!("{l}.p_{c}")));
        }
        for ((l, cl), &r) in labels.iter().zip(&classes).zip(&restricted) {
            header.push(format!("{l}.{}_ci_lo", exit_name(r)));
            header.push(format!("{l}.{}_ci_hi", exit_name(r)));
            for c in cl {
                header.push(format!("{l}.p_{c}_ci_lo"));
                header.push(format!("{l}.p_{c}_ci_hi"));
            }
        }
        for l in &labels {
            for f in [
                "exit_estimator",
                "escape_probability",
                "escape_probability_ci_lo",
                "escape_probability_ci_hi",
                "ams_iterations",
            ] {
                header.push(format!("{l}.{f}"));
            }
        }
        let o = |v: Option<f64>| v.map(num).unwrap_or_default();
        let ou = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or_default();
        let exit = |d: &SweepDynamics, r: bool| {
            if r {
                (
                    d.exit_restricted_mean_time,
                    d.exit_restricted_mean_time_stderr,
                    d.exit_restricted_mean_time_ci95,
                )
            } else {
                (d.exit_mean_time, d.exit_mean_time_stderr, d.exit_mean_time_ci95)
            }
        };
        let rows = self
            .points
            .iter()
            .map(|p| {
                let mut r = vec![p.point.to_string()];
                r.extend(keys.iter().map(|k| p.values.get(k).cloned().unwrap_or_default()));
                for ((d, cl), &rs) in p.dynamics.iter().zip(&classes).zip(&restricted) {
                    let (m, se, _) = exit(d, rs);
                    r.extend([
                        num(d.msd),
                        num(d.msd_stderr),
                        num(d.trace),
                        o(m),
                        o(se),
                        o(d.censored_fraction),
                        ou(d.exited),
                        ou(d.censored),
                        d.diverged.to_string(),
                    ]);
                    r.extend(cl.iter().map(|c| o(d.basins.get(c).copied())));
                }
                for ((d, cl), &rs) in p.dynamics.iter().zip(&classes).zip(&restricted) {
                    let (_, _, ci) = exit(d, rs);
                    r.push(o(ci.map(|c| c[0])));
                    r.push(o(ci.map(|c| c[1])));
                    for c in cl {
                        let ci = d.basins_ci95.get(c);
                        r.push(o(ci.map(|c| c[0])));
                        r.push(o(ci.map(|c| c[1])));
                    }
                }
                for d in &p.dynamics {
                    let ci = d.escape_probability_ci95;
                    r.push(d.exit_estimator.clone().unwrap_or_default());
                    r.push(o(d.escape_probability));
                    r.push(o(ci.map(|c| c[0])));
                    r.push(o(ci.map(|c| c[1])));
                    r.push(d.ams_iterations.map(|v| v.to_string()).unwrap_or_default());
                }
                r
            })
            .collect();
        (header, rows)
    }

    /// Writes `sweep.csv` and `sweep.json` into `dir` (which must exist).
    pub fn write_dir(&self, dir: &Path) -> Result<()> {
        let p = dir.join("sweep.csv");
        let err = |e: csv::Error| Error::Output(format!("{}: {e}", p.display()));
        let mut w = csv::Writer::from_path(&p).map_err(err)?;
        let (header, rows) = self.csv();
        w.write_record(&header).map_err(err)?;
        for r in &rows {
            w.write_record(r).map_err(err)?;
        }
        w.flush().map_err(Error::io(&p))?;
        let j = dir.join("sweep.json");
        let json = serde_json::to_string_pretty(self).map_err(|e| Error::Output(e.to_string()))?;
        std::fs::write(&j, json + "\n").map_err(Error::io(&j))
    }

    /// Reads `DIR/sweep.json`.
    pub fn read_dir(dir: &Path) -> Result<SweepTable> {
        let j = dir.join("sweep.json");
        let text = std::fs::read_to_string(&j).map_err(Error::io(&j))?;
        serde_json::from_str(&text).map_err(|e| Error::Output(format!("{}: {e}", j.display())))
    }

    /// Numeric values of axis `key` per point (NaN where not a number).
    pub fn axis_values(&self, key: &str) -> Vec<f64> {
        self.points
            .iter()
            .map(|p| p.values.get(key).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN))
            .collect()
    }

    /// The dynamics labels (of the first point).
    pub fn labels(&self) -> Vec<String> {
        self.points
            .first()
            .map(|p| p.dynamics.iter().map(|d| d.label.clone()).collect())
            .unwrap_or_default()
    }

    /// One series per dynamics over a 1-axis sweep: `f` gives (y, lo, hi) or None; points are (x, y, lo, hi).
    pub fn series(&self, f: impl Fn(&SweepDynamics) -> Option<(f64, f64, f64)>) -> Vec<(String, Vec<SeriesPoint>)> {
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

/// Axis values in `sweep.json`: a value whose text is a number is written as a JSON number, anything else as
/// a string; both are read back as text.
mod numbers {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    /// A value as JSON: a number when its text parses as a finite number.
    fn to_json(v: &str) -> serde_json::Value {
        if let Ok(i) = v.parse::<i64>() {
            return serde_json::Value::from(i);
        }
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() => serde_json::Value::from(x),
            _ => serde_json::Value::from(v),
        }
    }

    /// The text of a JSON value (a number as written, a string unquoted).
    fn text(v: serde_json::Value) -> String {
        match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }
    }

    pub mod map {
        use super::*;
        pub fn serialize<S: Serializer>(m: &BTreeMap<String, String>, s: S) -> Result<S::Ok, S::Error> {
            m.iter()
                .map(|(k, v)| (k, to_json(v)))
                .collect::<BTreeMap<_, _>>()
                .serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
            Ok(BTreeMap::<String, serde_json::Value>::deserialize(d)?
                .into_iter()
                .map(|(k, v)| (k, text(v)))
                .collect())
        }
    }

    pub mod vec_map {
        use super::*;
        pub fn serialize<S: Serializer>(m: &BTreeMap<String, Vec<String>>, s: S) -> Result<S::Ok, S::Error> {
            m.iter()
                .map(|(k, v)| (k, v.iter().map(|x| to_json(x)).collect::<Vec<_>>()))
                .collect::<BTreeMap<_, _>>()
                .serialize(s)
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
            Ok(BTreeMap::<String, Vec<serde_json::Value>>::deserialize(d)?
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().map(text).collect()))
                .collect())
        }
    }
}
