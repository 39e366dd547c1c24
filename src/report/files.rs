//! Writing a [`Report`] into an output folder and reading it back: `summary.json` and the CSV files. Figures
//! are rendered from a report read back from a folder, so `samsde plot DIR` never simulates.

use super::schema::{BasinRow, MomentRow, PathRow, Report, Summary, SurvivalRow};
use crate::error::{Error, Result};

fn csv_err(path: &std::path::Path, e: impl std::fmt::Display) -> Error {
    Error::Output(format!("{}: {e}", path.display()))
}

/// A number as written to CSV: the shortest text that parses back to the same f64; a missing value (NaN, or
/// ±∞ from an overflow) is an empty cell, the one convention for missing values in every CSV file.
pub fn num(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { String::new() }
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
    fn read(path: &std::path::Path) -> Result<Self> {
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
    fn col(&self, name: &str) -> Result<usize> {
        self.headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| csv_err(&self.path, format!("missing column `{name}`")))
    }
    fn str(&self, row: &csv::StringRecord, name: &str) -> Result<String> {
        Ok(row.get(self.col(name)?).unwrap_or_default().to_string())
    }
    /// A number; an empty cell is a missing value (NaN).
    fn f(&self, row: &csv::StringRecord, name: &str) -> Result<f64> {
        let s = self.str(row, name)?;
        if s.is_empty() {
            return Ok(f64::NAN);
        }
        s.parse()
            .map_err(|_| csv_err(&self.path, format!("column `{name}`: not a number: {s:?}")))
    }
    fn u(&self, row: &csv::StringRecord, name: &str) -> Result<u64> {
        let s = self.str(row, name)?;
        s.parse()
            .map_err(|_| csv_err(&self.path, format!("column `{name}`: not a count: {s:?}")))
    }
    fn of(&self, row: &csv::StringRecord, name: &str) -> Result<Option<f64>> {
        if self.str(row, name)?.is_empty() {
            Ok(None)
        } else {
            self.f(row, name).map(Some)
        }
    }
    fn fs(&self, row: &csv::StringRecord, names: &[String]) -> Result<Vec<f64>> {
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
    pub fn write_dir(&self, dir: &std::path::Path) -> Result<()> {
        let p = dir.join("summary.json");
        let json = serde_json::to_string_pretty(&self.summary).map_err(|e| csv_err(&p, e))?;
        std::fs::write(&p, json + "\n").map_err(Error::io(&p))?;
        let c = Columns::new(&self.summary.variables);
        let write = |name: &str, header: Vec<String>, rows: Vec<Vec<String>>| -> Result<()> {
            let p = dir.join(name);
            let mut w = csv::Writer::from_path(&p).map_err(|e| csv_err(&p, e))?;
            w.write_record(&header).map_err(|e| csv_err(&p, e))?;
            for r in rows {
                w.write_record(&r).map_err(|e| csv_err(&p, e))?;
            }
            w.flush().map_err(Error::io(&p))
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
            .map(|s| {
                vec![
                    s.label.clone(),
                    num(s.t),
                    num(s.survival),
                    s.at_risk.to_string(),
                    s.exits.to_string(),
                ]
            })
            .collect();
        write(
            "exit_times.csv",
            ["label", "t", "survival", "at_risk", "exits"]
                .map(String::from)
                .to_vec(),
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
    pub fn read_dir(dir: &std::path::Path) -> Result<Report> {
        let p = dir.join("summary.json");
        let text = std::fs::read_to_string(&p).map_err(Error::io(&p))?;
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
            .collect::<Result<Vec<_>>>()?;
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
                    // Files written before the column existed: 0.
                    exits: if t.col("exits").is_ok() { t.u(r, "exits")? } else { 0 },
                })
            })
            .collect::<Result<Vec<_>>>()?;
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
            .collect::<Result<Vec<_>>>()?;
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
            .collect::<Result<Vec<_>>>()?;
        Ok(Report {
            summary,
            moments,
            survival,
            basins,
            paths,
        })
    }
}
