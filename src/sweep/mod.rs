//! Parameter sweeps: a grid of parameter values ([`grid`]) → one run per point, same seed ([`Sweep`]) → a
//! table ([`table`]: `sweep.csv`, `sweep.json`). The sweep figures are drawn from the table by
//! `plot::sweep`, so `samsde plot` re-renders them from `sweep.json` alone.

pub mod grid;
pub mod table;

pub use grid::{Axis, value_text};
pub use table::{SeriesPoint, SweepDynamics, SweepNoise, SweepPoint, SweepTable};

use crate::error::{Error, Result};
use crate::report::{self, Report};
use crate::setup::{Experiment, Source};

/// A validated sweep: the cartesian product of the axes (last axis fastest), one experiment per point.
pub struct Sweep {
    axes: Vec<Axis>,
    grid: Vec<Vec<usize>>,
    exps: Vec<Experiment>,
}

impl Sweep {
    /// Builds and validates every grid point of `base` with the axes applied (nothing is run).
    pub fn new(base: &Source, axes: Vec<Axis>) -> Result<Sweep> {
        // A key varied twice (in two --vary, or twice in one `K1+K2`) would be set by the last axis only.
        let keys: Vec<&String> = axes.iter().flat_map(|a| &a.keys).collect();
        if let Some(k) = keys
            .iter()
            .enumerate()
            .find_map(|(i, k)| keys[..i].contains(k).then_some(k))
        {
            return Err(Error::Usage(format!(
                "--vary: the key {k} is varied more than once; vary each key in one --vary (KEY=A,B,C lists any values)"
            )));
        }
        let grid = grid::product(&axes);
        let mut exps = Vec::with_capacity(grid.len());
        for idx in &grid {
            let mut src = base.clone();
            for (a, &i) in axes.iter().zip(idx) {
                for key in &a.keys {
                    src.set(&format!("{key}={}", a.values[i]))?;
                }
            }
            exps.push(Experiment::load(&src)?);
        }
        Ok(Sweep { axes, grid, exps })
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        self.exps.first().map(|e| e.name.as_str()).unwrap_or_default()
    }

    /// The axes, in `--vary` order.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// Number of grid points.
    pub fn points(&self) -> usize {
        self.grid.len()
    }

    /// The experiment of every grid point, in grid order.
    pub fn experiments(&self) -> &[Experiment] {
        &self.exps
    }

    /// Runs every point on `threads` workers (0: all cores) and returns its report, in grid order; with
    /// `progress`, a line per point on stderr.
    pub fn run_reports(&self, threads: usize, progress: bool) -> Result<Vec<Report>> {
        let n = self.exps.len();
        self.exps
            .iter()
            .enumerate()
            .map(|(p, exp)| {
                let r = report::run(exp, threads, false)?;
                report::print_warnings(&r, &format!("sweep point {}/{n}: ", p + 1));
                if progress {
                    eprintln!("sweep point {}/{n} done", p + 1);
                }
                Ok(r)
            })
            .collect()
    }

    /// Runs every point and tabulates it.
    pub fn run(&self, threads: usize, progress: bool) -> Result<SweepTable> {
        let reports = self.run_reports(threads, progress)?;
        Ok(self.table(&reports))
    }

    /// The table of the reports of every point (as [`Sweep::run_reports`] returns them).
    pub fn table(&self, reports: &[Report]) -> SweepTable {
        let points = self
            .grid
            .iter()
            .zip(&self.exps)
            .zip(reports)
            .enumerate()
            .map(|(p, ((idx, exp), r))| {
                let n = &exp.resolved().noise;
                SweepPoint {
                    point: p,
                    values: self
                        .axes
                        .iter()
                        .zip(idx)
                        .map(|(a, &i)| (a.name(), value_text(&a.values[i])))
                        .collect(),
                    dynamics: r.summary.dynamics.iter().map(SweepDynamics::from_summary).collect(),
                    noise: Some(SweepNoise {
                        kind: n.kind.name().to_string(),
                        sigma: n.sigma,
                        batch_size: n.batch_size,
                    }),
                }
            })
            .collect();
        let first = self.exps.first();
        let r0 = reports.first();
        SweepTable {
            model: self.name().to_string(),
            seed: first.map(|e| e.seed),
            paths: first.map(|e| e.paths),
            vary: self
                .axes
                .iter()
                .map(|a| (a.name(), a.values.iter().map(value_text).collect()))
                .collect(),
            axes: self.axes.iter().map(Axis::name).collect(),
            saddle_eigenvalues: r0.map(|r| r.summary.saddle_eigenvalues.clone()).unwrap_or_default(),
            t_end: r0.map(|r| r.summary.t_end),
            points,
            sharding: None,
        }
    }
}
